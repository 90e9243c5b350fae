//! The built-in components, with the OpenTelemetry Collector's type names and YAML keys:
//! [`builtin()`] registers them all.
//!
//! | kind | type (aliases) | module |
//! |---|---|---|
//! | receiver | `otlp` (`otlp_grpc`) | [`otlp_receiver`] |
//! | processor | `batch` | [`batch_processor`] |
//! | processor | `memory_limiter` | [`memory_limiter`] |
//! | processor | `attributes`, `resource`, `filter`, `probabilistic_sampler` | [`data_processors`] |
//! | exporter | `otlp`, `otlphttp` (`otlp_http`) | [`otlp_exporter`] |
//! | exporter | `debug` | [`debug_exporter`] |
//! | exporter | `file` | [`file_exporter`] |
//! | extension | `health_check` | [`health_check`] |
//! | extension | `file_storage` | [`file_storage`] |
//! | extension | `bearertokenauth` | [`bearer_token_auth`] |
//!
//! Each module documents its keys (supported, accepted-and-ignored, refused) and its
//! acknowledgement guarantee; `docs/configuration.md` collects them.
//!
//! # Shared state
//!
//! Components share three objects through [`Resources`] (each falls back to a process-wide
//! instance when the resources hold none): the self-telemetry registry
//! ([`Metrics`]), the memory state the `memory_limiter` and the receivers' admission hook share
//! ([`MemoryPressure`]), and the pipelines' readiness for `health_check` ([`ServiceStatus`]).
//! [`resources()`] makes a fresh set, so that two collectors (or two tests) in one process do
//! not see each other:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use otlp_pipeline::telemetry::{Metrics, MetricsServer};
//! use otlp_pipeline::{Config, Pipelines, components};
//!
//! let registry = components::builtin();
//! let config = Config::load(&[otlp_pipeline::ConfigSource::parse("collector.yaml")])?;
//! let validated = otlp_pipeline::validate(&config, &registry)?;
//! let resources = components::resources();
//! let pipelines = Pipelines::build_with(&validated, resources.clone())?;
//! let metrics = resources.get::<Metrics>().expect("resources() holds a registry");
//! let _server = MetricsServer::from_config(validated.telemetry(), metrics).await?;
//! pipelines.start().await?;
//! # Ok(()) }
//! ```

pub mod batch_processor;
pub mod bearer_token_auth;
pub(crate) mod common;
pub mod data_processors;
pub mod debug_exporter;
pub mod file_exporter;
pub mod file_storage;
pub mod health_check;
pub mod memory_limiter;
pub mod otlp_exporter;
pub mod otlp_receiver;
mod status;
#[cfg(test)]
pub(crate) mod test_support;

pub use memory_limiter::MemoryPressure;
pub use status::ServiceStatus;

use crate::component::Resources;
use crate::registry::{Registry, RegistryError};
use crate::telemetry::Metrics;

/// Registers every built-in component in `registry`.
pub fn register_builtin(registry: &mut Registry) -> Result<(), RegistryError> {
    registry.register_receiver(otlp_receiver::factory())?;

    registry.register_processor(batch_processor::factory())?;
    registry.register_processor(memory_limiter::factory())?;
    registry.register_processor(data_processors::attributes_factory())?;
    registry.register_processor(data_processors::resource_factory())?;
    registry.register_processor(data_processors::filter_factory())?;
    registry.register_processor(data_processors::probabilistic_sampler_factory())?;

    registry.register_exporter(otlp_exporter::grpc_factory())?;
    registry.register_exporter(otlp_exporter::http_factory())?;
    registry.register_exporter(debug_exporter::factory())?;
    registry.register_exporter(file_exporter::factory())?;

    registry.register_extension(health_check::factory())?;
    registry.register_extension(file_storage::factory())?;
    registry.register_extension(bearer_token_auth::factory())?;
    Ok(())
}

/// A registry holding every built-in component (see the [module documentation](self)).
pub fn builtin() -> Registry {
    let mut registry = Registry::default();
    if let Err(error) = register_builtin(&mut registry) {
        // The names are fixed and distinct; a clash is a bug caught by the tests.
        tracing::error!(%error, "registering the built-in components");
    }
    registry
}

/// Fresh shared state for one collector: a [`Metrics`] registry, a [`MemoryPressure`] and a
/// [`ServiceStatus`]. Pass it to [`Pipelines::build_with`](crate::Pipelines::build_with).
pub fn resources() -> Resources {
    Resources::new()
        .with(Metrics::new())
        .with(MemoryPressure::new())
        .with(ServiceStatus::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_registers() {
        let mut registry = Registry::default();
        register_builtin(&mut registry).expect("no clash");
    }
}
