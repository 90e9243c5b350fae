//! What identifies a `spanmetrics` series: the default dimensions (`service.name`,
//! `span.name`, `span.kind`, `status.code`, minus `exclude_dimensions`), the optional scope
//! dimensions and the configured ones, looked up in the span's attributes, then the event's
//! (for `events`), then the resource's. A series key is those values written into a reused
//! buffer, so that a known series costs no allocation; its attributes are built only when the
//! series is new.

use std::fmt::Write as _;

use otlp_proto::common::v1::any_value::Value;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::trace::v1::Span;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;

use super::config::{self, SERVICE_NAME, SPAN_KIND, SPAN_NAME, STATUS_CODE};

/// `span.instrumentation.scope.name`.
pub(crate) const SCOPE_NAME: &str = "span.instrumentation.scope.name";
/// `span.instrumentation.scope.version`.
pub(crate) const SCOPE_VERSION: &str = "span.instrumentation.scope.version";

/// A configured dimension, its default as an attribute value.
#[derive(Debug, Clone)]
pub(crate) struct Dimension {
    name: String,
    default: Option<AnyValue>,
}

/// Compiles configured dimensions.
pub(crate) fn dimensions(list: &[config::Dimension]) -> Vec<Dimension> {
    list.iter()
        .map(|d| Dimension {
            name: d.name.clone(),
            default: d.default.clone().map(string_value),
        })
        .collect()
}

fn string_value(text: String) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(text)),
    }
}

/// The span kind as contrib writes it (`SPAN_KIND_SERVER`).
pub(crate) fn kind_name(kind: i32) -> &'static str {
    SpanKind::try_from(kind)
        .unwrap_or(SpanKind::Unspecified)
        .as_str_name()
}

/// The status code as contrib writes it (`STATUS_CODE_ERROR`).
pub(crate) fn status_name(span: &Span) -> &'static str {
    let code = span.status.as_ref().map_or(0, |s| s.code);
    StatusCode::try_from(code)
        .unwrap_or(StatusCode::Unset)
        .as_str_name()
}

/// The span (with its resource, scope and, for `events`, event) a series is looked up for.
#[derive(Clone, Copy)]
pub(crate) struct SpanRef<'a> {
    /// The resource's `service.name`.
    pub(crate) service: &'a str,
    /// The span.
    pub(crate) span: &'a Span,
    /// The span's scope, when `include_instrumentation_scope` lists it.
    pub(crate) scope: Option<&'a InstrumentationScope>,
    /// The resource's attributes.
    pub(crate) resource: &'a [KeyValue],
    /// The event's attributes (the `events` metric only).
    pub(crate) event: Option<&'a [KeyValue]>,
}

impl<'a> SpanRef<'a> {
    /// The value of a configured dimension: the span's attribute, the event's, the resource's,
    /// or the default.
    fn lookup(&self, dimension: &'a Dimension) -> Option<&'a AnyValue> {
        let find = |attributes: &'a [KeyValue]| {
            attributes
                .iter()
                .find(|kv| kv.key == dimension.name)
                .and_then(|kv| kv.value.as_ref())
        };
        find(&self.span.attributes)
            .or_else(|| self.event.and_then(find))
            .or_else(|| find(self.resource))
            .or(dimension.default.as_ref())
    }
}

/// Which default dimensions are kept.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    service: bool,
    name: bool,
    kind: bool,
    status: bool,
}

impl Defaults {
    /// All four, minus `exclude`.
    pub(crate) fn new(exclude: &[String]) -> Defaults {
        let kept = |name: &str| !exclude.iter().any(|e| e == name);
        Defaults {
            service: kept(SERVICE_NAME),
            name: kept(SPAN_NAME),
            kind: kept(SPAN_KIND),
            status: kept(STATUS_CODE),
        }
    }

    /// Writes the series key of `span` with the configured `groups` of dimensions into `out`.
    pub(crate) fn write_key(&self, out: &mut String, span: &SpanRef<'_>, groups: &[&[Dimension]]) {
        out.clear();
        if self.service {
            push(out, span.service);
        }
        if self.name {
            push(out, &span.span.name);
        }
        if self.kind {
            push(out, kind_name(span.span.kind));
        }
        if self.status {
            push(out, status_name(span.span));
        }
        if let Some(scope) = span.scope {
            push(out, &scope.name);
            push(out, &scope.version);
        }
        for dimension in groups.iter().flat_map(|g| g.iter()) {
            match span.lookup(dimension) {
                Some(value) => write_value(out, value),
                None => out.push('\u{1}'),
            }
            out.push('\0');
        }
    }

    /// The attributes of the series `write_key` named.
    pub(crate) fn attributes(&self, span: &SpanRef<'_>, groups: &[&[Dimension]]) -> Vec<KeyValue> {
        let mut attributes = Vec::new();
        let mut put = |key: &str, value: AnyValue| {
            attributes.push(KeyValue {
                key: key.to_owned(),
                value: Some(value),
                ..KeyValue::default()
            });
        };
        if self.service {
            put(SERVICE_NAME, string_value(span.service.to_owned()));
        }
        if self.name {
            put(SPAN_NAME, string_value(span.span.name.clone()));
        }
        if self.kind {
            put(
                SPAN_KIND,
                string_value(kind_name(span.span.kind).to_owned()),
            );
        }
        if self.status {
            put(STATUS_CODE, string_value(status_name(span.span).to_owned()));
        }
        if let Some(scope) = span.scope {
            put(SCOPE_NAME, string_value(scope.name.clone()));
            put(SCOPE_VERSION, string_value(scope.version.clone()));
        }
        for dimension in groups.iter().flat_map(|g| g.iter()) {
            if let Some(value) = span.lookup(dimension) {
                put(&dimension.name, value.clone());
            }
        }
        attributes
    }
}

fn push(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\0');
}

/// A value in a key, tagged by type so that `1` and `"1"` stay apart.
fn write_value(out: &mut String, value: &AnyValue) {
    let _ = match &value.value {
        Some(Value::StringValue(s)) => {
            out.push('s');
            out.push_str(s);
            Ok(())
        }
        Some(Value::BoolValue(b)) => write!(out, "b{b}"),
        Some(Value::IntValue(i)) => write!(out, "i{i}"),
        Some(Value::DoubleValue(d)) => write!(out, "d{d}"),
        Some(other) => write!(out, "x{other:?}"),
        None => write!(out, "n"),
    };
}

/// An identity of a resource: its attributes (only `keys`, when given), sorted, as text.
pub(crate) fn resource_key(out: &mut String, attributes: &[KeyValue], keys: &[String]) {
    out.clear();
    let mut kept: Vec<&KeyValue> = attributes
        .iter()
        .filter(|kv| keys.is_empty() || keys.contains(&kv.key))
        .collect();
    kept.sort_by(|a, b| a.key.cmp(&b.key));
    for kv in kept {
        push(out, &kv.key);
        match &kv.value {
            Some(value) => write_value(out, value),
            None => out.push('\u{1}'),
        }
        out.push('\0');
    }
}

/// The `service.name` of a resource, when it is a string.
pub(crate) fn service_name(attributes: &[KeyValue]) -> Option<&str> {
    attributes
        .iter()
        .find(|kv| kv.key == SERVICE_NAME)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}
