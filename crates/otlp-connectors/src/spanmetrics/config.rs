//! The `spanmetrics` configuration: otelcol-contrib's keys and defaults, and the checks serde
//! cannot make (each error names its key).

use std::time::Duration;

use otlp_pipeline::ConfigError;
use otlp_pipeline::config::duration;
use otlp_pipeline::config::fields::positive;
use otlp_pipeline::factory::ComponentConfig;
use serde::{Deserialize, Serialize};

/// The default namespace: metric names are `traces.span.metrics.calls` and so on.
pub const DEFAULT_NAMESPACE: &str = "traces.span.metrics";

/// The default explicit buckets, in milliseconds (contrib's list: 2ms … 15s).
pub const DEFAULT_BUCKETS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10_000.0, 15_000.0,
];

/// The default `histogram.exponential.max_size`.
pub(crate) const DEFAULT_EXPONENTIAL_MAX_SIZE: u32 = 160;

/// The dimensions every metric has unless `exclude_dimensions` names them.
pub(crate) const SERVICE_NAME: &str = "service.name";
/// The span's name.
pub(crate) const SPAN_NAME: &str = "span.name";
/// The span's kind (`SPAN_KIND_SERVER`).
pub(crate) const SPAN_KIND: &str = "span.kind";
/// The span's status code (`STATUS_CODE_ERROR`).
pub(crate) const STATUS_CODE: &str = "status.code";

/// The `spanmetrics` connector's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpanMetricsConfig {
    /// The duration histogram.
    pub histogram: HistogramConfig,
    /// Dimensions added to every metric, looked up in the span's attributes, then the
    /// resource's.
    pub dimensions: Vec<Dimension>,
    /// Dimensions added to the `calls` metric only.
    pub calls_dimensions: Vec<Dimension>,
    /// Default dimensions to leave out (`service.name`, `span.name`, `span.kind`,
    /// `status.code`).
    pub exclude_dimensions: Vec<String>,
    /// Contrib's deprecated dimensions cache size. Here it bounds the series of one metric
    /// of one resource when `aggregation_cardinality_limit` is 0 (contrib's "no limit"),
    /// so that memory stays bounded; over it, spans go to the overflow series.
    pub dimensions_cache_size: usize,
    /// The series of one metric of one resource; over it, new series' spans are counted in
    /// one overflow series (`otel.metric.overflow: true`). 0: `dimensions_cache_size` applies.
    pub aggregation_cardinality_limit: usize,
    /// The resources (services) kept; the least recently used is dropped beyond it.
    pub resource_metrics_cache_size: usize,
    /// The resource attributes that identify a resource (default: all of them).
    pub resource_metrics_key_attributes: Vec<String>,
    /// `AGGREGATION_TEMPORALITY_CUMULATIVE` (default) or `AGGREGATION_TEMPORALITY_DELTA`.
    pub aggregation_temporality: Temporality,
    /// How often the metrics are emitted.
    #[serde(with = "duration")]
    pub metrics_flush_interval: Duration,
    /// A series not updated for this long is dropped; 0 (default) keeps series forever.
    #[serde(with = "duration")]
    pub metrics_expiration: Duration,
    /// Delta only: how many series' last flush times are remembered (the next point's start).
    pub metric_timestamp_cache_size: usize,
    /// The metric name prefix; empty for bare `calls`, `duration`, `events`.
    pub namespace: String,
    /// Exemplars (trace and span ids) on the data points.
    pub exemplars: ExemplarsConfig,
    /// The `events` metric.
    pub events: EventsConfig,
    /// Scope names whose spans get `span.instrumentation.scope.name` and `.version`
    /// dimensions.
    pub include_instrumentation_scope: Vec<String>,
}

impl Default for SpanMetricsConfig {
    fn default() -> Self {
        SpanMetricsConfig {
            histogram: HistogramConfig::default(),
            dimensions: Vec::new(),
            calls_dimensions: Vec::new(),
            exclude_dimensions: Vec::new(),
            dimensions_cache_size: 1000,
            aggregation_cardinality_limit: 0,
            resource_metrics_cache_size: 1000,
            resource_metrics_key_attributes: Vec::new(),
            aggregation_temporality: Temporality::Cumulative,
            metrics_flush_interval: Duration::from_secs(60),
            metrics_expiration: Duration::ZERO,
            metric_timestamp_cache_size: 1000,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            exemplars: ExemplarsConfig::default(),
            events: EventsConfig::default(),
            include_instrumentation_scope: Vec::new(),
        }
    }
}

/// A dimension: an attribute name and the value used when the span lacks it (without one,
/// the dimension is left out of that span's series).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// The attribute looked up.
    pub name: String,
    /// Used when the attribute is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `histogram`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistogramConfig {
    /// No duration metric at all.
    pub disable: bool,
    /// The unit of the recorded durations.
    pub unit: Unit,
    /// Explicit buckets (the default kind).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit: Option<ExplicitConfig>,
    /// A base-2 exponential histogram instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponential: Option<ExponentialConfig>,
    /// Dimensions added to the `duration` metric only.
    pub dimensions: Vec<Dimension>,
}

/// `histogram.explicit`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplicitConfig {
    /// Bucket upper bounds as durations (`2ms`, `1s`); empty: contrib's default list.
    #[serde(with = "duration::list")]
    pub buckets: Vec<Duration>,
}

/// `histogram.exponential`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExponentialConfig {
    /// The most buckets kept (positive range); 0 reads as the default, 160.
    pub max_size: u32,
}

impl Default for ExponentialConfig {
    fn default() -> Self {
        ExponentialConfig {
            max_size: DEFAULT_EXPONENTIAL_MAX_SIZE,
        }
    }
}

/// The unit durations are recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum Unit {
    /// Milliseconds (`ms`, the default).
    #[default]
    #[serde(rename = "ms")]
    Milliseconds,
    /// Seconds (`s`).
    #[serde(rename = "s")]
    Seconds,
}

impl Unit {
    /// Nanoseconds per unit.
    pub fn nanos(self) -> f64 {
        match self {
            Unit::Milliseconds => 1e6,
            Unit::Seconds => 1e9,
        }
    }

    /// The metric unit (`ms`, `s`).
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
        }
    }
}

/// The aggregation temporality of the emitted sums and histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum Temporality {
    /// Totals since the series started (the default).
    #[default]
    #[serde(rename = "AGGREGATION_TEMPORALITY_CUMULATIVE")]
    Cumulative,
    /// What happened since the previous flush.
    #[serde(rename = "AGGREGATION_TEMPORALITY_DELTA")]
    Delta,
}

/// `exemplars`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExemplarsConfig {
    /// Adds the spans' trace and span ids as exemplars.
    pub enabled: bool,
    /// Exemplars kept per data point between two flushes (contrib's default, 5).
    pub max_per_data_point: usize,
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig {
            enabled: false,
            max_per_data_point: 5,
        }
    }
}

/// `events`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Emits the `events` counter (one per span event).
    pub enabled: bool,
    /// Event attributes added as dimensions (required when enabled).
    pub dimensions: Vec<Dimension>,
}

impl SpanMetricsConfig {
    /// The bound on the series of one metric of one resource.
    pub fn series_limit(&self) -> usize {
        if self.aggregation_cardinality_limit > 0 {
            self.aggregation_cardinality_limit
        } else {
            self.dimensions_cache_size
        }
    }

    /// `{namespace}.{name}`, or `name` with an empty namespace.
    pub fn metric_name(&self, name: &str) -> String {
        if self.namespace.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.namespace)
        }
    }

    /// The explicit bounds in the configured unit.
    pub fn explicit_bounds(&self) -> Vec<f64> {
        let unit = self.histogram.unit;
        match &self.histogram.explicit {
            Some(explicit) if !explicit.buckets.is_empty() => explicit
                .buckets
                .iter()
                .map(|d| d.as_nanos() as f64 / unit.nanos())
                .collect(),
            _ => DEFAULT_BUCKETS_MS
                .iter()
                .map(|ms| ms * 1e6 / unit.nanos())
                .collect(),
        }
    }
}

/// Duplicate names, and names of the default dimensions, are refused.
fn check_dimensions(path: &str, dimensions: &[Dimension]) -> Result<(), ConfigError> {
    let mut seen: Vec<&str> = vec![SERVICE_NAME, SPAN_NAME, SPAN_KIND, STATUS_CODE];
    for (i, dimension) in dimensions.iter().enumerate() {
        if dimension.name.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{path}[{i}]::name"),
                "must not be empty",
            ));
        }
        if seen.contains(&dimension.name.as_str()) {
            return Err(ConfigError::bad_value(
                format!("{path}[{i}]::name"),
                format!("duplicate dimension name {}", dimension.name),
            ));
        }
        seen.push(&dimension.name);
    }
    Ok(())
}

fn at_least_one(path: &str, value: usize) -> Result<(), ConfigError> {
    if value == 0 {
        Err(ConfigError::bad_value(path, "must be a positive number"))
    } else {
        Ok(())
    }
}

impl ComponentConfig for SpanMetricsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        check_dimensions("dimensions", &self.dimensions)?;
        check_dimensions("calls_dimensions", &self.calls_dimensions)?;
        check_dimensions("histogram::dimensions", &self.histogram.dimensions)?;
        if self.events.enabled {
            if self.events.dimensions.is_empty() {
                return Err(ConfigError::bad_value(
                    "events::dimensions",
                    "no dimensions configured for events",
                ));
            }
            check_dimensions("events::dimensions", &self.events.dimensions)?;
        }
        if self.histogram.explicit.is_some() && self.histogram.exponential.is_some() {
            return Err(ConfigError::bad_value(
                "histogram",
                "use either `explicit` or `exponential` buckets histogram",
            ));
        }
        if let Some(explicit) = &self.histogram.explicit
            && explicit.buckets.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(ConfigError::bad_value(
                "histogram::explicit::buckets",
                "must be in increasing order, without repeats",
            ));
        }
        positive("metrics_flush_interval", self.metrics_flush_interval)?;
        at_least_one("dimensions_cache_size", self.dimensions_cache_size)?;
        at_least_one(
            "resource_metrics_cache_size",
            self.resource_metrics_cache_size,
        )?;
        if self.aggregation_temporality == Temporality::Delta {
            at_least_one(
                "metric_timestamp_cache_size",
                self.metric_timestamp_cache_size,
            )?;
        }
        Ok(())
    }
}
