//! The `prometheusremotewrite` exporter (alias `prometheus_remote_write`, the Go collector's
//! newer name): metrics as Prometheus remote write 1.0 requests — `prometheus.WriteRequest`
//! protobuf, snappy-compressed, `POST`ed with `Content-Encoding: snappy`,
//! `Content-Type: application/x-protobuf` and `X-Prometheus-Remote-Write-Version: 0.1.0` —
//! to Prometheus (`--web.enable-remote-write-receiver`), Mimir, Cortex, Thanos, ….
//!
//! # Keys and defaults (otelcol-contrib's)
//!
//! `endpoint` (required), `timeout` (5 s), `headers` (not the four the exporter sets), `tls`,
//! `auth`, `compression` (`snappy` only), `namespace`, `external_labels`,
//! `add_metric_suffixes` (true), `send_metadata` (false), `resource_to_telemetry_conversion`,
//! `target_info::enabled` (true), `export_created_metric::enabled` (false),
//! `max_batch_size_bytes` (3 000 000), `remote_write_queue` (`enabled` true, `queue_size`
//! 10 000 requests, `num_consumers` 5), `retry_on_failure` (the otlp exporter's),
//! `protobuf_message` (`prometheus.WriteRequest` only), `max_batch_request_parallelism`
//! (accepted). Refused by name: `wal`, `scope_info`, `sending_queue` (Go offers
//! `remote_write_queue` instead), remote write 2.0.
//!
//! # Delivery
//!
//! The translation is [`convert`]'s. With the queue (the default) a request is acknowledged
//! once queued; the queue sends it in requests under `max_batch_size_bytes` and retries on
//! connection failures, timeouts, 429 and 5xx with `retry_on_failure`'s backoff (and the
//! server's `Retry-After`); any other status (400 for out-of-order samples, say) fails the
//! request for good, counted and logged. Without the queue `consume` returns once every
//! request was answered, and a failure goes back to the caller (retryable or not) without a
//! retry here: Go's exporterhelper retries even then, so keep the queue on unless something in
//! front retries. What the translation drops (delta sums and histograms, exponential
//! histograms, names that sanitize to nothing) is counted in
//! `otelcol_exporter_prometheusremotewrite_translated_dropped_points_total` (ours) and logged
//! at debug, and the rest of the request is sent, as Go does.
//!
//! # Counting
//!
//! `otelcol_exporter_sent_metric_points_total`, `_send_failed_metric_points_total`,
//! `_enqueue_failed_metric_points_total`, `otelcol_exporter_queue_size` / `_capacity` (as the
//! otlp exporter), plus `otelcol_exporter_prometheusremotewrite_sent_batches_total` and
//! `otelcol_exporter_prometheusremotewrite_failed_batches_total` (the remote write requests).

mod config;
pub mod convert;
#[cfg(test)]
mod tests;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use otlp_batch::{BatchExporter, Encoded, ExportFailure, PartialSuccess};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Counter, Metrics};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig as TransportRetry};
use tokio::time::Instant;

pub use config::{
    Enabled, PrometheusRemoteWriteConfig, RemoteWriteQueueConfig, ResourceToTelemetry,
};
use convert::Settings;

use crate::queue::SendFailure;

/// The sender: translation, batching, compression and one POST per batch.
pub(crate) struct Sender {
    id: ComponentId,
    client: OtlpExporter,
    settings: Settings,
    max_batch_bytes: usize,
    dropped: Counter,
    sent_batches: Counter,
    failed_batches: Counter,
}

impl Sender {
    /// Translates and sends `request`; the points dropped by the translation are counted, not
    /// failed.
    async fn send(&self, request: &ExportMetricsServiceRequest) -> Result<(), SendFailure> {
        let converted = convert::convert(request, &self.settings);
        if converted.dropped_points > 0 {
            self.dropped.add(converted.dropped_points);
            tracing::debug!(exporter = %self.id, dropped = converted.dropped_points, reasons = ?converted.errors, "points not translated to remote write");
        }
        let headers = [
            (
                http::header::CONTENT_ENCODING,
                http::HeaderValue::from_static("snappy"),
            ),
            (
                http::HeaderName::from_static("x-prometheus-remote-write-version"),
                http::HeaderValue::from_static(wire::VERSION),
            ),
        ];
        for batch in convert::batches(converted, self.max_batch_bytes) {
            let body = batch
                .encode_compressed()
                .map_err(|e| SendFailure::permanent(e.to_string()))?;
            let result = self
                .client
                .post_body(Signal::Metrics, wire::CONTENT_TYPE, &headers, body.into())
                .await;
            match result {
                Ok(()) => self.sent_batches.add(1),
                Err(error) => {
                    self.failed_batches.add(1);
                    return Err(SendFailure::from_export(
                        &error,
                        "the remote write endpoint refused the request",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl crate::queue::OneSignalSender for Sender {
    async fn send_telemetry(&self, data: &Telemetry) -> Result<(), SendFailure> {
        match data.metrics() {
            Some(request) => self.send(request).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl BatchExporter<Encoded<ExportMetricsServiceRequest>> for Sender {
    async fn export(
        &self,
        batch: &Encoded<ExportMetricsServiceRequest>,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let request = batch
            .decode_request()
            .map_err(|e| ExportFailure::permanent(format!("undecodable queued request: {e}")))?;
        self.send(&request).await.map(|()| None).map_err(|failure| {
            if !failure.retryable {
                tracing::warn!(exporter = %self.id, error = %failure.message, "remote write failed permanently; the points are dropped");
            }
            failure.into_export_failure()
        })
    }
}

/// The `prometheusremotewrite` exporter.
pub struct PrometheusRemoteWriteExporter {
    sender: Arc<Sender>,
    auth: Option<Arc<crate::otlp::auth::ExtensionHeaders>>,
    delivery: crate::queue::OneSignalQueue,
}

impl std::fmt::Debug for PrometheusRemoteWriteExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusRemoteWriteExporter")
            .field("id", &self.sender.id)
            .field("endpoint", self.sender.client.endpoint(Signal::Metrics))
            .finish_non_exhaustive()
    }
}

impl PrometheusRemoteWriteExporter {
    /// An exporter for `ctx` (connects on the first send).
    pub fn new(
        ctx: ExporterContext,
        config: PrometheusRemoteWriteConfig,
    ) -> Result<PrometheusRemoteWriteExporter, ConfigError> {
        config.validate()?;
        let builder = OtlpExporter::builder()
            .protocol(Protocol::HttpProtobuf)
            .signal_endpoint(Signal::Metrics, config.endpoint.trim())
            .headers(config.headers.clone())
            .timeout(config.timeout)
            .insecure(config.tls.insecure)
            .tls(crate::otlp::client_tls(&config.tls)?)
            .user_agent(format!("otlp-rs collector/{}", env!("CARGO_PKG_VERSION")))
            // The queue retries (`post_body` makes one attempt).
            .retry(TransportRetry::disabled());
        let (builder, auth) = crate::otlp::with_auth(builder, config.auth.as_ref())?;
        let client = builder
            .build()
            .map_err(|e| ConfigError::bad_value("endpoint", e))?;
        let metrics = Metrics::from_resources(&ctx.resources);
        let id = ctx.id.as_str();
        let labels = [("exporter", id)];
        let mut external_labels: Vec<(String, String)> = config
            .external_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        external_labels.sort();
        let settings = Settings {
            namer: otlp_model::prometheus::translator::MetricNamer {
                namespace: config.namespace.clone(),
                with_suffixes: config.add_metric_suffixes,
            },
            external_labels,
            resource_to_telemetry: config.resource_to_telemetry_conversion.enabled,
            target_info: config.target_info.enabled,
            created: config.export_created_metric.enabled,
            metadata: config.send_metadata,
        };
        let sender = Sender {
            id: ctx.id.clone(),
            client,
            settings,
            max_batch_bytes: config.max_batch_size_bytes,
            dropped: metrics.counter(
                "otelcol_exporter_prometheusremotewrite_translated_dropped_points_total",
                "Metric points the prometheusremotewrite exporter could not translate (delta, exponential histograms, invalid names). [otlp-rs]",
                &labels,
            ),
            sent_batches: metrics.counter(
                "otelcol_exporter_prometheusremotewrite_sent_batches_total",
                "Remote write requests accepted by the endpoint. [otlp-rs]",
                &labels,
            ),
            failed_batches: metrics.counter(
                "otelcol_exporter_prometheusremotewrite_failed_batches_total",
                "Remote write requests that failed (each attempt). [otlp-rs]",
                &labels,
            ),
        };
        let queue = crate::queue::batch_queue_config(
            &config.remote_write_queue.as_sending_queue(),
            &config.retry_on_failure,
            config.timeout,
        )?;
        Ok(PrometheusRemoteWriteExporter {
            sender: Arc::new(sender),
            auth,
            delivery: crate::queue::OneSignalQueue::new(
                Signal::Metrics,
                ctx.id.as_str(),
                queue,
                metrics,
            ),
        })
    }
}

#[async_trait]
impl Consumer for PrometheusRemoteWriteExporter {
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
impl Exporter for PrometheusRemoteWriteExporter {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        if self.sender.client.skips_certificate_verification() {
            tracing::warn!(exporter = %self.sender.id, "tls::insecure_skip_verify is set: the server certificate is not verified");
        }
        if let Some(auth) = &self.auth {
            auth.bind(host)?;
        }
        self.delivery.start(&crate::queue::MetricsOnly(
            Arc::clone(&self.sender) as _,
            "the prometheusremotewrite exporter exports metrics only",
        ))
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.delivery.shutdown(deadline.into_std()).await
    }
}

/// The `prometheusremotewrite` exporter factory (metrics; alias `prometheus_remote_write`).
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "prometheusremotewrite",
        SignalSet::from(Signal::Metrics),
        |ctx, config: PrometheusRemoteWriteConfig| {
            Ok(Box::new(PrometheusRemoteWriteExporter::new(ctx, config)?))
        },
    )
    .with_aliases(&["prometheus_remote_write"])
}
