//! The `filter` processor's configuration.

use serde::Deserialize;

use super::FilterProcessor;
use crate::common::matching::{
    AttributeMatch, MatchProperties, MatchType, RegexpConfig, SeverityNumberMatch,
};
use crate::common::{ConfigError, from_yaml};
pub use otlp_ottl::ErrorMode;

pub(super) const NAME: &str = "filter";

/// Configuration of the `filter` processor, with otelcol-contrib's keys:
///
/// ```yaml
/// filter/drop-health:
///   error_mode: ignore
///   traces:
///     span:
///       - 'attributes["http.route"] == "/health"'
///       - 'kind == SPAN_KIND_INTERNAL and IsMatch(name, "^noisy")'
///   logs:
///     log_record:
///       - 'severity_number < SEVERITY_NUMBER_WARN'
/// ```
///
/// The legacy `include` / `exclude` forms (`spans:`, `metrics: include:`, `logs: include:`)
/// are accepted too; they cannot be mixed with conditions for the same signal.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// `error_mode`: `ignore`, `silent` or `propagate` (default).
    #[serde(default)]
    pub error_mode: ErrorMode,
    /// `traces`: OTTL conditions for spans and span events.
    #[serde(default)]
    pub traces: TraceFilters,
    /// `metrics`: OTTL conditions for metrics and data points, or legacy include/exclude.
    #[serde(default)]
    pub metrics: MetricFilters,
    /// `logs`: OTTL conditions for log records, or legacy include/exclude.
    #[serde(default)]
    pub logs: LogFilters,
    /// `spans`: legacy include/exclude for spans.
    #[serde(default)]
    pub spans: SpanFilters,
    /// `profiles`: OTTL conditions for profiles.
    #[serde(default)]
    pub profiles: ProfileFilters,
}

/// `profiles:` of the filter processor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFilters {
    /// `profile`: a profile is dropped when any condition is true (OTTL `profile` context).
    #[serde(default)]
    pub profile: Vec<String>,
}

/// `traces:` of the filter processor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceFilters {
    /// `span`: a span is dropped when any condition is true.
    #[serde(default)]
    pub span: Vec<String>,
    /// `spanevent`: a span event is dropped when any condition is true.
    #[serde(default)]
    pub spanevent: Vec<String>,
}

/// `metrics:` of the filter processor.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFilters {
    /// `metric`: a metric is dropped when any condition is true.
    #[serde(default)]
    pub metric: Vec<String>,
    /// `datapoint`: a data point is dropped when any condition is true; a metric left with no
    /// data points is dropped.
    #[serde(default)]
    pub datapoint: Vec<String>,
    /// `include` (legacy): keep only matching metrics.
    #[serde(default)]
    pub include: Option<MetricMatchProperties>,
    /// `exclude` (legacy): drop matching metrics.
    #[serde(default)]
    pub exclude: Option<MetricMatchProperties>,
    /// `regexp` (legacy cache options; ignored).
    #[serde(default)]
    pub regexp: Option<RegexpConfig>,
}

/// Legacy metric match properties (`metrics.include` / `metrics.exclude`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricMatchProperties {
    /// `match_type`: `strict` or `regexp` (`expr` is not supported).
    #[serde(default)]
    pub match_type: String,
    /// `regexp` cache options (ignored).
    #[serde(default)]
    pub regexp: Option<RegexpConfig>,
    /// `metric_names`: names (or patterns) to match.
    #[serde(default)]
    pub metric_names: Vec<String>,
    /// `expressions` (for `match_type: expr`; not supported).
    #[serde(default)]
    pub expressions: Vec<String>,
    /// `resource_attributes`: every entry must match the resource.
    #[serde(default)]
    pub resource_attributes: Vec<AttributeMatch>,
}

/// `logs:` of the filter processor.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFilters {
    /// `log_record`: a log record is dropped when any condition is true.
    #[serde(default)]
    pub log_record: Vec<String>,
    /// `include` (legacy): keep only matching log records.
    #[serde(default)]
    pub include: Option<LogMatchProperties>,
    /// `exclude` (legacy): drop matching log records.
    #[serde(default)]
    pub exclude: Option<LogMatchProperties>,
}

/// Legacy log match properties (`logs.include` / `logs.exclude`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogMatchProperties {
    /// `match_type`: `strict` or `regexp`.
    #[serde(default)]
    pub match_type: Option<MatchType>,
    /// `resource_attributes`: every entry must match the resource.
    #[serde(default)]
    pub resource_attributes: Vec<AttributeMatch>,
    /// `record_attributes`: every entry must match the record's attributes.
    #[serde(default)]
    pub record_attributes: Vec<AttributeMatch>,
    /// `severity_texts`: the severity text must match one.
    #[serde(default)]
    pub severity_texts: Vec<String>,
    /// `severity_number`: `min` severity and `match_undefined`.
    #[serde(default)]
    pub severity_number: Option<SeverityNumberMatch>,
    /// `bodies`: the body (as a string) must match one.
    #[serde(default)]
    pub bodies: Vec<String>,
}

impl LogMatchProperties {
    pub(super) fn is_empty(&self) -> bool {
        self.resource_attributes.is_empty()
            && self.record_attributes.is_empty()
            && self.severity_texts.is_empty()
            && self.bodies.is_empty()
            && self.severity_number.is_none()
    }

    pub(super) fn to_match_properties(&self) -> MatchProperties {
        MatchProperties {
            match_type: self.match_type,
            resources: self.resource_attributes.clone(),
            attributes: self.record_attributes.clone(),
            log_severity_texts: self.severity_texts.clone(),
            log_severity_number: self.severity_number.clone(),
            log_bodies: self.bodies.clone(),
            ..MatchProperties::default()
        }
    }
}

/// `spans:` of the filter processor (legacy).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanFilters {
    /// `include`: keep only matching spans.
    #[serde(default)]
    pub include: Option<MatchProperties>,
    /// `exclude`: drop matching spans.
    #[serde(default)]
    pub exclude: Option<MatchProperties>,
}

impl FilterConfig {
    /// Parses the YAML that sits under `processors: filter[/name]:`.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for malformed YAML, unknown keys or mistyped values.
    pub fn from_yaml(yaml: &str) -> Result<Self, ConfigError> {
        from_yaml(NAME, yaml)
    }

    /// Checks the configuration (conditions included) without keeping the processor.
    ///
    /// # Errors
    /// The first problem found; for conditions, the condition text and the position.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.build().map(drop)
    }

    /// Parses every condition and compiles every match property once.
    ///
    /// # Errors
    /// The first problem found; for conditions, the condition text and the position.
    pub fn build(&self) -> Result<FilterProcessor, ConfigError> {
        FilterProcessor::new(self)
    }
}
