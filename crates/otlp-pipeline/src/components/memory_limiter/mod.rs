//! The `memory_limiter` processor, and [`MemoryPressure`]: the shared state the receivers'
//! admission hook consults before they read a request.
//!
//! # What it does
//!
//! A background task samples the process's resident set size every `check_interval`. Above
//! the **soft limit** (`limit − spike`) the limiter *refuses*: the processor answers every
//! request with a retryable error (the receiver answers UNAVAILABLE / 503 with `Retry-After`),
//! and — the difference with otelcol — so does every built-in receiver's admission hook,
//! **before it reads, decompresses or decodes the body** (design.md "admission before work";
//! otelcol's limiter only sees decoded data, collector issue #8632). Between samples the hook
//! also reserves an estimate of each admitted request's decoded size
//! ([`ADMISSION_EXPANSION`] × its encoded size) and refuses a request that would take the
//! sampled RSS plus the reservations past the **hard limit**, so a burst between two samples
//! cannot overshoot by more than one request per receiver.
//!
//! Rust has no garbage collector: above the hard limit otelcol forces a GC, we only refuse
//! (memory of refused requests is never allocated, and memory of finished requests is freed at
//! once). `min_gc_interval_when_*` are accepted and ignored.
//!
//! # Sharing
//!
//! The graph builds one processor instance per pipeline; instances with the same id share one
//! limiter (one sampling task) through [`MemoryPressure`], found in
//! [`Resources`] or [`MemoryPressure::global`]. The receivers' hook consults
//! every live limiter: memory is a process-wide resource, so a limiter in any pipeline
//! protects every receiver.

mod config;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use otlp_transport::status::Refusal;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub(crate) use config::Limits;
pub use config::MemoryLimiterConfig;

use crate::component::{Consumer, Host, Processor, ProcessorContext, Resources, SignalSet};
use crate::config::ComponentId;
use crate::data::Telemetry;
use crate::error::{BoxError, ConsumeError, Refused};
use crate::factory::FnFactory;
use crate::telemetry::{Counter, Metrics, item_unit, item_words};

/// The estimate of a request's decoded size, as a multiple of its encoded size, that the
/// admission hook reserves while the request is handled. Protobuf decodes into owned Rust
/// values (strings, vectors, per-message allocations) at roughly 2–4 times the wire size;
/// compressed bodies inflate more but stay bounded by the receiver's `max_recv_msg_size_mib` /
/// `max_request_body_size`.
pub const ADMISSION_EXPANSION: u64 = 4;

type Sampler = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// One configured `memory_limiter` id: its limits, the last RSS sample, whether it refuses.
pub(crate) struct Limiter {
    id: ComponentId,
    limits: Limits,
    interval: Duration,
    rss: AtomicU64,
    refusing: AtomicBool,
    sampler: Sampler,
    task: Mutex<(usize, Option<JoinHandle<()>>)>,
}

impl Limiter {
    fn lock_task(&self) -> MutexGuard<'_, (usize, Option<JoinHandle<()>>)> {
        self.task.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Samples the RSS now and updates the refusing flag.
    pub(crate) fn check(&self) {
        let Some(rss) = (self.sampler)() else { return };
        self.rss.store(rss, Ordering::Relaxed);
        let refusing = rss > self.limits.soft;
        let was = self.refusing.swap(refusing, Ordering::Relaxed);
        const MIB: u64 = 1024 * 1024;
        if refusing && !was {
            tracing::warn!(
                processor = %self.id,
                rss_mib = rss / MIB,
                soft_limit_mib = self.limits.soft / MIB,
                hard_limit_mib = self.limits.hard / MIB,
                "memory usage is above the soft limit: refusing data"
            );
        } else if !refusing && was {
            tracing::info!(processor = %self.id, rss_mib = rss / MIB, "memory usage is back below the soft limit: accepting data");
        }
    }

    pub(crate) fn refusing(&self) -> bool {
        self.refusing.load(Ordering::Relaxed)
    }

    fn rss(&self) -> u64 {
        self.rss.load(Ordering::Relaxed)
    }

    fn refusal_message(&self) -> String {
        format!(
            "data refused due to high memory usage: {} MiB used, soft limit {} MiB (memory_limiter \"{}\")",
            self.rss() >> 20,
            self.limits.soft >> 20,
            self.id
        )
    }

    /// One more user (processor instance started): the first samples at once and starts the
    /// periodic task.
    pub(crate) fn start(self: &Arc<Self>) {
        let mut task = self.lock_task();
        task.0 += 1;
        if task.0 > 1 {
            return;
        }
        self.check();
        let weak = Arc::downgrade(self);
        let interval = self.interval;
        task.1 = Some(tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    return;
                };
                limiter.check();
            }
        }));
    }

    /// One user fewer: the last stops the task.
    pub(crate) fn stop(&self) {
        let mut task = self.lock_task();
        task.0 = task.0.saturating_sub(1);
        if task.0 == 0
            && let Some(handle) = task.1.take()
        {
            handle.abort();
        }
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        if let Some(handle) = self.lock_task().1.take() {
            handle.abort();
        }
    }
}

/// The memory state shared by every `memory_limiter` and every built-in receiver's admission
/// hook (see the [module documentation](self)).
pub struct MemoryPressure {
    limiters: Mutex<Vec<Weak<Limiter>>>,
    reserved: Arc<AtomicU64>,
}

static GLOBAL: LazyLock<Arc<MemoryPressure>> = LazyLock::new(MemoryPressure::new);

/// Memory reserved for an admitted request, released when dropped (the receiver holds it
/// until the pipeline has answered).
#[derive(Debug)]
pub struct Reservation {
    reserved: Option<Arc<AtomicU64>>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(reserved) = &self.reserved {
            reserved.fetch_sub(self.bytes, Ordering::Relaxed);
        }
    }
}

impl MemoryPressure {
    /// No limiter yet: admits everything.
    pub fn new() -> Arc<MemoryPressure> {
        Arc::new(MemoryPressure {
            limiters: Mutex::new(Vec::new()),
            reserved: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The process-wide state.
    pub fn global() -> Arc<MemoryPressure> {
        GLOBAL.clone()
    }

    /// The state in `resources`, or [`MemoryPressure::global`].
    pub fn from_resources(resources: &Resources) -> Arc<MemoryPressure> {
        resources
            .get::<MemoryPressure>()
            .unwrap_or_else(MemoryPressure::global)
    }

    fn live(&self) -> Vec<Arc<Limiter>> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        limiters.retain(|w| w.strong_count() > 0);
        limiters.iter().filter_map(Weak::upgrade).collect()
    }

    /// `true` when a live limiter is above its soft limit.
    pub fn is_refusing(&self) -> bool {
        self.live().iter().any(|l| l.refusing())
    }

    /// Bytes reserved by admitted requests in progress.
    pub fn reserved_bytes(&self) -> u64 {
        self.reserved.load(Ordering::Relaxed)
    }

    /// The admission decision for a request of `encoded_size` bytes on the wire: refused
    /// (retryable, with the check interval as `Retry-After`) when a limiter is above its soft
    /// limit, or when the request's estimated decoded size would take the sampled RSS plus
    /// the reservations of requests in progress past a hard limit. Admits everything when no
    /// limiter is configured.
    pub fn admit(&self, encoded_size: usize) -> Result<Reservation, Refusal> {
        let limiters = self.live();
        if limiters.is_empty() {
            return Ok(Reservation {
                reserved: None,
                bytes: 0,
            });
        }
        if let Some(limiter) = limiters.iter().find(|l| l.refusing()) {
            return Err(
                Refusal::retryable(limiter.refusal_message()).with_retry_after(limiter.interval)
            );
        }
        let estimate = (encoded_size as u64).saturating_mul(ADMISSION_EXPANSION);
        let reserved = self
            .reserved
            .fetch_add(estimate, Ordering::Relaxed)
            .saturating_add(estimate);
        if let Some(limiter) = limiters
            .iter()
            .find(|l| l.rss().saturating_add(reserved) > l.limits.hard)
        {
            self.reserved.fetch_sub(estimate, Ordering::Relaxed);
            return Err(Refusal::retryable(format!(
                "request refused: its estimated decoded size ({} KiB) with the requests in progress would exceed the hard memory limit of {} MiB (memory_limiter \"{}\")",
                estimate >> 10,
                limiter.limits.hard >> 20,
                limiter.id
            ))
            .with_retry_after(limiter.interval));
        }
        Ok(Reservation {
            reserved: Some(self.reserved.clone()),
            bytes: estimate,
        })
    }

    /// The limiter of `id`, shared by every instance with that id (a new one replaces an old
    /// one with other settings).
    pub(crate) fn limiter(
        &self,
        id: &ComponentId,
        limits: Limits,
        interval: Duration,
        sampler: Option<Sampler>,
    ) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        limiters.retain(|w| w.strong_count() > 0);
        let existing = limiters
            .iter()
            .filter_map(Weak::upgrade)
            .find(|l| &l.id == id && l.limits == limits && l.interval == interval);
        if let Some(limiter) = existing
            && sampler.is_none()
        {
            return limiter;
        }
        let limiter = Arc::new(Limiter {
            id: id.clone(),
            limits,
            interval,
            rss: AtomicU64::new(0),
            refusing: AtomicBool::new(false),
            sampler: sampler.unwrap_or_else(|| Arc::new(crate::telemetry::process_rss)),
            task: Mutex::new((0, None)),
        });
        limiters.push(Arc::downgrade(&limiter));
        limiter
    }
}

impl std::fmt::Debug for MemoryPressure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPressure")
            .field("limiters", &self.live().len())
            .field("reserved_bytes", &self.reserved_bytes())
            .finish()
    }
}

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
    ) -> Result<MemoryLimiterProcessor, crate::ConfigError> {
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
                .with_retry_after(self.limiter.interval),
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
pub fn factory() -> impl crate::ProcessorFactory {
    FnFactory::processor(
        "memory_limiter",
        SignalSet::ALL,
        |ctx, config: MemoryLimiterConfig| Ok(Box::new(MemoryLimiterProcessor::new(ctx, &config)?)),
    )
}
