//! Service-level behaviour of the built-ins: the memory limiter refusing before decoding,
//! health_check codes, and the self-telemetry endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;

use std::time::Duration;

use components_support::{Collector, Sink, client, eventually, http_get, id, metrics, traces};
use otlp_pipeline::ServiceStatus;
use otlp_pipeline::telemetry::MetricsServer;
use otlp_pipeline::{PipelineId, Signal, Telemetry};
use otlp_transport::client::{Protocol, ResponseStatus};
use otlp_transport::grpc_wire::GrpcCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limiter_refuses_under_a_low_limit_before_decoding() {
    let sink = Sink::start(true).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 1
exporters:
  otlp:
    endpoint: {}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp]
"#,
        sink.grpc
    );
    let collector = Collector::start(&yaml).await;
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let http = client(Protocol::HttpProtobuf, collector.addr("otlp", "http"));

    let error = grpc
        .export(&traces(3, "refused"))
        .await
        .expect_err("over the limit");
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::Unavailable)),
        "{error}"
    );
    assert!(error.to_string().contains("memory"), "{error}");
    let error = http
        .export(&traces(3, "refused"))
        .await
        .expect_err("over the limit");
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Http(http::StatusCode::SERVICE_UNAVAILABLE)),
        "{error}"
    );
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(1)),
        "Retry-After is the check interval"
    );

    // Refused by the admission hook: nothing was decoded, so no items were counted.
    let metrics = collector.metrics();
    assert_eq!(
        metrics.sum(
            "otelcol_receiver_refused_requests_total",
            &[("receiver", "otlp")]
        ),
        2.0
    );
    assert_eq!(
        metrics.sum("otelcol_receiver_accepted_spans_total", &[]),
        0.0
    );
    assert_eq!(
        metrics.sum("otelcol_receiver_refused_spans_total", &[]),
        0.0
    );

    // Data reaching the processor some other way is refused there, retryably, and counted.
    let pipeline = collector
        .pipelines
        .pipeline(&"traces".parse::<PipelineId>().unwrap())
        .unwrap();
    let error = pipeline
        .consume(Telemetry::new(traces(2, "direct")))
        .await
        .expect_err("refused");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(error.component(), Some(&id("memory_limiter")));
    assert_eq!(
        metrics.value(
            "otelcol_processor_refused_spans_total",
            &[("processor", "memory_limiter")]
        ),
        Some(2.0)
    );
    assert_eq!(sink.count(Signal::Traces), 0);
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_codes() {
    let yaml = r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
extensions:
  health_check:
    endpoint: 127.0.0.1:0
    path: /health/status
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [debug]
"#;
    let collector = Collector::start(yaml).await;
    let addr = collector.addr("health_check", "http");
    let (status, body) = http_get(addr, "/health/status").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(r#"{"status":"Server available","upSince":""#),
        "{body}"
    );
    let (status, _) = http_get(addr, "/other").await;
    assert_eq!(status, 404);

    let service = ServiceStatus::from_resources(&collector.resources);
    service.set_ready(Some(false));
    let (status, body) = http_get(addr, "/health/status").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Server not available"), "{body}");
    service.set_ready(None);
    assert_eq!(http_get(addr, "/health/status").await.0, 200);

    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    assert!(!service.is_ready(), "receivers stopped: not ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_telemetry_endpoint_serves_otelcol_names_and_counts() {
    let sink = Sink::start(true).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  batch:
    timeout: 5ms
  filter/drop-debug:
    error_mode: ignore
    metrics:
      datapoint:
        - 'attributes["i"] == 0'
exporters:
  otlp:
    endpoint: {}
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      address: 127.0.0.1:0
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [filter/drop-debug, batch]
      exporters: [otlp]
"#,
        sink.grpc
    );
    let collector = Collector::start(&yaml).await;
    let registry = collector.metrics();
    // service.telemetry.metrics.address: 127.0.0.1:0
    let server = MetricsServer::from_config(&collector.telemetry, registry.clone())
        .await
        .unwrap()
        .unwrap();
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    grpc.export(&traces(3, "t")).await.unwrap();
    grpc.export(&metrics(4)).await.unwrap();
    assert_eq!(sink.wait_for(Signal::Traces, 3).await, 3);
    assert_eq!(sink.wait_for(Signal::Metrics, 3).await, 3);
    // The exporter counts after the destination answered: wait for both counts.
    assert!(
        eventually(|| registry.sum("otelcol_exporter_sent_metric_points_total", &[]) == 3.0).await
    );
    assert!(eventually(|| registry.sum("otelcol_exporter_sent_spans_total", &[]) == 3.0).await);

    let (status, text) = http_get(server.local_addr(), "/metrics").await;
    assert_eq!(status, 200);
    for expected in [
        "# TYPE otelcol_receiver_accepted_spans_total counter\n",
        "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 3\n",
        "otelcol_receiver_accepted_metric_points_total{receiver=\"otlp\",transport=\"grpc\"} 4\n",
        "otelcol_receiver_refused_spans_total{receiver=\"otlp\",transport=\"grpc\"} 0\n",
        "otelcol_exporter_sent_spans_total{exporter=\"otlp\"} 3\n",
        "otelcol_exporter_sent_metric_points_total{exporter=\"otlp\"} 3\n",
        "otelcol_exporter_send_failed_spans_total{exporter=\"otlp\"} 0\n",
        "otelcol_exporter_enqueue_failed_spans_total{exporter=\"otlp\"} 0\n",
        "# TYPE otelcol_exporter_queue_size gauge\n",
        "otelcol_exporter_queue_capacity{data_type=\"traces\",exporter=\"otlp\"} 8192000\n",
        "otelcol_processor_filter_datapoints_filtered_total{processor=\"filter/drop-debug\"} 1\n",
        "# TYPE otelcol_processor_batch_batch_send_size histogram\n",
        "otelcol_processor_batch_batch_send_size_count{processor=\"batch\"} 2\n",
        "otelcol_processor_batch_batch_send_size_sum{processor=\"batch\"} 6\n",
        "otelcol_processor_batch_timeout_trigger_send_total{processor=\"batch\"} 2\n",
        "# TYPE otelcol_process_memory_rss_bytes gauge\n",
        "# TYPE otelcol_process_cpu_seconds_total counter\n",
        "# TYPE otelcol_process_uptime_seconds_total counter\n",
        "# HELP otelcol_exporter_sent_spans_total Number of spans successfully sent to destination. [alpha]\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(http_get(server.local_addr(), "/").await.0, 404);
    server.shutdown().await;
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}
