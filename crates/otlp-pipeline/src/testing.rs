//! Test helpers for component crates (feature `testing`): a probe consumer that records what
//! it is given and answers with scripted errors, contexts, and small requests of every signal.
//!
//! A component crate's tests take it as a dev-dependency:
//! `otlp-pipeline = { workspace = true, features = ["testing"] }`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use otlp_model::builders::{
    GaugeBuilder, LogRecordBuilder, LogsBuilder, MetricsBuilder, NumberPointBuilder, SpanBuilder,
    TracesBuilder,
};
use otlp_model::resource;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::Notify;

use crate::Signal;
use crate::component::{ConnectorContext, Consumer, ProcessorContext, Resources};
use crate::config::{ComponentId, PipelineId};
use crate::data::Telemetry;
use crate::error::ConsumeError;

/// Records what it receives; answers with scripted errors first, then `Ok`.
#[derive(Default)]
pub struct Probe {
    /// What it accepted, in order.
    pub received: Mutex<Vec<Telemetry>>,
    /// Errors to answer with, first to last, before it accepts.
    pub script: Mutex<VecDeque<ConsumeError>>,
    /// Calls to `consume`, accepted or not.
    pub calls: Mutex<usize>,
    /// Where each call's request lived in memory (its carried bytes, or the decoded spans):
    /// equal addresses across calls mean the same request came back, not a copy.
    pub addresses: Mutex<Vec<usize>>,
    /// Woken after every call.
    pub notify: Notify,
}

impl Probe {
    /// A probe that accepts everything.
    pub fn new() -> Arc<Probe> {
        Arc::new(Probe::default())
    }

    /// A probe that answers with `errors` first.
    pub fn failing(errors: impl IntoIterator<Item = ConsumeError>) -> Arc<Probe> {
        let probe = Probe::default();
        probe.script.lock().unwrap().extend(errors);
        Arc::new(probe)
    }

    /// Items (spans, points, records) accepted so far.
    pub fn items(&self) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(Telemetry::item_count)
            .sum()
    }

    /// Calls so far.
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }

    /// Waits (at most 10 s) until `n` items arrived.
    pub async fn wait_items(&self, n: usize) -> usize {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let items = self.items();
            if items >= n || tokio::time::Instant::now() >= deadline {
                return items;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

#[async_trait]
impl Consumer for Probe {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        *self.calls.lock().unwrap() += 1;
        let address = match data.encoded() {
            Some(protobuf) => Some(protobuf.as_ptr() as usize),
            None => data.traces().map(|t| t.resource_spans.as_ptr() as usize),
        };
        self.addresses.lock().unwrap().extend(address);
        let scripted = self.script.lock().unwrap().pop_front();
        if let Some(error) = scripted {
            self.notify.notify_waiters();
            return Err(error);
        }
        self.received.lock().unwrap().push(data);
        self.notify.notify_waiters();
        Ok(())
    }
}

/// Polls `condition` (every 5 ms, at most 10 s); whether it held.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    condition()
}

/// A component id from text (panics when it is not one: tests only).
pub fn id(text: &str) -> ComponentId {
    text.parse().unwrap()
}

/// A processor context for `id_text` in `pipeline`, passing on to `next`.
pub fn processor_ctx(
    id_text: &str,
    pipeline: &str,
    next: Arc<dyn Consumer>,
    resources: Resources,
) -> ProcessorContext {
    ProcessorContext::new(id(id_text), pipeline.parse::<PipelineId>().unwrap(), next)
        .with_resources(resources)
}

/// A connector context for `id_text` from `from` to `to`, feeding `pipelines` (ids and their
/// consumers); its `next` delivers to every one of them.
pub fn connector_ctx(
    id_text: &str,
    from: Signal,
    to: Signal,
    pipelines: Vec<(&str, Arc<dyn Consumer>)>,
    resources: Resources,
) -> ConnectorContext {
    let pipelines: Vec<(PipelineId, Arc<dyn Consumer>)> = pipelines
        .into_iter()
        .map(|(p, c)| (p.parse::<PipelineId>().unwrap(), c))
        .collect();
    let next: Arc<dyn Consumer> = match pipelines.as_slice() {
        [(_, one)] => one.clone(),
        many => Arc::new(crate::graph::FanOut::new(
            many.iter().map(|(_, c)| c.clone()),
        )),
    };
    ConnectorContext::new(id(id_text), from, to, pipelines, next).with_resources(resources)
}

/// `n` spans of service `checkout` (ids `[i+1; 16]`/`[i+1; 8]`; span 0 has route `/health`).
pub fn traces(n: usize) -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource!["service.name" => "checkout"])
        .scope("test", "1.0")
        .spans((0..n).map(|i| {
            SpanBuilder::new(format!("span-{i}"))
                .trace_id([i as u8 + 1; 16])
                .span_id([i as u8 + 1; 8])
                .attr("http.route", if i == 0 { "/health" } else { "/cart" })
        }))
        .build()
}

/// A gauge `queue.depth` with `n` points.
pub fn metrics(n: usize) -> ExportMetricsServiceRequest {
    let mut gauge = GaugeBuilder::new("queue.depth");
    for i in 0..n {
        gauge = gauge.point(NumberPointBuilder::int(i as i64).attr("i", i as i64));
    }
    MetricsBuilder::new()
        .resource(resource!["service.name" => "checkout"])
        .scope("test", "1.0")
        .metric(gauge)
        .build()
}

/// `n` log records with bodies `line {i}`.
pub fn logs(n: usize) -> ExportLogsServiceRequest {
    LogsBuilder::new()
        .resource(resource!["service.name" => "checkout"])
        .scope("test", "")
        .log_records((0..n).map(|i| {
            LogRecordBuilder::new()
                .body(format!("line {i}"))
                .attr("n", i as i64)
        }))
        .build()
}
