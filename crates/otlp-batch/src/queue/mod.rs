//! [`BatchQueue`]: the bounded queue, its batcher and its consumers.

mod consumer;
mod receipt;
mod shared;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::batchable::Batchable;
use crate::config::{BatchQueueConfig, OverflowPolicy};
use crate::exporter::BatchExporter;
use crate::metrics::{BatcherMetrics, QueueMetrics, Trigger};
use crate::report::{BuildError, Delivery, DrainError, EnqueueError, Report};

use receipt::Completion;
pub use receipt::Receipt;
use shared::{Admission, Shared};

/// A bounded queue that batches requests of one signal and exports them with
/// `num_consumers` concurrent consumers, with retry, backpressure, flush and shutdown.
///
/// Cheap to clone; every clone is a producer handle on the same queue. Producers may run on
/// any thread: the `*_blocking` methods need no runtime, the async ones need a tokio runtime
/// with its time driver. The consumers run on a runtime chosen at start:
/// [`spawn`](Self::spawn) (the current one), [`spawn_on`](Self::spawn_on) (a given one) or
/// [`spawn_dedicated`](Self::spawn_dedicated) (a thread of its own with a current-thread
/// runtime, for applications without tokio).
///
/// Dropping the last handle without [`shutdown`](Self::shutdown) closes the queue and lets
/// the consumers drain it in the background, with nobody to report to: call `shutdown`.
pub struct BatchQueue<R: Batchable> {
    inner: Arc<Inner<R>>,
}

struct Inner<R: Batchable> {
    shared: Arc<Shared<R>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl<R: Batchable> Drop for Inner<R> {
    fn drop(&mut self) {
        self.shared.close_quietly();
    }
}

impl<R: Batchable> Clone for BatchQueue<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R: Batchable> fmt::Debug for BatchQueue<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchQueue")
            .field("signal", &R::SIGNAL)
            .field("queue", &self.inner.shared.queue_metrics.snapshot())
            .finish_non_exhaustive()
    }
}

fn tokio_deadline(deadline: Instant) -> tokio::time::Instant {
    tokio::time::Instant::from_std(deadline)
}

/// Spawns the consumers (and the persistent queue's periodic sync) with `spawn`.
fn start_tasks<R: Batchable, H>(
    shared: &Arc<Shared<R>>,
    mut spawn: impl FnMut(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> H,
) -> Vec<H> {
    let mut handles = Vec::new();
    for _ in 0..shared.config.queue.num_consumers {
        shared.consumer_started();
        handles.push(spawn(Box::pin(consumer::run(Arc::clone(shared)))));
    }
    #[cfg(feature = "persistent")]
    if let crate::config::StorageConfig::Persistent(persistent) = &shared.config.storage
        && let crate::config::FsyncPolicy::Every(interval) = persistent.fsync
    {
        // Not joined: the runtime drops it when the consumers are done.
        drop(spawn(Box::pin(consumer::sync_periodically(
            Arc::clone(shared),
            interval,
        ))));
    }
    handles
}

fn classify(report: Report) -> Result<Report, DrainError> {
    if report.outstanding_items > 0 {
        Err(DrainError::DeadlineExceeded(report))
    } else if report.failed_items > 0 {
        Err(DrainError::Failed(report))
    } else {
        Ok(report)
    }
}

impl<R: Batchable> BatchQueue<R> {
    fn build(
        config: BatchQueueConfig,
        exporter: Arc<dyn BatchExporter<R>>,
    ) -> Result<Arc<Shared<R>>, BuildError> {
        config.validate()?;
        Ok(Shared::new(config, exporter)?)
    }

    fn from_shared(shared: Arc<Shared<R>>, thread: Option<std::thread::JoinHandle<()>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(thread),
            }),
        }
    }

    /// Starts the queue with its consumers on the current tokio runtime (which needs its
    /// time driver). With the persistent queue, opening recovers what a previous run left.
    pub fn spawn(
        config: BatchQueueConfig,
        exporter: Arc<dyn BatchExporter<R>>,
    ) -> Result<Self, BuildError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| BuildError::NoRuntime)?;
        Self::spawn_on(&handle, config, exporter)
    }

    /// Starts the queue with its consumers on `runtime`.
    pub fn spawn_on(
        runtime: &tokio::runtime::Handle,
        config: BatchQueueConfig,
        exporter: Arc<dyn BatchExporter<R>>,
    ) -> Result<Self, BuildError> {
        let shared = Self::build(config, exporter)?;
        drop(start_tasks(&shared, |task| runtime.spawn(task)));
        Ok(Self::from_shared(shared, None))
    }

    /// Starts the queue with its consumers on a dedicated thread (`otlp-batch-<signal>`)
    /// running a current-thread runtime with its time and IO drivers: for applications without tokio. The thread ends when
    /// the queue is shut down (or dropped and drained).
    pub fn spawn_dedicated(
        config: BatchQueueConfig,
        exporter: Arc<dyn BatchExporter<R>>,
    ) -> Result<Self, BuildError> {
        let shared = Self::build(config, exporter)?;
        // Every driver compiled in: the time driver for the queue, and the IO driver for an
        // exporter that opens connections (the OTLP client).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let tasks = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("otlp-batch-{}", R::SIGNAL))
            .spawn(move || {
                runtime.block_on(async move {
                    for handle in start_tasks(&tasks, tokio::spawn) {
                        handle.await.ok();
                    }
                });
            })?;
        Ok(Self::from_shared(shared, Some(thread)))
    }

    fn shared(&self) -> &Shared<R> {
        &self.inner.shared
    }

    // -----------------------------------------------------------------------------------------
    // Producers.

    /// Enqueues without waiting: `Full` at once when there is no room (the collector's
    /// receivers use this and answer the sender with a retryable error).
    pub fn try_enqueue(&self, request: R) -> Result<(), EnqueueError<R>> {
        self.enqueue_blocking_inner(request, None, false).map(drop)
    }

    /// Enqueues, waiting for room until `deadline` (backpressure). `Ok` means the request is
    /// accepted: it will be exported or reported as failed, never silently dropped (with the
    /// persistent queue: it is written to disk).
    pub async fn enqueue(&self, request: R, deadline: Instant) -> Result<(), EnqueueError<R>> {
        self.enqueue_inner(request, deadline, false).await.map(drop)
    }

    /// [`enqueue`](Self::enqueue) for threads without a runtime: blocks the thread.
    pub fn enqueue_blocking(&self, request: R, deadline: Instant) -> Result<(), EnqueueError<R>> {
        self.enqueue_blocking_inner(request, Some(deadline), false)
            .map(drop)
    }

    /// Enqueues and returns a [`Receipt`] that resolves when the request's items have been
    /// exported or have failed.
    pub async fn enqueue_tracked(
        &self,
        request: R,
        deadline: Instant,
    ) -> Result<Receipt, EnqueueError<R>> {
        let receipt = self.enqueue_inner(request, deadline, true).await?;
        Ok(receipt.unwrap_or_else(|| Receipt::new(Completion::new(0))))
    }

    /// [`enqueue_tracked`](Self::enqueue_tracked) for threads without a runtime.
    pub fn enqueue_tracked_blocking(
        &self,
        request: R,
        deadline: Instant,
    ) -> Result<Receipt, EnqueueError<R>> {
        let receipt = self.enqueue_blocking_inner(request, Some(deadline), true)?;
        Ok(receipt.unwrap_or_else(|| Receipt::new(Completion::new(0))))
    }

    /// Enqueues and waits for the outcome: the collector's synchronous mode, where a receiver
    /// answers its sender only once the data is exported.
    pub async fn export(&self, request: R, deadline: Instant) -> Result<Delivery, EnqueueError<R>> {
        Ok(self.enqueue_tracked(request, deadline).await?.wait().await)
    }

    async fn enqueue_inner(
        &self,
        request: R,
        deadline: Instant,
        tracked: bool,
    ) -> Result<Option<Receipt>, EnqueueError<R>> {
        let shared = self.shared();
        let Some(prepared) = shared.prepare(request)? else {
            return Ok(None);
        };
        let completion = tracked.then(|| Completion::new(Shared::parts_of(&prepared)));
        let mut prepared = Some(prepared);
        // The runtime's clock (which tests may pause), not the wall clock.
        let until = tokio_deadline(deadline);
        loop {
            let notified = shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let admission =
                shared.try_admit(&mut shared.lock(), &mut prepared, completion.as_ref());
            match admission {
                Admission::Accepted => return Ok(completion.map(Receipt::new)),
                Admission::Full
                    if shared.config.queue.overflow == OverflowPolicy::Backpressure
                        && tokio::time::Instant::now() < until =>
                {
                    // Timing out just leads to one last try.
                    tokio::time::timeout_at(until, notified).await.ok();
                }
                refused => {
                    let Some(prepared) = prepared.take() else {
                        return Ok(None);
                    };
                    return Err(shared.refusal(refused, prepared));
                }
            }
        }
    }

    fn enqueue_blocking_inner(
        &self,
        request: R,
        deadline: Option<Instant>,
        tracked: bool,
    ) -> Result<Option<Receipt>, EnqueueError<R>> {
        let shared = self.shared();
        let Some(prepared) = shared.prepare(request)? else {
            return Ok(None);
        };
        let completion = tracked.then(|| Completion::new(Shared::parts_of(&prepared)));
        let mut prepared = Some(prepared);
        let mut state = shared.lock();
        loop {
            match shared.try_admit(&mut state, &mut prepared, completion.as_ref()) {
                Admission::Accepted => return Ok(completion.map(Receipt::new)),
                Admission::Full
                    if shared.config.queue.overflow == OverflowPolicy::Backpressure
                        && deadline.is_some_and(|d| Instant::now() < d) =>
                {
                    let wait = deadline
                        .map(|d| d.saturating_duration_since(Instant::now()))
                        .unwrap_or_default();
                    state.blocking_waiters += 1;
                    state = shared
                        .cond
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    state.blocking_waiters -= 1;
                }
                refused => {
                    drop(state);
                    let Some(prepared) = prepared.take() else {
                        return Ok(None);
                    };
                    return Err(shared.refusal(refused, prepared));
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Flush and shutdown.

    /// Sends everything enqueued before the call at once (trigger `flush`) and waits until it
    /// has all been exported or has failed, or until `deadline`.
    ///
    /// `Ok(report)` when everything settled and nothing failed; [`DrainError::Failed`] when
    /// some items failed; [`DrainError::DeadlineExceeded`] when some were still queued or in
    /// flight at the deadline (they stay queued). Items enqueued during the flush are not
    /// waited for. With the persistent queue, a flush also syncs the files to disk.
    pub async fn flush(&self, deadline: Instant) -> Result<Report, DrainError> {
        let shared = self.shared();
        let target = shared.seal(Trigger::Flush).ok_or(DrainError::Closed)?;
        loop {
            let notified = shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if Shared::settled_below(&shared.lock(), target) {
                break;
            }
            if tokio::time::timeout_at(tokio_deadline(deadline), notified)
                .await
                .is_err()
            {
                break;
            }
        }
        classify(shared.finish_flush(target))
    }

    /// [`flush`](Self::flush) for threads without a runtime.
    pub fn flush_blocking(&self, deadline: Instant) -> Result<Report, DrainError> {
        let shared = self.shared();
        let target = shared.seal(Trigger::Flush).ok_or(DrainError::Closed)?;
        let mut state = shared.lock();
        while !Shared::settled_below(&state, target) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state.blocking_waiters += 1;
            state = shared
                .cond
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.blocking_waiters -= 1;
        }
        drop(state);
        classify(shared.finish_flush(target))
    }

    /// Closes the queue and drains it: no request is accepted any more (a concurrent enqueue
    /// either got in before the close and is drained, or gets [`EnqueueError::Closed`] with
    /// its request), everything queued is sent (trigger `shutdown`), and the call waits until
    /// it has been exported or has failed, or until `deadline`.
    ///
    /// At the deadline, what is still queued or in flight is abandoned: with the in-memory
    /// queue it is reported as failed ([`FailureKind::GaveUp`](crate::FailureKind::GaveUp));
    /// with the persistent queue it stays on disk for the next open
    /// (`Report::persisted_items`). Returns [`DrainError::DeadlineExceeded`] then,
    /// [`DrainError::Failed`] if anything failed, [`DrainError::Closed`] if already shut down.
    pub async fn shutdown(&self, deadline: Instant) -> Result<Report, DrainError> {
        let shared = self.shared();
        shared.seal(Trigger::Shutdown).ok_or(DrainError::Closed)?;
        loop {
            let notified = shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if Shared::idle(&shared.lock()) {
                break;
            }
            if tokio::time::timeout_at(tokio_deadline(deadline), notified)
                .await
                .is_err()
            {
                break;
            }
        }
        self.finish_shutdown(false)
    }

    /// [`shutdown`](Self::shutdown) for threads without a runtime; also joins the dedicated
    /// thread when the drain finished in time.
    pub fn shutdown_blocking(&self, deadline: Instant) -> Result<Report, DrainError> {
        let shared = self.shared();
        shared.seal(Trigger::Shutdown).ok_or(DrainError::Closed)?;
        let mut state = shared.lock();
        while !Shared::idle(&state) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state.blocking_waiters += 1;
            state = shared
                .cond
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            state.blocking_waiters -= 1;
        }
        drop(state);
        self.finish_shutdown(true)
    }

    fn finish_shutdown(&self, join: bool) -> Result<Report, DrainError> {
        let shared = self.shared();
        let (report, timed_out) = shared.finish_shutdown();
        if join && !timed_out {
            let thread = self
                .inner
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(thread) = thread {
                thread.join().ok();
            }
        }
        if timed_out {
            Err(DrainError::DeadlineExceeded(report))
        } else {
            classify(report)
        }
    }

    // -----------------------------------------------------------------------------------------
    // Observation.

    /// Takes the outcomes settled since the previous report (flush, shutdown or this call),
    /// without waiting for anything.
    pub fn take_report(&self) -> Report {
        let shared = self.shared();
        let mut state = shared.lock();
        shared.take_report(&mut state).finish()
    }

    /// The queue's gauges and counters.
    pub fn queue_metrics(&self) -> Arc<QueueMetrics> {
        Arc::clone(&self.shared().queue_metrics)
    }

    /// The batcher's histogram and trigger counters.
    pub fn batcher_metrics(&self) -> Arc<BatcherMetrics> {
        Arc::clone(&self.shared().batcher_metrics)
    }

    /// The configuration the queue runs with.
    pub fn config(&self) -> &BatchQueueConfig {
        &self.shared().config
    }
}
