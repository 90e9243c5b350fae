//! Requests that use every field a forwarding peer could lose: every `AnyValue` kind (nested
//! arrays and maps, bytes, non-ASCII strings), trace state and flags, events, links, status,
//! all five metric types with exemplars and min/max, log bodies of several kinds, event names.
//! Ids are unique and deterministic, so a test can find every item by id or by a sequence
//! attribute and compare it whole.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

pub const BASE_TIME: u64 = 1_760_000_000_000_000_000;

pub fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    }
}

pub fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

pub fn double(d: f64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::DoubleValue(d)),
    }
}

pub fn boolean(b: bool) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::BoolValue(b)),
    }
}

pub fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..Default::default()
    }
}

/// One attribute of every `AnyValue` kind, varied by `i`.
pub fn every_kind_attributes(i: u64) -> Vec<KeyValue> {
    vec![
        kv("seq", int(i as i64)),
        kv("str", string(&format!("value-{i} ünïcödé ✓"))),
        kv("neg", int(-(i as i64) - 1)),
        kv("ratio", double(i as f64 / 7.0)),
        kv("flag", boolean(i.is_multiple_of(2))),
        kv(
            "bytes",
            AnyValue {
                value: Some(any_value::Value::BytesValue(vec![
                    0, 1, 0xfe, 0xff, i as u8,
                ])),
            },
        ),
        kv(
            "array",
            AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![string("a"), int(1), double(2.5), boolean(true)],
                })),
            },
        ),
        kv(
            "map",
            AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: vec![
                        kv("inner", string("x")),
                        kv(
                            "nested",
                            AnyValue {
                                value: Some(any_value::Value::ArrayValue(ArrayValue {
                                    values: vec![int(i as i64)],
                                })),
                            },
                        ),
                    ],
                })),
            },
        ),
    ]
}

pub fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", string(service)),
            kv("service.instance.id", string("instance-1")),
            kv("host.arch", string("amd64")),
        ],
        ..Default::default()
    }
}

pub fn scope(name: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_owned(),
        version: "1.0.0".to_owned(),
        attributes: vec![kv("scope.attr", string("s"))],
        ..Default::default()
    }
}

fn trace_id(i: u64) -> Vec<u8> {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&0x5eed_0000_0000_0000u64.to_be_bytes());
    id[8..].copy_from_slice(&(i / 10 + 1).to_be_bytes());
    id.to_vec()
}

fn span_id(i: u64) -> Vec<u8> {
    (0xa000_0000_0000_0000u64 + i + 1).to_be_bytes().to_vec()
}

/// The `i`-th span (globally unique ids; every 10 spans share a trace, the first of each ten
/// being the parent of the others).
pub fn span(i: u64) -> Span {
    let parent = if i.is_multiple_of(10) {
        Vec::new()
    } else {
        span_id(i - i % 10)
    };
    Span {
        trace_id: trace_id(i),
        span_id: span_id(i),
        trace_state: if i.is_multiple_of(3) {
            "vendor=x,other=y".to_owned()
        } else {
            String::new()
        },
        parent_span_id: parent,
        flags: 0x101,
        name: format!("operation {i}"),
        kind: (i % 5 + 1) as i32,
        start_time_unix_nano: BASE_TIME + i * 1_000,
        end_time_unix_nano: BASE_TIME + i * 1_000 + 250_000,
        attributes: every_kind_attributes(i),
        dropped_attributes_count: (i % 2) as u32,
        events: vec![span::Event {
            time_unix_nano: BASE_TIME + i * 1_000 + 10,
            name: "event".to_owned(),
            attributes: vec![kv("event.seq", int(i as i64))],
            dropped_attributes_count: 0,
        }],
        dropped_events_count: 0,
        links: if i.is_multiple_of(4) {
            vec![span::Link {
                trace_id: trace_id(i + 1000),
                span_id: span_id(i + 1000),
                trace_state: "linked=1".to_owned(),
                attributes: vec![kv("link.seq", int(i as i64))],
                dropped_attributes_count: 0,
                flags: 0x301,
            }]
        } else {
            Vec::new()
        },
        dropped_links_count: 0,
        status: Some(Status {
            message: if i.is_multiple_of(7) {
                format!("failed {i}")
            } else {
                String::new()
            },
            code: if i.is_multiple_of(7) { 2 } else { 1 },
        }),
    }
}

/// `requests` trace requests of `per_request` spans each, split over two resources and two
/// scopes; span numbers start at `first`.
pub fn traces(first: u64, requests: u64, per_request: u64) -> Vec<ExportTraceServiceRequest> {
    (0..requests)
        .map(|r| {
            let base = first + r * per_request;
            let half = per_request / 2;
            let group = |service: &str, range: std::ops::Range<u64>| ResourceSpans {
                resource: Some(resource(service)),
                scope_spans: vec![
                    ScopeSpans {
                        scope: Some(scope("interop.scope.one")),
                        spans: range
                            .clone()
                            .filter(|i| i.is_multiple_of(2))
                            .map(span)
                            .collect(),
                        schema_url: "https://opentelemetry.io/schemas/1.26.0".to_owned(),
                    },
                    ScopeSpans {
                        scope: Some(scope("interop.scope.two")),
                        spans: range.filter(|i| i % 2 == 1).map(span).collect(),
                        schema_url: String::new(),
                    },
                ],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".to_owned(),
            };
            ExportTraceServiceRequest {
                resource_spans: vec![
                    group("interop-service-a", base..base + half),
                    group("interop-service-b", base + half..base + per_request),
                ],
            }
        })
        .collect()
}

fn number(i: u64, value: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![kv("point", int(i as i64)), kv("host", string("h1"))],
        start_time_unix_nano: BASE_TIME,
        time_unix_nano: BASE_TIME + 60_000_000_000,
        exemplars: vec![Exemplar {
            filtered_attributes: vec![kv("user", string("u1"))],
            time_unix_nano: BASE_TIME + 1,
            span_id: span_id(i),
            trace_id: trace_id(i),
            value: Some(exemplar::Value::AsDouble(0.5)),
        }],
        flags: 0,
        value: Some(value),
    }
}

/// One metric of each type (gauge int and double, monotonic cumulative sum, delta
/// non-monotonic sum, histogram with min/max, exponential histogram, summary), `points` data
/// points each; names are `interop.<type>`.
pub fn metrics(points: u64) -> ExportMetricsServiceRequest {
    let metric = |name: &str, unit: &str, data: metric::Data| Metric {
        name: name.to_owned(),
        description: format!("the {name} metric"),
        unit: unit.to_owned(),
        data: Some(data),
        ..Default::default()
    };
    let range = 0..points;
    let metrics = vec![
        metric(
            "interop.gauge.int",
            "{item}",
            metric::Data::Gauge(Gauge {
                data_points: range
                    .clone()
                    .map(|i| number(i, number_data_point::Value::AsInt(i as i64 - 3)))
                    .collect(),
            }),
        ),
        metric(
            "interop.gauge.double",
            "Cel",
            metric::Data::Gauge(Gauge {
                data_points: range
                    .clone()
                    .map(|i| number(i, number_data_point::Value::AsDouble(i as f64 * 1.25)))
                    .collect(),
            }),
        ),
        metric(
            "interop.sum.cumulative",
            "{request}",
            metric::Data::Sum(Sum {
                data_points: range
                    .clone()
                    .map(|i| number(i, number_data_point::Value::AsInt(1000 + i as i64)))
                    .collect(),
                aggregation_temporality: 2,
                is_monotonic: true,
            }),
        ),
        metric(
            "interop.sum.delta",
            "By",
            metric::Data::Sum(Sum {
                data_points: range
                    .clone()
                    .map(|i| number(i, number_data_point::Value::AsDouble(-(i as f64))))
                    .collect(),
                aggregation_temporality: 1,
                is_monotonic: false,
            }),
        ),
        metric(
            "interop.histogram",
            "ms",
            metric::Data::Histogram(Histogram {
                data_points: range
                    .clone()
                    .map(|i| HistogramDataPoint {
                        attributes: vec![kv("point", int(i as i64))],
                        start_time_unix_nano: BASE_TIME,
                        time_unix_nano: BASE_TIME + 60_000_000_000,
                        count: 6 + i,
                        sum: Some(123.5 + i as f64),
                        bucket_counts: vec![1, 2, 3 + i],
                        explicit_bounds: vec![10.0, 100.0],
                        exemplars: Vec::new(),
                        flags: 0,
                        min: Some(0.5),
                        max: Some(99.0 + i as f64),
                    })
                    .collect(),
                aggregation_temporality: 2,
            }),
        ),
        metric(
            "interop.exponential_histogram",
            "s",
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: range
                    .clone()
                    .map(|i| ExponentialHistogramDataPoint {
                        attributes: vec![kv("point", int(i as i64))],
                        start_time_unix_nano: BASE_TIME,
                        time_unix_nano: BASE_TIME + 60_000_000_000,
                        count: 10,
                        sum: Some(55.0),
                        scale: 3,
                        zero_count: 1,
                        positive: Some(exponential_histogram_data_point::Buckets {
                            offset: -2,
                            bucket_counts: vec![1, 2, 3, 3],
                        }),
                        negative: Some(exponential_histogram_data_point::Buckets {
                            offset: 1,
                            bucket_counts: vec![i],
                        }),
                        flags: 0,
                        exemplars: Vec::new(),
                        min: Some(-1.0),
                        max: Some(20.0),
                        zero_threshold: 1e-9,
                    })
                    .collect(),
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "interop.summary",
            "ms",
            metric::Data::Summary(Summary {
                data_points: range
                    .map(|i| SummaryDataPoint {
                        attributes: vec![kv("point", int(i as i64))],
                        start_time_unix_nano: BASE_TIME,
                        time_unix_nano: BASE_TIME + 60_000_000_000,
                        count: 4,
                        sum: 10.0 + i as f64,
                        quantile_values: vec![
                            summary_data_point::ValueAtQuantile {
                                quantile: 0.5,
                                value: 2.0,
                            },
                            summary_data_point::ValueAtQuantile {
                                quantile: 0.99,
                                value: 4.5,
                            },
                        ],
                        flags: 0,
                    })
                    .collect(),
            }),
        ),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("interop-metrics")),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope("interop.meter")),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The `i`-th log record: bodies alternate between a string, a map and bytes; every record
/// carries `seq = i`.
pub fn log_record(i: u64) -> LogRecord {
    let body = match i % 3 {
        0 => string(&format!("log line {i}: ünïcödé \"quoted\"\ttab")),
        1 => AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList {
                values: vec![kv("message", string("structured")), kv("n", int(i as i64))],
            })),
        },
        _ => AnyValue {
            value: Some(any_value::Value::BytesValue(vec![0xde, 0xad, i as u8])),
        },
    };
    LogRecord {
        time_unix_nano: BASE_TIME + i,
        observed_time_unix_nano: BASE_TIME + i + 5,
        severity_number: (i % 24 + 1) as i32,
        severity_text: format!("SEV{}", i % 24 + 1),
        body: Some(body),
        attributes: every_kind_attributes(i),
        dropped_attributes_count: 0,
        flags: 1,
        trace_id: if i.is_multiple_of(2) {
            trace_id(i)
        } else {
            Vec::new()
        },
        span_id: if i.is_multiple_of(2) {
            span_id(i)
        } else {
            Vec::new()
        },
        event_name: if i.is_multiple_of(5) {
            "interop.event".to_owned()
        } else {
            String::new()
        },
    }
}

/// `requests` logs requests of `per_request` records each; record numbers start at `first`.
pub fn logs(first: u64, requests: u64, per_request: u64) -> Vec<ExportLogsServiceRequest> {
    (0..requests)
        .map(|r| {
            let base = first + r * per_request;
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: Some(resource("interop-logs")),
                    scope_logs: vec![ScopeLogs {
                        scope: Some(scope("interop.logger")),
                        log_records: (base..base + per_request).map(log_record).collect(),
                        schema_url: String::new(),
                    }],
                    schema_url: String::new(),
                }],
            }
        })
        .collect()
}

/// The `seq` attribute of an item.
pub fn seq(attributes: &[KeyValue]) -> Option<i64> {
    attributes
        .iter()
        .find(|kv| kv.key == "seq")
        .and_then(|kv| match kv.value.as_ref()?.value {
            Some(any_value::Value::IntValue(i)) => Some(i),
            _ => None,
        })
}

/// [`metrics`] without what rotel 0.0.1a15's OTLP/JSON decoder loses: it drops (answering
/// 200) every metric with an exemplar, every summary and exponential histogram, and histograms
/// whose `count` / `bucketCounts` are JSON strings, and it loses `asInt` values written as JSON
/// strings (the value becomes unset) — strings being the form proto3 JSON gives 64-bit
/// integers. What is left: the double-valued gauges and sums, without exemplars.
pub fn metrics_rotel_json_safe(points: u64) -> ExportMetricsServiceRequest {
    let mut request = metrics(points);
    for sm in request
        .resource_metrics
        .iter_mut()
        .flat_map(|rm| rm.scope_metrics.iter_mut())
    {
        sm.metrics.retain(|m| {
            let points = match &m.data {
                Some(metric::Data::Gauge(g)) => &g.data_points,
                Some(metric::Data::Sum(s)) => &s.data_points,
                _ => return false,
            };
            points
                .iter()
                .all(|p| matches!(p.value, Some(number_data_point::Value::AsDouble(_))))
        });
        for m in &mut sm.metrics {
            match &mut m.data {
                Some(metric::Data::Gauge(g)) => {
                    g.data_points.iter_mut().for_each(|p| p.exemplars.clear())
                }
                Some(metric::Data::Sum(s)) => {
                    s.data_points.iter_mut().for_each(|p| p.exemplars.clear())
                }
                _ => {}
            }
        }
    }
    request
}
