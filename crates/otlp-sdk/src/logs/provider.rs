//! [`LoggerProvider`] and [`Logger`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use otlp_model::time::now_unix_nanos;

use crate::attribute_limits::limit_attributes;
use crate::context;
use crate::error::{DEFAULT_SHUTDOWN_TIMEOUT, SdkError};
use crate::export::ProcessorStats;
use crate::export::settings::BatchSettings;
use crate::logs::{
    BatchLogProcessor, LogData, LogExporter, LogProcessor, LogRecord, LogRecordLimits,
    SimpleLogProcessor,
};
use crate::resource::Resource;
use crate::scope::InstrumentationScope;

struct LoggerShared {
    processors: Vec<Box<dyn LogProcessor>>,
    limits: LogRecordLimits,
    resource: Resource,
    shutdown: AtomicBool,
}

impl std::fmt::Debug for LoggerShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggerProvider")
            .field("processors", &self.processors)
            .field("limits", &self.limits)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl LoggerShared {
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

impl Drop for LoggerShared {
    fn drop(&mut self) {
        if !self.shutdown.load(Ordering::Relaxed) {
            let _ = self.shutdown(Instant::now() + DEFAULT_SHUTDOWN_TIMEOUT);
        }
    }
}

/// The logs pipeline: hands out [`Logger`]s, flushes and shuts down the processors. Cheap to
/// clone; shuts down (within 5 s) when the last clone and logger are gone.
#[derive(Clone, Debug)]
pub struct LoggerProvider {
    shared: Arc<LoggerShared>,
}

impl LoggerProvider {
    /// A builder: default limits, the default resource, no processor.
    #[must_use]
    pub fn builder() -> LoggerProviderBuilder {
        LoggerProviderBuilder::default()
    }

    /// A logger for the instrumentation scope `name`.
    pub fn logger(&self, name: impl Into<String>) -> Logger {
        self.logger_with_scope(InstrumentationScope::new(name))
    }

    /// A logger for a scope with version, schema URL or attributes.
    #[must_use]
    pub fn logger_with_scope(&self, scope: InstrumentationScope) -> Logger {
        Logger {
            shared: Arc::clone(&self.shared),
            scope,
        }
    }

    /// The resource every record carries.
    #[must_use]
    pub fn resource(&self) -> &Resource {
        &self.shared.resource
    }

    /// Exports everything emitted before the call; returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported and why.
    pub fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        if self.shared.shutdown.load(Ordering::Relaxed) {
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

    /// Flushes and stops every processor; returns by `deadline`. Records emitted afterwards
    /// are ignored.
    ///
    /// # Errors
    ///
    /// What was not exported and why; [`SdkError::AlreadyShutdown`] on a second call.
    pub fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        self.shared.shutdown(deadline)
    }

    /// The counters of the processors that keep them.
    #[must_use]
    pub fn processor_stats(&self) -> Vec<ProcessorStats> {
        self.shared
            .processors
            .iter()
            .filter_map(|p| p.stats())
            .collect()
    }
}

/// Emits log records for one instrumentation scope. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Logger {
    shared: Arc<LoggerShared>,
    scope: InstrumentationScope,
}

impl Logger {
    /// The logger's scope.
    #[must_use]
    pub fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    /// `false` once the provider is shut down or when it has no processor: the caller may
    /// skip building a record.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.shared.processors.is_empty() && !self.shared.shutdown.load(Ordering::Relaxed)
    }

    /// Emits `record`: the observed time is set when unset, and the trace context is taken
    /// from the current context when the record has none.
    pub fn emit(&self, mut record: LogRecord) {
        if !self.enabled() {
            return;
        }
        if record.observed_time_unix_nano == 0 {
            record.observed_time_unix_nano = now_unix_nanos();
        }
        if record.trace_context.is_none() {
            record.trace_context = context::with_current(|cx| {
                cx.span_context()
                    .map(|sc| (sc.trace_id(), sc.span_id(), sc.trace_flags()))
            });
        }
        let limits = self.shared.limits;
        let dropped_attributes_count = limit_attributes(
            &mut record.attributes,
            limits.max_attributes,
            limits.max_attribute_value_length,
        );
        let data = LogData {
            record,
            dropped_attributes_count,
            scope: self.scope.clone(),
        };
        match self.shared.processors.as_slice() {
            [] => {}
            [only] => only.on_emit(data),
            [rest @ .., last] => {
                for processor in rest {
                    processor.on_emit(data.clone());
                }
                last.on_emit(data);
            }
        }
    }
}

/// Builds a [`LoggerProvider`].
#[derive(Debug, Default)]
pub struct LoggerProviderBuilder {
    processors: Vec<Box<dyn LogProcessor>>,
    limits: LogRecordLimits,
    resource: Option<Resource>,
    errors: Vec<SdkError>,
}

impl LoggerProviderBuilder {
    /// The limits (default 128 attributes, unlimited values).
    #[must_use]
    pub fn with_limits(mut self, limits: LogRecordLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The resource (default: [`Resource::default`]).
    #[must_use]
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Adds a processor.
    #[must_use]
    pub fn with_log_processor(mut self, processor: impl LogProcessor) -> Self {
        self.processors.push(Box::new(processor));
        self
    }

    /// Adds a [`BatchLogProcessor`] with the `OTEL_BLRP_*` defaults in front of `exporter`.
    #[must_use]
    pub fn with_batch_exporter(self, exporter: impl LogExporter) -> Self {
        self.with_batch_exporter_settings(exporter, BatchSettings::logs())
    }

    /// Adds a [`BatchLogProcessor`] with `settings` in front of `exporter`.
    #[must_use]
    pub fn with_batch_exporter_settings(
        mut self,
        exporter: impl LogExporter,
        settings: BatchSettings,
    ) -> Self {
        match BatchLogProcessor::new(exporter, settings) {
            Ok(p) => self.processors.push(Box::new(p)),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Adds a [`SimpleLogProcessor`] in front of `exporter`.
    #[must_use]
    pub fn with_simple_exporter(mut self, exporter: impl LogExporter) -> Self {
        match SimpleLogProcessor::new(exporter) {
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
    pub fn try_build(mut self) -> Result<LoggerProvider, SdkError> {
        if let Some(error) = self.errors.pop() {
            return Err(error);
        }
        Ok(self.build())
    }

    /// Builds the provider; a processor that could not start is left out (and logged).
    #[must_use]
    pub fn build(self) -> LoggerProvider {
        for error in &self.errors {
            tracing::error!(target: "otlp_sdk", "log processor left out: {error}");
        }
        let resource = self.resource.unwrap_or_default();
        for processor in &self.processors {
            processor.set_resource(&resource);
        }
        LoggerProvider {
            shared: Arc::new(LoggerShared {
                processors: self.processors,
                limits: self.limits,
                resource,
                shutdown: AtomicBool::new(false),
            }),
        }
    }
}
