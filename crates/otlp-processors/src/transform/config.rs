//! The `transform` processor's configuration (otelcol-contrib's keys).

use core::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};

use super::TransformProcessor;
use crate::common::{ConfigError, from_yaml};
pub use otlp_ottl::ErrorMode;

pub(super) const NAME: &str = "transform";

/// Configuration of the `transform` processor:
///
/// ```yaml
/// transform:
///   error_mode: ignore
///   trace_statements:
///     - set(span.attributes["env"], "prod")                    # flat: context inferred
///     - context: span                                          # a group
///       conditions: ['span.kind == SPAN_KIND_SERVER']
///       statements: ['set(attributes["server"], true)']
///   metric_statements:
///     - set(metric.description, "Sum") where metric.type == METRIC_DATA_TYPE_SUM
///   log_statements:
///     - statements: ['set(log.severity_text, "FAIL") where log.body == "request failed"']
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// `error_mode`: `ignore`, `silent` or `propagate` (default); a group may override it.
    #[serde(default)]
    pub error_mode: ErrorMode,
    /// `trace_statements`: contexts `resource`, `scope`, `span`, `spanevent`.
    #[serde(default)]
    pub trace_statements: Vec<StatementsEntry>,
    /// `metric_statements`: contexts `resource`, `scope`, `metric`, `datapoint`.
    #[serde(default)]
    pub metric_statements: Vec<StatementsEntry>,
    /// `log_statements`: contexts `resource`, `scope`, `log`.
    #[serde(default)]
    pub log_statements: Vec<StatementsEntry>,
}

/// One entry of a `<signal>_statements` list: a statement (its context inferred from its
/// paths' prefixes, as one group of its own) or a group.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementsEntry {
    /// A statement string.
    Statement(String),
    /// A group of statements with their context, conditions and error mode.
    Group(ContextStatements),
}

/// A group of statements (`context`, `conditions`, `statements`, `error_mode`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextStatements {
    /// `context`: `resource`, `scope`, `span`, `spanevent`, `metric`, `datapoint` or `log`;
    /// inferred from the paths' prefixes when absent.
    #[serde(default)]
    pub context: Option<String>,
    /// `conditions`: the statements run for an item when any of these holds (none: always).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// `statements`: run in order against each item of the context.
    #[serde(default)]
    pub statements: Vec<String>,
    /// `error_mode`: overrides the processor's for this group.
    #[serde(default)]
    pub error_mode: Option<ErrorMode>,
    /// `shared_cache`: only `false` is supported (each group has its own `cache`).
    #[serde(default)]
    pub shared_cache: bool,
}

impl<'de> Deserialize<'de> for StatementsEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = StatementsEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTTL statement or a mapping with `statements`")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<StatementsEntry, E> {
        Ok(StatementsEntry::Statement(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<StatementsEntry, E> {
        Ok(StatementsEntry::Statement(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StatementsEntry, A::Error> {
        ContextStatements::deserialize(MapAccessDeserializer::new(map)).map(StatementsEntry::Group)
    }
}

impl TransformConfig {
    /// Parses the YAML that sits under `processors: transform[/name]:`.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for malformed YAML, unknown keys or mistyped values.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        from_yaml(NAME, yaml)
    }

    /// Checks the configuration (every statement and condition parsed) without keeping the
    /// processor.
    ///
    /// # Errors
    /// The first problem found, naming the key (`trace_statements[0].statements[1]`), the
    /// text and the position.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build().map(drop)
    }

    /// Parses and compiles every statement and condition.
    ///
    /// # Errors
    /// As [`TransformConfig::validate`].
    pub fn build(&self) -> Result<TransformProcessor, ConfigError> {
        TransformProcessor::new(self)
    }
}
