//! OTLP/HTTP: protobuf and JSON bodies at the signals' paths, answered in the request's format.

use std::net::SocketAddr;

use http::{Method, Request, Response, header};
use hyper::body::Incoming;

use super::decode::{self, ContentType};
use super::limits::BodyReader;
use super::{Endpoint, ReplyBody, Transport, http_error_response, http_header_str};
use crate::status::ServerError;
use crate::{PartialSuccess, Signal};

/// Answers one OTLP/HTTP request, a CORS preflight here, and adds CORS headers to the answer
/// when CORS is configured (see [`super::cors`]).
pub(crate) async fn handle(
    endpoint: &Endpoint,
    request: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<ReplyBody> {
    let Some(cors) = &endpoint.shared.cors else {
        return answer(endpoint, request, peer).await;
    };
    if let Some(preflight) = cors.preflight(request.method(), request.headers()) {
        return preflight;
    }
    let grant = cors.grant(request.method(), request.headers());
    let mut response = answer(endpoint, request, peer).await;
    grant.apply(response.headers_mut());
    response
}

/// Answers one OTLP/HTTP request.
async fn answer(
    endpoint: &Endpoint,
    request: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<ReplyBody> {
    let content_type = http_header_str(request.headers(), header::CONTENT_TYPE.as_str()).to_owned();
    // Errors are answered in the request's format when it is JSON, else in protobuf.
    let answer_format = match decode::parse_content_type(&content_type) {
        Ok(ContentType::Json) => ContentType::Json,
        _ => ContentType::Protobuf,
    };
    match process(endpoint, request, peer, &content_type).await {
        Ok((signal, format, partial)) => {
            let body = decode::encode_response(signal, format, partial);
            let mut response = Response::new(ReplyBody::new(body, None));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(format.as_str()),
            );
            response
        }
        Err(error) => http_error_response(answer_format, &error),
    }
}

/// How much of a body refused before it was read is still read and dropped (as Go's
/// `net/http` does after a handler that did not read it).
const DISCARD_ON_REFUSAL: usize = 256 << 10;

/// `path` with its `%XX` escapes decoded; `None` when an escape is malformed, encodes a `/`
/// (Go's mux keeps `%2F` inside a segment, so `/v1%2Ftraces` is not `/v1/traces`) or the result
/// is not UTF-8 (such a path routes nowhere).
fn percent_decode(path: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !path.contains('%') {
        return Some(std::borrow::Cow::Borrowed(path));
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let byte = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            if byte == b'/' {
                return None;
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(std::borrow::Cow::Owned)
}

async fn process(
    endpoint: &Endpoint,
    request: Request<Incoming>,
    peer: Option<SocketAddr>,
    content_type: &str,
) -> Result<(Signal, ContentType, Option<PartialSuccess>), ServerError> {
    let (parts, body) = request.into_parts();
    endpoint.authenticate(&parts.headers)?;
    // Routed by the decoded path, as Go's net/http routes (`/v1/%74races` is `/v1/traces`).
    let signal = percent_decode(parts.uri.path())
        .and_then(|path| Signal::from_http_path(&path))
        .ok_or_else(|| ServerError::NotFound {
            path: parts.uri.path().to_owned(),
        })?;
    if parts.method != Method::POST {
        return Err(ServerError::MethodNotAllowed {
            method: parts.method.to_string(),
        });
    }
    let format = decode::parse_content_type(content_type)?;
    if format == ContentType::Grpc {
        return Err(ServerError::UnsupportedContentType {
            content_type: content_type.into(),
        });
    }
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?"));
    let compression = decode::parse_encoding(format, encoding)?;
    let limits = endpoint.limits;
    let cap = limits.wire_cap(compression != crate::Compression::None);
    if let Some(length) = http_body::Body::size_hint(&body).exact()
        && usize::try_from(length).map_or(true, |length| length > cap)
    {
        return Err(ServerError::TooLarge { limit: cap });
    }
    // A slot, then admission for nothing yet: the reservation grows with the bytes that
    // arrive (never with what `Content-Length` announces), then with the decompressed body.
    let ip = peer.map(|p| p.ip());
    let admission = endpoint
        .shared
        .concurrency
        .try_acquire(ip)
        .and_then(|slot| Ok((slot, endpoint.admit(signal)?)));
    let mut reader = BodyReader::new(body, endpoint.shared.pace);
    let (slot, mut admitted) = match admission {
        Ok(admission) => admission,
        Err(error) => {
            // Refused before reading: read the (small) rest so the client gets the answer.
            reader.discard(DISCARD_ON_REFUSAL).await;
            return Err(error);
        }
    };
    let read = reader
        .read_to_end(cap, &mut |received| {
            admitted.grow(received).map_err(ServerError::Refused)
        })
        .await;
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) => {
            if matches!(error, ServerError::Refused(_)) {
                reader.discard(DISCARD_ON_REFUSAL).await;
            }
            return Err(error);
        }
    };
    let request_size = bytes.len();
    // The reservation grows with the decompressed body: a small body that inflates to a large
    // request is refused while it inflates.
    let decoded = decode::receive_request_charged(
        signal,
        content_type,
        encoding,
        bytes,
        &limits,
        &mut |decompressed| admitted.grow(decompressed),
        endpoint.decode_mode(signal),
    )?;
    let context = endpoint.context(
        Transport::Http,
        &decoded,
        request_size,
        peer,
        &parts.headers,
    );
    let format = decoded.content_type();
    let partial = endpoint.execute(decoded, context, slot, admitted).await?;
    Ok((signal, format, partial))
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn paths_are_percent_decoded_as_go_routes_them() {
        assert_eq!(percent_decode("/v1/traces").as_deref(), Some("/v1/traces"));
        assert_eq!(
            percent_decode("/v1/%74races").as_deref(),
            Some("/v1/traces")
        );
        assert_eq!(percent_decode("/v1/%6C%6Fgs").as_deref(), Some("/v1/logs"));
        assert_eq!(percent_decode("/v1/%7"), None);
        assert_eq!(percent_decode("/v1/%zz"), None);
        assert_eq!(percent_decode("/v1/%ff"), None);
        assert_eq!(percent_decode("/v1/%+7races"), None);
        assert_eq!(percent_decode("/v1%2Ftraces"), None);
        assert_eq!(percent_decode("/v1%2ftraces"), None);
    }
}
