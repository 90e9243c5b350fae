//! Zipkin v2 protobuf (`zipkin.proto3.ListOfSpans`, the body of
//! `POST /api/v2/spans` with `Content-Type: application/x-protobuf`). The messages are written
//! here from the field numbers of zipkin-api's `zipkin.proto`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use prost::Message;

use super::{Annotation, Endpoint, Kind, Span, ZipkinError};

/// `zipkin.proto3.ListOfSpans`.
#[derive(Clone, PartialEq, Message)]
struct ListOfSpans {
    #[prost(message, repeated, tag = "1")]
    spans: Vec<WireSpan>,
}

/// `zipkin.proto3.Span`.
#[derive(Clone, PartialEq, Message)]
struct WireSpan {
    #[prost(bytes = "vec", tag = "1")]
    trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    parent_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    id: Vec<u8>,
    /// `Span.Kind`: 0 unspecified, 1 CLIENT, 2 SERVER, 3 PRODUCER, 4 CONSUMER.
    #[prost(int32, tag = "4")]
    kind: i32,
    #[prost(string, tag = "5")]
    name: String,
    /// Epoch microseconds.
    #[prost(fixed64, tag = "6")]
    timestamp: u64,
    /// Microseconds.
    #[prost(uint64, tag = "7")]
    duration: u64,
    #[prost(message, optional, tag = "8")]
    local_endpoint: Option<WireEndpoint>,
    #[prost(message, optional, tag = "9")]
    remote_endpoint: Option<WireEndpoint>,
    #[prost(message, repeated, tag = "10")]
    annotations: Vec<WireAnnotation>,
    #[prost(btree_map = "string, string", tag = "11")]
    tags: BTreeMap<String, String>,
    #[prost(bool, tag = "12")]
    debug: bool,
    #[prost(bool, tag = "13")]
    shared: bool,
}

/// `zipkin.proto3.Endpoint`.
#[derive(Clone, PartialEq, Message)]
struct WireEndpoint {
    #[prost(string, tag = "1")]
    service_name: String,
    /// 4 bytes (16, IPv4-mapped, from Go's exporter).
    #[prost(bytes = "vec", tag = "2")]
    ipv4: Vec<u8>,
    /// 16 bytes.
    #[prost(bytes = "vec", tag = "3")]
    ipv6: Vec<u8>,
    #[prost(int32, tag = "4")]
    port: i32,
}

/// `zipkin.proto3.Annotation`.
#[derive(Clone, PartialEq, Message)]
struct WireAnnotation {
    /// Epoch microseconds.
    #[prost(fixed64, tag = "1")]
    timestamp: u64,
    #[prost(string, tag = "2")]
    value: String,
}

fn kind_from_proto(kind: i32) -> Option<Kind> {
    match kind {
        1 => Some(Kind::Client),
        2 => Some(Kind::Server),
        3 => Some(Kind::Producer),
        4 => Some(Kind::Consumer),
        _ => None,
    }
}

fn kind_to_proto(kind: Option<Kind>) -> i32 {
    match kind {
        None => 0,
        Some(Kind::Client) => 1,
        Some(Kind::Server) => 2,
        Some(Kind::Producer) => 3,
        Some(Kind::Consumer) => 4,
    }
}

fn ip(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            let v6 = Ipv6Addr::from(octets);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        _ => None,
    }
}

fn ip_bytes(ip: Option<IpAddr>) -> Vec<u8> {
    match ip {
        None => Vec::new(),
        Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
        Some(IpAddr::V6(v6)) => v6.octets().to_vec(),
    }
}

fn id8(bytes: &[u8], field: &str) -> Result<u64, ZipkinError> {
    let array: [u8; 8] = bytes.try_into().map_err(|_| {
        ZipkinError::Invalid(format!(
            "invalid {field}: has length {} yet wanted length 8",
            bytes.len()
        ))
    })?;
    Ok(u64::from_be_bytes(array))
}

fn endpoint_from(wire: Option<WireEndpoint>) -> Option<Endpoint> {
    wire.map(|e| Endpoint {
        service_name: e.service_name,
        ipv4: ip(&e.ipv4),
        ipv6: ip(&e.ipv6),
        port: e.port as u16,
    })
}

fn endpoint_to(endpoint: &Option<Endpoint>) -> Option<WireEndpoint> {
    endpoint.as_ref().map(|e| WireEndpoint {
        service_name: e.service_name.clone(),
        ipv4: ip_bytes(e.ipv4),
        ipv6: ip_bytes(e.ipv6),
        port: i32::from(e.port),
    })
}

/// Decodes a `ListOfSpans`. As zipkin-go: the trace id must be 16 bytes (a 64-bit id is sent
/// with a zero high half), span and parent ids 8; a zero timestamp is kept as the epoch.
pub fn decode_v2_proto(body: &[u8]) -> Result<Vec<Span>, ZipkinError> {
    let list = ListOfSpans::decode(body).map_err(|e| ZipkinError::Proto(e.to_string()))?;
    list.spans
        .into_iter()
        .map(|s| {
            let trace_id: [u8; 16] = s.trace_id.as_slice().try_into().map_err(|_| {
                ZipkinError::Invalid(format!(
                    "invalid TraceID: has length {} yet wanted length 16",
                    s.trace_id.len()
                ))
            })?;
            if s.id.is_empty() {
                return Err(ZipkinError::Invalid("expected a non-nil SpanID".into()));
            }
            let id = id8(&s.id, "SpanID")?;
            let parent_id = if s.parent_id.is_empty() {
                None
            } else {
                Some(id8(&s.parent_id, "ParentID")?)
            };
            Ok(Span {
                trace_id,
                id,
                parent_id,
                name: s.name,
                kind: kind_from_proto(s.kind),
                timestamp_us: Some(s.timestamp),
                duration_us: s.duration,
                local_endpoint: endpoint_from(s.local_endpoint),
                remote_endpoint: endpoint_from(s.remote_endpoint),
                annotations: s
                    .annotations
                    .into_iter()
                    .map(|a| Annotation {
                        timestamp_us: a.timestamp,
                        value: a.value,
                    })
                    .collect(),
                tags: s.tags,
                debug: s.debug,
                shared: s.shared,
            })
        })
        .collect()
}

/// Encodes spans as a `ListOfSpans` (trace ids always 16 bytes, names as they are).
pub fn encode_v2_proto(spans: &[Span]) -> Vec<u8> {
    let list = ListOfSpans {
        spans: spans
            .iter()
            .map(|s| WireSpan {
                trace_id: s.trace_id.to_vec(),
                parent_id: s
                    .parent_id
                    .map(|p| p.to_be_bytes().to_vec())
                    .unwrap_or_default(),
                id: s.id.to_be_bytes().to_vec(),
                kind: kind_to_proto(s.kind),
                name: s.name.clone(),
                timestamp: s.timestamp_us.unwrap_or(0),
                duration: s.duration_us,
                local_endpoint: endpoint_to(&s.local_endpoint),
                remote_endpoint: endpoint_to(&s.remote_endpoint),
                annotations: s
                    .annotations
                    .iter()
                    .map(|a| WireAnnotation {
                        timestamp: a.timestamp_us,
                        value: a.value.clone(),
                    })
                    .collect(),
                tags: s.tags.clone(),
                debug: s.debug,
                shared: s.shared,
            })
            .collect(),
    };
    list.encode_to_vec()
}
