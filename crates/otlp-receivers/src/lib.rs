//! The collector's receivers, one directory and one cargo feature per component, named after
//! its otelcol type.
//!
//! | feature / type (aliases) | what | directory |
//! |---|---|---|
//! | `otlp` (`otlp_grpc`) | OTLP over gRPC and HTTP (protobuf, JSON), TLS/mTLS, bearer-token auth through a [`ServerAuthenticator`](otlp_pipeline::ServerAuthenticator) extension, admission before decoding through [`MemoryPressure`](otlp_pipeline::MemoryPressure) | [`otlp`] |
//! | `kafka` | OTLP from Kafka topics as a consumer group member (otelcol-contrib's keys; librdkafka): one worker per partition, offsets committed only after the pipeline accepted (at-least-once), retryable refusals retried with backoff, undecodable messages counted and skipped | [`kafka`] |
//! | `fluentforward` (`fluent_forward`) | logs over the Fluent Forward protocol from fluentd, fluent-bit and fluent-logger (Message, Forward, PackedForward, gzip CompressedPackedForward; EventTime), translated as otelcol-contrib's receiver does; `chunk` acks sent only after the pipeline accepted; UDP heartbeats; Unix sockets | [`fluentforward`] |
//! | `hostmetrics` (`host_metrics`) | host metrics of otelcol-contrib's ten Linux scrapers (cpu, disk, filesystem, load, memory, network, paging, processes, process, system) read from `/proc`, `/sys` and `statvfs`, with `root_path`, per-metric `enabled`/`attributes`/`aggregation_strategy` and the scrapers' filters; one failing scraper does not stop the others | [`hostmetrics`] |
//! | `filelog` (`file_log`) | log records from files (doublestar globs; rotation, truncation and deletion recognised by fingerprint; utf-8/utf-16/ascii/nop; multiline) through stanza's operators (json, regex, severity, time, container parsers, router, filter, move/copy/add/remove/retain/flatten, a subset of expr); offsets checkpointed in a `file_storage` extension only after the pipeline accepted (at-least-once) | [`filelog`] |
//! | `prometheus` | scrapes Prometheus endpoints of `static_configs` (otelcol-contrib v0.165.1's keys: `global`, `scrape_configs` with relabeling, `sample_limit`, `body_size_limit`; service discovery and `target_allocator` refused by name) over HTTP/1.1 with gzip; text 0.0.4 and OpenMetrics 1.0 translated as the Go receiver does (counters, gauges, histograms, summaries, `up` and the `scrape_*` metrics) | [`prometheus`] |
//! | `zipkin` | spans as Zipkin v1 JSON, v2 JSON and v2 protobuf over HTTP (`/api/v1/spans`, `/api/v2/spans`; gzip, deflate, zstd), translated into OTLP as otelcol-contrib's receiver does (resources by local service, scopes by `otel.library.name`, status, events, links; `parse_string_tags`); `202` once the pipeline accepted, `400`/`413`/`415` for bad input | [`zipkin`] |
//! | `jaeger` | spans from Jaeger clients and agents: `thrift_compact` / `thrift_binary` (the agent's `emitBatch` over UDP), `thrift_http` (`POST /api/traces`), `grpc` (`jaeger.api_v2.CollectorService/PostSpans`), translated into OTLP as otelcol-contrib's receiver does (process → resource, tags → typed attributes, references → parent and links, logs → events, status, kind) | [`jaeger`] |
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

#[cfg(feature = "filelog")]
pub mod filelog;
#[cfg(feature = "fluentforward")]
pub mod fluentforward;
#[cfg(feature = "hostmetrics")]
pub mod hostmetrics;
#[cfg(feature = "jaeger")]
pub mod jaeger;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(any(feature = "zipkin", feature = "jaeger"))]
mod span_intake;
#[cfg(feature = "zipkin")]
pub mod zipkin;

use otlp_pipeline::{Registry, RegistryError};

/// Registers every receiver whose feature is enabled.
pub fn register(registry: &mut Registry) -> Result<(), RegistryError> {
    #[cfg(feature = "otlp")]
    registry.register_receiver(otlp::factory())?;
    #[cfg(feature = "kafka")]
    registry.register_receiver(kafka::factory())?;
    #[cfg(feature = "fluentforward")]
    registry.register_receiver(fluentforward::factory())?;
    #[cfg(feature = "hostmetrics")]
    registry.register_receiver(hostmetrics::factory())?;
    #[cfg(feature = "filelog")]
    registry.register_receiver(filelog::factory())?;
    #[cfg(feature = "prometheus")]
    registry.register_receiver(prometheus::factory())?;
    #[cfg(feature = "zipkin")]
    registry.register_receiver(zipkin::factory())?;
    #[cfg(feature = "jaeger")]
    registry.register_receiver(jaeger::factory())?;
    let _ = &registry;
    Ok(())
}
