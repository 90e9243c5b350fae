//! OTLP/HTTP: one POST per attempt, protobuf or JSON bodies, over HTTP/1.1 (or HTTP/2 when
//! TLS ALPN chooses it).

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use prost::Message as _;

use super::error::{ExportError, ResponseStatus};
use super::retry::parse_retry_after;
use super::{MAX_RESPONSE_BYTES, Protocol, collect_body, decode_protobuf_response};
use crate::compression::{self, Compression, CompressionLevel};
use crate::signal::{PartialSuccess, Signal};

/// `content-type` of OTLP/HTTP protobuf bodies.
pub(crate) const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf";
/// `content-type` of OTLP/HTTP JSON bodies.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";

/// The longest error message kept from an error body.
const MAX_MESSAGE_CHARS: usize = 1024;

/// Compresses the encoded body if configured. Done once per export.
pub(crate) fn body(
    encoded: Bytes,
    compression: Compression,
    level: CompressionLevel,
) -> Result<Bytes, ExportError> {
    if compression == Compression::None {
        return Ok(encoded);
    }
    compression::compress_with(compression, level, &encoded)
        .map(Bytes::from)
        .map_err(ExportError::encode)
}

/// The request of one attempt.
pub(crate) fn request(
    uri: &Uri,
    protocol: Protocol,
    body: Bytes,
    compression: Compression,
    headers: &HeaderMap,
) -> Result<Request<Full<Bytes>>, ExportError> {
    let mut request = Request::post(uri.clone())
        .body(Full::new(body))
        .map_err(ExportError::encode)?;
    let map = request.headers_mut();
    let content_type = if protocol == Protocol::HttpJson {
        JSON_CONTENT_TYPE
    } else {
        PROTOBUF_CONTENT_TYPE
    };
    map.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(token) = compression.http_token() {
        map.insert(CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    for (name, value) in headers {
        map.append(name, value.clone());
    }
    Ok(request)
}

/// The request of [`super::OtlpExporter::post_body`]: the body as given, its content type,
/// the caller's headers, then the exporter's.
pub(crate) fn raw_request(
    uri: &Uri,
    content_type: &'static str,
    extra: &[(http::HeaderName, HeaderValue)],
    body: Bytes,
    headers: &HeaderMap,
) -> Result<Request<Full<Bytes>>, ExportError> {
    let mut request = Request::post(uri.clone())
        .body(Full::new(body))
        .map_err(ExportError::encode)?;
    let map = request.headers_mut();
    map.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in extra {
        map.insert(name.clone(), value.clone());
    }
    for (name, value) in headers {
        if !map.contains_key(name) {
            map.append(name, value.clone());
        }
    }
    Ok(request)
}

/// Reads the answer of [`super::OtlpExporter::post_body`]: 2xx is success (the body is not
/// read beyond [`MAX_RESPONSE_BYTES`]), 429 and 5xx retryable, anything else rejected.
pub(crate) async fn raw_response(response: Response<Incoming>) -> Result<(), ExportError> {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let collected = collect_body(body, MAX_RESPONSE_BYTES).await;
    if status.is_success() {
        return Ok(());
    }
    let message = match collected {
        Ok((data, _)) => decode_content(&parts.headers, data)
            .map(|data| error_message(&parts.headers, &data))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let status_kind = ResponseStatus::Http(status);
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = parts
            .headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        Err(ExportError::Retryable {
            status: status_kind,
            message,
            retry_after,
        })
    } else {
        Err(ExportError::Rejected {
            status: status_kind,
            message,
        })
    }
}

/// Whether the OTLP specification allows retrying an HTTP status: 429, 502, 503, 504.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Reads the answer of one attempt.
pub(crate) async fn response(
    signal: Signal,
    protocol: Protocol,
    response: Response<Incoming>,
) -> Result<Option<PartialSuccess>, ExportError> {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let collected = collect_body(body, MAX_RESPONSE_BYTES).await;
    if status.is_success() {
        let (data, _) = collected?;
        let data = decode_content(&parts.headers, data)?;
        let json = match content_type(&parts.headers) {
            Some(value) => value.starts_with(JSON_CONTENT_TYPE),
            None => protocol == Protocol::HttpJson,
        };
        return Ok(if json {
            decode_json_response(signal, &data)
        } else {
            decode_protobuf_response(signal, &data)
        });
    }
    // An error answer: keep what message there is, never fail on its body.
    let message = match collected {
        Ok((data, _)) => decode_content(&parts.headers, data)
            .map(|data| error_message(&parts.headers, &data))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let status_kind = ResponseStatus::Http(status);
    if is_retryable(status) {
        let retry_after = parts
            .headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        Err(ExportError::Retryable {
            status: status_kind,
            message,
            retry_after,
        })
    } else {
        Err(ExportError::Rejected {
            status: status_kind,
            message,
        })
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)?
        .to_str()
        .ok()
        .map(|value| value.trim().to_ascii_lowercase())
}

/// Undoes a `Content-Encoding` on the answer.
fn decode_content(headers: &HeaderMap, data: Bytes) -> Result<Bytes, ExportError> {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Ok(data);
    };
    let encoding = value
        .to_str()
        .ok()
        .and_then(Compression::from_token)
        .ok_or_else(|| {
            ExportError::InvalidResponse(format!("unknown content-encoding {value:?}"))
        })?;
    if encoding == Compression::None {
        return Ok(data);
    }
    compression::decompress(encoding, &data, MAX_RESPONSE_BYTES)
        .map(Bytes::from)
        .map_err(|e| ExportError::InvalidResponse(format!("response body: {e}")))
}

/// The message of an error body: the `google.rpc.Status` message of a protobuf body (as the
/// OTLP specification asks receivers to send), else the start of the body as text.
fn error_message(headers: &HeaderMap, data: &[u8]) -> String {
    if content_type(headers).is_some_and(|ct| ct.starts_with(PROTOBUF_CONTENT_TYPE))
        && let Ok(status) = crate::grpc_wire::RpcStatus::decode(data)
        && !status.message.is_empty()
    {
        return status.message;
    }
    let text = String::from_utf8_lossy(data);
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The partial success of an OTLP/JSON response; an undecodable one is logged and treated
/// as full success (the receiver accepted the data).
#[cfg(feature = "json")]
fn decode_json_response(signal: Signal, data: &[u8]) -> Option<PartialSuccess> {
    use crate::signal::ExportRequest;
    use otlp_proto::collector::{logs, metrics, profiles, trace};
    if data.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    macro_rules! decode {
        ($request:ty) => {
            otlp_proto::json::from_slice::<<$request as ExportRequest>::Response>(data)
                .map(|response| <$request>::partial_success(&response))
                .map_err(|e| e.to_string())
        };
    }
    let result = match signal {
        Signal::Traces => decode!(trace::v1::ExportTraceServiceRequest),
        Signal::Metrics => decode!(metrics::v1::ExportMetricsServiceRequest),
        Signal::Logs => decode!(logs::v1::ExportLogsServiceRequest),
        Signal::Profiles => decode!(profiles::v1development::ExportProfilesServiceRequest),
    };
    result.unwrap_or_else(|error| {
        tracing::warn!(%signal, %error, "undecodable OTLP/JSON export response; data was accepted");
        None
    })
}

#[cfg(not(feature = "json"))]
fn decode_json_response(signal: Signal, _data: &[u8]) -> Option<PartialSuccess> {
    tracing::warn!(%signal, "OTLP/JSON export response, but the `json` feature is off");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_the_specs() {
        let retryable: Vec<u16> = (100..600)
            .filter(|s| is_retryable(StatusCode::from_u16(*s).unwrap()))
            .collect();
        assert_eq!(retryable, [429, 502, 503, 504]);
    }

    #[test]
    fn error_messages() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(PROTOBUF_CONTENT_TYPE),
        );
        let status = crate::grpc_wire::RpcStatus {
            code: 3,
            message: "bad span".into(),
            details: vec![],
        };
        assert_eq!(error_message(&headers, &status.encode_to_vec()), "bad span");
        assert_eq!(
            error_message(&HeaderMap::new(), b"  plain text\n"),
            "plain text"
        );
        let long = "x".repeat(5000);
        assert_eq!(
            error_message(&HeaderMap::new(), long.as_bytes())
                .chars()
                .count(),
            1025
        );
    }
}
