//! The collector's extensions, one directory and one cargo feature per component, named
//! after its otelcol type.
//!
//! | feature / type | what | directory |
//! |---|---|---|
//! | `health_check` | otelcol's health endpoint: 200 when the pipelines are up ([`ServiceStatus`](otlp_pipeline::ServiceStatus)), 503 otherwise | [`health_check`] |
//! | `file_storage` | a directory for persistent sending queues, offered as a [`StorageExtension`](otlp_pipeline::StorageExtension) | [`file_storage`] |
//! | `bearertokenauth` | the token a receiver requires, offered as a [`ServerAuthenticator`](otlp_pipeline::ServerAuthenticator) | [`bearer_token_auth`] |
//! | `zpages` | otelcol's zPages: service, pipelines, extensions, feature gates and the collector's own recent spans ([`SelfSpans`](otlp_pipeline::telemetry::SelfSpans)) as HTML | [`zpages`] |
//! | `pprof` | CPU profiles of the collector in pprof format (`/debug/pprof/profile`), and one written at shutdown (`save_to_file`) | [`pprof`] |
//! | `healthcheckv2` | otelcol-contrib's healthcheckv2: per-pipeline JSON status and `grpc.health.v1` Check (`use_v2`), or the legacy `health_check` | [`healthcheckv2`] |
//!
//! All are on by default; a custom collector picks with `default-features = false` and
//! `features = [...]`. [`register`] adds the enabled ones to a [`Registry`].
//!
//! # Dependencies
//!
//! `otlp-pipeline` (the framework) and the lower crates. Never another component crate:
//! receivers and exporters use these extensions through the capability traits of
//! `otlp-pipeline`, never by their types.
//!
//! # Example
//!
//! ```
//! let mut registry = otlp_pipeline::Registry::default();
//! otlp_extensions::register(&mut registry)?;
//! assert!(registry.extension("health_check").is_some());
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

#[cfg(feature = "bearertokenauth")]
pub mod bearer_token_auth;
#[cfg(feature = "file_storage")]
pub mod file_storage;
#[cfg(feature = "health_check")]
pub mod health_check;
#[cfg(feature = "healthcheckv2")]
pub mod healthcheckv2;
#[cfg(feature = "pprof")]
pub mod pprof;
#[cfg(feature = "zpages")]
pub mod zpages;

use otlp_pipeline::{Registry, RegistryError};

/// Registers every extension whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "health_check")]
    registry.register_extension(health_check::factory())?;
    #[cfg(feature = "file_storage")]
    registry.register_extension(file_storage::factory())?;
    #[cfg(feature = "bearertokenauth")]
    registry.register_extension(bearer_token_auth::factory())?;
    #[cfg(feature = "zpages")]
    registry.register_extension(zpages::factory())?;
    #[cfg(feature = "pprof")]
    registry.register_extension(pprof::factory())?;
    #[cfg(feature = "healthcheckv2")]
    registry.register_extension(healthcheckv2::factory())?;
    let _ = &registry;
    Ok(())
}
