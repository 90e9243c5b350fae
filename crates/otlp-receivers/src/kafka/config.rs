//! `receivers: kafka:` — otelcol-contrib's kafka receiver keys and defaults.

use std::time::Duration;

use otlp_transport::kafka::{
    self, AuthConfig, ClientConfig, DEFAULT_CLIENT_ID, Encoding, KafkaConfigError, MetadataConfig,
    Side, TlsConfig,
};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::Signal;
use otlp_pipeline::config::fields::null_as_empty;
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

/// `receivers: kafka:`.
///
/// ```yaml
/// kafka:
///   brokers: [kafka-1:9092]
///   group_id: gateways
///   traces:
///     topics: [otlp_spans]
///   initial_offset: earliest
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaReceiverConfig {
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
    /// `client.rack`: fetch from the closest replica when the brokers allow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rack_id: Option<String>,
    /// Accepted, no effect: librdkafka always checks leader epochs.
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
    /// The consumer group (default `otel-collector`).
    pub group_id: String,
    /// A static member id (`group.instance.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_instance_id: Option<String>,
    /// Where a partition without a committed offset starts: `latest` (default) or `earliest`.
    pub initial_offset: String,
    /// Committing offsets.
    #[serde(deserialize_with = "null_as_empty")]
    pub autocommit: AutoCommitConfig,
    /// Consumer group session timeout (default 10 s).
    #[serde(with = "duration")]
    pub session_timeout: Duration,
    /// Heartbeat interval (default 3 s).
    #[serde(with = "duration")]
    pub heartbeat_interval: Duration,
    /// `range`, `roundrobin` or `cooperative-sticky` (the default, as otelcol's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_rebalance_strategy: Option<String>,
    /// The newer list form of `group_rebalance_strategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_rebalance_strategies: Option<Vec<String>>,
    /// Smallest fetch response the broker waits for (default 1 byte).
    pub min_fetch_size: i64,
    /// Bytes fetched per partition (default 1 MiB; `max_partition_fetch_size` wins).
    pub default_fetch_size: i64,
    /// Largest fetch response (default 1 MiB; 0: librdkafka's default).
    pub max_fetch_size: i64,
    /// Longest the broker waits for `min_fetch_size` (default 250 ms).
    #[serde(with = "duration")]
    pub max_fetch_wait: Duration,
    /// Bytes fetched per partition (default 1 MiB).
    pub max_partition_fetch_size: i64,
    /// Traces: topics (default `otlp_spans`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub traces: TopicEncodingConfig,
    /// Metrics: topics (default `otlp_metrics`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub metrics: TopicEncodingConfig,
    /// Logs: topics (default `otlp_logs`) and encoding (`raw`, `text` too).
    #[serde(deserialize_with = "null_as_empty")]
    pub logs: TopicEncodingConfig,
    /// Profiles: topics (default `otlp_profiles`) and encoding.
    #[serde(deserialize_with = "null_as_empty")]
    pub profiles: TopicEncodingConfig,
    /// Deprecated in otelcol: the topic of every signal without its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Deprecated in otelcol: the encoding of every signal without its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// When a message counts as consumed.
    #[serde(deserialize_with = "null_as_empty")]
    pub message_marking: MessageMarking,
    /// Kafka headers copied into resource attributes `kafka.header.<name>`.
    #[serde(deserialize_with = "null_as_empty")]
    pub header_extraction: HeaderExtraction,
    /// The backoff between attempts when the pipeline refuses retryably.
    #[serde(deserialize_with = "null_as_empty")]
    pub error_backoff: ErrorBackoff,
    /// Accepted (one worker per partition is how this receiver always works).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_processing: Option<Value>,
    /// Accepted (`kafka_receiver_records_delay` is not reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Value>,
}

impl Default for KafkaReceiverConfig {
    fn default() -> Self {
        let client = ClientConfig::default();
        KafkaReceiverConfig {
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
            group_id: DEFAULT_CLIENT_ID.to_owned(),
            group_instance_id: None,
            initial_offset: "latest".into(),
            autocommit: AutoCommitConfig::default(),
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            group_rebalance_strategy: None,
            group_rebalance_strategies: None,
            min_fetch_size: 1,
            default_fetch_size: 1_048_576,
            max_fetch_size: 1_048_576,
            max_fetch_wait: Duration::from_millis(250),
            max_partition_fetch_size: 1_048_576,
            traces: TopicEncodingConfig::default(),
            metrics: TopicEncodingConfig::default(),
            logs: TopicEncodingConfig::default(),
            profiles: TopicEncodingConfig::default(),
            topic: None,
            encoding: None,
            message_marking: MessageMarking::default(),
            header_extraction: HeaderExtraction::default(),
            error_backoff: ErrorBackoff::default(),
            partition_processing: None,
            telemetry: None,
        }
    }
}

/// `traces:`, `metrics:`, `logs:`, `profiles:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicEncodingConfig {
    /// Topics; a name starting with `^` is a regular expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
    /// Deprecated in otelcol (v0.142): one topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// `otlp_proto` (default), `otlp_json`; `raw`, `text` for logs.
    pub encoding: String,
    /// Refused (librdkafka's subscriptions cannot exclude topics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_topics: Option<Vec<String>>,
    /// Refused, as `exclude_topics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_topic: Option<String>,
}

/// `autocommit`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoCommitConfig {
    /// Commit stored offsets in the background (default true); false: after each message.
    pub enable: bool,
    /// How often (default 1 s).
    #[serde(with = "duration")]
    pub interval: Duration,
}

impl Default for AutoCommitConfig {
    fn default() -> Self {
        AutoCommitConfig {
            enable: true,
            interval: Duration::from_secs(1),
        }
    }
}

/// `message_marking`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessageMarking {
    /// Accepted: offsets are always marked only after the pipeline accepted the message.
    pub after: bool,
    /// true: a message the pipeline refuses retryably is skipped (counted) instead of retried.
    pub on_error: bool,
    /// Accepted: a message refused permanently is always skipped (its offset stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_permanent_error: Option<bool>,
}

/// `header_extraction`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeaderExtraction {
    /// Copy the listed headers into resource attributes.
    pub extract_headers: bool,
    /// Header names (exact).
    #[serde(deserialize_with = "null_as_empty")]
    pub headers: Vec<String>,
}

/// `error_backoff` (otelcol's `configretry.BackOffConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorBackoff {
    /// Use these settings (default false: the receiver's own, 100 ms doubling to 5 s).
    pub enabled: bool,
    /// First wait (default 5 s when enabled).
    #[serde(with = "duration")]
    pub initial_interval: Duration,
    /// Largest wait (default 30 s).
    #[serde(with = "duration")]
    pub max_interval: Duration,
    /// Growth per attempt (default 1.5).
    pub multiplier: f64,
    /// Jitter fraction (default 0.5).
    pub randomization_factor: f64,
    /// Accepted: the message is retried at `max_interval` after this, never skipped (the
    /// partition must not advance past data the pipeline did not take).
    #[serde(with = "duration")]
    pub max_elapsed_time: Duration,
}

impl Default for ErrorBackoff {
    fn default() -> Self {
        ErrorBackoff {
            enabled: false,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            multiplier: 1.5,
            randomization_factor: 0.5,
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

/// How a topic is read: a name or a regular expression (`^…`).
#[derive(Debug, Clone)]
pub(crate) enum TopicMatch {
    Name(String),
    Pattern(regex::Regex),
}

/// One signal's subscription.
#[derive(Debug, Clone)]
pub(crate) struct SignalTopics {
    pub(crate) signal: Signal,
    pub(crate) topics: Vec<String>,
    pub(crate) matchers: Vec<TopicMatch>,
    pub(crate) encoding: Encoding,
}

impl SignalTopics {
    pub(crate) fn matches(&self, topic: &str) -> bool {
        self.matchers.iter().any(|m| match m {
            TopicMatch::Name(name) => name == topic,
            TopicMatch::Pattern(pattern) => pattern.is_match(topic),
        })
    }
}

pub(crate) fn kafka_error(error: KafkaConfigError) -> ConfigError {
    ConfigError::bad_value(error.key, error.message)
}

impl KafkaReceiverConfig {
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

    fn signal_config(&self, signal: Signal) -> &TopicEncodingConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
            Signal::Profiles => &self.profiles,
        }
    }

    /// A signal's topics and encoding, defaults and deprecated keys applied.
    pub(crate) fn signal_topics(&self, signal: Signal) -> Result<SignalTopics, ConfigError> {
        let config = self.signal_config(signal);
        let name = signal.name();
        if config.topic.is_some() && config.topics.is_some() {
            return Err(ConfigError::bad_value(
                format!("{name}::topics"),
                format!("both {name}.topic and {name}.topics cannot be set"),
            ));
        }
        if config.exclude_topics.is_some() || config.exclude_topic.is_some() {
            return Err(ConfigError::bad_value(
                format!("{name}::exclude_topics"),
                "not supported (the Kafka client cannot exclude topics from a pattern subscription)",
            ));
        }
        let topics: Vec<String> = match (&config.topics, &config.topic, &self.topic) {
            (Some(topics), _, _) => topics.clone(),
            (None, Some(topic), _) | (None, None, Some(topic)) => vec![topic.clone()],
            (None, None, None) => vec![kafka::default_topic(signal).to_owned()],
        };
        let topics: Vec<String> = topics
            .into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if topics.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{name}::topics"),
                "at least one topic is required",
            ));
        }
        let mut matchers = Vec::with_capacity(topics.len());
        for topic in &topics {
            matchers.push(if topic.starts_with('^') {
                TopicMatch::Pattern(regex::Regex::new(topic).map_err(|e| {
                    ConfigError::bad_value(format!("{name}::topics"), format!("\"{topic}\": {e}"))
                })?)
            } else {
                TopicMatch::Name(topic.clone())
            });
        }
        let (encoding_name, key) = match (config.encoding.trim(), &self.encoding) {
            ("", Some(encoding)) => (encoding.as_str(), "encoding".to_owned()),
            (encoding, _) => (encoding, format!("{name}::encoding")),
        };
        let encoding =
            Encoding::parse(signal, Side::Receiver, encoding_name, &key).map_err(kafka_error)?;
        Ok(SignalTopics {
            signal,
            topics,
            matchers,
            encoding,
        })
    }

    fn strategy(&self) -> Result<String, ConfigError> {
        let strategies: Vec<String> = match (
            &self.group_rebalance_strategy,
            &self.group_rebalance_strategies,
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::bad_value(
                    "group_rebalance_strategies",
                    "group_rebalance_strategy and group_rebalance_strategies are mutually exclusive",
                ));
            }
            (Some(one), None) if !one.is_empty() => vec![one.clone()],
            (None, Some(list)) if !list.is_empty() => list.clone(),
            _ => vec!["cooperative-sticky".to_owned()],
        };
        for strategy in &strategies {
            match strategy.as_str() {
                "range" | "roundrobin" | "cooperative-sticky" => {}
                other => {
                    return Err(ConfigError::bad_value(
                        "group_rebalance_strategy",
                        format!(
                            "\"{other}\" is not supported: range, roundrobin or cooperative-sticky (librdkafka has no eager sticky assignor, nor balancer extensions)"
                        ),
                    ));
                }
            }
        }
        if strategies.len() > 1 && strategies.iter().any(|s| s == "cooperative-sticky") {
            return Err(ConfigError::bad_value(
                "group_rebalance_strategies",
                "cooperative-sticky cannot be combined with eager strategies",
            ));
        }
        Ok(strategies.join(","))
    }

    /// The consumer's librdkafka properties on top of the client's.
    pub(crate) fn rdkafka(&self) -> Result<kafka::rdkafka::ClientConfig, ConfigError> {
        let mut config = self.client().to_rdkafka().map_err(kafka_error)?;
        let ms = |d: Duration| d.as_millis().max(1).to_string();
        config.set("group.id", &self.group_id);
        if let Some(instance) = self.group_instance_id.as_deref().filter(|s| !s.is_empty()) {
            config.set("group.instance.id", instance);
        }
        config.set("auto.offset.reset", &self.initial_offset);
        // Offsets are stored by the receiver once the pipeline took the message, never before.
        config.set("enable.auto.offset.store", "false");
        config.set("enable.auto.commit", self.autocommit.enable.to_string());
        if self.autocommit.enable {
            config.set("auto.commit.interval.ms", ms(self.autocommit.interval));
        }
        config.set("session.timeout.ms", ms(self.session_timeout));
        config.set("heartbeat.interval.ms", ms(self.heartbeat_interval));
        config.set("partition.assignment.strategy", self.strategy()?);
        config.set("fetch.min.bytes", self.min_fetch_size.max(1).to_string());
        if self.max_fetch_size > 0 {
            config.set("fetch.max.bytes", self.max_fetch_size.to_string());
        }
        let per_partition = if self.max_partition_fetch_size > 0 {
            self.max_partition_fetch_size
        } else {
            self.default_fetch_size
        };
        if per_partition > 0 {
            config.set("max.partition.fetch.bytes", per_partition.to_string());
        }
        config.set("fetch.wait.max.ms", ms(self.max_fetch_wait));
        // What librdkafka prefetches ahead of the pipeline (per partition and in total).
        config.set("queued.max.messages.kbytes", "16384");
        config.set("allow.auto.create.topics", "true");
        Ok(config)
    }
}

impl ComponentConfig for KafkaReceiverConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.client().validate().map_err(kafka_error)?;
        if self.group_id.trim().is_empty() {
            return Err(ConfigError::bad_value("group_id", "must not be empty"));
        }
        match self.initial_offset.as_str() {
            "latest" | "earliest" => {}
            other => {
                return Err(ConfigError::bad_value(
                    "initial_offset",
                    format!(
                        "initial_offset should be one of 'latest' or 'earliest'. configured value {other}"
                    ),
                ));
            }
        }
        for (key, value) in [
            ("session_timeout", self.session_timeout),
            ("heartbeat_interval", self.heartbeat_interval),
            ("max_fetch_wait", self.max_fetch_wait),
        ] {
            if value.is_zero() {
                return Err(ConfigError::bad_value(key, "must be positive"));
            }
        }
        if self.heartbeat_interval >= self.session_timeout {
            return Err(ConfigError::bad_value(
                "heartbeat_interval",
                "must be less than session_timeout",
            ));
        }
        if self.autocommit.enable && self.autocommit.interval.is_zero() {
            return Err(ConfigError::bad_value(
                "autocommit::interval",
                "must be positive",
            ));
        }
        if self.max_fetch_size > 0 && self.max_fetch_size < self.min_fetch_size {
            return Err(ConfigError::bad_value(
                "max_fetch_size",
                "must be greater than or equal to min_fetch_size",
            ));
        }
        self.strategy()?;
        let mut seen: Vec<(String, Signal)> = Vec::new();
        for signal in Signal::ALL {
            let topics = self.signal_topics(signal)?;
            for topic in topics.topics {
                if let Some((_, other)) = seen.iter().find(|(t, _)| *t == topic) {
                    return Err(ConfigError::bad_value(
                        format!("{}::topics", signal.name()),
                        format!(
                            "topic \"{topic}\" is also the {other} topic: each topic carries one signal"
                        ),
                    ));
                }
                seen.push((topic, signal));
            }
        }
        let backoff = &self.error_backoff;
        if backoff.enabled {
            if backoff.initial_interval.is_zero() {
                return Err(ConfigError::bad_value(
                    "error_backoff::initial_interval",
                    "must be positive",
                ));
            }
            if backoff.max_interval < backoff.initial_interval {
                return Err(ConfigError::bad_value(
                    "error_backoff::max_interval",
                    "must not be less than initial_interval",
                ));
            }
            if !(backoff.multiplier.is_finite() && backoff.multiplier >= 1.0) {
                return Err(ConfigError::bad_value(
                    "error_backoff::multiplier",
                    "must be at least 1",
                ));
            }
            if !(0.0..=1.0).contains(&backoff.randomization_factor) {
                return Err(ConfigError::bad_value(
                    "error_backoff::randomization_factor",
                    "must be between 0 and 1",
                ));
            }
        }
        if self.header_extraction.headers.iter().any(|h| h.is_empty()) {
            return Err(ConfigError::bad_value(
                "header_extraction::headers",
                "header names must not be empty",
            ));
        }
        Ok(())
    }
}
