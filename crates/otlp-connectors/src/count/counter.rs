//! Counting: per resource, per metric, per distinct set of attribute values.

use std::collections::BTreeMap;

use otlp_ottl::Target;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};

use super::config::MetricDef;

/// The values of the attributes a metric counts by, in configuration order.
pub(crate) type AttributeValues = Vec<(String, String)>;

/// One metric's counts: its description, and a count per distinct set of values.
pub(crate) type MetricCounts = (String, BTreeMap<AttributeValues, i64>);

/// Counts of one resource, by metric name.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) metrics: BTreeMap<String, MetricCounts>,
}

fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .filter(|v| v.value.is_some())
}

impl Counts {
    /// Counts one item for every definition whose conditions it meets and whose attributes
    /// it (or its scope, or its resource, or a default) has. `layers` are the attribute lists
    /// to look in, item first.
    pub(crate) fn update(
        &mut self,
        definitions: &[MetricDef],
        target: &Target<'_>,
        layers: [&[KeyValue]; 3],
    ) -> Result<(), String> {
        'definitions: for definition in definitions {
            if !definition.conditions.is_empty() {
                let mut met = false;
                for condition in &definition.conditions {
                    if condition.eval(target).map_err(|e| e.to_string())? {
                        met = true;
                        break;
                    }
                }
                if !met {
                    continue;
                }
            }
            let mut values = Vec::with_capacity(definition.attributes.len());
            for (key, default) in &definition.attributes {
                let found = layers.iter().find_map(|layer| find(layer, key));
                match (found, default) {
                    (Some(value), _) => values.push((key.clone(), as_string(value))),
                    (None, Some(default)) => values.push((key.clone(), default.clone())),
                    // Missing an attribute it is counted by: not counted.
                    (None, None) => continue 'definitions,
                }
            }
            let entry = self
                .metrics
                .entry(definition.name.clone())
                .or_insert_with(|| (definition.description.clone(), BTreeMap::new()));
            *entry.1.entry(values).or_insert(0) += 1;
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }
}

fn as_string(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        _ => otlp_ottl::value::as_string(Some(value)),
    }
}
