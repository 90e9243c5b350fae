//! The collector's connectors, one directory and one cargo feature per component, named
//! after its otelcol type.
//!
//! A connector is an exporter of some pipelines and a receiver of others, possibly of another
//! signal (`otlp_pipeline::Connector`): the graph builds one instance per id and pair of
//! signals it is used between, and hands it the pipelines it feeds. Errors and backpressure
//! from those pipelines come back through it to the sender like through any consumer.
//!
//! | feature / type | what | signals (from → to) | directory |
//! |---|---|---|---|
//! | `forward` | passes data on unchanged, to join pipelines (fan-in, fan-out, a second set of processors) | traces → traces, metrics → metrics, logs → logs, profiles → profiles | [`forward`] |
//! | `count` | counts spans, span events, metrics, data points, log records or profiles (OTTL conditions, attributes) and emits the counts as metrics | traces → metrics, metrics → metrics, logs → metrics, profiles → metrics | [`count`] |
//! | `routing` | sends each resource, span, metric, data point, log record or request to the pipelines of the first route whose OTTL condition it meets | traces → traces, metrics → metrics, logs → logs | [`routing`] |
//! | `spanmetrics` | R.E.D. metrics from spans: calls, a duration histogram (explicit or exponential) and events, per resource, cumulative or delta | traces → metrics | [`spanmetrics`] |
//! | `servicegraph` | request counts and client/server latency histograms between services, from paired client/server (producer/consumer, database) spans | traces → metrics | [`servicegraph`] |
//!
//! All are on by default; a custom collector picks with `default-features = false` and
//! `features = [...]`. [`register`] adds the enabled ones to a [`Registry`].
//!
//! # Dependencies
//!
//! `otlp-pipeline` (the framework), `otlp-ottl` (conditions, for routing and counting) and
//! the lower crates. Never another component crate.
//!
//! # Example
//!
//! ```
//! let mut registry = otlp_pipeline::Registry::default();
//! otlp_connectors::register(&mut registry)?;
//! assert!(registry.connector("forward").is_some());
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

#[cfg(feature = "count")]
pub mod count;
#[cfg(feature = "forward")]
pub mod forward;
#[cfg(feature = "routing")]
pub mod routing;
#[cfg(feature = "servicegraph")]
pub mod servicegraph;
#[cfg(feature = "spanmetrics")]
pub mod spanmetrics;

use otlp_pipeline::{Registry, RegistryError};

/// Registers every connector whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "forward")]
    registry.register_connector(forward::factory())?;
    #[cfg(feature = "routing")]
    registry.register_connector(routing::factory())?;
    #[cfg(feature = "count")]
    registry.register_connector(count::factory())?;
    #[cfg(feature = "spanmetrics")]
    registry.register_connector(spanmetrics::factory())?;
    #[cfg(feature = "servicegraph")]
    registry.register_connector(servicegraph::factory())?;
    let _ = &registry;
    Ok(())
}
