//! Exporter configuration: [`ExporterConfig`], its [`ExporterBuilder`], and the protocol,
//! TLS and retry settings.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::ConfigError;
use super::OtlpExporter;
use super::retry::{Clock, TokioClock};
use crate::compression::{Compression, CompressionLevel};
use crate::signal::Signal;

/// The default export timeout, per attempt (the OTLP exporter specification's 10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default OTLP/gRPC endpoint.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";

/// The default OTLP/HTTP base endpoint (the signal's path is appended).
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";

/// The default `User-Agent`: `OTel-OTLP-Exporter-Rust-otlp-rs/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "OTel-OTLP-Exporter-Rust-otlp-rs/",
    env!("CARGO_PKG_VERSION")
);

/// The OTLP transport protocol, as `OTEL_EXPORTER_OTLP_PROTOCOL` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC (`grpc`): unary calls over HTTP/2 (feature `grpc`).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), the specification's default
    /// (feature `http`).
    #[default]
    HttpProtobuf,
    /// OTLP/HTTP with OTLP/JSON bodies (`http/json`, feature `json`).
    HttpJson,
}

impl Protocol {
    /// The configuration name: `grpc`, `http/protobuf`, `http/json`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// The default endpoint: `http://localhost:4317` for gRPC, `http://localhost:4318` (a
    /// base, the signal's path is appended) for OTLP/HTTP.
    pub const fn default_endpoint(self) -> &'static str {
        match self {
            Protocol::Grpc => DEFAULT_GRPC_ENDPOINT,
            Protocol::HttpProtobuf | Protocol::HttpJson => DEFAULT_HTTP_ENDPOINT,
        }
    }

    /// Whether this build can speak the protocol (its cargo feature is on).
    pub const fn is_available(self) -> bool {
        match self {
            Protocol::Grpc => cfg!(feature = "grpc"),
            Protocol::HttpProtobuf => cfg!(feature = "http"),
            Protocol::HttpJson => cfg!(feature = "json"),
        }
    }

    pub(crate) const fn feature(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http",
            Protocol::HttpJson => "json",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol name that is none of `grpc`, `http/protobuf`, `http/json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol `{value}`; valid values: grpc, http/protobuf, http/json")]
pub struct ParseProtocolError {
    /// The value given.
    pub value: String,
}

impl FromStr for Protocol {
    type Err = ParseProtocolError;

    /// Parses `grpc`, `http/protobuf` or `http/json` (exactly, as the specification spells
    /// them; surrounding whitespace ignored).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            _ => Err(ParseProtocolError {
                value: value.to_owned(),
            }),
        }
    }
}

/// Retry with exponential backoff and jitter, with the OpenTelemetry Collector's defaults
/// (`retry_on_failure` of its exporters).
///
/// The `n`-th wait (from 0) is `min(initial_interval * multiplier^n, max_interval)`, spread
/// uniformly by `± randomization_factor` of itself; a receiver's `RetryInfo` or `Retry-After`
/// replaces it. The loop gives up when the next wait would end past `max_elapsed_time` after
/// the first attempt began.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Whether failed attempts are retried at all (default `true`). When `false`, one attempt
    /// is made and its error returned as is.
    pub enabled: bool,
    /// The first wait (default 5 s).
    pub initial_interval: Duration,
    /// The largest wait before jitter (default 30 s).
    pub max_interval: Duration,
    /// The budget for the whole export, all attempts and waits (default 300 s). Zero means
    /// no limit (retry until success or a non-retryable error), as in the Collector.
    pub max_elapsed_time: Duration,
    /// The growth of the wait per retry (default 1.5, at least 1).
    pub multiplier: f64,
    /// The jitter, as a fraction of the wait (default 0.5, in `0..=1`).
    pub randomization_factor: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

impl RetryConfig {
    /// No retries: one attempt per export.
    pub fn disabled() -> Self {
        RetryConfig {
            enabled: false,
            ..RetryConfig::default()
        }
    }

    /// Sets the first wait.
    pub fn with_initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Sets the largest wait before jitter.
    pub fn with_max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Sets the budget for the whole export (zero: no limit).
    pub fn with_max_elapsed_time(mut self, elapsed: Duration) -> Self {
        self.max_elapsed_time = elapsed;
        self
    }

    /// Sets the growth of the wait per retry.
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the jitter fraction.
    pub fn with_randomization_factor(mut self, factor: f64) -> Self {
        self.randomization_factor = factor;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let error = |field, message: &str| {
            Err(ConfigError::Retry {
                field,
                message: message.to_owned(),
            })
        };
        if !self.enabled {
            return Ok(());
        }
        if self.initial_interval.is_zero() {
            return error("initial_interval", "must be greater than zero");
        }
        if self.max_interval < self.initial_interval {
            return error("max_interval", "must not be less than initial_interval");
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return error("multiplier", "must be a finite number of at least 1");
        }
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            return error("randomization_factor", "must be between 0 and 1");
        }
        Ok(())
    }
}

/// PEM data and where it came from (for error messages).
#[derive(Clone)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) struct Pem {
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) origin: String,
}

impl Pem {
    fn from_bytes(bytes: impl Into<Vec<u8>>, what: &str) -> Self {
        Pem {
            bytes: bytes.into().into(),
            origin: format!("{what} (PEM given in memory)"),
        }
    }

    pub(crate) fn from_file(path: &Path, what: &str) -> Result<Self, ConfigError> {
        let origin = format!("{what} `{}`", path.display());
        match std::fs::read(path) {
            Ok(bytes) => Ok(Pem {
                bytes: bytes.into(),
                origin,
            }),
            Err(error) => Err(ConfigError::Tls {
                what: origin,
                message: error.to_string(),
            }),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)
    }
}

/// TLS settings for `https` endpoints (feature `tls`; rustls with the ring provider).
///
/// By default the server is verified against the Mozilla roots of `webpki-roots`. A custom CA
/// replaces them (as `OTEL_EXPORTER_OTLP_CERTIFICATE` does in the other SDKs). A client
/// certificate and key enable mutual TLS. The ALPN protocols offered are `h2` for gRPC and
/// `h2`, `http/1.1` for OTLP/HTTP. None of this applies to `http` endpoints.
///
/// [`TlsConfig::with_insecure_skip_verify`] turns server verification off (otelcol's
/// `tls.insecure_skip_verify`): any certificate is accepted, whatever its issuer and names,
/// though the handshake itself is still checked.
#[derive(Clone, Default)]
pub struct TlsConfig {
    pub(crate) ca: Option<Pem>,
    pub(crate) identity: Option<(Pem, Pem)>,
    pub(crate) server_name: Option<String>,
    pub(crate) insecure_skip_verify: bool,
}

impl TlsConfig {
    /// Webpki roots, no client certificate.
    pub fn new() -> Self {
        TlsConfig::default()
    }

    /// Trusts the CA certificates in this PEM data (instead of the webpki roots).
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = Some(Pem::from_bytes(pem, "CA certificate"));
        self
    }

    /// Trusts the CA certificates in this PEM file, read now.
    pub fn with_ca_file(mut self, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        self.ca = Some(Pem::from_file(path.as_ref(), "CA certificate")?);
        Ok(self)
    }

    /// Presents this client certificate chain and private key (PEM; PKCS#8, PKCS#1 or SEC1
    /// key) for mutual TLS.
    pub fn with_client_identity_pem(
        mut self,
        certificate_chain: impl Into<Vec<u8>>,
        private_key: impl Into<Vec<u8>>,
    ) -> Self {
        self.identity = Some((
            Pem::from_bytes(certificate_chain, "client certificate"),
            Pem::from_bytes(private_key, "client key"),
        ));
        self
    }

    /// Presents the client certificate chain and private key in these PEM files, read now.
    pub fn with_client_identity_files(
        mut self,
        certificate_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, ConfigError> {
        self.identity = Some((
            Pem::from_file(certificate_chain.as_ref(), "client certificate")?,
            Pem::from_file(private_key.as_ref(), "client key")?,
        ));
        Ok(self)
    }

    /// Verifies the server as this name (and sends it as SNI) instead of the endpoint's
    /// host.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// `true` accepts any server certificate: neither its chain nor its name is checked (the
    /// CA, if set, is not used). The TLS handshake is still verified (the server must hold
    /// the key of the certificate it presents), but anyone on the path can impersonate the
    /// server: for tests and closed networks only.
    pub fn with_insecure_skip_verify(mut self, skip: bool) -> Self {
        self.insecure_skip_verify = skip;
        self
    }

    /// Whether server certificates are accepted without verification.
    pub fn insecure_skip_verify(&self) -> bool {
        self.insecure_skip_verify
    }

    /// Whether a custom CA is set.
    pub fn has_custom_ca(&self) -> bool {
        self.ca.is_some()
    }

    /// Whether a client certificate is set (mutual TLS).
    pub fn has_client_identity(&self) -> bool {
        self.identity.is_some()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca", &self.ca)
            .field(
                "client_certificate",
                &self.identity.as_ref().map(|(cert, _)| cert),
            )
            .field("server_name", &self.server_name)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

/// Everything an [`OtlpExporter`] needs: protocol, endpoints, headers, compression, timeout,
/// TLS, proxy and retry. Build one with [`ExporterConfig::builder`] or read one from the
/// environment with [`ExporterConfig::from_env`]; check and use it with
/// [`OtlpExporter::new`].
///
/// # Endpoints
///
/// The OTLP exporter specification's rules:
/// - The *base* endpoint ([`ExporterBuilder::endpoint`], `OTEL_EXPORTER_OTLP_ENDPOINT`) is
///   shared by all signals. For OTLP/HTTP the signal's path (`/v1/traces`, `/v1/metrics`,
///   `/v1/logs`, `/v1development/profiles`) is appended to its path, after one trailing `/`
///   is dropped: `http://c:4318/otlp/` sends traces to `http://c:4318/otlp/v1/traces`.
/// - A *signal* endpoint ([`ExporterBuilder::signal_endpoint`],
///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...) is used exactly as given for that signal (an
///   empty path is `/`), and takes precedence over the base.
/// - Without either: `http://localhost:4317` for gRPC, `http://localhost:4318` + the
///   signal's path for OTLP/HTTP.
/// - gRPC uses only the scheme, host and port (the method path is fixed by the service). A
///   gRPC endpoint without a scheme (`collector:4317`) uses TLS unless
///   [`ExporterBuilder::insecure`] is set; OTLP/HTTP endpoints need `http://` or `https://`.
#[derive(Clone)]
pub struct ExporterConfig {
    pub(crate) protocol: Protocol,
    pub(crate) endpoint: Option<String>,
    pub(crate) signal_endpoints: [Option<String>; 4],
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_source: Option<Arc<dyn super::HeaderSource>>,
    pub(crate) compression: Compression,
    pub(crate) compression_level: CompressionLevel,
    pub(crate) timeout: Duration,
    pub(crate) tls: TlsConfig,
    pub(crate) insecure: bool,
    pub(crate) proxy_url: Option<String>,
    pub(crate) retry: RetryConfig,
    pub(crate) user_agent: String,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for ExporterConfig {
    fn default() -> Self {
        ExporterConfig {
            protocol: Protocol::default(),
            endpoint: None,
            signal_endpoints: Default::default(),
            headers: Vec::new(),
            header_source: None,
            compression: Compression::None,
            compression_level: CompressionLevel::DEFAULT,
            timeout: DEFAULT_TIMEOUT,
            tls: TlsConfig::default(),
            insecure: false,
            proxy_url: None,
            retry: RetryConfig::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            clock: Arc::new(TokioClock),
        }
    }
}

impl ExporterConfig {
    /// A builder starting from the defaults (http/protobuf to `http://localhost:4318`, no
    /// compression, 10 s timeout, the Collector's retry defaults).
    pub fn builder() -> ExporterBuilder {
        ExporterBuilder {
            config: ExporterConfig::default(),
        }
    }

    /// A builder starting from this configuration (e.g. one read from the environment).
    pub fn into_builder(self) -> ExporterBuilder {
        ExporterBuilder { config: self }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The base endpoint, if one is set.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The endpoint set for one signal, if any.
    pub fn signal_endpoint(&self, signal: Signal) -> Option<&str> {
        self.signal_endpoints[signal.index()].as_deref()
    }

    /// The custom headers, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The compression level, in the codec's scale.
    pub fn compression_level(&self) -> CompressionLevel {
        self.compression_level
    }

    /// The timeout of one attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The TLS settings.
    pub fn tls(&self) -> &TlsConfig {
        &self.tls
    }

    /// Whether a scheme-less gRPC endpoint uses plain HTTP/2 instead of TLS.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// The HTTP proxy connections are tunnelled through, as configured (unchecked).
    pub fn proxy_url(&self) -> Option<&str> {
        self.proxy_url.as_deref()
    }

    /// The retry settings.
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// The `User-Agent` header sent.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }
}

/// Header names whose values are redacted in `Debug` output and marked sensitive (never
/// indexed by HPACK).
pub(crate) fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["auth", "key", "token", "secret", "cookie", "password"]
        .iter()
        .any(|word| name.contains(word))
}

impl fmt::Debug for ExporterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if is_sensitive_header(name) {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (name.as_str(), value)
            })
            .collect();
        f.debug_struct("ExporterConfig")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
            .field("signal_endpoints", &self.signal_endpoints)
            .field("headers", &headers)
            .field("header_source", &self.header_source.is_some())
            .field("compression", &self.compression)
            .field("compression_level", &self.compression_level)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .field("insecure", &self.insecure)
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(super::proxy::redact),
            )
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// Builds an [`ExporterConfig`] (and from it an [`OtlpExporter`]).
///
/// Setters never fail; [`ExporterBuilder::build`] checks everything.
///
/// ```
/// use std::time::Duration;
/// use otlp_transport::client::{ExporterConfig, Protocol, RetryConfig};
/// use otlp_transport::compression::Compression;
///
/// let exporter = ExporterConfig::builder()
///     .protocol(Protocol::Grpc)
///     .endpoint("http://collector:4317")
///     .header("x-tenant", "blue")
///     .compression(Compression::Gzip)
///     .timeout(Duration::from_secs(5))
///     .retry(RetryConfig::default().with_max_elapsed_time(Duration::from_secs(60)))
///     .build()?;
/// assert_eq!(
///     exporter.endpoint(otlp_transport::Signal::Traces).to_string(),
///     "http://collector:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export"
/// );
/// # Ok::<(), otlp_transport::client::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ExporterBuilder {
    config: ExporterConfig,
}

impl ExporterBuilder {
    /// Sets the protocol (default `http/protobuf`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.protocol = protocol;
        self
    }

    /// Sets the base endpoint shared by all signals (for OTLP/HTTP the signal's path is
    /// appended; see [`ExporterConfig`]).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the endpoint of one signal, used exactly as given.
    pub fn signal_endpoint(mut self, signal: Signal, endpoint: impl Into<String>) -> Self {
        self.config.signal_endpoints[signal.index()] = Some(endpoint.into());
        self
    }

    /// Adds a header sent with every request (replacing an earlier one of the same name,
    /// compared case-insensitively). A `user-agent` header replaces the default one.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.config
            .headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        self.config.headers.push((name, value.into()));
        self
    }

    /// Adds several headers, as [`ExporterBuilder::header`] does.
    pub fn headers<K: Into<String>, V: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (name, value) in headers {
            self = self.header(name, value);
        }
        self
    }

    /// Adds headers computed before every attempt (a client authenticator's credentials),
    /// laid over the static ones.
    pub fn header_source(mut self, source: Arc<dyn super::HeaderSource>) -> Self {
        self.config.header_source = Some(source);
        self
    }

    /// Sets the compression (default none). Brotli is for OTLP/HTTP only.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.config.compression = compression;
        self
    }

    /// Sets the compression level, in the codec's scale (default
    /// [`CompressionLevel::DEFAULT`]; see [`CompressionLevel`]). [`ExporterBuilder::build`]
    /// refuses a level the compression does not take.
    pub fn compression_level(mut self, level: CompressionLevel) -> Self {
        self.config.compression_level = level;
        self
    }

    /// Sets the timeout of one attempt (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets the TLS settings for `https` endpoints.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.tls = tls;
        self
    }

    /// For a gRPC endpoint without a scheme: `true` connects with plain HTTP/2, `false` (the
    /// default) with TLS. Endpoints with a scheme are not affected.
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.config.insecure = insecure;
        self
    }

    /// Tunnels every connection through this HTTP proxy (`http://[user:password@]host:port`)
    /// with `CONNECT`, `https` and `http` endpoints alike; TLS runs end to end inside the
    /// tunnel. Credentials are sent as `Proxy-Authorization: Basic`. The proxy's answer is
    /// bounded (16 KiB of head, and the exporter's timeout). An empty URL means no proxy;
    /// [`ExporterBuilder::build`] refuses a URL [`ProxyUrl::parse`](super::ProxyUrl::parse)
    /// does. The `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` variables are not read.
    pub fn proxy_url(mut self, url: impl Into<String>) -> Self {
        self.config.proxy_url = Some(url.into());
        self
    }

    /// Sets the retry settings (default: the Collector's; [`RetryConfig::disabled`] for
    /// none).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.config.retry = retry;
        self
    }

    /// Replaces the `User-Agent` (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// Replaces the retry loop's clock (default: tokio's, which honours
    /// `tokio::time::pause`). Tests use a virtual clock to make retries instant.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = clock;
        self
    }

    /// The configuration, unchecked.
    pub fn into_config(self) -> ExporterConfig {
        self.config
    }

    /// Checks the configuration and builds the exporter.
    pub fn build(self) -> Result<OtlpExporter, ConfigError> {
        OtlpExporter::new(self.config)
    }
}

impl From<ExporterConfig> for ExporterBuilder {
    fn from(config: ExporterConfig) -> Self {
        config.into_builder()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_round_trip() {
        for protocol in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
            assert_eq!(protocol.as_str().parse::<Protocol>().unwrap(), protocol);
        }
        assert!("http".parse::<Protocol>().is_err());
        assert!("GRPC".parse::<Protocol>().is_err());
        assert_eq!(Protocol::default(), Protocol::HttpProtobuf);
    }

    #[test]
    fn retry_defaults_are_the_collectors() {
        let retry = RetryConfig::default();
        assert!(retry.enabled);
        assert_eq!(retry.initial_interval, Duration::from_secs(5));
        assert_eq!(retry.max_interval, Duration::from_secs(30));
        assert_eq!(retry.max_elapsed_time, Duration::from_secs(300));
        assert_eq!(retry.multiplier, 1.5);
        assert_eq!(retry.randomization_factor, 0.5);
        assert!(retry.validate().is_ok());
        assert!(
            RetryConfig::default()
                .with_multiplier(0.5)
                .validate()
                .is_err()
        );
        assert!(
            RetryConfig::default()
                .with_randomization_factor(1.5)
                .validate()
                .is_err()
        );
        assert!(
            RetryConfig::default()
                .with_initial_interval(Duration::ZERO)
                .validate()
                .is_err()
        );
        assert!(
            RetryConfig::default()
                .with_max_interval(Duration::from_secs(1))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let config = ExporterConfig::builder()
            .header("Authorization", "Bearer hunter2")
            .header("x-tenant", "blue")
            .tls(TlsConfig::new().with_client_identity_pem("CERT", "PRIVATE KEY DATA"))
            .proxy_url("http://squid:opensesame@proxy:3128")
            .into_config();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("opensesame"), "{debug}");
        assert!(debug.contains("proxy:3128"), "{debug}");
        assert!(!debug.contains("PRIVATE KEY DATA"), "{debug}");
        assert!(debug.contains("blue"), "{debug}");
    }

    #[test]
    fn header_replaces_same_name() {
        let config = ExporterConfig::builder()
            .header("X-A", "1")
            .header("x-a", "2")
            .into_config();
        assert_eq!(config.headers(), &[("x-a".to_owned(), "2".to_owned())]);
    }
}
