//! The `prometheus` exporter against the Go collector's (otelcol-contrib v0.165.1's
//! `prometheusexporter`, in the `otelcol-go` peer built by `cargo xtask peers`): the same
//! OTLP requests, the same settings (`namespace`, `const_labels`,
//! `resource_to_telemetry_conversion`), and the two `/metrics` expositions must hold the same
//! samples: (family, TYPE, HELP, sample name, sorted labels, value), in the text format and
//! in OpenMetrics (with exemplars). Comment lines other than HELP/TYPE are not compared.
//!
//! The Go collector comes from `OTLP_PEER_OTELCOL_GO` or `target/peers/peers.env`; without it
//! the test is skipped, or fails under `OTLP_REQUIRE_PEERS=1` (as `cargo xtask test` runs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp_exporters::prometheus::{PrometheusConfig, PrometheusExporter};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host};
use otlp_pipeline::config::parse_config;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::testing::id;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets;
use otlp_proto::metrics::v1::summary_data_point::ValueAtQuantile;
use otlp_proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use prost::Message as _;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The settings both exporters get (besides `endpoint`).
const SETTINGS: &str = "namespace: app
    const_labels:
      region: eu
    resource_to_telemetry_conversion:
      enabled: true
    enable_open_metrics: true";

fn value(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn number(
    v: number_data_point::Value,
    start: u64,
    time: u64,
    attributes: Vec<KeyValue>,
) -> NumberDataPoint {
    NumberDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(v),
        attributes,
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, description: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: description.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "shop"),
                    kv("service.namespace", "prod"),
                    kv("service.instance.id", "node-1"),
                    kv("host.name", "h1"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "shop.lib".into(),
                    version: "2.0".into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Two requests: every kind of metric, then the second half of a delta counter.
fn requests() -> Vec<ExportMetricsServiceRequest> {
    use number_data_point::Value::{AsDouble, AsInt};
    let t0 = now_nanos() - 2_000_000_000;
    let t1 = t0 + 1_000_000_000;
    let t2 = t1 + 1_000_000_000;
    let attrs = || {
        vec![
            kv("http.route", "/buy"),
            KeyValue {
                key: "attempt".into(),
                value: value(any_value::Value::IntValue(2)),
                ..Default::default()
            },
            KeyValue {
                key: "ratio.x".into(),
                value: value(any_value::Value::DoubleValue(0.25)),
                ..Default::default()
            },
        ]
    };
    let sum = |name: &str, unit: &str, temporality: AggregationTemporality, monotonic, p| {
        metric(
            name,
            unit,
            &format!("{name} help"),
            Data::Sum(Sum {
                data_points: vec![p],
                aggregation_temporality: temporality as i32,
                is_monotonic: monotonic,
            }),
        )
    };
    let cumulative = AggregationTemporality::Cumulative;
    let delta = AggregationTemporality::Delta;
    let first = vec![
        sum(
            "http.sent",
            "By",
            cumulative,
            true,
            number(AsInt(1234), t0, t1, attrs()),
        ),
        sum(
            "active.conns",
            "{conn}",
            cumulative,
            false,
            number(AsInt(-3), t0, t1, attrs()),
        ),
        sum(
            "jobs.done",
            "",
            delta,
            true,
            number(AsDouble(3.5), t0, t1, attrs()),
        ),
        metric(
            "cpu.utilization",
            "1",
            "CPU in use",
            Data::Gauge(Gauge {
                data_points: vec![number(AsDouble(0.125), 0, t1, attrs())],
            }),
        ),
        metric(
            "big.gauge",
            "",
            "",
            Data::Gauge(Gauge {
                data_points: vec![number(AsDouble(12345678.0), 0, t1, vec![])],
            }),
        ),
        metric(
            "rpc.duration",
            "ms",
            "RPC latency",
            Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    start_time_unix_nano: t0,
                    time_unix_nano: t1,
                    count: 6,
                    sum: Some(250.5),
                    bucket_counts: vec![2, 3, 1],
                    explicit_bounds: vec![10.0, 100.0],
                    attributes: attrs(),
                    ..Default::default()
                }],
                aggregation_temporality: cumulative as i32,
            }),
        ),
        metric(
            "payload.size",
            "By",
            "Payload sizes",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    start_time_unix_nano: t0,
                    time_unix_nano: t1,
                    count: 5,
                    sum: Some(40.0),
                    scale: 0,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: 1,
                        bucket_counts: vec![2, 2],
                    }),
                    attributes: attrs(),
                    ..Default::default()
                }],
                aggregation_temporality: cumulative as i32,
            }),
        ),
        metric(
            "gc.pause",
            "s",
            "GC pauses",
            Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    start_time_unix_nano: t0,
                    time_unix_nano: t1,
                    count: 10,
                    sum: 1.5,
                    quantile_values: vec![
                        ValueAtQuantile {
                            quantile: 0.5,
                            value: 0.1,
                        },
                        ValueAtQuantile {
                            quantile: 0.99,
                            value: 0.4,
                        },
                    ],
                    attributes: attrs(),
                    ..Default::default()
                }],
            }),
        ),
    ];
    let second = vec![sum(
        "jobs.done",
        "",
        delta,
        true,
        number(AsDouble(4.0), t1, t2, attrs()),
    )];
    vec![request(first), request(second)]
}

/// An HTTP/1.0 request: (status line, body).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Option<(String, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(body).await.ok()?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

/// Parses `a="x",b="y\""` into sorted (name, value) pairs.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label {name} in {text}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((name.trim().to_owned(), value));
    }
    labels.sort();
    labels
}

/// The samples of an exposition as comparable lines:
/// `family|TYPE|HELP|sample name|labels|value`.
fn samples(exposition: &str) -> BTreeSet<String> {
    let mut types: Vec<(String, String)> = Vec::new();
    let mut helps: Vec<(String, String)> = Vec::new();
    let mut out = BTreeSet::new();
    for line in exposition.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            types.push((name.to_owned(), ty.trim().to_owned()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            helps.push((name.to_owned(), help.trim_end().to_owned()));
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        // An exemplar (OpenMetrics): its labels, value and timestamp, normalized.
        let (line, exemplar) = match line.split_once(" # ") {
            Some((sample, exemplar)) => {
                let close = exemplar.find('}').unwrap();
                let labels = parse_labels(&exemplar[1..close]);
                let rest: Vec<f64> = exemplar[close + 1..]
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect();
                (sample, format!("{labels:?} {rest:?}"))
            }
            None => (line, String::new()),
        };
        let (name, labels, rest) = match line.find('{') {
            Some(open) => {
                let close = line.rfind('}').unwrap();
                (
                    &line[..open],
                    parse_labels(&line[open + 1..close]),
                    &line[close + 1..],
                )
            }
            None => {
                let (name, rest) = line.split_once(' ').unwrap();
                (name, Vec::new(), rest)
            }
        };
        // A sample timestamp (`send_timestamps`), compared too.
        let timestamp = rest.split_whitespace().nth(1).unwrap_or("").to_owned();
        let value: f64 = match rest.split_whitespace().next().unwrap() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap(),
        };
        // The family: the longest declared name the sample name starts with.
        let (family, ty) = types
            .iter()
            .filter(|(family, _)| name.starts_with(family.as_str()))
            .max_by_key(|(family, _)| family.len())
            .cloned()
            .unwrap_or_else(|| panic!("sample {name} before its TYPE"));
        let help = helps
            .iter()
            .find(|(n, _)| *n == family)
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        out.insert(format!(
            "{family}|{ty}|{help}|{name}|{}|{value}|{timestamp}|{exemplar}",
            labels.join(",")
        ));
    }
    out
}

fn diff(ours: &BTreeSet<String>, go: &BTreeSet<String>) -> String {
    let mut text = String::new();
    for only in ours.difference(go) {
        text.push_str(&format!("  only ours: {only}\n"));
    }
    for only in go.difference(ours) {
        text.push_str(&format!("  only Go's: {only}\n"));
    }
    text
}

const OPEN_METRICS: &str =
    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n";

/// Sends `requests` to the Go collector and to ours, both configured with `settings` (YAML
/// lines of the exporter, indented by four spaces), and compares the two scrapes.
/// Returns Go's OpenMetrics scrape (`None` when the peer is missing and the test skipped).
async fn differential(
    settings: &str,
    requests: Vec<ExportMetricsServiceRequest>,
) -> Option<String> {
    let binary = require(Peer::OtelcolGo)?;
    let mut open_metrics = String::new();
    let dir = tempfile::tempdir().unwrap();
    let otlp_port = free_port();
    let prom_port = free_port();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp_port}
exporters:
  prometheus:
    endpoint: 127.0.0.1:{prom_port}
    {settings}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus]
"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("otelcol.log")).unwrap();
    let child = Command::new(&binary)
        .arg(format!("--config={}", config.display()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut go = Killed(child);
    let go_otlp: SocketAddr = format!("127.0.0.1:{otlp_port}").parse().unwrap();
    let go_prom: SocketAddr = format!("127.0.0.1:{prom_port}").parse().unwrap();

    let yaml = format!(
        "endpoint: 127.0.0.1:0\n{}",
        settings.replace("\n    ", "\n")
    );
    let config: PrometheusConfig = parse_config(&serde_yaml_ng::from_str(&yaml).unwrap()).unwrap();
    let ctx = ExporterContext::new(id("prometheus"), Signal::Metrics)
        .with_resources(otlp_pipeline::Resources::collector());
    let ours = PrometheusExporter::new(ctx, config).unwrap();
    ours.start(&Host::empty()).await.unwrap();
    let our_addr = ours.local_addr().await.unwrap();

    for (i, request) in requests.into_iter().enumerate() {
        let body = request.encode_to_vec();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let sent = http(
                go_otlp,
                "POST",
                "/v1/metrics",
                "Content-Type: application/x-protobuf\r\n",
                &body,
            )
            .await;
            match sent {
                Some((status, _)) if status.contains(" 200") => break,
                other => {
                    if let Ok(Some(status)) = go.0.try_wait() {
                        let log = std::fs::read_to_string(dir.path().join("otelcol.log"))
                            .unwrap_or_default();
                        panic!("otelcol-go exited: {status}\n{log}");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "request {i} not accepted by otelcol-go: {other:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        ours.consume(Telemetry::new(request)).await.unwrap();
    }

    for (format, accept) in [("text", ""), ("OpenMetrics", OPEN_METRICS)] {
        let (status, go_body) = http(go_prom, "GET", "/metrics", accept, b"").await.unwrap();
        assert!(status.contains(" 200"), "Go: {status}");
        let (status, our_body) = http(our_addr, "GET", "/metrics", accept, b"")
            .await
            .unwrap();
        assert!(status.contains(" 200"), "ours: {status}");
        if format == "OpenMetrics" {
            assert!(
                go_body.ends_with("# EOF\n"),
                "Go did not answer OpenMetrics:\n{go_body}"
            );
            assert!(our_body.ends_with("# EOF\n"), "{our_body}");
        }
        let (go_set, our_set) = (samples(&go_body), samples(&our_body));
        assert!(go_set.len() > 15, "{go_body}");
        assert!(
            go_set == our_set,
            "{format} expositions differ:\n{}\n--- Go:\n{go_body}\n--- ours:\n{our_body}",
            diff(&our_set, &go_set)
        );
        open_metrics = go_body;
    }
    ours.shutdown(tokio::time::Instant::now()).await.unwrap();
    Some(open_metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_exposition_as_the_go_collector() {
    differential(SETTINGS, requests()).await;
}

/// Scope attributes, exemplars (compared in OpenMetrics), a resource without
/// `service.instance.id` and one without `service.name` (neither has a `target_info` in Go),
/// service attributes excluded from the labels, no namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_exposition_with_scope_attributes_and_exemplars() {
    use otlp_proto::metrics::v1::{Exemplar, exemplar};
    let settings = "const_labels:
      team: core
    resource_to_telemetry_conversion:
      enabled: true
      exclude_service_attributes: true
    enable_open_metrics: true";
    let mut requests = requests();
    let exemplar = |value, span: u8| Exemplar {
        trace_id: vec![7; 16],
        span_id: vec![span; 8],
        time_unix_nano: 1_700_000_000_500_000_000,
        value: Some(value),
        ..Default::default()
    };
    for rm in &mut requests[0].resource_metrics {
        for sm in &mut rm.scope_metrics {
            if let Some(scope) = &mut sm.scope {
                scope.attributes.push(kv("lib.flavor", "fast"));
            }
            for m in &mut sm.metrics {
                match &mut m.data {
                    Some(Data::Sum(sum)) if sum.is_monotonic => {
                        for p in &mut sum.data_points {
                            p.exemplars = vec![
                                exemplar(exemplar::Value::AsDouble(1.0), 1),
                                exemplar(exemplar::Value::AsInt(3), 2),
                            ];
                        }
                    }
                    Some(Data::Histogram(h)) => {
                        for p in &mut h.data_points {
                            p.exemplars = vec![
                                exemplar(exemplar::Value::AsDouble(5.0), 3),
                                exemplar(exemplar::Value::AsDouble(50.0), 4),
                                exemplar(exemplar::Value::AsDouble(500.0), 5),
                            ];
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for rm in &mut requests[1].resource_metrics {
        if let Some(scope) = rm.scope_metrics[0].scope.as_mut() {
            scope.attributes.push(kv("lib.flavor", "fast"));
        }
    }
    // A second resource: a job without an instance.
    let mut other = requests[0].resource_metrics[0].clone();
    if let Some(resource) = &mut other.resource {
        resource.attributes = vec![kv("service.name", "batch"), kv("cloud.region", "eu-1")];
    }
    requests[0].resource_metrics.push(other.clone());
    // A third: an instance without a job.
    if let Some(resource) = &mut other.resource {
        resource.attributes = vec![kv("service.instance.id", "solo-1"), kv("k8s.pod", "p")];
    }
    requests[0].resource_metrics.push(other);
    let Some(go) = differential(settings, requests).await else {
        return;
    };
    // The comparison covered exemplars: Go wrote them (on counters and buckets).
    assert!(
        go.contains(r#"_total{"#) && go.matches(" # {").count() >= 5,
        "{go}"
    );
}

/// No suffixes, no scope labels, sample timestamps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_exposition_without_suffixes_or_scope_with_timestamps() {
    let settings = "namespace: ns
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    without_scope_info: true
    send_timestamps: true
    enable_open_metrics: true";
    let Some(go) = differential(settings, requests()).await else {
        return;
    };
    // In OpenMetrics a counter without `_total` is `unknown` (client_golang).
    assert!(go.contains("# TYPE ns_http_sent unknown\n"), "{go}");
    assert!(!go.contains("otel_scope_name"), "{go}");
}
