//! `receivers: jaeger:` — otelcol-contrib v0.160's keys and defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::ConfigError;
use otlp_pipeline::config::fields::{null_as_default, null_as_empty};
use otlp_pipeline::factory::ComponentConfig;

/// otelcol's default endpoints.
pub const DEFAULT_GRPC_ENDPOINT: &str = "localhost:14250";
/// See [`DEFAULT_GRPC_ENDPOINT`].
pub const DEFAULT_THRIFT_HTTP_ENDPOINT: &str = "localhost:14268";
/// See [`DEFAULT_GRPC_ENDPOINT`].
pub const DEFAULT_THRIFT_BINARY_ENDPOINT: &str = "localhost:6832";
/// See [`DEFAULT_GRPC_ENDPOINT`].
pub const DEFAULT_THRIFT_COMPACT_ENDPOINT: &str = "localhost:6831";

/// `receivers: jaeger:`.
///
/// ```yaml
/// jaeger:
///   protocols:
///     grpc:
///     thrift_http:
///       endpoint: 0.0.0.0:14268
///     thrift_compact:
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JaegerConfig {
    /// The protocols to serve (a key with nothing under it serves that one with its defaults);
    /// at least one.
    #[serde(deserialize_with = "null_as_empty")]
    pub protocols: Protocols,
    /// Refused, as otelcol v0.160 refuses it by default: use the `jaegerremotesampling`
    /// extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_sampling: Option<Value>,
}

/// `protocols`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocols {
    /// `jaeger.api_v2.CollectorService/PostSpans` over gRPC.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub grpc: Option<GrpcProtocol>,
    /// `POST /api/traces`, a Thrift binary `Batch`.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub thrift_http: Option<HttpProtocol>,
    /// The agent's `emitBatch` over UDP, Thrift binary.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub thrift_binary: Option<UdpProtocol>,
    /// The agent's `emitBatch` over UDP, Thrift compact.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub thrift_compact: Option<UdpProtocol>,
}

/// `protocols.grpc` (configgrpc's server keys).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcProtocol {
    /// `host:port` (default `localhost:14250`).
    pub endpoint: String,
    /// Largest request message in MiB (default 4).
    pub max_recv_msg_size_mib: u64,
    /// `tcp` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The request metadata travels with the spans.
    pub include_metadata: bool,
    /// Accepted (gRPC server tuning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Value>,
    /// Refused by name: not offered by this receiver yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// Refused by name: not offered by this receiver yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
}

impl Default for GrpcProtocol {
    fn default() -> Self {
        GrpcProtocol {
            endpoint: DEFAULT_GRPC_ENDPOINT.into(),
            max_recv_msg_size_mib: 4,
            transport: None,
            include_metadata: false,
            max_concurrent_streams: None,
            read_buffer_size: None,
            write_buffer_size: None,
            keepalive: None,
            tls: None,
            auth: None,
        }
    }
}

/// `protocols.thrift_http` (confighttp's server keys).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpProtocol {
    /// `host:port` (default `localhost:14268`).
    pub endpoint: String,
    /// The largest body, before and after decompression (default 20 MiB; 0: the default).
    pub max_request_body_size: u64,
    /// The request headers travel with the spans.
    pub include_metadata: bool,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, String>,
    /// The `Content-Encoding`s accepted (default `gzip`, `zstd`, `zlib`, `deflate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_algorithms: Option<Vec<String>>,
    /// Accepted (the server bounds request heads and bodies to 60 s each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_header_timeout: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<Value>,
    /// Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Value>,
    /// Accepted.
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
}

impl Default for HttpProtocol {
    fn default() -> Self {
        HttpProtocol {
            endpoint: DEFAULT_THRIFT_HTTP_ENDPOINT.into(),
            max_request_body_size: 20 << 20,
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
        }
    }
}

/// `protocols.thrift_binary` / `thrift_compact`: the agent's UDP server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UdpProtocol {
    /// `host:port` (default `localhost:6832` binary, `localhost:6831` compact).
    pub endpoint: String,
    /// Datagrams waiting for a worker (default 1000); more are dropped and counted.
    pub queue_size: usize,
    /// The largest datagram read (default 65 000 bytes).
    pub max_packet_size: usize,
    /// Decoding tasks (default 10).
    pub workers: usize,
    /// `SO_RCVBUF` in bytes (default 0: the system's).
    pub socket_buffer_size: usize,
}

impl Default for UdpProtocol {
    fn default() -> Self {
        UdpProtocol {
            endpoint: String::new(),
            queue_size: 1000,
            max_packet_size: 65_000,
            workers: 10,
            socket_buffer_size: 0,
        }
    }
}

impl HttpProtocol {
    pub(crate) fn max_body(&self) -> usize {
        crate::span_intake::max_body(self.max_request_body_size)
    }

    pub(crate) fn encodings(&self) -> Vec<String> {
        crate::span_intake::encodings(self.compression_algorithms.as_ref())
    }
}

impl JaegerConfig {
    /// The compact UDP endpoint (its default when the block left it empty).
    pub(crate) fn compact_endpoint(p: &UdpProtocol) -> String {
        if p.endpoint.is_empty() {
            DEFAULT_THRIFT_COMPACT_ENDPOINT.into()
        } else {
            p.endpoint.clone()
        }
    }

    /// The binary UDP endpoint (its default when the block left it empty).
    pub(crate) fn binary_endpoint(p: &UdpProtocol) -> String {
        if p.endpoint.is_empty() {
            DEFAULT_THRIFT_BINARY_ENDPOINT.into()
        } else {
            p.endpoint.clone()
        }
    }
}

fn check_port(key: &str, what: &str, endpoint: &str) -> Result<(), ConfigError> {
    let Some((_, port)) = endpoint.rsplit_once(':') else {
        return Err(ConfigError::bad_value(
            key,
            format!("invalid port number for the {what} endpoint: {endpoint:?} is not host:port"),
        ));
    };
    match port.parse::<u32>() {
        Ok(1..=65535) => Ok(()),
        Ok(_) => Err(ConfigError::bad_value(
            key,
            format!(
                "invalid port number for the {what} endpoint: port number must be between 1 and 65535"
            ),
        )),
        Err(_) => Err(ConfigError::bad_value(
            key,
            format!("invalid port number for the {what} endpoint: {port:?} is not a number"),
        )),
    }
}

fn refuse(key: &str, set: bool) -> Result<(), ConfigError> {
    if set {
        return Err(ConfigError::bad_value(
            key,
            "not supported by the jaeger receiver of otlp-rs",
        ));
    }
    Ok(())
}

impl ComponentConfig for JaegerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.protocols;
        if p.grpc.is_none()
            && p.thrift_http.is_none()
            && p.thrift_binary.is_none()
            && p.thrift_compact.is_none()
        {
            return Err(ConfigError::bad_value(
                "protocols",
                "must specify at least one protocol when using the Jaeger receiver",
            ));
        }
        if self.remote_sampling.is_some() {
            return Err(ConfigError::bad_value(
                "remote_sampling",
                "remote sampling config detected in the Jaeger receiver; use the \
                 `jaegerremotesampling` extension instead",
            ));
        }
        if let Some(grpc) = &p.grpc {
            check_port("protocols::grpc::endpoint", "gRPC", &grpc.endpoint)?;
            refuse("protocols::grpc::tls", grpc.tls.is_some())?;
            refuse("protocols::grpc::auth", grpc.auth.is_some())?;
            if grpc.transport.as_deref().is_some_and(|t| t != "tcp") {
                return Err(ConfigError::bad_value(
                    "protocols::grpc::transport",
                    "only tcp is supported",
                ));
            }
            if grpc.max_recv_msg_size_mib == 0 {
                return Err(ConfigError::bad_value(
                    "protocols::grpc::max_recv_msg_size_mib",
                    "must be positive",
                ));
            }
        }
        if let Some(http) = &p.thrift_http {
            check_port(
                "protocols::thrift_http::endpoint",
                "Thrift HTTP",
                &http.endpoint,
            )?;
            refuse("protocols::thrift_http::tls", http.tls.is_some())?;
            refuse("protocols::thrift_http::cors", http.cors.is_some())?;
            refuse("protocols::thrift_http::auth", http.auth.is_some())?;
            for encoding in http.encodings() {
                if !crate::span_intake::SUPPORTED_ENCODINGS.contains(&encoding.as_str()) {
                    return Err(ConfigError::bad_value(
                        "protocols::thrift_http::compression_algorithms",
                        format!("{encoding:?} is not supported (only gzip, zstd, zlib, deflate)"),
                    ));
                }
            }
        }
        for (key, what, udp, endpoint) in [
            (
                "protocols::thrift_binary",
                "Thrift UDP Binary",
                &p.thrift_binary,
                p.thrift_binary.as_ref().map(JaegerConfig::binary_endpoint),
            ),
            (
                "protocols::thrift_compact",
                "Thrift UDP Compact",
                &p.thrift_compact,
                p.thrift_compact
                    .as_ref()
                    .map(JaegerConfig::compact_endpoint),
            ),
        ] {
            let (Some(udp), Some(endpoint)) = (udp, endpoint) else {
                continue;
            };
            check_port(&format!("{key}::endpoint"), what, &endpoint)?;
            for (field, value) in [
                ("workers", udp.workers),
                ("queue_size", udp.queue_size),
                ("max_packet_size", udp.max_packet_size),
            ] {
                if value == 0 {
                    return Err(ConfigError::bad_value(
                        format!("{key}::{field}"),
                        "must be positive",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_blocks_enable_protocols_with_defaults() {
        let config: JaegerConfig = serde_yaml_ng::from_str(
            "protocols:\n  grpc:\n  thrift_binary:\n  thrift_compact:\n  thrift_http:\n",
        )
        .unwrap();
        assert!(config.validate().is_ok());
        let p = &config.protocols;
        assert_eq!(p.grpc.as_ref().unwrap().endpoint, "localhost:14250");
        assert_eq!(p.thrift_http.as_ref().unwrap().endpoint, "localhost:14268");
        assert_eq!(
            JaegerConfig::compact_endpoint(p.thrift_compact.as_ref().unwrap()),
            "localhost:6831"
        );
        assert_eq!(
            JaegerConfig::binary_endpoint(p.thrift_binary.as_ref().unwrap()),
            "localhost:6832"
        );
        assert_eq!(p.thrift_compact.as_ref().unwrap().max_packet_size, 65_000);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (bad, key) in [
            ("{}", "protocols"),
            ("protocols:", "protocols"),
            (
                "protocols: {grpc: {endpoint: 'h:0'}}",
                "protocols::grpc::endpoint",
            ),
            (
                "protocols: {thrift_http: {endpoint: h}}",
                "protocols::thrift_http::endpoint",
            ),
            (
                "protocols: {thrift_compact: {workers: 0}}",
                "protocols::thrift_compact::workers",
            ),
            (
                "{protocols: {grpc: }, remote_sampling: {host_endpoint: x}}",
                "remote_sampling",
            ),
            (
                "protocols: {grpc: {tls: {cert_file: a}}}",
                "protocols::grpc::tls",
            ),
        ] {
            let config: JaegerConfig = serde_yaml_ng::from_str(bad).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(key), "{bad}: {error}");
        }
        assert!(serde_yaml_ng::from_str::<JaegerConfig>("protocols: {thrift_htttp: {}}").is_err());
    }
}
