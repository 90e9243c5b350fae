//! The request decoding path as one pure function ([`decode_request`]), and the encoding of
//! responses and error bodies. No I/O here: the property tests in `tests/server_fuzz.rs` feed
//! it arbitrary bytes and headers.

use bytes::Bytes;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use super::config::Limits;
use crate::compression::{self, Compression, CompressionError};
use crate::grpc_wire::{self, FRAME_HEADER_LEN, FrameError, GrpcCode};
use crate::status::{Refusal, ServerError};
use crate::{ExportRequest, PartialSuccess, Signal};

/// The body format of a request (and of its response).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// OTLP/HTTP binary protobuf, `application/x-protobuf`.
    Protobuf,
    /// OTLP/HTTP JSON, `application/json` (feature `json`).
    Json,
    /// OTLP/gRPC, `application/grpc` (or `application/grpc+proto`): protobuf in gRPC framing.
    Grpc,
}

impl ContentType {
    /// The format named by a `Content-Type` value: the media type is matched without its
    /// parameters (`; charset=utf-8`), case-insensitively. `None` for anything else,
    /// `application/grpc+json` included.
    pub fn parse(value: &str) -> Option<ContentType> {
        let media = value.split(';').next().unwrap_or_default().trim();
        let eq = |name: &str| media.eq_ignore_ascii_case(name);
        if eq("application/x-protobuf") {
            Some(ContentType::Protobuf)
        } else if eq("application/json") {
            Some(ContentType::Json)
        } else if eq("application/grpc") || eq("application/grpc+proto") {
            Some(ContentType::Grpc)
        } else {
            None
        }
    }

    /// The `Content-Type` value this format is answered with.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContentType::Protobuf => "application/x-protobuf",
            ContentType::Json => "application/json",
            ContentType::Grpc => grpc_wire::GRPC_CONTENT_TYPE,
        }
    }

    /// Whether this build decodes the format (JSON needs the `json` feature).
    pub const fn is_available(self) -> bool {
        match self {
            ContentType::Json => cfg!(feature = "json"),
            ContentType::Protobuf | ContentType::Grpc => true,
        }
    }
}

/// A decoded Export request of any signal.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyExportRequest {
    /// Traces.
    Traces(ExportTraceServiceRequest),
    /// Metrics.
    Metrics(ExportMetricsServiceRequest),
    /// Logs.
    Logs(ExportLogsServiceRequest),
    /// Profiles.
    Profiles(ExportProfilesServiceRequest),
}

impl AnyExportRequest {
    /// The request's signal.
    pub fn signal(&self) -> Signal {
        match self {
            AnyExportRequest::Traces(_) => Signal::Traces,
            AnyExportRequest::Metrics(_) => Signal::Metrics,
            AnyExportRequest::Logs(_) => Signal::Logs,
            AnyExportRequest::Profiles(_) => Signal::Profiles,
        }
    }

    /// Spans, data points, log records or profiles in the request.
    pub fn item_count(&self) -> usize {
        match self {
            AnyExportRequest::Traces(r) => r.item_count(),
            AnyExportRequest::Metrics(r) => r.item_count(),
            AnyExportRequest::Logs(r) => r.item_count(),
            AnyExportRequest::Profiles(r) => r.item_count(),
        }
    }

    /// Whether the request carries no resource entries at all (an empty request, which is
    /// answered success without calling the handler).
    pub fn is_empty(&self) -> bool {
        match self {
            AnyExportRequest::Traces(r) => r.resource_spans.is_empty(),
            AnyExportRequest::Metrics(r) => r.resource_metrics.is_empty(),
            AnyExportRequest::Logs(r) => r.resource_logs.is_empty(),
            AnyExportRequest::Profiles(r) => r.resource_profiles.is_empty(),
        }
    }
}

/// The result of [`decode_request`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecodedRequest {
    /// The decoded request.
    pub request: AnyExportRequest,
    /// The body format.
    pub content_type: ContentType,
    /// The content encoding the body was decompressed from.
    pub compression: Compression,
    /// Size of the decompressed message in bytes.
    pub decoded_size: usize,
    /// The decompressed protobuf message (`None` for JSON), validated by decoding it.
    pub protobuf: Option<Bytes>,
}

/// Decodes one complete request body: content type and encoding checks, gRPC unary framing,
/// the size limits (compressed and decompressed, the latter enforced while decompressing so a
/// bomb is never inflated), decompression, and protobuf or JSON decoding.
///
/// `content_type` is the `Content-Type` header (empty if missing); `content_encoding` is
/// `Content-Encoding` for HTTP and `grpc-encoding` for gRPC. A zero-length body (for gRPC:
/// no message, or an empty one) is an empty request. Never panics, whatever the input.
pub fn decode_request(
    signal: Signal,
    content_type: &str,
    content_encoding: Option<&str>,
    body: Bytes,
    limits: &Limits,
) -> Result<DecodedRequest, ServerError> {
    decode_request_charged(
        signal,
        content_type,
        content_encoding,
        body,
        limits,
        &mut |_| Ok(()),
    )
}

/// [`decode_request`], charging `charge` with the decompressed size as the body inflates
/// (every [`CHARGE_STEP`](crate::compression::CHARGE_STEP)); its refusal stops the
/// decompression and is the answer.
pub fn decode_request_charged(
    signal: Signal,
    content_type: &str,
    content_encoding: Option<&str>,
    body: Bytes,
    limits: &Limits,
    charge: &mut dyn FnMut(usize) -> Result<(), Refusal>,
) -> Result<DecodedRequest, ServerError> {
    let (format, compression, message) =
        decompress_body(content_type, content_encoding, body, limits, charge)?;
    decode_message(signal, format, compression, message)
}

/// A request validated without being decoded ([`receive_request_charged`] with
/// [`DecodeMode::Validate`]): its protobuf bytes, checked by [`otlp_proto::wire::validate`]
/// (everything decoding would check, and the id lengths), and what they hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidatedRequest {
    /// The request's signal.
    pub signal: Signal,
    /// The body format (protobuf or gRPC).
    pub content_type: ContentType,
    /// The content encoding the body was decompressed from.
    pub compression: Compression,
    /// The decompressed protobuf message; it decodes, with valid ids.
    pub protobuf: Bytes,
    /// Spans, data points, log records or profiles in it.
    pub items: usize,
    /// Its resource entries; zero is an empty request.
    pub resources: usize,
}

/// How much of a request [`receive_request_charged`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeMode {
    /// Decode into the request's message (always, for OTLP/JSON).
    Decode,
    /// Protobuf and gRPC bodies: validate the bytes with an allocation-free walk and hand
    /// them on undecoded. Bodies the walk refuses are decoded, so that the answer (and its
    /// message) is exactly what [`Decode`](Self::Decode) gives.
    Validate,
}

/// A received request: decoded, or validated bytes.
#[derive(Debug, Clone)]
pub enum ReceivedRequest {
    /// Decoded.
    Decoded(DecodedRequest),
    /// Validated, not decoded.
    Validated(ValidatedRequest),
}

impl ReceivedRequest {
    /// The request's signal.
    pub fn signal(&self) -> Signal {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.request.signal(),
            ReceivedRequest::Validated(validated) => validated.signal,
        }
    }

    /// Spans, data points, log records or profiles in the request.
    pub fn item_count(&self) -> usize {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.request.item_count(),
            ReceivedRequest::Validated(validated) => validated.items,
        }
    }

    /// Whether the request has no resource entries (answered success without the handler).
    pub fn is_empty(&self) -> bool {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.request.is_empty(),
            ReceivedRequest::Validated(validated) => validated.resources == 0,
        }
    }

    /// The body format.
    pub fn content_type(&self) -> ContentType {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.content_type,
            ReceivedRequest::Validated(validated) => validated.content_type,
        }
    }

    /// The content encoding the body was decompressed from.
    pub fn compression(&self) -> Compression {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.compression,
            ReceivedRequest::Validated(validated) => validated.compression,
        }
    }

    /// Bytes of the decompressed message.
    pub fn decoded_size(&self) -> usize {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.decoded_size,
            ReceivedRequest::Validated(validated) => validated.protobuf.len(),
        }
    }

    /// The decompressed protobuf message (`None` for JSON).
    pub fn protobuf(&self) -> Option<&Bytes> {
        match self {
            ReceivedRequest::Decoded(decoded) => decoded.protobuf.as_ref(),
            ReceivedRequest::Validated(validated) => Some(&validated.protobuf),
        }
    }
}

/// [`decode_request_charged`], or with [`DecodeMode::Validate`] the same checks without
/// building the message. Both modes accept and refuse exactly the same bodies with the same
/// errors (`tests/validate_differential.rs`).
pub fn receive_request_charged(
    signal: Signal,
    content_type: &str,
    content_encoding: Option<&str>,
    body: Bytes,
    limits: &Limits,
    charge: &mut dyn FnMut(usize) -> Result<(), Refusal>,
    mode: DecodeMode,
) -> Result<ReceivedRequest, ServerError> {
    let (format, compression, message) =
        decompress_body(content_type, content_encoding, body, limits, charge)?;
    if mode == DecodeMode::Validate && format != ContentType::Json {
        match otlp_proto::wire::validate(signal.wire_request(), &message) {
            Ok(summary) => {
                return Ok(ReceivedRequest::Validated(ValidatedRequest {
                    signal,
                    content_type: format,
                    compression,
                    protobuf: message,
                    items: summary.items,
                    resources: summary.resources,
                }));
            }
            // Decoding names the fault the way every receiver answers it (and decides the
            // rare body the walk is stricter about: an id written twice, first malformed).
            Err(error) => tracing::trace!(%signal, %error, "wire validation refused; decoding"),
        }
    }
    decode_message(signal, format, compression, message).map(ReceivedRequest::Decoded)
}

/// Content type and encoding checks, gRPC unary framing, the size limits and decompression:
/// the decompressed message.
fn decompress_body(
    content_type: &str,
    content_encoding: Option<&str>,
    body: Bytes,
    limits: &Limits,
    charge: &mut dyn FnMut(usize) -> Result<(), Refusal>,
) -> Result<(ContentType, Compression, Bytes), ServerError> {
    let format = parse_content_type(content_type)?;
    let compression = parse_encoding(format, content_encoding)?;
    let message = match format {
        ContentType::Grpc => unframe(body, compression, limits, charge)?,
        ContentType::Protobuf | ContentType::Json => {
            let compressed = compression != Compression::None;
            if body.len() > limits.wire_cap(compressed) {
                return Err(ServerError::TooLarge {
                    limit: limits.wire_cap(compressed),
                });
            }
            inflate(compression, body, limits.max_request_size, charge)?
        }
    };
    Ok((format, compression, message))
}

/// Decodes a decompressed message and checks its ids.
fn decode_message(
    signal: Signal,
    format: ContentType,
    compression: Compression,
    message: Bytes,
) -> Result<DecodedRequest, ServerError> {
    let decoded_size = message.len();
    let request = match format {
        ContentType::Json => decode_json(signal, &message)?,
        ContentType::Protobuf | ContentType::Grpc => decode_protobuf(signal, message.clone())?,
    };
    super::ids::check_ids(&request)?;
    let protobuf = (format != ContentType::Json).then_some(message);
    Ok(DecodedRequest {
        request,
        content_type: format,
        compression,
        decoded_size,
        protobuf,
    })
}

/// The body format of a `Content-Type`, if supported.
pub(crate) fn parse_content_type(content_type: &str) -> Result<ContentType, ServerError> {
    ContentType::parse(content_type)
        .filter(|format| format.is_available())
        .ok_or_else(|| ServerError::UnsupportedContentType {
            content_type: content_type.into(),
        })
}

/// The encoding of a `Content-Encoding` / `grpc-encoding`, if supported by this format.
pub(crate) fn parse_encoding(
    format: ContentType,
    encoding: Option<&str>,
) -> Result<Compression, ServerError> {
    let Some(token) = encoding.filter(|t| !t.trim().is_empty()) else {
        return Ok(Compression::None);
    };
    Compression::from_token(token)
        .filter(|c| c.is_available())
        .filter(|c| {
            format != ContentType::Grpc || *c == Compression::None || c.grpc_token().is_some()
        })
        .ok_or_else(|| ServerError::UnsupportedEncoding {
            encoding: token.into(),
        })
}

/// Checks a gRPC frame header against the limits: the size check made before the message is
/// read.
pub(crate) fn check_frame_header(
    header: [u8; FRAME_HEADER_LEN],
    compression: Compression,
    limits: &Limits,
) -> Result<grpc_wire::FrameHeader, ServerError> {
    let header = grpc_wire::parse_frame_header(header).map_err(ServerError::Framing)?;
    if header.compressed && compression == Compression::None {
        return Err(ServerError::Framing(FrameError::CompressedWithoutEncoding));
    }
    let cap = limits.wire_cap(header.compressed);
    if usize::try_from(header.length).map_or(true, |length| length > cap) {
        return Err(ServerError::TooLarge { limit: cap });
    }
    Ok(header)
}

/// The one message of a unary gRPC body, decompressed.
fn unframe(
    body: Bytes,
    compression: Compression,
    limits: &Limits,
    charge: &mut dyn FnMut(usize) -> Result<(), Refusal>,
) -> Result<Bytes, ServerError> {
    let Some(header) = body.first_chunk::<FRAME_HEADER_LEN>() else {
        return if body.is_empty() {
            Ok(Bytes::new())
        } else {
            Err(ServerError::Framing(FrameError::Truncated {
                expected: FRAME_HEADER_LEN,
                actual: body.len(),
            }))
        };
    };
    let header = check_frame_header(*header, compression, limits)?;
    let (_, message) = grpc_wire::parse_unary_body(&body)
        .map_err(ServerError::Framing)?
        .ok_or(ServerError::Framing(FrameError::Truncated {
            expected: 5,
            actual: 0,
        }))?;
    let message = body.slice_ref(message);
    if header.compressed {
        inflate(compression, message, limits.max_request_size, charge)
    } else {
        Ok(message)
    }
}

/// Decompresses `data` within `limit`; identity is a zero-copy pass-through.
fn inflate(
    compression: Compression,
    data: Bytes,
    limit: usize,
    charge: &mut dyn FnMut(usize) -> Result<(), Refusal>,
) -> Result<Bytes, ServerError> {
    if compression == Compression::None {
        if data.len() > limit {
            return Err(ServerError::TooLarge { limit });
        }
        return Ok(data);
    }
    let mut refused = None;
    let mut keep_going = |decompressed: usize| match charge(decompressed) {
        Ok(()) => true,
        Err(refusal) => {
            refused = Some(refusal);
            false
        }
    };
    match compression::decompress_charged(compression, &data, limit, &mut keep_going) {
        Ok(decoded) => Ok(Bytes::from(decoded)),
        Err(CompressionError::Stopped) => Err(match refused {
            Some(refusal) => ServerError::Refused(refusal),
            None => ServerError::Internal("decompression stopped without a refusal".into()),
        }),
        Err(CompressionError::TooLarge { limit }) => Err(ServerError::TooLarge { limit }),
        Err(CompressionError::Corrupt(source)) => Err(ServerError::CorruptCompression {
            encoding: compression,
            source,
        }),
        Err(CompressionError::Unavailable(c)) => Err(ServerError::UnsupportedEncoding {
            encoding: c.name().into(),
        }),
    }
}

fn decode_protobuf(signal: Signal, message: Bytes) -> Result<AnyExportRequest, ServerError> {
    let error = ServerError::InvalidProtobuf;
    Ok(match signal {
        Signal::Traces => {
            AnyExportRequest::Traces(ExportTraceServiceRequest::decode(message).map_err(error)?)
        }
        Signal::Metrics => {
            AnyExportRequest::Metrics(ExportMetricsServiceRequest::decode(message).map_err(error)?)
        }
        Signal::Logs => {
            AnyExportRequest::Logs(ExportLogsServiceRequest::decode(message).map_err(error)?)
        }
        Signal::Profiles => AnyExportRequest::Profiles(
            ExportProfilesServiceRequest::decode(message).map_err(error)?,
        ),
    })
}

#[cfg(feature = "json")]
fn decode_json(signal: Signal, message: &[u8]) -> Result<AnyExportRequest, ServerError> {
    use otlp_proto::json;
    fn read<T: serde::de::DeserializeOwned + Default>(message: &[u8]) -> Result<T, ServerError> {
        if message.is_empty() {
            return Ok(T::default());
        }
        json::from_slice(message).map_err(|e| ServerError::InvalidJson(e.to_string()))
    }
    Ok(match signal {
        Signal::Traces => AnyExportRequest::Traces(read(message)?),
        Signal::Metrics => AnyExportRequest::Metrics(read(message)?),
        Signal::Logs => AnyExportRequest::Logs(read(message)?),
        Signal::Profiles => AnyExportRequest::Profiles(read(message)?),
    })
}

#[cfg(not(feature = "json"))]
fn decode_json(_signal: Signal, _message: &[u8]) -> Result<AnyExportRequest, ServerError> {
    Err(ServerError::UnsupportedContentType {
        content_type: ContentType::Json.as_str().into(),
    })
}

/// The encoded Export response of `signal` carrying `partial`, in `format` (gRPC: the bare
/// protobuf message, unframed).
pub(crate) fn encode_response(
    signal: Signal,
    format: ContentType,
    partial: Option<PartialSuccess>,
) -> Vec<u8> {
    fn encode<R: ExportRequest>(format: ContentType, partial: Option<PartialSuccess>) -> Vec<u8>
    where
        R::Response: ResponseJson,
    {
        let response = R::response(partial);
        match format {
            ContentType::Json => response.to_json(),
            ContentType::Protobuf | ContentType::Grpc => response.encode_to_vec(),
        }
    }
    match signal {
        Signal::Traces => encode::<ExportTraceServiceRequest>(format, partial),
        Signal::Metrics => encode::<ExportMetricsServiceRequest>(format, partial),
        Signal::Logs => encode::<ExportLogsServiceRequest>(format, partial),
        Signal::Profiles => encode::<ExportProfilesServiceRequest>(format, partial),
    }
}

/// OTLP/JSON encoding of the response types (a bound usable with and without `json`).
trait ResponseJson {
    fn to_json(&self) -> Vec<u8>;
}

#[cfg(feature = "json")]
impl<T: serde::Serialize> ResponseJson for T {
    fn to_json(&self) -> Vec<u8> {
        // Serializing the generated response types cannot fail (no maps with non-string keys,
        // an infallible writer); fall back to the empty object, which means full success.
        otlp_proto::json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

#[cfg(not(feature = "json"))]
impl<T> ResponseJson for T {
    fn to_json(&self) -> Vec<u8> {
        b"{}".to_vec()
    }
}

/// An HTTP error body: `google.rpc.Status` with the gRPC code and message, in `format`
/// (protobuf for anything but JSON), as the OTLP/HTTP spec asks.
pub(crate) fn encode_status_body(format: ContentType, code: GrpcCode, message: &str) -> Vec<u8> {
    let code_number = i32::try_from(code.as_u32()).unwrap_or(2);
    match format {
        ContentType::Json => {
            let mut out = format!("{{\"code\":{code_number},\"message\":\"").into_bytes();
            json_escape_into(message, &mut out);
            out.extend_from_slice(b"\"}");
            out
        }
        ContentType::Protobuf | ContentType::Grpc => grpc_wire::RpcStatus {
            code: code_number,
            message: message.to_owned(),
            details: Vec::new(),
        }
        .encode_to_vec(),
    }
}

/// Appends `text` as the inside of a JSON string (RFC 8259 escapes).
fn json_escape_into(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_request_size: 1000,
        max_compressed_size: 100,
    };

    #[test]
    fn content_types() {
        assert_eq!(
            ContentType::parse("application/x-protobuf"),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::parse("Application/JSON; charset=utf-8"),
            Some(ContentType::Json)
        );
        assert_eq!(
            ContentType::parse("application/grpc+proto"),
            Some(ContentType::Grpc)
        );
        assert_eq!(ContentType::parse("application/grpc+json"), None);
        assert_eq!(ContentType::parse("text/plain"), None);
        assert_eq!(ContentType::parse(""), None);
    }

    #[test]
    fn empty_bodies_are_empty_requests() {
        for ct in [
            "application/x-protobuf",
            "application/grpc",
            "application/json",
        ] {
            if !ContentType::parse(ct).is_some_and(ContentType::is_available) {
                continue;
            }
            let decoded = decode_request(Signal::Logs, ct, None, Bytes::new(), &LIMITS).unwrap();
            assert!(decoded.request.is_empty(), "{ct}");
            assert_eq!(decoded.request.signal(), Signal::Logs);
        }
        let frame = grpc_wire::encode_frame(b"", false);
        let decoded =
            decode_request(Signal::Traces, "application/grpc", None, frame, &LIMITS).unwrap();
        assert!(decoded.request.is_empty());
    }

    #[test]
    fn grpc_rules() {
        let frame = grpc_wire::encode_frame(&[0u8; 200], false);
        assert!(matches!(
            decode_request(Signal::Traces, "application/grpc", None, frame, &LIMITS),
            Err(ServerError::InvalidProtobuf(_))
        ));
        let compressed = grpc_wire::encode_frame(b"x", true);
        assert!(matches!(
            decode_request(
                Signal::Traces,
                "application/grpc",
                None,
                compressed.clone(),
                &LIMITS
            ),
            Err(ServerError::Framing(FrameError::CompressedWithoutEncoding))
        ));
        assert!(matches!(
            decode_request(
                Signal::Traces,
                "application/grpc",
                Some("br"),
                compressed,
                &LIMITS
            ),
            Err(ServerError::UnsupportedEncoding { .. })
        ));
        let big = grpc_wire::encode_frame(&[0u8; 101], true);
        let result = decode_request(
            Signal::Traces,
            "application/grpc",
            Some("gzip"),
            big,
            &LIMITS,
        );
        if cfg!(feature = "gzip") {
            assert!(matches!(result, Err(ServerError::TooLarge { limit: 100 })));
        } else {
            assert!(matches!(
                result,
                Err(ServerError::UnsupportedEncoding { .. })
            ));
        }
    }

    #[test]
    fn status_bodies() {
        let json = encode_status_body(
            ContentType::Json,
            GrpcCode::InvalidArgument,
            "a \"b\"\n\u{1}",
        );
        assert_eq!(json, br#"{"code":3,"message":"a \"b\"\n\u0001"}"#);
        let proto = encode_status_body(ContentType::Protobuf, GrpcCode::Unavailable, "busy");
        let status = grpc_wire::RpcStatus::decode(proto.as_slice()).unwrap();
        assert_eq!((status.code, status.message.as_str()), (14, "busy"));
    }
}
