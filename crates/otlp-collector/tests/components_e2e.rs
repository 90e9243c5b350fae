//! End to end in one process: a sender → the `otlp` receiver → processors → the `otlp` /
//! `otlphttp` exporters → a second OTLP receiver (the destination), for every signal over
//! gRPC, HTTP/protobuf and HTTP/JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;

use std::time::Duration;

use components_support::{Collector, Sink, client, logs, metrics, traces};
use otlp_pipeline::Signal;
use otlp_transport::client::Protocol;

fn gateway_yaml(exporters: &str, pipeline_exporters: &str, processors: &str) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
processors:
  batch:
    timeout: 10ms
    send_batch_size: 1000
  memory_limiter:
    check_interval: 1s
    limit_percentage: 100
    spike_limit_percentage: 1
exporters:
{exporters}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{processors}]
      exporters: [{pipeline_exporters}]
    metrics:
      receivers: [otlp]
      processors: [{processors}]
      exporters: [{pipeline_exporters}]
    logs:
      receivers: [otlp]
      processors: [{processors}]
      exporters: [{pipeline_exporters}]
"#
    )
}

/// Sends 1+2+3 spans, 2+3+4 points and 3+4+5 records: gRPC, HTTP/protobuf, HTTP/JSON.
async fn send_all(collector: &Collector) {
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let http = client(Protocol::HttpProtobuf, collector.addr("otlp", "http"));
    let json = client(Protocol::HttpJson, collector.addr("otlp", "http"));
    for (i, c) in [&grpc, &http, &json].into_iter().enumerate() {
        c.export(&traces(i + 1, &format!("span{i}")))
            .await
            .expect("traces accepted");
        c.export(&metrics(i + 2)).await.expect("metrics accepted");
        c.export(&logs(i + 3)).await.expect("logs accepted");
    }
}

async fn expect_all(sink: &Sink) {
    assert_eq!(sink.wait_for(Signal::Traces, 6).await, 6);
    assert_eq!(sink.wait_for(Signal::Metrics, 9).await, 9);
    assert_eq!(sink.wait_for(Signal::Logs, 12).await, 12);
    let names = sink.state.span_names.lock().unwrap().clone();
    for expected in [
        "span0-0", "span1-0", "span1-1", "span2-0", "span2-1", "span2-2",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exporter_with_queue_and_batch() {
    let sink = Sink::start(true).await;
    let exporters = format!(
        "  otlp:\n    endpoint: {}\n    tls:\n      insecure: true\n    retry_on_failure:\n      initial_interval: 10ms\n      max_interval: 50ms\n",
        sink.grpc
    );
    let collector =
        Collector::start(&gateway_yaml(&exporters, "otlp", "memory_limiter, batch")).await;
    send_all(&collector).await;
    expect_all(&sink).await;
    let metrics = collector.metrics();
    assert_eq!(
        metrics.value(
            "otelcol_receiver_accepted_spans_total",
            &[("receiver", "otlp"), ("transport", "grpc")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metrics.value(
            "otelcol_receiver_accepted_spans_total",
            &[("receiver", "otlp"), ("transport", "http")]
        ),
        Some(5.0)
    );
    assert!(
        components_support::eventually(|| metrics.sum(
            "otelcol_exporter_sent_log_records_total",
            &[("exporter", "otlp")]
        ) == 12.0)
        .await
    );
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_exporter_without_queue() {
    let sink = Sink::start(true).await;
    let exporters = format!(
        "  otlphttp:\n    endpoint: http://{}\n    encoding: json\n    compression: none\n    sending_queue:\n      enabled: false\n",
        sink.http
    );
    // No processor: the received protobuf bytes travel unchanged to the exporter, which
    // re-encodes them as JSON (http/json) — and sends HTTP/protobuf ones as they are below.
    let collector = Collector::start(&gateway_yaml(&exporters, "otlphttp", "")).await;
    send_all(&collector).await;
    // Synchronous: everything arrived by the time the senders got their answers.
    assert_eq!(sink.count(Signal::Traces), 6);
    assert_eq!(sink.count(Signal::Metrics), 9);
    assert_eq!(sink.count(Signal::Logs), 12);
    expect_all(&sink).await;
    let metrics = collector.metrics();
    assert_eq!(
        metrics.value(
            "otelcol_exporter_sent_metric_points_total",
            &[("exporter", "otlphttp")]
        ),
        Some(9.0)
    );
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_exporter_zstd() {
    let sink = Sink::start(true).await;
    let exporters = format!(
        "  otlp_http/zstd:\n    endpoint: http://{}\n    compression: zstd\n    retry_on_failure:\n      initial_interval: 10ms\n",
        sink.http
    );
    let collector = Collector::start(&gateway_yaml(&exporters, "otlp_http/zstd", "batch")).await;
    send_all(&collector).await;
    expect_all(&sink).await;
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_delivers_everything_to_both_exporters() {
    let a = Sink::start(true).await;
    let b = Sink::start(true).await;
    let exporters = format!(
        "  otlp/a:\n    endpoint: {}\n    tls:\n      insecure: true\n  otlphttp/b:\n    endpoint: http://{}\n",
        a.grpc, b.http
    );
    let collector =
        Collector::start(&gateway_yaml(&exporters, "otlp/a, otlphttp/b", "batch")).await;
    send_all(&collector).await;
    expect_all(&a).await;
    expect_all(&b).await;
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrouted_signal_is_refused_before_decoding() {
    let sink = Sink::start(true).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  otlp:
    endpoint: {}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
"#,
        sink.grpc
    );
    let collector = Collector::start(&yaml).await;
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let error = grpc.export(&logs(2)).await.expect_err("no logs pipeline");
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(
        collector.metrics().value(
            "otelcol_receiver_refused_requests_total",
            &[("receiver", "otlp"), ("transport", "grpc")]
        ),
        Some(1.0)
    );
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}
