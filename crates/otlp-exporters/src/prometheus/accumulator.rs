//! The series the exporter holds between scrapes (Go's `accumulator.go`).
//!
//! A series is keyed by its metric type and name, its scope (name, version, schema URL,
//! attributes), its point attributes and its resource's `job` / `instance`. What each kind of
//! point does to the held one:
//!
//! - gauges, cumulative sums, cumulative histograms, exponential histograms and summaries
//!   replace it, unless older (then refused);
//! - monotonic delta sums are added onto it when their start is its timestamp, and replace it
//!   otherwise (a reset);
//! - delta histograms (explicit and exponential) are added onto it when their start is its
//!   timestamp; a start before it is a reset, a start after it is misaligned and refused;
//! - non-monotonic delta sums and unspecified temporalities are refused;
//! - a point flagged "no recorded value" removes its series.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::AddAssign;
use std::sync::Arc;
use std::time::{Duration, Instant};

use otlp_model::prometheus::translator::value_string;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets;
use otlp_proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, SummaryDataPoint, metric::Data, number_data_point,
};

use super::ResourceToTelemetryConfig;

/// The most series held; a new series beyond it is dropped (after expired ones are purged).
pub const MAX_SERIES: usize = 200_000;

/// The data point flag of a point that has no recorded value.
const NO_RECORDED_VALUE: u32 = 1;

pub(crate) const SERVICE_NAME: &str = "service.name";
pub(crate) const SERVICE_NAMESPACE: &str = "service.namespace";
pub(crate) const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// What one [`Accumulator::accumulate`] did not keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// New series dropped because the accumulator holds its maximum.
    pub series_dropped: u64,
    /// Points not accumulated (non-monotonic delta sums, unspecified temporality, stale or
    /// misaligned points, metrics without data).
    pub refused: u64,
}

impl AddAssign for Outcome {
    fn add_assign(&mut self, other: Outcome) {
        self.series_dropped += other.series_dropped;
        self.refused += other.refused;
    }
}

/// The kind of a held series, which is also part of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Sum { monotonic: bool },
    Histogram,
    ExponentialHistogram,
    Summary,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Gauge => "g",
            Kind::Sum { monotonic: true } => "c",
            Kind::Sum { monotonic: false } => "s",
            Kind::Histogram => "h",
            Kind::ExponentialHistogram => "e",
            Kind::Summary => "q",
        }
    }
}

/// The held point of a series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Point {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    ExponentialHistogram(ExponentialHistogramDataPoint),
    Summary(SummaryDataPoint),
}

impl Point {
    fn time(&self) -> u64 {
        match self {
            Point::Number(p) => p.time_unix_nano,
            Point::Histogram(p) => p.time_unix_nano,
            Point::ExponentialHistogram(p) => p.time_unix_nano,
            Point::Summary(p) => p.time_unix_nano,
        }
    }
}

/// The instrumentation scope of a series.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Scope {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) schema_url: String,
    pub(crate) attributes: Vec<KeyValue>,
}

/// The resource of a series: its `job` / `instance` and its attributes (for `target_info`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ResourceInfo {
    pub(crate) job: Option<String>,
    pub(crate) instance: Option<String>,
    pub(crate) attributes: Vec<KeyValue>,
}

impl ResourceInfo {
    fn new(attributes: &[KeyValue]) -> ResourceInfo {
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| value_string(kv.value.as_ref()))
        };
        let job = get(SERVICE_NAME).map(|name| match get(SERVICE_NAMESPACE) {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name,
        });
        ResourceInfo {
            job,
            instance: get(SERVICE_INSTANCE_ID),
            attributes: attributes.to_vec(),
        }
    }
}

/// One held series.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) unit: String,
    pub(crate) kind: Kind,
    pub(crate) scope: Arc<Scope>,
    pub(crate) resource: Arc<ResourceInfo>,
    /// The point's attributes (with the resource's, under `resource_to_telemetry_conversion`).
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) point: Point,
    pub(crate) updated: Instant,
}

/// The series held for scrapes.
#[derive(Debug)]
pub struct Accumulator {
    expiration: Duration,
    max_series: usize,
    series: HashMap<String, Series>,
}

impl Accumulator {
    /// An empty accumulator whose series expire `expiration` after their last update, holding
    /// at most `max_series`.
    pub fn new(expiration: Duration, max_series: usize) -> Accumulator {
        Accumulator {
            expiration,
            max_series,
            series: HashMap::new(),
        }
    }

    /// The series held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series is held.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Removes the series not updated for the expiration time at `now`.
    pub fn expire(&mut self, now: Instant) {
        let expiration = self.expiration;
        self.series
            .retain(|_, s| now.saturating_duration_since(s.updated) <= expiration);
    }

    /// The held series, in no particular order.
    pub(crate) fn series(&self) -> impl Iterator<Item = &Series> {
        self.series.values()
    }

    /// Accumulates the points of one resource at `now`.
    pub fn accumulate(
        &mut self,
        resource_metrics: &ResourceMetrics,
        resource_to_telemetry: &ResourceToTelemetryConfig,
        now: Instant,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let resource_attributes = resource_metrics
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let resource = Arc::new(ResourceInfo::new(resource_attributes));
        let copied: Vec<&KeyValue> = if resource_to_telemetry.enabled {
            resource_attributes
                .iter()
                .filter(|kv| {
                    !resource_to_telemetry.exclude_service_attributes
                        || ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID]
                            .contains(&kv.key.as_str())
                })
                .collect()
        } else {
            Vec::new()
        };
        for scope_metrics in &resource_metrics.scope_metrics {
            let scope = Arc::new(match &scope_metrics.scope {
                Some(s) => Scope {
                    name: s.name.clone(),
                    version: s.version.clone(),
                    schema_url: scope_metrics.schema_url.clone(),
                    attributes: s.attributes.clone(),
                },
                None => Scope {
                    schema_url: scope_metrics.schema_url.clone(),
                    ..Scope::default()
                },
            });
            let context = Context {
                scope: &scope,
                resource: &resource,
                copied: &copied,
                now,
            };
            for metric in &scope_metrics.metrics {
                outcome += self.metric(metric, &context);
            }
        }
        outcome
    }

    fn metric(&mut self, metric: &Metric, context: &Context<'_>) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(data) = &metric.data else {
            tracing::debug!(metric = %metric.name, "metric without data refused");
            outcome.refused += 1;
            return outcome;
        };
        let temporality = |value: i32| AggregationTemporality::try_from(value).ok();
        match data {
            Data::Gauge(gauge) => {
                for point in &gauge.data_points {
                    let point = Point::Number(point.clone());
                    outcome += self.put(metric, Kind::Gauge, point, Merge::Replace, context);
                }
            }
            Data::Sum(sum) => {
                let kind = Kind::Sum {
                    monotonic: sum.is_monotonic,
                };
                let merge = match temporality(sum.aggregation_temporality) {
                    Some(AggregationTemporality::Cumulative) => Merge::Replace,
                    Some(AggregationTemporality::Delta) if sum.is_monotonic => Merge::DeltaSum,
                    _ => {
                        tracing::debug!(
                            metric = %metric.name,
                            "sum refused: delta non-monotonic or unspecified temporality"
                        );
                        outcome.refused += sum.data_points.len() as u64;
                        return outcome;
                    }
                };
                for point in &sum.data_points {
                    let point = Point::Number(point.clone());
                    outcome += self.put(metric, kind, point, merge, context);
                }
            }
            Data::Histogram(histogram) => {
                let merge = match temporality(histogram.aggregation_temporality) {
                    Some(AggregationTemporality::Cumulative) => Merge::Replace,
                    Some(AggregationTemporality::Delta) => Merge::DeltaHistogram,
                    _ => {
                        outcome.refused += histogram.data_points.len() as u64;
                        return outcome;
                    }
                };
                for point in &histogram.data_points {
                    let point = Point::Histogram(point.clone());
                    outcome += self.put(metric, Kind::Histogram, point, merge, context);
                }
            }
            Data::ExponentialHistogram(histogram) => {
                let merge = match temporality(histogram.aggregation_temporality) {
                    Some(AggregationTemporality::Cumulative) => Merge::Replace,
                    Some(AggregationTemporality::Delta) => Merge::DeltaHistogram,
                    _ => {
                        outcome.refused += histogram.data_points.len() as u64;
                        return outcome;
                    }
                };
                for point in &histogram.data_points {
                    let point = Point::ExponentialHistogram(point.clone());
                    let kind = Kind::ExponentialHistogram;
                    outcome += self.put(metric, kind, point, merge, context);
                }
            }
            Data::Summary(summary) => {
                for point in &summary.data_points {
                    let point = Point::Summary(point.clone());
                    outcome += self.put(metric, Kind::Summary, point, Merge::Replace, context);
                }
            }
        }
        outcome
    }

    /// Stores one point (its attributes still those of the request).
    fn put(
        &mut self,
        metric: &Metric,
        kind: Kind,
        mut point: Point,
        merge: Merge,
        context: &Context<'_>,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let (attributes, flags) = match &mut point {
            Point::Number(p) => (&mut p.attributes, p.flags),
            Point::Histogram(p) => (&mut p.attributes, p.flags),
            Point::ExponentialHistogram(p) => (&mut p.attributes, p.flags),
            Point::Summary(p) => (&mut p.attributes, p.flags),
        };
        // The series holds the attributes; the held point keeps none.
        let mut attributes = std::mem::take(attributes);
        for kv in context.copied {
            match attributes.iter_mut().find(|a| a.key == kv.key) {
                Some(existing) => existing.value.clone_from(&kv.value),
                None => attributes.push((*kv).clone()),
            }
        }
        let key = signature(metric, kind, context, &attributes);
        if flags & NO_RECORDED_VALUE != 0 {
            self.series.remove(&key);
            return outcome;
        }
        if let Point::Number(p) = &point
            && p.value.is_none()
        {
            outcome.refused += 1;
            return outcome;
        }
        let now = context.now;
        if let Some(held) = self.series.get_mut(&key) {
            let held_time = held.point.time();
            if point.time() < held_time {
                tracing::debug!(metric = %metric.name, "point older than the held one refused");
                outcome.refused += 1;
                return outcome;
            }
            let merged = match (merge, &held.point, point) {
                (Merge::DeltaSum, Point::Number(old), Point::Number(new)) => {
                    Point::Number(add_numbers(old, new))
                }
                (Merge::DeltaHistogram, Point::Histogram(old), Point::Histogram(new)) => {
                    if new.start_time_unix_nano == old.time_unix_nano {
                        Point::Histogram(add_histograms(old, new))
                    } else if new.start_time_unix_nano < old.time_unix_nano {
                        Point::Histogram(new)
                    } else {
                        tracing::warn!(metric = %metric.name, "misaligned delta histogram point dropped");
                        outcome.refused += 1;
                        return outcome;
                    }
                }
                (
                    Merge::DeltaHistogram,
                    Point::ExponentialHistogram(old),
                    Point::ExponentialHistogram(new),
                ) => {
                    if new.start_time_unix_nano == old.time_unix_nano {
                        Point::ExponentialHistogram(add_exponential(old, new))
                    } else if new.start_time_unix_nano < old.time_unix_nano {
                        Point::ExponentialHistogram(new)
                    } else {
                        tracing::warn!(metric = %metric.name, "misaligned delta histogram point dropped");
                        outcome.refused += 1;
                        return outcome;
                    }
                }
                (_, _, point) => point,
            };
            held.point = merged;
            held.attributes = attributes;
            held.description.clone_from(&metric.description);
            held.unit.clone_from(&metric.unit);
            held.resource = Arc::clone(context.resource);
            held.updated = now;
            return outcome;
        }
        if self.series.len() >= self.max_series {
            self.expire(now);
            if self.series.len() >= self.max_series {
                outcome.series_dropped += 1;
                return outcome;
            }
        }
        self.series.insert(
            key,
            Series {
                name: metric.name.clone(),
                description: metric.description.clone(),
                unit: metric.unit.clone(),
                kind,
                scope: Arc::clone(context.scope),
                resource: Arc::clone(context.resource),
                attributes,
                point,
                updated: now,
            },
        );
        outcome
    }
}

/// What a new point does to the held one.
#[derive(Debug, Clone, Copy)]
enum Merge {
    Replace,
    DeltaSum,
    DeltaHistogram,
}

struct Context<'a> {
    scope: &'a Arc<Scope>,
    resource: &'a Arc<ResourceInfo>,
    /// Resource attributes copied onto every point.
    copied: &'a [&'a KeyValue],
    now: Instant,
}

fn signature(
    metric: &Metric,
    kind: Kind,
    context: &Context<'_>,
    attributes: &[KeyValue],
) -> String {
    let mut key = String::with_capacity(64);
    let scope = context.scope;
    let _ = write!(
        key,
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        kind.tag(),
        metric.name,
        scope.name,
        scope.version,
        scope.schema_url
    );
    let mut sorted: Vec<(&str, String)> = scope
        .attributes
        .iter()
        .map(|kv| (kv.key.as_str(), value_string(kv.value.as_ref())))
        .collect();
    sorted.sort();
    for (k, v) in &sorted {
        let _ = write!(key, "\u{1}{k}\u{2}{v}");
    }
    key.push('\u{0}');
    let mut sorted: Vec<(&str, String)> = attributes
        .iter()
        .map(|kv| (kv.key.as_str(), value_string(kv.value.as_ref())))
        .collect();
    sorted.sort();
    for (k, v) in &sorted {
        let _ = write!(key, "\u{1}{k}\u{2}{v}");
    }
    let resource = context.resource;
    let _ = write!(
        key,
        "\u{0}{}\u{0}{}",
        resource.job.as_deref().unwrap_or("\u{3}"),
        resource.instance.as_deref().unwrap_or("\u{3}")
    );
    key
}

/// A monotonic delta sum point onto the held one: added when it starts where the held one
/// ends, else it replaces it (a reset).
fn add_numbers(old: &NumberDataPoint, mut new: NumberDataPoint) -> NumberDataPoint {
    use number_data_point::Value;
    if new.start_time_unix_nano != old.time_unix_nano {
        return new;
    }
    new.start_time_unix_nano = old.start_time_unix_nano;
    new.value = match (old.value, new.value) {
        (Some(Value::AsInt(a)), Some(Value::AsInt(b))) => Some(Value::AsInt(a.wrapping_add(b))),
        (Some(a), Some(b)) => Some(Value::AsDouble(as_f64(a) + as_f64(b))),
        (_, b) => b,
    };
    new
}

fn as_f64(value: number_data_point::Value) -> f64 {
    match value {
        number_data_point::Value::AsDouble(v) => v,
        number_data_point::Value::AsInt(v) => v as f64,
    }
}

/// Go's `accumulateHistogramValues`: counts added when the bounds match, else the newer
/// point's values.
fn add_histograms(old: &HistogramDataPoint, mut new: HistogramDataPoint) -> HistogramDataPoint {
    new.start_time_unix_nano = old.start_time_unix_nano;
    if old.explicit_bounds == new.explicit_bounds
        && old.bucket_counts.len() == new.bucket_counts.len()
    {
        new.count = new.count.saturating_add(old.count);
        new.sum = match (old.sum, new.sum) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => b.or(a),
        };
        for (n, o) in new.bucket_counts.iter_mut().zip(&old.bucket_counts) {
            *n = n.saturating_add(*o);
        }
        new.min = match (old.min, new.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => b.or(a),
        };
        new.max = match (old.max, new.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        };
    }
    new
}

/// Two exponential histogram points added: buckets merged by index at equal scales (the
/// newer point's buckets otherwise); counts, sums and zero counts always added.
fn add_exponential(
    old: &ExponentialHistogramDataPoint,
    mut new: ExponentialHistogramDataPoint,
) -> ExponentialHistogramDataPoint {
    new.start_time_unix_nano = old.start_time_unix_nano;
    new.count = new.count.saturating_add(old.count);
    new.zero_count = new.zero_count.saturating_add(old.zero_count);
    new.sum = match (old.sum, new.sum) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => b.or(a),
    };
    if old.scale == new.scale {
        new.positive = merge_buckets(old.positive.as_ref(), new.positive.as_ref());
        new.negative = merge_buckets(old.negative.as_ref(), new.negative.as_ref());
    }
    new
}

fn merge_buckets(a: Option<&Buckets>, b: Option<&Buckets>) -> Option<Buckets> {
    let (a, b) = match (a, b) {
        (None, None) => return None,
        (Some(x), None) | (None, Some(x)) => return Some(x.clone()),
        (Some(a), Some(b)) => (a, b),
    };
    let end = |x: &Buckets| i64::from(x.offset) + x.bucket_counts.len() as i64;
    let start = a.offset.min(b.offset);
    let stop = end(a).max(end(b));
    let len = usize::try_from(stop - i64::from(start)).unwrap_or(0);
    if len > 1 << 16 {
        return Some(b.clone());
    }
    let mut counts = vec![0u64; len];
    for x in [a, b] {
        let skip = usize::try_from(i64::from(x.offset) - i64::from(start)).unwrap_or(0);
        for (slot, count) in counts.iter_mut().skip(skip).zip(&x.bucket_counts) {
            *slot = slot.saturating_add(*count);
        }
    }
    Some(Buckets {
        offset: start,
        bucket_counts: counts,
    })
}
