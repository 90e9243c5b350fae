//! `tracing` field values → SDK attributes, and the `otel.*` fields a span honours.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

use crate::trace::{SpanKind, Status};
use crate::value::{Key, KeyValue, Value};

/// The field holding an event's message (and ignored on spans).
const MESSAGE: &str = "message";

/// The key of a field: its name without a raw-identifier prefix (`r#type` → `type`). Field
/// names are `&'static str`, so keys never allocate.
fn key(field: &Field) -> Key {
    let name = field.name();
    Key::from_static(name.strip_prefix("r#").unwrap_or(name))
}

/// `u64` and `u128`/`i128` values: an integer when it fits in `i64`, its decimal text
/// otherwise (OTLP has no unsigned integer).
fn wide_int<T: TryInto<i64> + fmt::Display + Copy>(v: T) -> Value {
    match v.try_into() {
        Ok(v) => Value::I64(v),
        Err(_) => Value::String(v.to_string().into()),
    }
}

/// An error's message followed by its sources, `": "`-separated.
fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// A value as text, for the `otel.*` fields.
fn into_text(value: Value) -> String {
    match value {
        Value::String(s) => s.into_owned(),
        Value::Bool(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F64(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

/// `otel.status_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusCode {
    Unset,
    Ok,
    Error,
}

/// What the `otel.status_*` fields said so far: the code and the description may come in
/// separate `record` calls, in either order.
#[derive(Clone, Debug, Default)]
pub(crate) struct StatusFields {
    pub(crate) code: Option<StatusCode>,
    pub(crate) description: Option<String>,
}

impl StatusFields {
    /// The status to set, if the code says one.
    pub(crate) fn status(&self) -> Option<Status> {
        match self.code? {
            StatusCode::Unset => None,
            StatusCode::Ok => Some(Status::Ok),
            StatusCode::Error => Some(Status::error(self.description.clone().unwrap_or_default())),
        }
    }
}

fn parse_kind(text: &str) -> Option<SpanKind> {
    [
        ("internal", SpanKind::Internal),
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
    ]
    .into_iter()
    .find_map(|(name, kind)| text.trim().eq_ignore_ascii_case(name).then_some(kind))
}

fn parse_status_code(text: &str) -> Option<StatusCode> {
    [
        ("unset", StatusCode::Unset),
        ("ok", StatusCode::Ok),
        ("error", StatusCode::Error),
    ]
    .into_iter()
    .find_map(|(name, code)| text.trim().eq_ignore_ascii_case(name).then_some(code))
}

/// The fields of a span (at creation or recorded later).
#[derive(Debug, Default)]
pub(crate) struct SpanFields {
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<SpanKind>,
    pub(crate) status: StatusFields,
    /// Whether an `otel.status_*` field was seen.
    pub(crate) status_touched: bool,
}

impl SpanFields {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            attributes: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    fn value(&mut self, field: &Field, value: Value) {
        match field.name() {
            MESSAGE => {}
            "otel.name" => self.name = Some(into_text(value)),
            "otel.kind" => {
                if let Some(kind) = parse_kind(&into_text(value)) {
                    self.kind = Some(kind);
                }
            }
            "otel.status_code" => {
                if let Some(code) = parse_status_code(&into_text(value)) {
                    self.status.code = Some(code);
                    self.status_touched = true;
                }
            }
            "otel.status_description" => {
                self.status.description = Some(into_text(value));
                self.status_touched = true;
            }
            _ => self.attributes.push(KeyValue {
                key: key(field),
                value,
            }),
        }
    }
}

impl Visit for SpanFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.value(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(field, wide_int(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.value(field, wide_int(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.value(field, wide_int(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() != MESSAGE {
            self.value(field, Value::String(value.to_owned().into()));
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.value(field, Value::Bytes(value.to_vec()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.value(field, Value::String(error_text(value).into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() != MESSAGE {
            self.value(field, Value::String(format!("{value:?}").into()));
        }
    }
}

/// The fields of an event: the message and the attributes.
#[derive(Debug, Default)]
pub(crate) struct EventFields {
    pub(crate) message: Option<String>,
    pub(crate) attributes: Vec<KeyValue>,
}

impl EventFields {
    fn value(&mut self, field: &Field, value: Value) {
        self.attributes.push(KeyValue {
            key: key(field),
            value,
        });
    }
}

impl Visit for EventFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.value(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(field, wide_int(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.value(field, wide_int(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.value(field, wide_int(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == MESSAGE {
            self.message = Some(value.to_owned());
        } else {
            self.value(field, Value::String(value.to_owned().into()));
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.value(field, Value::Bytes(value.to_vec()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.value(field, Value::String(error_text(value).into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Formatted once: the message of `info!("a {b}")` is `fmt::Arguments`, whose `Debug`
        // is its `Display`.
        let text = format!("{value:?}");
        if field.name() == MESSAGE {
            self.message = Some(text);
        } else {
            self.value(field, Value::String(text.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_codes_parse_case_insensitively() {
        assert_eq!(parse_kind("Server"), Some(SpanKind::Server));
        assert_eq!(parse_kind(" CONSUMER "), Some(SpanKind::Consumer));
        assert_eq!(parse_kind("sideways"), None);
        assert_eq!(parse_status_code("ERROR"), Some(StatusCode::Error));
        assert_eq!(parse_status_code("Ok"), Some(StatusCode::Ok));
        assert_eq!(parse_status_code("nope"), None);
        assert_eq!(
            wide_int(u64::MAX),
            Value::String(u64::MAX.to_string().into())
        );
        assert_eq!(wide_int(7_u64), Value::I64(7));
        let status = StatusFields {
            code: Some(StatusCode::Error),
            description: Some("boom".into()),
        };
        assert_eq!(status.status(), Some(Status::error("boom")));
    }
}
