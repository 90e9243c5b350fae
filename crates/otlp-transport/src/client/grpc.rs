//! OTLP/gRPC: one unary call per attempt, spoken directly on hyper's HTTP/2 client.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, TE};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Incoming;

use super::error::{ExportError, ResponseStatus};
use super::{MAX_RESPONSE_BYTES, collect_body, decode_protobuf_response};
use crate::compression::{self, Compression, CompressionLevel};
use crate::grpc_wire::{self, GrpcCode};
use crate::signal::{PartialSuccess, Signal};

/// Frames the (already encoded) protobuf message, compressed if configured. Done once per
/// export; every attempt sends the same bytes.
pub(crate) fn frame(
    message: &[u8],
    compression: Compression,
    level: CompressionLevel,
) -> Result<Bytes, ExportError> {
    if compression == Compression::None {
        return Ok(grpc_wire::encode_frame(message, false));
    }
    // Compressed after room for the frame header, which is then written in place: the
    // compressed bytes are not copied into a frame.
    let mut frame =
        compression::compress_after(compression, level, message, grpc_wire::FRAME_HEADER_LEN)
            .map_err(ExportError::encode)?;
    let header = grpc_wire::frame_header(true, frame.len() - grpc_wire::FRAME_HEADER_LEN);
    frame[..grpc_wire::FRAME_HEADER_LEN].copy_from_slice(&header);
    Ok(Bytes::from(frame))
}

/// The request of one attempt.
pub(crate) fn request(
    uri: &Uri,
    body: Bytes,
    compression: Compression,
    timeout: Duration,
    headers: &HeaderMap,
) -> Result<Request<Full<Bytes>>, ExportError> {
    let mut request = Request::post(uri.clone())
        .version(http::Version::HTTP_2)
        .body(Full::new(body))
        .map_err(ExportError::encode)?;
    let map = request.headers_mut();
    map.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(grpc_wire::GRPC_CONTENT_TYPE),
    );
    map.insert(TE, HeaderValue::from_static("trailers"));
    map.insert(
        grpc_wire::GRPC_ACCEPT_ENCODING,
        HeaderValue::from_static(grpc_wire::accept_encoding()),
    );
    if let Some(token) = compression.grpc_token() {
        map.insert(grpc_wire::GRPC_ENCODING, HeaderValue::from_static(token));
    }
    if let Ok(value) = HeaderValue::from_str(&grpc_wire::format_grpc_timeout(timeout)) {
        map.insert(grpc_wire::GRPC_TIMEOUT, value);
    }
    for (name, value) in headers {
        map.append(name, value.clone());
    }
    Ok(request)
}

/// The gRPC code for an HTTP status when the answer has no `grpc-status` (an intermediary
/// answered), per gRPC's "HTTP to gRPC Status Code Mapping".
fn code_from_http(status: StatusCode) -> GrpcCode {
    match status.as_u16() {
        400 => GrpcCode::Internal,
        401 => GrpcCode::Unauthenticated,
        403 => GrpcCode::PermissionDenied,
        404 => GrpcCode::Unimplemented,
        429 | 502 | 503 | 504 => GrpcCode::Unavailable,
        _ => GrpcCode::Unknown,
    }
}

/// Whether the OTLP specification allows retrying a code: CANCELLED, DEADLINE_EXCEEDED,
/// ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only when the
/// status carries `RetryInfo` (the receiver says it can recover).
pub(crate) fn is_retryable(code: GrpcCode, has_retry_info: bool) -> bool {
    match code {
        GrpcCode::Cancelled
        | GrpcCode::DeadlineExceeded
        | GrpcCode::Aborted
        | GrpcCode::OutOfRange
        | GrpcCode::Unavailable
        | GrpcCode::DataLoss => true,
        GrpcCode::ResourceExhausted => has_retry_info,
        _ => false,
    }
}

/// Reads the answer of one attempt: the status from the trailers (or the headers of a
/// trailers-only answer), then the response message if the status is OK.
pub(crate) async fn response(
    signal: Signal,
    response: Response<Incoming>,
) -> Result<Option<PartialSuccess>, ExportError> {
    let (parts, body) = response.into_parts();
    // A trailers-only answer (status in the headers) has no message to wait for; neither has
    // a non-200 answer from an intermediary. Still read (a bounded amount of) the body so the
    // HTTP/2 stream ends cleanly.
    let (data, trailers) = match collect_body(body, MAX_RESPONSE_BYTES).await {
        Ok(collected) => collected,
        Err(error)
            if parts.status != StatusCode::OK
                || parts.headers.contains_key(grpc_wire::GRPC_STATUS) =>
        {
            tracing::debug!(%error, "ignoring the body of a gRPC error answer");
            (Bytes::new(), None)
        }
        Err(error) => return Err(error),
    };
    let status_source = match &trailers {
        Some(trailers) if trailers.contains_key(grpc_wire::GRPC_STATUS) => trailers,
        _ => &parts.headers,
    };
    let code = match status_source.get(grpc_wire::GRPC_STATUS) {
        Some(value) => GrpcCode::from_header(value.as_bytes()),
        None if parts.status != StatusCode::OK => {
            let code = code_from_http(parts.status);
            return Err(status_error(
                code,
                format!("HTTP {} without grpc-status", parts.status),
                None,
            ));
        }
        None => {
            return Err(ExportError::InvalidResponse(
                "the answer has no grpc-status (in trailers or headers)".into(),
            ));
        }
    };
    if code != GrpcCode::Ok {
        let message = status_source
            .get(grpc_wire::GRPC_MESSAGE)
            .map(|value| grpc_wire::percent_decode_message(value.as_bytes()))
            .unwrap_or_default();
        let retry_after = status_source
            .get(grpc_wire::GRPC_STATUS_DETAILS_BIN)
            .and_then(|value| grpc_wire::decode_status_details_header(value.as_bytes()))
            .and_then(|details| grpc_wire::retry_delay_from_status_details(&details));
        return Err(status_error(code, message, retry_after));
    }
    let (header, message) = match grpc_wire::parse_unary_body(&data) {
        Ok(Some(frame)) => frame,
        // OK without a message: the receiver accepted the data; nothing to report.
        Ok(None) => return Ok(None),
        Err(error) => return Err(ExportError::InvalidResponse(error.to_string())),
    };
    let message = if header.compressed {
        let encoding = parts
            .headers
            .get(grpc_wire::GRPC_ENCODING)
            .and_then(|value| value.to_str().ok())
            .and_then(Compression::from_token)
            .filter(|c| *c != Compression::None)
            .ok_or_else(|| {
                ExportError::InvalidResponse(
                    "a compressed response message without a known grpc-encoding".into(),
                )
            })?;
        Bytes::from(
            compression::decompress(encoding, message, MAX_RESPONSE_BYTES)
                .map_err(|e| ExportError::InvalidResponse(format!("response message: {e}")))?,
        )
    } else {
        data.slice_ref(message)
    };
    Ok(decode_protobuf_response(signal, &message))
}

fn status_error(code: GrpcCode, message: String, retry_after: Option<Duration>) -> ExportError {
    let status = ResponseStatus::Grpc(code);
    if is_retryable(code, retry_after.is_some()) {
        ExportError::Retryable {
            status,
            message,
            retry_after,
        }
    } else {
        ExportError::Rejected { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compressed_frame_has_its_header_and_the_compressed_message() {
        let message: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            if !compression.is_available() {
                continue;
            }
            let frame = frame(&message, compression, CompressionLevel::DEFAULT).unwrap();
            let header: [u8; grpc_wire::FRAME_HEADER_LEN] = frame[..5].try_into().unwrap();
            let header = grpc_wire::parse_frame_header(header).unwrap();
            assert_eq!(header.compressed, compression != Compression::None);
            assert_eq!(header.length as usize, frame.len() - 5, "{compression}");
            let body = compression::decompress(compression, &frame[5..], message.len()).unwrap();
            assert_eq!(body, message, "{compression}");
        }
    }

    #[test]
    fn retryable_codes_are_the_specs() {
        let retryable: Vec<GrpcCode> = (0..17)
            .map(GrpcCode::from_u32)
            .filter(|code| is_retryable(*code, false))
            .collect();
        assert_eq!(
            retryable,
            [
                GrpcCode::Cancelled,
                GrpcCode::DeadlineExceeded,
                GrpcCode::Aborted,
                GrpcCode::OutOfRange,
                GrpcCode::Unavailable,
                GrpcCode::DataLoss
            ]
        );
        assert!(is_retryable(GrpcCode::ResourceExhausted, true));
        assert!(!is_retryable(GrpcCode::InvalidArgument, true));
    }

    #[test]
    fn http_statuses_map_to_codes() {
        assert_eq!(code_from_http(StatusCode::BAD_REQUEST), GrpcCode::Internal);
        assert_eq!(
            code_from_http(StatusCode::UNAUTHORIZED),
            GrpcCode::Unauthenticated
        );
        assert_eq!(
            code_from_http(StatusCode::FORBIDDEN),
            GrpcCode::PermissionDenied
        );
        assert_eq!(
            code_from_http(StatusCode::NOT_FOUND),
            GrpcCode::Unimplemented
        );
        for status in [429, 502, 503, 504] {
            assert_eq!(
                code_from_http(StatusCode::from_u16(status).unwrap()),
                GrpcCode::Unavailable
            );
        }
        assert_eq!(
            code_from_http(StatusCode::INTERNAL_SERVER_ERROR),
            GrpcCode::Unknown
        );
    }
}
