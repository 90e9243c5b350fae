//! `exporters: loadbalancing:` — the Go exporter's keys and defaults.
//!
//! ```yaml
//! loadbalancing:
//!   routing_key: traceID          # default: traceID (traces), service (metrics, logs)
//!   protocol:
//!     otlp:                       # the otlp exporter's settings; endpoint is each backend's
//!       tls: {insecure: true}
//!       timeout: 1s
//!   resolver:
//!     static:
//!       hostnames: [backend-1:4317, backend-2:4317]
//!     # dns: {hostname: collectors.svc, port: 4317, interval: 5s, timeout: 1s}
//! ```

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::Signal;
use otlp_pipeline::config::fields::null_as_empty;
use otlp_pipeline::config::{ConfigError, ConfigErrorKind, duration};
use otlp_pipeline::factory::ComponentConfig;

use super::keys::RoutingKey;
use crate::otlp::OtlpExporterConfig;

/// The default DNS re-resolution interval (Go's).
pub const DEFAULT_DNS_INTERVAL: Duration = Duration::from_secs(5);
/// The default DNS query timeout (Go's).
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(1);
/// The port a backend's exporter connects to when its endpoint names none (Go's).
pub const DEFAULT_PORT: u16 = 4317;

/// `exporters: loadbalancing:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadBalancingConfig {
    /// How each backend is exported to.
    #[serde(deserialize_with = "null_as_empty")]
    pub protocol: ProtocolConfig,
    /// Where the backends come from: exactly one resolver.
    #[serde(deserialize_with = "null_as_empty")]
    pub resolver: ResolverConfig,
    /// `traceID`, `service`, `resource`, `metric`, `streamID` or `attributes`; empty: the
    /// signal's default.
    pub routing_key: String,
    /// The attributes of `routing_key: attributes`, in order.
    #[serde(deserialize_with = "null_as_empty")]
    pub routing_attributes: Vec<String>,
    /// Go's exporter-level timeout (off by default there). Only `0` is accepted: each
    /// backend's `protocol.otlp.timeout` bounds its exports.
    #[serde(skip_serializing_if = "Option::is_none", with = "duration::option")]
    pub timeout: Option<Duration>,
    /// Go's exporter-level retry (off by default there). Only `enabled: false` is accepted:
    /// each backend's exporter retries (`protocol.otlp.retry_on_failure`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on_failure: Option<Value>,
    /// Go's exporter-level queue (off by default there). Only `enabled: false` is accepted:
    /// each backend has its own queue (`protocol.otlp.sending_queue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<Value>,
}

/// `protocol`: only `otlp` (OTLP/gRPC), as in Go.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolConfig {
    /// The otlp exporter's settings, applied to every backend (`endpoint` is replaced by the
    /// backend's).
    #[serde(deserialize_with = "null_as_empty")]
    pub otlp: OtlpExporterConfig,
}

/// `resolver`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResolverConfig {
    /// A fixed list of backends.
    #[serde(rename = "static", skip_serializing_if = "Option::is_none")]
    pub static_list: Option<StaticResolverConfig>,
    /// The addresses of a DNS name, re-resolved periodically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsResolverConfig>,
    /// Not supported (Kubernetes endpoints): refused with a message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k8s: Option<Value>,
    /// Not supported (AWS Cloud Map): refused with a message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_cloud_map: Option<Value>,
}

/// `resolver: static:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticResolverConfig {
    /// `host[:port]` of every backend (port 4317 when absent).
    #[serde(deserialize_with = "null_as_empty")]
    pub hostnames: Vec<String>,
}

/// `resolver: dns:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsResolverConfig {
    /// The name whose addresses are the backends.
    pub hostname: String,
    /// The port of every address. Unset: the ring holds the bare addresses (as Go's does) and
    /// the exporters connect to port 4317.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "port_as_text"
    )]
    pub port: Option<String>,
    /// How often to resolve again (default 5 s; `0`: the default).
    #[serde(with = "duration")]
    pub interval: Duration,
    /// The limit of one resolution (default 1 s; `0`: the default).
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for DnsResolverConfig {
    fn default() -> Self {
        DnsResolverConfig {
            hostname: String::new(),
            port: None,
            interval: DEFAULT_DNS_INTERVAL,
            timeout: DEFAULT_DNS_TIMEOUT,
        }
    }
}

/// `port: 4317` or `port: "4317"` (Go's field is a string).
fn port_as_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(serde::de::Error::custom("port must be a number")),
    }
}

impl DnsResolverConfig {
    /// The interval in use (`0` means the default).
    pub fn effective_interval(&self) -> Duration {
        if self.interval.is_zero() {
            DEFAULT_DNS_INTERVAL
        } else {
            self.interval
        }
    }

    /// The timeout in use (`0` means the default).
    pub fn effective_timeout(&self) -> Duration {
        if self.timeout.is_zero() {
            DEFAULT_DNS_TIMEOUT
        } else {
            self.timeout
        }
    }
}

/// The resolver a configuration names.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolverChoice {
    /// `static`, its hostnames sorted and without duplicates (Go sorts them).
    Static(Vec<String>),
    /// `dns`.
    Dns(DnsResolverConfig),
}

impl ResolverChoice {
    /// `static` or `dns`, the `resolver` label of the loadbalancer metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ResolverChoice::Static(_) => "static",
            ResolverChoice::Dns(_) => "dns",
        }
    }
}

/// `enabled: false` (or nothing at all) in a Go wrapper-level section.
fn disabled(section: &Option<Value>) -> bool {
    match section {
        None | Some(Value::Null) => true,
        Some(Value::Mapping(map)) => {
            matches!(map.get("enabled"), Some(Value::Bool(false)))
        }
        Some(_) => false,
    }
}

/// Moves an error of the otlp settings under `protocol::otlp`.
fn under_protocol(error: ConfigError) -> ConfigError {
    match error.kind() {
        ConfigErrorKind::BadValue { path, message } => {
            let path = if path.is_empty() {
                "protocol::otlp".to_owned()
            } else {
                format!("protocol::otlp::{path}")
            };
            ConfigError::bad_value(path, message)
        }
        _ => ConfigError::bad_value("protocol::otlp", error),
    }
}

impl LoadBalancingConfig {
    /// The otlp settings of the backend at `endpoint`.
    pub fn backend_config(&self, endpoint: &str) -> OtlpExporterConfig {
        let mut config = self.protocol.otlp.clone();
        config.endpoint = endpoint.to_owned();
        config
    }

    /// The one resolver, checked.
    pub fn resolver(&self) -> Result<ResolverChoice, ConfigError> {
        let resolver = &self.resolver;
        let named = [
            resolver.static_list.is_some(),
            resolver.dns.is_some(),
            resolver.k8s.is_some(),
            resolver.aws_cloud_map.is_some(),
        ];
        match named.iter().filter(|n| **n).count() {
            0 => {
                return Err(ConfigError::bad_value(
                    "resolver",
                    "no resolvers specified for the exporter: set resolver.static or resolver.dns",
                ));
            }
            1 => {}
            _ => {
                return Err(ConfigError::bad_value(
                    "resolver",
                    "only one resolver should be specified",
                ));
            }
        }
        if resolver.k8s.is_some() {
            return Err(ConfigError::bad_value(
                "resolver::k8s",
                "the k8s resolver is not supported: use resolver.dns with a headless service's name, or resolver.static",
            ));
        }
        if resolver.aws_cloud_map.is_some() {
            return Err(ConfigError::bad_value(
                "resolver::aws_cloud_map",
                "the aws_cloud_map resolver is not supported: use resolver.dns or resolver.static",
            ));
        }
        if let Some(list) = &resolver.static_list {
            let mut hostnames: Vec<String> =
                list.hostnames.iter().map(|h| h.trim().to_owned()).collect();
            if hostnames.is_empty() {
                return Err(ConfigError::bad_value(
                    "resolver::static::hostnames",
                    "no endpoints specified for the static resolver",
                ));
            }
            if hostnames.iter().any(String::is_empty) {
                return Err(ConfigError::bad_value(
                    "resolver::static::hostnames",
                    "an endpoint is empty",
                ));
            }
            hostnames.sort();
            hostnames.dedup();
            return Ok(ResolverChoice::Static(hostnames));
        }
        let Some(dns) = &resolver.dns else {
            return Err(ConfigError::bad_value("resolver", "no resolver"));
        };
        if dns.hostname.trim().is_empty() {
            return Err(ConfigError::bad_value(
                "resolver::dns::hostname",
                "no hostname specified to resolve the backends",
            ));
        }
        if let Some(port) = &dns.port
            && !port.parse::<u16>().is_ok_and(|p| p > 0)
        {
            return Err(ConfigError::bad_value(
                "resolver::dns::port",
                format!("\"{port}\" is not a port number"),
            ));
        }
        let mut dns = dns.clone();
        dns.hostname = dns.hostname.trim().to_owned();
        Ok(ResolverChoice::Dns(dns))
    }

    /// The routing key for `signal` (its default when `routing_key` is empty); an error
    /// naming `routing_key` when the key does not route that signal.
    pub fn routing_key(&self, signal: Signal) -> Result<RoutingKey, ConfigError> {
        let key = self.parse_routing_key()?;
        let key = key.unwrap_or_else(|| RoutingKey::default_for(signal));
        if !key.supports(signal) {
            return Err(ConfigError::bad_value(
                "routing_key",
                format!(
                    "\"{}\" cannot route {signal}: {}",
                    key.name(),
                    match signal {
                        Signal::Traces => "use traceID, service or attributes",
                        Signal::Metrics => "use service, resource, metric, streamID or attributes",
                        Signal::Logs => "use service, traceID, resource or attributes",
                        Signal::Profiles => "profiles are not load-balanced",
                    }
                ),
            ));
        }
        Ok(key)
    }

    fn parse_routing_key(&self) -> Result<Option<RoutingKey>, ConfigError> {
        Ok(Some(match self.routing_key.trim() {
            "" => return Ok(None),
            "traceID" => RoutingKey::TraceId,
            "service" => RoutingKey::Service,
            "resource" => RoutingKey::Resource,
            "metric" => RoutingKey::Metric,
            "streamID" => RoutingKey::StreamId,
            "attributes" => {
                if self.routing_attributes.is_empty() {
                    return Err(ConfigError::bad_value(
                        "routing_attributes",
                        "routing_key attributes needs at least one attribute in routing_attributes",
                    ));
                }
                RoutingKey::Attributes(self.routing_attributes.clone())
            }
            other => {
                return Err(ConfigError::bad_value(
                    "routing_key",
                    format!(
                        "unsupported routing_key \"{other}\"; expected traceID, service, resource, metric, streamID or attributes"
                    ),
                ));
            }
        }))
    }
}

impl ComponentConfig for LoadBalancingConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.resolver()?;
        self.parse_routing_key()?;
        let mut template = self.protocol.otlp.clone();
        if template.endpoint.trim().is_empty() {
            // Replaced per backend; any value passes the otlp checks.
            template.endpoint = "backend:4317".into();
        }
        template.validate().map_err(under_protocol)?;
        if self.timeout.is_some_and(|t| !t.is_zero()) {
            return Err(ConfigError::bad_value(
                "timeout",
                "an exporter-level timeout is not supported: set protocol.otlp.timeout (per backend)",
            ));
        }
        if !disabled(&self.retry_on_failure) {
            return Err(ConfigError::bad_value(
                "retry_on_failure",
                "exporter-level retry is not supported: each backend's exporter retries (set protocol.otlp.retry_on_failure)",
            ));
        }
        if !disabled(&self.sending_queue) {
            return Err(ConfigError::bad_value(
                "sending_queue",
                "an exporter-level queue is not supported: each backend has its own queue (set protocol.otlp.sending_queue)",
            ));
        }
        Ok(())
    }
}
