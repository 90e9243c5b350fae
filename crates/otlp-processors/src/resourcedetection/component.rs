//! The `resourcedetection` processor as a pipeline component: detection at `start` (and on
//! `refresh_interval`), the merge into every request's resources, and its factory (type
//! `resourcedetection`, alias `resource_detection`).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use otlp_pipeline::component::{Consumer, Host, Processor, ProcessorContext, SignalSet};
use otlp_pipeline::config::ComponentId;
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError};
use otlp_pipeline::factory::{FnFactory, ProcessorFactory};
use otlp_pipeline::task::{BackgroundTask, every};

use super::config::ResourceDetectionConfig;
use super::detectors::{Attributes, Detection, Session};
use super::environment::Environment;
use super::{merge_logs, merge_metrics, merge_profiles, merge_traces};

/// Detection failed at start: the failing detectors and why.
#[derive(Debug, thiserror::Error)]
#[error("resourcedetection {id}: detection failed: {}", failures.join("; "))]
pub struct DetectionFailed {
    /// The processor id.
    pub id: String,
    /// One message per failed detector (`system: all hostname sources failed …`).
    pub failures: Vec<String>,
}

/// What the instance and its refresh task share.
struct Shared {
    id: ComponentId,
    session: Session,
    environment: Arc<Environment>,
    detected: RwLock<Arc<Attributes>>,
}

impl Shared {
    fn current(&self) -> Arc<Attributes> {
        self.detected
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn store(&self, attributes: Attributes) {
        *self
            .detected
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(attributes);
    }

    async fn detect(&self) -> Detection {
        tracing::info!(processor = %self.id, "began detecting resource information");
        let detection = self.session.run(&self.environment).await;
        let keys: Vec<&str> = detection
            .attributes
            .iter()
            .map(|kv| kv.key.as_str())
            .collect();
        tracing::info!(processor = %self.id, attributes = ?keys, "detected resource information");
        detection
    }

    /// A refresh: the new result replaces the old, unless it failed and the old one was a
    /// success with attributes.
    async fn refresh(&self, last_ok: &mut bool) {
        let detection = self.detect().await;
        let failed = !detection.failures.is_empty();
        if failed && *last_ok && !self.current().is_empty() {
            tracing::warn!(processor = %self.id, failures = ?detection.failures,
                "resource refresh failed; keeping the previous attributes");
            return;
        }
        if failed {
            tracing::warn!(processor = %self.id, failures = ?detection.failures, "resource refresh failed");
        }
        *last_ok = !failed;
        self.store(detection.attributes);
    }
}

/// The `resourcedetection` processor (one instance per pipeline). See the
/// [module documentation](super).
pub struct ResourceDetectionProcessor {
    shared: Arc<Shared>,
    override_existing: bool,
    refresh_interval: Duration,
    refresher: BackgroundTask,
    next: Arc<dyn Consumer>,
}

impl ResourceDetectionProcessor {
    /// A processor for the pipeline of `ctx`. The detectors read the [`Environment`] found in
    /// the context's resources, else the real host.
    pub fn new(
        ctx: ProcessorContext,
        config: &ResourceDetectionConfig,
    ) -> Result<ResourceDetectionProcessor, otlp_pipeline::ConfigError> {
        let environment = ctx
            .resources
            .get::<Environment>()
            .unwrap_or_else(|| Arc::new(Environment::host()));
        Ok(ResourceDetectionProcessor {
            shared: Arc::new(Shared {
                id: ctx.id.clone(),
                session: Session::new(config)?,
                environment,
                detected: RwLock::new(Arc::new(Attributes::new())),
            }),
            override_existing: config.override_existing,
            refresh_interval: config.refresh_interval,
            refresher: BackgroundTask::new("the resourcedetection processor"),
            next: ctx.next,
        })
    }

    /// The attributes detected so far (none before start).
    pub fn detected(&self) -> Vec<otlp_proto::common::v1::KeyValue> {
        self.shared.current().as_ref().clone()
    }
}

#[async_trait]
impl Consumer for ResourceDetectionProcessor {
    async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
        let detected = self.shared.current();
        if !detected.is_empty() {
            let over = self.override_existing;
            if let Some(r) = data.traces_mut() {
                merge_traces(r, &detected, over);
            } else if let Some(r) = data.metrics_mut() {
                merge_metrics(r, &detected, over);
            } else if let Some(r) = data.logs_mut() {
                merge_logs(r, &detected, over);
            } else if let Some(r) = data.profiles_mut() {
                merge_profiles(r, &detected, over);
            }
        }
        self.next.consume(data).await
    }

    fn mutates_data(&self) -> bool {
        true
    }
}

#[async_trait]
impl Processor for ResourceDetectionProcessor {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let detection = self.shared.detect().await;
        let ok = detection.failures.is_empty();
        self.shared.store(detection.attributes);
        if !ok {
            return Err(Box::new(DetectionFailed {
                id: self.shared.id.to_string(),
                failures: detection.failures,
            }));
        }
        if !self.refresh_interval.is_zero() {
            let (shared, period) = (self.shared.clone(), self.refresh_interval);
            self.refresher.start(|mut stopped| async move {
                let mut last_ok = true;
                let mut ticker = every(period);
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        _ = ticker.tick() => shared.refresh(&mut last_ok).await,
                    }
                }
            })?;
        }
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.refresher.stop(deadline).await;
        Ok(())
    }
}

/// The `resourcedetection` factory; `resource_detection` selects it too.
pub fn resourcedetection_factory() -> impl ProcessorFactory {
    FnFactory::processor(
        "resourcedetection",
        SignalSet::ALL,
        |ctx, config: ResourceDetectionConfig| {
            Ok(Box::new(ResourceDetectionProcessor::new(ctx, &config)?))
        },
    )
    .with_aliases(&["resource_detection"])
}
