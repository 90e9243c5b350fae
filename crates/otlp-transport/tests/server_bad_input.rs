//! Bad input: each gets the right code, and the receiver keeps serving.
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

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use otlp_transport::server::Limits;
use otlp_transport::{Compression, Signal, compression};
use prost::Message;
use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

fn truncated_protobuf() -> Vec<u8> {
    let body = traces(3).encode_to_vec();
    body[..body.len() - 7].to_vec()
}

const GARBAGE: &[u8] = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage";

#[tokio::test]
async fn bad_protobuf_is_400_and_invalid_argument() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    for body in [truncated_protobuf(), GARBAGE.to_vec()] {
        for version in [Version::Http1, Version::Http2] {
            let reply = post_http(
                http,
                version,
                http_request(Signal::Traces, PROTOBUF, None, body.clone()),
            )
            .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST);
            let status = reply.status_proto();
            assert_eq!(status.code, GrpcCode::InvalidArgument as i32);
            assert!(
                status.message.contains("invalid protobuf"),
                "{}",
                status.message
            );
        }
        let reply = grpc_call(
            grpc,
            grpc_request(Signal::Traces, None, encode_frame(&body, false)),
        )
        .await;
        assert_eq!(reply.grpc_code(), GrpcCode::InvalidArgument, "{reply:?}");
        assert!(reply.grpc_message().contains("invalid protobuf"));
        assert!(
            reply.trailers.is_none(),
            "errors are trailers-only responses"
        );
        assert!(reply.body.is_empty());
    }
    assert_eq!(handler.calls(), 0);
    assert_still_serving(&receiver).await;
}

#[tokio::test]
async fn bad_grpc_framing_is_invalid_argument() {
    let receiver = start(TestHandler::new(Behaviour::Accept)).await;
    let grpc = receiver.grpc_local_addr().unwrap();
    let good = encode_frame(&traces(1).encode_to_vec(), false);
    let mut trailing = good.to_vec();
    trailing.extend_from_slice(&good);
    let bodies: [(&str, Bytes); 4] = [
        ("partial header", Bytes::from_static(b"\0\0\0")),
        ("short message", good.slice(..good.len() - 1)),
        ("two messages", Bytes::from(trailing)),
        ("flag 2", Bytes::from_static(b"\x02\0\0\0\0")),
    ];
    for (what, body) in bodies {
        let reply = grpc_call(grpc, grpc_request(Signal::Traces, None, body)).await;
        assert_eq!(
            reply.grpc_code(),
            GrpcCode::InvalidArgument,
            "{what}: {reply:?}"
        );
    }
    // The compressed flag without a grpc-encoding.
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, encode_frame(b"x", true)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::InvalidArgument);
    assert_still_serving(&receiver).await;
}

#[tokio::test]
async fn bad_json_is_400_with_a_json_status() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let cases: [(&str, &str); 5] = [
        (
            "malformed",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"}"#,
        ),
        ("not an object", "[1,2,3]"),
        ("trailing garbage", "{} x"),
        (
            "short trace id",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e"}]}]}]}"#,
        ),
        (
            "non-hex span id",
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zzzzzzzzzzzzzzzz"}]}]}]}"#,
        ),
    ];
    for (what, body) in cases {
        let reply = post_http(
            http,
            Version::Http1,
            http_request(Signal::Traces, JSON, None, body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(reply.header("content-type"), Some(JSON));
        let text = std::str::from_utf8(&reply.body).unwrap();
        assert!(
            text.starts_with(r#"{"code":3,"message":"invalid OTLP/JSON"#),
            "{what}: {text}"
        );
    }
    assert_eq!(handler.calls(), 0);
    assert_still_serving(&receiver).await;
}

#[tokio::test]
async fn wrong_path_method_content_type_and_encoding() {
    let receiver = start(TestHandler::new(Behaviour::Accept)).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    for version in [Version::Http1, Version::Http2] {
        // Unknown path.
        let request = Request::post("http://localhost/v1/trace")
            .header("content-type", PROTOBUF)
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        assert_eq!(
            send(http, version, request).await.status,
            StatusCode::NOT_FOUND
        );

        // Wrong method.
        let request = Request::get("http://localhost/v1/traces")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let reply = send(http, version, request).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(reply.header("allow"), Some("POST"));

        // Wrong content type, and none at all.
        for content_type in ["text/plain", "application/protobuf", ""] {
            let reply = post_http(
                http,
                version,
                http_request(Signal::Traces, content_type, None, body.clone()),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type:?}"
            );
            assert_eq!(reply.status_proto().code, GrpcCode::Unimplemented as i32);
        }

        // Unsupported content encoding.
        let reply = post_http(
            http,
            version,
            http_request(Signal::Traces, PROTOBUF, Some("lz4"), body.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    // gRPC: unknown method, unsupported encoding (brotli is no gRPC encoding).
    let request =
        Request::post("http://localhost/opentelemetry.proto.collector.trace.v1.TraceService/Nope")
            .header("content-type", "application/grpc")
            .body(Full::new(encode_frame(&body, false)))
            .unwrap();
    let reply = grpc_call(grpc, request).await;
    assert_eq!(reply.grpc_code(), GrpcCode::Unimplemented);
    for encoding in ["snappy", "br"] {
        let reply = grpc_call(
            grpc,
            grpc_request(Signal::Traces, Some(encoding), encode_frame(b"x", true)),
        )
        .await;
        assert_eq!(reply.grpc_code(), GrpcCode::Unimplemented, "{encoding}");
        assert!(
            reply
                .header("grpc-accept-encoding")
                .unwrap()
                .contains("gzip")
        );
    }
    // A non-gRPC request on the gRPC port is answered 415.
    let reply = send(
        grpc,
        Version::Http2,
        http_request(Signal::Traces, PROTOBUF, None, body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_still_serving(&receiver).await;
}

#[tokio::test]
async fn corrupt_compression_is_400_and_invalid_argument() {
    let receiver = start(TestHandler::new(Behaviour::Accept)).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(5).encode_to_vec();
    for c in [
        Compression::Gzip,
        Compression::Deflate,
        Compression::Zstd,
        Compression::Brotli,
    ] {
        let packed = compression::compress(c, &body).unwrap();
        let corrupt = [&packed[..packed.len() / 2], GARBAGE].concat();
        let reply = post_http(
            http,
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, c.http_token(), corrupt.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{c}");
        assert!(reply.status_proto().message.contains("corrupt"), "{c}");
        if let Some(token) = c.grpc_token() {
            let reply = grpc_call(
                grpc,
                grpc_request(Signal::Traces, Some(token), encode_frame(&corrupt, true)),
            )
            .await;
            assert_eq!(reply.grpc_code(), GrpcCode::InvalidArgument, "{c}");
        }
    }
    assert_still_serving(&receiver).await;
}

#[test]
fn the_brotli_bomb_generator_writes_valid_brotli() {
    // Two meta-blocks decode fully to 32 MiB of zeros; the 1 GiB bomb only has more of them.
    let bomb = brotli_bomb(2);
    let decoded = compression::decompress(Compression::Brotli, &bomb, 32 << 20).unwrap();
    assert_eq!(decoded.len(), 32 << 20);
    assert!(decoded.iter().all(|b| *b == 0));
    assert!(brotli_bomb(64).len() < 1024);
}

#[tokio::test]
async fn one_gib_bombs_are_stopped_early() {
    let started = std::time::Instant::now();
    let bombs = [
        (Compression::Gzip, gzip_bomb()),
        (Compression::Zstd, zstd_bomb()),
        (Compression::Brotli, brotli_bomb(GIB >> 24)),
    ];
    let built = started.elapsed();
    assert!(
        built < Duration::from_secs(3),
        "building the bombs took {built:?}"
    );
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    for (c, bomb) in &bombs {
        assert!(bomb.len() < 4 << 20, "{c} bomb is {} bytes", bomb.len());
        for version in [Version::Http1, Version::Http2] {
            let reply = post_http(
                http,
                version,
                http_request(Signal::Traces, PROTOBUF, c.http_token(), bomb.clone()),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{c} {version:?}"
            );
            assert_eq!(
                reply.status_proto().code,
                GrpcCode::ResourceExhausted as i32
            );
        }
        if let Some(token) = c.grpc_token() {
            let reply = grpc_call(
                grpc,
                grpc_request(Signal::Traces, Some(token), encode_frame(bomb, true)),
            )
            .await;
            assert_eq!(reply.grpc_code(), GrpcCode::ResourceExhausted, "{c}");
        }
    }
    assert_eq!(handler.calls(), 0);
    assert_still_serving(&receiver).await;
}

#[tokio::test]
async fn oversize_requests_are_413_and_resource_exhausted() {
    const LIMIT: usize = 64 * 1024;
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start_with(handler.clone(), |r| r.limits(Limits::uniform(LIMIT))).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let big = traces(2000).encode_to_vec();
    assert!(big.len() > LIMIT);

    // Whole bodies over the limit, both HTTP versions and gRPC.
    for version in [Version::Http1, Version::Http2] {
        let reply = post_http(
            http,
            version,
            http_request(Signal::Traces, PROTOBUF, None, big.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{version:?}");
    }
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, encode_frame(&big, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::ResourceExhausted);
    assert!(
        reply.grpc_message().contains("size limit"),
        "{}",
        reply.grpc_message()
    );

    // Compressed small, too large once decompressed (the limit applies after decompression).
    let packed = compression::compress(Compression::Gzip, &big).unwrap();
    assert!(packed.len() < LIMIT);
    let reply = post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, Some("gzip"), packed.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Traces, Some("gzip"), encode_frame(&packed, true)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::ResourceExhausted);

    // HTTP/1: refused on Content-Length alone, before any body byte is sent.
    let mut stream = tokio::net::TcpStream::connect(http).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: localhost\r\ncontent-type: {PROTOBUF}\r\ncontent-length: {}\r\n\r\n",
        10 * GIB
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = vec![0u8; 12];
    stream.read_exact(&mut response).await.unwrap();
    assert_eq!(&response, b"HTTP/1.1 413");

    // gRPC: refused on the frame header alone, with the stream kept open.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tx.send(Bytes::from_static(&[0, 0x10, 0, 0, 0])).unwrap(); // a 256 MiB message
    let request = Request::post(format!("http://localhost{}", Signal::Traces.grpc_path()))
        .header("content-type", "application/grpc")
        .body(ChannelBody(rx))
        .unwrap();
    let reply = send(grpc, Version::Http2, request).await;
    assert_eq!(reply.grpc_code(), GrpcCode::ResourceExhausted);
    drop(tx);

    assert_eq!(handler.calls(), 0);
    assert_still_serving(&receiver).await;
}
