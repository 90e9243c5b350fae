//! The `grpc` service of `healthcheckv2`: `grpc.health.v1.Health/Check` over HTTP/2 (hyper,
//! with otlp-transport's gRPC framing, as the OTLP receiver speaks gRPC: no tonic transport).
//!
//! `service: ""` asks for the collector, `service: "<pipeline id>"` for one pipeline; an
//! unknown name is `NOT_FOUND`, as in otelcol. `SERVING` while the status is `StatusOK`,
//! `NOT_SERVING` otherwise. `Watch` (and any other method) answers `UNIMPLEMENTED`; a
//! compressed request `UNIMPLEMENTED` too (clients do not compress by default). Bounded: 64
//! connections, 100 streams each, request bodies of at most 4 KiB.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use http_body::Frame;
use http_body_util::{BodyExt as _, Limited};
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use otlp_pipeline::telemetry::resolve_endpoint;
use otlp_transport::grpc_wire::{
    GRPC_CONTENT_TYPE, GRPC_MESSAGE, GRPC_STATUS, GrpcCode, encode_frame, parse_unary_body,
    percent_encode_message,
};

use super::{Status, StatusSource};

const MAX_CONNECTIONS: usize = 64;
const MAX_STREAMS: u32 = 100;
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

/// A unary gRPC answer: at most one message, then the trailers.
struct UnaryBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for UnaryBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }
}

fn answer(code: GrpcCode, message: &str, body: Option<Bytes>) -> http::Response<UnaryBody> {
    let mut trailers = HeaderMap::new();
    trailers.insert(GRPC_STATUS, HeaderValue::from(code as i32));
    if !message.is_empty()
        && let Ok(value) = HeaderValue::from_str(&percent_encode_message(message))
    {
        trailers.insert(GRPC_MESSAGE, value);
    }
    let mut response = http::Response::new(UnaryBody {
        data: body,
        trailers: Some(trailers),
    });
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(GRPC_CONTENT_TYPE),
    );
    response
}

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

async fn handle(
    source: Arc<StatusSource>,
    request: http::Request<hyper::body::Incoming>,
) -> http::Response<UnaryBody> {
    if request.uri().path() != "/grpc.health.v1.Health/Check" {
        return answer(
            GrpcCode::Unimplemented,
            &format!("unknown method {}", request.uri().path()),
            None,
        );
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            return answer(GrpcCode::InvalidArgument, &error.to_string(), None);
        }
    };
    let message = match parse_unary_body(&body) {
        Ok(Some((header, _))) if header.compressed => {
            return answer(
                GrpcCode::Unimplemented,
                "compressed requests are not supported",
                None,
            );
        }
        Ok(Some((_, message))) => message,
        Ok(None) => &[][..],
        Err(error) => return answer(GrpcCode::InvalidArgument, &error.to_string(), None),
    };
    let request = match HealthCheckRequest::decode(message) {
        Ok(request) => request,
        Err(error) => return answer(GrpcCode::InvalidArgument, &error.to_string(), None),
    };
    match serving_status(&source, &request.service) {
        Some(status) => {
            let response = HealthCheckResponse { status }.encode_to_vec();
            answer(GrpcCode::Ok, "", Some(encode_frame(&response, false)))
        }
        None => answer(
            GrpcCode::NotFound,
            &format!("unknown service {}", request.service),
            None,
        ),
    }
}

/// The running gRPC server.
pub(crate) struct GrpcServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl GrpcServer {
    /// Binds `endpoint` and serves the health service.
    pub(crate) async fn bind(endpoint: &str, source: Arc<StatusSource>) -> io::Result<GrpcServer> {
        let addr = resolve_endpoint(endpoint).await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, source, stop_rx));
        Ok(GrpcServer {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    source: Arc<StatusSource>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        continue;
                    }
                    let source = Arc::clone(&source);
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let source = Arc::clone(&source);
                            async move { Ok::<_, Infallible>(handle(source, request).await) }
                        });
                        let _ = http2::Builder::new(TokioExecutor::new())
                            .timer(TokioTimer::new())
                            .max_concurrent_streams(MAX_STREAMS)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.abort_all();
}
