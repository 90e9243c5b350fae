//! The `batch` processor, on `otlp-batch`'s in-memory [`BatchQueue`] of encoded requests
//! ([`Encoded`]): requests are appended into batches of `send_batch_size` items, sent after
//! `timeout` at the latest, and split at `send_batch_max_size`.
//!
//! # Batching at the byte level
//!
//! A request enters the queue as the protobuf bytes it was received as (when nothing changed
//! it) or encoded once; a batch is the concatenation of its requests' bytes (an Export
//! request is one repeated field, so that is the encoding of their union — the resource
//! groups are appended, as otelcol's batch processor appends them, not combined), and it goes
//! on as a [`Telemetry`] carrying those bytes, decoded only if a later stage reads it. An
//! exporter behind it queues and sends the bytes as they are. Only a request over
//! `send_batch_max_size` is decoded, split and encoded again.
//!
//! # Acknowledgement
//!
//! As in otelcol, `consume` acknowledges once the request is **enqueued**: the queue is
//! bounded (items, and [`QUEUE_BYTES`] of encoded data) and backpressured: a full queue holds
//! the sender's request for up to [`ENQUEUE_WAIT`] and then refuses it with a retryable error
//! (the sender retries) rather than dropping it. What happens after:
//!
//! - the next stage accepts the batch: done (with a `sending_queue` downstream, that stage
//!   now owns the delivery);
//! - the next stage refuses **retryably** (a full exporter queue, a memory limiter): the batch
//!   stays here and is retried with backoff (200 ms, growing to 5 s, until shutdown), holding
//!   its room in the queue — so a stalled destination turns into backpressure at the
//!   receivers instead of loss. (otelcol drops it; this is the one deliberate difference.)
//!   The batch is handed on by value and comes back with the refusal
//!   ([`Consumer::consume_or_return`]), so keeping it for the retry costs no copy; a stage
//!   that refuses retryably without handing it back (an exporter with `wait_for_result` whose
//!   own retries gave up) has counted it already, and it is settled here as failed.
//! - the next stage refuses **permanently**: the batch is dropped, logged and counted in
//!   `otelcol_processor_batch_failed_items_total`;
//! - shutdown: what is queued is flushed to the next stage; what is still refused at the
//!   deadline is counted as failed.
//!
//! Batches lose the per-request [`Context`](otlp_pipeline::Context) (client address, metadata), as
//! otelcol's batch processor does without `metadata_keys`. Keys: `send_batch_size` (8192; 0:
//! only the timeout sends), `send_batch_max_size` (0: no cap; must be ≥ `send_batch_size`),
//! `timeout` (200 ms), `metadata_keys` (not supported: an error when set),
//! `metadata_cardinality_limit` (accepted, ignored).

#[cfg(test)]
mod tests;

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_batch::ExportRequest as _;
use otlp_batch::{
    BATCH_SIZE_BOUNDS, BatchExporter, BatchQueue, BatchQueueConfig, Batchable, Encoded,
    EnqueueError, ExportFailure, NotExported, OverflowPolicy, PartialSuccess, QueueConfig,
    RetryConfig, StorageConfig,
};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Host, Processor, ProcessorContext, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use otlp_pipeline::data::{SignalRequest, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{HistogramValue, Kind, Metrics, Registration};

/// Concurrent deliveries to the next stage (batches may reach it out of order).
pub const CONSUMERS: usize = 2;

/// The queue's bound in encoded bytes. The queue holds the batches being formed and those on
/// their way to the next stage, not a backlog (the exporter's sending queue is the backlog),
/// so it is kept well under the sending queue's 256 MiB; it is above the receivers' largest
/// default request (20 MiB over HTTP), so no default-sized request is too large for it.
pub const QUEUE_BYTES: usize = 64 << 20;

/// How long `consume` waits for room in a full queue before refusing retryably: the sender's
/// request is held (backpressure, as otelcol's batch processor blocks its receivers) rather
/// than answered UNAVAILABLE at once.
pub const ENQUEUE_WAIT: Duration = Duration::from_secs(1);

/// `processors: batch:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchProcessorConfig {
    /// Send as soon as this many items wait (0: only on `timeout`).
    pub send_batch_size: u32,
    /// Never send more items at once (0: no cap).
    pub send_batch_max_size: u32,
    /// Send after this long at the latest.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Not supported: batching per client metadata.
    pub metadata_keys: Vec<String>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_cardinality_limit: Option<u32>,
}

impl Default for BatchProcessorConfig {
    fn default() -> Self {
        BatchProcessorConfig {
            send_batch_size: 8192,
            send_batch_max_size: 0,
            timeout: Duration::from_millis(200),
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: None,
        }
    }
}

impl ComponentConfig for BatchProcessorConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.send_batch_max_size > 0 && self.send_batch_max_size < self.send_batch_size {
            return Err(ConfigError::bad_value(
                "send_batch_max_size",
                "send_batch_max_size must be greater or equal to send_batch_size",
            ));
        }
        if !self.metadata_keys.is_empty() {
            return Err(ConfigError::bad_value(
                "metadata_keys",
                "batching by client metadata is not supported (remove metadata_keys)",
            ));
        }
        Ok(())
    }
}

impl BatchProcessorConfig {
    /// The queue configuration this batch processor runs with.
    pub fn queue_config(&self) -> BatchQueueConfig {
        let size = if self.send_batch_size == 0 {
            usize::MAX / 4
        } else {
            self.send_batch_size as usize
        };
        let default = QueueConfig::default();
        BatchQueueConfig {
            batch: otlp_batch::BatchConfig {
                send_batch_size: size,
                send_batch_max_size: self.send_batch_max_size as usize,
                send_batch_max_bytes: 0,
                timeout: self.timeout,
            },
            queue: QueueConfig {
                capacity_items: default
                    .capacity_items
                    .max((self.send_batch_size as usize).saturating_mul(4)),
                capacity_bytes: QUEUE_BYTES,
                num_consumers: CONSUMERS,
                overflow: OverflowPolicy::Backpressure,
                // The next stage bounds its own work; abandoning a call would duplicate data.
                export_timeout: Duration::ZERO,
            },
            retry: RetryConfig {
                enabled: true,
                initial_interval: Duration::from_millis(200),
                max_interval: Duration::from_secs(5),
                multiplier: 1.5,
                randomization_factor: 0.5,
                max_elapsed_time: Duration::ZERO,
            },
            storage: StorageConfig::Memory,
        }
    }
}

/// Hands batches to the next consumer of the pipeline.
struct NextStage<R> {
    id: ComponentId,
    next: Arc<dyn Consumer>,
    request: PhantomData<fn() -> R>,
}

impl<R: Batchable> NextStage<R> {
    /// The queue's view of the next stage's refusal.
    fn failure(&self, error: &ConsumeError, items: usize) -> ExportFailure {
        if error.is_retryable() {
            let failure = ExportFailure::retryable(error);
            return match error.retry_after() {
                Some(delay) => failure.with_retry_after(delay),
                None => failure,
            };
        }
        tracing::warn!(processor = %self.id, items, %error, "the next stage rejected a batch; dropped");
        ExportFailure::permanent(error)
    }
}

#[async_trait]
impl<R: SignalRequest> BatchExporter<Encoded<R>> for NextStage<R> {
    async fn export(&self, batch: &Encoded<R>) -> Result<Option<PartialSuccess>, ExportFailure> {
        let items = batch.item_count();
        let data = Telemetry::from_protobuf(R::SIGNAL, batch.clone().into_protobuf(), Some(items));
        match self.next.consume(data).await {
            Ok(()) => Ok(None),
            Err(error) => Err(self.failure(&error, items)),
        }
    }

    /// The queue's path (its `export_timeout` is zero): the batch's bytes move on, and come
    /// back with a refusal, so no copy is kept for the retry.
    async fn export_owned(
        &self,
        batch: Encoded<R>,
    ) -> Result<Option<PartialSuccess>, NotExported<Encoded<R>>> {
        let items = batch.item_count();
        let data = Telemetry::from_protobuf(R::SIGNAL, batch.into_protobuf(), Some(items));
        match self.next.consume_or_return(data).await {
            Ok(()) => Ok(None),
            Err(Refused { error, data }) => Err(NotExported {
                failure: self.failure(&error, items),
                batch: data.and_then(|data| data.into_encoded().ok()),
            }),
        }
    }
}

/// One queue per signal, of encoded requests: batching concatenates them.
enum AnyQueue {
    Traces(BatchQueue<Encoded<ExportTraceServiceRequest>>),
    Metrics(BatchQueue<Encoded<ExportMetricsServiceRequest>>),
    Logs(BatchQueue<Encoded<ExportLogsServiceRequest>>),
    Profiles(BatchQueue<Encoded<ExportProfilesServiceRequest>>),
}

/// Enqueues `data` (as its carried bytes, or encoded now) into `queue`, waiting until `until`
/// for room.
async fn enqueue<R: SignalRequest>(
    queue: &BatchQueue<Encoded<R>>,
    data: &Telemetry,
    until: std::time::Instant,
) -> Result<(), ConsumeError> {
    let Some(request) = data.to_encoded::<R>() else {
        return Err(ConsumeError::permanent(format!(
            "batch processor of a {} pipeline got {}",
            R::SIGNAL,
            data.signal()
        )));
    };
    queue.enqueue(request, until).await.map_err(refusal)
}

fn refusal<R>(error: EnqueueError<R>) -> ConsumeError {
    match error {
        EnqueueError::TooLarge { .. } => ConsumeError::permanent(format!("batch: {error}")),
        other => ConsumeError::retryable(format!("batch: {other}"))
            .with_retry_after(Duration::from_secs(1)),
    }
}

/// The `batch` processor (one instance per pipeline).
pub struct BatchProcessor {
    id: ComponentId,
    signal: Signal,
    config: BatchQueueConfig,
    /// How long `consume` waits for room ([`ENQUEUE_WAIT`]).
    enqueue_wait: Duration,
    next: Arc<dyn Consumer>,
    metrics: Arc<Metrics>,
    queue: OnceLock<AnyQueue>,
    registrations: Mutex<Vec<Registration>>,
}

impl BatchProcessor {
    /// A batch processor for the pipeline of `ctx` (its queue starts at start).
    pub fn new(
        ctx: ProcessorContext,
        config: &BatchProcessorConfig,
    ) -> Result<BatchProcessor, ConfigError> {
        let queue_config = config.queue_config();
        queue_config
            .validate()
            .map_err(|e| ConfigError::bad_value("", e))?;
        let metrics = Metrics::from_resources(&ctx.resources);
        Ok(BatchProcessor {
            signal: ctx.signal(),
            id: ctx.id,
            config: queue_config,
            enqueue_wait: ENQUEUE_WAIT,
            next: ctx.next,
            metrics,
            queue: OnceLock::new(),
            registrations: Mutex::new(Vec::new()),
        })
    }

    fn spawn<R: SignalRequest>(&self) -> Result<BatchQueue<Encoded<R>>, otlp_batch::BuildError> {
        let next: Arc<dyn BatchExporter<Encoded<R>>> = Arc::new(NextStage::<R> {
            id: self.id.clone(),
            next: Arc::clone(&self.next),
            request: PhantomData,
        });
        BatchQueue::spawn(self.config.clone(), next)
    }

    fn register(
        &self,
        batcher: Arc<otlp_batch::BatcherMetrics>,
        queue: Arc<otlp_batch::QueueMetrics>,
    ) {
        let labels = [("processor", self.id.as_str())];
        let mut registrations = self
            .registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let b = Arc::clone(&batcher);
        registrations.push(self.metrics.register_histogram(
            "otelcol_processor_batch_batch_send_size",
            "Number of units in the batch [alpha]",
            &labels,
            move || {
                let snapshot = b.snapshot();
                let mut cumulative = 0u64;
                let buckets = BATCH_SIZE_BOUNDS
                    .iter()
                    .zip(&snapshot.size_buckets)
                    .map(|(bound, count)| {
                        cumulative += count;
                        (*bound as f64, cumulative)
                    })
                    .collect();
                HistogramValue {
                    buckets,
                    count: snapshot.batches,
                    sum: snapshot.batch_items_sum as f64,
                }
            },
        ));
        let b = Arc::clone(&batcher);
        registrations.push(self.metrics.register_fn(
            Kind::Counter,
            "otelcol_processor_batch_batch_size_trigger_send_total",
            "Number of times the batch was sent due to a size trigger [alpha]",
            &labels,
            move || b.snapshot().size_triggered as f64,
        ));
        let b = batcher;
        registrations.push(self.metrics.register_fn(
            Kind::Counter,
            "otelcol_processor_batch_timeout_trigger_send_total",
            "Number of times the batch was sent due to a timeout trigger [alpha]",
            &labels,
            move || b.snapshot().timeout_triggered as f64,
        ));
        registrations.push(self.metrics.register_fn(
            Kind::Counter,
            "otelcol_processor_batch_failed_items_total",
            "Number of items accepted by the batch processor that the next stage rejected for good or that were still refused at shutdown. [otlp-rs]",
            &labels,
            move || queue.snapshot().failed_items as f64,
        ));
    }
}

#[async_trait]
impl Consumer for BatchProcessor {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let Some(queue) = self.queue.get() else {
            return Err(ConsumeError::retryable(
                "the batch processor is not started",
            ));
        };
        let until = std::time::Instant::now() + self.enqueue_wait;
        match queue {
            AnyQueue::Traces(q) => enqueue(q, &data, until).await,
            AnyQueue::Metrics(q) => enqueue(q, &data, until).await,
            AnyQueue::Logs(q) => enqueue(q, &data, until).await,
            AnyQueue::Profiles(q) => enqueue(q, &data, until).await,
        }
    }

    fn mutates_data(&self) -> bool {
        // Batches are new requests: the data is encoded (or its received bytes copied) into
        // the queue, so a shared payload is never written to.
        false
    }
}

#[async_trait]
impl Processor for BatchProcessor {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let queue = match self.signal {
            Signal::Traces => AnyQueue::Traces(self.spawn()?),
            Signal::Metrics => AnyQueue::Metrics(self.spawn()?),
            Signal::Logs => AnyQueue::Logs(self.spawn()?),
            Signal::Profiles => AnyQueue::Profiles(self.spawn()?),
        };
        let (batcher, queue_metrics) = match &queue {
            AnyQueue::Traces(q) => (q.batcher_metrics(), q.queue_metrics()),
            AnyQueue::Metrics(q) => (q.batcher_metrics(), q.queue_metrics()),
            AnyQueue::Logs(q) => (q.batcher_metrics(), q.queue_metrics()),
            AnyQueue::Profiles(q) => (q.batcher_metrics(), q.queue_metrics()),
        };
        self.register(batcher, queue_metrics);
        self.queue
            .set(queue)
            .map_err(|_| "the batch processor was already started")?;
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        let Some(queue) = self.queue.get() else {
            return Ok(());
        };
        let deadline = deadline.into_std();
        let result = match queue {
            AnyQueue::Traces(q) => q.shutdown(deadline).await,
            AnyQueue::Metrics(q) => q.shutdown(deadline).await,
            AnyQueue::Logs(q) => q.shutdown(deadline).await,
            AnyQueue::Profiles(q) => q.shutdown(deadline).await,
        };
        match result {
            Ok(_) | Err(otlp_batch::DrainError::Closed) => Ok(()),
            Err(otlp_batch::DrainError::Failed(report)) => {
                tracing::warn!(processor = %self.id, %report, "some batches were rejected by the next stage");
                Ok(())
            }
            Err(error) => Err(format!("batch processor: {error}").into()),
        }
    }
}

impl std::fmt::Debug for BatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("id", &self.id)
            .field("signal", &self.signal)
            .finish_non_exhaustive()
    }
}

/// The `batch` factory.
pub fn factory() -> impl otlp_pipeline::ProcessorFactory {
    FnFactory::processor(
        "batch",
        SignalSet::ALL,
        |ctx, config: BatchProcessorConfig| Ok(Box::new(BatchProcessor::new(ctx, &config)?)),
    )
}
