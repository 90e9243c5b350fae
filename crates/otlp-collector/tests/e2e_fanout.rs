//! Fan-out: one pipeline per signal with two exporters — `otlp` (gRPC) to one sink and
//! `otlphttp` to another — delivers every item to both, exactly once each; and what a sender
//! was told succeeded is what both destinations hold.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_delivers_everything_to_both_exporters() {
    let _timer = Timer::start("fan_out_delivers_everything_to_both_exporters");
    let a = RunningSink::start().await;
    let b = RunningSink::start().await;
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("fanout-config");
    let config = write(
        dir.path(),
        "fanout.yaml",
        &format!(
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
  otlp/a:
    endpoint: {a}
    tls:
      insecure: true
  otlphttp/b:
    endpoint: http://{b}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/a, otlphttp/b]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/a, otlphttp/b]
    logs:
      receivers: [otlp]
      exporters: [otlp/a, otlphttp/b]
"#,
            a = a.grpc,
            b = b.http,
        ),
    );
    let mut collector = start_collector("fanout", &config, &[]).await;

    const REQUESTS: usize = 20;
    const ITEMS: usize = 25;
    let (mut spans, mut points, mut records) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for i in 0..REQUESTS {
        let protocol = if i % 2 == 0 {
            Protocol::Grpc
        } else {
            Protocol::HttpProtobuf
        };
        let client = client(
            protocol,
            if protocol == Protocol::Grpc {
                grpc
            } else {
                http
            },
        );
        let span_ids = ids(ITEMS);
        client
            .export(&traces(&span_ids, 64))
            .await
            .expect("traces accepted");
        spans.extend(span_ids);
        let point_ids = ids(ITEMS);
        client
            .export(&metrics(&point_ids))
            .await
            .expect("metrics accepted");
        points.extend(point_ids);
        let log_ids = ids(ITEMS);
        client.export(&logs(&log_ids)).await.expect("logs accepted");
        records.extend(log_ids);
    }

    for (name, sink) in [("otlp/a", &a), ("otlphttp/b", &b)] {
        sink.wait_for(
            &format!("everything at {name}"),
            Duration::from_secs(15),
            |r| {
                r.spans.len() >= spans.len()
                    && r.point_ids.len() >= points.len()
                    && r.log_ids.len() >= records.len()
            },
        )
        .await;
    }
    // Let a duplicate, if any, arrive before counting exactly.
    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());

    for (name, sink, transport) in [("otlp/a", &a, "Grpc"), ("otlphttp/b", &b, "Http")] {
        sink.with(|r| {
            let got_spans: Vec<u64> = r.spans.clone();
            assert_eq!(
                got_spans.len(),
                spans.len(),
                "{name}: every span exactly once"
            );
            assert_eq!(r.span_set(), spans, "{name}: the spans sent");
            assert_eq!(
                r.point_ids.iter().copied().collect::<BTreeSet<_>>(),
                points,
                "{name}: the points sent"
            );
            assert_eq!(
                r.point_ids.len(),
                points.len(),
                "{name}: every point exactly once"
            );
            assert_eq!(
                r.log_ids.iter().copied().collect::<BTreeSet<_>>(),
                records,
                "{name}: the records sent"
            );
            assert_eq!(
                r.log_ids.len(),
                records.len(),
                "{name}: every record exactly once"
            );
            assert_eq!(
                r.transports.iter().map(String::as_str).collect::<Vec<_>>(),
                [transport],
                "{name}"
            );
        });
    }
    eprintln!(
        "[e2e] fan-out: {} spans, {} points, {} records delivered to both exporters",
        spans.len(),
        points.len(),
        records.len()
    );
}
