//! The `prometheus` exporter scraped by a real Prometheus (2.42, installed by
//! `cargo xtask peers`): the values sent as OTLP come back from PromQL, through the text
//! format and through OpenMetrics.
//!
//! Prometheus comes from `OTLP_PEER_PROMETHEUS` or `target/peers/peers.env`; without it the
//! test is skipped, or fails under `OTLP_REQUIRE_PEERS=1` (as `cargo xtask test` runs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp_exporters::prometheus::{PrometheusConfig, PrometheusExporter};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host};
use otlp_pipeline::config::parse_config;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::testing::id;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn point(value: f64, start: u64, time: u64) -> NumberDataPoint {
    NumberDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        attributes: vec![kv("route", "/buy")],
        ..Default::default()
    }
}

fn sum(name: &str, unit: &str, temporality: AggregationTemporality, p: NumberDataPoint) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: format!("{name} in total"),
        data: Some(Data::Sum(Sum {
            data_points: vec![p],
            aggregation_temporality: temporality as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "shop"),
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

/// The first request: a cumulative counter in bytes, a gauge, a histogram and the first
/// part of a delta counter; the second: the rest of the delta counter.
fn requests() -> (ExportMetricsServiceRequest, ExportMetricsServiceRequest) {
    let t0 = now_nanos() - 2_000_000_000;
    let t1 = t0 + 1_000_000_000;
    let t2 = t1 + 1_000_000_000;
    let histogram = Metric {
        name: "rpc.duration".into(),
        unit: "ms".into(),
        description: "RPC latency".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: t0,
                time_unix_nano: t1,
                count: 6,
                sum: Some(250.0),
                bucket_counts: vec![2, 3, 1],
                explicit_bounds: vec![10.0, 100.0],
                attributes: vec![kv("route", "/buy")],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    };
    let gauge = Metric {
        name: "queue.depth".into(),
        description: "Items waiting".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![point(7.5, 0, t1)],
        })),
        ..Default::default()
    };
    let first = request(vec![
        sum(
            "http.sent",
            "By",
            AggregationTemporality::Cumulative,
            point(1234.0, t0, t1),
        ),
        gauge,
        histogram,
        sum(
            "jobs.done",
            "",
            AggregationTemporality::Delta,
            point(3.0, t0, t1),
        ),
    ]);
    let second = request(vec![sum(
        "jobs.done",
        "",
        AggregationTemporality::Delta,
        point(4.0, t1, t2),
    )]);
    (first, second)
}

async fn start_exporter(yaml: &str) -> (PrometheusExporter, std::net::SocketAddr) {
    let config: PrometheusConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    let resources = otlp_pipeline::Resources::collector();
    let ctx = ExporterContext::new(id("prometheus"), Signal::Metrics).with_resources(resources);
    let exporter = PrometheusExporter::new(ctx, config).unwrap();
    exporter.start(&Host::empty()).await.unwrap();
    let addr = exporter.local_addr().await.unwrap();
    let (first, second) = requests();
    exporter.consume(Telemetry::new(first)).await.unwrap();
    exporter.consume(Telemetry::new(second)).await.unwrap();
    (exporter, addr)
}

/// An HTTP/1.0 GET: (status line, body).
async fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

/// The instant vector of a PromQL query: (labels, value) per series.
async fn query(port: u16, promql: &str) -> Vec<(serde_json::Value, f64)> {
    let path = format!("/api/v1/query?query={}", percent_encode(promql));
    let Some((status, body)) = get(port, &path).await else {
        return Vec::new();
    };
    if status.contains("503") {
        // Still starting.
        return Vec::new();
    }
    assert!(status.contains("200"), "{promql}: {status}: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let value = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            (r["metric"].clone(), value)
        })
        .collect()
}

/// Waits until `promql` has a result (Prometheus has scraped), then returns it.
async fn wait_for(
    port: u16,
    promql: &str,
    prometheus: &mut Killed,
) -> Vec<(serde_json::Value, f64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let result = query(port, promql).await;
        if !result.is_empty() {
            return result;
        }
        if let Ok(Some(status)) = prometheus.0.try_wait() {
            panic!("prometheus exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "no result for {promql} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn one(port: u16, promql: &str, prometheus: &mut Killed) -> (serde_json::Value, f64) {
    let result = wait_for(port, promql, prometheus).await;
    assert_eq!(result.len(), 1, "{promql}: {result:?}");
    result.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_what_was_sent() {
    let Some(binary) = require(Peer::Prometheus) else {
        return;
    };
    let (text_exporter, text_addr) = start_exporter("endpoint: 127.0.0.1:0").await;
    let (om_exporter, om_addr) =
        start_exporter("endpoint: 127.0.0.1:0\nenable_open_metrics: true").await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
             - job_name: rs_text\n    static_configs: [{{targets: ['{text_addr}']}}]\n  \
             - job_name: rs_om\n    static_configs: [{{targets: ['{om_addr}']}}]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut prometheus = Killed(child);

    for job in ["rs_text", "rs_om"] {
        // Scrape labels: job/instance of the target; the exporter's own become exported_*.
        let sel =
            format!(r#"job="{job}",exported_job="shop",exported_instance="node-1",route="/buy""#);
        let (labels, value) = one(
            port,
            &format!("http_sent_bytes_total{{{sel}}}"),
            &mut prometheus,
        )
        .await;
        assert_eq!(value, 1234.0, "{job}");
        assert_eq!(labels["otel_scope_name"], "shop.lib", "{job}: {labels}");
        assert_eq!(labels["otel_scope_version"], "2.0", "{job}: {labels}");
        let (_, value) = one(port, &format!("queue_depth{{{sel}}}"), &mut prometheus).await;
        assert_eq!(value, 7.5, "{job}");
        let (_, value) = one(port, &format!("jobs_done_total{{{sel}}}"), &mut prometheus).await;
        assert_eq!(value, 7.0, "{job}: the two deltas, 3 + 4");
        // OpenMetrics writes bounds as floats (`10.0`), and Prometheus 2.42 keeps `le` as
        // written.
        let bounds = if job == "rs_om" {
            [("10.0", 2.0), ("100.0", 5.0), ("+Inf", 6.0)]
        } else {
            [("10", 2.0), ("100", 5.0), ("+Inf", 6.0)]
        };
        for (le, expected) in bounds {
            let promql = format!(r#"rpc_duration_milliseconds_bucket{{{sel},le="{le}"}}"#);
            let (_, value) = one(port, &promql, &mut prometheus).await;
            assert_eq!(value, expected, "{job} le={le}");
        }
        let (_, value) = one(
            port,
            &format!("rpc_duration_milliseconds_sum{{{sel}}}"),
            &mut prometheus,
        )
        .await;
        assert_eq!(value, 250.0, "{job}");
        let (_, value) = one(
            port,
            &format!("rpc_duration_milliseconds_count{{{sel}}}"),
            &mut prometheus,
        )
        .await;
        assert_eq!(value, 6.0, "{job}");
        let info = format!(
            r#"target_info{{job="{job}",exported_job="shop",exported_instance="node-1",deployment_environment="test"}}"#
        );
        let (labels, value) = one(port, &info, &mut prometheus).await;
        assert_eq!(value, 1.0, "{job}");
        assert!(labels.get("service_name").is_none(), "{job}: {labels}");
        // Prometheus read the metadata too (the TYPE of each family).
        let path = format!(
            "/api/v1/targets/metadata?match_target={}",
            percent_encode(&format!("{{job=\"{job}\"}}"))
        );
        let (_, body) = get(port, &path).await.unwrap();
        assert!(
            body.contains(r#""metric":"rpc_duration_milliseconds","type":"histogram""#),
            "{job}: {body}"
        );
    }
    // The OpenMetrics target was scraped as OpenMetrics: its counters' metadata lose `_total`.
    let path = format!(
        "/api/v1/targets/metadata?match_target={}",
        percent_encode("{job=\"rs_om\"}")
    );
    let (_, body) = get(port, &path).await.unwrap();
    assert!(
        body.contains(r#""metric":"http_sent_bytes","type":"counter""#),
        "{body}"
    );
    let path = format!(
        "/api/v1/targets/metadata?match_target={}",
        percent_encode("{job=\"rs_text\"}")
    );
    let (_, body) = get(port, &path).await.unwrap();
    assert!(
        body.contains(r#""metric":"http_sent_bytes_total","type":"counter""#),
        "{body}"
    );

    drop(prometheus);
    text_exporter
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
    om_exporter
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}
