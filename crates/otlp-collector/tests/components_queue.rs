//! The exporters' sending queue: a full queue refuses the sender retryably and delivers every
//! acknowledged item once the destination is back; the persistent queue survives a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;

use std::time::Duration;

use components_support::{Collector, Sink, client, eventually, logs, traces};
use otlp_pipeline::Signal;
use otlp_transport::client::{Protocol, ResponseStatus};
use otlp_transport::grpc_wire::GrpcCode;

fn queued_yaml(
    destination: &str,
    queue: &str,
    extensions: &str,
    service_extensions: &str,
) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
exporters:
  otlp:
    endpoint: {destination}
    tls:
      insecure: true
    timeout: 2s
    retry_on_failure:
      initial_interval: 5ms
      max_interval: 20ms
      max_elapsed_time: 0
    sending_queue:
{queue}
{extensions}
service:
  extensions: [{service_extensions}]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      exporters: [otlp]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_refuses_retryably_then_delivers_everything_acknowledged() {
    let sink = Sink::start(false).await;
    let queue = "      num_consumers: 2\n      queue_size: 10\n      sizer: items\n";
    let collector = Collector::start(&queued_yaml(&sink.grpc.to_string(), queue, "", "")).await;
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let http = client(Protocol::HttpProtobuf, collector.addr("otlp", "http"));

    // Ten spans fill the queue: acknowledged, although the destination refuses them.
    for i in 0..5 {
        grpc.export(&traces(2, &format!("batch{i}")))
            .await
            .expect("accepted into the queue");
    }
    // The next request does not fit: a retryable refusal, over both protocols.
    let error = grpc
        .export(&traces(1, "late-grpc"))
        .await
        .expect_err("the queue is full");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Grpc(GrpcCode::Unavailable)),
        "{error}"
    );
    let error = http
        .export(&traces(3, "late-http"))
        .await
        .expect_err("the queue is full");
    assert!(error.is_retryable(), "{error}");
    assert_eq!(
        error.status(),
        Some(ResponseStatus::Http(http::StatusCode::SERVICE_UNAVAILABLE)),
        "{error}"
    );
    assert!(error.retry_after().is_some(), "Retry-After is set: {error}");

    let metrics = collector.metrics();
    assert_eq!(
        metrics.value(
            "otelcol_exporter_enqueue_failed_spans_total",
            &[("exporter", "otlp")]
        ),
        Some(4.0)
    );
    assert_eq!(
        metrics.sum(
            "otelcol_receiver_refused_spans_total",
            &[("receiver", "otlp")]
        ),
        4.0
    );
    assert_eq!(
        metrics.sum(
            "otelcol_receiver_accepted_spans_total",
            &[("receiver", "otlp")]
        ),
        10.0
    );
    assert_eq!(
        metrics.value(
            "otelcol_exporter_queue_size",
            &[("exporter", "otlp"), ("data_type", "traces")]
        ),
        Some(10.0)
    );
    assert_eq!(
        metrics.value(
            "otelcol_exporter_queue_capacity",
            &[("exporter", "otlp"), ("data_type", "traces")]
        ),
        Some(10.0)
    );
    assert!(
        eventually(|| sink.state.refused.load(std::sync::atomic::Ordering::SeqCst) >= 2).await,
        "the exporter retried"
    );

    // The destination comes back: every acknowledged span is delivered, nothing else.
    sink.set_up(true);
    assert_eq!(sink.wait_for(Signal::Traces, 10).await, 10);
    let names = sink.state.span_names.lock().unwrap().clone();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("batch")), "{names:?}");
    assert!(
        eventually(|| metrics.value(
            "otelcol_exporter_queue_size",
            &[("exporter", "otlp"), ("data_type", "traces")]
        ) == Some(0.0))
        .await
    );
    assert!(
        eventually(
            || metrics.sum("otelcol_exporter_sent_spans_total", &[("exporter", "otlp")]) == 10.0
        )
        .await
    );
    assert_eq!(
        metrics.sum(
            "otelcol_exporter_send_failed_spans_total",
            &[("exporter", "otlp")]
        ),
        0.0
    );

    // And the queue takes data again.
    grpc.export(&traces(1, "after")).await.expect("room again");
    assert_eq!(sink.wait_for(Signal::Traces, 11).await, 11);
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_queue_survives_a_restart_with_the_destination_down() {
    let directory = tempfile::tempdir().unwrap();
    // The first run sends to a destination that never accepts, the second to one that does.
    // Two destinations rather than one switched on: an export abandoned at the first run's
    // shutdown deadline may still be in the destination's hands, and accepting it there
    // would be a (permitted, at-least-once) duplicate of what the second run redelivers.
    let down = Sink::start(false).await;
    let sink = Sink::start(true).await;
    let queue = "      storage: file_storage/queue\n";
    let extensions = format!(
        "extensions:\n  file_storage/queue:\n    directory: {}\n    create_directory: true\n",
        directory.path().join("storage").display()
    );
    let yaml = |destination: &Sink| {
        queued_yaml(
            &destination.grpc.to_string(),
            queue,
            &extensions,
            "file_storage/queue",
        )
    };

    // First run: the destination is down; every acknowledged item is on disk.
    let first = Collector::start(&yaml(&down)).await;
    let grpc = client(Protocol::Grpc, first.addr("otlp", "grpc"));
    let http = client(Protocol::HttpJson, first.addr("otlp", "http"));
    for i in 0..4 {
        grpc.export(&traces(3, &format!("before{i}")))
            .await
            .expect("persisted");
    }
    http.export(&logs(5)).await.expect("persisted");
    assert!(eventually(|| down.state.refused.load(std::sync::atomic::Ordering::SeqCst) >= 1).await);
    // Shut down with the destination still down: the deadline passes, the items stay on disk.
    first
        .shutdown(Duration::from_millis(300))
        .await
        .expect("persisted items are not an error");
    assert_eq!(down.count(Signal::Traces), 0);
    assert!(
        directory
            .path()
            .join("storage/exporter_otlp_traces")
            .is_dir()
    );
    assert!(directory.path().join("storage/exporter_otlp_logs").is_dir());

    // Second run, the destination up: what was acknowledged before is delivered.
    let second = Collector::start(&yaml(&sink)).await;
    assert_eq!(sink.wait_for(Signal::Traces, 12).await, 12);
    assert_eq!(sink.wait_for(Signal::Logs, 5).await, 5);
    let names = sink.state.span_names.lock().unwrap().clone();
    let expected: std::collections::BTreeSet<String> = (0..4)
        .flat_map(|i| (0..3).map(move |j| format!("before{i}-{j}")))
        .collect();
    assert_eq!(names, expected);
    second.shutdown(Duration::from_secs(5)).await.unwrap();
    // Nothing is delivered twice: every record was acknowledged before the second shutdown.
    assert_eq!(sink.count(Signal::Traces), 12);
    assert_eq!(sink.count(Signal::Logs), 5);
    down.stop().await;
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_queue_waits_for_room() {
    let sink = Sink::start(false).await;
    let queue =
        "      queue_size: 4\n      sizer: items\n      blocking: true\n      num_consumers: 1\n";
    let collector = Collector::start(&queued_yaml(&sink.grpc.to_string(), queue, "", "")).await;
    let grpc = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    grpc.export(&traces(4, "first")).await.unwrap();
    // The next request waits for room; the destination comes back meanwhile.
    let waiting = tokio::spawn(async move { grpc.export(&traces(2, "second")).await });
    assert!(eventually(|| sink.state.refused.load(std::sync::atomic::Ordering::SeqCst) >= 1).await);
    sink.set_up(true);
    waiting
        .await
        .unwrap()
        .expect("accepted once there was room");
    assert_eq!(sink.wait_for(Signal::Traces, 6).await, 6);
    collector.shutdown(Duration::from_secs(5)).await.unwrap();
    sink.stop().await;
}
