//! `otlp` and `otlphttp` exporter configurations (otelcol's keys).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use otlp_transport::client::{Protocol, ProxyUrl};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::fields::{null_as_empty, parse_id, positive};
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

pub use super::auth::ClientAuthConfig;
pub use super::compression::CompressionParams;
use super::compression::{compression, compression_level};
use crate::queue::RetryOnFailureConfig;
pub(crate) use crate::queue::Sizer;
pub use crate::queue::{ITEMS_PER_REQUEST, QueueBatchConfig, SendingQueueConfig};

/// `exporters: otlp:` (OTLP/gRPC).
///
/// ```yaml
/// otlp:
///   endpoint: backend:4317
///   tls:
///     insecure: true
///   sending_queue:
///     queue_size: 5000
///   retry_on_failure:
///     initial_interval: 5s
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpExporterConfig {
    /// `host:port` (TLS unless `tls.insecure`), or `http://` / `https://host:port`. Required.
    pub endpoint: String,
    /// `gzip` (default), `zstd`, `none`.
    pub compression: String,
    /// `level` of the compression: a key of otelcol's HTTP client (confighttp), honoured here
    /// by the gRPC exporter too.
    #[serde(deserialize_with = "null_as_empty")]
    pub compression_params: CompressionParams,
    /// Headers (gRPC metadata) sent with every request.
    #[serde(deserialize_with = "null_as_empty")]
    pub headers: BTreeMap<String, String>,
    /// TLS.
    #[serde(deserialize_with = "null_as_empty")]
    pub tls: ClientTlsConfig,
    /// Time limit of one export attempt (default 5 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Retry with backoff.
    #[serde(deserialize_with = "null_as_empty")]
    pub retry_on_failure: RetryOnFailureConfig,
    /// The queue between the pipeline and the network.
    #[serde(deserialize_with = "null_as_empty")]
    pub sending_queue: SendingQueueConfig,
    /// Accepted, ignored (grpc-go tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balancer_name: Option<Value>,
    /// Accepted, ignored (grpc-go tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Value>,
    /// Accepted, ignored (grpc-go tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<Value>,
    /// Accepted, ignored (grpc-go tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<Value>,
    /// Accepted, ignored (connections are made on demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for_ready: Option<Value>,
    /// A client authenticator extension whose credentials every request carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClientAuthConfig>,
}

impl Default for OtlpExporterConfig {
    fn default() -> Self {
        OtlpExporterConfig {
            endpoint: String::new(),
            compression: "gzip".into(),
            compression_params: CompressionParams::default(),
            headers: BTreeMap::new(),
            tls: ClientTlsConfig::default(),
            timeout: Duration::from_secs(5),
            retry_on_failure: RetryOnFailureConfig::default(),
            sending_queue: SendingQueueConfig::default(),
            balancer_name: None,
            keepalive: None,
            read_buffer_size: None,
            write_buffer_size: None,
            wait_for_ready: None,
            auth: None,
        }
    }
}

/// `exporters: otlphttp:` (OTLP/HTTP, alias `otlp_http`).
///
/// ```yaml
/// otlphttp:
///   endpoint: https://backend:4318
///   encoding: json
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpHttpExporterConfig {
    /// The base URL; `/v1/traces` etc. are appended.
    pub endpoint: String,
    /// The full URL for traces (overrides `endpoint`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces_endpoint: Option<String>,
    /// The full URL for metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_endpoint: Option<String>,
    /// The full URL for logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs_endpoint: Option<String>,
    /// The full URL for profiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_endpoint: Option<String>,
    /// `proto` (default) or `json`.
    pub encoding: String,
    /// `gzip` (default), `zstd`, `deflate`, `none`.
    pub compression: String,
    /// `level` of the compression.
    #[serde(deserialize_with = "null_as_empty")]
    pub compression_params: CompressionParams,
    /// Headers sent with every request.
    #[serde(deserialize_with = "null_as_empty")]
    pub headers: BTreeMap<String, String>,
    /// TLS (for `https` endpoints).
    #[serde(deserialize_with = "null_as_empty")]
    pub tls: ClientTlsConfig,
    /// Time limit of one export attempt (default 30 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Retry with backoff.
    #[serde(deserialize_with = "null_as_empty")]
    pub retry_on_failure: RetryOnFailureConfig,
    /// The queue between the pipeline and the network.
    #[serde(deserialize_with = "null_as_empty")]
    pub sending_queue: SendingQueueConfig,
    /// Accepted, ignored (Go HTTP client tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_idle_conns: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_idle_conns_per_host: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_conns_per_host: Option<Value>,
    /// Accepted, ignored (idle connections are kept 90 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_conn_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_keep_alives: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_read_idle_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_ping_timeout: Option<Value>,
    /// An `http://[user:password@]host:port` proxy every connection is tunnelled through
    /// with `CONNECT` (`http://` endpoints too). Empty: none. `HTTP(S)_PROXY` are not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// A client authenticator extension whose credentials every request carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClientAuthConfig>,
}

impl Default for OtlpHttpExporterConfig {
    fn default() -> Self {
        OtlpHttpExporterConfig {
            endpoint: String::new(),
            traces_endpoint: None,
            metrics_endpoint: None,
            logs_endpoint: None,
            profiles_endpoint: None,
            encoding: "proto".into(),
            compression: "gzip".into(),
            compression_params: CompressionParams::default(),
            headers: BTreeMap::new(),
            tls: ClientTlsConfig::default(),
            timeout: Duration::from_secs(30),
            retry_on_failure: RetryOnFailureConfig::default(),
            sending_queue: SendingQueueConfig::default(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            disable_keep_alives: None,
            http2_read_idle_timeout: None,
            http2_ping_timeout: None,
            proxy_url: None,
            auth: None,
        }
    }
}

/// `tls` of a client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientTlsConfig {
    /// gRPC: plaintext for an endpoint without a scheme.
    pub insecure: bool,
    /// Accept any server certificate (neither its chain nor its name is checked; the
    /// handshake still is). A warning is logged at start.
    pub insecure_skip_verify: bool,
    /// CA certificates to trust instead of the Mozilla roots (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// CA certificates, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Client certificate for mutual TLS (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// Client key for mutual TLS (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Client certificate, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
    /// Client key, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
    /// Verify the server as this name (and send it as SNI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name_override: Option<String>,
    /// `1.2` only (rustls offers TLS 1.2 and 1.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// `1.3` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

fn check_common(
    tls: &ClientTlsConfig,
    retry: &RetryOnFailureConfig,
    queue: &SendingQueueConfig,
    timeout: Duration,
    auth: &Option<ClientAuthConfig>,
) -> Result<(), ConfigError> {
    if tls.ca_file.is_some() && tls.ca_pem.is_some() {
        return Err(ConfigError::bad_value(
            "tls::ca_pem",
            "set ca_file or ca_pem, not both",
        ));
    }
    let has_cert = tls.cert_file.is_some() || tls.cert_pem.is_some();
    let has_key = tls.key_file.is_some() || tls.key_pem.is_some();
    if has_cert != has_key {
        return Err(ConfigError::bad_value(
            "tls",
            "a client certificate needs both a certificate and a key",
        ));
    }
    if let Some(v) = tls
        .min_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "1.2")
    {
        return Err(ConfigError::bad_value(
            "tls::min_version",
            format!("\"{v}\" is not supported (only 1.2)"),
        ));
    }
    if let Some(v) = tls
        .max_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "1.3")
    {
        return Err(ConfigError::bad_value(
            "tls::max_version",
            format!("\"{v}\" is not supported (only 1.3)"),
        ));
    }
    positive("timeout", timeout)?;
    if retry.enabled {
        positive("retry_on_failure::initial_interval", retry.initial_interval)?;
        if retry.max_interval < retry.initial_interval {
            return Err(ConfigError::bad_value(
                "retry_on_failure::max_interval",
                "must not be less than initial_interval",
            ));
        }
        if !(retry.multiplier.is_finite() && retry.multiplier >= 1.0) {
            return Err(ConfigError::bad_value(
                "retry_on_failure::multiplier",
                "must be at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&retry.randomization_factor) {
            return Err(ConfigError::bad_value(
                "retry_on_failure::randomization_factor",
                "must be between 0 and 1",
            ));
        }
    }
    queue.validate()?;
    if let Some(auth) = auth {
        parse_id("auth::authenticator", &auth.authenticator)?;
    }
    Ok(())
}

impl ComponentConfig for OtlpExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoint.trim().is_empty() {
            return Err(ConfigError::bad_value(
                "endpoint",
                "requires a non-empty \"endpoint\"",
            ));
        }
        compression_level(
            compression(&self.compression, true)?,
            &self.compression_params,
        )?;
        check_common(
            &self.tls,
            &self.retry_on_failure,
            &self.sending_queue,
            self.timeout,
            &self.auth,
        )
    }
}

impl ComponentConfig for OtlpHttpExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let all_signals = self.traces_endpoint.is_some()
            && self.metrics_endpoint.is_some()
            && self.logs_endpoint.is_some();
        if self.endpoint.trim().is_empty() && !all_signals {
            return Err(ConfigError::bad_value(
                "endpoint",
                "at least one endpoint must be specified (endpoint, or traces_endpoint, metrics_endpoint and logs_endpoint)",
            ));
        }
        self.protocol()?;
        compression_level(
            compression(&self.compression, false)?,
            &self.compression_params,
        )?;
        if let Some(url) = self.proxy_url.as_deref().filter(|p| !p.trim().is_empty()) {
            ProxyUrl::parse(url).map_err(|e| ConfigError::bad_value("proxy_url", e))?;
        }
        check_common(
            &self.tls,
            &self.retry_on_failure,
            &self.sending_queue,
            self.timeout,
            &self.auth,
        )
    }
}

impl OtlpHttpExporterConfig {
    pub(crate) fn protocol(&self) -> Result<Protocol, ConfigError> {
        match self.encoding.as_str() {
            "proto" | "" => Ok(Protocol::HttpProtobuf),
            "json" => Ok(Protocol::HttpJson),
            other => Err(ConfigError::bad_value(
                "encoding",
                format!("invalid encoding \"{other}\"; expected proto or json"),
            )),
        }
    }
}

#[cfg(test)]
mod tls_and_proxy_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use otlp_pipeline::component::{ExporterContext, SignalSet};
    use otlp_pipeline::config::parse_config;
    use otlp_pipeline::testing::id;

    fn http(yaml: &str) -> Result<OtlpHttpExporterConfig, ConfigError> {
        let config: OtlpHttpExporterConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap())?;
        config.validate()?;
        Ok(config)
    }

    fn ctx() -> ExporterContext {
        ExporterContext::new(id("otlphttp"), SignalSet::TRACES_METRICS_LOGS)
            .with_resources(otlp_pipeline::Resources::collector())
    }

    #[test]
    fn insecure_skip_verify_reaches_the_client() {
        let config =
            http("endpoint: https://backend:4318\ntls:\n  insecure_skip_verify: true").unwrap();
        assert!(config.tls.insecure_skip_verify);
        let exporter = super::super::OtlpExporterComponent::http(ctx(), config).unwrap();
        assert!(exporter.client().skips_certificate_verification());
        let grpc: OtlpExporterConfig =
            parse_config(&serde_yaml_ng::from_str("endpoint: backend:4317").unwrap()).unwrap();
        let exporter = super::super::OtlpExporterComponent::grpc(ctx(), grpc).unwrap();
        assert!(!exporter.client().skips_certificate_verification());
    }

    #[test]
    fn proxy_url_is_checked_and_names_the_key() {
        let config =
            http("endpoint: http://backend:4318\nproxy_url: http://u:pw@proxy:3128").unwrap();
        assert!(super::super::OtlpExporterComponent::http(ctx(), config).is_ok());
        assert!(http("endpoint: http://backend:4318\nproxy_url: ''").is_ok());
        for bad in ["socks5://proxy:1080", "proxy:3128", "http://:3128"] {
            let error = http(&format!(
                "endpoint: http://backend:4318\nproxy_url: '{bad}'"
            ))
            .unwrap_err()
            .to_string();
            assert!(error.contains("proxy_url"), "{bad}: {error}");
        }
    }
}
