//! "Services → OTLP metrics → collector → Prometheus", the binary with a real Prometheus 2.42
//! (installed by `cargo xtask peers`, remote-write receiver on):
//!
//! - pipeline `metrics`: `otlp` in, out through both Prometheus exporters — `prometheus` (a
//!   scrape endpoint Prometheus scrapes as job `collector`) and `prometheusremotewrite`
//!   (pushed into Prometheus's `/api/v1/write` with `external_labels`);
//! - pipeline `metrics/scraped`: the `prometheus` receiver scraping Prometheus's own
//!   `/metrics`, out through `prometheusremotewrite` with another external label.
//!
//! PromQL then finds every OTLP point twice (scraped and pushed) and Prometheus's own
//! `prometheus_build_info` back through the collector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp_transport::client::{OtlpExporter, Protocol};
use support::*;

/// An HTTP/1.0 GET of `path`: the body.
fn get(addr: SocketAddr, path: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The first value of the PromQL `query`, if any.
fn query(prometheus: SocketAddr, q: &str) -> Option<f64> {
    let body = get(
        prometheus,
        &format!("/api/v1/query?query={}", percent_encode(q)),
    );
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    json["data"]["result"].as_array()?.first()?["value"][1]
        .as_str()?
        .parse()
        .ok()
}

/// Waits until `q` returns `want`; panics with the last answer and the collector's log.
fn expect(prometheus: SocketAddr, q: &str, want: f64, collector: &Proc) {
    let until = Instant::now() + Duration::from_secs(40);
    let mut last = None;
    while Instant::now() < until {
        last = query(prometheus, q);
        if last == Some(want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("PromQL {q}: {last:?}, not {want}\n{}", collector.tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_metrics_reach_prometheus_pushed_and_scraped() {
    let _timer = Timer::start("otlp_metrics_reach_prometheus_pushed_and_scraped");
    let binary = require_peer!(Peer::Prometheus);
    let dir = temp_dir("e2e-prometheus");
    let prometheus = free_addr();
    let exporter = free_addr();
    let otlp = free_addr();
    let prometheus_config = write(
        dir.path(),
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: collector\n    \
             static_configs:\n      - targets: ['{exporter}']\n"
        ),
    );
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let mut server = Command::new(binary);
    server
        .arg(format!("--config.file={}", prometheus_config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prometheus}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(log);
    let _prometheus = Proc::spawn("prometheus", server);
    let until = Instant::now() + Duration::from_secs(30);
    while !get(prometheus, "/-/ready").contains("Ready") {
        assert!(Instant::now() < until, "prometheus is not ready");
        std::thread::sleep(Duration::from_millis(200));
    }

    let config = write(
        dir.path(),
        "collector.yaml",
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: {otlp}
  prometheus:
    config:
      scrape_configs:
        - job_name: prometheus-self
          scrape_interval: 1s
          static_configs:
            - targets: ['{prometheus}']
exporters:
  prometheus:
    endpoint: {exporter}
  prometheusremotewrite:
    endpoint: http://{prometheus}/api/v1/write
    external_labels: {{via: collector-push}}
  prometheusremotewrite/scraped:
    endpoint: http://{prometheus}/api/v1/write
    external_labels: {{via: collector-scrape}}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus, prometheusremotewrite]
    metrics/scraped:
      receivers: [prometheus]
      exporters: [prometheusremotewrite/scraped]
"#
        ),
    );
    let mut collector = start_collector("collector", &config, &[]).await;

    let ids = ids(5);
    let client = OtlpExporter::builder()
        .protocol(Protocol::HttpProtobuf)
        .endpoint(format!("http://{otlp}"))
        .build()
        .unwrap();
    client.export(&metrics(&ids)).await.unwrap();

    // Pushed: one series per point (each has its own id attribute), with the external label.
    expect(
        prometheus,
        r#"count({__name__=~"e2e_gauge.*", via="collector-push"})"#,
        ids.len() as f64,
        &collector,
    );
    // Scraped from the exporter by Prometheus (job "collector"; the OTLP job is exported_job).
    expect(
        prometheus,
        r#"count({__name__=~"e2e_gauge.*", job="collector", exported_job="e2e"})"#,
        ids.len() as f64,
        &collector,
    );
    // A value survives both ways.
    let id = ids[2];
    for selector in [
        format!(r#"{{__name__=~"e2e_gauge.*", via="collector-push", e2e_item_id="{id}"}}"#),
        format!(r#"{{__name__=~"e2e_gauge.*", job="collector", e2e_item_id="{id}"}}"#),
    ] {
        expect(prometheus, &selector, id as f64, &collector);
    }
    // Prometheus's own metrics, scraped by the collector's receiver and pushed back.
    expect(
        prometheus,
        r#"count(prometheus_build_info{via="collector-scrape", job="prometheus-self"})"#,
        1.0,
        &collector,
    );
    expect(
        prometheus,
        r#"max(up{via="collector-scrape", job="prometheus-self"})"#,
        1.0,
        &collector,
    );

    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
}
