//! The service graph's series: one per (client, server, connection type, failed, dimensions),
//! with the request count and the client and server latency histograms, and the metrics a
//! flush makes of them (contrib's names, cumulative, scope `traces_service_graph`).
//!
//! Series not updated for 15 minutes are removed (contrib's cache loop); at most
//! [`MAX_SERIES`] are held, and requests of new series beyond it are counted in one overflow
//! series (`otel.metric.overflow: true`), so memory stays bounded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use tokio::time::Instant;

use super::store::Edge;

/// The most series held (ours: contrib bounds series only by their 15-minute idle time).
pub const MAX_SERIES: usize = 10_000;
/// A series not updated for this long is removed.
pub(crate) const SERIES_IDLE: Duration = Duration::from_secs(15 * 60);
/// The scope of the emitted metrics.
pub const SCOPE_NAME: &str = "traces_service_graph";

/// A latency histogram over shared bounds.
#[derive(Debug, Clone)]
struct Latency {
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Latency {
    fn new(bounds: &[f64]) -> Latency {
        Latency {
            counts: vec![0; bounds.len() + 1],
            count: 0,
            sum: 0.0,
        }
    }

    fn observe(&mut self, bounds: &[f64], seconds: f64) {
        let index = bounds.partition_point(|b| *b < seconds);
        if let Some(slot) = self.counts.get_mut(index) {
            *slot += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug)]
struct Series {
    attributes: Vec<KeyValue>,
    failed: bool,
    total: u64,
    client: Latency,
    server: Latency,
    last_updated: Instant,
}

/// Every series, and the time they count from.
#[derive(Debug)]
pub(crate) struct Graph {
    series: HashMap<String, Series>,
    overflow: Option<Series>,
    bounds: Arc<[f64]>,
    dimensions: Vec<String>,
    start_ns: u64,
    key: String,
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.to_owned()))
}

impl Graph {
    /// No series yet; points start at `start_ns`.
    pub(crate) fn new(bounds: Vec<f64>, dimensions: Vec<String>, start_ns: u64) -> Graph {
        Graph {
            series: HashMap::new(),
            overflow: None,
            bounds: Arc::from(bounds),
            dimensions,
            start_ns,
            key: String::new(),
        }
    }

    /// Series held (the overflow series included).
    pub(crate) fn len(&self) -> usize {
        self.series.len() + usize::from(self.overflow.is_some())
    }

    /// Records one completed request.
    pub(crate) fn record(&mut self, edge: &Edge, now: Instant) {
        let client = edge.client.as_deref().unwrap_or_default();
        let server = edge.server.as_deref().unwrap_or_default();
        let key = &mut self.key;
        key.clear();
        for part in [client, server, edge.connection.as_str()] {
            key.push_str(part);
            key.push('\0');
        }
        key.push(if edge.failed { 't' } else { 'f' });
        let mut extra: Vec<&(String, String)> = Vec::new();
        for name in &self.dimensions {
            for side in ["client_", "server_"] {
                if let Some(pair) = edge
                    .dimensions
                    .iter()
                    .find(|(k, _)| k.strip_prefix(side) == Some(name.as_str()))
                {
                    key.push('\0');
                    key.push_str(&pair.0);
                    key.push('=');
                    key.push_str(&pair.1);
                    extra.push(pair);
                }
            }
        }
        let bounds = &self.bounds;
        let new_series = |attributes| Series {
            attributes,
            failed: edge.failed,
            total: 0,
            client: Latency::new(bounds),
            server: Latency::new(bounds),
            last_updated: now,
        };
        let series = if self.series.contains_key(key.as_str()) {
            self.series.get_mut(key.as_str())
        } else if self.series.len() < MAX_SERIES {
            let mut attributes = vec![
                text("client", client),
                text("server", server),
                text("connection_type", edge.connection.as_str()),
                kv("failed", Value::BoolValue(edge.failed)),
            ];
            attributes.extend(extra.iter().map(|(k, v)| text(k, v)));
            Some(
                self.series
                    .entry(key.clone())
                    .or_insert_with(|| new_series(attributes)),
            )
        } else {
            None
        };
        let series = match series {
            Some(series) => series,
            None => self.overflow.get_or_insert_with(|| {
                new_series(vec![kv("otel.metric.overflow", Value::BoolValue(true))])
            }),
        };
        series.total += 1;
        series.failed |= edge.failed;
        series.client.observe(bounds, edge.client_latency);
        series.server.observe(bounds, edge.server_latency);
        series.last_updated = now;
    }

    /// Removes the series idle for [`SERIES_IDLE`].
    pub(crate) fn clean(&mut self, now: Instant) {
        let idle = |s: &Series| now.saturating_duration_since(s.last_updated) >= SERIES_IDLE;
        self.series.retain(|_, s| !idle(s));
        if self.overflow.as_ref().is_some_and(idle) {
            self.overflow = None;
        }
    }

    /// The metrics of every series (`None` without any).
    pub(crate) fn build(&self, now_ns: u64) -> Option<ExportMetricsServiceRequest> {
        let mut keys: Vec<&String> = self.series.keys().collect();
        keys.sort();
        let mut all: Vec<&Series> = keys.iter().filter_map(|k| self.series.get(*k)).collect();
        all.extend(self.overflow.as_ref());
        if all.is_empty() {
            return None;
        }
        let cumulative = AggregationTemporality::Cumulative as i32;
        let count = |series: &Series| NumberDataPoint {
            attributes: series.attributes.clone(),
            start_time_unix_nano: self.start_ns,
            time_unix_nano: now_ns,
            value: Some(number_data_point::Value::AsInt(
                i64::try_from(series.total).unwrap_or(i64::MAX),
            )),
            ..NumberDataPoint::default()
        };
        let sum = |name: &str, points: Vec<NumberDataPoint>| Metric {
            name: name.to_owned(),
            data: Some(metric::Data::Sum(Sum {
                data_points: points,
                aggregation_temporality: cumulative,
                is_monotonic: true,
            })),
            ..Metric::default()
        };
        let histogram = |name: &str, side: fn(&Series) -> &Latency| Metric {
            name: name.to_owned(),
            unit: "s".to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: all
                    .iter()
                    .map(|series| {
                        let latency = side(series);
                        HistogramDataPoint {
                            attributes: series.attributes.clone(),
                            start_time_unix_nano: self.start_ns,
                            time_unix_nano: now_ns,
                            count: latency.count,
                            sum: Some(latency.sum),
                            bucket_counts: latency.counts.clone(),
                            explicit_bounds: self.bounds.to_vec(),
                            ..HistogramDataPoint::default()
                        }
                    })
                    .collect(),
                aggregation_temporality: cumulative,
            })),
            ..Metric::default()
        };
        let mut metrics = vec![sum(
            "traces_service_graph_request_total",
            all.iter().map(|s| count(s)).collect(),
        )];
        let failed: Vec<NumberDataPoint> =
            all.iter().filter(|s| s.failed).map(|s| count(s)).collect();
        if !failed.is_empty() {
            metrics.push(sum("traces_service_graph_request_failed_total", failed));
        }
        metrics.push(histogram("traces_service_graph_request_server", |s| {
            &s.server
        }));
        metrics.push(histogram("traces_service_graph_request_client", |s| {
            &s.client
        }));
        Some(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource::default()),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE_NAME.to_owned(),
                        ..InstrumentationScope::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        })
    }
}
