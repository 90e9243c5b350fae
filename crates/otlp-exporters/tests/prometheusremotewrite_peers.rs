//! The `prometheusremotewrite` exporter against real software (installed by `cargo xtask
//! peers`): into a real Prometheus 2.42 (`--web.enable-remote-write-receiver`) and read back
//! with PromQL, and side by side with the Go collector's `prometheus_remote_write` exporter
//! (otelcol-go, contrib v0.165.1): the same OTLP in, the same series out.
//!
//! Without the peers the tests are skipped, or fail under `OTLP_REQUIRE_PEERS=1` (as `cargo
//! xtask test` runs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_exporters::prometheusremotewrite::wire;
use otlp_exporters::prometheusremotewrite::{
    PrometheusRemoteWriteConfig, PrometheusRemoteWriteExporter,
};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host};
use otlp_pipeline::config::parse_config;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::testing::id;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile,
};
use otlp_proto::resource::v1::Resource;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn number(value: f64, start: u64, time: u64, attrs: Vec<KeyValue>) -> NumberDataPoint {
    NumberDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        attributes: attrs,
        ..Default::default()
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
        description: format!("{name} in total"),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: monotonic,
        })),
        ..Default::default()
    }
}

/// A counter in bytes, a gauge, a non-monotonic sum, a histogram, a summary, a delta sum
/// (dropped by both), attribute names that collide once sanitized; `t` is the points' time.
fn request(t: u64) -> ExportMetricsServiceRequest {
    let start = t - 10_000_000_000;
    let route = || vec![kv("route", "/buy"), kv("http.method", "GET")];
    let histogram = Metric {
        name: "rpc.duration".into(),
        unit: "ms".into(),
        description: "RPC latency".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: start,
                time_unix_nano: t,
                count: 6,
                sum: Some(250.0),
                bucket_counts: vec![2, 3, 1],
                explicit_bounds: vec![10.0, 100.0],
                attributes: route(),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    };
    let summary = Metric {
        name: "gc.pause".into(),
        unit: "s".into(),
        description: "GC pauses".into(),
        data: Some(Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                start_time_unix_nano: start,
                time_unix_nano: t,
                count: 4,
                sum: 0.5,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.5,
                        value: 0.1,
                    },
                    ValueAtQuantile {
                        quantile: 0.99,
                        value: 0.3,
                    },
                ],
                ..Default::default()
            }],
        })),
        ..Default::default()
    };
    let gauge = Metric {
        name: "queue.depth".into(),
        unit: "{item}".into(),
        description: "Items waiting".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![number(7.5, 0, t, vec![kv("queue", "a")])],
        })),
        ..Default::default()
    };
    let metrics = vec![
        sum(
            "http.sent",
            "By",
            true,
            AggregationTemporality::Cumulative,
            vec![number(1234.0, start, t, route())],
        ),
        gauge,
        sum(
            "pool.in_use",
            "1",
            false,
            AggregationTemporality::Cumulative,
            vec![number(
                3.0,
                start,
                t,
                vec![kv("pool.name", "db"), kv("pool_name", "x")],
            )],
        ),
        histogram,
        summary,
        sum(
            "jobs.done",
            "",
            true,
            AggregationTemporality::Delta,
            vec![number(3.0, start, t, vec![])],
        ),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "shop"),
                    kv("service.namespace", "prod"),
                    kv("service.instance.id", "node-1"),
                    kv("deployment.environment", "test"),
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

/// What the sink received: each request's headers (lower-case names) and body.
type Received = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A minimal HTTP/1.1 server that records every POST and answers 204 (or, for the first
/// `fail_first` requests, 503).
async fn sink(fail_first: usize) -> (u16, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let seen = Arc::new(Mutex::new(0usize));
    let out = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let received = Arc::clone(&received);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let headers: Vec<(String, String)> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        .collect();
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        let mut chunk = [0u8; 65536];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[head_end..head_end + length].to_vec();
                    buf.drain(..head_end + length);
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        *seen += 1;
                        *seen
                    };
                    let answer: &[u8] = if n <= fail_first {
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
                    } else {
                        received.lock().unwrap().push((headers, body));
                        b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                    };
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, out)
}

async fn exporter(yaml: &str) -> PrometheusRemoteWriteExporter {
    let config: PrometheusRemoteWriteConfig =
        parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    let ctx = ExporterContext::new(id("prometheusremotewrite"), Signal::Metrics)
        .with_resources(otlp_pipeline::Resources::collector());
    let exporter = PrometheusRemoteWriteExporter::new(ctx, config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    exporter
}

async fn wait_for(received: &Received, n: usize, what: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < n {
        assert!(
            Instant::now() < until,
            "{what}: no remote write request arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every series of the received requests: sorted `name=value` labels and `value@ms` samples.
fn series_of(received: &Received) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (headers, body) in received.lock().unwrap().iter() {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(header("content-encoding"), "snappy");
        assert_eq!(header("content-type"), "application/x-protobuf");
        assert_eq!(header("x-prometheus-remote-write-version"), "0.1.0");
        let request = wire::decode(&wire::decompress(body, 64 << 20).unwrap()).unwrap();
        for series in request.timeseries {
            let mut labels: Vec<String> = series
                .labels
                .iter()
                .map(|l| format!("{}={}", l.name, l.value))
                .collect();
            labels.sort();
            let samples: Vec<String> = series
                .samples
                .iter()
                .map(|s| format!("{}@{}", s.value, s.timestamp))
                .collect();
            out.insert(format!("{} {}", labels.join(","), samples.join(" ")));
        }
    }
    out
}

/// The Go collector (otelcol-go) with `otlp` (HTTP) → `prometheus_remote_write` to `sink`,
/// the exporter's settings `settings` (YAML lines at the exporter's indentation).
fn go_collector(
    binary: &std::path::Path,
    otlp: u16,
    sink: u16,
    settings: &str,
    dir: &std::path::Path,
) -> Killed {
    let settings: String = settings.lines().map(|l| format!("    {l}\n")).collect();
    let config = format!(
        "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:{otlp}\n\
         exporters:\n  prometheus_remote_write:\n    endpoint: http://127.0.0.1:{sink}/api/v1/write\n\
         \x20   tls: {{insecure: true}}\n{settings}\
         service:\n  telemetry:\n    metrics:\n      level: none\n\
         \x20 pipelines:\n    metrics:\n      receivers: [otlp]\n      exporters: [prometheus_remote_write]\n"
    );
    let path = dir.join("otelcol-go.yaml");
    std::fs::write(&path, config).unwrap();
    let log = std::fs::File::create(dir.join("otelcol-go.log")).unwrap();
    let child = Command::new(binary)
        .arg("--config")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Killed(child)
}

/// Every metadata entry of the received requests: `family type help unit`.
fn metadata_of(received: &Received) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, body) in received.lock().unwrap().iter() {
        let request = wire::decode(&wire::decompress(body, 64 << 20).unwrap()).unwrap();
        for m in request.metadata {
            out.insert(format!(
                "{} {:?} {:?} {:?}",
                m.family, m.kind, m.help, m.unit
            ));
        }
    }
    out
}

fn assert_same(what: &str, go: &BTreeSet<String>, ours: &BTreeSet<String>) {
    let only_go: Vec<&str> = go.difference(ours).map(String::as_str).collect();
    let only_ours: Vec<&str> = ours.difference(go).map(String::as_str).collect();
    assert!(
        only_go.is_empty() && only_ours.is_empty(),
        "{what} differ\nonly in Go's:\n  {}\nonly in ours:\n  {}\nboth:\n  {}",
        only_go.join("\n  "),
        only_ours.join("\n  "),
        go.intersection(ours)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// The same request through the Go exporter and ours, both with `settings`: the same series
/// (and, with `send_metadata`, the same metadata).
async fn differential(settings: &str) {
    let Some(go) = require(Peer::OtelcolGo) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (go_sink, go_received) = sink(0).await;
    let otlp = free_port();
    let _go = go_collector(&go, otlp, go_sink, settings, dir.path());
    wait_listening(otlp, "otelcol-go", &dir.path().join("otelcol-go.log")).await;

    let t = now_nanos() - 5_000_000_000;
    let req = request(t);
    let client = otlp_transport::client::OtlpExporter::builder()
        .protocol(otlp_transport::client::Protocol::HttpProtobuf)
        .endpoint(format!("http://127.0.0.1:{otlp}"))
        .build()
        .unwrap();
    client.export(&req).await.unwrap();
    wait_for(&go_received, 1, "otelcol-go").await;

    let (our_sink, our_received) = sink(0).await;
    let ours = exporter(&format!(
        "endpoint: http://127.0.0.1:{our_sink}/api/v1/write\n{settings}"
    ))
    .await;
    ours.consume(Telemetry::new(req)).await.unwrap();
    wait_for(&our_received, 1, "ours").await;
    // Either side may split a request (metadata goes in requests of its own).
    tokio::time::sleep(Duration::from_millis(700)).await;

    let go_series = series_of(&go_received);
    assert_same("series", &go_series, &series_of(&our_received));
    assert!(go_series.len() >= 12, "{go_series:#?}");
    assert_same(
        "metadata",
        &metadata_of(&go_received),
        &metadata_of(&our_received),
    );
    ours.shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_series_as_the_go_collectors_exporter() {
    differential("namespace: app\nexternal_labels: {cluster: eu}\nsend_metadata: true\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_series_and_metadata_with_resource_labels_and_no_suffixes() {
    differential(
        "resource_to_telemetry_conversion: {enabled: true}\nadd_metric_suffixes: false\n\
         send_metadata: true\ntarget_info: {enabled: false}\n",
    )
    .await;
}

async fn wait_listening(port: u16, what: &str, log: &std::path::Path) {
    let until = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < until,
            "{what} does not listen on {port}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_retries_a_503_and_delivers() {
    let (port, received) = sink(2).await;
    let ours = exporter(&format!(
        "endpoint: http://127.0.0.1:{port}/api/v1/write\n\
         retry_on_failure: {{initial_interval: 50ms, max_interval: 100ms}}\n"
    ))
    .await;
    ours.consume(Telemetry::new(request(now_nanos())))
        .await
        .unwrap();
    wait_for(&received, 1, "after two 503s").await;
    assert!(
        series_of(&received)
            .iter()
            .any(|s| s.contains("__name__=http_sent_bytes_total"))
    );
    ours.shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

/// An HTTP/1.0 GET of `path`: the body.
async fn get(port: u16, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// The value PromQL gives for `query`, once there is one.
async fn query(port: u16, q: &str) -> Option<f64> {
    let body = get(port, &format!("/api/v1/query?query={}", percent_encode(q))).await;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let result = json["data"]["result"].as_array()?;
    let first = result.first()?;
    first["value"][1].as_str()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_stores_what_was_sent() {
    let Some(prometheus) = require(Peer::Prometheus) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
    let log = dir.path().join("prometheus.log");
    let _prometheus = Killed(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_listening(port, "prometheus", &log).await;
    let until = Instant::now() + Duration::from_secs(30);
    while !get(port, "/-/ready").await.contains("Ready") {
        assert!(Instant::now() < until, "prometheus is not ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let ours = exporter(&format!(
        "endpoint: http://127.0.0.1:{port}/api/v1/write\nnamespace: app\n\
         external_labels: {{cluster: eu}}\n"
    ))
    .await;
    let t = now_nanos() - 2_000_000_000;
    ours.consume(Telemetry::new(request(t))).await.unwrap();

    let expect = [
        (
            r#"app_http_sent_bytes_total{route="/buy",http_method="GET",job="prod/shop",instance="node-1",cluster="eu"}"#,
            1234.0,
        ),
        (r#"app_queue_depth{queue="a"}"#, 7.5),
        (r#"app_rpc_duration_milliseconds_bucket{le="100"}"#, 5.0),
        (r#"app_rpc_duration_milliseconds_bucket{le="+Inf"}"#, 6.0),
        (r#"app_rpc_duration_milliseconds_sum"#, 250.0),
        (r#"app_gc_pause_seconds{quantile="0.99"}"#, 0.3),
        (
            r#"app_target_info{deployment_environment="test",job="prod/shop",instance="node-1"}"#,
            1.0,
        ),
    ];
    for (q, want) in expect {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(got) = query(port, q).await {
                assert_eq!(got, want, "{q}");
                break;
            }
            assert!(
                Instant::now() < until,
                "PromQL {q} returned nothing:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(
        query(port, "app_jobs_done_total").await,
        None,
        "delta sums are dropped"
    );

    // Without the queue, a sample older than what Prometheus holds is refused (400): a
    // permanent failure back to the caller.
    let direct = exporter(&format!(
        "endpoint: http://127.0.0.1:{port}/api/v1/write\nnamespace: app\n\
         external_labels: {{cluster: eu}}\nremote_write_queue: {{enabled: false}}\n"
    ))
    .await;
    let error = direct
        .consume(Telemetry::new(request(t - 60_000_000_000)))
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert!(error.to_string().contains("400"), "{error}");
    ours.shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}
