//! The exporter's errors: [`ConfigError`] when building one, [`ExportError`] when exporting.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use crate::compression::Compression;
#[cfg(feature = "grpc")]
use crate::grpc_wire::GrpcCode;

/// Why an exporter could not be configured or built.
///
/// Every variant names what was wrong; the ones found in environment variables name the
/// variable ([`ConfigError::Env`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An `OTEL_EXPORTER_OTLP_*` environment variable holds a value the OTLP exporter
    /// specification does not allow (or one this build cannot use).
    #[error("invalid value for {var}: {message}")]
    Env {
        /// The variable, e.g. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
        var: String,
        /// What is wrong with its value.
        message: String,
    },
    /// The endpoint is not a URL the protocol can use (no host, an unknown scheme, no scheme
    /// for OTLP/HTTP).
    #[error("invalid endpoint `{endpoint}`: {message}")]
    Endpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it.
        message: String,
    },
    /// A custom header has an invalid name or value, or is one the exporter sets itself
    /// (`content-type`, `content-encoding`, `te`, `grpc-*`, ...).
    #[error("invalid header `{name}`: {message}")]
    Header {
        /// The header name as configured.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The compression cannot be used: brotli with gRPC (not a gRPC encoding), or a codec
    /// whose cargo feature is off.
    #[error("compression {compression} cannot be used: {message}")]
    Compression {
        /// The configured compression.
        compression: Compression,
        /// Why not.
        message: String,
    },
    /// The protocol (or TLS) is not compiled into this build.
    #[error("{what} needs the `{feature}` cargo feature of otlp-transport")]
    FeatureDisabled {
        /// What was asked for (`protocol grpc`, `an https endpoint`, ...).
        what: String,
        /// The feature that provides it.
        feature: &'static str,
    },
    /// TLS material (CA certificate, client certificate or key) could not be read or used.
    #[error("TLS {what}: {message}")]
    Tls {
        /// Which material, and where from (a file path when read from one).
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// The proxy URL cannot be used: not `http://host[:port]`, or bad credentials.
    #[error("invalid proxy_url `{proxy_url}`: {message}")]
    Proxy {
        /// The URL as configured, credentials removed.
        proxy_url: String,
        /// What is wrong with it.
        message: String,
    },
    /// A retry setting is out of range (a multiplier below 1, a randomization factor outside
    /// `0..=1`, a zero interval).
    #[error("invalid retry setting `{field}`: {message}")]
    Retry {
        /// The setting.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The timeout is zero.
    #[error("the export timeout must be greater than zero")]
    ZeroTimeout,
}

/// The status a receiver answered with: a gRPC code or an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseStatus {
    /// An OTLP/gRPC status (from `grpc-status`, or mapped from the HTTP status when an
    /// intermediary answered without one, as the gRPC HTTP-mapping table says).
    #[cfg(feature = "grpc")]
    Grpc(GrpcCode),
    /// An OTLP/HTTP status.
    Http(http::StatusCode),
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "grpc")]
            ResponseStatus::Grpc(code) => write!(f, "gRPC {} ({})", code.as_str(), code.as_u32()),
            ResponseStatus::Http(status) => write!(f, "HTTP {status}"),
        }
    }
}

/// Why a request could not be sent or its answer read: connecting, the TLS handshake, or
/// the connection failing mid-request. Always retryable.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Box<dyn StdError + Send + Sync>,
}

/// The phase a [`TransportError`] happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Resolving, connecting or the TLS handshake failed: nothing was sent.
    Connect,
    /// The connection failed after the request had started (reset, protocol error, closed
    /// early): the receiver may or may not have the data.
    Request,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            source: source.into(),
        }
    }

    /// The phase the error happened in.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the connection could not be made at all (nothing was sent).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }
}

impl fmt::Display for TransportError {
    /// The whole chain of causes, since hyper's own messages are terse ("client error
    /// (Connect)").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TransportErrorKind::Connect => f.write_str("connection failed")?,
            TransportErrorKind::Request => f.write_str("request failed")?,
        }
        let mut cause: Option<&(dyn StdError + 'static)> = Some(&*self.source);
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// Why an export failed.
///
/// The retry loop decides with [`ExportError::is_retryable`]: transport errors, attempt
/// timeouts and the retryable statuses are retried until the retry budget runs out, then
/// reported as [`ExportError::RetriesExhausted`] around the last failure. A partial success
/// is not an error: it is returned in [`ExportOutcome`](super::ExportOutcome).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The receiver refused the data with a status that must not be retried (gRPC
    /// `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED` without `RetryInfo`, ...;
    /// HTTP 400, 401, 413, ...). The data is dropped.
    #[error("export rejected ({status}): {message}")]
    Rejected {
        /// The status the receiver answered with.
        status: ResponseStatus,
        /// The receiver's message (`grpc-message`, or the `google.rpc.Status` message or text
        /// of an HTTP error body); may be empty.
        message: String,
    },
    /// The receiver answered with a retryable status (gRPC `UNAVAILABLE`, `CANCELLED`,
    /// `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS`, `RESOURCE_EXHAUSTED`
    /// with `RetryInfo`; HTTP 429, 502, 503, 504). Returned as is only when retry is
    /// disabled; otherwise it is the `last` of [`ExportError::RetriesExhausted`].
    #[error("export temporarily refused ({status}): {message}")]
    Retryable {
        /// The status the receiver answered with.
        status: ResponseStatus,
        /// The receiver's message; may be empty.
        message: String,
        /// The delay the receiver asked for (gRPC `RetryInfo`, HTTP `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The retry loop gave up: the next wait would have passed the retry budget
    /// (`max_elapsed_time`). `last` is the final attempt's error.
    #[error("export failed after {attempts} attempts in {elapsed:?}: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Time spent, from the first attempt to giving up.
        elapsed: Duration,
        /// The last attempt's error.
        #[source]
        last: Box<ExportError>,
    },
    /// An attempt got no complete answer within its timeout (the configured timeout, or what
    /// was left of the retry budget if less). Retryable.
    #[error("export attempt timed out after {0:?}")]
    Timeout(Duration),
    /// Connecting, the TLS handshake or the connection failed. Retryable.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request could not be encoded or compressed (or, for
    /// [`export_encoded`](super::OtlpExporter::export_encoded) over OTLP/JSON, the given
    /// protobuf bytes could not be decoded). Not retryable.
    #[error("cannot encode the export request: {0}")]
    Encode(#[source] Box<dyn StdError + Send + Sync>),
    /// The client authenticator could not give this attempt its credentials (a token file
    /// that cannot be read, say). Retryable: the next attempt asks again.
    #[error("no credentials for the request: {0}")]
    Credentials(String),
    /// The receiver's answer is not a valid OTLP response (no `grpc-status`, a bad gRPC
    /// frame, an oversized body). Not retryable: the receiver may have the data.
    #[error("invalid response from the receiver: {0}")]
    InvalidResponse(String),
}

impl ExportError {
    /// Whether the retry loop retries this error (see the type's documentation).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ExportError::Retryable { .. }
                | ExportError::Timeout(_)
                | ExportError::Transport(_)
                | ExportError::Credentials(_)
        )
    }

    /// The error of the last attempt: `self`, or the `last` of
    /// [`ExportError::RetriesExhausted`].
    pub fn last_attempt(&self) -> &ExportError {
        match self {
            ExportError::RetriesExhausted { last, .. } => last.last_attempt(),
            other => other,
        }
    }

    /// The receiver's status of the last attempt, if it answered with one.
    pub fn status(&self) -> Option<ResponseStatus> {
        match self.last_attempt() {
            ExportError::Rejected { status, .. } | ExportError::Retryable { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The gRPC code of the last attempt, if it was answered with one.
    #[cfg(feature = "grpc")]
    pub fn grpc_code(&self) -> Option<GrpcCode> {
        match self.status() {
            Some(ResponseStatus::Grpc(code)) => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of the last attempt, if it was an OTLP/HTTP error answer.
    pub fn http_status(&self) -> Option<http::StatusCode> {
        match self.status() {
            Some(ResponseStatus::Http(status)) => Some(status),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The delay the receiver asked for in the last attempt (gRPC `RetryInfo`, HTTP
    /// `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self.last_attempt() {
            ExportError::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn encode(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ExportError::Encode(error.into())
    }
}
