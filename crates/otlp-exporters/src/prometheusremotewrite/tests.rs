#![allow(clippy::unwrap_used, clippy::expect_used)]

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use otlp_proto::resource::v1::Resource;

use super::convert::{self, STALE_NAN, Settings};
use super::wire::{self, Label, TimeSeries, WriteRequest};
use super::*;

const T: u64 = 1_700_000_000_123_456_789;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn point(value: f64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        start_time_unix_nano: T - 60_000_000_000,
        time_unix_nano: T,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
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

fn sum(
    name: &str,
    unit: &str,
    monotonic: bool,
    temporality: AggregationTemporality,
    points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("{name} help"),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

fn settings() -> Settings {
    Settings {
        namer: otlp_model::prometheus::translator::MetricNamer {
            namespace: String::new(),
            with_suffixes: true,
        },
        target_info: true,
        ..Settings::default()
    }
}

/// `name{labels}` of every series with its samples' values.
fn render(series: &[TimeSeries]) -> Vec<String> {
    let mut out: Vec<String> = series
        .iter()
        .map(|s| {
            let labels: Vec<String> = s
                .labels
                .iter()
                .map(|l| format!("{}={}", l.name, l.value))
                .collect();
            let values: Vec<String> = s
                .samples
                .iter()
                .map(|v| format!("{}@{}", v.value, v.timestamp))
                .collect();
            format!("{} {}", labels.join(","), values.join(" "))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn counters_gauges_and_target_info() {
    let req = request(
        vec![
            kv("service.name", "api"),
            kv("service.namespace", "shop"),
            kv("service.instance.id", "i-1"),
            kv("host.name", "h1"),
        ],
        vec![
            sum(
                "http.server.request.size",
                "By",
                true,
                AggregationTemporality::Cumulative,
                vec![point(42.0, vec![kv("http.method", "GET")])],
            ),
            Metric {
                name: "queue.depth".into(),
                unit: "{item}".into(),
                data: Some(Data::Gauge(Gauge {
                    data_points: vec![point(7.0, vec![])],
                })),
                ..Default::default()
            },
            sum(
                "delta.things",
                "",
                true,
                AggregationTemporality::Delta,
                vec![point(1.0, vec![])],
            ),
        ],
    );
    let out = convert::convert(&req, &settings());
    assert_eq!(out.dropped_points, 1, "the delta sum is dropped");
    assert!(out.errors[0].contains("delta.things"), "{:?}", out.errors);
    let ms = (T / 1_000_000) as i64;
    assert_eq!(
        render(&out.series),
        vec![
            format!(
                "__name__=http_server_request_size_bytes_total,http_method=GET,instance=i-1,job=shop/api 42@{ms}"
            ),
            format!("__name__=queue_depth,instance=i-1,job=shop/api 7@{ms}"),
            format!("__name__=target_info,host_name=h1,instance=i-1,job=shop/api 1@{ms}"),
        ]
    );
}

#[test]
fn histograms_are_cumulative_buckets_with_inf() {
    let req = request(
        vec![kv("service.name", "api")],
        vec![Metric {
            name: "latency".into(),
            unit: "s".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    time_unix_nano: T,
                    count: 10,
                    sum: Some(4.5),
                    bucket_counts: vec![2, 3, 5],
                    explicit_bounds: vec![0.1, 1.0],
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        }],
    );
    let out = convert::convert(&req, &settings());
    let ms = (T / 1_000_000) as i64;
    assert_eq!(
        render(&out.series),
        vec![
            format!("__name__=latency_seconds_bucket,job=api,le=+Inf 10@{ms}"),
            format!("__name__=latency_seconds_bucket,job=api,le=0.1 2@{ms}"),
            format!("__name__=latency_seconds_bucket,job=api,le=1 5@{ms}"),
            format!("__name__=latency_seconds_count,job=api 10@{ms}"),
            format!("__name__=latency_seconds_sum,job=api 4.5@{ms}"),
        ],
        "no target_info: the resource has only service attributes"
    );
}

#[test]
fn summaries_created_external_labels_and_collisions() {
    let mut s = settings();
    s.external_labels = vec![
        ("cluster".into(), "eu".into()),
        ("job".into(), "ignored".into()),
    ];
    s.created = true;
    s.namer.namespace = "app".into();
    let req = request(
        vec![kv("service.name", "api")],
        vec![
            Metric {
                name: "rpc.duration".into(),
                unit: "ms".into(),
                data: Some(Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        start_time_unix_nano: T - 1_000_000_000,
                        time_unix_nano: T,
                        count: 3,
                        sum: 9.0,
                        quantile_values: vec![ValueAtQuantile {
                            quantile: 0.99,
                            value: 5.0,
                        }],
                        ..Default::default()
                    }],
                })),
                ..Default::default()
            },
            sum(
                "hits",
                "",
                true,
                AggregationTemporality::Cumulative,
                vec![point(5.0, vec![kv("a.b", "1"), kv("a_b", "2")])],
            ),
        ],
    );
    let out = convert::convert(&req, &s);
    let ms = (T / 1_000_000) as i64;
    let start = ms - 1000;
    let hits_start = ms - 60_000;
    assert_eq!(
        render(&out.series),
        vec![
            format!("__name__=app_hits_created,a_b=1;2,cluster=eu,job=api {hits_start}@{ms}"),
            format!("__name__=app_hits_total,a_b=1;2,cluster=eu,job=api 5@{ms}"),
            format!(
                "__name__=app_rpc_duration_milliseconds,cluster=eu,job=api,quantile=0.99 5@{ms}"
            ),
            format!("__name__=app_rpc_duration_milliseconds_count,cluster=eu,job=api 3@{ms}"),
            format!(
                "__name__=app_rpc_duration_milliseconds_created,cluster=eu,job=api {start}@{ms}"
            ),
            format!("__name__=app_rpc_duration_milliseconds_sum,cluster=eu,job=api 9@{ms}"),
        ]
    );
}

#[test]
fn no_recorded_value_is_the_stale_marker_and_samples_merge() {
    let mut p1 = point(1.0, vec![]);
    p1.time_unix_nano = T + 1_000_000_000;
    let mut p2 = point(0.0, vec![]);
    p2.flags = 1;
    p2.time_unix_nano = T + 2_000_000_000;
    let p0 = point(3.0, vec![]);
    let req = request(
        vec![],
        vec![Metric {
            name: "g".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![p2, p1, p0],
            })),
            ..Default::default()
        }],
    );
    let out = convert::convert(&req, &settings());
    assert_eq!(out.series.len(), 1, "one series, three samples");
    let samples = &out.series[0].samples;
    assert_eq!(samples.len(), 3);
    assert!(
        samples.windows(2).all(|w| w[0].timestamp < w[1].timestamp),
        "sorted by time"
    );
    assert_eq!(samples[2].value.to_bits(), STALE_NAN);
}

#[test]
fn the_wire_format_round_trips_through_snappy() {
    let request = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "up".into(),
                },
                Label {
                    name: "job".into(),
                    value: "x".into(),
                },
            ],
            samples: vec![
                wire::Sample {
                    value: 1.5,
                    timestamp: 1_700_000_000_123,
                },
                wire::Sample {
                    value: 0.0,
                    timestamp: -5,
                },
            ],
        }],
        metadata: vec![wire::Metadata {
            kind: wire::MetadataType::Counter,
            family: "up".into(),
            help: "h".into(),
            unit: "".into(),
        }],
    };
    let body = request.encode_compressed().unwrap();
    let back = wire::decode(&wire::decompress(&body, 1 << 20).unwrap()).unwrap();
    assert_eq!(back, request);
    // A bomb: the announced size is checked before anything is allocated.
    assert!(matches!(
        wire::decompress(&body, 8),
        Err(wire::WireError::TooLarge { .. })
    ));
    assert!(wire::decode(&[0x0a, 0x05, 0x01]).is_err(), "truncated");
}

#[test]
fn batches_stay_under_the_limit() {
    let series: Vec<TimeSeries> = (0..100)
        .map(|i| TimeSeries {
            labels: vec![Label {
                name: "__name__".into(),
                value: format!("metric_{i:04}"),
            }],
            samples: vec![wire::Sample {
                value: 1.0,
                timestamp: 1,
            }],
        })
        .collect();
    let one = series[0].encoded_len() + 2;
    let converted = convert::Converted {
        series,
        ..Default::default()
    };
    let requests = convert::batches(converted, one * 10 + 5);
    assert!(requests.len() >= 10, "{}", requests.len());
    assert_eq!(
        requests.iter().map(|r| r.timeseries.len()).sum::<usize>(),
        100
    );
    for r in &requests {
        assert!(r.encode().len() <= one * 10 + 5, "{}", r.encode().len());
    }
}

#[test]
fn configuration_errors_name_the_key() {
    let check = |yaml: &str| -> String {
        let config: PrometheusRemoteWriteConfig = serde_yaml_ng::from_str(yaml).unwrap();
        config.validate().unwrap_err().to_string()
    };
    assert!(check("endpoint: ''").contains("endpoint"));
    assert!(check("endpoint: prometheus:9090").contains("not an http"));
    assert!(check("endpoint: http://p/api/v1/write\nwal: {directory: /tmp}").contains("wal"));
    assert!(
        check("endpoint: http://p/api/v1/write\nheaders: {Content-Encoding: gzip}")
            .contains("headers::Content-Encoding")
    );
    assert!(check("endpoint: http://p/api/v1/write\ncompression: gzip").contains("snappy"));
    assert!(
        check("endpoint: http://p/api/v1/write\nprotobuf_message: io.prometheus.write.v2.Request")
            .contains("remote write 1.0")
    );
    assert!(
        check("endpoint: http://p/api/v1/write\nexternal_labels: {'1bad': x}")
            .contains("external_labels::1bad")
    );
    assert!(
        check("endpoint: http://p/api/v1/write\nsending_queue: {enabled: true}")
            .contains("remote_write_queue")
    );
    let unknown: Result<PrometheusRemoteWriteConfig, _> =
        serde_yaml_ng::from_str("endpoint: http://p\nnope: 1");
    assert!(unknown.is_err());
    let ok: PrometheusRemoteWriteConfig = serde_yaml_ng::from_str(
        "endpoint: http://p:9090/api/v1/write\nexternal_labels: {cluster: a}\nremote_write_queue: {num_consumers: 2}\ntarget_info: {enabled: false}",
    )
    .unwrap();
    ok.validate().unwrap();
    assert_eq!(ok.remote_write_queue.queue_size, 10_000);
    assert!(!ok.target_info.enabled);
    assert_eq!(ok.max_batch_size_bytes, 3_000_000);
}
