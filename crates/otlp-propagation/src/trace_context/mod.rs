//! W3C Trace Context: the `traceparent` and `tracestate` headers and
//! [`TraceContextPropagator`].

mod traceparent;
mod tracestate;

pub use traceparent::{
    KNOWN_TRACE_FLAGS, TRACEPARENT_LEN, TraceParent, TraceParentError, TraceParentHeader,
};
pub use tracestate::{
    TRACESTATE_LONG_MEMBER, TRACESTATE_MAX_LEN, TRACESTATE_MAX_MEMBERS, TraceStateParseError,
    format_tracestate, parse_tracestate,
};

use otlp_model::{SpanContext, TraceFlags, TraceState};

use crate::carrier::{Extractor, Injector};
use crate::context::Context;
use crate::propagator::TextMapPropagator;

/// The `traceparent` header name.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// The `tracestate` header name.
pub const TRACESTATE_HEADER: &str = "tracestate";

/// The W3C Trace Context propagator: `traceparent` and `tracestate`.
///
/// Extract:
/// - exactly one `traceparent` value must be present (a repeated header is ambiguous and is
///   ignored, as the W3C test suite expects); an invalid value is ignored too, so the request
///   goes on as a new trace;
/// - the `sampled` and Level 2 `random` flags are kept, other bits are zeroed;
/// - all `tracestate` lines are combined; an invalid `tracestate` is dropped whole while the
///   `traceparent` is kept; `tracestate` without a valid `traceparent` is ignored.
///
/// Inject writes version `00` with the known flags, and `tracestate` (when not empty)
/// truncated to 512 bytes by the W3C rules ([`format_tracestate`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceContextPropagator;

impl TraceContextPropagator {
    /// The propagator.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }

    /// Reads a remote span context from `traceparent` and `tracestate`, or `None` when there
    /// is no single valid `traceparent`.
    #[must_use]
    pub fn extract_span_context(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let mut first = None;
        let mut count = 0_usize;
        extractor.for_each_value(TRACEPARENT_HEADER, &mut |value| {
            count += 1;
            first.get_or_insert(value);
        });
        if count != 1 {
            return None;
        }
        let parent = TraceParent::parse(first?).ok()?;
        let mut lines: Vec<&str> = Vec::new();
        extractor.for_each_value(TRACESTATE_HEADER, &mut |line| lines.push(line));
        let trace_state = parse_tracestate(lines).unwrap_or_default();
        Some(SpanContext::new_remote(
            parent.trace_id(),
            parent.parent_id(),
            TraceFlags::from_u8(parent.trace_flags().to_u8() & KNOWN_TRACE_FLAGS),
            trace_state,
        ))
    }

    /// Writes `traceparent` (and `tracestate` when not empty) for a valid `span_context`;
    /// writes nothing for an invalid one.
    pub fn inject_span_context(&self, span_context: &SpanContext, injector: &mut dyn Injector) {
        if !span_context.is_valid() {
            return;
        }
        let flags = TraceFlags::from_u8(span_context.trace_flags().to_u8() & KNOWN_TRACE_FLAGS);
        let header =
            TraceParent::new(span_context.trace_id(), span_context.span_id(), flags).encode();
        injector.set(TRACEPARENT_HEADER, header.as_str().to_owned());
        let state: &TraceState = span_context.trace_state();
        if !state.is_empty() {
            let value = format_tracestate(state, TRACESTATE_MAX_LEN);
            if !value.is_empty() {
                injector.set(TRACESTATE_HEADER, value);
            }
        }
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn fields(&self) -> &[&'static str] {
        &[TRACEPARENT_HEADER, TRACESTATE_HEADER]
    }

    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context) {
        if cx.span_context().is_some() {
            return;
        }
        if let Some(span_context) = self.extract_span_context(extractor) {
            cx.set_span_context(span_context);
        }
    }

    fn inject(&self, cx: &Context, injector: &mut dyn Injector) {
        if let Some(span_context) = cx.span_context() {
            self.inject_span_context(span_context, injector);
        }
    }
}
