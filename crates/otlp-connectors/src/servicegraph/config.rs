//! The `servicegraph` configuration: otelcol-contrib's keys and defaults, and the checks serde
//! cannot make (each error names its key).

use std::time::Duration;

use otlp_pipeline::ConfigError;
use otlp_pipeline::config::duration;
use otlp_pipeline::config::fields::positive;
use otlp_pipeline::factory::ComponentConfig;
use serde::{Deserialize, Serialize};

/// Contrib's default latency buckets, in seconds (2ms … 15s).
pub const DEFAULT_BUCKETS_S: [f64; 16] = [
    0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0,
];

/// The `servicegraph` connector's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceGraphConfig {
    /// Latency bucket bounds as durations (`100ms`, `1s`); empty: contrib's default list.
    #[serde(with = "duration::list")]
    pub latency_histogram_buckets: Vec<Duration>,
    /// Span or resource attributes added to the series, as `client_<name>` (from the client
    /// span) and `server_<name>` (from the server span).
    pub dimensions: Vec<String>,
    /// The store of half-paired requests.
    pub store: StoreConfig,
    /// How often series not updated for 15 minutes are removed.
    #[serde(with = "duration")]
    pub cache_loop: Duration,
    /// How often expired edges are removed from the store.
    #[serde(with = "duration")]
    pub store_expiration_loop: Duration,
    /// How often the metrics are emitted; 0 emits them after every request of spans.
    #[serde(with = "duration")]
    pub metrics_flush_interval: Duration,
    /// Client span attributes whose value names a database: a client span with one is a
    /// complete request to that database (`connection_type: database`).
    pub database_name_attributes: Vec<String>,
    /// Contrib's deprecated single form of `database_name_attributes` (used when that list is
    /// empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub database_name_attribute: String,
    /// Accepted for compatibility; virtual nodes are not built (contrib builds them only
    /// behind an alpha feature gate).
    pub virtual_node_peer_attributes: Vec<String>,
    /// Accepted for compatibility, as `virtual_node_peer_attributes`.
    pub virtual_node_extra_label: bool,
}

impl Default for ServiceGraphConfig {
    fn default() -> Self {
        ServiceGraphConfig {
            latency_histogram_buckets: Vec::new(),
            dimensions: Vec::new(),
            store: StoreConfig::default(),
            cache_loop: Duration::from_secs(60),
            store_expiration_loop: Duration::from_secs(2),
            metrics_flush_interval: Duration::from_secs(60),
            database_name_attributes: vec!["db.name".to_owned()],
            database_name_attribute: String::new(),
            virtual_node_peer_attributes: vec![
                "peer.service".to_owned(),
                "db.name".to_owned(),
                "db.system".to_owned(),
            ],
            virtual_node_extra_label: false,
        }
    }
}

/// `store`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// How long a half of a request waits for its other half.
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// The most half-paired requests held; beyond it new ones are dropped (and counted).
    pub max_items: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            ttl: Duration::from_secs(2),
            max_items: 1000,
        }
    }
}

impl ServiceGraphConfig {
    /// The latency bounds in seconds.
    pub fn bounds(&self) -> Vec<f64> {
        if self.latency_histogram_buckets.is_empty() {
            DEFAULT_BUCKETS_S.to_vec()
        } else {
            self.latency_histogram_buckets
                .iter()
                .map(Duration::as_secs_f64)
                .collect()
        }
    }

    /// The database name attributes in effect.
    pub fn database_attributes(&self) -> Vec<String> {
        if self.database_name_attributes.is_empty() && !self.database_name_attribute.is_empty() {
            vec![self.database_name_attribute.clone()]
        } else {
            self.database_name_attributes.clone()
        }
    }
}

impl ComponentConfig for ServiceGraphConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self
            .latency_histogram_buckets
            .windows(2)
            .any(|w| w[0] >= w[1])
        {
            return Err(ConfigError::bad_value(
                "latency_histogram_buckets",
                "must be in increasing order, without repeats",
            ));
        }
        for (i, name) in self.dimensions.iter().enumerate() {
            if name.is_empty() {
                return Err(ConfigError::bad_value(
                    format!("dimensions[{i}]"),
                    "must not be empty",
                ));
            }
        }
        positive("store::ttl", self.store.ttl)?;
        if self.store.max_items == 0 {
            return Err(ConfigError::bad_value(
                "store::max_items",
                "must be a positive number",
            ));
        }
        positive("cache_loop", self.cache_loop)?;
        positive("store_expiration_loop", self.store_expiration_loop)?;
        Ok(())
    }
}
