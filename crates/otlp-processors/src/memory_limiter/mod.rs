//! The `memory_limiter` processor. It drives [`MemoryPressure`] (in `otlp-pipeline`, since
//! receivers consult it too): the shared state the receivers' admission hook reads before they
//! read a request.
//!
//! # What it does
//!
//! A background task samples memory in use every `check_interval`: the heap in use when the
//! program's global allocator is `otlp_pipeline::allocator::CountingAllocator` (the collector
//! binary's is; plus the non-heap memory measured at start), else the resident set size. Above
//! the **soft limit** (`limit − spike`) the limiter *refuses*: the processor answers every
//! request with a retryable error (the receiver answers UNAVAILABLE / 503 with `Retry-After`),
//! and — the difference with otelcol — so does the `otlp` receiver's admission hook,
//! **before it reads, decompresses or decodes the body** (design.md "admission before work";
//! otelcol's limiter only sees decoded data, collector issue #8632). Between samples the hook
//! also reserves an estimate of each admitted request's decoded size
//! ([`ADMISSION_EXPANSION`](otlp_pipeline::memory::ADMISSION_EXPANSION) × its encoded size,
//! growing with the bytes a compressed body inflates to) and refuses a request that would take
//! memory in use plus the reservations past the **hard limit**, so a burst between two samples
//! cannot overshoot by more than one step per request in flight.
//!
//! Rust has no garbage collector: above the hard limit otelcol forces a GC, we only refuse
//! (memory of refused requests is never allocated, and memory of finished requests is freed at
//! once). `min_gc_interval_when_*` are accepted and ignored.
//!
//! # Sharing
//!
//! The graph builds one processor instance per pipeline; instances with the same id share one
//! limiter (one sampling task) through [`MemoryPressure`], found in
//! [`Resources`](otlp_pipeline::Resources) or [`MemoryPressure::global`]. The receivers' hook consults
//! every live limiter: memory is a process-wide resource, so a limiter in any pipeline
//! protects every receiver.

mod config;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

pub use config::MemoryLimiterConfig;

use otlp_pipeline::component::{Consumer, Host, Processor, ProcessorContext, SignalSet};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::{BoxError, ConsumeError, Refused};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::memory::{Limiter, Limits, MemoryPressure, Sampler};
use otlp_pipeline::telemetry::{Counter, Metrics, item_unit, item_words};

/// The `memory_limiter` processor (one instance per pipeline; see the
/// [module documentation](self)).
pub struct MemoryLimiterProcessor {
    limiter: Arc<Limiter>,
    next: Arc<dyn Consumer>,
    refused: Counter,
}

impl MemoryLimiterProcessor {
    /// A processor for the pipeline of `ctx`.
    pub fn new(
        ctx: ProcessorContext,
        config: &MemoryLimiterConfig,
    ) -> Result<MemoryLimiterProcessor, otlp_pipeline::ConfigError> {
        let limits = config.limits()?;
        Ok(MemoryLimiterProcessor::with_limits(
            ctx,
            limits,
            config.check_interval,
            None,
        ))
    }

    pub(crate) fn with_limits(
        ctx: ProcessorContext,
        limits: Limits,
        interval: Duration,
        sampler: Option<Sampler>,
    ) -> MemoryLimiterProcessor {
        let pressure = MemoryPressure::from_resources(&ctx.resources);
        let metrics = Metrics::from_resources(&ctx.resources);
        let signal = ctx.signal();
        let refused = metrics.counter(
            &format!("otelcol_processor_refused_{}_total", item_unit(signal)),
            &format!(
                "Number of {} that were rejected by the next component in the pipeline.",
                item_words(signal)
            ),
            &[("processor", ctx.id.as_str())],
        );
        MemoryLimiterProcessor {
            limiter: pressure.limiter(&ctx.id, limits, interval, sampler),
            next: ctx.next,
            refused,
        }
    }

    /// The refusal for `data` while the limiter refuses (counted), `None` otherwise.
    fn refusal(&self, data: &Telemetry) -> Option<ConsumeError> {
        if !self.limiter.refusing() {
            return None;
        }
        self.refused.add(data.item_count() as u64);
        Some(
            ConsumeError::retryable(self.limiter.refusal_message())
                .with_retry_after(self.limiter.interval()),
        )
    }

    /// `true` while the limiter refuses data.
    pub fn is_refusing(&self) -> bool {
        self.limiter.refusing()
    }
}

#[async_trait]
impl Consumer for MemoryLimiterProcessor {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        if let Some(error) = self.refusal(&data) {
            return Err(error);
        }
        self.next.consume(data).await
    }

    async fn consume_or_return(&self, data: Telemetry) -> Result<(), Refused> {
        match self.refusal(&data) {
            Some(error) => Err(Refused {
                error,
                data: Some(data),
            }),
            None => self.next.consume_or_return(data).await,
        }
    }

    fn mutates_data(&self) -> bool {
        false
    }
}

#[async_trait]
impl Processor for MemoryLimiterProcessor {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        self.limiter.start();
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.limiter.stop();
        Ok(())
    }
}

/// The `memory_limiter` factory.
pub fn factory() -> impl otlp_pipeline::ProcessorFactory {
    FnFactory::processor(
        "memory_limiter",
        SignalSet::ALL,
        |ctx, config: MemoryLimiterConfig| Ok(Box::new(MemoryLimiterProcessor::new(ctx, &config)?)),
    )
}
