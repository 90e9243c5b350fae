//! [`SpanContext`]: the part of a span that crosses process boundaries.

use super::ids::{SpanId, TraceId};
use super::trace_flags::TraceFlags;
use super::trace_state::TraceState;

/// The immutable, propagated identity of a span: ids, trace flags, trace state, and whether it
/// was received from another process.
///
/// Cloning is cheap: the ids and flags are `Copy` and the [`TraceState`] is reference-counted.
///
/// ```
/// use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
///
/// let cx = SpanContext::new_remote(
///     "4bf92f3577b34da6a3ce929d0e0e4736".parse::<TraceId>()?,
///     "00f067aa0ba902b7".parse::<SpanId>()?,
///     TraceFlags::SAMPLED,
///     TraceState::new(),
/// );
/// assert!(cx.is_valid());
/// assert!(cx.is_sampled());
/// assert!(cx.is_remote());
/// assert_eq!(cx.span_id().to_string(), "00f067aa0ba902b7");
///
/// assert!(!SpanContext::INVALID.is_valid());
/// assert_eq!(SpanContext::empty(), SpanContext::default());
/// # Ok::<(), otlp_model::IdError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SpanContext {
    trace_id: TraceId,
    span_id: SpanId,
    trace_flags: TraceFlags,
    is_remote: bool,
    trace_state: TraceState,
}

impl SpanContext {
    /// The invalid span context: both ids invalid, no flags, local, empty trace state.
    pub const INVALID: Self = Self::new(
        TraceId::INVALID,
        SpanId::INVALID,
        TraceFlags::from_u8(0),
        false,
        TraceState::new(),
    );

    /// Builds a span context from all of its parts.
    #[must_use]
    pub const fn new(
        trace_id: TraceId,
        span_id: SpanId,
        trace_flags: TraceFlags,
        is_remote: bool,
        trace_state: TraceState,
    ) -> Self {
        Self {
            trace_id,
            span_id,
            trace_flags,
            is_remote,
            trace_state,
        }
    }

    /// Builds a span context received from another process (`is_remote` is `true`), as a
    /// propagator's extractor does.
    #[must_use]
    pub const fn new_remote(
        trace_id: TraceId,
        span_id: SpanId,
        trace_flags: TraceFlags,
        trace_state: TraceState,
    ) -> Self {
        Self::new(trace_id, span_id, trace_flags, true, trace_state)
    }

    /// Returns [`SpanContext::INVALID`].
    #[must_use]
    pub const fn empty() -> Self {
        Self::INVALID
    }

    /// The trace id.
    #[must_use]
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id.
    #[must_use]
    pub const fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The W3C trace flags.
    #[must_use]
    pub const fn trace_flags(&self) -> TraceFlags {
        self.trace_flags
    }

    /// Whether this context was propagated from another process.
    #[must_use]
    pub const fn is_remote(&self) -> bool {
        self.is_remote
    }

    /// The W3C trace state.
    #[must_use]
    pub const fn trace_state(&self) -> &TraceState {
        &self.trace_state
    }

    /// Returns `true` if both the trace id and the span id are valid (not all zero).
    #[must_use]
    pub const fn is_valid(&self) -> bool {
        self.trace_id.is_valid() && self.span_id.is_valid()
    }

    /// Returns `true` if the sampled trace flag is set.
    #[must_use]
    pub const fn is_sampled(&self) -> bool {
        self.trace_flags.is_sampled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (TraceId, SpanId) {
        (TraceId::from(0x4bf9_u128), SpanId::from(0x00f0_u64))
    }

    #[test]
    fn invalid_and_empty() {
        let cx = SpanContext::INVALID;
        assert!(!cx.is_valid());
        assert!(!cx.is_sampled());
        assert!(!cx.is_remote());
        assert_eq!(cx.trace_id(), TraceId::INVALID);
        assert_eq!(cx.span_id(), SpanId::INVALID);
        assert_eq!(cx.trace_flags(), TraceFlags::default());
        assert!(cx.trace_state().is_empty());
        assert_eq!(SpanContext::empty(), cx);
        assert_eq!(SpanContext::default(), cx);
    }

    #[test]
    fn getters_return_parts() {
        let (trace_id, span_id) = ids();
        let state = TraceState::from_members([("a", "1")]).unwrap();
        let cx = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, false, state.clone());
        assert_eq!(cx.trace_id(), trace_id);
        assert_eq!(cx.span_id(), span_id);
        assert_eq!(cx.trace_flags(), TraceFlags::SAMPLED);
        assert!(!cx.is_remote());
        assert_eq!(cx.trace_state(), &state);
        assert!(cx.is_valid());
        assert!(cx.is_sampled());
    }

    #[test]
    fn new_remote_sets_remote() {
        let (trace_id, span_id) = ids();
        let cx =
            SpanContext::new_remote(trace_id, span_id, TraceFlags::default(), TraceState::new());
        assert!(cx.is_remote());
        assert!(!cx.is_sampled());
        assert_eq!(
            cx,
            SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::default(),
                true,
                TraceState::new()
            )
        );
    }

    #[test]
    fn validity_needs_both_ids() {
        let (trace_id, span_id) = ids();
        let flags = TraceFlags::SAMPLED;
        let only_trace =
            SpanContext::new(trace_id, SpanId::INVALID, flags, false, TraceState::new());
        let only_span =
            SpanContext::new(TraceId::INVALID, span_id, flags, false, TraceState::new());
        assert!(!only_trace.is_valid());
        assert!(!only_span.is_valid());
        // Sampling is independent of validity.
        assert!(only_trace.is_sampled());
    }
}
