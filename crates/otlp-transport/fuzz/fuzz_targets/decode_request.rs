//! The whole decoding path: the first byte picks the signal, content type and encoding; the
//! rest is the body. Must never panic nor return more than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp_transport::Signal;
use otlp_transport::server::{Limits, decode_request};

const CONTENT_TYPES: [&str; 4] =
    ["application/x-protobuf", "application/json", "application/grpc", "text/plain"];
const ENCODINGS: [Option<&str>; 6] =
    [None, Some("gzip"), Some("deflate"), Some("zstd"), Some("br"), Some("identity")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let signal = Signal::ALL[usize::from(selector & 3)];
    let content_type = CONTENT_TYPES[usize::from((selector >> 2) & 3)];
    let encoding = ENCODINGS[usize::from(selector >> 4) % ENCODINGS.len()];
    let limits = Limits::uniform(1 << 20);
    if let Ok(decoded) =
        decode_request(signal, content_type, encoding, bytes::Bytes::copy_from_slice(body), &limits)
    {
        assert!(decoded.decoded_size <= limits.max_request_size);
    }
});
