//! Samplers: which spans are recorded and exported.
//!
//! A [`Sampler`] is asked once per span, before the span starts, and answers with a
//! [`SamplingResult`]: drop, record only, or record and sample; attributes to add; and the new
//! span's trace state.
//!
//! The built-in samplers are those of the OpenTelemetry SDK specification (`trace/sdk.md`,
//! "Built-in samplers"):
//!
//! - [`AlwaysOn`], [`AlwaysOff`];
//! - [`TraceIdRatioBased`]: consistent probability sampling (OTEP 235): a 56-bit randomness
//!   value `R` (the `rv` sub-key of the `ot` trace state member, or the trace id's last 7 bytes)
//!   is compared with a 56-bit rejection threshold `T` ([`Threshold`]), sampled when `R >= T`,
//!   and a sampled span records `th:T` in the `ot` trace state member;
//! - [`ParentBased`]: follows the parent's sampled flag through five delegates, and keeps the
//!   parent's `th` only while it is consistent with the decision;
//! - [`sampler_from_env`]: the sampler that `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`
//!   ask for.
//!
//! # Trace state contract
//!
//! [`SamplingResult::trace_state`] is `None` when the sampler leaves the trace state as it was
//! (the parent's, or empty for a root span), and `Some(state)` when it changes it; `state` is
//! then the parent's trace state with the change applied, every other member kept. The caller
//! uses `result.trace_state.unwrap_or(parent's state or empty)`.

use std::sync::Arc;

use otlp_model::{SpanContext, TraceId, TraceState};
pub use otlp_proto::trace::v1::span::SpanKind;

mod always;
mod env;
mod ot_state;
mod parent_based;
mod ratio;
mod threshold;

#[cfg(test)]
mod tests;

pub use always::{AlwaysOff, AlwaysOn};
pub use env::{OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, sampler_from_env};
pub use parent_based::ParentBased;
pub use ratio::TraceIdRatioBased;
pub use threshold::{Randomness, Threshold};

/// A sampler's decision for one span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplingDecision {
    /// Not recorded: `is_recording` is false and the span is not exported.
    Drop,
    /// Recorded (span processors see it), but the sampled flag is not set, so it is not
    /// exported.
    RecordOnly,
    /// Recorded and the sampled flag set: exported.
    RecordAndSample,
}

impl SamplingDecision {
    /// Returns `true` for [`RecordOnly`](Self::RecordOnly) and
    /// [`RecordAndSample`](Self::RecordAndSample).
    #[must_use]
    pub const fn is_recording(self) -> bool {
        !matches!(self, Self::Drop)
    }

    /// Returns `true` for [`RecordAndSample`](Self::RecordAndSample): the sampled flag is set.
    #[must_use]
    pub const fn is_sampled(self) -> bool {
        matches!(self, Self::RecordAndSample)
    }
}

/// What a sampler answers.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingResult {
    /// The decision.
    pub decision: SamplingDecision,
    /// Attributes the sampler adds to the span.
    pub attributes: Vec<crate::value::KeyValue>,
    /// The new span's trace state; `None` = keep the parent's (or empty for a root).
    pub trace_state: Option<TraceState>,
}

impl SamplingResult {
    /// A result with `decision`, no attributes and the trace state unchanged.
    #[must_use]
    pub const fn new(decision: SamplingDecision) -> Self {
        Self {
            decision,
            attributes: Vec::new(),
            trace_state: None,
        }
    }
}

/// What a sampler sees. `parent` is the parent span context when there is a valid one
/// (`is_remote()` tells remote from local).
#[derive(Clone, Copy, Debug)]
pub struct SamplingParameters<'a> {
    /// The parent span context, when there is a valid one; `None` for a root span.
    pub parent: Option<&'a SpanContext>,
    /// The new span's trace id (the parent's, or a new one for a root span).
    pub trace_id: TraceId,
    /// The new span's trace flags as far as known: the W3C `random` flag
    /// (`TraceFlags::is_random`) is inherited from the parent, or set for a new root (the SDK
    /// generates random trace ids).
    pub random_trace_id: bool,
    /// The new span's name.
    pub name: &'a str,
    /// The new span's kind.
    pub kind: SpanKind,
    /// The attributes given when the span is started.
    pub attributes: &'a [crate::value::KeyValue],
    /// The links given when the span is started.
    pub links: &'a [crate::trace::Link],
}

impl SamplingParameters<'_> {
    /// The trace state the new span starts from: the parent's, or empty for a root span.
    #[must_use]
    pub fn parent_trace_state(&self) -> &TraceState {
        static EMPTY: TraceState = TraceState::new();
        self.parent.map_or(&EMPTY, SpanContext::trace_state)
    }
}

/// Decides whether a span is recorded and sampled (the specification's `Sampler`).
pub trait Sampler: Send + Sync + std::fmt::Debug + 'static {
    /// The decision for the span described by `params` (the specification's `ShouldSample`).
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult;

    /// The spec's GetDescription, e.g. "AlwaysOnSampler", "TraceIdRatioBased{0.25}",
    /// "ParentBased{root=...,remoteParentSampled=...,...}".
    fn description(&self) -> String;
}

impl<S: Sampler + ?Sized> Sampler for Arc<S> {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        (**self).should_sample(params)
    }

    fn description(&self) -> String {
        (**self).description()
    }
}

impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        (**self).should_sample(params)
    }

    fn description(&self) -> String {
        (**self).description()
    }
}
