//! The component traits ([`Consumer`], [`Receiver`], [`Processor`], [`Exporter`],
//! [`Connector`], [`Extension`]), what they are built with (the `*Context` types, [`NextConsumers`],
//! [`Resources`]) and what they see at start ([`Host`]).
//!
//! # Lifecycle contract
//!
//! - **create** (the factory) parses the configuration and builds the component. It opens no
//!   port, starts no task and connects nowhere, so a whole configuration can be built, and
//!   rejected, before anything touches the network.
//! - **start** acquires resources (listeners, connections, files, tasks). The graph starts
//!   extensions, then exporters, then processors (each pipeline from its last processor to its
//!   first), then receivers: by the time a receiver accepts data, everything downstream of it
//!   runs. A connector starts after the pipelines it feeds and before the ones that feed it.
//! - **shutdown(deadline)** releases them, in the reverse order: receivers stop accepting and
//!   finish in-flight requests, processors flush downstream (each pipeline from its first
//!   processor to its last), exporters drain their queues, extensions stop. A component must
//!   return by the deadline (the graph stops waiting then); shutdown is called only on
//!   components whose start was attempted, and at most once.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::Signal;
use crate::config::{ComponentId, PipelineId};
use crate::data::Telemetry;
use crate::error::{BoxError, ConsumeError, FatalError, Refused};

/// Something data is handed to: a processor, an exporter, a fan-out, a pipeline.
#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    /// Takes one request. `Ok(())` means the data is safe — delivered, or in a queue that
    /// will deliver it; never "accepted, to be dropped later". An error goes back to the
    /// sender (see [`ConsumeError`]).
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError>;

    /// [`consume`](Self::consume), handing the data back with a refusal, for a caller that
    /// retries a refused request (the batch processor) and so would otherwise have to keep a
    /// deep copy of everything it hands on.
    ///
    /// The default keeps a shared reference (an `Arc` increment, see [`Telemetry`]) and
    /// returns it with any error. A consumer that takes the payload for itself (a queue
    /// moving it out with [`Telemetry::into_payload`], which copies a shared payload)
    /// overrides this to move it and give back what it took when it refuses; a forwarding
    /// consumer passes the call on.
    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        let kept = data.clone();
        self.consume(data).await.map_err(|error| Refused {
            error,
            data: Some(kept),
        })
    }

    /// `true` when this consumer changes the data it receives (or passes it, changed, to the
    /// next one). The fan-out gives such consumers their own copy and lets read-only ones
    /// share one; a consumer that writes without saying so still cannot corrupt anyone else's
    /// data ([`Telemetry`] is copy-on-write) but makes its copy later and less predictably.
    /// Default `false`.
    fn mutates_data(&self) -> bool {
        false
    }
}

/// A component that receives data from outside (a network listener, a file, a generator) and
/// hands it to the pipelines' first consumers, the [`NextConsumers`] it was created with.
///
/// Created once per configured id, however many pipelines list it: each signal's consumer is
/// a fan-out over those pipelines.
#[async_trait]
pub trait Receiver: Send + Sync + 'static {
    /// Opens listeners, spawns tasks. Runs after every exporter and processor started.
    async fn start(&self, host: &Host) -> Result<(), BoxError>;

    /// Stops accepting, finishes (or refuses, retryably) in-flight requests, by `deadline`.
    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError>;
}

/// A component in the middle of one pipeline: a [`Consumer`] that passes (possibly changed,
/// filtered, batched) data to the next consumer it was created with
/// ([`ProcessorContext::next`]).
///
/// Created once per pipeline that lists it: two pipelines naming `batch` get two instances.
#[async_trait]
pub trait Processor: Consumer {
    /// Starts background work (timers, flush tasks). Default: nothing.
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }

    /// Flushes buffered data to the next consumer and stops, by `deadline`. Default: nothing.
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A component at the end of pipelines: a [`Consumer`] that sends data out of the process.
///
/// Created once per configured id and shared by every pipeline that lists it
/// ([`ExporterContext::signals`] says which signals it will see).
#[async_trait]
pub trait Exporter: Consumer {
    /// Connects, opens files, spawns queue workers. Default: nothing.
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }

    /// Drains what was accepted (or persists it) and stops, by `deadline`. Default: nothing.
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A component that is an exporter of some pipelines and a receiver of others (otelcol's
/// connectors: `forward`, `routing`, `count`, `spanmetrics`): a [`Consumer`] of the signal of
/// the pipelines that export to it, passing data (the same, or derived data of another signal)
/// to the pipelines that list it as a receiver ([`ConnectorContext::next`],
/// [`ConnectorContext::pipelines`]).
///
/// Created once per id and per pair of signals it connects in the configuration (otelcol's
/// rule): `spanmetrics` between `traces/in` and `metrics/out` is one instance. Errors and
/// backpressure from downstream travel back through `consume` like through any consumer.
#[async_trait]
pub trait Connector: Consumer {
    /// Starts background work (flush timers). Runs after every pipeline it feeds started and
    /// before the pipelines that export to it. Default: nothing.
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }

    /// Flushes what it holds downstream and stops, by `deadline`. Runs after the pipelines
    /// that export to it stopped and before the pipelines it feeds. Default: nothing.
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A component outside the data path (health check, storage, authentication), listed in
/// `service.extensions`. Other components find it through [`Host::extension`] or
/// [`Host::extension_as`] (for example an exporter looking up `file_storage/queue`).
#[async_trait]
pub trait Extension: Any + Send + Sync {
    /// Starts the extension. Extensions start first, in `service.extensions` order; an
    /// extension may look up the ones listed before it. Default: nothing.
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }

    /// Stops the extension. Extensions stop last, in reverse order. Default: nothing.
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }

    /// This extension as a server authenticator, when it is one (what a receiver's
    /// `auth: {authenticator: ID}` names). Default: not one.
    fn as_server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        None
    }

    /// This extension as a client authenticator, when it is one (what an exporter's
    /// `auth: {authenticator: ID}` names). Default: not one.
    fn as_client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        None
    }

    /// This extension as storage, when it offers it (what an exporter's
    /// `sending_queue: {storage: ID}` names). Default: not storage.
    fn as_storage(&self) -> Option<&dyn StorageExtension> {
        None
    }
}

/// An extension that authenticates the requests a receiver's server takes (otelcol's
/// `extensionauth.Server`). Receivers and extensions live in different crates and meet only
/// through this trait, found with [`Extension::as_server_authenticator`].
pub trait ServerAuthenticator: Send + Sync {
    /// The token a request must carry as `authorization: Bearer <token>` (the transport
    /// compares it in constant time). Read when the receiver starts, after the extension.
    fn bearer_token(&self) -> String;
}

/// An extension that gives the requests an exporter sends their credentials (otelcol's
/// `extensionauth.HTTPClient` and `GRPCClient`), found with
/// [`Extension::as_client_authenticator`].
pub trait ClientAuthenticator: Send + Sync {
    /// The headers (gRPC metadata) to add to one request, such as
    /// `("authorization", "Bearer …")`. Asked before every attempt, so a credential that
    /// changes (a token file rewritten) is used from the next request on; an error fails
    /// that attempt, which is retried.
    fn request_headers(&self) -> Result<Vec<(String, String)>, String>;
}

/// An extension that offers exporters a place for persistent sending queues (otelcol's
/// storage extensions, such as `file_storage`), found with [`Extension::as_storage`].
pub trait StorageExtension: Send + Sync {
    /// The directory the queues live under (one subdirectory per exporter and signal).
    fn directory(&self) -> &std::path::Path;
    /// Whether every write is synced to disk before it is acknowledged.
    fn fsync(&self) -> bool;
}

/// The five kinds of components, as named in the configuration's top-level sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentKind {
    /// `receivers`.
    Receiver,
    /// `processors`.
    Processor,
    /// `exporters`.
    Exporter,
    /// `connectors`.
    Connector,
    /// `extensions`.
    Extension,
}

impl ComponentKind {
    /// Every kind, in configuration order.
    pub const ALL: [ComponentKind; 5] = [
        ComponentKind::Receiver,
        ComponentKind::Processor,
        ComponentKind::Exporter,
        ComponentKind::Connector,
        ComponentKind::Extension,
    ];

    /// The singular name: `receiver`, `processor`, `exporter`, `connector`, `extension`.
    pub const fn name(self) -> &'static str {
        match self {
            ComponentKind::Receiver => "receiver",
            ComponentKind::Processor => "processor",
            ComponentKind::Exporter => "exporter",
            ComponentKind::Connector => "connector",
            ComponentKind::Extension => "extension",
        }
    }

    /// The configuration section: `receivers`, `processors`, `exporters`, `connectors`,
    /// `extensions`.
    pub const fn section(self) -> &'static str {
        match self {
            ComponentKind::Receiver => "receivers",
            ComponentKind::Processor => "processors",
            ComponentKind::Exporter => "exporters",
            ComponentKind::Connector => "connectors",
            ComponentKind::Extension => "extensions",
        }
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Signal`]s (a bit set; `Copy`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SignalSet(u8);

impl SignalSet {
    /// No signal.
    pub const EMPTY: SignalSet = SignalSet(0);
    /// Traces, metrics and logs: what most components support.
    pub const TRACES_METRICS_LOGS: SignalSet = SignalSet::EMPTY
        .with(Signal::Traces)
        .with(Signal::Metrics)
        .with(Signal::Logs);
    /// All four signals, profiles included.
    pub const ALL: SignalSet = SignalSet::TRACES_METRICS_LOGS.with(Signal::Profiles);

    const fn bit(signal: Signal) -> u8 {
        match signal {
            Signal::Traces => 1,
            Signal::Metrics => 2,
            Signal::Logs => 4,
            Signal::Profiles => 8,
        }
    }

    /// This set plus `signal`.
    #[must_use]
    pub const fn with(self, signal: Signal) -> SignalSet {
        SignalSet(self.0 | SignalSet::bit(signal))
    }

    /// Adds `signal`.
    pub fn insert(&mut self, signal: Signal) {
        self.0 |= SignalSet::bit(signal);
    }

    /// `true` when `signal` is in the set.
    pub const fn contains(self, signal: Signal) -> bool {
        self.0 & SignalSet::bit(signal) != 0
    }

    /// `true` when the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signals in the set, in [`Signal::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        Signal::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Signal> for SignalSet {
    fn from_iter<T: IntoIterator<Item = Signal>>(iter: T) -> Self {
        let mut set = SignalSet::EMPTY;
        for signal in iter {
            set.insert(signal);
        }
        set
    }
}

impl<const N: usize> From<[Signal; N]> for SignalSet {
    fn from(signals: [Signal; N]) -> Self {
        signals.into_iter().collect()
    }
}

impl From<Signal> for SignalSet {
    fn from(signal: Signal) -> Self {
        SignalSet::EMPTY.with(signal)
    }
}

impl fmt::Display for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no signal");
        }
        let names: Vec<&str> = self.iter().map(Signal::name).collect();
        f.write_str(&names.join(", "))
    }
}

impl fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Shared objects the embedding program hands to every factory and to every component at
/// start, keyed by type: a type map of `Arc`s.
///
/// This is how cross-cutting services reach components without this crate knowing their
/// types: the self-telemetry registry, a process-wide memory budget that both the
/// `memory_limiter` processor and the receivers' admission check consult, a test probe.
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Resources {
    map: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Resources {
    /// No resources.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Fresh shared state for one collector: a [`Metrics`](crate::telemetry::Metrics)
    /// registry, a [`MemoryPressure`](crate::MemoryPressure), a
    /// [`ServiceStatus`](crate::ServiceStatus), the [`SelfSpans`](crate::telemetry::SelfSpans)
    /// store and a [`ServiceTopology`](crate::ServiceTopology), so that two collectors (or two tests) in one
    /// process do not see each other. Pass it to
    /// [`Pipelines::build_with`](crate::Pipelines::build_with).
    pub fn collector() -> Resources {
        Resources::new()
            .with(crate::telemetry::Metrics::new())
            .with(crate::memory::MemoryPressure::new())
            .with(crate::status::ServiceStatus::new())
            .with(crate::telemetry::SelfSpans::new())
            .with(crate::topology::ServiceTopology::new())
    }

    /// Adds (or replaces) the resource of type `T`.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        Arc::make_mut(&mut self.map).insert(TypeId::of::<T>(), value);
    }

    /// Adds the resource of type `T`, builder style.
    #[must_use]
    pub fn with<T: Any + Send + Sync>(mut self, value: Arc<T>) -> Resources {
        self.insert(value);
        self
    }

    /// The resource of type `T`, if one was added.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let value = self.map.get(&TypeId::of::<T>())?.clone();
        value.downcast::<T>().ok()
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("len", &self.map.len())
            .finish()
    }
}

/// The consumers a receiver hands its data to, one per signal: each is the first consumer of
/// the one pipeline of that signal that lists the receiver, or a fan-out over several. A
/// signal no pipeline routes from this receiver has none, and the receiver should refuse it
/// (gRPC UNIMPLEMENTED / HTTP 404) before reading the body.
#[derive(Clone, Default)]
pub struct NextConsumers {
    traces: Option<Arc<dyn Consumer>>,
    metrics: Option<Arc<dyn Consumer>>,
    logs: Option<Arc<dyn Consumer>>,
    profiles: Option<Arc<dyn Consumer>>,
}

impl NextConsumers {
    /// No consumer for any signal.
    pub fn new() -> NextConsumers {
        NextConsumers::default()
    }

    /// Sets the consumer of `signal`, builder style.
    #[must_use]
    pub fn with(mut self, signal: Signal, consumer: Arc<dyn Consumer>) -> NextConsumers {
        self.set(signal, consumer);
        self
    }

    /// Sets the consumer of `signal`.
    pub fn set(&mut self, signal: Signal, consumer: Arc<dyn Consumer>) {
        *self.slot(signal) = Some(consumer);
    }

    fn slot(&mut self, signal: Signal) -> &mut Option<Arc<dyn Consumer>> {
        match signal {
            Signal::Traces => &mut self.traces,
            Signal::Metrics => &mut self.metrics,
            Signal::Logs => &mut self.logs,
            Signal::Profiles => &mut self.profiles,
        }
    }

    /// The consumer of `signal`.
    pub fn get(&self, signal: Signal) -> Option<&Arc<dyn Consumer>> {
        match signal {
            Signal::Traces => self.traces.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Logs => self.logs.as_ref(),
            Signal::Profiles => self.profiles.as_ref(),
        }
    }

    /// The signals that have a consumer.
    pub fn signals(&self) -> SignalSet {
        Signal::ALL
            .into_iter()
            .filter(|s| self.get(*s).is_some())
            .collect()
    }

    /// Hands `data` to the consumer of its signal; a permanent error when there is none.
    pub async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let signal = data.signal();
        match self.get(signal) {
            Some(consumer) => consumer.consume(data).await,
            None => Err(ConsumeError::permanent(format!(
                "no pipeline accepts {signal}"
            ))),
        }
    }
}

impl fmt::Debug for NextConsumers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextConsumers")
            .field("signals", &self.signals())
            .finish()
    }
}

/// What a receiver factory builds a receiver with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceiverContext {
    /// The receiver's id (`otlp`, `otlp/internal`).
    pub id: ComponentId,
    /// Where the receiver sends each signal.
    pub next: NextConsumers,
    /// Shared objects from the embedding program.
    pub resources: Resources,
}

impl ReceiverContext {
    /// A context for `id` sending to `next`, with no resources.
    pub fn new(id: ComponentId, next: NextConsumers) -> ReceiverContext {
        ReceiverContext {
            id,
            next,
            resources: Resources::default(),
        }
    }

    /// Sets the resources.
    #[must_use]
    pub fn with_resources(mut self, resources: Resources) -> ReceiverContext {
        self.resources = resources;
        self
    }
}

/// What a processor factory builds a processor with.
#[derive(Clone)]
#[non_exhaustive]
pub struct ProcessorContext {
    /// The processor's id (`batch`, `attributes/redact`).
    pub id: ComponentId,
    /// The pipeline this instance belongs to; its signal is the only one the processor sees.
    pub pipeline: PipelineId,
    /// Where the processor sends what it does not drop.
    pub next: Arc<dyn Consumer>,
    /// Shared objects from the embedding program.
    pub resources: Resources,
}

impl ProcessorContext {
    /// A context for `id` in `pipeline`, sending to `next`, with no resources.
    pub fn new(id: ComponentId, pipeline: PipelineId, next: Arc<dyn Consumer>) -> ProcessorContext {
        ProcessorContext {
            id,
            pipeline,
            next,
            resources: Resources::default(),
        }
    }

    /// Sets the resources.
    #[must_use]
    pub fn with_resources(mut self, resources: Resources) -> ProcessorContext {
        self.resources = resources;
        self
    }

    /// The signal of the pipeline.
    pub fn signal(&self) -> Signal {
        self.pipeline.signal()
    }
}

impl fmt::Debug for ProcessorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessorContext")
            .field("id", &self.id)
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

/// What an exporter factory builds an exporter with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExporterContext {
    /// The exporter's id (`otlp`, `otlphttp/backend`).
    pub id: ComponentId,
    /// The signals of the pipelines that list this exporter: the only ones it will receive.
    pub signals: SignalSet,
    /// Shared objects from the embedding program.
    pub resources: Resources,
}

impl ExporterContext {
    /// A context for `id` receiving `signals`, with no resources.
    pub fn new(id: ComponentId, signals: impl Into<SignalSet>) -> ExporterContext {
        ExporterContext {
            id,
            signals: signals.into(),
            resources: Resources::default(),
        }
    }

    /// Sets the resources.
    #[must_use]
    pub fn with_resources(mut self, resources: Resources) -> ExporterContext {
        self.resources = resources;
        self
    }
}

/// What a connector factory builds one connector instance with: the pair of signals it
/// connects and the pipelines it feeds.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectorContext {
    /// The connector's id (`spanmetrics`, `routing/tenants`).
    pub id: ComponentId,
    /// The signal of the pipelines that export to this instance: what `consume` receives.
    pub from: Signal,
    /// The signal of the pipelines this instance feeds: what it passes on.
    pub to: Signal,
    /// Every pipeline of signal `to` that lists the connector as a receiver, by id (a routing
    /// connector picks among them).
    pub pipelines: Vec<(PipelineId, Arc<dyn Consumer>)>,
    /// All of [`pipelines`](Self::pipelines) at once (a fan-out, or the one pipeline).
    pub next: Arc<dyn Consumer>,
    /// Shared objects from the embedding program.
    pub resources: Resources,
}

impl ConnectorContext {
    /// A context for `id` from `from` to `to`, feeding `pipelines` (through `next`, a consumer
    /// of all of them), with no resources.
    pub fn new(
        id: ComponentId,
        from: Signal,
        to: Signal,
        pipelines: Vec<(PipelineId, Arc<dyn Consumer>)>,
        next: Arc<dyn Consumer>,
    ) -> ConnectorContext {
        ConnectorContext {
            id,
            from,
            to,
            pipelines,
            next,
            resources: Resources::default(),
        }
    }

    /// Sets the resources.
    #[must_use]
    pub fn with_resources(mut self, resources: Resources) -> ConnectorContext {
        self.resources = resources;
        self
    }

    /// The consumer of one of the pipelines this instance feeds.
    pub fn pipeline(&self, id: &PipelineId) -> Option<&Arc<dyn Consumer>> {
        self.pipelines.iter().find(|(p, _)| p == id).map(|(_, c)| c)
    }
}

impl fmt::Debug for ConnectorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pipelines: Vec<String> = self.pipelines.iter().map(|(p, _)| p.to_string()).collect();
        f.debug_struct("ConnectorContext")
            .field("id", &self.id)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("pipelines", &pipelines)
            .finish_non_exhaustive()
    }
}

/// What an extension factory builds an extension with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExtensionContext {
    /// The extension's id (`health_check`, `file_storage/queue`).
    pub id: ComponentId,
    /// Shared objects from the embedding program.
    pub resources: Resources,
}

impl ExtensionContext {
    /// A context for `id`, with no resources.
    pub fn new(id: ComponentId) -> ExtensionContext {
        ExtensionContext {
            id,
            resources: Resources::default(),
        }
    }

    /// Sets the resources.
    #[must_use]
    pub fn with_resources(mut self, resources: Resources) -> ExtensionContext {
        self.resources = resources;
        self
    }
}

/// What components see when they start: the extensions by id, the shared [`Resources`], and a
/// way to report a failure that happens after start.
///
/// Cheap to clone; a component may keep one (for example in a listener task, to report that
/// the listener died).
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
    resources: Resources,
    fatal: mpsc::UnboundedSender<FatalError>,
}

impl Host {
    /// A host with these extensions and resources. Fatal errors reported to it go to the
    /// returned receiver. The pipeline graph makes its own; this is for testing a component
    /// on its own.
    pub fn new(
        extensions: Vec<(ComponentId, Arc<dyn Extension>)>,
        resources: Resources,
    ) -> (Host, mpsc::UnboundedReceiver<FatalError>) {
        let (fatal, fatal_rx) = mpsc::unbounded_channel();
        (
            Host {
                inner: Arc::new(HostInner {
                    extensions,
                    resources,
                    fatal,
                }),
            },
            fatal_rx,
        )
    }

    /// A host with no extension and no resources (fatal errors are dropped).
    pub fn empty() -> Host {
        Host::new(Vec::new(), Resources::default()).0
    }

    /// The extension with this id, if `service.extensions` lists it.
    pub fn extension(&self, id: &ComponentId) -> Option<&Arc<dyn Extension>> {
        self.inner
            .extensions
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, e)| e)
    }

    /// The extension with this id, if it is listed and of type `T`.
    pub fn extension_as<T: Extension>(&self, id: &ComponentId) -> Option<Arc<T>> {
        let extension: Arc<dyn Any + Send + Sync> = self.extension(id)?.clone();
        extension.downcast::<T>().ok()
    }

    /// Every started extension, in `service.extensions` order.
    pub fn extensions(&self) -> impl Iterator<Item = (&ComponentId, &Arc<dyn Extension>)> {
        self.inner.extensions.iter().map(|(id, e)| (id, e))
    }

    /// The shared resources.
    pub fn resources(&self) -> &Resources {
        &self.inner.resources
    }

    /// Reports that a started component can no longer work. The collector shuts the whole
    /// graph down when it sees this (see
    /// [`Pipelines::fatal_error`](crate::graph::Pipelines::fatal_error)).
    pub fn report_fatal(&self, kind: ComponentKind, id: ComponentId, error: impl Into<BoxError>) {
        let error = FatalError {
            kind,
            id,
            source: error.into(),
        };
        tracing::error!(%error, "component failed");
        // The receiving side lives as long as the graph; after that nobody is listening.
        let _ = self.inner.fatal.send(error);
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self
            .inner
            .extensions
            .iter()
            .map(|(id, _)| id.to_string())
            .collect();
        f.debug_struct("Host")
            .field("extensions", &ids)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Storage(u32);
    impl Extension for Storage {}
    struct Other;
    impl Extension for Other {}

    #[test]
    fn extension_lookup_and_downcast() {
        let id: ComponentId = "file_storage/queue".parse().expect("id");
        let (host, _rx) = Host::new(
            vec![(id.clone(), Arc::new(Storage(7)) as Arc<dyn Extension>)],
            Resources::default(),
        );
        assert_eq!(host.extension_as::<Storage>(&id).map(|s| s.0), Some(7));
        assert!(host.extension_as::<Other>(&id).is_none());
        assert!(
            host.extension(&"file_storage".parse().expect("id"))
                .is_none()
        );
    }

    #[test]
    fn resources_by_type() {
        let resources = Resources::new()
            .with(Arc::new(5_u64))
            .with(Arc::new(String::from("x")));
        assert_eq!(resources.get::<u64>().as_deref(), Some(&5));
        assert_eq!(
            resources.get::<String>().as_deref().map(String::as_str),
            Some("x")
        );
        assert!(resources.get::<u32>().is_none());
    }

    #[test]
    fn signal_sets() {
        let set = SignalSet::from([Signal::Logs, Signal::Traces]);
        assert_eq!(set.to_string(), "traces, logs");
        assert!(set.contains(Signal::Logs) && !set.contains(Signal::Metrics));
        assert_eq!(SignalSet::ALL.iter().count(), 4);
        assert_eq!(SignalSet::EMPTY.to_string(), "no signal");
    }
}
