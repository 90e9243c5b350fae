//! Configuration, with the OpenTelemetry Collector's names and defaults where it has them.

use std::path::PathBuf;
use std::time::Duration;

use otlp_transport::Signal;

/// Everything a [`BatchQueue`](crate::BatchQueue) needs to know.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchQueueConfig {
    /// When batches are sent and how large they may be (the otelcol batch processor).
    pub batch: BatchConfig,
    /// Capacity, overflow policy and concurrency (the otelcol `sending_queue`).
    pub queue: QueueConfig,
    /// Retry of failed exports (the otelcol `retry_on_failure`).
    pub retry: RetryConfig,
    /// In memory, or on disk.
    pub storage: StorageConfig,
}

/// Batch formation: the knobs of the otelcol batch processor, plus a byte cap.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// A batch is sent as soon as this many items are waiting (`send_batch_size`, default
    /// 8192). Batches are formed from whole queued requests in arrival order until they hold
    /// at least this many items or a cap stops them.
    pub send_batch_size: usize,
    /// Hard cap on items per batch (`send_batch_max_size`, default 0: no cap). Must be 0 or at
    /// least `send_batch_size`. Requests larger than the cap are split when they are enqueued,
    /// keeping every item under its resource and scope.
    pub send_batch_max_size: usize,
    /// Hard cap on a batch's encoded protobuf size in bytes (default 0: no cap). Set it below
    /// the receiver's maximum message size (gRPC: 4 MiB by default). A single item larger than
    /// the cap is sent alone.
    pub send_batch_max_bytes: usize,
    /// A batch is sent when its oldest request has waited this long, whatever its size
    /// (`timeout`, default 200 ms). Zero sends every request as soon as a consumer is free.
    pub timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            send_batch_size: 8192,
            send_batch_max_size: 0,
            send_batch_max_bytes: 0,
            timeout: Duration::from_millis(200),
        }
    }
}

/// What happens when a request does not fit in the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// The default: `enqueue` waits for room until its deadline, then returns
    /// [`EnqueueError::Full`](crate::EnqueueError::Full) with the request; `try_enqueue`
    /// returns it at once (a collector receiver answers the sender with a retryable error).
    #[default]
    Backpressure,
    /// Opt-in: a request that does not fit is dropped at once, counted in
    /// `dropped_items`, and reported to the caller as
    /// [`EnqueueError::Dropped`](crate::EnqueueError::Dropped). Data already accepted is
    /// never dropped.
    DropNewest,
}

/// The bounded queue between producers and the exporting consumers.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Maximum items (spans, data points, log records, profiles) accepted and not yet settled
    /// — waiting, batched, in flight or retrying (default 262 144: 32 batches of 8192).
    pub capacity_items: usize,
    /// Maximum encoded bytes accepted and not yet settled, in memory (default 256 MiB). With
    /// the persistent queue, [`PersistentConfig::max_bytes`] bounds the disk instead.
    pub capacity_bytes: usize,
    /// Concurrent exports (`num_consumers`, default 10).
    pub num_consumers: usize,
    /// What happens on overflow (default: backpressure).
    pub overflow: OverflowPolicy,
    /// Time limit of one export attempt (default 5 s, the otelcol exporter `timeout`). An
    /// attempt that takes longer is abandoned and retried as
    /// [`FailureKind::Timeout`](crate::FailureKind::Timeout). Zero: no limit, and each batch
    /// is moved into its attempt
    /// ([`BatchExporter::export_owned`](crate::BatchExporter::export_owned)) instead of lent.
    pub export_timeout: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity_items: 262_144,
            capacity_bytes: 256 << 20,
            num_consumers: 10,
            overflow: OverflowPolicy::Backpressure,
            export_timeout: Duration::from_secs(5),
        }
    }
}

/// Exponential backoff with jitter between attempts of a failed export.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retry retryable failures at all (default `true`).
    pub enabled: bool,
    /// First delay (default 5 s).
    pub initial_interval: Duration,
    /// Largest delay (default 30 s).
    pub max_interval: Duration,
    /// Growth of the delay per attempt (default 1.5).
    pub multiplier: f64,
    /// Each delay is drawn uniformly from `delay × (1 ± randomization_factor)` (default 0.5).
    pub randomization_factor: f64,
    /// Give up when the next attempt would start later than this after the first (default
    /// 300 s). Zero: never give up (until shutdown's deadline).
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(30),
            multiplier: 1.5,
            randomization_factor: 0.5,
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

/// Where accepted requests wait for export.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum StorageConfig {
    /// In memory: lost if the process dies.
    #[default]
    Memory,
    /// On disk: survives `kill -9` (and, with [`FsyncPolicy::Always`], power loss).
    #[cfg(feature = "persistent")]
    Persistent(PersistentConfig),
}

/// When the persistent queue forces written data to stable storage.
///
/// A process crash (`kill -9`, panic, OOM kill) loses nothing under any policy: records are
/// written with `write(2)` before `enqueue` returns, and the kernel keeps them. The policy
/// decides what survives a machine crash or power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fdatasync` after every append, before `enqueue` returns (slowest; survives power
    /// loss).
    Always,
    /// `fdatasync` at most this often, from a background task (a power loss can lose the last
    /// interval).
    Every(Duration),
    /// Never force; the kernel writes back when it likes.
    Never,
}

/// The on-disk queue of one exporter and signal.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistentConfig {
    /// The queue's own directory (created if missing; locked while open). In the collector
    /// this is `<file_storage directory>/exporter_<name>_<signal>`, see
    /// [`PersistentConfig::queue_directory`].
    pub directory: PathBuf,
    /// Upper bound of the queue's files on disk, in bytes (default 1 GiB): accepted data not
    /// yet acknowledged, plus acknowledgement records, plus acknowledged records in segments
    /// that still hold unacknowledged ones. Enqueue backpressures (or drops, if opted in)
    /// when a record does not fit.
    pub max_bytes: u64,
    /// Size at which a new segment file is started (default 16 MiB).
    pub segment_size: u64,
    /// Durability against machine crashes (default: every second).
    pub fsync: FsyncPolicy,
}

impl PersistentConfig {
    /// A configuration with the defaults, in `directory`.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
            max_bytes: 1 << 30,
            segment_size: 16 << 20,
            fsync: FsyncPolicy::Every(Duration::from_secs(1)),
        }
    }

    /// The queue directory the collector uses for an exporter's signal inside a
    /// `file_storage` extension's directory: `exporter_<exporter id>_<signal>`, with
    /// characters other than ASCII letters, digits, `-` and `_` replaced by `_` (so
    /// `otlp/backend` becomes `exporter_otlp_backend_traces`).
    pub fn queue_directory(
        storage_directory: impl Into<PathBuf>,
        exporter_id: &str,
        signal: Signal,
    ) -> PathBuf {
        let id: String = exporter_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        storage_directory
            .into()
            .join(format!("exporter_{id}_{}", signal.name()))
    }
}

/// A configuration value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `send_batch_size` is zero.
    #[error("batch.send_batch_size must be at least 1")]
    ZeroBatchSize,
    /// `send_batch_max_size` is set below `send_batch_size`.
    #[error("batch.send_batch_max_size ({max}) must be 0 or at least send_batch_size ({size})")]
    MaxBelowBatchSize {
        /// `send_batch_size`.
        size: usize,
        /// `send_batch_max_size`.
        max: usize,
    },
    /// `num_consumers` is zero.
    #[error("queue.num_consumers must be at least 1")]
    ZeroConsumers,
    /// A capacity is zero.
    #[error("queue.capacity_items and queue.capacity_bytes must be at least 1")]
    ZeroCapacity,
    /// A retry setting is out of range.
    #[error("retry: {0}")]
    Retry(&'static str),
    /// A persistent-queue setting is out of range.
    #[error("persistent queue: {0}")]
    Persistent(&'static str),
}

impl BatchQueueConfig {
    /// Checks every value; [`BatchQueue`](crate::BatchQueue) calls it before starting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let batch = &self.batch;
        if batch.send_batch_size == 0 {
            return Err(ConfigError::ZeroBatchSize);
        }
        if batch.send_batch_max_size != 0 && batch.send_batch_max_size < batch.send_batch_size {
            return Err(ConfigError::MaxBelowBatchSize {
                size: batch.send_batch_size,
                max: batch.send_batch_max_size,
            });
        }
        if self.queue.num_consumers == 0 {
            return Err(ConfigError::ZeroConsumers);
        }
        if self.queue.capacity_items == 0 || self.queue.capacity_bytes == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        let retry = &self.retry;
        if !(retry.multiplier.is_finite() && retry.multiplier >= 1.0) {
            return Err(ConfigError::Retry(
                "multiplier must be a finite number >= 1",
            ));
        }
        if !(0.0..=1.0).contains(&retry.randomization_factor) {
            return Err(ConfigError::Retry(
                "randomization_factor must be within 0..=1",
            ));
        }
        #[cfg(feature = "persistent")]
        if let StorageConfig::Persistent(persistent) = &self.storage {
            if persistent.segment_size < 4096 {
                return Err(ConfigError::Persistent(
                    "segment_size must be at least 4096 bytes",
                ));
            }
            if persistent.max_bytes < persistent.segment_size {
                return Err(ConfigError::Persistent(
                    "max_bytes must be at least segment_size",
                ));
            }
            if let FsyncPolicy::Every(interval) = persistent.fsync
                && interval.is_zero()
            {
                return Err(ConfigError::Persistent(
                    "fsync interval must be positive (or use Always)",
                ));
            }
        }
        Ok(())
    }
}
