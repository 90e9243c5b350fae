//! What the queued exporters (`otlp`, `otlphttp`, `kafka`) share: otelcol's
//! `retry_on_failure` and `sending_queue` keys (`batch` included), one otlp-batch [`BatchQueue`] per signal holding requests encoded,
//! how a request is put into it (`blocking`, `wait_for_result`), why it was not, and the
//! queue's `otelcol_exporter_*` metrics.

use std::sync::Arc;
use std::time::Duration;

use otlp_batch::{BatchConfig, OverflowPolicy, QueueConfig, StorageConfig};
use otlp_batch::{
    BatchExporter, BatchQueue, BatchQueueConfig, Batchable, Delivery, DrainError, Encoded,
    EnqueueError, FailureKind, QueueMetrics, Report, RetryConfig,
};
use otlp_pipeline::Signal;
use otlp_pipeline::config::ConfigError;
use otlp_pipeline::config::duration;
use otlp_pipeline::config::fields::parse_id;
use otlp_pipeline::data::{SignalRequest, Telemetry};
use otlp_pipeline::error::{ConsumeError, Refused};
use otlp_pipeline::telemetry::{
    Counter, Kind, Metrics, Registration, SelfSpans, SpanGuard, SpanKind, item_unit, item_words,
};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

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

/// `sending_queue`: otelcol's keys and defaults.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SendingQueueConfig {
    /// Queue at all (default true). `false`: export synchronously in the sender's request.
    pub enabled: bool,
    /// Concurrent exports (default 10).
    pub num_consumers: usize,
    /// Capacity in units of `sizer` (default 1000).
    pub queue_size: u64,
    /// `requests` (default), `items` or `bytes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizer: Option<String>,
    /// Wait for room (up to `timeout`) instead of refusing at once when full.
    pub blocking: bool,
    /// The newer name of `blocking`.
    pub block_on_overflow: bool,
    /// Answer the sender only once the data was exported (or failed).
    pub wait_for_result: bool,
    /// `file_storage[/name]`: persist the queue in that extension's directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Batching inside the queue (otelcol's `sending_queue::batch`): absent, no batching; a
    /// bare `batch:` turns it on with the defaults of [`QueueBatchConfig`], as in otelcol.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub batch: Option<Value>,
}

impl Default for SendingQueueConfig {
    fn default() -> Self {
        SendingQueueConfig {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            sizer: None,
            blocking: false,
            block_on_overflow: false,
            wait_for_result: false,
            storage: None,
            batch: None,
        }
    }
}

/// How `queue_size` is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sizer {
    Requests,
    Items,
    Bytes,
}

/// Items one "request" of `sizer: requests` stands for: a full batch of the batch processor's
/// default `send_batch_size`.
pub const ITEMS_PER_REQUEST: u64 = 8192;

impl SendingQueueConfig {
    pub(crate) fn sizer(&self) -> Result<Sizer, ConfigError> {
        match self.sizer.as_deref().unwrap_or("requests") {
            "requests" => Ok(Sizer::Requests),
            "items" => Ok(Sizer::Items),
            "bytes" => Ok(Sizer::Bytes),
            other => Err(ConfigError::bad_value(
                "sending_queue::sizer",
                format!("unknown sizer \"{other}\"; expected requests, items or bytes"),
            )),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.num_consumers == 0 {
            return Err(ConfigError::bad_value(
                "sending_queue::num_consumers",
                "must be positive",
            ));
        }
        if self.queue_size == 0 {
            return Err(ConfigError::bad_value(
                "sending_queue::queue_size",
                "must be positive",
            ));
        }
        let sizer = self.sizer()?;
        if let Some(storage) = &self.storage {
            let id = parse_id("sending_queue::storage", storage)?;
            if id.type_name() != "file_storage" {
                return Err(ConfigError::bad_value(
                    "sending_queue::storage",
                    format!("\"{id}\" is not supported: only file_storage extensions are"),
                ));
            }
            if sizer == Sizer::Bytes && self.queue_size < 4096 {
                return Err(ConfigError::bad_value(
                    "sending_queue::queue_size",
                    "with storage and sizer bytes, must be at least 4096",
                ));
            }
        }
        self.batch()?;
        Ok(())
    }

    /// `sending_queue::batch` read: `None` when batching is off (the key absent).
    pub(crate) fn batch(&self) -> Result<Option<QueueBatchConfig>, ConfigError> {
        let batch = match &self.batch {
            None => return Ok(None),
            Some(Value::Null) => QueueBatchConfig::default(),
            Some(value) => serde_yaml_ng::from_value::<QueueBatchConfig>(value.clone())
                .map_err(|e| ConfigError::bad_value("sending_queue::batch", e))?,
        };
        batch.validate()?;
        Ok(Some(batch))
    }
}

/// A key that is there, even with no value (`batch:`), is `Some`; an absent one takes the
/// field's default (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// `sending_queue::batch`: otelcol's keys and defaults. Requests waiting in the queue are
/// merged into one export of at least `min_size` units, or whatever waited `flush_timeout`,
/// and at most `max_size` (0: no cap; a larger request is split).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueBatchConfig {
    /// Send what waited this long, whatever its size (default 200 ms; must be positive).
    #[serde(with = "duration")]
    pub flush_timeout: Duration,
    /// Send as soon as this much waits (default 8192).
    pub min_size: u64,
    /// At most this much per export (default 0: no cap); at least `min_size` when set.
    pub max_size: u64,
    /// `items` (the default and the only one supported: `bytes` is refused naming the key;
    /// `requests` cannot size a batch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizer: Option<String>,
}

impl Default for QueueBatchConfig {
    fn default() -> Self {
        QueueBatchConfig {
            flush_timeout: Duration::from_millis(200),
            min_size: 8192,
            max_size: 0,
            sizer: None,
        }
    }
}

impl QueueBatchConfig {
    /// `items`, the only sizer of a batch here.
    fn sizer(&self) -> Result<Sizer, ConfigError> {
        match self.sizer.as_deref().unwrap_or("items") {
            "items" => Ok(Sizer::Items),
            "bytes" => Err(ConfigError::bad_value(
                "sending_queue::batch::sizer",
                "bytes is not supported for batching in the queue; use items",
            )),
            other => Err(ConfigError::bad_value(
                "sending_queue::batch::sizer",
                format!("\"{other}\" cannot size a batch; expected items"),
            )),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.sizer()?;
        if self.flush_timeout.is_zero() {
            return Err(ConfigError::bad_value(
                "sending_queue::batch::flush_timeout",
                "must be positive",
            ));
        }
        if self.max_size != 0 && self.max_size < self.min_size {
            return Err(ConfigError::bad_value(
                "sending_queue::batch::max_size",
                format!("must be 0 or at least min_size ({})", self.min_size),
            ));
        }
        Ok(())
    }
}

/// The queue of `sending_queue` (in memory; the caller adds persistence), with `retry` and
/// the exporter's `timeout`: `None` when the queue is off.
pub(crate) fn batch_queue_config(
    queue: &SendingQueueConfig,
    retry: &RetryOnFailureConfig,
    timeout: Duration,
) -> Result<Option<(BatchQueueConfig, Enqueue)>, ConfigError> {
    if !queue.enabled {
        return Ok(None);
    }
    let size = usize::try_from(queue.queue_size).unwrap_or(usize::MAX);
    let mut capacity = QueueConfig {
        num_consumers: queue.num_consumers,
        overflow: OverflowPolicy::Backpressure,
        // A safety net above the client's own per-attempt timeout.
        export_timeout: timeout + Duration::from_secs(1),
        ..QueueConfig::default()
    };
    match queue.sizer()? {
        Sizer::Requests => {
            capacity.capacity_items = size.saturating_mul(ITEMS_PER_REQUEST as usize);
        }
        Sizer::Items => capacity.capacity_items = size,
        Sizer::Bytes => {
            capacity.capacity_items = usize::MAX / 4;
            capacity.capacity_bytes = size;
        }
    }
    let batch = match queue.batch()? {
        // Without `sending_queue::batch`: one request, one export.
        None => BatchConfig {
            send_batch_size: 1,
            send_batch_max_size: 0,
            send_batch_max_bytes: 0,
            timeout: Duration::ZERO,
        },
        // Queued requests merged into exports of `min_size`..=`max_size` items, or what
        // waited `flush_timeout`.
        Some(batch) => BatchConfig {
            send_batch_size: usize::try_from(batch.min_size).unwrap_or(usize::MAX).max(1),
            send_batch_max_size: usize::try_from(batch.max_size).unwrap_or(usize::MAX),
            send_batch_max_bytes: 0,
            timeout: batch.flush_timeout,
        },
    };
    let config = BatchQueueConfig {
        batch,
        queue: capacity,
        retry: retry.queue_retry(),
        storage: StorageConfig::Memory,
    };
    config
        .validate()
        .map_err(|e| ConfigError::bad_value("sending_queue", e))?;
    let enqueue = Enqueue {
        blocking: queue.blocking || queue.block_on_overflow,
        wait_for_result: queue.wait_for_result,
        wait: timeout,
    };
    Ok(Some((config, enqueue)))
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

/// The delay suggested to a sender refused because the queue is full.
const FULL_RETRY_AFTER: Duration = Duration::from_secs(1);

impl NotQueued {
    /// The refusal the caller gets: the data handed back when the queue never took it
    /// (counted in `enqueue_failed`), not when the queue took it and then failed it
    /// (`wait_for_result`: counted by the queue).
    pub(crate) fn refused(self, data: Telemetry, enqueue_failed: &Counter) -> Refused {
        let message = format!("sending queue: {}", self.message);
        let error = if self.retryable {
            ConsumeError::retryable(message).with_retry_after(FULL_RETRY_AFTER)
        } else {
            ConsumeError::permanent(message)
        };
        let data = match self.counted_as {
            Counted::EnqueueFailed => {
                enqueue_failed.add(data.item_count() as u64);
                Some(data)
            }
            Counted::AlreadyCounted => None,
        };
        Refused { error, data }
    }
}

/// A queued exporter's own per-signal counters (the queue counts what it exports).
pub(crate) struct SignalCounters {
    pub(crate) sent: Counter,
    pub(crate) send_failed: Counter,
    pub(crate) enqueue_failed: Counter,
}

impl SignalCounters {
    /// `otelcol_exporter_{sent,send_failed,enqueue_failed}_*` of `exporter`, by
    /// [`Signal::index`].
    pub(crate) fn per_signal(metrics: &Metrics, exporter: &str) -> [SignalCounters; 4] {
        let labels = [("exporter", exporter)];
        let counter = |signal: Signal, verb: &str, help: &str| {
            metrics.counter(
                &format!("otelcol_exporter_{verb}_{}_total", item_unit(signal)),
                &format!("Number of {} {help}", item_words(signal)),
                &labels,
            )
        };
        Signal::ALL.map(|signal| SignalCounters {
            sent: counter(signal, "sent", "successfully sent to destination. [alpha]"),
            send_failed: counter(
                signal,
                "send_failed",
                "in failed attempts to send to destination. [alpha]",
            ),
            enqueue_failed: counter(
                signal,
                "enqueue_failed",
                "failed to be added to the sending queue. [alpha]",
            ),
        })
    }
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

/// Why one POST of an exporter of one signal failed, and whether to retry: what its queue
/// and its unqueued path both make of it.
#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
pub(crate) struct SendFailure {
    pub(crate) retryable: bool,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) message: String,
}

#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
impl SendFailure {
    /// A failure no retry can mend (the request cannot be translated or encoded).
    pub(crate) fn permanent(message: impl Into<String>) -> SendFailure {
        SendFailure {
            retryable: false,
            retry_after: None,
            message: message.into(),
        }
    }

    /// From the transport's error; a refusal says `refused` before the server's answer.
    pub(crate) fn from_export(
        error: &otlp_transport::client::ExportError,
        refused: &str,
    ) -> SendFailure {
        SendFailure {
            retryable: error.is_retryable(),
            retry_after: error.retry_after(),
            message: match error {
                otlp_transport::client::ExportError::Rejected { .. } => {
                    format!("{refused}: {error}")
                }
                _ => error.to_string(),
            },
        }
    }

    /// What the queue makes of it.
    pub(crate) fn into_export_failure(self) -> otlp_batch::ExportFailure {
        if !self.retryable {
            return otlp_batch::ExportFailure::permanent(self.message);
        }
        let failure = otlp_batch::ExportFailure::retryable(self.message);
        match self.retry_after {
            Some(delay) => failure.with_retry_after(delay),
            None => failure,
        }
    }

    /// What the caller of an unqueued exporter gets.
    pub(crate) fn into_consume_error(self) -> ConsumeError {
        if !self.retryable {
            return ConsumeError::permanent(self.message);
        }
        let error = ConsumeError::retryable(self.message);
        match self.retry_after {
            Some(delay) => error.with_retry_after(delay),
            None => error,
        }
    }
}

/// The sender of an exporter of one signal: one translation and POST per request, no retry
/// of its own.
#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
#[async_trait::async_trait]
pub(crate) trait OneSignalSender: Send + Sync {
    /// Sends `data` (of the exporter's signal).
    async fn send_telemetry(&self, data: &Telemetry) -> Result<(), SendFailure>;
}

/// The delivery of an exporter of one signal (`zipkin`, `prometheusremotewrite`): through its
/// sending queue once started, or straight through its sender when the queue is off; the
/// counters and the queue's metrics registered once started.
#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
pub(crate) struct OneSignalQueue {
    signal: Signal,
    exporter: String,
    settings: Option<(BatchQueueConfig, Enqueue)>,
    counters: SignalCounters,
    metrics: Arc<Metrics>,
    running: std::sync::OnceLock<AnyQueue>,
    registrations: std::sync::Mutex<Vec<Registration>>,
}

#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
impl OneSignalQueue {
    /// The delivery of `exporter`'s `signal` with `settings` (`None`: the queue is off).
    pub(crate) fn new(
        signal: Signal,
        exporter: &str,
        settings: Option<(BatchQueueConfig, Enqueue)>,
        metrics: Arc<Metrics>,
    ) -> OneSignalQueue {
        let [traces, metrics_, logs, profiles] = SignalCounters::per_signal(&metrics, exporter);
        let counters = match signal {
            Signal::Traces => traces,
            Signal::Metrics => metrics_,
            Signal::Logs => logs,
            Signal::Profiles => profiles,
        };
        OneSignalQueue {
            signal,
            exporter: exporter.to_owned(),
            settings,
            counters,
            metrics,
            running: std::sync::OnceLock::new(),
            registrations: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Takes `data`: queued, or sent by `sender` when the queue is off. Other signals are
    /// accepted and dropped (the graph never routes them here).
    pub(crate) async fn accept(
        &self,
        data: Telemetry,
        sender: &dyn OneSignalSender,
    ) -> Result<(), Refused> {
        if data.signal() != self.signal {
            return Ok(());
        }
        let items = data.item_count() as u64;
        let Some((_, enqueue)) = &self.settings else {
            return match sender.send_telemetry(&data).await {
                Ok(()) => {
                    self.counters.sent.add(items);
                    Ok(())
                }
                Err(failure) => {
                    self.counters.send_failed.add(items);
                    Err(Refused {
                        error: failure.into_consume_error(),
                        data: Some(data),
                    })
                }
            };
        };
        let Some(queue) = self.running.get() else {
            self.counters.enqueue_failed.add(items);
            return Err(Refused {
                error: ConsumeError::retryable("the exporter is not started"),
                data: Some(data),
            });
        };
        queue
            .put(&data, *enqueue)
            .await
            .map_err(|not_queued| not_queued.refused(data, &self.counters.enqueue_failed))
    }

    /// Opens the queue (when on) with `exporters` and registers its metrics.
    pub(crate) fn start(
        &self,
        exporters: &impl SignalExporters,
    ) -> Result<(), otlp_pipeline::error::BoxError> {
        let Some((config, _)) = &self.settings else {
            return Ok(());
        };
        let queue = AnyQueue::spawn(self.signal, config.clone(), exporters)
            .map_err(|e| format!("cannot open the sending queue: {e}"))?;
        let registrations = queue.register_metrics(&self.metrics, &self.exporter, self.signal);
        self.registrations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(registrations);
        self.running
            .set(queue)
            .map_err(|_| "the exporter was already started")?;
        Ok(())
    }

    /// Drains the queue by `deadline` ([`drain`]).
    pub(crate) async fn shutdown(
        &self,
        deadline: std::time::Instant,
    ) -> Result<(), otlp_pipeline::error::BoxError> {
        match self.running.get() {
            Some(queue) => drain(queue, deadline, &self.exporter, item_words(self.signal)).await,
            None => Ok(()),
        }
    }
}

#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
/// Refuses every request: the signals an exporter of one signal does not serve (they never
/// reach its queue; the queue needs an exporter for each all the same).
pub(crate) struct Unserved(pub(crate) &'static str);

#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
#[async_trait::async_trait]
impl<R: otlp_batch::ExportRequest> BatchExporter<R> for Unserved {
    async fn export(
        &self,
        _: &R,
    ) -> Result<Option<otlp_batch::PartialSuccess>, otlp_batch::ExportFailure> {
        Err(otlp_batch::ExportFailure::permanent(self.0))
    }
}

/// The [`SignalExporters`] of an exporter of traces only (`zipkin`).
#[cfg(feature = "zipkin")]
pub(crate) struct TracesOnly(
    pub(crate) Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>>,
    pub(crate) &'static str,
);

#[cfg(feature = "zipkin")]
impl SignalExporters for TracesOnly {
    fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>> {
        Arc::clone(&self.0)
    }
    fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
    fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
    fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
}

/// The [`SignalExporters`] of an exporter of metrics only (`prometheusremotewrite`).
#[cfg(feature = "prometheusremotewrite")]
pub(crate) struct MetricsOnly(
    pub(crate) Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>>,
    pub(crate) &'static str,
);

#[cfg(feature = "prometheusremotewrite")]
impl SignalExporters for MetricsOnly {
    fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
    fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>> {
        Arc::clone(&self.0)
    }
    fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
    fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>> {
        Arc::new(Unserved(self.1))
    }
}

#[cfg(any(feature = "zipkin", feature = "prometheusremotewrite"))]
/// Drains `queue` at shutdown by `deadline`, as the exporters of one signal report it: failures
/// while draining are logged (the queue already counted them), items still queued at the
/// deadline are the shutdown's error.
pub(crate) async fn drain(
    queue: &AnyQueue,
    deadline: std::time::Instant,
    exporter: &str,
    items: &str,
) -> Result<(), otlp_pipeline::error::BoxError> {
    match queue.shutdown(deadline).await {
        Ok(_) | Err(DrainError::Closed) => Ok(()),
        Err(DrainError::Failed(report)) => {
            tracing::warn!(exporter, %report, "some {items} failed while draining the queue");
            Ok(())
        }
        Err(DrainError::DeadlineExceeded(report)) => {
            if report.failed_items > 0 {
                tracing::error!(exporter, %report, "the queue did not drain by the shutdown deadline");
                return Err(format!(
                    "{} {items} were not exported by the shutdown deadline",
                    report.failed_items
                )
                .into());
            }
            Ok(())
        }
        Err(other) => {
            tracing::warn!(exporter, error = %other, "draining the queue");
            Ok(())
        }
    }
}

/// An exporter whose every send is an `exporter/<id>/<signal>` span (otelcol's name) in the
/// [`SelfSpans`] the graph put in scope while the exporter started.
struct Traced<R> {
    inner: Arc<dyn BatchExporter<R>>,
    spans: Arc<SelfSpans>,
    name: Arc<str>,
}

impl<R: otlp_batch::ExportRequest> Traced<R> {
    fn wrap(inner: Arc<dyn BatchExporter<R>>, signal: Signal) -> Arc<dyn BatchExporter<R>> {
        match SelfSpans::in_scope() {
            Some((spans, id)) => Arc::new(Traced {
                inner,
                spans,
                name: format!("exporter/{id}/{signal}").into(),
            }),
            None => inner,
        }
    }

    fn span(&self, batch: &R) -> SpanGuard {
        let mut span = self.spans.start(Arc::clone(&self.name), SpanKind::Client);
        span.set_attribute(item_unit(R::SIGNAL), batch.item_count());
        span
    }
}

#[otlp_batch::async_trait]
impl<R: otlp_batch::ExportRequest> BatchExporter<R> for Traced<R> {
    async fn export(
        &self,
        batch: &R,
    ) -> Result<Option<otlp_batch::PartialSuccess>, otlp_batch::ExportFailure> {
        let mut span = self.span(batch);
        let result = self.inner.export(batch).await;
        if let Err(failure) = &result {
            span.set_error(failure);
        }
        result
    }

    async fn export_owned(
        &self,
        batch: R,
    ) -> Result<Option<otlp_batch::PartialSuccess>, otlp_batch::NotExported<R>> {
        let mut span = self.span(&batch);
        let result = self.inner.export_owned(batch).await;
        if let Err(not) = &result {
            span.set_error(&not.failure);
        }
        result
    }
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
            Signal::Traces => AnyQueue::Traces(BatchQueue::spawn(
                config,
                Traced::wrap(exporters.traces(), signal),
            )?),
            Signal::Metrics => AnyQueue::Metrics(BatchQueue::spawn(
                config,
                Traced::wrap(exporters.metrics(), signal),
            )?),
            Signal::Logs => AnyQueue::Logs(BatchQueue::spawn(
                config,
                Traced::wrap(exporters.logs(), signal),
            )?),
            Signal::Profiles => AnyQueue::Profiles(BatchQueue::spawn(
                config,
                Traced::wrap(exporters.profiles(), signal),
            )?),
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

#[cfg(test)]
mod self_span_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use otlp_pipeline::telemetry::SampleSet;
    use otlp_pipeline::testing::{id, traces};

    /// Refuses every export for good.
    struct Refusing;

    #[otlp_batch::async_trait]
    impl<R: otlp_batch::ExportRequest> BatchExporter<R> for Refusing {
        async fn export(
            &self,
            _: &R,
        ) -> Result<Option<otlp_batch::PartialSuccess>, otlp_batch::ExportFailure> {
            Err(otlp_batch::ExportFailure::permanent("refused"))
        }
    }

    impl SignalExporters for Refusing {
        fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>> {
            Arc::new(Refusing)
        }
        fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>> {
            Arc::new(Refusing)
        }
        fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>> {
            Arc::new(Refusing)
        }
        fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>> {
            Arc::new(Refusing)
        }
    }

    #[tokio::test]
    async fn sends_are_exporter_spans_when_started_in_scope() {
        let spans = SelfSpans::new();
        let _reader = spans.subscribe();
        let retry = RetryOnFailureConfig {
            enabled: false,
            ..RetryOnFailureConfig::default()
        };
        let (config, how) = batch_queue_config(
            &SendingQueueConfig::default(),
            &retry,
            Duration::from_secs(1),
        )
        .unwrap()
        .unwrap();
        let queue = spans
            .scope(&id("otlp/backend"), async {
                AnyQueue::spawn(Signal::Traces, config.clone(), &Refusing).unwrap()
            })
            .await;
        let data = Telemetry::new(otlp_pipeline::Payload::Traces(traces(3)));
        queue.put(&data, how).await.map_err(|e| e.message).unwrap();
        queue
            .shutdown(std::time::Instant::now() + Duration::from_secs(2))
            .await
            .ok();
        let failed = spans.samples("exporter/otlp/backend/traces", SampleSet::Errors);
        assert_eq!(failed.len(), 1, "{:?}", spans.summaries());
        assert!(
            failed[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("refused"))
        );
        assert!(
            failed[0]
                .attributes
                .iter()
                .any(|(k, v)| k == "spans" && v == "3")
        );

        // Started outside a scope (no graph): no span.
        let outside = AnyQueue::spawn(Signal::Traces, config, &Refusing).unwrap();
        outside
            .put(&data, how)
            .await
            .map_err(|e| e.message)
            .unwrap();
        outside
            .shutdown(std::time::Instant::now() + Duration::from_secs(2))
            .await
            .ok();
        assert_eq!(spans.summaries()[0].latency.iter().sum::<u64>(), 1);
    }
}
