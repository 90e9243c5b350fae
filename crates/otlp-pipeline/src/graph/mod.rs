//! The running graph: [`Pipelines`] built from a [`ValidatedConfig`], started and shut down
//! as one.
//!
//! # Shape (otelcol's)
//!
//! ```text
//!                        ┌─ pipeline traces/a: entry → proc₁ → proc₂ → fan-out ─┬→ exporter x
//! receiver r ─ fan-out ──┤                                                      └→ exporter y
//!  (one per id)          └─ pipeline traces/b: entry → fan-out ─────────────────┬→ exporter y
//!                                                                                └→ exporter z
//! ```
//!
//! - a **receiver** is built once per id; for each signal it gets the entry of the one
//!   pipeline that lists it, or a [`FanOut`] over several;
//! - **processors** are built once per pipeline that lists them (two pipelines with `batch`
//!   get two batchers);
//! - an **exporter** is built once per id and shared by every pipeline that lists it;
//! - a pipeline with several exporters ends in a [`FanOut`]; with one, in the exporter;
//! - a **connector** is built once per id and per pair of signals it is used between
//!   (otelcol's rule): an exporter of the pipelines of the first signal that list it, fed to
//!   the entries of the pipelines of the second signal that list it as a receiver (a
//!   [`FanOut`] when several). A pipeline exporting to a connector used towards two signals
//!   ends in a fan-out over both instances.
//!
//! Pipelines fed by connectors are built before the pipelines that feed them: each pipeline
//! has a *level* (0 when no connector feeds it, else one more than the level of the deepest
//! pipeline feeding one of its connectors; validation refused loops), and a connector has the
//! level of the deepest pipeline exporting to it. Building goes from the highest level down.
//!
//! Every component is wrapped in a node that names it on errors that do not name a component
//! yet, so the sender learns which exporter refused; per-component self-telemetry
//! (`otelcol_exporter_sent_spans`, ...) belongs in the same node.
//!
//! # Order
//!
//! [`Pipelines::start`]: extensions (in `service.extensions` order), exporters, then from the
//! highest level down: the connectors of that level, then the processors of its pipelines
//! (each pipeline from its last processor to its first); receivers last — nothing receives
//! data before what is downstream of it runs. [`Pipelines::shutdown`]: the reverse —
//! receivers (all at once) stop accepting; then from level 0 up, the processors of that
//! level's pipelines flush (pipelines at once, each from its first processor to its last, so
//! a flush lands in a processor that still runs) and then that level's connectors flush (all
//! at once); exporters drain (all at once), extensions stop (in reverse order); every call
//! is bounded by the one deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::Signal;
use crate::component::{
    ComponentKind, Connector, ConnectorContext, Consumer, Exporter, ExporterContext, Extension,
    ExtensionContext, Host, NextConsumers, Processor, ProcessorContext, Receiver, ReceiverContext,
    Resources, SignalSet,
};
use crate::config::validate::used_pairs;
use crate::config::{ComponentId, ConfigError, ConfigErrors, PipelineId, ValidatedConfig};
use crate::data::Telemetry;
use crate::error::{
    BoxError, ConsumeError, DeadlineExceeded, FatalError, LifecycleError, Phase, Refused,
    ShutdownErrors,
};

mod fanout;

pub use fanout::{BoxFuture, FanOut, join_all};

/// A component in the graph, with whether its start was attempted (only those are shut
/// down).
struct Member<T: ?Sized> {
    id: ComponentId,
    component: Arc<T>,
    started: AtomicBool,
}

impl<T: ?Sized> Member<T> {
    fn new(id: ComponentId, component: Arc<T>) -> Member<T> {
        Member {
            id,
            component,
            started: AtomicBool::new(false),
        }
    }

    fn mark_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    fn was_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }
}

struct PipelineNodes {
    id: PipelineId,
    level: usize,
    /// In pipeline order: data flows first to last.
    processors: Vec<Member<dyn Processor>>,
    entry: Arc<dyn Consumer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Built,
    Started,
    Stopped,
}

/// The components of a configuration, wired: built by [`Pipelines::build`] (nothing is
/// opened), then [`start`](Pipelines::start)ed and [`shutdown`](Pipelines::shutdown). See the
/// [module documentation](self) for the shape and the order.
pub struct Pipelines {
    host: Host,
    fatal: tokio::sync::Mutex<mpsc::UnboundedReceiver<FatalError>>,
    extensions: Vec<Member<dyn Extension>>,
    exporters: Vec<Member<dyn Exporter>>,
    /// With their level.
    connectors: Vec<(usize, Member<dyn Connector>)>,
    pipelines: Vec<PipelineNodes>,
    receivers: Vec<Member<dyn Receiver>>,
    receiver_consumers: BTreeMap<ComponentId, NextConsumers>,
    fanouts: Vec<Arc<FanOut>>,
    state: Mutex<State>,
}

/// Names the component on errors that name none.
struct Node {
    id: ComponentId,
    inner: Arc<dyn Consumer>,
}

#[async_trait]
impl Consumer for Node {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.inner
            .consume(data)
            .await
            .map_err(|e| e.or_component(&self.id))
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.inner
            .consume_or_return(data)
            .await
            .map_err(|refused| Refused {
                error: refused.error.or_component(&self.id),
                data: refused.data,
            })
    }

    fn mutates_data(&self) -> bool {
        self.inner.mutates_data()
    }
}

/// The first consumer of a pipeline: checks the signal and reports whether anything in the
/// pipeline writes (otelcol's "capabilities" node), so the receiver's fan-out knows whether
/// the pipeline needs its own copy.
struct PipelineEntry {
    id: PipelineId,
    first: Arc<dyn Consumer>,
    mutates: bool,
}

impl PipelineEntry {
    fn wrong_signal(&self, data: &Telemetry) -> Option<ConsumeError> {
        (data.signal() != self.id.signal()).then(|| {
            ConsumeError::permanent(format!(
                "pipeline \"{}\" does not accept {}",
                self.id,
                data.signal()
            ))
        })
    }
}

#[async_trait]
impl Consumer for PipelineEntry {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        if let Some(error) = self.wrong_signal(&data) {
            return Err(error);
        }
        self.first.consume(data).await
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        if let Some(error) = self.wrong_signal(&data) {
            return Err(Refused {
                error,
                data: Some(data),
            });
        }
        self.first.consume_or_return(data).await
    }

    fn mutates_data(&self) -> bool {
        self.mutates
    }
}

fn fan_in(
    consumers: Vec<Arc<dyn Consumer>>,
    fanouts: &mut Vec<Arc<FanOut>>,
) -> Option<Arc<dyn Consumer>> {
    if consumers.len() <= 1 {
        return consumers.into_iter().next();
    }
    let fanout = Arc::new(FanOut::new(consumers));
    fanouts.push(fanout.clone());
    Some(fanout)
}

/// Each pipeline's level: 0 when no connector feeds it, else one more than the deepest level
/// among the pipelines exporting to a connector it receives from. Validation refused loops;
/// should one slip through, the depth is capped at the number of pipelines.
fn pipeline_levels<F: ?Sized>(
    cfg: &crate::config::Config,
    connectors: &BTreeMap<ComponentId, Arc<F>>,
) -> BTreeMap<PipelineId, usize> {
    let pipelines = &cfg.service.pipelines;
    let mut levels: BTreeMap<PipelineId, usize> =
        pipelines.keys().map(|id| (id.clone(), 0)).collect();
    // Longest-path relaxation; at most one round per pipeline in an acyclic graph.
    for _ in 0..pipelines.len() {
        let mut changed = false;
        for (to_id, to) in pipelines {
            for connector in to.receivers.iter().filter(|r| connectors.contains_key(*r)) {
                for (from_id, from) in pipelines {
                    if from.exporters.contains(connector) {
                        let wanted = levels.get(from_id).copied().unwrap_or(0) + 1;
                        if levels.get(to_id).copied().unwrap_or(0) < wanted {
                            levels.insert(to_id.clone(), wanted);
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    levels
}

impl Pipelines {
    /// Builds every component the configuration uses, with no shared resources.
    pub fn build(config: &ValidatedConfig) -> Result<Pipelines, ConfigErrors> {
        Pipelines::build_with(config, Resources::default())
    }

    /// Builds every component the configuration uses; factories and components see
    /// `resources`. Opens nothing (factories must not); fails with every factory error, each
    /// naming the file and the component.
    pub fn build_with(
        config: &ValidatedConfig,
        resources: Resources,
    ) -> Result<Pipelines, ConfigErrors> {
        let cfg = &config.config;
        let mut errors: Vec<ConfigError> = Vec::new();
        let locate = |error: ConfigError, kind: ComponentKind, id: &ComponentId| {
            let origin = cfg
                .section(kind)
                .get(id)
                .map(|e| e.origin.clone())
                .unwrap_or_default();
            error.locate(&origin, &[kind.section().to_owned(), id.to_string()])
        };
        let value_of = |kind: ComponentKind, id: &ComponentId| {
            cfg.section(kind)
                .get(id)
                .map(|e| e.config.clone())
                .unwrap_or_default()
        };

        let mut extensions = Vec::new();
        for (id, factory) in &config.extensions {
            let ctx = ExtensionContext::new(id.clone()).with_resources(resources.clone());
            match factory.create(ctx, value_of(ComponentKind::Extension, id)) {
                Ok(extension) => extensions.push(Member::new(id.clone(), Arc::from(extension))),
                Err(error) => errors.push(locate(error, ComponentKind::Extension, id)),
            }
        }

        let mut exporter_signals: BTreeMap<&ComponentId, SignalSet> = BTreeMap::new();
        for (pipeline_id, pipeline) in &cfg.service.pipelines {
            for id in &pipeline.exporters {
                exporter_signals
                    .entry(id)
                    .or_default()
                    .insert(pipeline_id.signal());
            }
        }
        let mut exporters = Vec::new();
        let mut exporter_nodes: BTreeMap<ComponentId, Arc<dyn Consumer>> = BTreeMap::new();
        for (id, factory) in &config.exporters {
            let signals = exporter_signals.get(id).copied().unwrap_or_default();
            let ctx = ExporterContext::new(id.clone(), signals).with_resources(resources.clone());
            match factory.create(ctx, value_of(ComponentKind::Exporter, id)) {
                Ok(exporter) => {
                    let exporter: Arc<dyn Exporter> = Arc::from(exporter);
                    let node = Arc::new(Node {
                        id: id.clone(),
                        inner: exporter.clone(),
                    });
                    exporter_nodes.insert(id.clone(), node);
                    exporters.push(Member::new(id.clone(), exporter));
                }
                Err(error) => errors.push(locate(error, ComponentKind::Exporter, id)),
            }
        }

        let levels = pipeline_levels(cfg, &config.connectors);
        let max_level = levels.values().copied().max().unwrap_or(0);
        let mut fanouts = Vec::new();
        let mut pipelines: Vec<PipelineNodes> = Vec::new();
        let mut connectors: Vec<(usize, Member<dyn Connector>)> = Vec::new();
        // (connector, from signal) → the instances a `from` pipeline exports to.
        let mut connector_nodes: BTreeMap<(ComponentId, Signal), Vec<Arc<dyn Consumer>>> =
            BTreeMap::new();
        for level in (0..=max_level).rev() {
            // This level's connectors: everything they feed is built (a higher level).
            for (id, factory) in &config.connectors {
                let exporting: Vec<&PipelineId> = cfg
                    .service
                    .pipelines
                    .iter()
                    .filter(|(_, p)| p.exporters.contains(id))
                    .map(|(pid, _)| pid)
                    .collect();
                let connector_level = exporting
                    .iter()
                    .filter_map(|p| levels.get(*p))
                    .copied()
                    .max()
                    .unwrap_or(0);
                if connector_level != level {
                    continue;
                }
                let receiving: Vec<&PipelineId> = cfg
                    .service
                    .pipelines
                    .iter()
                    .filter(|(_, p)| p.receivers.contains(id))
                    .map(|(pid, _)| pid)
                    .collect();
                for (from, to) in used_pairs(&**factory, &exporting, &receiving) {
                    let targets: Vec<(PipelineId, Arc<dyn Consumer>)> = pipelines
                        .iter()
                        .filter(|p| p.id.signal() == to && receiving.contains(&&p.id))
                        .map(|p| (p.id.clone(), p.entry.clone() as Arc<dyn Consumer>))
                        .collect();
                    let wanted = receiving.iter().filter(|p| p.signal() == to).count();
                    if targets.len() != wanted {
                        continue; // a pipeline it feeds failed to build; its error is recorded
                    }
                    let Some(next) = fan_in(
                        targets.iter().map(|(_, c)| c.clone()).collect(),
                        &mut fanouts,
                    ) else {
                        continue;
                    };
                    let ctx = ConnectorContext::new(id.clone(), from, to, targets, next)
                        .with_resources(resources.clone());
                    match factory.create(ctx, value_of(ComponentKind::Connector, id)) {
                        Ok(connector) => {
                            let connector: Arc<dyn Connector> = Arc::from(connector);
                            let node: Arc<dyn Consumer> = Arc::new(Node {
                                id: id.clone(),
                                inner: connector.clone(),
                            });
                            connector_nodes
                                .entry((id.clone(), from))
                                .or_default()
                                .push(node);
                            connectors.push((level, Member::new(id.clone(), connector)));
                        }
                        Err(error) => {
                            let error = error.map_message(|m| format!("from {from} to {to}: {m}"));
                            errors.push(locate(error, ComponentKind::Connector, id));
                        }
                    }
                }
            }
            // This level's pipelines.
            'pipelines: for (pipeline_id, pipeline) in &cfg.service.pipelines {
                if levels.get(pipeline_id).copied().unwrap_or(0) != level {
                    continue;
                }
                let mut ends: Vec<Arc<dyn Consumer>> = Vec::new();
                for id in &pipeline.exporters {
                    if let Some(node) = exporter_nodes.get(id) {
                        ends.push(node.clone());
                    } else if let Some(nodes) =
                        connector_nodes.get(&(id.clone(), pipeline_id.signal()))
                    {
                        let Some(node) = fan_in(nodes.clone(), &mut fanouts) else {
                            continue 'pipelines;
                        };
                        ends.push(node);
                    } else {
                        continue 'pipelines; // it failed to build; its error is recorded
                    }
                }
                let Some(mut next) = fan_in(ends, &mut fanouts) else {
                    continue;
                };
                let mut mutates = next.mutates_data();
                let mut processors = Vec::new();
                for id in pipeline.processors.iter().rev() {
                    let Some(factory) = config.processors.get(id) else {
                        continue 'pipelines;
                    };
                    let ctx = ProcessorContext::new(id.clone(), pipeline_id.clone(), next.clone())
                        .with_resources(resources.clone());
                    match factory.create(ctx, value_of(ComponentKind::Processor, id)) {
                        Ok(processor) => {
                            let processor: Arc<dyn Processor> = Arc::from(processor);
                            mutates |= processor.mutates_data();
                            next = Arc::new(Node {
                                id: id.clone(),
                                inner: processor.clone(),
                            });
                            processors.push(Member::new(id.clone(), processor));
                        }
                        Err(error) => {
                            let error = error
                                .map_message(|m| format!("in pipeline \"{pipeline_id}\": {m}"));
                            errors.push(locate(error, ComponentKind::Processor, id));
                            continue 'pipelines;
                        }
                    }
                }
                processors.reverse();
                let entry = Arc::new(PipelineEntry {
                    id: pipeline_id.clone(),
                    first: next,
                    mutates,
                });
                pipelines.push(PipelineNodes {
                    id: pipeline_id.clone(),
                    level,
                    processors,
                    entry,
                });
            }
        }
        pipelines.sort_by(|a, b| a.id.cmp(&b.id));

        let mut receivers = Vec::new();
        let mut receiver_consumers = BTreeMap::new();
        for (id, factory) in &config.receivers {
            let mut next = NextConsumers::new();
            for signal in Signal::ALL {
                let entries: Vec<Arc<dyn Consumer>> = pipelines
                    .iter()
                    .filter(|p| p.id.signal() == signal)
                    .filter(|p| {
                        cfg.service
                            .pipelines
                            .get(&p.id)
                            .is_some_and(|c| c.receivers.contains(id))
                    })
                    .map(|p| p.entry.clone())
                    .collect();
                if let Some(consumer) = fan_in(entries, &mut fanouts) {
                    next.set(signal, consumer);
                }
            }
            let ctx =
                ReceiverContext::new(id.clone(), next.clone()).with_resources(resources.clone());
            match factory.create(ctx, value_of(ComponentKind::Receiver, id)) {
                Ok(receiver) => {
                    receivers.push(Member::new(id.clone(), Arc::from(receiver)));
                    receiver_consumers.insert(id.clone(), next);
                }
                Err(error) => errors.push(locate(error, ComponentKind::Receiver, id)),
            }
        }

        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        crate::topology::ServiceTopology::from_resources(&resources).publish(
            crate::topology::TopologySnapshot::from_config(cfg, |id| {
                pipelines
                    .iter()
                    .any(|p| &p.id == id && p.entry.mutates_data())
            }),
        );
        let (host, fatal) = Host::new(
            extensions
                .iter()
                .map(|m: &Member<dyn Extension>| (m.id.clone(), m.component.clone()))
                .collect(),
            resources,
        );
        Ok(Pipelines {
            host,
            fatal: tokio::sync::Mutex::new(fatal),
            extensions,
            exporters,
            connectors,
            pipelines,
            receivers,
            receiver_consumers,
            fanouts,
            state: Mutex::new(State::Built),
        })
    }

    fn transition(&self, from: State, to: State) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if *state == from {
            *state = to;
            true
        } else {
            false
        }
    }

    /// Starts everything: extensions, exporters, processors, receivers. Stops at the first
    /// failure and returns it; then call [`shutdown`](Self::shutdown), which stops what was
    /// started. Calling `start` again (or after shutdown) does nothing.
    pub async fn start(&self) -> Result<(), LifecycleError> {
        if !self.transition(State::Built, State::Started) {
            return Ok(());
        }
        let failed = |kind, id: &ComponentId, pipeline: Option<&PipelineId>, source: BoxError| {
            LifecycleError {
                phase: Phase::Start,
                kind,
                id: id.clone(),
                pipeline: pipeline.cloned(),
                source,
            }
        };
        for m in &self.extensions {
            tracing::debug!(extension = %m.id, "starting");
            m.mark_started();
            m.component
                .start(&self.host)
                .await
                .map_err(|e| failed(ComponentKind::Extension, &m.id, None, e))?;
        }
        let spans = crate::telemetry::SelfSpans::from_resources(self.host.resources());
        for m in &self.exporters {
            tracing::debug!(exporter = %m.id, "starting");
            m.mark_started();
            spans
                .scope(&m.id, m.component.start(&self.host))
                .await
                .map_err(|e| failed(ComponentKind::Exporter, &m.id, None, e))?;
        }
        for level in (0..=self.max_level()).rev() {
            for (_, m) in self.connectors.iter().filter(|(l, _)| *l == level) {
                tracing::debug!(connector = %m.id, "starting");
                m.mark_started();
                m.component
                    .start(&self.host)
                    .await
                    .map_err(|e| failed(ComponentKind::Connector, &m.id, None, e))?;
            }
            for pipeline in self.pipelines.iter().filter(|p| p.level == level) {
                for m in pipeline.processors.iter().rev() {
                    tracing::debug!(processor = %m.id, pipeline = %pipeline.id, "starting");
                    m.mark_started();
                    m.component.start(&self.host).await.map_err(|e| {
                        failed(ComponentKind::Processor, &m.id, Some(&pipeline.id), e)
                    })?;
                }
            }
        }
        for m in &self.receivers {
            tracing::debug!(receiver = %m.id, "starting");
            m.mark_started();
            m.component
                .start(&self.host)
                .await
                .map_err(|e| failed(ComponentKind::Receiver, &m.id, None, e))?;
        }
        Ok(())
    }

    /// Shuts down every component whose start was attempted, receivers first and extensions
    /// last, each bounded by `deadline`. Every component is asked even when others fail or
    /// time out; the failures are returned together. Calling it again does nothing.
    pub async fn shutdown(&self, deadline: Instant) -> Result<(), ShutdownErrors> {
        let was_started = self.transition(State::Started, State::Stopped);
        if !was_started && !self.transition(State::Built, State::Stopped) {
            return Ok(());
        }
        let mut errors = Vec::new();

        errors.extend(
            stop_all(
                ComponentKind::Receiver,
                self.receivers.iter().filter(|m| m.was_started()),
                deadline,
                |c| c.shutdown(deadline),
            )
            .await,
        );

        for level in 0..=self.max_level() {
            let processors: Vec<BoxFuture<'_, Vec<LifecycleError>>> = self
                .pipelines
                .iter()
                .filter(|p| p.level == level)
                .map(|pipeline| -> BoxFuture<'_, Vec<LifecycleError>> {
                    Box::pin(async move {
                        let mut errors = Vec::new();
                        for m in pipeline.processors.iter().filter(|m| m.was_started()) {
                            let fut = m.component.shutdown(deadline);
                            if let Err(e) = stop(
                                ComponentKind::Processor,
                                &m.id,
                                Some(&pipeline.id),
                                deadline,
                                fut,
                            )
                            .await
                            {
                                errors.push(e);
                            }
                        }
                        errors
                    })
                })
                .collect();
            errors.extend(join_all(processors).await.into_iter().flatten());
            let connectors = self
                .connectors
                .iter()
                .filter(|(l, m)| *l == level && m.was_started())
                .map(|(_, m)| m);
            errors.extend(
                stop_all(ComponentKind::Connector, connectors, deadline, |c| {
                    c.shutdown(deadline)
                })
                .await,
            );
        }

        errors.extend(
            stop_all(
                ComponentKind::Exporter,
                self.exporters.iter().filter(|m| m.was_started()),
                deadline,
                |c| c.shutdown(deadline),
            )
            .await,
        );

        for m in self.extensions.iter().rev().filter(|m| m.was_started()) {
            let fut = m.component.shutdown(deadline);
            if let Err(e) = stop(ComponentKind::Extension, &m.id, None, deadline, fut).await {
                errors.push(e);
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(ShutdownErrors(errors))
        }
    }

    /// Waits for a component to report a fatal error after start (through
    /// [`Host::report_fatal`]); the collector then shuts down and exits non-zero. Pending
    /// forever when none does.
    pub async fn fatal_error(&self) -> FatalError {
        let mut fatal = self.fatal.lock().await;
        match fatal.recv().await {
            Some(error) => error,
            // Unreachable while `self.host` holds a sender; wait like "no error ever".
            None => std::future::pending().await,
        }
    }

    fn max_level(&self) -> usize {
        self.pipelines.iter().map(|p| p.level).max().unwrap_or(0)
    }

    /// The connector instances built (one per id and pair of signals), in build order.
    pub fn connector_ids(&self) -> impl Iterator<Item = &ComponentId> {
        self.connectors.iter().map(|(_, m)| &m.id)
    }

    /// The host components were started with.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The pipelines, in id order.
    pub fn pipeline_ids(&self) -> impl Iterator<Item = &PipelineId> {
        self.pipelines.iter().map(|p| &p.id)
    }

    /// The first consumer of a pipeline: data given to it goes through the pipeline's
    /// processors and exporters, as if a receiver of the pipeline had received it.
    pub fn pipeline(&self, id: &PipelineId) -> Option<Arc<dyn Consumer>> {
        self.pipelines
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.entry.clone())
    }

    /// The consumers a receiver was built with.
    pub fn receiver_consumers(&self, id: &ComponentId) -> Option<&NextConsumers> {
        self.receiver_consumers.get(id)
    }

    /// The receivers built, in id order.
    pub fn receiver_ids(&self) -> impl Iterator<Item = &ComponentId> {
        self.receivers.iter().map(|m| &m.id)
    }

    /// The exporters built, in id order.
    pub fn exporter_ids(&self) -> impl Iterator<Item = &ComponentId> {
        self.exporters.iter().map(|m| &m.id)
    }

    /// The extensions built, in start order.
    pub fn extension_ids(&self) -> impl Iterator<Item = &ComponentId> {
        self.extensions.iter().map(|m| &m.id)
    }

    /// Deep copies made by all fan-outs of the graph so far (see [`FanOut`]).
    pub fn deep_copies(&self) -> u64 {
        self.fanouts.iter().map(|f| f.deep_copies()).sum()
    }
}

/// The shutdown of every member given, all at once, each bounded by the deadline: the
/// failures.
async fn stop_all<'a, T: ?Sized + 'a>(
    kind: ComponentKind,
    members: impl Iterator<Item = &'a Member<T>>,
    deadline: Instant,
    shutdown: impl Fn(&'a T) -> BoxFuture<'a, Result<(), BoxError>>,
) -> Vec<LifecycleError> {
    let stops: Vec<BoxFuture<'a, Result<(), LifecycleError>>> = members
        .map(|m| stop(kind, &m.id, None, deadline, shutdown(&*m.component)))
        .collect();
    join_all(stops)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

/// One component's shutdown, bounded by the deadline, as a lifecycle result.
fn stop<'a>(
    kind: ComponentKind,
    id: &'a ComponentId,
    pipeline: Option<&'a PipelineId>,
    deadline: Instant,
    shutdown: BoxFuture<'a, Result<(), BoxError>>,
) -> BoxFuture<'a, Result<(), LifecycleError>> {
    Box::pin(async move {
        tracing::debug!(%kind, %id, "shutting down");
        let result = match tokio::time::timeout_at(deadline, shutdown).await {
            Ok(result) => result,
            Err(_) => Err(Box::new(DeadlineExceeded) as BoxError),
        };
        result.map_err(|source| LifecycleError {
            phase: Phase::Shutdown,
            kind,
            id: id.clone(),
            pipeline: pipeline.cloned(),
            source,
        })
    })
}

impl std::fmt::Debug for Pipelines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipelines")
            .field("extensions", &self.extension_ids().collect::<Vec<_>>())
            .field("receivers", &self.receiver_ids().collect::<Vec<_>>())
            .field("pipelines", &self.pipeline_ids().collect::<Vec<_>>())
            .field("exporters", &self.exporter_ids().collect::<Vec<_>>())
            .field("connectors", &self.connector_ids().collect::<Vec<_>>())
            .finish()
    }
}
