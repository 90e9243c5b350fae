//! Interop: our gRPC exporter against a receiver built on tonic and the `opentelemetry-proto`
//! crate's server stubs (another implementation's codegen and HTTP/2 server). Every span, data
//! point and log record must arrive intact, compressed or not; the receiver's partial success
//! and statuses (with RetryInfo in `grpc-status-details-bin`) must come back as ours.
#![cfg(all(feature = "client", feature = "grpc", feature = "tls"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::{ManualClock, sample_logs, sample_metrics, sample_traces};
use opentelemetry_proto::tonic::collector::logs::v1 as peer_logs;
use opentelemetry_proto::tonic::collector::metrics::v1 as peer_metrics;
use opentelemetry_proto::tonic::collector::trace::v1 as peer_trace;
use otlp_proto::Message;
use otlp_transport::client::{Compression, ExportError, OtlpExporter, Protocol, RetryConfig};
use otlp_transport::grpc_wire::{self, GrpcCode};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

/// What the peer received, and the statuses it should answer with before succeeding.
#[derive(Default)]
struct Peer {
    traces: Mutex<Vec<peer_trace::ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<peer_metrics::ExportMetricsServiceRequest>>,
    logs: Mutex<Vec<peer_logs::ExportLogsServiceRequest>>,
    failures: Mutex<VecDeque<Status>>,
    partial: Mutex<Option<(i64, String)>>,
    user_agents: Mutex<Vec<String>>,
}

impl Peer {
    fn next_failure(&self) -> Result<(), Status> {
        match self.failures.lock().unwrap().pop_front() {
            Some(status) => Err(status),
            None => Ok(()),
        }
    }

    fn record_agent<T>(&self, request: &Request<T>) {
        let agent = request
            .metadata()
            .get("user-agent")
            .map(|v| v.to_str().unwrap().to_owned());
        self.user_agents.lock().unwrap().extend(agent);
    }
}

#[derive(Clone, Default)]
struct Service(Arc<Peer>);

#[tonic::async_trait]
impl peer_trace::trace_service_server::TraceService for Service {
    async fn export(
        &self,
        request: Request<peer_trace::ExportTraceServiceRequest>,
    ) -> Result<Response<peer_trace::ExportTraceServiceResponse>, Status> {
        self.0.record_agent(&request);
        self.0.next_failure()?;
        self.0.traces.lock().unwrap().push(request.into_inner());
        let partial_success = self
            .0
            .partial
            .lock()
            .unwrap()
            .take()
            .map(
                |(rejected, message)| peer_trace::ExportTracePartialSuccess {
                    rejected_spans: rejected,
                    error_message: message,
                },
            );
        Ok(Response::new(peer_trace::ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

#[tonic::async_trait]
impl peer_metrics::metrics_service_server::MetricsService for Service {
    async fn export(
        &self,
        request: Request<peer_metrics::ExportMetricsServiceRequest>,
    ) -> Result<Response<peer_metrics::ExportMetricsServiceResponse>, Status> {
        self.0.next_failure()?;
        self.0.metrics.lock().unwrap().push(request.into_inner());
        Ok(Response::new(peer_metrics::ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl peer_logs::logs_service_server::LogsService for Service {
    async fn export(
        &self,
        request: Request<peer_logs::ExportLogsServiceRequest>,
    ) -> Result<Response<peer_logs::ExportLogsServiceResponse>, Status> {
        self.0.next_failure()?;
        self.0.logs.lock().unwrap().push(request.into_inner());
        Ok(Response::new(peer_logs::ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// Starts the tonic receiver on 127.0.0.1, accepting gzip and zstd.
async fn start_peer() -> (SocketAddr, Arc<Peer>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = Service::default();
    let peer = service.0.clone();
    let task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(
                peer_trace::trace_service_server::TraceServiceServer::new(service.clone())
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd),
            )
            .add_service(
                peer_metrics::metrics_service_server::MetricsServiceServer::new(service.clone())
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd),
            )
            .add_service(
                peer_logs::logs_service_server::LogsServiceServer::new(service)
                    .accept_compressed(CompressionEncoding::Gzip)
                    .accept_compressed(CompressionEncoding::Zstd),
            )
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (addr, peer, task)
}

fn exporter(addr: SocketAddr, compression: Compression) -> OtlpExporter {
    OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(format!("http://{addr}"))
        .compression(compression)
        .build()
        .unwrap()
}

/// Our message re-read with the peer's types must equal what the peer received, and encode
/// to the same bytes.
fn assert_same<Ours: Message, Theirs: Message + Default + PartialEq + std::fmt::Debug>(
    ours: &Ours,
    theirs: &Theirs,
) {
    let bytes = ours.encode_to_vec();
    assert_eq!(&Theirs::decode(bytes.as_slice()).unwrap(), theirs);
    assert_eq!(theirs.encode_to_vec(), bytes);
}

#[tokio::test]
async fn every_signal_arrives_intact_with_each_compression() {
    let (addr, peer, task) = start_peer().await;
    let compressions = [Compression::None, Compression::Gzip, Compression::Zstd];
    let (traces, metrics, logs) = (sample_traces(25), sample_metrics(40), sample_logs(30));
    for compression in compressions {
        let exporter = exporter(addr, compression);
        for outcome in [
            exporter.export(&traces).await.unwrap(),
            exporter.export(&metrics).await.unwrap(),
            exporter.export(&logs).await.unwrap(),
        ] {
            assert_eq!(outcome.partial_success, None);
            assert_eq!(outcome.attempts, 1);
        }
    }
    let received_traces = peer.traces.lock().unwrap();
    let received_metrics = peer.metrics.lock().unwrap();
    let received_logs = peer.logs.lock().unwrap();
    assert_eq!(received_traces.len(), compressions.len());
    for i in 0..compressions.len() {
        assert_same(&traces, &received_traces[i]);
        assert_same(&metrics, &received_metrics[i]);
        assert_same(&logs, &received_logs[i]);
        let spans: usize = received_traces[i]
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        assert_eq!(spans, 25);
        let records: usize = received_logs[i]
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        assert_eq!(records, 30);
    }
    let agents = peer.user_agents.lock().unwrap();
    assert!(
        agents
            .iter()
            .all(|a| a.contains("OTel-OTLP-Exporter-Rust-otlp-rs/")),
        "{agents:?}"
    );
    task.abort();
}

#[tokio::test]
async fn forwarded_bytes_arrive_intact() {
    let (addr, peer, task) = start_peer().await;
    let traces = sample_traces(7);
    exporter(addr, Compression::Gzip)
        .export_encoded(
            otlp_transport::Signal::Traces,
            traces.encode_to_vec().into(),
        )
        .await
        .unwrap();
    assert_same(&traces, &peer.traces.lock().unwrap()[0]);
    task.abort();
}

#[tokio::test]
async fn the_peers_partial_success_comes_back() {
    let (addr, peer, task) = start_peer().await;
    *peer.partial.lock().unwrap() = Some((4, "spans too large".into()));
    let outcome = exporter(addr, Compression::None)
        .export(&sample_traces(10))
        .await
        .unwrap();
    assert_eq!(outcome.rejected_items(), 4);
    assert_eq!(
        outcome.partial_success.unwrap().error_message,
        "spans too large"
    );
    task.abort();
}

#[tokio::test]
async fn the_peers_statuses_drive_the_retry_loop() {
    let (addr, peer, task) = start_peer().await;
    let details = grpc_wire::status_details_with_retry_delay(
        GrpcCode::ResourceExhausted,
        "full",
        Duration::from_secs(4),
    );
    peer.failures.lock().unwrap().extend([
        Status::unavailable("warming up"),
        Status::with_details(tonic::Code::ResourceExhausted, "full", details.into()),
        Status::invalid_argument("bad trace id \u{e9}"),
    ]);
    let clock = ManualClock::new();
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(format!("http://{addr}"))
        .retry(
            RetryConfig::default()
                .with_initial_interval(Duration::from_secs(1))
                .with_randomization_factor(0.0),
        )
        .clock(clock.clone())
        .build()
        .unwrap();
    let error = exporter.export(&sample_metrics(1)).await.unwrap_err();
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(1), Duration::from_secs(4)]
    );
    match &error {
        ExportError::Rejected { message, .. } => assert_eq!(message, "bad trace id \u{e9}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(error.grpc_code(), Some(GrpcCode::InvalidArgument));
    // The next export goes through.
    exporter.export(&sample_metrics(2)).await.unwrap();
    assert_eq!(peer.metrics.lock().unwrap().len(), 1);
    task.abort();
}
