//! Jaeger (Thrift and protobuf) → an OTLP traces request, as otelcol-contrib's
//! `pkg/translator/jaeger` (v0.160) does it; the module docs of [`super`] list the rules.

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::span::{Event, Link, SpanKind};
use otlp_proto::trace::v1::status::StatusCode;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan, Status};

use super::{model, proto};

/// The service name otelcol writes for a resource without one (the proto path reads it back
/// as no resource at all).
const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";

/// A reference, either protocol.
struct Ref {
    child_of: bool,
    trace_id: [u8; 16],
    span_id: u64,
}

/// A span, either protocol, its tags already attributes.
struct Common {
    trace_id: [u8; 16],
    span_id: u64,
    /// The Thrift `parentSpanId` field (0 in protobuf, which has none).
    parent_field: u64,
    name: String,
    refs: Vec<Ref>,
    flags: u32,
    start: u64,
    end: u64,
    attributes: Vec<KeyValue>,
    logs: Vec<(u64, Vec<KeyValue>)>,
}

fn kv(key: impl Into<String>, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// Puts (overwriting in place) `key`; `http.response.status_code` is written as
/// `http.status_code` (otelcol's v0.156 gates, both off by default).
fn put(attributes: &mut Vec<KeyValue>, key: &str, value: Value) {
    let key = if key == "http.response.status_code" {
        "http.status_code"
    } else {
        key
    };
    match attributes.iter_mut().find(|a| a.key == key) {
        Some(existing) => existing.value = Some(AnyValue { value: Some(value) }),
        None => attributes.push(kv(key, value)),
    }
}

fn get<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn remove(attributes: &mut Vec<KeyValue>, key: &str) -> Option<Value> {
    let i = attributes.iter().position(|a| a.key == key)?;
    attributes.swap_remove(i).value.and_then(|v| v.value)
}

fn str_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::StringValue(s)) => s.clone(),
        _ => String::new(),
    }
}

fn thrift_value(tag: &model::Tag) -> Value {
    match tag.v_type {
        0 => Value::StringValue(tag.v_str.clone().unwrap_or_default()),
        1 => Value::DoubleValue(tag.v_double.unwrap_or(0.0)),
        2 => Value::BoolValue(tag.v_bool.unwrap_or(false)),
        3 => Value::IntValue(tag.v_long.unwrap_or(0)),
        4 => Value::BytesValue(tag.v_binary.clone().unwrap_or_default()),
        other => Value::StringValue(format!("<Unknown Jaeger TagType \"{other}\">")),
    }
}

fn thrift_tags(tags: Option<&Vec<model::Tag>>) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for tag in tags.into_iter().flatten() {
        put(&mut out, &tag.key, thrift_value(tag));
    }
    out
}

fn proto_value(tag: &proto::KeyValue) -> Value {
    match tag.v_type {
        0 => Value::StringValue(tag.v_str.clone()),
        1 => Value::BoolValue(tag.v_bool),
        2 => Value::IntValue(tag.v_int64),
        3 => Value::DoubleValue(tag.v_float64),
        4 => Value::BytesValue(tag.v_binary.clone()),
        other => Value::StringValue(format!("<Unknown Jaeger TagType \"{other}\">")),
    }
}

fn proto_tags(tags: &[proto::KeyValue]) -> Vec<KeyValue> {
    let mut out = Vec::new();
    for tag in tags {
        put(&mut out, &tag.key, proto_value(tag));
    }
    out
}

fn trace_id(high: u64, low: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&high.to_be_bytes());
    id[8..].copy_from_slice(&low.to_be_bytes());
    id
}

/// A resource from a process's service name and tags.
fn resource(service_name: &str, tags: Option<Vec<KeyValue>>) -> Resource {
    let mut attributes = Vec::new();
    if service_name.is_empty() && tags.is_none() {
        return Resource::default();
    }
    if !service_name.is_empty() {
        attributes.push(kv(
            "service.name",
            Value::StringValue(service_name.to_owned()),
        ));
    }
    for tag in tags.unwrap_or_default() {
        let value = tag
            .value
            .and_then(|v| v.value)
            .unwrap_or(Value::StringValue(String::new()));
        put(&mut attributes, &tag.key, value);
    }
    if get(&attributes, "host.name").is_none()
        && let Some(hostname) = get(&attributes, "hostname").cloned()
    {
        attributes.push(kv("host.name", hostname));
        remove(&mut attributes, "hostname");
    }
    if get(&attributes, "opencensus.exporterversion").is_none()
        && let Some(version) = get(&attributes, "jaeger.version").cloned()
    {
        attributes.push(kv(
            "opencensus.exporterversion",
            Value::StringValue(format!("Jaeger-{}", str_of(Some(&version)))),
        ));
        remove(&mut attributes, "jaeger.version");
    }
    Resource {
        attributes,
        ..Resource::default()
    }
}

fn kind(attributes: &mut Vec<KeyValue>) -> SpanKind {
    match remove(attributes, "span.kind") {
        Some(Value::StringValue(s)) => match s.as_str() {
            "client" => SpanKind::Client,
            "server" => SpanKind::Server,
            "producer" => SpanKind::Producer,
            "consumer" => SpanKind::Consumer,
            "internal" => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
        _ => SpanKind::Unspecified,
    }
}

fn http_code(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::IntValue(i) => Some(*i),
        Value::StringValue(s) => s.parse().ok(),
        _ => None,
    }
}

fn status(attributes: &mut Vec<KeyValue>, kind: SpanKind) -> Option<Status> {
    let mut exists = false;
    let mut code = StatusCode::Unset;
    let mut message = String::new();
    if get(attributes, "error") == Some(&Value::BoolValue(true)) {
        code = StatusCode::Error;
        remove(attributes, "error");
        exists = true;
        message = match remove(attributes, "otel.status_description") {
            Some(v) => str_of(Some(&v)),
            None => str_of(get(attributes, "http.status_message")),
        };
    }
    if let Some(value) = get(attributes, "otel.status_code").cloned() {
        if !exists {
            exists = true;
            code = match str_of(Some(&value)).to_ascii_uppercase().as_str() {
                "OK" => StatusCode::Ok,
                "ERROR" => StatusCode::Error,
                _ => StatusCode::Unset,
            };
            if let Some(description) = remove(attributes, "otel.status_description") {
                message = str_of(Some(&description));
            }
        }
        remove(attributes, "otel.status_code");
    } else if !exists && let Some(http) = http_code(get(attributes, "http.status_code")) {
        // A 4xx is the client's error, not the server's; otherwise [100, 399) is not one.
        let client_error = (400..500).contains(&http);
        let from_http = if client_error && kind == SpanKind::Client {
            StatusCode::Error
        } else if (client_error && kind == SpanKind::Server) || (100..399).contains(&http) {
            StatusCode::Unset
        } else {
            StatusCode::Error
        };
        if from_http != StatusCode::Unset {
            exists = true;
            code = from_http;
            message = str_of(get(attributes, "http.status_message"));
        }
    }
    exists.then_some(Status {
        code: code as i32,
        message,
    })
}

/// The parent: Thrift's `parentSpanId`, else the first same-trace CHILD_OF reference, else the
/// first same-trace FOLLOWS_FROM one.
fn parent(span: &Common) -> u64 {
    if span.parent_field != 0 {
        return span.parent_field;
    }
    let same = |r: &&Ref| r.trace_id == span.trace_id;
    span.refs
        .iter()
        .filter(same)
        .find(|r| r.child_of)
        .or_else(|| span.refs.iter().filter(same).find(|r| !r.child_of))
        .map_or(0, |r| r.span_id)
}

fn links(span: &Common, parent: u64) -> Vec<Link> {
    if span.refs.is_empty()
        || (span.refs.len() == 1 && span.refs[0].child_of && span.refs[0].span_id == parent)
    {
        return Vec::new();
    }
    span.refs
        .iter()
        .filter(|r| !(r.child_of && r.span_id == parent))
        .map(|r| Link {
            trace_id: r.trace_id.to_vec(),
            span_id: r.span_id.to_be_bytes().to_vec(),
            attributes: vec![kv(
                "opentracing.ref_type",
                Value::StringValue(
                    if r.child_of {
                        "child_of"
                    } else {
                        "follows_from"
                    }
                    .into(),
                ),
            )],
            ..Link::default()
        })
        .collect()
}

fn otlp_span(mut span: Common, proto_path: bool) -> OtlpSpan {
    let parent = parent(&span);
    let links = links(&span, parent);
    let mut attributes = std::mem::take(&mut span.attributes);
    let kind = kind(&mut attributes);
    let status = status(&mut attributes, kind);
    let trace_state = if proto_path {
        remove(&mut attributes, "w3c.tracestate")
            .map(|v| str_of(Some(&v)))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let events = span
        .logs
        .into_iter()
        .map(|(time, mut fields)| {
            let name = remove(&mut fields, "event")
                .map(|v| str_of(Some(&v)))
                .unwrap_or_default();
            Event {
                time_unix_nano: time,
                name,
                attributes: fields,
                ..Event::default()
            }
        })
        .collect();
    let empty_if_zero = |id: &[u8]| {
        if id.iter().all(|&b| b == 0) {
            Vec::new()
        } else {
            id.to_vec()
        }
    };
    OtlpSpan {
        trace_id: empty_if_zero(&span.trace_id),
        span_id: empty_if_zero(&span.span_id.to_be_bytes()),
        trace_state,
        parent_span_id: empty_if_zero(&parent.to_be_bytes()),
        flags: span.flags & 1,
        name: span.name,
        kind: kind as i32,
        start_time_unix_nano: span.start,
        end_time_unix_nano: span.end,
        attributes,
        events,
        links,
        status,
        ..OtlpSpan::default()
    }
}

fn micros(us: i64) -> u64 {
    (us as u64).wrapping_mul(1000)
}

fn thrift_span(span: &model::Span) -> Common {
    Common {
        trace_id: trace_id(span.trace_id_high as u64, span.trace_id_low as u64),
        span_id: span.span_id as u64,
        parent_field: span.parent_span_id as u64,
        name: span.operation_name.clone(),
        refs: span
            .references
            .iter()
            .flatten()
            .map(|r| Ref {
                child_of: r.ref_type == 0,
                trace_id: trace_id(r.trace_id_high as u64, r.trace_id_low as u64),
                span_id: r.span_id as u64,
            })
            .collect(),
        flags: span.flags as u32,
        start: micros(span.start_time),
        end: micros(span.start_time.wrapping_add(span.duration)),
        attributes: thrift_tags(span.tags.as_ref()),
        logs: span
            .logs
            .iter()
            .flatten()
            .map(|l| (micros(l.timestamp), thrift_tags(Some(&l.fields))))
            .collect(),
    }
}

/// A Thrift batch: one resource (the process), one scope without a name, the spans in order
/// (all-default spans skipped).
pub(crate) fn from_thrift(batch: &model::Batch) -> ExportTraceServiceRequest {
    let process = &batch.process;
    let resource = resource(
        &process.service_name,
        process.tags.as_ref().map(|t| thrift_tags(Some(t))),
    );
    let mut resource_spans = ResourceSpans {
        resource: Some(resource),
        ..ResourceSpans::default()
    };
    if !batch.spans.is_empty() {
        let blank = model::Span::default();
        resource_spans.scope_spans.push(ScopeSpans {
            scope: Some(InstrumentationScope::default()),
            spans: batch
                .spans
                .iter()
                .filter(|s| **s != blank)
                .map(|s| otlp_span(thrift_span(s), false))
                .collect(),
            ..ScopeSpans::default()
        });
    }
    ExportTraceServiceRequest {
        resource_spans: vec![resource_spans],
    }
}

/// A protobuf id of 16 bytes (or 8, the low half); `None` for any other length.
fn proto_trace_id(bytes: &[u8]) -> Option<[u8; 16]> {
    match bytes.len() {
        16 => bytes.try_into().ok(),
        8 => {
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(bytes);
            Some(id)
        }
        _ => None,
    }
}

fn proto_span_id(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

fn proto_span(span: &proto::Span) -> Result<Common, String> {
    let trace_id = proto_trace_id(&span.trace_id).ok_or("invalid length for TraceID")?;
    let span_id = proto_span_id(&span.span_id).ok_or("invalid length for SpanID")?;
    let mut refs = Vec::with_capacity(span.references.len());
    for r in &span.references {
        refs.push(Ref {
            child_of: r.ref_type == 0,
            trace_id: proto_trace_id(&r.trace_id).ok_or("invalid length for TraceID")?,
            span_id: proto_span_id(&r.span_id).ok_or("invalid length for SpanID")?,
        });
    }
    let start = span.start_time.map_or(0, |t| t.nanos());
    let duration = span.duration.map_or(0, |d| d.nanos());
    Ok(Common {
        trace_id,
        span_id,
        parent_field: 0,
        name: span.operation_name.clone(),
        refs,
        flags: span.flags,
        start: start as u64,
        end: start.wrapping_add(duration) as u64,
        attributes: proto_tags(&span.tags),
        logs: span
            .logs
            .iter()
            .map(|l| {
                (
                    l.timestamp.map_or(0, |t| t.nanos()) as u64,
                    proto_tags(&l.fields),
                )
            })
            .collect(),
    })
}

fn proto_resource(process: Option<&proto::Process>) -> Resource {
    match process {
        None => Resource::default(),
        Some(p) if p.service_name == NO_SERVICE_NAME => Resource::default(),
        Some(p) => resource(
            &p.service_name,
            (!p.tags.is_empty()).then(|| proto_tags(&p.tags)),
        ),
    }
}

/// A protobuf batch: one resource per distinct process (a span's own, else the batch's), one
/// scope per `otel.scope.name`/`otel.scope.version`. An id of the wrong length fails the
/// request (the Go receiver fails to unmarshal it).
pub(crate) fn from_proto(batch: &proto::Batch) -> Result<ExportTraceServiceRequest, String> {
    let mut groups: Vec<(Option<&proto::Process>, Vec<&proto::Span>)> = Vec::new();
    let batch_process = batch.process.as_ref();
    groups.push((batch_process, Vec::new()));
    for span in &batch.spans {
        let process = span.process.as_ref().or(batch_process);
        // The batch's own process is the usual one: the same reference, no deep comparison.
        let same = |p: &Option<&proto::Process>| match (p, process) {
            (Some(a), Some(b)) => std::ptr::eq(*a, b) || *a == b,
            (None, None) => true,
            _ => false,
        };
        match groups.iter_mut().find(|(p, _)| same(p)) {
            Some((_, spans)) => spans.push(span),
            None => groups.push((process, vec![span])),
        }
    }
    let blank = proto::Span::default();
    let mut resource_spans = Vec::new();
    for (process, spans) in groups {
        if process.is_none() && spans.is_empty() {
            continue;
        }
        let mut out = ResourceSpans {
            resource: Some(proto_resource(process)),
            ..ResourceSpans::default()
        };
        for span in spans.into_iter().filter(|s| **s != blank) {
            let mut common = proto_span(span)?;
            let (name, version) = match remove(&mut common.attributes, "otel.scope.name") {
                Some(name) => (
                    str_of(Some(&name)),
                    remove(&mut common.attributes, "otel.scope.version")
                        .map(|v| str_of(Some(&v)))
                        .unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            };
            let translated = otlp_span(common, true);
            match out.scope_spans.iter_mut().find(|s| {
                s.scope
                    .as_ref()
                    .is_some_and(|sc| sc.name == name && sc.version == version)
            }) {
                Some(scope) => scope.spans.push(translated),
                None => out.scope_spans.push(ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name,
                        version,
                        ..InstrumentationScope::default()
                    }),
                    spans: vec![translated],
                    ..ScopeSpans::default()
                }),
            }
        }
        if process.is_some() || !out.scope_spans.is_empty() {
            resource_spans.push(out);
        }
    }
    Ok(ExportTraceServiceRequest { resource_spans })
}
