//! The `prometheus` exporter's two halves, single thread: accumulating a request and
//! rendering a scrape.
//!
//! `cargo bench -p otlp-benches --bench otlp_prometheus_exporter`
//!
//! - `accumulate_1000`: one request of 1000 series (100 cumulative counters, 100 delta
//!   counters and 100 gauges of 3 points each, and 100 histograms of one point with 10
//!   bounds; 3 labels per point) into an accumulator that already holds them (the steady
//!   state: every point replaces or is added onto a held one). Points/s.
//! - `render_text_10000` / `render_openmetrics_10000`: a scrape of 10 000 series (10 such
//!   requests of distinct resources; a histogram counts as one series), text 0.0.4 and
//!   OpenMetrics. Series/s.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_exporters::prometheus::accumulator::Accumulator;
use otlp_exporters::prometheus::render::{Format, RenderOptions, render};
use otlp_exporters::prometheus::{MAX_SERIES, ResourceToTelemetryConfig};
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point::Value,
};
use otlp_proto::resource::v1::Resource;

/// Metrics of each kind in one request.
const PER_KIND: usize = 100;
/// Points per counter and gauge metric.
const POINTS: usize = 3;
/// Series in one request: 3 kinds × 100 × 3 points + 100 histograms.
const SERIES: usize = 3 * PER_KIND * POINTS + PER_KIND;

fn attr(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..KeyValue::default()
    }
}

fn points(round: u64, base: f64) -> Vec<NumberDataPoint> {
    (0..POINTS)
        .map(|p| NumberDataPoint {
            attributes: vec![
                attr("http.route", format!("/route/{p}")),
                attr("http.method", "GET".into()),
                attr("status", "200".into()),
            ],
            start_time_unix_nano: round * 10,
            time_unix_nano: round * 10 + 10,
            value: Some(Value::AsDouble(base + p as f64)),
            ..NumberDataPoint::default()
        })
        .collect()
}

fn resource_metrics(resource: usize, round: u64) -> ResourceMetrics {
    let mut metrics = Vec::with_capacity(4 * PER_KIND);
    for m in 0..PER_KIND {
        let sum = |temporality: AggregationTemporality, name: String| Metric {
            name,
            unit: "By".into(),
            description: "bytes".into(),
            data: Some(Data::Sum(Sum {
                data_points: points(round, m as f64),
                aggregation_temporality: temporality as i32,
                is_monotonic: true,
            })),
            ..Metric::default()
        };
        metrics.push(sum(
            AggregationTemporality::Cumulative,
            format!("app.sent.{m}"),
        ));
        metrics.push(sum(AggregationTemporality::Delta, format!("app.done.{m}")));
        metrics.push(Metric {
            name: format!("app.queue.{m}"),
            description: "queue depth".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: points(round, 1.5),
            })),
            ..Metric::default()
        });
        metrics.push(Metric {
            name: format!("app.latency.{m}"),
            unit: "ms".into(),
            description: "latency".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: vec![attr("http.route", "/".into())],
                    start_time_unix_nano: round * 10,
                    time_unix_nano: round * 10 + 10,
                    count: 55,
                    sum: Some(1234.5),
                    bucket_counts: (0..11).collect(),
                    explicit_bounds: vec![
                        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
                    ],
                    ..HistogramDataPoint::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Metric::default()
        });
    }
    ResourceMetrics {
        resource: Some(Resource {
            attributes: vec![
                attr("service.name", "shop".into()),
                attr("service.instance.id", format!("node-{resource}")),
                attr("host.name", "h1".into()),
            ],
            ..Resource::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            metrics,
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    }
}

/// Moves every point of `request` to `round`.
fn retime(request: &mut ResourceMetrics, round: u64) {
    for metric in request
        .scope_metrics
        .iter_mut()
        .flat_map(|s| s.metrics.iter_mut())
    {
        match &mut metric.data {
            Some(Data::Sum(Sum { data_points, .. }) | Data::Gauge(Gauge { data_points })) => {
                for p in data_points {
                    p.start_time_unix_nano = round * 10;
                    p.time_unix_nano = round * 10 + 10;
                }
            }
            Some(Data::Histogram(h)) => {
                for p in &mut h.data_points {
                    p.start_time_unix_nano = round * 10;
                    p.time_unix_nano = round * 10 + 10;
                }
            }
            _ => {}
        }
    }
}

fn bench(c: &mut Criterion) {
    let r2t = ResourceToTelemetryConfig::default();
    let mut group = c.benchmark_group("prometheus_exporter");

    let mut acc = Accumulator::new(Duration::from_secs(300), MAX_SERIES);
    let mut round = 0u64;
    acc.accumulate(&resource_metrics(0, round), &r2t, Instant::now());
    assert_eq!(acc.len(), SERIES);
    let mut request = resource_metrics(0, round);
    group.throughput(Throughput::Elements(SERIES as u64));
    group.bench_function("accumulate_1000", |b| {
        b.iter(|| {
            // The next round: each point starts where the held one ends (cheap next to
            // accumulating, and measured with it).
            round += 1;
            retime(&mut request, round);
            acc.accumulate(&request, &r2t, Instant::now())
        });
    });

    let mut acc = Accumulator::new(Duration::from_secs(3600), MAX_SERIES);
    for resource in 0..10 {
        acc.accumulate(&resource_metrics(resource, 0), &r2t, Instant::now());
    }
    assert_eq!(acc.len(), 10 * SERIES);
    let options = RenderOptions {
        with_suffixes: true,
        ..RenderOptions::default()
    };
    let (text, refused) = render(&mut acc, &options, Format::Text, Instant::now());
    assert_eq!(refused, 0);
    assert!(text.len() > 1_000_000, "{}", text.len());
    group.throughput(Throughput::Elements((10 * SERIES) as u64));
    for (id, format) in [
        ("render_text_10000", Format::Text),
        ("render_openmetrics_10000", Format::OpenMetrics),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| render(&mut acc, &options, format, Instant::now()).0.len());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
