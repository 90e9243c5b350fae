//! Producing planned messages with librdkafka and waiting for Kafka's acknowledgement of
//! every one of them; the [`BatchExporter`] the sending queue calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use otlp_batch::{BatchExporter, Encoded, ExportFailure, PartialSuccess};
use otlp_transport::kafka::TracingContext;
use otlp_transport::kafka::rdkafka::error::{KafkaError, RDKafkaErrorCode};
use otlp_transport::kafka::rdkafka::message::{Header, OwnedHeaders};
use otlp_transport::kafka::rdkafka::producer::{FutureProducer, FutureRecord};

use otlp_pipeline::data::Metadata;

use super::messages::{KafkaRequest, PlanError, Planned, Planner};

/// How long a full librdkafka queue is waited on between attempts to enqueue.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(5);

/// The producer and what turns requests into its messages.
pub(crate) struct Producer {
    pub(crate) producer: FutureProducer<TracingContext>,
    pub(crate) planner: Planner,
    pub(crate) record_headers: Vec<(String, String)>,
    pub(crate) include_metadata_keys: Vec<String>,
    pub(crate) timeout: Duration,
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
    /// Items not sent because each alone exceeds `max_message_bytes`.
    pub(crate) too_large: usize,
    /// The largest of those, encoded.
    pub(crate) largest: usize,
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

impl Producer {
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
    /// (as `required_acks` asks) or one failed. A failure fails the whole request: a retry
    /// sends every message again (at-least-once; duplicates of the ones that had landed).
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
        let mut deliveries = Vec::with_capacity(planned.records.len());
        let mut acknowledged = 0;
        for record in &planned.records {
            let mut future_record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(&record.topic).payload(&record.value[..]);
            if let Some(key) = &record.key {
                future_record = future_record.key(&key[..]);
            }
            if let Some(headers) = &headers {
                future_record = future_record.headers(headers.clone());
            }
            loop {
                match self.producer.send_result(future_record) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                        if Instant::now() < deadline =>
                    {
                        future_record = back;
                        tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                    }
                    Err((error, _)) => return Err(classify(&error)),
                }
            }
            acknowledged += record.items;
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(classify(&error)),
                Err(_) => {
                    return Err(SendError::Retryable(
                        "the producer was closed before Kafka answered".into(),
                    ));
                }
            }
        }
        Ok(Sent {
            items: acknowledged,
            too_large: planned.too_large,
            largest: planned.largest,
        })
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
                tracing::warn!(exporter = %self.id, signal = %R::SIGNAL, items = sent.too_large, largest = sent.largest, "items larger than producer::max_message_bytes each; not sent");
                Ok(Some(PartialSuccess {
                    rejected_items: i64::try_from(sent.too_large).unwrap_or(i64::MAX),
                    error_message: format!(
                        "{} items each larger than producer::max_message_bytes",
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
