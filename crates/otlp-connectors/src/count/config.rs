//! The `count` connector's configuration (otelcol-contrib's keys and default metrics) and its
//! compilation into metric definitions.

use std::collections::BTreeMap;

use otlp_ottl::{Condition, Context};
use otlp_pipeline::ConfigError;
use otlp_pipeline::factory::ComponentConfig;
use serde::{Deserialize, Serialize};

/// `connectors: count: {...}`. A section left out counts with its default metric; a section
/// written (even empty) counts exactly the metrics it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CountConfig {
    /// Span counts, by metric name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spans: Option<BTreeMap<String, MetricInfo>>,
    /// Span event counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spanevents: Option<BTreeMap<String, MetricInfo>>,
    /// Metric counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<BTreeMap<String, MetricInfo>>,
    /// Data point counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints: Option<BTreeMap<String, MetricInfo>>,
    /// Log record counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<BTreeMap<String, MetricInfo>>,
    /// Profile counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles: Option<BTreeMap<String, MetricInfo>>,
}

/// One count metric.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricInfo {
    /// The metric's description.
    pub description: String,
    /// OTTL conditions, ORed: an item meeting any is counted (all are, without conditions).
    pub conditions: Vec<String>,
    /// Attributes to count by: one data point per distinct set of values.
    pub attributes: Vec<AttributeConfig>,
}

/// One attribute to count by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributeConfig {
    /// Looked up on the item, then its scope, then its resource.
    pub key: String,
    /// Used when none has it; without it, such items are not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

/// The sections and their defaults: (key, OTTL context, default name, default description).
pub(crate) const SECTIONS: [(&str, Context, &str, &str); 6] = [
    (
        "spans",
        Context::Span,
        "trace.span.count",
        "The number of spans observed.",
    ),
    (
        "spanevents",
        Context::SpanEvent,
        "trace.span.event.count",
        "The number of span events observed.",
    ),
    (
        "metrics",
        Context::Metric,
        "metric.count",
        "The number of metrics observed.",
    ),
    (
        "datapoints",
        Context::DataPoint,
        "metric.datapoint.count",
        "The number of data points observed.",
    ),
    (
        "logs",
        Context::Log,
        "log.record.count",
        "The number of log records observed.",
    ),
    (
        "profiles",
        Context::Profile,
        "profile.count",
        "The number of profiles observed.",
    ),
];

/// A compiled count metric.
#[derive(Debug, Clone)]
pub(crate) struct MetricDef {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) attributes: Vec<(String, Option<String>)>,
}

impl CountConfig {
    fn section(&self, key: &str) -> Option<&BTreeMap<String, MetricInfo>> {
        match key {
            "spans" => self.spans.as_ref(),
            "spanevents" => self.spanevents.as_ref(),
            "metrics" => self.metrics.as_ref(),
            "datapoints" => self.datapoints.as_ref(),
            "logs" => self.logs.as_ref(),
            _ => self.profiles.as_ref(),
        }
    }

    /// The compiled metrics of each section, in [`SECTIONS`] order.
    pub(crate) fn compile(&self) -> Result<[Vec<MetricDef>; 6], ConfigError> {
        let mut out: [Vec<MetricDef>; 6] = Default::default();
        for (slot, (key, context, default_name, default_description)) in
            out.iter_mut().zip(SECTIONS)
        {
            let Some(section) = self.section(key) else {
                slot.push(MetricDef {
                    name: default_name.to_owned(),
                    description: default_description.to_owned(),
                    conditions: Vec::new(),
                    attributes: Vec::new(),
                });
                continue;
            };
            for (name, info) in section {
                if name.is_empty() {
                    return Err(ConfigError::bad_value(key, "metric name missing"));
                }
                let at = |field: &str| format!("{key}::{name}::{field}");
                let mut conditions = Vec::with_capacity(info.conditions.len());
                for (i, text) in info.conditions.iter().enumerate() {
                    let condition = Condition::parse(text, context).map_err(|e| {
                        ConfigError::bad_value(
                            format!("{key}::{name}::conditions[{i}]"),
                            format!("\"{text}\": {e}"),
                        )
                    })?;
                    conditions.push(condition);
                }
                if key == "metrics" && !info.attributes.is_empty() {
                    return Err(ConfigError::bad_value(
                        at("attributes"),
                        "metrics are not counted by attributes (a metric has none)",
                    ));
                }
                let mut attributes = Vec::with_capacity(info.attributes.len());
                for attribute in &info.attributes {
                    if attribute.key.is_empty() {
                        return Err(ConfigError::bad_value(
                            at("attributes"),
                            "attribute key missing",
                        ));
                    }
                    attributes.push((attribute.key.clone(), attribute.default_value.clone()));
                }
                slot.push(MetricDef {
                    name: name.clone(),
                    description: info.description.clone(),
                    conditions,
                    attributes,
                });
            }
        }
        Ok(out)
    }
}

impl ComponentConfig for CountConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.compile().map(|_| ())
    }
}
