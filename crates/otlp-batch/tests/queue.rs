//! Behaviour of the in-memory queue: triggers, merging, splitting, caps, backpressure,
//! failures reaching the caller, receipts, shutdown.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{Action, Scripted, deadline, fast_config, ids, spans};
use otlp_batch::{
    BatchQueue, BatchQueueConfig, BuildError, ConfigError, Delivery, DrainError, EnqueueError,
    FailureKind, OverflowPolicy, Trigger,
};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

type Queue = BatchQueue<ExportTraceServiceRequest>;

fn start(config: BatchQueueConfig, exporter: &Arc<Scripted>) -> Queue {
    BatchQueue::spawn(config, exporter.clone()).unwrap()
}

#[tokio::test]
async fn size_trigger_sends_full_batches_and_flush_sends_the_rest() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.batch.timeout = Duration::from_secs(3600);
    config.queue.num_consumers = 1;
    let queue = start(config, &exporter);
    let mut last = None;
    for id in 0..25 {
        let receipt = queue
            .enqueue_tracked(spans([id], "cart"), deadline(5))
            .await
            .unwrap();
        if id == 19 {
            last = Some(receipt);
        }
    }
    assert!(last.unwrap().wait().await.is_exported());
    assert_eq!(*exporter.batch_sizes.lock().unwrap(), vec![10, 10]);
    let report = queue.flush(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 25);
    assert_eq!(exporter.exported(), (0..25).collect::<Vec<_>>());
    let batches = queue.batcher_metrics().snapshot();
    assert_eq!(batches.triggered(Trigger::Size), 2);
    assert_eq!(batches.triggered(Trigger::Flush), 1);
    assert_eq!(batches.size_buckets.iter().sum::<u64>(), 3);
    assert_eq!(batches.batch_items_sum, 25);
}

#[tokio::test]
async fn timeout_trigger_sends_a_partial_batch() {
    let exporter = Arc::new(Scripted::default());
    let queue = start(fast_config(), &exporter);
    let receipt = queue
        .enqueue_tracked(spans([1, 2, 3], "cart"), deadline(5))
        .await
        .unwrap();
    assert_eq!(receipt.wait().await, Delivery::Exported { partial: None });
    assert_eq!(
        queue
            .batcher_metrics()
            .snapshot()
            .triggered(Trigger::Timeout),
        1
    );
    assert_eq!(exporter.exported(), vec![1, 2, 3]);
    queue.shutdown(deadline(5)).await.unwrap();
}

#[tokio::test]
async fn requests_with_equal_resource_and_scope_are_merged() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.queue.num_consumers = 1;
    let queue = start(config, &exporter);
    for id in 0..10 {
        queue
            .enqueue(
                spans([id], if id % 2 == 0 { "cart" } else { "ads" }),
                deadline(5),
            )
            .await
            .unwrap();
    }
    queue.flush(deadline(5)).await.unwrap();
    assert_eq!(*exporter.batch_sizes.lock().unwrap(), vec![10]);
    assert_eq!(
        *exporter.batch_resources.lock().unwrap(),
        vec![2],
        "one group per service"
    );
}

#[tokio::test]
async fn requests_over_the_item_cap_are_split() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.batch.send_batch_max_size = 10;
    config.queue.num_consumers = 1;
    let queue = start(config, &exporter);
    queue
        .enqueue(spans(0..35, "cart"), deadline(5))
        .await
        .unwrap();
    queue.flush(deadline(5)).await.unwrap();
    let sizes = exporter.batch_sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|&n| n <= 10), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 35);
    assert_eq!(exporter.exported(), (0..35).collect::<Vec<_>>());
    assert_eq!(queue.queue_metrics().snapshot().enqueued_requests, 4);
}

#[tokio::test]
async fn batches_stay_under_the_byte_cap() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.batch.send_batch_size = 1000;
    config.batch.send_batch_max_bytes = 600;
    let queue = start(config, &exporter);
    for chunk in 0..10u64 {
        queue
            .enqueue(spans(chunk * 7..chunk * 7 + 7, "cart"), deadline(5))
            .await
            .unwrap();
    }
    queue
        .enqueue(spans(1000..1100, "big"), deadline(5))
        .await
        .unwrap();
    queue.flush(deadline(5)).await.unwrap();
    let bytes = exporter.batch_bytes.lock().unwrap().clone();
    assert!(bytes.iter().all(|&b| b <= 600), "{bytes:?}");
    let mut exported = exporter.exported();
    exported.sort_unstable();
    let mut expected: Vec<u64> = (0..70).chain(1000..1100).collect();
    expected.sort_unstable();
    assert_eq!(exported, expected);
}

#[tokio::test]
async fn a_full_queue_pushes_back_and_hands_the_request_back() {
    let exporter = Arc::new(Scripted::with([Action::Hang]));
    let mut config = fast_config();
    config.queue.capacity_items = 5;
    config.queue.num_consumers = 1;
    let queue = start(config, &exporter);
    queue
        .enqueue(spans(0..5, "cart"), deadline(5))
        .await
        .unwrap();
    match queue.try_enqueue(spans([9], "cart")) {
        Err(EnqueueError::Full(request)) => assert_eq!(ids(&request), vec![9]),
        other => panic!("expected Full, got {other:?}"),
    }
    let started = std::time::Instant::now();
    let refused = queue
        .enqueue(
            spans([10, 11], "cart"),
            std::time::Instant::now() + Duration::from_millis(50),
        )
        .await;
    assert!(started.elapsed() >= Duration::from_millis(50));
    let error = refused.unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(ids(&error.into_request().unwrap()), vec![10, 11]);
    let metrics = queue.queue_metrics().snapshot();
    assert_eq!(
        (
            metrics.size_items,
            metrics.capacity_items,
            metrics.refused_items
        ),
        (5, 5, 3)
    );
    assert_eq!(metrics.dropped_items, 0);
    // The hanging export is abandoned at the deadline and reported.
    let error = queue
        .shutdown(std::time::Instant::now() + Duration::from_millis(50))
        .await
        .unwrap_err();
    let DrainError::DeadlineExceeded(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!(report.failed_items, 5);
    assert_eq!(report.failures[0].failure.kind(), FailureKind::GaveUp);
}

#[tokio::test]
async fn producers_wait_for_room_and_get_in() {
    let exporter = Arc::new(Scripted::with([
        Action::Retryable,
        Action::Retryable,
        Action::Retryable,
    ]));
    let mut config = fast_config();
    config.queue.capacity_items = 5;
    config.batch.send_batch_size = 5;
    let queue = start(config, &exporter);
    for id in 0..50 {
        queue
            .enqueue(spans([id], "cart"), deadline(10))
            .await
            .unwrap();
    }
    let report = queue.shutdown(deadline(10)).await.unwrap();
    assert_eq!(report.exported_items, 50);
    let mut exported = exporter.exported();
    exported.sort_unstable();
    assert_eq!(exported, (0..50).collect::<Vec<_>>());
    assert_eq!(queue.queue_metrics().snapshot().retries, 3);
}

#[tokio::test]
async fn dropping_is_opt_in_and_counted() {
    let exporter = Arc::new(Scripted::with([Action::Hang]));
    let mut config = fast_config();
    config.queue.capacity_items = 5;
    config.queue.overflow = OverflowPolicy::DropNewest;
    let queue = start(config, &exporter);
    queue
        .enqueue(spans(0..5, "cart"), deadline(5))
        .await
        .unwrap();
    let error = queue
        .enqueue(spans(5..8, "cart"), deadline(5))
        .await
        .unwrap_err();
    assert!(matches!(error, EnqueueError::Dropped { items: 3 }));
    assert!(error.into_request().is_none());
    assert_eq!(queue.queue_metrics().snapshot().dropped_items, 3);
}

#[tokio::test]
async fn a_request_larger_than_the_capacity_is_refused_for_good() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.queue.capacity_items = 5;
    let queue = start(config, &exporter);
    let error = queue
        .enqueue(spans(0..6, "cart"), deadline(5))
        .await
        .unwrap_err();
    assert!(!error.is_retryable());
    assert!(matches!(error, EnqueueError::TooLarge { items: 6, .. }));
}

#[tokio::test]
async fn permanent_failures_reach_the_flush_caller_once() {
    let exporter = Arc::new(Scripted::with([Action::Permanent]));
    let queue = start(fast_config(), &exporter);
    let receipt = queue
        .enqueue_tracked(spans(0..3, "cart"), deadline(5))
        .await
        .unwrap();
    let error = queue.flush(deadline(5)).await.unwrap_err();
    let DrainError::Failed(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!((report.exported_items, report.failed_items), (0, 3));
    assert_eq!(report.failures[0].failure.kind(), FailureKind::Permanent);
    assert!(
        matches!(receipt.wait().await, Delivery::Failed(f) if f.kind() == FailureKind::Permanent)
    );
    // Reported once: the next flush is clean.
    assert!(queue.flush(deadline(5)).await.unwrap().is_clean());
    let metrics = queue.queue_metrics().snapshot();
    assert_eq!((metrics.failed_items, metrics.exported_items), (3, 0));
}

#[tokio::test]
async fn retryable_failures_are_retried_until_success() {
    let exporter = Arc::new(Scripted::with([Action::Retryable, Action::Retryable]));
    let queue = start(fast_config(), &exporter);
    queue
        .enqueue(spans(0..10, "cart"), deadline(5))
        .await
        .unwrap();
    let report = queue.flush(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 10);
    assert_eq!(queue.queue_metrics().snapshot().retries, 2);
    assert_eq!(exporter.exported(), (0..10).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn retries_give_up_after_max_elapsed_time() {
    let exporter = Arc::new(Scripted::with(std::iter::repeat_n(Action::Retryable, 1000)));
    let mut config = fast_config();
    config.retry.initial_interval = Duration::from_secs(1);
    config.retry.max_interval = Duration::from_secs(4);
    config.retry.max_elapsed_time = Duration::from_secs(30);
    let queue = start(config, &exporter);
    queue
        .enqueue(spans(0..4, "cart"), deadline(5))
        .await
        .unwrap();
    let error = queue.flush(deadline(120)).await.unwrap_err();
    let DrainError::Failed(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!(report.failed_items, 4);
    assert_eq!(report.failures[0].failure.kind(), FailureKind::GaveUp);
    assert!(
        report.failures[0]
            .failure
            .message()
            .contains("retries exhausted")
    );
}

#[tokio::test]
async fn partial_success_counts_rejected_items_as_failed() {
    let exporter = Arc::new(Scripted::with([Action::Partial(2)]));
    let queue = start(fast_config(), &exporter);
    let receipt = queue
        .enqueue_tracked(spans(0..10, "cart"), deadline(5))
        .await
        .unwrap();
    let error = queue.flush(deadline(5)).await.unwrap_err();
    let report = error.report().unwrap();
    assert_eq!((report.exported_items, report.failed_items), (8, 2));
    assert!(
        matches!(receipt.wait().await, Delivery::Exported { partial: Some(p) } if p.rejected_items == 2)
    );
    assert_eq!(
        exporter.calls.lock().unwrap().to_owned(),
        1,
        "a partial success is not retried"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_attempt_is_retried_and_may_duplicate() {
    let exporter = Arc::new(Scripted::with([Action::ReceiveThenStall(
        Duration::from_secs(60),
    )]));
    let mut config = fast_config();
    config.queue.export_timeout = Duration::from_secs(1);
    let queue = start(config, &exporter);
    queue
        .enqueue(spans(0..3, "cart"), deadline(5))
        .await
        .unwrap();
    let report = queue.flush(deadline(30)).await.unwrap();
    assert_eq!(report.exported_items, 3);
    assert_eq!(exporter.exported(), vec![0, 1, 2], "acknowledged once");
    assert_eq!(
        exporter.received(),
        vec![0, 1, 2, 0, 1, 2],
        "the documented at-least-once window"
    );
}

#[tokio::test]
async fn enqueue_after_shutdown_is_refused_with_the_request() {
    let exporter = Arc::new(Scripted::default());
    let queue = start(fast_config(), &exporter);
    queue
        .enqueue(spans(0..3, "cart"), deadline(5))
        .await
        .unwrap();
    let report = queue.shutdown(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 3);
    match queue.enqueue(spans([7], "cart"), deadline(5)).await {
        Err(EnqueueError::Closed(request)) => assert_eq!(ids(&request), vec![7]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        queue.shutdown(deadline(5)).await.unwrap_err(),
        DrainError::Closed
    );
    assert_eq!(
        queue.flush(deadline(5)).await.unwrap_err(),
        DrainError::Closed
    );
    assert_eq!(queue.queue_metrics().snapshot().size_items, 0);
}

#[test]
fn late_enqueues_racing_shutdown_are_exported_or_refused_never_lost() {
    for round in 0..20 {
        let exporter = Arc::new(Scripted::default());
        let mut config = fast_config();
        config.batch.send_batch_size = 16;
        let queue: Queue = BatchQueue::spawn_dedicated(config, exporter.clone()).unwrap();
        let producers: Vec<_> = (0..4u64)
            .map(|thread| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    let mut accepted = Vec::new();
                    for n in 0.. {
                        let id = thread << 32 | n;
                        match queue.enqueue_blocking(spans([id], "cart"), deadline(5)) {
                            Ok(()) => accepted.push(id),
                            Err(EnqueueError::Closed(request)) => {
                                assert_eq!(ids(&request), vec![id]);
                                break;
                            }
                            Err(other) => panic!("{other:?}"),
                        }
                    }
                    accepted
                })
            })
            .collect();
        // Let the producers get going, then close under them.
        while queue.queue_metrics().snapshot().enqueued_items < 200 + round * 10 {
            std::thread::yield_now();
        }
        let report = queue.shutdown_blocking(deadline(10)).unwrap();
        let accepted: Vec<u64> = producers
            .into_iter()
            .flat_map(|p| p.join().unwrap())
            .collect();
        let exported = exporter.exported();
        assert_eq!(
            exported.len(),
            accepted.len(),
            "round {round}: no loss, no duplicate"
        );
        assert_eq!(
            exported.iter().collect::<HashSet<_>>(),
            accepted.iter().collect::<HashSet<_>>()
        );
        assert_eq!(report.exported_items as usize, accepted.len());
    }
}

#[test]
fn the_blocking_api_needs_no_runtime() {
    let exporter = Arc::new(Scripted::with([Action::Permanent]));
    let queue: Queue = BatchQueue::spawn_dedicated(fast_config(), exporter.clone()).unwrap();
    let failed = queue
        .enqueue_tracked_blocking(spans([1], "cart"), deadline(5))
        .unwrap();
    assert!(matches!(
        failed.wait_blocking(deadline(5)),
        Some(Delivery::Failed(_))
    ));
    let receipt = queue
        .enqueue_tracked_blocking(spans([2, 3], "cart"), deadline(5))
        .unwrap();
    assert_eq!(
        receipt.wait_blocking(deadline(5)),
        Some(Delivery::Exported { partial: None })
    );
    queue
        .enqueue_blocking(spans([4], "cart"), deadline(5))
        .unwrap();
    let flushed = queue.flush_blocking(deadline(5)).unwrap_err();
    // The permanent failure settled before this flush and is reported to it.
    assert_eq!(
        flushed.report().map(|r| (r.exported_items, r.failed_items)),
        Some((3, 1))
    );
    let report = queue.shutdown_blocking(deadline(5)).unwrap();
    assert!(report.is_clean());
    assert_eq!(exporter.exported(), vec![2, 3, 4]);
}

#[test]
fn spawn_outside_a_runtime_says_so() {
    let exporter = Arc::new(Scripted::default());
    let error = Queue::spawn(fast_config(), exporter).unwrap_err();
    assert!(matches!(error, BuildError::NoRuntime));
}

#[test]
fn invalid_configurations_are_refused() {
    let mut config = BatchQueueConfig::default();
    config.batch.send_batch_max_size = 10;
    assert_eq!(
        config.validate(),
        Err(ConfigError::MaxBelowBatchSize {
            size: 8192,
            max: 10
        })
    );
    let mut config = BatchQueueConfig::default();
    config.queue.num_consumers = 0;
    assert_eq!(config.validate(), Err(ConfigError::ZeroConsumers));
    let mut config = BatchQueueConfig::default();
    config.retry.multiplier = 0.5;
    assert!(matches!(config.validate(), Err(ConfigError::Retry(_))));
    assert_eq!(BatchQueueConfig::default().validate(), Ok(()));
}

#[tokio::test]
async fn empty_requests_are_accepted_and_discarded() {
    let exporter = Arc::new(Scripted::default());
    let queue = start(fast_config(), &exporter);
    let receipt = queue
        .enqueue_tracked(ExportTraceServiceRequest::default(), deadline(5))
        .await
        .unwrap();
    assert_eq!(
        receipt.try_get(),
        Some(Delivery::Exported { partial: None })
    );
    assert_eq!(queue.shutdown(deadline(5)).await.unwrap().exported_items, 0);
    assert_eq!(*exporter.calls.lock().unwrap(), 0);
}

#[tokio::test]
async fn export_waits_for_the_outcome() {
    let exporter = Arc::new(Scripted::default());
    let mut config = fast_config();
    config.batch.timeout = Duration::ZERO;
    let queue = start(config, &exporter);
    let delivery = queue
        .export(spans([5, 6], "cart"), deadline(5))
        .await
        .unwrap();
    assert!(delivery.is_exported());
    assert_eq!(exporter.exported(), vec![5, 6]);
}
