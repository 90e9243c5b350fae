//! Routing keys: which bytes of an item the ring hashes, per signal and `routing_key`, and the
//! backend every item of a request goes to ([`Assignment`]).
//!
//! | `routing_key` | traces | metrics | logs | the bytes hashed |
//! |---|---|---|---|---|
//! | `traceID` | per span (default) | — | per record | traces: the 16 raw bytes of the trace id; logs: its 32 lowercase hex digits, a random key for a record without one |
//! | `service` | per span | per resource (default) | per resource (default) | traces: `service.name=VALUE\|` (the `attributes` key of `service.name`); metrics and logs: the `service.name` string |
//! | `resource` | — | per resource | per resource | the resource's attributes, sorted, as `k=VALUE\|` text |
//! | `metric` | — | per metric | — | the metric name |
//! | `streamID` | — | per data point | — | resource, scope, metric identity and the point's attributes, as text |
//! | `attributes` | per span | per data point | per record | `name=VALUE\|` per name of `routing_attributes`, `name=\|` when absent |
//!
//! For `attributes`, traces look each name up on the resource, else the scope, else the
//! pseudo attributes `span.kind` and `span.name`, else the span, in the configured order;
//! metrics and logs write the names found on the resource first, then those found on the
//! scope, then the rest from the point or record (logs: pseudo attributes `log.severity` and
//! `log.body` first) — Go's two orders. VALUE is Go's `Value.AsString` text
//! ([`value`](super::value)).
//!
//! The `traceID`, `service`, `metric` and `attributes` bytes are the Go exporter's (v0.160,
//! the release the interop test runs); `resource` and `streamID` are our own stable text (Go
//! hashes them with its internal identity hashes), so in a tier that mixes both
//! implementations those two keys may choose different backends.
//!
//! A metrics resource without `service.name` under `routing_key: service` has no backend (Go
//! drops it with an error log); its points are [unroutable](Assignment::targets).

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::metric::Data;
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::span::SpanKind;

use otlp_pipeline::Signal;

use super::ring::HashRing;
use super::value::{push_as_string, str_of};

/// `routing_key`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingKey {
    /// `traceID`.
    TraceId,
    /// `service`.
    Service,
    /// `resource`.
    Resource,
    /// `metric`.
    Metric,
    /// `streamID`.
    StreamId,
    /// `attributes` with `routing_attributes`.
    Attributes(Vec<String>),
}

impl RoutingKey {
    /// The configuration name.
    pub fn name(&self) -> &'static str {
        match self {
            RoutingKey::TraceId => "traceID",
            RoutingKey::Service => "service",
            RoutingKey::Resource => "resource",
            RoutingKey::Metric => "metric",
            RoutingKey::StreamId => "streamID",
            RoutingKey::Attributes(_) => "attributes",
        }
    }

    /// The Go exporter's key for `signal` when `routing_key` is not set: `traceID` for
    /// traces, `service` for metrics and logs.
    pub fn default_for(signal: Signal) -> RoutingKey {
        match signal {
            Signal::Traces => RoutingKey::TraceId,
            _ => RoutingKey::Service,
        }
    }

    /// Whether this key routes `signal` (the table of the module documentation).
    pub fn supports(&self, signal: Signal) -> bool {
        matches!(
            (signal, self),
            (
                Signal::Traces,
                RoutingKey::TraceId | RoutingKey::Service | RoutingKey::Attributes(_)
            ) | (
                Signal::Metrics,
                RoutingKey::Service
                    | RoutingKey::Resource
                    | RoutingKey::Metric
                    | RoutingKey::StreamId
                    | RoutingKey::Attributes(_)
            ) | (
                Signal::Logs,
                RoutingKey::TraceId
                    | RoutingKey::Service
                    | RoutingKey::Resource
                    | RoutingKey::Attributes(_)
            )
        )
    }
}

/// Where each item of one request goes: the ring member index of every item (span, data
/// point, log record) in request order, `None` for an item that has no key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// One entry per item.
    pub targets: Vec<Option<u32>>,
}

impl Assignment {
    /// The one member every item goes to, when they all go to the same one.
    pub fn single(&self) -> Option<u32> {
        let first = (*self.targets.first()?)?;
        self.targets
            .iter()
            .all(|t| *t == Some(first))
            .then_some(first)
    }

    /// Items without a backend.
    pub fn unroutable(&self) -> usize {
        self.targets.iter().filter(|t| t.is_none()).count()
    }
}

const SERVICE_NAME: &str = "service.name";

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attributes.iter().find(|kv| kv.key == key)
}

fn value_of<'a>(attributes: &'a [KeyValue], key: &str) -> Option<Option<&'a AnyValue>> {
    attribute(attributes, key).map(|kv| kv.value.as_ref())
}

/// `name=VALUE|`.
fn push_segment(key: &mut String, name: &str, value: Option<&AnyValue>) {
    key.push_str(name);
    key.push('=');
    push_as_string(key, value);
    key.push('|');
}

/// `name=text|`.
fn push_text_segment(key: &mut String, name: &str, text: &str) {
    key.push_str(name);
    key.push('=');
    key.push_str(text);
    key.push('|');
}

/// The resource's attributes sorted by key, as `k=VALUE|` text: our stable `resource` key.
fn push_identity(key: &mut String, attributes: &[KeyValue]) {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in sorted {
        push_segment(key, &kv.key, kv.value.as_ref());
    }
}

fn resource_attributes(resource: Option<&Resource>) -> &[KeyValue] {
    resource.map_or(&[], |r| r.attributes.as_slice())
}

fn scope_attributes(scope: Option<&InstrumentationScope>) -> &[KeyValue] {
    scope.map_or(&[], |s| s.attributes.as_slice())
}

/// Go's `ptrace.SpanKind.String()`.
fn span_kind_name(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "Internal",
        Ok(SpanKind::Server) => "Server",
        Ok(SpanKind::Client) => "Client",
        Ok(SpanKind::Producer) => "Producer",
        Ok(SpanKind::Consumer) => "Consumer",
        _ => "Unspecified",
    }
}

/// The trace id as Go's 16-byte array: shorter ids are padded with zeros.
fn trace_id_bytes(id: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = id.len().min(16);
    out[..n].copy_from_slice(&id[..n]);
    out
}

fn hex_lower(bytes: &[u8; 16]) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    out
}

fn member(ring: &HashRing, key: &[u8]) -> Option<u32> {
    ring.member_for(key).map(|m| m as u32)
}

/// The member of every span of `request`.
pub fn assign_traces(
    request: &ExportTraceServiceRequest,
    routing: &RoutingKey,
    ring: &HashRing,
) -> Assignment {
    let mut targets = Vec::new();
    let mut key = String::new();
    let mut last: Option<([u8; 16], Option<u32>)> = None;
    let service = [SERVICE_NAME.to_owned()];
    let names: Option<&[String]> = match routing {
        RoutingKey::Service => Some(&service),
        RoutingKey::Attributes(names) => Some(names),
        _ => None,
    };
    for rs in &request.resource_spans {
        let resource = resource_attributes(rs.resource.as_ref());
        // Every name on the resource: one key for all its spans.
        let per_resource = names
            .filter(|names| names.iter().all(|n| attribute(resource, n).is_some()))
            .map(|names| {
                key.clear();
                for name in names {
                    push_segment(&mut key, name, value_of(resource, name).flatten());
                }
                member(ring, key.as_bytes())
            });
        for ss in &rs.scope_spans {
            let scope = scope_attributes(ss.scope.as_ref());
            for span in &ss.spans {
                let target = match (per_resource, names) {
                    (Some(target), _) => target,
                    (None, Some(names)) => {
                        // Go's order, per name: resource, scope, the pseudo attributes
                        // `span.kind` and `span.name`, the span's attributes.
                        key.clear();
                        for name in names {
                            if let Some(v) = value_of(resource, name) {
                                push_segment(&mut key, name, v);
                            } else if let Some(v) = value_of(scope, name) {
                                push_segment(&mut key, name, v);
                            } else if name == "span.kind" {
                                push_text_segment(&mut key, name, span_kind_name(span.kind));
                            } else if name == "span.name" {
                                push_text_segment(&mut key, name, &span.name);
                            } else if let Some(v) = value_of(&span.attributes, name) {
                                push_segment(&mut key, name, v);
                            } else {
                                push_text_segment(&mut key, name, "");
                            }
                        }
                        member(ring, key.as_bytes())
                    }
                    (None, None) => {
                        let id = trace_id_bytes(&span.trace_id);
                        match last {
                            Some((previous, target)) if previous == id => target,
                            _ => {
                                let target = member(ring, &id);
                                last = Some((id, target));
                                target
                            }
                        }
                    }
                };
                targets.push(target);
            }
        }
    }
    Assignment { targets }
}

/// Go's level-by-level key of `routing_key: attributes` for metrics and logs: the names found
/// on the resource (in `names` order), then those of the rest found on the scope, then every
/// remaining one from the item (`item`), `name=|` when absent. Returns the names still open
/// after the resource and scope ("pending"), the key so far written into `key`.
fn level_key<'n>(
    key: &mut String,
    names: &'n [String],
    resource: &[KeyValue],
    scope: &[KeyValue],
) -> Vec<&'n str> {
    key.clear();
    let mut pending = Vec::new();
    for name in names {
        match value_of(resource, name) {
            Some(v) => push_segment(key, name, v),
            None => pending.push(name.as_str()),
        }
    }
    let mut rest = Vec::new();
    for name in pending {
        match value_of(scope, name) {
            Some(v) => push_segment(key, name, v),
            None => rest.push(name),
        }
    }
    rest
}

/// Calls `f` with each data point's attributes, in request order.
fn for_each_point_attributes(data: Option<&Data>, mut f: impl FnMut(&[KeyValue])) {
    match data {
        Some(Data::Gauge(g)) => g.data_points.iter().for_each(|p| f(&p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter().for_each(|p| f(&p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter().for_each(|p| f(&p.attributes)),
        Some(Data::ExponentialHistogram(h)) => h.data_points.iter().for_each(|p| f(&p.attributes)),
        Some(Data::Summary(s)) => s.data_points.iter().for_each(|p| f(&p.attributes)),
        None => {}
    }
}

/// The metric's identity for `streamID`: name, unit, type, temporality and monotonicity.
fn push_metric_identity(key: &mut String, metric: &otlp_proto::metrics::v1::Metric) {
    key.push_str(&metric.name);
    key.push('|');
    key.push_str(&metric.unit);
    key.push('|');
    let shape = match &metric.data {
        Some(Data::Gauge(_)) => "gauge".to_owned(),
        Some(Data::Sum(s)) => format!("sum/{}/{}", s.aggregation_temporality, s.is_monotonic),
        Some(Data::Histogram(h)) => format!("histogram/{}", h.aggregation_temporality),
        Some(Data::ExponentialHistogram(h)) => {
            format!("exponential_histogram/{}", h.aggregation_temporality)
        }
        Some(Data::Summary(_)) => "summary".to_owned(),
        None => "empty".to_owned(),
    };
    key.push_str(&shape);
    key.push('|');
}

/// The member of every data point of `request`.
pub fn assign_metrics(
    request: &ExportMetricsServiceRequest,
    routing: &RoutingKey,
    ring: &HashRing,
) -> Assignment {
    let mut targets = Vec::new();
    let mut key = String::new();
    for rm in &request.resource_metrics {
        let resource = resource_attributes(rm.resource.as_ref());
        let per_resource = match routing {
            RoutingKey::Service => Some(
                value_of(resource, SERVICE_NAME).and_then(|v| member(ring, str_of(v).as_bytes())),
            ),
            RoutingKey::Resource => {
                key.clear();
                key.push_str("resource/");
                push_identity(&mut key, resource);
                Some(member(ring, key.as_bytes()))
            }
            _ => None,
        };
        for sm in &rm.scope_metrics {
            let scope = sm.scope.as_ref();
            for metric in &sm.metrics {
                match (per_resource, routing) {
                    (Some(target), _) => {
                        for_each_point_attributes(metric.data.as_ref(), |_| targets.push(target))
                    }
                    (None, RoutingKey::Metric) => {
                        let target = member(ring, metric.name.as_bytes());
                        for_each_point_attributes(metric.data.as_ref(), |_| targets.push(target))
                    }
                    (None, RoutingKey::StreamId) => {
                        key.clear();
                        key.push_str("resource/");
                        push_identity(&mut key, resource);
                        key.push_str("scope/");
                        if let Some(scope) = scope {
                            push_text_segment(&mut key, "name", &scope.name);
                            push_text_segment(&mut key, "version", &scope.version);
                            push_identity(&mut key, &scope.attributes);
                        }
                        key.push_str("metric/");
                        push_metric_identity(&mut key, metric);
                        let base = key.len();
                        for_each_point_attributes(metric.data.as_ref(), |attributes| {
                            key.truncate(base);
                            push_identity(&mut key, attributes);
                            targets.push(member(ring, key.as_bytes()));
                        })
                    }
                    (None, RoutingKey::Attributes(names)) => {
                        let pending = level_key(&mut key, names, resource, scope_attributes(scope));
                        let base = key.len();
                        for_each_point_attributes(metric.data.as_ref(), |attributes| {
                            key.truncate(base);
                            for name in &pending {
                                match value_of(attributes, name) {
                                    Some(v) => push_segment(&mut key, name, v),
                                    None => push_text_segment(&mut key, name, ""),
                                }
                            }
                            targets.push(member(ring, key.as_bytes()));
                        })
                    }
                    (None, _) => {
                        for_each_point_attributes(metric.data.as_ref(), |_| targets.push(None))
                    }
                }
            }
        }
    }
    Assignment { targets }
}

/// The member of every log record of `request`. `random` gives the key of a record without a
/// trace id under `traceID` (Go routes those to a random backend).
pub fn assign_logs(
    request: &ExportLogsServiceRequest,
    routing: &RoutingKey,
    ring: &HashRing,
    random: &mut dyn FnMut() -> [u8; 16],
) -> Assignment {
    let mut targets = Vec::new();
    let mut key = String::new();
    for rl in &request.resource_logs {
        let resource = resource_attributes(rl.resource.as_ref());
        let per_resource = match routing {
            RoutingKey::Service => {
                let service = value_of(resource, SERVICE_NAME).map_or("", str_of);
                Some(member(ring, service.as_bytes()))
            }
            RoutingKey::Resource => {
                key.clear();
                key.push_str("resource/");
                push_identity(&mut key, resource);
                Some(member(ring, key.as_bytes()))
            }
            _ => None,
        };
        for sl in &rl.scope_logs {
            let scope = scope_attributes(sl.scope.as_ref());
            for record in &sl.log_records {
                let target = match (per_resource, routing) {
                    (Some(target), _) => target,
                    (None, RoutingKey::Attributes(names)) => {
                        let pending = level_key(&mut key, names, resource, scope);
                        for name in pending {
                            if name == "log.severity" {
                                push_text_segment(&mut key, name, &record.severity_text);
                            } else if name == "log.body" {
                                push_segment(&mut key, name, record.body.as_ref());
                            } else if let Some(v) = value_of(&record.attributes, name) {
                                push_segment(&mut key, name, v);
                            } else {
                                push_text_segment(&mut key, name, "");
                            }
                        }
                        member(ring, key.as_bytes())
                    }
                    (None, _) => {
                        let id = trace_id_bytes(&record.trace_id);
                        let id = if id == [0u8; 16] { random() } else { id };
                        member(ring, &hex_lower(&id))
                    }
                };
                targets.push(target);
            }
        }
    }
    Assignment { targets }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_per_signal_and_defaults() {
        for (signal, default) in [
            (Signal::Traces, RoutingKey::TraceId),
            (Signal::Metrics, RoutingKey::Service),
            (Signal::Logs, RoutingKey::Service),
        ] {
            assert_eq!(RoutingKey::default_for(signal), default);
            assert!(default.supports(signal));
        }
        assert!(!RoutingKey::TraceId.supports(Signal::Metrics));
        assert!(!RoutingKey::Metric.supports(Signal::Traces));
        assert!(!RoutingKey::StreamId.supports(Signal::Logs));
        assert!(!RoutingKey::Resource.supports(Signal::Traces));
        assert!(!RoutingKey::Service.supports(Signal::Profiles));
    }

    #[test]
    fn hex_and_padding() {
        let id = trace_id_bytes(&[0xab, 0x01]);
        assert_eq!(id[..2], [0xab, 0x01]);
        assert_eq!(id[2..], [0; 14]);
        assert_eq!(&hex_lower(&[0xab; 16])[..4], b"abab");
        assert_eq!(span_kind_name(2), "Server");
        assert_eq!(span_kind_name(99), "Unspecified");
    }
}
