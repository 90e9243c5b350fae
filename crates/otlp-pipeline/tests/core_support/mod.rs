//! Test components for the core tests: stand-ins registered under the real otelcol type names
//! (with typed configurations shaped like the real ones, so real files validate), and probe
//! components that record what happens to them.

// Helpers of tests: panicking on a broken fixture is the point.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use otlp_pipeline::config::duration;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::{
    BoxError, ComponentId, ComponentKind, ConfigError, Connector, ConsumeError, Consumer, Exporter,
    Extension, Host, NextConsumers, Processor, Receiver, Registry, Signal, SignalSet, Telemetry,
};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

pub fn config_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(name)
}

/// An environment for substitution tests.
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

// ---------------------------------------------------------------------------------------------
// Stand-ins under otelcol names: they validate like the real components and do nothing.

struct Noop;

#[async_trait]
impl Receiver for Noop {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        Ok(())
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }
}

#[async_trait]
impl Consumer for Noop {
    async fn consume(&self, _data: Telemetry) -> Result<(), ConsumeError> {
        Ok(())
    }
}
impl Exporter for Noop {}
impl Extension for Noop {}

/// A processor that passes data on.
struct Pass(Arc<dyn Consumer>);

#[async_trait]
impl Consumer for Pass {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.0.consume(data).await
    }
}
impl Processor for Pass {}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpReceiverConfig {
    pub protocols: Protocols,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocols {
    pub grpc: Option<ServerConfig>,
    pub http: Option<ServerConfig>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub endpoint: String,
    pub include_metadata: bool,
}
impl ComponentConfig for OtlpReceiverConfig {}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    #[serde(with = "duration::option")]
    pub timeout: Option<Duration>,
    pub send_batch_size: u32,
    pub send_batch_max_size: u32,
}

impl ComponentConfig for BatchConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.send_batch_max_size != 0 && self.send_batch_max_size < self.send_batch_size {
            return Err(ConfigError::bad_value(
                "send_batch_max_size",
                "must be greater than or equal to send_batch_size",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryLimiterConfig {
    #[serde(with = "duration::option")]
    pub check_interval: Option<Duration>,
    pub limit_mib: u64,
    pub spike_limit_mib: u64,
}
impl ComponentConfig for MemoryLimiterConfig {}

/// Accepts any map (for components whose real configuration is not the point).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AnyConfig {
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}
impl ComponentConfig for AnyConfig {}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpExporterConfig {
    pub endpoint: String,
    pub tls: TlsConfig,
    pub headers: BTreeMap<String, String>,
    pub compression: Option<String>,
    #[serde(with = "duration::option")]
    pub timeout: Option<Duration>,
    pub sending_queue: Option<Value>,
    pub retry_on_failure: Option<Value>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub insecure: bool,
}

impl ComponentConfig for OtlpExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoint.is_empty() {
            return Err(ConfigError::bad_value("endpoint", "must be set"));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DebugConfig {
    pub verbosity: Option<String>,
}
impl ComponentConfig for DebugConfig {}

/// The filter processor's one signal-dependent rule we mimic: `log_bodies` only in logs.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    pub log_bodies: Vec<String>,
}

impl ComponentConfig for FilterConfig {
    fn validate_for_signal(&self, signal: Signal) -> Result<(), ConfigError> {
        if !self.log_bodies.is_empty() && signal != Signal::Logs {
            return Err(ConfigError::bad_value(
                "log_bodies",
                format!("is only valid for logs, not {signal}"),
            ));
        }
        Ok(())
    }
}

fn noop_receiver() -> Result<Box<dyn Receiver>, ConfigError> {
    Ok(Box::new(Noop))
}

/// A registry with stand-ins for the components the otelcol files in `tests/configs` use.
pub fn otelcol_registry() -> Registry {
    let tml = SignalSet::TRACES_METRICS_LOGS;
    let mut r = Registry::default();
    r.register_receiver(FnFactory::receiver(
        "otlp",
        SignalSet::ALL,
        |_, _: OtlpReceiverConfig| noop_receiver(),
    ))
    .expect("register");
    r.register_receiver(FnFactory::receiver(
        "zipkin",
        Signal::Traces,
        |_, _: AnyConfig| noop_receiver(),
    ))
    .expect("register");
    r.register_processor(FnFactory::processor(
        "batch",
        SignalSet::ALL,
        |ctx, _: BatchConfig| Ok(Box::new(Pass(ctx.next))),
    ))
    .expect("register");
    r.register_processor(FnFactory::processor(
        "memory_limiter",
        SignalSet::ALL,
        |ctx, _: MemoryLimiterConfig| Ok(Box::new(Pass(ctx.next))),
    ))
    .expect("register");
    r.register_processor(FnFactory::processor(
        "attributes",
        tml,
        |ctx, _: AnyConfig| Ok(Box::new(Pass(ctx.next))),
    ))
    .expect("register");
    r.register_processor(FnFactory::processor(
        "filter",
        tml,
        |ctx, _: FilterConfig| Ok(Box::new(Pass(ctx.next))),
    ))
    .expect("register");
    r.register_exporter(
        FnFactory::exporter("otlp", SignalSet::ALL, |_, _: OtlpExporterConfig| {
            Ok(Box::new(Noop))
        })
        .with_aliases(&["otlp_grpc"]),
    )
    .expect("register");
    r.register_exporter(
        FnFactory::exporter("otlphttp", SignalSet::ALL, |_, _: OtlpExporterConfig| {
            Ok(Box::new(Noop))
        })
        .with_aliases(&["otlp_http"]),
    )
    .expect("register");
    r.register_exporter(FnFactory::exporter(
        "debug",
        SignalSet::ALL,
        |_, _: DebugConfig| Ok(Box::new(Noop)),
    ))
    .expect("register");
    for extension in ["health_check", "pprof", "zpages", "file_storage"] {
        r.register_extension(FnFactory::extension(extension, |_, _: AnyConfig| {
            Ok(Box::new(Noop))
        }))
        .expect("register");
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Probes: components that record what happens to them, through a shared `Probe` resource.

/// What the probe components saw.
#[derive(Default)]
pub struct Probe {
    /// Lifecycle events in order: "start exporter count/a", "shutdown processor mutate (traces)".
    pub events: Mutex<Vec<String>>,
    /// Every delivery to an exporter, kept alive (so allocations are never reused).
    pub deliveries: Mutex<Vec<Delivery>>,
    /// Every processor call: (processor, pipeline, input was shared).
    pub processed: Mutex<Vec<(String, String, bool)>>,
    /// The consumers each probe receiver was built with.
    pub receivers: Mutex<BTreeMap<String, NextConsumers>>,
    /// Factory `create` calls by id.
    pub creates: Mutex<BTreeMap<String, usize>>,
    /// Exporter signals at creation, by id.
    pub exporter_signals: Mutex<BTreeMap<String, SignalSet>>,
}

pub struct Delivery {
    pub exporter: String,
    pub shared_on_arrival: bool,
    pub data: Telemetry,
}

impl Probe {
    pub fn event(&self, text: String) {
        self.events.lock().unwrap().push(text);
    }

    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn created(&self, id: &ComponentId) {
        *self
            .creates
            .lock()
            .unwrap()
            .entry(id.to_string())
            .or_default() += 1;
    }

    pub fn creates(&self, id: &str) -> usize {
        self.creates.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    pub fn next_of(&self, receiver: &str) -> NextConsumers {
        self.receivers
            .lock()
            .unwrap()
            .get(receiver)
            .cloned()
            .expect("receiver built")
    }

    /// Deliveries to `exporter`, as (shared on arrival, data).
    pub fn delivered_to(&self, exporter: &str) -> Vec<Telemetry> {
        self.deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.exporter == exporter)
            .map(|d| d.data.clone())
            .collect()
    }

    pub fn delivery_count(&self) -> usize {
        self.deliveries.lock().unwrap().len()
    }
}

fn probe_of(resources: &otlp_pipeline::Resources) -> Result<Arc<Probe>, ConfigError> {
    resources
        .get::<Probe>()
        .ok_or_else(|| ConfigError::invalid("no Probe resource"))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fail {
    #[default]
    Never,
    Retryable,
    Permanent,
}

impl Fail {
    fn error(self, retry_after: Option<Duration>) -> Option<ConsumeError> {
        match self {
            Fail::Never => None,
            Fail::Retryable => {
                let e = ConsumeError::retryable("backend unavailable");
                Some(match retry_after {
                    Some(d) => e.with_retry_after(d),
                    None => e,
                })
            }
            Fail::Permanent => Some(ConsumeError::permanent("data rejected")),
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeConfig {
    /// Make consume fail.
    pub fail: Fail,
    #[serde(with = "duration::option")]
    pub retry_after: Option<Duration>,
    /// Declare `mutates_data` (and write).
    pub mutates: bool,
    /// Make start fail.
    pub fail_start: bool,
    /// Sleep this long in shutdown.
    #[serde(with = "duration::option")]
    pub slow_shutdown: Option<Duration>,
    /// An extension this component must find at start.
    pub needs_extension: Option<String>,
    /// Report a fatal error right after start.
    pub fatal_after_start: bool,
    /// Make the factory's create fail.
    pub fail_create: bool,
}
impl ComponentConfig for ProbeConfig {}

struct ProbeComponent {
    kind: ComponentKind,
    id: ComponentId,
    pipeline: Option<String>,
    config: ProbeConfig,
    probe: Arc<Probe>,
    next: Option<Arc<dyn Consumer>>,
}

impl ProbeComponent {
    fn label(&self) -> String {
        match &self.pipeline {
            Some(p) => format!("{} {} ({p})", self.kind, self.id),
            None => format!("{} {}", self.kind, self.id),
        }
    }

    async fn do_start(&self, host: &Host) -> Result<(), BoxError> {
        self.probe.event(format!("start {}", self.label()));
        if self.config.fail_start {
            return Err("refusing to start".into());
        }
        if let Some(name) = &self.config.needs_extension {
            let id: ComponentId = name.parse()?;
            if host.extension_as::<ProbeComponent>(&id).is_none() {
                return Err(format!("extension {id} not found").into());
            }
        }
        if self.config.fatal_after_start {
            host.report_fatal(self.kind, self.id.clone(), "listener died");
        }
        Ok(())
    }

    async fn do_shutdown(&self) -> Result<(), BoxError> {
        self.probe.event(format!("shutdown {}", self.label()));
        if let Some(delay) = self.config.slow_shutdown {
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    fn write(&self, data: &mut Telemetry) {
        let marker = otlp_proto::common::v1::KeyValue {
            key: format!("written.by.{}", self.id),
            ..Default::default()
        };
        if let Some(traces) = data.traces_mut() {
            for rs in &mut traces.resource_spans {
                rs.resource
                    .get_or_insert_with(Default::default)
                    .attributes
                    .push(marker.clone());
            }
        }
    }
}

#[async_trait]
impl Receiver for ProbeComponent {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.do_start(host).await
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.do_shutdown().await
    }
}

#[async_trait]
impl Consumer for ProbeComponent {
    async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
        let shared = data.is_shared();
        if self.config.mutates {
            self.write(&mut data);
        }
        match &self.next {
            // A processor.
            Some(next) => {
                self.probe.processed.lock().unwrap().push((
                    self.id.to_string(),
                    self.pipeline.clone().unwrap_or_default(),
                    shared,
                ));
                if let Some(error) = self.config.fail.error(self.config.retry_after) {
                    return Err(error);
                }
                next.consume(data).await
            }
            // An exporter.
            None => {
                self.probe.deliveries.lock().unwrap().push(Delivery {
                    exporter: self.id.to_string(),
                    shared_on_arrival: shared,
                    data,
                });
                match self.config.fail.error(self.config.retry_after) {
                    Some(error) => Err(error),
                    None => Ok(()),
                }
            }
        }
    }

    fn mutates_data(&self) -> bool {
        self.config.mutates
    }
}

#[async_trait]
impl Processor for ProbeComponent {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.do_start(host).await
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.do_shutdown().await
    }
}

#[async_trait]
impl Exporter for ProbeComponent {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.do_start(host).await
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.do_shutdown().await
    }
}

#[async_trait]
impl Extension for ProbeComponent {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.do_start(host).await
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.do_shutdown().await
    }
}

fn check_create(config: &ProbeConfig) -> Result<(), ConfigError> {
    if config.fail_create {
        return Err(ConfigError::bad_value(
            "fail_create",
            "this probe refuses to be built",
        ));
    }
    Ok(())
}

/// A registry of probes: receiver `probe`, processor `probe`, exporter `probe`, extension
/// `probe`, all sharing the `Probe` resource.
pub fn probe_registry() -> Registry {
    let mut r = Registry::default();
    r.register_receiver(FnFactory::receiver(
        "probe",
        SignalSet::ALL,
        |ctx, config: ProbeConfig| {
            check_create(&config)?;
            let probe = probe_of(&ctx.resources)?;
            probe.created(&ctx.id);
            probe
                .receivers
                .lock()
                .unwrap()
                .insert(ctx.id.to_string(), ctx.next.clone());
            Ok(Box::new(ProbeComponent {
                kind: ComponentKind::Receiver,
                id: ctx.id,
                pipeline: None,
                config,
                probe,
                next: None,
            }))
        },
    ))
    .expect("register");
    r.register_processor(FnFactory::processor(
        "probe",
        SignalSet::ALL,
        |ctx, config: ProbeConfig| {
            check_create(&config)?;
            let probe = probe_of(&ctx.resources)?;
            probe.created(&ctx.id);
            Ok(Box::new(ProbeComponent {
                kind: ComponentKind::Processor,
                pipeline: Some(ctx.pipeline.to_string()),
                id: ctx.id,
                config,
                probe,
                next: Some(ctx.next),
            }))
        },
    ))
    .expect("register");
    r.register_exporter(FnFactory::exporter(
        "probe",
        SignalSet::ALL,
        |ctx, config: ProbeConfig| {
            check_create(&config)?;
            let probe = probe_of(&ctx.resources)?;
            probe.created(&ctx.id);
            probe
                .exporter_signals
                .lock()
                .unwrap()
                .insert(ctx.id.to_string(), ctx.signals);
            Ok(Box::new(ProbeComponent {
                kind: ComponentKind::Exporter,
                id: ctx.id,
                pipeline: None,
                config,
                probe,
                next: None,
            }))
        },
    ))
    .expect("register");
    r.register_extension(FnFactory::extension("probe", |ctx, config: ProbeConfig| {
        check_create(&config)?;
        let probe = probe_of(&ctx.resources)?;
        probe.created(&ctx.id);
        Ok(Box::new(ProbeComponent {
            kind: ComponentKind::Extension,
            id: ctx.id,
            pipeline: None,
            config,
            probe,
            next: None,
        }))
    }))
    .expect("register");
    register_probe_connector(&mut r);
    r
}

/// The probe connector: passes data on within a signal, and turns traces into a metrics
/// request holding one sum point (the span count) from traces to metrics.
struct ProbeConnector {
    inner: ProbeComponent,
    from: Signal,
    to: Signal,
}

#[async_trait]
impl Consumer for ProbeConnector {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        if let Some(error) = self.inner.config.fail.error(self.inner.config.retry_after) {
            return Err(error);
        }
        let Some(next) = &self.inner.next else {
            return Err(ConsumeError::permanent("no next"));
        };
        if self.from == self.to {
            return next.consume(data).await;
        }
        use otlp_model::builders::{MetricsBuilder, NumberPointBuilder, SumBuilder};
        let spans = data.item_count() as i64;
        let metrics = MetricsBuilder::new()
            .metric(SumBuilder::new("spans").point(NumberPointBuilder::int(spans)))
            .build();
        next.consume(Telemetry::new(metrics)).await
    }
}

#[async_trait]
impl Connector for ProbeConnector {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        self.inner.do_start(host).await
    }
    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.inner.do_shutdown().await
    }
}

/// Every pair the probe connector supports.
pub const PROBE_CONNECTOR_PAIRS: &[(Signal, Signal)] = &[
    (Signal::Traces, Signal::Traces),
    (Signal::Metrics, Signal::Metrics),
    (Signal::Logs, Signal::Logs),
    (Signal::Traces, Signal::Metrics),
];

/// Registers the probe connector (`probe`; see [`PROBE_CONNECTOR_PAIRS`]).
pub fn register_probe_connector(r: &mut Registry) {
    r.register_connector(FnFactory::connector(
        "probe",
        PROBE_CONNECTOR_PAIRS,
        |ctx, config: ProbeConfig| {
            check_create(&config)?;
            let probe = probe_of(&ctx.resources)?;
            probe.created(&ctx.id);
            Ok(Box::new(ProbeConnector {
                inner: ProbeComponent {
                    kind: ComponentKind::Connector,
                    pipeline: Some(format!("{} → {}", ctx.from, ctx.to)),
                    id: ctx.id,
                    config,
                    probe,
                    next: Some(ctx.next),
                },
                from: ctx.from,
                to: ctx.to,
            }))
        },
    ))
    .expect("register");
}

/// A traces request with `spans` spans in one resource.
pub fn traces(spans: usize) -> Telemetry {
    use otlp_model::builders::{SpanBuilder, TracesBuilder};
    Telemetry::new(
        TracesBuilder::new()
            .spans((0..spans).map(|i| SpanBuilder::new(format!("s{i}"))))
            .build(),
    )
}

/// Written-by markers on the first resource of a traces payload.
pub fn markers(data: &Telemetry) -> Vec<String> {
    data.traces()
        .and_then(|t| t.resource_spans.first())
        .and_then(|rs| rs.resource.as_ref())
        .map(|r| r.attributes.iter().map(|kv| kv.key.clone()).collect())
        .unwrap_or_default()
}
