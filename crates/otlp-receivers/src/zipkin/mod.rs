//! The `zipkin` receiver: spans over HTTP in the Zipkin formats — v1 JSON
//! (`POST /api/v1/spans`), v2 JSON and v2 protobuf (`POST /api/v2/spans`) — translated into
//! OTLP exactly as otelcol-contrib's receiver translates them
//! ([`otlp_model::zipkin`] documents the mapping).
//!
//! # Keys and defaults (otelcol's)
//!
//! `endpoint` (`localhost:9411`), `parse_string_tags` (false), confighttp's
//! `max_request_body_size` (20 MiB), `include_metadata`, `response_headers`,
//! `compression_algorithms`; its timeouts and `keep_alives_enabled` are accepted. Refused by
//! name: `tls`, `cors`, `auth`, `middlewares`, and the `snappy`/`lz4` encodings.
//!
//! # Requests
//!
//! As otelcol: any path whose path contains `api/v1/spans` is v1, every other path v2; the
//! `Content-Type` picks protobuf (`application/x-protobuf`) or JSON (anything else; its
//! parameters are ignored here, where Go compares the whole header). `Content-Encoding`
//! `gzip`, `deflate`/`zlib` and `zstd` are decoded. Answers: `202 Accepted` (empty body) once
//! the pipeline accepted the spans; `400` with the reason for a body that does not decode or
//! translate (not JSON, a bad id, a cut-short protobuf), an unknown encoding or a pipeline
//! that refused for good (`"Bad Request"`, Go's body); `500 "Internal Server Error"` when the
//! pipeline refused for now (memory limiter, full queue), as Go answers; `413` for a body
//! over `max_request_body_size`, before or after decompression (Go reads it cut short and
//! answers 400); `415` for v1 Thrift (`application/x-thrift`), which is not decoded here.
//!
//! # Counting
//!
//! `otelcol_receiver_accepted_spans_total` / `_refused_spans_total` with
//! `transport` `http_v1_json`, `http_v2_json` or `http_v2_proto` (otelcol's), and
//! `otelcol_receiver_zipkin_failed_requests_total` (ours): requests answered 4xx, by transport;
//! each is also logged at debug.

mod config;

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use http::{StatusCode, header};
use tokio::time::Instant;

pub use config::{DEFAULT_ENDPOINT, DEFAULT_MAX_REQUEST_BODY_SIZE, ZipkinConfig};

use otlp_model::zipkin;
use otlp_pipeline::component::{
    Consumer, Host, NextConsumers, Receiver, ReceiverContext, SignalSet,
};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::http_server::{Request, Response, Server};
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::{ServiceStatus, Signal};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use crate::span_intake::{self, SpanCounters};

/// The wire formats, by otelcol's transport names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V1Json,
    V1Thrift,
    V2Json,
    V2Proto,
}

impl Format {
    fn of(request: &Request) -> Format {
        let v1 = request.path.contains("api/v1/spans");
        let media = request
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match (v1, media.as_str()) {
            (true, "application/x-thrift") => Format::V1Thrift,
            (true, _) => Format::V1Json,
            (false, "application/x-protobuf") => Format::V2Proto,
            (false, _) => Format::V2Json,
        }
    }

    fn transport(self) -> &'static str {
        match self {
            Format::V1Json => "http_v1_json",
            Format::V1Thrift => "http_v1_thrift",
            Format::V2Json => "http_v2_json",
            Format::V2Proto => "http_v2_proto",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the request handler shares.
struct Shared {
    id: String,
    next: Arc<dyn Consumer>,
    parse_string_tags: bool,
    include_metadata: bool,
    max_body: usize,
    encodings: Vec<String>,
    counters: [SpanCounters; 4],
}

/// Why a request was not taken: the answer's status and body.
struct Failure {
    status: StatusCode,
    body: String,
}

impl Failure {
    /// A reason, as Go's `http.Error` writes it (the text and a newline).
    fn reason(status: StatusCode, message: impl std::fmt::Display) -> Failure {
        Failure {
            status,
            body: format!("{message}\n"),
        }
    }
}

/// Decodes a body in one of the formats and translates it (for the handler, benchmarks and
/// tests).
#[doc(hidden)]
pub fn translate_body(
    body: &[u8],
    v1: bool,
    protobuf: bool,
    parse_string_tags: bool,
) -> Result<ExportTraceServiceRequest, zipkin::ZipkinError> {
    if v1 {
        return zipkin::decode_v1_json(body, parse_string_tags);
    }
    let spans = if protobuf {
        zipkin::decode_v2_proto(body)?
    } else {
        zipkin::decode_v2_json(body)?
    };
    zipkin::to_otlp(spans, parse_string_tags)
}

impl Shared {
    async fn handle(&self, request: Request) -> Response {
        let format = Format::of(&request);
        let counters = &self.counters[format.index()];
        match self.take(&request, format, counters).await {
            Ok(()) => Response::new(StatusCode::ACCEPTED, "text/plain; charset=utf-8", ""),
            Err(failure) => {
                if failure.status.is_client_error() {
                    counters.failed.add(1);
                    tracing::debug!(receiver = %self.id, transport = format.transport(), status = failure.status.as_u16(), error = %failure.body.trim_end(), "refused a Zipkin request");
                }
                Response::text(failure.status, failure.body)
            }
        }
    }

    async fn take(
        &self,
        request: &Request,
        format: Format,
        counters: &SpanCounters,
    ) -> Result<(), Failure> {
        if format == Format::V1Thrift {
            return Err(Failure::reason(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Zipkin v1 Thrift is not supported; send v1 or v2 JSON or v2 protobuf",
            ));
        }
        let body = span_intake::body(request, &self.encodings, self.max_body)
            .map_err(|(status, message)| Failure::reason(status, message))?;
        let translated = translate_body(
            &body,
            format == Format::V1Json,
            format == Format::V2Proto,
            self.parse_string_tags,
        )
        .map_err(|e| Failure::reason(StatusCode::BAD_REQUEST, e))?;
        drop(body);
        let client = span_intake::client(
            request.peer,
            self.include_metadata.then_some(&request.headers),
        );
        span_intake::deliver(self.next.as_ref(), &self.id, translated, client, counters)
            .await
            .map_err(|error| {
                // Go's bodies, quotes included, no newline.
                if error.is_permanent() {
                    Failure {
                        status: StatusCode::BAD_REQUEST,
                        body: "\"Bad Request\"".into(),
                    }
                } else {
                    Failure {
                        status: StatusCode::INTERNAL_SERVER_ERROR,
                        body: "\"Internal Server Error\"".into(),
                    }
                }
            })
    }
}

/// The `zipkin` receiver.
pub struct ZipkinReceiver {
    id: ComponentId,
    config: ZipkinConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    server: tokio::sync::Mutex<Option<Server>>,
    bound: Mutex<Option<std::net::SocketAddr>>,
}

impl std::fmt::Debug for ZipkinReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinReceiver")
            .field("id", &self.id)
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl ZipkinReceiver {
    /// Builds the receiver; nothing listens until [`Receiver::start`].
    pub fn new(ctx: ReceiverContext, config: ZipkinConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(ZipkinReceiver {
            id: ctx.id,
            config,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            server: tokio::sync::Mutex::new(None),
            bound: Mutex::new(None),
        })
    }

    /// The address listened on once started (useful with port 0).
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn counters(&self, format: Format) -> SpanCounters {
        SpanCounters::new(
            &self.metrics,
            self.id.as_str(),
            format.transport(),
            (
                "otelcol_receiver_zipkin_failed_requests_total",
                "Zipkin requests answered with a 4xx status (undecodable, too large, unsupported). [otlp-rs]",
            ),
        )
    }
}

#[async_trait]
impl Receiver for ZipkinReceiver {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let Some(next) = self.next.get(Signal::Traces) else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let shared = Arc::new(Shared {
            id: self.id.to_string(),
            next: Arc::clone(next),
            parse_string_tags: self.config.parse_string_tags,
            include_metadata: self.config.include_metadata,
            max_body: self.config.max_body(),
            encodings: self.config.encodings(),
            counters: [
                self.counters(Format::V1Json),
                self.counters(Format::V1Thrift),
                self.counters(Format::V2Json),
                self.counters(Format::V2Proto),
            ],
        });
        let extra = span_intake::response_headers(&self.config.response_headers);
        let handler: otlp_pipeline::http_server::Handler = Arc::new(move |request| {
            let shared = Arc::clone(&shared);
            Box::pin(async move { shared.handle(request).await })
        });
        let server = Server::bind_with_body(
            &self.config.endpoint,
            handler,
            extra,
            self.config.max_body(),
        )
        .await
        .map_err(|e| format!("zipkin receiver: {e}"))?;
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner) = Some(server.local_addr());
        tracing::info!(receiver = %self.id, endpoint = %server.local_addr(), "listening for Zipkin spans");
        *self.server.lock().await = Some(server);
        self.status.receiver_started(&self.id);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        if let Some(mut server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        Ok(())
    }
}

/// The `zipkin` receiver factory (traces).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "zipkin",
        SignalSet::EMPTY.with(Signal::Traces),
        |ctx, config: ZipkinConfig| Ok(Box::new(ZipkinReceiver::new(ctx, config)?)),
    )
}

#[cfg(test)]
mod tests;
