//! `receivers: prometheus:` — otelcol-contrib v0.165.1's keys: `config:` (a Prometheus
//! configuration: `global` and `scrape_configs` with `static_configs`, relabeling, limits),
//! `trim_metric_suffixes`, `use_start_time_metric` and `start_time_metric_regex`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::ConfigError;
use otlp_pipeline::factory::ComponentConfig;

use super::relabel::{self, RelabelConfig};

/// `receivers: prometheus:`.
///
/// ```yaml
/// prometheus:
///   config:
///     scrape_configs:
///       - job_name: node
///         scrape_interval: 15s
///         static_configs:
///           - targets: ["localhost:9100"]
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// The Prometheus configuration (`global`, `scrape_configs`).
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub config: PromConfig,
    /// Trims `_total` from counters' names and the unit suffix named by `# UNIT` (default
    /// false).
    pub trim_metric_suffixes: bool,
    /// The start time of cumulative points is the value of a gauge of the scrape
    /// (`process_start_time_seconds`) rather than when the series was first seen (default
    /// false).
    pub use_start_time_metric: bool,
    /// The gauge's name for `use_start_time_metric` (empty:
    /// `^(.+_)*process_start_time_seconds$`).
    pub start_time_metric_regex: String,
    /// Refused: there is no target allocator client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_allocator: Option<Value>,
}

/// `config:` — the part of a Prometheus configuration this receiver reads.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PromConfig {
    /// Defaults of every scrape configuration.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub global: GlobalConfig,
    /// The scrape jobs.
    #[serde(deserialize_with = "scrape_configs")]
    pub scrape_configs: Vec<ScrapeConfig>,
}

/// `global:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalConfig {
    /// Default time between scrapes (1 m).
    #[serde(with = "prom_duration")]
    pub scrape_interval: Duration,
    /// Default deadline of one scrape (10 s).
    #[serde(with = "prom_duration")]
    pub scrape_timeout: Duration,
    /// Accepted (there are no rules to evaluate).
    #[serde(with = "prom_duration")]
    pub evaluation_interval: Duration,
    /// Labels added to every sample that does not have them.
    pub external_labels: BTreeMap<String, String>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: Duration::from_secs(60),
            scrape_timeout: Duration::from_secs(10),
            evaluation_interval: Duration::from_secs(60),
            external_labels: BTreeMap::new(),
        }
    }
}

/// One `scrape_configs:` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrapeConfig {
    /// The job (required, unique): the `job` label and `service.name`.
    pub job_name: String,
    /// Time between scrapes (default: `global.scrape_interval`).
    #[serde(
        with = "prom_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub scrape_interval: Option<Duration>,
    /// Deadline of one scrape (default: `global.scrape_timeout`, at most the interval).
    #[serde(
        with = "prom_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub scrape_timeout: Option<Duration>,
    /// The path scraped (`/metrics`).
    pub metrics_path: String,
    /// `http` (`https` is refused: no TLS client here).
    pub scheme: String,
    /// Query parameters of the scrape URL.
    pub params: BTreeMap<String, Vec<String>>,
    /// Scraped labels win over target labels (default false: they are renamed
    /// `exported_<name>`).
    pub honor_labels: bool,
    /// Timestamps in the exposition are kept (default true).
    pub honor_timestamps: bool,
    /// The targets.
    pub static_configs: Vec<StaticConfig>,
    /// Rules applied to each target's labels before scraping.
    pub relabel_configs: Vec<RelabelConfig>,
    /// Rules applied to each scraped sample's labels.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// More samples than this (after metric relabeling) fail the scrape (0: no limit).
    pub sample_limit: u64,
    /// A body larger than this (uncompressed, bytes or `64MiB`/`1KB`...) fails the scrape
    /// (0: this receiver's own cap, 64 MiB).
    #[serde(deserialize_with = "byte_size")]
    pub body_size_limit: u64,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            job_name: String::new(),
            scrape_interval: None,
            scrape_timeout: None,
            metrics_path: "/metrics".into(),
            scheme: "http".into(),
            params: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            static_configs: Vec::new(),
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
            sample_limit: 0,
            body_size_limit: 0,
        }
    }
}

/// A `static_configs:` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StaticConfig {
    /// `host:port` of each target.
    pub targets: Vec<String>,
    /// Labels of every target of the entry.
    pub labels: BTreeMap<String, String>,
}

/// Our cap on a scrape body when `body_size_limit` is 0.
pub const DEFAULT_BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// The service discovery mechanisms of Prometheus, refused by name.
const SERVICE_DISCOVERY: &[&str] = &[
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "dns_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "file_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "http_sd_configs",
    "ionos_sd_configs",
    "kubernetes_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "openstack_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
    "stackit_sd_configs",
];

/// Scrape configurations, refusing service discovery blocks by name before the unknown-key
/// check.
fn scrape_configs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ScrapeConfig>, D::Error> {
    use serde::de::Error;
    let values = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        if let Value::Mapping(map) = &value {
            for key in map.keys() {
                let Some(key) = key.as_str() else { continue };
                if SERVICE_DISCOVERY.contains(&key) || key.ends_with("_sd_configs") {
                    return Err(D::Error::custom(format!(
                        "scrape_configs[{i}]: `{key}` (service discovery) is not supported by \
                         this receiver; list the targets in `static_configs`"
                    )));
                }
            }
        }
        let config: ScrapeConfig = serde_yaml_ng::from_value(value)
            .map_err(|e| D::Error::custom(format!("scrape_configs[{i}]: {e}")))?;
        out.push(config);
    }
    Ok(out)
}

/// `body_size_limit`: a number of bytes or a Prometheus size (`10MB`, `64MiB`...).
fn byte_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(0),
        Some(Raw::Number(n)) => Ok(n),
        Some(Raw::Text(text)) => parse_byte_size(&text).map_err(D::Error::custom),
    }
}

/// Parses `64MiB`, `10MB`, `512KB`, `1GB`, `100B` or a plain number (Prometheus's units are
/// powers of 1024 whatever the spelling).
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected a number and a unit (64MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        "TB" | "TIB" => 1 << 40,
        other => return Err(format!("invalid size unit {other:?} in {text:?}")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// Prometheus durations (`1m`, `15s`, `1h30m`, `500ms`, `1d`, `1w`, `1y`).
pub mod prom_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    const UNITS: &[(&str, u64)] = &[
        ("y", 365 * 24 * 3600 * 1000),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ];

    /// Parses a Prometheus duration.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let bad = || format!("invalid duration {text:?}: expected e.g. 15s, 1m, 1h30m, 500ms");
        if text == "0" {
            return Ok(Duration::ZERO);
        }
        if text.is_empty() {
            return Err(bad());
        }
        let mut rest = text;
        let mut total: u64 = 0;
        let mut last_unit = 0usize;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let index = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(bad)?;
            // Units in decreasing order, each once.
            if index < last_unit || (total > 0 && index == last_unit) {
                return Err(bad());
            }
            last_unit = index;
            total = n
                .checked_mul(UNITS[index].1)
                .and_then(|ms| total.checked_add(ms))
                .ok_or_else(bad)?;
        }
        Ok(Duration::from_millis(total))
    }

    /// Formats as Prometheus does (`1m30s`, `500ms`, `0s`).
    pub fn format(duration: Duration) -> String {
        let mut ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return "0s".into();
        }
        let mut out = String::new();
        for (unit, size) in UNITS {
            if ms >= *size {
                out.push_str(&format!("{}{unit}", ms / size));
                ms %= size;
            }
        }
        out
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(u64),
    }

    fn from_raw<E: serde::de::Error>(raw: Raw) -> Result<Duration, E> {
        match raw {
            Raw::Text(t) => parse(&t).map_err(E::custom),
            Raw::Seconds(0) => Ok(Duration::ZERO),
            Raw::Seconds(_) => Err(E::custom(
                "a duration needs a unit (15s, 1m): a bare number is not one",
            )),
        }
    }

    /// `#[serde(with = "prom_duration")]`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        from_raw(Raw::deserialize(d)?)
    }

    /// `#[serde(with = "prom_duration")]`.
    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*v))
    }

    /// `#[serde(with = "prom_duration::option")]`.
    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        /// Deserializes an optional duration (`null` is none).
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            match Option::<super::Raw>::deserialize(d)? {
                None => Ok(None),
                Some(raw) => super::from_raw(raw).map(Some),
            }
        }

        /// Serializes an optional duration.
        pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(d) => s.serialize_str(&super::format(*d)),
                None => s.serialize_none(),
            }
        }
    }
}

/// A label name of the Prometheus legacy character set.
pub(crate) fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits `host:port` (`[::1]:9100` for IPv6).
pub(crate) fn split_host_port(address: &str) -> Option<(&str, &str)> {
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':')?)
    } else {
        let (host, port) = address.rsplit_once(':')?;
        if host.contains(':') {
            return None;
        }
        (host, port)
    };
    (!host.is_empty() && !port.is_empty() && port.parse::<u16>().is_ok()).then_some((host, port))
}

impl ScrapeConfig {
    /// The interval, from the job or the global default.
    pub(crate) fn interval(&self, global: &GlobalConfig) -> Duration {
        self.scrape_interval.unwrap_or(global.scrape_interval)
    }

    /// The timeout: the job's, else the global one capped at the interval (as Prometheus).
    pub(crate) fn timeout(&self, global: &GlobalConfig) -> Duration {
        match self.scrape_timeout {
            Some(t) => t,
            None => global.scrape_timeout.min(self.interval(global)),
        }
    }

    fn validate(
        &self,
        i: usize,
        global: &GlobalConfig,
        jobs: &mut HashSet<String>,
    ) -> Result<(), ConfigError> {
        let path = |key: &str| format!("config::scrape_configs[{i}]::{key}");
        if self.job_name.is_empty() {
            return Err(ConfigError::bad_value(
                path("job_name"),
                "a job_name is required",
            ));
        }
        if !jobs.insert(self.job_name.clone()) {
            return Err(ConfigError::bad_value(
                path("job_name"),
                format!(
                    "job_name {:?} is used by two scrape configurations",
                    self.job_name
                ),
            ));
        }
        let interval = self.interval(global);
        let timeout = self.timeout(global);
        if interval.is_zero() {
            return Err(ConfigError::bad_value(
                path("scrape_interval"),
                "must be positive",
            ));
        }
        if timeout.is_zero() {
            return Err(ConfigError::bad_value(
                path("scrape_timeout"),
                "must be positive",
            ));
        }
        if timeout > interval {
            return Err(ConfigError::bad_value(
                path("scrape_timeout"),
                format!(
                    "scrape timeout {} is greater than the scrape interval {} of job {:?}",
                    prom_duration::format(timeout),
                    prom_duration::format(interval),
                    self.job_name
                ),
            ));
        }
        match self.scheme.as_str() {
            "http" => {}
            "https" => {
                return Err(ConfigError::bad_value(
                    path("scheme"),
                    "scheme https is not supported by this receiver (no TLS client); use http",
                ));
            }
            other => {
                return Err(ConfigError::bad_value(
                    path("scheme"),
                    format!("unknown scheme {other:?}: expected http"),
                ));
            }
        }
        if !self.metrics_path.starts_with('/') {
            return Err(ConfigError::bad_value(
                path("metrics_path"),
                format!("{:?} must start with /", self.metrics_path),
            ));
        }
        for (j, s) in self.static_configs.iter().enumerate() {
            for target in &s.targets {
                if target.contains('/') || split_host_port(target).is_none() {
                    return Err(ConfigError::bad_value(
                        path(&format!("static_configs[{j}]::targets")),
                        format!("{target:?} is not host:port"),
                    ));
                }
            }
            for name in s.labels.keys() {
                if !valid_label_name(name) {
                    return Err(ConfigError::bad_value(
                        path(&format!("static_configs[{j}]::labels")),
                        format!("{name:?} is not a valid label name"),
                    ));
                }
            }
        }
        for (j, r) in self.relabel_configs.iter().enumerate() {
            relabel::Rule::compile(r)
                .map_err(|e| ConfigError::bad_value(path(&format!("relabel_configs[{j}]")), e))?;
        }
        for (j, r) in self.metric_relabel_configs.iter().enumerate() {
            relabel::Rule::compile(r).map_err(|e| {
                ConfigError::bad_value(path(&format!("metric_relabel_configs[{j}]")), e)
            })?;
        }
        Ok(())
    }
}

impl ComponentConfig for PrometheusConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.target_allocator.is_some() {
            return Err(ConfigError::bad_value(
                "target_allocator",
                "the target allocator is not supported by this receiver; list the targets in \
                 config::scrape_configs[]::static_configs",
            ));
        }
        if !self.start_time_metric_regex.is_empty() {
            regex::Regex::new(&self.start_time_metric_regex).map_err(|e| {
                ConfigError::bad_value("start_time_metric_regex", format!("invalid regex: {e}"))
            })?;
        }
        let global = &self.config.global;
        if global.scrape_interval.is_zero() || global.scrape_timeout.is_zero() {
            return Err(ConfigError::bad_value(
                "config::global",
                "scrape_interval and scrape_timeout must be positive",
            ));
        }
        for name in global.external_labels.keys() {
            if !valid_label_name(name) {
                return Err(ConfigError::bad_value(
                    "config::global::external_labels",
                    format!("{name:?} is not a valid label name"),
                ));
            }
        }
        if self.config.scrape_configs.is_empty() {
            return Err(ConfigError::bad_value(
                "config::scrape_configs",
                "no Prometheus scrape_configs: at least one is required",
            ));
        }
        let mut jobs = HashSet::new();
        for (i, s) in self.config.scrape_configs.iter().enumerate() {
            s.validate(i, global, &mut jobs)?;
        }
        Ok(())
    }
}
