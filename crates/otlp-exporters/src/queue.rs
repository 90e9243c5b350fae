//! What the queued exporters (`otlp`, `otlphttp`, `kafka`) share: otelcol's
//! `retry_on_failure` keys, one otlp-batch [`BatchQueue`] per signal holding requests encoded,
//! how a request is put into it (`blocking`, `wait_for_result`), why it was not, and the
//! queue's `otelcol_exporter_*` metrics.

use std::sync::Arc;
use std::time::Duration;

use otlp_batch::{
    BatchExporter, BatchQueue, BatchQueueConfig, Batchable, Delivery, DrainError, Encoded,
    EnqueueError, FailureKind, QueueMetrics, Report, RetryConfig,
};
use otlp_pipeline::Signal;
use otlp_pipeline::config::duration;
use otlp_pipeline::data::{SignalRequest, Telemetry};
use otlp_pipeline::telemetry::{Kind, Metrics, Registration, item_unit};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde::{Deserialize, Serialize};

/// `retry_on_failure`: otelcol's keys and defaults.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryOnFailureConfig {
    /// Retry at all (default true).
    pub enabled: bool,
    /// First wait (default 5 s).
    #[serde(with = "duration")]
    pub initial_interval: Duration,
    /// Largest wait (default 30 s).
    #[serde(with = "duration")]
    pub max_interval: Duration,
    /// Give up after (default 300 s; 0: never).
    #[serde(with = "duration")]
    pub max_elapsed_time: Duration,
    /// Growth per retry (default 1.5).
    pub multiplier: f64,
    /// Jitter fraction (default 0.5).
    pub randomization_factor: f64,
}

impl Default for RetryOnFailureConfig {
    fn default() -> Self {
        RetryOnFailureConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

impl RetryOnFailureConfig {
    /// The queue's retry with these settings.
    pub(crate) fn queue_retry(&self) -> RetryConfig {
        RetryConfig {
            enabled: self.enabled,
            initial_interval: self.initial_interval,
            max_interval: self.max_interval,
            multiplier: self.multiplier,
            randomization_factor: self.randomization_factor,
            max_elapsed_time: self.max_elapsed_time,
        }
    }
}

/// How a request is put into the queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enqueue {
    /// Wait for room up to `wait` instead of refusing at once.
    pub(crate) blocking: bool,
    /// Answer only once the request was exported (or failed).
    pub(crate) wait_for_result: bool,
    /// How long a blocking put waits (the exporter's `timeout`).
    pub(crate) wait: Duration,
}

/// Why a request did not get into the queue (or, waiting for the result, was not exported).
pub(crate) struct NotQueued {
    pub(crate) retryable: bool,
    pub(crate) message: String,
    pub(crate) counted_as: Counted,
}

/// Who counts a request that was not queued.
pub(crate) enum Counted {
    /// Refused at the queue: the exporter counts it as `enqueue_failed`, and the data is
    /// still the caller's.
    EnqueueFailed,
    /// Accepted but then failed: the queue's metrics counted it.
    AlreadyCounted,
}

fn enqueue_error<R>(error: EnqueueError<R>) -> NotQueued {
    NotQueued {
        retryable: !matches!(error, EnqueueError::TooLarge { .. }),
        message: error.to_string(),
        counted_as: Counted::EnqueueFailed,
    }
}

/// `data`'s request encoded for the queue ([`Telemetry::to_encoded`]).
fn encoded<R: SignalRequest>(data: &Telemetry) -> Result<Encoded<R>, NotQueued> {
    data.to_encoded().ok_or_else(|| NotQueued {
        retryable: false,
        message: format!("no queue for {}", data.signal()),
        counted_as: Counted::EnqueueFailed,
    })
}

async fn put<R: Batchable>(
    queue: &BatchQueue<R>,
    request: R,
    how: Enqueue,
) -> Result<(), NotQueued> {
    let until = std::time::Instant::now()
        + if how.blocking {
            how.wait
        } else {
            Duration::ZERO
        };
    if how.wait_for_result {
        return match queue.export(request, until).await.map_err(enqueue_error)? {
            Delivery::Failed(failure) => Err(NotQueued {
                retryable: failure.kind() != FailureKind::Permanent,
                message: failure.to_string(),
                counted_as: Counted::AlreadyCounted,
            }),
            _ => Ok(()),
        };
    }
    if how.blocking {
        queue.enqueue(request, until).await.map_err(enqueue_error)
    } else {
        queue.try_enqueue(request).map_err(enqueue_error)
    }
}

/// The exporters a queue of each signal exports through.
pub(crate) trait SignalExporters {
    fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>>;
    fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>>;
    fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>>;
    fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>>;
}

/// One queue per signal. Requests wait in it encoded ([`Encoded`]): that is how they leave,
/// it takes a fraction of the memory of the decoded tree, and a retry re-sends the same bytes.
#[derive(Clone)]
pub(crate) enum AnyQueue {
    Traces(BatchQueue<Encoded<ExportTraceServiceRequest>>),
    Metrics(BatchQueue<Encoded<ExportMetricsServiceRequest>>),
    Logs(BatchQueue<Encoded<ExportLogsServiceRequest>>),
    Profiles(BatchQueue<Encoded<ExportProfilesServiceRequest>>),
}

impl AnyQueue {
    pub(crate) fn spawn(
        signal: Signal,
        config: BatchQueueConfig,
        exporters: &impl SignalExporters,
    ) -> Result<AnyQueue, otlp_batch::BuildError> {
        Ok(match signal {
            Signal::Traces => AnyQueue::Traces(BatchQueue::spawn(config, exporters.traces())?),
            Signal::Metrics => AnyQueue::Metrics(BatchQueue::spawn(config, exporters.metrics())?),
            Signal::Logs => AnyQueue::Logs(BatchQueue::spawn(config, exporters.logs())?),
            Signal::Profiles => {
                AnyQueue::Profiles(BatchQueue::spawn(config, exporters.profiles())?)
            }
        })
    }

    pub(crate) fn metrics(&self) -> Arc<QueueMetrics> {
        match self {
            AnyQueue::Traces(q) => q.queue_metrics(),
            AnyQueue::Metrics(q) => q.queue_metrics(),
            AnyQueue::Logs(q) => q.queue_metrics(),
            AnyQueue::Profiles(q) => q.queue_metrics(),
        }
    }

    pub(crate) async fn put(&self, data: &Telemetry, how: Enqueue) -> Result<(), NotQueued> {
        match self {
            AnyQueue::Traces(q) => put(q, encoded(data)?, how).await,
            AnyQueue::Metrics(q) => put(q, encoded(data)?, how).await,
            AnyQueue::Logs(q) => put(q, encoded(data)?, how).await,
            AnyQueue::Profiles(q) => put(q, encoded(data)?, how).await,
        }
    }

    pub(crate) async fn shutdown(
        &self,
        deadline: std::time::Instant,
    ) -> Result<Report, DrainError> {
        match self {
            AnyQueue::Traces(q) => q.shutdown(deadline).await,
            AnyQueue::Metrics(q) => q.shutdown(deadline).await,
            AnyQueue::Logs(q) => q.shutdown(deadline).await,
            AnyQueue::Profiles(q) => q.shutdown(deadline).await,
        }
    }

    /// The queue's `otelcol_exporter_sent_*`, `_send_failed_*` (what the queue exported or
    /// gave up on), `otelcol_exporter_queue_size` and `_capacity` for `exporter`.
    pub(crate) fn register_metrics(
        &self,
        metrics: &Metrics,
        exporter: &str,
        signal: Signal,
    ) -> Vec<Registration> {
        let queue_metrics = self.metrics();
        let labels = [("exporter", exporter), ("data_type", signal.name())];
        let exporter_label = [("exporter", exporter)];
        let m = Arc::clone(&queue_metrics);
        let sent = metrics.register_fn(
            Kind::Counter,
            &format!("otelcol_exporter_sent_{}_total", item_unit(signal)),
            "",
            &exporter_label,
            move || m.snapshot().exported_items as f64,
        );
        let m = Arc::clone(&queue_metrics);
        let failed = metrics.register_fn(
            Kind::Counter,
            &format!("otelcol_exporter_send_failed_{}_total", item_unit(signal)),
            "",
            &exporter_label,
            move || m.snapshot().failed_items as f64,
        );
        let m = Arc::clone(&queue_metrics);
        let size = metrics.register_fn(
            Kind::Gauge,
            "otelcol_exporter_queue_size",
            "Current size of the retry queue (in items). [alpha]",
            &labels,
            move || m.snapshot().size_items as f64,
        );
        let m = queue_metrics;
        let capacity = metrics.register_fn(
            Kind::Gauge,
            "otelcol_exporter_queue_capacity",
            "Fixed capacity of the retry queue (in items). [alpha]",
            &labels,
            move || m.snapshot().capacity_items as f64,
        );
        vec![sent, failed, size, capacity]
    }
}
