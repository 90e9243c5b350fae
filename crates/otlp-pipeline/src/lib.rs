//! The collector framework: an OpenTelemetry Collector (otelcol) style configuration, the
//! component traits and factories, the pipeline graph that wires receivers, processors and
//! exporters, and self-telemetry. **No component lives here.**
//!
//! This crate is the collector's core: it reads the YAML users already run with the Go
//! Collector, checks it against the registered components, builds the graph of receivers,
//! pipelines and exporters, and runs it. The components are plug-ins built by factories
//! registered under their type names, and they live in crates by kind, one cargo feature per
//! component: `otlp-receivers`, `otlp-processors`, `otlp-exporters`, `otlp-extensions` (each
//! with `register(&mut Registry)`). A program adds its own component exactly the way those
//! are added.
//!
//! # Map
//!
//! | Module | What |
//! |---|---|
//! | [`data`] | [`Telemetry`]: one OTLP request ([`Payload`], shared copy-on-write) and its [`Context`] |
//! | [`component`] | the traits [`Consumer`], [`Receiver`], [`Processor`], [`Exporter`], [`Extension`]; [`Host`], the `*Context` types, [`NextConsumers`], [`Resources`] |
//! | [`factory`] | the factory traits, and [`FnFactory`](factory::FnFactory) for components with a serde config |
//! | [`registry`] | [`Registry`]: factories by kind and type name, with aliases |
//! | [`config`] | [`Config`] loading (several sources, `${env:VAR}`, merging), ids, [`validate`] |
//! | [`graph`] | [`Pipelines`]: build, start, shutdown; [`FanOut`](graph::FanOut) |
//! | [`error`] | [`ConsumeError`] (data path), lifecycle errors |
//! | [`telemetry`] | self-telemetry: otelcol-named counters, gauges and histograms, served as Prometheus text; the small [`HttpServer`](telemetry::HttpServer) |
//! | [`memory`] | [`MemoryPressure`]: the memory state the `memory_limiter` processor and the receivers' admission hook share |
//! | [`allocator`] | [`CountingAllocator`](allocator::CountingAllocator): a global allocator wrapper that counts the heap in use, which the memory limiter then measures |
//! | [`status`] | [`ServiceStatus`]: whether the pipelines are up (receivers report, `health_check` reads), and the addresses servers bound |
//! | [`http_server`] | the async HTTP/1.1 server of the pages that read queries or headers (zpages, pprof, healthcheckv2, the prometheus exporter) and of the receivers that read bodies (zipkin, jaeger's `thrift_http`): bounded connections, header timeout, body limit |
//! | [`grpc_server`] | the unary gRPC server (HTTP/2, framing, inflation, message limit) of the components that answer gRPC methods other than OTLP's (jaeger's `PostSpans`, healthcheckv2's `Health/Check`) |
//! | [`topology`] | [`ServiceTopology`]: the pipelines and extensions as built, build info and start time (the `zpages` pages read it) |
//! | [`task`] | [`BackgroundTask`](task::BackgroundTask): a component's timer task between `start` and `shutdown`, started once, stopped by a deadline; [`every`](task::every) |
//! | [`config::fields`] | configuration pieces components of every kind use |
//! | `testing` | (feature `testing`) a probe consumer and small requests for component tests |
//!
//! # Shared state
//!
//! Components of different kinds never depend on each other's crates; they meet through what
//! this crate defines. [`Resources`] carries the process-wide objects ([`Metrics`](telemetry::Metrics),
//! [`MemoryPressure`], [`ServiceStatus`]; [`Resources::collector`] makes a fresh set), and an
//! extension offers a capability through a trait the others look up on the [`Host`]:
//! [`ServerAuthenticator`] (a receiver's `auth: {authenticator: ...}`),
//! [`ClientAuthenticator`] (an exporter's) and
//! [`StorageExtension`] (an exporter's `sending_queue: {storage: ...}`).
//!
//! # The life of a configuration
//!
//! ```text
//! Config::load(sources)      read, substitute ${env:VAR}, merge    → Config
//! config::validate(&c, &reg) types, values, pipelines, signals     → ValidatedConfig | every error
//! Pipelines::build(&valid)   factories create components; no port opens
//! pipelines.start()          extensions → exporters → processors → receivers
//! pipelines.shutdown(dl)     receivers → processors → exporters → extensions, by the deadline
//! ```
//!
//! Every failure before `start` is a [`ConfigErrors`] naming the file, the component and the
//! problem, so a bad configuration stops the process before any port opens.
//!
//! # Decisions
//!
//! - **Data** moves as the protobuf request types, behind an `Arc`: read-only consumers share
//!   one request, writers copy (copy-on-write). A fan-out copies eagerly only for consumers
//!   that declare [`Consumer::mutates_data`] — the last writer gets the original when no
//!   reader shares it — so N read-only exporters cost no copy ([`graph::FanOut`]).
//! - **Errors** go back to the receiver unchanged: [`ConsumeError`] is retryable (UNAVAILABLE
//!   / 503) or permanent (INVALID_ARGUMENT / 400), converts into the transport's `Refusal`,
//!   and names the component. A fan-out's errors merge **retryable-wins** (the sender retries
//!   rather than lose data a destination would take a moment later).
//! - **Acknowledgement**: `consume` returns `Ok` only when the data is safe (delivered or in a
//!   queue that will deliver it).
//!
//! # Dependencies
//!
//! Only crates below it in the workspace: `otlp-proto`, `otlp-model`, `otlp-propagation`,
//! `otlp-transport`, `otlp-batch`. Never `otlp-ottl`, a component crate or `otlp-collector`:
//! they sit on top of this crate. [`Registry::default`] is empty; the distribution
//! (`otlp-collector`) fills it from every component crate.
//!
//! # Features
//!
//! - `testing` (off): the `testing` module, for the tests of component crates.
//!
//! # Example
//!
//! A pipeline from YAML with two tiny custom components: a receiver that sends some spans
//! when it starts, and an exporter that counts them.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! use otlp_model::builders::{SpanBuilder, TracesBuilder};
//! use otlp_pipeline::factory::{ComponentConfig, FnFactory};
//! use otlp_pipeline::{
//!     BoxError, Config, ConsumeError, Consumer, Exporter, Host, NextConsumers, Pipelines,
//!     Receiver, Registry, Signal, SignalSet, Telemetry, config,
//! };
//! use serde::{Deserialize, Serialize};
//! use tokio::time::{Duration, Instant};
//!
//! // The receiver: `generate: {spans: N}`.
//! #[derive(Default, Deserialize, Serialize)]
//! #[serde(deny_unknown_fields, default)]
//! struct GenerateConfig {
//!     spans: usize,
//! }
//! impl ComponentConfig for GenerateConfig {}
//!
//! struct Generate {
//!     next: NextConsumers,
//!     spans: usize,
//! }
//!
//! #[async_trait::async_trait]
//! impl Receiver for Generate {
//!     async fn start(&self, _host: &Host) -> Result<(), BoxError> {
//!         let spans = (0..self.spans).map(|i| SpanBuilder::new(format!("span {i}")));
//!         let request = TracesBuilder::new().spans(spans).build();
//!         self.next.consume(Telemetry::new(request)).await?;
//!         Ok(())
//!     }
//!     async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
//!         Ok(())
//!     }
//! }
//!
//! // The exporter: adds the spans it receives to a counter shared through `Resources`.
//! #[derive(Default, Deserialize, Serialize)]
//! #[serde(deny_unknown_fields)]
//! struct CountConfig {}
//! impl ComponentConfig for CountConfig {}
//!
//! struct Count(Arc<AtomicUsize>);
//!
//! #[async_trait::async_trait]
//! impl Consumer for Count {
//!     async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
//!         self.0.fetch_add(data.item_count(), Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//! impl Exporter for Count {}
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut registry = Registry::default();
//! registry.register_receiver(FnFactory::receiver("generate", Signal::Traces, |ctx, config: GenerateConfig| {
//!     Ok(Box::new(Generate { next: ctx.next, spans: config.spans }))
//! }))?;
//! registry.register_exporter(FnFactory::exporter("count", SignalSet::ALL, |ctx, _: CountConfig| {
//!     let counter = ctx.resources.get::<AtomicUsize>().unwrap_or_default();
//!     Ok(Box::new(Count(counter)))
//! }))?;
//!
//! let yaml = r#"
//! receivers:
//!   generate:
//!     spans: ${env:SPANS:-3}
//! exporters:
//!   count:
//!   count/second:
//! service:
//!   pipelines:
//!     traces:
//!       receivers: [generate]
//!       exporters: [count, count/second]
//! "#;
//! let config = Config::from_yaml("example.yaml", yaml)?;
//! let validated = config::validate(&config, &registry)?;
//!
//! let counter = Arc::new(AtomicUsize::new(0));
//! let resources = otlp_pipeline::Resources::new().with(counter.clone());
//! let pipelines = Pipelines::build_with(&validated, resources)?;
//! pipelines.start().await?;
//! pipelines.shutdown(Instant::now() + Duration::from_secs(5)).await?;
//!
//! // Three spans, fanned out to two read-only exporters: counted twice, copied never.
//! assert_eq!(counter.load(Ordering::Relaxed), 6);
//! assert_eq!(pipelines.deep_copies(), 0);
//! # Ok(())
//! # }
//! ```

pub mod allocator;
pub mod component;
pub mod config;
pub mod data;
pub mod error;
pub mod factory;
pub mod graph;
pub mod grpc_server;
pub mod http_server;
mod listening;
pub mod memory;
pub mod registry;
pub mod status;
pub mod task;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topology;

pub use otlp_transport::Signal;

pub use component::{
    ClientAuthenticator, ComponentKind, Connector, ConnectorContext, Consumer, Exporter,
    ExporterContext, Extension, ExtensionContext, Host, NextConsumers, Processor, ProcessorContext,
    Receiver, ReceiverContext, Resources, ServerAuthenticator, SignalSet, StorageExtension,
};
pub use config::{
    ComponentId, Config, ConfigError, ConfigErrors, ConfigSource, PipelineId, ValidatedConfig,
    validate,
};
pub use data::{ClientInfo, Context, Metadata, Payload, SignalRequest, Telemetry};
pub use error::{
    BoxError, ConsumeError, ErrorKind, FatalError, LifecycleError, Refused, ShutdownErrors,
};
pub use factory::{
    ConnectorFactory, ExporterFactory, ExtensionFactory, Factory, ProcessorFactory, ReceiverFactory,
};
pub use graph::Pipelines;
pub use memory::MemoryPressure;
pub use registry::{Registry, RegistryError};
pub use status::ServiceStatus;
pub use topology::{BuildInfo, ServiceTopology};
