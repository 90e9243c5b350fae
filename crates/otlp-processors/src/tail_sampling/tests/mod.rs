//! Tests of the `tail_sampling` processor: each policy on hand-built traces (`policies.rs`),
//! precedence and configuration checks (`decision.rs`), the engine's bounds and late spans
//! (`engine.rs`), and the component end to end on tokio's paused clock (`processor.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod decision;
mod engine;
mod policies;
mod processor;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

/// A string attribute.
pub(super) fn s(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.to_owned()))
}

/// An integer attribute.
pub(super) fn i(key: &str, value: i64) -> KeyValue {
    kv(key, Value::IntValue(value))
}

/// A boolean attribute.
pub(super) fn b(key: &str, value: bool) -> KeyValue {
    kv(key, Value::BoolValue(value))
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A span of trace `[trace; 16]`, span id `[n; 8]`, from `start_ms` to `end_ms`.
pub(super) fn span(trace: u8, n: u8, start_ms: u64, end_ms: u64) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![n; 8],
        name: format!("span {n}"),
        start_time_unix_nano: 1_000_000_000_000 + start_ms * 1_000_000,
        end_time_unix_nano: 1_000_000_000_000 + end_ms * 1_000_000,
        ..Default::default()
    }
}

/// `span` with attributes.
pub(super) fn with_attrs(mut span: Span, attributes: Vec<KeyValue>) -> Span {
    span.attributes = attributes;
    span
}

/// `span` with a status code (0 unset, 1 ok, 2 error).
pub(super) fn with_status(mut span: Span, code: i32) -> Span {
    span.status = Some(Status {
        code,
        ..Default::default()
    });
    span
}

/// One resource (with `resource` attributes) and scope holding `spans`.
pub(super) fn resource_spans(resource: Vec<KeyValue>, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: resource,
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            scope: Some(InstrumentationScope {
                name: "test".to_owned(),
                ..Default::default()
            }),
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A request of one resource with `spans`.
pub(super) fn request(resource: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![resource_spans(resource, spans)],
    }
}

/// The spans of a request, as `(trace byte, span byte)`, in order.
pub(super) fn span_ids(request: &ExportTraceServiceRequest) -> Vec<(u8, u8)> {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|s| (s.trace_id[0], s.span_id[0]))
        .collect()
}
