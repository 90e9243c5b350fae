//! Test doubles shared by the integration tests: requests whose spans carry numeric ids, and
//! an exporter that follows a script and records what it received.

#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use otlp_batch::{BatchExporter, ExportFailure, PartialSuccess};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

pub fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(service.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A request of spans with the given ids, under one resource and scope.
pub fn spans(ids: impl IntoIterator<Item = u64>, service: &str) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(service)),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "test".into(),
                    ..Default::default()
                }),
                spans: ids
                    .into_iter()
                    .map(|id| Span {
                        span_id: id.to_be_bytes().to_vec(),
                        name: "span".into(),
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The span ids of a request, in order.
pub fn ids(request: &ExportTraceServiceRequest) -> Vec<u64> {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|span| u64::from_be_bytes(span.span_id.as_slice().try_into().unwrap_or([0; 8])))
        .collect()
}

/// What the scripted exporter does with its next call.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Ok,
    Retryable,
    Permanent,
    /// Accept, rejecting this many items.
    Partial(i64),
    /// Record the batch as received, then take `Duration` before answering Ok (longer than
    /// the export timeout: the sender abandons it and retries).
    ReceiveThenStall(Duration),
    /// Never answer.
    Hang,
}

#[derive(Default)]
pub struct Scripted {
    pub script: Mutex<VecDeque<Action>>,
    /// Ids of every batch whose export returned Ok (or partial), in call order.
    pub exported: Mutex<Vec<u64>>,
    /// Ids the receiver saw, including those of abandoned attempts.
    pub received: Mutex<Vec<u64>>,
    pub calls: Mutex<usize>,
    pub batch_sizes: Mutex<Vec<usize>>,
    pub batch_resources: Mutex<Vec<usize>>,
    pub batch_bytes: Mutex<Vec<usize>>,
    /// Items rejected through partial successes.
    pub rejected: Mutex<u64>,
    /// Ids of abandoned (stalled) attempts.
    pub stalled: Mutex<Vec<u64>>,
}

impl Scripted {
    pub fn with(actions: impl IntoIterator<Item = Action>) -> Self {
        let scripted = Self::default();
        scripted.script.lock().unwrap().extend(actions);
        scripted
    }

    pub fn exported(&self) -> Vec<u64> {
        self.exported.lock().unwrap().clone()
    }

    pub fn received(&self) -> Vec<u64> {
        self.received.lock().unwrap().clone()
    }
}

#[otlp_batch::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for Scripted {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let action = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Action::Ok);
        *self.calls.lock().unwrap() += 1;
        let batch_ids = ids(batch);
        match action {
            Action::Ok | Action::Partial(_) => {
                self.received.lock().unwrap().extend(&batch_ids);
                self.batch_sizes.lock().unwrap().push(batch_ids.len());
                self.batch_resources
                    .lock()
                    .unwrap()
                    .push(batch.resource_spans.len());
                self.batch_bytes
                    .lock()
                    .unwrap()
                    .push(prost::Message::encoded_len(batch));
                self.exported.lock().unwrap().extend(&batch_ids);
                Ok(match action {
                    Action::Partial(rejected) => {
                        *self.rejected.lock().unwrap() +=
                            (rejected.max(0) as u64).min(batch_ids.len() as u64);
                        Some(PartialSuccess {
                            rejected_items: rejected,
                            error_message: "rejected some".into(),
                        })
                    }
                    _ => None,
                })
            }
            Action::Retryable => Err(ExportFailure::retryable("unavailable")),
            Action::Permanent => Err(ExportFailure::permanent("bad data")),
            Action::ReceiveThenStall(delay) => {
                self.received.lock().unwrap().extend(&batch_ids);
                self.stalled.lock().unwrap().extend(&batch_ids);
                tokio::time::sleep(delay).await;
                Ok(None)
            }
            Action::Hang => std::future::pending().await,
        }
    }
}

pub fn deadline(seconds: u64) -> Instant {
    Instant::now() + Duration::from_secs(seconds)
}

/// A configuration for fast tests: small batches, quick retries.
pub fn fast_config() -> otlp_batch::BatchQueueConfig {
    let mut config = otlp_batch::BatchQueueConfig::default();
    config.batch.send_batch_size = 10;
    config.batch.timeout = Duration::from_millis(20);
    config.queue.num_consumers = 2;
    config.retry.initial_interval = Duration::from_millis(1);
    config.retry.max_interval = Duration::from_millis(5);
    config
}
