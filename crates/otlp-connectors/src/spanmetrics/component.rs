//! The `spanmetrics` connector as a pipeline component: `consume` aggregates the spans under
//! a mutex (never held across an `.await`) and acknowledges; a ticker task started in `start`
//! emits one `ExportMetricsServiceRequest` every `metrics_flush_interval` to the metrics
//! pipelines; `shutdown` stops it and flushes once more, by the deadline.
//!
//! A refusal from the metrics pipelines at a flush is logged and the flushed points are not
//! retried (contrib logs the error and goes on): cumulative series keep their totals and are
//! emitted again at the next flush, delta points of that interval are lost.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_pipeline::task::{BackgroundTask, every};
use otlp_pipeline::{
    BoxError, ComponentId, Connector, ConnectorContext, ConsumeError, Consumer, Host, Payload,
    Telemetry,
};
use tokio::time::Instant;

use super::config::SpanMetricsConfig;
use super::store::{Aggregator, unix_nanos_now};

/// One `spanmetrics` instance (traces → metrics).
pub struct SpanMetricsConnector {
    id: ComponentId,
    state: Arc<Mutex<Aggregator>>,
    next: Arc<dyn Consumer>,
    interval: Duration,
    ticker: BackgroundTask,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes what is due from `state` and hands it to `next`; a refusal is logged.
async fn flush(state: &Mutex<Aggregator>, next: &Arc<dyn Consumer>, id: &ComponentId) {
    let request = lock(state).flush(Instant::now(), unix_nanos_now());
    let Some(request) = request else {
        return;
    };
    if let Err(error) = next.consume(Telemetry::new(request)).await {
        tracing::error!(connector = %id, %error, "spanmetrics: the metrics pipeline refused a flush");
    }
}

impl SpanMetricsConnector {
    /// The connector for `config`, feeding `ctx.next`.
    pub fn new(ctx: ConnectorContext, config: &SpanMetricsConfig) -> SpanMetricsConnector {
        SpanMetricsConnector {
            id: ctx.id,
            state: Arc::new(Mutex::new(Aggregator::new(config))),
            next: ctx.next,
            interval: config.metrics_flush_interval,
            ticker: BackgroundTask::new("the spanmetrics connector"),
        }
    }

    /// Series held now (every metric and resource, overflow series included).
    pub fn series_count(&self) -> usize {
        lock(&self.state).series_count()
    }
}

impl std::fmt::Debug for SpanMetricsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanMetricsConnector")
            .field("id", &self.id)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Consumer for SpanMetricsConnector {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let Payload::Traces(request) = data.payload() else {
            return Err(ConsumeError::permanent("spanmetrics consumes traces only"));
        };
        lock(&self.state).ingest(request, Instant::now(), unix_nanos_now());
        Ok(())
    }
}

#[async_trait]
impl Connector for SpanMetricsConnector {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let state = Arc::clone(&self.state);
        let next = Arc::clone(&self.next);
        let id = self.id.clone();
        let period = self.interval;
        self.ticker.start(|mut stopped| async move {
            let mut interval = every(period);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = interval.tick() => flush(&state, &next, &id).await,
                }
            }
        })
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.ticker.stop(deadline).await;
        let last = flush(&self.state, &self.next, &self.id);
        if tokio::time::timeout_at(deadline, last).await.is_err() {
            tracing::warn!(connector = %self.id, "spanmetrics: the shutdown deadline passed before the last flush was delivered");
        }
        Ok(())
    }
}
