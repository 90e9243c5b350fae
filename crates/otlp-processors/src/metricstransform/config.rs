//! `processors: metricstransform:` — otelcol-contrib's keys, values and validation messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use otlp_pipeline::config::ConfigError;
use otlp_pipeline::factory::ComponentConfig;

/// `processors: metricstransform:`.
///
/// ```yaml
/// metricstransform:
///   transforms:
///     - include: ^system\.cpu\.(.*)$$
///       match_type: regexp
///       action: update
///       new_name: system.processor.$${1}.stat
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsTransformConfig {
    /// Applied in order; a later transform sees what earlier ones made.
    pub transforms: Vec<TransformConfig>,
}

/// One transform.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformConfig {
    /// The metric name (`strict`) or a regular expression (`regexp`, searched unanchored).
    pub include: String,
    /// `strict` (default) or `regexp`.
    pub match_type: String,
    /// Label → value (`strict`) or regular expression (`regexp`) each data point must have;
    /// an absent label matches an empty value.
    pub experimental_match_labels: BTreeMap<String, String>,
    /// `update`, `insert`, `combine` or `group`.
    pub action: String,
    /// The new name; `$1`, `${name}` expand the `include` regexp's groups.
    pub new_name: String,
    /// `group`: resource attributes of the new resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_resource_labels: Option<BTreeMap<String, String>>,
    /// `combine`: `sum`, `mean`, `min`, `max`, `count`, `median`.
    pub aggregation_type: String,
    /// `combine`: `lower` or `upper` for label values taken from regexp groups.
    pub submatch_case: String,
    /// Applied in order to each resulting metric.
    pub operations: Vec<OperationConfig>,
}

/// One operation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OperationConfig {
    /// `add_label`, `update_label`, `delete_label_value`, `toggle_scalar_data_type`,
    /// `experimental_scale_value`, `aggregate_labels`, `aggregate_label_values`.
    pub action: String,
    /// The label operated on.
    pub label: String,
    /// The new label name (`update_label` rename, `add_label`).
    pub new_label: String,
    /// `aggregate_labels`: the labels kept (an empty list keeps none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_set: Option<Vec<String>>,
    /// `sum`, `mean`, `min`, `max`, `count`, `median`.
    pub aggregation_type: String,
    /// `aggregate_label_values`: the values merged into `new_value`.
    pub aggregated_values: Vec<String>,
    /// `add_label`, `aggregate_label_values`: the value (`{{version}}` is replaced).
    pub new_value: String,
    /// `update_label`: value renames.
    pub value_actions: Vec<ValueAction>,
    /// `experimental_scale_value`: the factor.
    pub experimental_scale: f64,
    /// `delete_label_value`: points with this value of `label` are deleted.
    pub label_value: String,
}

/// `value_actions` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValueAction {
    /// The current value.
    pub value: String,
    /// The new value (`{{version}}` is replaced).
    pub new_value: String,
}

pub(crate) const ACTIONS: [&str; 4] = ["insert", "update", "combine", "group"];
pub(crate) const OPERATIONS: [&str; 7] = [
    "add_label",
    "update_label",
    "delete_label_value",
    "toggle_scalar_data_type",
    "experimental_scale_value",
    "aggregate_labels",
    "aggregate_label_values",
];
pub(crate) const AGGREGATIONS: [&str; 6] = ["sum", "mean", "min", "max", "count", "median"];

fn quoted(list: &[&str]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

impl ComponentConfig for MetricsTransformConfig {
    /// otelcol's checks, in its order, with its messages.
    fn validate(&self) -> Result<(), ConfigError> {
        for (i, t) in self.transforms.iter().enumerate() {
            let key = |field: &str| format!("transforms::{i}::{field}");
            if t.include.is_empty() {
                return Err(ConfigError::bad_value(
                    key("include"),
                    "missing required field \"include\"",
                ));
            }
            if !t.match_type.is_empty() && t.match_type != "strict" && t.match_type != "regexp" {
                return Err(ConfigError::bad_value(
                    key("match_type"),
                    "\"match_type\" must be in [\"strict\" \"regexp\"]",
                ));
            }
            if t.match_type == "regexp" {
                if let Err(e) = regex::Regex::new(&t.include) {
                    return Err(ConfigError::bad_value(
                        key("include"),
                        format!("\"include\", {e}"),
                    ));
                }
                for (label, pattern) in &t.experimental_match_labels {
                    if let Err(e) = regex::Regex::new(pattern) {
                        return Err(ConfigError::bad_value(
                            key("experimental_match_labels"),
                            format!("{label}: {e}"),
                        ));
                    }
                }
            }
            if !ACTIONS.contains(&t.action.as_str()) {
                return Err(ConfigError::bad_value(
                    key("action"),
                    format!("\"action\" must be in {}", quoted(&ACTIONS)),
                ));
            }
            if t.action == "insert" && t.new_name.is_empty() {
                return Err(ConfigError::bad_value(
                    key("new_name"),
                    "missing required field \"new_name\" while \"action\" is insert",
                ));
            }
            if t.action == "combine" && t.new_name.is_empty() {
                return Err(ConfigError::bad_value(
                    key("new_name"),
                    "missing required field \"new_name\" while \"action\" is combine",
                ));
            }
            if t.action == "combine" && t.aggregation_type.is_empty() {
                return Err(ConfigError::bad_value(
                    key("aggregation_type"),
                    "missing required field \"aggregation_type\" while \"action\" is combine",
                ));
            }
            if t.action == "group" && t.group_resource_labels.is_none() {
                return Err(ConfigError::bad_value(
                    key("group_resource_labels"),
                    "missing required field \"group_resource_labels\" while \"action\" is group",
                ));
            }
            if !t.aggregation_type.is_empty()
                && !AGGREGATIONS.contains(&t.aggregation_type.as_str())
            {
                return Err(ConfigError::bad_value(
                    key("aggregation_type"),
                    format!("\"aggregation_type\" must be in {}", quoted(&AGGREGATIONS)),
                ));
            }
            if !t.submatch_case.is_empty()
                && t.submatch_case != "lower"
                && t.submatch_case != "upper"
            {
                return Err(ConfigError::bad_value(
                    key("submatch_case"),
                    "\"submatch_case\" must be in [\"lower\" \"upper\"]",
                ));
            }
            for (j, op) in t.operations.iter().enumerate() {
                let n = j + 1;
                let key = |field: &str| format!("transforms::{i}::operations::{j}::{field}");
                let missing = |field: &str| {
                    Err(ConfigError::bad_value(
                        key(field),
                        format!(
                            "operation {n}: missing required field {field:?} while \"action\" is {}",
                            op.action
                        ),
                    ))
                };
                if !OPERATIONS.contains(&op.action.as_str()) {
                    return Err(ConfigError::bad_value(
                        key("action"),
                        format!(
                            "operation {n}: \"action\" must be in {}",
                            quoted(&OPERATIONS)
                        ),
                    ));
                }
                if op.action == "update_label" && op.label.is_empty() {
                    return missing("label");
                }
                if op.action == "add_label" && op.new_label.is_empty() {
                    return missing("new_label");
                }
                if op.action == "add_label" && op.new_value.is_empty() {
                    return missing("new_value");
                }
                if op.action == "experimental_scale_value" && op.experimental_scale == 0.0 {
                    return missing("experimental_scale");
                }
                if (op.action == "aggregate_labels" || op.action == "aggregate_label_values")
                    && op.aggregation_type.is_empty()
                {
                    return missing("aggregation_type");
                }
                if !op.aggregation_type.is_empty()
                    && !AGGREGATIONS.contains(&op.aggregation_type.as_str())
                {
                    return Err(ConfigError::bad_value(
                        key("aggregation_type"),
                        format!(
                            "operation {n}: \"aggregation_type\" must be in {}",
                            quoted(&AGGREGATIONS)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
