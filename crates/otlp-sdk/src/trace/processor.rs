//! Span processors: what happens to a span when it starts and when it ends.

use std::sync::Arc;
use std::time::Instant;

use otlp_batch::BatchExporter;
use otlp_model::SpanContext;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use crate::error::SdkError;
use crate::export::settings::BatchSettings;
use crate::export::worker::{ProcessorStats, WireResource, Worker};
use crate::resource::Resource;
use crate::trace::SpanData;

/// A span exporter: any `otlp_batch::BatchExporter` of trace requests (the OTLP exporter of
/// `otlp-transport`, [`InMemoryExporter`](crate::export::InMemoryExporter),
/// [`StdoutExporter`](crate::export::StdoutExporter), or your own).
pub trait SpanExporter: BatchExporter<ExportTraceServiceRequest> {}
impl<E: BatchExporter<ExportTraceServiceRequest>> SpanExporter for E {}

/// Receives spans as they start and end. Registered on a
/// [`TracerProvider`](crate::trace::TracerProvider); called on the application's threads, so
/// it must be quick.
pub trait SpanProcessor: Send + Sync + std::fmt::Debug + 'static {
    /// Whether [`on_start`](Self::on_start) should be called (skipped otherwise, to keep span
    /// starts cheap). Default `false`.
    fn wants_on_start(&self) -> bool {
        false
    }

    /// A span started; it may be changed (e.g. attributes added).
    fn on_start(&self, _span: &mut SpanData, _parent: Option<&SpanContext>) {}

    /// A recording span ended.
    fn on_end(&self, span: SpanData);

    /// Exports everything ended before the call, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, and why ([`SdkError::not_exported`]).
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

/// Exports spans in batches from a thread of its own: a bounded buffer
/// ([`BatchSettings::max_queue_size`]) that the application pushes into without waiting, and
/// exports of up to [`BatchSettings::max_export_batch_size`] spans every
/// [`BatchSettings::scheduled_delay`] or as soon as a batch is full. A full buffer drops the
/// new span (or waits, with [`FullQueue::Block`](crate::export::FullQueue::Block)) and counts it.
#[derive(Debug)]
pub struct BatchSpanProcessor {
    worker: Worker<SpanData>,
}

impl BatchSpanProcessor {
    /// A batch processor exporting through `exporter` with `settings`.
    ///
    /// # Errors
    ///
    /// Invalid settings, or the export thread could not start.
    pub fn new(exporter: impl SpanExporter, settings: BatchSettings) -> Result<Self, SdkError> {
        Self::with_exporter(Arc::new(exporter), settings, false)
    }

    pub(crate) fn with_exporter(
        exporter: Arc<dyn BatchExporter<ExportTraceServiceRequest>>,
        settings: BatchSettings,
        eager: bool,
    ) -> Result<Self, SdkError> {
        let name = if eager { "simple-spans" } else { "batch-spans" };
        Ok(Self {
            worker: Worker::start(name, settings, eager, exporter)?,
        })
    }
}

impl SpanProcessor for BatchSpanProcessor {
    fn on_end(&self, span: SpanData) {
        self.worker.push(span);
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

/// Exports each span as soon as it ends, one export at a time, in order — on the
/// processor's own thread, so that ending a span never waits for the network (and never needs
/// a runtime). [`force_flush`](SpanProcessor::force_flush) waits until the spans ended
/// before it are exported.
#[derive(Debug)]
pub struct SimpleSpanProcessor {
    inner: BatchSpanProcessor,
}

impl SimpleSpanProcessor {
    /// A simple processor exporting through `exporter`.
    ///
    /// # Errors
    ///
    /// The export thread could not start.
    pub fn new(exporter: impl SpanExporter) -> Result<Self, SdkError> {
        let settings = BatchSettings {
            max_export_batch_size: 1,
            ..BatchSettings::spans()
        };
        Ok(Self {
            inner: BatchSpanProcessor::with_exporter(Arc::new(exporter), settings, true)?,
        })
    }
}

impl SpanProcessor for SimpleSpanProcessor {
    fn on_end(&self, span: SpanData) {
        self.inner.on_end(span);
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
