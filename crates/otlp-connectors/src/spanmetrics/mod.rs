//! `spanmetrics`: otelcol-contrib's span metrics connector (traces → metrics). It derives
//! R.E.D. metrics from the spans it receives and emits them every `metrics_flush_interval`:
//!
//! - `{namespace}.calls`: a monotonic sum, one point per series (errors are the series whose
//!   `status.code` is `STATUS_CODE_ERROR`);
//! - `{namespace}.duration`: a histogram of `end - start` (explicit buckets, or exponential),
//!   unit `ms` or `s`, with trace/span id exemplars when `exemplars.enabled`;
//! - `{namespace}.events` (with `events.enabled`): a monotonic sum of span events.
//!
//! The namespace defaults to `traces.span.metrics`. A series is a set of dimensions:
//! `service.name`, `span.name`, `span.kind` (`SPAN_KIND_SERVER`), `status.code`
//! (`STATUS_CODE_UNSET`), minus `exclude_dimensions`, plus the configured `dimensions` (span
//! attribute, else resource attribute, else the default, else left out). Metrics are grouped
//! per resource, as in contrib: each resource (keyed by its attributes, or those of
//! `resource_metrics_key_attributes`) gets its own `ResourceMetrics` with scope
//! `spanmetricsconnector`. Temporality is cumulative by default, or delta.
//!
//! Memory is bounded (see [`store`]): resources, series per metric (an overflow series beyond
//! the limit), exemplars per point.

mod component;
mod config;
mod histogram;
mod key;
mod store;

#[cfg(test)]
mod tests;

pub use component::SpanMetricsConnector;
pub use config::{
    DEFAULT_BUCKETS_MS, DEFAULT_NAMESPACE, Dimension, EventsConfig, ExemplarsConfig,
    ExplicitConfig, ExponentialConfig, HistogramConfig, SpanMetricsConfig, Temporality, Unit,
};
pub use store::{OVERFLOW_KEY, SCOPE_NAME};

use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::{ConfigError, Connector, ConnectorContext, ConnectorFactory, Signal};

/// The pair it connects: traces to metrics.
pub const PAIRS: &[(Signal, Signal)] = &[(Signal::Traces, Signal::Metrics)];

fn create(
    ctx: ConnectorContext,
    config: SpanMetricsConfig,
) -> Result<Box<dyn Connector>, ConfigError> {
    Ok(Box::new(SpanMetricsConnector::new(ctx, &config)))
}

/// The `spanmetrics` factory.
pub fn factory() -> impl ConnectorFactory {
    FnFactory::connector("spanmetrics", PAIRS, create).with_aliases(&["span_metrics"])
}
