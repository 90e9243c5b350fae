//! Zipkin v2 spans → an OTLP traces request, as otelcol-contrib's `zipkinv2.ToTranslator`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use crate::proto::resource::v1::Resource;
use crate::proto::trace::v1::span::{Event, Link, SpanKind};
use crate::proto::trace::v1::status::StatusCode;
use crate::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan, Status};

use super::value::{attributes_from_json, typed_tag};
use super::{Kind, NO_SERVICE_NAME, START_TIME_ABSENT, Span, ZipkinError};

/// Tags naming resource attributes (the semantic conventions' resource keys and otelcol's own):
/// never span attributes; those of the first span of a resource become its attributes.
pub(crate) const RESOURCE_TAGS: &[&str] = &[
    "cloud.provider",
    "cloud.account.id",
    "cloud.region",
    "cloud.availability_zone",
    "cloud.platform",
    "aws.ecs.container.arn",
    "aws.ecs.cluster.arn",
    "aws.ecs.launchtype",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.ecs.task.revision",
    "aws.eks.cluster.arn",
    "aws.log.group.names",
    "aws.log.group.arns",
    "aws.log.stream.names",
    "aws.log.stream.arns",
    "container.name",
    "container.id",
    "container.runtime",
    "container.image.name",
    "container.image.tag",
    "deployment.environment",
    "device.id",
    "device.model.identifier",
    "device.model.name",
    "device.manufacturer",
    "faas.name",
    "faas.id",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
    "host.id",
    "host.name",
    "host.type",
    "host.arch",
    "host.image.name",
    "host.image.id",
    "host.image.version",
    "k8s.cluster.name",
    "k8s.node.name",
    "k8s.node.uid",
    "k8s.namespace.name",
    "k8s.pod.uid",
    "k8s.pod.name",
    "k8s.container.name",
    "k8s.container.restart_count",
    "k8s.replicaset.uid",
    "k8s.replicaset.name",
    "k8s.deployment.uid",
    "k8s.deployment.name",
    "k8s.statefulset.uid",
    "k8s.statefulset.name",
    "k8s.daemonset.uid",
    "k8s.daemonset.name",
    "k8s.job.uid",
    "k8s.job.name",
    "k8s.cronjob.uid",
    "k8s.cronjob.name",
    "os.type",
    "os.description",
    "os.name",
    "os.version",
    "process.pid",
    "process.executable.name",
    "process.executable.path",
    "process.command",
    "process.command_line",
    "process.command_args",
    "process.owner",
    "process.runtime.name",
    "process.runtime.version",
    "process.runtime.description",
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "telemetry.auto.version",
    "webengine.name",
    "webengine.version",
    "webengine.description",
    SERVICE_NAME_SOURCE,
    LIBRARY_NAME,
    LIBRARY_VERSION,
    SCOPE_NAME,
    SCOPE_VERSION,
    "opencensus.starttime",
    "opencensus.exporterversion",
    "opencensus.resourcetype",
];

/// The tag naming the resource attribute the service name came from (when not `service.name`).
pub(crate) const SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";
/// The scope's name tag.
pub(crate) const LIBRARY_NAME: &str = "otel.library.name";
/// The scope's version tag.
pub(crate) const LIBRARY_VERSION: &str = "otel.library.version";
/// The scope's name tag in newer senders.
pub(crate) const SCOPE_NAME: &str = "otel.scope.name";
/// The scope's version tag in newer senders.
pub(crate) const SCOPE_VERSION: &str = "otel.scope.version";
/// The status code tag.
pub(crate) const STATUS_CODE: &str = "otel.status_code";
/// The status message tag.
pub(crate) const STATUS_DESCRIPTION: &str = "otel.status_description";
/// The error tag.
pub(crate) const ERROR: &str = "error";
/// The span kind tag (for kinds Zipkin lacks).
pub(crate) const SPAN_KIND: &str = "span.kind";
/// The W3C trace state tag.
pub(crate) const TRACE_STATE: &str = "w3c.tracestate";
/// The prefix of link tags (`otlp.link.0`, …).
pub(crate) const LINK_PREFIX: &str = "otlp.link.";
/// The most links read back from tags.
const MAX_LINKS: usize = 128;

/// Endpoint attribute keys.
pub(crate) const LOCAL_ADDRESS: &str = "network.local.address";
pub(crate) const LOCAL_PORT: &str = "net.host.port";
pub(crate) const PEER_ADDRESS: &str = "network.peer.address";
pub(crate) const PEER_PORT: &str = "net.peer.port";
pub(crate) const PEER_SERVICE: &str = "service.peer.name";

fn is_resource_tag(key: &str) -> bool {
    RESOURCE_TAGS.contains(&key)
}

fn kv(key: impl Into<String>, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn resource_of(span: &Span, tags: &mut BTreeMap<String, String>) -> Resource {
    let service = span.local_service_name();
    let mut attributes = Vec::new();
    if service != NO_SERVICE_NAME {
        if tags.is_empty() {
            attributes.push(kv("service.name", Value::StringValue(service.to_owned())));
        } else {
            let key = match tags.remove(SERVICE_NAME_SOURCE) {
                Some(source) if !source.is_empty() => source,
                _ => "service.name".to_owned(),
            };
            attributes.push(kv(key, Value::StringValue(service.to_owned())));
            let moved: Vec<String> = tags
                .keys()
                .filter(|k| {
                    is_resource_tag(k)
                        && ![LIBRARY_NAME, LIBRARY_VERSION, SCOPE_NAME, SCOPE_VERSION]
                            .contains(&k.as_str())
                })
                .cloned()
                .collect();
            for key in moved {
                if let Some(value) = tags.remove(&key) {
                    match attributes.iter_mut().find(|a| a.key == key) {
                        Some(existing) => {
                            existing.value = Some(AnyValue {
                                value: Some(Value::StringValue(value)),
                            });
                        }
                        None => attributes.push(kv(key, Value::StringValue(value))),
                    }
                }
            }
        }
    }
    Resource {
        attributes,
        ..Resource::default()
    }
}

fn scope_of(tags: &mut BTreeMap<String, String>) -> InstrumentationScope {
    let mut scope = InstrumentationScope::default();
    for (name_key, version_key) in [(SCOPE_NAME, SCOPE_VERSION), (LIBRARY_NAME, LIBRARY_VERSION)] {
        if let Some(name) = tags.remove(name_key).filter(|n| !n.is_empty()) {
            let version = tags.remove(version_key);
            if scope.name.is_empty() {
                scope.name = name;
                scope.version = version.unwrap_or_default();
            }
        }
    }
    scope
}

/// The scope name a span's tags give (for grouping).
fn scope_name(span: &Span) -> &str {
    [SCOPE_NAME, LIBRARY_NAME]
        .iter()
        .find_map(|key| span.tags.get(*key).filter(|n| !n.is_empty()))
        .map_or("", String::as_str)
}

fn span_kind(kind: Option<Kind>, tags: &mut BTreeMap<String, String>) -> SpanKind {
    match kind {
        Some(Kind::Client) => SpanKind::Client,
        Some(Kind::Server) => SpanKind::Server,
        Some(Kind::Producer) => SpanKind::Producer,
        Some(Kind::Consumer) => SpanKind::Consumer,
        None => match tags.remove(SPAN_KIND).as_deref() {
            Some("internal") => SpanKind::Internal,
            _ => SpanKind::Unspecified,
        },
    }
}

fn status(tags: &mut BTreeMap<String, String>) -> Option<Status> {
    let mut status: Option<Status> = None;
    if let Some(code) = tags.remove(STATUS_CODE) {
        let code = match code.as_str() {
            "STATUS_CODE_OK" | "Ok" => StatusCode::Ok,
            "STATUS_CODE_ERROR" | "Error" => StatusCode::Error,
            _ => StatusCode::Unset,
        };
        let mut s = Status {
            code: code as i32,
            ..Status::default()
        };
        if let Some(message) = tags.remove(STATUS_DESCRIPTION) {
            s.message = message;
        }
        status = Some(s);
    }
    if let Some(error) = tags.get(ERROR) {
        if error == "true" {
            tags.remove(ERROR);
        }
        status.get_or_insert_with(Status::default).code = StatusCode::Error as i32;
    }
    status
}

fn hex_id<const N: usize>(text: &str) -> Result<Vec<u8>, ZipkinError> {
    let text = text.trim_matches('"');
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.len() != N * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ZipkinError::Invalid(format!(
            "invalid link id {text:?}: want {N} hex bytes"
        )));
    }
    Ok((0..N)
        .map(|i| u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).unwrap_or(0))
        .collect())
}

/// `attributes json|dropped` tails of annotations and link tags.
fn json_and_dropped(parts: &[&str]) -> Result<(Vec<KeyValue>, u32), ZipkinError> {
    let (last, json) = parts.split_last().unwrap_or((&"", &[]));
    let attributes = attributes_from_json(&json.join("|")).map_err(ZipkinError::Invalid)?;
    let dropped = last
        .parse::<u32>()
        .map_err(|e| ZipkinError::Invalid(format!("invalid dropped count {last:?}: {e}")))?;
    Ok((attributes, dropped))
}

fn links(tags: &mut BTreeMap<String, String>) -> Result<Vec<Link>, ZipkinError> {
    let mut links = Vec::new();
    for i in 0..MAX_LINKS {
        let Some(value) = tags.remove(&format!("{LINK_PREFIX}{i}")) else {
            break;
        };
        let parts: Vec<&str> = value.split('|').collect();
        if parts.len() < 5 {
            continue;
        }
        let (attributes, dropped) = json_and_dropped(&parts[3..])?;
        links.push(Link {
            trace_id: hex_id::<16>(parts[0])?,
            span_id: hex_id::<8>(parts[1])?,
            trace_state: parts[2].to_owned(),
            attributes,
            dropped_attributes_count: dropped,
            ..Link::default()
        });
    }
    Ok(links)
}

fn events(span: &Span) -> Result<Vec<Event>, ZipkinError> {
    span.annotations
        .iter()
        .map(|a| {
            let parts: Vec<&str> = a.value.split('|').collect();
            let mut event = Event {
                time_unix_nano: a.timestamp_us.saturating_mul(1000),
                name: parts[0].to_owned(),
                ..Event::default()
            };
            if parts.len() >= 3 {
                let (attributes, dropped) = json_and_dropped(&parts[1..])?;
                event.attributes = attributes;
                event.dropped_attributes_count = dropped;
            }
            Ok(event)
        })
        .collect()
}

fn put(attributes: &mut Vec<KeyValue>, key: &str, value: Value) {
    match attributes.iter_mut().find(|a| a.key == key) {
        Some(existing) => existing.value = Some(AnyValue { value: Some(value) }),
        None => attributes.push(kv(key, value)),
    }
}

/// As Go's `net.IP.String()`: an IPv4-mapped IPv6 address prints as IPv4.
fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn otlp_span(
    mut span: Span,
    mut tags: BTreeMap<String, String>,
    parse_string_tags: bool,
) -> Result<OtlpSpan, ZipkinError> {
    let trace_id = if span.trace_id == [0; 16] {
        Vec::new()
    } else {
        span.trace_id.to_vec()
    };
    let parent_span_id = match span.parent_id {
        Some(parent) if parent != span.id && parent != 0 => parent.to_be_bytes().to_vec(),
        _ => Vec::new(),
    };
    let trace_state = tags.remove(TRACE_STATE).unwrap_or_default();
    let kind = span_kind(span.kind, &mut tags);
    let status = status(&mut tags);
    let links = links(&mut tags)?;
    let mut attributes = Vec::with_capacity(tags.len() + 4);
    for (key, value) in tags {
        if is_resource_tag(&key) {
            continue;
        }
        let value = if parse_string_tags {
            typed_tag(&value)
        } else {
            Value::StringValue(value)
        };
        attributes.push(kv(key, value));
    }
    if let Some(local) = &span.local_endpoint {
        if let Some(ip) = local.ipv4 {
            put(
                &mut attributes,
                LOCAL_ADDRESS,
                Value::StringValue(ip_text(ip)),
            );
        }
        if let Some(ip) = local.ipv6 {
            put(
                &mut attributes,
                LOCAL_ADDRESS,
                Value::StringValue(ip_text(ip)),
            );
        }
        if local.port > 0 {
            put(
                &mut attributes,
                LOCAL_PORT,
                Value::IntValue(i64::from(local.port)),
            );
        }
    }
    if let Some(remote) = &span.remote_endpoint {
        if !remote.service_name.is_empty() {
            put(
                &mut attributes,
                PEER_SERVICE,
                Value::StringValue(remote.service_name.clone()),
            );
        }
        if let Some(ip) = remote.ipv4 {
            put(
                &mut attributes,
                PEER_ADDRESS,
                Value::StringValue(ip_text(ip)),
            );
        }
        if let Some(ip) = remote.ipv6 {
            put(
                &mut attributes,
                PEER_ADDRESS,
                Value::StringValue(ip_text(ip)),
            );
        }
        if remote.port > 0 {
            put(
                &mut attributes,
                PEER_PORT,
                Value::IntValue(i64::from(remote.port)),
            );
        }
    }
    let start = span.timestamp_us.unwrap_or(0).saturating_mul(1000);
    let end = start.saturating_add(span.duration_us.saturating_mul(1000));
    if span.timestamp_us.is_none() {
        put(&mut attributes, START_TIME_ABSENT, Value::BoolValue(true));
    }
    Ok(OtlpSpan {
        trace_id,
        span_id: span.id.to_be_bytes().to_vec(),
        trace_state,
        parent_span_id,
        events: events(&span)?,
        name: std::mem::take(&mut span.name),
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        links,
        status,
        ..OtlpSpan::default()
    })
}

/// Translates spans into one request: a resource per local service (in order of first
/// appearance after sorting by service and scope), a scope per `otel.library.name`. Fails (the
/// whole request, as otelcol) on an annotation or link tag that does not parse.
pub fn to_otlp(
    mut spans: Vec<Span>,
    parse_string_tags: bool,
) -> Result<ExportTraceServiceRequest, ZipkinError> {
    spans.sort_by(|a, b| {
        a.local_service_name()
            .cmp(b.local_service_name())
            .then_with(|| {
                let library = |s: &Span| s.tags.get(LIBRARY_NAME).cloned().unwrap_or_default();
                library(a).cmp(&library(b))
            })
    });
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    let mut previous_service: Option<String> = None;
    let mut previous_library: Option<String> = None;
    for mut span in spans {
        let new_resource = previous_service.as_deref() != Some(span.local_service_name());
        // The scope's name is copied only when a new scope starts.
        let new_scope = new_resource || previous_library.as_deref() != Some(scope_name(&span));
        if new_scope {
            previous_library = Some(scope_name(&span).to_owned());
        }
        let mut tags = std::mem::take(&mut span.tags);
        let service = span.local_service_name();
        if new_resource {
            resource_spans.push(ResourceSpans {
                resource: Some(resource_of(&span, &mut tags)),
                ..ResourceSpans::default()
            });
            previous_service = Some(service.to_owned());
        }
        let Some(resource) = resource_spans.last_mut() else {
            continue;
        };
        if new_scope {
            resource.scope_spans.push(ScopeSpans {
                scope: Some(scope_of(&mut tags)),
                ..ScopeSpans::default()
            });
        }
        let translated = otlp_span(span, tags, parse_string_tags)?;
        if let Some(scope) = resource.scope_spans.last_mut() {
            scope.spans.push(translated);
        }
    }
    Ok(ExportTraceServiceRequest { resource_spans })
}
