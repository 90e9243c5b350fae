//! The `kafka` receiver: OTLP data from Kafka topics into the pipelines, as a member of a
//! consumer group, compatible with otelcol-contrib's kafka exporter and receiver; on
//! librdkafka (see `otlp_transport::kafka` for why).
//!
//! # Keys and defaults (otelcol's)
//!
//! `brokers` (`[localhost:9092]`), `client_id` and `group_id` (`otel-collector`),
//! `group_instance_id`, `initial_offset` (`latest` | `earliest`), `autocommit` (`enable` true,
//! `interval` 1 s), `session_timeout` (10 s), `heartbeat_interval` (3 s),
//! `group_rebalance_strategy` / `group_rebalance_strategies` (`cooperative-sticky`, otelcol's
//! default; `range`, `roundrobin`), `min_fetch_size` (1), `default_fetch_size`,
//! `max_fetch_size`, `max_partition_fetch_size` (1 MiB), `max_fetch_wait` (250 ms);
//! `traces` / `metrics` / `logs` / `profiles`: `topics` (`otlp_spans`, `otlp_metrics`,
//! `otlp_logs`, `otlp_profiles`; `^…` is a regular expression; the deprecated `topic`) and
//! `encoding` (`otlp_proto`; `otlp_json`; `raw` and `text` for logs); the deprecated top-level
//! `topic` and `encoding`; `header_extraction` (`extract_headers`, `headers`: each header
//! becomes the resource attribute `kafka.header.<name>`), `message_marking`,
//! `error_backoff`; `auth`, `tls`, `metadata` and the other client keys as the exporter's.
//! Only the signals a pipeline takes from the receiver are subscribed. Every message's
//! headers, `kafka.topic`, `kafka.partition` and `kafka.offset` travel as request metadata.
//!
//! # Delivery: at least once
//!
//! A message's offset is stored — and committed by the next autocommit (or at once with
//! `autocommit::enable: false`, or when the partition is revoked) — **only after the pipeline
//! accepted it**. So a crash (kill -9 included) loses nothing: what was not committed is
//! consumed again, by this collector after a restart or by another member of the group after
//! the rebalance; the price is that some messages may be delivered twice. otelcol's default
//! (`message_marking::after: false`) marks a message *before* the pipeline runs; this
//! receiver never does (`after` is accepted and has no effect).
//!
//! - **Refused retryably** (a full queue downstream, memory pressure): the message is retried
//!   with exponential backoff (`error_backoff` when enabled, else 100 ms doubling to 5 s,
//!   honouring the refusal's retry delay) and its partition waits: it is paused, nothing after
//!   the message is processed, no hot loop; other partitions go on. `message_marking::on_error:
//!   true` skips such a message instead (counted as refused).
//! - **Refused permanently**: counted (`otelcol_receiver_refused_*`), logged, skipped (its
//!   offset stored) — retrying cannot help, and stopping the partition would stop everything
//!   behind it.
//! - **Cannot be decoded**: counted (`otelcol_kafka_receiver_unmarshal_failed_*`), logged,
//!   skipped; the partition goes on.
//!
//! One worker per assigned partition processes its messages in offset order; partitions run in
//! parallel. A rebalance stops the workers of revoked partitions (nothing more is stored for
//! them) and starts workers for new ones on their first message.
//!
//! # Counting
//!
//! `otelcol_receiver_accepted_*` / `_refused_*` (transport `kafka`; a refused attempt counts
//! each time), `otelcol_kafka_receiver_records_total`, `_unmarshal_failed_{spans,metric_points,
//! log_records,profiles}_total`, `_current_offset`, `_partition_start_total`,
//! `_partition_close_total` (otelcol's names) and `otelcol_kafka_receiver_retries_total`.

mod config;
mod decode;
mod dispatch;
mod group;
#[cfg(test)]
mod tests;
mod worker;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_transport::kafka::rdkafka::consumer::{CommitMode, Consumer as _};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{
    AutoCommitConfig, ErrorBackoff, HeaderExtraction, KafkaReceiverConfig, MessageMarking,
    TopicEncodingConfig,
};

use otlp_pipeline::ServiceStatus;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::{Metrics, item_unit, item_words};

use dispatch::Dispatcher;
use group::{GroupConsumer, GroupContext};
use worker::{Backoff, Route, Shared};

/// The running consumer.
struct Running {
    stop: watch::Sender<bool>,
    dispatcher: JoinHandle<Vec<JoinHandle<()>>>,
    consumer: Arc<GroupConsumer>,
}

/// The `kafka` receiver.
pub struct KafkaReceiver {
    id: ComponentId,
    config: KafkaReceiverConfig,
    rdkafka: otlp_transport::kafka::rdkafka::ClientConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for KafkaReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaReceiver")
            .field("id", &self.id)
            .field("brokers", &self.config.brokers)
            .field("group_id", &self.config.group_id)
            .finish_non_exhaustive()
    }
}

impl KafkaReceiver {
    /// Builds the receiver; nothing connects until [`Receiver::start`].
    pub fn new(ctx: ReceiverContext, config: KafkaReceiverConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let rdkafka = config.rdkafka()?;
        rdkafka
            .create_native_config()
            .map_err(|e| ConfigError::bad_value("", format!("Kafka client settings: {e}")))?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(KafkaReceiver {
            id: ctx.id,
            config,
            rdkafka,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            running: Mutex::new(None),
        })
    }

    fn routes(&self) -> Result<Vec<Route>, BoxError> {
        let labels = [("receiver", self.id.as_str()), ("transport", "kafka")];
        let mut routes = Vec::new();
        for signal in otlp_pipeline::Signal::ALL {
            let Some(next) = self.next.get(signal) else {
                continue;
            };
            let topics = self.config.signal_topics(signal)?;
            let counter = |verb: &str, help: &str| {
                self.metrics.counter(
                    &format!("otelcol_receiver_{verb}_{}_total", item_unit(signal)),
                    &format!("Number of {} {help}", item_words(signal)),
                    &labels,
                )
            };
            routes.push(Route {
                topics,
                next: Arc::clone(next),
                accepted: counter("accepted", "successfully pushed into the pipeline. [alpha]"),
                refused: counter(
                    "refused",
                    "that could not be pushed into the pipeline. [alpha]",
                ),
            });
        }
        Ok(routes)
    }

    fn backoff(&self) -> Backoff {
        let b = &self.config.error_backoff;
        if b.enabled {
            Backoff {
                initial: b.initial_interval,
                max: b.max_interval,
                multiplier: b.multiplier,
                jitter: b.randomization_factor,
            }
        } else {
            Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(5),
                multiplier: 2.0,
                jitter: 0.2,
            }
        }
    }
}

#[async_trait]
impl Receiver for KafkaReceiver {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let routes = self.routes()?;
        if routes.is_empty() {
            self.status.receiver_started(&self.id);
            return Ok(());
        }
        let labels = [("receiver", self.id.as_str())];
        let wake = Arc::new(Notify::new());
        let context = GroupContext::new(
            self.id.as_str(),
            Arc::clone(&wake),
            self.metrics.counter(
                "otelcol_kafka_receiver_partition_start_total",
                "Number of started partitions",
                &labels,
            ),
            self.metrics.counter(
                "otelcol_kafka_receiver_partition_close_total",
                "Number of finished partitions",
                &labels,
            ),
        );
        let consumer: GroupConsumer = self
            .rdkafka
            .create_with_context(context)
            .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
        let topics: Vec<&str> = routes
            .iter()
            .flat_map(|r| r.topics.topics.iter().map(String::as_str))
            .collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| format!("cannot subscribe to {topics:?}: {e}"))?;
        tracing::info!(receiver = %self.id, ?topics, group = %self.config.group_id, "consuming from Kafka");
        let consumer = Arc::new(consumer);
        let shared = Arc::new(Shared {
            id: self.id.to_string(),
            consumer: Arc::clone(&consumer),
            routes,
            extract_headers: if self.config.header_extraction.extract_headers {
                self.config.header_extraction.headers.clone()
            } else {
                Vec::new()
            },
            backoff: self.backoff(),
            skip_on_error: self.config.message_marking.on_error,
            commit_each: !self.config.autocommit.enable,
            metrics: Arc::clone(&self.metrics),
            wake,
        });
        let (stop, stopped) = watch::channel(false);
        let dispatcher = tokio::spawn(Dispatcher::new(shared).run(stopped));
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running {
            stop,
            dispatcher,
            consumer,
        });
        self.status.receiver_started(&self.id);
        Ok(())
    }

    /// Stops polling, lets each worker finish the message in hand (by `deadline`), commits
    /// the offsets stored, and leaves the group (its partitions go to the other members).
    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let _ = running.stop.send(true);
        let mut late = false;
        let tasks = match tokio::time::timeout_at(deadline, running.dispatcher).await {
            Ok(Ok(tasks)) => tasks,
            Ok(Err(error)) => {
                tracing::warn!(receiver = %self.id, %error, "the Kafka consumer loop failed");
                Vec::new()
            }
            Err(_) => {
                late = true;
                Vec::new()
            }
        };
        for task in tasks {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                late = true;
            }
        }
        let consumer = running.consumer;
        let left = deadline.saturating_duration_since(Instant::now());
        // Committing and closing block while librdkafka talks to the group coordinator.
        let closed = tokio::task::spawn_blocking(move || {
            if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
                tracing::debug!(%error, "committing the last Kafka offsets");
            }
            consumer.unsubscribe();
            drop(consumer);
        });
        if tokio::time::timeout(left, closed).await.is_err() {
            late = true;
        }
        if late {
            return Err("the Kafka receiver did not stop by the shutdown deadline".into());
        }
        Ok(())
    }
}

/// The `kafka` receiver factory.
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "kafka",
        SignalSet::ALL,
        |ctx, config: KafkaReceiverConfig| Ok(Box::new(KafkaReceiver::new(ctx, config)?)),
    )
}
