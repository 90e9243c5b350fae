//! The OTLP/HTTP exporter against a scripted receiver on 127.0.0.1: paths, headers,
//! bodies, compression, statuses, retry and timeouts.
#![cfg(all(
    feature = "client",
    feature = "http",
    feature = "json",
    feature = "tls"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use client_support::{
    ManualClock, Reply, TestServer, closed_port, sample_logs, sample_metrics, sample_profiles,
    sample_traces,
};
use otlp_proto::Message;
use otlp_proto::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse};
use otlp_proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_transport::client::{
    Compression, ExportError, ExporterBuilder, OtlpExporter, Protocol, ResponseStatus, RetryConfig,
    TransportErrorKind,
};
use otlp_transport::{PartialSuccess, Signal};

/// Retry with exact waits (no jitter): 1 s, 2 s, 4 s, ... up to 8 s, budget 60 s.
fn exact_retry() -> RetryConfig {
    RetryConfig::default()
        .with_initial_interval(Duration::from_secs(1))
        .with_multiplier(2.0)
        .with_max_interval(Duration::from_secs(8))
        .with_max_elapsed_time(Duration::from_secs(60))
        .with_randomization_factor(0.0)
}

fn builder(server: &TestServer) -> ExporterBuilder {
    OtlpExporter::builder()
        .protocol(Protocol::HttpProtobuf)
        .endpoint(server.url())
}

fn with_clock(builder: ExporterBuilder) -> (ExporterBuilder, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::new();
    (builder.retry(exact_retry()).clock(clock.clone()), clock)
}

#[tokio::test]
async fn every_signal_goes_to_its_path_under_the_base() {
    let server = TestServer::start().await;
    let exporter = builder(&server)
        .endpoint(format!("{}/otlp/", server.url()))
        .build()
        .unwrap();
    exporter.export(&sample_traces(1)).await.unwrap();
    exporter.export(&sample_metrics(1)).await.unwrap();
    exporter.export(&sample_logs(1)).await.unwrap();
    exporter.export(&sample_profiles()).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/otlp/v1/traces",
            "/otlp/v1/metrics",
            "/otlp/v1/logs",
            "/otlp/v1development/profiles"
        ]
    );
}

#[tokio::test]
async fn signal_endpoints_are_used_as_given_and_win_over_the_base() {
    let server = TestServer::start().await;
    let exporter = builder(&server)
        .signal_endpoint(Signal::Traces, format!("{}/custom/spans", server.url()))
        .signal_endpoint(Signal::Logs, server.url())
        .build()
        .unwrap();
    exporter.export(&sample_traces(1)).await.unwrap();
    exporter.export(&sample_logs(1)).await.unwrap();
    exporter.export(&sample_metrics(1)).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/custom/spans", "/", "/v1/metrics"]);
}

#[tokio::test]
async fn protobuf_request_has_the_headers_and_body() {
    let server = TestServer::start().await;
    let exporter = builder(&server)
        .header("x-tenant", "blue")
        .header("Authorization", "Bearer abc")
        .build()
        .unwrap();
    let request = sample_traces(3);
    let outcome = exporter.export(&request).await.unwrap();
    assert_eq!(outcome.partial_success, None);
    assert_eq!(outcome.attempts, 1);
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.method, http::Method::POST);
    assert_eq!(recorded.version, http::Version::HTTP_11);
    assert_eq!(
        recorded.header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(recorded.header("content-encoding"), None);
    assert_eq!(
        recorded.header("user-agent"),
        Some(concat!(
            "OTel-OTLP-Exporter-Rust-otlp-rs/",
            env!("CARGO_PKG_VERSION")
        ))
    );
    assert_eq!(recorded.header("x-tenant"), Some("blue"));
    assert_eq!(recorded.header("authorization"), Some("Bearer abc"));
    assert_eq!(
        ExportTraceServiceRequest::decode(recorded.body).unwrap(),
        request
    );
}

#[tokio::test]
async fn user_agent_can_be_replaced() {
    let server = TestServer::start().await;
    builder(&server)
        .user_agent("my-agent/2")
        .build()
        .unwrap()
        .export(&sample_logs(1))
        .await
        .unwrap();
    builder(&server)
        .header("User-Agent", "hdr/1")
        .build()
        .unwrap()
        .export(&sample_logs(1))
        .await
        .unwrap();
    let agents: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("user-agent").unwrap().to_owned())
        .collect();
    assert_eq!(agents, ["my-agent/2", "hdr/1"]);
}

#[tokio::test]
async fn every_compression_is_on_the_wire() {
    let server = TestServer::start().await;
    let request = sample_metrics(200);
    let encoded = request.encode_to_vec();
    let cases = [
        (Compression::Gzip, "gzip"),
        (Compression::Deflate, "deflate"),
        (Compression::Zstd, "zstd"),
        (Compression::Brotli, "br"),
    ];
    for (compression, _) in cases {
        builder(&server)
            .compression(compression)
            .build()
            .unwrap()
            .export(&request)
            .await
            .unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), cases.len());
    for (recorded, (compression, token)) in requests.iter().zip(cases) {
        assert_eq!(
            recorded.header("content-encoding"),
            Some(token),
            "{compression}"
        );
        assert!(
            recorded.body.len() < encoded.len(),
            "{compression} did not compress"
        );
        assert_eq!(recorded.http_body(), encoded, "{compression}");
    }
}

#[tokio::test]
async fn json_body_is_otlp_json_and_its_response_is_read() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(
        200,
        &[("content-type", "application/json")],
        r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad names"}}"#,
    )]);
    let exporter = builder(&server)
        .protocol(Protocol::HttpJson)
        .build()
        .unwrap();
    let request = sample_traces(4);
    let outcome = exporter.export(&request).await.unwrap();
    assert_eq!(
        outcome.partial_success,
        Some(PartialSuccess {
            rejected_items: 2,
            error_message: "bad names".into()
        })
    );
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.header("content-type"), Some("application/json"));
    assert_eq!(recorded.body, otlp_proto::json::to_vec(&request).unwrap());
    let decoded: ExportTraceServiceRequest = otlp_proto::json::from_slice(&recorded.body).unwrap();
    assert_eq!(decoded, request);
}

#[tokio::test]
async fn json_with_gzip_and_export_encoded_reencodes() {
    let server = TestServer::start().await;
    let exporter = builder(&server)
        .protocol(Protocol::HttpJson)
        .compression(Compression::Gzip)
        .build()
        .unwrap();
    let request = sample_logs(2);
    exporter
        .export_encoded(Signal::Logs, Bytes::from(request.encode_to_vec()))
        .await
        .unwrap();
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.path, "/v1/logs");
    assert_eq!(recorded.header("content-encoding"), Some("gzip"));
    assert_eq!(
        recorded.http_body(),
        otlp_proto::json::to_vec(&request).unwrap()
    );
    // Bytes that are not a request cannot be re-encoded as JSON.
    let error = exporter
        .export_encoded(Signal::Logs, Bytes::from_static(b"\xff\xff"))
        .await
        .unwrap_err();
    assert!(matches!(error, ExportError::Encode(_)), "{error:?}");
}

#[tokio::test]
async fn export_encoded_sends_the_bytes_unchanged() {
    let server = TestServer::start().await;
    let exporter = builder(&server).build().unwrap();
    // Not even a valid request: forwarded bytes are not decoded.
    let bytes = Bytes::from_static(b"\x0a\x00opaque");
    exporter
        .export_encoded(Signal::Metrics, bytes.clone())
        .await
        .unwrap();
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.path, "/v1/metrics");
    assert_eq!(recorded.body, bytes);
}

#[tokio::test]
async fn partial_success_is_returned_and_not_retried() {
    let server = TestServer::start().await;
    let response = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 5,
            error_message: "too old".into(),
        }),
    };
    server.reply([Reply::http_with(
        200,
        &[("content-type", "application/x-protobuf")],
        response.encode_to_vec(),
    )]);
    let (builder, clock) = with_clock(builder(&server));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_logs(9))
        .await
        .unwrap();
    assert_eq!(outcome.rejected_items(), 5);
    assert_eq!(outcome.partial_success.unwrap().error_message, "too old");
    assert_eq!(outcome.attempts, 1);
    assert_eq!(server.requests().len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn retryable_statuses_are_retried_with_backoff() {
    for status in [429, 502, 503, 504] {
        let server = TestServer::start().await;
        server.reply([Reply::http(status), Reply::http(status)]);
        let (builder, clock) = with_clock(builder(&server));
        let outcome = builder
            .build()
            .unwrap()
            .export(&sample_traces(1))
            .await
            .unwrap();
        assert_eq!(outcome.attempts, 3, "{status}");
        assert_eq!(server.requests().len(), 3, "{status}");
        assert_eq!(
            clock.sleeps(),
            [Duration::from_secs(1), Duration::from_secs(2)],
            "{status}"
        );
    }
}

#[tokio::test]
async fn other_statuses_are_rejected_at_once_with_their_message() {
    let status_body = otlp_transport::grpc_wire::RpcStatus {
        code: 3,
        message: "span 7 has no name".into(),
        details: vec![],
    }
    .encode_to_vec();
    for status in [400, 401, 403, 404, 405, 413, 415, 500, 501, 505] {
        let server = TestServer::start().await;
        server.reply([Reply::http_with(
            status,
            &[("content-type", "application/x-protobuf")],
            status_body.clone(),
        )]);
        let (builder, clock) = with_clock(builder(&server));
        let error = builder
            .build()
            .unwrap()
            .export(&sample_traces(1))
            .await
            .unwrap_err();
        match &error {
            ExportError::Rejected {
                status: ResponseStatus::Http(got),
                message,
            } => {
                assert_eq!(got.as_u16(), status);
                assert_eq!(message, "span 7 has no name");
            }
            other => panic!("{status}: {other:?}"),
        }
        assert!(!error.is_retryable());
        assert_eq!(error.http_status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.requests().len(), 1, "{status}");
        assert!(clock.sleeps().is_empty());
    }
}

#[tokio::test]
async fn plain_text_error_bodies_become_the_message() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(
        400,
        &[("content-type", "text/plain")],
        "missing resource\n",
    )]);
    let error = builder(&server)
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ExportError::Rejected { message, .. } if message == "missing resource"),
        "{error:?}"
    );
}

#[tokio::test]
async fn retry_after_seconds_is_the_next_delay() {
    let server = TestServer::start().await;
    server.reply([
        Reply::http_with(503, &[("retry-after", "7")], ""),
        Reply::http_with(429, &[("retry-after", "0")], ""),
        Reply::http(502),
    ]);
    let (builder, clock) = with_clock(builder(&server));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 4);
    // The receiver's delays replace the backoff's, which still advances (1 s, 2 s, 4 s).
    assert_eq!(
        clock.sleeps(),
        [
            Duration::from_secs(7),
            Duration::ZERO,
            Duration::from_secs(4)
        ]
    );
}

/// IMF-fixdate of a time.
fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT",
        months[(month - 1) as usize]
    )
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = TestServer::start().await;
    let in_a_minute = http_date(SystemTime::now() + Duration::from_secs(60));
    let an_hour_ago = http_date(SystemTime::now() - Duration::from_secs(3600));
    server.reply([
        Reply::http_with(503, &[("retry-after", &in_a_minute)], ""),
        Reply::http_with(503, &[("retry-after", &an_hour_ago)], ""),
    ]);
    let (builder, clock) = with_clock(builder(&server));
    let builder = builder.retry(exact_retry().with_max_elapsed_time(Duration::from_secs(300)));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 3);
    let sleeps = clock.sleeps();
    // Whole seconds on the wire: 59 to 60 s from now, depending on when the second turned.
    assert!(
        sleeps[0] >= Duration::from_secs(58) && sleeps[0] <= Duration::from_secs(60),
        "{sleeps:?}"
    );
    assert_eq!(sleeps[1], Duration::ZERO, "a date in the past means now");
}

#[tokio::test]
async fn max_elapsed_time_ends_the_retries() {
    let server = TestServer::start().await;
    server.reply((0..20).map(|_| Reply::http(503)));
    let (builder, clock) = with_clock(builder(&server));
    let builder = builder.retry(exact_retry().with_max_elapsed_time(Duration::from_secs(10)));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    // Waits 1 + 2 + 4 = 7 s; the next (8 s) would end past the 10 s budget.
    assert_eq!(clock.sleeps(), [1, 2, 4].map(Duration::from_secs));
    match &error {
        ExportError::RetriesExhausted {
            attempts,
            elapsed,
            last,
        } => {
            assert_eq!(*attempts, 4);
            assert!(*elapsed >= Duration::from_secs(7) && *elapsed < Duration::from_secs(8));
            assert!(matches!(**last, ExportError::Retryable { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.http_status(),
        Some(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(
        429,
        &[("retry-after", "120")],
        "slow down",
    )]);
    let (builder, clock) = with_clock(builder(&server));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    assert!(clock.sleeps().is_empty());
    assert!(
        matches!(error, ExportError::RetriesExhausted { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn zero_max_elapsed_time_retries_until_success() {
    let server = TestServer::start().await;
    server.reply((0..12).map(|_| Reply::http(503)));
    let (builder, clock) = with_clock(builder(&server));
    let builder = builder.retry(exact_retry().with_max_elapsed_time(Duration::ZERO));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 13);
    assert_eq!(
        clock.sleeps().iter().sum::<Duration>(),
        Duration::from_secs(1 + 2 + 4 + 8 * 9)
    );
}

#[tokio::test]
async fn disabled_retry_returns_the_first_error() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(503, &[("retry-after", "3")], "busy")]);
    let error = builder(&server)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    match &error {
        ExportError::Retryable {
            status,
            message,
            retry_after,
        } => {
            assert_eq!(
                *status,
                ResponseStatus::Http(http::StatusCode::SERVICE_UNAVAILABLE)
            );
            assert_eq!(message, "busy");
            assert_eq!(*retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_attempt_times_out_and_is_retried() {
    let server = TestServer::start().await;
    server.reply([Reply::http(200).delayed(Duration::from_secs(5))]);
    let (builder, clock) = with_clock(builder(&server));
    let exporter = builder.timeout(Duration::from_millis(200)).build().unwrap();
    let started = std::time::Instant::now();
    let outcome = exporter.export(&sample_traces(1)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(outcome.attempts, 2);
    assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);

    server.reply([Reply::http(200).delayed(Duration::from_secs(5))]);
    let error = builder_no_retry(&server)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = error.export(&sample_traces(1)).await.unwrap_err();
    assert!(
        matches!(error, ExportError::Timeout(t) if t == Duration::from_millis(200)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

fn builder_no_retry(server: &TestServer) -> ExporterBuilder {
    builder(server).retry(RetryConfig::disabled())
}

#[tokio::test]
async fn the_budget_bounds_the_attempt_timeout() {
    // Budget 1.5 s, timeout 10 s: the first attempt may only use the 1.5 s.
    let server = TestServer::start().await;
    server.reply([Reply::http(200).delayed(Duration::from_secs(5))]);
    let exporter = builder(&server)
        .retry(exact_retry().with_max_elapsed_time(Duration::from_millis(1500)))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "{took:?}"
    );
    match error {
        ExportError::RetriesExhausted {
            attempts: 1, last, ..
        } => {
            // What was left of the budget when the attempt began: just under 1.5 s.
            assert!(
                matches!(*last, ExportError::Timeout(t) if t <= Duration::from_millis(1500) && t > Duration::from_millis(1400)),
                "{last:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_errors_are_retryable() {
    let addr = closed_port().await;
    let exporter = OtlpExporter::builder()
        .endpoint(format!("http://{addr}"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    match &error {
        ExportError::Transport(transport) => {
            assert_eq!(transport.kind(), TransportErrorKind::Connect);
            assert!(transport.to_string().contains("refused"), "{transport}");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_retryable());

    let clock = ManualClock::new();
    let exporter = OtlpExporter::builder()
        .endpoint(format!("http://{addr}"))
        .retry(exact_retry().with_max_elapsed_time(Duration::from_secs(5)))
        .clock(clock.clone())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    assert!(
        matches!(error, ExportError::RetriesExhausted { attempts: 3, .. }),
        "{error:?}"
    );
    assert_eq!(clock.sleeps(), [1, 2].map(Duration::from_secs));
}

#[tokio::test]
async fn connections_are_pooled_and_clones_share_them() {
    let server = TestServer::start().await;
    let exporter = builder(&server).build().unwrap();
    let clone = exporter.clone();
    for _ in 0..3 {
        exporter.export(&sample_traces(1)).await.unwrap();
        clone.export(&sample_logs(1)).await.unwrap();
    }
    assert_eq!(server.requests().len(), 6);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn concurrent_exports_share_one_exporter() {
    let server = TestServer::start().await;
    let exporter = builder(&server).build().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let exporter = exporter.clone();
            tokio::spawn(async move { exporter.export(&sample_traces(i + 1)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| {
            ExportTraceServiceRequest::decode(r.body.clone())
                .unwrap()
                .resource_spans[0]
                .scope_spans[0]
                .spans
                .len()
        })
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, (1..=8).collect::<Vec<_>>());
}

#[tokio::test]
async fn undecodable_success_bodies_are_still_success() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(
        200,
        &[("content-type", "application/x-protobuf")],
        "\u{7f}garbage",
    )]);
    let outcome = builder(&server)
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.partial_success, None);
}

#[tokio::test]
async fn compressed_responses_are_decoded() {
    let server = TestServer::start().await;
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 1,
            error_message: "dup".into(),
        }),
    };
    let body = otlp_transport::compression::compress(Compression::Gzip, &response.encode_to_vec())
        .unwrap();
    server.reply([Reply::http_with(
        200,
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        body,
    )]);
    let outcome = builder(&server)
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.rejected_items(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_default_clock_follows_tokio_paused_time() {
    // Default retry (5 s initial, 30 s cap, ±50 % jitter, 300 s budget) against a closed port,
    // on tokio's paused clock: five virtual minutes pass in an instant.
    let addr = closed_port().await;
    let exporter = OtlpExporter::builder()
        .endpoint(format!("http://{addr}"))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let real = std::time::Instant::now();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    let virtual_elapsed = started.elapsed();
    assert!(
        real.elapsed() < Duration::from_secs(30),
        "{:?}",
        real.elapsed()
    );
    match &error {
        ExportError::RetriesExhausted {
            attempts,
            elapsed,
            last,
        } => {
            // At most 45 s (30 s + 50 %) were left when the loop gave up.
            assert!(*elapsed >= Duration::from_secs(255) && *elapsed < Duration::from_secs(300));
            assert!(*attempts >= 8, "{attempts}");
            assert!(last.is_retryable(), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        virtual_elapsed < Duration::from_secs(300),
        "{virtual_elapsed:?}"
    );
}
