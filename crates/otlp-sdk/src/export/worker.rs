//! The engine behind the batch and simple processors of both signals: a bounded buffer the
//! application pushes into, and a thread of the SDK's own that turns the buffer into OTLP
//! requests and hands them to an `otlp_batch::BatchQueue` (which exports, retries and counts
//! on a thread with its own runtime).
//!
//! The application's thread only ever takes one uncontended lock and pushes; encoding to
//! protobuf happens on the worker. Nothing here needs the application to run a runtime, and
//! every wait is bounded by a deadline.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use otlp_batch::{
    BatchExporter, BatchQueue, BatchQueueConfig, Batchable, DrainError, OverflowPolicy, Report,
};
use otlp_proto::resource::v1::Resource as ProtoResource;

use crate::error::SdkError;
use crate::export::settings::{BatchSettings, FullQueue};

/// The resource as it goes on the wire, encoded once per provider.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct WireResource {
    pub(crate) proto: ProtoResource,
    pub(crate) schema_url: String,
}

impl From<&crate::resource::Resource> for WireResource {
    fn from(resource: &crate::resource::Resource) -> Self {
        Self {
            proto: resource.to_proto(),
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
        }
    }
}

/// An item the worker can turn into a request.
pub(crate) trait Encode: Send + Sized + 'static {
    /// The request of the item's signal.
    type Request: Batchable;

    /// One request holding `items` under `resource`, grouped by instrumentation scope.
    fn encode(items: impl Iterator<Item = Self>, resource: &WireResource) -> Self::Request;
}

/// Counters a user can read to see that nothing was lost silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessorStats {
    /// Items handed to the processor (ended spans, emitted log records).
    pub received: u64,
    /// Items dropped because the buffer was full (or the export queue behind it was).
    pub dropped: u64,
    /// Items the exporter accepted.
    pub exported: u64,
    /// Items the exporter failed (rejected, retries given up, abandoned at shutdown).
    pub failed: u64,
    /// Items waiting in the buffer now.
    pub buffered: u64,
    /// Items in the export queue now (encoded, waiting or in flight).
    pub queued: u64,
}

struct State<T> {
    buffer: VecDeque<T>,
    /// Items the worker took from the buffer and has not handed to the queue yet.
    in_hand: usize,
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    worker_done: bool,
    blocked_producers: usize,
}

struct Shared<T: Encode> {
    state: Mutex<State<T>>,
    wake_worker: Condvar,
    wake_callers: Condvar,
    settings: BatchSettings,
    /// Export each item as soon as it arrives (the simple processor).
    eager: bool,
    queue: BatchQueue<T::Request>,
    /// Set once by the provider; spans ended before that go out with an empty resource.
    resource: OnceLock<WireResource>,
    received: AtomicU64,
    dropped: AtomicU64,
    /// Drops not yet reported by a flush or shutdown.
    unreported_drops: AtomicU64,
    warned: AtomicBool,
    name: &'static str,
}

/// A running worker. Dropping it shuts it down (see [`Worker::shutdown`]).
pub(crate) struct Worker<T: Encode> {
    shared: Arc<Shared<T>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<T: Encode> std::fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.shared.name)
            .field("eager", &self.shared.eager)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Encode> Worker<T> {
    /// Starts the worker thread and the export queue behind it.
    pub(crate) fn start(
        name: &'static str,
        settings: BatchSettings,
        eager: bool,
        exporter: Arc<dyn BatchExporter<T::Request>>,
    ) -> Result<Self, SdkError> {
        settings.validate()?;
        let queue = BatchQueue::spawn_dedicated(queue_config(&settings, eager), exporter)
            .map_err(|e| SdkError::Build(e.to_string()))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(settings.max_export_batch_size.min(4096)),
                in_hand: 0,
                flush_requested: 0,
                flush_done: 0,
                shutdown: false,
                worker_done: false,
                blocked_producers: 0,
            }),
            wake_worker: Condvar::new(),
            wake_callers: Condvar::new(),
            settings,
            eager,
            queue,
            resource: OnceLock::new(),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            unreported_drops: AtomicU64::new(0),
            warned: AtomicBool::new(false),
            name,
        });
        let run = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("otlp-sdk-{name}"))
            .spawn(move || run.run())
            .map_err(|e| SdkError::Build(e.to_string()))?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The resource every request carries (the first call wins).
    pub(crate) fn set_resource(&self, resource: WireResource) {
        let _ = self.shared.resource.set(resource);
    }

    /// Buffers `item` for export; never blocks unless [`FullQueue::Block`] was chosen.
    pub(crate) fn push(&self, item: T) {
        let shared = &*self.shared;
        shared.received.fetch_add(1, Ordering::Relaxed);
        let mut state = lock(&shared.state);
        if state.shutdown {
            drop(state);
            shared.drop_items(1, "the processor is shut down");
            return;
        }
        if state.buffer.len() >= shared.settings.max_queue_size {
            let FullQueue::Block(wait) = shared.settings.full_queue else {
                drop(state);
                shared.drop_items(1, "the buffer is full");
                return;
            };
            let deadline = Instant::now() + wait;
            while state.buffer.len() >= shared.settings.max_queue_size && !state.shutdown {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                state.blocked_producers += 1;
                state = shared
                    .wake_callers
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                state.blocked_producers -= 1;
            }
            if state.buffer.len() >= shared.settings.max_queue_size || state.shutdown {
                drop(state);
                shared.drop_items(1, "the buffer stayed full");
                return;
            }
        }
        state.buffer.push_back(item);
        let wake = shared.eager || state.buffer.len() == shared.settings.max_export_batch_size;
        drop(state);
        if wake {
            shared.wake_worker.notify_one();
        }
    }

    /// Exports everything buffered before the call and waits for the outcome until
    /// `deadline`.
    pub(crate) fn force_flush(&self, deadline: Instant) -> Result<(), SdkError> {
        let shared = &*self.shared;
        let mut state = lock(&shared.state);
        if state.shutdown {
            return Err(SdkError::AlreadyShutdown);
        }
        state.flush_requested += 1;
        let target = state.flush_requested;
        shared.wake_worker.notify_one();
        while state.flush_done < target {
            let now = Instant::now();
            if now >= deadline {
                let pending = (state.buffer.len() + state.in_hand) as u64
                    + shared.queue.queue_metrics().snapshot().size_items;
                return Err(SdkError::DeadlineExceeded { pending });
            }
            state = shared
                .wake_callers
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(state);
        shared.outcome(shared.queue.flush_blocking(deadline))
    }

    /// Stops accepting items, exports what is buffered, and returns by `deadline` whatever
    /// happens; what could not be exported by then is counted in the error.
    pub(crate) fn shutdown(&self, deadline: Instant) -> Result<(), SdkError> {
        let shared = &*self.shared;
        let mut state = lock(&shared.state);
        if state.shutdown {
            return Err(SdkError::AlreadyShutdown);
        }
        state.shutdown = true;
        shared.wake_worker.notify_one();
        shared.wake_callers.notify_all();
        while !state.worker_done {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = shared
                .wake_callers
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let stranded = (state.buffer.len() + state.in_hand) as u64;
        let finished = state.worker_done;
        drop(state);
        // Closing the queue also releases a worker waiting for room in it.
        let outcome = shared.outcome(shared.queue.shutdown_blocking(deadline));
        if finished && let Some(thread) = lock(&self.thread).take() {
            thread.join().ok();
        }
        match (stranded, outcome) {
            (0, outcome) => outcome,
            (pending, Ok(())) => Err(SdkError::DeadlineExceeded { pending }),
            (pending, Err(SdkError::DeadlineExceeded { pending: queued })) => {
                Err(SdkError::DeadlineExceeded {
                    pending: pending + queued,
                })
            }
            (pending, Err(other)) => Err(SdkError::Multiple(vec![
                SdkError::DeadlineExceeded { pending },
                other,
            ])),
        }
    }

    /// The processor's counters.
    pub(crate) fn stats(&self) -> ProcessorStats {
        let shared = &*self.shared;
        let queue = shared.queue.queue_metrics().snapshot();
        let buffered = {
            let state = lock(&shared.state);
            (state.buffer.len() + state.in_hand) as u64
        };
        ProcessorStats {
            received: shared.received.load(Ordering::Relaxed),
            dropped: shared.dropped.load(Ordering::Relaxed),
            exported: queue.exported_items,
            failed: queue.failed_items,
            buffered,
            queued: queue.size_items,
        }
    }
}

impl<T: Encode> Drop for Worker<T> {
    fn drop(&mut self) {
        let open = !lock(&self.shared.state).shutdown;
        if open {
            let _ = self.shutdown(Instant::now() + crate::error::DEFAULT_SHUTDOWN_TIMEOUT);
        }
    }
}

impl<T: Encode> Shared<T> {
    fn drop_items(&self, n: u64, why: &str) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        self.unreported_drops.fetch_add(n, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "otlp_sdk",
                processor = self.name,
                "dropping {n} item(s): {why}; further drops are counted in the processor's stats \
                 and reported by force_flush and shutdown, not logged"
            );
        }
    }

    /// The worker thread.
    fn run(&self) {
        let batch = self.settings.max_export_batch_size;
        let mut next_export = Instant::now() + self.settings.scheduled_delay;
        let mut spare: VecDeque<T> = VecDeque::with_capacity(batch.min(4096));
        let unset = WireResource::default();
        loop {
            let mut state = lock(&self.state);
            loop {
                let pending = !state.buffer.is_empty();
                if state.shutdown
                    || state.flush_requested > state.flush_done
                    || state.buffer.len() >= batch
                    || (self.eager && pending)
                {
                    break;
                }
                let now = Instant::now();
                if now >= next_export {
                    if pending {
                        break;
                    }
                    next_export = now + self.settings.scheduled_delay;
                }
                state = self
                    .wake_worker
                    .wait_timeout(state, next_export.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let flush_target = state.flush_requested;
            let closing = state.shutdown;
            // Export what is there now, one batch at a time, so that the worker never holds
            // more than one batch outside the bounded buffer.
            let mut remaining = state.buffer.len();
            drop(state);
            while remaining > 0 {
                let mut state = lock(&self.state);
                let n = remaining.min(batch).min(state.buffer.len());
                if n == 0 {
                    break;
                }
                // Swap the whole buffer out when it is one batch (the usual case), so the
                // application's pushes never wait for items moving under the lock.
                let mut taken = if n == state.buffer.len() {
                    std::mem::replace(&mut state.buffer, std::mem::take(&mut spare))
                } else {
                    spare.extend(state.buffer.drain(..n));
                    std::mem::take(&mut spare)
                };
                state.in_hand = n;
                if state.blocked_producers > 0 {
                    self.wake_callers.notify_all();
                }
                drop(state);
                remaining -= n;
                let resource = self.resource.get().unwrap_or(&unset);
                let request = T::encode(taken.drain(..), resource);
                spare = taken;
                let deadline = Instant::now() + self.settings.export_timeout;
                if let Err(refused) = self.queue.enqueue_blocking(request, deadline) {
                    self.drop_items(
                        n as u64,
                        &format!("the export queue refused them: {refused}"),
                    );
                }
                lock(&self.state).in_hand = 0;
            }
            next_export = Instant::now() + self.settings.scheduled_delay;

            let mut state = lock(&self.state);
            state.in_hand = 0;
            state.flush_done = state.flush_done.max(flush_target);
            let done = closing && state.buffer.is_empty();
            state.worker_done = done;
            drop(state);
            self.wake_callers.notify_all();
            if done {
                return;
            }
        }
    }

    /// A drain's outcome as the SDK reports it, with the drops since the last report.
    fn outcome(&self, drained: Result<Report, DrainError>) -> Result<(), SdkError> {
        drain_outcome(drained, self.unreported_drops.swap(0, Ordering::Relaxed))
    }
}

/// A queue drain's outcome as the SDK reports it, adding `dropped` items lost before the
/// queue (a full buffer).
pub(crate) fn drain_outcome(
    drained: Result<Report, DrainError>,
    dropped: u64,
) -> Result<(), SdkError> {
    let report = match drained {
        Ok(report) => report,
        Err(DrainError::DeadlineExceeded(report)) => {
            return Err(SdkError::DeadlineExceeded {
                pending: report.outstanding_items + report.failed_items + dropped,
            });
        }
        Err(DrainError::Failed(report)) => report,
        Err(DrainError::Closed) => return Err(SdkError::AlreadyShutdown),
        Err(other) => {
            return Err(SdkError::ExportFailed {
                failed: 0,
                dropped,
                message: other.to_string(),
            });
        }
    };
    if report.failed_items == 0 && dropped == 0 {
        return Ok(());
    }
    let message = report.failures.first().map_or_else(
        || "dropped by a full buffer".to_owned(),
        |f| f.failure.message().to_owned(),
    );
    Err(SdkError::ExportFailed {
        failed: report.failed_items,
        dropped,
        message,
    })
}

fn queue_config(settings: &BatchSettings, eager: bool) -> BatchQueueConfig {
    let mut config = BatchQueueConfig::default();
    // The worker already forms batches; the queue sends each one as soon as it can.
    config.batch.send_batch_size = if eager {
        1
    } else {
        settings.max_export_batch_size
    };
    config.batch.send_batch_max_size = config.batch.send_batch_size;
    config.batch.timeout = Duration::ZERO;
    config.queue.capacity_items = settings.max_queue_size.max(settings.max_export_batch_size);
    config.queue.capacity_bytes = 64 << 20;
    config.queue.num_consumers = 1;
    config.queue.overflow = OverflowPolicy::Backpressure;
    config.queue.export_timeout = settings.export_timeout;
    config.retry.enabled = settings.retry;
    config.retry.initial_interval = Duration::from_secs(1);
    config.retry.max_interval = Duration::from_secs(5);
    config.retry.max_elapsed_time = Duration::from_secs(60);
    config
}
