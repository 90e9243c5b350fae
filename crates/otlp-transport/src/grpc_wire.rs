//! gRPC over HTTP/2, the parts exporters and receivers share: message framing, status codes,
//! the `grpc-message` percent-encoding, `grpc-status-details-bin` with `google.rpc.RetryInfo`,
//! and `grpc-timeout`.
//!
//! This crate speaks gRPC directly on hyper's HTTP/2 instead of through tonic's server, so that
//! the receiver chooses its status codes (INVALID_ARGUMENT for bad data, RESOURCE_EXHAUSTED for
//! too large), checks the size on the 5-byte frame header before reading the message, and can
//! forward received bytes without re-encoding. The references are the gRPC "PROTOCOL-HTTP2"
//! document and the `google.rpc` protos; the small messages below are written by hand from
//! their public field numbers.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// The `content-type` of gRPC requests and responses (`application/grpc+proto` is accepted too).
pub const GRPC_CONTENT_TYPE: &str = "application/grpc";

/// Header (trailer) carrying the status code.
pub const GRPC_STATUS: &str = "grpc-status";
/// Header (trailer) carrying the percent-encoded status message.
pub const GRPC_MESSAGE: &str = "grpc-message";
/// Header (trailer) carrying a base64 `google.rpc.Status`.
pub const GRPC_STATUS_DETAILS_BIN: &str = "grpc-status-details-bin";
/// Header naming the message encoding (`gzip`, `deflate`, `zstd`).
pub const GRPC_ENCODING: &str = "grpc-encoding";
/// Header listing the encodings a peer accepts.
pub const GRPC_ACCEPT_ENCODING: &str = "grpc-accept-encoding";
/// Header carrying the request's deadline (see [`parse_grpc_timeout`]).
pub const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Length of the frame header: a compressed flag and a big-endian `u32` length.
pub const FRAME_HEADER_LEN: usize = 5;

/// Frames one message: the compressed flag (0 or 1), the 4-byte big-endian length, the message.
///
/// # Panics
///
/// Never for messages under 4 GiB; gRPC cannot frame larger ones, and the length is then
/// saturated (a caller must enforce its own, much smaller, limit first).
pub fn encode_frame(message: &[u8], compressed: bool) -> Bytes {
    let mut frame = BytesMut::with_capacity(FRAME_HEADER_LEN + message.len());
    frame.put_slice(&frame_header(compressed, message.len()));
    frame.put_slice(message);
    frame.freeze()
}

/// The header of a frame around a message of `length` bytes: the compressed flag, then the
/// length as a big-endian `u32` (saturated, as [`encode_frame`] says).
pub fn frame_header(compressed: bool, length: usize) -> [u8; FRAME_HEADER_LEN] {
    let [a, b, c, d] = u32::try_from(length).unwrap_or(u32::MAX).to_be_bytes();
    [u8::from(compressed), a, b, c, d]
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether the message is compressed with the stream's `grpc-encoding`.
    pub compressed: bool,
    /// The message length in bytes (of the compressed message when `compressed`).
    pub length: u32,
}

/// Why gRPC framing could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The compressed flag was neither 0 nor 1.
    #[error("invalid gRPC frame flag {0:#04x}")]
    InvalidFlag(u8),
    /// The body ended inside a frame.
    #[error("truncated gRPC frame: expected {expected} bytes, got {actual}")]
    Truncated {
        /// Bytes the header announced (plus the header).
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
    /// More than one message in a unary body.
    #[error("more than one message in a unary gRPC body")]
    TrailingData,
    /// The compressed flag is set but the stream has no `grpc-encoding` (or `identity`).
    #[error("compressed gRPC message without a grpc-encoding")]
    CompressedWithoutEncoding,
}

/// Parses a 5-byte frame header.
pub fn parse_frame_header(header: [u8; FRAME_HEADER_LEN]) -> Result<FrameHeader, FrameError> {
    let compressed = match header[0] {
        0 => false,
        1 => true,
        flag => return Err(FrameError::InvalidFlag(flag)),
    };
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    Ok(FrameHeader { compressed, length })
}

/// Splits a complete unary body into its one message: `Ok(None)` for an empty body (no
/// message at all), an error for a truncated frame or data after the first message.
pub fn parse_unary_body(body: &[u8]) -> Result<Option<(FrameHeader, &[u8])>, FrameError> {
    if body.is_empty() {
        return Ok(None);
    }
    let Some((header, rest)) = body.split_first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(FrameError::Truncated {
            expected: FRAME_HEADER_LEN,
            actual: body.len(),
        });
    };
    let header = parse_frame_header(*header)?;
    let length = header.length as usize;
    match rest.len().cmp(&length) {
        std::cmp::Ordering::Less => Err(FrameError::Truncated {
            expected: FRAME_HEADER_LEN + length,
            actual: body.len(),
        }),
        std::cmp::Ordering::Greater => Err(FrameError::TrailingData),
        std::cmp::Ordering::Equal => Ok(Some((header, rest))),
    }
}

/// A gRPC status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum GrpcCode {
    /// Success.
    Ok = 0,
    /// The operation was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error (also any code this enum does not know).
    Unknown = 2,
    /// The client sent an invalid request (OTLP: bad data, do not retry).
    InvalidArgument = 3,
    /// The deadline expired before the operation completed.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity a client tried to create already exists.
    AlreadyExists = 6,
    /// The caller may not execute the operation.
    PermissionDenied = 7,
    /// A resource (here: the message size limit) is exhausted.
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9,
    /// The operation was aborted.
    Aborted = 10,
    /// The operation went past a valid range.
    OutOfRange = 11,
    /// The operation (here: a signal or an encoding) is not implemented.
    Unimplemented = 12,
    /// An internal invariant was broken.
    Internal = 13,
    /// The service is unavailable for now (OTLP: retry, honouring RetryInfo).
    Unavailable = 14,
    /// Unrecoverable data loss.
    DataLoss = 15,
    /// The request lacks valid authentication credentials.
    Unauthenticated = 16,
}

impl GrpcCode {
    const ALL: [GrpcCode; 17] = [
        GrpcCode::Ok,
        GrpcCode::Cancelled,
        GrpcCode::Unknown,
        GrpcCode::InvalidArgument,
        GrpcCode::DeadlineExceeded,
        GrpcCode::NotFound,
        GrpcCode::AlreadyExists,
        GrpcCode::PermissionDenied,
        GrpcCode::ResourceExhausted,
        GrpcCode::FailedPrecondition,
        GrpcCode::Aborted,
        GrpcCode::OutOfRange,
        GrpcCode::Unimplemented,
        GrpcCode::Internal,
        GrpcCode::Unavailable,
        GrpcCode::DataLoss,
        GrpcCode::Unauthenticated,
    ];

    /// The code with this number; unknown numbers are [`GrpcCode::Unknown`].
    pub fn from_u32(code: u32) -> GrpcCode {
        usize::try_from(code)
            .ok()
            .and_then(|index| GrpcCode::ALL.get(index).copied())
            .unwrap_or(GrpcCode::Unknown)
    }

    /// The code in a `grpc-status` header value (ASCII decimal); anything else is
    /// [`GrpcCode::Unknown`].
    pub fn from_header(value: &[u8]) -> GrpcCode {
        std::str::from_utf8(value)
            .ok()
            .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u32>().ok())
            .map_or(GrpcCode::Unknown, GrpcCode::from_u32)
    }

    /// The code's number.
    pub const fn as_u32(self) -> u32 {
        self as u32
    }

    /// The canonical name: `OK`, `INVALID_ARGUMENT`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            GrpcCode::Ok => "OK",
            GrpcCode::Cancelled => "CANCELLED",
            GrpcCode::Unknown => "UNKNOWN",
            GrpcCode::InvalidArgument => "INVALID_ARGUMENT",
            GrpcCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            GrpcCode::NotFound => "NOT_FOUND",
            GrpcCode::AlreadyExists => "ALREADY_EXISTS",
            GrpcCode::PermissionDenied => "PERMISSION_DENIED",
            GrpcCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            GrpcCode::FailedPrecondition => "FAILED_PRECONDITION",
            GrpcCode::Aborted => "ABORTED",
            GrpcCode::OutOfRange => "OUT_OF_RANGE",
            GrpcCode::Unimplemented => "UNIMPLEMENTED",
            GrpcCode::Internal => "INTERNAL",
            GrpcCode::Unavailable => "UNAVAILABLE",
            GrpcCode::DataLoss => "DATA_LOSS",
            GrpcCode::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// The `grpc-status` header value (the decimal number).
    pub fn header_value(self) -> http::HeaderValue {
        http::HeaderValue::from(self.as_u32())
    }
}

impl std::fmt::Display for GrpcCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Percent-encodes a status message for `grpc-message`: the UTF-8 bytes outside printable
/// ASCII (0x20..=0x7E), and `%` itself, become `%XX`.
pub fn percent_encode_message(message: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(message.len());
    for &byte in message.as_bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Decodes a `grpc-message` value. A `%` not followed by two hex digits is kept as is, as the
/// gRPC spec asks; invalid UTF-8 is replaced by U+FFFD.
pub fn percent_decode_message(value: &[u8]) -> String {
    fn hex(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            b'A'..=b'F' => Some(byte - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%'
            && let (Some(high), Some(low)) = (
                value.get(i + 1).copied().and_then(hex),
                value.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(high << 4 | low);
            i += 3;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// The gRPC code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// A developer-facing message in English.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    /// `type.googleapis.com/<full message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RetryInfo {
    /// How long the client should wait before retrying.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds, 0..=999_999_999 for positive durations.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The `type_url` of [`RetryInfo`] inside an `Any`.
pub const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// Encodes a `google.rpc.Status` with one `RetryInfo` detail carrying `delay`: the value of
/// `grpc-status-details-bin` (before base64; see `encode_status_details_header`).
pub fn status_details_with_retry_delay(code: GrpcCode, message: &str, delay: Duration) -> Vec<u8> {
    use prost::Message as _;
    let retry = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(delay.subsec_nanos()).unwrap_or(0),
        }),
    };
    RpcStatus {
        code: i32::try_from(code.as_u32()).unwrap_or(2),
        message: message.to_owned(),
        details: vec![ProtoAny {
            type_url: RETRY_INFO_TYPE_URL.to_owned(),
            value: retry.encode_to_vec(),
        }],
    }
    .encode_to_vec()
}

/// The retry delay in an encoded `google.rpc.Status`, if it has a `RetryInfo` detail with a
/// non-negative delay. Any `type_url` prefix is accepted (only the part after the last `/`
/// names the type).
pub fn retry_delay_from_status_details(bytes: &[u8]) -> Option<Duration> {
    use prost::Message as _;
    let status = RpcStatus::decode(bytes).ok()?;
    status
        .details
        .iter()
        .find(|any| any.type_url.rsplit('/').next() == Some("google.rpc.RetryInfo"))
        .and_then(|any| RetryInfo::decode(any.value.as_slice()).ok())
        .and_then(|info| info.retry_delay)
        .and_then(|d| {
            let seconds = u64::try_from(d.seconds).ok()?;
            let nanos = u32::try_from(d.nanos).ok().filter(|n| *n < 1_000_000_000)?;
            Some(Duration::new(seconds, nanos))
        })
}

/// Base64 (standard alphabet, padded) for a `-bin` header such as `grpc-status-details-bin`
/// (feature `grpc`).
#[cfg(feature = "grpc")]
pub fn encode_status_details_header(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a `-bin` header value: standard base64, padded or not (gRPC peers send either;
/// feature `grpc`).
#[cfg(feature = "grpc")]
pub fn decode_status_details_header(value: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let trimmed = value.trim_ascii();
    let unpadded = trimmed
        .strip_suffix(b"==")
        .or_else(|| trimmed.strip_suffix(b"="))
        .unwrap_or(trimmed);
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(unpadded)
        .ok()
}

/// The largest value `grpc-timeout` may carry: 8 ASCII digits.
const MAX_TIMEOUT_VALUE: u64 = 99_999_999;

/// Parses a `grpc-timeout` value: 1 to 8 ASCII digits followed by a unit, `H` hours, `M`
/// minutes, `S` seconds, `m` milliseconds, `u` microseconds or `n` nanoseconds.
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// The `grpc-accept-encoding` of this build: the message encodings it decodes (the server
/// offers them, the client lists them so that a server may compress its answers).
pub const fn accept_encoding() -> &'static str {
    match (cfg!(feature = "gzip"), cfg!(feature = "zstd")) {
        (true, true) => "gzip,deflate,zstd,identity",
        (true, false) => "gzip,deflate,identity",
        (false, true) => "zstd,identity",
        (false, false) => "identity",
    }
}

/// Formats a `grpc-timeout` value of at most 8 digits: whole milliseconds as `"{ms}m"` (10 s is
/// `"10000m"`), otherwise the finest unit that fits, rounded up so the deadline is never
/// shortened. Durations beyond 99,999,999 hours saturate there.
pub fn format_grpc_timeout(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    if nanos.is_multiple_of(1_000_000) && nanos / 1_000_000 <= u128::from(MAX_TIMEOUT_VALUE) {
        return format!("{}m", nanos / 1_000_000);
    }
    const UNITS: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (size, unit) in UNITS {
        let amount = nanos.div_ceil(size);
        if amount <= u128::from(MAX_TIMEOUT_VALUE) {
            return format!("{amount}{unit}");
        }
    }
    format!("{MAX_TIMEOUT_VALUE}H")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frame = encode_frame(b"hello", true);
        assert_eq!(&frame[..], b"\x01\x00\x00\x00\x05hello");
        let header = parse_frame_header(frame[..5].try_into().unwrap()).unwrap();
        assert_eq!(
            header,
            FrameHeader {
                compressed: true,
                length: 5
            }
        );
        assert_eq!(
            parse_unary_body(&frame).unwrap(),
            Some((header, &b"hello"[..]))
        );
        assert_eq!(parse_unary_body(b"").unwrap(), None);
        assert_eq!(
            parse_frame_header([2, 0, 0, 0, 0]),
            Err(FrameError::InvalidFlag(2))
        );
        assert!(matches!(
            parse_unary_body(&frame[..7]),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(
            parse_unary_body(&frame[..3]),
            Err(FrameError::Truncated { .. })
        ));
        let mut two = frame.to_vec();
        two.push(0);
        assert_eq!(parse_unary_body(&two), Err(FrameError::TrailingData));
    }

    #[test]
    fn codes() {
        for (n, code) in GrpcCode::ALL.iter().enumerate() {
            assert_eq!(code.as_u32() as usize, n);
            assert_eq!(GrpcCode::from_u32(n as u32), *code);
            assert_eq!(GrpcCode::from_header(n.to_string().as_bytes()), *code);
        }
        assert_eq!(GrpcCode::from_u32(17), GrpcCode::Unknown);
        assert_eq!(GrpcCode::from_header(b"+3"), GrpcCode::Unknown);
        assert_eq!(GrpcCode::from_header(b""), GrpcCode::Unknown);
        assert_eq!(GrpcCode::from_header(b"99999999999999"), GrpcCode::Unknown);
        assert_eq!(GrpcCode::ResourceExhausted.as_str(), "RESOURCE_EXHAUSTED");
        assert_eq!(GrpcCode::Unavailable.header_value(), "14");
    }

    #[test]
    fn messages_percent_encode() {
        let message = "bad data: 100% \u{e9}t\u{e9}\n";
        let encoded = percent_encode_message(message);
        assert_eq!(encoded, "bad data: 100%25 %C3%A9t%C3%A9%0A");
        assert_eq!(percent_decode_message(encoded.as_bytes()), message);
        assert_eq!(percent_decode_message(b"50%zz%4"), "50%zz%4");
        assert_eq!(percent_decode_message(b"%ff"), "\u{fffd}");
    }

    #[test]
    fn retry_info_round_trips() {
        let delay = Duration::from_millis(2500);
        let bytes = status_details_with_retry_delay(GrpcCode::Unavailable, "busy", delay);
        assert_eq!(retry_delay_from_status_details(&bytes), Some(delay));
        #[cfg(feature = "grpc")]
        {
            let header = encode_status_details_header(&bytes);
            let unpadded = header.trim_end_matches('=');
            assert_eq!(
                decode_status_details_header(header.as_bytes()).unwrap(),
                bytes
            );
            assert_eq!(
                decode_status_details_header(unpadded.as_bytes()).unwrap(),
                bytes
            );
        }
        assert_eq!(retry_delay_from_status_details(b"\xff\xff"), None);
        use prost::Message as _;
        let negative = RpcStatus {
            code: 14,
            message: String::new(),
            details: vec![ProtoAny {
                type_url: "example.com/google.rpc.RetryInfo".into(),
                value: RetryInfo {
                    retry_delay: Some(ProtoDuration {
                        seconds: -1,
                        nanos: 0,
                    }),
                }
                .encode_to_vec(),
            }],
        };
        assert_eq!(
            retry_delay_from_status_details(&negative.encode_to_vec()),
            None
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_grpc_timeout("10000m"), Some(Duration::from_secs(10)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("5n"), Some(Duration::from_nanos(5)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("m"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
        assert_eq!(parse_grpc_timeout("-1S"), None);
        assert_eq!(parse_grpc_timeout(""), None);
        assert_eq!(parse_grpc_timeout("1\u{e9}"), None);
        assert_eq!(format_grpc_timeout(Duration::from_secs(10)), "10000m");
        assert_eq!(format_grpc_timeout(Duration::from_nanos(1500)), "1500n");
        assert_eq!(format_grpc_timeout(Duration::from_secs(200_000)), "200000S");
        assert_eq!(format_grpc_timeout(Duration::MAX), "99999999H");
        for d in [1u64, 999, 1_000_001, 123_456_789_012, 10_000_000_000_000] {
            let d = Duration::from_nanos(d);
            let text = format_grpc_timeout(d);
            assert!(text.len() <= 9, "{text}");
            assert!(parse_grpc_timeout(&text).unwrap() >= d, "{text}");
        }
    }
}
