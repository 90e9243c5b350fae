//! OTLP/gRPC on hyper's HTTP/2: unary Export calls, errors as trailers-only responses.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderValue, Method, Request, Response, header};
use hyper::body::Incoming;

use super::decode::{self, ContentType};
use super::limits::BodyReader;
use super::{Endpoint, ReplyBody, Transport, log_refusal};
use crate::grpc_wire::{
    self, FRAME_HEADER_LEN, FrameError, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_MESSAGE,
    GRPC_STATUS, GRPC_STATUS_DETAILS_BIN, GrpcCode,
};
use crate::status::ServerError;
use crate::{Compression, PartialSuccess, Signal};

/// Answers one gRPC request.
pub(crate) async fn handle(
    endpoint: &Endpoint,
    request: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<ReplyBody> {
    // The client's deadline (`grpc-timeout`) bounds the whole call: reading the body,
    // decoding, the handler. Past it the client is answered DEADLINE_EXCEEDED (what it would
    // conclude anyway); a body still arriving is dropped, a handler already running finishes
    // in its own task (its outcome is not reported, as with a grpc-go server whose context
    // expired).
    let timeout = request
        .headers()
        .get(grpc_wire::GRPC_TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(grpc_wire::parse_grpc_timeout);
    let accepted = client_accepts(request.headers());
    let outcome = match timeout {
        None => process(endpoint, request, peer).await,
        Some(timeout) => tokio::time::timeout(timeout, process(endpoint, request, peer))
            .await
            .unwrap_or(Err(ServerError::DeadlineExceeded(timeout))),
    };
    match outcome {
        Ok((signal, partial, compression)) => {
            let message = decode::encode_response(signal, ContentType::Grpc, partial);
            let mut trailers = HeaderMap::new();
            trailers.insert(GRPC_STATUS, GrpcCode::Ok.header_value());
            // The answer in the request's encoding when the client also lists it in
            // `grpc-accept-encoding` (grpc-go's server answers in the request's compressor;
            // a client that does not list it, such as tonic by default, gets plain frames).
            let token = compression
                .grpc_token()
                .filter(|t| compression.is_available() && accepted.iter().any(|a| a == t));
            let compressed = token
                .filter(|_| !message.is_empty())
                .and_then(|_| crate::compression::compress(compression, &message).ok());
            let frame = match &compressed {
                Some(bytes) => grpc_wire::encode_frame(bytes, true),
                None => grpc_wire::encode_frame(&message, false),
            };
            let mut response = Response::new(ReplyBody::new(frame, Some(trailers)));
            grpc_headers(response.headers_mut());
            if let (Some(_), Some(token)) = (&compressed, token) {
                response
                    .headers_mut()
                    .insert(GRPC_ENCODING, HeaderValue::from_static(token));
            }
            response
        }
        Err(error) => error_response(&error),
    }
}

async fn process(
    endpoint: &Endpoint,
    request: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Result<(Signal, Option<PartialSuccess>, Compression), ServerError> {
    let (parts, body) = request.into_parts();
    endpoint.authenticate(&parts.headers)?;
    let signal = Signal::from_grpc_path(parts.uri.path()).ok_or_else(|| ServerError::NotFound {
        path: parts.uri.path().to_owned(),
    })?;
    if parts.method != Method::POST {
        return Err(ServerError::MethodNotAllowed {
            method: parts.method.to_string(),
        });
    }
    let content_type = super::http_header_str(&parts.headers, header::CONTENT_TYPE.as_str());
    let format = decode::parse_content_type(content_type)?;
    let encoding = parts
        .headers
        .get(GRPC_ENCODING)
        .map(|v| v.to_str().unwrap_or("?"));
    let compression = decode::parse_encoding(format, encoding)?;
    let limits = endpoint.limits;
    let slot = endpoint
        .shared
        .concurrency
        .try_acquire(peer.map(|p| p.ip()))?;
    // Admitted for nothing yet: the reservation grows with the bytes that arrive (never with
    // the length a frame header announces), then with the decompressed message.
    let mut admitted = endpoint.admit(signal)?;
    let mut reader = BodyReader::new(body, endpoint.shared.pace);
    let header_cap = limits.max_compressed_size.max(limits.max_request_size);
    let header_cap = header_cap.saturating_add(FRAME_HEADER_LEN);
    let mut charge = |received| admitted.grow(received).map_err(ServerError::Refused);
    reader
        .fill(FRAME_HEADER_LEN, header_cap, &mut charge)
        .await?;
    let bytes = match reader.buffered().first_chunk::<FRAME_HEADER_LEN>() {
        // No message at all (an empty body) is an empty request; a partial header is not.
        None if reader.buffered().is_empty() => reader.read_to_end(0, &mut charge).await?,
        None => {
            return Err(ServerError::Framing(FrameError::Truncated {
                expected: FRAME_HEADER_LEN,
                actual: reader.buffered().len(),
            }));
        }
        Some(header) => {
            // The size check on the frame header, before the message is read.
            let header = decode::check_frame_header(*header, compression, &limits)?;
            let frame_len = FRAME_HEADER_LEN + header.length as usize;
            reader.expect_total(frame_len);
            reader
                .read_to_end(frame_len, &mut charge)
                .await
                .map_err(|error| match error {
                    ServerError::TooLarge { .. } => ServerError::Framing(FrameError::TrailingData),
                    other => other,
                })?
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
    debug_assert!(decoded.compression() == compression || compression == Compression::None);
    let context = endpoint.context(
        Transport::Grpc,
        &decoded,
        request_size,
        peer,
        &parts.headers,
    );
    let partial = endpoint.execute(decoded, context, slot, admitted).await?;
    Ok((signal, partial, compression))
}

/// The encodings the client accepts in answers (`grpc-accept-encoding`, comma-separated).
fn client_accepts(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(GRPC_ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The headers of every gRPC response.
fn grpc_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(grpc_wire::GRPC_CONTENT_TYPE),
    );
    headers.insert(
        GRPC_ACCEPT_ENCODING,
        HeaderValue::from_static(grpc_wire::accept_encoding()),
    );
}

/// A trailers-only error response: HTTP 200 with `grpc-status`, the percent-encoded
/// `grpc-message`, and for a retry delay a `google.rpc.Status` with `RetryInfo` in
/// `grpc-status-details-bin`.
pub(crate) fn error_response(error: &ServerError) -> Response<ReplyBody> {
    let code = error.grpc_code();
    let message = error.to_string();
    let mut response = Response::new(ReplyBody::default());
    let headers = response.headers_mut();
    grpc_headers(headers);
    headers.insert(GRPC_STATUS, code.header_value());
    if let Ok(value) = HeaderValue::from_str(&grpc_wire::percent_encode_message(&message)) {
        headers.insert(GRPC_MESSAGE, value);
    }
    if let Some(delay) = error.retry_after() {
        let details = grpc_wire::status_details_with_retry_delay(code, &message, delay);
        if let Ok(value) = HeaderValue::from_str(&grpc_wire::encode_status_details_header(&details))
        {
            headers.insert(GRPC_STATUS_DETAILS_BIN, value);
        }
    }
    log_refusal(error, code);
    response
}
