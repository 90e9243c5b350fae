//! The collector's processors, one directory and one cargo feature per component, named
//! after its otelcol type.
//!
//! | feature / type | what | signals | directory |
//! |---|---|---|---|
//! | `batch` | batches by count and time; received bytes are concatenated, never re-encoded | all | [`batch`] |
//! | `memory_limiter` | refuses data above a memory limit; drives the receivers' admission through [`otlp_pipeline::MemoryPressure`] | all | [`memory_limiter`] |
//! | `attributes` | insert, update, upsert, delete, hash, extract, convert attributes of spans, points, records | traces, metrics, logs | [`attributes`] |
//! | `resource` | the same actions on resource attributes | traces, metrics, logs | [`resource`] |
//! | `filter` | drops items by OTTL conditions (`otlp-ottl`) or match properties | traces, metrics, logs | [`filter`] |
//! | `probabilistic_sampler` | samples by trace id hash (or an attribute), as otelcol does | traces, logs | [`probabilistic_sampler`] |
//! | `transform` | edits items, their resources and scopes with OTTL statements (`otlp-ottl`): `set`, `replace_pattern`, `keep_keys`, ... | traces, metrics, logs | [`transform`] |
//! | `tail_sampling` | buffers spans by trace and samples whole traces by policies, as otelcol-contrib does | traces | [`tail_sampling`] |
//! | `resourcedetection` (alias `resource_detection`) | adds host attributes detected at start (`env`, `system`, `docker`) to every resource | all | [`resourcedetection`] |
//! | `metricstransform` (alias `metrics_transform`) | renames, copies (`insert`), combines and groups metrics; adds, renames, deletes labels and values, toggles int/double, scales, aggregates points (`sum`, `mean`, `min`, `max`, `count`, `median`), as otelcol-contrib does | metrics | [`metricstransform`] |
//!
//! All are on by default; a custom collector takes
//! `otlp-processors = { default-features = false, features = ["batch"] }` and compiles only
//! those. [`register`] adds the enabled ones to a [`Registry`].
//!
//! Each data processor (`attributes`, `resource`, `filter`, `probabilistic_sampler`) is a pure,
//! synchronous transformation over the OTLP request types in its directory (`config.rs`, the
//! logic in `mod.rs`, `tests.rs`), usable without a pipeline, plus `component.rs` that plugs
//! it into the pipeline through the shared adapter (`data_processor`): it edits the request
//! in place (copy-on-write, `mutates_data`), drops what was filtered, and counts drops.
//! `README.md` beside this file lists the supported keys per processor.
//!
//! # Dependencies
//!
//! `otlp-pipeline` (the framework), `otlp-ottl` (conditions and value rendering), `otlp-batch`
//! (`batch`), and the lower crates. Never another component crate: what processors share
//! with receivers (memory pressure) lives in `otlp-pipeline`.
//!
//! # Example
//!
//! ```
//! let mut registry = otlp_pipeline::Registry::default();
//! otlp_processors::register(&mut registry)?;
//! assert!(registry.processor("batch").is_some());
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

#[cfg(feature = "attributes")]
pub mod attributes;
#[cfg(feature = "batch")]
pub mod batch;
pub mod common;
#[cfg(any(
    feature = "attributes",
    feature = "resource",
    feature = "filter",
    feature = "probabilistic_sampler",
    feature = "transform"
))]
mod data_processor;
#[cfg(feature = "filter")]
pub mod filter;
#[cfg(feature = "memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "metricstransform")]
pub mod metricstransform;
#[cfg(feature = "probabilistic_sampler")]
pub mod probabilistic_sampler;
#[cfg(feature = "resource")]
pub mod resource;
#[cfg(feature = "resourcedetection")]
pub mod resourcedetection;
#[cfg(feature = "tail_sampling")]
pub mod tail_sampling;
#[cfg(feature = "transform")]
pub mod transform;

pub use common::{ConfigError, Signal};

use otlp_pipeline::{Registry, RegistryError};

/// Registers every processor whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "batch")]
    registry.register_processor(batch::factory())?;
    #[cfg(feature = "memory_limiter")]
    registry.register_processor(memory_limiter::factory())?;
    #[cfg(feature = "attributes")]
    registry.register_processor(attributes::attributes_factory())?;
    #[cfg(feature = "resource")]
    registry.register_processor(resource::resource_factory())?;
    #[cfg(feature = "filter")]
    registry.register_processor(filter::filter_factory())?;
    #[cfg(feature = "probabilistic_sampler")]
    registry.register_processor(probabilistic_sampler::probabilistic_sampler_factory())?;
    #[cfg(feature = "tail_sampling")]
    registry.register_processor(tail_sampling::tail_sampling_factory())?;
    #[cfg(feature = "transform")]
    registry.register_processor(transform::transform_factory())?;
    #[cfg(feature = "metricstransform")]
    registry.register_processor(metricstransform::metricstransform_factory())?;
    #[cfg(feature = "resourcedetection")]
    registry.register_processor(resourcedetection::resourcedetection_factory())?;
    let _ = &registry;
    Ok(())
}
