//! `exporters: kafka:` — otelcol-contrib's kafka exporter keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use otlp_transport::kafka::{
    self, AuthConfig, ClientConfig, Encoding, KafkaConfigError, MetadataConfig, Side, TlsConfig,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_yaml_ng::Value;

pub use crate::queue::{RetryOnFailureConfig, SendingQueueConfig};
use otlp_pipeline::Signal;
use otlp_pipeline::config::fields::{null_as_empty, positive};
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

/// `exporters: kafka:`.
///
/// ```yaml
/// kafka:
///   brokers: [kafka-1:9092, kafka-2:9092]
///   traces:
///     topic: spans
///   partition_traces_by_id: true
///   producer:
///     required_acks: all
///     compression: zstd
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaExporterConfig {
    /// Bootstrap servers (default `[localhost:9092]`).
    pub brokers: Vec<String>,
    /// Checked to be a version; librdkafka negotiates the API versions with each broker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// Resolve bootstrap names to their canonical names first.
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// The client id (default `otel-collector`).
    pub client_id: String,
    /// Close broker connections idle this long.
    #[serde(
        with = "kafka::go_duration_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub conn_idle_timeout: Option<Duration>,
    /// `client.rack`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rack_id: Option<String>,
    /// Accepted, no effect (a consumer setting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_leader_epoch: Option<bool>,
    /// SASL (and the deprecated `auth::tls`).
    #[serde(deserialize_with = "null_as_empty")]
    pub auth: AuthConfig,
    /// TLS: present (even empty) turns it on, unless `insecure: true`.
    #[serde(
        deserialize_with = "kafka::present_tls",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls: Option<TlsConfig>,
    /// Metadata refresh.
    #[serde(deserialize_with = "null_as_empty")]
    pub metadata: MetadataConfig,
    /// Time limit of one produce attempt: the whole request acknowledged by Kafka (default 5 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Retry with backoff (the sending queue retries; without it the exporter does).
    #[serde(deserialize_with = "null_as_empty")]
    pub retry_on_failure: RetryOnFailureConfig,
    /// The queue between the pipeline and Kafka.
    #[serde(deserialize_with = "null_as_empty")]
    pub sending_queue: SendingQueueConfig,
    /// The producer.
    #[serde(deserialize_with = "null_as_empty")]
    pub producer: ProducerConfig,
    /// Traces: topic (default `otlp_spans`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub traces: SignalConfig,
    /// Metrics: topic (default `otlp_metrics`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub metrics: SignalConfig,
    /// Logs: topic (default `otlp_logs`) and encoding (`raw` too).
    #[serde(deserialize_with = "null_as_empty")]
    pub logs: SignalConfig,
    /// Profiles: topic (default `otlp_profiles`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub profiles: SignalConfig,
    /// Deprecated in otelcol: the topic of every signal without its own `<signal>::topic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Deprecated in otelcol: the encoding of every signal without its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Request metadata keys written as message headers (one header per value).
    #[serde(deserialize_with = "null_as_empty")]
    pub include_metadata_keys: Vec<String>,
    /// Headers written on every message.
    #[serde(deserialize_with = "null_as_empty")]
    pub record_headers: BTreeMap<String, String>,
    /// A resource attribute whose (string) value is the topic.
    pub topic_from_attribute: String,
    /// Key trace messages by trace id (lower-case hex), one message per trace.
    pub partition_traces_by_id: bool,
    /// Key metric messages by a hash of the resource attributes, one message per resource.
    pub partition_metrics_by_resource_attributes: bool,
    /// Key log messages by a hash of the resource attributes, one message per resource.
    pub partition_logs_by_resource_attributes: bool,
    /// Key log messages by trace id, one message per trace (records without one: no key).
    pub partition_logs_by_trace_id: bool,
    /// How keys map to partitions: `sticky_key` (hasher `sarama_compat`, the default, or
    /// `murmur2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_partitioner: Option<RecordPartitionerConfig>,
}

impl Default for KafkaExporterConfig {
    fn default() -> Self {
        let client = ClientConfig::default();
        KafkaExporterConfig {
            brokers: client.brokers,
            protocol_version: None,
            resolve_canonical_bootstrap_servers_only: false,
            client_id: client.client_id,
            conn_idle_timeout: None,
            rack_id: None,
            use_leader_epoch: None,
            auth: AuthConfig::default(),
            tls: None,
            metadata: MetadataConfig::default(),
            timeout: Duration::from_secs(5),
            retry_on_failure: RetryOnFailureConfig::default(),
            sending_queue: SendingQueueConfig::default(),
            producer: ProducerConfig::default(),
            traces: SignalConfig::default(),
            metrics: SignalConfig::default(),
            logs: SignalConfig::default(),
            profiles: SignalConfig::default(),
            topic: None,
            encoding: None,
            include_metadata_keys: Vec::new(),
            record_headers: BTreeMap::new(),
            topic_from_attribute: String::new(),
            partition_traces_by_id: false,
            partition_metrics_by_resource_attributes: false,
            partition_logs_by_resource_attributes: false,
            partition_logs_by_trace_id: false,
            record_partitioner: None,
        }
    }
}

/// `traces:`, `metrics:`, `logs:`, `profiles:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalConfig {
    /// The topic (default per signal: `otlp_spans`, `otlp_metrics`, `otlp_logs`,
    /// `otlp_profiles`).
    pub topic: String,
    /// `otlp_proto` (default), `otlp_json`; `raw` for logs.
    pub encoding: String,
    /// A request metadata key whose value is the topic (before `topic_from_attribute`).
    pub topic_from_metadata_key: String,
    /// A request metadata key whose value is the message key.
    pub message_key_from_metadata_key: String,
}

/// `record_partitioner`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordPartitionerConfig {
    /// Keyed messages to the partition of their key's hash; unkeyed ones spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sticky_key: Option<StickyKeyConfig>,
    /// Refused (librdkafka has no round-robin partitioner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_robin: Option<Value>,
    /// Refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub least_backup: Option<Value>,
    /// Refused (partitioner extensions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

/// `record_partitioner::sticky_key`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StickyKeyConfig {
    /// `sarama_compat` (FNV-1a, the default) or `murmur2` (the Java client's).
    pub hasher: String,
}

impl Default for StickyKeyConfig {
    fn default() -> Self {
        StickyKeyConfig {
            hasher: "sarama_compat".into(),
        }
    }
}

/// `producer:` — otelcol's `configkafka.ProducerConfig`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// The largest message value, before compression (default 1 000 000): larger requests
    /// are split into several messages.
    pub max_message_bytes: usize,
    /// Accepted (librdkafka sizes its produce requests itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_broker_write_bytes: Option<u64>,
    /// `1` (the leader wrote it, the default), `0` (no acknowledgement), `-1` / `all` (every
    /// in-sync replica; turns on idempotent produce).
    #[serde(deserialize_with = "required_acks", serialize_with = "serialize_acks")]
    pub required_acks: i8,
    /// `none` (default), `gzip`, `snappy`, `lz4`, `zstd`.
    pub compression: String,
    /// `level` of the compression.
    #[serde(deserialize_with = "null_as_empty")]
    pub compression_params: CompressionParams,
    /// Most messages in one produce request (0: librdkafka's default).
    pub flush_max_messages: usize,
    /// Let the broker create a missing topic (default true; the broker must allow it).
    pub allow_auto_topic_creation: bool,
    /// How long a partition's batch waits for more messages (default 10 ms).
    #[serde(with = "duration")]
    pub linger: Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_message_bytes: 1_000_000,
            max_broker_write_bytes: None,
            required_acks: 1,
            compression: "none".into(),
            compression_params: CompressionParams::default(),
            flush_max_messages: 0,
            allow_auto_topic_creation: true,
            linger: Duration::from_millis(10),
        }
    }
}

/// `producer::compression_params`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompressionParams {
    /// The codec's level (-1: its default).
    pub level: i32,
}

impl Default for CompressionParams {
    fn default() -> Self {
        CompressionParams { level: -1 }
    }
}

fn required_acks<'de, D: Deserializer<'de>>(d: D) -> Result<i8, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Acks {
        Number(i64),
        Text(String),
    }
    let value = match Acks::deserialize(d)? {
        Acks::Number(n) => n,
        Acks::Text(text) if text == "all" => -1,
        Acks::Text(text) => text.parse::<i64>().map_err(|_| {
            serde::de::Error::custom(format!("expected 'all' (-1), 0, or 1; got \"{text}\""))
        })?,
    };
    match value {
        -1..=1 => Ok(value as i8),
        other => Err(serde::de::Error::custom(format!(
            "expected 'all' (-1), 0, or 1; configured value is {other}"
        ))),
    }
}

fn serialize_acks<S: Serializer>(acks: &i8, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i8(*acks)
}

pub(crate) fn kafka_error(error: KafkaConfigError) -> ConfigError {
    ConfigError::bad_value(error.key, error.message)
}

/// Signal settings once defaults and the deprecated top-level keys are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SignalPlan {
    pub(crate) topic: String,
    pub(crate) encoding: Encoding,
    pub(crate) topic_from_metadata_key: Option<String>,
    pub(crate) message_key_from_metadata_key: Option<String>,
}

impl KafkaExporterConfig {
    /// The client settings.
    pub fn client(&self) -> ClientConfig {
        ClientConfig {
            brokers: self.brokers.clone(),
            protocol_version: self.protocol_version.clone(),
            resolve_canonical_bootstrap_servers_only: self.resolve_canonical_bootstrap_servers_only,
            client_id: self.client_id.clone(),
            conn_idle_timeout: self.conn_idle_timeout,
            rack_id: self.rack_id.clone(),
            auth: self.auth.clone(),
            tls: self.tls.clone(),
            metadata: self.metadata.clone(),
        }
    }

    fn signal_config(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
            Signal::Profiles => &self.profiles,
        }
    }

    /// One signal's topic, encoding and metadata keys.
    pub(crate) fn signal_plan(&self, signal: Signal) -> Result<SignalPlan, ConfigError> {
        let config = self.signal_config(signal);
        let topic = [Some(config.topic.as_str()), self.topic.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|t| !t.is_empty())
            .unwrap_or(kafka::default_topic(signal))
            .to_owned();
        let encoding_name = [Some(config.encoding.as_str()), self.encoding.as_deref()]
            .into_iter()
            .flatten()
            .find(|e| !e.trim().is_empty())
            .unwrap_or("");
        let key = if config.encoding.trim().is_empty() && self.encoding.is_some() {
            "encoding".to_owned()
        } else {
            format!("{}::encoding", signal.name())
        };
        let encoding =
            Encoding::parse(signal, Side::Exporter, encoding_name, &key).map_err(kafka_error)?;
        let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(SignalPlan {
            topic,
            encoding,
            topic_from_metadata_key: non_empty(&config.topic_from_metadata_key),
            message_key_from_metadata_key: non_empty(&config.message_key_from_metadata_key),
        })
    }

    /// librdkafka's `partitioner`.
    pub(crate) fn partitioner(&self) -> Result<&'static str, ConfigError> {
        let Some(partitioner) = &self.record_partitioner else {
            return Ok("fnv1a_random");
        };
        let set = [
            partitioner.sticky_key.is_some(),
            partitioner.round_robin.is_some(),
            partitioner.least_backup.is_some(),
            partitioner.extension.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(ConfigError::bad_value(
                "record_partitioner",
                "at most one record_partitioner strategy may be configured",
            ));
        }
        for (name, on) in [
            ("round_robin", partitioner.round_robin.is_some()),
            ("least_backup", partitioner.least_backup.is_some()),
            ("extension", partitioner.extension.is_some()),
        ] {
            if on {
                return Err(ConfigError::bad_value(
                    format!("record_partitioner::{name}"),
                    "not supported by the Kafka client (librdkafka); use sticky_key",
                ));
            }
        }
        match partitioner
            .sticky_key
            .as_ref()
            .map_or("sarama_compat", |s| s.hasher.as_str())
        {
            "sarama_compat" | "" => Ok("fnv1a_random"),
            "murmur2" => Ok("murmur2_random"),
            other => Err(ConfigError::bad_value(
                "record_partitioner::sticky_key::hasher",
                format!("unknown hasher \"{other}\"; valid values are sarama_compat and murmur2"),
            )),
        }
    }

    /// The producer's librdkafka properties on top of the client's.
    pub(crate) fn rdkafka(&self) -> Result<kafka::rdkafka::ClientConfig, ConfigError> {
        let mut config = self.client().to_rdkafka().map_err(kafka_error)?;
        let producer = &self.producer;
        config.set("acks", producer.required_acks.to_string());
        if producer.required_acks == -1 {
            // Retries inside the client can then neither duplicate nor reorder messages.
            config.set("enable.idempotence", "true");
        }
        config.set("compression.codec", compression(&producer.compression)?);
        if producer.compression_params.level != -1 {
            config.set(
                "compression.level",
                producer.compression_params.level.to_string(),
            );
        }
        // A value may be max_message_bytes; its key, headers and record framing come on top.
        let max = producer.max_message_bytes.saturating_add(64 * 1024);
        config.set("message.max.bytes", max.min(1_000_000_000).to_string());
        if producer.flush_max_messages > 0 {
            config.set(
                "batch.num.messages",
                producer.flush_max_messages.to_string(),
            );
        }
        config.set(
            "allow.auto.create.topics",
            producer.allow_auto_topic_creation.to_string(),
        );
        config.set("linger.ms", producer.linger.as_millis().to_string());
        config.set(
            "message.timeout.ms",
            self.timeout.as_millis().max(1).to_string(),
        );
        config.set("partitioner", self.partitioner()?);
        Ok(config)
    }
}

fn compression(name: &str) -> Result<&'static str, ConfigError> {
    match name {
        "" | "none" => Ok("none"),
        "gzip" => Ok("gzip"),
        "snappy" => Ok("snappy"),
        "lz4" => Ok("lz4"),
        "zstd" => Ok("zstd"),
        other => Err(ConfigError::bad_value(
            "producer::compression",
            format!(
                "compression should be one of 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. configured value is \"{other}\""
            ),
        )),
    }
}

fn check_level(codec: &str, level: i32) -> Result<(), ConfigError> {
    let ok = match codec {
        "gzip" => (-1..=9).contains(&level),
        "zstd" => level == -1 || (1..=22).contains(&level),
        "lz4" => (-1..=12).contains(&level),
        _ => level == -1,
    };
    if ok {
        return Ok(());
    }
    Err(ConfigError::bad_value(
        "producer::compression_params::level",
        format!("level {level} is not valid for {codec}"),
    ))
}

impl ComponentConfig for KafkaExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.client().validate().map_err(kafka_error)?;
        positive("timeout", self.timeout)?;
        for signal in Signal::ALL {
            self.signal_plan(signal)?;
        }
        let codec = compression(&self.producer.compression)?;
        check_level(codec, self.producer.compression_params.level)?;
        if self.producer.max_message_bytes < 1024 {
            return Err(ConfigError::bad_value(
                "producer::max_message_bytes",
                "must be at least 1024",
            ));
        }
        self.partitioner()?;
        if self.partition_logs_by_resource_attributes && self.partition_logs_by_trace_id {
            return Err(ConfigError::bad_value(
                "partition_logs_by_trace_id",
                "partition_logs_by_resource_attributes and partition_logs_by_trace_id cannot both be enabled",
            ));
        }
        for (signal, partitioned) in [
            (Signal::Traces, self.partition_traces_by_id),
            (
                Signal::Metrics,
                self.partition_metrics_by_resource_attributes,
            ),
            (
                Signal::Logs,
                self.partition_logs_by_resource_attributes || self.partition_logs_by_trace_id,
            ),
        ] {
            if partitioned
                && !self
                    .signal_config(signal)
                    .message_key_from_metadata_key
                    .is_empty()
            {
                return Err(ConfigError::bad_value(
                    format!("{}::message_key_from_metadata_key", signal.name()),
                    "cannot be combined with the signal's partition_* setting",
                ));
            }
        }
        let uses_metadata = !self.include_metadata_keys.is_empty()
            || Signal::ALL.iter().any(|s| {
                let c = self.signal_config(*s);
                !c.topic_from_metadata_key.is_empty() || !c.message_key_from_metadata_key.is_empty()
            });
        if uses_metadata && self.sending_queue.enabled {
            return Err(ConfigError::bad_value(
                "include_metadata_keys",
                "request metadata (include_metadata_keys, topic_from_metadata_key, message_key_from_metadata_key) needs sending_queue::enabled: false: the queue keeps the data, not its metadata",
            ));
        }
        check_retry(&self.retry_on_failure)?;
        if self.sending_queue.enabled && self.sending_queue.storage.is_some() {
            return Err(ConfigError::bad_value(
                "sending_queue::storage",
                "persistent queues are not supported by the kafka exporter",
            ));
        }
        self.sending_queue.validate()
    }
}

fn check_retry(retry: &RetryOnFailureConfig) -> Result<(), ConfigError> {
    if !retry.enabled {
        return Ok(());
    }
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
    Ok(())
}
