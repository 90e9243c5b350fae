//! The bounded buffer of traces waiting for their decision.
//!
//! Traces are kept in arrival order of their first span, which is also the order of their
//! deadlines (`decision_wait` is the same for all): the front is both the oldest trace and the
//! next one due. Every removal takes the front, so the map and the order never disagree.
//!
//! Two hard bounds: at most `max_traces` traces (`num_traces`) and at most `max_spans` spans
//! in total. [`TraceStore`] only reports when they are exceeded; the engine then decides the
//! oldest traces early (see `engine.rs`).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::group::TaggedSpan;
use super::hash::{IdMap, id_map};

/// A trace id: the span's 16 bytes (a shorter or longer id is zero-padded or truncated).
pub(crate) type TraceId = [u8; 16];

/// The key of a span's `trace_id` bytes.
pub(crate) fn trace_key(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}

/// A trace waiting for its decision.
#[derive(Debug)]
pub(crate) struct PendingTrace {
    /// Its spans in arrival order, each with its resource and scope.
    pub(crate) spans: Vec<TaggedSpan>,
    /// How many spans.
    pub(crate) span_count: u64,
    /// When its first span arrived.
    pub(crate) arrival: Instant,
}

/// The buffer.
#[derive(Debug)]
pub(crate) struct TraceStore {
    traces: IdMap<TraceId, PendingTrace>,
    order: VecDeque<TraceId>,
    spans: u64,
    max_traces: usize,
    max_spans: u64,
}

impl TraceStore {
    /// A buffer of at most `max_traces` traces and `max_spans` spans, with room for
    /// `expected` traces allocated up front.
    pub(crate) fn new(max_traces: usize, max_spans: u64, expected: usize) -> TraceStore {
        let expected = expected.min(max_traces);
        TraceStore {
            traces: id_map(expected),
            order: VecDeque::with_capacity(expected),
            spans: 0,
            max_traces,
            max_spans,
        }
    }

    /// Traces waiting.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Spans waiting.
    pub(crate) fn span_count(&self) -> u64 {
        self.spans
    }

    /// `true` when `id` is waiting.
    pub(crate) fn contains(&self, id: &TraceId) -> bool {
        self.traces.contains_key(id)
    }

    /// `true` when a new trace would exceed `max_traces`.
    pub(crate) fn is_full(&self) -> bool {
        self.order.len() >= self.max_traces
    }

    /// `true` when more spans than `max_spans` are waiting.
    pub(crate) fn over_span_limit(&self) -> bool {
        self.spans > self.max_spans
    }

    /// Adds spans to `id`, creating the trace (arrived `now`) when it is new. Does not check
    /// the bounds (see [`is_full`](Self::is_full), [`over_span_limit`](Self::over_span_limit)).
    pub(crate) fn append(
        &mut self,
        id: TraceId,
        spans: impl Iterator<Item = TaggedSpan>,
        span_count: u64,
        now: Instant,
    ) {
        self.spans += span_count;
        match self.traces.get_mut(&id) {
            Some(trace) => {
                trace.spans.extend(spans);
                trace.span_count += span_count;
            }
            None => {
                self.traces.insert(
                    id,
                    PendingTrace {
                        spans: spans.collect(),
                        span_count,
                        arrival: now,
                    },
                );
                self.order.push_back(id);
            }
        }
    }

    /// Removes the oldest trace.
    pub(crate) fn pop_oldest(&mut self) -> Option<(TraceId, PendingTrace)> {
        let id = self.order.pop_front()?;
        let trace = self.traces.remove(&id)?;
        self.spans = self.spans.saturating_sub(trace.span_count);
        Some((id, trace))
    }

    /// Removes the oldest trace if it arrived `wait` or more before `now`.
    pub(crate) fn pop_due(
        &mut self,
        now: Instant,
        wait: Duration,
    ) -> Option<(TraceId, PendingTrace)> {
        let id = self.order.front()?;
        let due = self
            .traces
            .get(id)
            .is_some_and(|t| now.saturating_duration_since(t.arrival) >= wait);
        if due { self.pop_oldest() } else { None }
    }
}
