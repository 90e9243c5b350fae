//! `exporters: zipkin:` — otelcol-contrib's keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use crate::otlp::{ClientAuthConfig, ClientTlsConfig};
use crate::queue::{RetryOnFailureConfig, SendingQueueConfig};

/// The default of `default_service_name` (otelcol's; see the field).
pub const DEFAULT_SERVICE_NAME: &str = "<missing service name>";

/// The `zipkin` exporter's configuration.
///
/// ```yaml
/// zipkin:
///   endpoint: http://zipkin:9411/api/v2/spans
///   format: proto
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZipkinExporterConfig {
    /// The URL spans are `POST`ed to, as given (required; usually `…/api/v2/spans`).
    pub endpoint: String,
    /// `json` (default, Zipkin v2 JSON) or `proto` (`zipkin.proto3.ListOfSpans`).
    pub format: String,
    /// Accepted for otelcol's configs; as in otelcol, a resource without a service name is
    /// sent as `OTLPResourceNoServiceName` whatever this says.
    pub default_service_name: String,
    /// Per request (default 5 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Extra request headers (not `Content-Type`, `Content-Encoding`).
    pub headers: BTreeMap<String, String>,
    /// `none` (default), `gzip`, `zstd` or `deflate` (`zlib`).
    pub compression: String,
    /// Client TLS.
    pub tls: ClientTlsConfig,
    /// A client authenticator extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClientAuthConfig>,
    /// An `http://` proxy every connection is tunnelled through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// The queue.
    pub sending_queue: SendingQueueConfig,
    /// Retries of the queue.
    pub retry_on_failure: RetryOnFailureConfig,
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
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_conn_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_keep_alives: Option<Value>,
}

impl Default for ZipkinExporterConfig {
    fn default() -> Self {
        ZipkinExporterConfig {
            endpoint: String::new(),
            format: "json".into(),
            default_service_name: DEFAULT_SERVICE_NAME.into(),
            timeout: Duration::from_secs(5),
            headers: BTreeMap::new(),
            compression: String::new(),
            tls: ClientTlsConfig::default(),
            auth: None,
            proxy_url: None,
            sending_queue: SendingQueueConfig::default(),
            retry_on_failure: RetryOnFailureConfig::default(),
            read_buffer_size: None,
            write_buffer_size: None,
            max_idle_conns: None,
            max_idle_conns_per_host: None,
            max_conns_per_host: None,
            idle_conn_timeout: None,
            disable_keep_alives: None,
        }
    }
}

/// The body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Proto,
}

impl ZipkinExporterConfig {
    pub(crate) fn format(&self) -> Result<Format, ConfigError> {
        match self.format.as_str() {
            "json" => Ok(Format::Json),
            "proto" => Ok(Format::Proto),
            other => Err(ConfigError::bad_value(
                "format",
                format!("{other} is not one of json or proto"),
            )),
        }
    }

    pub(crate) fn compression(
        &self,
    ) -> Result<otlp_transport::compression::Compression, ConfigError> {
        use otlp_transport::compression::Compression;
        match self.compression.trim() {
            "" | "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "deflate" | "zlib" => Ok(Compression::Deflate),
            other => Err(ConfigError::bad_value(
                "compression",
                format!("unsupported compression type {other:?} (none, gzip, zstd, deflate)"),
            )),
        }
    }
}

/// Headers the exporter sets itself.
const RESERVED: &[&str] = &["content-type", "content-encoding"];

impl otlp_pipeline::factory::ComponentConfig for ZipkinExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let endpoint = self.endpoint.trim();
        if endpoint.is_empty() {
            return Err(ConfigError::bad_value("endpoint", "endpoint required"));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ConfigError::bad_value(
                "endpoint",
                format!("\"{endpoint}\" is not an http:// or https:// URL"),
            ));
        }
        self.format()?;
        self.compression()?;
        if self.timeout.is_zero() {
            return Err(ConfigError::bad_value("timeout", "must be positive"));
        }
        for name in self.headers.keys() {
            if RESERVED.contains(&name.trim().to_ascii_lowercase().as_str()) {
                return Err(ConfigError::bad_value(
                    format!("headers::{name}"),
                    "set by the exporter itself and cannot be changed",
                ));
            }
        }
        self.sending_queue.validate()?;
        if self.sending_queue.storage.is_some() {
            return Err(ConfigError::bad_value(
                "sending_queue::storage",
                "a persistent queue is not offered by the zipkin exporter yet",
            ));
        }
        if let Some(auth) = &self.auth {
            otlp_pipeline::config::fields::parse_id("auth::authenticator", &auth.authenticator)
                .map(|_: ComponentId| ())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_pipeline::factory::ComponentConfig;

    #[test]
    fn defaults_and_validation() {
        let config: ZipkinExporterConfig =
            serde_yaml_ng::from_str("endpoint: http://zipkin:9411/api/v2/spans").unwrap();
        assert_eq!(config.format, "json");
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert_eq!(config.default_service_name, "<missing service name>");
        assert!(config.sending_queue.enabled);
        assert!(config.retry_on_failure.enabled);
        assert!(config.validate().is_ok());
        for (bad, key) in [
            ("{}", "endpoint"),
            ("endpoint: zipkin:9411", "endpoint"),
            ("{endpoint: 'http://z', format: thrift}", "format"),
            ("{endpoint: 'http://z', compression: lz4}", "compression"),
            (
                "{endpoint: 'http://z', headers: {Content-Type: x}}",
                "headers",
            ),
            ("{endpoint: 'http://z', timeout: 0s}", "timeout"),
        ] {
            let config: ZipkinExporterConfig = serde_yaml_ng::from_str(bad).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(key), "{bad}: {error}");
        }
        assert!(serde_yaml_ng::from_str::<ZipkinExporterConfig>("bogus: 1").is_err());
    }
}
