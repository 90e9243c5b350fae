//! [`LogRecord`]: what an application emits.

use std::borrow::Cow;
use std::time::SystemTime;

use otlp_model::{SpanId, TraceFlags, TraceId};
pub use otlp_proto::logs::v1::SeverityNumber;

use crate::scope::InstrumentationScope;
use crate::value::{KeyValue, Value};

/// A log record to emit. Build it with the `with_*` methods; what is left unset is filled in
/// by [`Logger::emit`](crate::logs::Logger::emit): the observed timestamp (now) and the trace
/// context (from the current context).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRecord {
    /// When the event happened, nanoseconds since the Unix epoch (0: unknown).
    pub time_unix_nano: u64,
    /// When the SDK saw it (0: set at emit).
    pub observed_time_unix_nano: u64,
    /// The severity number.
    pub severity_number: SeverityNumber,
    /// The severity as the source spells it (`"INFO"`, `"warn"`).
    pub severity_text: Option<Cow<'static, str>>,
    /// The body.
    pub body: Option<Value>,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// The event name, for log records that are events.
    pub event_name: Option<Cow<'static, str>>,
    /// The trace context: `None` takes the current context's at emit.
    pub trace_context: Option<(TraceId, SpanId, TraceFlags)>,
}

impl LogRecord {
    /// An empty record.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Value>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the severity number and its text.
    #[must_use]
    pub fn with_severity(
        mut self,
        number: SeverityNumber,
        text: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.severity_number = number;
        self.severity_text = Some(text.into());
        self
    }

    /// Adds an attribute.
    #[must_use]
    pub fn with_attribute(mut self, attribute: impl Into<KeyValue>) -> Self {
        self.attributes.push(attribute.into());
        self
    }

    /// Adds attributes.
    #[must_use]
    pub fn with_attributes<I, A>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<KeyValue>,
    {
        self.attributes
            .extend(attributes.into_iter().map(Into::into));
        self
    }

    /// Sets the event time.
    #[must_use]
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time_unix_nano = otlp_model::time::system_time_nanos(time);
        self
    }

    /// Marks the record as an event named `name`.
    #[must_use]
    pub fn with_event_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.event_name = Some(name.into());
        self
    }

    /// Sets the trace context explicitly instead of taking the current one.
    #[must_use]
    pub fn with_trace_context(
        mut self,
        trace_id: TraceId,
        span_id: SpanId,
        flags: TraceFlags,
    ) -> Self {
        self.trace_context = Some((trace_id, span_id, flags));
        self
    }
}

/// An emitted record with its logger's scope: what log processors receive.
#[derive(Clone, Debug, PartialEq)]
pub struct LogData {
    /// The record, with timestamps and trace context filled in.
    pub record: LogRecord,
    /// Attributes dropped by the limits.
    pub dropped_attributes_count: u32,
    /// The logger's instrumentation scope.
    pub scope: InstrumentationScope,
}
