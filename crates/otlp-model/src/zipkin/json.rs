//! Zipkin v2 JSON (`[{"traceId": …}, …]`): decoded as zipkin-go decodes it, encoded as
//! zipkin-go encodes it (field order, lower-cased names and service names, µs rounding).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::value::write_json_string;
use super::{Annotation, Endpoint, Kind, Span, ZipkinError};

#[derive(Deserialize)]
struct WireSpan<'a> {
    #[serde(rename = "traceId", borrow, default)]
    trace_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "parentId", borrow, default)]
    parent_id: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    timestamp: Option<u64>,
    #[serde(default)]
    duration: Option<u64>,
    #[serde(rename = "localEndpoint", default)]
    local_endpoint: Option<WireEndpoint<'a>>,
    #[serde(rename = "remoteEndpoint", default)]
    remote_endpoint: Option<WireEndpoint<'a>>,
    #[serde(default)]
    annotations: Option<Vec<WireAnnotation>>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    debug: Option<bool>,
    #[serde(default)]
    shared: Option<bool>,
}

#[derive(Deserialize)]
struct WireEndpoint<'a> {
    #[serde(rename = "serviceName", default)]
    service_name: Option<String>,
    #[serde(borrow, default)]
    ipv4: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ipv6: Option<Cow<'a, str>>,
    #[serde(default)]
    port: Option<u16>,
}

#[derive(Deserialize)]
struct WireAnnotation {
    #[serde(default)]
    timestamp: Option<u64>,
    #[serde(default)]
    value: Option<String>,
}

/// Parses hex as Go's `strconv.ParseUint(s, 16, 64)`: hex digits only (either case), no sign.
pub(crate) fn parse_hex_u64(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

/// A trace id as zipkin-go's `TraceIDFromHex`: the last 16 digits are the low half, any before
/// them the high half.
pub(crate) fn parse_trace_id(text: &str) -> Result<[u8; 16], ZipkinError> {
    let bad = || ZipkinError::Invalid(format!("invalid traceId {text:?}"));
    if text.is_empty() {
        return Err(ZipkinError::Invalid("valid traceId required".into()));
    }
    let (high, low) = if text.len() > 16 {
        let split = text.len() - 16;
        if !text.is_char_boundary(split) {
            return Err(bad());
        }
        (
            parse_hex_u64(&text[..split]).ok_or_else(bad)?,
            parse_hex_u64(&text[split..]).ok_or_else(bad)?,
        )
    } else {
        (0, parse_hex_u64(text).ok_or_else(bad)?)
    };
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&high.to_be_bytes());
    id[8..].copy_from_slice(&low.to_be_bytes());
    Ok(id)
}

fn parse_span_id(text: Option<&str>, field: &str) -> Result<u64, ZipkinError> {
    match text {
        None | Some("") => Ok(0),
        Some(hex) => parse_hex_u64(hex)
            .ok_or_else(|| ZipkinError::Invalid(format!("invalid {field} {hex:?}"))),
    }
}

fn parse_ip(text: Option<&str>) -> Result<Option<IpAddr>, ZipkinError> {
    match text {
        None | Some("") => Ok(None),
        Some(ip) => ip
            .parse::<IpAddr>()
            .map(Some)
            .map_err(|_| ZipkinError::Invalid(format!("invalid IP address: {ip}"))),
    }
}

fn endpoint(wire: Option<WireEndpoint<'_>>) -> Result<Option<Endpoint>, ZipkinError> {
    let Some(wire) = wire else {
        return Ok(None);
    };
    let endpoint = Endpoint {
        service_name: wire.service_name.unwrap_or_default(),
        ipv4: parse_ip(wire.ipv4.as_deref())?,
        ipv6: parse_ip(wire.ipv6.as_deref())?,
        port: wire.port.unwrap_or(0),
    };
    Ok((!endpoint.is_empty()).then_some(endpoint))
}

fn span(wire: WireSpan<'_>) -> Result<Span, ZipkinError> {
    let trace_id = parse_trace_id(wire.trace_id.as_deref().unwrap_or(""))?;
    let id = parse_span_id(wire.id.as_deref(), "id")?;
    if id == 0 {
        return Err(ZipkinError::Invalid("valid span id required".into()));
    }
    let parent_id = match wire.parent_id.as_deref() {
        None => None,
        some => Some(parse_span_id(some, "parentId")?),
    };
    let mut annotations = Vec::new();
    for a in wire.annotations.unwrap_or_default() {
        let timestamp_us = a
            .timestamp
            .filter(|&t| t >= 1)
            .ok_or_else(|| ZipkinError::Invalid("valid annotation timestamp required".into()))?;
        annotations.push(Annotation {
            timestamp_us,
            value: a.value.unwrap_or_default(),
        });
    }
    Ok(Span {
        trace_id,
        id,
        parent_id,
        name: wire.name.unwrap_or_default(),
        kind: wire.kind.as_deref().and_then(Kind::from_json),
        timestamp_us: wire.timestamp.filter(|&t| t > 0),
        duration_us: wire.duration.unwrap_or(0),
        local_endpoint: endpoint(wire.local_endpoint)?,
        remote_endpoint: endpoint(wire.remote_endpoint)?,
        annotations,
        tags: wire.tags.unwrap_or_default(),
        debug: wire.debug.unwrap_or(false),
        shared: wire.shared.unwrap_or(false),
    })
}

/// Decodes a Zipkin v2 JSON body: an array of spans (`null` is none).
pub fn decode_v2_json(body: &[u8]) -> Result<Vec<Span>, ZipkinError> {
    let wire: Option<Vec<Option<WireSpan<'_>>>> =
        serde_json::from_slice(body).map_err(|e| ZipkinError::Json(e.to_string()))?;
    wire.unwrap_or_default()
        .into_iter()
        .flatten()
        .map(span)
        .collect()
}

fn write_endpoint(out: &mut String, key: &str, endpoint: &Endpoint) {
    out.push_str(key);
    out.push('{');
    let mut first = true;
    let mut field = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    if !endpoint.service_name.is_empty() {
        field(out, "serviceName");
        write_json_string(out, &endpoint.service_name.to_lowercase());
    }
    if let Some(ip) = endpoint.ipv4 {
        field(out, "ipv4");
        write_json_string(out, &ip.to_string());
    }
    if let Some(ip) = endpoint.ipv6 {
        field(out, "ipv6");
        write_json_string(out, &ip.to_string());
    }
    if endpoint.port != 0 {
        field(out, "port");
        out.push_str(&endpoint.port.to_string());
    }
    out.push('}');
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Encodes spans as a Zipkin v2 JSON array, as zipkin-go's serializer writes it (the span name
/// and the endpoints' service names lower-cased, as the Zipkin API asks).
pub fn encode_v2_json(spans: &[Span]) -> Vec<u8> {
    let mut out = String::with_capacity(spans.len() * 384 + 2);
    out.push('[');
    for (i, span) in spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        if let Some(ts) = span.timestamp_us.filter(|&t| t > 0) {
            out.push_str("\"timestamp\":");
            out.push_str(&ts.to_string());
            out.push(',');
        }
        if span.duration_us > 0 {
            out.push_str("\"duration\":");
            out.push_str(&span.duration_us.to_string());
            out.push(',');
        }
        out.push_str("\"traceId\":\"");
        if span.trace_id[..8] == [0; 8] {
            push_hex(&mut out, &span.trace_id[8..]);
        } else {
            push_hex(&mut out, &span.trace_id);
        }
        out.push_str("\",\"id\":\"");
        push_hex(&mut out, &span.id.to_be_bytes());
        out.push('"');
        if let Some(parent) = span.parent_id {
            out.push_str(",\"parentId\":\"");
            push_hex(&mut out, &parent.to_be_bytes());
            out.push('"');
        }
        if span.debug {
            out.push_str(",\"debug\":true");
        }
        if !span.name.is_empty() {
            out.push_str(",\"name\":");
            write_json_string(&mut out, &span.name.to_lowercase());
        }
        if let Some(kind) = span.kind {
            out.push_str(",\"kind\":\"");
            out.push_str(kind.as_str());
            out.push('"');
        }
        if span.shared {
            out.push_str(",\"shared\":true");
        }
        if let Some(endpoint) = span.local_endpoint.as_ref().filter(|e| !e.is_empty()) {
            write_endpoint(&mut out, ",\"localEndpoint\":", endpoint);
        }
        if let Some(endpoint) = span.remote_endpoint.as_ref().filter(|e| !e.is_empty()) {
            write_endpoint(&mut out, ",\"remoteEndpoint\":", endpoint);
        }
        if !span.annotations.is_empty() {
            out.push_str(",\"annotations\":[");
            for (j, a) in span.annotations.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str("{\"timestamp\":");
                out.push_str(&a.timestamp_us.to_string());
                out.push_str(",\"value\":");
                write_json_string(&mut out, &a.value);
                out.push('}');
            }
            out.push(']');
        }
        if !span.tags.is_empty() {
            out.push_str(",\"tags\":{");
            for (j, (k, v)) in span.tags.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, k);
                out.push(':');
                write_json_string(&mut out, v);
            }
            out.push('}');
        }
        out.push('}');
    }
    out.push(']');
    out.into_bytes()
}
