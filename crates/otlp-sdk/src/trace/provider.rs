//! [`TracerProvider`]: the configured tracing pipeline (resource, sampler, limits,
//! processors) that tracers belong to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use otlp_model::SpanContext;

use crate::error::{DEFAULT_SHUTDOWN_TIMEOUT, SdkError};
use crate::export::ProcessorStats;
use crate::export::settings::BatchSettings;
use crate::resource::Resource;
use crate::scope::InstrumentationScope;
use crate::trace::sampler::{AlwaysOn, ParentBased, Sampler};
use crate::trace::{
    BatchSpanProcessor, SimpleSpanProcessor, SpanData, SpanExporter, SpanLimits, SpanProcessor,
    Tracer,
};

pub(crate) struct ProviderShared {
    processors: Vec<Box<dyn SpanProcessor>>,
    wants_on_start: bool,
    pub(crate) sampler: Box<dyn Sampler>,
    pub(crate) limits: SpanLimits,
    resource: Resource,
    shutdown: AtomicBool,
}

impl std::fmt::Debug for ProviderShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerProvider")
            .field("processors", &self.processors)
            .field("sampler", &self.sampler.description())
            .field("limits", &self.limits)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl ProviderShared {
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    pub(crate) fn on_start(&self, data: &mut SpanData, parent: Option<&SpanContext>) {
        if self.wants_on_start {
            for processor in &self.processors {
                if processor.wants_on_start() {
                    processor.on_start(data, parent);
                }
            }
        }
    }

    pub(crate) fn on_end(&self, data: SpanData) {
        match self.processors.as_slice() {
            [] => {}
            [only] => only.on_end(data),
            [rest @ .., last] => {
                for processor in rest {
                    processor.on_end(data.clone());
                }
                last.on_end(data);
            }
        }
    }

    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return Err(SdkError::AlreadyShutdown);
        }
        SdkError::combine(
            self.processors
                .iter()
                .map(|p| p.shutdown(deadline))
                .collect(),
        )
    }
}

impl Drop for ProviderShared {
    fn drop(&mut self) {
        if !self.is_shutdown() {
            let _ = self.shutdown(Instant::now() + DEFAULT_SHUTDOWN_TIMEOUT);
        }
    }
}

/// The tracing pipeline: hands out [`Tracer`]s, and flushes and shuts down the processors.
/// Cheap to clone; the pipeline shuts down (within 5 s) when the last clone, tracer and
/// span are gone, if [`shutdown`](Self::shutdown) was not called.
#[derive(Clone, Debug)]
pub struct TracerProvider {
    shared: Arc<ProviderShared>,
}

impl TracerProvider {
    /// A builder with the defaults: `parentbased_always_on`, the default limits, the default
    /// resource, no processor.
    #[must_use]
    pub fn builder() -> TracerProviderBuilder {
        TracerProviderBuilder::default()
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<String>) -> Tracer {
        self.tracer_with_scope(InstrumentationScope::new(name))
    }

    /// A tracer for a scope with version, schema URL or attributes.
    #[must_use]
    pub fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        Tracer::new(Arc::clone(&self.shared), scope)
    }

    /// The resource every span carries.
    #[must_use]
    pub fn resource(&self) -> &Resource {
        &self.shared.resource
    }

    /// Exports everything ended before the call; returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported and why, per processor.
    pub fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        if self.shared.is_shutdown() {
            return Err(SdkError::AlreadyShutdown);
        }
        SdkError::combine(
            self.shared
                .processors
                .iter()
                .map(|p| p.force_flush(deadline))
                .collect(),
        )
    }

    /// Flushes and stops every processor; returns by `deadline` from any thread or runtime.
    /// Spans started afterwards are non-recording.
    ///
    /// # Errors
    ///
    /// What was not exported and why; [`SdkError::AlreadyShutdown`] on a second call.
    pub fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        self.shared.shutdown(deadline)
    }

    /// The counters of the processors that keep them, in registration order.
    #[must_use]
    pub fn processor_stats(&self) -> Vec<ProcessorStats> {
        self.shared
            .processors
            .iter()
            .filter_map(|p| p.stats())
            .collect()
    }
}

/// Builds a [`TracerProvider`].
#[derive(Debug)]
pub struct TracerProviderBuilder {
    processors: Vec<Box<dyn SpanProcessor>>,
    sampler: Box<dyn Sampler>,
    limits: SpanLimits,
    resource: Option<Resource>,
    errors: Vec<SdkError>,
}

impl Default for TracerProviderBuilder {
    fn default() -> Self {
        Self {
            processors: Vec::new(),
            sampler: Box::new(ParentBased::new(AlwaysOn)),
            limits: SpanLimits::default(),
            resource: None,
            errors: Vec::new(),
        }
    }
}

impl TracerProviderBuilder {
    /// The sampler (default `parentbased_always_on`).
    #[must_use]
    pub fn with_sampler(mut self, sampler: impl Sampler) -> Self {
        self.sampler = Box::new(sampler);
        self
    }

    /// A boxed sampler (e.g. from [`sampler_from_env`](crate::trace::sampler_from_env)).
    #[must_use]
    pub fn with_boxed_sampler(mut self, sampler: Box<dyn Sampler>) -> Self {
        self.sampler = sampler;
        self
    }

    /// The span limits (default: the specification's, 128 of each).
    #[must_use]
    pub fn with_span_limits(mut self, limits: SpanLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The resource (default: [`Resource::default`], detected from the environment).
    #[must_use]
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Adds a processor; processors see spans in the order they were added.
    #[must_use]
    pub fn with_span_processor(mut self, processor: impl SpanProcessor) -> Self {
        self.processors.push(Box::new(processor));
        self
    }

    /// Adds a [`BatchSpanProcessor`] with the `OTEL_BSP_*` defaults in front of `exporter`.
    #[must_use]
    pub fn with_batch_exporter(self, exporter: impl SpanExporter) -> Self {
        self.with_batch_exporter_settings(exporter, BatchSettings::spans())
    }

    /// Adds a [`BatchSpanProcessor`] with `settings` in front of `exporter`.
    #[must_use]
    pub fn with_batch_exporter_settings(
        mut self,
        exporter: impl SpanExporter,
        settings: BatchSettings,
    ) -> Self {
        match BatchSpanProcessor::new(exporter, settings) {
            Ok(p) => self.processors.push(Box::new(p)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds a [`SimpleSpanProcessor`] in front of `exporter`.
    #[must_use]
    pub fn with_simple_exporter(mut self, exporter: impl SpanExporter) -> Self {
        match SimpleSpanProcessor::new(exporter) {
            Ok(p) => self.processors.push(Box::new(p)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Builds the provider.
    ///
    /// # Errors
    ///
    /// A processor added with `with_*_exporter` could not start.
    pub fn try_build(mut self) -> Result<TracerProvider, SdkError> {
        if let Some(error) = self.errors.pop() {
            return Err(error);
        }
        Ok(self.build())
    }

    /// Builds the provider; a processor that could not start is left out (and logged).
    #[must_use]
    pub fn build(self) -> TracerProvider {
        for error in &self.errors {
            tracing::error!(target: "otlp_sdk", "span processor left out: {error}");
        }
        let resource = self.resource.unwrap_or_default();
        for processor in &self.processors {
            processor.set_resource(&resource);
        }
        TracerProvider {
            shared: Arc::new(ProviderShared {
                wants_on_start: self.processors.iter().any(|p| p.wants_on_start()),
                processors: self.processors,
                sampler: self.sampler,
                limits: self.limits,
                resource,
                shutdown: AtomicBool::new(false),
            }),
        }
    }
}
