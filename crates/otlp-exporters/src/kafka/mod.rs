//! The `kafka` exporter: OTLP data as Kafka messages, compatible with otelcol-contrib's kafka
//! exporter and receiver, on librdkafka (see `otlp_transport::kafka` for why).
//!
//! # Keys and defaults (otelcol's)
//!
//! `brokers` (`[localhost:9092]`), `client_id` (`otel-collector`), `protocol_version`,
//! `resolve_canonical_bootstrap_servers_only`, `conn_idle_timeout`, `rack_id`, `auth`
//! (`sasl`: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; the deprecated `plain_text` and `tls`), `tls`,
//! `metadata`; `traces` / `metrics` / `logs` / `profiles`: `topic` (`otlp_spans`,
//! `otlp_metrics`, `otlp_logs`, `otlp_profiles`), `encoding` (`otlp_proto`; `otlp_json`; `raw`
//! for logs), `topic_from_metadata_key`, `message_key_from_metadata_key`; the deprecated
//! top-level `topic` and `encoding`; `topic_from_attribute`, `include_metadata_keys`,
//! `record_headers`, `partition_traces_by_id`, `partition_metrics_by_resource_attributes`,
//! `partition_logs_by_resource_attributes`, `partition_logs_by_trace_id`,
//! `record_partitioner::sticky_key::hasher` (`sarama_compat` → librdkafka's FNV-1a
//! partitioner, `murmur2` → the Java client's); `timeout` (5 s), `producer`
//! (`max_message_bytes` 1 000 000, `required_acks` 1 / 0 / -1 or `all`, `compression`
//! none|gzip|snappy|lz4|zstd with `compression_params::level`, `flush_max_messages`,
//! `allow_auto_topic_creation` true, `linger` 10 ms), `retry_on_failure`, `sending_queue` (the otlp
//! exporter's keys, shared in `crate::queue`: `batch` merges queued requests before they are
//! planned into messages; in memory only).
//! What librdkafka cannot do is refused with an error naming the key (Kerberos, OAUTHBEARER,
//! `record_partitioner::round_robin`, Jaeger/Zipkin encodings, a persistent queue).
//!
//! # Messages
//!
//! The value is the request in the signal's encoding: with `otlp_proto` the Export request's
//! protobuf bytes, which are the bytes of otelcol's `TracesData` (and siblings), so otelcol's
//! receiver reads them; bytes received unchanged are produced as they arrived. With
//! `partition_traces_by_id` a request becomes one message per trace id, keyed by the id in
//! lower-case hex (as otelcol does); `partition_*_by_resource_attributes` makes one message per
//! resource keyed by a hash of its attributes. Headers: `record_headers`, then each value of the
//! `include_metadata_keys` in the request's metadata.
//!
//! **Nothing is dropped to fit `producer::max_message_bytes`**: a larger request is split by
//! resource, scope and item into as many messages as it takes, and librdkafka's batches are
//! kept under it too (`batch.size`). **Nor to fit a smaller topic limit**: when Kafka refuses
//! messages as too large (MESSAGE_TOO_LARGE: the topic's `max.message.bytes` is smaller), the
//! refused ones are sent again one per batch, and one refused alone is split into halves,
//! round after round; the topic's later messages are sent one per batch and planned at the
//! learned size, and a warning (once per topic) says to set `max_message_bytes` to the topic's
//! limit. An item that alone encodes larger than `max_message_bytes`, or that Kafka refuses
//! alone, is a permanent failure of that item only: counted in
//! `otelcol_exporter_send_failed_*` and logged; the rest of the request is sent.
//!
//! # Acknowledgement
//!
//! A request is acknowledged to the pipeline only once Kafka acknowledged every one of its
//! messages as `required_acks` asks (`-1`/`all`: every in-sync replica, with idempotent produce
//! so the client's own retries neither duplicate nor reorder; `0`: as soon as it is written to
//! the socket — Kafka says nothing more). With `sending_queue` (the default) the request waits
//! in an in-memory [`BatchQueue`] that holds it until Kafka acknowledged it and retries with
//! `retry_on_failure`'s backoff; `consume` returns once the queue took it (a full queue is a
//! retryable refusal). Without the queue `consume` returns only after Kafka acknowledged. A
//! failed message fails its whole request, so a retry may duplicate the messages that had
//! landed (at-least-once). Request metadata does not cross the queue, so the keys that read it
//! (`include_metadata_keys`, `*::topic_from_metadata_key`, `*::message_key_from_metadata_key`)
//! need `sending_queue::enabled: false`.
//!
//! # Counting
//!
//! As the otlp exporter: `otelcol_exporter_sent_*` (acknowledged by Kafka), `_send_failed_*`
//! (failed for good, items too large included), `_enqueue_failed_*`, `otelcol_exporter_queue_size`
//! / `_capacity`.

mod config;
mod messages;
mod producer;
#[cfg(test)]
mod tests;
mod topic_limits;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_trait::async_trait;
use otlp_batch::{BatchExporter, BatchQueueConfig, DrainError, Encoded};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::kafka::rdkafka::producer::Producer as _;
use tokio::time::Instant;

pub use config::{
    CompressionParams, KafkaExporterConfig, ProducerConfig, RecordPartitionerConfig,
    RetryOnFailureConfig, SendingQueueConfig, SignalConfig, StickyKeyConfig,
};
use messages::{PlanError, Planner};
use producer::{Producer, QueueExporter, SendError};

use crate::queue::{AnyQueue, Enqueue, SignalCounters, SignalExporters};
pub use crate::queue::{ITEMS_PER_REQUEST, QueueBatchConfig};

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::{Metrics, Registration};

/// How the queue is filled.
struct QueueSettings {
    config: BatchQueueConfig,
    enqueue: Enqueue,
}

impl SignalExporters for Arc<QueueExporter> {
    fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>> {
        Arc::clone(self) as _
    }
    fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>> {
        Arc::clone(self) as _
    }
    fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>> {
        Arc::clone(self) as _
    }
    fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>> {
        Arc::clone(self) as _
    }
}

/// What `start` builds.
struct Running {
    producer: Arc<Producer>,
    queues: [Option<AnyQueue>; 4],
}

/// The `kafka` exporter.
pub struct KafkaExporter {
    id: ComponentId,
    config: KafkaExporterConfig,
    rdkafka: otlp_transport::kafka::rdkafka::ClientConfig,
    planner: Planner,
    queue: Option<QueueSettings>,
    signals: SignalSet,
    counters: [SignalCounters; 4],
    metrics: Arc<Metrics>,
    running: OnceLock<Running>,
    registrations: Mutex<Vec<Registration>>,
}

impl std::fmt::Debug for KafkaExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaExporter")
            .field("id", &self.id)
            .field("brokers", &self.config.brokers)
            .finish_non_exhaustive()
    }
}

fn queue_settings(config: &KafkaExporterConfig) -> Result<Option<QueueSettings>, ConfigError> {
    Ok(crate::queue::batch_queue_config(
        &config.sending_queue,
        &config.retry_on_failure,
        config.timeout,
    )?
    .map(|(config, enqueue)| QueueSettings { config, enqueue }))
}

impl KafkaExporter {
    /// Builds the exporter; nothing connects until [`Exporter::start`].
    pub fn new(ctx: ExporterContext, config: KafkaExporterConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let rdkafka = config.rdkafka()?;
        // librdkafka checks every property's value (no client is created).
        rdkafka
            .create_native_config()
            .map_err(|e| ConfigError::bad_value("", format!("Kafka client settings: {e}")))?;
        let planner = Planner::new(&config)?;
        let queue = queue_settings(&config)?;
        let metrics = Metrics::from_resources(&ctx.resources);
        let counters = SignalCounters::per_signal(&metrics, ctx.id.as_str());
        Ok(KafkaExporter {
            id: ctx.id,
            config,
            rdkafka,
            planner,
            queue,
            signals: ctx.signals,
            counters,
            metrics,
            running: OnceLock::new(),
            registrations: Mutex::new(Vec::new()),
        })
    }

    /// Produces `data` now and waits for Kafka (the path without a sending queue).
    async fn produce_now(&self, running: &Running, data: Telemetry) -> Result<(), ConsumeError> {
        let signal = data.signal();
        let items = data.item_count();
        let counters = &self.counters[signal.index()];
        let metadata = data.context().client().map(|c| c.metadata.clone());
        let protobuf = data.encoded().cloned();
        let producer = &running.producer;
        let result = match signal {
            Signal::Traces => {
                producer
                    .send(
                        protobuf,
                        items,
                        take::<ExportTraceServiceRequest>(data),
                        metadata.as_ref(),
                    )
                    .await
            }
            Signal::Metrics => {
                producer
                    .send(
                        protobuf,
                        items,
                        take::<ExportMetricsServiceRequest>(data),
                        metadata.as_ref(),
                    )
                    .await
            }
            Signal::Logs => {
                producer
                    .send(
                        protobuf,
                        items,
                        take::<ExportLogsServiceRequest>(data),
                        metadata.as_ref(),
                    )
                    .await
            }
            Signal::Profiles => {
                producer
                    .send(
                        protobuf,
                        items,
                        take::<ExportProfilesServiceRequest>(data),
                        metadata.as_ref(),
                    )
                    .await
            }
        };
        match result {
            Ok(sent) => {
                counters.sent.add(sent.items as u64);
                if sent.too_large > 0 {
                    counters.send_failed.add(sent.too_large as u64);
                    tracing::warn!(exporter = %self.id, %signal, items = sent.too_large, largest = sent.largest, "items each larger than producer::max_message_bytes or than Kafka accepts; not sent");
                }
                Ok(())
            }
            Err(error) => {
                counters.send_failed.add(items as u64);
                match error {
                    SendError::Retryable(message) => {
                        tracing::debug!(exporter = %self.id, %signal, items, %message, "produce attempt failed");
                        Err(ConsumeError::retryable(message))
                    }
                    SendError::Permanent(message) => {
                        tracing::warn!(exporter = %self.id, %signal, items, %message, "produce failed permanently; the items are dropped");
                        Err(ConsumeError::permanent(message))
                    }
                }
            }
        }
    }

    async fn accept(&self, data: Telemetry) -> Result<(), Refused> {
        let signal = data.signal();
        let items = data.item_count() as u64;
        let Some(running) = self.running.get() else {
            self.counters[signal.index()].enqueue_failed.add(items);
            return Err(Refused {
                error: ConsumeError::retryable("the exporter is not started"),
                data: Some(data),
            });
        };
        let Some(settings) = &self.queue else {
            return self
                .produce_now(running, data)
                .await
                .map_err(|error| Refused { error, data: None });
        };
        let Some(queue) = running.queues[signal.index()].clone() else {
            self.counters[signal.index()].enqueue_failed.add(items);
            return Err(Refused {
                error: ConsumeError::permanent(format!(
                    "no pipeline of this exporter carries {signal}"
                )),
                data: Some(data),
            });
        };
        match queue.put(&data, settings.enqueue).await {
            Ok(()) => Ok(()),
            Err(not_queued) => {
                Err(not_queued.refused(data, &self.counters[signal.index()].enqueue_failed))
            }
        }
    }
}

/// Takes the decoded request out of `data` (decoding it if it is held as bytes).
fn take<R>(data: Telemetry) -> impl FnOnce() -> Result<R, PlanError>
where
    R: TryFrom<Payload>,
{
    move || {
        R::try_from(data.into_payload())
            .map_err(|_| PlanError::Decode("the data is of another signal".into()))
    }
}

#[async_trait]
impl Consumer for KafkaExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.accept(data).await.map_err(|refused| refused.error)
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.accept(data).await
    }
}

#[async_trait]
impl Exporter for KafkaExporter {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        if self
            .config
            .tls
            .as_ref()
            .is_some_and(|t| t.insecure_skip_verify)
        {
            tracing::warn!(exporter = %self.id, "tls::insecure_skip_verify is set: the broker certificates are not verified");
        }
        let producer = Producer::new(
            self.id.as_str(),
            &self.rdkafka,
            self.planner.clone(),
            &self.config,
        )
        .map_err(|e| format!("cannot create the Kafka producer: {e}"))?;
        let producer = Arc::new(producer);
        let mut queues: [Option<AnyQueue>; 4] = Default::default();
        let mut registrations = Vec::new();
        if let Some(settings) = &self.queue {
            let exporter = Arc::new(QueueExporter {
                producer: Arc::clone(&producer),
                id: self.id.to_string(),
            });
            for signal in self.signals.iter() {
                let queue = AnyQueue::spawn(signal, settings.config.clone(), &exporter)
                    .map_err(|e| format!("cannot start the {signal} sending queue: {e}"))?;
                registrations.extend(queue.register_metrics(
                    &self.metrics,
                    self.id.as_str(),
                    signal,
                ));
                queues[signal.index()] = Some(queue);
            }
        }
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(registrations);
        self.running
            .set(Running { producer, queues })
            .map_err(|_| "the exporter was already started")?;
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        let Some(running) = self.running.get() else {
            return Ok(());
        };
        let mut lost = 0u64;
        for queue in running.queues.iter().flatten() {
            match queue.shutdown(deadline.into_std()).await {
                Ok(_) | Err(DrainError::Closed) => {}
                Err(DrainError::Failed(report)) => {
                    tracing::warn!(exporter = %self.id, %report, "some items failed while draining the sending queue");
                }
                Err(DrainError::DeadlineExceeded(report)) => {
                    lost += report.failed_items;
                    tracing::error!(exporter = %self.id, %report, "the sending queue did not drain by the shutdown deadline");
                }
                Err(other) => {
                    tracing::warn!(exporter = %self.id, error = %other, "draining the sending queue");
                }
            }
        }
        let producers = running.producer.clients();
        // flush blocks its thread while librdkafka delivers what it holds.
        let flushed = tokio::task::spawn_blocking(move || {
            producers.iter().try_for_each(|producer| {
                producer.flush(deadline.saturating_duration_since(Instant::now()))
            })
        })
        .await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(exporter = %self.id, %error, "flushing the Kafka producer");
        }
        if lost > 0 {
            return Err(format!("{lost} items were not produced by the shutdown deadline").into());
        }
        Ok(())
    }
}

/// The `kafka` exporter factory.
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "kafka",
        SignalSet::ALL,
        |ctx, config: KafkaExporterConfig| Ok(Box::new(KafkaExporter::new(ctx, config)?)),
    )
}
