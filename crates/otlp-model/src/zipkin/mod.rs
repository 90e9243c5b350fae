//! Zipkin ↔ OTLP: the Zipkin v2 span model, its JSON and protobuf (`zipkin.proto3`) codecs,
//! the v1 JSON decoder, and the translations both ways, as otelcol-contrib's
//! `pkg/translator/zipkin` does them (v0.160): the `zipkin` receiver decodes with
//! [`decode_v2_json`] / [`decode_v2_proto`] / [`decode_v1_json`] and translates with
//! [`to_otlp`]; the `zipkin` exporter translates with [`from_otlp`] and encodes with
//! [`encode_v2_json`] / [`encode_v2_proto`]. Feature `zipkin`.
//!
//! # Zipkin v2 → OTLP ([`to_otlp`])
//!
//! Spans are grouped into one resource per `localEndpoint.serviceName` (resource attribute
//! `service.name`; a span without one lands in a resource with no attributes) and one scope
//! per `otel.library.name` tag (with `otel.library.version`). Resource-type tags of the first
//! span of a resource (`host.name`, `telemetry.sdk.*`, … the semantic conventions' resource
//! keys) become resource attributes; on every span they are kept out of the span's attributes.
//! `kind` maps to the span kind (else the `span.kind` tag: `internal`); `otel.status_code`
//! (`STATUS_CODE_OK`/`Ok`, …) and `otel.status_description` to the status, an `error` tag
//! makes it an error; `w3c.tracestate` is the trace state; `otlp.link.N` tags are links;
//! annotations `name|{json attributes}|dropped` are events; endpoints become
//! `network.local.address`, `network.peer.address`, `service.peer.name` and the ports; a span
//! without a timestamp gets `otel.zipkin.absentField.startTime = true`. With
//! `parse_string_tags`, tag values that look like integers, floats or booleans get those types.
//!
//! # OTLP → Zipkin v2 ([`from_otlp`])
//!
//! The reverse: `service.name` (else `faas.name`, `k8s.deployment.name`,
//! `process.executable.name`, noted in `otlp.service.name.source`) names the local endpoint,
//! every other resource attribute, the scope and every span attribute become tags (values as
//! otelcol prints them), the status, trace state, events and links take the forms above.
//!
//! # What it must not depend on
//!
//! `serde_json` and `prost` (this feature's), `otlp-proto`; nothing async.

mod from_otlp;
mod json;
mod json_v1;
mod proto;
mod to_otlp;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::IpAddr;

pub use from_otlp::{FromOtlpError, from_otlp};
pub use json::{decode_v2_json, encode_v2_json};
pub use json_v1::{UNKNOWN_SERVICE, decode_v1_json};
pub use proto::{decode_v2_proto, encode_v2_proto};
pub use to_otlp::to_otlp;

/// The service name of a span (or resource) that has none, as otelcol spells it.
pub const NO_SERVICE_NAME: &str = "OTLPResourceNoServiceName";

/// The attribute added to a span whose Zipkin form had no timestamp.
pub const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";

/// A Zipkin v2 span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `CLIENT`.
    Client,
    /// `SERVER`.
    Server,
    /// `PRODUCER`.
    Producer,
    /// `CONSUMER`.
    Consumer,
}

impl Kind {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Server => "SERVER",
            Kind::Producer => "PRODUCER",
            Kind::Consumer => "CONSUMER",
        }
    }

    /// From the JSON spelling (exact, as zipkin-go compares).
    pub fn from_json(text: &str) -> Option<Kind> {
        match text {
            "CLIENT" => Some(Kind::Client),
            "SERVER" => Some(Kind::Server),
            "PRODUCER" => Some(Kind::Producer),
            "CONSUMER" => Some(Kind::Consumer),
            _ => None,
        }
    }
}

/// A Zipkin endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// `serviceName`.
    pub service_name: String,
    /// `ipv4`.
    pub ipv4: Option<IpAddr>,
    /// `ipv6`.
    pub ipv6: Option<IpAddr>,
    /// `port` (0: none).
    pub port: u16,
}

impl Endpoint {
    /// Nothing set (zipkin-go leaves such an endpoint out of JSON).
    pub fn is_empty(&self) -> bool {
        self.service_name.is_empty() && self.ipv4.is_none() && self.ipv6.is_none() && self.port == 0
    }
}

/// A Zipkin annotation: a timestamped string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Epoch microseconds.
    pub timestamp_us: u64,
    /// The text.
    pub value: String,
}

/// A Zipkin v2 span.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    /// The trace id, big-endian `high ‖ low` (a 64-bit id has a zero high half).
    pub trace_id: [u8; 16],
    /// The span id.
    pub id: u64,
    /// The parent's id, if any.
    pub parent_id: Option<u64>,
    /// The operation name.
    pub name: String,
    /// `kind`; `None` when absent or not one of the four.
    pub kind: Option<Kind>,
    /// Start, epoch microseconds; `None` when absent (JSON's missing or zero `timestamp`).
    pub timestamp_us: Option<u64>,
    /// Duration in microseconds (0: unknown).
    pub duration_us: u64,
    /// The recording service's endpoint.
    pub local_endpoint: Option<Endpoint>,
    /// The other side's endpoint.
    pub remote_endpoint: Option<Endpoint>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `debug`.
    pub debug: bool,
    /// `shared` (a server span sharing its id with the client's).
    pub shared: bool,
}

impl Span {
    /// The local endpoint's service name, or [`NO_SERVICE_NAME`].
    pub fn local_service_name(&self) -> &str {
        match &self.local_endpoint {
            Some(endpoint) if !endpoint.service_name.is_empty() => &endpoint.service_name,
            _ => NO_SERVICE_NAME,
        }
    }
}

/// Why a Zipkin body could not be decoded or translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipkinError {
    /// Not valid JSON, or not the shape of a span list.
    #[error("{0}")]
    Json(String),
    /// Not a valid `ListOfSpans`.
    #[error("{0}")]
    Proto(String),
    /// A field holds a value Zipkin does not allow.
    #[error("{0}")]
    Invalid(String),
}
