//! What a span records: the data a processor receives when the span ends.

use std::borrow::Cow;

use otlp_model::{SpanContext, SpanId};
pub use otlp_proto::trace::v1::span::SpanKind;

use crate::scope::InstrumentationScope;
use crate::trace::Link;
use crate::value::KeyValue;

/// A span's status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// Not set (the default).
    #[default]
    Unset,
    /// The operation succeeded (set by the application; final).
    Ok,
    /// The operation failed, with a description.
    Error {
        /// Why it failed.
        description: Cow<'static, str>,
    },
}

impl Status {
    /// An error status with `description`.
    pub fn error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::Error {
            description: description.into(),
        }
    }
}

/// An event: something that happened at a point in time during the span.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The event's name.
    pub name: Cow<'static, str>,
    /// When it happened, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Its attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the limits.
    pub dropped_attributes_count: u32,
}

/// A span's recorded data.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanData {
    /// The span's identity.
    pub span_context: SpanContext,
    /// The parent's span id ([`SpanId::INVALID`] for a root).
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process (`None` for a root).
    pub parent_is_remote: Option<bool>,
    /// The span's name.
    pub name: Cow<'static, str>,
    /// The span's kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the Unix epoch (0 while the span runs).
    pub end_time_unix_nano: u64,
    /// Attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the limits.
    pub dropped_attributes_count: u32,
    /// Events.
    pub events: Vec<Event>,
    /// Events dropped by the limits.
    pub dropped_events_count: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links dropped by the limits.
    pub dropped_links_count: u32,
    /// Status.
    pub status: Status,
    /// The tracer's instrumentation scope.
    pub scope: InstrumentationScope,
}
