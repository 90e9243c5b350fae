//! Tests of the samplers; shared helpers here, one file per subject.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

use super::{SamplingParameters, SpanKind};

mod always;
mod env;
mod parent_based;
mod props;
mod ratio;
mod threshold;

/// `2^55`: the threshold of ratio 0.5.
const HALF: u64 = 1 << 55;

/// A trace id whose last 7 bytes (the randomness) are `low56`, with a non-zero high part so the
/// id is valid.
fn trace_id_with_randomness(low56: u64) -> TraceId {
    TraceId::from((0xabcd_u128 << 64) | u128::from(low56 & ((1 << 56) - 1)))
}

/// Parses `k=v,k2=v2` (no whitespace) into a trace state.
fn state(members: &str) -> TraceState {
    if members.is_empty() {
        return TraceState::new();
    }
    TraceState::from_members(members.split(',').map(|m| m.split_once('=').unwrap())).unwrap()
}

/// A valid parent span context.
fn parent(trace_id: TraceId, sampled: bool, remote: bool, trace_state: TraceState) -> SpanContext {
    let flags = TraceFlags::default()
        .with_sampled(sampled)
        .with_random(true);
    SpanContext::new(
        trace_id,
        SpanId::from(0x1234_u64),
        flags,
        remote,
        trace_state,
    )
}

/// Parameters for a span of `trace_id` under `parent`, random flag set.
fn params(parent: Option<&SpanContext>, trace_id: TraceId) -> SamplingParameters<'_> {
    SamplingParameters {
        parent,
        trace_id,
        random_trace_id: true,
        name: "span",
        kind: SpanKind::Internal,
        attributes: &[],
        links: &[],
    }
}

/// Parameters for a root span of `trace_id`.
fn root(trace_id: TraceId) -> SamplingParameters<'static> {
    params(None, trace_id)
}

/// A deterministic pseudo-random generator (SplitMix64) for statistical tests.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn trace_id(&mut self) -> TraceId {
        loop {
            let id = (u128::from(self.next()) << 64) | u128::from(self.next());
            if id != 0 {
                return TraceId::from(id);
            }
        }
    }
}

/// Counts `WARN` events while `f` runs on this thread.
fn count_warnings(f: impl FnOnce()) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let subscriber = WarnCounter(Arc::clone(&count));
    tracing::subscriber::with_default(subscriber, f);
    count.load(Ordering::SeqCst)
}

struct WarnCounter(Arc<AtomicUsize>);

impl tracing::Subscriber for WarnCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
