//! The metric catalogue shared by every scraper (name, unit, shape and attributes as the Go
//! scrapers' `metadata.yaml` declare them) and the [`Recorder`] a scrape writes into: it applies
//! each metric's `enabled`, `attributes` and `aggregation_strategy` settings and builds the
//! OTLP metrics.

use std::collections::BTreeMap;

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;

use super::config::MetricSetting;

/// The schema URL the Go scrapers put on their resource metrics.
pub(crate) const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.9.0";

/// The scope name prefix of the Go scrapers (`…/cpuscraper`), kept so that queries filtering
/// on the scope find our data too.
pub(crate) const SCOPE_PREFIX: &str = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/";

/// Sum (with monotonicity; always cumulative) or gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A cumulative sum.
    Sum {
        /// `is_monotonic`.
        monotonic: bool,
    },
    /// A gauge.
    Gauge,
}

/// The data point value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `as_int`.
    Int,
    /// `as_double`.
    Double,
}

/// How data points that become equal once attributes are dropped are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    Sum,
    Avg,
    Min,
    Max,
}

impl Strategy {
    pub(crate) fn parse(text: &str) -> Option<Strategy> {
        match text {
            "sum" => Some(Strategy::Sum),
            "avg" => Some(Strategy::Avg),
            "min" => Some(Strategy::Min),
            "max" => Some(Strategy::Max),
            _ => None,
        }
    }
}

/// One metric a scraper can emit.
#[derive(Debug)]
pub(crate) struct MetricDef {
    pub name: &'static str,
    pub description: &'static str,
    pub unit: &'static str,
    pub shape: Shape,
    pub kind: Kind,
    /// Enabled by default (the Go default).
    pub enabled: bool,
    /// Every attribute key the metric can carry.
    pub attributes: &'static [&'static str],
    /// The keys kept by default (`None`: all of them).
    pub default_attributes: Option<&'static [&'static str]>,
    /// The default aggregation strategy.
    pub strategy: Strategy,
    /// `false`: the Go receiver has it and this one does not (enabling it is refused).
    pub supported: bool,
}

/// A shorthand for the catalogue tables.
#[allow(clippy::too_many_arguments)]
pub(crate) const fn def(
    name: &'static str,
    description: &'static str,
    unit: &'static str,
    shape: Shape,
    kind: Kind,
    enabled: bool,
    attributes: &'static [&'static str],
) -> MetricDef {
    MetricDef {
        name,
        description,
        unit,
        shape,
        kind,
        enabled,
        attributes,
        default_attributes: None,
        strategy: match shape {
            Shape::Gauge => Strategy::Avg,
            Shape::Sum { .. } => Strategy::Sum,
        },
        supported: true,
    }
}

/// A monotonic sum.
pub(crate) const MONO: Shape = Shape::Sum { monotonic: true };
/// A non-monotonic sum.
pub(crate) const UPDOWN: Shape = Shape::Sum { monotonic: false };
/// A gauge.
pub(crate) const GAUGE: Shape = Shape::Gauge;

/// A metric's effective settings.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub def: &'static MetricDef,
    pub enabled: bool,
    pub attributes: Vec<&'static str>,
    pub strategy: Strategy,
}

/// Resolves the catalogue against a scraper's `metrics:` settings (already validated).
pub(crate) fn resolve(
    catalogue: &'static [MetricDef],
    settings: &BTreeMap<String, MetricSetting>,
) -> Vec<Resolved> {
    catalogue
        .iter()
        .map(|def| {
            let setting = settings.get(def.name);
            let enabled = setting.and_then(|s| s.enabled).unwrap_or(def.enabled);
            let attributes = match setting.and_then(|s| s.attributes.as_ref()) {
                Some(keys) => def
                    .attributes
                    .iter()
                    .copied()
                    .filter(|k| keys.iter().any(|c| c == k))
                    .collect(),
                None => def.default_attributes.unwrap_or(def.attributes).to_vec(),
            };
            let strategy = setting
                .and_then(|s| s.aggregation_strategy.as_deref())
                .and_then(Strategy::parse)
                .unwrap_or(def.strategy);
            Resolved {
                def,
                enabled,
                attributes,
                strategy,
            }
        })
        .collect()
}

#[derive(Debug)]
struct Point {
    attributes: Vec<(&'static str, String)>,
    sum: f64,
    count: u32,
    min: f64,
    max: f64,
}

#[derive(Debug)]
struct Series {
    resolved: Resolved,
    points: Vec<Point>,
}

/// What one scrape of one scraper (or one process) recorded.
#[derive(Debug)]
pub(crate) struct Recorder {
    series: Vec<Series>,
    start: u64,
    now: u64,
}

impl Recorder {
    /// A recorder for `resolved` metrics, data points stamped `now` and started at `start`
    /// (Unix nanoseconds).
    pub(crate) fn new(resolved: &[Resolved], start: u64, now: u64) -> Recorder {
        Recorder {
            series: resolved
                .iter()
                .map(|r| Series {
                    resolved: r.clone(),
                    points: Vec::new(),
                })
                .collect(),
            start,
            now,
        }
    }

    /// Whether `name` is enabled (so a scraper can skip work nobody wants).
    pub(crate) fn enabled(&self, name: &str) -> bool {
        self.series
            .iter()
            .any(|s| s.resolved.def.name == name && s.resolved.enabled)
    }

    /// Records one value of `name` with its full attribute set (`attributes` in the
    /// catalogue's order or any order); dropped attributes merge points by the strategy.
    pub(crate) fn record(&mut self, name: &str, value: f64, attributes: &[(&'static str, &str)]) {
        let Some(series) = self.series.iter_mut().find(|s| s.resolved.def.name == name) else {
            debug_assert!(false, "metric {name} is not in the catalogue");
            return;
        };
        if !series.resolved.enabled {
            return;
        }
        let kept: Vec<(&'static str, &str)> = series
            .resolved
            .attributes
            .iter()
            .filter_map(|key| {
                attributes
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(k, v)| (*k, *v))
            })
            .collect();
        let existing = series.points.iter_mut().find(|p| {
            p.attributes.len() == kept.len()
                && p.attributes
                    .iter()
                    .zip(&kept)
                    .all(|((ka, va), (kb, vb))| ka == kb && va == vb)
        });
        match existing {
            Some(point) => {
                point.sum += value;
                point.count += 1;
                point.min = point.min.min(value);
                point.max = point.max.max(value);
            }
            None => series.points.push(Point {
                attributes: kept.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
                sum: value,
                count: 1,
                min: value,
                max: value,
            }),
        }
    }

    /// The number of data points recorded so far.
    pub(crate) fn points(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }

    /// The recorded metrics, in catalogue order; metrics without points are left out.
    pub(crate) fn into_metrics(self) -> Vec<Metric> {
        let (start, now) = (self.start, self.now);
        self.series
            .into_iter()
            .filter(|s| !s.points.is_empty())
            .map(|s| {
                let def = s.resolved.def;
                let strategy = s.resolved.strategy;
                let data_points = s
                    .points
                    .into_iter()
                    .map(|p| {
                        let v = match strategy {
                            Strategy::Sum => p.sum,
                            Strategy::Avg => p.sum / f64::from(p.count.max(1)),
                            Strategy::Min => p.min,
                            Strategy::Max => p.max,
                        };
                        NumberDataPoint {
                            attributes: p
                                .attributes
                                .into_iter()
                                .map(|(k, v)| string_kv(k, v))
                                .collect(),
                            start_time_unix_nano: start,
                            time_unix_nano: now,
                            value: Some(match def.kind {
                                Kind::Int => number_data_point::Value::AsInt(v as i64),
                                Kind::Double => number_data_point::Value::AsDouble(v),
                            }),
                            ..Default::default()
                        }
                    })
                    .collect();
                let data = match def.shape {
                    Shape::Gauge => metric::Data::Gauge(Gauge { data_points }),
                    Shape::Sum { monotonic } => metric::Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: monotonic,
                    }),
                };
                Metric {
                    name: def.name.to_owned(),
                    description: def.description.to_owned(),
                    unit: def.unit.to_owned(),
                    data: Some(data),
                    ..Default::default()
                }
            })
            .collect()
    }
}

/// A string attribute.
pub(crate) fn string_kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}

/// An integer attribute.
pub(crate) fn int_kv(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// One resource's metrics from scraper `scraper` (`cpu` → scope `…/cpuscraper`).
pub(crate) fn resource_metrics(
    scraper: &str,
    resource: Vec<KeyValue>,
    metrics: Vec<Metric>,
) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(Resource {
            attributes: resource,
            ..Default::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: format!("{SCOPE_PREFIX}{scraper}scraper"),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                ..Default::default()
            }),
            metrics,
            schema_url: String::new(),
        }],
        schema_url: SCHEMA_URL.to_owned(),
    }
}
