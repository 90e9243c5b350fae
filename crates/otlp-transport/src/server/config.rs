//! Receiver configuration: endpoints, limits, TLS, authentication.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// One mebibyte.
const MIB: usize = 1024 * 1024;

/// Size limits applied to every request of one endpoint.
///
/// # Defaults, and why
///
/// They are the OpenTelemetry Collector's (Go) defaults, so that a sender that works against
/// a Collector works against this receiver, and the other way round:
/// - gRPC: 4 MiB, the Collector's `max_recv_msg_size_mib` default (grpc-go's own default
///   receive limit, which every gRPC sender already expects).
/// - HTTP: 20 MiB, the Collector's `confighttp` `max_request_body_size` default, which the
///   Collector applies to the body and, since its decompression-bomb fix, to the decompressed
///   body too.
///
/// The compressed cap defaults to the decompressed limit: a compressed body larger than the
/// largest acceptable request can only inflate to more than that (apart from a few bytes of
/// framing on incompressible data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request accepted, in bytes, measured after decompression: the protobuf or
    /// JSON message itself. Larger requests are answered 413 / RESOURCE_EXHAUSTED, and a
    /// compressed body is never inflated past this size.
    pub max_request_size: usize,
    /// The largest body read off the wire, in bytes, before decompression (the gRPC message
    /// length in the frame header, the HTTP `Content-Length`, or the bytes read so far).
    pub max_compressed_size: usize,
}

impl Limits {
    /// The gRPC default: 4 MiB both ways.
    pub const GRPC_DEFAULT: Limits = Limits::uniform(4 * MIB);
    /// The HTTP default: 20 MiB both ways.
    pub const HTTP_DEFAULT: Limits = Limits::uniform(20 * MIB);

    /// The same limit before and after decompression.
    pub const fn uniform(bytes: usize) -> Limits {
        Limits {
            max_request_size: bytes,
            max_compressed_size: bytes,
        }
    }

    /// The cap on the body read off the wire for a body in `compression`: the compressed cap
    /// for a compressed body, otherwise the request limit itself.
    pub(crate) fn wire_cap(&self, compressed: bool) -> usize {
        if compressed {
            self.max_compressed_size
        } else {
            self.max_request_size
        }
    }
}

/// Where one protocol listens, and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The address to bind (port 0 picks a free port; see `RunningReceiver::*_local_addr`).
    pub addr: SocketAddr,
    /// Size limits for this endpoint.
    pub limits: Limits,
}

/// Where a PEM file's contents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemSource {
    /// A file, read when the receiver starts.
    File(PathBuf),
    /// PEM text in memory.
    Pem(Vec<u8>),
}

impl PemSource {
    #[cfg(feature = "tls")]
    pub(crate) fn load(&self) -> std::io::Result<Vec<u8>> {
        match self {
            PemSource::File(path) => std::fs::read(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
            }),
            PemSource::Pem(bytes) => Ok(bytes.clone()),
        }
    }
}

/// TLS for both endpoints (feature `tls`): the server certificate chain and key, and for
/// mutual TLS the CA that client certificates must chain to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The certificate chain, leaf first (PEM).
    pub cert: PemSource,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PemSource,
    /// When set, clients must present a certificate issued by one of these CAs (PEM).
    pub client_ca: Option<PemSource>,
}

impl TlsConfig {
    /// TLS from a certificate chain file and a key file (PEM).
    pub fn from_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsConfig {
        TlsConfig {
            cert: PemSource::File(cert.into()),
            key: PemSource::File(key.into()),
            client_ca: None,
        }
    }

    /// TLS from PEM text in memory.
    pub fn from_pem(cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> TlsConfig {
        TlsConfig {
            cert: PemSource::Pem(cert.into()),
            key: PemSource::Pem(key.into()),
            client_ca: None,
        }
    }

    /// Requires client certificates issued by the CAs in `ca` (mutual TLS).
    #[must_use]
    pub fn with_client_ca(mut self, ca: PemSource) -> TlsConfig {
        self.client_ca = Some(ca);
        self
    }
}

/// Everything a receiver needs but its handler. Every field has a documented default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// The OTLP/gRPC endpoint (feature `grpc`); `None` (the default) serves no gRPC.
    pub grpc: Option<EndpointConfig>,
    /// The OTLP/HTTP endpoint (feature `http`), protobuf and JSON on one port; `None` (the
    /// default) serves no HTTP. It also answers gRPC requests (`content-type:
    /// application/grpc` over HTTP/2) when the `grpc` feature is on.
    pub http: Option<EndpointConfig>,
    /// TLS for both endpoints; `None` (the default) serves plain TCP.
    pub tls: Option<TlsConfig>,
    /// When set, every request must carry `authorization: Bearer <token>` with this token
    /// (compared in constant time). Default `None`.
    pub bearer_token: Option<String>,
    /// Requests handled at once, over both endpoints. Beyond it a request is refused at once
    /// with UNAVAILABLE / 503 and `Retry-After`, before its body is read. Default 64: with the
    /// HTTP default limits that bounds request buffers to about 64 × (20 + 20) MiB in the
    /// worst case; lower it (or use an admission hook) on small machines.
    pub max_concurrent_requests: usize,
    /// Requests one client address may have in progress at once; beyond it its requests are
    /// refused like those beyond `max_concurrent_requests`, so that one client (a careless or
    /// a hostile one, holding slots with bodies it never finishes) leaves room for the others.
    /// `None` (the default): half of `max_concurrent_requests`, at least 1.
    pub max_concurrent_requests_per_address: Option<usize>,
    /// Concurrent HTTP/2 streams one connection may open (its `SETTINGS_MAX_CONCURRENT_STREAMS`);
    /// a client queues its requests beyond it. Default 100, the floor RFC 9113 recommends.
    pub max_concurrent_streams: u32,
    /// Open connections served, over both endpoints. When reached, each endpoint holds at
    /// most one more accepted connection unserved and stops accepting (new connections wait
    /// in the listen backlog) until one closes. Default 1024.
    pub max_connections: usize,
    /// Open connections one client address may hold; a connection beyond it is closed as soon
    /// as it is accepted. `None` (the default): half of `max_connections`, at least 1.
    pub max_connections_per_address: Option<usize>,
    /// The delay advised to senders refused because of `max_concurrent_requests`. Default
    /// 1 s.
    pub overload_retry_after: Duration,
    /// Time allowed to receive a request's body once its headers arrived. Default 30 s.
    pub body_timeout: Duration,
    /// The slowest body accepted, in bytes per second: once `body_rate_grace` has passed, a
    /// body must have arrived at this average rate since its headers, or the request is
    /// answered DEADLINE_EXCEEDED / 408 and its slot freed (a client sending a byte a second
    /// holds a slot for `body_rate_grace`, not `body_timeout`). 0 disables. Default 4 KiB/s.
    pub body_min_rate: u64,
    /// The time a body may take before `body_min_rate` applies. Default 5 s.
    pub body_rate_grace: Duration,
    /// Time allowed from accepting a connection to its first complete request head (TLS
    /// handshake, HTTP/2 preface and settings included), and for each later HTTP/1 request's
    /// headers. A connection that sends nothing, or too little, is closed then. Default 10 s.
    pub handshake_timeout: Duration,
    /// A connection with no request in progress for this long is closed (HTTP/2 `GOAWAY`;
    /// otelcol's HTTP `idle_timeout` and gRPC `keepalive.server_parameters.max_connection_idle`).
    /// `None` keeps idle connections open. Default 1 min, otelcol's HTTP default.
    pub idle_timeout: Option<Duration>,
    /// A connection older than this is asked to close (HTTP/2 `GOAWAY`, HTTP/1 closed after the
    /// response in progress), so clients spread over replicas again (gRPC's
    /// `max_connection_age`). Default `None`: no limit.
    pub max_connection_age: Option<Duration>,
    /// How long a connection asked to close for its age may finish its requests in progress
    /// before it is dropped (gRPC's `max_connection_age_grace`). Default `None`: as long as
    /// they take.
    pub max_connection_age_grace: Option<Duration>,
    /// HTTP/2 keepalive: after this long without a frame from the client, a PING is sent
    /// (gRPC's `keepalive.server_parameters.time`). `None` sends none. Default 2 h, grpc-go's.
    pub keepalive_time: Option<Duration>,
    /// HTTP/2 keepalive: a PING unanswered for this long closes the connection (gRPC's
    /// `keepalive.server_parameters.timeout`). Default 20 s, grpc-go's.
    pub keepalive_timeout: Duration,
    /// HTTP/1 keep-alive: `false` closes each HTTP/1 connection after its response
    /// (otelcol's HTTP `keepalive.enabled`). Default `true`.
    pub http1_keep_alive: bool,
    /// Pass the request headers (gRPC metadata) to the handler in `RequestContext::metadata`.
    /// Default `false`.
    pub include_metadata: bool,
    /// CORS on the HTTP endpoint (otelcol's `cors`); `None` (the default) answers no CORS.
    pub cors: Option<super::CorsConfig>,
}

impl ReceiverConfig {
    /// The effective per-address request share.
    pub(crate) fn requests_per_address(&self) -> usize {
        self.max_concurrent_requests_per_address
            .unwrap_or(self.max_concurrent_requests / 2)
            .max(1)
    }

    /// The effective per-address connection share.
    pub(crate) fn connections_per_address(&self) -> usize {
        self.max_connections_per_address
            .unwrap_or(self.max_connections / 2)
            .max(1)
    }
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            grpc: None,
            http: None,
            tls: None,
            bearer_token: None,
            max_concurrent_requests: 64,
            max_concurrent_requests_per_address: None,
            max_concurrent_streams: 100,
            max_connections: 1024,
            max_connections_per_address: None,
            overload_retry_after: Duration::from_secs(1),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 4096,
            body_rate_grace: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(60)),
            max_connection_age: None,
            max_connection_age_grace: None,
            keepalive_time: Some(Duration::from_secs(2 * 60 * 60)),
            keepalive_timeout: Duration::from_secs(20),
            http1_keep_alive: true,
            include_metadata: false,
            cors: None,
        }
    }
}
