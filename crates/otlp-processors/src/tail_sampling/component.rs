//! The `tail_sampling` processor as a pipeline component: `consume` buffers and acknowledges,
//! a ticker task started in `start` decides due traces (every second, or every
//! `decision_wait` when shorter) and forwards each tick's sampled traces as one request;
//! `shutdown` stops the ticker and decides (or, with `drop_pending_traces_on_shutdown`,
//! drops) what is still buffered, forwarding it by the deadline.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Host, Processor, ProcessorContext};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError};
use otlp_pipeline::factory::{FnFactory, ProcessorFactory};
use otlp_pipeline::task::{BackgroundTask, every};
use otlp_pipeline::telemetry::Metrics;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::ResourceSpans;
use tokio::time::Instant;

use super::config::TailSamplingConfig;
use super::engine::Engine;
use super::metrics::TailMetrics;

/// The longest pause between two decision ticks.
pub const MAX_TICK: Duration = Duration::from_secs(1);

/// The processor.
pub struct TailSamplingProcessor {
    id: ComponentId,
    engine: Arc<Mutex<Engine>>,
    next: Arc<dyn Consumer>,
    metrics: Arc<TailMetrics>,
    tick: Duration,
    drop_pending_on_shutdown: bool,
    ticker: BackgroundTask,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spans in `batches`.
fn span_count(batches: &[ResourceSpans]) -> u64 {
    batches
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len() as u64)
        .sum()
}

/// Hands `batches` to `next` as one request; a refusal is logged and counted (the spans were
/// acknowledged to their sender when buffered, as in contrib).
async fn forward(
    next: &Arc<dyn Consumer>,
    batches: Vec<ResourceSpans>,
    metrics: &TailMetrics,
    id: &ComponentId,
) {
    if batches.is_empty() {
        return;
    }
    let spans = span_count(&batches);
    let request = ExportTraceServiceRequest {
        resource_spans: batches,
    };
    if let Err(error) = next.consume(Telemetry::new(request)).await {
        metrics.forward_failed.add(spans);
        tracing::warn!(processor = %id, %error, spans, "tail_sampling: the next consumer refused sampled spans");
    }
}

impl TailSamplingProcessor {
    /// The processor for `config` in `ctx`'s pipeline.
    pub fn new(
        ctx: ProcessorContext,
        config: &TailSamplingConfig,
    ) -> Result<TailSamplingProcessor, ConfigError> {
        let names: Vec<&str> = config.policies.iter().map(|p| p.name.as_str()).collect();
        let registry = Metrics::from_resources(&ctx.resources);
        let metrics = Arc::new(TailMetrics::new(&registry, ctx.id.as_str(), &names));
        let engine = Engine::new(config, Arc::clone(&metrics))?;
        Ok(TailSamplingProcessor {
            id: ctx.id,
            engine: Arc::new(Mutex::new(engine)),
            next: ctx.next,
            metrics,
            tick: config
                .decision_wait
                .clamp(Duration::from_millis(1), MAX_TICK),
            drop_pending_on_shutdown: config.drop_pending_traces_on_shutdown,
            ticker: BackgroundTask::new("the tail_sampling processor"),
        })
    }

    /// Traces waiting for a decision.
    pub fn pending_traces(&self) -> usize {
        lock(&self.engine).pending_traces()
    }

    /// Spans waiting for a decision.
    pub fn pending_spans(&self) -> u64 {
        lock(&self.engine).pending_spans()
    }
}

impl std::fmt::Debug for TailSamplingProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSamplingProcessor")
            .field("id", &self.id)
            .field("tick", &self.tick)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Consumer for TailSamplingProcessor {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let Payload::Traces(request) = data.into_payload() else {
            return Err(ConsumeError::permanent(
                "tail_sampling processes traces only",
            ));
        };
        let now = Instant::now();
        let out = lock(&self.engine).ingest(request, now);
        forward(&self.next, out, &self.metrics, &self.id).await;
        Ok(())
    }

    fn mutates_data(&self) -> bool {
        // The spans are moved into the buffer (and forwarded from there).
        true
    }
}

#[async_trait]
impl Processor for TailSamplingProcessor {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let engine = Arc::clone(&self.engine);
        let next = Arc::clone(&self.next);
        let metrics = Arc::clone(&self.metrics);
        let id = self.id.clone();
        let period = self.tick;
        self.ticker.start(|mut stopped| async move {
            let mut interval = every(period);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = interval.tick() => {
                        let started = std::time::Instant::now();
                        let out = lock(&engine).decide_due(Instant::now());
                        forward(&next, out, &metrics, &id).await;
                        metrics.timer_latency.observe(started.elapsed().as_millis() as f64);
                    }
                }
            }
        })
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.ticker.stop(deadline).await;
        if self.drop_pending_on_shutdown {
            let dropped = lock(&self.engine).drop_all();
            if dropped > 0 {
                tracing::info!(processor = %self.id, dropped, "tail_sampling: dropped pending traces on shutdown");
            }
            return Ok(());
        }
        let out = lock(&self.engine).decide_all(Instant::now());
        let spans = span_count(&out);
        let flush = forward(&self.next, out, &self.metrics, &self.id);
        if tokio::time::timeout_at(deadline, flush).await.is_err() {
            self.metrics.forward_failed.add(spans);
            tracing::warn!(processor = %self.id, spans, "tail_sampling: the shutdown deadline passed before the last sampled traces were delivered");
        }
        Ok(())
    }
}

/// The `tail_sampling` factory (traces).
pub fn tail_sampling_factory() -> impl ProcessorFactory {
    FnFactory::processor(
        "tail_sampling",
        Signal::Traces,
        |ctx, config: TailSamplingConfig| Ok(Box::new(TailSamplingProcessor::new(ctx, &config)?)),
    )
}
