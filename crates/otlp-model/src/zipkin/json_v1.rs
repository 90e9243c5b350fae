//! Zipkin v1 JSON (`POST /api/v1/spans`) → OTLP, as otelcol-contrib's `zipkinv1` translator:
//! core annotations (`cs`/`cr` client, `sr`/`ss` server, `ms` producer, `mr` consumer) give
//! the kind, the endpoint and, with the others, the time range; other annotations are events;
//! binary annotations are attributes (`lc` as `component`), with the status read from
//! `census.status_code`, `otel.status_code`, `error` or `http.status_code`.

use std::collections::HashMap;

use serde::Deserialize;

use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::span::{Event, SpanKind};
use crate::proto::trace::v1::status::StatusCode;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan, Status};

use super::value::typed_tag;
use super::{START_TIME_ABSENT, ZipkinError};

/// The service name of a v1 span whose annotations name none.
pub const UNKNOWN_SERVICE: &str = "unknown-service";

#[derive(Deserialize)]
struct WireSpan {
    #[serde(rename = "traceId", default)]
    trace_id: String,
    #[serde(default)]
    name: String,
    #[serde(rename = "parentId", default)]
    parent_id: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    duration: i64,
    #[serde(default)]
    annotations: Vec<Option<WireAnnotation>>,
    #[serde(rename = "binaryAnnotations", default)]
    binary_annotations: Vec<Option<WireBinaryAnnotation>>,
}

#[derive(Deserialize)]
struct WireAnnotation {
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    value: String,
    #[serde(default)]
    endpoint: Option<WireEndpoint>,
}

#[derive(Deserialize)]
struct WireBinaryAnnotation {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    endpoint: Option<WireEndpoint>,
}

#[derive(Deserialize, Default, Clone)]
struct WireEndpoint {
    #[serde(rename = "serviceName", default)]
    service_name: String,
    #[serde(default)]
    ipv4: String,
    #[serde(default)]
    ipv6: String,
    #[serde(default)]
    port: i32,
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(
        (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).unwrap_or(0))
            .collect(),
    )
}

fn trace_id(text: &str) -> Result<Vec<u8>, ZipkinError> {
    let prefix = "zipkinV1 span traceId";
    if text.len() != 16 && text.len() != 32 {
        return Err(ZipkinError::Invalid(format!(
            "{prefix}: hex traceId span has wrong length (expected 16 or 32)"
        )));
    }
    let bytes = hex_bytes(text)
        .ok_or_else(|| ZipkinError::Invalid(format!("{prefix}: invalid hex {text:?}")))?;
    let mut id = vec![0u8; 16];
    id[16 - bytes.len()..].copy_from_slice(&bytes);
    if id.iter().all(|&b| b == 0) {
        return Err(ZipkinError::Invalid(format!("{prefix}: traceId is zero")));
    }
    Ok(id)
}

fn span_id(text: &str, field: &str) -> Result<Vec<u8>, ZipkinError> {
    let prefix = format!("zipkinV1 span {field}");
    if text.len() != 16 {
        return Err(ZipkinError::Invalid(format!(
            "{prefix}: hex Id has wrong length (expected 16)"
        )));
    }
    let bytes = hex_bytes(text)
        .ok_or_else(|| ZipkinError::Invalid(format!("{prefix}: invalid hex {text:?}")))?;
    if bytes.iter().all(|&b| b == 0) {
        return Err(ZipkinError::Invalid(format!("{prefix}: ID is zero")));
    }
    Ok(bytes)
}

fn kv(key: impl Into<String>, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn micros_to_nanos(us: i64) -> u64 {
    if us <= 0 {
        0
    } else {
        (us as u64).saturating_mul(1000)
    }
}

/// A status code read from an int attribute or a numeric string.
fn code_of(value: &Value) -> Option<i64> {
    match value {
        Value::IntValue(i) => Some(*i),
        Value::StringValue(s) => s.parse::<i64>().ok(),
        _ => None,
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::StringValue(s) => s.clone(),
        Value::IntValue(i) => i.to_string(),
        Value::DoubleValue(d) => d.to_string(),
        Value::BoolValue(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Takes the status keys out of `attributes` and returns the status they give.
fn status(attributes: &mut Vec<KeyValue>) -> Option<Status> {
    let mut take = |key: &str| -> Option<Value> {
        let i = attributes.iter().position(|a| a.key == key)?;
        attributes.remove(i).value.and_then(|v| v.value)
    };
    let census_code = take("census.status_code");
    let census_description = take("census.status_description")
        .or_else(|| take("opencensus.status_description"))
        .map(|v| text_of(&v));
    let otel_code = take("otel.status_code");
    let otel_description = take("otel.status_description").map(|v| text_of(&v));
    let error = take("error");
    let get = |key: &str| {
        attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_ref())
            .and_then(|v| v.value.clone())
    };
    if let Some(code) = census_code.as_ref().and_then(code_of) {
        return Some(Status {
            code: if code == 0 {
                StatusCode::Ok
            } else {
                StatusCode::Error
            } as i32,
            message: census_description.unwrap_or_default(),
        });
    }
    if let Some(code) = otel_code.as_ref().and_then(code_of) {
        return Some(Status {
            code: i32::try_from(code).unwrap_or(0),
            message: otel_description.unwrap_or_default(),
        });
    }
    if error.is_some() {
        return Some(Status {
            code: StatusCode::Error as i32,
            message: census_description.or(otel_description).unwrap_or_default(),
        });
    }
    if let Some(code) = get("http.status_code").as_ref().and_then(code_of) {
        let message = get("http.status_message")
            .map(|v| text_of(&v))
            .unwrap_or_default();
        return Some(Status {
            code: if (100..400).contains(&code) {
                StatusCode::Unset
            } else {
                StatusCode::Error
            } as i32,
            message,
        });
    }
    None
}

/// Decodes a Zipkin v1 JSON body and translates it. Spans are grouped by their endpoint
/// (service name, address and port), in order of first appearance.
pub fn decode_v1_json(
    body: &[u8],
    parse_string_tags: bool,
) -> Result<ExportTraceServiceRequest, ZipkinError> {
    let wire: Option<Vec<Option<WireSpan>>> =
        serde_json::from_slice(body).map_err(|e| ZipkinError::Json(format!("zipkinv1: {e}")))?;
    let mut groups: Vec<ResourceSpans> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for span in wire.unwrap_or_default().into_iter().flatten() {
        let (endpoint, otlp) = translate(span, parse_string_tags)?;
        let key = format!(
            "{}-{}-{}-{}",
            endpoint.service_name, endpoint.ipv4, endpoint.ipv6, endpoint.port
        );
        let at = *index.entry(key).or_insert_with(|| {
            let mut attributes = vec![kv(
                "service.name",
                Value::StringValue(endpoint.service_name.clone()),
            )];
            if !endpoint.ipv4.is_empty() {
                attributes.push(kv("ipv4", Value::StringValue(endpoint.ipv4.clone())));
            }
            if !endpoint.ipv6.is_empty() {
                attributes.push(kv("ipv6", Value::StringValue(endpoint.ipv6.clone())));
            }
            if endpoint.port != 0 {
                attributes.push(kv("port", Value::StringValue(endpoint.port.to_string())));
            }
            groups.push(ResourceSpans {
                resource: Some(Resource {
                    attributes,
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope::default()),
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            });
            groups.len() - 1
        });
        groups[at].scope_spans[0].spans.push(otlp);
    }
    Ok(ExportTraceServiceRequest {
        resource_spans: groups,
    })
}

fn translate(
    span: WireSpan,
    parse_string_tags: bool,
) -> Result<(WireEndpoint, OtlpSpan), ZipkinError> {
    let trace_id = trace_id(&span.trace_id)?;
    let id = span_id(&span.id, "id")?;
    let parent_span_id = if span.parent_id.is_empty() {
        Vec::new()
    } else {
        span_id(&span.parent_id, "parentId")?
    };
    let mut kind = SpanKind::Unspecified;
    let mut endpoint: Option<WireEndpoint> = None;
    let (mut start, mut end) = (0u64, 0u64);
    let mut seen_time = false;
    let mut events = Vec::new();
    for annotation in span.annotations.into_iter().flatten() {
        if annotation.value.is_empty() {
            continue;
        }
        let ts = micros_to_nanos(annotation.timestamp);
        if !seen_time {
            (start, end, seen_time) = (ts, ts, true);
        } else {
            start = start.min(ts);
            end = end.max(ts);
        }
        let core_kind = match annotation.value.as_str() {
            "cs" | "cr" => Some(SpanKind::Client),
            "ms" => Some(SpanKind::Producer),
            "mr" => Some(SpanKind::Consumer),
            "ss" | "sr" => Some(SpanKind::Server),
            _ => None,
        };
        match core_kind {
            Some(k) => {
                if kind == SpanKind::Unspecified {
                    kind = k;
                }
                if endpoint.is_none()
                    && let Some(e) = annotation.endpoint.filter(|e| !e.service_name.is_empty())
                {
                    endpoint = Some(e);
                }
            }
            None => events.push(Event {
                time_unix_nano: ts,
                name: annotation.value,
                ..Event::default()
            }),
        }
    }
    let mut endpoint = endpoint.unwrap_or_else(|| WireEndpoint {
        service_name: UNKNOWN_SERVICE.to_owned(),
        ..WireEndpoint::default()
    });
    let mut fallback = String::new();
    let mut lc = String::new();
    let mut attributes: Vec<KeyValue> = Vec::with_capacity(span.binary_annotations.len() + 1);
    for annotation in span.binary_annotations.into_iter().flatten() {
        if let Some(e) = &annotation.endpoint
            && !e.service_name.is_empty()
        {
            fallback = e.service_name.clone();
        }
        let key = if annotation.key == "lc" {
            lc = annotation.value.clone();
            "component".to_owned()
        } else {
            annotation.key
        };
        let value = if parse_string_tags {
            typed_tag(&annotation.value)
        } else {
            Value::StringValue(annotation.value)
        };
        match attributes.iter_mut().find(|a| a.key == key) {
            Some(existing) => existing.value = Some(AnyValue { value: Some(value) }),
            None => attributes.push(kv(key, value)),
        }
    }
    if fallback.is_empty() {
        fallback = lc;
    }
    if endpoint.service_name == UNKNOWN_SERVICE && !fallback.is_empty() {
        endpoint.service_name = fallback;
    }
    let status = status(&mut attributes);
    if span.timestamp != 0 {
        start = micros_to_nanos(span.timestamp);
        end = micros_to_nanos(span.timestamp.saturating_add(span.duration));
    }
    if start == 0 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        (start, end) = (now, now);
        attributes.push(kv(START_TIME_ABSENT, Value::BoolValue(true)));
    }
    Ok((
        endpoint,
        OtlpSpan {
            trace_id,
            span_id: id,
            parent_span_id,
            name: span.name,
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes,
            events,
            status,
            ..OtlpSpan::default()
        },
    ))
}
