//! Producing planned messages with librdkafka and waiting for Kafka's acknowledgement of
//! every one of them; the [`BatchExporter`] the sending queue calls.
//!
//! # Messages the broker refuses as too large
//!
//! A topic's `max.message.bytes` may be smaller than `producer::max_message_bytes`: Kafka then
//! answers MESSAGE_TOO_LARGE for a record batch larger than it, and librdkafka fails every
//! message of that batch. As the broker checks the whole batch (librdkafka puts several
//! messages in one), a small message may be refused only for its neighbours. So the refused
//! messages are sent again through a second producer whose batches hold one message each
//! (`batch.num.messages: 1`, created on the first refusal); a message refused there alone is
//! really too large, and is decoded and split again into messages of at most half its size
//! ([`Planner::resplit`]), round after round. A single item still refused alone (or a `raw`
//! log record, which cannot be split) is counted as too large, as one larger than
//! `max_message_bytes` is; the rest of the request goes on. The topic keeps what it taught
//! ([`TopicLimits`](super::topic_limits::TopicLimits)): its later messages go one per batch
//! and are planned at the learned size, so they do not meet the refusal again.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use otlp_batch::{BatchExporter, Encoded, ExportFailure, PartialSuccess};
use otlp_transport::kafka::TracingContext;
use otlp_transport::kafka::rdkafka::ClientConfig;
use otlp_transport::kafka::rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use otlp_transport::kafka::rdkafka::message::{Header, OwnedHeaders};
use otlp_transport::kafka::rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use otlp_pipeline::data::Metadata;

use super::config::KafkaExporterConfig;
use super::messages::{KafkaRequest, PlanError, Planned, Planner, Record};

/// How long a full librdkafka queue is waited on between attempts to enqueue.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(5);

/// How many times refused messages are sent again (each round halves what is refused alone,
/// so 32 rounds reach single items from any size librdkafka accepts).
const MAX_ROUNDS: usize = 32;

/// The producers and what turns requests into their messages.
pub(crate) struct Producer {
    /// The producer of every message, batched as librdkafka does.
    producer: FutureProducer<TracingContext>,
    /// One message per batch: for messages a topic refused, and later all of that topic's.
    singles: Mutex<Option<FutureProducer<TracingContext>>>,
    /// The configuration `singles` is made from.
    rdkafka: ClientConfig,
    id: String,
    planner: Planner,
    record_headers: Vec<(String, String)>,
    include_metadata_keys: Vec<String>,
    timeout: Duration,
}

/// Why a request was not (wholly) acknowledged.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SendError {
    /// Worth another attempt: a broker down, a timeout, a full queue, a leader moving.
    #[error("{0}")]
    Retryable(String),
    /// Not worth it: the data cannot be written as it is.
    #[error("{0}")]
    Permanent(String),
}

/// What a produced request became once Kafka answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Items acknowledged.
    pub(crate) items: usize,
    /// Items not sent because each alone is larger than `max_message_bytes` or than Kafka
    /// accepts.
    pub(crate) too_large: usize,
    /// The largest of those, encoded.
    pub(crate) largest: usize,
}

impl Sent {
    fn too_large(&mut self, items: usize, size: usize) {
        self.too_large += items;
        self.largest = self.largest.max(size);
    }
}

/// Whether Kafka may take the message if it is sent again.
fn classify(error: &KafkaError) -> SendError {
    let code = error.rdkafka_error_code();
    let permanent = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::UnsupportedForMessageFormat
                | RDKafkaErrorCode::InvalidRequiredAcks
        )
    );
    if permanent {
        SendError::Permanent(format!("Kafka refused the message: {error}"))
    } else {
        SendError::Retryable(format!("producing to Kafka failed: {error}"))
    }
}

/// Whether `error` is Kafka (or librdkafka) refusing a message, or its batch, as too large.
fn too_large(error: &KafkaError) -> bool {
    error.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge)
}

/// Which producer a round uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The batching producer, except for topics that refused before.
    ByTopic,
    /// The one-message-per-batch producer.
    Singles,
}

/// A message refused as too large; `alone` when it was the only one of its batch.
struct Refused {
    record: Record,
    alone: bool,
}

impl Producer {
    /// The producers of the exporter `id`: the batching one now, its batches at most
    /// `max_message_bytes` as otelcol's are (librdkafka's `batch.size`; only the first
    /// message of a batch may be larger).
    pub(crate) fn new(
        id: &str,
        rdkafka: &ClientConfig,
        planner: Planner,
        config: &KafkaExporterConfig,
    ) -> KafkaResult<Producer> {
        let mut batched = rdkafka.clone();
        batched.set(
            "batch.size",
            config
                .producer
                .max_message_bytes
                .min(1_000_000_000)
                .to_string(),
        );
        let producer = batched.create_with_context(TracingContext::new(id))?;
        Ok(Producer {
            producer,
            singles: Mutex::new(None),
            rdkafka: batched,
            id: id.to_owned(),
            planner,
            record_headers: config
                .record_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            include_metadata_keys: config.include_metadata_keys.clone(),
            timeout: config.timeout,
        })
    }

    /// Every producer made so far (to flush at shutdown).
    pub(crate) fn clients(&self) -> Vec<FutureProducer<TracingContext>> {
        let singles = self
            .singles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        std::iter::once(self.producer.clone())
            .chain(singles)
            .collect()
    }

    /// The one-message-per-batch producer, made on first use.
    fn singles(&self) -> Result<FutureProducer<TracingContext>, SendError> {
        let mut singles = self.singles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(producer) = singles.as_ref() {
            return Ok(producer.clone());
        }
        let mut config = self.rdkafka.clone();
        config.set("batch.num.messages", "1");
        let producer: FutureProducer<TracingContext> = config
            .create_with_context(TracingContext::new(&self.id))
            .map_err(|e| {
                SendError::Retryable(format!(
                    "cannot create the one-message-per-batch Kafka producer: {e}"
                ))
            })?;
        *singles = Some(producer.clone());
        Ok(producer)
    }

    fn headers(&self, metadata: Option<&Metadata>) -> Option<OwnedHeaders> {
        let mut pairs: Vec<(&str, &str)> = self
            .record_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(metadata) = metadata {
            for key in &self.include_metadata_keys {
                pairs.extend(metadata.get_all(key).map(|value| (key.as_str(), value)));
            }
        }
        if pairs.is_empty() {
            return None;
        }
        let mut headers = OwnedHeaders::new_with_capacity(pairs.len());
        for (key, value) in pairs {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        Some(headers)
    }

    /// Plans and produces one request, and waits until Kafka acknowledged every message
    /// (as `required_acks` asks) or counted it too large (see the module docs). Any other
    /// failure fails the whole request: a retry sends every message again (at-least-once;
    /// duplicates of the ones that had landed).
    pub(crate) async fn send<R: KafkaRequest>(
        &self,
        protobuf: Option<bytes::Bytes>,
        items: usize,
        decode: impl FnOnce() -> Result<R, PlanError>,
        metadata: Option<&Metadata>,
    ) -> Result<Sent, SendError> {
        let planned: Planned = self
            .planner
            .plan(protobuf, items, decode, metadata)
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        let headers = self.headers(metadata);
        let deadline = Instant::now() + self.timeout;
        let mut sent = Sent {
            items: 0,
            too_large: planned.too_large,
            largest: planned.largest,
        };
        let refused = self
            .produce(
                planned.records,
                Route::ByTopic,
                &headers,
                deadline,
                &mut sent,
            )
            .await?;
        if !refused.is_empty() {
            self.send_refused::<R>(refused, &headers, deadline, &mut sent)
                .await?;
        }
        Ok(sent)
    }

    /// The slow path: refused messages again, one per batch, split when refused alone.
    async fn send_refused<R: KafkaRequest>(
        &self,
        mut refused: Vec<Refused>,
        headers: &Option<OwnedHeaders>,
        deadline: Instant,
        sent: &mut Sent,
    ) -> Result<(), SendError> {
        let limits = self.planner.limits();
        let mut taught = BTreeSet::new();
        for round in 1..=MAX_ROUNDS {
            if refused.is_empty() {
                break;
            }
            tracing::debug!(exporter = %self.id, round, messages = refused.len(), "messages refused as too large; sending them again one per batch");
            let mut again = Vec::with_capacity(refused.len());
            for Refused { record, alone } in refused {
                if !alone {
                    if limits.batch_refused(&record.topic) {
                        taught.insert(record.topic.clone());
                    }
                    again.push(record);
                    continue;
                }
                let size = record.value.len();
                if limits.message_refused(&record.topic, size) {
                    taught.insert(record.topic.clone());
                }
                match self
                    .planner
                    .resplit::<R>(&record)
                    .map_err(|e| SendError::Permanent(e.to_string()))?
                {
                    Some(pieces) => again.extend(pieces),
                    None => sent.too_large(record.items, size),
                }
            }
            refused = self
                .produce(again, Route::Singles, headers, deadline, sent)
                .await?;
        }
        for Refused { record, .. } in refused {
            sent.too_large(record.items, record.value.len());
        }
        for topic in taught {
            let learned = limits.get(&topic).unwrap_or_default();
            match (learned.refused, learned.max_value) {
                (Some(refused), Some(max)) => tracing::warn!(
                    exporter = %self.id, %topic, refused, splitting_to = max,
                    "Kafka refused a message of {refused} bytes to this topic as too large: \
                     its messages are split to at most {max} bytes and sent one per batch from \
                     now on; set producer::max_message_bytes to the topic's max.message.bytes"
                ),
                _ => tracing::warn!(
                    exporter = %self.id, %topic,
                    "Kafka refused a batch of messages to this topic as too large: its messages \
                     are sent one per batch from now on; set producer::max_message_bytes to the \
                     topic's max.message.bytes"
                ),
            }
        }
        Ok(())
    }

    /// Produces `records` and waits for each: the acknowledged are counted in `sent`, the
    /// refused as too large are returned; any other failure is the error.
    async fn produce(
        &self,
        records: Vec<Record>,
        route: Route,
        headers: &Option<OwnedHeaders>,
        deadline: Instant,
        sent: &mut Sent,
    ) -> Result<Vec<Refused>, SendError> {
        let limits = self.planner.limits();
        let alone =
            |record: &Record| route == Route::Singles || limits.refuses_batches(&record.topic);
        let singles = if records.iter().any(alone) {
            Some(self.singles()?)
        } else {
            None
        };
        let mut deliveries: Vec<(Record, bool, DeliveryFuture)> = Vec::with_capacity(records.len());
        let mut refused = Vec::new();
        for record in records {
            let (producer, alone) = match &singles {
                Some(singles) if alone(&record) => (singles, true),
                _ => (&self.producer, false),
            };
            match enqueue(producer, &record, headers, deadline).await {
                Ok(delivery) => deliveries.push((record, alone, delivery)),
                // librdkafka's own check (message.max.bytes), before any batch.
                Err(error) if too_large(&error) => refused.push(Refused {
                    record,
                    alone: true,
                }),
                Err(error) => return Err(classify(&error)),
            }
        }
        let mut failed = None;
        for (record, alone, delivery) in deliveries {
            match delivery.await {
                Ok(Ok(_)) => sent.items += record.items,
                Ok(Err((error, _))) if too_large(&error) => refused.push(Refused { record, alone }),
                Ok(Err((error, _))) => {
                    failed.get_or_insert_with(|| classify(&error));
                }
                Err(_) => {
                    failed.get_or_insert_with(|| {
                        SendError::Retryable("the producer was closed before Kafka answered".into())
                    });
                }
            }
        }
        match failed {
            Some(error) => Err(error),
            None => Ok(refused),
        }
    }
}

/// Hands `record` to librdkafka, waiting (until `deadline`) while its queue is full.
async fn enqueue(
    producer: &FutureProducer<TracingContext>,
    record: &Record,
    headers: &Option<OwnedHeaders>,
    deadline: Instant,
) -> Result<DeliveryFuture, KafkaError> {
    let mut future_record: FutureRecord<'_, [u8], [u8]> =
        FutureRecord::to(&record.topic).payload(&record.value[..]);
    if let Some(key) = &record.key {
        future_record = future_record.key(&key[..]);
    }
    if let Some(headers) = headers {
        future_record = future_record.headers(headers.clone());
    }
    loop {
        match producer.send_result(future_record) {
            Ok(delivery) => return Ok(delivery),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                if Instant::now() < deadline =>
            {
                future_record = back;
                tokio::time::sleep(QUEUE_FULL_PAUSE).await;
            }
            Err((error, _)) => return Err(error),
        }
    }
}

/// The sending queue's exporter: produces one queued (encoded) request per call.
pub(crate) struct QueueExporter {
    pub(crate) producer: Arc<Producer>,
    pub(crate) id: String,
}

#[async_trait]
impl<R: KafkaRequest> BatchExporter<Encoded<R>> for QueueExporter {
    async fn export(&self, batch: &Encoded<R>) -> Result<Option<PartialSuccess>, ExportFailure> {
        let items = otlp_batch::ExportRequest::item_count(batch);
        let protobuf = batch.clone().into_protobuf();
        let decode = || {
            batch
                .decode_request()
                .map_err(|e| PlanError::Decode(e.to_string()))
        };
        match self
            .producer
            .send(Some(protobuf), items, decode, None)
            .await
        {
            Ok(sent) if sent.too_large > 0 => {
                tracing::warn!(exporter = %self.id, signal = %R::SIGNAL, items = sent.too_large, largest = sent.largest, "items each larger than producer::max_message_bytes or than Kafka accepts; not sent");
                Ok(Some(PartialSuccess {
                    rejected_items: i64::try_from(sent.too_large).unwrap_or(i64::MAX),
                    error_message: format!(
                        "{} items each larger than producer::max_message_bytes or than Kafka \
                         accepts",
                        sent.too_large
                    ),
                }))
            }
            Ok(_) => Ok(None),
            Err(SendError::Retryable(message)) => Err(ExportFailure::retryable(message)),
            Err(SendError::Permanent(message)) => {
                tracing::warn!(exporter = %self.id, signal = %R::SIGNAL, items, %message, "produce failed permanently; the items are dropped");
                Err(ExportFailure::permanent(message))
            }
        }
    }
}
