//! Connectors and the processing people configure, with the real receiver and exporters, end
//! to end in one process: the `otlp` receiver → a pipeline exporting to `routing`, `count` and
//! `forward` → the pipelines they feed → `otlp` exporters → OTLP destinations; `transform` and
//! `tail_sampling` in front of an exporter and `spanmetrics`; and a refusal behind a connector
//! reaching the sender.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;

use std::time::Duration;

use components_support::{Collector, Sink, client, logs};
use otlp_model::builders::{SpanBuilder, TracesBuilder};
use otlp_model::resource;
use otlp_pipeline::Signal;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_transport::client::Protocol;

fn two_services(cart: usize, search: usize) -> ExportTraceServiceRequest {
    let mut request = TracesBuilder::new()
        .resource(resource!["service.name" => "cart"])
        .spans((0..cart).map(|i| SpanBuilder::new(format!("cart-{i}"))))
        .build();
    let other = TracesBuilder::new()
        .resource(resource!["service.name" => "search"])
        .spans((0..search).map(|i| SpanBuilder::new(format!("search-{i}"))))
        .build();
    request.resource_spans.extend(other.resource_spans);
    request
}

fn exporter(name: &str, sink: &Sink) -> String {
    format!(
        "  otlp/{name}:\n    endpoint: http://{}\n    tls: {{insecure: true}}\n    retry_on_failure: {{enabled: false}}\n    sending_queue: {{enabled: false}}\n",
        sink.grpc
    )
}

#[tokio::test]
async fn routing_count_and_forward_between_real_components() {
    let cart = Sink::start(true).await;
    let other = Sink::start(true).await;
    let counts = Sink::start(true).await;
    let logs_sink = Sink::start(true).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
connectors:
  routing:
    default_pipelines: [traces/other]
    table:
      - condition: attributes["service.name"] == "cart"
        pipelines: [traces/cart]
  count:
    spans:
      spans.by.service:
        attributes: [{{key: service.name}}]
  forward:
exporters:
{}{}{}{}
service:
  pipelines:
    traces/in: {{receivers: [otlp], exporters: [routing, count]}}
    traces/cart: {{receivers: [routing], exporters: [otlp/cart]}}
    traces/other: {{receivers: [routing], exporters: [otlp/other]}}
    metrics/counts: {{receivers: [count], exporters: [otlp/counts]}}
    logs/in: {{receivers: [otlp], exporters: [forward]}}
    logs/out: {{receivers: [forward], exporters: [otlp/logs]}}
"#,
        exporter("cart", &cart),
        exporter("other", &other),
        exporter("counts", &counts),
        exporter("logs", &logs_sink),
    );
    let collector = Collector::start(&yaml).await;
    let sender = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    sender.export(&two_services(3, 2)).await.expect("accepted");
    sender.export(&two_services(1, 0)).await.expect("accepted");
    sender.export(&logs(4)).await.expect("logs accepted");

    assert_eq!(cart.wait_for(Signal::Traces, 4).await, 4);
    assert_eq!(other.wait_for(Signal::Traces, 2).await, 2);
    // One point per service per request that had spans of it: cart, search, cart.
    assert_eq!(counts.wait_for(Signal::Metrics, 3).await, 3);
    assert_eq!(logs_sink.wait_for(Signal::Logs, 4).await, 4);
    let cart_names = cart.state.span_names.lock().unwrap().clone();
    assert!(
        cart_names.iter().all(|n| n.starts_with("cart-")),
        "{cart_names:?}"
    );
    let other_names = other.state.span_names.lock().unwrap().clone();
    assert!(
        other_names.iter().all(|n| n.starts_with("search-")),
        "{other_names:?}"
    );
    assert_eq!(cart.count(Signal::Traces), 4, "nothing twice");
    collector
        .shutdown(Duration::from_secs(5))
        .await
        .expect("stops");
    for sink in [cart, other, counts, logs_sink] {
        sink.stop().await;
    }
}

#[tokio::test]
async fn a_refusal_behind_a_connector_reaches_the_sender() {
    let down = Sink::start(false).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
connectors:
  forward:
exporters:
{}
service:
  pipelines:
    traces/in: {{receivers: [otlp], exporters: [forward]}}
    traces/out: {{receivers: [forward], exporters: [otlp/down]}}
"#,
        exporter("down", &down),
    );
    let collector = Collector::start(&yaml).await;
    let sender = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let error = sender
        .export(&two_services(2, 0))
        .await
        .expect_err("the destination is down");
    assert!(
        error.to_string().to_lowercase().contains("unavailable"),
        "a retryable refusal, as the destination said: {error}"
    );
    assert!(down.state.refused.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    collector
        .shutdown(Duration::from_secs(5))
        .await
        .expect("stops");
    down.stop().await;
}

#[tokio::test]
async fn transform_tail_sampling_and_spanmetrics_in_the_real_collector() {
    let sampled = Sink::start(true).await;
    let red = Sink::start(true).await;
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:0}}
processors:
  transform/tag:
    trace_statements:
      - set(span.name, Concat(["t", span.name], "-"))
  tail_sampling:
    decision_wait: 300ms
    policies:
      - {{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}
connectors:
  forward:
  span_metrics:
    metrics_flush_interval: 200ms
exporters:
{}{}
service:
  pipelines:
    traces/in: {{receivers: [otlp], processors: [transform/tag], exporters: [forward, span_metrics]}}
    traces/sampling: {{receivers: [forward], processors: [tail_sampling], exporters: [otlp/sampled]}}
    metrics/red: {{receivers: [span_metrics], exporters: [otlp/red]}}
"#,
        exporter("sampled", &sampled),
        exporter("red", &red),
    );
    let collector = Collector::start(&yaml).await;
    let sender = client(Protocol::Grpc, collector.addr("otlp", "grpc"));
    let trace = |id: u8, error: bool| {
        TracesBuilder::new()
            .resource(resource!["service.name" => "cart"])
            .spans((0..3u8).map(|i| {
                let span = SpanBuilder::new(format!("op{id}.{i}"))
                    .trace_id([id; 16])
                    .span_id([id * 10 + i + 1; 8])
                    .kind(SpanKind::Server)
                    .start(1_000_000_000u64)
                    .end(1_050_000_000u64);
                if error && i == 1 {
                    span.status_error("boom")
                } else {
                    span
                }
            }))
            .build()
    };
    sender.export(&trace(1, true)).await.expect("accepted");
    sender.export(&trace(2, false)).await.expect("accepted");
    assert_eq!(
        sampled.wait_for(Signal::Traces, 3).await,
        3,
        "the error trace, whole"
    );
    let names = sampled.state.span_names.lock().unwrap().clone();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["t-op1.0", "t-op1.1", "t-op1.2"],
        "transformed before sampling; the OK trace was not sampled"
    );
    // spanmetrics sees every span, sampled or not: six spans of six names make a calls point
    // and a duration point each, in one flush.
    assert!(
        red.wait_for(Signal::Metrics, 12).await >= 12,
        "RED metrics flushed"
    );
    collector
        .shutdown(Duration::from_secs(5))
        .await
        .expect("stops");
    assert_eq!(
        sampled.count(Signal::Traces),
        3,
        "nothing more after shutdown's decisions"
    );
    sampled.stop().await;
    red.stop().await;
}
