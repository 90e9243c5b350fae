//! The `otlp` (OTLP/gRPC, alias `otlp_grpc`) and `otlphttp` (OTLP/HTTP, alias `otlp_http`) exporters, on
//! `otlp-transport`'s client and `otlp-batch`'s queue.
//!
//! # Acknowledgement
//!
//! - **With the sending queue** (the default): `consume` enqueues the request into one
//!   [`BatchQueue`] per signal and returns `Ok` once the queue accepted it — in memory, or
//!   written to the segment file with `sending_queue.storage` (otlp-batch's guarantee: nothing
//!   accepted is dropped; it is exported or counted as failed). A full queue refuses at once
//!   with a **retryable** error (the sender gets UNAVAILABLE / 503 and retries; nothing is
//!   dropped silently); `blocking: true` waits for room up to `timeout` first. With
//!   `wait_for_result: true` the sender is answered only once the data was exported.
//!   Requests wait in the queue encoded (`otlp_batch::Encoded`): protobuf bytes received
//!   unchanged are queued as they arrived, anything else is encoded once at enqueue, and the
//!   decoded request is freed then.
//! - **Without it** (`sending_queue.enabled: false`): `consume` exports in the caller's task
//!   (with the transport's retries per `retry_on_failure`) and returns the outcome: the
//!   sender's request waits for the destination. Protobuf bytes received unchanged are sent as
//!   they are (no re-encoding).
//!
//! Retries happen in one place: under a queue the transport's own retry is off and the queue
//! retries with `retry_on_failure`'s backoff; without a queue the transport retries.
//!
//! # Counting
//!
//! `otelcol_exporter_sent_*` (items the destination accepted), `_send_failed_*` (items that
//! failed for good: permanent errors, partial-success rejections, retries given up, the
//! shutdown deadline), `_enqueue_failed_*` (items refused at the queue: the sender was told),
//! `otelcol_exporter_queue_size` / `_capacity` (items).

pub(crate) mod auth;
mod compression;
mod config;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_batch::{
    BatchExporter, BatchQueueConfig, DrainError, Encoded, FsyncPolicy, PersistentConfig,
    StorageConfig,
};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{
    ExportError, ExporterBuilder, OtlpExporter, Protocol, RetryConfig as TransportRetry, TlsConfig,
};
use tokio::time::Instant;

pub use crate::queue::RetryOnFailureConfig;
use crate::queue::{AnyQueue, Enqueue, SignalCounters, SignalExporters};
use compression::{compression, compression_level};
use config::Sizer;
pub use config::{
    ClientAuthConfig, ClientTlsConfig, CompressionParams, ITEMS_PER_REQUEST, OtlpExporterConfig,
    OtlpHttpExporterConfig, QueueBatchConfig, SendingQueueConfig,
};

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::fields::parse_id;
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::{Metrics, Registration};

/// The settings both exporters share once their YAML is read.
struct Settings {
    client: OtlpExporter,
    auth: Option<Arc<auth::ExtensionHeaders>>,
    timeout: Duration,
    retry: RetryOnFailureConfig,
    queue: SendingQueueConfig,
}

pub(crate) fn client_tls(tls: &ClientTlsConfig) -> Result<TlsConfig, ConfigError> {
    let tls_error = |e: otlp_transport::client::ConfigError| ConfigError::bad_value("tls", e);
    let mut config = TlsConfig::new();
    if let Some(path) = &tls.ca_file {
        config = config.with_ca_file(path).map_err(tls_error)?;
    }
    if let Some(pem) = &tls.ca_pem {
        config = config.with_ca_pem(pem.clone().into_bytes());
    }
    match (&tls.cert_file, &tls.cert_pem, &tls.key_file, &tls.key_pem) {
        (Some(cert), _, Some(key), _) => {
            config = config
                .with_client_identity_files(cert, key)
                .map_err(tls_error)?
        }
        (_, Some(cert), _, Some(key)) => {
            config = config
                .with_client_identity_pem(cert.clone().into_bytes(), key.clone().into_bytes());
        }
        (Some(cert), _, _, Some(key)) => {
            let cert =
                std::fs::read(cert).map_err(|e| ConfigError::bad_value("tls::cert_file", e))?;
            config = config.with_client_identity_pem(cert, key.clone().into_bytes());
        }
        (_, Some(cert), Some(key), _) => {
            let key = std::fs::read(key).map_err(|e| ConfigError::bad_value("tls::key_file", e))?;
            config = config.with_client_identity_pem(cert.clone().into_bytes(), key);
        }
        _ => {}
    }
    if let Some(name) = &tls.server_name_override {
        config = config.with_server_name(name.clone());
    }
    Ok(config.with_insecure_skip_verify(tls.insecure_skip_verify))
}

fn transport_retry(retry: &RetryOnFailureConfig, queued: bool) -> TransportRetry {
    if queued || !retry.enabled {
        return TransportRetry::disabled();
    }
    TransportRetry::default()
        .with_initial_interval(retry.initial_interval)
        .with_max_interval(retry.max_interval)
        .with_max_elapsed_time(retry.max_elapsed_time)
        .with_multiplier(retry.multiplier)
        .with_randomization_factor(retry.randomization_factor)
}

/// The builder with the authenticator's headers, when `auth` names one.
pub(crate) fn with_auth(
    builder: ExporterBuilder,
    auth: Option<&ClientAuthConfig>,
) -> Result<(ExporterBuilder, Option<Arc<auth::ExtensionHeaders>>), ConfigError> {
    let Some(auth) = auth else {
        return Ok((builder, None));
    };
    let id = parse_id("auth::authenticator", &auth.authenticator)?;
    let headers = auth::ExtensionHeaders::new(id);
    let source: Arc<dyn otlp_transport::client::HeaderSource> = headers.clone();
    Ok((builder.header_source(source), Some(headers)))
}

impl Settings {
    fn grpc(config: OtlpExporterConfig) -> Result<Settings, ConfigError> {
        let compression = compression(&config.compression, true)?;
        let builder = OtlpExporter::builder()
            .protocol(Protocol::Grpc)
            .endpoint(config.endpoint.trim())
            .compression(compression)
            .compression_level(compression_level(compression, &config.compression_params)?)
            .headers(config.headers.clone())
            .timeout(config.timeout)
            .insecure(config.tls.insecure)
            .tls(client_tls(&config.tls)?)
            .retry(transport_retry(
                &config.retry_on_failure,
                config.sending_queue.enabled,
            ));
        let (builder, auth) = with_auth(builder, config.auth.as_ref())?;
        let client = builder.build().map_err(|e| ConfigError::bad_value("", e))?;
        Ok(Settings {
            client,
            auth,
            timeout: config.timeout,
            retry: config.retry_on_failure,
            queue: config.sending_queue,
        })
    }

    fn http(config: OtlpHttpExporterConfig) -> Result<Settings, ConfigError> {
        let compression = compression(&config.compression, false)?;
        let mut builder = OtlpExporter::builder()
            .protocol(config.protocol()?)
            .compression(compression)
            .compression_level(compression_level(compression, &config.compression_params)?)
            .headers(config.headers.clone())
            .timeout(config.timeout)
            .insecure(config.tls.insecure)
            .tls(client_tls(&config.tls)?)
            .retry(transport_retry(
                &config.retry_on_failure,
                config.sending_queue.enabled,
            ));
        if !config.endpoint.trim().is_empty() {
            builder = builder.endpoint(config.endpoint.trim());
        }
        if let Some(url) = config.proxy_url.as_deref().filter(|p| !p.trim().is_empty()) {
            builder = builder.proxy_url(url);
        }
        let (mut builder, auth) = with_auth(builder, config.auth.as_ref())?;
        for (signal, endpoint) in [
            (Signal::Traces, &config.traces_endpoint),
            (Signal::Metrics, &config.metrics_endpoint),
            (Signal::Logs, &config.logs_endpoint),
            (Signal::Profiles, &config.profiles_endpoint),
        ] {
            if let Some(endpoint) = endpoint {
                builder = builder.signal_endpoint(signal, endpoint.trim());
            }
        }
        let client = builder.build().map_err(|e| match e {
            otlp_transport::client::ConfigError::Proxy { .. } => {
                ConfigError::bad_value("proxy_url", e)
            }
            e => ConfigError::bad_value("", e),
        })?;
        Ok(Settings {
            client,
            auth,
            timeout: config.timeout,
            retry: config.retry_on_failure,
            queue: config.sending_queue,
        })
    }
}

/// The queue settings of a queued exporter.
struct QueueSettings {
    config: BatchQueueConfig,
    storage: Option<ComponentId>,
    sizer: Sizer,
    queue_size: u64,
    enqueue: Enqueue,
}

fn queue_settings(settings: &Settings) -> Result<Option<QueueSettings>, ConfigError> {
    let queue = &settings.queue;
    let Some((config, enqueue)) =
        crate::queue::batch_queue_config(queue, &settings.retry, settings.timeout)?
    else {
        return Ok(None);
    };
    let storage = queue
        .storage
        .as_deref()
        .map(|s| parse_id("sending_queue::storage", s))
        .transpose()?;
    Ok(Some(QueueSettings {
        config,
        storage,
        sizer: queue.sizer()?,
        queue_size: queue.queue_size,
        enqueue,
    }))
}

impl SignalExporters for OtlpExporter {
    fn traces(&self) -> Arc<dyn BatchExporter<Encoded<ExportTraceServiceRequest>>> {
        Arc::new(self.clone())
    }
    fn metrics(&self) -> Arc<dyn BatchExporter<Encoded<ExportMetricsServiceRequest>>> {
        Arc::new(self.clone())
    }
    fn logs(&self) -> Arc<dyn BatchExporter<Encoded<ExportLogsServiceRequest>>> {
        Arc::new(self.clone())
    }
    fn profiles(&self) -> Arc<dyn BatchExporter<Encoded<ExportProfilesServiceRequest>>> {
        Arc::new(self.clone())
    }
}

/// An `otlp` or `otlphttp` exporter.
pub struct OtlpExporterComponent {
    id: ComponentId,
    client: OtlpExporter,
    auth: Option<Arc<auth::ExtensionHeaders>>,
    queue: Option<QueueSettings>,
    signals: SignalSet,
    counters: [SignalCounters; 4],
    metrics: Arc<Metrics>,
    queues: OnceLock<[Option<AnyQueue>; 4]>,
    registrations: Mutex<Vec<Registration>>,
}

impl OtlpExporterComponent {
    fn new(ctx: ExporterContext, settings: Settings) -> Result<OtlpExporterComponent, ConfigError> {
        let queue = queue_settings(&settings)?;
        let metrics = Metrics::from_resources(&ctx.resources);
        let counters = SignalCounters::per_signal(&metrics, ctx.id.as_str());
        Ok(OtlpExporterComponent {
            id: ctx.id,
            client: settings.client,
            auth: settings.auth,
            queue,
            signals: ctx.signals,
            counters,
            metrics,
            queues: OnceLock::new(),
            registrations: Mutex::new(Vec::new()),
        })
    }

    /// Builds an `otlp` (gRPC) exporter.
    pub fn grpc(
        ctx: ExporterContext,
        config: OtlpExporterConfig,
    ) -> Result<OtlpExporterComponent, ConfigError> {
        OtlpExporterComponent::new(ctx, Settings::grpc(config)?)
    }

    /// Builds an `otlphttp` exporter.
    pub fn http(
        ctx: ExporterContext,
        config: OtlpHttpExporterConfig,
    ) -> Result<OtlpExporterComponent, ConfigError> {
        OtlpExporterComponent::new(ctx, Settings::http(config)?)
    }

    /// The transport client.
    pub fn client(&self) -> &OtlpExporter {
        &self.client
    }

    async fn export_now(&self, data: &Telemetry) -> Result<(), ConsumeError> {
        let signal = data.signal();
        let items = data.item_count() as u64;
        let counters = &self.counters[signal.index()];
        let result = match data.encoded() {
            Some(protobuf) => self.client.export_encoded(signal, protobuf.clone()).await,
            None => match data.payload() {
                Payload::Traces(r) => self.client.export(r).await,
                Payload::Metrics(r) => self.client.export(r).await,
                Payload::Logs(r) => self.client.export(r).await,
                Payload::Profiles(r) => self.client.export(r).await,
            },
        };
        match result {
            Ok(outcome) => {
                let rejected = u64::try_from(outcome.rejected_items())
                    .unwrap_or(0)
                    .min(items);
                counters.sent.add(items - rejected);
                if let Some(partial) = outcome
                    .partial_success
                    .filter(|p| p.rejected_items > 0 || !p.error_message.is_empty())
                {
                    counters.send_failed.add(rejected);
                    tracing::warn!(exporter = %self.id, rejected = partial.rejected_items, message = %partial.error_message, "partial success");
                }
                Ok(())
            }
            Err(error) => {
                counters.send_failed.add(items);
                let failure = consume_error(&error);
                if failure.is_retryable() {
                    // The sending queue (or the sender) retries; each attempt is not news.
                    tracing::debug!(exporter = %self.id, %signal, items, %error, "export attempt failed");
                } else {
                    tracing::warn!(exporter = %self.id, %signal, items, %error, "export failed permanently; the items are dropped");
                }
                Err(failure)
            }
        }
    }
}

fn consume_error(error: &ExportError) -> ConsumeError {
    if error.is_retryable() || matches!(error, ExportError::RetriesExhausted { .. }) {
        let e = ConsumeError::retryable(format!("sending failed: {error}"));
        match error.retry_after() {
            Some(delay) => e.with_retry_after(delay),
            None => e,
        }
    } else {
        ConsumeError::permanent(format!("sending failed: {error}"))
    }
}

impl OtlpExporterComponent {
    /// Puts `data` into the sending queue (or, without one, exports it now); a refusal
    /// carries the data back when it was not taken.
    async fn accept(&self, data: Telemetry) -> Result<(), Refused> {
        let Some(settings) = &self.queue else {
            return match self.export_now(&data).await {
                Ok(()) => Ok(()),
                Err(error) => Err(Refused {
                    error,
                    data: Some(data),
                }),
            };
        };
        let signal = data.signal();
        let items = data.item_count() as u64;
        let queue = self
            .queues
            .get()
            .and_then(|queues| queues[signal.index()].clone());
        let Some(queue) = queue else {
            self.counters[signal.index()].enqueue_failed.add(items);
            let error = if self.queues.get().is_some() {
                ConsumeError::permanent(format!("no pipeline of this exporter carries {signal}"))
            } else {
                ConsumeError::retryable("the exporter is not started")
            };
            return Err(Refused {
                error,
                data: Some(data),
            });
        };
        match queue.put(&data, settings.enqueue).await {
            Ok(()) => Ok(()),
            Err(not_queued) => {
                Err(not_queued.refused(data, &self.counters[signal.index()].enqueue_failed))
            }
        }
    }
}

#[async_trait]
impl Consumer for OtlpExporterComponent {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.accept(data).await.map_err(|refused| refused.error)
    }

    /// Encodes the payload into the queue and hands the caller's data back when the queue
    /// refuses it, so a batch processor in front keeps no copy for its retry.
    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        self.accept(data).await
    }
}

#[async_trait]
impl Exporter for OtlpExporterComponent {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        if self.client.skips_certificate_verification() {
            tracing::warn!(exporter = %self.id, "tls::insecure_skip_verify is set: the server certificate is not verified, so anyone on the path can impersonate the server");
        }
        if let Some(auth) = &self.auth {
            auth.bind(host)?;
        }
        let Some(settings) = &self.queue else {
            return Ok(());
        };
        let storage = match &settings.storage {
            Some(id) => Some(
                host.extension(id)
                    .and_then(|extension| extension.as_storage())
                    .map(|storage| (storage.directory().to_path_buf(), storage.fsync()))
                    .ok_or_else(|| {
                        format!("sending_queue::storage: \"{id}\" is not a started storage extension such as file_storage (list it in service.extensions)")
                    })?,
            ),
            None => None,
        };
        let mut queues: [Option<AnyQueue>; 4] = Default::default();
        let mut registrations = Vec::new();
        for signal in self.signals.iter() {
            let mut config = settings.config.clone();
            if let Some((storage_directory, storage_fsync)) = &storage {
                let directory =
                    PersistentConfig::queue_directory(storage_directory, self.id.as_str(), signal);
                let mut persistent = PersistentConfig::new(directory);
                if *storage_fsync {
                    persistent.fsync = FsyncPolicy::Always;
                }
                if settings.sizer == Sizer::Bytes {
                    persistent.max_bytes = settings.queue_size;
                    persistent.segment_size = persistent.segment_size.min(settings.queue_size);
                }
                config.storage = StorageConfig::Persistent(persistent);
            }
            let queue = AnyQueue::spawn(signal, config, &self.client)
                .map_err(|e| format!("cannot open the {signal} sending queue: {e}"))?;
            let queue_metrics = queue.metrics();
            let recovered = queue_metrics.snapshot().recovered_items;
            if recovered > 0 {
                tracing::info!(exporter = %self.id, %signal, items = recovered, "persistent queue: resuming items from a previous run");
            }
            registrations.extend(queue.register_metrics(&self.metrics, self.id.as_str(), signal));
            queues[signal.index()] = Some(queue);
        }
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(registrations);
        self.queues
            .set(queues)
            .map_err(|_| "the exporter was already started")?;
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        let Some(queues) = self.queues.get() else {
            return Ok(());
        };
        let mut lost = 0u64;
        for queue in queues.iter().flatten() {
            match queue.shutdown(deadline.into_std()).await {
                Ok(_) | Err(DrainError::Closed) => {}
                Err(DrainError::Failed(report)) => {
                    tracing::warn!(exporter = %self.id, %report, "some items failed while draining the sending queue");
                }
                Err(DrainError::DeadlineExceeded(report)) => {
                    if report.persisted_items > 0 {
                        tracing::info!(exporter = %self.id, items = report.persisted_items, "items left in the persistent queue for the next start");
                    }
                    lost += report.failed_items;
                    if report.failed_items > 0 {
                        tracing::error!(exporter = %self.id, %report, "the sending queue did not drain by the shutdown deadline");
                    }
                }
                Err(other) => {
                    tracing::warn!(exporter = %self.id, error = %other, "draining the sending queue")
                }
            }
        }
        if lost > 0 {
            return Err(format!("{lost} items were not exported by the shutdown deadline").into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for OtlpExporterComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExporterComponent")
            .field("id", &self.id)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// The `otlp` exporter factory (alias `otlp_grpc`, the Go collector's new name for it).
pub fn grpc_factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter("otlp", SignalSet::ALL, |ctx, config: OtlpExporterConfig| {
        Ok(Box::new(OtlpExporterComponent::grpc(ctx, config)?))
    })
    .with_aliases(&["otlp_grpc"])
}

/// The `otlphttp` exporter factory (alias `otlp_http`).
pub fn http_factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter(
        "otlphttp",
        SignalSet::ALL,
        |ctx, config: OtlpHttpExporterConfig| {
            Ok(Box::new(OtlpExporterComponent::http(ctx, config)?))
        },
    )
    .with_aliases(&["otlp_http"])
}
