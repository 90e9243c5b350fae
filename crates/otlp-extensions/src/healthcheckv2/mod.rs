//! The `healthcheckv2` extension: otelcol-contrib's health check v2.
//!
//! With `use_v2: false` (the default) it **is** the legacy [`health_check`](crate::health_check)
//! extension, built from the same top-level keys (`endpoint`, default `localhost:13133`;
//! `path`, default `/`; `response_body: {healthy, unhealthy}`; `check_collector_pipeline`,
//! ignored; `tls`, refused) and run by calling it.
//!
//! With `use_v2: true` the legacy keys are ignored (as in otelcol) and the `http` section
//! serves, on `http::endpoint` (default `localhost:13133`), the **status endpoint**
//! `http::status::path` (default `/status`, `http::status::enabled` default true): the
//! collector's status as JSON — `start_time`, `healthy`, `status`, `status_time` and, with
//! `?verbose`, `components`: `pipeline:<id>` (its `receiver:<id>`, `processor:<id>`,
//! `exporter:<id>`; connectors appear as both) and `extensions` (`extension:<id>`).
//! `?pipeline=<id>` answers for one pipeline (404 for an unknown one). The code is 200 for
//! `StatusOK`, 503 for `StatusStarting` and `StatusStopping`, as in otelcol.
//!
//! What the statuses are made of: otlp-rs components do not report status events; the source
//! is [`ServiceStatus`] (the pipelines are up when every reporting receiver has started, see
//! its docs) and the built topology ([`ServiceTopology`]). The collector and every pipeline
//! and component are `StatusStarting` until the pipelines are up, then `StatusOK` (with
//! `status_time` = since when), then `StatusStopping` once they are no longer up (after
//! they were seen up). Recoverable and permanent errors are never reported, so the
//! `component_health` keys (`include_permanent_errors`, `include_recoverable_errors`,
//! `recovery_duration`) are accepted and change nothing yet.
//!
//! The `grpc` section (`endpoint`, default `localhost:13132`; `transport`, `tcp` only) serves
//! `grpc.health.v1.Health/Check`: `service: ""` for the
//! collector, a pipeline id for one pipeline (`NOT_FOUND` for an unknown one); `SERVING`
//! when `StatusOK`, `NOT_SERVING` otherwise. `Watch` is not implemented (`UNIMPLEMENTED`).
//! Its `max_recv_msg_size_mib`, `max_concurrent_streams`, `read_buffer_size`,
//! `write_buffer_size`, `keepalive`, `include_metadata` are accepted and ignored.
//!
//! Refused by name: `http::config::enabled: true` (the effective configuration is not
//! available to extensions), `http::tls`, `grpc::tls`, `grpc::auth` and `tls`. At least one
//! of `http`/`grpc` is required with `use_v2: true`, as in otelcol.

mod grpc;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use async_trait::async_trait;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

use otlp_model::time::{rfc3339, system_time_nanos};
use otlp_pipeline::component::{Extension, ExtensionContext, Host};
use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::check_endpoint;
use otlp_pipeline::topology::TopologySnapshot;
use otlp_pipeline::{ServiceStatus, ServiceTopology};

use crate::health_check::{HealthCheck, HealthCheckConfig, ResponseBody};
use otlp_pipeline::http_server::{Request, Response, Server, sync_handler};

/// otelcol's default HTTP endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "localhost:13133";

/// `extensions: healthcheckv2:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckV2Config {
    /// Opt in to v2 (otherwise the legacy `health_check` runs).
    pub use_v2: bool,
    /// Legacy: `host:port`.
    pub endpoint: String,
    /// Legacy: the path answered.
    pub path: String,
    /// Legacy: replacement bodies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<ResponseBody>,
    /// Legacy: accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_collector_pipeline: Option<Value>,
    /// Legacy: not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// v2: the HTTP service (`http:` with nothing under it serves it with its defaults, as
    /// Jaeger's own configs write it).
    #[serde(
        default,
        deserialize_with = "otlp_pipeline::config::fields::null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub http: Option<HttpConfig>,
    /// v2: the gRPC service (likewise).
    #[serde(
        default,
        deserialize_with = "otlp_pipeline::config::fields::null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub grpc: Option<GrpcConfig>,
    /// v2: which component errors count as unhealthy.
    pub component_health: ComponentHealthConfig,
}

impl Default for HealthCheckV2Config {
    fn default() -> Self {
        HealthCheckV2Config {
            use_v2: false,
            endpoint: DEFAULT_HTTP_ENDPOINT.into(),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: None,
            tls: None,
            http: None,
            grpc: None,
            component_health: ComponentHealthConfig::default(),
        }
    }
}

/// `http`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `host:port`.
    pub endpoint: String,
    /// The status endpoint.
    pub status: PathConfig,
    /// The configuration endpoint (not supported).
    pub config: PathConfig,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoint: DEFAULT_HTTP_ENDPOINT.into(),
            status: PathConfig {
                enabled: true,
                path: "/status".into(),
            },
            config: PathConfig {
                enabled: false,
                path: "/config".into(),
            },
            tls: None,
        }
    }
}

/// otelcol's default gRPC endpoint.
pub const DEFAULT_GRPC_ENDPOINT: &str = "localhost:13132";

/// `grpc`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcConfig {
    /// `host:port`.
    pub endpoint: String,
    /// `tcp` (the only one).
    pub transport: String,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_recv_msg_size_mib: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_buffer_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_buffer_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_metadata: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            endpoint: DEFAULT_GRPC_ENDPOINT.into(),
            transport: "tcp".into(),
            max_recv_msg_size_mib: None,
            max_concurrent_streams: None,
            read_buffer_size: None,
            write_buffer_size: None,
            keepalive: None,
            include_metadata: None,
            tls: None,
            auth: None,
        }
    }
}

/// `http::status`, `http::config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathConfig {
    /// Serve it.
    pub enabled: bool,
    /// Where.
    pub path: String,
}

/// `component_health`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComponentHealthConfig {
    /// Permanent errors make the status unhealthy.
    pub include_permanent_errors: bool,
    /// Recoverable errors make it unhealthy after `recovery_duration`.
    pub include_recoverable_errors: bool,
    /// How long a recoverable error may last.
    #[serde(with = "duration")]
    pub recovery_duration: std::time::Duration,
}

impl HealthCheckV2Config {
    fn legacy(&self) -> HealthCheckConfig {
        HealthCheckConfig {
            endpoint: self.endpoint.clone(),
            path: self.path.clone(),
            response_body: self.response_body.clone(),
            check_collector_pipeline: self.check_collector_pipeline.clone(),
            tls: self.tls.clone(),
        }
    }
}

fn is_set(value: &Option<Value>) -> bool {
    value.as_ref().is_some_and(|v| !v.is_null())
}

impl ComponentConfig for HealthCheckV2Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if !self.use_v2 {
            return self.legacy().validate();
        }
        if let Some(grpc) = &self.grpc {
            check_endpoint(&grpc.endpoint)
                .map_err(|e| ConfigError::bad_value("grpc::endpoint", e))?;
            if grpc.transport != "tcp" {
                return Err(ConfigError::bad_value(
                    "grpc::transport",
                    format!("\"{}\" is not supported (only tcp)", grpc.transport),
                ));
            }
            for (key, value) in [("grpc::tls", &grpc.tls), ("grpc::auth", &grpc.auth)] {
                if is_set(value) {
                    return Err(ConfigError::bad_value(
                        key,
                        "not supported by healthcheckv2",
                    ));
                }
            }
        }
        let Some(http) = &self.http else {
            if self.grpc.is_none() {
                return Err(ConfigError::bad_value(
                    "use_v2",
                    "must specify at least one protocol (http, grpc)",
                ));
            }
            return Ok(());
        };
        check_endpoint(&http.endpoint).map_err(|e| ConfigError::bad_value("http::endpoint", e))?;
        if http.status.enabled && !http.status.path.starts_with('/') {
            return Err(ConfigError::bad_value(
                "http::status::path",
                "path must start with /",
            ));
        }
        if http.config.enabled {
            return Err(ConfigError::bad_value(
                "http::config::enabled",
                "the configuration endpoint is not supported by otlp-rs",
            ));
        }
        if is_set(&http.tls) {
            return Err(ConfigError::bad_value(
                "http::tls",
                "TLS is not supported by healthcheckv2",
            ));
        }
        Ok(())
    }
}

/// A component status, as otelcol names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not up yet.
    Starting,
    /// Up.
    Ok,
    /// No longer up.
    Stopping,
}

impl Status {
    /// `StatusStarting`, `StatusOK`, `StatusStopping`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "StatusStarting",
            Status::Ok => "StatusOK",
            Status::Stopping => "StatusStopping",
        }
    }

    fn code(self) -> StatusCode {
        match self {
            Status::Ok => StatusCode::OK,
            Status::Starting | Status::Stopping => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One node of the JSON answer.
#[derive(Debug, Serialize)]
struct Node {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<String>,
    healthy: bool,
    status: &'static str,
    status_time: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    components: BTreeMap<String, Node>,
}

impl Node {
    fn leaf(status: Status, time: &str) -> Node {
        Node {
            start_time: None,
            healthy: status == Status::Ok,
            status: status.as_str(),
            status_time: time.to_owned(),
            components: BTreeMap::new(),
        }
    }
}

/// What the status endpoint reads.
pub(crate) struct StatusSource {
    pub(crate) status: Arc<ServiceStatus>,
    pub(crate) topology: Arc<ServiceTopology>,
    pub(crate) started: SystemTime,
    pub(crate) seen_up: AtomicBool,
    pub(crate) path: String,
}

impl StatusSource {
    /// The collector's status now, and since when.
    fn current(&self) -> (Status, SystemTime) {
        match self.status.ready_since() {
            Some(since) => {
                self.seen_up.store(true, Ordering::Relaxed);
                (Status::Ok, since)
            }
            None if self.seen_up.load(Ordering::Relaxed) => (Status::Stopping, SystemTime::now()),
            None => (Status::Starting, self.started),
        }
    }

    fn pipeline_node(
        snapshot: &TopologySnapshot,
        index: usize,
        status: Status,
        time: &str,
    ) -> Node {
        let mut node = Node::leaf(status, time);
        if let Some(p) = snapshot.pipelines.get(index) {
            for (kind, ids) in [
                ("receiver", &p.receivers),
                ("processor", &p.processors),
                ("exporter", &p.exporters),
            ] {
                for id in ids {
                    node.components
                        .insert(format!("{kind}:{id}"), Node::leaf(status, time));
                }
            }
        }
        node
    }

    /// Answers one request.
    pub(crate) fn answer(&self, request: &Request) -> Response {
        if request.path != self.path {
            return Response::not_found();
        }
        if !request.is_get() {
            return Response::method_not_allowed();
        }
        let verbose = request
            .query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("verbose"));
        let (status, since) = self.current();
        let time = rfc3339(system_time_nanos(since));
        let snapshot = self.topology.snapshot().unwrap_or_default();
        let mut node = match request.param("pipeline") {
            Some(name) => {
                let Some(index) = snapshot
                    .pipelines
                    .iter()
                    .position(|p| p.id.to_string() == name)
                else {
                    return Response::text(
                        StatusCode::NOT_FOUND,
                        format!("unknown pipeline \"{name}\"\n"),
                    );
                };
                let mut node = StatusSource::pipeline_node(&snapshot, index, status, &time);
                if !verbose {
                    node.components.clear();
                }
                node
            }
            None => {
                let mut node = Node::leaf(status, &time);
                if verbose {
                    for index in 0..snapshot.pipelines.len() {
                        let id = snapshot.pipelines[index].id.to_string();
                        node.components.insert(
                            format!("pipeline:{id}"),
                            StatusSource::pipeline_node(&snapshot, index, status, &time),
                        );
                    }
                    let mut extensions = Node::leaf(status, &time);
                    for id in &snapshot.extensions {
                        extensions
                            .components
                            .insert(format!("extension:{id}"), Node::leaf(status, &time));
                    }
                    node.components.insert("extensions".into(), extensions);
                }
                node
            }
        };
        node.start_time = Some(rfc3339(system_time_nanos(self.started)));
        let body = serde_json::to_string(&node).unwrap_or_default();
        Response::new(status.code(), "application/json", body)
    }
}

enum Mode {
    Legacy(Box<HealthCheck>),
    V2 {
        source: Arc<StatusSource>,
        http: Option<String>,
        grpc: Option<String>,
        servers: tokio::sync::Mutex<(Option<Server>, Option<grpc::GrpcServer>)>,
    },
}

/// The extension.
pub struct HealthCheckV2 {
    id: ComponentId,
    status: Arc<ServiceStatus>,
    mode: Mode,
}

impl HealthCheckV2 {
    /// The extension for `ctx` (nothing is bound until start).
    pub fn new(ctx: ExtensionContext, config: HealthCheckV2Config) -> HealthCheckV2 {
        let status = ServiceStatus::from_resources(&ctx.resources);
        let mode = match config.use_v2 {
            true => Mode::V2 {
                source: Arc::new(StatusSource {
                    status: Arc::clone(&status),
                    topology: ServiceTopology::from_resources(&ctx.resources),
                    started: SystemTime::now(),
                    seen_up: AtomicBool::new(false),
                    path: match &config.http {
                        Some(http) if http.status.enabled => http.status.path.clone(),
                        _ => String::new(),
                    },
                }),
                http: config.http.as_ref().map(|h| h.endpoint.clone()),
                grpc: config.grpc.as_ref().map(|g| g.endpoint.clone()),
                servers: tokio::sync::Mutex::new((None, None)),
            },
            false => Mode::Legacy(Box::new(HealthCheck::new(
                ExtensionContext::new(ctx.id.clone()).with_resources(ctx.resources.clone()),
                config.legacy(),
            ))),
        };
        HealthCheckV2 {
            id: ctx.id,
            status,
            mode,
        }
    }
}

#[async_trait]
impl Extension for HealthCheckV2 {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        match &self.mode {
            Mode::Legacy(legacy) => legacy.start(host).await,
            Mode::V2 {
                source,
                http,
                grpc,
                servers,
            } => {
                let mut servers = servers.lock().await;
                if let Some(endpoint) = http {
                    let source = Arc::clone(source);
                    let handler = sync_handler(move |request| source.answer(&request));
                    let bound = Server::bind(endpoint, handler, Vec::new())
                        .await
                        .map_err(|e| format!("http::endpoint: {e}"))?;
                    self.status
                        .record_bound(&self.id, "http", bound.local_addr());
                    tracing::info!(extension = %self.id, addr = %bound.local_addr(), "healthcheckv2 HTTP listening");
                    servers.0 = Some(bound);
                }
                if let Some(endpoint) = grpc {
                    let bound = grpc::GrpcServer::bind(endpoint, Arc::clone(source))
                        .await
                        .map_err(|e| format!("grpc::endpoint: {e}"))?;
                    self.status
                        .record_bound(&self.id, "grpc", bound.local_addr());
                    tracing::info!(extension = %self.id, addr = %bound.local_addr(), "healthcheckv2 gRPC listening");
                    servers.1 = Some(bound);
                }
                Ok(())
            }
        }
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        match &self.mode {
            Mode::Legacy(legacy) => legacy.shutdown(deadline).await,
            Mode::V2 { servers, .. } => {
                let mut servers = servers.lock().await;
                if let Some(mut server) = servers.0.take() {
                    server.shutdown().await;
                }
                if let Some(mut server) = servers.1.take() {
                    server.shutdown().await;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Debug for HealthCheckV2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheckV2")
            .field("id", &self.id)
            .field("v2", &matches!(self.mode, Mode::V2 { .. }))
            .finish_non_exhaustive()
    }
}

/// The `healthcheckv2` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("healthcheckv2", |ctx, config: HealthCheckV2Config| {
        Ok(Box::new(HealthCheckV2::new(ctx, config)))
    })
}
