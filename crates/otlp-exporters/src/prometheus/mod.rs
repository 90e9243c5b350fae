//! The `prometheus` exporter: keeps the metrics it receives and serves them to Prometheus
//! scrapes on `GET /metrics` (otelcol-contrib v0.165.1's `prometheusexporter`).
//!
//! Keys and defaults (otelcol's): `endpoint` (required, `host:port`), `namespace`,
//! `const_labels`, `send_timestamps` (false), `metric_expiration` (5m),
//! `resource_to_telemetry_conversion: {enabled, exclude_service_attributes}`,
//! `enable_open_metrics` (false), `without_scope_info` (false), `add_metric_suffixes` (true;
//! ignored, as in Go, where the beta gate `exporter.prometheusexporter.DisableAddMetricSuffixes`
//! is on by default: use `translation_strategy`), `translation_strategy`
//! (`UnderscoreEscapingWithSuffixes` or `UnderscoreEscapingWithoutSuffixes`; the two UTF-8
//! strategies are refused by name), `sending_queue` (accepted; a pull exporter queues
//! nothing, Go's default is off too). `tls` and `resource_constant_labels` are refused by
//! name: not implemented.
//!
//! What it does, as the Go exporter does ([`accumulator`], [`render`]):
//!
//! - Accumulates: a series is one metric name and type, scope (name, version, schema URL,
//!   attributes), point attributes and the resource's `job` / `instance` (from
//!   `service.namespace`/`service.name` and `service.instance.id`). Cumulative points and
//!   gauges replace the held point unless older; monotonic delta sums, delta histograms and
//!   delta exponential histograms are added onto the held point when their start is its
//!   timestamp (otherwise they start it again: a reset); non-monotonic delta sums and
//!   unspecified temporalities are refused; a point flagged "no recorded value" removes its
//!   series. A series not updated for `metric_expiration` vanishes.
//! - Serves text format 0.0.4, or OpenMetrics 1.0 (with exemplars on counters and histogram
//!   buckets) when `enable_open_metrics` is set and the scraper's `Accept` asks for it;
//!   `target_info` per `job` / `instance` (the resource attributes less the three service
//!   ones); names and labels through the Go collector's `otlptranslator` rules
//!   ([`otlp_model::prometheus::translator`]). Exponential histograms are written as
//!   histograms with only the `+Inf` bucket, `_sum` and `_count` (what client_golang writes
//!   for a native histogram in the text formats; the protobuf exposition is not offered).
//! - Bounded: at most [`MAX_SERIES`] series; a new series beyond it is dropped and counted
//!   (`otelcol_exporter_prometheus_series_dropped_total`, ours) after expired ones are purged.
//!
//! Self-metrics: `otelcol_exporter_sent_metric_points_total` (every point received, as Go's
//! exporterhelper counts a `ConsumeMetrics` that returned no error),
//! `otelcol_exporter_send_failed_metric_points_total` (never: accumulating cannot fail), and
//! ours: `otelcol_exporter_prometheus_series` (held now), `…_series_dropped_total`,
//! `…_points_refused_total` (delta non-monotonic sums, bad temporality, stale or misaligned
//! points, conversions that failed).

pub mod accumulator;
pub mod render;
mod server;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Counter, Gauge, Metrics, check_endpoint};

pub use accumulator::{Accumulator, MAX_SERIES};
pub use render::{Format, RenderOptions};

/// `resource_to_telemetry_conversion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceToTelemetryConfig {
    /// Copy every resource attribute onto every point (overwriting point attributes).
    pub enabled: bool,
    /// Leave `service.name`, `service.namespace` and `service.instance.id` out.
    pub exclude_service_attributes: bool,
}

/// `exporters: prometheus:`.
///
/// ```yaml
/// prometheus:
///   endpoint: 0.0.0.0:8889
///   namespace: app
///   const_labels: {region: eu}
///   metric_expiration: 10m
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// `host:port` to serve `/metrics` on (required).
    pub endpoint: String,
    /// Prefix of every metric name (`namespace_name`).
    pub namespace: String,
    /// Labels added to every series (not to `target_info`).
    pub const_labels: BTreeMap<String, String>,
    /// Write each sample's OTLP timestamp.
    pub send_timestamps: bool,
    /// A series not updated for this long is no longer served.
    #[serde(with = "duration")]
    pub metric_expiration: Duration,
    /// Resource attributes as labels.
    pub resource_to_telemetry_conversion: ResourceToTelemetryConfig,
    /// Offer OpenMetrics 1.0 (with exemplars) to scrapers that accept it.
    pub enable_open_metrics: bool,
    /// No `otel_scope_*` labels.
    pub without_scope_info: bool,
    /// Deprecated in Go and ignored there by default (see the module docs).
    pub add_metric_suffixes: bool,
    /// `UnderscoreEscapingWithSuffixes` (the default behaviour) or
    /// `UnderscoreEscapingWithoutSuffixes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation_strategy: Option<String>,
    /// Accepted and ignored (a pull exporter has nothing to queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_queue: Option<Value>,
    /// Refused: not implemented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// Refused: not implemented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_constant_labels: Option<Value>,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            endpoint: String::new(),
            namespace: String::new(),
            const_labels: BTreeMap::new(),
            send_timestamps: false,
            metric_expiration: Duration::from_secs(300),
            resource_to_telemetry_conversion: ResourceToTelemetryConfig::default(),
            enable_open_metrics: false,
            without_scope_info: false,
            add_metric_suffixes: true,
            translation_strategy: None,
            sending_queue: None,
            tls: None,
            resource_constant_labels: None,
        }
    }
}

impl PrometheusConfig {
    /// Whether names get unit and type suffixes.
    fn with_suffixes(&self) -> Result<bool, ConfigError> {
        match self.translation_strategy.as_deref() {
            None | Some("UnderscoreEscapingWithSuffixes") => Ok(true),
            Some("UnderscoreEscapingWithoutSuffixes") => Ok(false),
            Some(s @ ("NoUTF8EscapingWithSuffixes" | "NoTranslation")) => Err(
                ConfigError::bad_value("translation_strategy", format!("{s} is not supported yet")),
            ),
            Some(other) => Err(ConfigError::bad_value(
                "translation_strategy",
                format!("invalid translation_strategy: {other}"),
            )),
        }
    }

    /// The rendering options this configuration asks for.
    pub fn render_options(&self) -> Result<RenderOptions, ConfigError> {
        Ok(RenderOptions {
            namespace: self.namespace.clone(),
            with_suffixes: self.with_suffixes()?,
            const_labels: self
                .const_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            send_timestamps: self.send_timestamps,
            without_scope_info: self.without_scope_info,
        })
    }
}

impl ComponentConfig for PrometheusConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoint.trim().is_empty() {
            return Err(ConfigError::bad_value(
                "endpoint",
                "expecting a non-blank address to run the Prometheus metrics handler",
            ));
        }
        check_endpoint(self.endpoint.trim()).map_err(|e| ConfigError::bad_value("endpoint", e))?;
        if self.tls.is_some() {
            return Err(ConfigError::bad_value(
                "tls",
                "not supported by this exporter yet",
            ));
        }
        if self.resource_constant_labels.is_some() {
            return Err(ConfigError::bad_value(
                "resource_constant_labels",
                "not supported yet; use resource_to_telemetry_conversion",
            ));
        }
        for name in self.const_labels.keys() {
            if !otlp_model::prometheus::translator::is_valid_label_name(name)
                || name.starts_with("__")
            {
                return Err(ConfigError::bad_value(
                    format!("const_labels::{name}"),
                    "not a valid Prometheus label name",
                ));
            }
        }
        self.with_suffixes()?;
        Ok(())
    }
}

/// The exporter's counters.
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) sent: Counter,
    /// Registered so that the series exists (always 0, as nothing fails to accumulate).
    #[allow(dead_code)]
    pub(crate) failed: Counter,
    pub(crate) series: Gauge,
    pub(crate) series_dropped: Counter,
    pub(crate) points_refused: Counter,
}

impl Stats {
    fn new(metrics: &Metrics, id: &str) -> Stats {
        let labels = [("exporter", id)];
        Stats {
            sent: metrics.counter(
                "otelcol_exporter_sent_metric_points_total",
                "Number of metric points successfully sent to destination. [alpha]",
                &labels,
            ),
            failed: metrics.counter(
                "otelcol_exporter_send_failed_metric_points_total",
                "Number of metric points in failed attempts to send to destination. [alpha]",
                &labels,
            ),
            series: metrics.gauge(
                "otelcol_exporter_prometheus_series",
                "Series the prometheus exporter holds for scrapes. [otlp-rs]",
                &labels,
            ),
            series_dropped: metrics.counter(
                "otelcol_exporter_prometheus_series_dropped_total",
                "New series dropped because the prometheus exporter holds its maximum. [otlp-rs]",
                &labels,
            ),
            points_refused: metrics.counter(
                "otelcol_exporter_prometheus_points_refused_total",
                "Points the prometheus exporter did not accumulate (delta non-monotonic sums, stale or misaligned points, bad data). [otlp-rs]",
                &labels,
            ),
        }
    }
}

/// What the HTTP handler and the consumer share.
pub(crate) struct Shared {
    pub(crate) accumulator: Mutex<Accumulator>,
    pub(crate) options: RenderOptions,
    pub(crate) open_metrics: bool,
    pub(crate) stats: Stats,
}

impl Shared {
    /// Renders a scrape in `format` now.
    pub(crate) fn render(&self, format: Format) -> String {
        let mut accumulator = self
            .accumulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        accumulator.expire(Instant::now());
        let (text, refused) =
            render::render(&mut accumulator, &self.options, format, Instant::now());
        self.stats.points_refused.add(refused as u64);
        self.stats.series.set(accumulator.len() as i64);
        text
    }
}

/// The `prometheus` exporter.
pub struct PrometheusExporter {
    endpoint: String,
    resource_to_telemetry: ResourceToTelemetryConfig,
    shared: Arc<Shared>,
    server: tokio::sync::Mutex<Option<server::Server>>,
}

impl std::fmt::Debug for PrometheusExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusExporter")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl PrometheusExporter {
    /// An exporter for `ctx` (binds nothing until [`Exporter::start`]).
    pub fn new(
        ctx: ExporterContext,
        config: PrometheusConfig,
    ) -> Result<PrometheusExporter, ConfigError> {
        config.validate()?;
        if !config.add_metric_suffixes && config.translation_strategy.is_none() {
            tracing::warn!(
                exporter = %ctx.id,
                "add_metric_suffixes is ignored, as in otelcol (feature gate \
                 exporter.prometheusexporter.DisableAddMetricSuffixes); use translation_strategy"
            );
        }
        let metrics = Metrics::from_resources(&ctx.resources);
        let shared = Shared {
            accumulator: Mutex::new(Accumulator::new(config.metric_expiration, MAX_SERIES)),
            options: config.render_options()?,
            open_metrics: config.enable_open_metrics,
            stats: Stats::new(&metrics, ctx.id.as_str()),
        };
        Ok(PrometheusExporter {
            endpoint: config.endpoint.trim().to_owned(),
            resource_to_telemetry: config.resource_to_telemetry_conversion,
            shared: Arc::new(shared),
            server: tokio::sync::Mutex::new(None),
        })
    }

    /// The address the server is bound to, once started.
    pub async fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.lock().await.as_ref().map(|s| s.local_addr())
    }

    /// What a scrape in `format` would return now.
    pub fn render(&self, format: Format) -> String {
        self.shared.render(format)
    }
}

#[async_trait]
impl Consumer for PrometheusExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let Some(request) = data.metrics() else {
            return Ok(());
        };
        let points = data.item_count() as u64;
        let now = Instant::now();
        let outcome = {
            let mut accumulator = self
                .shared
                .accumulator
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut outcome = accumulator::Outcome::default();
            for resource_metrics in &request.resource_metrics {
                outcome +=
                    accumulator.accumulate(resource_metrics, &self.resource_to_telemetry, now);
            }
            self.shared.stats.series.set(accumulator.len() as i64);
            outcome
        };
        let stats = &self.shared.stats;
        stats.sent.add(points);
        stats.series_dropped.add(outcome.series_dropped);
        stats.points_refused.add(outcome.refused);
        if outcome.series_dropped > 0 {
            tracing::warn!(
                dropped = outcome.series_dropped,
                max = MAX_SERIES,
                "prometheus exporter: new series dropped, the exporter holds its maximum"
            );
        }
        Ok(())
    }
}

#[async_trait]
impl Exporter for PrometheusExporter {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let server = server::bind(&self.endpoint, Arc::clone(&self.shared)).await?;
        tracing::info!(endpoint = %server.local_addr(), "prometheus exporter serving /metrics");
        *self.server.lock().await = Some(server);
        Ok(())
    }

    async fn shutdown(&self, _deadline: tokio::time::Instant) -> Result<(), BoxError> {
        if let Some(mut server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        Ok(())
    }
}

/// The `prometheus` exporter factory (metrics only).
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "prometheus",
        SignalSet::from(Signal::Metrics),
        |ctx, config: PrometheusConfig| Ok(Box::new(PrometheusExporter::new(ctx, config)?)),
    )
}
