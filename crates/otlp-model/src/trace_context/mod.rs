//! Trace and span identifiers, trace flags, trace state and span context.
//!
//! The W3C Trace Context data model, free of any header syntax: `otlp-propagation` parses and
//! formats headers on top of these types, and the OTLP views use them for `trace_id`, `span_id`
//! and `flags`.
//!
//! - [`TraceId`], [`SpanId`]: fixed-size ids with hex text forms ([`IdError`]).
//! - [`TraceFlags`]: the `trace-flags` byte, and its packing into OTLP `Span.flags`.
//! - [`TraceState`]: validated `tracestate` list-members ([`TraceStateError`]).
//! - [`SpanContext`]: all of the above plus `is_remote`.

mod hex;
mod ids;
mod span_context;
mod trace_flags;
mod trace_state;

pub use ids::{IdError, SpanId, TraceId};
pub use span_context::SpanContext;
pub use trace_flags::TraceFlags;
pub use trace_state::{TraceState, TraceStateError, TraceStateIter};
