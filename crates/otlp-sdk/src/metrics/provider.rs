//! [`MeterProvider`]: readers, views and the resource that meters belong to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::error::{DEFAULT_SHUTDOWN_TIMEOUT, SdkError};
use crate::export::worker::WireResource;
use crate::metrics::exemplar::ExemplarFilter;
use crate::metrics::pipeline::{Pipeline, Settings};
use crate::metrics::reader::{MetricReader, MetricsCollector};
use crate::metrics::{Meter, View};
use crate::resource::Resource;
use crate::scope::InstrumentationScope;

/// The spec's default cardinality limit per metric stream.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

struct Shared {
    readers: Vec<Box<dyn MetricReader>>,
    pipelines: Arc<[Arc<Pipeline>]>,
    resource: Resource,
    shutdown: AtomicBool,
}

impl Shared {
    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return Err(SdkError::AlreadyShutdown);
        }
        SdkError::combine(self.readers.iter().map(|r| r.shutdown(deadline)).collect())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if !self.shutdown.load(Ordering::Relaxed) {
            let _ = self.shutdown(Instant::now() + DEFAULT_SHUTDOWN_TIMEOUT);
        }
    }
}

/// The metrics pipeline: hands out [`Meter`]s; every reader sees every instrument through
/// the views. Cheap to clone; shuts down (within 5 s) when the last clone is dropped.
#[derive(Clone)]
pub struct MeterProvider {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MeterProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterProvider")
            .field("readers", &self.shared.readers)
            .finish_non_exhaustive()
    }
}

impl MeterProvider {
    /// A builder: no reader, no view, `trace_based` exemplars, 2000 series per stream.
    #[must_use]
    pub fn builder() -> MeterProviderBuilder {
        MeterProviderBuilder::default()
    }

    /// A meter for the instrumentation scope `name`.
    pub fn meter(&self, name: impl Into<String>) -> Meter {
        self.meter_with_scope(InstrumentationScope::new(name))
    }

    /// A meter for a scope with version, schema URL or attributes.
    #[must_use]
    pub fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        let pipelines = if self.shared.shutdown.load(Ordering::Relaxed) {
            Arc::from(Vec::new())
        } else {
            Arc::clone(&self.shared.pipelines)
        };
        Meter::new(pipelines, scope)
    }

    /// The resource every metric carries.
    #[must_use]
    pub fn resource(&self) -> &Resource {
        &self.shared.resource
    }

    /// Collects and exports through every reader; returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, per reader.
    pub fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        if self.shared.shutdown.load(Ordering::Relaxed) {
            return Err(SdkError::AlreadyShutdown);
        }
        SdkError::combine(
            self.shared
                .readers
                .iter()
                .map(|r| r.force_flush(deadline))
                .collect(),
        )
    }

    /// Shuts every reader down (a last collection each); returns by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported; [`SdkError::AlreadyShutdown`] on a second call.
    pub fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        self.shared.shutdown(deadline)
    }
}

/// Builds a [`MeterProvider`].
#[derive(Debug)]
pub struct MeterProviderBuilder {
    readers: Vec<Box<dyn MetricReader>>,
    views: Vec<View>,
    resource: Option<Resource>,
    exemplar_filter: ExemplarFilter,
    cardinality_limit: usize,
}

impl Default for MeterProviderBuilder {
    fn default() -> Self {
        Self {
            readers: Vec::new(),
            views: Vec::new(),
            resource: None,
            exemplar_filter: ExemplarFilter::default(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
        }
    }
}

impl MeterProviderBuilder {
    /// Adds a reader.
    #[must_use]
    pub fn with_reader(mut self, reader: impl MetricReader) -> Self {
        self.readers.push(Box::new(reader));
        self
    }

    /// Adds a view; an invalid one is left out with an error logged.
    #[must_use]
    pub fn with_view(mut self, view: View) -> Self {
        match view.validate() {
            Ok(()) => self.views.push(view),
            Err(why) => tracing::error!(target: "otlp_sdk", "view left out: {why}"),
        }
        self
    }

    /// The resource (default: [`Resource::default`]).
    #[must_use]
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// The exemplar filter (default `trace_based`).
    #[must_use]
    pub fn with_exemplar_filter(mut self, filter: ExemplarFilter) -> Self {
        self.exemplar_filter = filter;
        self
    }

    /// Series per stream at most, the overflow series included (default 2000); a view may
    /// set its own.
    #[must_use]
    pub fn with_cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit.max(1);
        self
    }

    /// Builds the provider and registers every reader.
    #[must_use]
    pub fn build(self) -> MeterProvider {
        let resource = self.resource.unwrap_or_default();
        let wire = WireResource::from(&resource);
        let settings = Settings {
            views: self.views.into(),
            exemplar_filter: self.exemplar_filter,
            cardinality_limit: self.cardinality_limit,
        };
        let pipelines: Vec<Arc<Pipeline>> = self
            .readers
            .iter()
            .map(|r| {
                Arc::new(Pipeline::new(
                    r.temporality(),
                    settings.clone(),
                    wire.clone(),
                ))
            })
            .collect();
        for (reader, pipeline) in self.readers.iter().zip(&pipelines) {
            reader.register(MetricsCollector::new(Arc::clone(pipeline)));
        }
        MeterProvider {
            shared: Arc::new(Shared {
                readers: self.readers,
                pipelines: pipelines.into(),
                resource,
                shutdown: AtomicBool::new(false),
            }),
        }
    }
}
