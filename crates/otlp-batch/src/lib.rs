//! Batching and bounded queues for OTLP requests that never lose acknowledged data, with an
//! optional on-disk queue that survives `kill -9`.
//!
//! `otlp-batch` sits between whatever produces OTLP requests (an application's SDK, a
//! collector receiver or processor) and whatever exports them (an `otlp-transport` client,
//! the next pipeline stage). One [`BatchQueue`] per signal:
//!
//! 1. **admits** requests into a queue bounded by items and by bytes: the caller waits for
//!    room until its deadline (backpressure, the default), or gets the request back at once
//!    ([`BatchQueue::try_enqueue`]); dropping is opt-in ([`OverflowPolicy::DropNewest`]) and
//!    counted. Requests larger than the batch caps are split on the way in, every item keeping
//!    its resource and scope;
//! 2. **batches** them with the otelcol batch processor's knobs ([`BatchConfig`]:
//!    `send_batch_size`, `send_batch_max_size`, a byte cap, `timeout`), merging requests so
//!    that equal resources and scopes appear once ([`Batchable`]);
//! 3. **exports** batches through `num_consumers` concurrent consumers calling a
//!    [`BatchExporter`], with exponential backoff and jitter on retryable failures
//!    ([`RetryConfig`]), a per-attempt timeout, and partial-success accounting;
//! 4. **drains**: [`flush`](BatchQueue::flush) and [`shutdown`](BatchQueue::shutdown) take a
//!    deadline and return a [`Report`]; failures reach the caller as a [`DrainError`], a
//!    [`Receipt`] or [`BatchQueue::take_report`], and always the metrics;
//! 5. optionally **persists** every accepted request ([`StorageConfig::Persistent`]) in
//!    segmented append-only files with checksums, removes it only once settled, and exports
//!    after a restart whatever a crash left;
//! 6. **counts** everything ([`QueueMetrics`], [`BatcherMetrics`]): size, capacity, enqueued,
//!    exported, failed, refused, dropped, retries, the batch-size histogram and the trigger of
//!    every batch.
//!
//! Producers may call from any thread: the `*_blocking` methods need no runtime, and
//! [`BatchQueue::spawn_dedicated`] runs the consumers on a thread of their own, so an
//! application without tokio can use the queue. Inside an async program (the collector),
//! [`BatchQueue::spawn`] puts the consumers on the current runtime and the async methods
//! await; [`BatchQueue::export`] waits for the export's outcome.
//!
//! # Delivery guarantees
//!
//! *Accepted* means an enqueue method returned `Ok`. Items are spans, metric data points, log
//! records or profiles.
//!
//! - **Nothing accepted is dropped.** Every accepted item is eventually *settled* exactly
//!   once: exported (the exporter returned `Ok`), or failed and reported — permanent
//!   rejection, the rejected share of a partial success, retries given up after
//!   `max_elapsed_time`, or shutdown's deadline. Each settlement is counted in the metrics
//!   and reported to the next flush/shutdown/`take_report`, and to the request's [`Receipt`]
//!   if it has one. Overflow never drops accepted data: it refuses new data (or, opt-in,
//!   drops the *new* request, telling the caller).
//! - **Flush**: when [`flush`](BatchQueue::flush) returns `Ok` or [`DrainError::Failed`],
//!   every item accepted before the call has settled, and the report says how.
//! - **Shutdown** closes admission atomically with concurrent enqueues (one mutex guards both
//!   the closed flag and admission): a racing enqueue either was accepted before the close
//!   and is drained like the rest, or returns [`EnqueueError::Closed`] with its request. When
//!   shutdown returns, every accepted item has settled — in memory, items still unsettled at
//!   the deadline are settled as failed ([`FailureKind::GaveUp`]) — or, with the persistent
//!   queue, is still on disk (`Report::persisted_items`).
//! - **In memory: exactly once, with one exception.** An export attempt that exceeds
//!   `export_timeout` is abandoned and retried; if the receiver had in fact received it, the
//!   items arrive twice. That is the only source of duplicates (exporters that are themselves
//!   idempotent or never time out give exactly-once). Conversely, an attempt abandoned by
//!   shutdown's deadline is reported as failed although the receiver may have received it.
//! - **Persistent: at least once across crashes, exactly once otherwise.** A request is
//!   written to its segment file (`write(2)`; `fdatasync` too with [`FsyncPolicy::Always`])
//!   before enqueue returns, so a process crash (`kill -9`, abort, OOM kill) loses nothing
//!   accepted; a power loss may lose what was written since the last sync
//!   ([`FsyncPolicy`]). A record is removed only after its batch settled: an acknowledgement
//!   record is appended and fully acknowledged segments are deleted. After a crash and
//!   reopen, every accepted request without an acknowledgement is exported again. The
//!   duplicate window is therefore: the batches that were being exported, or had been
//!   exported but not yet acknowledged, when the process died (at most `num_consumers`
//!   batches), plus batches abandoned at shutdown's deadline, plus the timeout case above.
//!   Items that fail permanently are acknowledged (removed) too, after being reported.
//!   A record torn by a crash mid-write was never acknowledged to its producer; it is
//!   detected by its checksum at open, skipped and counted (`torn_records`).
//! - **Bounded everything.** Memory: items and encoded bytes accepted and unsettled are capped
//!   ([`QueueConfig`]); disk: [`PersistentConfig::max_bytes`]. No channel in the crate is
//!   unbounded. A request that can never fit is refused as [`EnqueueError::TooLarge`].
//! - **Ordering.** Batches are formed in acceptance order; with more than one consumer,
//!   batches may be exported (and retried) out of order.
//!
//! Requests with no items are accepted and discarded. Byte sizes are encoded protobuf sizes
//! (`prost::Message::encoded_len`), not heap sizes.
//!
//! # Why a custom on-disk format
//!
//! The issue's design (segments, checksummed records, acknowledgement log) is small enough to
//! own, and the candidate crates do not fit: embedded databases such as `redb` or `sled` buy
//! transactions we do not need at the cost of write amplification per request, and `redb`
//! does not persist a non-durable commit until a durable one (an fsync) follows, so any policy
//! short of an fsync per request would lose acknowledged data on `kill -9`; queue crates (`yaque`, `queue-file`) allow a single reader
//! and in-order removal only, while concurrent consumers settle out of order. We use
//! well-kept crates for the parts that are not queue logic: `crc32fast` (the checksum behind
//! `flate2`, SIMD-accelerated) and `rustix` (a safe `flock` for the directory lock on Unix;
//! the crate forbids `unsafe`).
//!
//! # What it must not depend on
//!
//! Only `otlp-proto`, `otlp-model` and `otlp-transport` of this workspace (for
//! [`ExportRequest`], [`Signal`] and [`PartialSuccess`]), plus tokio (`rt`, `sync`, `time`,
//! `macros`), prost, async-trait, thiserror, tracing, and for the persistent queue
//! `crc32fast` and `rustix`. Never `otlp-pipeline` or `otlp-collector` (the layers above);
//! `cargo xtask tidy` enforces it.
//!
//! # Features
//!
//! - `persistent` (default): the on-disk queue, [`StorageConfig::Persistent`].
//! - `transport-exporter` (default): [`BatchExporter`] for `otlp_transport::client::OtlpExporter`
//!   (gRPC and OTLP/HTTP), so a queue can feed the transport's client directly. Turns on the
//!   transport's `client`, `grpc` and `http` features.
//!
//! # Example
//!
//! An application without tokio: the queue runs its consumers on its own thread.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::{Duration, Instant};
//!
//! use otlp_batch::{BatchExporter, BatchQueue, BatchQueueConfig, ExportFailure, PartialSuccess};
//! use otlp_model::builders::{SpanBuilder, TracesBuilder};
//! use otlp_model::resource;
//! use otlp_model::views::TracesView;
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//!
//! /// An in-process exporter that counts spans.
//! struct Counter(AtomicUsize);
//!
//! #[otlp_batch::async_trait]
//! impl BatchExporter<ExportTraceServiceRequest> for Counter {
//!     async fn export(&self, batch: &ExportTraceServiceRequest) -> Result<Option<PartialSuccess>, ExportFailure> {
//!         self.0.fetch_add(batch.span_count(), Ordering::Relaxed);
//!         Ok(None)
//!     }
//! }
//!
//! let exporter = Arc::new(Counter(AtomicUsize::new(0)));
//! let mut config = BatchQueueConfig::default();
//! config.batch.send_batch_size = 100;
//! let queue = BatchQueue::spawn_dedicated(config, exporter.clone())?;
//!
//! let deadline = || Instant::now() + Duration::from_secs(5);
//! for i in 0..250 {
//!     let request = TracesBuilder::new()
//!         .resource(resource!["service.name" => "checkout"])
//!         .scope("checkout", "1.0")
//!         .span(SpanBuilder::new(format!("GET /cart/{i}")))
//!         .build();
//!     queue.enqueue_blocking(request, deadline())?;
//! }
//! let report = queue.shutdown_blocking(deadline())?;
//! assert_eq!(report.exported_items, 250);
//! assert_eq!(exporter.0.load(Ordering::Relaxed), 250);
//! // One resource and scope: the 250 one-span requests became a few merged batches.
//! let batches = queue.batcher_metrics().snapshot();
//! assert!(batches.batches <= 3, "{batches:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod batchable;
mod config;
mod encoded;
mod exporter;
mod metrics;
#[cfg(feature = "persistent")]
mod persistent;
mod queue;
mod report;
#[cfg(feature = "transport-exporter")]
mod transport;

/// Re-exported so an exporter can be written without depending on `async-trait` directly.
pub use async_trait::async_trait;
pub use batchable::{Batchable, merge_all};
#[doc(hidden)]
pub use batchable::{resource_key_encoded, resource_key_structural};
pub use config::{
    BatchConfig, BatchQueueConfig, ConfigError, FsyncPolicy, OverflowPolicy, PersistentConfig,
    QueueConfig, RetryConfig, StorageConfig,
};
pub use encoded::Encoded;
pub use exporter::{BatchExporter, ExportFailure, FailureKind, NotExported};
pub use metrics::{
    BATCH_SIZE_BOUNDS, BatcherMetrics, BatcherSnapshot, QueueMetrics, QueueSnapshot, Trigger,
};
pub use otlp_transport::{ExportRequest, PartialSuccess, Signal};
pub use queue::{BatchQueue, Receipt};
pub use report::{
    BuildError, Delivery, DrainError, EnqueueError, FailureSummary, MAX_FAILURES_LISTED, Report,
};
