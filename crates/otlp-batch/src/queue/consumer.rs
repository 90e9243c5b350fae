//! A consumer: takes a batch, merges it, exports it with retry, settles it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::batchable::{Batchable, merge_all};
use crate::exporter::{ExportFailure, FailureKind, NotExported};
use crate::queue::shared::{Batch, Payload, Settlement, Shared, Step};

/// The consumer task: runs until the queue is closed and drained, or cancelled.
pub(crate) async fn run<R: Batchable>(shared: Arc<Shared<R>>) {
    let mut cancel = shared.cancel.subscribe();
    let mut rng = Jitter::new(
        Arc::as_ptr(&shared) as usize as u64 ^ u64::from(shared.lock().consumers as u32),
    );
    loop {
        let notified = shared.work.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match shared.next_step() {
            Step::Exit => break,
            Step::Export(batch) => export_batch(&shared, batch, &mut cancel, &mut rng).await,
            Step::Wait(None) => {
                tokio::select! {
                    () = &mut notified => {}
                    _ = cancel.changed() => {}
                }
            }
            Step::Wait(Some(due)) => {
                tokio::select! {
                    () = &mut notified => {}
                    () = tokio::time::sleep_until(due) => {}
                    _ = cancel.changed() => {}
                }
            }
        }
    }
    shared.consumer_exited();
}

/// Waits until shutdown cancels; never returns otherwise.
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|cancelled| *cancelled).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn export_batch<R: Batchable>(
    shared: &Shared<R>,
    batch: Batch<R>,
    cancel: &mut watch::Receiver<bool>,
    rng: &mut Jitter,
) {
    let mut requests = Vec::with_capacity(batch.payloads.len());
    for (_seq, payload) in batch.payloads {
        match payload {
            Payload::Memory(request) => requests.push(request),
            #[cfg(feature = "persistent")]
            Payload::Disk(record) => {
                match record.read_payload().and_then(|bytes| {
                    R::decode(bytes.as_slice())
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                }) {
                    Ok(request) => requests.push(request),
                    Err(e) => {
                        tracing::error!(error = %e, "persistent queue: a record could not be read back; its items are reported as failed");
                        shared.fail_part(
                            batch.id,
                            _seq,
                            ExportFailure::permanent(format_args!(
                                "persistent queue record unreadable: {e}"
                            )),
                        );
                    }
                }
            }
        }
    }
    let requests = merge_all(requests);
    let mut settlement = Settlement::default();
    // Each request is moved into its export (and handed back for a retry), so it is freed
    // before the batch settles: once settled its room is offered to producers again, so the
    // memory must be gone by then.
    for request in requests {
        let items = request.item_count() as u64;
        match export_with_retry(shared, request, cancel, rng).await {
            None => return, // cancelled: shutdown settled the batch
            Some(Ok(None)) => settlement.exported += items,
            Some(Ok(Some(partial))) => {
                let rejected = (partial.rejected_items.max(0) as u64).min(items);
                settlement.exported += items - rejected;
                let previous = settlement.rejected.take().map_or(0, |(_, n)| n);
                settlement.rejected = Some((partial, previous + rejected));
            }
            Some(Err(failure)) => {
                let previous = settlement.failed.take().map_or(0, |(_, n)| n);
                settlement.failed = Some((failure, previous + items));
            }
        }
    }
    shared.settle(batch.id, settlement);
}

/// One request's export with the retry policy; `None` when shutdown cancelled it.
///
/// Without an `export_timeout` the request is moved into each attempt
/// ([`BatchExporter::export_owned`](crate::BatchExporter::export_owned)) and handed back for
/// the next; with one it is lent ([`export`](crate::BatchExporter::export)), because an
/// attempt abandoned at the timeout would take it along.
async fn export_with_retry<R: Batchable>(
    shared: &Shared<R>,
    mut request: R,
    cancel: &mut watch::Receiver<bool>,
    rng: &mut Jitter,
) -> Option<Result<Option<otlp_transport::PartialSuccess>, ExportFailure>> {
    let retry = &shared.config.retry;
    let export_timeout = shared.config.queue.export_timeout;
    let started = Instant::now();
    let mut interval = retry.initial_interval;
    loop {
        let result = if export_timeout.is_zero() {
            let attempt = shared.exporter.export_owned(request);
            let outcome = tokio::select! {
                outcome = attempt => outcome,
                () = cancelled(cancel) => return None,
            };
            match outcome {
                Ok(partial) => return Some(Ok(partial.filter(|p| !p.is_empty()))),
                Err(NotExported {
                    failure,
                    batch: Some(batch),
                }) => {
                    request = batch;
                    Err(failure)
                }
                Err(NotExported {
                    failure,
                    batch: None,
                }) if failure.is_retryable() => {
                    return Some(Err(ExportFailure::gave_up(
                        &failure,
                        "the exporter kept the batch it could not deliver, so it cannot be retried",
                    )));
                }
                Err(NotExported {
                    failure,
                    batch: None,
                }) => return Some(Err(failure)),
            }
        } else {
            let attempt = tokio::time::timeout(export_timeout, shared.exporter.export(&request));
            tokio::select! {
                result = attempt => result.unwrap_or_else(|_| Err(ExportFailure::new(
                    FailureKind::Timeout,
                    format_args!("no answer within export_timeout ({export_timeout:?})"),
                ))),
                () = cancelled(cancel) => return None,
            }
        };
        let failure = match result {
            Ok(partial) => return Some(Ok(partial.filter(|p| !p.is_empty()))),
            Err(failure) => failure,
        };
        if !failure.is_retryable() || !retry.enabled {
            return Some(Err(failure));
        }
        let delay = failure
            .retry_after()
            .unwrap_or_else(|| rng.jitter(interval, retry.randomization_factor));
        interval = Duration::from_secs_f64(
            (interval.as_secs_f64() * retry.multiplier).min(retry.max_interval.as_secs_f64()),
        );
        let elapsed = started.elapsed();
        if !retry.max_elapsed_time.is_zero() && elapsed + delay > retry.max_elapsed_time {
            return Some(Err(ExportFailure::gave_up(
                &failure,
                &format!(
                    "retries exhausted after {elapsed:?} (max_elapsed_time {:?})",
                    retry.max_elapsed_time
                ),
            )));
        }
        tracing::debug!(error = %failure, ?delay, "otlp-batch: export failed; retrying");
        shared.queue_metrics.add(|m| &m.retries, 1);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = cancelled(cancel) => return None,
        }
    }
}

/// A small xorshift generator for retry jitter (no global RNG, no dependency).
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new(seed: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        Self((seed ^ nanos ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `interval × (1 ± factor)`, uniformly.
    pub(crate) fn jitter(&mut self, interval: Duration, factor: f64) -> Duration {
        let scale = 1.0 + factor * (2.0 * self.next_unit() - 1.0);
        Duration::from_secs_f64((interval.as_secs_f64() * scale).max(0.0))
    }
}

#[cfg(feature = "persistent")]
/// The background fsync of `FsyncPolicy::Every`.
pub(crate) async fn sync_periodically<R: Batchable>(shared: Arc<Shared<R>>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        match shared.dirty_file() {
            Err(()) => break,
            Ok(None) => {}
            Ok(Some(file)) => {
                let synced = tokio::task::spawn_blocking(move || file.sync_data()).await;
                if !matches!(synced, Ok(Ok(()))) {
                    shared.queue_metrics.add(|m| &m.storage_errors, 1);
                }
            }
        }
    }
}
