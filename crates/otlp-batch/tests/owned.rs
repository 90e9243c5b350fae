//! Exporters that take the batch by value (`BatchExporter::export_owned`): the queue moves
//! each batch into the attempt and gets it back for the retry, so it never keeps a copy; a
//! batch the exporter keeps after a retryable failure is settled as given up; with an
//! `export_timeout` the queue lends the batch instead.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{deadline, fast_config, spans};
use otlp_batch::{
    BatchExporter, BatchQueue, DrainError, ExportFailure, FailureKind, NotExported, PartialSuccess,
};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

/// Fails `fail` times, then accepts. Records where each attempt's batch lives in memory.
struct Taker {
    fail: Mutex<usize>,
    hand_back: bool,
    owned_calls: Mutex<Vec<usize>>,
    borrowed_calls: Mutex<usize>,
    accepted: Mutex<usize>,
}

impl Taker {
    fn new(fail: usize, hand_back: bool) -> Arc<Taker> {
        Arc::new(Taker {
            fail: Mutex::new(fail),
            hand_back,
            owned_calls: Mutex::new(Vec::new()),
            borrowed_calls: Mutex::new(0),
            accepted: Mutex::new(0),
        })
    }

    fn attempt(&self, batch: &ExportTraceServiceRequest) -> Result<(), ExportFailure> {
        let mut fail = self.fail.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err(ExportFailure::retryable("unavailable"));
        }
        *self.accepted.lock().unwrap() += otlp_batch::ExportRequest::item_count(batch);
        Ok(())
    }
}

#[otlp_batch::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for Taker {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        *self.borrowed_calls.lock().unwrap() += 1;
        self.attempt(batch).map(|()| None)
    }

    async fn export_owned(
        &self,
        batch: ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, NotExported<ExportTraceServiceRequest>> {
        self.owned_calls
            .lock()
            .unwrap()
            .push(batch.resource_spans.as_ptr() as usize);
        match self.attempt(&batch) {
            Ok(()) => Ok(None),
            Err(failure) => Err(NotExported {
                failure,
                batch: self.hand_back.then_some(batch),
            }),
        }
    }
}

fn untimed() -> otlp_batch::BatchQueueConfig {
    let mut config = fast_config();
    config.queue.export_timeout = Duration::ZERO;
    config
}

#[tokio::test]
async fn a_batch_handed_back_is_retried_without_a_copy() {
    let exporter = Taker::new(3, true);
    let queue = BatchQueue::spawn(untimed(), exporter.clone()).unwrap();
    queue
        .enqueue(spans(0..10, "cart"), deadline(5))
        .await
        .unwrap();
    let report = queue.flush(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 10);
    assert_eq!(*exporter.accepted.lock().unwrap(), 10);
    let calls = exporter.owned_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 4, "three refusals, then the export");
    assert!(
        calls.iter().all(|at| *at == calls[0]),
        "every attempt got the same allocation: {calls:?}"
    );
    assert_eq!(*exporter.borrowed_calls.lock().unwrap(), 0);
    assert_eq!(queue.queue_metrics().snapshot().retries, 3);
}

#[tokio::test]
async fn a_batch_kept_after_a_retryable_failure_is_given_up_not_lost_silently() {
    let exporter = Taker::new(1, false);
    let queue = BatchQueue::spawn(untimed(), exporter.clone()).unwrap();
    queue
        .enqueue(spans(0..4, "cart"), deadline(5))
        .await
        .unwrap();
    let DrainError::Failed(report) = queue.flush(deadline(5)).await.unwrap_err() else {
        panic!("expected a failure report")
    };
    assert_eq!(report.failed_items, 4);
    assert_eq!(report.failures[0].failure.kind(), FailureKind::GaveUp);
    assert!(
        report.failures[0]
            .failure
            .message()
            .contains("kept the batch"),
        "{}",
        report.failures[0].failure
    );
    assert_eq!(
        exporter.owned_calls.lock().unwrap().len(),
        1,
        "nothing left to retry"
    );
    assert_eq!(queue.queue_metrics().snapshot().failed_items, 4);
}

#[tokio::test]
async fn with_an_export_timeout_the_batch_is_lent() {
    let exporter = Taker::new(1, true);
    let mut config = fast_config();
    config.queue.export_timeout = Duration::from_secs(5);
    let queue = BatchQueue::spawn(config, exporter.clone()).unwrap();
    queue
        .enqueue(spans(0..6, "cart"), deadline(5))
        .await
        .unwrap();
    let report = queue.flush(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 6);
    assert_eq!(*exporter.borrowed_calls.lock().unwrap(), 2);
    assert!(exporter.owned_calls.lock().unwrap().is_empty());
}
