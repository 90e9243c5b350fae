//! The processor's synchronous core: buffering spans by trace, deciding traces when due (or
//! early, to stay within the bounds), and releasing late spans by remembered decisions. It
//! returns what is to be forwarded; `component.rs` does the forwarding and the timing.
//!
//! # Bounds
//!
//! - at most `num_traces` traces wait: a new trace beyond it first decides the oldest one
//!   now (contrib drops it undecided instead; counted in
//!   `sampling_trace_decided_early_total{reason="num_traces"}`);
//! - at most [`max_buffered_spans`] spans wait: after a request is buffered, the oldest
//!   traces are decided now until the total is within it (`reason="span_limit"`), so the
//!   bound can be exceeded only while one request is being added;
//! - the decisions remembered are bounded as `cache.rs` says.

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::config::ConfigError;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::ResourceSpans;
use tokio::time::Instant;

use super::cache::DecisionMemory;
use super::config::TailSamplingConfig;
use super::decision::{self, Final};
use super::emit::Outgoing;
use super::group;
use super::metrics::TailMetrics;
use super::policy::{self, NamedPolicy, TraceView};
use super::store::{PendingTrace, TraceId, TraceStore};

/// Spans buffered per `num_traces` slot, for the span bound.
pub const SPANS_PER_TRACE: u64 = 64;
/// The span bound's floor.
pub const MIN_BUFFERED_SPANS: u64 = 65_536;
/// The span bound's ceiling.
pub const MAX_BUFFERED_SPANS: u64 = 4_194_304;

/// The most spans buffered for `num_traces`: `num_traces × 64`, within
/// [`MIN_BUFFERED_SPANS`]..=[`MAX_BUFFERED_SPANS`].
pub fn max_buffered_spans(num_traces: u64) -> u64 {
    num_traces
        .saturating_mul(SPANS_PER_TRACE)
        .clamp(MIN_BUFFERED_SPANS, MAX_BUFFERED_SPANS)
}

/// The buffer, the remembered decisions and the policies.
pub(crate) struct Engine {
    policies: Vec<NamedPolicy>,
    store: TraceStore,
    memory: DecisionMemory,
    wait: Duration,
    first_match: bool,
    metrics: Arc<TailMetrics>,
}

/// A `u64` from the configuration as a size.
fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl Engine {
    /// An engine for `config` (compiling its policies).
    pub(crate) fn new(
        config: &TailSamplingConfig,
        metrics: Arc<TailMetrics>,
    ) -> Result<Engine, ConfigError> {
        let policies = policy::build_all(&config.policies)?;
        let num_traces = size(config.num_traces).max(1);
        Ok(Engine {
            policies,
            store: TraceStore::new(
                num_traces,
                max_buffered_spans(config.num_traces),
                size(
                    config
                        .expected_new_traces_per_sec
                        .saturating_mul(config.decision_wait.as_secs().max(1)),
                ),
            ),
            memory: DecisionMemory::new(
                num_traces,
                size(config.decision_cache.sampled_cache_size),
                size(config.decision_cache.non_sampled_cache_size),
            ),
            wait: config.decision_wait,
            first_match: config.sample_on_first_match,
            metrics,
        })
    }

    /// Traces waiting.
    pub(crate) fn pending_traces(&self) -> usize {
        self.store.len()
    }

    /// Spans waiting.
    pub(crate) fn pending_spans(&self) -> u64 {
        self.store.span_count()
    }

    /// Buffers `request`'s spans; returns the spans to forward now (late spans of sampled
    /// traces, and traces decided early to stay within the bounds).
    pub(crate) fn ingest(
        &mut self,
        request: ExportTraceServiceRequest,
        now: Instant,
    ) -> Vec<ResourceSpans> {
        let mut out = Outgoing::new();
        let mut grouped = group::by_trace(request);
        for at in 0..grouped.groups().len() {
            let Some(&g) = grouped.groups().get(at) else {
                break;
            };
            if self.store.contains(&g.id) {
                self.store.append(g.id, grouped.take(at), g.span_count, now);
            } else if let Some(remembered) = self.memory.lookup(&g.id) {
                match remembered.decided_at {
                    Some(at) => self
                        .metrics
                        .late_span_age
                        .observe(now.saturating_duration_since(at).as_secs() as f64),
                    None => self.metrics.early_releases[usize::from(!remembered.sampled)]
                        .add(g.span_count),
                }
                self.metrics.count_spans(remembered.sampled, g.span_count);
                if remembered.sampled {
                    out.extend(grouped.take(at));
                }
                continue;
            } else {
                self.metrics.new_traces.add(1);
                while self.store.is_full() {
                    let Some((id, trace)) = self.store.pop_oldest() else {
                        break;
                    };
                    self.metrics.decided_early[0].add(1);
                    self.decide(id, trace, now, &mut out);
                }
                self.store.append(g.id, grouped.take(at), g.span_count, now);
            }
            while self.store.over_span_limit() {
                let Some((id, trace)) = self.store.pop_oldest() else {
                    break;
                };
                self.metrics.decided_early[1].add(1);
                self.decide(id, trace, now, &mut out);
            }
        }
        self.update_gauges();
        out.finish()
    }

    /// Decides the traces whose `decision_wait` has passed; returns the sampled spans.
    pub(crate) fn decide_due(&mut self, now: Instant) -> Vec<ResourceSpans> {
        let mut out = Outgoing::new();
        while let Some((id, trace)) = self.store.pop_due(now, self.wait) {
            self.decide(id, trace, now, &mut out);
        }
        self.update_gauges();
        out.finish()
    }

    /// Decides every waiting trace with what arrived (shutdown); returns the sampled spans.
    pub(crate) fn decide_all(&mut self, now: Instant) -> Vec<ResourceSpans> {
        let mut out = Outgoing::new();
        while let Some((id, trace)) = self.store.pop_oldest() {
            self.decide(id, trace, now, &mut out);
        }
        self.update_gauges();
        out.finish()
    }

    /// Drops every waiting trace undecided (shutdown with `drop_pending_traces_on_shutdown`);
    /// returns how many.
    pub(crate) fn drop_all(&mut self) -> u64 {
        let mut dropped = 0;
        while let Some((_, trace)) = self.store.pop_oldest() {
            dropped += 1;
            self.metrics.dropped_too_early.add(1);
            self.metrics.count_spans(false, trace.span_count);
        }
        self.update_gauges();
        dropped
    }

    fn decide(&mut self, id: TraceId, trace: PendingTrace, now: Instant, out: &mut Outgoing) {
        let view = TraceView {
            id: &id,
            spans: &trace.spans,
            span_count: trace.span_count,
        };
        let outcome: Final = decision::evaluate(
            &mut self.policies,
            &view,
            now,
            self.first_match,
            &self.metrics,
        );
        self.metrics.count_final(outcome, trace.span_count);
        self.metrics
            .removal_age
            .observe(now.saturating_duration_since(trace.arrival).as_secs() as f64);
        self.memory.record(id, outcome.is_sampled(), now);
        if outcome.is_sampled() {
            out.extend(trace.spans);
        }
    }

    fn update_gauges(&self) {
        let traces = i64::try_from(self.store.len()).unwrap_or(i64::MAX);
        let spans = i64::try_from(self.store.span_count()).unwrap_or(i64::MAX);
        self.metrics.traces_on_memory.set(traces);
        self.metrics.spans_on_memory.set(spans);
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policies", &self.policies)
            .field("pending_traces", &self.store.len())
            .field("pending_spans", &self.store.span_count())
            .field("remembered", &self.memory.sizes())
            .finish_non_exhaustive()
    }
}
