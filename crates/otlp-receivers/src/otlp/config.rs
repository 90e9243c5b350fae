//! `otlp` receiver configuration (otelcol's keys).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::fields::{null_as_default, null_as_empty};
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::telemetry::check_endpoint;

/// otelcol's default gRPC endpoint.
pub const DEFAULT_GRPC_ENDPOINT: &str = "localhost:4317";
/// otelcol's default HTTP endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "localhost:4318";

/// `receivers: otlp:`.
///
/// ```yaml
/// otlp:
///   protocols:
///     grpc:
///       endpoint: 0.0.0.0:4317
///     http:
///       endpoint: 0.0.0.0:4318
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpReceiverConfig {
    /// The protocols to serve; at least one.
    #[serde(deserialize_with = "null_as_empty")]
    pub protocols: Protocols,
}

/// `protocols`: `grpc:` and/or `http:` (a key with nothing under it enables the protocol with
/// its defaults).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocols {
    /// OTLP/gRPC.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub grpc: Option<GrpcServerConfig>,
    /// OTLP/HTTP (protobuf and JSON).
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub http: Option<HttpServerConfig>,
}

/// `protocols.grpc`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcServerConfig {
    /// `host:port` to listen on (default `localhost:4317`).
    pub endpoint: String,
    /// `tcp` (the only transport supported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The largest message accepted, in MiB (default 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_recv_msg_size_mib: Option<u64>,
    /// Concurrent HTTP/2 streams per connection, announced to the client in its SETTINGS
    /// (default 100); a client queues its calls beyond it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<u32>,
    /// Accepted, ignored (buffer tuning of grpc-go).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<Value>,
    /// `keepalive`: `server_parameters` (idle and age limits, pings); `enforcement_policy` is
    /// accepted and not applied.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub keepalive: Option<GrpcKeepalive>,
    /// Open connections one client address may hold (default: half of the 1024 served).
    /// An otlp-rs key, not otelcol's: behind a proxy or NAT that shows every client as one
    /// address, raise it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_per_address: Option<usize>,
    /// Requests one client address may have in progress (default: half of the 64 handled at
    /// once). An otlp-rs key, not otelcol's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests_per_address: Option<usize>,
    /// Pass the request metadata on with the data (`Context::client().metadata`).
    pub include_metadata: bool,
    /// TLS (mutual TLS with `client_ca_file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTlsConfig>,
    /// `authenticator: bearertokenauth[/name]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            endpoint: DEFAULT_GRPC_ENDPOINT.into(),
            transport: None,
            max_recv_msg_size_mib: None,
            max_concurrent_streams: None,
            read_buffer_size: None,
            write_buffer_size: None,
            keepalive: None,
            max_connections_per_address: None,
            max_concurrent_requests_per_address: None,
            include_metadata: false,
            tls: None,
            auth: None,
        }
    }
}

/// `protocols.grpc.keepalive` (grpc-go's keepalive parameters).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcKeepalive {
    /// What the server enforces on its connections.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_parameters: Option<ServerParameters>,
    /// grpc-go's ping-rate policy: accepted, not applied (every ping is answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement_policy: Option<Value>,
}

/// `keepalive.server_parameters`. A zero duration means no limit, as in grpc-go.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerParameters {
    /// A connection with no call in progress for this long is sent GOAWAY (default 1 min).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub max_connection_idle: Option<Duration>,
    /// A connection older than this is sent GOAWAY (default none).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub max_connection_age: Option<Duration>,
    /// After the age's GOAWAY, calls in progress get this long before the connection is
    /// closed (default: as long as they take).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub max_connection_age_grace: Option<Duration>,
    /// A PING after this long without a frame from the client (default 2 h).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub time: Option<Duration>,
    /// An unanswered PING closes the connection after this long (default 20 s).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
}

/// `protocols.http.keepalive`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpKeepalive {
    /// `false` closes each HTTP/1 connection after its response (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A connection waiting this long for its next request is closed (default 1 min).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
}

/// `protocols.http.cors` (otelcol's `confighttp` CORS; the behaviour is
/// `otlp_transport::server::CorsConfig`'s).
///
/// ```yaml
/// cors:
///   allowed_origins: ["https://app.example.com", "https://*.example.org"]
///   allowed_headers: [X-Custom-Header]
///   max_age: 7200
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpCorsConfig {
    /// Origins allowed to send requests; a `*` inside one stands for any run of characters,
    /// `*` alone for any origin. Empty (the default): CORS is off.
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_origins: Vec<String>,
    /// Request headers allowed besides `Accept`, `Accept-Language`, `Content-Language` and
    /// `Content-Type` (and `X-Requested-With` when empty); `*` allows any.
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_headers: Vec<String>,
    /// Response headers a page may read (`Access-Control-Expose-Headers`).
    #[serde(
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exposed_headers: Vec<String>,
    /// `Access-Control-Max-Age` of preflight answers, in seconds; 0 (the default) sends none,
    /// a negative value sends 0 (as rs/cors does).
    #[serde(skip_serializing_if = "is_zero")]
    pub max_age: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl HttpCorsConfig {
    /// The transport's CORS settings.
    pub fn to_transport(&self) -> otlp_transport::server::CorsConfig {
        let mut cors = otlp_transport::server::CorsConfig::new(self.allowed_origins.clone())
            .with_allowed_headers(self.allowed_headers.clone())
            .with_exposed_headers(self.exposed_headers.clone());
        if self.max_age != 0 {
            cors = cors.with_max_age(u64::try_from(self.max_age).unwrap_or(0));
        }
        cors
    }
}

/// `protocols.http`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// `host:port` to listen on (default `localhost:4318`).
    pub endpoint: String,
    /// The largest body accepted (and the largest decompressed body), in bytes (default 20 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_request_body_size: Option<u64>,
    /// Pass the request headers on with the data.
    pub include_metadata: bool,
    /// TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTlsConfig>,
    /// `authenticator: bearertokenauth[/name]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    /// Only the default `/v1/traces` is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces_url_path: Option<String>,
    /// Only the default `/v1/metrics` is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_url_path: Option<String>,
    /// Only the default `/v1/logs` is supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs_url_path: Option<String>,
    /// CORS for web pages of other origins; off unless `allowed_origins` lists one.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub cors: Option<HttpCorsConfig>,
    /// Time from accepting a connection to its first request's headers, and for each later
    /// request's headers (default 10 s; otelcol's is 1 min).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub read_header_timeout: Option<Duration>,
    /// Time to receive a request's body once its headers arrived (default 30 s).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<Duration>,
    /// Accepted, not applied: every answer is a few bytes, written at once.
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<Duration>,
    /// The older spelling of `keepalive.idle_timeout`.
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    /// HTTP keep-alive.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub keepalive: Option<HttpKeepalive>,
    /// Open connections one client address may hold (default: half of the 1024 served).
    /// An otlp-rs key, not otelcol's: behind a proxy or NAT that shows every client as one
    /// address, raise it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections_per_address: Option<usize>,
    /// Requests one client address may have in progress (default: half of the 64 handled at
    /// once). An otlp-rs key, not otelcol's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests_per_address: Option<usize>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            endpoint: DEFAULT_HTTP_ENDPOINT.into(),
            max_request_body_size: None,
            include_metadata: false,
            tls: None,
            auth: None,
            traces_url_path: None,
            metrics_url_path: None,
            logs_url_path: None,
            cors: None,
            read_header_timeout: None,
            read_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            keepalive: None,
            max_connections_per_address: None,
            max_concurrent_requests_per_address: None,
        }
    }
}

/// `tls` of a server.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerTlsConfig {
    /// The certificate chain (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// The private key (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The certificate chain, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
    /// The private key, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
    /// Require client certificates issued by these CAs (mutual TLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca_file: Option<PathBuf>,
    /// `1.2` (default) only: rustls serves TLS 1.2 and 1.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// `1.3` (default) only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

/// `auth` of a server.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The id of an authenticator extension; only `bearertokenauth[/name]` is supported.
    pub authenticator: String,
}

pub(crate) fn check_server_tls(path: &str, tls: &ServerTlsConfig) -> Result<(), ConfigError> {
    let has_cert = tls.cert_file.is_some() || tls.cert_pem.is_some();
    let has_key = tls.key_file.is_some() || tls.key_pem.is_some();
    if !has_cert || !has_key {
        return Err(ConfigError::bad_value(
            path,
            "a server needs cert_file (or cert_pem) and key_file (or key_pem)",
        ));
    }
    if tls.cert_file.is_some() && tls.cert_pem.is_some() {
        return Err(ConfigError::bad_value(
            path,
            "set cert_file or cert_pem, not both",
        ));
    }
    if tls.key_file.is_some() && tls.key_pem.is_some() {
        return Err(ConfigError::bad_value(
            path,
            "set key_file or key_pem, not both",
        ));
    }
    if let Some(v) = tls
        .min_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "1.2")
    {
        return Err(ConfigError::bad_value(
            format!("{path}::min_version"),
            format!(
                "\"{v}\" is not supported: the server accepts TLS 1.2 and 1.3 (min_version 1.2)"
            ),
        ));
    }
    if let Some(v) = tls
        .max_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "1.3")
    {
        return Err(ConfigError::bad_value(
            format!("{path}::max_version"),
            format!(
                "\"{v}\" is not supported: the server accepts TLS 1.2 and 1.3 (max_version 1.3)"
            ),
        ));
    }
    Ok(())
}

fn check_per_address(
    path: &str,
    connections: Option<usize>,
    requests: Option<usize>,
) -> Result<(), ConfigError> {
    for (key, value) in [
        ("max_connections_per_address", connections),
        ("max_concurrent_requests_per_address", requests),
    ] {
        if value == Some(0) {
            return Err(ConfigError::bad_value(
                format!("{path}::{key}"),
                "must be greater than zero",
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_auth(path: &str, auth: &AuthConfig) -> Result<(), ConfigError> {
    let id = otlp_pipeline::config::fields::parse_id(
        &format!("{path}::authenticator"),
        &auth.authenticator,
    )?;
    if id.type_name() != "bearertokenauth" {
        return Err(ConfigError::bad_value(
            format!("{path}::authenticator"),
            format!("\"{id}\" is not supported: only bearertokenauth authenticators are"),
        ));
    }
    Ok(())
}

impl ComponentConfig for OtlpReceiverConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let protocols = &self.protocols;
        if protocols.grpc.is_none() && protocols.http.is_none() {
            return Err(ConfigError::bad_value(
                "protocols",
                "must specify at least one protocol when using the OTLP receiver",
            ));
        }
        if let Some(grpc) = &protocols.grpc {
            check_endpoint(&grpc.endpoint)
                .map_err(|e| ConfigError::bad_value("protocols::grpc::endpoint", e))?;
            if let Some(transport) = grpc
                .transport
                .as_deref()
                .filter(|t| !t.is_empty() && *t != "tcp")
            {
                return Err(ConfigError::bad_value(
                    "protocols::grpc::transport",
                    format!("\"{transport}\" is not supported: only tcp is"),
                ));
            }
            if grpc.max_recv_msg_size_mib == Some(0) {
                return Err(ConfigError::bad_value(
                    "protocols::grpc::max_recv_msg_size_mib",
                    "must be greater than zero",
                ));
            }
            if grpc.max_concurrent_streams == Some(0) {
                return Err(ConfigError::bad_value(
                    "protocols::grpc::max_concurrent_streams",
                    "must be greater than zero",
                ));
            }
            check_per_address(
                "protocols::grpc",
                grpc.max_connections_per_address,
                grpc.max_concurrent_requests_per_address,
            )?;
            if let Some(tls) = &grpc.tls {
                check_server_tls("protocols::grpc::tls", tls)?;
            }
            if let Some(auth) = &grpc.auth {
                check_auth("protocols::grpc::auth", auth)?;
            }
        }
        if let Some(http) = &protocols.http {
            check_endpoint(&http.endpoint)
                .map_err(|e| ConfigError::bad_value("protocols::http::endpoint", e))?;
            if http.max_request_body_size == Some(0) {
                return Err(ConfigError::bad_value(
                    "protocols::http::max_request_body_size",
                    "must be greater than zero",
                ));
            }
            for (key, value, default) in [
                ("traces_url_path", &http.traces_url_path, "/v1/traces"),
                ("metrics_url_path", &http.metrics_url_path, "/v1/metrics"),
                ("logs_url_path", &http.logs_url_path, "/v1/logs"),
            ] {
                if let Some(path) = value
                    && path != default
                {
                    return Err(ConfigError::bad_value(
                        format!("protocols::http::{key}"),
                        format!("custom URL paths are not supported (only the default {default})"),
                    ));
                }
            }
            if let Some(cors) = &http.cors {
                cors.to_transport()
                    .validate()
                    .map_err(|e| ConfigError::bad_value("protocols::http::cors", e))?;
            }
            for (key, value) in [
                ("read_header_timeout", http.read_header_timeout),
                ("read_timeout", http.read_timeout),
            ] {
                if value == Some(Duration::ZERO) {
                    return Err(ConfigError::bad_value(
                        format!("protocols::http::{key}"),
                        "must be greater than zero: without it a client that never finishes a request holds its connection and request slots for good",
                    ));
                }
            }
            if http.idle_timeout.is_some()
                && http
                    .keepalive
                    .as_ref()
                    .is_some_and(|k| k.idle_timeout.is_some())
            {
                return Err(ConfigError::bad_value(
                    "protocols::http::idle_timeout",
                    "set idle_timeout or keepalive::idle_timeout, not both",
                ));
            }
            check_per_address(
                "protocols::http",
                http.max_connections_per_address,
                http.max_concurrent_requests_per_address,
            )?;
            if let Some(tls) = &http.tls {
                check_server_tls("protocols::http::tls", tls)?;
            }
            if let Some(auth) = &http.auth {
                check_auth("protocols::http::auth", auth)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod cors_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use otlp_pipeline::config::parse_config;

    fn parse(yaml: &str) -> Result<OtlpReceiverConfig, ConfigError> {
        let config: OtlpReceiverConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
        config.validate()?;
        Ok(config)
    }

    fn cors(yaml: &str) -> Option<HttpCorsConfig> {
        parse(yaml).unwrap().protocols.http.unwrap().cors
    }

    #[test]
    fn cors_keys_map_onto_the_transport() {
        let config = cors(
            "protocols:\n  http:\n    cors:\n      allowed_origins: [\"https://*.example.com\", \"*\"]\n      allowed_headers: [X-Custom]\n      exposed_headers: [Retry-After]\n      max_age: 7200\n",
        )
        .unwrap();
        let transport = config.to_transport();
        assert_eq!(
            transport.allowed_origins,
            ["https://*.example.com".to_owned(), "*".to_owned()]
        );
        assert_eq!(transport.allowed_headers, ["X-Custom".to_owned()]);
        assert_eq!(transport.exposed_headers, ["Retry-After".to_owned()]);
        assert_eq!(transport.max_age, Some(7200));
        // max_age: 0 or absent sends none, negative sends 0 (rs/cors).
        let none = cors("protocols:\n  http:\n    cors:\n      allowed_origins: [\"*\"]\n");
        assert_eq!(none.unwrap().to_transport().max_age, None);
        let negative = cors(
            "protocols:\n  http:\n    cors:\n      allowed_origins: [\"*\"]\n      max_age: -1\n",
        );
        assert_eq!(negative.unwrap().to_transport().max_age, Some(0));
    }

    #[test]
    fn cors_sections_that_enable_nothing_are_accepted() {
        for yaml in [
            "protocols:\n  http:\n    cors:\n",
            "protocols:\n  http:\n    cors:\n      allowed_origins: []\n",
            "protocols:\n  http:\n    cors:\n      allowed_origins:\n      allowed_headers: [x-a]\n",
        ] {
            let config = cors(yaml).unwrap();
            assert!(config.allowed_origins.is_empty(), "{yaml}");
        }
        assert_eq!(cors("protocols:\n  http:\n"), None);
    }

    #[test]
    fn bad_cors_values_are_refused() {
        let error = parse(
            "protocols:\n  http:\n    cors:\n      allowed_origins: [\"*\"]\n      exposed_headers: [\"not a name\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("protocols::http::cors"), "{error}");
        assert!(error.contains("exposed_headers"), "{error}");
        let error = parse("protocols:\n  http:\n    cors:\n      allowed_origin: [\"*\"]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("allowed_origin"), "{error}");
    }
}
