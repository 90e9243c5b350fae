//! The `prometheusremotewrite` exporter's work per request, single thread, no network: the
//! OTLP → remote write translation, then the protobuf encoding and snappy compression of the
//! batches (what is sent per request, all of it but the POST).
//!
//! `cargo bench -p otlp-benches --bench otlp_prometheusremotewrite -- --warm-up-time 1 --measurement-time 3`
//!
//! The request: one resource (service name, instance, 3 more attributes), 100 metrics of 100
//! points each (10 000 points; 3 attributes per point): 50 cumulative monotonic sums and 50
//! gauges. A second case: 20 histograms of 50 points with 10 bounds (1 000 points, 13 series
//! each).

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_exporters::prometheusremotewrite::convert::{self, Settings};
use otlp_model::prometheus::translator::MetricNamer;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point::Value,
};
use otlp_proto::resource::v1::Resource;

const T: u64 = 1_700_000_000_000_000_000;

fn attr(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..KeyValue::default()
    }
}

fn attrs(p: usize) -> Vec<KeyValue> {
    vec![
        attr("http.route", format!("/api/v{}/items", p % 7)),
        attr("http.method", ["GET", "POST", "PUT"][p % 3].to_owned()),
        attr("pod", format!("pod-{p}")),
    ]
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    attr("service.name", "checkout".into()),
                    attr("service.instance.id", "i-1".into()),
                    attr("host.name", "node-1".into()),
                    attr("cloud.region", "eu-west-1".into()),
                    attr("k8s.namespace.name", "shop".into()),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn numbers() -> ExportMetricsServiceRequest {
    let metrics = (0..100)
        .map(|m| {
            let points = (0..100)
                .map(|p| NumberDataPoint {
                    attributes: attrs(p),
                    start_time_unix_nano: T - 60_000_000_000,
                    time_unix_nano: T,
                    value: Some(Value::AsDouble(p as f64 * 1.5)),
                    ..Default::default()
                })
                .collect();
            let data = if m % 2 == 0 {
                Data::Sum(Sum {
                    data_points: points,
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                })
            } else {
                Data::Gauge(Gauge {
                    data_points: points,
                })
            };
            Metric {
                name: format!("app.metric.{m}"),
                unit: "By".into(),
                data: Some(data),
                ..Default::default()
            }
        })
        .collect();
    request(metrics)
}

fn histograms() -> ExportMetricsServiceRequest {
    let metrics = (0..20)
        .map(|m| Metric {
            name: format!("app.latency.{m}"),
            unit: "ms".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: (0..50)
                    .map(|p| HistogramDataPoint {
                        attributes: attrs(p),
                        time_unix_nano: T,
                        count: 110,
                        sum: Some(1234.5),
                        bucket_counts: vec![10; 11],
                        explicit_bounds: (1..=10).map(|b| f64::from(b) * 10.0).collect(),
                        ..Default::default()
                    })
                    .collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        })
        .collect();
    request(metrics)
}

fn bench(c: &mut Criterion) {
    let settings = Settings {
        namer: MetricNamer {
            namespace: String::new(),
            with_suffixes: true,
        },
        external_labels: vec![("cluster".into(), "eu".into())],
        target_info: true,
        ..Settings::default()
    };
    let mut group = c.benchmark_group("prometheusremotewrite");
    for (name, req, points) in [
        ("numbers_10000_points", numbers(), 10_000u64),
        ("histograms_1000_points", histograms(), 1_000),
    ] {
        group.throughput(Throughput::Elements(points));
        group.bench_function(format!("{name}/translate"), |b| {
            b.iter(|| convert::convert(&req, &settings))
        });
        group.bench_function(format!("{name}/translate_encode_snappy"), |b| {
            b.iter(|| {
                let converted = convert::convert(&req, &settings);
                convert::batches(converted, 3_000_000)
                    .iter()
                    .map(|r| r.encode_compressed().unwrap().len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
