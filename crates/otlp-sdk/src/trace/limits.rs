//! Span limits: how many attributes, events and links a span keeps, and how long attribute
//! values may be, with the specification's `OTEL_SPAN_*` / `OTEL_ATTRIBUTE_*` variables.

use crate::env::{Env, usize_var};

/// Limits on what one span holds. What goes beyond them is dropped and counted in the
/// exported span's `dropped_*_count` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    /// Attributes per span (default 128).
    pub max_attributes_per_span: usize,
    /// Events per span (default 128).
    pub max_events_per_span: usize,
    /// Links per span (default 128).
    pub max_links_per_span: usize,
    /// Attributes per event (default 128).
    pub max_attributes_per_event: usize,
    /// Attributes per link (default 128).
    pub max_attributes_per_link: usize,
    /// Characters per string attribute value (bytes per bytes value), `None` = unlimited
    /// (the default).
    pub max_attribute_value_length: Option<usize>,
}

impl Default for SpanLimits {
    fn default() -> Self {
        Self {
            max_attributes_per_span: 128,
            max_events_per_span: 128,
            max_links_per_span: 128,
            max_attributes_per_event: 128,
            max_attributes_per_link: 128,
            max_attribute_value_length: None,
        }
    }
}

impl SpanLimits {
    /// The limits from the environment: `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`,
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, with the general `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`
    /// and `OTEL_ATTRIBUTE_COUNT_LIMIT` where the span-specific one is unset.
    #[must_use]
    pub fn from_env(env: &dyn Env) -> Self {
        let defaults = Self::default();
        let general_count = usize_var(env, "OTEL_ATTRIBUTE_COUNT_LIMIT");
        let count = |key: &str, default: usize| usize_var(env, key).unwrap_or(default);
        let attributes = count(
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
            general_count.unwrap_or(defaults.max_attributes_per_span),
        );
        Self {
            max_attributes_per_span: attributes,
            max_events_per_span: count("OTEL_SPAN_EVENT_COUNT_LIMIT", defaults.max_events_per_span),
            max_links_per_span: count("OTEL_SPAN_LINK_COUNT_LIMIT", defaults.max_links_per_span),
            max_attributes_per_event: count(
                "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
                general_count.unwrap_or(defaults.max_attributes_per_event),
            ),
            max_attributes_per_link: count(
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                general_count.unwrap_or(defaults.max_attributes_per_link),
            ),
            max_attribute_value_length: usize_var(env, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")
                .or_else(|| usize_var(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn env_and_precedence() {
        let env = HashMap::from([
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4"),
        ]);
        let limits = SpanLimits::from_env(&env);
        assert_eq!(limits.max_attributes_per_span, 3);
        assert_eq!(limits.max_attributes_per_event, 10);
        assert_eq!(limits.max_attributes_per_link, 10);
        assert_eq!(limits.max_events_per_span, 2);
        assert_eq!(limits.max_links_per_span, 128);
        assert_eq!(limits.max_attribute_value_length, Some(4));
        assert_eq!(
            SpanLimits::from_env(&HashMap::<&str, &str>::new()),
            SpanLimits::default()
        );
    }
}
