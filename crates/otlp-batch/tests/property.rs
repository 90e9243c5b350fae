//! Property test: random schedules of enqueue, flush, export failures and retries, in memory
//! and on disk. Nothing accepted is lost, nothing is exported twice except through the
//! documented window (an attempt abandoned at `export_timeout` and retried), every settlement
//! is reported exactly once, and every flush covers everything enqueued before it.
//!
//! Time is tokio's paused clock, so backoffs and timeouts cost nothing and nothing sleeps.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{Action, Scripted, ids, spans};
use otlp_batch::{BatchQueue, Delivery, DrainError, EnqueueError, Receipt};
#[cfg(feature = "persistent")]
use otlp_batch::{FsyncPolicy, PersistentConfig};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Enqueue {
        spans: u64,
        service: u8,
        tracked: bool,
    },
    TryEnqueue {
        spans: u64,
    },
    Flush,
    Script(Action),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1..12u64, 0..3u8, any::<bool>()).prop_map(|(spans, service, tracked)| Op::Enqueue { spans, service, tracked }),
        2 => (1..12u64).prop_map(|spans| Op::TryEnqueue { spans }),
        2 => Just(Op::Flush),
        4 => prop_oneof![
            Just(Action::Retryable),
            Just(Action::Permanent),
            (0..4i64).prop_map(Action::Partial),
            Just(Action::ReceiveThenStall(Duration::from_secs(5))),
        ]
        .prop_map(Op::Script),
    ]
}

#[derive(Debug, Clone)]
struct Setup {
    batch_size: usize,
    max_extra: Option<usize>,
    timeout_ms: u64,
    consumers: usize,
    capacity: usize,
    give_up: bool,
    #[cfg_attr(not(feature = "persistent"), allow(dead_code))]
    persistent: bool,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        1..20usize,
        proptest::option::of(0..10usize),
        0..50u64,
        1..4usize,
        24..120usize,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(batch_size, max_extra, timeout_ms, consumers, capacity, give_up, persistent)| Setup {
                batch_size,
                max_extra,
                timeout_ms,
                consumers,
                capacity,
                give_up,
                persistent,
            },
        )
}

async fn run(setup: Setup, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let _dir = tempfile::tempdir().unwrap();
    let mut config = common::fast_config();
    config.batch.send_batch_size = setup.batch_size;
    config.batch.send_batch_max_size = setup.max_extra.map_or(0, |extra| setup.batch_size + extra);
    config.batch.timeout = Duration::from_millis(setup.timeout_ms);
    config.queue.num_consumers = setup.consumers;
    config.queue.capacity_items = setup.capacity;
    config.queue.export_timeout = Duration::from_secs(1);
    config.retry.initial_interval = Duration::from_millis(10);
    config.retry.max_interval = Duration::from_millis(100);
    config.retry.max_elapsed_time = if setup.give_up {
        Duration::from_millis(150)
    } else {
        Duration::ZERO
    };
    #[cfg(feature = "persistent")]
    if setup.persistent {
        config.storage = otlp_batch::StorageConfig::Persistent(PersistentConfig {
            directory: _dir.path().join("queue"),
            max_bytes: 1 << 20,
            segment_size: 4096,
            fsync: FsyncPolicy::Never,
        });
    }
    let exporter = Arc::new(Scripted::default());
    let queue: BatchQueue<ExportTraceServiceRequest> =
        BatchQueue::spawn(config, exporter.clone()).unwrap();

    let far = || std::time::Instant::now() + Duration::from_secs(3600);
    let mut next_id = 0u64;
    let mut accepted: Vec<u64> = Vec::new();
    let mut receipts: Vec<(Vec<u64>, Receipt)> = Vec::new();
    let (mut reported_exported, mut reported_failed) = (0u64, 0u64);
    let mut take = |result: Result<otlp_batch::Report, DrainError>| -> Result<(), TestCaseError> {
        let report = match result {
            Ok(report) | Err(DrainError::Failed(report)) => report,
            Err(other) => {
                return Err(TestCaseError::fail(format!(
                    "drain did not finish: {other:?}"
                )));
            }
        };
        prop_assert_eq!(report.outstanding_items, 0);
        reported_exported += report.exported_items;
        reported_failed += report.failed_items;
        Ok(())
    };

    for op in ops {
        match op {
            Op::Enqueue {
                spans: n,
                service,
                tracked,
            } => {
                let request_ids: Vec<u64> = (next_id..next_id + n).collect();
                next_id += n;
                let request = spans(request_ids.iter().copied(), &format!("svc{service}"));
                let short = std::time::Instant::now() + Duration::from_secs(2);
                let result = if tracked {
                    queue.enqueue_tracked(request, short).await.map(Some)
                } else {
                    queue.enqueue(request, short).await.map(|()| None)
                };
                match result {
                    Ok(receipt) => {
                        accepted.extend(&request_ids);
                        if let Some(receipt) = receipt {
                            receipts.push((request_ids, receipt));
                        }
                    }
                    Err(EnqueueError::Full(back)) => prop_assert_eq!(ids(&back), request_ids),
                    Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                }
            }
            Op::TryEnqueue { spans: n } => {
                let request_ids: Vec<u64> = (next_id..next_id + n).collect();
                next_id += n;
                match queue.try_enqueue(spans(request_ids.iter().copied(), "svc0")) {
                    Ok(()) => accepted.extend(&request_ids),
                    Err(EnqueueError::Full(back)) => prop_assert_eq!(ids(&back), request_ids),
                    Err(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                }
            }
            Op::Flush => {
                let before = accepted.len() as u64;
                take(queue.flush(far()).await)?;
                let metrics = queue.queue_metrics().snapshot();
                prop_assert!(
                    metrics.exported_items + metrics.failed_items >= before,
                    "flush returned before everything enqueued before it settled"
                );
            }
            Op::Script(action) => exporter.script.lock().unwrap().push_back(action),
        }
    }
    take(queue.shutdown(far()).await)?;

    let metrics = queue.queue_metrics().snapshot();
    let accepted_count = accepted.len() as u64;
    prop_assert_eq!(metrics.enqueued_items, accepted_count);
    prop_assert_eq!(
        metrics.exported_items + metrics.failed_items,
        accepted_count,
        "every item settled once"
    );
    prop_assert_eq!(
        reported_exported + reported_failed,
        accepted_count,
        "every settlement reported once"
    );
    prop_assert_eq!(metrics.size_items, 0);

    let exported = exporter.exported();
    let exported_set: HashSet<u64> = exported.iter().copied().collect();
    prop_assert_eq!(
        exported.len(),
        exported_set.len(),
        "an acknowledged export happened twice"
    );
    let accepted_set: HashSet<u64> = accepted.iter().copied().collect();
    prop_assert!(exported_set.is_subset(&accepted_set));
    prop_assert_eq!(
        exported.len() as u64,
        reported_exported + *exporter.rejected.lock().unwrap()
    );

    // Duplicates at the receiver only for attempts abandoned at export_timeout.
    let stalled: HashSet<u64> = exporter.stalled.lock().unwrap().iter().copied().collect();
    let mut seen = HashSet::new();
    for id in exporter.received() {
        if !seen.insert(id) {
            prop_assert!(
                stalled.contains(&id),
                "id {} received twice outside the timeout window",
                id
            );
        }
    }

    for (request_ids, receipt) in receipts {
        let delivery = receipt.try_get();
        prop_assert!(delivery.is_some(), "a receipt did not resolve");
        if let Some(Delivery::Exported { .. }) = delivery {
            prop_assert!(request_ids.iter().all(|id| exported_set.contains(id)));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn nothing_accepted_is_lost_or_duplicated(setup in setup(), ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        runtime.block_on(run(setup, ops))?;
    }
}
