//! [`Context`]: what crosses a hop (span context, sampling decision, baggage), and the helpers
//! that turn an extracted parent into the context of the next call.

use otlp_model::{SpanContext, SpanId, TraceFlags, TraceId, TraceState, TraceStateError};

use crate::baggage::Baggage;

/// A sampling decision as B3 and Jaeger carry it, richer than the W3C `sampled` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SamplingState {
    /// Do not record (B3 `0`, W3C flag cleared).
    Deny,
    /// Record (B3 `1`, W3C `sampled` flag set).
    Accept,
    /// Record and force the trace through every sampler on the way (B3 `d` or
    /// `X-B3-Flags: 1`, Jaeger flag `0x02`). Debug implies accept.
    Debug,
}

impl SamplingState {
    /// `true` for [`Accept`](Self::Accept) and [`Debug`](Self::Debug).
    #[must_use]
    pub const fn is_sampled(self) -> bool {
        matches!(self, Self::Accept | Self::Debug)
    }
}

/// The propagated state of one request: the caller's span context, its sampling decision and
/// the W3C baggage.
///
/// A propagator's `extract` returns one, [`Context::child`] turns it into the context of the
/// next call, and `inject` writes that one into the outgoing carrier.
///
/// Invariants, kept by every method:
/// - [`span_context`](Self::span_context) is `Some` only for a valid span context (both ids
///   non-zero).
/// - The span context's `sampled` flag agrees with [`sampling`](Self::sampling): set exactly
///   when the state is [`Accept`](SamplingState::Accept) or [`Debug`](SamplingState::Debug).
/// - [`sampling`](Self::sampling) is `None` when no decision was made (a B3 header without a
///   sampling state defers the decision to the receiver) and may be `Some` without a span
///   context (B3's lone `b3: 0`, `b3: 1` or `b3: d`).
///
/// Cloning is cheap: trace state and baggage are reference-counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    span_context: Option<SpanContext>,
    sampling: Option<SamplingState>,
    baggage: Baggage,
}

impl Context {
    /// An empty context: no span context, no sampling decision, no baggage.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A context around `span_context` (ignored when invalid), with the sampling decision its
    /// `sampled` flag states.
    #[must_use]
    pub fn from_span_context(span_context: SpanContext) -> Self {
        let mut cx = Self::new();
        cx.set_span_context(span_context);
        cx
    }

    /// The span context, if a valid one is present.
    #[must_use]
    pub fn span_context(&self) -> Option<&SpanContext> {
        self.span_context.as_ref()
    }

    /// The sampling decision, if one was made.
    #[must_use]
    pub fn sampling(&self) -> Option<SamplingState> {
        self.sampling
    }

    /// `true` when the decision is [`Accept`](SamplingState::Accept) or
    /// [`Debug`](SamplingState::Debug).
    #[must_use]
    pub fn is_sampled(&self) -> bool {
        self.sampling.is_some_and(SamplingState::is_sampled)
    }

    /// `true` when the decision is [`Debug`](SamplingState::Debug).
    #[must_use]
    pub fn is_debug(&self) -> bool {
        self.sampling == Some(SamplingState::Debug)
    }

    /// The baggage.
    #[must_use]
    pub fn baggage(&self) -> &Baggage {
        &self.baggage
    }

    /// Mutable access to the baggage.
    pub fn baggage_mut(&mut self) -> &mut Baggage {
        &mut self.baggage
    }

    /// Sets the span context; an invalid one clears it. The sampling decision becomes what the
    /// `sampled` flag states ([`Accept`](SamplingState::Accept) or
    /// [`Deny`](SamplingState::Deny)), except that a [`Debug`](SamplingState::Debug) decision
    /// survives a sampled span context.
    pub fn set_span_context(&mut self, span_context: SpanContext) {
        if !span_context.is_valid() {
            self.span_context = None;
            return;
        }
        self.sampling = Some(match (span_context.is_sampled(), self.sampling) {
            (true, Some(SamplingState::Debug)) => SamplingState::Debug,
            (true, _) => SamplingState::Accept,
            (false, _) => SamplingState::Deny,
        });
        self.span_context = Some(span_context);
    }

    /// Sets the sampling decision, updating the span context's `sampled` flag to match.
    pub fn set_sampling(&mut self, sampling: Option<SamplingState>) {
        self.sampling = sampling;
        let sampled = sampling.is_some_and(SamplingState::is_sampled);
        if let Some(sc) = &mut self.span_context
            && sc.is_sampled() != sampled
        {
            *sc = with_flags(sc, sc.trace_flags().with_sampled(sampled));
        }
    }

    /// Sets this vendor's `tracestate` member on the span context: `key=value` becomes the
    /// left-most member, replacing an earlier value of `key` (W3C: a vendor that updates its
    /// entry moves it to the front), and the right-most member is dropped if that would make
    /// more than 32. Returns `Ok(false)` when there is no span context to change.
    ///
    /// # Errors
    ///
    /// [`TraceStateError`] when the pair breaks the W3C key or value grammar; the context is
    /// unchanged then.
    pub fn update_trace_state(&mut self, key: &str, value: &str) -> Result<bool, TraceStateError> {
        let Some(sc) = &mut self.span_context else {
            return Ok(false);
        };
        let state = sc.trace_state().insert(key, value)?;
        *sc = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags(),
            sc.is_remote(),
            state,
        );
        Ok(true)
    }

    /// Replaces the baggage.
    pub fn set_baggage(&mut self, baggage: Baggage) {
        self.baggage = baggage;
    }

    /// Builder form of [`set_span_context`](Self::set_span_context).
    #[must_use]
    pub fn with_span_context(mut self, span_context: SpanContext) -> Self {
        self.set_span_context(span_context);
        self
    }

    /// Builder form of [`set_sampling`](Self::set_sampling).
    #[must_use]
    pub fn with_sampling(mut self, sampling: Option<SamplingState>) -> Self {
        self.set_sampling(sampling);
        self
    }

    /// Builder form of [`set_baggage`](Self::set_baggage).
    #[must_use]
    pub fn with_baggage(mut self, baggage: Baggage) -> Self {
        self.set_baggage(baggage);
        self
    }

    /// The context for the next call: a child of this context's span, or a new root.
    ///
    /// With a span context: same trace id, a new random span id, the same trace flags
    /// (`sampled`, `random`) and trace state, `is_remote == false`. Without one: a new root
    /// (random trace and span ids, the W3C `random` flag set) that follows a received
    /// sampling decision if there is one, and is sampled otherwise (what OpenTelemetry's
    /// default `parentbased_always_on` sampler does). The sampling decision and baggage are
    /// carried over.
    ///
    /// ```
    /// use otlp_propagation::{Context, TextMapPropagator, TraceContextPropagator};
    /// use std::collections::HashMap;
    ///
    /// let incoming = HashMap::from([(
    ///     "traceparent".to_owned(),
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    /// )]);
    /// let parent = TraceContextPropagator::new().extract(&incoming);
    /// let child = parent.child();
    /// let (p, c) = (parent.span_context().unwrap(), child.span_context().unwrap());
    /// assert_eq!(c.trace_id(), p.trace_id());
    /// assert_ne!(c.span_id(), p.span_id());
    /// assert!(c.is_sampled() && !c.is_remote());
    ///
    /// let root = Context::new().child();
    /// assert!(root.span_context().unwrap().trace_flags().is_random());
    /// ```
    #[must_use]
    pub fn child(&self) -> Self {
        self.child_or_root(true)
    }

    /// Like [`child`](Self::child), but a new root made without any received sampling decision
    /// is sampled only when `sample_new_root` is `true`.
    #[must_use]
    pub fn child_or_root(&self, sample_new_root: bool) -> Self {
        let (span_context, sampling) = match &self.span_context {
            // A deferred decision (`None`) stays deferred.
            Some(parent) => (child_of(parent), self.sampling),
            None => {
                let sampled = self
                    .sampling
                    .map_or(sample_new_root, SamplingState::is_sampled);
                let decision = if sampled {
                    SamplingState::Accept
                } else {
                    SamplingState::Deny
                };
                (new_root(sampled), self.sampling.or(Some(decision)))
            }
        };
        Self {
            span_context: Some(span_context),
            sampling,
            baggage: self.baggage.clone(),
        }
    }
}

/// The span context of a new local span whose parent is `parent`: same trace id, trace flags
/// and trace state, a new random span id, `is_remote == false`.
///
/// When `parent` is invalid there is no trace to continue, and the result is
/// [`new_root`]`(parent.is_sampled())`.
#[must_use]
pub fn child_of(parent: &SpanContext) -> SpanContext {
    if !parent.trace_id().is_valid() {
        return new_root(parent.is_sampled());
    }
    SpanContext::new(
        parent.trace_id(),
        new_span_id(parent.span_id()),
        parent.trace_flags(),
        false,
        parent.trace_state().clone(),
    )
}

/// The span context of a new root span: random trace and span ids, the W3C Level 2 `random`
/// flag set (every bit of the trace id is random), `sampled` as given, empty trace state.
#[must_use]
pub fn new_root(sampled: bool) -> SpanContext {
    SpanContext::new(
        TraceId::random(),
        SpanId::random(),
        TraceFlags::default()
            .with_random(true)
            .with_sampled(sampled),
        false,
        TraceState::new(),
    )
}

/// A random span id different from `previous`.
fn new_span_id(previous: SpanId) -> SpanId {
    loop {
        let id = SpanId::random();
        if id != previous {
            return id;
        }
    }
}

fn with_flags(sc: &SpanContext, flags: TraceFlags) -> SpanContext {
    SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        flags,
        sc.is_remote(),
        sc.trace_state().clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(flags: u8) -> SpanContext {
        SpanContext::new_remote(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
            SpanId::from(0x00f0_67aa_0ba9_02b7_u64),
            TraceFlags::from_u8(flags),
            TraceState::from_members([("congo", "t61rcWkgMzE")]).unwrap(),
        )
    }

    #[test]
    fn empty_context() {
        let cx = Context::new();
        assert_eq!(cx.span_context(), None);
        assert_eq!(cx.sampling(), None);
        assert!(!cx.is_sampled() && !cx.is_debug());
        assert!(cx.baggage().is_empty());
        assert_eq!(Context::from_span_context(SpanContext::INVALID), cx);
    }

    #[test]
    fn sampling_follows_the_flag_and_back() {
        let cx = Context::from_span_context(remote(0x01));
        assert_eq!(cx.sampling(), Some(SamplingState::Accept));
        let cx = Context::from_span_context(remote(0x02));
        assert_eq!(cx.sampling(), Some(SamplingState::Deny));

        let cx = cx.with_sampling(Some(SamplingState::Debug));
        assert!(cx.is_debug() && cx.is_sampled());
        let flags = cx.span_context().unwrap().trace_flags();
        assert!(flags.is_sampled() && flags.is_random());

        let cx = cx.with_sampling(None);
        assert!(!cx.span_context().unwrap().is_sampled());
        assert_eq!(cx.sampling(), None);

        // Debug survives setting a sampled span context; a deny does not.
        let mut cx = Context::new().with_sampling(Some(SamplingState::Debug));
        cx.set_span_context(remote(0x01));
        assert!(cx.is_debug());
        cx.set_span_context(remote(0x00));
        assert_eq!(cx.sampling(), Some(SamplingState::Deny));
        // An invalid span context clears it.
        cx.set_span_context(SpanContext::INVALID);
        assert_eq!(cx.span_context(), None);
    }

    #[test]
    fn child_carries_trace_flags_state_and_baggage() {
        let mut baggage = Baggage::new();
        baggage.insert("user", "alice").unwrap();
        let parent = Context::from_span_context(remote(0x03)).with_baggage(baggage.clone());
        let child = parent.child();
        let (p, c) = (
            parent.span_context().unwrap(),
            child.span_context().unwrap(),
        );
        assert_eq!(c.trace_id(), p.trace_id());
        assert_ne!(c.span_id(), p.span_id());
        assert!(c.span_id().is_valid());
        assert_eq!(c.trace_flags(), p.trace_flags());
        assert_eq!(c.trace_state(), p.trace_state());
        assert!(!c.is_remote());
        assert_eq!(child.baggage(), &baggage);
        assert_eq!(child.sampling(), Some(SamplingState::Accept));
    }

    #[test]
    fn child_keeps_debug_and_deferred() {
        let parent =
            Context::from_span_context(remote(0x01)).with_sampling(Some(SamplingState::Debug));
        assert!(parent.child().is_debug());
        let deferred = Context::from_span_context(remote(0x00)).with_sampling(None);
        let child = deferred.child();
        assert_eq!(child.sampling(), None);
        assert!(!child.span_context().unwrap().is_sampled());
    }

    #[test]
    fn roots_follow_the_received_decision() {
        let root = Context::new().child();
        let sc = root.span_context().unwrap();
        assert!(sc.is_valid() && sc.is_sampled() && sc.trace_flags().is_random());
        assert!(sc.trace_state().is_empty());
        assert_eq!(root.sampling(), Some(SamplingState::Accept));

        assert!(!Context::new().child_or_root(false).is_sampled());
        let denied = Context::new().with_sampling(Some(SamplingState::Deny));
        assert!(!denied.child().span_context().unwrap().is_sampled());
        let debug = Context::new().with_sampling(Some(SamplingState::Debug));
        let child = debug.child_or_root(false);
        assert!(child.is_debug() && child.span_context().unwrap().is_sampled());

        // Two roots are different traces.
        let a = new_root(true);
        let b = new_root(true);
        assert_ne!(a.trace_id(), b.trace_id());
    }

    #[test]
    fn update_trace_state_moves_the_member_to_the_front() {
        let mut cx = Context::from_span_context(remote(0x01)).child();
        assert_eq!(cx.update_trace_state("rojo", "00f067aa0ba902b7"), Ok(true));
        assert_eq!(cx.update_trace_state("congo", "ucfJifl5GOE"), Ok(true));
        let state = cx.span_context().unwrap().trace_state().to_string();
        assert_eq!(state, "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
        assert!(cx.update_trace_state("Bad", "x").is_err());
        assert_eq!(cx.span_context().unwrap().trace_state().to_string(), state);
        assert_eq!(Context::new().update_trace_state("a", "1"), Ok(false));
        // Still the child: ids and flags untouched.
        assert!(!cx.span_context().unwrap().is_remote() && cx.is_sampled());
    }

    #[test]
    fn child_of_invalid_parent_is_a_root() {
        let c = child_of(&SpanContext::INVALID);
        assert!(c.is_valid() && !c.is_sampled());
        let c = child_of(&remote(0x01));
        assert_eq!(c.trace_id(), remote(0x01).trace_id());
    }
}
