//! The `metricstransform` processor on one request: 100 gauges of 10 points each (3 labels),
//! single thread, in place (the request is cloned per iteration; the clone is measured
//! separately as `clone_only` to subtract).
//!
//! `cargo bench -p otlp-benches --bench otlp_metricstransform`
//!
//! - `rename_regexp`: `update` with a `regexp` include and `$${1}` expansion on every metric.
//! - `aggregate_labels`: `aggregate_labels` keeping one of the three labels, `sum`.
//! - `combine`: the 100 metrics combined into one, their name's group becoming a label.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_processors::metricstransform::{MetricsTransform, MetricsTransformConfig};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data,
    number_data_point::Value,
};

const METRICS: usize = 100;
const POINTS: usize = 10;

fn attr(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..KeyValue::default()
    }
}

fn request() -> ExportMetricsServiceRequest {
    let metrics = (0..METRICS)
        .map(|m| Metric {
            name: format!("system.cpu.metric{m}"),
            unit: "1".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: (0..POINTS)
                    .map(|p| NumberDataPoint {
                        attributes: vec![
                            attr("state", format!("s{}", p % 3)),
                            attr("cpu", format!("{p}")),
                            attr("host", "web-1".into()),
                        ],
                        start_time_unix_nano: 1,
                        time_unix_nano: 2,
                        value: Some(Value::AsDouble(p as f64)),
                        ..NumberDataPoint::default()
                    })
                    .collect(),
            })),
            ..Metric::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

fn transform(yaml: &str) -> MetricsTransform {
    let config: MetricsTransformConfig = serde_yaml_ng::from_str(yaml).unwrap();
    MetricsTransform::new(&config).unwrap()
}

fn bench(c: &mut Criterion) {
    let input = request();
    let cases = [
        (
            "rename_regexp",
            r"transforms: [{include: '^system\.cpu\.(.*)$', match_type: regexp, action: update, new_name: 'system.processor.${1}.stat'}]",
        ),
        (
            "aggregate_labels",
            "transforms: [{include: '^system', match_type: regexp, action: update, operations: [{action: aggregate_labels, label_set: [state], aggregation_type: sum}]}]",
        ),
        (
            "combine",
            r"transforms: [{include: '^system\.cpu\.(?P<which>.*)$', match_type: regexp, action: combine, new_name: system.cpu, aggregation_type: sum}]",
        ),
    ];
    let mut group = c.benchmark_group("metricstransform");
    group.throughput(Throughput::Elements((METRICS * POINTS) as u64));
    group.bench_function("clone_only", |b| {
        b.iter(|| std::hint::black_box(input.clone()))
    });
    for (name, yaml) in cases {
        let t = transform(yaml);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut request = input.clone();
                t.process(&mut request);
                std::hint::black_box(request)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
