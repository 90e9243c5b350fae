//! The `metricstransform` processor (alias `metrics_transform`, otelcol-contrib v0.160.0's
//! name): renames metrics, copies them (`insert`), combines several into one (`combine`, the
//! regexp's groups becoming labels), moves them into a resource of their own (`group`), and
//! edits their points — labels added, renamed, their values renamed, points deleted by label
//! value, int ↔ double toggled, values scaled, points aggregated across labels or label values
//! (`sum`, `mean`, `min`, `max`, `count`, `median`) — as otelcol-contrib's processor does,
//! quirks included (checked against it metric by metric in
//! `tests/metricstransform_differential.rs`):
//!
//! - a transform matches a metric by name (`strict`, or a `regexp` searched unanchored) and,
//!   with `experimental_match_labels`, by its points' labels (an absent label matches an empty
//!   value; only string values match). With `update`, a metric only some of whose points
//!   match is still edited point by point (`update_label`, `toggle_scalar_data_type`,
//!   `experimental_scale_value`) but not renamed, and the whole-metric operations are skipped;
//!   `insert`, `combine` and `group` take only the matching points (`combine` and `group` then
//!   drop the metric's other points).
//! - `new_name` expands `$1` / `${name}` against the metric's name; a name it expands to
//!   nothing is taken literally.
//! - aggregation groups points by all their labels and timestamp (and start time for delta
//!   sums and histograms); each group becomes its first point with the merged value and the
//!   earliest start time. Histograms and exponential histograms are always summed (counts,
//!   sums, buckets, min/max, exemplars); the aggregations leave summaries as they are.
//!   `count` of a single point keeps its value; the int `mean` divides after summing.
//! - `combine` needs `new_name` and `aggregation_type`, `aggregate_labels` and
//!   `aggregate_label_values` need `aggregation_type` (otelcol v0.160.0's checks: the
//!   couchbase example config, whose `combine`s have none, is refused by both).
//! - the whole-metric operations keep name, description, unit and type but not the metric's
//!   `metadata`; a metric left with no points is removed, and so are emptied scopes and
//!   resources; `{{version}}` in a new label value is this collector's version.
//!
//! Pure and synchronous: [`MetricsTransform::process`] edits an OTLP request in place.

mod config;
mod points;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::{
    Metric, ResourceMetrics, ScopeMetrics, exemplar, metric::Data, number_data_point,
};
use regex::Regex;

pub use config::{MetricsTransformConfig, OperationConfig, TransformConfig, ValueAction};

use otlp_pipeline::component::{Consumer, Processor, ProcessorContext};
use otlp_pipeline::config::ConfigError;
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory, ProcessorFactory};
use otlp_pipeline::{Signal, component::Host, error::BoxError};

use points::{AggGroups, Aggregation};

/// The version `{{version}}` becomes.
const VERSION: &str = env!("CARGO_PKG_VERSION");

enum NameFilter {
    Strict(String),
    Regexp(Regex),
}

enum ValueMatcher {
    Strict(String),
    Regexp(Regex),
}

impl ValueMatcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            ValueMatcher::Strict(v) => v == s,
            ValueMatcher::Regexp(r) => r.is_match(s),
        }
    }
}

/// A compiled `include` + `match_type` + `experimental_match_labels`.
struct Filter {
    name: NameFilter,
    labels: Vec<(String, ValueMatcher)>,
}

impl Filter {
    fn name_matches(&self, name: &str) -> bool {
        match &self.name {
            NameFilter::Strict(s) => s == name,
            NameFilter::Regexp(r) => r.is_match(name),
        }
    }

    fn attrs_match(&self, attrs: &[otlp_proto::common::v1::KeyValue]) -> bool {
        self.labels
            .iter()
            .all(|(key, matcher)| match points::get(attrs, key) {
                Some(kv) => matcher.matches(points::str_of(kv.value.as_ref())),
                None => matcher.matches(""),
            })
    }

    /// Whether any point matches (true without points).
    fn any_point(&self, metric: &Metric) -> bool {
        let mut found = true;
        points::each_attrs(metric, |attrs| {
            found = self.attrs_match(attrs);
            !found
        });
        found
    }

    fn all_points(&self, metric: &Metric) -> bool {
        let mut all = true;
        points::each_attrs(metric, |attrs| {
            all = self.attrs_match(attrs);
            all
        });
        all
    }

    fn matches(&self, metric: &Metric) -> bool {
        self.name_matches(&metric.name) && self.any_point(metric)
    }

    /// The metric's matching part: the whole metric when all its points match, a copy with
    /// the matching points when some do, `None` when none do or the name does not match.
    fn extract(&self, metric: &Metric) -> Option<Extracted> {
        if !self.name_matches(&metric.name) {
            return None;
        }
        let mut matched = Vec::new();
        points::each_attrs(metric, |attrs| {
            matched.push(self.attrs_match(attrs));
            true
        });
        let n = matched.iter().filter(|m| **m).count();
        if n == matched.len() {
            return Some(Extracted::Whole);
        }
        if n == 0 {
            return None;
        }
        let mut copy = points::empty_like(metric);
        copy.data = metric.data.clone();
        let mut at = 0;
        points::retain(&mut copy, |_| {
            let keep = matched.get(at).copied().unwrap_or(false);
            at += 1;
            keep
        });
        Some(Extracted::Part(copy))
    }

    /// `template` with the name's regexp groups expanded; empty when the name does not match.
    fn expand(&self, template: &str, name: &str) -> String {
        match &self.name {
            NameFilter::Strict(_) => String::new(),
            NameFilter::Regexp(r) => match r.captures(name) {
                Some(caps) => {
                    let mut out = String::new();
                    caps.expand(template, &mut out);
                    out
                }
                None => String::new(),
            },
        }
    }
}

enum Extracted {
    Whole,
    Part(Metric),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Update,
    Insert,
    Combine,
    Group,
}

enum Op {
    AddLabel {
        label: String,
        value: String,
    },
    UpdateLabel {
        label: String,
        new_label: String,
        values: Vec<(String, String)>,
    },
    DeleteLabelValue {
        label: String,
        value: String,
    },
    ToggleScalarDataType,
    Scale(f64),
    AggregateLabels {
        keep: Option<Vec<String>>,
        aggregation: Aggregation,
    },
    AggregateLabelValues {
        label: String,
        values: Vec<String>,
        new_value: String,
        aggregation: Aggregation,
    },
}

struct Transform {
    filter: Filter,
    action: Action,
    new_name: String,
    group_resource_labels: Vec<(String, String)>,
    aggregation: Aggregation,
    submatch_case: String,
    operations: Vec<Op>,
}

/// The compiled transforms of one processor instance.
pub struct MetricsTransform {
    transforms: Vec<Transform>,
}

impl MetricsTransform {
    /// Validates and compiles `config`.
    pub fn new(config: &MetricsTransformConfig) -> Result<MetricsTransform, ConfigError> {
        config.validate()?;
        let mut transforms = Vec::new();
        for (i, t) in config.transforms.iter().enumerate() {
            let regexp = t.match_type == "regexp";
            let compile = |pattern: &str| {
                Regex::new(pattern).map_err(|e| {
                    ConfigError::bad_value(format!("transforms::{i}::include"), e.to_string())
                })
            };
            let name = if regexp {
                NameFilter::Regexp(compile(&t.include)?)
            } else {
                NameFilter::Strict(t.include.clone())
            };
            let mut labels = Vec::new();
            for (key, value) in &t.experimental_match_labels {
                let matcher = if regexp {
                    ValueMatcher::Regexp(compile(value)?)
                } else {
                    ValueMatcher::Strict(value.clone())
                };
                labels.push((key.clone(), matcher));
            }
            let action = match t.action.as_str() {
                "insert" => Action::Insert,
                "combine" => Action::Combine,
                "group" => Action::Group,
                _ => Action::Update,
            };
            let version = |s: &str| s.replace("{{version}}", VERSION);
            let operations = t
                .operations
                .iter()
                .map(|op| match op.action.as_str() {
                    "add_label" => Op::AddLabel {
                        label: op.new_label.clone(),
                        value: version(&op.new_value),
                    },
                    "update_label" => Op::UpdateLabel {
                        label: op.label.clone(),
                        new_label: op.new_label.clone(),
                        values: op
                            .value_actions
                            .iter()
                            .map(|va| (va.value.clone(), version(&va.new_value)))
                            .collect(),
                    },
                    "delete_label_value" => Op::DeleteLabelValue {
                        label: op.label.clone(),
                        value: op.label_value.clone(),
                    },
                    "toggle_scalar_data_type" => Op::ToggleScalarDataType,
                    "experimental_scale_value" => Op::Scale(op.experimental_scale),
                    "aggregate_labels" => Op::AggregateLabels {
                        keep: op.label_set.clone(),
                        aggregation: Aggregation::parse(&op.aggregation_type),
                    },
                    _ => Op::AggregateLabelValues {
                        label: op.label.clone(),
                        values: op.aggregated_values.clone(),
                        new_value: version(&op.new_value),
                        aggregation: Aggregation::parse(&op.aggregation_type),
                    },
                })
                .collect();
            transforms.push(Transform {
                filter: Filter { name, labels },
                action,
                new_name: t.new_name.clone(),
                group_resource_labels: t
                    .group_resource_labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                aggregation: Aggregation::parse(&t.aggregation_type),
                submatch_case: t.submatch_case.clone(),
                operations,
            });
        }
        Ok(MetricsTransform { transforms })
    }

    /// Applies every transform to `request`, in place.
    pub fn process(&self, request: &mut ExportMetricsServiceRequest) {
        let mut grouped: Vec<ResourceMetrics> = Vec::new();
        request.resource_metrics.retain_mut(|rm| {
            let resource = rm.resource.clone();
            rm.scope_metrics.retain_mut(|sm| {
                for t in &self.transforms {
                    Self::apply(t, sm, resource.as_ref(), &mut grouped);
                }
                !sm.metrics.is_empty()
            });
            !rm.scope_metrics.is_empty()
        });
        request.resource_metrics.append(&mut grouped);
    }

    fn apply(
        t: &Transform,
        sm: &mut ScopeMetrics,
        resource: Option<&otlp_proto::resource::v1::Resource>,
        grouped: &mut Vec<ResourceMetrics>,
    ) {
        match t.action {
            Action::Group => {
                let mut resource = resource.cloned().unwrap_or_default();
                for (k, v) in &t.group_resource_labels {
                    points::put_str(&mut resource.attributes, k, v);
                }
                let metrics = extract_and_remove(&t.filter, &mut sm.metrics);
                grouped.push(ResourceMetrics {
                    resource: Some(resource),
                    scope_metrics: vec![ScopeMetrics {
                        scope: sm.scope.clone(),
                        metrics,
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                });
            }
            Action::Combine => {
                let matched: Vec<&Metric> =
                    sm.metrics.iter().filter(|m| t.filter.matches(m)).collect();
                if matched.is_empty() {
                    return;
                }
                if let Err(why) = can_be_combined(&matched) {
                    tracing::warn!("{why}");
                    return;
                }
                let extracted = extract_and_remove(&t.filter, &mut sm.metrics);
                if let Some(mut combined) = combine(t, extracted)
                    && transform_metric(&mut combined, t)
                {
                    sm.metrics.push(combined);
                }
            }
            Action::Insert => {
                let n = sm.metrics.len();
                for i in 0..n {
                    let Some(metric) = sm.metrics.get(i) else {
                        break;
                    };
                    let mut copy = match t.filter.extract(metric) {
                        None => continue,
                        Some(Extracted::Whole) => metric.clone(),
                        Some(Extracted::Part(part)) => part,
                    };
                    if transform_metric(&mut copy, t) {
                        sm.metrics.push(copy);
                    }
                }
            }
            Action::Update => {
                sm.metrics
                    .retain_mut(|metric| !t.filter.matches(metric) || transform_metric(metric, t));
            }
        }
    }
}

/// Takes the matching part of every matching metric out of `metrics` (a metric only part of
/// whose points match is removed whole, as otelcol does).
fn extract_and_remove(filter: &Filter, metrics: &mut Vec<Metric>) -> Vec<Metric> {
    let mut out = Vec::new();
    let mut kept = Vec::with_capacity(metrics.len());
    for metric in metrics.drain(..) {
        match filter.extract(&metric) {
            None => kept.push(metric),
            Some(Extracted::Whole) => out.push(metric),
            Some(Extracted::Part(part)) => out.push(part),
        }
    }
    *metrics = kept;
    out
}

fn type_name(metric: &Metric) -> &'static str {
    match &metric.data {
        Some(Data::Gauge(_)) => "Gauge",
        Some(Data::Sum(_)) => "Sum",
        Some(Data::Histogram(_)) => "Histogram",
        Some(Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(Data::Summary(_)) => "Summary",
        None => "Empty",
    }
}

fn attribute_keys(metric: &Metric) -> std::collections::BTreeSet<String> {
    let mut keys = std::collections::BTreeSet::new();
    points::each_attrs(metric, |attrs| {
        keys.extend(attrs.iter().map(|kv| kv.key.clone()));
        true
    });
    keys
}

/// otelcol's `canBeCombined`.
fn can_be_combined(metrics: &[&Metric]) -> Result<(), String> {
    if metrics.len() <= 1 {
        return Ok(());
    }
    let mut first: Option<&Metric> = None;
    for metric in metrics {
        if matches!(metric.data, Some(Data::Summary(_))) {
            return Err(format!(
                "Summary metrics cannot be combined: {} ",
                metric.name
            ));
        }
        let Some(f) = first else {
            first = Some(metric);
            continue;
        };
        if type_name(f) != type_name(metric) {
            return Err(format!(
                "metrics cannot be combined as they are of different types: {} ({}) and {} ({})",
                f.name,
                type_name(f),
                metric.name,
                type_name(metric)
            ));
        }
        if f.unit != metric.unit {
            return Err(format!(
                "metrics cannot be combined as they have different units: {} ({}) and {} ({})",
                f.name, f.unit, metric.name, metric.unit
            ));
        }
        if attribute_keys(f) != attribute_keys(metric) {
            return Err(format!(
                "metrics cannot be combined as they have different attributes: {} and {}",
                f.name, metric.name
            ));
        }
        let params = |m: &Metric| match &m.data {
            Some(Data::Sum(s)) => (s.aggregation_temporality, s.is_monotonic),
            Some(Data::Histogram(h)) => (h.aggregation_temporality, false),
            Some(Data::ExponentialHistogram(h)) => (h.aggregation_temporality, false),
            _ => (0, false),
        };
        let (a, b) = (params(f), params(metric));
        if a.0 != b.0 {
            return Err(format!(
                "metrics cannot be combined as they have different aggregation temporalities: {} and {}",
                f.name, metric.name
            ));
        }
        if a.1 != b.1 {
            return Err(format!(
                "metrics cannot be combined as they have different monotonicity: {} and {}",
                f.name, metric.name
            ));
        }
    }
    Ok(())
}

/// otelcol's `combine`: one metric named `new_name` holding every extracted metric's points,
/// labelled with the regexp's groups, aggregated by the transform's `aggregation_type`.
fn combine(t: &Transform, mut metrics: Vec<Metric>) -> Option<Metric> {
    let first = metrics.first()?;
    let mut combined = points::empty_like(first);
    combined.name = t.new_name.clone();
    if let NameFilter::Regexp(re) = &t.filter.name {
        let keys: Vec<String> = re
            .capture_names()
            .enumerate()
            .map(|(i, name)| name.map_or_else(|| format!("${i}"), str::to_owned))
            .collect();
        for metric in &mut metrics {
            let Some(caps) = re.captures(&metric.name) else {
                continue;
            };
            let values: Vec<(String, String)> = (1..caps.len())
                .filter_map(|i| {
                    let value = caps.get(i)?.as_str();
                    let value = match t.submatch_case.as_str() {
                        "lower" => value.to_lowercase(),
                        "upper" => value.to_uppercase(),
                        _ => value.to_owned(),
                    };
                    (!value.is_empty()).then(|| (keys.get(i).cloned().unwrap_or_default(), value))
                })
                .collect();
            points::each_attrs_mut(metric, |attrs| {
                for (k, v) in &values {
                    points::put_str(attrs, k, v);
                }
            });
        }
    }
    let mut groups = AggGroups::default();
    for metric in &mut metrics {
        groups.add(metric);
    }
    groups.merge_into(&mut combined, t.aggregation);
    Some(combined)
}

/// otelcol's `transformMetric`: the rename and the operations; `false` when the metric lost
/// all its points.
fn transform_metric(metric: &mut Metric, t: &Transform) -> bool {
    let was_empty = points::count(metric) == 0;
    let can_change = t.action != Action::Update || t.filter.all_points(metric);
    if !t.new_name.is_empty() && can_change {
        let expanded = t.filter.expand(&t.new_name, &metric.name);
        metric.name = if expanded.is_empty() {
            t.new_name.clone()
        } else {
            expanded
        };
    }
    for op in &t.operations {
        match op {
            Op::UpdateLabel {
                label,
                new_label,
                values,
            } => points::each_attrs_mut(metric, |attrs| {
                if !t.filter.attrs_match(attrs) {
                    return;
                }
                let Some(value) = points::get(attrs, label).and_then(|kv| kv.value.clone()) else {
                    return;
                };
                let mut key = label.as_str();
                if !new_label.is_empty() {
                    points::put(attrs, new_label, value.clone());
                    points::remove(attrs, label);
                    key = new_label;
                }
                let current = points::str_of(Some(&value));
                if let Some((_, to)) = values.iter().rev().find(|(from, _)| from == current) {
                    points::put_str(attrs, key, to);
                }
            }),
            Op::AggregateLabels { .. } | Op::AggregateLabelValues { .. }
                if matches!(metric.data, Some(Data::Summary(_))) => {}
            Op::AggregateLabels { keep, aggregation } if can_change => {
                if let Some(keep) = keep {
                    points::each_attrs_mut(metric, |attrs| {
                        attrs.retain(|kv| keep.contains(&kv.key));
                    });
                }
                aggregate(metric, *aggregation);
            }
            Op::AggregateLabelValues {
                label,
                values,
                new_value,
                aggregation,
            } if can_change => {
                points::each_attrs_mut(metric, |attrs| {
                    if let Some(kv) = attrs.iter_mut().find(|kv| &kv.key == label)
                        && values
                            .iter()
                            .any(|v| v == points::str_of(kv.value.as_ref()))
                    {
                        kv.value = Some(otlp_proto::common::v1::AnyValue {
                            value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
                                new_value.clone(),
                            )),
                        });
                    }
                });
                aggregate(metric, *aggregation);
            }
            Op::ToggleScalarDataType => toggle(metric, &t.filter),
            Op::Scale(factor) => scale(metric, *factor, &t.filter),
            Op::AddLabel { label, value } if can_change => {
                points::each_attrs_mut(metric, |attrs| {
                    if points::get(attrs, label).is_none() {
                        points::put_str(attrs, label, value);
                    }
                });
            }
            Op::DeleteLabelValue { label, value } if can_change => {
                points::retain(metric, |attrs| {
                    points::get(attrs, label)
                        .is_none_or(|kv| points::str_of(kv.value.as_ref()) != value)
                });
            }
            _ => {}
        }
    }
    was_empty || points::count(metric) > 0
}

fn aggregate(metric: &mut Metric, aggregation: Aggregation) {
    if matches!(metric.data, Some(Data::Summary(_))) {
        return;
    }
    let mut merged = points::empty_like(metric);
    let mut groups = AggGroups::default();
    groups.add(metric);
    groups.merge_into(&mut merged, aggregation);
    *metric = merged;
}

fn number_points(
    metric: &mut Metric,
) -> Option<&mut Vec<otlp_proto::metrics::v1::NumberDataPoint>> {
    match &mut metric.data {
        Some(Data::Gauge(g)) => Some(&mut g.data_points),
        Some(Data::Sum(s)) => Some(&mut s.data_points),
        _ => None,
    }
}

fn toggle(metric: &mut Metric, filter: &Filter) {
    use number_data_point::Value;
    let Some(points) = number_points(metric) else {
        return;
    };
    for p in points
        .iter_mut()
        .filter(|p| filter.attrs_match(&p.attributes))
    {
        p.value = match p.value {
            Some(Value::AsInt(i)) => Some(Value::AsDouble(i as f64)),
            Some(Value::AsDouble(d)) => Some(Value::AsInt(d as i64)),
            None => None,
        };
    }
}

fn scale(metric: &mut Metric, factor: f64, filter: &Filter) {
    use number_data_point::Value;
    if let Some(Data::Histogram(h)) = &mut metric.data {
        for p in h
            .data_points
            .iter_mut()
            .filter(|p| filter.attrs_match(&p.attributes))
        {
            p.sum = p.sum.map(|s| s * factor);
            p.min = p.min.map(|s| s * factor);
            p.max = p.max.map(|s| s * factor);
            for b in &mut p.explicit_bounds {
                *b *= factor;
            }
            for e in &mut p.exemplars {
                e.value = match e.value {
                    Some(exemplar::Value::AsInt(i)) => {
                        Some(exemplar::Value::AsInt((i as f64 * factor) as i64))
                    }
                    Some(exemplar::Value::AsDouble(d)) => {
                        Some(exemplar::Value::AsDouble(d * factor))
                    }
                    None => None,
                };
            }
        }
        return;
    }
    let Some(points) = number_points(metric) else {
        return;
    };
    for p in points
        .iter_mut()
        .filter(|p| filter.attrs_match(&p.attributes))
    {
        p.value = match p.value {
            Some(Value::AsInt(i)) => Some(Value::AsInt((i as f64 * factor) as i64)),
            Some(Value::AsDouble(d)) => Some(Value::AsDouble(d * factor)),
            None => None,
        };
    }
}

/// The `metricstransform` processor in a pipeline.
pub struct MetricsTransformProcessor {
    transform: MetricsTransform,
    next: Arc<dyn Consumer>,
}

#[async_trait]
impl Consumer for MetricsTransformProcessor {
    async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
        if let Some(request) = data.metrics_mut() {
            self.transform.process(request);
            if request.resource_metrics.is_empty() {
                return Ok(());
            }
        }
        self.next.consume(data).await
    }

    fn mutates_data(&self) -> bool {
        true
    }
}

#[async_trait]
impl Processor for MetricsTransformProcessor {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }
}

impl MetricsTransformProcessor {
    /// Compiles `config` for the pipeline of `ctx`.
    pub fn new(
        ctx: ProcessorContext,
        config: &MetricsTransformConfig,
    ) -> Result<Self, ConfigError> {
        Ok(MetricsTransformProcessor {
            transform: MetricsTransform::new(config)?,
            next: ctx.next,
        })
    }
}

/// The `metricstransform` factory (alias `metrics_transform`), metrics only.
pub fn metricstransform_factory() -> impl ProcessorFactory {
    FnFactory::processor(
        "metricstransform",
        Signal::Metrics,
        |ctx, config: MetricsTransformConfig| {
            Ok(Box::new(MetricsTransformProcessor::new(ctx, &config)?))
        },
    )
    .with_aliases(&["metrics_transform"])
}

/// Applies `transform` to a payload (a no-op for other signals), for benchmarks and tests.
pub fn process_payload(transform: &MetricsTransform, payload: &mut Payload) {
    if let Payload::Metrics(request) = payload {
        transform.process(request);
    }
}
