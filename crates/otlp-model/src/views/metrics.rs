//! [`MetricsView`], [`Metrics`], [`DataPoints`], [`MetricRef`], [`DataPointRef`] and
//! [`DataPoint`].

use core::iter::FusedIterator;
use core::slice;

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, MetricsData, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, SummaryDataPoint, metric,
};
use otlp_proto::resource::v1::Resource;

use super::flatten::{Flatten, Nesting};
use super::impl_view;

/// Zero-copy iteration and counting over metrics and their data points; see the
/// [module docs](super).
pub trait MetricsView {
    /// The `ResourceMetrics` this view covers.
    fn as_resource_metrics(&self) -> &[ResourceMetrics];

    /// Every metric with the resource and scope it belongs to, in order.
    fn metrics(&self) -> Metrics<'_> {
        Metrics {
            inner: Flatten::new(self.as_resource_metrics()),
        }
    }

    /// Every data point of every metric, with its metric, resource and scope, in order.
    fn data_points(&self) -> DataPoints<'_> {
        DataPoints {
            metrics: self.metrics(),
            current: None,
            points: PointIter::Empty,
        }
    }

    /// The number of metrics.
    fn metric_count(&self) -> usize {
        let mut count = 0;
        for resource_metrics in self.as_resource_metrics() {
            for scope_metrics in &resource_metrics.scope_metrics {
                count += scope_metrics.metrics.len();
            }
        }
        count
    }

    /// The number of data points, counted like the Go Collector's `DataPointCount`: one per
    /// point of any kind, zero for a metric with no data.
    fn data_point_count(&self) -> usize {
        let mut count = 0;
        for resource_metrics in self.as_resource_metrics() {
            for scope_metrics in &resource_metrics.scope_metrics {
                for metric in &scope_metrics.metrics {
                    count += point_count(metric);
                }
            }
        }
        count
    }
}

impl_view!(
    MetricsView,
    as_resource_metrics,
    ResourceMetrics,
    resource_metrics,
    [ExportMetricsServiceRequest, MetricsData]
);

/// The number of data points of one metric.
fn point_count(metric: &Metric) -> usize {
    match &metric.data {
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(e)) => e.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

#[derive(Debug)]
pub(crate) struct MetricNesting;

impl Nesting for MetricNesting {
    type Resource = ResourceMetrics;
    type Scope = ScopeMetrics;
    type Item = Metric;
    fn scopes(resource: &ResourceMetrics) -> &[ScopeMetrics] {
        &resource.scope_metrics
    }
    fn items(scope: &ScopeMetrics) -> &[Metric] {
        &scope.metrics
    }
}

/// Iterator over every metric of a [`MetricsView`]; see [`MetricsView::metrics`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Metrics<'a> {
    inner: Flatten<'a, MetricNesting>,
}

impl<'a> Iterator for Metrics<'a> {
    type Item = MetricRef<'a>;

    fn next(&mut self) -> Option<MetricRef<'a>> {
        self.inner
            .next()
            .map(|(resource_metrics, scope_metrics, metric)| MetricRef {
                resource_metrics,
                scope_metrics,
                metric,
            })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for Metrics<'_> {}

impl core::fmt::Debug for Metrics<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// One metric, with the `ResourceMetrics` and `ScopeMetrics` it was found in.
#[derive(Debug, Clone, Copy)]
pub struct MetricRef<'a> {
    /// The resource group holding the metric.
    pub resource_metrics: &'a ResourceMetrics,
    /// The scope group holding the metric.
    pub scope_metrics: &'a ScopeMetrics,
    /// The metric.
    pub metric: &'a Metric,
}

impl<'a> MetricRef<'a> {
    /// The resource, if the sender set one.
    #[must_use]
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource_metrics.resource.as_ref()
    }

    /// The instrumentation scope, if the sender set one.
    #[must_use]
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope_metrics.scope.as_ref()
    }

    /// The resource's `service.name`, if it is a string.
    #[must_use]
    pub fn service_name(&self) -> Option<&'a str> {
        super::service_name(self.resource())
    }

    /// The metric name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        &self.metric.name
    }

    /// The number of data points of this metric.
    #[must_use]
    pub fn data_point_count(&self) -> usize {
        point_count(self.metric)
    }
}

/// A reference to one data point, tagged with the kind of metric it belongs to.
#[derive(Debug, Clone, Copy)]
pub enum DataPoint<'a> {
    /// A point of a gauge.
    Gauge(&'a NumberDataPoint),
    /// A point of a sum.
    Sum(&'a NumberDataPoint),
    /// A point of an explicit-bucket histogram.
    Histogram(&'a HistogramDataPoint),
    /// A point of an exponential histogram.
    ExponentialHistogram(&'a ExponentialHistogramDataPoint),
    /// A point of a summary.
    Summary(&'a SummaryDataPoint),
}

impl<'a> DataPoint<'a> {
    /// The point's attributes.
    #[must_use]
    pub fn attributes(&self) -> &'a [KeyValue] {
        match self {
            Self::Gauge(p) | Self::Sum(p) => &p.attributes,
            Self::Histogram(p) => &p.attributes,
            Self::ExponentialHistogram(p) => &p.attributes,
            Self::Summary(p) => &p.attributes,
        }
    }

    /// The start of the aggregation window (`0` if unset).
    #[must_use]
    pub fn start_time_unix_nano(&self) -> u64 {
        match self {
            Self::Gauge(p) | Self::Sum(p) => p.start_time_unix_nano,
            Self::Histogram(p) => p.start_time_unix_nano,
            Self::ExponentialHistogram(p) => p.start_time_unix_nano,
            Self::Summary(p) => p.start_time_unix_nano,
        }
    }

    /// The time the point was observed.
    #[must_use]
    pub fn time_unix_nano(&self) -> u64 {
        match self {
            Self::Gauge(p) | Self::Sum(p) => p.time_unix_nano,
            Self::Histogram(p) => p.time_unix_nano,
            Self::ExponentialHistogram(p) => p.time_unix_nano,
            Self::Summary(p) => p.time_unix_nano,
        }
    }

    /// The point's `flags` (bit 0: no recorded value).
    #[must_use]
    pub fn flags(&self) -> u32 {
        match self {
            Self::Gauge(p) | Self::Sum(p) => p.flags,
            Self::Histogram(p) => p.flags,
            Self::ExponentialHistogram(p) => p.flags,
            Self::Summary(p) => p.flags,
        }
    }

    /// The number point, for a gauge or sum.
    #[must_use]
    pub fn as_number(&self) -> Option<&'a NumberDataPoint> {
        match self {
            Self::Gauge(p) | Self::Sum(p) => Some(p),
            _ => None,
        }
    }
}

/// Iterator over the points of the current metric.
#[derive(Clone)]
enum PointIter<'a> {
    Empty,
    Gauge(slice::Iter<'a, NumberDataPoint>),
    Sum(slice::Iter<'a, NumberDataPoint>),
    Histogram(slice::Iter<'a, HistogramDataPoint>),
    ExponentialHistogram(slice::Iter<'a, ExponentialHistogramDataPoint>),
    Summary(slice::Iter<'a, SummaryDataPoint>),
}

impl<'a> PointIter<'a> {
    fn of(metric: &'a Metric) -> Self {
        match &metric.data {
            Some(metric::Data::Gauge(g)) => Self::Gauge(g.data_points.iter()),
            Some(metric::Data::Sum(s)) => Self::Sum(s.data_points.iter()),
            Some(metric::Data::Histogram(h)) => Self::Histogram(h.data_points.iter()),
            Some(metric::Data::ExponentialHistogram(e)) => {
                Self::ExponentialHistogram(e.data_points.iter())
            }
            Some(metric::Data::Summary(s)) => Self::Summary(s.data_points.iter()),
            None => Self::Empty,
        }
    }

    fn next(&mut self) -> Option<DataPoint<'a>> {
        match self {
            Self::Empty => None,
            Self::Gauge(it) => it.next().map(DataPoint::Gauge),
            Self::Sum(it) => it.next().map(DataPoint::Sum),
            Self::Histogram(it) => it.next().map(DataPoint::Histogram),
            Self::ExponentialHistogram(it) => it.next().map(DataPoint::ExponentialHistogram),
            Self::Summary(it) => it.next().map(DataPoint::Summary),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::Gauge(it) | Self::Sum(it) => it.len(),
            Self::Histogram(it) => it.len(),
            Self::ExponentialHistogram(it) => it.len(),
            Self::Summary(it) => it.len(),
        }
    }
}

/// Iterator over every data point of a [`MetricsView`]; see [`MetricsView::data_points`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct DataPoints<'a> {
    metrics: Metrics<'a>,
    current: Option<MetricRef<'a>>,
    points: PointIter<'a>,
}

impl<'a> Iterator for DataPoints<'a> {
    type Item = DataPointRef<'a>;

    fn next(&mut self) -> Option<DataPointRef<'a>> {
        loop {
            if let Some(point) = self.points.next()
                && let Some(metric) = self.current
            {
                return Some(DataPointRef {
                    resource_metrics: metric.resource_metrics,
                    scope_metrics: metric.scope_metrics,
                    metric: metric.metric,
                    point,
                });
            }
            let metric = self.metrics.next()?;
            self.points = PointIter::of(metric.metric);
            self.current = Some(metric);
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.points.len(), None)
    }
}

impl FusedIterator for DataPoints<'_> {}

impl core::fmt::Debug for DataPoints<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataPoints").finish_non_exhaustive()
    }
}

/// One data point, with its metric and the `ResourceMetrics` and `ScopeMetrics` it was found in.
#[derive(Debug, Clone, Copy)]
pub struct DataPointRef<'a> {
    /// The resource group holding the metric.
    pub resource_metrics: &'a ResourceMetrics,
    /// The scope group holding the metric.
    pub scope_metrics: &'a ScopeMetrics,
    /// The metric holding the point.
    pub metric: &'a Metric,
    /// The point.
    pub point: DataPoint<'a>,
}

impl<'a> DataPointRef<'a> {
    /// The resource, if the sender set one.
    #[must_use]
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource_metrics.resource.as_ref()
    }

    /// The instrumentation scope, if the sender set one.
    #[must_use]
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope_metrics.scope.as_ref()
    }

    /// The resource's `service.name`, if it is a string.
    #[must_use]
    pub fn service_name(&self) -> Option<&'a str> {
        super::service_name(self.resource())
    }

    /// The metric name.
    #[must_use]
    pub fn metric_name(&self) -> &'a str {
        &self.metric.name
    }
}
