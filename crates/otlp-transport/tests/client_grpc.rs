//! The OTLP/gRPC exporter against a scripted HTTP/2 receiver on 127.0.0.1: framing, headers,
//! trailers, every status code, RetryInfo and compression.
#![cfg(all(feature = "client", feature = "grpc", feature = "tls"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::time::Duration;

use bytes::Bytes;
use client_support::{
    ManualClock, Reply, TestServer, sample_logs, sample_metrics, sample_profiles, sample_traces,
};
use otlp_proto::Message;
use otlp_proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{
    Compression, ConfigError, ExportError, ExporterBuilder, OtlpExporter, Protocol, ResponseStatus,
    RetryConfig,
};
use otlp_transport::grpc_wire::GrpcCode;
use otlp_transport::{PartialSuccess, Signal};

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
        .protocol(Protocol::Grpc)
        .endpoint(server.url())
}

fn with_clock(builder: ExporterBuilder) -> (ExporterBuilder, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::new();
    (builder.retry(exact_retry()).clock(clock.clone()), clock)
}

#[tokio::test]
async fn unary_call_is_framed_with_the_grpc_headers() {
    let server = TestServer::start().await;
    let exporter = builder(&server)
        .header("x-tenant", "blue")
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let request = sample_traces(3);
    let outcome = exporter.export(&request).await.unwrap();
    assert_eq!(outcome.attempts, 1);
    assert_eq!(outcome.partial_success, None);
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.method, http::Method::POST);
    assert_eq!(recorded.version, http::Version::HTTP_2);
    assert_eq!(
        recorded.path,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    );
    assert_eq!(recorded.header("content-type"), Some("application/grpc"));
    assert_eq!(recorded.header("te"), Some("trailers"));
    assert_eq!(recorded.header("grpc-timeout"), Some("3000m"));
    assert_eq!(recorded.header("grpc-encoding"), None);
    assert_eq!(recorded.header("x-tenant"), Some("blue"));
    assert!(
        recorded
            .header("user-agent")
            .unwrap()
            .starts_with("OTel-OTLP-Exporter-Rust-otlp-rs/")
    );
    // One uncompressed frame holding exactly the encoded request.
    assert_eq!(recorded.body[0], 0);
    assert_eq!(
        &recorded.body[1..5],
        &(recorded.body.len() as u32 - 5).to_be_bytes()
    );
    assert_eq!(recorded.grpc_message(), request.encode_to_vec());
}

#[tokio::test]
async fn every_signal_uses_its_service_path() {
    let server = TestServer::start().await;
    // The path of the endpoint plays no part in gRPC.
    let exporter = builder(&server)
        .endpoint(format!("{}/ignored", server.url()))
        .build()
        .unwrap();
    exporter.export(&sample_traces(1)).await.unwrap();
    exporter.export(&sample_metrics(1)).await.unwrap();
    exporter.export(&sample_logs(1)).await.unwrap();
    exporter.export(&sample_profiles()).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, Signal::ALL.map(|s| s.grpc_path().to_owned()));
    // One HTTP/2 connection carries them all.
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn scheme_less_endpoint_with_insecure_is_plain_http2() {
    let server = TestServer::start().await;
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(server.addr.to_string())
        .insecure(true)
        .build()
        .unwrap();
    assert_eq!(exporter.endpoint(Signal::Logs).scheme_str(), Some("http"));
    exporter.export(&sample_logs(1)).await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn compression_sets_the_flag_and_grpc_encoding() {
    let server = TestServer::start().await;
    let request = sample_metrics(300);
    let cases = [
        (Compression::Gzip, "gzip"),
        (Compression::Deflate, "deflate"),
        (Compression::Zstd, "zstd"),
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
    for (recorded, (compression, token)) in server.requests().iter().zip(cases) {
        assert_eq!(
            recorded.header("grpc-encoding"),
            Some(token),
            "{compression}"
        );
        assert_eq!(recorded.body[0], 1, "{compression}: compressed flag");
        assert!(recorded.body.len() < request.encoded_len(), "{compression}");
        assert_eq!(
            recorded.grpc_message(),
            request.encode_to_vec(),
            "{compression}"
        );
    }
}

#[test]
fn brotli_is_not_a_grpc_encoding() {
    let error = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .compression(Compression::Brotli)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error,
            ConfigError::Compression {
                compression: Compression::Brotli,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn partial_success_is_returned_and_not_retried() {
    let server = TestServer::start().await;
    server.reply([Reply::grpc_ok(&ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess {
            rejected_data_points: 3,
            error_message: "NaN sums".into(),
        }),
    })]);
    let (builder, clock) = with_clock(builder(&server));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_metrics(10))
        .await
        .unwrap();
    assert_eq!(
        outcome.partial_success,
        Some(PartialSuccess {
            rejected_items: 3,
            error_message: "NaN sums".into()
        })
    );
    assert_eq!(outcome.attempts, 1);
    assert_eq!(server.requests().len(), 1);
    assert!(clock.sleeps().is_empty());
}

const RETRYABLE: [GrpcCode; 6] = [
    GrpcCode::Cancelled,
    GrpcCode::DeadlineExceeded,
    GrpcCode::Aborted,
    GrpcCode::OutOfRange,
    GrpcCode::Unavailable,
    GrpcCode::DataLoss,
];

#[tokio::test]
async fn retryable_codes_are_retried() {
    for code in RETRYABLE {
        let server = TestServer::start().await;
        server.reply([Reply::grpc(code, "try later")]);
        let (builder, clock) = with_clock(builder(&server));
        let outcome = builder
            .build()
            .unwrap()
            .export(&sample_traces(1))
            .await
            .unwrap();
        assert_eq!(outcome.attempts, 2, "{code}");
        assert_eq!(clock.sleeps(), [Duration::from_secs(1)], "{code}");
        assert_eq!(server.requests().len(), 2, "{code}");
    }
}

#[tokio::test]
async fn other_codes_are_rejected_at_once() {
    let codes = (1..=16)
        .map(GrpcCode::from_u32)
        .filter(|code| !RETRYABLE.contains(code));
    for code in codes {
        let server = TestServer::start().await;
        server.reply([Reply::grpc(code, "bad: 100% wrong \u{e9}")]);
        let (builder, clock) = with_clock(builder(&server));
        let error = builder
            .build()
            .unwrap()
            .export(&sample_traces(1))
            .await
            .unwrap_err();
        match &error {
            ExportError::Rejected {
                status: ResponseStatus::Grpc(got),
                message,
            } => {
                assert_eq!(*got, code);
                assert_eq!(message, "bad: 100% wrong \u{e9}", "percent-decoded");
            }
            other => panic!("{code}: {other:?}"),
        }
        assert_eq!(error.grpc_code(), Some(code));
        assert_eq!(server.requests().len(), 1, "{code}");
        assert!(clock.sleeps().is_empty(), "{code}");
    }
}

#[tokio::test]
async fn resource_exhausted_is_retried_only_with_retry_info() {
    let server = TestServer::start().await;
    server.reply([
        Reply::grpc_retry_info(
            GrpcCode::ResourceExhausted,
            "memory",
            Duration::from_millis(2500),
        ),
        Reply::grpc(GrpcCode::ResourceExhausted, "quota"),
    ]);
    let (builder, clock) = with_clock(builder(&server));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    assert_eq!(clock.sleeps(), [Duration::from_millis(2500)]);
    assert!(
        matches!(&error, ExportError::Rejected { message, .. } if message == "quota"),
        "{error:?}"
    );
    assert_eq!(error.grpc_code(), Some(GrpcCode::ResourceExhausted));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retry_info_is_the_next_delay() {
    let server = TestServer::start().await;
    server.reply([
        Reply::grpc_retry_info(GrpcCode::Unavailable, "busy", Duration::from_secs(9)),
        Reply::grpc(GrpcCode::Unavailable, "still busy"),
    ]);
    let (builder, clock) = with_clock(builder(&server));
    let outcome = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 3);
    // RetryInfo's 9 s, then the backoff's second interval (2 s).
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(9), Duration::from_secs(2)]
    );
}

#[tokio::test]
async fn retry_info_beyond_the_budget_gives_up() {
    let server = TestServer::start().await;
    server.reply([Reply::grpc_retry_info(
        GrpcCode::Unavailable,
        "busy",
        Duration::from_secs(600),
    )]);
    let (builder, clock) = with_clock(builder(&server));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExportError::RetriesExhausted { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(error.grpc_code(), Some(GrpcCode::Unavailable));
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn trailers_only_answers_are_read() {
    let server = TestServer::start().await;
    server.reply([
        Reply::grpc_trailers_only(GrpcCode::Unavailable, "overloaded"),
        Reply::grpc_trailers_only(GrpcCode::Unauthenticated, "no token"),
    ]);
    let (builder, clock) = with_clock(builder(&server));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_logs(1))
        .await
        .unwrap_err();
    assert_eq!(clock.sleeps().len(), 1);
    assert!(
        matches!(&error, ExportError::Rejected { status: ResponseStatus::Grpc(GrpcCode::Unauthenticated), message } if message == "no token"),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_errors_without_grpc_status_are_mapped() {
    let server = TestServer::start().await;
    server.reply([Reply::http(503), Reply::http(401)]);
    let (builder, _clock) = with_clock(builder(&server));
    let error = builder
        .build()
        .unwrap()
        .export(&sample_logs(1))
        .await
        .unwrap_err();
    assert_eq!(error.grpc_code(), Some(GrpcCode::Unauthenticated));
    assert_eq!(server.requests().len(), 2, "503 is UNAVAILABLE: retried");
}

#[tokio::test]
async fn an_answer_without_status_is_invalid() {
    let server = TestServer::start().await;
    server.reply([Reply::http_with(
        200,
        &[("content-type", "application/grpc")],
        "",
    )]);
    let error = builder(&server)
        .build()
        .unwrap()
        .export(&sample_logs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExportError::InvalidResponse(_)),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn export_encoded_frames_the_bytes_unchanged() {
    let server = TestServer::start().await;
    let request = sample_metrics(4);
    let bytes = Bytes::from(request.encode_to_vec());
    let exporter = builder(&server)
        .compression(Compression::Zstd)
        .build()
        .unwrap();
    exporter
        .export_encoded(Signal::Metrics, bytes.clone())
        .await
        .unwrap();
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.path, Signal::Metrics.grpc_path());
    assert_eq!(recorded.grpc_message(), bytes);
    assert_eq!(ExportMetricsServiceRequest::decode(bytes).unwrap(), request);
}

#[tokio::test]
async fn a_stalled_call_times_out_with_a_deadline_header() {
    let server = TestServer::start().await;
    server.reply([Reply::grpc(GrpcCode::Ok, "").delayed(Duration::from_secs(5))]);
    let exporter = builder(&server)
        .timeout(Duration::from_millis(250))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter
        .export(&ExportTraceServiceRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(error, ExportError::Timeout(_)), "{error:?}");
    assert_eq!(server.requests()[0].header("grpc-timeout"), Some("250m"));
    // The connection survives a cancelled stream.
    exporter
        .export(&ExportTraceServiceRequest::default())
        .await
        .unwrap();
    assert_eq!(server.connections(), 1);
}
