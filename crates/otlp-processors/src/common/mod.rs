//! What the data processors share: their configuration error, the signal a rule applies to,
//! the attribute actions (`attributes`, `resource`) and the match properties (`attributes`,
//! `filter`). Each module is compiled only with a processor that uses it; with only some of
//! those processors enabled, parts of a module go unused (hence the `dead_code` allowance).
#![cfg_attr(
    not(all(
        feature = "attributes",
        feature = "resource",
        feature = "filter",
        feature = "probabilistic_sampler"
    )),
    allow(dead_code)
)]

#[cfg(any(feature = "attributes", feature = "resource"))]
pub(crate) mod actions;
#[cfg(any(feature = "attributes", feature = "filter"))]
pub(crate) mod matching;

#[cfg(any(feature = "attributes", feature = "resource"))]
pub use actions::{ActionConfig, ActionKind};
#[cfg(any(feature = "attributes", feature = "filter"))]
pub use matching::{
    AttributeMatch, LibraryMatch, MatchProperties, MatchType, RegexpConfig, SeverityNumberMatch,
};
pub use otlp_ottl::value::ConfigValue;

/// A telemetry signal, used where a processor's configuration is valid for some signals only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metrics and their data points.
    Metrics,
    /// Log records.
    Logs,
}

impl core::fmt::Display for Signal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Traces => "traces",
            Self::Metrics => "metrics",
            Self::Logs => "logs",
        })
    }
}

/// Why a processor configuration was refused.
///
/// Every variant names the processor, and where it applies the configuration field (as a path
/// such as `actions[2].pattern`) and the offending value, so that the collector can report the
/// problem in the user's own terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration text does not have the processor's shape: a YAML syntax error, an
    /// unknown key, or a value of the wrong type.
    #[error("{processor}: invalid configuration: {message}")]
    Parse {
        /// The processor type, e.g. `attributes`.
        processor: &'static str,
        /// The deserializer's message.
        message: String,
    },
    /// A field holds a value the processor cannot use.
    #[error("{processor}: `{field}`: invalid value {value:?}: {reason}")]
    InvalidField {
        /// The processor type.
        processor: &'static str,
        /// The field's path, e.g. `actions[0].converted_type`.
        field: String,
        /// The offending value, rendered as text.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A required field is missing.
    #[error("{processor}: `{field}` is required: {reason}")]
    MissingField {
        /// The processor type.
        processor: &'static str,
        /// The field's path.
        field: String,
        /// Why or when it is required.
        reason: String,
    },
    /// An OTTL condition does not parse or uses something outside the supported subset.
    #[error("{processor}: `{field}`: condition {condition:?}: {message} at position {position}")]
    Condition {
        /// The processor type.
        processor: &'static str,
        /// The field's path, e.g. `traces.span[1]`.
        field: String,
        /// The condition text.
        condition: String,
        /// Byte offset in the condition where the problem was found (0-based).
        position: usize,
        /// What was expected or found.
        message: String,
    },
    /// The configuration is valid, but not for a pipeline of this signal.
    #[error("{processor}: not valid for {signal} pipelines: {reason}")]
    Signal {
        /// The processor type.
        processor: &'static str,
        /// The pipeline signal.
        signal: Signal,
        /// Why.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(
        processor: &'static str,
        field: impl Into<String>,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidField {
            processor,
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn missing(
        processor: &'static str,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::MissingField {
            processor,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Deserializes a processor configuration from YAML text, mapping errors to [`ConfigError`].
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    processor: &'static str,
    yaml: &str,
) -> Result<T, ConfigError> {
    // An empty document (`attributes:` with nothing under it) is an empty mapping in otelcol.
    let text = if yaml.trim().is_empty() { "{}" } else { yaml };
    serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse {
        processor,
        message: e.to_string(),
    })
}

/// The processors' signal for a pipeline signal (`None` for profiles, for which no data
/// processor has signal-specific rules).
pub(crate) fn processor_signal(signal: otlp_pipeline::Signal) -> Option<Signal> {
    match signal {
        otlp_pipeline::Signal::Traces => Some(Signal::Traces),
        otlp_pipeline::Signal::Metrics => Some(Signal::Metrics),
        otlp_pipeline::Signal::Logs => Some(Signal::Logs),
        otlp_pipeline::Signal::Profiles => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (with optional sign and exponent) and the
/// special names `inf`, `infinity` and `nan` in any case; Go's hexadecimal floats are not
/// accepted.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}
