//! The state producers, consumers and drains share: admission, batch formation, settlement.
//!
//! One mutex guards it. Producers hold it to check `closed` and capacity and push (and, with
//! the persistent queue, append the record), so admission is atomic with shutdown closing the
//! queue: an enqueue either lands before the close and is drained, or sees `Closed`.
//! Consumers hold it to take a batch and to settle one; merging, decoding and exporting happen
//! outside it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::batchable::{Batchable, merge_all};
use crate::config::BatchQueueConfig;
use crate::exporter::{BatchExporter, ExportFailure, FailureKind};
use crate::metrics::{BatcherMetrics, QueueMetrics, Trigger};
use crate::queue::receipt::Completion;
use crate::report::{Delivery, EnqueueError, Report};

#[cfg(feature = "persistent")]
use crate::persistent::{DiskQueue, RecordRef, data_record_len};

/// A queued request's data.
pub(crate) enum Payload<R> {
    Memory(R),
    #[cfg(feature = "persistent")]
    Disk(RecordRef),
}

struct Entry<R> {
    seq: u64,
    items: usize,
    bytes: usize,
    at: Instant,
    payload: Payload<R>,
    receipt: Option<Arc<Completion>>,
}

/// A request's part inside a batch, as settlement needs it.
struct Part {
    seq: u64,
    #[cfg_attr(not(feature = "persistent"), allow(dead_code))]
    items: usize,
    receipt: Option<Arc<Completion>>,
    #[cfg(feature = "persistent")]
    segment: Option<u64>,
}

struct InFlight {
    min_seq: u64,
    items: usize,
    bytes: usize,
    parts: Vec<Part>,
}

/// A batch a consumer took: its id and the payloads to merge and export.
pub(crate) struct Batch<R> {
    pub(crate) id: u64,
    pub(crate) payloads: Vec<(u64, Payload<R>)>,
}

pub(crate) enum Step<R> {
    Export(Batch<R>),
    Wait(Option<Instant>),
    Exit,
}

/// How an export of a batch ended.
#[derive(Default)]
pub(crate) struct Settlement {
    /// Items the exporter accepted.
    pub(crate) exported: u64,
    /// A partial success and the items it rejected.
    pub(crate) rejected: Option<(otlp_transport::PartialSuccess, u64)>,
    /// An outright failure and the items it cost.
    pub(crate) failed: Option<(ExportFailure, u64)>,
}

impl Settlement {
    pub(crate) fn failed(failure: ExportFailure, items: u64) -> Self {
        Self {
            failed: Some((failure, items)),
            ..Self::default()
        }
    }
}

pub(crate) struct State<R> {
    closed: bool,
    cancelled: bool,
    next_seq: u64,
    seal_upto: u64,
    seal_trigger: Trigger,
    pending: VecDeque<Entry<R>>,
    pending_items: usize,
    inflight: HashMap<u64, InFlight>,
    next_batch: u64,
    used_items: usize,
    used_bytes: usize,
    pub(crate) blocking_waiters: usize,
    report: Report,
    pub(crate) consumers: usize,
    #[cfg(feature = "persistent")]
    disk: Option<DiskQueue>,
}

pub(crate) struct Shared<R: Batchable> {
    pub(crate) config: BatchQueueConfig,
    pub(crate) exporter: Arc<dyn BatchExporter<R>>,
    state: Mutex<State<R>>,
    /// Wakes idle consumers.
    pub(crate) work: Notify,
    /// Wakes async producers waiting for room and async drains waiting for settlement.
    pub(crate) changed: Notify,
    /// Wakes blocking producers and drains (same mutex as `state`).
    pub(crate) cond: Condvar,
    /// Set once when shutdown's deadline passes: consumers abandon what they hold.
    pub(crate) cancel: watch::Sender<bool>,
    pub(crate) queue_metrics: Arc<QueueMetrics>,
    pub(crate) batcher_metrics: Arc<BatcherMetrics>,
}

/// A request ready for admission: split under the batch caps, measured, and (persistent)
/// encoded.
pub(crate) struct Prepared<R> {
    parts: Vec<(R, usize, usize)>,
    items: usize,
    bytes: usize,
    #[cfg(feature = "persistent")]
    encoded: Vec<Vec<u8>>,
}

impl<R: Batchable> Prepared<R> {
    /// The request back, for an error.
    pub(crate) fn into_request(self) -> R {
        let mut merged = merge_all(self.parts.into_iter().map(|(part, _, _)| part).collect());
        let mut first = merged.drain(..1).next().unwrap_or_default();
        for rest in merged {
            // Profiles with different dictionaries cannot merge; they were one request, so
            // this cannot happen, but keep the data rather than lose it.
            if let Err(rest) = first.absorb(rest) {
                drop(rest);
            }
        }
        first
    }
}

/// What admission decided.
pub(crate) enum Admission {
    Accepted,
    Full,
    Closed,
    #[cfg(feature = "persistent")]
    Storage(std::io::Error),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<R: Batchable> Shared<R> {
    pub(crate) fn new(
        config: BatchQueueConfig,
        exporter: Arc<dyn BatchExporter<R>>,
    ) -> std::io::Result<Arc<Self>> {
        let queue_metrics = Arc::new(QueueMetrics::default());
        queue_metrics.capacity_items.store(
            config.queue.capacity_items as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        queue_metrics.capacity_bytes.store(
            config.queue.capacity_bytes as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        #[cfg_attr(not(feature = "persistent"), allow(unused_mut))]
        let mut state = State {
            closed: false,
            cancelled: false,
            next_seq: 1,
            seal_upto: 0,
            seal_trigger: Trigger::Flush,
            pending: VecDeque::new(),
            pending_items: 0,
            inflight: HashMap::new(),
            next_batch: 0,
            used_items: 0,
            used_bytes: 0,
            blocking_waiters: 0,
            report: Report::default(),
            consumers: 0,
            #[cfg(feature = "persistent")]
            disk: None,
        };
        #[cfg(feature = "persistent")]
        if let crate::config::StorageConfig::Persistent(persistent) = &config.storage {
            queue_metrics
                .capacity_bytes
                .store(persistent.max_bytes, std::sync::atomic::Ordering::Relaxed);
            let (disk, recovered, next_seq) =
                DiskQueue::open(persistent, R::SIGNAL, Arc::clone(&queue_metrics))?;
            let now = Instant::now();
            for record in recovered {
                state.pending_items += record.items;
                state.used_items += record.items;
                state.used_bytes += record.bytes;
                state.pending.push_back(Entry {
                    seq: record.seq,
                    items: record.items,
                    bytes: record.bytes,
                    at: now,
                    payload: Payload::Disk(record.record),
                    receipt: None,
                });
            }
            state.next_seq = next_seq;
            state.disk = Some(disk);
            queue_metrics.set_size(state.used_items, state.used_bytes);
        }
        let (cancel, _) = watch::channel(false);
        Ok(Arc::new(Self {
            config,
            exporter,
            state: Mutex::new(state),
            work: Notify::new(),
            changed: Notify::new(),
            cond: Condvar::new(),
            cancel,
            queue_metrics,
            batcher_metrics: Arc::new(BatcherMetrics::default()),
        }))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State<R>> {
        lock(&self.state)
    }

    // -----------------------------------------------------------------------------------------
    // Admission.

    /// Splits, measures and (persistent) encodes a request; `Ok(None)` for a request with no
    /// items (accepted and discarded).
    pub(crate) fn prepare(&self, request: R) -> Result<Option<Prepared<R>>, EnqueueError<R>> {
        let items = request.item_count();
        if items == 0 {
            return Ok(None);
        }
        let batch = &self.config.batch;
        let bytes = request.encoded_len();
        let parts: Vec<(R, usize, usize)> = if (batch.send_batch_max_size != 0
            && items > batch.send_batch_max_size)
            || (batch.send_batch_max_bytes != 0 && bytes > batch.send_batch_max_bytes)
        {
            request
                .split(batch.send_batch_max_size, batch.send_batch_max_bytes)
                .into_iter()
                .map(|part| {
                    let (items, bytes) = (part.item_count(), part.encoded_len());
                    (part, items, bytes)
                })
                .collect()
        } else {
            vec![(request, items, bytes)]
        };
        let bytes = parts.iter().map(|p| p.2).sum();
        #[cfg_attr(not(feature = "persistent"), allow(unused_mut))]
        let mut prepared = Prepared {
            parts,
            items,
            bytes,
            #[cfg(feature = "persistent")]
            encoded: Vec::new(),
        };
        #[cfg_attr(not(feature = "persistent"), allow(unused_mut))]
        let mut limit = self.config.queue.capacity_bytes as u64;
        #[cfg_attr(not(feature = "persistent"), allow(unused_mut))]
        let mut needed = bytes as u64;
        #[cfg(feature = "persistent")]
        if let crate::config::StorageConfig::Persistent(persistent) = &self.config.storage {
            prepared.encoded = prepared
                .parts
                .iter()
                .map(|(part, _, _)| part.encode_to_vec())
                .collect();
            needed = prepared
                .encoded
                .iter()
                .map(|e| data_record_len(e.len()) as u64)
                .sum();
            limit = persistent.max_bytes.saturating_sub(32);
        }
        if items > self.config.queue.capacity_items || needed > limit {
            self.queue_metrics.add(|m| &m.refused_items, items as u64);
            return Err(EnqueueError::TooLarge {
                items,
                bytes,
                request: prepared.into_request(),
            });
        }
        Ok(Some(prepared))
    }

    /// Tries to admit under the lock. On `Accepted`, `prepared` is consumed.
    pub(crate) fn try_admit(
        &self,
        state: &mut State<R>,
        prepared: &mut Option<Prepared<R>>,
        receipt: Option<&Arc<Completion>>,
    ) -> Admission {
        if state.closed {
            return Admission::Closed;
        }
        let Some(p) = prepared.as_ref() else {
            return Admission::Accepted;
        };
        if state.used_items + p.items > self.config.queue.capacity_items {
            return Admission::Full;
        }
        #[cfg(feature = "persistent")]
        let mut records: Option<Vec<RecordRef>> = None;
        #[cfg(feature = "persistent")]
        if let Some(disk) = state.disk.as_mut() {
            let needed: usize = p.encoded.iter().map(|e| data_record_len(e.len())).sum();
            if !disk.fits(needed as u64) {
                return Admission::Full;
            }
            let batch: Vec<(u64, usize, &[u8])> = p
                .encoded
                .iter()
                .zip(&p.parts)
                .enumerate()
                .map(|(i, (encoded, part))| (state.next_seq + i as u64, part.1, encoded.as_slice()))
                .collect();
            match disk.append(&batch) {
                Ok(refs) => records = Some(refs),
                Err(e) => return Admission::Storage(e),
            }
        }
        #[cfg(feature = "persistent")]
        let in_memory = records.is_none();
        #[cfg(not(feature = "persistent"))]
        let in_memory = true;
        if in_memory && state.used_bytes + p.bytes > self.config.queue.capacity_bytes {
            return Admission::Full;
        }

        let Some(p) = prepared.take() else {
            return Admission::Accepted;
        };
        let now = Instant::now();
        let was_empty = state.pending.is_empty();
        let before = state.pending_items;
        #[cfg(feature = "persistent")]
        let mut records = records.map(Vec::into_iter);
        for (part, items, bytes) in p.parts {
            #[cfg(feature = "persistent")]
            let payload = match records.as_mut().and_then(Iterator::next) {
                Some(record) => Payload::Disk(record),
                None => Payload::Memory(part),
            };
            #[cfg(not(feature = "persistent"))]
            let payload = Payload::Memory(part);
            state.pending.push_back(Entry {
                seq: state.next_seq,
                items,
                bytes,
                at: now,
                payload,
                receipt: receipt.cloned(),
            });
            state.next_seq += 1;
            state.pending_items += items;
            state.used_items += items;
            state.used_bytes += bytes;
            self.queue_metrics.add(|m| &m.enqueued_requests, 1);
        }
        self.queue_metrics
            .add(|m| &m.enqueued_items, p.items as u64);
        self.queue_metrics
            .set_size(state.used_items, state.used_bytes);
        let threshold = self.config.batch.send_batch_size;
        if was_empty
            || (before < threshold && state.pending_items >= threshold)
            || self.config.batch.timeout.is_zero()
        {
            self.work.notify_one();
        }
        Admission::Accepted
    }

    /// Counts and turns a refusal into the caller's error.
    pub(crate) fn refusal(&self, admission: Admission, prepared: Prepared<R>) -> EnqueueError<R> {
        let items = prepared.items;
        match admission {
            Admission::Full
                if self.config.queue.overflow == crate::config::OverflowPolicy::DropNewest =>
            {
                self.queue_metrics.add(|m| &m.dropped_items, items as u64);
                EnqueueError::Dropped { items }
            }
            Admission::Full | Admission::Accepted => {
                self.queue_metrics.add(|m| &m.refused_items, items as u64);
                EnqueueError::Full(prepared.into_request())
            }
            Admission::Closed => {
                self.queue_metrics.add(|m| &m.refused_items, items as u64);
                EnqueueError::Closed(prepared.into_request())
            }
            #[cfg(feature = "persistent")]
            Admission::Storage(error) => {
                self.queue_metrics.add(|m| &m.refused_items, items as u64);
                EnqueueError::Storage {
                    request: prepared.into_request(),
                    error: Arc::new(error),
                }
            }
        }
    }

    pub(crate) fn parts_of(prepared: &Prepared<R>) -> usize {
        prepared.parts.len()
    }

    // -----------------------------------------------------------------------------------------
    // Batch formation.

    /// What a consumer does next.
    pub(crate) fn next_step(&self) -> Step<R> {
        let mut state = self.lock();
        if state.cancelled {
            return Step::Exit;
        }
        let Some(front) = state.pending.front() else {
            return if state.closed {
                Step::Exit
            } else {
                Step::Wait(None)
            };
        };
        let batch = &self.config.batch;
        let now = Instant::now();
        let sealed = front.seq < state.seal_upto || state.closed;
        let full = state.pending_items >= batch.send_batch_size;
        let due = front.at + batch.timeout;
        if !(full || sealed || now >= due) {
            return Step::Wait(Some(due));
        }

        let (max_items, max_bytes) = (batch.send_batch_max_size, batch.send_batch_max_bytes);
        let mut items = 0usize;
        let mut bytes = 0usize;
        let mut payloads = Vec::new();
        let mut parts = Vec::new();
        while let Some(front) = state.pending.front() {
            if !parts.is_empty()
                && ((max_items != 0 && items + front.items > max_items)
                    || (max_bytes != 0 && bytes + front.bytes > max_bytes))
            {
                break;
            }
            let Some(entry) = state.pending.pop_front() else {
                break;
            };
            items += entry.items;
            bytes += entry.bytes;
            #[cfg(feature = "persistent")]
            let segment = match &entry.payload {
                Payload::Disk(record) => Some(record.segment),
                Payload::Memory(_) => None,
            };
            parts.push(Part {
                seq: entry.seq,
                items: entry.items,
                receipt: entry.receipt,
                #[cfg(feature = "persistent")]
                segment,
            });
            payloads.push((entry.seq, entry.payload));
            if items >= batch.send_batch_size {
                break;
            }
        }
        state.pending_items -= items;
        let trigger = if items >= batch.send_batch_size || (full && !sealed) {
            Trigger::Size
        } else if sealed {
            if state.closed {
                Trigger::Shutdown
            } else {
                state.seal_trigger
            }
        } else {
            Trigger::Timeout
        };
        let id = state.next_batch;
        state.next_batch += 1;
        let min_seq = parts.first().map_or(u64::MAX, |p| p.seq);
        state.inflight.insert(
            id,
            InFlight {
                min_seq,
                items,
                bytes,
                parts,
            },
        );
        if !state.pending.is_empty() {
            self.work.notify_one();
        }
        drop(state);
        self.batcher_metrics.record(items, bytes, trigger);
        Step::Export(Batch { id, payloads })
    }

    // -----------------------------------------------------------------------------------------
    // Settlement.

    /// Settles a batch: counts, reports, resolves receipts, acknowledges on disk, frees room.
    /// A batch already settled (by shutdown's deadline) is ignored.
    pub(crate) fn settle(&self, id: u64, settlement: Settlement) {
        let mut state = self.lock();
        let Some(batch) = state.inflight.remove(&id) else {
            return;
        };
        self.settle_locked(&mut state, batch, &settlement, true);
        self.wake(state);
    }

    /// Removes one part of an in-flight batch whose record could not be read back, as failed.
    #[cfg(feature = "persistent")]
    pub(crate) fn fail_part(&self, id: u64, seq: u64, failure: ExportFailure) {
        let mut state = self.lock();
        let Some(batch) = state.inflight.get_mut(&id) else {
            return;
        };
        let Some(index) = batch.parts.iter().position(|p| p.seq == seq) else {
            return;
        };
        let part = batch.parts.remove(index);
        batch.items -= part.items;
        batch.min_seq = batch.parts.iter().map(|p| p.seq).min().unwrap_or(u64::MAX);
        let single = InFlight {
            min_seq: part.seq,
            items: part.items,
            bytes: 0,
            parts: vec![part],
        };
        let items = single.items as u64;
        self.queue_metrics.add(|m| &m.corrupt_records, 1);
        self.settle_locked(
            &mut state,
            single,
            &Settlement::failed(failure, items),
            true,
        );
        self.wake(state);
    }

    fn settle_locked(
        &self,
        state: &mut State<R>,
        batch: InFlight,
        settlement: &Settlement,
        acknowledge: bool,
    ) {
        state.used_items -= batch.items;
        state.used_bytes = state.used_bytes.saturating_sub(batch.bytes);
        self.queue_metrics
            .set_size(state.used_items, state.used_bytes);
        state.report.add_exported(settlement.exported);
        self.queue_metrics
            .add(|m| &m.exported_items, settlement.exported);
        if let Some((partial, items)) = &settlement.rejected {
            let failure = ExportFailure::permanent(format_args!(
                "partial success: the receiver rejected {} items: {}",
                partial.rejected_items, partial.error_message
            ));
            state.report.add_failed(&failure, *items);
            self.queue_metrics.add(|m| &m.failed_items, *items);
        }
        if let Some((failure, items)) = &settlement.failed {
            state.report.add_failed(failure, *items);
            self.queue_metrics.add(|m| &m.failed_items, *items);
        }
        let delivery = match &settlement.failed {
            Some((failure, _)) => Delivery::Failed(failure.clone()),
            None => Delivery::Exported {
                partial: settlement.rejected.as_ref().map(|(p, _)| p.clone()),
            },
        };
        #[cfg(feature = "persistent")]
        let mut acknowledged: Vec<(u64, u64)> = Vec::new();
        for part in &batch.parts {
            if let Some(receipt) = &part.receipt {
                receipt.settle_part(&delivery);
            }
            #[cfg(feature = "persistent")]
            if let Some(segment) = part.segment {
                acknowledged.push((part.seq, segment));
            }
        }
        #[cfg(feature = "persistent")]
        if acknowledge && let Some(disk) = state.disk.as_mut() {
            disk.acknowledge(&acknowledged);
        }
        #[cfg(not(feature = "persistent"))]
        let _ = acknowledge;
    }

    /// Releases the lock and wakes producers waiting for room and drains waiting for
    /// settlement.
    pub(crate) fn wake(&self, state: MutexGuard<'_, State<R>>) {
        let blocking = state.blocking_waiters > 0;
        drop(state);
        self.changed.notify_waiters();
        if blocking {
            self.cond.notify_all();
        }
    }

    // -----------------------------------------------------------------------------------------
    // Flush and shutdown.

    /// Seals everything enqueued so far; returns the sequence number below which the drain
    /// waits, or `None` when the queue is closed.
    pub(crate) fn seal(&self, trigger: Trigger) -> Option<u64> {
        let mut state = self.lock();
        let closing = trigger == Trigger::Shutdown;
        if state.closed {
            return None;
        }
        if closing {
            state.closed = true;
        }
        let target = state.next_seq;
        state.seal_upto = state.seal_upto.max(target);
        state.seal_trigger = trigger;
        self.work.notify_waiters();
        // Producers blocked on a full queue must see `Closed`.
        self.wake(state);
        Some(target)
    }

    /// Marks the queue closed for a dropped last handle (no report, no deadline).
    pub(crate) fn close_quietly(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        state.seal_upto = state.next_seq;
        state.seal_trigger = Trigger::Shutdown;
        let outstanding = state.used_items;
        if outstanding > 0 {
            tracing::warn!(
                items = outstanding,
                "otlp-batch queue dropped without shutdown: draining in the background"
            );
        }
        self.work.notify_waiters();
        self.wake(state);
    }

    /// `true` when every request with a sequence number below `target` has settled.
    pub(crate) fn settled_below(state: &State<R>, target: u64) -> bool {
        state.pending.front().is_none_or(|e| e.seq >= target)
            && state.inflight.values().all(|b| b.min_seq >= target)
    }

    /// Items below `target` not yet settled.
    fn outstanding_below(state: &State<R>, target: u64) -> u64 {
        let pending: usize = state
            .pending
            .iter()
            .take_while(|e| e.seq < target)
            .map(|e| e.items)
            .sum();
        let inflight: usize = state
            .inflight
            .values()
            .filter(|b| b.min_seq < target)
            .map(|b| b.items)
            .sum();
        (pending + inflight) as u64
    }

    /// Takes the report accumulated since the previous one.
    pub(crate) fn take_report(&self, state: &mut State<R>) -> Report {
        std::mem::take(&mut state.report)
    }

    /// The report of a flush that ended (settled or deadline).
    pub(crate) fn finish_flush(&self, target: u64) -> Report {
        let mut state = self.lock();
        let outstanding = Self::outstanding_below(&state, target);
        #[cfg(feature = "persistent")]
        if let Some(disk) = state.disk.as_mut()
            && let Err(e) = disk.sync()
        {
            tracing::warn!(error = %e, "persistent queue: sync at flush failed");
            self.queue_metrics.add(|m| &m.storage_errors, 1);
        }
        let mut report = self.take_report(&mut state);
        report.outstanding_items = outstanding;
        report.finish()
    }

    /// Ends a shutdown: whatever has not settled is failed (memory) or left on disk
    /// (persistent), consumers are told to stop, the disk queue is closed.
    pub(crate) fn finish_shutdown(&self) -> (Report, bool) {
        let mut state = self.lock();
        let mut persisted = 0u64;
        let unsettled = !state.pending.is_empty() || !state.inflight.is_empty();
        if unsettled {
            state.cancelled = true;
            #[cfg(feature = "persistent")]
            let persistent = state.disk.is_some();
            #[cfg(not(feature = "persistent"))]
            let persistent = false;
            let queued = ExportFailure::new(
                FailureKind::GaveUp,
                "shutdown deadline passed while the batch was queued",
            );
            let in_flight = ExportFailure::new(
                FailureKind::GaveUp,
                "shutdown deadline passed while the batch was being exported (the receiver may have it)",
            );
            let pending: Vec<Entry<R>> = state.pending.drain(..).collect();
            state.pending_items = 0;
            let mut batches: Vec<(InFlight, &ExportFailure)> = pending
                .into_iter()
                .map(|e| {
                    (
                        InFlight {
                            min_seq: e.seq,
                            items: e.items,
                            bytes: e.bytes,
                            parts: vec![Part {
                                seq: e.seq,
                                items: e.items,
                                receipt: e.receipt,
                                #[cfg(feature = "persistent")]
                                segment: None,
                            }],
                        },
                        &queued,
                    )
                })
                .collect();
            batches.extend(state.inflight.drain().map(|(_, b)| (b, &in_flight)));
            for (batch, failure) in batches {
                if persistent {
                    persisted += batch.items as u64;
                    state.used_items -= batch.items;
                    state.used_bytes = state.used_bytes.saturating_sub(batch.bytes);
                    for part in &batch.parts {
                        if let Some(receipt) = &part.receipt {
                            receipt.settle_part(&Delivery::Persisted);
                        }
                    }
                } else {
                    let items = batch.items as u64;
                    self.settle_locked(
                        &mut state,
                        batch,
                        &Settlement::failed(failure.clone(), items),
                        false,
                    );
                }
            }
            self.queue_metrics
                .set_size(state.used_items, state.used_bytes);
        }
        // Release the files and the directory lock now: a new queue may open the directory as
        // soon as shutdown returns, even while an abandoned export is still unwinding.
        #[cfg(feature = "persistent")]
        if let Some(mut disk) = state.disk.take() {
            disk.close();
        }
        let mut report = self.take_report(&mut state);
        report.persisted_items = persisted;
        if unsettled {
            self.cancel.send_replace(true);
        }
        self.work.notify_waiters();
        self.wake(state);
        (report.finish(), unsettled)
    }

    /// Whether the persistent queue's background sync has work; returns the file to sync.
    #[cfg(feature = "persistent")]
    pub(crate) fn dirty_file(&self) -> Result<Option<Arc<std::fs::File>>, ()> {
        let mut state = self.lock();
        if (state.closed && state.pending.is_empty() && state.inflight.is_empty())
            || state.cancelled
        {
            return Err(());
        }
        Ok(state.disk.as_mut().and_then(DiskQueue::take_dirty))
    }

    pub(crate) fn consumer_started(&self) {
        self.lock().consumers += 1;
    }

    pub(crate) fn consumer_exited(&self) {
        let mut state = self.lock();
        state.consumers -= 1;
        self.wake(state);
    }

    /// `true` once nothing is queued or in flight.
    pub(crate) fn idle(state: &State<R>) -> bool {
        state.pending.is_empty() && state.inflight.is_empty()
    }
}
