//! Log record processors: what happens to a record when it is emitted.

use std::sync::Arc;
use std::time::Instant;

use otlp_batch::BatchExporter;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;

use crate::error::SdkError;
use crate::export::settings::BatchSettings;
use crate::export::worker::{ProcessorStats, WireResource, Worker};
use crate::logs::LogData;
use crate::resource::Resource;

/// A log record exporter: any `otlp_batch::BatchExporter` of logs requests.
pub trait LogExporter: BatchExporter<ExportLogsServiceRequest> {}
impl<E: BatchExporter<ExportLogsServiceRequest>> LogExporter for E {}

/// Receives every emitted record, on the application's thread.
pub trait LogProcessor: Send + Sync + std::fmt::Debug + 'static {
    /// A record was emitted.
    fn on_emit(&self, log: LogData);

    /// Exports everything emitted before the call, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, and why.
    fn force_flush(&self, deadline: Instant) -> Result<(), SdkError>;

    /// Flushes and stops, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, and why.
    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError>;

    /// The provider's resource, given once when the provider is built.
    fn set_resource(&self, _resource: &Resource) {}

    /// Counters, for processors that keep them.
    fn stats(&self) -> Option<ProcessorStats> {
        None
    }
}

/// Exports records in batches from a thread of its own, with the `OTEL_BLRP_*` knobs; a full
/// buffer drops the new record (or waits, opt-in) and counts it.
#[derive(Debug)]
pub struct BatchLogProcessor {
    worker: Worker<LogData>,
}

impl BatchLogProcessor {
    /// A batch processor exporting through `exporter` with `settings`.
    ///
    /// # Errors
    ///
    /// Invalid settings, or the export thread could not start.
    pub fn new(exporter: impl LogExporter, settings: BatchSettings) -> Result<Self, SdkError> {
        Self::with_exporter(Arc::new(exporter), settings, false)
    }

    fn with_exporter(
        exporter: Arc<dyn BatchExporter<ExportLogsServiceRequest>>,
        settings: BatchSettings,
        eager: bool,
    ) -> Result<Self, SdkError> {
        let name = if eager { "simple-logs" } else { "batch-logs" };
        Ok(Self {
            worker: Worker::start(name, settings, eager, exporter)?,
        })
    }
}

impl LogProcessor for BatchLogProcessor {
    fn on_emit(&self, log: LogData) {
        self.worker.push(log);
    }

    fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        self.worker.force_flush(deadline)
    }

    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        self.worker.shutdown(deadline)
    }

    fn set_resource(&self, resource: &Resource) {
        self.worker.set_resource(WireResource::from(resource));
    }

    fn stats(&self) -> Option<ProcessorStats> {
        Some(self.worker.stats())
    }
}

/// Exports each record as soon as it is emitted, one export at a time, on the processor's own
/// thread (emitting never waits for the network).
#[derive(Debug)]
pub struct SimpleLogProcessor {
    inner: BatchLogProcessor,
}

impl SimpleLogProcessor {
    /// A simple processor exporting through `exporter`.
    ///
    /// # Errors
    ///
    /// The export thread could not start.
    pub fn new(exporter: impl LogExporter) -> Result<Self, SdkError> {
        let settings = BatchSettings {
            max_export_batch_size: 1,
            ..BatchSettings::logs()
        };
        Ok(Self {
            inner: BatchLogProcessor::with_exporter(Arc::new(exporter), settings, true)?,
        })
    }
}

impl LogProcessor for SimpleLogProcessor {
    fn on_emit(&self, log: LogData) {
        self.inner.on_emit(log);
    }

    fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        self.inner.force_flush(deadline)
    }

    fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        self.inner.shutdown(deadline)
    }

    fn set_resource(&self, resource: &Resource) {
        self.inner.set_resource(resource);
    }

    fn stats(&self) -> Option<ProcessorStats> {
        self.inner.stats()
    }
}
