//! [`TracesBuilder`], [`SpanBuilder`], [`EventBuilder`] and [`LinkBuilder`].

use core::fmt;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::trace::v1::span::{Event, Link, SpanKind};
use otlp_proto::trace::v1::status::StatusCode;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::{IntoUnixNanos, Nested, nesting_methods};
use crate::attributes::{IntoAnyValue, kv};
use crate::{SpanContext, SpanId, TraceFlags, TraceId};

/// Builds an [`ExportTraceServiceRequest`]; see the [module docs](super) for the shared shape.
///
/// ```
/// use otlp_model::builders::{SpanBuilder, SpanKind, TracesBuilder};
/// use otlp_model::views::TracesView;
/// use otlp_model::{resource, SpanId, TraceId};
///
/// let trace_id = TraceId::random();
/// let root = SpanId::random();
/// let request = TracesBuilder::new()
///     .resource(resource!["service.name" => "frontend"])
///     .scope("my.lib", "1.0")
///     .span(SpanBuilder::new("GET /").kind(SpanKind::Server).trace_id(trace_id).span_id(root))
///     .span(SpanBuilder::new("render").trace_id(trace_id).parent(root))
///     .resource(resource!["service.name" => "cart"])
///     .scope("my.lib", "1.0")
///     .span(SpanBuilder::new("GET /cart").kind(SpanKind::Server).trace_id(trace_id))
///     .build();
/// assert_eq!(request.resource_spans.len(), 2);
/// assert_eq!(request.span_count(), 3);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct TracesBuilder {
    nested: Nested<Span>,
}

impl TracesBuilder {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    nesting_methods!("spans");

    /// Appends a span (a [`SpanBuilder`] or a ready-made [`Span`]) to the current scope.
    pub fn span(mut self, span: impl Into<Span>) -> Self {
        self.nested.push_item(span.into());
        self
    }

    /// Appends spans to the current scope.
    pub fn spans<S: Into<Span>>(mut self, spans: impl IntoIterator<Item = S>) -> Self {
        self.nested.extend_items(spans.into_iter().map(Into::into));
        self
    }

    /// The finished request.
    #[must_use]
    pub fn build(self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: self
                .nested
                .resources
                .into_iter()
                .map(|group| ResourceSpans {
                    resource: group.resource,
                    schema_url: group.schema_url,
                    scope_spans: group
                        .scopes
                        .into_iter()
                        .map(|scope| ScopeSpans {
                            scope: scope.scope,
                            schema_url: scope.schema_url,
                            spans: scope.items,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<TracesBuilder> for ExportTraceServiceRequest {
    fn from(builder: TracesBuilder) -> Self {
        builder.build()
    }
}

/// Builds a [`Span`].
///
/// A trace id or span id left unset is drawn at random by [`build`](Self::build), so every
/// built span carries valid ids; set both for deterministic output. The parent is unset (a root
/// span) unless [`parent`](Self::parent) or [`child_of`](Self::child_of) is called.
///
/// `Span.flags` is written only when [`trace_flags`](Self::trace_flags) or
/// [`parent_is_remote`](Self::parent_is_remote) is called: bits 0-7 carry the trace flags, and
/// bits 8-9 say whether the parent is remote (see [`TraceFlags::to_otlp_span_flags`]).
///
/// ```
/// use otlp_model::builders::{EventBuilder, LinkBuilder, SpanBuilder, SpanKind, StatusCode};
/// use otlp_model::attributes::AttributesExt;
/// use otlp_model::{SpanId, TraceId};
///
/// let trace_id = TraceId::from(1_u128);
/// let span = SpanBuilder::new("GET /cart")
///     .kind(SpanKind::Server)
///     .trace_id(trace_id)
///     .span_id(SpanId::from(2_u64))
///     .parent(SpanId::from(1_u64))
///     .start(1_000)
///     .end(2_000)
///     .attr("http.request.method", "GET")
///     .attr("http.response.status_code", 500)
///     .event(EventBuilder::new("retry").time(1_500).attr("attempt", 2))
///     .link(LinkBuilder::new(TraceId::from(9_u128), SpanId::from(9_u64)))
///     .status_error("upstream failed")
///     .build();
/// assert_eq!(span.trace_id, trace_id.to_bytes());
/// assert_eq!(span.parent_span_id, [0, 0, 0, 0, 0, 0, 0, 1]);
/// assert_eq!(span.attributes.get_i64("http.response.status_code"), Some(500));
/// assert_eq!(span.status.map(|s| s.code), Some(StatusCode::Error as i32));
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct SpanBuilder {
    span: Span,
    trace_id: Option<TraceId>,
    span_id: Option<SpanId>,
    trace_flags: Option<TraceFlags>,
    parent_is_remote: Option<bool>,
}

impl SpanBuilder {
    /// A span with this name and nothing else set (kind `Unspecified`, times `0`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            span: Span {
                name: name.into(),
                ..Span::default()
            },
            trace_id: None,
            span_id: None,
            trace_flags: None,
            parent_is_remote: None,
        }
    }

    /// Sets the span kind.
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.span.kind = kind as i32;
        self
    }

    /// Sets the trace id.
    pub fn trace_id(mut self, trace_id: impl Into<TraceId>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Sets the span id.
    pub fn span_id(mut self, span_id: impl Into<SpanId>) -> Self {
        self.span_id = Some(span_id.into());
        self
    }

    /// Sets the parent span id.
    pub fn parent(mut self, parent_span_id: impl Into<SpanId>) -> Self {
        self.span.parent_span_id = parent_span_id.into().to_bytes().to_vec();
        self
    }

    /// Makes this span a child of `parent`: copies its trace id, trace flags and trace state,
    /// uses its span id as the parent id, and records whether it is remote.
    pub fn child_of(mut self, parent: &SpanContext) -> Self {
        self.trace_id = Some(parent.trace_id());
        self.span.parent_span_id = parent.span_id().to_bytes().to_vec();
        self.span.trace_state = parent.trace_state().to_string();
        self.trace_flags = Some(parent.trace_flags());
        self.parent_is_remote = Some(parent.is_remote());
        self
    }

    /// Sets the W3C `tracestate` text (a [`TraceState`](crate::TraceState) or a string).
    pub fn trace_state(mut self, trace_state: impl fmt::Display) -> Self {
        self.span.trace_state = trace_state.to_string();
        self
    }

    /// Sets the trace flags (bits 0-7 of `Span.flags`).
    pub fn trace_flags(mut self, flags: TraceFlags) -> Self {
        self.trace_flags = Some(flags);
        self
    }

    /// Records whether the parent span is remote (bits 8-9 of `Span.flags`).
    pub fn parent_is_remote(mut self, is_remote: bool) -> Self {
        self.parent_is_remote = Some(is_remote);
        self
    }

    /// Sets the start time.
    pub fn start(mut self, time: impl IntoUnixNanos) -> Self {
        self.span.start_time_unix_nano = time.into_unix_nanos();
        self
    }

    /// Sets the end time.
    pub fn end(mut self, time: impl IntoUnixNanos) -> Self {
        self.span.end_time_unix_nano = time.into_unix_nanos();
        self
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.span.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.span.attributes.extend(attributes);
        self
    }

    /// Appends an event (an [`EventBuilder`] or a ready-made [`Event`]).
    pub fn event(mut self, event: impl Into<Event>) -> Self {
        self.span.events.push(event.into());
        self
    }

    /// Appends a link (a [`LinkBuilder`] or a ready-made [`Link`]).
    pub fn link(mut self, link: impl Into<Link>) -> Self {
        self.span.links.push(link.into());
        self
    }

    /// Sets the status to `Ok` with no message.
    pub fn status_ok(self) -> Self {
        self.status(StatusCode::Ok, "")
    }

    /// Sets the status to `Error` with this message.
    pub fn status_error(self, message: impl Into<String>) -> Self {
        self.status(StatusCode::Error, message)
    }

    /// Sets the status.
    pub fn status(mut self, code: StatusCode, message: impl Into<String>) -> Self {
        self.span.status = Some(Status {
            code: code as i32,
            message: message.into(),
        });
        self
    }

    /// Sets `dropped_attributes_count`.
    pub fn dropped_attributes_count(mut self, count: u32) -> Self {
        self.span.dropped_attributes_count = count;
        self
    }

    /// Sets `dropped_events_count`.
    pub fn dropped_events_count(mut self, count: u32) -> Self {
        self.span.dropped_events_count = count;
        self
    }

    /// Sets `dropped_links_count`.
    pub fn dropped_links_count(mut self, count: u32) -> Self {
        self.span.dropped_links_count = count;
        self
    }

    /// The finished span.
    #[must_use]
    pub fn build(self) -> Span {
        let mut span = self.span;
        span.trace_id = self
            .trace_id
            .unwrap_or_else(TraceId::random)
            .to_bytes()
            .to_vec();
        span.span_id = self
            .span_id
            .unwrap_or_else(SpanId::random)
            .to_bytes()
            .to_vec();
        span.flags = otlp_flags(self.trace_flags, self.parent_is_remote);
        span
    }
}

impl From<SpanBuilder> for Span {
    fn from(builder: SpanBuilder) -> Self {
        builder.build()
    }
}

/// `Span.flags` / `Link.flags`: `0` unless something was said.
fn otlp_flags(trace_flags: Option<TraceFlags>, is_remote: Option<bool>) -> u32 {
    let flags = trace_flags.unwrap_or_default();
    match is_remote {
        Some(remote) => flags.to_otlp_span_flags(remote),
        None => u32::from(flags.to_u8()),
    }
}

/// Builds a span [`Event`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct EventBuilder {
    event: Event,
}

impl EventBuilder {
    /// An event with this name at time `0`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            event: Event {
                name: name.into(),
                ..Event::default()
            },
        }
    }

    /// Sets the time.
    pub fn time(mut self, time: impl IntoUnixNanos) -> Self {
        self.event.time_unix_nano = time.into_unix_nanos();
        self
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.event.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.event.attributes.extend(attributes);
        self
    }

    /// Sets `dropped_attributes_count`.
    pub fn dropped_attributes_count(mut self, count: u32) -> Self {
        self.event.dropped_attributes_count = count;
        self
    }

    /// The finished event.
    #[must_use]
    pub fn build(self) -> Event {
        self.event
    }
}

impl From<EventBuilder> for Event {
    fn from(builder: EventBuilder) -> Self {
        builder.build()
    }
}

/// Builds a span [`Link`] to another span.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct LinkBuilder {
    link: Link,
    trace_flags: Option<TraceFlags>,
    is_remote: Option<bool>,
}

impl LinkBuilder {
    /// A link to the span with these ids.
    pub fn new(trace_id: impl Into<TraceId>, span_id: impl Into<SpanId>) -> Self {
        Self {
            link: Link {
                trace_id: trace_id.into().to_bytes().to_vec(),
                span_id: span_id.into().to_bytes().to_vec(),
                ..Link::default()
            },
            trace_flags: None,
            is_remote: None,
        }
    }

    /// A link to `context`: its ids, trace state, trace flags and remoteness.
    pub fn to(context: &SpanContext) -> Self {
        Self::new(context.trace_id(), context.span_id())
            .trace_state(context.trace_state())
            .trace_flags(context.trace_flags())
            .is_remote(context.is_remote())
    }

    /// Sets the W3C `tracestate` text of the linked span.
    pub fn trace_state(mut self, trace_state: impl fmt::Display) -> Self {
        self.link.trace_state = trace_state.to_string();
        self
    }

    /// Sets the trace flags of the linked span (bits 0-7 of `Link.flags`).
    pub fn trace_flags(mut self, flags: TraceFlags) -> Self {
        self.trace_flags = Some(flags);
        self
    }

    /// Records whether the linked span is remote (bits 8-9 of `Link.flags`).
    pub fn is_remote(mut self, is_remote: bool) -> Self {
        self.is_remote = Some(is_remote);
        self
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.link.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.link.attributes.extend(attributes);
        self
    }

    /// The finished link.
    #[must_use]
    pub fn build(self) -> Link {
        let mut link = self.link;
        link.flags = otlp_flags(self.trace_flags, self.is_remote);
        link
    }
}

impl From<LinkBuilder> for Link {
    fn from(builder: LinkBuilder) -> Self {
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TraceState;
    use crate::attributes::AttributesExt;
    use crate::resource;

    #[test]
    fn unset_ids_are_random_and_valid() {
        let a = SpanBuilder::new("a").build();
        let b = SpanBuilder::new("b").build();
        assert_eq!(a.trace_id.len(), 16);
        assert_eq!(a.span_id.len(), 8);
        assert!(a.parent_span_id.is_empty());
        assert_ne!(a.span_id, b.span_id);
        assert_ne!(a.trace_id, [0; 16]);
    }

    #[test]
    fn flags_are_written_only_when_given() {
        assert_eq!(SpanBuilder::new("a").build().flags, 0);
        let sampled = SpanBuilder::new("a")
            .trace_flags(TraceFlags::SAMPLED)
            .build();
        assert_eq!(sampled.flags, 0x01);
        let remote = SpanBuilder::new("a")
            .trace_flags(TraceFlags::SAMPLED)
            .parent_is_remote(true);
        assert_eq!(remote.build().flags, 0x01 | 0x100 | 0x200);
        let local = SpanBuilder::new("a").parent_is_remote(false).build();
        assert_eq!(local.flags, 0x100);
    }

    #[test]
    fn child_of_copies_the_parent_context() -> Result<(), crate::TraceStateError> {
        let state = TraceState::from_members([("vendor", "value")])?;
        let parent = SpanContext::new_remote(
            TraceId::from(7_u128),
            SpanId::from(8_u64),
            TraceFlags::SAMPLED,
            state.clone(),
        );
        let span = SpanBuilder::new("child")
            .child_of(&parent)
            .span_id(SpanId::from(9_u64))
            .build();
        assert_eq!(span.trace_id, TraceId::from(7_u128).to_bytes());
        assert_eq!(span.parent_span_id, SpanId::from(8_u64).to_bytes());
        assert_eq!(span.span_id, SpanId::from(9_u64).to_bytes());
        assert_eq!(span.trace_state, state.to_string());
        assert_eq!(span.flags, TraceFlags::SAMPLED.to_otlp_span_flags(true));

        let link = LinkBuilder::to(&parent).attr("k", "v").build();
        assert_eq!(link.trace_id, TraceId::from(7_u128).to_bytes());
        assert_eq!(link.span_id, SpanId::from(8_u64).to_bytes());
        assert_eq!(link.trace_state, "vendor=value");
        assert_eq!(link.flags, 0x301);
        assert_eq!(link.attributes.get_str("k"), Some("v"));
        Ok(())
    }

    #[test]
    fn every_setter_lands_in_its_field() {
        let span = SpanBuilder::new("n")
            .kind(SpanKind::Consumer)
            .trace_state("a=b")
            .start(10)
            .end(20)
            .attrs([kv("x", 1)])
            .event(Event::default())
            .event(
                EventBuilder::new("e")
                    .attrs([kv("y", 2)])
                    .dropped_attributes_count(1),
            )
            .link(Link::default())
            .status(StatusCode::Ok, "fine")
            .dropped_attributes_count(1)
            .dropped_events_count(2)
            .dropped_links_count(3)
            .build();
        assert_eq!(span.kind(), SpanKind::Consumer);
        assert_eq!(span.trace_state, "a=b");
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (10, 20)
        );
        assert_eq!(span.events.len(), 2);
        assert_eq!(span.events[1].attributes.get_i64("y"), Some(2));
        assert_eq!(span.events[1].dropped_attributes_count, 1);
        assert_eq!(span.links.len(), 1);
        assert_eq!(
            span.status.as_ref().map(|s| s.message.as_str()),
            Some("fine")
        );
        assert_eq!(
            (
                span.dropped_attributes_count,
                span.dropped_events_count,
                span.dropped_links_count
            ),
            (1, 2, 3)
        );
        let ok = SpanBuilder::new("ok").status_ok().build();
        assert_eq!(ok.status.map(|s| s.code), Some(StatusCode::Ok as i32));
    }

    #[test]
    fn request_nesting_and_schema_urls() {
        let request = TracesBuilder::new()
            .span(SpanBuilder::new("orphan"))
            .resource(resource!["service.name" => "a"])
            .resource_schema_url("https://opentelemetry.io/schemas/1.30.0")
            .scope("s1", "1")
            .scope_schema_url("scope-url")
            .spans([SpanBuilder::new("x"), SpanBuilder::new("y")])
            .scope_with(super::super::ScopeBuilder::new("s2").attr("k", "v"))
            .span(Span::default())
            .build();
        assert_eq!(request.resource_spans.len(), 2);
        let implicit = &request.resource_spans[0];
        assert!(implicit.resource.is_none());
        assert!(implicit.scope_spans[0].scope.is_none());
        assert_eq!(implicit.scope_spans[0].spans[0].name, "orphan");
        let explicit = &request.resource_spans[1];
        assert_eq!(
            explicit.schema_url,
            "https://opentelemetry.io/schemas/1.30.0"
        );
        assert_eq!(explicit.scope_spans.len(), 2);
        assert_eq!(explicit.scope_spans[0].schema_url, "scope-url");
        assert_eq!(explicit.scope_spans[0].spans.len(), 2);
        assert_eq!(
            explicit.scope_spans[1]
                .scope
                .as_ref()
                .map(|s| s.name.as_str()),
            Some("s2")
        );
        let via_from: ExportTraceServiceRequest = TracesBuilder::new().into();
        assert!(via_from.resource_spans.is_empty());
    }
}
