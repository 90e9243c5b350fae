//! The `loadbalancing` exporter (alias `load_balancing`, the Go collector's newer name):
//! every item goes to the backend a consistent-hashing ring picks for its routing key, so
//! that everything of one trace (or service, metric, stream…) reaches the same collector of
//! the next tier — what `tail_sampling` or `spanmetrics` there needs.
//!
//! # Shape
//!
//! - [`config`](LoadBalancingConfig): the Go exporter's keys — `protocol.otlp` (the otlp
//!   exporter's settings, applied to every backend with `endpoint` replaced by the backend's),
//!   `resolver` (`static` or `dns`; `k8s` and `aws_cloud_map` are refused naming the key),
//!   `routing_key` and `routing_attributes`. Which key routes which signal, and the bytes
//!   hashed, are in [`keys`](RoutingKey); a key a pipeline's signal cannot use is refused when
//!   the exporter is built (before any port opens), naming `routing_key`.
//! - [`ring`]: the Go exporter's ring (v0.157 and later), position for position: for the same
//!   member list a key reaches the same member as from Go's exporter (tested against the Go
//!   collector v0.160, trace ids and service names).
//! - Each backend is an `otlp` (gRPC) exporter of its own
//!   ([`OtlpExporterComponent::grpc`](crate::otlp::OtlpExporterComponent::grpc)) with the id
//!   `loadbalancing[/NAME]/ENDPOINT`, so its queue, retry, timeout, TLS and compression are
//!   per backend, and so are its `otelcol_exporter_*` metrics.
//! - A request whose items have several keys is taken apart ([`split`](split_traces)): each
//!   backend gets one request with its items, under copies of their resources and scopes. A
//!   request whose items all go to one backend is passed on whole, its received protobuf
//!   bytes included (no re-encoding).
//!
//! # Resolvers
//!
//! `static` builds the ring once at start from the sorted hostnames. `dns` resolves
//! `hostname` at start and then every `interval` (5 s), each query bounded by `timeout`
//! (1 s); a failed query keeps the current backends. When the answer changes the ring is
//! rebuilt: new backends' exporters are created and started first, the new ring is swapped
//! in, and removed backends are drained — shut down with their queues flushed (bounded by
//! their retry budget), then dropped — in the background. A request that a removed backend
//! refused because it was already closing is routed again, once, over the new ring (Go loses
//! such requests; its issue 1690).
//!
//! # Failover
//!
//! A backend that is down keeps its share of keys: Go's exporter does not re-route either
//! (re-routing would split traces between two backends). What its exporter's queue accepted
//! stays there and is retried with `protocol.otlp.retry_on_failure`'s backoff until the
//! backend is back (or the retry budget ends, counted in `otelcol_exporter_send_failed_*`); a
//! full queue refuses retryably, so the sender retries. With `sending_queue.enabled: false`
//! the backend's refusal goes back to the sender. Only a change of membership moves keys.
//!
//! # Acknowledgement
//!
//! `Ok` once every part was accepted by its backend's exporter (queued, or exported without
//! a queue). When some part is refused the error goes back (retryable wins); a plain
//! `consume` caller then retries everything, so the parts already accepted may arrive twice
//! (at-least-once, as in Go and in any fan-out); a caller of `consume_or_return` (the batch
//! processor) gets back only the refused parts. Metric points without a key (`routing_key:
//! service` and no `service.name`) cannot be routed: they are counted in
//! `otelcol_exporter_send_failed_metric_points_total` and logged (Go drops them with an error
//! log); a request with nothing routable is refused permanently.
//!
//! # Counting
//!
//! The Go exporter's metrics, with an `exporter` label: `otelcol_loadbalancer_num_backends`
//! and `_num_backend_updates_total` (label `resolver`), `_num_resolutions_total` (`resolver`,
//! `success`), `_backend_outcome_total` (`endpoint`, `success`: consume calls per backend)
//! and the histogram `_backend_latency` (`endpoint`, milliseconds, Go's buckets). At the
//! exporter level, `otelcol_exporter_sent_*` counts items a backend accepted and
//! `_send_failed_*` items refused or unroutable; each backend's own exporter counts what it
//! sends under its own id.
//!
//! # Differences from Go (v0.160)
//!
//! - `service` routing of traces splits by resource, so a request (or a trace) with spans of
//!   two services sends each service's spans to its backend; Go sends the whole trace to the
//!   backends of all its services (duplicates).
//! - `attributes` routing of traces computes the key per span (Go: from the trace's first
//!   span).
//! - `resource` and `streamID` keys are our own stable text, not Go's internal hashes (see
//!   [`keys`](RoutingKey)).
//! - The exporter-level `timeout`, `retry_on_failure` and `sending_queue` (off by default in
//!   Go) are accepted only disabled: the per-backend settings under `protocol.otlp` do that
//!   work. Go's newer `log_batcher`, `metric_batcher`, `endpoint_health` and `log_routing`
//!   are not supported (unknown keys).
//! - A backend whose exporter cannot be created or started is left out of the ring (Go keeps
//!   it in the ring, and its keys fail).

mod config;
mod keys;
mod members;
mod resolver;
pub mod ring;
mod split;
#[cfg(test)]
mod tests;
mod value;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{
    DEFAULT_DNS_INTERVAL, DEFAULT_DNS_TIMEOUT, DEFAULT_PORT, DnsResolverConfig,
    LoadBalancingConfig, ProtocolConfig, ResolverChoice, ResolverConfig, StaticResolverConfig,
};
pub use keys::{Assignment, RoutingKey, assign_logs, assign_metrics, assign_traces};
pub use members::LATENCY_BOUNDS_MS;
pub use resolver::{
    DnsResolver, Lookup, LookupFuture, ResolveError, SystemLookup, endpoint_with_port,
};
pub use split::{Split, split_logs, split_metrics, split_traces};

use members::{Backend, Current, LoadBalancerMetrics, Members};

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::graph::{BoxFuture, join_all};
use otlp_pipeline::task::{BackgroundTask, every};
use otlp_pipeline::telemetry::{Counter, Metrics, item_unit, item_words};

use crate::otlp::{OtlpExporterComponent, OtlpExporterConfig};

/// Builds a backend's exporter from its context (id `loadbalancing[/NAME]/ENDPOINT`) and its
/// otlp settings (`protocol.otlp` with the backend's endpoint). The default builds an `otlp`
/// gRPC exporter; a program may supply its own (a test, a benchmark).
pub type BackendFactory = Arc<
    dyn Fn(ExporterContext, OtlpExporterConfig) -> Result<Arc<dyn Exporter>, ConfigError>
        + Send
        + Sync,
>;

/// The default [`BackendFactory`]: an `otlp` (gRPC) exporter per backend.
pub fn otlp_backends() -> BackendFactory {
    Arc::new(|ctx, config| {
        let exporter: Arc<dyn Exporter> = Arc::new(OtlpExporterComponent::grpc(ctx, config)?);
        Ok(exporter)
    })
}

/// Exporter-level counters of one signal.
struct SignalCounters {
    sent: Counter,
    send_failed: Counter,
}

/// What the resolver task and the exporter share.
struct Shared {
    id: ComponentId,
    signals: SignalSet,
    resources: otlp_pipeline::Resources,
    config: LoadBalancingConfig,
    factory: BackendFactory,
    current: Current,
    /// Serializes membership changes (start, the resolver task, shutdown).
    update: tokio::sync::Mutex<()>,
    /// The resolver's last answer.
    resolved: Mutex<Vec<String>>,
    host: OnceLock<Host>,
    draining: Mutex<Vec<JoinHandle<()>>>,
    drain_timeout: Duration,
    generation: AtomicU64,
    metrics: LoadBalancerMetrics,
}

/// The `loadbalancing` exporter.
pub struct LoadBalancingExporter {
    shared: Arc<Shared>,
    resolver: ResolverChoice,
    dns: Option<DnsResolver>,
    routing: [Option<RoutingKey>; 4],
    counters: [SignalCounters; 4],
    task: BackgroundTask,
    random: AtomicU64,
}

/// The id of the backend exporter for `endpoint`: `loadbalancing[/NAME]/ENDPOINT`.
fn backend_id(parent: &ComponentId, endpoint: &str) -> ComponentId {
    let name = match parent.name() {
        Some(name) => format!("{name}/{endpoint}"),
        None => endpoint.to_owned(),
    };
    ComponentId::new(parent.type_name(), Some(&name)).unwrap_or_else(|_| {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "./:-_[]".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        ComponentId::new(parent.type_name(), Some(&safe)).unwrap_or_else(|_| parent.clone())
    })
}

/// How long a removed backend may take to flush its queue.
fn drain_timeout(otlp: &OtlpExporterConfig) -> Duration {
    let retry = &otlp.retry_on_failure;
    if retry.enabled {
        let budget = if retry.max_elapsed_time.is_zero() {
            Duration::from_secs(300)
        } else {
            retry.max_elapsed_time
        };
        budget + otlp.timeout
    } else {
        otlp.timeout + Duration::from_secs(1)
    }
}

impl Shared {
    async fn create_backend(&self, member: &str) -> Result<Backend, BoxError> {
        let endpoint = endpoint_with_port(member);
        let ctx = ExporterContext::new(backend_id(&self.id, &endpoint), self.signals)
            .with_resources(self.resources.clone());
        let exporter = (self.factory)(ctx, self.config.backend_config(&endpoint))?;
        let host = self.host.get().cloned().unwrap_or_else(Host::empty);
        exporter.start(&host).await?;
        Ok(self.metrics.backend(member, &endpoint, exporter))
    }

    /// Makes `members` (sorted, distinct) the backends: starts the new ones, swaps the ring,
    /// drains the removed ones in the background.
    async fn apply(&self, members: Vec<String>) {
        let _guard = self.update.lock().await;
        {
            let mut resolved = self.resolved.lock().unwrap_or_else(PoisonError::into_inner);
            if *resolved != members {
                self.metrics.updates.add(1);
                *resolved = members.clone();
            }
        }
        let current = self.current.get();
        let unchanged = current.backends.len() == members.len()
            && current
                .backends
                .iter()
                .zip(&members)
                .all(|(b, m)| b.member == *m);
        if unchanged && current.generation > 0 {
            return;
        }
        let mut backends = Vec::with_capacity(members.len());
        for member in &members {
            if let Some(backend) = current.find(member) {
                backends.push(Arc::clone(backend));
                continue;
            }
            match self.create_backend(member).await {
                Ok(backend) => {
                    tracing::info!(exporter = %self.id, backend = %backend.endpoint, "backend added");
                    backends.push(Arc::new(backend));
                }
                Err(error) => {
                    tracing::error!(exporter = %self.id, %member, %error, "cannot start the exporter of a backend; it is left out of the ring");
                }
            }
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let count = backends.len();
        let previous = self.current.set(Members::new(backends, generation));
        self.metrics.backends.set(count as i64);
        let now = self.current.get();
        for old in &previous.backends {
            if now.find(&old.member).is_none() {
                self.drain(Arc::clone(old));
            }
        }
    }

    /// Shuts `backend` down in the background, its queue flushed by the drain timeout.
    fn drain(&self, backend: Arc<Backend>) {
        tracing::info!(exporter = %self.id, backend = %backend.endpoint, "backend removed; draining its queue");
        let deadline = Instant::now() + self.drain_timeout;
        let id = self.id.clone();
        let handle = tokio::spawn(async move {
            if let Err(error) = backend.exporter.shutdown(deadline).await {
                tracing::warn!(exporter = %id, backend = %backend.endpoint, %error, "draining a removed backend");
            }
        });
        let mut draining = self.draining.lock().unwrap_or_else(PoisonError::into_inner);
        draining.retain(|h| !h.is_finished());
        draining.push(handle);
    }
}

/// One part of a request on its way to a backend.
struct Part {
    backend: Arc<Backend>,
    data: Telemetry,
    items: u64,
}

/// A part's backend, its items and what the backend answered.
type Delivered = (Arc<Backend>, u64, Result<(), Refused>);

/// What happened to the parts of one request.
#[derive(Default)]
struct Outcome {
    errors: Vec<ConsumeError>,
    /// Refused parts the backend handed back, with the backend that refused them.
    returned: Vec<(Arc<Backend>, Telemetry)>,
}

/// The union of requests of one signal.
fn merge(parts: Vec<Telemetry>) -> Option<Telemetry> {
    let mut parts = parts.into_iter();
    let first = parts.next()?;
    let context = first.context().clone();
    let mut payload = first.into_payload();
    for part in parts {
        match (&mut payload, part.into_payload()) {
            (Payload::Traces(a), Payload::Traces(b)) => a.resource_spans.extend(b.resource_spans),
            (Payload::Metrics(a), Payload::Metrics(b)) => {
                a.resource_metrics.extend(b.resource_metrics)
            }
            (Payload::Logs(a), Payload::Logs(b)) => a.resource_logs.extend(b.resource_logs),
            (Payload::Profiles(a), Payload::Profiles(b)) => {
                a.resource_profiles.extend(b.resource_profiles)
            }
            _ => {}
        }
    }
    Some(Telemetry::new(payload).with_context(context))
}

impl LoadBalancingExporter {
    /// Builds the exporter with an `otlp` exporter per backend and the system resolver.
    pub fn new(
        ctx: ExporterContext,
        config: LoadBalancingConfig,
    ) -> Result<LoadBalancingExporter, ConfigError> {
        LoadBalancingExporter::with_parts(ctx, config, otlp_backends(), Arc::new(SystemLookup))
    }

    /// Builds the exporter with `factory` making the backends' exporters and `lookup`
    /// resolving `resolver.dns.hostname`.
    pub fn with_parts(
        ctx: ExporterContext,
        config: LoadBalancingConfig,
        factory: BackendFactory,
        lookup: Arc<dyn Lookup>,
    ) -> Result<LoadBalancingExporter, ConfigError> {
        let resolver = config.resolver()?;
        let mut routing: [Option<RoutingKey>; 4] = Default::default();
        for signal in ctx.signals.iter() {
            routing[signal.index()] = Some(config.routing_key(signal)?);
        }
        if !config.routing_attributes.is_empty() && config.routing_key.trim() != "attributes" {
            tracing::warn!(exporter = %ctx.id, "routing_attributes is only read with routing_key: attributes; it is ignored");
        }
        let dns = match &resolver {
            ResolverChoice::Dns(dns) => Some(DnsResolver::new(
                dns.hostname.clone(),
                dns.port.clone(),
                dns.effective_timeout(),
                lookup,
            )),
            ResolverChoice::Static(_) => None,
        };
        let metrics = Metrics::from_resources(&ctx.resources);
        let labels = [("exporter", ctx.id.as_str())];
        let counters = Signal::ALL.map(|signal| SignalCounters {
            sent: metrics.counter(
                &format!("otelcol_exporter_sent_{}_total", item_unit(signal)),
                &format!(
                    "Number of {} successfully sent to destination. [alpha]",
                    item_words(signal)
                ),
                &labels,
            ),
            send_failed: metrics.counter(
                &format!("otelcol_exporter_send_failed_{}_total", item_unit(signal)),
                &format!(
                    "Number of {} in failed attempts to send to destination. [alpha]",
                    item_words(signal)
                ),
                &labels,
            ),
        });
        let shared = Shared {
            metrics: LoadBalancerMetrics::new(metrics, ctx.id.as_str(), resolver.label()),
            drain_timeout: drain_timeout(&config.protocol.otlp),
            id: ctx.id,
            signals: ctx.signals,
            resources: ctx.resources,
            config,
            factory,
            current: Current::new(),
            update: tokio::sync::Mutex::new(()),
            resolved: Mutex::new(Vec::new()),
            host: OnceLock::new(),
            draining: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
        };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64);
        Ok(LoadBalancingExporter {
            shared: Arc::new(shared),
            resolver,
            dns,
            routing,
            counters,
            task: BackgroundTask::new("the loadbalancing DNS resolver"),
            random: AtomicU64::new(seed),
        })
    }

    /// The ring members now (sorted), for tests and diagnostics.
    pub fn members(&self) -> Vec<String> {
        self.shared.current.get().ring.members().to_vec()
    }

    /// The member that `key` goes to now.
    pub fn member_for(&self, key: &[u8]) -> Option<String> {
        self.shared
            .current
            .get()
            .ring
            .endpoint_for(key)
            .map(str::to_owned)
    }

    /// A random routing key (SplitMix64 over a counter seeded by the clock).
    fn random_key(&self) -> [u8; 16] {
        let next = || {
            let mut z = self
                .random
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&next().to_be_bytes());
        key[8..].copy_from_slice(&next().to_be_bytes());
        key
    }

    fn assign(&self, data: &Telemetry, routing: &RoutingKey, members: &Members) -> Assignment {
        match data.payload() {
            Payload::Traces(r) => assign_traces(r, routing, &members.ring),
            Payload::Metrics(r) => assign_metrics(r, routing, &members.ring),
            Payload::Logs(r) => assign_logs(r, routing, &members.ring, &mut || self.random_key()),
            Payload::Profiles(_) => Assignment::default(),
        }
    }

    /// Splits `data` into one part per backend (and the unroutable rest, counted here).
    fn parts(
        &self,
        data: Telemetry,
        routing: &RoutingKey,
        members: &Members,
    ) -> Result<Vec<Part>, Refused> {
        let signal = data.signal();
        let assignment = self.assign(&data, routing, members);
        if let Some(target) = assignment.single() {
            let items = data.item_count() as u64;
            return Ok(vec![Part {
                backend: Arc::clone(&members.backends[target as usize]),
                data,
                items,
            }]);
        }
        let n = members.backends.len();
        let (payload, context) = data.into_parts();
        let (parts, unroutable): (Vec<(usize, Payload)>, Option<Payload>) = match payload {
            Payload::Traces(r) => {
                let split = split_traces(r, &assignment, n);
                (
                    into_payloads(split.parts),
                    split.unroutable.map(Payload::from),
                )
            }
            Payload::Metrics(r) => {
                let split = split_metrics(r, &assignment, n);
                (
                    into_payloads(split.parts),
                    split.unroutable.map(Payload::from),
                )
            }
            Payload::Logs(r) => {
                let split = split_logs(r, &assignment, n);
                (
                    into_payloads(split.parts),
                    split.unroutable.map(Payload::from),
                )
            }
            Payload::Profiles(_) => (Vec::new(), None),
        };
        if let Some(rest) = unroutable {
            let items = rest.item_count() as u64;
            self.counters[signal.index()].send_failed.add(items);
            tracing::warn!(exporter = %self.shared.id, %signal, items, routing_key = routing.name(), "items without a routing key (no service.name) cannot be routed; they are dropped");
        }
        if parts.is_empty() {
            return Err(Refused {
                error: ConsumeError::permanent(format!(
                    "no item of the request has a {} routing key",
                    routing.name()
                )),
                data: None,
            });
        }
        Ok(parts
            .into_iter()
            .map(|(member, payload)| {
                let items = payload.item_count() as u64;
                Part {
                    backend: Arc::clone(&members.backends[member]),
                    data: Telemetry::new(payload).with_context(context.clone()),
                    items,
                }
            })
            .collect())
    }

    /// Hands every part to its backend, concurrently, in this task.
    async fn dispatch(&self, parts: Vec<Part>, signal: Signal) -> Outcome {
        let counters = &self.counters[signal.index()];
        let futures: Vec<BoxFuture<'_, Delivered>> = parts
            .into_iter()
            .map(|part| {
                let future: BoxFuture<'_, _> = Box::pin(async move {
                    let started = std::time::Instant::now();
                    let result = part.backend.exporter.consume_or_return(part.data).await;
                    part.backend.latency.record(started.elapsed());
                    (part.backend, part.items, result)
                });
                future
            })
            .collect();
        let mut outcome = Outcome::default();
        for (backend, items, result) in join_all(futures).await {
            match result {
                Ok(()) => {
                    backend.succeeded.add(1);
                    counters.sent.add(items);
                }
                Err(refused) => {
                    backend.failed.add(1);
                    tracing::debug!(exporter = %self.shared.id, backend = %backend.endpoint, error = %refused.error, "a backend refused its part");
                    match refused.data {
                        Some(data) => outcome.returned.push((backend, data)),
                        None => counters.send_failed.add(items),
                    }
                    outcome.errors.push(refused.error);
                }
            }
        }
        outcome
    }

    async fn route(&self, data: Telemetry) -> Result<(), Refused> {
        let signal = data.signal();
        let Some(routing) = self.routing[signal.index()].as_ref() else {
            return Err(Refused {
                error: ConsumeError::permanent(format!(
                    "no pipeline of this exporter carries {signal}"
                )),
                data: Some(data),
            });
        };
        let mut data = data;
        // Once more at most: a part refused by a backend that left the ring meanwhile.
        for attempt in 0..2 {
            let members = self.shared.current.get();
            if members.backends.is_empty() {
                self.counters[signal.index()]
                    .send_failed
                    .add(data.item_count() as u64);
                return Err(Refused {
                    error: ConsumeError::retryable("loadbalancing: no backend is resolved yet")
                        .with_retry_after(Duration::from_secs(1)),
                    data: Some(data),
                });
            }
            if data.item_count() == 0 {
                return Ok(());
            }
            let parts = self.parts(data, routing, &members)?;
            let outcome = self.dispatch(parts, signal).await;
            let Some(error) = ConsumeError::merge(outcome.errors) else {
                return Ok(());
            };
            let now = self.shared.current.get();
            let left: bool = outcome.returned.iter().any(|(backend, _)| {
                now.find(&backend.member)
                    .is_none_or(|current| !Arc::ptr_eq(current, backend))
            });
            let returned = merge(outcome.returned.into_iter().map(|(_, d)| d).collect());
            match returned {
                Some(again) if attempt == 0 && left && error.is_retryable() => {
                    tracing::debug!(exporter = %self.shared.id, "re-routing a part refused by a removed backend");
                    data = again;
                }
                returned => {
                    if let Some(back) = &returned {
                        self.counters[signal.index()]
                            .send_failed
                            .add(back.item_count() as u64);
                    }
                    return Err(Refused {
                        error,
                        data: returned,
                    });
                }
            }
        }
        Err(Refused {
            error: ConsumeError::retryable("loadbalancing: the ring kept changing"),
            data: None,
        })
    }

    async fn resolve_once(shared: &Shared, dns: &DnsResolver) {
        match dns.resolve().await {
            Ok(members) => {
                shared.metrics.resolutions_ok.add(1);
                shared.apply(members).await;
            }
            Err(error) => {
                shared.metrics.resolutions_failed.add(1);
                tracing::warn!(exporter = %shared.id, %error, "DNS resolution failed; keeping the current backends");
            }
        }
    }
}

fn into_payloads<R: Into<Payload>>(parts: Vec<(usize, R)>) -> Vec<(usize, Payload)> {
    parts.into_iter().map(|(m, r)| (m, r.into())).collect()
}

#[async_trait]
impl Consumer for LoadBalancingExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.route(data).await.map_err(|refused| refused.error)
    }

    /// Hands back only the parts that were refused (merged into one request), so a batch
    /// processor in front retries those and not the parts other backends took.
    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.route(data).await
    }
}

#[async_trait]
impl Exporter for LoadBalancingExporter {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.shared
            .host
            .set(host.clone())
            .map_err(|_| "the exporter was already started")?;
        match (&self.resolver, &self.dns) {
            (ResolverChoice::Static(members), _) => {
                self.shared.metrics.resolutions_ok.add(1);
                self.shared.apply(members.clone()).await;
            }
            (ResolverChoice::Dns(config), Some(dns)) => {
                LoadBalancingExporter::resolve_once(&self.shared, dns).await;
                let shared = Arc::clone(&self.shared);
                let dns = dns.clone();
                let interval = config.effective_interval();
                self.task.start(move |mut stopped| async move {
                    let mut ticks = every(interval);
                    loop {
                        tokio::select! {
                            _ = &mut stopped => break,
                            _ = ticks.tick() => {
                                LoadBalancingExporter::resolve_once(&shared, &dns).await;
                            }
                        }
                    }
                })?;
            }
            (ResolverChoice::Dns(_), None) => return Err("the DNS resolver is missing".into()),
        }
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        if !self.task.stop(deadline).await {
            tracing::warn!(exporter = %self.shared.id, "the DNS resolver did not stop by the deadline");
        }
        let _guard = self.shared.update.lock().await;
        let members = self.shared.current.set(Members::empty());
        self.shared.metrics.backends.set(0);
        let futures: Vec<BoxFuture<'_, (String, Result<(), BoxError>)>> = members
            .backends
            .iter()
            .map(|backend| {
                let future: BoxFuture<'_, _> = Box::pin(async move {
                    (
                        backend.endpoint.clone(),
                        backend.exporter.shutdown(deadline).await,
                    )
                });
                future
            })
            .collect();
        let mut failures = Vec::new();
        for (endpoint, result) in join_all(futures).await {
            if let Err(error) = result {
                failures.push(format!("{endpoint}: {error}"));
            }
        }
        let draining: Vec<JoinHandle<()>> = std::mem::take(
            &mut *self
                .shared
                .draining
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for mut handle in draining {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                failures.push("a removed backend did not drain by the deadline".into());
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; ").into())
        }
    }
}

impl std::fmt::Debug for LoadBalancingExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadBalancingExporter")
            .field("id", &self.shared.id)
            .field("resolver", &self.resolver)
            .field("members", &self.members())
            .finish_non_exhaustive()
    }
}

/// The `loadbalancing` exporter factory (alias `load_balancing`).
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "loadbalancing",
        SignalSet::TRACES_METRICS_LOGS,
        |ctx, config: LoadBalancingConfig| Ok(Box::new(LoadBalancingExporter::new(ctx, config)?)),
    )
    .with_aliases(&["load_balancing"])
}
