//! OTLP receivers (feature `server`): OTLP/gRPC (feature `grpc`) and OTLP/HTTP with protobuf
//! and JSON bodies on one port (features `http`, `json`), over plain TCP or TLS / mTLS
//! (feature `tls`).
//!
//! gRPC is served directly on hyper's HTTP/2, not through tonic's server, so the receiver
//! chooses the status codes the OTLP spec asks for (see [`crate::status`]), checks a message's
//! size on its 5-byte frame header before reading it, and can hand the received protobuf bytes
//! on without re-encoding ([`RequestContext::protobuf`]).
//!
//! # Invariants
//!
//! - Admission before work. Per request, in this order: bearer token, route, method, content
//!   type, encoding, the announced size (`Content-Length`, gRPC frame header), a request slot
//!   (the receiver's bound and the client address's share), the [`Admission`] hook; only then
//!   is the body read (capped, at a minimum rate), then decompressed (capped while
//!   streaming), then decoded. The admission's [`Reservation`] grows with the bytes received
//!   and then decompressed, never with an announced length. Each refusal costs no more than
//!   the steps before it.
//! - Bounded everything: concurrent requests (refused at once with UNAVAILABLE / 503 and
//!   `Retry-After` beyond the bound or the address's share, never queued), connections
//!   (accepting pauses; beyond an address's share, closed at once), HTTP/2 streams per
//!   connection, the body read, the decompressed size, the body's time and rate, and each
//!   connection's time to its first request, idle time and age.
//! - The handler's answer is the client's answer: success only when the handler returned
//!   success; a handler runs in its own task, so a disconnecting client does not cancel it
//!   half-way, and a panic becomes INTERNAL / 500.
//! - Status codes come from one table, [`ServerError::mapping`].
//!
//! # Example
//!
//! ```no_run
//! use otlp_transport::server::{ExportHandler, Receiver, RequestContext};
//! use otlp_transport::{PartialSuccess, status::Refusal};
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//!
//! struct Print;
//!
//! #[async_trait::async_trait]
//! impl ExportHandler for Print {
//!     async fn export_traces(
//!         &self,
//!         request: ExportTraceServiceRequest,
//!         _context: RequestContext,
//!     ) -> Result<Option<PartialSuccess>, Refusal> {
//!         println!("{} resource spans", request.resource_spans.len());
//!         Ok(None)
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Receiver::new(Print)
//!     .grpc("127.0.0.1:4317".parse()?)
//!     .http("127.0.0.1:4318".parse()?)
//!     .start()
//!     .await?;
//! // ...
//! receiver.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```

// `server` without `grpc` or `http` serves nothing (`start` refuses every endpoint).
#![cfg_attr(not(any(feature = "grpc", feature = "http")), allow(dead_code))]

mod auth;
mod clients;
mod config;
mod connection;
mod cors;
mod decode;
#[cfg(feature = "grpc")]
mod grpc;
mod handler;
#[cfg(feature = "http")]
mod http;
mod ids;
mod limits;
mod shutdown;
#[cfg(feature = "tls")]
mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

pub use self::config::{EndpointConfig, Limits, PemSource, ReceiverConfig, TlsConfig};
pub use self::cors::{CorsConfig, MAX_ORIGIN_LEN, MAX_REQUESTED_HEADERS};
pub use self::decode::{
    AnyExportRequest, ContentType, DecodeMode, DecodedRequest, ReceivedRequest, ValidatedRequest,
    decode_request, decode_request_charged, receive_request_charged,
};
pub use self::handler::{
    Admission, Admitted, EncodedRequest, ExportHandler, RequestContext, Reservation, Transport,
};
pub use self::shutdown::{RunningReceiver, ShutdownOutcome};
pub use crate::status::{Refusal, ServerError};

use self::auth::BearerAuth;
use self::limits::ConcurrencyLimit;
use crate::PartialSuccess;
use crate::grpc_wire::GrpcCode;

/// Why a receiver could not start.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// Binding a listener failed.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS configuration could not be loaded (files, PEM, key mismatch, client CA).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The configuration asks for something this build or this value does not allow (an
    /// endpoint whose feature is off, no endpoint at all, a zero bound).
    #[error("receiver configuration: {0}")]
    Config(String),
}

/// A receiver being configured. [`Receiver::start`] binds and serves it.
pub struct Receiver {
    config: ReceiverConfig,
    handler: Arc<dyn ExportHandler>,
    admission: Option<Arc<dyn Admission>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("config", &self.config)
            .field("admission", &self.admission.is_some())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver calling `handler`, with the default [`ReceiverConfig`] (no endpoint yet).
    pub fn new(handler: impl ExportHandler) -> Receiver {
        Receiver::from_arc(Arc::new(handler))
    }

    /// A receiver calling a shared handler.
    pub fn from_arc(handler: Arc<dyn ExportHandler>) -> Receiver {
        Receiver {
            config: ReceiverConfig::default(),
            handler,
            admission: None,
        }
    }

    /// Replaces the whole configuration.
    #[must_use]
    pub fn with_config(mut self, config: ReceiverConfig) -> Receiver {
        self.config = config;
        self
    }

    /// Serves OTLP/gRPC on `addr` with the gRPC default limits ([`Limits::GRPC_DEFAULT`]).
    #[must_use]
    pub fn grpc(mut self, addr: SocketAddr) -> Receiver {
        self.config.grpc = Some(EndpointConfig {
            addr,
            limits: Limits::GRPC_DEFAULT,
        });
        self
    }

    /// Serves OTLP/HTTP on `addr` with the HTTP default limits ([`Limits::HTTP_DEFAULT`]).
    #[must_use]
    pub fn http(mut self, addr: SocketAddr) -> Receiver {
        self.config.http = Some(EndpointConfig {
            addr,
            limits: Limits::HTTP_DEFAULT,
        });
        self
    }

    /// Sets the same limits on every configured endpoint (call after `grpc`/`http`).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Receiver {
        for endpoint in [&mut self.config.grpc, &mut self.config.http]
            .into_iter()
            .flatten()
        {
            endpoint.limits = limits;
        }
        self
    }

    /// Serves TLS (mutual TLS when the config names a client CA).
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Receiver {
        self.config.tls = Some(tls);
        self
    }

    /// Requires `authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Receiver {
        self.config.bearer_token = Some(token.into());
        self
    }

    /// Bounds the requests handled at once.
    #[must_use]
    pub fn max_concurrent_requests(mut self, max: usize) -> Receiver {
        self.config.max_concurrent_requests = max;
        self
    }

    /// Bounds the open connections.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Receiver {
        self.config.max_connections = max;
        self
    }

    /// Changes any setting of the configuration in place (the endpoints set so far stay).
    #[must_use]
    pub fn configure(mut self, change: impl FnOnce(&mut ReceiverConfig)) -> Receiver {
        change(&mut self.config);
        self
    }

    /// Answers CORS on the HTTP endpoint for the configured origins (see [`CorsConfig`]).
    #[must_use]
    pub fn cors(mut self, cors: CorsConfig) -> Receiver {
        self.config.cors = Some(cors);
        self
    }

    /// Passes request headers to the handler.
    #[must_use]
    pub fn include_metadata(mut self, include: bool) -> Receiver {
        self.config.include_metadata = include;
        self
    }

    /// Installs an admission hook, asked before any request body is read.
    #[must_use]
    pub fn admission(mut self, admission: impl Admission) -> Receiver {
        self.admission = Some(Arc::new(admission));
        self
    }

    /// Binds the configured endpoints and serves them until [`RunningReceiver::shutdown`].
    pub async fn start(self) -> Result<RunningReceiver, ReceiverError> {
        shutdown::start(self.config, self.handler, self.admission).await
    }
}

/// What every request of a receiver shares.
pub(crate) struct Shared {
    pub(crate) handler: Arc<dyn ExportHandler>,
    pub(crate) admission: Option<Arc<dyn Admission>>,
    pub(crate) auth: Option<BearerAuth>,
    pub(crate) concurrency: ConcurrencyLimit,
    pub(crate) pace: limits::Pace,
    pub(crate) include_metadata: bool,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) cors: Option<cors::CorsPolicy>,
}

/// Which protocol an endpoint was configured for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointKind {
    Grpc,
    Http,
}

/// One listening endpoint.
pub(crate) struct Endpoint {
    pub(crate) shared: Arc<Shared>,
    pub(crate) kind: EndpointKind,
    pub(crate) limits: Limits,
}

impl Endpoint {
    /// Answers one request. gRPC requests (`content-type: application/grpc...`) are served on
    /// both endpoints; OTLP/HTTP only on the HTTP endpoint.
    pub(crate) async fn serve(
        &self,
        request: ::http::Request<hyper::body::Incoming>,
        peer: Option<SocketAddr>,
    ) -> ::http::Response<ReplyBody> {
        let is_grpc = request
            .headers()
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.get(..16)
                    .is_some_and(|p| p.eq_ignore_ascii_case("application/grpc"))
            });
        #[cfg(feature = "grpc")]
        if is_grpc {
            return grpc::handle(self, request, peer).await;
        }
        #[cfg(feature = "http")]
        if self.kind == EndpointKind::Http {
            return http::handle(self, request, peer).await;
        }
        let _ = (peer, is_grpc);
        let content_type = request
            .headers()
            .get(::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let error = ServerError::UnsupportedContentType {
            content_type: content_type.into(),
        };
        http_error_response(ContentType::Protobuf, &error)
    }

    /// Checks the bearer token, if one is configured.
    pub(crate) fn authenticate(&self, headers: &::http::HeaderMap) -> Result<(), ServerError> {
        self.shared
            .auth
            .as_ref()
            .map_or(Ok(()), |auth| auth.check(headers))
    }

    /// Asks the admission hook, if any.
    pub(crate) fn admit(&self, signal: crate::Signal) -> Result<Admitted, ServerError> {
        match &self.shared.admission {
            None => Ok(Admitted::new()),
            Some(hook) => hook.admit(signal).map_err(ServerError::Refused),
        }
    }

    /// How this endpoint's handler wants `signal` requests.
    pub(crate) fn decode_mode(&self, signal: crate::Signal) -> DecodeMode {
        if self.shared.handler.accepts_encoded(signal) {
            DecodeMode::Validate
        } else {
            DecodeMode::Decode
        }
    }

    /// Runs the handler for a received request in its own task, holding the request's permit
    /// and admission guard until it returns. Empty requests are answered without it.
    pub(crate) async fn execute(
        &self,
        received: ReceivedRequest,
        context: RequestContext,
        slot: limits::RequestSlot,
        admitted: Admitted,
    ) -> Result<Option<PartialSuccess>, ServerError> {
        if received.is_empty() {
            return Ok(None);
        }
        let handler = Arc::clone(&self.shared.handler);
        let task = tokio::spawn(async move {
            let _held = (slot, admitted);
            handler::dispatch(handler.as_ref(), received, context).await
        });
        match task.await {
            Ok(result) => result.map_err(ServerError::Refused),
            Err(error) if error.is_panic() => {
                tracing::error!("OTLP export handler panicked");
                Err(ServerError::Internal("the export handler panicked".into()))
            }
            Err(_) => Err(ServerError::Internal(
                "the export handler was cancelled".into(),
            )),
        }
    }

    /// The request context shared by both protocols.
    pub(crate) fn context(
        &self,
        transport: Transport,
        received: &ReceivedRequest,
        request_size: usize,
        peer: Option<SocketAddr>,
        headers: &::http::HeaderMap,
    ) -> RequestContext {
        RequestContext {
            signal: received.signal(),
            transport,
            content_type: received.content_type(),
            compression: received.compression(),
            peer_addr: peer,
            request_size,
            decoded_size: received.decoded_size(),
            protobuf: received.protobuf().cloned(),
            metadata: self
                .shared
                .include_metadata
                .then(|| Arc::new(headers.clone())),
            timeout: headers
                .get(crate::grpc_wire::GRPC_TIMEOUT)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::grpc_wire::parse_grpc_timeout),
        }
    }
}

/// The response body of every answer: at most one data chunk, then optional trailers.
#[derive(Debug, Default)]
pub struct ReplyBody {
    data: Option<Bytes>,
    trailers: Option<::http::HeaderMap>,
}

impl ReplyBody {
    /// A body of one data chunk (none when empty), then `trailers`.
    pub fn new(data: impl Into<Bytes>, trailers: Option<::http::HeaderMap>) -> ReplyBody {
        let data: Bytes = data.into();
        ReplyBody {
            data: (!data.is_empty()).then_some(data),
            trailers,
        }
    }
}

impl http_body::Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(http_body::Frame::data(data))));
        }
        Poll::Ready(
            self.trailers
                .take()
                .map(|t| Ok(http_body::Frame::trailers(t))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// An OTLP/HTTP error response: the mapped status, a `google.rpc.Status` body in `format`,
/// `Retry-After` (whole seconds, rounded up), `Allow: POST` for 405, `WWW-Authenticate` for
/// 401.
pub(crate) fn http_error_response(
    format: ContentType,
    error: &ServerError,
) -> ::http::Response<ReplyBody> {
    use ::http::header;
    let mapping = error.mapping();
    let format = if format == ContentType::Json {
        ContentType::Json
    } else {
        ContentType::Protobuf
    };
    let body = decode::encode_status_body(format, mapping.grpc, &error.to_string());
    let mut response = ::http::Response::new(ReplyBody::new(body, None));
    *response.status_mut() = mapping.http;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(format.as_str()),
    );
    if let Some(delay) = error.retry_after() {
        let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    match error {
        ServerError::MethodNotAllowed { .. } => {
            headers.insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        }
        ServerError::Unauthenticated => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        _ => {}
    }
    log_refusal(error, mapping.grpc);
    response
}

/// Logs a refused request: server faults as errors, client faults and backpressure at debug.
pub(crate) fn log_refusal(error: &ServerError, code: GrpcCode) {
    if code == GrpcCode::Internal {
        tracing::error!(%error, "OTLP request failed");
    } else {
        tracing::debug!(%error, code = code.as_str(), "OTLP request refused");
    }
}

/// A header's value as text; empty when missing or not visible ASCII.
pub(crate) fn http_header_str<'a>(headers: &'a ::http::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
