//! Ended spans → an OTLP `ExportTraceServiceRequest`, on the export thread.

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::span::{Event as ProtoEvent, Link as ProtoLink};
use otlp_proto::trace::v1::status::StatusCode;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span as ProtoSpan, Status as ProtoStatus};

use crate::export::worker::{Encode, WireResource};
use crate::scope::InstrumentationScope;
use crate::trace::{Event, Link, SpanData, Status};
use crate::value::into_proto_attributes;

impl Encode for SpanData {
    type Request = ExportTraceServiceRequest;

    fn encode(items: impl Iterator<Item = Self>, resource: &WireResource) -> Self::Request {
        encode_spans(items, resource)
    }
}

/// One request: every span under `resource`, grouped by scope in order of first appearance.
pub(crate) fn encode_spans(
    spans: impl Iterator<Item = SpanData>,
    resource: &WireResource,
) -> ExportTraceServiceRequest {
    let mut scopes: Vec<InstrumentationScope> = Vec::new();
    let mut scope_spans: Vec<ScopeSpans> = Vec::new();
    for span in spans {
        let index = match scopes
            .iter()
            .position(|s| s.ptr_eq(&span.scope) || *s == span.scope)
        {
            Some(index) => index,
            None => {
                scope_spans.push(ScopeSpans {
                    scope: Some(span.scope.proto().clone()),
                    spans: Vec::new(),
                    schema_url: span.scope.schema_url().to_owned(),
                });
                scopes.push(span.scope.clone());
                scopes.len() - 1
            }
        };
        scope_spans[index].spans.push(span_to_proto(span));
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.proto.clone()),
            scope_spans,
            schema_url: resource.schema_url.clone(),
        }],
    }
}

/// One span as OTLP protobuf.
#[must_use]
pub fn span_to_proto(span: SpanData) -> ProtoSpan {
    let sc = &span.span_context;
    let parent_span_id = if span.parent_span_id.is_valid() {
        span.parent_span_id.to_bytes().to_vec()
    } else {
        Vec::new()
    };
    let flags = sc
        .trace_flags()
        .to_otlp_span_flags(span.parent_is_remote.unwrap_or(false));
    let trace_state = sc.trace_state().to_string();
    let status = match span.status {
        Status::Unset => None,
        Status::Ok => Some(ProtoStatus {
            message: String::new(),
            code: StatusCode::Ok as i32,
        }),
        Status::Error { description } => Some(ProtoStatus {
            message: description.into_owned(),
            code: StatusCode::Error as i32,
        }),
    };
    ProtoSpan {
        trace_id: sc.trace_id().to_bytes().to_vec(),
        span_id: sc.span_id().to_bytes().to_vec(),
        trace_state,
        parent_span_id,
        flags,
        name: span.name.into_owned(),
        kind: span.kind as i32,
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: into_proto_attributes(span.attributes),
        dropped_attributes_count: span.dropped_attributes_count,
        events: span.events.into_iter().map(event_to_proto).collect(),
        dropped_events_count: span.dropped_events_count,
        links: span.links.into_iter().map(link_to_proto).collect(),
        dropped_links_count: span.dropped_links_count,
        status,
    }
}

fn event_to_proto(event: Event) -> ProtoEvent {
    ProtoEvent {
        time_unix_nano: event.time_unix_nano,
        name: event.name.into_owned(),
        attributes: into_proto_attributes(event.attributes),
        dropped_attributes_count: event.dropped_attributes_count,
    }
}

fn link_to_proto(link: Link) -> ProtoLink {
    let sc = &link.span_context;
    ProtoLink {
        trace_id: sc.trace_id().to_bytes().to_vec(),
        span_id: sc.span_id().to_bytes().to_vec(),
        trace_state: sc.trace_state().to_string(),
        attributes: into_proto_attributes(link.attributes),
        dropped_attributes_count: link.dropped_attributes_count,
        flags: sc.trace_flags().to_otlp_span_flags(sc.is_remote()),
    }
}
