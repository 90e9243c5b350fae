//! Stable-toolchain fuzzing of the receiver's decoding path: `decode_request` (content type,
//! encoding, gRPC framing, limits, decompression, protobuf and JSON decoding) fed arbitrary and
//! mutated input through proptest. It must never panic, never answer INTERNAL for input, never
//! return more than the limit, and must round-trip every valid request.
#![cfg(all(
    feature = "server",
    feature = "json",
    feature = "gzip",
    feature = "zstd",
    feature = "brotli"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use otlp_transport::server::{AnyExportRequest, Limits, ServerError, decode_request};
use otlp_transport::{Compression, Signal, compression};
use proptest::prelude::*;
use prost::Message;

const LIMITS: Limits = Limits {
    max_request_size: 64 * 1024,
    max_compressed_size: 32 * 1024,
};

fn signal() -> impl Strategy<Value = Signal> {
    prop::sample::select(Signal::ALL.to_vec())
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/x-protobuf".to_owned()),
        Just("application/json".to_owned()),
        Just("application/grpc".to_owned()),
        Just("application/json; charset=utf-8".to_owned()),
        "[ -~]{0,40}",
    ]
}

fn encoding() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec!["identity", "gzip", "deflate", "zstd", "br", "GZIP"])
            .prop_map(|s| Some(s.to_owned())),
        "[ -~]{0,12}".prop_map(Some),
    ]
}

/// Every error a request can cause is the client's fault or a limit: never INTERNAL.
fn check(result: &Result<otlp_transport::server::DecodedRequest, ServerError>) {
    match result {
        Ok(decoded) => assert!(decoded.decoded_size <= LIMITS.max_request_size),
        Err(error) => {
            assert_ne!(error.grpc_code(), GrpcCode::Internal, "{error}");
            assert!(error.http_status().is_client_error(), "{error}");
        }
    }
}

fn span_strategy() -> impl Strategy<Value = Span> {
    (
        any::<[u8; 16]>(),
        any::<[u8; 8]>(),
        ".{0,20}",
        any::<u64>(),
        any::<i64>(),
        any::<f64>().prop_filter("NaN payloads do not round-trip", |d| !d.is_nan()),
    )
        .prop_map(|(trace_id, span_id, name, start, int, double)| Span {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            name,
            start_time_unix_nano: start,
            attributes: vec![
                KeyValue {
                    key: "int".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::IntValue(int)),
                    }),
                    ..Default::default()
                },
                KeyValue {
                    key: "double".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::DoubleValue(double)),
                    }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
}

fn request_strategy() -> impl Strategy<Value = ExportTraceServiceRequest> {
    prop::collection::vec(span_strategy(), 0..20).prop_map(|spans| ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn codec() -> impl Strategy<Value = Compression> {
    prop::sample::select(Compression::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_and_headers(
        signal in signal(),
        content_type in content_type(),
        encoding in encoding(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let result = decode_request(signal, &content_type, encoding.as_deref(), Bytes::from(body), &LIMITS);
        check(&result);
    }

    #[test]
    fn arbitrary_grpc_frames(
        signal in signal(),
        flag in 0u8..3,
        length in prop_oneof![0u32..4096, any::<u32>()],
        payload in prop::collection::vec(any::<u8>(), 0..4096),
        encoding in encoding(),
    ) {
        let mut body = vec![flag];
        body.extend_from_slice(&length.to_be_bytes());
        body.extend_from_slice(&payload);
        let result = decode_request(signal, "application/grpc", encoding.as_deref(), Bytes::from(body), &LIMITS);
        check(&result);
        // With a usable encoding, an announced length over the cap is refused on the header.
        let compression = match encoding.as_deref().map(str::trim) {
            None | Some("") => Some(Compression::None),
            Some(token) => Compression::from_token(token)
                .filter(|c| *c == Compression::None || c.grpc_token().is_some()),
        };
        if let Some(compression) = compression {
            let cap = if flag == 1 { LIMITS.max_compressed_size } else { LIMITS.max_request_size };
            let usable = flag == 0 || (flag == 1 && compression != Compression::None);
            if usable && length as usize > cap {
                prop_assert!(matches!(result, Err(ServerError::TooLarge { .. })), "{result:?}");
            }
        }
    }

    #[test]
    fn valid_requests_round_trip_in_every_format(
        request in request_strategy(),
        codec in codec(),
        grpc in any::<bool>(),
    ) {
        let protobuf = request.encode_to_vec();
        let limits = Limits::uniform(1 << 20);
        let (content_type, plain) = if grpc {
            ("application/grpc", protobuf.clone())
        } else if protobuf.len() % 2 == 0 {
            ("application/json", otlp_proto::json::to_vec(&request).unwrap())
        } else {
            ("application/x-protobuf", protobuf.clone())
        };
        let codec = if grpc && codec == Compression::Brotli { Compression::Gzip } else { codec };
        let packed = compression::compress(codec, &plain).unwrap();
        let body = if grpc { encode_frame(&packed, codec != Compression::None) } else { Bytes::from(packed) };
        let token = if grpc { codec.grpc_token() } else { codec.http_token() };
        let decoded = decode_request(Signal::Traces, content_type, token, body, &limits).unwrap();
        prop_assert_eq!(decoded.decoded_size, plain.len());
        prop_assert_eq!(decoded.compression, codec);
        let AnyExportRequest::Traces(got) = decoded.request else { panic!("wrong signal") };
        // NaN != NaN: compare the encodings.
        prop_assert_eq!(got.encode_to_vec(), protobuf);
    }

    #[test]
    fn mutated_compressed_bodies_never_panic_or_exceed_the_limit(
        request in request_strategy(),
        codec in codec(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        truncate in any::<prop::sample::Index>(),
        json in any::<bool>(),
    ) {
        let plain = if json { otlp_proto::json::to_vec(&request).unwrap() } else { request.encode_to_vec() };
        let mut packed = compression::compress(codec, &plain).unwrap();
        if packed.is_empty() {
            return Ok(());
        }
        for (index, byte) in flips {
            let i = index.index(packed.len());
            packed[i] ^= byte;
        }
        packed.truncate(truncate.index(packed.len() + 1));
        let content_type = if json { "application/json" } else { "application/x-protobuf" };
        let result = decode_request(Signal::Traces, content_type, codec.http_token(), Bytes::from(packed), &LIMITS);
        check(&result);
    }

    #[test]
    fn mutated_json_never_panics(
        request in request_strategy(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"{}[]\",:0123456789abcdefxyz-.eE \\".to_vec())), 1..6),
        signal in signal(),
    ) {
        let mut json = otlp_proto::json::to_vec(&request).unwrap();
        for (index, byte) in edits {
            let i = index.index(json.len());
            json[i] = byte;
        }
        let result = decode_request(signal, "application/json", None, Bytes::from(json), &LIMITS);
        check(&result);
    }

    #[test]
    fn decompression_never_exceeds_its_limit(
        codec in codec(),
        data in prop::collection::vec(any::<u8>(), 0..4096),
        limit in 0usize..8192,
    ) {
        // Arbitrary input to every decoder, and valid input against arbitrary limits.
        if let Ok(out) = compression::decompress(codec, &data, limit) {
            prop_assert!(out.len() <= limit);
        }
        let packed = compression::compress(codec, &data).unwrap();
        match compression::decompress(codec, &packed, limit) {
            Ok(out) => prop_assert_eq!(out, data),
            Err(compression::CompressionError::TooLarge { .. }) => prop_assert!(data.len() > limit),
            Err(error) => prop_assert!(false, "{codec}: {error}"),
        }
    }
}
