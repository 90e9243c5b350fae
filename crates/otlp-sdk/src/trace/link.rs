//! A link from a span to another span, of this trace or another one.

use otlp_model::SpanContext;

use crate::value::KeyValue;

/// A link to another span (a batch consumer linking the messages it processed, a
/// `follows_from` relation).
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The linked span.
    pub span_context: SpanContext,
    /// The link's attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the span limits.
    pub dropped_attributes_count: u32,
}

impl Link {
    /// A link to `span_context` with `attributes`.
    #[must_use]
    pub fn new(span_context: SpanContext, attributes: Vec<KeyValue>) -> Self {
        Self {
            span_context,
            attributes,
            dropped_attributes_count: 0,
        }
    }
}
