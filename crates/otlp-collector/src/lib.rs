//! `otlp-collector` as a library: the distribution's component set, so that its tests and
//! programs embedding the same collector build exactly what the binary runs.
//!
//! The distribution turns on every component feature of the kind crates and registers them
//! all ([`components`]). It is the top of the workspace: nothing depends on it. A collector
//! with fewer components, or its own, is built from `otlp-pipeline` and the kind crates with
//! the features it picks (`docs/custom-collector.md`, `examples/custom_collector.rs`).
//!
//! | kind | crate | types (aliases) |
//! |---|---|---|
//! | receiver | `otlp-receivers` | `otlp` (`otlp_grpc`) |
//! | processor | `otlp-processors` | `batch`, `memory_limiter`, `attributes`, `resource`, `filter`, `transform`, `probabilistic_sampler`, `tail_sampling`, `resourcedetection` (`resource_detection`) |
//! | exporter | `otlp-exporters` | `otlp` (`otlp_grpc`), `otlphttp` (`otlp_http`), `debug`, `file` |
//! | connector | `otlp-connectors` | `forward`, `routing`, `count`, `spanmetrics` (`span_metrics`), `servicegraph` (`service_graph`) |
//! | extension | `otlp-extensions` | `health_check`, `file_storage`, `bearertokenauth` |
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use otlp_pipeline::telemetry::{Metrics, MetricsServer};
//! use otlp_pipeline::{Config, ConfigSource, Pipelines, Resources};
//!
//! let registry = otlp_collector::components();
//! let config = Config::load(&[ConfigSource::parse("collector.yaml")])?;
//! let validated = otlp_pipeline::validate(&config, &registry)?;
//! let resources = Resources::collector();
//! let pipelines = Pipelines::build_with(&validated, resources.clone())?;
//! let metrics = resources.get::<Metrics>().expect("Resources::collector() holds a registry");
//! let _server = MetricsServer::from_config(validated.telemetry(), metrics).await?;
//! pipelines.start().await?;
//! # Ok(()) }
//! ```

use otlp_pipeline::{Registry, RegistryError};

/// Registers every component of the distribution in `registry`.
pub fn register_components(registry: &mut Registry) -> Result<(), RegistryError> {
    otlp_receivers::register(registry)?;
    otlp_processors::register(registry)?;
    otlp_exporters::register(registry)?;
    otlp_connectors::register(registry)?;
    otlp_extensions::register(registry)?;
    Ok(())
}

/// A registry holding every component of the distribution (see the [crate docs](crate)).
pub fn components() -> Registry {
    let mut registry = Registry::default();
    if let Err(error) = register_components(&mut registry) {
        // The names are fixed and distinct; a clash is a bug caught by the tests.
        tracing::error!(%error, "registering the distribution's components");
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_pipeline::ComponentKind;

    #[test]
    fn every_component_registers_once() {
        let mut registry = Registry::default();
        register_components(&mut registry).expect("no clash");
        assert_eq!(
            registry.types(ComponentKind::Receiver),
            [
                "filelog",
                "fluentforward",
                "hostmetrics",
                "jaeger",
                "kafka",
                "otlp",
                "prometheus",
                "zipkin"
            ]
        );
        assert_eq!(
            registry.types(ComponentKind::Processor),
            [
                "attributes",
                "batch",
                "filter",
                "memory_limiter",
                "metricstransform",
                "probabilistic_sampler",
                "resource",
                "resourcedetection",
                "tail_sampling",
                "transform"
            ]
        );
        assert_eq!(
            registry.types(ComponentKind::Exporter),
            [
                "debug",
                "file",
                "kafka",
                "loadbalancing",
                "otlp",
                "otlphttp",
                "prometheus",
                "prometheusremotewrite",
                "zipkin"
            ]
        );
        assert_eq!(
            registry.types(ComponentKind::Connector),
            ["count", "forward", "routing", "servicegraph", "spanmetrics"]
        );
        assert_eq!(
            registry.types(ComponentKind::Extension),
            [
                "bearertokenauth",
                "file_storage",
                "health_check",
                "healthcheckv2",
                "pprof",
                "zpages"
            ]
        );
        // The Go collector's new names (2026) find the same factories.
        assert!(registry.receiver("otlp_grpc").is_some());
        let exporter = |name: &str| registry.exporter(name).map(|f| f.type_name().to_owned());
        assert_eq!(exporter("otlp_grpc").as_deref(), Some("otlp"));
        assert_eq!(exporter("otlp_http").as_deref(), Some("otlphttp"));
        assert_eq!(exporter("load_balancing").as_deref(), Some("loadbalancing"));
        let processor = |name: &str| registry.processor(name).map(|f| f.type_name().to_owned());
        assert_eq!(
            processor("resource_detection").as_deref(),
            Some("resourcedetection")
        );
        let connector = |name: &str| registry.connector(name).map(|f| f.type_name().to_owned());
        assert_eq!(connector("span_metrics").as_deref(), Some("spanmetrics"));
        assert_eq!(connector("service_graph").as_deref(), Some("servicegraph"));
    }
}
