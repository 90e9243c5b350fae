//! `exporters: prometheusremotewrite:` — otelcol-contrib's keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use crate::otlp::{ClientAuthConfig, ClientTlsConfig};
use crate::queue::{RetryOnFailureConfig, SendingQueueConfig};

/// `remote_write_queue`: the sending queue of this exporter (Go's `sending_queue` is not
/// offered by it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteWriteQueueConfig {
    /// Queue at all (default true). Without it, `consume` returns once the request was sent.
    pub enabled: bool,
    /// Requests the queue holds (default 10 000).
    pub queue_size: u64,
    /// Concurrent senders (default 5).
    pub num_consumers: usize,
}

impl Default for RemoteWriteQueueConfig {
    fn default() -> Self {
        RemoteWriteQueueConfig {
            enabled: true,
            queue_size: 10_000,
            num_consumers: 5,
        }
    }
}

impl RemoteWriteQueueConfig {
    /// As the shared `sending_queue` settings (requests sizer, non-blocking).
    pub(crate) fn as_sending_queue(&self) -> SendingQueueConfig {
        SendingQueueConfig {
            enabled: self.enabled,
            num_consumers: self.num_consumers,
            queue_size: self.queue_size,
            ..SendingQueueConfig::default()
        }
    }
}

/// `{enabled: bool}` blocks (`target_info`, `export_created_metric`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    /// On or off.
    pub enabled: bool,
}

/// `resource_to_telemetry_conversion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceToTelemetry {
    /// Every resource attribute becomes a label of every series of the resource.
    pub enabled: bool,
}

/// The `prometheusremotewrite` exporter's configuration.
///
/// ```yaml
/// prometheusremotewrite:
///   endpoint: http://prometheus:9090/api/v1/write
///   external_labels: {cluster: eu-1}
///   resource_to_telemetry_conversion: {enabled: true}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusRemoteWriteConfig {
    /// The remote write URL (required), `http://` or `https://`.
    pub endpoint: String,
    /// Per request (default 5 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Extra request headers (not `Content-Encoding`, `Content-Type`,
    /// `X-Prometheus-Remote-Write-Version`, `User-Agent`).
    pub headers: BTreeMap<String, String>,
    /// Client TLS.
    pub tls: ClientTlsConfig,
    /// A client authenticator extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClientAuthConfig>,
    /// `snappy` only (what remote write 1.0 requires); accepted for configs that spell it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Prefix of every metric name.
    pub namespace: String,
    /// Labels added to every series that lacks them.
    pub external_labels: BTreeMap<String, String>,
    /// Unit and type suffixes on names (default true).
    pub add_metric_suffixes: bool,
    /// Also send each family's type, help and unit (default false).
    pub send_metadata: bool,
    /// Resource attributes as labels.
    pub resource_to_telemetry_conversion: ResourceToTelemetry,
    /// `target_info` per resource (default on).
    pub target_info: Enabled,
    /// `_created` series for counters, histograms and summaries with a start time (default
    /// off).
    pub export_created_metric: Enabled,
    /// Largest request before compression (default 3 000 000 bytes); larger batches are split.
    pub max_batch_size_bytes: usize,
    /// The queue.
    pub remote_write_queue: RemoteWriteQueueConfig,
    /// Retries of the queue.
    pub retry_on_failure: RetryOnFailureConfig,
    /// `prometheus.WriteRequest` only (remote write 1.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protobuf_message: Option<String>,
    /// Refused: no write-ahead log (the queue is in memory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal: Option<Value>,
    /// Refused: not offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_info: Option<Value>,
    /// Refused by name, as Go refuses it: this exporter's queue is `remote_write_queue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<Value>,
    /// Go's parallelism knob for splitting one large request; accepted (the queue's
    /// consumers send in parallel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_batch_request_parallelism: Option<usize>,
}

impl Default for PrometheusRemoteWriteConfig {
    fn default() -> Self {
        PrometheusRemoteWriteConfig {
            endpoint: String::new(),
            timeout: Duration::from_secs(5),
            headers: BTreeMap::new(),
            tls: ClientTlsConfig::default(),
            auth: None,
            compression: None,
            namespace: String::new(),
            external_labels: BTreeMap::new(),
            add_metric_suffixes: true,
            send_metadata: false,
            resource_to_telemetry_conversion: ResourceToTelemetry::default(),
            target_info: Enabled { enabled: true },
            export_created_metric: Enabled { enabled: false },
            max_batch_size_bytes: 3_000_000,
            remote_write_queue: RemoteWriteQueueConfig::default(),
            retry_on_failure: RetryOnFailureConfig::default(),
            protobuf_message: None,
            wal: None,
            scope_info: None,
            sending_queue: None,
            max_batch_request_parallelism: None,
        }
    }
}

/// Headers the exporter sets itself (Go refuses them too).
const RESERVED: &[&str] = &[
    "content-encoding",
    "content-type",
    "x-prometheus-remote-write-version",
    "user-agent",
];

impl otlp_pipeline::factory::ComponentConfig for PrometheusRemoteWriteConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let endpoint = self.endpoint.trim();
        if endpoint.is_empty() {
            return Err(ConfigError::bad_value(
                "endpoint",
                "the remote write URL is required",
            ));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ConfigError::bad_value(
                "endpoint",
                format!("\"{endpoint}\" is not an http:// or https:// URL"),
            ));
        }
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
        for name in self.external_labels.keys() {
            if !otlp_model::prometheus::translator::is_valid_label_name(name) {
                return Err(ConfigError::bad_value(
                    format!("external_labels::{name}"),
                    "not a valid Prometheus label name",
                ));
            }
        }
        if let Some(c) = self.compression.as_deref()
            && !c.is_empty()
            && c != "snappy"
        {
            return Err(ConfigError::bad_value(
                "compression",
                format!("remote write bodies are snappy-compressed, not \"{c}\""),
            ));
        }
        match self.protobuf_message.as_deref() {
            None | Some("") | Some("prometheus.WriteRequest") => {}
            Some(other) => {
                return Err(ConfigError::bad_value(
                    "protobuf_message",
                    format!(
                        "\"{other}\" is not supported: only prometheus.WriteRequest (remote write 1.0)"
                    ),
                ));
            }
        }
        if self.wal.is_some() {
            return Err(ConfigError::bad_value(
                "wal",
                "not supported: the queue is in memory (remote_write_queue)",
            ));
        }
        if self.scope_info.is_some() {
            return Err(ConfigError::bad_value("scope_info", "not supported"));
        }
        if self.sending_queue.is_some() {
            return Err(ConfigError::bad_value(
                "sending_queue",
                "this exporter queues with remote_write_queue",
            ));
        }
        if self.max_batch_size_bytes == 0 {
            return Err(ConfigError::bad_value(
                "max_batch_size_bytes",
                "must be positive",
            ));
        }
        if self.remote_write_queue.enabled {
            if self.remote_write_queue.queue_size == 0 {
                return Err(ConfigError::bad_value(
                    "remote_write_queue::queue_size",
                    "must be positive",
                ));
            }
            if self.remote_write_queue.num_consumers == 0 {
                return Err(ConfigError::bad_value(
                    "remote_write_queue::num_consumers",
                    "must be positive",
                ));
            }
        }
        if let Some(auth) = &self.auth {
            otlp_pipeline::config::fields::parse_id("auth::authenticator", &auth.authenticator)
                .map(|_: ComponentId| ())?;
        }
        Ok(())
    }
}
