//! The `zipkin` exporter: traces as Zipkin v2 JSON (default) or v2 protobuf, `POST`ed to a
//! Zipkin server (`http://zipkin:9411/api/v2/spans`) or anything that speaks its API
//! (Jaeger's and otelcol's `zipkin` receivers), translated as otelcol-contrib's exporter does
//! ([`otlp_model::zipkin`] documents the mapping).
//!
//! # Keys and defaults (otelcol-contrib's)
//!
//! `endpoint` (required; the URL as given, no path is added), `format` (`json` | `proto`),
//! `default_service_name` (accepted; otelcol does not use it either), `timeout` (5 s),
//! `headers`, `compression` (none by default; `gzip`, `zstd`, `deflate`), `tls`, `auth`,
//! `proxy_url`, `sending_queue` and `retry_on_failure` (the otlp exporter's); Go's HTTP
//! client tuning keys are accepted.
//!
//! # Delivery
//!
//! With the queue (the default) a request is acknowledged once queued; the queue sends it and
//! retries connection failures, timeouts, 429 and 5xx with `retry_on_failure`'s backoff (and
//! the server's `Retry-After`). Otelcol retries every non-2xx answer, 400 included; here any
//! other 4xx fails the request for good (counted and logged), since sending the same body
//! again cannot succeed. A request that cannot be translated (a span without a trace or span
//! id, an event attribute that is NaN) fails for good, as in otelcol. Without the queue
//! `consume` returns once the server answered.
//!
//! # Counting
//!
//! `otelcol_exporter_sent_spans_total`, `_send_failed_spans_total`,
//! `_enqueue_failed_spans_total`, `otelcol_exporter_queue_size` / `_capacity`.

mod config;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use otlp_batch::{BatchExporter, Encoded, ExportFailure, PartialSuccess};
use otlp_model::zipkin;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::ConfigError;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::Metrics;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig as TransportRetry};
use otlp_transport::compression::{Compression, compress};
use tokio::time::Instant;

use config::Format;
pub use config::{DEFAULT_SERVICE_NAME, ZipkinExporterConfig};

use crate::queue::SendFailure;

/// Encodes a request as the exporter sends it: the body and its content type (for tests and
/// benchmarks).
pub fn encode_request(
    request: &ExportTraceServiceRequest,
    proto: bool,
) -> Result<(Vec<u8>, &'static str), zipkin::FromOtlpError> {
    let spans = zipkin::from_otlp(request)?;
    Ok(if proto {
        (zipkin::encode_v2_proto(&spans), "application/x-protobuf")
    } else {
        (zipkin::encode_v2_json(&spans), "application/json")
    })
}

/// The sender: translation, encoding, compression and one POST.
struct Sender {
    id: String,
    client: OtlpExporter,
    format: Format,
    compression: Compression,
}

impl Sender {
    async fn send(&self, request: &ExportTraceServiceRequest) -> Result<(), SendFailure> {
        let permanent = SendFailure::permanent;
        let (body, content_type) =
            encode_request(request, self.format == Format::Proto).map_err(|e| {
                permanent(format!(
                    "failed to push trace data via Zipkin exporter: {e}"
                ))
            })?;
        let mut headers = Vec::new();
        let body = match self.compression {
            Compression::None => body,
            compression => {
                let token = compression.http_token().unwrap_or("identity");
                headers.push((
                    http::header::CONTENT_ENCODING,
                    http::HeaderValue::from_static(token),
                ));
                compress(compression, &body).map_err(|e| permanent(e.to_string()))?
            }
        };
        self.client
            .post_body(Signal::Traces, content_type, &headers, body.into())
            .await
            .map_err(|error| {
                SendFailure::from_export(&error, "the Zipkin endpoint refused the spans")
            })
    }
}

#[async_trait]
impl crate::queue::OneSignalSender for Sender {
    async fn send_telemetry(&self, data: &Telemetry) -> Result<(), SendFailure> {
        match data.traces() {
            Some(request) => self.send(request).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl BatchExporter<Encoded<ExportTraceServiceRequest>> for Sender {
    async fn export(
        &self,
        batch: &Encoded<ExportTraceServiceRequest>,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let request = batch
            .decode_request()
            .map_err(|e| ExportFailure::permanent(format!("undecodable queued request: {e}")))?;
        self.send(&request).await.map(|()| None).map_err(|failure| {
            if !failure.retryable {
                tracing::warn!(exporter = %self.id, error = %failure.message, "sending to Zipkin failed permanently; the spans are dropped");
            }
            failure.into_export_failure()
        })
    }
}

/// The `zipkin` exporter.
pub struct ZipkinExporter {
    sender: Arc<Sender>,
    auth: Option<Arc<crate::otlp::auth::ExtensionHeaders>>,
    delivery: crate::queue::OneSignalQueue,
}

impl std::fmt::Debug for ZipkinExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipkinExporter")
            .field("id", &self.sender.id)
            .field("endpoint", self.sender.client.endpoint(Signal::Traces))
            .finish_non_exhaustive()
    }
}

impl ZipkinExporter {
    /// An exporter for `ctx` (connects on the first send).
    pub fn new(ctx: ExporterContext, config: ZipkinExporterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut builder = OtlpExporter::builder()
            .protocol(Protocol::HttpProtobuf)
            .signal_endpoint(Signal::Traces, config.endpoint.trim())
            .headers(config.headers.clone())
            .timeout(config.timeout)
            .insecure(config.tls.insecure)
            .tls(crate::otlp::client_tls(&config.tls)?)
            .user_agent(format!("otlp-rs collector/{}", env!("CARGO_PKG_VERSION")))
            // The queue retries (`post_body` makes one attempt).
            .retry(TransportRetry::disabled());
        if let Some(url) = config.proxy_url.as_deref().filter(|p| !p.trim().is_empty()) {
            builder = builder.proxy_url(url);
        }
        let (builder, auth) = crate::otlp::with_auth(builder, config.auth.as_ref())?;
        let client = builder
            .build()
            .map_err(|e| ConfigError::bad_value("endpoint", e))?;
        let metrics = Metrics::from_resources(&ctx.resources);
        let queue = crate::queue::batch_queue_config(
            &config.sending_queue,
            &config.retry_on_failure,
            config.timeout,
        )?;
        Ok(ZipkinExporter {
            sender: Arc::new(Sender {
                id: ctx.id.to_string(),
                client,
                format: config.format()?,
                compression: config.compression()?,
            }),
            auth,
            delivery: crate::queue::OneSignalQueue::new(
                Signal::Traces,
                ctx.id.as_str(),
                queue,
                metrics,
            ),
        })
    }
}

#[async_trait]
impl Consumer for ZipkinExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.delivery
            .accept(data, self.sender.as_ref())
            .await
            .map_err(|refused| refused.error)
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.delivery.accept(data, self.sender.as_ref()).await
    }
}

#[async_trait]
impl Exporter for ZipkinExporter {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        if self.sender.client.skips_certificate_verification() {
            tracing::warn!(exporter = %self.sender.id, "tls::insecure_skip_verify is set: the server certificate is not verified");
        }
        if let Some(auth) = &self.auth {
            auth.bind(host)?;
        }
        self.delivery.start(&crate::queue::TracesOnly(
            Arc::clone(&self.sender) as _,
            "the zipkin exporter exports traces only",
        ))
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.delivery.shutdown(deadline.into_std()).await
    }
}

/// The `zipkin` exporter factory (traces).
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "zipkin",
        SignalSet::from(Signal::Traces),
        |ctx, config: ZipkinExporterConfig| Ok(Box::new(ZipkinExporter::new(ctx, config)?)),
    )
}
