//! The collector's receivers, one directory and one cargo feature per component, named after
//! its otelcol type.
//!
//! | feature / type (aliases) | what | directory |
//! |---|---|---|
//! | `otlp` (`otlp_grpc`) | OTLP over gRPC and HTTP (protobuf, JSON), TLS/mTLS, bearer-token auth through a [`ServerAuthenticator`](otlp_pipeline::ServerAuthenticator) extension, admission before decoding through [`MemoryPressure`](otlp_pipeline::MemoryPressure) | [`otlp`] |
//! | `kafka` | OTLP from Kafka topics as a consumer group member (otelcol-contrib's keys; librdkafka): one worker per partition, offsets committed only after the pipeline accepted (at-least-once), retryable refusals retried with backoff, undecodable messages counted and skipped | [`kafka`] |
//!
//! All are on by default; a custom collector picks with `default-features = false` and
//! `features = [...]`. [`register`] adds the enabled ones to a [`Registry`].
//!
//! # Dependencies
//!
//! `otlp-pipeline` (the framework), `otlp-transport` (the servers) and the lower crates. Never
//! another component crate: receivers find extensions and the memory limiter only through
//! what `otlp-pipeline` defines.
//!
//! # Example
//!
//! ```
//! let mut registry = otlp_pipeline::Registry::default();
//! otlp_receivers::register(&mut registry)?;
//! assert!(registry.receiver("otlp_grpc").is_some());
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "otlp")]
pub mod otlp;

use otlp_pipeline::{Registry, RegistryError};

/// Registers every receiver whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "otlp")]
    registry.register_receiver(otlp::factory())?;
    #[cfg(feature = "kafka")]
    registry.register_receiver(kafka::factory())?;
    let _ = &registry;
    Ok(())
}
