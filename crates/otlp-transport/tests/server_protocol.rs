//! The happy paths: every format and encoding, JSON answered in JSON, empty requests, partial
//! success, unsupported signals, refusals, metadata.
#![cfg(all(
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "json",
    feature = "gzip",
    feature = "zstd",
    feature = "brotli"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use http::StatusCode;
use otlp_proto::collector::logs::v1::ExportLogsServiceResponse;
use otlp_proto::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use otlp_transport::server::{ContentType, Transport};
use otlp_transport::{Compression, PartialSuccess, Refusal, Signal, compression};
use prost::Message;
use server_support::*;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

#[tokio::test]
async fn every_encoding_over_every_transport() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let request = traces(3);
    let body = request.encode_to_vec();
    let json = otlp_proto::json::to_vec(&request).unwrap();
    let mut expected_calls = 0;
    for c in Compression::ALL {
        for (content_type, plain) in [(PROTOBUF, &body), (JSON, &json)] {
            let packed = compression::compress(c, plain).unwrap();
            for version in [Version::Http1, Version::Http2] {
                let reply = post_http(
                    http,
                    version,
                    http_request(Signal::Traces, content_type, c.http_token(), packed.clone()),
                )
                .await;
                assert_eq!(
                    reply.status,
                    StatusCode::OK,
                    "{c} {content_type} {version:?}"
                );
                assert_eq!(reply.header("content-type"), Some(content_type));
                expected_calls += 1;
            }
        }
        if c == Compression::None || c.grpc_token().is_some() {
            let packed = compression::compress(c, &body).unwrap();
            let frame = encode_frame(&packed, c != Compression::None);
            for addr in [grpc, http] {
                // gRPC is answered on the HTTP port too.
                let reply = grpc_call(
                    addr,
                    grpc_request(Signal::Traces, c.grpc_token(), frame.clone()),
                )
                .await;
                assert_eq!(reply.grpc_code(), GrpcCode::Ok, "{c}");
                let response: ExportTraceServiceResponse = reply.grpc_message_body();
                assert_eq!(response.partial_success, None);
                expected_calls += 1;
            }
        }
    }
    assert_eq!(handler.calls(), expected_calls);
    assert_eq!(handler.spans.load(Ordering::SeqCst), 3 * expected_calls);
    let contexts = handler.contexts.lock().unwrap();
    let grpc_gzip = contexts
        .iter()
        .find(|c| c.transport == Transport::Grpc && c.compression == Compression::Gzip)
        .unwrap();
    assert_eq!(grpc_gzip.content_type, ContentType::Grpc);
    assert_eq!(grpc_gzip.decoded_size, body.len());
    assert_eq!(
        grpc_gzip.protobuf.as_deref(),
        Some(&body[..]),
        "the received bytes are kept"
    );
    assert!(grpc_gzip.peer_addr.unwrap().ip().is_loopback());
    assert!(
        grpc_gzip.metadata.is_none(),
        "metadata only with include_metadata"
    );
    let json_context = contexts
        .iter()
        .find(|c| c.content_type == ContentType::Json)
        .unwrap();
    assert_eq!(json_context.protobuf, None);
}

#[tokio::test]
async fn json_requests_get_json_responses() {
    let partial = PartialSuccess {
        rejected_items: 2,
        error_message: "bad \"spans\"".into(),
    };
    let handler = TestHandler::new(Behaviour::Partial(partial));
    let receiver = start(handler).await;
    let http = receiver.http_local_addr().unwrap();
    let body = otlp_proto::json::to_vec(&traces(4)).unwrap();
    let reply = post_http(
        http,
        Version::Http1,
        http_request(
            Signal::Traces,
            "application/json; charset=utf-8",
            None,
            body,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some(JSON));
    let text = std::str::from_utf8(&reply.body).unwrap();
    assert_eq!(
        text,
        r#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad \"spans\""}}"#
    );
    let response: ExportTraceServiceResponse = otlp_proto::json::from_slice(&reply.body).unwrap();
    assert_eq!(response.partial_success.unwrap().rejected_spans, 2);
}

#[tokio::test]
async fn partial_success_round_trips() {
    let partial = PartialSuccess {
        rejected_items: 3,
        error_message: "3 spans too old".into(),
    };
    let receiver = start(TestHandler::new(Behaviour::Partial(partial))).await;
    let body = traces(5).encode_to_vec();

    let reply = post_http(
        receiver.http_local_addr().unwrap(),
        Version::Http2,
        http_request(Signal::Traces, PROTOBUF, None, body.clone()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "partial success is still HTTP 200"
    );
    let response = ExportTraceServiceResponse::decode(reply.body).unwrap();
    let partial = response.partial_success.unwrap();
    assert_eq!(
        (partial.rejected_spans, partial.error_message.as_str()),
        (3, "3 spans too old")
    );

    let reply = grpc_call(
        receiver.grpc_local_addr().unwrap(),
        grpc_request(Signal::Traces, None, encode_frame(&body, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Ok);
    let response: ExportTraceServiceResponse = reply.grpc_message_body();
    assert_eq!(response.partial_success.unwrap().rejected_spans, 3);
}

#[tokio::test]
async fn empty_requests_succeed_without_the_handler() {
    let handler = TestHandler::new(Behaviour::Refuse(Refusal::rejected("never called")));
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let empty_gzip = compression::compress(Compression::Gzip, b"").unwrap();
    let cases: [(&str, Option<&str>, Vec<u8>); 4] = [
        (PROTOBUF, None, Vec::new()),
        (PROTOBUF, Some("gzip"), empty_gzip),
        (JSON, None, Vec::new()),
        (JSON, None, b"{}".to_vec()),
    ];
    for (content_type, encoding, body) in cases {
        // Metrics and profiles have no handler method here: empty requests still succeed.
        for signal in Signal::ALL {
            let reply = post_http(
                http,
                Version::Http1,
                http_request(signal, content_type, encoding, body.clone()),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{signal} {content_type} {encoding:?}"
            );
        }
    }
    for body in [bytes::Bytes::new(), encode_frame(b"", false)] {
        let reply = grpc_call(grpc, grpc_request(Signal::Logs, None, body)).await;
        assert_eq!(reply.grpc_code(), GrpcCode::Ok);
        let response: ExportLogsServiceResponse = reply.grpc_message_body();
        assert_eq!(response.partial_success, None);
    }
    assert_eq!(handler.calls(), 0);
}

#[tokio::test]
async fn unsupported_signals_are_404_and_unimplemented() {
    let receiver = start(TestHandler::new(Behaviour::Accept)).await;
    // A metrics request with data; the test handler implements traces and logs only.
    let request = otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest {
        resource_metrics: vec![Default::default()],
    };
    let body = request.encode_to_vec();
    let reply = post_http(
        receiver.http_local_addr().unwrap(),
        Version::Http1,
        http_request(Signal::Metrics, PROTOBUF, None, body.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.status_proto().message,
        "signal not supported: metrics"
    );
    let reply = grpc_call(
        receiver.grpc_local_addr().unwrap(),
        grpc_request(Signal::Metrics, None, encode_frame(&body, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Unimplemented);
    assert_eq!(reply.grpc_message(), "signal not supported: metrics");
}

#[tokio::test]
async fn handler_refusals_map_to_the_spec_codes() {
    let body = traces(1).encode_to_vec();
    let delay = Duration::from_millis(1500);
    let cases = [
        (
            Refusal::retryable("queue full").with_retry_after(delay),
            503,
            Some("2"),
            GrpcCode::Unavailable,
            Some(delay),
        ),
        (
            Refusal::retryable("queue full"),
            503,
            None,
            GrpcCode::Unavailable,
            None,
        ),
        (
            Refusal::rate_limited("slow down", delay),
            429,
            Some("2"),
            GrpcCode::Unavailable,
            Some(delay),
        ),
        (
            Refusal::rejected("bad spans"),
            400,
            None,
            GrpcCode::InvalidArgument,
            None,
        ),
    ];
    for (refusal, http_status, retry_after, grpc_code, retry_delay) in cases {
        let receiver = start(TestHandler::new(Behaviour::Refuse(refusal.clone()))).await;
        let reply = post_http(
            receiver.http_local_addr().unwrap(),
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, None, body.clone()),
        )
        .await;
        assert_eq!(reply.status.as_u16(), http_status, "{refusal:?}");
        assert_eq!(reply.header("retry-after"), retry_after, "{refusal:?}");
        assert_eq!(reply.status_proto().message, refusal.message());
        let reply = grpc_call(
            receiver.grpc_local_addr().unwrap(),
            grpc_request(Signal::Traces, None, encode_frame(&body, false)),
        )
        .await;
        assert_eq!(reply.grpc_code(), grpc_code, "{refusal:?}");
        assert_eq!(reply.retry_delay(), retry_delay, "{refusal:?}");
        assert_eq!(reply.grpc_message(), refusal.message());
    }
}

#[tokio::test]
async fn a_panicking_handler_is_internal_and_the_receiver_survives() {
    let receiver = start(TestHandler::new(Behaviour::Panic)).await;
    let body = traces(1).encode_to_vec();
    let reply = post_http(
        receiver.http_local_addr().unwrap(),
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, None, body.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    let reply = grpc_call(
        receiver.grpc_local_addr().unwrap(),
        grpc_request(Signal::Traces, None, encode_frame(&body, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Internal);
    assert_eq!(
        receiver.in_flight_requests(),
        0,
        "permits are returned after a panic"
    );
}

#[tokio::test]
async fn metadata_reaches_the_handler_when_asked() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start_with(handler.clone(), |r| r.include_metadata(true)).await;
    let mut request = grpc_request(
        Signal::Traces,
        None,
        encode_frame(&ExportTraceServiceRequest::encode_to_vec(&traces(1)), false),
    );
    request
        .headers_mut()
        .insert("x-tenant", "acme".parse().unwrap());
    request
        .headers_mut()
        .insert("grpc-timeout", "1500m".parse().unwrap());
    let reply = grpc_call(receiver.grpc_local_addr().unwrap(), request).await;
    assert_eq!(reply.grpc_code(), GrpcCode::Ok);
    let contexts = handler.contexts.lock().unwrap();
    let metadata = contexts[0].metadata.as_ref().unwrap();
    assert_eq!(metadata["x-tenant"], "acme");
    assert_eq!(contexts[0].timeout, Some(Duration::from_millis(1500)));
    assert_eq!(contexts[0].signal, Signal::Traces);
}

#[tokio::test]
async fn a_call_past_the_clients_grpc_timeout_is_answered_deadline_exceeded() {
    let (handler, mut entered, release) = TestHandler::gated();
    let receiver = start(handler.clone()).await;
    let addr = receiver.grpc_local_addr().unwrap();
    let body = encode_frame(&ExportTraceServiceRequest::encode_to_vec(&traces(1)), false);

    // The handler holds the call beyond the client's 300 ms.
    let mut request = grpc_request(Signal::Traces, None, body.clone());
    request
        .headers_mut()
        .insert("grpc-timeout", "300m".parse().unwrap());
    let started = std::time::Instant::now();
    let reply = grpc_call(addr, request).await;
    let waited = started.elapsed();
    assert_eq!(reply.grpc_code(), GrpcCode::DeadlineExceeded);
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
        "answered after {waited:?}"
    );
    entered.recv().await.unwrap();
    // The handler was not cancelled half-way: it finishes once released.
    release.notify_one();
    tokio::time::timeout(Duration::from_secs(5), async {
        while handler.spans.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the handler finishes after the deadline");

    // Within its deadline, the same call succeeds.
    let mut request = grpc_request(Signal::Traces, None, body);
    request
        .headers_mut()
        .insert("grpc-timeout", "5S".parse().unwrap());
    let call = tokio::spawn(grpc_call(addr, request));
    entered.recv().await.unwrap();
    release.notify_one();
    assert_eq!(call.await.unwrap().grpc_code(), GrpcCode::Ok);
}

#[tokio::test]
async fn answers_are_compressed_in_the_request_encoding_only_when_the_client_accepts_it() {
    let partial = PartialSuccess {
        rejected_items: 3,
        error_message: "3 spans too old; 3 spans too old; 3 spans too old".into(),
    };
    let receiver = start(TestHandler::new(Behaviour::Partial(partial))).await;
    let addr = receiver.grpc_local_addr().unwrap();
    let message = ExportTraceServiceRequest::encode_to_vec(&traces(2));
    let gzipped = compression::compress(Compression::Gzip, &message).unwrap();
    let decode = |reply: &Reply| -> ExportTraceServiceResponse {
        let (flag, payload) = (reply.body[0], &reply.body[5..]);
        let bytes = if flag == 1 {
            let encoding = reply.header("grpc-encoding").expect("grpc-encoding");
            let codec = Compression::from_token(encoding).unwrap();
            compression::decompress(codec, payload, 1 << 20).unwrap()
        } else {
            payload.to_vec()
        };
        ExportTraceServiceResponse::decode(&bytes[..]).unwrap()
    };

    // gzip in, gzip accepted: the answer is gzip.
    let mut request = grpc_request(Signal::Traces, Some("gzip"), encode_frame(&gzipped, true));
    request
        .headers_mut()
        .insert("grpc-accept-encoding", "identity, gzip".parse().unwrap());
    let reply = grpc_call(addr, request).await;
    assert_eq!(reply.grpc_code(), GrpcCode::Ok);
    assert_eq!(reply.body[0], 1, "the compressed flag");
    assert_eq!(reply.header("grpc-encoding"), Some("gzip"));
    assert_eq!(decode(&reply).partial_success.unwrap().rejected_spans, 3);

    // gzip in, nothing accepted (tonic's default): plain.
    let request = grpc_request(Signal::Traces, Some("gzip"), encode_frame(&gzipped, true));
    let reply = grpc_call(addr, request).await;
    assert_eq!(reply.body[0], 0);
    assert_eq!(reply.header("grpc-encoding"), None);
    assert_eq!(decode(&reply).partial_success.unwrap().rejected_spans, 3);

    // Uncompressed in, gzip accepted: plain (the request chose no compressor).
    let mut request = grpc_request(Signal::Traces, None, encode_frame(&message, false));
    request
        .headers_mut()
        .insert("grpc-accept-encoding", "gzip".parse().unwrap());
    let reply = grpc_call(addr, request).await;
    assert_eq!(reply.body[0], 0);
    assert_eq!(decode(&reply).partial_success.unwrap().rejected_spans, 3);
}
