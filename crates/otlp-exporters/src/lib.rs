//! The collector's exporters, one directory and one cargo feature per component, named after
//! its otelcol type.
//!
//! | feature / type (aliases) | what | directory |
//! |---|---|---|
//! | `otlp` (`otlp_grpc`) | OTLP/gRPC with a sending queue (memory, or persistent through a [`StorageExtension`](otlp_pipeline::StorageExtension)), retry, compression, TLS | [`otlp`] |
//! | `otlphttp` (`otlp_http`) | OTLP/HTTP (protobuf or JSON) with the same queue | [`otlp`] |
//! | `debug` | prints what arrives in otelcol's `basic`, `normal` and `detailed` forms | [`debug`] |
//! | `file` | OTLP/JSON lines or length-prefixed protobuf to a file, with rotation | [`file`](mod@file) |
//! | `loadbalancing` (`load_balancing`) | routes each trace (service, metric, …) to one backend over the Go exporter's consistent-hashing ring; an `otlp` exporter per backend, static or DNS resolver | [`loadbalancing`] |
//! | `prometheus` | holds the metrics it receives (delta sums and histograms accumulated, series expired after `metric_expiration`) and serves them to scrapes on `GET /metrics`: text 0.0.4 or OpenMetrics 1.0, names and labels as otelcol-contrib's exporter writes them | [`prometheus`] |
//! | `prometheusremotewrite` (`prometheus_remote_write`) | remote write 1.0 (protobuf, snappy) to Prometheus, Mimir, Cortex, Thanos: otelcol-contrib's translation, `external_labels`, `target_info`, split under `max_batch_size_bytes`, the queue with retries | [`prometheusremotewrite`] |
//! | `zipkin` | traces as Zipkin v2 JSON or v2 protobuf to a Zipkin server (or any Zipkin API), translated as otelcol-contrib's exporter does, with compression, the queue and retries | [`zipkin`] |
//! | `kafka` | OTLP as Kafka messages (otelcol-contrib's keys; librdkafka), acknowledged once Kafka acknowledged, split to fit `max_message_bytes`, with the same queue | [`kafka`] |
//!
//! `otlp` and `otlphttp` share one directory (one implementation, two transports), each behind
//! its own feature. All are on by default; a custom collector picks with
//! `default-features = false` and `features = [...]`. [`register`] adds the enabled ones.
//!
//! # Dependencies
//!
//! `otlp-pipeline` (the framework), `otlp-transport` (the clients), `otlp-batch` (the sending
//! queues) and the lower crates. Never another component crate.
//!
//! # Example
//!
//! ```
//! let mut registry = otlp_pipeline::Registry::default();
//! otlp_exporters::register(&mut registry)?;
//! assert!(registry.exporter("otlp_http").is_some());
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

#[cfg(feature = "debug")]
pub mod debug;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "loadbalancing")]
pub mod loadbalancing;
#[cfg(any(feature = "otlp", feature = "otlphttp"))]
pub mod otlp;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "prometheusremotewrite")]
pub mod prometheusremotewrite;
#[cfg(any(feature = "otlp", feature = "otlphttp", feature = "kafka"))]
mod queue;
#[cfg(feature = "zipkin")]
pub mod zipkin;

use otlp_pipeline::{Registry, RegistryError};

/// Registers every exporter whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "otlp")]
    registry.register_exporter(otlp::grpc_factory())?;
    #[cfg(feature = "otlphttp")]
    registry.register_exporter(otlp::http_factory())?;
    #[cfg(feature = "debug")]
    registry.register_exporter(debug::factory())?;
    #[cfg(feature = "file")]
    registry.register_exporter(file::factory())?;
    #[cfg(feature = "loadbalancing")]
    registry.register_exporter(loadbalancing::factory())?;
    #[cfg(feature = "kafka")]
    registry.register_exporter(kafka::factory())?;
    #[cfg(feature = "prometheus")]
    registry.register_exporter(prometheus::factory())?;
    #[cfg(feature = "prometheusremotewrite")]
    registry.register_exporter(prometheusremotewrite::factory())?;
    #[cfg(feature = "zipkin")]
    registry.register_exporter(zipkin::factory())?;
    let _ = &registry;
    Ok(())
}
