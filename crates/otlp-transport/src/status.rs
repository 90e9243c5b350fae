//! Why a receiver refused a request, and the one table mapping each reason to a gRPC status
//! code and an HTTP status (feature `server`).
//!
//! The table follows the OTLP specification ("OTLP/gRPC Response", "OTLP/HTTP Response"):
//! bad data is INVALID_ARGUMENT / 400 (never INTERNAL), a message over the size limit is
//! RESOURCE_EXHAUSTED / 413 (never OUT_OF_RANGE, which OTLP senders retry), overload and
//! retryable refusals are UNAVAILABLE with a `google.rpc.RetryInfo` / 503 (or 429 when rate
//! limited) with `Retry-After`. [`ServerError::grpc_code`] and [`ServerError::http_status`]
//! both read [`ServerError::mapping`], the only place the codes are chosen.

use std::time::Duration;

use http::StatusCode;

use crate::Signal;
use crate::grpc_wire::{FrameError, GrpcCode};

/// A handler's (or the admission hook's) reason not to accept a request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A temporary condition (memory pressure, a full queue, rate limiting): the sender should
    /// retry. gRPC UNAVAILABLE with a `RetryInfo` when `retry_after` is set; HTTP 503, or 429
    /// when `rate_limited`, with `Retry-After` when `retry_after` is set.
    Retryable {
        /// Sent to the client as the status message.
        message: String,
        /// How long the sender should wait before retrying.
        retry_after: Option<Duration>,
        /// The refusal is a rate limit (HTTP 429 instead of 503).
        rate_limited: bool,
    },
    /// The data is rejected and must not be retried (bad data, policy): gRPC INVALID_ARGUMENT,
    /// HTTP 400.
    Rejected {
        /// Sent to the client as the status message.
        message: String,
    },
    /// The receiver does not handle this signal: gRPC UNIMPLEMENTED, HTTP 404.
    Unsupported {
        /// Sent to the client as the status message.
        message: String,
    },
}

impl Refusal {
    /// A retryable refusal without a suggested delay (HTTP 503, gRPC UNAVAILABLE).
    pub fn retryable(message: impl Into<String>) -> Refusal {
        Refusal::Retryable {
            message: message.into(),
            retry_after: None,
            rate_limited: false,
        }
    }

    /// A retryable rate-limit refusal (HTTP 429, gRPC UNAVAILABLE) with a suggested delay.
    pub fn rate_limited(message: impl Into<String>, retry_after: Duration) -> Refusal {
        Refusal::Retryable {
            message: message.into(),
            retry_after: Some(retry_after),
            rate_limited: true,
        }
    }

    /// A non-retryable rejection (HTTP 400, gRPC INVALID_ARGUMENT).
    pub fn rejected(message: impl Into<String>) -> Refusal {
        Refusal::Rejected {
            message: message.into(),
        }
    }

    /// The refusal a handler gives for a signal it does not implement.
    pub fn unsupported(signal: Signal) -> Refusal {
        Refusal::Unsupported {
            message: format!("signal not supported: {signal}"),
        }
    }

    /// Sets the suggested retry delay of a retryable refusal (no effect on the others).
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Refusal {
        if let Refusal::Retryable { retry_after, .. } = &mut self {
            *retry_after = Some(delay);
        }
        self
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Retryable { message, .. }
            | Refusal::Rejected { message }
            | Refusal::Unsupported { message } => message,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// Why a receiver did not accept a request. Every variant maps to one gRPC code and one HTTP
/// status in [`ServerError::mapping`].
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No OTLP service at this path (HTTP 404; gRPC UNIMPLEMENTED, the gRPC answer for an
    /// unknown method).
    #[error("no OTLP service at {path}")]
    NotFound {
        /// The request path.
        path: String,
    },
    /// A method other than POST (HTTP 405 with `Allow: POST`).
    #[error("method {method} is not allowed; use POST")]
    MethodNotAllowed {
        /// The request method.
        method: String,
    },
    /// A content type the receiver does not decode (HTTP 415).
    #[error("unsupported content type {content_type:?}")]
    UnsupportedContentType {
        /// The `Content-Type` header, empty when missing.
        content_type: String,
    },
    /// A content encoding the receiver does not decode, or whose codec is not compiled in
    /// (HTTP 415, gRPC UNIMPLEMENTED).
    #[error("unsupported encoding {encoding:?}")]
    UnsupportedEncoding {
        /// The `Content-Encoding` or `grpc-encoding` header.
        encoding: String,
    },
    /// A bearer token is required and was missing or wrong (HTTP 401, gRPC UNAUTHENTICATED).
    #[error("missing or invalid bearer token")]
    Unauthenticated,
    /// The request (compressed, as announced or read, or decompressed) exceeds a size limit
    /// (HTTP 413, gRPC RESOURCE_EXHAUSTED).
    #[error("request exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// The body is not a valid protobuf message of the signal's request type (HTTP 400, gRPC
    /// INVALID_ARGUMENT).
    #[error("invalid protobuf: {0}")]
    InvalidProtobuf(#[source] prost::DecodeError),
    /// The body is not valid OTLP/JSON (malformed, wrong types, bad ids) (HTTP 400).
    #[error("invalid OTLP/JSON: {0}")]
    InvalidJson(String),
    /// A trace or span id of another length than OTLP allows (16 / 8 bytes, or empty) (HTTP
    /// 400, gRPC INVALID_ARGUMENT).
    #[error("invalid id: {field}: {length} bytes, OTLP allows {expected} or none")]
    InvalidId {
        /// The field, as a path into the request (`resource_spans[0].scope_spans[0].spans[3].trace_id`).
        field: String,
        /// Its length in bytes.
        length: usize,
        /// The length OTLP requires.
        expected: usize,
    },
    /// The body could not be decompressed (HTTP 400, gRPC INVALID_ARGUMENT).
    #[error("corrupt {encoding} body: {source}")]
    CorruptCompression {
        /// The encoding that failed.
        encoding: crate::Compression,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid gRPC message framing (gRPC INVALID_ARGUMENT).
    #[error("invalid gRPC framing: {0}")]
    Framing(#[source] FrameError),
    /// The receiver's bound on concurrent requests is reached (HTTP 503 with `Retry-After`,
    /// gRPC UNAVAILABLE with `RetryInfo`).
    #[error("too many concurrent requests")]
    Overloaded {
        /// The delay advised to the sender.
        retry_after: Duration,
    },
    /// The receiver is shutting down (HTTP 503, gRPC UNAVAILABLE).
    #[error("the receiver is shutting down")]
    ShuttingDown,
    /// The handler or the admission hook refused the request; the [`Refusal`] decides the
    /// codes.
    #[error("{0}")]
    Refused(Refusal),
    /// The request body could not be read (the client reset the stream) (HTTP 400, gRPC
    /// CANCELLED).
    #[error("cannot read the request body: {0}")]
    BodyRead(String),
    /// The request body did not arrive within the body timeout (HTTP 408, gRPC
    /// DEADLINE_EXCEEDED).
    #[error("the request body did not arrive within {0:?}")]
    BodyTimeout(Duration),
    /// The request body arrived slower than the receiver's minimum rate (HTTP 408, gRPC
    /// DEADLINE_EXCEEDED).
    #[error("the request body arrived slower than {min_rate} bytes/s")]
    BodyTooSlow {
        /// The minimum rate, bytes per second.
        min_rate: u64,
    },
    /// The client's deadline (`grpc-timeout`) passed before the call completed (gRPC
    /// DEADLINE_EXCEEDED; HTTP 408, though OTLP/HTTP has no deadline header).
    #[error("the client's deadline of {0:?} passed")]
    DeadlineExceeded(Duration),
    /// A bug or a panic in the handler (HTTP 500, gRPC INTERNAL).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The codes a [`ServerError`] is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusMapping {
    /// The gRPC status code.
    pub grpc: GrpcCode,
    /// The HTTP status.
    pub http: StatusCode,
}

impl ServerError {
    /// The gRPC code and HTTP status of this error: the one mapping table of the crate.
    pub fn mapping(&self) -> StatusMapping {
        use GrpcCode as G;
        let (grpc, http) = match self {
            ServerError::NotFound { .. } => (G::Unimplemented, StatusCode::NOT_FOUND),
            ServerError::MethodNotAllowed { .. } => {
                (G::Unimplemented, StatusCode::METHOD_NOT_ALLOWED)
            }
            ServerError::UnsupportedContentType { .. } => {
                (G::Unimplemented, StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            ServerError::UnsupportedEncoding { .. } => {
                (G::Unimplemented, StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            ServerError::Unauthenticated => (G::Unauthenticated, StatusCode::UNAUTHORIZED),
            ServerError::TooLarge { .. } => (G::ResourceExhausted, StatusCode::PAYLOAD_TOO_LARGE),
            ServerError::InvalidProtobuf(_)
            | ServerError::InvalidJson(_)
            | ServerError::InvalidId { .. }
            | ServerError::CorruptCompression { .. }
            | ServerError::Framing(_) => (G::InvalidArgument, StatusCode::BAD_REQUEST),
            ServerError::Overloaded { .. } | ServerError::ShuttingDown => {
                (G::Unavailable, StatusCode::SERVICE_UNAVAILABLE)
            }
            ServerError::Refused(Refusal::Retryable {
                rate_limited: false,
                ..
            }) => (G::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
            ServerError::Refused(Refusal::Retryable {
                rate_limited: true, ..
            }) => (G::Unavailable, StatusCode::TOO_MANY_REQUESTS),
            ServerError::Refused(Refusal::Rejected { .. }) => {
                (G::InvalidArgument, StatusCode::BAD_REQUEST)
            }
            ServerError::Refused(Refusal::Unsupported { .. }) => {
                (G::Unimplemented, StatusCode::NOT_FOUND)
            }
            ServerError::BodyRead(_) => (G::Cancelled, StatusCode::BAD_REQUEST),
            ServerError::BodyTimeout(_)
            | ServerError::BodyTooSlow { .. }
            | ServerError::DeadlineExceeded(_) => {
                (G::DeadlineExceeded, StatusCode::REQUEST_TIMEOUT)
            }
            ServerError::Internal(_) => (G::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        };
        StatusMapping { grpc, http }
    }

    /// The gRPC status code of this error.
    pub fn grpc_code(&self) -> GrpcCode {
        self.mapping().grpc
    }

    /// The HTTP status of this error.
    pub fn http_status(&self) -> StatusCode {
        self.mapping().http
    }

    /// The delay advised to the sender (HTTP `Retry-After`, gRPC `RetryInfo`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ServerError::Overloaded { retry_after } => Some(*retry_after),
            ServerError::Refused(Refusal::Retryable { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }

    /// Whether an OTLP sender will retry this error (it maps to UNAVAILABLE / 429 / 503).
    pub fn is_retryable(&self) -> bool {
        let StatusMapping { grpc, http } = self.mapping();
        debug_assert_eq!(
            grpc == GrpcCode::Unavailable,
            matches!(
                http,
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
            )
        );
        grpc == GrpcCode::Unavailable
    }
}

impl From<Refusal> for ServerError {
    fn from(refusal: Refusal) -> Self {
        ServerError::Refused(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_protobuf() -> prost::DecodeError {
        <crate::grpc_wire::RpcStatus as prost::Message>::decode(&b"\xff"[..]).unwrap_err()
    }

    #[test]
    fn mapping_table() {
        let second = Duration::from_secs(1);
        let io = || std::io::Error::other("x");
        #[rustfmt::skip]
        let table: Vec<(ServerError, GrpcCode, u16, Option<Duration>)> = vec![
            (ServerError::NotFound { path: "/x".into() }, GrpcCode::Unimplemented, 404, None),
            (ServerError::MethodNotAllowed { method: "GET".into() }, GrpcCode::Unimplemented, 405, None),
            (ServerError::UnsupportedContentType { content_type: "text/plain".into() }, GrpcCode::Unimplemented, 415, None),
            (ServerError::UnsupportedEncoding { encoding: "lz4".into() }, GrpcCode::Unimplemented, 415, None),
            (ServerError::Unauthenticated, GrpcCode::Unauthenticated, 401, None),
            (ServerError::TooLarge { limit: 1 }, GrpcCode::ResourceExhausted, 413, None),
            (ServerError::InvalidProtobuf(bad_protobuf()), GrpcCode::InvalidArgument, 400, None),
            (ServerError::InvalidJson("x".into()), GrpcCode::InvalidArgument, 400, None),
            (ServerError::InvalidId { field: "x".into(), length: 3, expected: 8 }, GrpcCode::InvalidArgument, 400, None),
            (ServerError::CorruptCompression { encoding: crate::Compression::Gzip, source: io() }, GrpcCode::InvalidArgument, 400, None),
            (ServerError::Framing(FrameError::InvalidFlag(9)), GrpcCode::InvalidArgument, 400, None),
            (ServerError::Overloaded { retry_after: second }, GrpcCode::Unavailable, 503, Some(second)),
            (ServerError::ShuttingDown, GrpcCode::Unavailable, 503, None),
            (ServerError::DeadlineExceeded(second), GrpcCode::DeadlineExceeded, 408, None),
            (Refusal::retryable("full").into(), GrpcCode::Unavailable, 503, None),
            (Refusal::retryable("full").with_retry_after(second).into(), GrpcCode::Unavailable, 503, Some(second)),
            (Refusal::rate_limited("slow down", second).into(), GrpcCode::Unavailable, 429, Some(second)),
            (Refusal::rejected("bad").into(), GrpcCode::InvalidArgument, 400, None),
            (Refusal::unsupported(Signal::Logs).into(), GrpcCode::Unimplemented, 404, None),
            (ServerError::BodyRead("reset".into()), GrpcCode::Cancelled, 400, None),
            (ServerError::BodyTimeout(second), GrpcCode::DeadlineExceeded, 408, None),
            (ServerError::BodyTooSlow { min_rate: 1 }, GrpcCode::DeadlineExceeded, 408, None),
            (ServerError::Internal("panic".into()), GrpcCode::Internal, 500, None),
        ];
        for (error, grpc, http, retry_after) in table {
            assert_eq!(error.grpc_code(), grpc, "{error:?}");
            assert_eq!(error.http_status().as_u16(), http, "{error:?}");
            assert_eq!(error.retry_after(), retry_after, "{error:?}");
            assert_eq!(
                error.is_retryable(),
                grpc == GrpcCode::Unavailable,
                "{error:?}"
            );
            // The spec's two explicit "not this" rules.
            assert_ne!(error.grpc_code(), GrpcCode::OutOfRange);
            if http == 400 {
                assert_ne!(error.grpc_code(), GrpcCode::Internal);
            }
        }
    }

    #[test]
    fn refusal_helpers() {
        assert_eq!(
            Refusal::unsupported(Signal::Traces).message(),
            "signal not supported: traces"
        );
        assert_eq!(
            Refusal::rejected("no").with_retry_after(Duration::from_secs(1)),
            Refusal::rejected("no")
        );
    }
}
