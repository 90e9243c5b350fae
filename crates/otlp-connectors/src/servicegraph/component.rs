//! The `servicegraph` connector as a pipeline component: `consume` pairs spans under a mutex
//! (never held across an `.await`) and acknowledges; a task started in `start` emits the
//! metrics every `metrics_flush_interval` (with 0, `consume` emits them after each request),
//! expires waiting edges every `store_expiration_loop` and removes idle series every
//! `cache_loop`; `shutdown` stops it and flushes once more, by the deadline.
//!
//! Self-metrics (contrib's, with Prometheus' `_total`, labelled `connector`):
//! `otelcol_connector_servicegraph_total_edges_total`, `..._expired_edges_total`,
//! `..._dropped_spans_total`. A refusal from the metrics pipelines at a flush is logged
//! (contrib logs it); the totals are cumulative, so the next flush carries them again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_pipeline::task::{BackgroundTask, every};
use otlp_pipeline::telemetry::{Counter, Metrics};
use otlp_pipeline::{
    BoxError, ComponentId, Connector, ConnectorContext, ConsumeError, Consumer, Host, Payload,
    Telemetry,
};
use tokio::time::Instant;

use super::config::ServiceGraphConfig;
use super::pairing::State;

/// The connector's self-metrics.
#[derive(Debug, Clone)]
struct SelfMetrics {
    total_edges: Counter,
    expired_edges: Counter,
    dropped_spans: Counter,
}

impl SelfMetrics {
    fn new(registry: &Metrics, id: &str) -> SelfMetrics {
        let labels = [("connector", id)];
        let counter = |name: &str, help: &str| {
            registry.counter(
                &format!("otelcol_connector_servicegraph_{name}"),
                help,
                &labels,
            )
        };
        SelfMetrics {
            total_edges: counter("total_edges_total", "Total number of unique edges"),
            expired_edges: counter(
                "expired_edges_total",
                "Number of edges that expired before finding its matching span",
            ),
            dropped_spans: counter(
                "dropped_spans_total",
                "Number of spans dropped when trying to add edges",
            ),
        }
    }
}

/// What the background task and `consume` share.
struct Shared {
    id: ComponentId,
    state: Mutex<State>,
    next: Arc<dyn Consumer>,
    metrics: SelfMetrics,
}

/// One `servicegraph` instance (traces → metrics).
pub struct ServiceGraphConnector {
    shared: Arc<Shared>,
    flush_interval: Duration,
    expiration_loop: Duration,
    cache_loop: Duration,
    ticker: BackgroundTask,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Shared {
    async fn flush(&self) {
        let request = lock(&self.state).graph.build(unix_nanos_now());
        let Some(request) = request else {
            return;
        };
        if let Err(error) = self.next.consume(Telemetry::new(request)).await {
            tracing::error!(connector = %self.id, %error, "servicegraph: the metrics pipeline refused a flush");
        }
    }

    fn expire(&self) {
        let expired = lock(&self.state).store.expire(Instant::now());
        self.metrics.expired_edges.add(expired);
    }
}

impl ServiceGraphConnector {
    /// The connector for `config`, feeding `ctx.next`.
    pub fn new(ctx: ConnectorContext, config: &ServiceGraphConfig) -> ServiceGraphConnector {
        let registry = Metrics::from_resources(&ctx.resources);
        let metrics = SelfMetrics::new(&registry, ctx.id.as_str());
        ServiceGraphConnector {
            shared: Arc::new(Shared {
                id: ctx.id,
                state: Mutex::new(State::new(config, unix_nanos_now())),
                next: ctx.next,
                metrics,
            }),
            flush_interval: config.metrics_flush_interval,
            expiration_loop: config.store_expiration_loop,
            cache_loop: config.cache_loop,
            ticker: BackgroundTask::new("the servicegraph connector"),
        }
    }

    /// Edges waiting for their other half.
    pub fn pending_edges(&self) -> usize {
        lock(&self.shared.state).store.len()
    }

    /// Series held.
    pub fn series_count(&self) -> usize {
        lock(&self.shared.state).graph.len()
    }
}

impl std::fmt::Debug for ServiceGraphConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceGraphConnector")
            .field("id", &self.shared.id)
            .field("flush_interval", &self.flush_interval)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Consumer for ServiceGraphConnector {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let Payload::Traces(request) = data.payload() else {
            return Err(ConsumeError::permanent("servicegraph consumes traces only"));
        };
        let counts = lock(&self.shared.state).ingest(request, Instant::now());
        self.shared.metrics.total_edges.add(counts.new_edges);
        self.shared.metrics.dropped_spans.add(counts.dropped);
        if self.flush_interval.is_zero() {
            self.shared.flush().await;
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for ServiceGraphConnector {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let shared = Arc::clone(&self.shared);
        let flushing = !self.flush_interval.is_zero();
        // With flushes on every request, the flush timer never fires (a day is as good).
        let mut flush = every(if flushing {
            self.flush_interval
        } else {
            Duration::from_secs(86_400)
        });
        let mut expire = every(self.expiration_loop);
        let mut clean = every(self.cache_loop);
        self.ticker.start(|mut stopped| async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = expire.tick() => shared.expire(),
                    _ = clean.tick() => lock(&shared.state).graph.clean(Instant::now()),
                    _ = flush.tick(), if flushing => shared.flush().await,
                }
            }
        })
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.ticker.stop(deadline).await;
        if tokio::time::timeout_at(deadline, self.shared.flush())
            .await
            .is_err()
        {
            tracing::warn!(connector = %self.shared.id, "servicegraph: the shutdown deadline passed before the last flush was delivered");
        }
        Ok(())
    }
}
