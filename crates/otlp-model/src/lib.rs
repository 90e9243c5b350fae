//! Trace context, attributes, builders, views and semantic-convention keys over the OTLP types.
//!
//! CRATE-DOC-PLACEHOLDER

mod trace_context;

pub use trace_context::*;
