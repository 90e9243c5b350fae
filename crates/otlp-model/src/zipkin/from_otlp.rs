//! An OTLP traces request → Zipkin v2 spans, as otelcol-contrib's `zipkinv2.FromTranslator`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::trace::v1::span::SpanKind;
use crate::proto::trace::v1::status::StatusCode;

use super::to_otlp::{
    ERROR, LIBRARY_NAME, LIBRARY_VERSION, LINK_PREFIX, LOCAL_ADDRESS, LOCAL_PORT, PEER_ADDRESS,
    PEER_PORT, PEER_SERVICE, SERVICE_NAME_SOURCE, SPAN_KIND, STATUS_CODE, STATUS_DESCRIPTION,
    TRACE_STATE,
};
use super::value::{as_string, attributes_json};
use super::{Annotation, Endpoint, Kind, NO_SERVICE_NAME, Span};

/// Why a request cannot be sent to Zipkin (the whole request: otelcol fails it for good).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromOtlpError {
    /// A span without a trace id.
    #[error("TraceID is invalid")]
    TraceId,
    /// A span without a span id.
    #[error("SpanID is invalid")]
    SpanId,
    /// An event or link attribute JSON cannot hold (NaN, ±Inf).
    #[error("{0}")]
    Attribute(String),
}

/// The resource attributes that name the service, in the order otelcol tries them.
const SERVICE_NAME_KEYS: &[&str] = &[
    "service.name",
    "faas.name",
    "k8s.deployment.name",
    "process.executable.name",
];

/// The older endpoint attribute keys, also read (a span from an older instrumentation).
const OLD_LOCAL_ADDRESS: &str = "net.host.ip";
const OLD_LOCAL_PORT: &str = "net.host.port";
const OLD_PEER_ADDRESS: &str = "net.peer.ip";
const OLD_PEER_PORT: &str = "net.peer.port";
const OLD_PEER_SERVICE: &str = "peer.service";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes the first present key and returns its value.
fn take(tags: &mut BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    let mut found = None;
    for key in keys {
        if let Some(value) = tags.remove(*key)
            && found.is_none()
        {
            found = Some(value);
        }
    }
    found
}

/// Go's `strconv.ParseUint(s, 10, 16)` with the error ignored: 0 when unparsable, 65535 when
/// too large.
fn port(text: &str) -> u16 {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    text.parse::<u64>()
        .map_or(u16::MAX, |p| u16::try_from(p).unwrap_or(u16::MAX))
}

fn endpoint(
    tags: &mut BTreeMap<String, String>,
    service: Option<String>,
    address: &[&str],
    port_keys: &[&str],
) -> Option<Endpoint> {
    let ip = take(tags, address).and_then(|ip| ip.parse::<IpAddr>().ok());
    let port = take(tags, port_keys).map_or(0, |p| port(&p));
    let service_name = service.unwrap_or_default();
    if service_name.is_empty() && ip.is_none() {
        return None;
    }
    let (ipv4, ipv6) = match ip {
        Some(IpAddr::V4(v4)) => (Some(IpAddr::V4(v4)), None),
        Some(IpAddr::V6(v6)) => (None, Some(IpAddr::V6(v6))),
        None => (None, None),
    };
    Some(Endpoint {
        service_name,
        ipv4,
        ipv6,
        port,
    })
}

/// Nanoseconds to microseconds, rounded to the nearest (as zipkin-go's JSON writer does).
fn micros(ns: u64) -> u64 {
    ns.saturating_add(500) / 1000
}

/// Translates a request into Zipkin spans, in request order. Fails on a span without a trace
/// or span id, and on event or link attributes holding NaN or infinities.
pub fn from_otlp(request: &ExportTraceServiceRequest) -> Result<Vec<Span>, FromOtlpError> {
    let mut out = Vec::new();
    for resource_spans in &request.resource_spans {
        let resource_attributes = resource_spans
            .resource
            .as_ref()
            .map_or(&[][..], |r| r.attributes.as_slice());
        if resource_attributes.is_empty() && resource_spans.scope_spans.is_empty() {
            continue;
        }
        let mut resource_tags: BTreeMap<String, String> = BTreeMap::new();
        for kv in resource_attributes {
            resource_tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
        }
        let mut service = NO_SERVICE_NAME.to_owned();
        for (i, key) in SERVICE_NAME_KEYS.iter().enumerate() {
            if let Some(name) = resource_tags.remove(*key) {
                service = name;
                if i > 0 {
                    resource_tags.insert(SERVICE_NAME_SOURCE.to_owned(), (*key).to_owned());
                }
                break;
            }
        }
        for scope_spans in &resource_spans.scope_spans {
            // As otelcol: scope tags go into the resource's map, so a later scope keeps an
            // earlier one's where it sets none of its own.
            if let Some(scope) = &scope_spans.scope {
                for kv in &scope.attributes {
                    resource_tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
                }
                if !scope.name.is_empty() {
                    resource_tags.insert(LIBRARY_NAME.to_owned(), scope.name.clone());
                }
                if !scope.version.is_empty() {
                    resource_tags.insert(LIBRARY_VERSION.to_owned(), scope.version.clone());
                }
            }
            for span in &scope_spans.spans {
                out.push(span_from(span, &resource_tags, &service)?);
            }
        }
    }
    Ok(out)
}

fn span_from(
    span: &crate::proto::trace::v1::Span,
    resource_tags: &BTreeMap<String, String>,
    service: &str,
) -> Result<Span, FromOtlpError> {
    let trace_id: [u8; 16] = span
        .trace_id
        .as_slice()
        .try_into()
        .ok()
        .filter(|id| *id != [0; 16])
        .ok_or(FromOtlpError::TraceId)?;
    let id = <[u8; 8]>::try_from(span.span_id.as_slice())
        .ok()
        .map(u64::from_be_bytes)
        .filter(|&id| id != 0)
        .ok_or(FromOtlpError::SpanId)?;
    let parent_id = <[u8; 8]>::try_from(span.parent_span_id.as_slice())
        .ok()
        .map(u64::from_be_bytes)
        .filter(|&p| p != 0);
    let mut tags = resource_tags.clone();
    for kv in &span.attributes {
        tags.insert(kv.key.clone(), as_string(kv.value.as_ref()));
    }
    if !span.trace_state.is_empty() {
        tags.insert(TRACE_STATE.to_owned(), span.trace_state.clone());
    }
    let kind = match SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified) {
        SpanKind::Client => Some(Kind::Client),
        SpanKind::Server => Some(Kind::Server),
        SpanKind::Producer => Some(Kind::Producer),
        SpanKind::Consumer => Some(Kind::Consumer),
        SpanKind::Internal => {
            tags.insert(SPAN_KIND.to_owned(), "internal".to_owned());
            None
        }
        SpanKind::Unspecified => None,
    };
    let remote_service = take(&mut tags, &[PEER_SERVICE, OLD_PEER_SERVICE]);
    let local_endpoint = endpoint(
        &mut tags,
        Some(service.to_owned()),
        &[LOCAL_ADDRESS, OLD_LOCAL_ADDRESS],
        &[LOCAL_PORT, OLD_LOCAL_PORT],
    );
    let remote_endpoint = endpoint(
        &mut tags,
        remote_service,
        &[PEER_ADDRESS, OLD_PEER_ADDRESS],
        &[PEER_PORT, OLD_PEER_PORT],
    );
    if let Some(status) = &span.status {
        let code = StatusCode::try_from(status.code).unwrap_or(StatusCode::Unset);
        match code {
            StatusCode::Error => {
                tags.insert(ERROR.to_owned(), "true".to_owned());
            }
            _ => {
                tags.remove(ERROR);
            }
        }
        if code != StatusCode::Unset {
            let text = if code == StatusCode::Ok {
                "STATUS_CODE_OK"
            } else {
                "STATUS_CODE_ERROR"
            };
            tags.insert(STATUS_CODE.to_owned(), text.to_owned());
            if !status.message.is_empty() {
                tags.insert(STATUS_DESCRIPTION.to_owned(), status.message.clone());
            }
        }
    } else {
        tags.remove(ERROR);
    }
    for (i, link) in span.links.iter().enumerate() {
        let attributes = attributes_json(&link.attributes).map_err(FromOtlpError::Attribute)?;
        tags.insert(
            format!("{LINK_PREFIX}{i}"),
            format!(
                "{}|{}|{}|{}|{}",
                hex(&link.trace_id),
                hex(&link.span_id),
                link.trace_state,
                attributes,
                link.dropped_attributes_count
            ),
        );
    }
    let mut annotations = Vec::with_capacity(span.events.len());
    for event in &span.events {
        let value = if event.attributes.is_empty() && event.dropped_attributes_count == 0 {
            event.name.clone()
        } else {
            let attributes =
                attributes_json(&event.attributes).map_err(FromOtlpError::Attribute)?;
            format!(
                "{}|{}|{}",
                event.name, attributes, event.dropped_attributes_count
            )
        };
        annotations.push(Annotation {
            timestamp_us: micros(event.time_unix_nano),
            value,
        });
    }
    let start = span.start_time_unix_nano;
    let timestamp_us = (start >= 1_000_000_000).then(|| micros(start));
    let duration_us = match span.end_time_unix_nano {
        0 => 0,
        end => {
            let ns = end.saturating_sub(start);
            if ns == 0 { 0 } else { micros(ns).max(1) }
        }
    };
    Ok(Span {
        trace_id,
        id,
        parent_id,
        name: span.name.clone(),
        kind,
        timestamp_us,
        duration_us,
        local_endpoint,
        remote_endpoint,
        annotations,
        tags,
        debug: false,
        shared: false,
    })
}
