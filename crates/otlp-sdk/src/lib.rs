//! The OpenTelemetry SDK for applications: create spans and log records inside a service,
//! correlate them through the current context, batch them and export them over OTLP — without
//! requiring an async runtime, and without ever hanging or dropping data silently.
//!
//! # The pieces
//!
//! - [`trace`] (feature `trace`): [`TracerProvider`](trace::TracerProvider) →
//!   [`Tracer`](trace::Tracer) → [`SpanBuilder`](trace::SpanBuilder) →
//!   [`Span`](trace::Span); samplers (`always_on`, `always_off`, `traceidratio` — consistent
//!   across services through the W3C `random` flag and the `ot=th:` threshold — and
//!   `parentbased_*`); span limits; simple and batch span processors.
//! - [`logs`] (feature `logs`): [`LoggerProvider`](logs::LoggerProvider) →
//!   [`Logger`](logs::Logger) → [`LogRecord`](logs::LogRecord), which takes its trace and span
//!   id from the current context; simple and batch log record processors.
//! - [`metrics`] (feature `metrics`): [`MeterProvider`](metrics::MeterProvider) →
//!   [`Meter`](metrics::Meter) → counters, up-down counters, histograms, gauges, their
//!   observable forms and bound instruments; sum, last-value, explicit-bucket and base-2
//!   exponential aggregation; attribute sets equal in any order; a cardinality limit with the
//!   `otel.metric.overflow` series; cumulative, delta and low-memory temporality; views;
//!   exemplars with the trace and span of the measurement; periodic, manual and Prometheus
//!   pull readers; opt-in process metrics.
//! - [`context`]: the current context (one type, [`otlp_propagation::Context`], in process and
//!   on the wire): [`attach`] guards for a thread, [`FutureExt::with_context`] across `.await`
//!   on any executor.
//! - [`export`]: the exporters — OTLP over gRPC, HTTP/protobuf and HTTP/JSON
//!   ([`export::otlp_exporter`], feature `otlp`), [`export::InMemoryExporter`] for tests,
//!   [`export::StdoutExporter`] — and the batch settings (`OTEL_BSP_*`, `OTEL_BLRP_*`).
//! - [`resource`]: [`Resource`] and composable detectors (`OTEL_RESOURCE_ATTRIBUTES`,
//!   `OTEL_SERVICE_NAME`, `telemetry.sdk.*`, process, host, OS, container id from cgroups,
//!   Kubernetes downward-API variables, `service.instance.id`); your own detector is a
//!   [`resource::ResourceDetector`].
//! - [`init`]: everything from the environment in one call; [`global`]: the providers and
//!   propagators libraries reach without being handed them.
//!
//! # Guarantees
//!
//! - **No runtime required.** Processors export from a thread of their own (with its own
//!   current-thread tokio runtime for the network), so the SDK works from `main`, from a
//!   current-thread runtime, from a multi-thread runtime, and from inside `block_on`.
//! - **Deadlines everywhere.** `force_flush(deadline)` and `shutdown(deadline)` return by
//!   their deadline from any thread or runtime, even with the destination hanging, and their
//!   error says how many items were not exported ([`SdkError::not_exported`]).
//! - **Bounded, and never silent.** A full buffer drops the *new* item, as the specification
//!   says; the drop is counted ([`export::ProcessorStats`]), logged once, and reported by the
//!   next flush or shutdown. Backpressure instead of dropping is opt-in
//!   ([`export::FullQueue::Block`]).
//! - **Cheap on the application's thread.** A non-recording span allocates nothing; a
//!   recording span holds its data inline and converts to protobuf on the export thread.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use otlp_sdk::export::InMemoryExporter;
//! use otlp_sdk::logs::{LogRecord, LoggerProvider};
//! use otlp_sdk::trace::{SpanKind, TracerProvider};
//! use otlp_sdk::{KeyValue, Resource};
//!
//! let resource = Resource::builder().with_service_name("checkout").build();
//! let spans = InMemoryExporter::new(); // otlp_sdk::export::otlp_exporter(..) in a service
//! let logs = InMemoryExporter::new();
//! let tracer_provider = TracerProvider::builder()
//!     .with_resource(resource.clone())
//!     .with_batch_exporter(spans.clone())
//!     .build();
//! let logger_provider = LoggerProvider::builder()
//!     .with_resource(resource)
//!     .with_batch_exporter(logs.clone())
//!     .build();
//! let (tracer, logger) = (tracer_provider.tracer("checkout"), logger_provider.logger("checkout"));
//!
//! let mut request = tracer.span("GET /cart").kind(SpanKind::Server).start();
//! request.set_attribute(KeyValue::new("http.route", "/cart"));
//! {
//!     let _current = request.attach(); // children and log records join this span
//!     let _db = tracer.start("SELECT carts");
//!     logger.emit(LogRecord::new().with_body("cart loaded"));
//! }
//! request.end();
//!
//! let deadline = Instant::now() + Duration::from_secs(5);
//! tracer_provider.force_flush(deadline)?;
//! logger_provider.force_flush(deadline)?;
//! let exported = spans.spans();
//! assert_eq!(exported.len(), 2);
//! assert_eq!(exported[0].parent_span_id, exported[1].span_id);
//! assert_eq!(logs.log_records()[0].span_id, exported[1].span_id);
//! # Ok::<(), otlp_sdk::SdkError>(())
//! ```
//!
//! A whole service set up from the `OTEL_*` variables is `examples/service.rs`.
//!
//! # What it must not depend on
//!
//! `otlp-proto`, `otlp-model`, `otlp-propagation`, `otlp-transport` and `otlp-batch` of this
//! workspace; never the collector side (`otlp-pipeline` and up) — `cargo xtask tidy` checks.
//! Third parties: prost, thiserror, tracing (the SDK's own diagnostics, target `otlp_sdk`),
//! rand, pin-project-lite, and `tracing-subscriber` for the bridge.
//!
//! # Features
//!
//! - `trace` (default): spans.
//! - `logs` (default): log records.
//! - `metrics` (default): instruments, aggregation, readers.
//! - `otlp` (default): the OTLP exporter's extras (OTLP/JSON, gzip, TLS) and
//!   [`export::otlp_exporter`]. Without it, export goes to your own or the built-in
//!   in-memory and stdout exporters.
//! - `tracing`: the `tracing` bridge (a `tracing-subscriber` layer).

#![forbid(unsafe_code)]
// With neither signal, the shared export machinery has no user.
#![cfg_attr(not(any(feature = "trace", feature = "logs")), allow(dead_code))]

mod attribute_limits;
#[cfg(feature = "tracing")]
pub mod bridge;
pub mod context;
pub mod env;
pub mod error;
pub mod export;
pub mod global;
mod init;
#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod resource;
mod scope;
#[cfg(feature = "trace")]
pub mod trace;
pub mod value;

pub use context::{Context, ContextGuard, FutureExt, attach, current};
pub use error::SdkError;
pub use init::{Guard, init, init_with};
pub use resource::Resource;
pub use scope::{InstrumentationScope, ScopeBuilder};
pub use value::{Key, KeyValue, Value};

/// Runs the README's example as a doctest, so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
