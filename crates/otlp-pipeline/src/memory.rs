//! [`MemoryPressure`]: the memory state the `memory_limiter` processor and the receivers'
//! admission hook share, so that a receiver can refuse a request **before it reads,
//! decompresses or decodes it** (design.md "admission before work").
//!
//! It lives in the framework because components of two kinds meet through it: the
//! `memory_limiter` processor (otlp-processors) registers a [`Limiter`] per configured id and
//! drives its sampling; receivers (otlp-receivers) call [`MemoryPressure::admit`] with a
//! request's encoded size. Found in [`Resources`] or [`MemoryPressure::global`].
//!
//! Above a limiter's **soft limit** (`limit − spike`) every admission is refused (retryable,
//! with the check interval as `Retry-After`). Between samples the hook reserves an estimate
//! of each admitted request's decoded size ([`ADMISSION_EXPANSION`] × its encoded size) and
//! refuses a request that would take the sampled memory plus the reservations past the **hard
//! limit**, so a burst between two samples cannot overshoot by more than one request per
//! receiver. Memory is a process-wide resource: every live limiter protects every receiver.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use otlp_transport::status::Refusal;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::component::Resources;
use crate::config::ComponentId;

/// A limiter's soft and hard limits in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Above this, everything is refused.
    pub soft: u64,
    /// A request whose estimated decoded size would take memory past this is refused.
    pub hard: u64,
}

/// Samples the memory in use, in bytes (`None` when it cannot be read).
pub type Sampler = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

/// The estimate of a request's decoded size, as a multiple of its encoded size, that the
/// admission hook reserves while the request is handled. Protobuf decodes into owned Rust
/// values (strings, vectors, per-message allocations) at roughly 2–4 times the wire size;
/// compressed bodies inflate more but stay bounded by the receiver's `max_recv_msg_size_mib` /
/// `max_request_body_size`.
pub const ADMISSION_EXPANSION: u64 = 4;

/// One configured `memory_limiter` id: its limits, the last sample of memory in use (see
/// [`MemoryPressure::set_sampler`]; RSS by default), whether it refuses.
pub struct Limiter {
    id: ComponentId,
    limits: Limits,
    interval: Duration,
    rss: AtomicU64,
    refusing: AtomicBool,
    sampler: Sampler,
    /// The sampler is cheap: read it at every admission and decompression step.
    live: bool,
    task: Mutex<(usize, Option<JoinHandle<()>>)>,
}

impl Limiter {
    fn lock_task(&self) -> MutexGuard<'_, (usize, Option<JoinHandle<()>>)> {
        self.task.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the periodic sampling task runs (some user has started and not stopped).
    pub fn is_sampling(&self) -> bool {
        self.lock_task().1.is_some()
    }

    /// Samples memory in use now and updates the refusing flag.
    pub fn check(&self) {
        let Some(rss) = (self.sampler)() else { return };
        self.rss.store(rss, Ordering::Relaxed);
        let refusing = rss > self.limits.soft;
        let was = self.refusing.swap(refusing, Ordering::Relaxed);
        const MIB: u64 = 1024 * 1024;
        if refusing && !was {
            tracing::warn!(
                processor = %self.id,
                used_mib = rss / MIB,
                soft_limit_mib = self.limits.soft / MIB,
                hard_limit_mib = self.limits.hard / MIB,
                "memory usage is above the soft limit: refusing data"
            );
        } else if !refusing && was {
            tracing::info!(processor = %self.id, used_mib = rss / MIB, "memory usage is back below the soft limit: accepting data");
        }
    }

    /// `true` while the last sample was above the soft limit.
    pub fn refusing(&self) -> bool {
        self.refusing.load(Ordering::Relaxed)
    }

    /// How often this limiter samples (also the `Retry-After` of its refusals).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Memory in use for an admission decision: read now when the sampler is live (see
    /// [`MemoryPressure::set_sampler`]), else the last sample.
    pub fn in_use(&self) -> u64 {
        if self.live {
            (self.sampler)().unwrap_or_else(|| self.rss())
        } else {
            self.rss()
        }
    }

    /// The last sample of memory in use, in bytes.
    pub fn rss(&self) -> u64 {
        self.rss.load(Ordering::Relaxed)
    }

    /// The refusal message while this limiter refuses: memory used and the soft limit.
    pub fn refusal_message(&self) -> String {
        format!(
            "data refused due to high memory usage: {} MiB used, soft limit {} MiB (memory_limiter \"{}\")",
            self.rss() >> 20,
            self.limits.soft >> 20,
            self.id
        )
    }

    /// One more user (processor instance started): the first samples at once and starts the
    /// periodic task.
    pub fn start(self: &Arc<Self>) {
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
    pub fn stop(&self) {
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

/// The memory state shared by every `memory_limiter` and every receiver's admission hook (see
/// the [module documentation](self)).
pub struct MemoryPressure {
    limiters: Mutex<Vec<Weak<Limiter>>>,
    reserved: Arc<AtomicU64>,
    sampler: Mutex<Option<(Sampler, bool)>>,
}

static GLOBAL: LazyLock<Arc<MemoryPressure>> = LazyLock::new(MemoryPressure::new);

/// Memory reserved for an admitted request, released when dropped (the receiver holds it
/// until the pipeline has answered).
pub struct Reservation {
    reserved: Option<Arc<AtomicU64>>,
    bytes: u64,
    limiters: Vec<Arc<Limiter>>,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Reservation {
    /// Bytes reserved for this request now.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Charged as the body decompresses: the reservation becomes [`ADMISSION_EXPANSION`] × the
/// decompressed size, and the request is refused (retryable) once memory in use plus every
/// reservation would pass a hard limit, so a small body that inflates to a large request is
/// stopped while it inflates, whatever its compression ratio.
impl otlp_transport::server::Reservation for Reservation {
    fn grow(&mut self, decompressed: usize) -> Result<(), Refusal> {
        let Some(reserved) = &self.reserved else {
            return Ok(());
        };
        let target = (decompressed as u64).saturating_mul(ADMISSION_EXPANSION);
        if target <= self.bytes {
            return Ok(());
        }
        let delta = target - self.bytes;
        self.bytes = target;
        let total = reserved
            .fetch_add(delta, Ordering::Relaxed)
            .saturating_add(delta);
        if let Some(limiter) = self.limiters.iter().find(|l| l.refusing()) {
            return Err(
                Refusal::retryable(limiter.refusal_message()).with_retry_after(limiter.interval)
            );
        }
        match self.limiters.iter().find(|l| l.in_use().saturating_add(total) > l.limits.hard) {
            Some(limiter) => Err(Refusal::retryable(format!(
                "request refused while decompressing: {} MiB so far ({} MiB reserved with the requests in progress) would exceed the hard memory limit of {} MiB (memory_limiter \"{}\")",
                decompressed >> 20,
                total >> 20,
                limiter.limits.hard >> 20,
                limiter.id
            ))
            .with_retry_after(limiter.interval)),
            None => Ok(()),
        }
    }
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
            sampler: Mutex::new(None),
        })
    }

    /// How limiters created from now on measure memory in use. The default is the heap in use
    /// when a [`CountingAllocator`](crate::allocator::CountingAllocator) is the global
    /// allocator, else the resident set size; RSS stays high after a burst because the
    /// allocator keeps freed pages, so a limiter measuring RSS can stay above its soft limit
    /// with nothing in use, refuse everything, and never recover.
    ///
    /// `live`: the sampler is cheap (an atomic read), so admissions and the charges of a
    /// decompressing body read it afresh instead of the last periodic sample; between two
    /// samples a burst then cannot take memory past the hard limit.
    pub fn set_sampler(&self, sampler: Sampler, live: bool) {
        *self.sampler.lock().unwrap_or_else(PoisonError::into_inner) = Some((sampler, live));
    }

    /// What a limiter measures unless told otherwise: the sampler set with
    /// [`set_sampler`](MemoryPressure::set_sampler); else, when a
    /// [`CountingAllocator`](crate::allocator::CountingAllocator) is the global allocator, the
    /// heap in use plus what the process held besides its heap (code, stacks, runtime) when
    /// this was first asked (RSS − heap then), read live; else the resident set size.
    fn default_sampler(&self) -> (Sampler, bool) {
        let mut chosen = self.sampler.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sampler) = chosen.as_ref() {
            return sampler.clone();
        }
        let sampler: (Sampler, bool) = match crate::allocator::bytes_in_use() {
            Some(heap) => {
                let fixed =
                    crate::telemetry::process_rss().map_or(0, |rss| rss.saturating_sub(heap));
                let sampler: Sampler = Arc::new(move || {
                    crate::allocator::bytes_in_use().map(|heap| heap.saturating_add(fixed))
                });
                (sampler, true)
            }
            None => (Arc::new(crate::telemetry::process_rss), false),
        };
        *chosen = Some(sampler.clone());
        sampler
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
    /// limit, or when the request's estimated decoded size would take the sampled memory plus
    /// the reservations of requests in progress past a hard limit. Admits everything when no
    /// limiter is configured.
    pub fn admit(&self, encoded_size: usize) -> Result<Reservation, Refusal> {
        let limiters = self.live();
        if limiters.is_empty() {
            return Ok(Reservation {
                reserved: None,
                bytes: 0,
                limiters,
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
            .find(|l| l.in_use().saturating_add(reserved) > l.limits.hard)
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
            limiters,
        })
    }

    /// The limiter of `id`, shared by every instance with that id (a new one replaces an old
    /// one with other settings).
    pub fn limiter(
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
        let default = self.default_sampler();
        let limiter = Arc::new(Limiter {
            id: id.clone(),
            limits,
            interval,
            rss: AtomicU64::new(0),
            refusing: AtomicBool::new(false),
            live: sampler.is_none() && default.1,
            sampler: sampler.unwrap_or(default.0),
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
