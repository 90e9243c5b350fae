//! The exporter the queue's consumers call, and how an export can fail.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otlp_transport::{ExportRequest, PartialSuccess};

/// Where the queue's consumers send batches: an OTLP client, another pipeline stage, a test
/// double. Object safe: the queue holds an `Arc<dyn BatchExporter<R>>`.
///
/// The batch is borrowed so a retry needs no copy; an exporter that must own the request
/// clones it.
///
/// Contract:
/// - `Ok(None)`: every item was accepted.
/// - `Ok(Some(partial))`: the receiver accepted the request but rejected
///   `partial.rejected_items` items; the queue counts them as failed and does **not** retry
///   (the OTLP specification forbids retrying a partial success).
/// - `Err(failure)`: nothing was accepted; [`ExportFailure::is_retryable`] decides whether the
///   queue retries with backoff (honouring [`ExportFailure::retry_after`]).
///
/// An exporter should not retry by itself when it is used with a queue whose retry is
/// enabled, or the delays multiply.
#[async_trait]
pub trait BatchExporter<R: ExportRequest>: Send + Sync + 'static {
    /// Exports one batch.
    async fn export(&self, batch: &R) -> Result<Option<PartialSuccess>, ExportFailure>;

    /// Exports one batch the exporter may take for itself, for an exporter that would
    /// otherwise have to copy it (a pipeline stage handing it on by value). On failure it
    /// hands the batch back ([`NotExported::batch`]) when it still has it, so the queue
    /// retries without ever having kept a copy; a retryable failure without the batch is
    /// settled as given up (whoever kept the batch answers for it).
    ///
    /// The queue calls this instead of [`export`](Self::export) when its `export_timeout` is
    /// zero: an attempt abandoned at a timeout would take the batch with it. The default
    /// borrows through `export` and always hands the batch back.
    async fn export_owned(&self, batch: R) -> Result<Option<PartialSuccess>, NotExported<R>> {
        match self.export(&batch).await {
            Ok(partial) => Ok(partial),
            Err(failure) => Err(NotExported {
                failure,
                batch: Some(batch),
            }),
        }
    }
}

#[async_trait]
impl<R: ExportRequest, E: BatchExporter<R> + ?Sized> BatchExporter<R> for Arc<E> {
    async fn export(&self, batch: &R) -> Result<Option<PartialSuccess>, ExportFailure> {
        (**self).export(batch).await
    }

    async fn export_owned(&self, batch: R) -> Result<Option<PartialSuccess>, NotExported<R>> {
        (**self).export_owned(batch).await
    }
}

/// A failed [`BatchExporter::export_owned`]: why, and the batch when the exporter still has
/// it.
#[derive(Debug)]
pub struct NotExported<R> {
    /// Why nothing was accepted.
    pub failure: ExportFailure,
    /// The batch, handed back for a retry; `None` when the exporter no longer has it.
    pub batch: Option<R>,
}

/// Whether a failed export may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Transient: the receiver was unavailable, throttled, or the connection failed. Retried.
    Retryable,
    /// The export attempt took longer than the queue's `export_timeout` and was abandoned.
    /// Retried like [`FailureKind::Retryable`], but the receiver may have received the batch,
    /// so the retry can deliver it twice (the at-least-once window of the in-memory queue).
    Timeout,
    /// The receiver rejected the data for good (malformed, unauthorised, too large). Not
    /// retried.
    Permanent,
    /// The queue gave up: retries ran past `max_elapsed_time`, or shutdown's deadline passed
    /// while the batch was queued or in flight. Reported, never retried.
    GaveUp,
}

/// Why an export did not deliver a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFailure {
    kind: FailureKind,
    message: Arc<str>,
    retry_after: Option<Duration>,
}

impl ExportFailure {
    /// A transient failure, retried with backoff.
    pub fn retryable(message: impl fmt::Display) -> Self {
        Self::new(FailureKind::Retryable, message)
    }

    /// A permanent rejection, never retried.
    pub fn permanent(message: impl fmt::Display) -> Self {
        Self::new(FailureKind::Permanent, message)
    }

    /// A failure of the given kind.
    pub fn new(kind: FailureKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string().into(),
            retry_after: None,
        }
    }

    /// Asks the queue to wait at least `delay` before the next attempt (gRPC `RetryInfo`,
    /// HTTP `Retry-After`).
    #[must_use]
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The delay the receiver asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// `true` for [`FailureKind::Retryable`] and [`FailureKind::Timeout`].
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, FailureKind::Retryable | FailureKind::Timeout)
    }

    pub(crate) fn gave_up(cause: &ExportFailure, why: &str) -> Self {
        Self::new(FailureKind::GaveUp, format!("{why}: {}", cause.message))
    }
}

impl fmt::Display for ExportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            FailureKind::Retryable => "retryable",
            FailureKind::Timeout => "timed out",
            FailureKind::Permanent => "permanent",
            FailureKind::GaveUp => "gave up",
        };
        write!(f, "export failed ({kind}): {}", self.message)
    }
}

impl std::error::Error for ExportFailure {}
