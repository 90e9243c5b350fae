//! Helpers for the built-in components' integration tests: a destination (an OTLP receiver
//! that counts what it gets and can be "down"), request generators, a client, a pipeline
//! starter, and a tiny HTTP GET.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use otlp_model::builders::{SpanBuilder, TracesBuilder};
use otlp_model::resource;
use otlp_pipeline::ServiceStatus;
// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use otlp_pipeline::testing::{id, logs, metrics};
use otlp_pipeline::{Config, Pipelines, Resources, Signal};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::PartialSuccess;
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig};
use otlp_transport::server::{ExportHandler, Receiver, RequestContext, RunningReceiver};
use otlp_transport::status::Refusal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

/// How long a test waits for something that should happen at once.
pub const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct SinkState {
    pub up: AtomicBool,
    counts: [AtomicU64; 4],
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    pub span_names: Mutex<BTreeSet<String>>,
    notify: Notify,
}

struct SinkHandler(Arc<SinkState>);

impl SinkHandler {
    fn take(&self, signal: Signal, items: usize) -> Result<Option<PartialSuccess>, Refusal> {
        if !self.0.up.load(Ordering::SeqCst) {
            self.0.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Refusal::retryable("the destination is down"));
        }
        self.0.counts[signal.index()].fetch_add(items as u64, Ordering::SeqCst);
        self.0.requests.fetch_add(1, Ordering::SeqCst);
        self.0.notify.notify_waiters();
        Ok(None)
    }
}

#[async_trait]
impl ExportHandler for SinkHandler {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        use otlp_model::views::TracesView;
        if self.0.up.load(Ordering::SeqCst) {
            let mut names = self.0.span_names.lock().unwrap();
            names.extend(request.spans().map(|s| s.name().to_owned()));
        }
        self.take(Signal::Traces, request.span_count())
    }

    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        _: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        use otlp_model::views::MetricsView;
        self.take(Signal::Metrics, request.data_point_count())
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        _: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        use otlp_model::views::LogsView;
        self.take(Signal::Logs, request.log_record_count())
    }
}

/// A destination: OTLP/gRPC and OTLP/HTTP on 127.0.0.1, counting items.
pub struct Sink {
    pub state: Arc<SinkState>,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    running: Option<RunningReceiver>,
}

impl Sink {
    pub async fn start(up: bool) -> Sink {
        let state = Arc::new(SinkState::default());
        state.up.store(up, Ordering::SeqCst);
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let running = Receiver::new(SinkHandler(Arc::clone(&state)))
            .grpc(loopback)
            .http(loopback)
            .start()
            .await
            .unwrap();
        Sink {
            state,
            grpc: running.grpc_local_addr().unwrap(),
            http: running.http_local_addr().unwrap(),
            running: Some(running),
        }
    }

    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    pub fn count(&self, signal: Signal) -> u64 {
        self.state.counts[signal.index()].load(Ordering::SeqCst)
    }

    /// Waits (bounded by [`PATIENCE`]) until at least `n` items of `signal` arrived.
    pub async fn wait_for(&self, signal: Signal, n: u64) -> u64 {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let notified = self.state.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let count = self.count(signal);
            if count >= n || tokio::time::Instant::now() >= deadline {
                return count;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown(Duration::from_secs(1)).await;
        }
    }
}

/// Waits (bounded by [`PATIENCE`]) until `condition` holds; returns whether it did.
pub async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    condition()
}

pub fn traces(n: usize, tag: &str) -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource!["service.name" => "checkout"])
        .scope("test", "1.0")
        .spans((0..n).map(|i| {
            SpanBuilder::new(format!("{tag}-{i}"))
                .trace_id([7u8; 16])
                .span_id([i as u8 + 1; 8])
        }))
        .build()
}

/// A client with no retry (each call is one attempt) and no compression.
pub fn client(protocol: Protocol, addr: SocketAddr) -> OtlpExporter {
    OtlpExporter::builder()
        .protocol(protocol)
        .endpoint(format!("http://{addr}"))
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A started collector: the pipelines and their resources.
pub struct Collector {
    pub pipelines: Pipelines,
    pub resources: Resources,
    pub telemetry: otlp_pipeline::config::TelemetryConfig,
}

impl Collector {
    pub async fn start(yaml: &str) -> Collector {
        Collector::try_start(yaml)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn try_start(yaml: &str) -> Result<Collector, String> {
        let resources = otlp_pipeline::Resources::collector();
        Collector::start_with(yaml, resources).await
    }

    pub async fn start_with(yaml: &str, resources: Resources) -> Result<Collector, String> {
        let registry = otlp_collector::components();
        let config = Config::from_yaml("test.yaml", yaml).map_err(|e| e.to_string())?;
        let validated = otlp_pipeline::validate(&config, &registry).map_err(|e| e.to_string())?;
        let pipelines =
            Pipelines::build_with(&validated, resources.clone()).map_err(|e| e.to_string())?;
        if let Err(error) = pipelines.start().await {
            let _ = pipelines
                .shutdown(tokio::time::Instant::now() + Duration::from_secs(2))
                .await;
            return Err(error.to_string());
        }
        Ok(Collector {
            pipelines,
            resources,
            telemetry: validated.telemetry().clone(),
        })
    }

    /// Where a built-in server of `component` listens (`grpc`/`http`).
    pub fn addr(&self, component: &str, protocol: &str) -> SocketAddr {
        ServiceStatus::from_resources(&self.resources)
            .bound_address(&id(component), protocol)
            .unwrap()
    }

    pub fn metrics(&self) -> Arc<otlp_pipeline::telemetry::Metrics> {
        self.resources
            .get::<otlp_pipeline::telemetry::Metrics>()
            .unwrap()
    }

    pub async fn shutdown(&self, within: Duration) -> Result<(), String> {
        self.pipelines
            .shutdown(tokio::time::Instant::now() + within)
            .await
            .map_err(|e| e.to_string())
    }
}

/// `GET path` over HTTP/1.1: (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
