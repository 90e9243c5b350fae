//! OTLP exporters (clients): OTLP/gRPC, OTLP/HTTP with protobuf or JSON bodies (feature
//! `client` with at least one of `grpc` and `http`; `json`, `tls` and the compression features
//! add to it).
//!
//! An [`OtlpExporter`] sends Export requests of any signal to a receiver and returns what the
//! receiver said: success, with its partial success if any ([`ExportOutcome`]), or an
//! [`ExportError`] once the retry loop has given up or met a status that must not be retried.
//! It is cheap to clone (an `Arc`), safe to share between tasks, and pools its connections
//! (HTTP/2 connections are multiplexed; HTTP/1.1 connections are kept alive and reused).
//!
//! # Design
//!
//! - **No tonic transport.** gRPC is spoken directly on hyper's HTTP/2 client: a unary `POST`
//!   with the 5-byte framing of [`grpc_wire`](crate::grpc_wire), `te: trailers`,
//!   `grpc-encoding` and `grpc-timeout`, and the status read from the trailers or from the
//!   headers of a trailers-only answer. That keeps one HTTP stack, one TLS connector and one
//!   retry policy for all three protocols, and lets [`OtlpExporter::export_encoded`] send
//!   bytes a receiver got without decoding them.
//! - **Encode once.** A request is encoded, compressed and (for gRPC) framed once per
//!   export; every attempt sends the same [`bytes::Bytes`].
//! - **One deadline per attempt, one budget per export.** Each attempt is bounded by the
//!   timeout (and by what is left of the retry budget); the retry loop never sleeps past its
//!   budget and never retries sooner than the receiver asked (`RetryInfo`, `Retry-After`).
//! - **The specification decides what is retried** (see [`ExportError::is_retryable`]):
//!   transport failures, attempt timeouts, gRPC `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`,
//!   `OUT_OF_RANGE`, `UNAVAILABLE`, `DATA_LOSS`, `RESOURCE_EXHAUSTED` with `RetryInfo`, and
//!   HTTP 429, 502, 503, 504. A partial success is success: never retried.
//!
//! # Example
//!
//! ```no_run
//! use otlp_transport::client::{ExporterConfig, OtlpExporter};
//! use otlp_transport::Signal;
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // OTEL_EXPORTER_OTLP_* variables, or the defaults (http/protobuf to localhost:4318).
//! let exporter = OtlpExporter::new(ExporterConfig::from_env(Signal::Traces)?)?;
//! let outcome = exporter.export(&ExportTraceServiceRequest::default()).await?;
//! if let Some(partial) = outcome.partial_success {
//!     eprintln!("{} spans rejected: {}", partial.rejected_items, partial.error_message);
//! }
//! # Ok(())
//! # }
//! ```

mod config;
mod connector;
mod endpoint;
mod env;
mod error;
#[cfg(feature = "grpc")]
mod grpc;
mod header_source;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "tls")]
mod insecure;
mod proxy;
mod retry;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use ::http::Uri;
use ::http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

pub use self::config::{
    DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
    ExporterBuilder, ExporterConfig, ParseProtocolError, Protocol, RetryConfig, TlsConfig,
};
pub use self::error::{
    ConfigError, ExportError, ResponseStatus, TransportError, TransportErrorKind,
};
pub use self::header_source::HeaderSource;
pub use self::proxy::{ProxyError, ProxyUrl};
pub use self::retry::{Clock, TokioClock};
pub use crate::compression::{Compression, CompressionLevel};

use self::connector::Connector;
use self::endpoint::{EndpointKind, resolve};
use self::retry::{Backoff, jitter};
use crate::signal::{ExportRequest, PartialSuccess, Signal};

/// The largest response body read (and the largest decompressed response): 4 MiB. Export
/// responses are a few bytes; this only bounds a misbehaving receiver.
pub(crate) const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What a successful export returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportOutcome {
    /// The receiver's partial success: items it rejected (and why), or a warning. `None` for
    /// full success. Never retried: the rejected items would be rejected again.
    pub partial_success: Option<PartialSuccess>,
    /// Attempts made, 1 when the first one succeeded.
    pub attempts: u32,
}

impl ExportOutcome {
    /// Items the receiver rejected (0 for full success).
    pub fn rejected_items(&self) -> i64 {
        self.partial_success
            .as_ref()
            .map_or(0, |partial| partial.rejected_items)
    }
}

/// How requests go on the wire, fixed when the exporter is built.
#[derive(Debug, Clone, Copy)]
enum Wire {
    #[cfg(feature = "grpc")]
    Grpc,
    #[cfg(feature = "http")]
    Http(Protocol),
}

struct Inner {
    client: Client<Connector, Full<Bytes>>,
    wire: Wire,
    protocol: Protocol,
    uris: [Uri; 4],
    headers: HeaderMap,
    header_source: Option<Arc<dyn HeaderSource>>,
    compression: Compression,
    compression_level: CompressionLevel,
    timeout: Duration,
    retry: RetryConfig,
    clock: Arc<dyn Clock>,
    insecure_skip_verify: bool,
}

/// An OTLP exporter: sends Export requests over gRPC or OTLP/HTTP, with compression, TLS
/// and retry. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct OtlpExporter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("protocol", &self.inner.protocol)
            .field("endpoints", &self.inner.uris)
            .field("compression", &self.inner.compression)
            .field("compression_level", &self.inner.compression_level)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Headers the exporter sets itself and a custom header must not replace.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "te",
    "host",
    "connection",
    "upgrade",
];

impl OtlpExporter {
    /// A builder with the defaults (same as [`ExporterConfig::builder`]).
    pub fn builder() -> ExporterBuilder {
        ExporterConfig::builder()
    }

    /// Checks `config` and builds the exporter: resolves every signal's endpoint, loads the
    /// TLS material if any endpoint is `https`, and prepares the connection pool. Does not
    /// connect, and needs no runtime (connections are made by the first export, on the
    /// caller's tokio runtime).
    pub fn new(config: ExporterConfig) -> Result<OtlpExporter, ConfigError> {
        let protocol = config.protocol;
        let wire = match protocol {
            #[cfg(feature = "grpc")]
            Protocol::Grpc => Wire::Grpc,
            #[cfg(feature = "http")]
            Protocol::HttpProtobuf => Wire::Http(protocol),
            #[cfg(feature = "json")]
            Protocol::HttpJson => Wire::Http(protocol),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(ConfigError::FeatureDisabled {
                    what: format!("protocol {protocol}"),
                    feature: protocol.feature(),
                });
            }
        };
        if config.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        config.retry.validate()?;
        let compression = config.compression;
        if protocol == Protocol::Grpc
            && compression.grpc_token().is_none()
            && compression != Compression::None
        {
            return Err(ConfigError::Compression {
                compression,
                message: "not a gRPC encoding (brotli is for OTLP/HTTP only)".into(),
            });
        }
        if !compression.is_available() {
            return Err(ConfigError::Compression {
                compression,
                message: "its cargo feature is off".into(),
            });
        }
        let compression_level = config.compression_level;
        compression_level
            .check(compression)
            .map_err(|error| ConfigError::Compression {
                compression,
                message: error.to_string(),
            })?;
        let headers = build_headers(&config)?;

        let uris = Signal::ALL.map(|signal| {
            let (endpoint, kind) = match &config.signal_endpoints[signal.index()] {
                Some(endpoint) => (endpoint.as_str(), EndpointKind::Signal),
                None => (
                    config
                        .endpoint
                        .as_deref()
                        .unwrap_or(protocol.default_endpoint()),
                    EndpointKind::Base,
                ),
            };
            resolve(protocol, signal, endpoint, kind, config.insecure).map_err(|message| {
                ConfigError::Endpoint {
                    endpoint: endpoint.to_owned(),
                    message,
                }
            })
        });
        let [traces, metrics, logs, profiles] = uris;
        let uris = [traces?, metrics?, logs?, profiles?];

        let needs_tls = uris
            .iter()
            .any(|uri| uri.scheme() == Some(&::http::uri::Scheme::HTTPS));
        let proxy = match config.proxy_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Some(connector::Proxy {
                url: Arc::new(ProxyUrl::parse(url)?),
                timeout: config.timeout,
            }),
            _ => None,
        };
        #[cfg(feature = "tls")]
        let connector = if needs_tls {
            let alpn: &[&[u8]] = if protocol == Protocol::Grpc {
                &[b"h2"]
            } else {
                &[b"h2", b"http/1.1"]
            };
            Connector::new(
                proxy,
                Some(connector::Tls {
                    connector: tokio_rustls::TlsConnector::from(tls::client_config(
                        &config.tls,
                        alpn,
                    )?),
                    server_name: tls::server_name(&config.tls)?,
                }),
            )
        } else {
            Connector::new(proxy, None)
        };
        #[cfg(not(feature = "tls"))]
        let connector = if needs_tls {
            return Err(ConfigError::FeatureDisabled {
                what: "an https endpoint".into(),
                feature: "tls",
            });
        } else {
            Connector::new(proxy)
        };

        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT);
        #[cfg(feature = "grpc")]
        if protocol == Protocol::Grpc {
            // gRPC needs HTTP/2: prior knowledge (h2c) on plain TCP, ALPN `h2` with TLS.
            builder.timer(TokioTimer::new()).http2_only(true);
        }
        let client = builder.build(connector);

        Ok(OtlpExporter {
            inner: Arc::new(Inner {
                client,
                wire,
                protocol,
                uris,
                headers,
                header_source: config.header_source.clone(),
                compression,
                compression_level,
                timeout: config.timeout,
                retry: config.retry,
                clock: config.clock,
                insecure_skip_verify: needs_tls && config.tls.insecure_skip_verify,
            }),
        })
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.inner.protocol
    }

    /// The compression of request bodies.
    pub fn compression(&self) -> Compression {
        self.inner.compression
    }

    /// The compression level, in the codec's scale.
    pub fn compression_level(&self) -> CompressionLevel {
        self.inner.compression_level
    }

    /// Whether server certificates are accepted without verification
    /// ([`TlsConfig::with_insecure_skip_verify`] with at least one `https` endpoint).
    pub fn skips_certificate_verification(&self) -> bool {
        self.inner.insecure_skip_verify
    }

    /// The full URI requests of `signal` go to.
    pub fn endpoint(&self, signal: Signal) -> &Uri {
        &self.inner.uris[signal.index()]
    }

    /// Exports one request: encodes it once (protobuf, or OTLP/JSON for `http/json`),
    /// compresses it, and sends it with retries.
    ///
    /// Returns the partial success (if the receiver reported one) on success, or the error
    /// that ended the export. Cancellation-safe: dropping the future abandons the export.
    pub async fn export<R: ExportRequest>(
        &self,
        request: &R,
    ) -> Result<ExportOutcome, ExportError> {
        if let Some(protobuf) = request.held_protobuf() {
            return self.export_encoded(R::SIGNAL, protobuf).await;
        }
        let (compression, level) = (self.inner.compression, self.inner.compression_level);
        let body = match self.inner.wire {
            #[cfg(feature = "grpc")]
            Wire::Grpc => grpc::frame(&request.encode_to_vec(), compression, level)?,
            #[cfg(feature = "http")]
            Wire::Http(Protocol::HttpJson) => {
                http::body(Bytes::from(json_body(request)?), compression, level)?
            }
            #[cfg(feature = "http")]
            Wire::Http(_) => http::body(Bytes::from(request.encode_to_vec()), compression, level)?,
        };
        self.send(R::SIGNAL, body).await
    }

    /// Exports a request of `signal` that is already encoded as protobuf (for instance the
    /// bytes a receiver got), without decoding it: for gRPC and `http/protobuf` the bytes are
    /// compressed and framed as they are, so nothing checks that they are a valid request.
    /// Only `http/json` decodes them, to re-encode them as OTLP/JSON.
    pub async fn export_encoded(
        &self,
        signal: Signal,
        protobuf: Bytes,
    ) -> Result<ExportOutcome, ExportError> {
        let (compression, level) = (self.inner.compression, self.inner.compression_level);
        let body = match self.inner.wire {
            #[cfg(feature = "grpc")]
            Wire::Grpc => grpc::frame(&protobuf, compression, level)?,
            #[cfg(feature = "http")]
            Wire::Http(Protocol::HttpJson) => http::body(
                Bytes::from(json_from_protobuf(signal, &protobuf)?),
                compression,
                level,
            )?,
            #[cfg(feature = "http")]
            Wire::Http(_) => http::body(protobuf, compression, level)?,
        };
        self.send(signal, body).await
    }

    /// One POST of a body in another protocol than OTLP (Prometheus remote write, say) to the
    /// endpoint of `signal`, through this exporter's connection pool, TLS, proxy, headers and
    /// header source, within its timeout. `content_type` and `extra` headers are set on top;
    /// the body is sent as it is (already compressed by the caller, who names its encoding in
    /// `extra`). No retries: the caller's queue retries.
    ///
    /// A 2xx answer is `Ok`; 429 and 5xx are [`ExportError::Retryable`] (with `Retry-After`),
    /// other statuses [`ExportError::Rejected`], carrying the error body's text.
    #[cfg(feature = "http")]
    pub async fn post_body(
        &self,
        signal: Signal,
        content_type: &'static str,
        extra: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<(), ExportError> {
        let inner = &*self.inner;
        let uri = &inner.uris[signal.index()];
        let with_source;
        let headers = match &inner.header_source {
            None => &inner.headers,
            Some(source) => {
                with_source = header_source::merged(&inner.headers, source.as_ref())
                    .map_err(ExportError::Credentials)?;
                &with_source
            }
        };
        let request = http::raw_request(uri, content_type, extra, body, headers)?;
        let attempt = async {
            let response = inner
                .client
                .request(request)
                .await
                .map_err(transport_error)?;
            http::raw_response(response).await
        };
        match tokio::time::timeout(inner.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(ExportError::Timeout(inner.timeout)),
        }
    }

    /// The retry loop.
    async fn send(&self, signal: Signal, body: Bytes) -> Result<ExportOutcome, ExportError> {
        let inner = &*self.inner;
        let clock = &*inner.clock;
        let start = clock.now();
        let budget = match &inner.retry {
            retry if retry.enabled && !retry.max_elapsed_time.is_zero() => {
                Some(retry.max_elapsed_time)
            }
            _ => None,
        };
        let mut backoff = Backoff::new(&inner.retry);
        let mut attempts: u32 = 0;
        loop {
            attempts += 1;
            let elapsed = clock.now().saturating_duration_since(start);
            let attempt_timeout = match budget {
                Some(budget) => inner.timeout.min(budget.saturating_sub(elapsed)),
                None => inner.timeout,
            };
            let result = match tokio::time::timeout(
                attempt_timeout,
                self.attempt(signal, body.clone(), attempt_timeout),
            )
            .await
            {
                Ok(result) => result,
                Err(_) => Err(ExportError::Timeout(attempt_timeout)),
            };
            let error = match result {
                Ok(partial_success) => {
                    if let Some(partial) = &partial_success {
                        tracing::debug!(
                            %signal,
                            rejected = partial.rejected_items,
                            message = %partial.error_message,
                            "export partially accepted"
                        );
                    }
                    return Ok(ExportOutcome {
                        partial_success,
                        attempts,
                    });
                }
                Err(error) => error,
            };
            if !inner.retry.enabled || !error.is_retryable() {
                return Err(error);
            }
            let backoff_delay = backoff.next_delay(jitter());
            let delay = error.retry_after().unwrap_or(backoff_delay);
            let elapsed = clock.now().saturating_duration_since(start);
            if let Some(budget) = budget
                && elapsed.saturating_add(delay) >= budget
            {
                return Err(ExportError::RetriesExhausted {
                    attempts,
                    elapsed,
                    last: Box::new(error),
                });
            }
            tracing::debug!(%signal, attempts, ?delay, %error, "export failed; retrying");
            clock.sleep(delay).await;
        }
    }

    /// One attempt: send, then read the answer.
    async fn attempt(
        &self,
        signal: Signal,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Option<PartialSuccess>, ExportError> {
        let inner = &*self.inner;
        let uri = &inner.uris[signal.index()];
        let with_source;
        let headers = match &inner.header_source {
            None => &inner.headers,
            Some(source) => {
                with_source = header_source::merged(&inner.headers, source.as_ref())
                    .map_err(ExportError::Credentials)?;
                &with_source
            }
        };
        match inner.wire {
            #[cfg(feature = "grpc")]
            Wire::Grpc => {
                let request = grpc::request(uri, body, inner.compression, timeout, headers)?;
                let response = inner
                    .client
                    .request(request)
                    .await
                    .map_err(transport_error)?;
                grpc::response(signal, response).await
            }
            #[cfg(feature = "http")]
            Wire::Http(protocol) => {
                let _ = timeout;
                let request = http::request(uri, protocol, body, inner.compression, headers)?;
                let response = inner
                    .client
                    .request(request)
                    .await
                    .map_err(transport_error)?;
                http::response(signal, protocol, response).await
            }
        }
    }
}

/// The headers of every request: `User-Agent`, then the custom ones.
fn build_headers(config: &ExporterConfig) -> Result<HeaderMap, ConfigError> {
    let mut headers = HeaderMap::new();
    let user_agent =
        HeaderValue::from_str(&config.user_agent).map_err(|e| ConfigError::Header {
            name: "user-agent".into(),
            message: e.to_string(),
        })?;
    headers.insert(USER_AGENT, user_agent);
    for (name, value) in &config.headers {
        let header_error = |message: String| ConfigError::Header {
            name: name.clone(),
            message,
        };
        let parsed = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| header_error(e.to_string()))?;
        if RESERVED_HEADERS.contains(&parsed.as_str()) || parsed.as_str().starts_with("grpc-") {
            return Err(header_error("set by the exporter itself".into()));
        }
        let mut value =
            HeaderValue::from_str(value.trim()).map_err(|e| header_error(e.to_string()))?;
        value.set_sensitive(config::is_sensitive_header(parsed.as_str()));
        headers.insert(parsed, value);
    }
    Ok(headers)
}

fn transport_error(error: hyper_util::client::legacy::Error) -> ExportError {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Request
    };
    ExportError::Transport(TransportError::new(kind, error))
}

/// Reads a whole response body (and its trailers), at most `limit` bytes.
pub(crate) async fn collect_body(
    body: hyper::body::Incoming,
    limit: usize,
) -> Result<(Bytes, Option<HeaderMap>), ExportError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let trailers = collected.trailers().cloned();
            Ok((collected.to_bytes(), trailers))
        }
        Err(error) if error.is::<LengthLimitError>() => Err(ExportError::InvalidResponse(format!(
            "the response body is larger than {limit} bytes"
        ))),
        Err(error) => Err(ExportError::Transport(TransportError::new(
            TransportErrorKind::Request,
            error,
        ))),
    }
}

/// Calls `$body` with `$t` bound to the Export request type of `$signal`.
macro_rules! with_request_type {
    ($signal:expr, $t:ident => $body:expr) => {{
        use otlp_proto::collector::{logs, metrics, profiles, trace};
        match $signal {
            Signal::Traces => {
                type $t = trace::v1::ExportTraceServiceRequest;
                $body
            }
            Signal::Metrics => {
                type $t = metrics::v1::ExportMetricsServiceRequest;
                $body
            }
            Signal::Logs => {
                type $t = logs::v1::ExportLogsServiceRequest;
                $body
            }
            Signal::Profiles => {
                type $t = profiles::v1development::ExportProfilesServiceRequest;
                $body
            }
        }
    }};
}

/// The partial success of a protobuf Export response; an undecodable one is logged and
/// treated as full success (the receiver accepted the data; only its report is lost).
pub(crate) fn decode_protobuf_response(signal: Signal, data: &[u8]) -> Option<PartialSuccess> {
    use prost::Message as _;
    with_request_type!(signal, R => {
        match <R as ExportRequest>::Response::decode(data) {
            Ok(response) => R::partial_success(&response),
            Err(error) => {
                tracing::warn!(%signal, %error, "undecodable export response; data was accepted");
                None
            }
        }
    })
}

/// OTLP/JSON of a request. The four Export request types are written directly; any other
/// implementation of [`ExportRequest`] goes through its protobuf encoding.
#[cfg(feature = "json")]
fn json_body<R: ExportRequest>(request: &R) -> Result<Vec<u8>, ExportError> {
    let any: &dyn std::any::Any = request;
    let direct = with_request_type!(R::SIGNAL, T => {
        any.downcast_ref::<T>().map(otlp_proto::json::to_vec)
    });
    match direct {
        Some(result) => result.map_err(ExportError::encode),
        None => json_from_protobuf(R::SIGNAL, &request.encode_to_vec()),
    }
}

/// Protobuf bytes of a `signal` request re-encoded as OTLP/JSON.
#[cfg(feature = "json")]
fn json_from_protobuf(signal: Signal, protobuf: &[u8]) -> Result<Vec<u8>, ExportError> {
    use prost::Message as _;
    with_request_type!(signal, R => {
        let request = R::decode(protobuf).map_err(ExportError::encode)?;
        otlp_proto::json::to_vec(&request).map_err(ExportError::encode)
    })
}

#[cfg(all(feature = "http", not(feature = "json")))]
fn json_body<R: ExportRequest>(_request: &R) -> Result<Vec<u8>, ExportError> {
    Err(ExportError::encode("OTLP/JSON needs the `json` feature"))
}

#[cfg(all(feature = "http", not(feature = "json")))]
fn json_from_protobuf(_signal: Signal, _protobuf: &[u8]) -> Result<Vec<u8>, ExportError> {
    Err(ExportError::encode("OTLP/JSON needs the `json` feature"))
}
