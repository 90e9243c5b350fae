//! Counters and gauges of a queue and its batcher, readable without taking the queue's lock.
//!
//! The collector exports them under otelcol names: `otelcol_exporter_queue_size` /
//! `_queue_capacity` (size and capacity), `otelcol_exporter_sent_*` (exported),
//! `otelcol_exporter_send_failed_*` (failed), `otelcol_exporter_enqueue_failed_*` (refused and
//! dropped), `otelcol_processor_batch_batch_send_size` (the histogram) and
//! `otelcol_processor_batch_{batch_size,timeout}_trigger_send` (triggers).

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (inclusive) of the batch-size histogram buckets, in items; the otelcol batch
/// processor's `batch_send_size` boundaries. A last bucket counts larger batches.
pub const BATCH_SIZE_BOUNDS: [u64; 22] = [
    10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000,
    10_000, 20_000, 30_000, 50_000, 100_000,
];

/// Why a batch was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// At least `send_batch_size` items were waiting (or a cap filled the batch).
    Size,
    /// The oldest waiting request reached `timeout`.
    Timeout,
    /// A `flush` asked for everything enqueued before it.
    Flush,
    /// Shutdown (or dropping the last handle) drained the queue.
    Shutdown,
}

impl Trigger {
    /// Every trigger, in a fixed order.
    pub const ALL: [Trigger; 4] = [
        Trigger::Size,
        Trigger::Timeout,
        Trigger::Flush,
        Trigger::Shutdown,
    ];

    /// A lower-case name for labels: `size`, `timeout`, `flush`, `shutdown`.
    pub const fn name(self) -> &'static str {
        match self {
            Trigger::Size => "size",
            Trigger::Timeout => "timeout",
            Trigger::Flush => "flush",
            Trigger::Shutdown => "shutdown",
        }
    }
}

fn add(counter: &AtomicU64, value: u64) {
    counter.fetch_add(value, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The queue's live gauges and counters (items are spans, data points, log records or
/// profiles; bytes are encoded protobuf bytes).
#[derive(Debug, Default)]
pub struct QueueMetrics {
    pub(crate) size_items: AtomicU64,
    pub(crate) size_bytes: AtomicU64,
    pub(crate) capacity_items: AtomicU64,
    pub(crate) capacity_bytes: AtomicU64,
    pub(crate) enqueued_items: AtomicU64,
    pub(crate) enqueued_requests: AtomicU64,
    pub(crate) exported_items: AtomicU64,
    pub(crate) failed_items: AtomicU64,
    pub(crate) refused_items: AtomicU64,
    pub(crate) dropped_items: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) recovered_items: AtomicU64,
    pub(crate) torn_records: AtomicU64,
    pub(crate) torn_bytes: AtomicU64,
    pub(crate) corrupt_records: AtomicU64,
    pub(crate) disk_bytes: AtomicU64,
    pub(crate) storage_errors: AtomicU64,
}

/// A point-in-time copy of [`QueueMetrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueSnapshot {
    /// Items accepted and not yet settled (waiting, batched, in flight, retrying).
    pub size_items: u64,
    /// Encoded bytes of those items (in memory; see `disk_bytes` for the persistent queue).
    pub size_bytes: u64,
    /// The item capacity.
    pub capacity_items: u64,
    /// The byte capacity (memory, or disk with the persistent queue).
    pub capacity_bytes: u64,
    /// Items accepted (acknowledged to the producer), since start.
    pub enqueued_items: u64,
    /// Requests accepted, since start (after splitting oversize requests).
    pub enqueued_requests: u64,
    /// Items the exporter accepted.
    pub exported_items: u64,
    /// Accepted items that were not exported: permanent failures, partial-success
    /// rejections, retries given up, shutdown deadline.
    pub failed_items: u64,
    /// Items refused at enqueue with backpressure (`Full`, `Closed`, `TooLarge`, storage
    /// errors) — never accepted, handed back to the caller.
    pub refused_items: u64,
    /// Items dropped at enqueue by the opt-in [`OverflowPolicy::DropNewest`](crate::OverflowPolicy).
    pub dropped_items: u64,
    /// Export attempts that were retries.
    pub retries: u64,
    /// Items found on disk at open (persistent queue).
    pub recovered_items: u64,
    /// Torn records skipped at the tail of a segment at open (persistent queue).
    pub torn_records: u64,
    /// Bytes of those torn records.
    pub torn_bytes: u64,
    /// Records with a bad checksum or undecodable payload: skipped at open, or reported as
    /// failed when read for export (persistent queue).
    pub corrupt_records: u64,
    /// Bytes of the queue's segment files (persistent queue).
    pub disk_bytes: u64,
    /// Failed disk writes, reads or deletions (persistent queue).
    pub storage_errors: u64,
}

impl QueueMetrics {
    /// Reads every value.
    pub fn snapshot(&self) -> QueueSnapshot {
        QueueSnapshot {
            size_items: get(&self.size_items),
            size_bytes: get(&self.size_bytes),
            capacity_items: get(&self.capacity_items),
            capacity_bytes: get(&self.capacity_bytes),
            enqueued_items: get(&self.enqueued_items),
            enqueued_requests: get(&self.enqueued_requests),
            exported_items: get(&self.exported_items),
            failed_items: get(&self.failed_items),
            refused_items: get(&self.refused_items),
            dropped_items: get(&self.dropped_items),
            retries: get(&self.retries),
            recovered_items: get(&self.recovered_items),
            torn_records: get(&self.torn_records),
            torn_bytes: get(&self.torn_bytes),
            corrupt_records: get(&self.corrupt_records),
            disk_bytes: get(&self.disk_bytes),
            storage_errors: get(&self.storage_errors),
        }
    }

    pub(crate) fn set_size(&self, items: usize, bytes: usize) {
        self.size_items.store(items as u64, Ordering::Relaxed);
        self.size_bytes.store(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn add(&self, counter: fn(&QueueMetrics) -> &AtomicU64, value: u64) {
        add(counter(self), value);
    }
}

/// The batcher's histogram and trigger counters.
#[derive(Debug, Default)]
pub struct BatcherMetrics {
    pub(crate) batches: AtomicU64,
    pub(crate) batch_items_sum: AtomicU64,
    pub(crate) batch_bytes_sum: AtomicU64,
    pub(crate) buckets: [AtomicU64; BATCH_SIZE_BOUNDS.len() + 1],
    pub(crate) triggers: [AtomicU64; 4],
}

/// A point-in-time copy of [`BatcherMetrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatcherSnapshot {
    /// Batches formed.
    pub batches: u64,
    /// Sum of their items (with `batches`: the mean size).
    pub batch_items_sum: u64,
    /// Sum of their queued encoded bytes.
    pub batch_bytes_sum: u64,
    /// Batch counts per bucket of [`BATCH_SIZE_BOUNDS`], then one for larger batches
    /// (non-cumulative).
    pub size_buckets: Vec<u64>,
    /// Batches sent by the size trigger.
    pub size_triggered: u64,
    /// Batches sent by the timeout trigger.
    pub timeout_triggered: u64,
    /// Batches sent by a flush.
    pub flush_triggered: u64,
    /// Batches sent while shutting down.
    pub shutdown_triggered: u64,
}

impl BatcherSnapshot {
    /// Batches sent by `trigger`.
    pub fn triggered(&self, trigger: Trigger) -> u64 {
        match trigger {
            Trigger::Size => self.size_triggered,
            Trigger::Timeout => self.timeout_triggered,
            Trigger::Flush => self.flush_triggered,
            Trigger::Shutdown => self.shutdown_triggered,
        }
    }
}

impl BatcherMetrics {
    /// Reads every value.
    pub fn snapshot(&self) -> BatcherSnapshot {
        BatcherSnapshot {
            batches: get(&self.batches),
            batch_items_sum: get(&self.batch_items_sum),
            batch_bytes_sum: get(&self.batch_bytes_sum),
            size_buckets: self.buckets.iter().map(get).collect(),
            size_triggered: get(&self.triggers[0]),
            timeout_triggered: get(&self.triggers[1]),
            flush_triggered: get(&self.triggers[2]),
            shutdown_triggered: get(&self.triggers[3]),
        }
    }

    pub(crate) fn record(&self, items: usize, bytes: usize, trigger: Trigger) {
        add(&self.batches, 1);
        add(&self.batch_items_sum, items as u64);
        add(&self.batch_bytes_sum, bytes as u64);
        let bucket = BATCH_SIZE_BOUNDS
            .iter()
            .position(|&bound| items as u64 <= bound)
            .unwrap_or(BATCH_SIZE_BOUNDS.len());
        add(&self.buckets[bucket], 1);
        let index = match trigger {
            Trigger::Size => 0,
            Trigger::Timeout => 1,
            Trigger::Flush => 2,
            Trigger::Shutdown => 3,
        };
        add(&self.triggers[index], 1);
    }
}
