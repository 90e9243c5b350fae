//! `receivers: zipkin:` — otelcol-contrib's keys (v0.160: confighttp's server keys plus
//! `parse_string_tags`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::ConfigError;
use otlp_pipeline::factory::ComponentConfig;

/// The default listen address, as otelcol's.
pub const DEFAULT_ENDPOINT: &str = "localhost:9411";

/// The default `max_request_body_size` (confighttp's: 20 MiB).
pub const DEFAULT_MAX_REQUEST_BODY_SIZE: u64 = 20 << 20;

/// `receivers: zipkin:`.
///
/// ```yaml
/// zipkin:
///   endpoint: 0.0.0.0:9411
///   parse_string_tags: true
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZipkinConfig {
    /// `host:port` to listen on (default `localhost:9411`).
    pub endpoint: String,
    /// Tag values that look like integers, floats or booleans become attributes of those types
    /// (default false: every tag is a string).
    pub parse_string_tags: bool,
    /// The largest body accepted, before and after decompression (default 20 MiB; 0 means the
    /// default).
    pub max_request_body_size: u64,
    /// The request headers travel with the spans, for `metadata_keys` batching and
    /// `headers_setter`.
    pub include_metadata: bool,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, String>,
    /// The `Content-Encoding`s accepted (default: all of `gzip`, `zstd`, `zlib`, `deflate`;
    /// otelcol's `snappy`, `lz4` and `x-snappy-framed` are refused at start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_algorithms: Option<Vec<String>>,
    /// Accepted (Go's HTTP server timeouts; the server here bounds request heads and bodies
    /// to 60 s each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<Value>,
    /// Accepted, see `read_timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_header_timeout: Option<Value>,
    /// Accepted, see `read_timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<Value>,
    /// Accepted, see `read_timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Value>,
    /// Accepted (connections are kept alive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alives_enabled: Option<bool>,
    /// Refused by name: not offered by this receiver yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// Refused by name: not offered by this receiver yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Value>,
    /// Refused by name: not offered by this receiver yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
    /// Refused by name: not offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middlewares: Option<Value>,
}

impl Default for ZipkinConfig {
    fn default() -> Self {
        ZipkinConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            parse_string_tags: false,
            max_request_body_size: DEFAULT_MAX_REQUEST_BODY_SIZE,
            include_metadata: false,
            response_headers: BTreeMap::new(),
            compression_algorithms: None,
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            keep_alives_enabled: None,
            tls: None,
            cors: None,
            auth: None,
            middlewares: None,
        }
    }
}

impl ZipkinConfig {
    /// The body limit in bytes.
    pub(crate) fn max_body(&self) -> usize {
        crate::span_intake::max_body(self.max_request_body_size)
    }

    /// The accepted encodings (an empty token is identity and always accepted).
    pub(crate) fn encodings(&self) -> Vec<String> {
        crate::span_intake::encodings(self.compression_algorithms.as_ref())
    }
}

impl ComponentConfig for ZipkinConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let Some((_, port)) = self.endpoint.rsplit_once(':') else {
            return Err(ConfigError::bad_value(
                "endpoint",
                format!("{:?} is not host:port", self.endpoint),
            ));
        };
        if port.parse::<u16>().is_err() {
            return Err(ConfigError::bad_value(
                "endpoint",
                format!("{port:?} in {:?} is not a port number", self.endpoint),
            ));
        }
        for (key, set) in [
            ("tls", self.tls.is_some()),
            ("cors", self.cors.is_some()),
            ("auth", self.auth.is_some()),
            ("middlewares", self.middlewares.is_some()),
        ] {
            if set {
                return Err(ConfigError::bad_value(
                    key,
                    "not supported by the zipkin receiver of otlp-rs",
                ));
            }
        }
        for encoding in self.encodings() {
            if !crate::span_intake::SUPPORTED_ENCODINGS.contains(&encoding.as_str()) {
                return Err(ConfigError::bad_value(
                    "compression_algorithms",
                    format!("{encoding:?} is not supported (only gzip, zstd, zlib, deflate)"),
                ));
            }
        }
        for (name, value) in &self.response_headers {
            if http::HeaderName::try_from(name.as_str()).is_err()
                || http::HeaderValue::try_from(value.as_str()).is_err()
            {
                return Err(ConfigError::bad_value(
                    format!("response_headers::{name}"),
                    "not a valid HTTP header",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config: ZipkinConfig = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(config.endpoint, "localhost:9411");
        assert!(!config.parse_string_tags);
        assert_eq!(config.max_body(), 20 << 20);
        assert!(config.validate().is_ok());
        let null: Option<ZipkinConfig> = serde_yaml_ng::from_str("~").unwrap();
        assert!(null.is_none());
    }

    #[test]
    fn bad_values_name_the_key() {
        for (bad, key) in [
            ("endpoint: localhost", "endpoint"),
            ("endpoint: 'h:99999'", "endpoint"),
            ("tls: {cert_file: a}", "tls"),
            ("compression_algorithms: [snappy]", "compression_algorithms"),
            ("response_headers: {'a b': c}", "response_headers"),
        ] {
            let config: ZipkinConfig = serde_yaml_ng::from_str(bad).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(key), "{bad}: {error}");
        }
        assert!(serde_yaml_ng::from_str::<ZipkinConfig>("bogus: 1").is_err());
    }
}
