//! [`TracesView`], [`Spans`] and [`SpanRef`].

use core::iter::FusedIterator;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};

use super::flatten::{Flatten, Nesting};
use super::impl_view;
use crate::{SpanId, TraceFlags, TraceId};

/// Zero-copy iteration and counting over spans; see the [module docs](super).
pub trait TracesView {
    /// The `ResourceSpans` this view covers.
    fn as_resource_spans(&self) -> &[ResourceSpans];

    /// Every span with the resource and scope it belongs to, in order.
    fn spans(&self) -> Spans<'_> {
        Spans {
            inner: Flatten::new(self.as_resource_spans()),
        }
    }

    /// The number of spans (the Go Collector's `SpanCount`).
    fn span_count(&self) -> usize {
        let mut count = 0;
        for resource_spans in self.as_resource_spans() {
            for scope_spans in &resource_spans.scope_spans {
                count += scope_spans.spans.len();
            }
        }
        count
    }
}

impl_view!(
    TracesView,
    as_resource_spans,
    ResourceSpans,
    resource_spans,
    [ExportTraceServiceRequest, TracesData]
);

#[derive(Debug)]
pub(crate) struct TraceNesting;

impl Nesting for TraceNesting {
    type Resource = ResourceSpans;
    type Scope = ScopeSpans;
    type Item = Span;
    fn scopes(resource: &ResourceSpans) -> &[ScopeSpans] {
        &resource.scope_spans
    }
    fn items(scope: &ScopeSpans) -> &[Span] {
        &scope.spans
    }
}

/// Iterator over every span of a [`TracesView`]; see [`TracesView::spans`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Spans<'a> {
    inner: Flatten<'a, TraceNesting>,
}

impl<'a> Iterator for Spans<'a> {
    type Item = SpanRef<'a>;

    fn next(&mut self) -> Option<SpanRef<'a>> {
        self.inner
            .next()
            .map(|(resource_spans, scope_spans, span)| SpanRef {
                resource_spans,
                scope_spans,
                span,
            })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for Spans<'_> {}

impl core::fmt::Debug for Spans<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Spans").finish_non_exhaustive()
    }
}

/// One span, with the `ResourceSpans` and `ScopeSpans` it was found in.
#[derive(Debug, Clone, Copy)]
pub struct SpanRef<'a> {
    /// The resource group holding the span.
    pub resource_spans: &'a ResourceSpans,
    /// The scope group holding the span.
    pub scope_spans: &'a ScopeSpans,
    /// The span.
    pub span: &'a Span,
}

impl<'a> SpanRef<'a> {
    /// The resource, if the sender set one.
    #[must_use]
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource_spans.resource.as_ref()
    }

    /// The instrumentation scope, if the sender set one.
    #[must_use]
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope_spans.scope.as_ref()
    }

    /// The resource's `service.name`, if it is a string.
    #[must_use]
    pub fn service_name(&self) -> Option<&'a str> {
        super::service_name(self.resource())
    }

    /// The span name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        &self.span.name
    }

    /// The trace id; `None` if the field is not exactly 16 bytes (all-zero 16 bytes gives
    /// `Some(TraceId::INVALID)`).
    #[must_use]
    pub fn trace_id(&self) -> Option<TraceId> {
        super::trace_id(&self.span.trace_id)
    }

    /// The span id; `None` if the field is not exactly 8 bytes.
    #[must_use]
    pub fn span_id(&self) -> Option<SpanId> {
        super::span_id(&self.span.span_id)
    }

    /// The parent span id; `None` if the field is empty (a root span) or not exactly 8 bytes.
    #[must_use]
    pub fn parent_span_id(&self) -> Option<SpanId> {
        super::span_id(&self.span.parent_span_id)
    }

    /// `true` if the span has no valid parent span id.
    #[must_use]
    pub fn is_root(&self) -> bool {
        self.parent_span_id()
            .is_none_or(|parent| !parent.is_valid())
    }

    /// The span kind (`Unspecified` for values this version does not know).
    #[must_use]
    pub fn kind(&self) -> SpanKind {
        self.span.kind()
    }

    /// The status code (`Unset` when there is no status or the value is unknown).
    #[must_use]
    pub fn status_code(&self) -> StatusCode {
        self.span
            .status
            .as_ref()
            .map_or(StatusCode::Unset, |status| status.code())
    }

    /// The trace flags from bits 0-7 of `Span.flags`.
    #[must_use]
    pub fn trace_flags(&self) -> TraceFlags {
        TraceFlags::from_otlp_span_flags(self.span.flags).0
    }

    /// Whether the parent is remote, if the sender said (bits 8-9 of `Span.flags`).
    #[must_use]
    pub fn parent_is_remote(&self) -> Option<bool> {
        TraceFlags::from_otlp_span_flags(self.span.flags).1
    }

    /// `end - start` in nanoseconds; `None` if the end is before the start.
    #[must_use]
    pub fn duration_nanos(&self) -> Option<u64> {
        self.span
            .end_time_unix_nano
            .checked_sub(self.span.start_time_unix_nano)
    }

    /// The span's attributes.
    #[must_use]
    pub fn attributes(&self) -> &'a [KeyValue] {
        &self.span.attributes
    }
}
