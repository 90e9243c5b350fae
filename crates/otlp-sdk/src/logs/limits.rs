//! Log record limits, with `OTEL_LOGRECORD_*` / `OTEL_ATTRIBUTE_*`.

use crate::env::{Env, usize_var};

/// Limits on one log record's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRecordLimits {
    /// Attributes per record (default 128).
    pub max_attributes: usize,
    /// Characters per string value, `None` = unlimited (default).
    pub max_attribute_value_length: Option<usize>,
}

impl Default for LogRecordLimits {
    fn default() -> Self {
        Self {
            max_attributes: 128,
            max_attribute_value_length: None,
        }
    }
}

impl LogRecordLimits {
    /// From `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT` and
    /// `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, falling back to the general
    /// `OTEL_ATTRIBUTE_COUNT_LIMIT` and `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    #[must_use]
    pub fn from_env(env: &dyn Env) -> Self {
        Self {
            max_attributes: usize_var(env, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT")
                .or_else(|| usize_var(env, "OTEL_ATTRIBUTE_COUNT_LIMIT"))
                .unwrap_or(128),
            max_attribute_value_length: usize_var(
                env,
                "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            )
            .or_else(|| usize_var(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")),
        }
    }
}
