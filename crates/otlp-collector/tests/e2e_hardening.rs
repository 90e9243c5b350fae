//! Bad input a careless or hostile client sends, against the built binary: the collector
//! refuses it with the right status and a message naming what is wrong, and keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use otlp_transport::client::{ExportError, Protocol, ResponseStatus};
use otlp_transport::grpc_wire::GrpcCode;
use support::*;

fn config(
    grpc: std::net::SocketAddr,
    http: std::net::SocketAddr,
    sink: std::net::SocketAddr,
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
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
"#
    )
}

/// Trace ids of 15 or 17 bytes and span ids of 7 or 9 are refused (400 / INVALID_ARGUMENT,
/// the field named), over both protocols; nothing reaches the destination; a valid request
/// right after is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_of_the_wrong_length_are_refused() {
    let _timer = Timer::start("ids_of_the_wrong_length_are_refused");
    let sink = RunningSink::start().await;
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("hardening-ids");
    let path = write(dir.path(), "c.yaml", &config(grpc, http, sink.grpc));
    let mut collector = start_collector("hardening-ids", &path, &[]).await;

    let cases = [
        (15, 8, "trace_id: 15 bytes"),
        (17, 8, "trace_id: 17 bytes"),
        (16, 7, "span_id: 7 bytes"),
        (16, 9, "span_id: 9 bytes"),
    ];
    for (protocol, addr) in [(Protocol::Grpc, grpc), (Protocol::HttpProtobuf, http)] {
        for (trace_len, span_len, field) in cases {
            let mut request = traces(&ids(2), 0);
            let span = &mut request.resource_spans[0].scope_spans[0].spans[1];
            span.trace_id.resize(trace_len, 7);
            span.span_id.resize(span_len, 7);
            let error = client(protocol, addr).export(&request).await.unwrap_err();
            let ExportError::Rejected { status, message } = &error else {
                panic!("{protocol:?} {field}: not a permanent refusal: {error}");
            };
            match protocol {
                Protocol::Grpc => {
                    assert_eq!(*status, ResponseStatus::Grpc(GrpcCode::InvalidArgument))
                }
                _ => assert_eq!(*status, ResponseStatus::Http(http::StatusCode::BAD_REQUEST)),
            }
            assert!(
                message.contains(&format!("spans[1].{field}")),
                "{protocol:?}: {message}"
            );
        }
    }

    let good = ids(3);
    client(Protocol::Grpc, grpc)
        .export(&traces(&good, 0))
        .await
        .expect("valid ids accepted");
    sink.wait_for("the valid spans", Duration::from_secs(10), |r| {
        r.spans.len() >= 3
    })
    .await;
    sink.with(|r| {
        assert_eq!(
            r.spans.len(),
            3,
            "only the valid request arrived: {}",
            r.summary()
        )
    });
    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
}
