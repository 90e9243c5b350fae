//! The SDK's errors.

use std::time::Duration;

/// What a flush or a shutdown could not do. Every variant says how many items (spans or log
/// records) were not exported, so nothing is lost silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The provider or processor was already shut down.
    #[error("already shut down")]
    AlreadyShutdown,
    /// The deadline passed first; `pending` items were still buffered, queued or in flight.
    #[error("deadline exceeded with {pending} item(s) not exported yet")]
    DeadlineExceeded {
        /// Items not exported when the deadline passed.
        pending: u64,
    },
    /// Some items were not exported: the exporter refused or failed them, or they were
    /// dropped by a full queue.
    #[error("{failed} item(s) failed to export, {dropped} dropped by a full queue: {message}")]
    ExportFailed {
        /// Items the exporter failed (permanent rejection, retries given up).
        failed: u64,
        /// Items dropped because the queue was full.
        dropped: u64,
        /// The first failure's message.
        message: String,
    },
    /// Several processors failed; their errors, in order.
    #[error("{} processor(s) failed: {}", .0.len(), display_all(.0))]
    Multiple(Vec<SdkError>),
    /// A processor or exporter could not be built.
    #[error("cannot start the export thread: {0}")]
    Build(String),
    /// The configuration (an `OTEL_*` variable, a builder value) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

fn display_all(errors: &[SdkError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl SdkError {
    /// Items this error says were not exported (0 for the configuration errors).
    #[must_use]
    pub fn not_exported(&self) -> u64 {
        match self {
            Self::DeadlineExceeded { pending } => *pending,
            Self::ExportFailed {
                failed, dropped, ..
            } => failed + dropped,
            Self::Multiple(errors) => errors.iter().map(Self::not_exported).sum(),
            _ => 0,
        }
    }

    /// Combines the results of several processors (or providers) into one: `Ok` when all
    /// are, the single error, or [`SdkError::Multiple`].
    ///
    /// # Errors
    ///
    /// The errors of `results`.
    pub fn combine(results: Vec<Result<(), SdkError>>) -> Result<(), SdkError> {
        let mut errors: Vec<SdkError> = results.into_iter().filter_map(Result::err).collect();
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Self::Multiple(errors)),
        }
    }
}

/// The default deadline of `force_flush` / `shutdown` when a guard is dropped.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
