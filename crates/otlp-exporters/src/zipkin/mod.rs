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

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_trait::async_trait;
use otlp_batch::{BatchExporter, Encoded, ExportFailure, PartialSuccess};
use otlp_model::zipkin;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::ConfigError;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Metrics, Registration};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig as TransportRetry};
use otlp_transport::compression::{Compression, compress};
use tokio::time::Instant;

use config::Format;
pub use config::{DEFAULT_SERVICE_NAME, ZipkinExporterConfig};

use crate::queue::{AnyQueue, Enqueue, SendFailure, SignalCounters};

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

struct QueueSettings {
    config: otlp_batch::BatchQueueConfig,
    enqueue: Enqueue,
}

/// The `zipkin` exporter.
pub struct ZipkinExporter {
    sender: Arc<Sender>,
    auth: Option<Arc<crate::otlp::auth::ExtensionHeaders>>,
    queue: Option<QueueSettings>,
    counters: SignalCounters,
    metrics: Arc<Metrics>,
    running: OnceLock<AnyQueue>,
    registrations: Mutex<Vec<Registration>>,
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
        )?
        .map(|(config, enqueue)| QueueSettings { config, enqueue });
        let [counters, _, _, _] = SignalCounters::per_signal(&metrics, ctx.id.as_str());
        Ok(ZipkinExporter {
            sender: Arc::new(Sender {
                id: ctx.id.to_string(),
                client,
                format: config.format()?,
                compression: config.compression()?,
            }),
            auth,
            queue,
            counters,
            metrics,
            running: OnceLock::new(),
            registrations: Mutex::new(Vec::new()),
        })
    }

    async fn accept(&self, data: Telemetry) -> Result<(), Refused> {
        if data.signal() != Signal::Traces {
            return Ok(());
        }
        let items = data.item_count() as u64;
        let Some(settings) = &self.queue else {
            let Some(request) = data.traces() else {
                return Ok(());
            };
            return match self.sender.send(request).await {
                Ok(()) => {
                    self.counters.sent.add(items);
                    Ok(())
                }
                Err(failure) => {
                    self.counters.send_failed.add(items);
                    let error = failure.into_consume_error();
                    Err(Refused {
                        error,
                        data: Some(data),
                    })
                }
            };
        };
        let Some(queue) = self.running.get() else {
            self.counters.enqueue_failed.add(items);
            return Err(Refused {
                error: ConsumeError::retryable("the exporter is not started"),
                data: Some(data),
            });
        };
        queue
            .put(&data, settings.enqueue)
            .await
            .map_err(|not_queued| not_queued.refused(data, &self.counters.enqueue_failed))
    }
}

#[async_trait]
impl Consumer for ZipkinExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.accept(data).await.map_err(|refused| refused.error)
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.accept(data).await
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
        let Some(settings) = &self.queue else {
            return Ok(());
        };
        let queue = AnyQueue::spawn(
            Signal::Traces,
            settings.config.clone(),
            &crate::queue::TracesOnly(
                Arc::clone(&self.sender) as _,
                "the zipkin exporter exports traces only",
            ),
        )
        .map_err(|e| format!("cannot open the sending queue: {e}"))?;
        let registrations =
            queue.register_metrics(&self.metrics, self.sender.id.as_str(), Signal::Traces);
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(registrations);
        self.running
            .set(queue)
            .map_err(|_| "the exporter was already started")?;
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        let Some(queue) = self.running.get() else {
            return Ok(());
        };
        crate::queue::drain(queue, deadline.into_std(), self.sender.id.as_str(), "spans").await
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
