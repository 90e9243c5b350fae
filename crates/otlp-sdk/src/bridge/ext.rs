//! [`OtlpSpanExt`]: the SDK side of a `tracing::Span`.

use otlp_model::SpanContext;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::bridge::layer::OtlpLayer;
use crate::bridge::state;
use crate::context::{self, Context};
use crate::trace::Status;
use crate::value::KeyValue;

/// Reaches the [`OtlpLayer`] and the registry the current `tracing` dispatcher is built on.
///
/// The subscriber must be a [`Registry`] with the layer on it (`registry().with(layer)`,
/// possibly with more layers and filters): anything else makes every method a no-op.
fn with_span<T>(
    span: &tracing::Span,
    f: impl FnOnce(&OtlpLayer, &SpanRef<'_, Registry>) -> T,
) -> Option<T> {
    span.with_subscriber(|(id, dispatch)| {
        let layer = dispatch.downcast_ref::<OtlpLayer>()?;
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(id)?;
        Some(f(layer, &span))
    })
    .flatten()
}

/// OTLP operations on a `tracing::Span` handled by an [`OtlpLayer`].
///
/// Every method is a no-op (and the queries return `None` / the current SDK context) when the
/// span is disabled, when the dispatcher has no `OtlpLayer`, when it is not built on
/// `tracing_subscriber`'s [`Registry`], or when the span's target is ignored.
pub trait OtlpSpanExt {
    /// Makes the span a child of `cx`'s span (a new trace when `cx` has none), typically a
    /// context a propagator extracted from an incoming request's headers. Call it before the
    /// span is entered, gets a child, records an event or is queried for its span context:
    /// the SDK span starts then, and its parent is fixed from that point on (a later call
    /// does nothing).
    fn set_parent(&self, cx: &Context);

    /// The span's OTLP identity (starting its SDK span if it has not started).
    fn span_context(&self) -> Option<SpanContext>;

    /// The SDK's current context with this span as its span: to inject into outgoing
    /// requests, or to attach for code that uses the SDK directly. The current context
    /// unchanged when the span has no OTLP span.
    fn context(&self) -> Context;

    /// Adds a link to `span_context`. Before the SDK span starts the sampler sees it.
    fn add_link(&self, span_context: SpanContext);

    /// Sets an attribute (replacing an earlier value of the same key).
    fn set_attribute(&self, attribute: KeyValue);

    /// Sets the status, with the SDK's rules (`Ok` is final, `Unset` is ignored).
    fn set_status(&self, status: Status);
}

impl OtlpSpanExt for tracing::Span {
    fn set_parent(&self, cx: &Context) {
        let parent = cx.span_context().cloned();
        let _ = with_span(self, |layer, span| {
            if state::with_state(span, |s| s.set_parent(parent)) == Some(true) {
                let _ = state::ensure_started(span, &layer.tracer);
            }
        });
    }

    fn span_context(&self) -> Option<SpanContext> {
        with_span(self, |layer, span| {
            state::ensure_started(span, &layer.tracer)
        })
        .flatten()
    }

    fn context(&self) -> Context {
        match self.span_context() {
            Some(sc) => context::current().with_span_context(sc),
            None => context::current(),
        }
    }

    fn add_link(&self, span_context: SpanContext) {
        let _ = with_span(self, |layer, span| {
            if let Some(overflow) = state::with_state(span, |s| s.add_link(span_context)) {
                state::apply_overflow(span, &layer.tracer, overflow);
            }
        });
    }

    fn set_attribute(&self, attribute: KeyValue) {
        let _ = with_span(self, |layer, span| {
            if let Some(overflow) = state::with_state(span, |s| s.set_attribute(attribute)) {
                state::apply_overflow(span, &layer.tracer, overflow);
            }
        });
    }

    fn set_status(&self, status: Status) {
        let _ = with_span(self, |_, span| {
            state::with_state(span, |s| s.set_status(status))
        });
    }
}
