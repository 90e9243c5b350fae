//! The `jaeger` receiver: spans from Jaeger clients and agents, in the four ways otelcol-contrib
//! v0.160's receiver takes them — `thrift_compact` (the agent's `emitBatch` over UDP, Thrift
//! compact, port 6831), `thrift_binary` (the same in Thrift binary, 6832), `thrift_http`
//! (`POST /api/traces` with a Thrift binary `Batch`, 14268) and `grpc`
//! (`jaeger.api_v2.CollectorService/PostSpans`, 14250) — translated into OTLP as otelcol's
//! `pkg/translator/jaeger` does.
//!
//! # Keys and defaults (otelcol's)
//!
//! `protocols` with any of `grpc` (`endpoint` `localhost:14250`, `max_recv_msg_size_mib` 4,
//! `include_metadata`; tuning keys accepted; `tls`, `auth` refused), `thrift_http` (`endpoint`
//! `localhost:14268`, `max_request_body_size` 20 MiB, `include_metadata`, `response_headers`,
//! `compression_algorithms`; `tls`, `cors`, `auth` refused), `thrift_binary` /
//! `thrift_compact` (`endpoint` `localhost:6832` / `localhost:6831`, `queue_size` 1000,
//! `max_packet_size` 65 000, `workers` 10, `socket_buffer_size`). A key with nothing under it
//! serves that protocol with its defaults; at least one is required. `remote_sampling` is
//! refused, as otelcol v0.160 refuses it (use the `jaegerremotesampling` extension).
//!
//! # Translation
//!
//! One resource per process (`service.name` and the process tags; `hostname` becomes
//! `host.name`, `jaeger.version` `opencensus.exporterversion` = `Jaeger-…`); tags become
//! typed attributes (`http.response.status_code` written as `http.status_code`, otelcol's
//! default); the parent from `parentSpanId` or the first same-trace reference, the other
//! references links with `opentracing.ref_type`; the kind from `span.kind`; the status from a
//! boolean `error`, `otel.status_code`/`otel.status_description` or `http.status_code`; logs
//! become events named by their `event` field; the sampled flag is kept. Over gRPC, spans are
//! grouped by their own process, the scope comes from `otel.scope.name`/`otel.scope.version`
//! and `w3c.tracestate` is the trace state; over Thrift, as in otelcol, the scope is empty and
//! those stay attributes.
//!
//! # Answers and bad input
//!
//! `thrift_http`: `202` once the pipeline accepted; `400` for a body that is not a Thrift
//! binary `Batch` (a required field missing, cut short), a `Content-Type` other than
//! `application/x-thrift` / `application/vnd.apache.thrift.binary` or an unknown encoding;
//! `413` for a body over the limit (Go answers 500); `500` when the pipeline refused; `404` /
//! `405` for other paths and methods. `grpc`: `OK`, `INVALID_ARGUMENT` for a message that does
//! not decode or an id of the wrong length, `RESOURCE_EXHAUSTED` for one over
//! `max_recv_msg_size_mib`, `UNAVAILABLE` (retryable refusal) or `INTERNAL` (permanent) from
//! the pipeline, `UNIMPLEMENTED` for other methods. UDP: a datagram that does not decode
//! (cut short, not `emitBatch` — Zipkin over the agent, which crashes otelcol, is refused
//! here), and one dropped because the queue is full, is counted and logged at debug; the
//! server keeps serving. Nothing can be answered over UDP, so a refusal of the pipeline drops
//! the batch (counted as refused).
//!
//! # Counting
//!
//! `otelcol_receiver_accepted_spans_total` / `_refused_spans_total` with `transport`
//! `udp_thrift_compact`, `udp_thrift_binary`, `collector_http` or `grpc` (otelcol's), and
//! `otelcol_receiver_jaeger_failed_requests_total` (ours: requests and datagrams refused as
//! bad input, or dropped on a full queue, by transport).

mod config;
mod grpc;
mod model;
mod proto;
mod thrift;
mod translate;
mod udp;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use http::{Method, StatusCode, header};
use tokio::time::Instant;

pub use config::{
    DEFAULT_GRPC_ENDPOINT, DEFAULT_THRIFT_BINARY_ENDPOINT, DEFAULT_THRIFT_COMPACT_ENDPOINT,
    DEFAULT_THRIFT_HTTP_ENDPOINT, GrpcProtocol, HttpProtocol, JaegerConfig, Protocols, UdpProtocol,
};
pub use thrift::{Protocol as ThriftProtocol, ThriftError};

use otlp_pipeline::component::{
    Consumer, Host, NextConsumers, Receiver, ReceiverContext, SignalSet,
};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::ClientInfo;
use otlp_pipeline::error::{BoxError, ConsumeError};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::http_server::{Request, Response, Server};
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::{ServiceStatus, Signal};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use crate::span_intake::{self, SpanCounters};

/// Decodes a Thrift binary `Batch` (the `thrift_http` body) and translates it (for tests and
/// benchmarks).
#[doc(hidden)]
pub fn translate_thrift_batch(body: &[u8]) -> Result<ExportTraceServiceRequest, ThriftError> {
    Ok(translate::from_thrift(&model::decode_batch(body)?))
}

/// Decodes one agent datagram (`emitBatch`) and translates it (for tests and benchmarks).
#[doc(hidden)]
pub fn translate_agent_packet(
    packet: &[u8],
    protocol: ThriftProtocol,
) -> Result<Option<ExportTraceServiceRequest>, ThriftError> {
    Ok(model::decode_emit_batch(packet, protocol)?.map(|b| translate::from_thrift(&b)))
}

/// Decodes a `PostSpansRequest` and translates it (for tests and benchmarks).
#[doc(hidden)]
pub fn translate_post_spans(message: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    use prost::Message as _;
    let request = proto::PostSpansRequest::decode(message).map_err(|e| e.to_string())?;
    translate::from_proto(&request.batch.unwrap_or_default())
}

/// The counters of one transport.
pub(crate) type Counters = SpanCounters;

/// What every server of the receiver shares.
pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) next: Arc<dyn Consumer>,
}

impl Shared {
    /// Hands a translated request to the pipeline, counting it.
    pub(crate) async fn deliver(
        &self,
        request: ExportTraceServiceRequest,
        client: ClientInfo,
        counters: &Counters,
    ) -> Result<(), ConsumeError> {
        span_intake::deliver(self.next.as_ref(), &self.id, request, client, counters).await
    }
}

/// The `thrift_http` handler.
struct HttpHandler {
    shared: Arc<Shared>,
    counters: Counters,
    include_metadata: bool,
    max_body: usize,
    encodings: Vec<String>,
}

impl HttpHandler {
    fn bad(&self, status: StatusCode, message: String) -> Response {
        self.counters.failed.add(1);
        tracing::debug!(receiver = %self.shared.id, status = status.as_u16(), error = %message, "refused a Jaeger Thrift HTTP request");
        Response::text(status, format!("{message}\n"))
    }

    async fn handle(&self, request: Request) -> Response {
        if request.path != "/api/traces" {
            return Response::not_found();
        }
        if request.method != Method::POST {
            return Response::text(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        let content_type = request
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if content_type.is_empty() {
            return self.bad(
                StatusCode::BAD_REQUEST,
                "Cannot parse content type: mime: no media type".into(),
            );
        }
        if content_type != "application/x-thrift"
            && content_type != "application/vnd.apache.thrift.binary"
        {
            return self.bad(
                StatusCode::BAD_REQUEST,
                format!("Unsupported content type: {content_type}"),
            );
        }
        let body = match span_intake::body(&request, &self.encodings, self.max_body) {
            Ok(body) => body,
            Err((status, message)) => return self.bad(status, message),
        };
        let translated = match translate_thrift_batch(&body) {
            Ok(t) => t,
            Err(error) => {
                return self.bad(
                    StatusCode::BAD_REQUEST,
                    format!("Unable to process request body: {error}"),
                );
            }
        };
        let client = span_intake::client(
            request.peer,
            self.include_metadata.then_some(&request.headers),
        );
        match self
            .shared
            .deliver(translated, client, &self.counters)
            .await
        {
            Ok(()) => Response::new(StatusCode::ACCEPTED, "text/plain; charset=utf-8", ""),
            Err(error) => Response::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Cannot submit Jaeger batch: {error}\n"),
            ),
        }
    }
}

/// The running servers.
#[derive(Default)]
struct Running {
    http: Option<Server>,
    grpc: Option<grpc::GrpcServer>,
    udp: Vec<udp::UdpServer>,
}

/// The `jaeger` receiver.
pub struct JaegerReceiver {
    id: ComponentId,
    config: JaegerConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    running: tokio::sync::Mutex<Running>,
    bound: Mutex<Bound>,
}

/// The addresses bound, once started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bound {
    /// `grpc`.
    pub grpc: Option<std::net::SocketAddr>,
    /// `thrift_http`.
    pub thrift_http: Option<std::net::SocketAddr>,
    /// `thrift_binary`.
    pub thrift_binary: Option<std::net::SocketAddr>,
    /// `thrift_compact`.
    pub thrift_compact: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for JaegerReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JaegerReceiver")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl JaegerReceiver {
    /// Builds the receiver; nothing listens until [`Receiver::start`].
    pub fn new(ctx: ReceiverContext, config: JaegerConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(JaegerReceiver {
            id: ctx.id,
            config,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            running: tokio::sync::Mutex::new(Running::default()),
            bound: Mutex::new(Bound::default()),
        })
    }

    /// The addresses listened on once started.
    pub fn bound(&self) -> Bound {
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn counters(&self, transport: &str) -> Counters {
        SpanCounters::new(
            &self.metrics,
            self.id.as_str(),
            transport,
            (
                "otelcol_receiver_jaeger_failed_requests_total",
                "Jaeger requests and datagrams refused as bad input or dropped on a full queue. [otlp-rs]",
            ),
        )
    }
}

#[async_trait]
impl Receiver for JaegerReceiver {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let Some(next) = self.next.get(Signal::Traces) else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let shared = Arc::new(Shared {
            id: self.id.to_string(),
            next: Arc::clone(next),
        });
        let protocols = &self.config.protocols;
        let mut running = self.running.lock().await;
        let mut bound = Bound::default();
        for (udp, protocol, endpoint, transport) in [
            (
                &protocols.thrift_binary,
                ThriftProtocol::Binary,
                protocols
                    .thrift_binary
                    .as_ref()
                    .map(JaegerConfig::binary_endpoint),
                "udp_thrift_binary",
            ),
            (
                &protocols.thrift_compact,
                ThriftProtocol::Compact,
                protocols
                    .thrift_compact
                    .as_ref()
                    .map(JaegerConfig::compact_endpoint),
                "udp_thrift_compact",
            ),
        ] {
            let (Some(udp), Some(endpoint)) = (udp, endpoint) else {
                continue;
            };
            let server = udp::UdpServer::start(
                &endpoint,
                udp,
                protocol,
                Arc::clone(&shared),
                self.counters(transport),
            )
            .await
            .map_err(|e| format!("jaeger receiver {transport}: {e}"))?;
            tracing::info!(receiver = %self.id, endpoint = %server.local_addr(), "listening for Jaeger agent spans ({transport})");
            match protocol {
                ThriftProtocol::Binary => bound.thrift_binary = Some(server.local_addr()),
                ThriftProtocol::Compact => bound.thrift_compact = Some(server.local_addr()),
            }
            running.udp.push(server);
        }
        if let Some(http) = &protocols.thrift_http {
            let handler = Arc::new(HttpHandler {
                shared: Arc::clone(&shared),
                counters: self.counters("collector_http"),
                include_metadata: http.include_metadata,
                max_body: http.max_body(),
                encodings: http.encodings(),
            });
            let extra = span_intake::response_headers(&http.response_headers);
            let handler: otlp_pipeline::http_server::Handler = Arc::new(move |request| {
                let handler = Arc::clone(&handler);
                Box::pin(async move { handler.handle(request).await })
            });
            let server = Server::bind_with_body(&http.endpoint, handler, extra, http.max_body())
                .await
                .map_err(|e| format!("jaeger receiver thrift_http: {e}"))?;
            tracing::info!(receiver = %self.id, endpoint = %server.local_addr(), "listening for Jaeger Thrift over HTTP");
            bound.thrift_http = Some(server.local_addr());
            running.http = Some(server);
        }
        if let Some(config) = &protocols.grpc {
            let server =
                grpc::GrpcServer::start(config, Arc::clone(&shared), self.counters("grpc"))
                    .await
                    .map_err(|e| format!("jaeger receiver grpc: {e}"))?;
            tracing::info!(receiver = %self.id, endpoint = %server.local_addr(), "listening for Jaeger protobuf over gRPC");
            bound.grpc = Some(server.local_addr());
            running.grpc = Some(server);
        }
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner) = bound;
        self.status.receiver_started(&self.id);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        let mut running = self.running.lock().await;
        for server in running.udp.drain(..) {
            server.stop().await;
        }
        if let Some(mut server) = running.http.take() {
            server.shutdown().await;
        }
        if let Some(server) = running.grpc.take() {
            server.stop().await;
        }
        Ok(())
    }
}

/// The `jaeger` receiver factory (traces).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "jaeger",
        SignalSet::EMPTY.with(Signal::Traces),
        |ctx, config: JaegerConfig| Ok(Box::new(JaegerReceiver::new(ctx, config)?)),
    )
}
