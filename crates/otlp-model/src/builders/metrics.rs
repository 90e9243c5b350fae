//! [`MetricsBuilder`], one builder per metric type, and one per data point type.
//!
//! Metric builders ([`SumBuilder`], [`GaugeBuilder`], [`HistogramBuilder`],
//! [`ExponentialHistogramBuilder`], [`SummaryBuilder`]) take points of their own type only, so
//! a histogram point cannot end up in a sum. Each metric builder also has `.start_time(t)` and
//! `.time(t)`: defaults written into every point whose own timestamp is still `0` (OTLP's
//! "unset"), so a batch of points taken at the same moment says so once.

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets;
use otlp_proto::metrics::v1::summary_data_point::ValueAtQuantile;
use otlp_proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, metric, number_data_point,
};

use super::{IntoUnixNanos, Nested, nesting_methods};
use crate::attributes::{IntoAnyValue, kv};

/// Builds an [`ExportMetricsServiceRequest`]; see the [module docs](super) for the shared shape.
///
/// ```
/// use otlp_model::builders::*;
/// use otlp_model::views::MetricsView;
///
/// let request = MetricsBuilder::new()
///     .scope("my.meter", "1.0")
///     .metric(
///         HistogramBuilder::new("http.server.request.duration")
///             .unit("s")
///             .temporality(AggregationTemporality::Delta)
///             .point(
///                 HistogramPointBuilder::new([0.1, 0.5, 1.0], [4, 2, 1, 0])
///                     .sum(1.9)
///                     .min(0.01)
///                     .max(0.8)
///                     .attr("http.route", "/cart"),
///             ),
///     )
///     .metric(
///         ExponentialHistogramBuilder::new("rpc.duration").point(
///             ExponentialHistogramPointBuilder::new(2)
///                 .zero_count(1)
///                 .positive(-1, [3, 0, 5])
///                 .negative(0, [2]),
///         ),
///     )
///     .metric(
///         SummaryBuilder::new("gc.pause")
///             .point(SummaryPointBuilder::new(10, 2.5).quantile(0.5, 0.2).quantile(0.99, 0.9)),
///     )
///     .build();
/// assert_eq!(request.metric_count(), 3);
/// assert_eq!(request.data_point_count(), 3);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until it is built"]
pub struct MetricsBuilder {
    nested: Nested<Metric>,
}

impl MetricsBuilder {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    nesting_methods!("metrics");

    /// Appends a metric (any metric builder, or a ready-made [`Metric`]) to the current scope.
    pub fn metric(mut self, metric: impl Into<Metric>) -> Self {
        self.nested.push_item(metric.into());
        self
    }

    /// Appends metrics to the current scope.
    pub fn metrics<M: Into<Metric>>(mut self, metrics: impl IntoIterator<Item = M>) -> Self {
        self.nested
            .extend_items(metrics.into_iter().map(Into::into));
        self
    }

    /// The finished request.
    #[must_use]
    pub fn build(self) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: self
                .nested
                .resources
                .into_iter()
                .map(|group| ResourceMetrics {
                    resource: group.resource,
                    schema_url: group.schema_url,
                    scope_metrics: group
                        .scopes
                        .into_iter()
                        .map(|scope| ScopeMetrics {
                            scope: scope.scope,
                            schema_url: scope.schema_url,
                            metrics: scope.items,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<MetricsBuilder> for ExportMetricsServiceRequest {
    fn from(builder: MetricsBuilder) -> Self {
        builder.build()
    }
}

/// What every metric builder holds besides its points.
#[derive(Debug, Clone, Default)]
struct Header {
    name: String,
    description: String,
    unit: String,
    metadata: Vec<KeyValue>,
    start_time: u64,
    time: u64,
}

impl Header {
    fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Fills unset (zero) point timestamps from the metric-level defaults.
    const fn stamp(&self, start_time: &mut u64, time: &mut u64) {
        if *start_time == 0 {
            *start_time = self.start_time;
        }
        if *time == 0 {
            *time = self.time;
        }
    }

    fn into_metric(self, data: metric::Data) -> Metric {
        Metric {
            name: self.name,
            description: self.description,
            unit: self.unit,
            metadata: self.metadata,
            data: Some(data),
        }
    }
}

/// Generates the name/description/unit/metadata/time methods every metric builder shares.
macro_rules! header_methods {
    () => {
        /// Sets the description.
        pub fn description(mut self, description: impl Into<String>) -> Self {
            self.header.description = description.into();
            self
        }

        /// Sets the unit, in UCUM notation (`s`, `By`, `{request}`).
        pub fn unit(mut self, unit: impl Into<String>) -> Self {
            self.header.unit = unit.into();
            self
        }

        /// Appends a `Metric.metadata` entry.
        pub fn metadata(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
            self.header.metadata.push(kv(key, value));
            self
        }

        /// Default start time for points that do not set their own.
        pub fn start_time(mut self, time: impl IntoUnixNanos) -> Self {
            self.header.start_time = time.into_unix_nanos();
            self
        }

        /// Default time for points that do not set their own.
        pub fn time(mut self, time: impl IntoUnixNanos) -> Self {
            self.header.time = time.into_unix_nanos();
            self
        }
    };
}

/// Generates `attr`, `attrs`, `start` and `time` for a point builder over its `point` field.
macro_rules! point_methods {
    () => {
        /// Appends one attribute.
        pub fn attr(mut self, key: impl Into<String>, value: impl IntoAnyValue) -> Self {
            self.point.attributes.push(kv(key, value));
            self
        }

        /// Appends attributes.
        pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
            self.point.attributes.extend(attributes);
            self
        }

        /// Sets the start time (the start of the aggregation window for cumulative data).
        pub fn start(mut self, time: impl IntoUnixNanos) -> Self {
            self.point.start_time_unix_nano = time.into_unix_nanos();
            self
        }

        /// Sets the time the point was observed.
        pub fn time(mut self, time: impl IntoUnixNanos) -> Self {
            self.point.time_unix_nano = time.into_unix_nanos();
            self
        }

        /// Sets `flags` (bit 0: no recorded value).
        pub fn flags(mut self, flags: u32) -> Self {
            self.point.flags = flags;
            self
        }
    };
}

/// Builds a [`Sum`] metric: cumulative and non-monotonic unless told otherwise.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct SumBuilder {
    header: Header,
    sum: Sum,
}

impl SumBuilder {
    /// A cumulative, non-monotonic sum with no points.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            header: Header::new(name),
            sum: Sum {
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                ..Sum::default()
            },
        }
    }

    header_methods!();

    /// Whether the sum only goes up (a counter) or may go down (an up-down counter).
    pub fn monotonic(mut self, is_monotonic: bool) -> Self {
        self.sum.is_monotonic = is_monotonic;
        self
    }

    /// Sets the aggregation temporality.
    pub fn temporality(mut self, temporality: AggregationTemporality) -> Self {
        self.sum.aggregation_temporality = temporality as i32;
        self
    }

    /// Appends a point.
    pub fn point(mut self, point: impl Into<NumberDataPoint>) -> Self {
        self.sum.data_points.push(point.into());
        self
    }

    /// The finished metric.
    #[must_use]
    pub fn build(self) -> Metric {
        let mut sum = self.sum;
        for p in &mut sum.data_points {
            self.header
                .stamp(&mut p.start_time_unix_nano, &mut p.time_unix_nano);
        }
        self.header.into_metric(metric::Data::Sum(sum))
    }
}

/// Builds a [`Gauge`] metric.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct GaugeBuilder {
    header: Header,
    gauge: Gauge,
}

impl GaugeBuilder {
    /// A gauge with no points.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            header: Header::new(name),
            gauge: Gauge::default(),
        }
    }

    header_methods!();

    /// Appends a point.
    pub fn point(mut self, point: impl Into<NumberDataPoint>) -> Self {
        self.gauge.data_points.push(point.into());
        self
    }

    /// The finished metric.
    #[must_use]
    pub fn build(self) -> Metric {
        let mut gauge = self.gauge;
        for p in &mut gauge.data_points {
            self.header
                .stamp(&mut p.start_time_unix_nano, &mut p.time_unix_nano);
        }
        self.header.into_metric(metric::Data::Gauge(gauge))
    }
}

/// Builds an explicit-bucket [`Histogram`] metric: cumulative unless told otherwise.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct HistogramBuilder {
    header: Header,
    histogram: Histogram,
}

impl HistogramBuilder {
    /// A cumulative histogram with no points.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            header: Header::new(name),
            histogram: Histogram {
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                ..Histogram::default()
            },
        }
    }

    header_methods!();

    /// Sets the aggregation temporality.
    pub fn temporality(mut self, temporality: AggregationTemporality) -> Self {
        self.histogram.aggregation_temporality = temporality as i32;
        self
    }

    /// Appends a point.
    pub fn point(mut self, point: impl Into<HistogramDataPoint>) -> Self {
        self.histogram.data_points.push(point.into());
        self
    }

    /// The finished metric.
    #[must_use]
    pub fn build(self) -> Metric {
        let mut histogram = self.histogram;
        for p in &mut histogram.data_points {
            self.header
                .stamp(&mut p.start_time_unix_nano, &mut p.time_unix_nano);
        }
        self.header.into_metric(metric::Data::Histogram(histogram))
    }
}

/// Builds an [`ExponentialHistogram`] metric: cumulative unless told otherwise.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct ExponentialHistogramBuilder {
    header: Header,
    histogram: ExponentialHistogram,
}

impl ExponentialHistogramBuilder {
    /// A cumulative exponential histogram with no points.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            header: Header::new(name),
            histogram: ExponentialHistogram {
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                ..ExponentialHistogram::default()
            },
        }
    }

    header_methods!();

    /// Sets the aggregation temporality.
    pub fn temporality(mut self, temporality: AggregationTemporality) -> Self {
        self.histogram.aggregation_temporality = temporality as i32;
        self
    }

    /// Appends a point.
    pub fn point(mut self, point: impl Into<ExponentialHistogramDataPoint>) -> Self {
        self.histogram.data_points.push(point.into());
        self
    }

    /// The finished metric.
    #[must_use]
    pub fn build(self) -> Metric {
        let mut histogram = self.histogram;
        for p in &mut histogram.data_points {
            self.header
                .stamp(&mut p.start_time_unix_nano, &mut p.time_unix_nano);
        }
        self.header
            .into_metric(metric::Data::ExponentialHistogram(histogram))
    }
}

/// Builds a [`Summary`] metric.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct SummaryBuilder {
    header: Header,
    summary: Summary,
}

impl SummaryBuilder {
    /// A summary with no points.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            header: Header::new(name),
            summary: Summary::default(),
        }
    }

    header_methods!();

    /// Appends a point.
    pub fn point(mut self, point: impl Into<SummaryDataPoint>) -> Self {
        self.summary.data_points.push(point.into());
        self
    }

    /// The finished metric.
    #[must_use]
    pub fn build(self) -> Metric {
        let mut summary = self.summary;
        for p in &mut summary.data_points {
            self.header
                .stamp(&mut p.start_time_unix_nano, &mut p.time_unix_nano);
        }
        self.header.into_metric(metric::Data::Summary(summary))
    }
}

/// `From<Builder> for Metric` for every metric builder.
macro_rules! into_metric {
    ($($builder:ty),*) => {$(
        impl From<$builder> for Metric {
            fn from(builder: $builder) -> Self {
                builder.build()
            }
        }
    )*};
}
into_metric!(
    SumBuilder,
    GaugeBuilder,
    HistogramBuilder,
    ExponentialHistogramBuilder,
    SummaryBuilder
);

/// Builds a [`NumberDataPoint`] for a [`SumBuilder`] or [`GaugeBuilder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct NumberPointBuilder {
    point: NumberDataPoint,
}

impl NumberPointBuilder {
    /// A point holding an integer (`as_int`).
    pub fn int(value: i64) -> Self {
        Self::with(number_data_point::Value::AsInt(value))
    }

    /// A point holding a double (`as_double`).
    pub fn double(value: f64) -> Self {
        Self::with(number_data_point::Value::AsDouble(value))
    }

    fn with(value: number_data_point::Value) -> Self {
        Self {
            point: NumberDataPoint {
                value: Some(value),
                ..NumberDataPoint::default()
            },
        }
    }

    point_methods!();

    /// The finished point.
    #[must_use]
    pub fn build(self) -> NumberDataPoint {
        self.point
    }
}

impl From<NumberPointBuilder> for NumberDataPoint {
    fn from(builder: NumberPointBuilder) -> Self {
        builder.build()
    }
}

/// Builds a [`HistogramDataPoint`].
///
/// `count` is the sum of the bucket counts unless [`count`](Self::count) overrides it. OTLP
/// expects one more bucket count than bounds; that is not checked.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct HistogramPointBuilder {
    point: HistogramDataPoint,
    count: Option<u64>,
}

impl HistogramPointBuilder {
    /// A point with these bucket upper bounds and per-bucket counts.
    pub fn new(explicit_bounds: impl Into<Vec<f64>>, bucket_counts: impl Into<Vec<u64>>) -> Self {
        Self {
            point: HistogramDataPoint {
                explicit_bounds: explicit_bounds.into(),
                bucket_counts: bucket_counts.into(),
                ..HistogramDataPoint::default()
            },
            count: None,
        }
    }

    point_methods!();

    /// Overrides the total count (by default the sum of the bucket counts).
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Sets the sum of the recorded values.
    pub fn sum(mut self, sum: f64) -> Self {
        self.point.sum = Some(sum);
        self
    }

    /// Sets the minimum recorded value.
    pub fn min(mut self, min: f64) -> Self {
        self.point.min = Some(min);
        self
    }

    /// Sets the maximum recorded value.
    pub fn max(mut self, max: f64) -> Self {
        self.point.max = Some(max);
        self
    }

    /// The finished point.
    #[must_use]
    pub fn build(self) -> HistogramDataPoint {
        let mut point = self.point;
        point.count = self.count.unwrap_or_else(|| total(&point.bucket_counts));
        point
    }
}

impl From<HistogramPointBuilder> for HistogramDataPoint {
    fn from(builder: HistogramPointBuilder) -> Self {
        builder.build()
    }
}

/// Builds an [`ExponentialHistogramDataPoint`].
///
/// `count` is `zero_count` plus every positive and negative bucket count unless
/// [`count`](Self::count) overrides it.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct ExponentialHistogramPointBuilder {
    point: ExponentialHistogramDataPoint,
    count: Option<u64>,
}

impl ExponentialHistogramPointBuilder {
    /// An empty point at this scale (bucket boundaries are powers of `2^(2^-scale)`).
    pub fn new(scale: i32) -> Self {
        Self {
            point: ExponentialHistogramDataPoint {
                scale,
                ..ExponentialHistogramDataPoint::default()
            },
            count: None,
        }
    }

    point_methods!();

    /// Sets the count of values in the zero bucket.
    pub fn zero_count(mut self, zero_count: u64) -> Self {
        self.point.zero_count = zero_count;
        self
    }

    /// Sets the width of the zero bucket (values with `|v| <= threshold` count as zero).
    pub fn zero_threshold(mut self, zero_threshold: f64) -> Self {
        self.point.zero_threshold = zero_threshold;
        self
    }

    /// Sets the positive buckets: the index of the first bucket and the counts from there on.
    pub fn positive(mut self, offset: i32, bucket_counts: impl Into<Vec<u64>>) -> Self {
        self.point.positive = Some(Buckets {
            offset,
            bucket_counts: bucket_counts.into(),
        });
        self
    }

    /// Sets the negative buckets: the index of the first bucket and the counts from there on.
    pub fn negative(mut self, offset: i32, bucket_counts: impl Into<Vec<u64>>) -> Self {
        self.point.negative = Some(Buckets {
            offset,
            bucket_counts: bucket_counts.into(),
        });
        self
    }

    /// Overrides the total count.
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Sets the sum of the recorded values.
    pub fn sum(mut self, sum: f64) -> Self {
        self.point.sum = Some(sum);
        self
    }

    /// Sets the minimum recorded value.
    pub fn min(mut self, min: f64) -> Self {
        self.point.min = Some(min);
        self
    }

    /// Sets the maximum recorded value.
    pub fn max(mut self, max: f64) -> Self {
        self.point.max = Some(max);
        self
    }

    /// The finished point.
    #[must_use]
    pub fn build(self) -> ExponentialHistogramDataPoint {
        let mut point = self.point;
        point.count = self.count.unwrap_or_else(|| {
            let buckets = |b: &Option<Buckets>| b.as_ref().map_or(0, |b| total(&b.bucket_counts));
            point
                .zero_count
                .saturating_add(buckets(&point.positive))
                .saturating_add(buckets(&point.negative))
        });
        point
    }
}

impl From<ExponentialHistogramPointBuilder> for ExponentialHistogramDataPoint {
    fn from(builder: ExponentialHistogramPointBuilder) -> Self {
        builder.build()
    }
}

/// Builds a [`SummaryDataPoint`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct SummaryPointBuilder {
    point: SummaryDataPoint,
}

impl SummaryPointBuilder {
    /// A point summarising `count` values that add up to `sum`.
    pub fn new(count: u64, sum: f64) -> Self {
        Self {
            point: SummaryDataPoint {
                count,
                sum,
                ..SummaryDataPoint::default()
            },
        }
    }

    point_methods!();

    /// Appends a quantile (`0.0..=1.0`) and its value.
    pub fn quantile(mut self, quantile: f64, value: f64) -> Self {
        self.point
            .quantile_values
            .push(ValueAtQuantile { quantile, value });
        self
    }

    /// The finished point.
    #[must_use]
    pub fn build(self) -> SummaryDataPoint {
        self.point
    }
}

impl From<SummaryPointBuilder> for SummaryDataPoint {
    fn from(builder: SummaryPointBuilder) -> Self {
        builder.build()
    }
}

/// Sum of bucket counts, saturating rather than wrapping.
fn total(counts: &[u64]) -> u64 {
    counts.iter().fold(0_u64, |acc, &c| acc.saturating_add(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::AttributesExt;

    fn data(metric: &Metric) -> &metric::Data {
        metric.data.as_ref().expect("builders always set data")
    }

    #[test]
    fn sum_defaults_and_setters() {
        let metric = SumBuilder::new("requests")
            .description("Requests served")
            .unit("{request}")
            .metadata("origin", "test")
            .point(NumberPointBuilder::int(1))
            .build();
        assert_eq!(metric.name, "requests");
        assert_eq!(metric.description, "Requests served");
        assert_eq!(metric.unit, "{request}");
        assert_eq!(metric.metadata.get_str("origin"), Some("test"));
        let metric::Data::Sum(sum) = data(&metric) else {
            panic!("not a sum")
        };
        assert_eq!(
            sum.aggregation_temporality(),
            AggregationTemporality::Cumulative
        );
        assert!(!sum.is_monotonic);

        let metric = SumBuilder::new("r")
            .monotonic(true)
            .temporality(AggregationTemporality::Delta)
            .build();
        let metric::Data::Sum(sum) = data(&metric) else {
            panic!("not a sum")
        };
        assert!(sum.is_monotonic);
        assert_eq!(sum.aggregation_temporality(), AggregationTemporality::Delta);
        assert!(sum.data_points.is_empty());
    }

    #[test]
    fn metric_level_times_fill_only_unset_point_times() {
        let metric = GaugeBuilder::new("g")
            .start_time(100)
            .time(200)
            .point(NumberPointBuilder::double(1.0))
            .point(NumberPointBuilder::double(2.0).start(5).time(6))
            .build();
        let metric::Data::Gauge(gauge) = data(&metric) else {
            panic!("not a gauge")
        };
        let times: Vec<_> = gauge
            .data_points
            .iter()
            .map(|p| (p.start_time_unix_nano, p.time_unix_nano))
            .collect();
        assert_eq!(times, [(100, 200), (5, 6)]);
        assert_eq!(
            gauge.data_points[1].value,
            Some(number_data_point::Value::AsDouble(2.0))
        );
    }

    #[test]
    fn histogram_point_counts_its_buckets() {
        let point = HistogramPointBuilder::new(vec![1.0, 2.0], vec![1, 2, 3])
            .sum(9.0)
            .min(0.5)
            .max(4.0)
            .attrs([kv("a", 1)])
            .flags(1)
            .build();
        assert_eq!(point.count, 6);
        assert_eq!(
            (point.sum, point.min, point.max),
            (Some(9.0), Some(0.5), Some(4.0))
        );
        assert_eq!(point.attributes.get_i64("a"), Some(1));
        assert_eq!(point.flags, 1);
        let overridden = HistogramPointBuilder::new([1.0], [u64::MAX, 5]).build();
        assert_eq!(overridden.count, u64::MAX, "saturates");
        assert_eq!(
            HistogramPointBuilder::new([1.0], [1, 1])
                .count(7)
                .build()
                .count,
            7
        );

        let metric = HistogramBuilder::new("h")
            .temporality(AggregationTemporality::Delta)
            .time(50)
            .point(point)
            .build();
        let metric::Data::Histogram(h) = data(&metric) else {
            panic!("not a histogram")
        };
        assert_eq!(h.aggregation_temporality(), AggregationTemporality::Delta);
        assert_eq!(h.data_points[0].time_unix_nano, 50);
    }

    #[test]
    fn exponential_point_counts_zero_and_both_sides() {
        let point = ExponentialHistogramPointBuilder::new(3)
            .zero_count(2)
            .zero_threshold(1e-9)
            .positive(-2, [1, 2])
            .negative(4, vec![3])
            .sum(1.0)
            .min(-8.0)
            .max(8.0)
            .build();
        assert_eq!(point.scale, 3);
        assert_eq!(point.count, 8);
        assert_eq!(point.zero_threshold, 1e-9);
        assert_eq!(point.positive.as_ref().map(|b| b.offset), Some(-2));
        assert_eq!(
            point.negative.as_ref().map(|b| b.bucket_counts.clone()),
            Some(vec![3])
        );
        assert_eq!(ExponentialHistogramPointBuilder::new(0).build().count, 0);
        assert_eq!(
            ExponentialHistogramPointBuilder::new(0)
                .count(4)
                .build()
                .count,
            4
        );

        let metric = ExponentialHistogramBuilder::new("e")
            .temporality(AggregationTemporality::Delta)
            .point(point)
            .build();
        let metric::Data::ExponentialHistogram(e) = data(&metric) else {
            panic!("not exp")
        };
        assert_eq!(e.aggregation_temporality(), AggregationTemporality::Delta);
        assert_eq!(e.data_points.len(), 1);
    }

    #[test]
    fn summary_points_keep_quantile_order() {
        let metric = SummaryBuilder::new("s")
            .point(
                SummaryPointBuilder::new(3, 6.0)
                    .quantile(0.0, 1.0)
                    .quantile(1.0, 3.0)
                    .attr("k", "v")
                    .start(1)
                    .time(2),
            )
            .build();
        let metric::Data::Summary(s) = data(&metric) else {
            panic!("not a summary")
        };
        let p = &s.data_points[0];
        assert_eq!((p.count, p.sum), (3, 6.0));
        let quantiles: Vec<_> = p
            .quantile_values
            .iter()
            .map(|q| (q.quantile, q.value))
            .collect();
        assert_eq!(quantiles, [(0.0, 1.0), (1.0, 3.0)]);
        assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (1, 2));
    }

    #[test]
    fn request_groups_metrics() {
        let request = MetricsBuilder::new()
            .resource(crate::resource!["service.name" => "a"])
            .scope("m", "1")
            .metrics([GaugeBuilder::new("a"), GaugeBuilder::new("b")])
            .metric(Metric::default())
            .build();
        assert_eq!(
            request.resource_metrics[0].scope_metrics[0].metrics.len(),
            3
        );
        let via_from: ExportMetricsServiceRequest = MetricsBuilder::new().into();
        assert!(via_from.resource_metrics.is_empty());
    }
}
