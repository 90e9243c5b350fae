//! The `grpc` service of `healthcheckv2`: `grpc.health.v1.Health/Check` on otlp-pipeline's
//! unary gRPC server ([`otlp_pipeline::grpc_server`]: HTTP/2 on hyper with otlp-transport's
//! gRPC framing, as the OTLP receiver speaks gRPC: no tonic transport).
//!
//! `service: ""` asks for the collector, `service: "<pipeline id>"` for one pipeline; an
//! unknown name is `NOT_FOUND`, as in otelcol. `SERVING` while the status is `StatusOK`,
//! `NOT_SERVING` otherwise. `Watch` (and any other method) answers `UNIMPLEMENTED`. Bounded:
//! the server's connection and stream limits, request messages of at most 4 KiB.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use prost::Message as _;

use otlp_pipeline::grpc_server::{Answer, Call, Handler, Server};
use otlp_transport::grpc_wire::GrpcCode;

use super::{Status, StatusSource};

const MAX_BODY: usize = 4096;

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct HealthCheckRequest {
    /// The service asked about.
    #[prost(string, tag = "1")]
    pub(crate) service: String,
}

/// `grpc.health.v1.HealthCheckResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct HealthCheckResponse {
    /// `ServingStatus`: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN.
    #[prost(int32, tag = "1")]
    pub(crate) status: i32,
}

/// `SERVING`.
pub(crate) const SERVING: i32 = 1;
/// `NOT_SERVING`.
pub(crate) const NOT_SERVING: i32 = 2;

/// The status a `service` name asks for, `None` for an unknown one.
pub(crate) fn serving_status(source: &StatusSource, service: &str) -> Option<i32> {
    let (status, _) = source.current();
    if !service.is_empty() {
        let snapshot = source.topology.snapshot().unwrap_or_default();
        snapshot
            .pipelines
            .iter()
            .find(|p| p.id.to_string() == service)?;
    }
    Some(if status == Status::Ok {
        SERVING
    } else {
        NOT_SERVING
    })
}

fn handle(source: &StatusSource, call: Call) -> Answer {
    if call.path != "/grpc.health.v1.Health/Check" {
        return Answer::error(
            GrpcCode::Unimplemented,
            format!("unknown method {}", call.path),
        );
    }
    let request = match HealthCheckRequest::decode(call.message) {
        Ok(request) => request,
        Err(error) => return Answer::error(GrpcCode::InvalidArgument, error.to_string()),
    };
    match serving_status(source, &request.service) {
        Some(status) => Answer::ok(HealthCheckResponse { status }.encode_to_vec()),
        None => Answer::error(
            GrpcCode::NotFound,
            format!("unknown service {}", request.service),
        ),
    }
}

/// The running gRPC server.
pub(crate) struct GrpcServer(Server);

impl GrpcServer {
    /// Binds `endpoint` and serves the health service.
    pub(crate) async fn bind(endpoint: &str, source: Arc<StatusSource>) -> io::Result<GrpcServer> {
        let handler: Handler = Arc::new(move |call| {
            let answer = handle(&source, call);
            Box::pin(async move { answer })
        });
        Ok(GrpcServer(Server::bind(endpoint, handler, MAX_BODY).await?))
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    pub(crate) async fn shutdown(&mut self) {
        self.0.shutdown().await;
    }
}
