//! [`LogsBuilder`] and [`LogRecordBuilder`].

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};

use super::{IntoUnixNanos, Nested, nesting_methods};
use crate::attributes::{IntoAnyValue, kv};
use crate::{SpanContext, SpanId, TraceFlags, TraceId};

/// Builds an [`ExportLogsServiceRequest`]; see the [module docs](super) for the shared shape.
///
/// ```
/// use otlp_model::builders::{LogRecordBuilder, LogsBuilder, SeverityNumber};
/// use otlp_model::views::LogsView;
/// use otlp_model::{resource, SpanId, TraceId};
///
/// let request = LogsBuilder::new()
///     .resource(resource!["service.name" => "checkout"])
///     .scope("my.logger", "1.0")
///     .log_record(
///         LogRecordBuilder::new()
///             .time(1_700_000_000_000_000_000)
///             .severity(SeverityNumber::Error)
///             .severity_text("ERROR")
///             .body("payment declined")
///             .attr("payment.provider", "acme")
///             .trace_id(TraceId::from(1_u128))
///             .span_id(SpanId::from(2_u64)),
///     )
///     .log_record(LogRecordBuilder::new().event_name("cart.checkout").attr("items", 3))
///     .build();
/// assert_eq!(request.log_record_count(), 2);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct LogsBuilder {
    nested: Nested<LogRecord>,
}

impl LogsBuilder {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    nesting_methods!("log records");

    /// Appends a log record (a [`LogRecordBuilder`] or a ready-made [`LogRecord`]) to the
    /// current scope.
    pub fn log_record(mut self, record: impl Into<LogRecord>) -> Self {
        self.nested.push_item(record.into());
        self
    }

    /// Appends log records to the current scope.
    pub fn log_records<R: Into<LogRecord>>(mut self, records: impl IntoIterator<Item = R>) -> Self {
        self.nested
            .extend_items(records.into_iter().map(Into::into));
        self
    }

    /// The finished request.
    #[must_use]
    pub fn build(self) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: self
                .nested
                .resources
                .into_iter()
                .map(|group| ResourceLogs {
                    resource: group.resource,
                    schema_url: group.schema_url,
                    scope_logs: group
                        .scopes
                        .into_iter()
                        .map(|scope| ScopeLogs {
                            scope: scope.scope,
                            schema_url: scope.schema_url,
                            log_records: scope.items,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<LogsBuilder> for ExportLogsServiceRequest {
    fn from(builder: LogsBuilder) -> Self {
        builder.build()
    }
}

/// Builds a [`LogRecord`].
///
/// Unlike spans, log records need no ids: trace and span ids stay empty unless set.
/// `severity_text` is not derived from the severity number; it is the source's own text.
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct LogRecordBuilder {
    record: LogRecord,
}

impl LogRecordBuilder {
    /// An empty record (no time, no severity, no body).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the time the event happened.
    pub fn time(mut self, time: impl IntoUnixNanos) -> Self {
        self.record.time_unix_nano = time.into_unix_nanos();
        self
    }

    /// Sets the time the record was observed by the collection system.
    pub fn observed_time(mut self, time: impl IntoUnixNanos) -> Self {
        self.record.observed_time_unix_nano = time.into_unix_nanos();
        self
    }

    /// Sets the severity number.
    pub fn severity(mut self, severity: SeverityNumber) -> Self {
        self.record.severity_number = severity as i32;
        self
    }

    /// Sets the severity text, as the source wrote it (`WARN`, `warning`).
    pub fn severity_text(mut self, text: impl Into<String>) -> Self {
        self.record.severity_text = text.into();
        self
    }

    /// Sets the body: a string, or any structured [`IntoAnyValue`].
    pub fn body(mut self, body: impl IntoAnyValue) -> Self {
        self.record.body = Some(body.into_any_value());
        self
    }

    /// Appends one attribute.
    pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
        self.record.attributes.push(kv(key, value));
        self
    }

    /// Appends attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.record.attributes.extend(attributes);
        self
    }

    /// Sets the trace id of the span the record belongs to.
    pub fn trace_id(mut self, trace_id: impl Into<TraceId>) -> Self {
        self.record.trace_id = trace_id.into().to_bytes().to_vec();
        self
    }

    /// Sets the span id of the span the record belongs to.
    pub fn span_id(mut self, span_id: impl Into<SpanId>) -> Self {
        self.record.span_id = span_id.into().to_bytes().to_vec();
        self
    }

    /// Sets the trace flags (bits 0-7 of `LogRecord.flags`).
    pub fn trace_flags(mut self, flags: TraceFlags) -> Self {
        self.record.flags = u32::from(flags.to_u8());
        self
    }

    /// Correlates the record with `context`: its trace id, span id and trace flags.
    pub fn context(self, context: &SpanContext) -> Self {
        self.trace_id(context.trace_id())
            .span_id(context.span_id())
            .trace_flags(context.trace_flags())
    }

    /// Sets the event name, which makes the record an event (`browser.page_view`).
    pub fn event_name(mut self, name: impl Into<String>) -> Self {
        self.record.event_name = name.into();
        self
    }

    /// Sets `dropped_attributes_count`.
    pub fn dropped_attributes_count(mut self, count: u32) -> Self {
        self.record.dropped_attributes_count = count;
        self
    }

    /// The finished record.
    #[must_use]
    pub fn build(self) -> LogRecord {
        self.record
    }
}

impl From<LogRecordBuilder> for LogRecord {
    fn from(builder: LogRecordBuilder) -> Self {
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::TraceState;
    use crate::attributes::{AnyValueExt, AttributesExt};

    #[test]
    fn every_setter_lands_in_its_field() {
        let record = LogRecordBuilder::new()
            .time(UNIX_EPOCH + Duration::from_secs(2))
            .observed_time(3_000_000_000)
            .severity(SeverityNumber::Warn2)
            .severity_text("WARNING")
            .body(vec![kv("structured", true)])
            .attr("a", 1)
            .attrs([kv("b", 2)])
            .event_name("e")
            .dropped_attributes_count(4)
            .build();
        assert_eq!(record.time_unix_nano, 2_000_000_000);
        assert_eq!(record.observed_time_unix_nano, 3_000_000_000);
        assert_eq!(record.severity_number(), SeverityNumber::Warn2);
        assert_eq!(record.severity_text, "WARNING");
        assert_eq!(
            record
                .body
                .as_ref()
                .and_then(AnyValueExt::as_kvlist)
                .map(<[_]>::len),
            Some(1)
        );
        assert_eq!(record.attributes.get_i64("b"), Some(2));
        assert_eq!(record.event_name, "e");
        assert_eq!(record.dropped_attributes_count, 4);
        assert!(record.trace_id.is_empty() && record.span_id.is_empty());
        assert_eq!(record.flags, 0);
    }

    #[test]
    fn context_sets_ids_and_flags() {
        let cx = SpanContext::new(
            TraceId::from(5_u128),
            SpanId::from(6_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::new(),
        );
        let record = LogRecordBuilder::new().context(&cx).build();
        assert_eq!(record.trace_id, TraceId::from(5_u128).to_bytes());
        assert_eq!(record.span_id, SpanId::from(6_u64).to_bytes());
        assert_eq!(record.flags, 1);
    }

    #[test]
    fn request_groups_records() {
        let request = LogsBuilder::new()
            .scope("a", "")
            .log_records([LogRecordBuilder::new(), LogRecordBuilder::new()])
            .log_record(LogRecord::default())
            .resource_schema_url("r")
            .scope_schema_url("s")
            .build();
        assert_eq!(request.resource_logs.len(), 1);
        assert!(request.resource_logs[0].resource.is_none());
        assert_eq!(request.resource_logs[0].schema_url, "r");
        assert_eq!(request.resource_logs[0].scope_logs[0].schema_url, "s");
        assert_eq!(request.resource_logs[0].scope_logs[0].log_records.len(), 3);
        let via_from: ExportLogsServiceRequest = LogsBuilder::new().into();
        assert!(via_from.resource_logs.is_empty());
    }
}
