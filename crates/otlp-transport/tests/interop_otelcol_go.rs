//! Interop, both directions at once: OUR exporter → the Go OpenTelemetry Collector
//! (`otelcol-go` v0.165.0, core components: otlp receiver → batch → otlp_grpc or otlp_http
//! exporter, built by `cargo xtask peers`) → OUR receiver.
//!
//! The first hop tests our exporter's gzip bodies and gRPC frames against grpc-go and Go's
//! net/http OTLP receivers, both for a decoded request (`export`) and for bytes already encoded
//! (`export_encoded`, what the collector's queues send: the frame is written around the
//! compressed bytes in place); the second tests the Go exporters' gzip against our receiver.
//! Every case sends the interop corpus (500 spans in 5 requests, 7 metrics of every type with
//! 4 data points each, 100 log records in 4 requests) and checks that each item arrives once,
//! whole, under its resource and scope, and that the second hop used the protocol and encoding
//! the Go collector was configured with.
#![cfg(all(
    feature = "client",
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "gzip"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use interop_support::checks::{check_logs, check_metrics, check_spans};
use interop_support::corpus;
use interop_support::{ChildGuard, Peer, Timer, free_port, start_receiver};
use otlp_transport::client::{ExportOutcome, OtlpExporter, Protocol, RetryConfig};
use otlp_transport::server::{ContentType, Transport};
use otlp_transport::{Compression, ExportRequest, Signal};

const TRACE_REQUESTS: u64 = 5;
const SPANS_PER_REQUEST: u64 = 100;
const LOG_REQUESTS: u64 = 4;
const LOGS_PER_REQUEST: u64 = 25;
const POINTS_PER_METRIC: u64 = 4;

/// How our exporter hands the requests over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handover {
    /// `OtlpExporter::export` of the decoded request.
    Decoded,
    /// `OtlpExporter::export_encoded` of its protobuf bytes.
    Encoded,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_go_grpc_gzip_encoded_both_hops() {
    let otelcol = require_peer!(Peer::OtelcolGo);
    run(
        "otelcol-go grpc encoded, grpc",
        &otelcol,
        Protocol::Grpc,
        Handover::Encoded,
        Transport::Grpc,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_go_grpc_gzip_decoded_then_http() {
    let otelcol = require_peer!(Peer::OtelcolGo);
    run(
        "otelcol-go grpc decoded, http",
        &otelcol,
        Protocol::Grpc,
        Handover::Decoded,
        Transport::Http,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_go_http_gzip_encoded_both_hops() {
    let otelcol = require_peer!(Peer::OtelcolGo);
    run(
        "otelcol-go http encoded, http",
        &otelcol,
        Protocol::HttpProtobuf,
        Handover::Encoded,
        Transport::Http,
    )
    .await;
}

/// The Go collector's config: OTLP in on both protocols, a short batch, gzip out over `hop`.
fn config(grpc: SocketAddr, http: SocketAddr, hop: Transport, next_hop: SocketAddr) -> String {
    let (exporter, endpoint) = match hop {
        Transport::Grpc => ("otlp_grpc", next_hop.to_string()),
        Transport::Http => ("otlp_http", format!("http://{next_hop}")),
    };
    let mut text = format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    timeout: 50ms
exporters:
  {exporter}:
    endpoint: {endpoint}
    tls:
      insecure: true
    compression: gzip
service:
  telemetry:
    metrics:
      level: none
  pipelines:
"
    );
    for signal in ["traces", "metrics", "logs"] {
        text.push_str(&format!(
            "    {signal}:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [{exporter}]\n"
        ));
    }
    text
}

async fn export<R: ExportRequest>(
    exporter: &OtlpExporter,
    handover: Handover,
    signal: Signal,
    request: &R,
) -> ExportOutcome {
    let outcome = match handover {
        Handover::Decoded => exporter.export(request).await,
        Handover::Encoded => {
            exporter
                .export_encoded(signal, request.encode_to_vec().into())
                .await
        }
    };
    outcome.unwrap_or_else(|e| panic!("exporting {signal} to otelcol-go: {e}"))
}

async fn run(
    name: &'static str,
    otelcol: &Path,
    ours: Protocol,
    handover: Handover,
    hop: Transport,
) {
    let _timer = Timer::start(name);
    let (recorder, receiver) = start_receiver().await;
    let next_hop = match hop {
        Transport::Grpc => receiver.grpc_local_addr(),
        Transport::Http => receiver.http_local_addr(),
    }
    .unwrap();
    let grpc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let http: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let dir = interop_support::temp_dir("otelcol-go");
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, config(grpc, http, hop, next_hop)).unwrap();
    let mut command = Command::new(otelcol);
    command
        .arg("--config")
        .arg(&config_path)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut child = ChildGuard::spawn_in("otelcol-go", &mut command, dir);
    child.wait_listening(grpc, Duration::from_secs(20)).await;
    child.wait_listening(http, Duration::from_secs(20)).await;

    let target = if ours == Protocol::Grpc { grpc } else { http };
    let exporter = OtlpExporter::builder()
        .protocol(ours)
        .endpoint(format!("http://{target}"))
        .compression(Compression::Gzip)
        .timeout(Duration::from_secs(5))
        .retry(RetryConfig::disabled())
        .build()
        .expect("building our exporter");

    let traces = corpus::traces(0, TRACE_REQUESTS, SPANS_PER_REQUEST);
    let metrics = corpus::metrics(POINTS_PER_METRIC);
    let logs = corpus::logs(0, LOG_REQUESTS, LOGS_PER_REQUEST);
    for request in &traces {
        let outcome = export(&exporter, handover, Signal::Traces, request).await;
        assert_eq!(outcome.partial_success, None, "otelcol-go rejected spans");
    }
    let outcome = export(&exporter, handover, Signal::Metrics, &metrics).await;
    assert_eq!(outcome.partial_success, None);
    for request in &logs {
        let outcome = export(&exporter, handover, Signal::Logs, request).await;
        assert_eq!(outcome.partial_success, None);
    }

    let spans = (TRACE_REQUESTS * SPANS_PER_REQUEST) as usize;
    let records = (LOG_REQUESTS * LOGS_PER_REQUEST) as usize;
    let points = metrics.item_count();
    let what = format!("{spans} spans, {points} data points and {records} log records via Go");
    let waited = recorder
        .wait_until(&what, Duration::from_secs(20), |r| {
            r.span_count() >= spans && r.log_count() >= records && r.data_point_count() >= points
        })
        .await;
    if let Err(message) = waited {
        panic!("{message}\n{}", child.output_tail());
    }
    child.assert_running();

    recorder.with(|recorded| {
        let content_type = match hop {
            Transport::Grpc => ContentType::Grpc,
            Transport::Http => ContentType::Protobuf,
        };
        for context in recorded.contexts() {
            assert_eq!(context.transport, hop, "{}: Go's exporter", context.signal);
            assert_eq!(context.content_type, content_type, "{}", context.signal);
            assert_eq!(
                context.compression,
                Compression::Gzip,
                "{}: Go's exporter was told to gzip",
                context.signal
            );
        }
        check_spans(recorded, &traces);
        check_metrics(recorded, &metrics);
        check_logs(recorded, &logs);
        eprintln!(
            "[interop] {name}: {} spans in {} requests, {} data points, {} log records in {} requests arrived intact",
            recorded.span_count(),
            recorded.traces.len(),
            recorded.data_point_count(),
            recorded.log_count(),
            recorded.logs.len()
        );
    });
    receiver.shutdown(Duration::from_secs(5)).await;
}
