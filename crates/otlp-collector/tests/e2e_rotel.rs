//! otlp-collector ↔ rotel (an OTLP collector written in Rust), both directions in one chain:
//!
//! ```text
//! client → otlp-collector A ──(otlp | otlphttp exporter)──→ rotel ──(rotel's OTLP exporter,
//!          grpc | http)──→ otlp-collector B (otlp receiver) → otlp exporter → sink
//! ```
//!
//! Hop 2 proves our exporters against rotel's receivers, hop 3 rotel's exporter against our
//! receiver; every span, data point and log record sent arrives at the sink with its id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_to_rotel_to_collector_over_grpc() {
    let rotel = require_peer!(Peer::Rotel);
    run(&rotel, "grpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_to_rotel_to_collector_over_http() {
    let rotel = require_peer!(Peer::Rotel);
    run(&rotel, "http").await;
}

fn collector_config(
    grpc: SocketAddr,
    http: SocketAddr,
    exporter_id: &str,
    exporter: &str,
) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    timeout: 100ms
exporters:
  {exporter_id}:
{exporter}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [{exporter_id}]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [{exporter_id}]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [{exporter_id}]
"#
    )
}

async fn run(rotel: &Path, protocol: &str) {
    let _timer = Timer::start(if protocol == "grpc" {
        "rotel_grpc"
    } else {
        "rotel_http"
    });
    let sink = RunningSink::start().await;

    // Collector B: receives from rotel, exports to the sink.
    let (b_grpc, b_http) = (free_addr(), free_addr());
    let dir = temp_dir(&format!("rotel-{protocol}-configs"));
    let b_exporter = format!(
        "    endpoint: {}\n    tls:\n      insecure: true",
        sink.grpc
    );
    let b_path = write(
        dir.path(),
        "b.yaml",
        &collector_config(b_grpc, b_http, "otlp", &b_exporter),
    );
    let mut b = start_collector(&format!("collector-b-{protocol}"), &b_path, &[]).await;

    // rotel: receives from A, exports to B with the protocol under test.
    let (r_grpc, r_http) = (free_addr(), free_addr());
    let next_hop = if protocol == "grpc" { b_grpc } else { b_http };
    let rotel_dir = temp_dir(&format!("rotel-{protocol}"));
    let mut command = Command::new(rotel);
    command
        .arg("start")
        .args(["--otlp-grpc-endpoint", &r_grpc.to_string()])
        .args(["--otlp-http-endpoint", &r_http.to_string()])
        .args(["--exporter", "otlp"])
        .args(["--otlp-exporter-endpoint", &format!("http://{next_hop}")])
        .args(["--otlp-exporter-protocol", protocol])
        .arg("--disable-batching")
        .arg("--pid-file")
        .arg(rotel_dir.path().join("rotel.pid"))
        .arg("--log-file")
        .arg(rotel_dir.path().join("rotel.log"))
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut rotel = Proc::spawn(&format!("rotel-{protocol}"), command);
    rotel.wait_listening(r_grpc, Duration::from_secs(15)).await;
    rotel.wait_listening(r_http, Duration::from_secs(15)).await;

    // Collector A: receives from the client, exports to rotel with the protocol under test.
    let (a_grpc, a_http) = (free_addr(), free_addr());
    let (a_id, a_exporter) = if protocol == "grpc" {
        (
            "otlp",
            format!("    endpoint: {r_grpc}\n    tls:\n      insecure: true"),
        )
    } else {
        ("otlphttp", format!("    endpoint: http://{r_http}"))
    };
    let a_path = write(
        dir.path(),
        "a.yaml",
        &collector_config(a_grpc, a_http, a_id, &a_exporter),
    );
    let mut a = start_collector(&format!("collector-a-{protocol}"), &a_path, &[]).await;

    let client = client(Protocol::Grpc, a_grpc);
    let (mut spans, mut points, mut records) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for _ in 0..10 {
        let span_ids = ids(20);
        client
            .export(&traces(&span_ids, 32))
            .await
            .expect("traces accepted by collector A");
        spans.extend(span_ids);
        let point_ids = ids(10);
        client
            .export(&metrics(&point_ids))
            .await
            .expect("metrics accepted by collector A");
        points.extend(point_ids);
        let log_ids = ids(10);
        client
            .export(&logs(&log_ids))
            .await
            .expect("logs accepted by collector A");
        records.extend(log_ids);
    }

    let wait = sink.wait_for(
        "every item through rotel and collector B",
        Duration::from_secs(20),
        |r| {
            spans.iter().all(|id| r.spans.contains(id))
                && points.iter().all(|id| r.point_ids.contains(id))
                && records.iter().all(|id| r.log_ids.contains(id))
        },
    );
    if tokio::time::timeout(Duration::from_secs(21), wait)
        .await
        .is_err()
    {
        panic!(
            "not everything arrived\n{}\n{}\n{}",
            a.tail(),
            rotel.tail(),
            b.tail()
        );
    }
    rotel.assert_running();

    for (name, proc) in [("A", &mut a), ("B", &mut b)] {
        proc.terminate();
        let status = proc.wait_exit(Duration::from_secs(15)).await;
        assert_eq!(status.code(), Some(0), "collector {name}\n{}", proc.tail());
    }
    sink.with(|r| {
        assert_eq!(r.span_set(), spans, "exactly the spans sent");
        eprintln!(
            "[e2e] rotel {protocol}: {} spans, {} points, {} records through collector → rotel → collector",
            r.spans.len(),
            r.point_ids.len(),
            r.log_ids.len()
        );
    });
}
