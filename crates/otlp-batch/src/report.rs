//! What flush, shutdown and receipts tell the caller, and the errors of each operation.

use std::fmt;
use std::io;
use std::sync::Arc;

use otlp_transport::PartialSuccess;

use crate::config::ConfigError;
use crate::exporter::ExportFailure;

/// Distinct failures a [`Report`] lists in detail; further ones are only counted.
pub const MAX_FAILURES_LISTED: usize = 16;

/// One kind of failure and how much it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureSummary {
    /// The failure (for a partial success: permanent, with the receiver's message).
    pub failure: ExportFailure,
    /// Items lost to it.
    pub items: u64,
    /// Batches it happened to.
    pub batches: u64,
}

/// The outcome of the exports settled since the previous report.
///
/// Every settled batch is reported exactly once: to the first [`flush`](crate::BatchQueue::flush),
/// [`shutdown`](crate::BatchQueue::shutdown) or [`take_report`](crate::BatchQueue::take_report)
/// that returns after it settles. A flush returns only when everything enqueued before it has
/// settled, so its report always covers those items (when flushes run concurrently, each
/// settlement goes to one of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Items the exporter accepted.
    pub exported_items: u64,
    /// Items that will never be exported (see [`Report::failures`]).
    pub failed_items: u64,
    /// The distinct failures, at most [`MAX_FAILURES_LISTED`], largest first.
    pub failures: Vec<FailureSummary>,
    /// Distinct failures beyond the listed ones (their items are in `failed_items`).
    pub unlisted_failures: u64,
    /// Items enqueued before the call that had not settled when its deadline passed (flush
    /// only: they stay queued; shutdown settles them as failed or leaves them on disk).
    pub outstanding_items: u64,
    /// Items left in the persistent queue by shutdown, exported after the next open.
    pub persisted_items: u64,
}

impl Report {
    /// `true` when nothing failed and nothing is outstanding.
    pub fn is_clean(&self) -> bool {
        self.failed_items == 0 && self.outstanding_items == 0
    }

    pub(crate) fn add_exported(&mut self, items: u64) {
        self.exported_items += items;
    }

    pub(crate) fn add_failed(&mut self, failure: &ExportFailure, items: u64) {
        if items == 0 {
            return;
        }
        self.failed_items += items;
        if let Some(summary) = self.failures.iter_mut().find(|s| s.failure == *failure) {
            summary.items += items;
            summary.batches += 1;
        } else if self.failures.len() < MAX_FAILURES_LISTED {
            self.failures.push(FailureSummary {
                failure: failure.clone(),
                items,
                batches: 1,
            });
        } else {
            self.unlisted_failures += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Self {
        self.failures.sort_by_key(|s| std::cmp::Reverse(s.items));
        self
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} items exported, {} failed",
            self.exported_items, self.failed_items
        )?;
        if self.outstanding_items > 0 {
            write!(f, ", {} outstanding", self.outstanding_items)?;
        }
        if self.persisted_items > 0 {
            write!(f, ", {} left in the persistent queue", self.persisted_items)?;
        }
        for summary in &self.failures {
            write!(f, "; {} items: {}", summary.items, summary.failure)?;
        }
        if self.unlisted_failures > 0 {
            write!(f, "; and {} more distinct failures", self.unlisted_failures)?;
        }
        Ok(())
    }
}

/// The fate of one tracked request (see [`Receipt`](crate::Receipt)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Exported. `partial` carries a partial success of a batch the request was part of (the
    /// receiver does not say which items it rejected, so every request of that batch sees it).
    Exported {
        /// The batch's partial success, if the receiver sent one.
        partial: Option<PartialSuccess>,
    },
    /// Not exported, and never will be.
    Failed(ExportFailure),
    /// Still in the persistent queue when shutdown's deadline passed: it will be exported
    /// after the queue is opened again.
    Persisted,
}

impl Delivery {
    /// `true` for a full or partial success.
    pub fn is_exported(&self) -> bool {
        matches!(self, Delivery::Exported { .. })
    }
}

/// Why a request was not accepted. Every variant but `Dropped` hands the request back.
#[non_exhaustive]
pub enum EnqueueError<R> {
    /// The queue stayed full until the deadline (backpressure). Retryable: a collector
    /// answers the sender with gRPC `UNAVAILABLE` / HTTP 503.
    Full(R),
    /// The queue is shut down (or shutting down). Nothing of the request was accepted.
    Closed(R),
    /// The request alone exceeds the queue's capacity; it can never be accepted.
    TooLarge {
        /// The request.
        request: R,
        /// Its items.
        items: usize,
        /// Its encoded bytes (after splitting under the batch caps).
        bytes: usize,
    },
    /// Dropped under the opt-in [`OverflowPolicy::DropNewest`](crate::OverflowPolicy); counted
    /// in `dropped_items`.
    Dropped {
        /// Items dropped.
        items: usize,
    },
    /// The persistent queue could not write the request. Retryable.
    Storage {
        /// The request.
        request: R,
        /// The I/O error.
        error: Arc<io::Error>,
    },
}

impl<R> EnqueueError<R> {
    /// `true` when trying again later may succeed (`Full`, `Closed` while a new queue may
    /// replace this one, `Storage`).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EnqueueError::Full(_) | EnqueueError::Closed(_) | EnqueueError::Storage { .. }
        )
    }

    /// The request, unless it was dropped.
    pub fn into_request(self) -> Option<R> {
        match self {
            EnqueueError::Full(request)
            | EnqueueError::Closed(request)
            | EnqueueError::TooLarge { request, .. }
            | EnqueueError::Storage { request, .. } => Some(request),
            EnqueueError::Dropped { .. } => None,
        }
    }
}

impl<R> fmt::Display for EnqueueError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnqueueError::Full(_) => f.write_str("the queue is full"),
            EnqueueError::Closed(_) => f.write_str("the queue is shut down"),
            EnqueueError::TooLarge { items, bytes, .. } => {
                write!(
                    f,
                    "the request ({items} items, {bytes} bytes) exceeds the queue's capacity"
                )
            }
            EnqueueError::Dropped { items } => {
                write!(f, "the queue is full: {items} items dropped")
            }
            EnqueueError::Storage { error, .. } => {
                write!(f, "the persistent queue could not write: {error}")
            }
        }
    }
}

impl<R> fmt::Debug for EnqueueError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnqueueError({self})")
    }
}

impl<R> std::error::Error for EnqueueError<R> {}

/// Why a flush or shutdown did not end cleanly. The report is in every variant that has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrainError {
    /// Everything settled, but some items failed.
    #[error("{0}")]
    Failed(Report),
    /// The deadline passed first. For flush, `outstanding_items` are still queued; for
    /// shutdown, they were settled as failed (memory) or left on disk (persistent).
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(Report),
    /// Flush after shutdown, or a second shutdown.
    #[error("the queue is already shut down")]
    Closed,
}

impl DrainError {
    /// The report, when there is one.
    pub fn report(&self) -> Option<&Report> {
        match self {
            DrainError::Failed(report) | DrainError::DeadlineExceeded(report) => Some(report),
            DrainError::Closed => None,
        }
    }
}

/// Why a queue could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A configuration value is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `BatchQueue::spawn` was called outside a tokio runtime.
    #[error("no tokio runtime: use BatchQueue::spawn_on or BatchQueue::spawn_dedicated")]
    NoRuntime,
    /// The persistent queue could not be opened (or the dedicated thread not started).
    #[error("opening the queue: {0}")]
    Io(#[from] io::Error),
}
