//! The persistent queue through the public API: what shutdown leaves on disk is exported
//! after reopening, settled records are removed, the disk capacity pushes back.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions
#![cfg(feature = "persistent")]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{Action, Scripted, deadline, fast_config, spans};
use otlp_batch::{
    BatchQueue, BatchQueueConfig, Delivery, DrainError, EnqueueError, FsyncPolicy,
    PersistentConfig, Signal, StorageConfig,
};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

type Queue = BatchQueue<ExportTraceServiceRequest>;

fn persistent(dir: &Path, fsync: FsyncPolicy) -> BatchQueueConfig {
    let mut config = fast_config();
    config.storage = StorageConfig::Persistent(PersistentConfig {
        directory: dir.join("queue"),
        max_bytes: 1 << 20,
        segment_size: 8192,
        fsync,
    });
    config
}

#[tokio::test]
async fn what_shutdown_leaves_on_disk_is_exported_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let config = persistent(dir.path(), FsyncPolicy::Never);
    let hanging = Arc::new(Scripted::with([Action::Hang, Action::Hang]));
    let queue = Queue::spawn(config.clone(), hanging.clone()).unwrap();
    let mut receipts = Vec::new();
    for id in 0..30 {
        receipts.push(
            queue
                .enqueue_tracked(spans([id], "cart"), deadline(5))
                .await
                .unwrap(),
        );
    }
    let error = queue
        .shutdown(std::time::Instant::now() + Duration::from_millis(100))
        .await
        .unwrap_err();
    let DrainError::DeadlineExceeded(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!((report.persisted_items, report.failed_items), (30, 0));
    for receipt in receipts {
        assert_eq!(receipt.wait().await, Delivery::Persisted);
    }
    drop(queue);

    let exporter = Arc::new(Scripted::default());
    let queue = Queue::spawn(config, exporter.clone()).unwrap();
    assert_eq!(queue.queue_metrics().snapshot().recovered_items, 30);
    let report = queue.shutdown(deadline(5)).await.unwrap();
    assert_eq!(report.exported_items, 30);
    let mut exported = exporter.exported();
    exported.sort_unstable();
    assert_eq!(exported, (0..30).collect::<Vec<_>>(), "each exactly once");
}

#[tokio::test]
async fn settled_records_are_removed_and_not_exported_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = persistent(dir.path(), FsyncPolicy::Always);
    let exporter = Arc::new(Scripted::with([
        Action::Permanent,
        Action::Retryable,
        Action::Partial(1),
    ]));
    let queue = Queue::spawn(config.clone(), exporter.clone()).unwrap();
    for chunk in 0..20u64 {
        queue
            .enqueue(spans(chunk * 5..chunk * 5 + 5, "cart"), deadline(5))
            .await
            .unwrap();
    }
    let error = queue.shutdown(deadline(5)).await.unwrap_err();
    let DrainError::Failed(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!(report.exported_items + report.failed_items, 100);
    drop(queue);

    let again = Arc::new(Scripted::default());
    let queue = Queue::spawn(config, again.clone()).unwrap();
    assert_eq!(queue.queue_metrics().snapshot().recovered_items, 0);
    queue.shutdown(deadline(5)).await.unwrap();
    assert!(again.exported().is_empty());
    let segments = std::fs::read_dir(dir.path().join("queue")).unwrap().count();
    assert!(
        segments <= 2,
        "settled segments are deleted ({segments} files left)"
    );
}

#[tokio::test]
async fn the_disk_capacity_pushes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = persistent(dir.path(), FsyncPolicy::Never);
    if let StorageConfig::Persistent(p) = &mut config.storage {
        p.max_bytes = 8192;
        p.segment_size = 4096;
    }
    let exporter = Arc::new(Scripted::with([Action::Hang, Action::Hang]));
    let queue = Queue::spawn(config, exporter).unwrap();
    let mut accepted = 0;
    loop {
        match queue.try_enqueue(spans(accepted * 10..accepted * 10 + 10, "cart")) {
            Ok(()) => accepted += 1,
            Err(EnqueueError::Full(_)) => break,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(accepted > 3);
    let metrics = queue.queue_metrics().snapshot();
    assert!(metrics.disk_bytes <= 8192, "{metrics:?}");
    assert_eq!(metrics.capacity_bytes, 8192);
}

#[test]
fn exactly_once_across_clean_restarts_with_the_blocking_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = persistent(dir.path(), FsyncPolicy::Every(Duration::from_millis(5)));
    config.queue.num_consumers = 3;
    let mut all = Vec::new();
    for round in 0..3u64 {
        let exporter = Arc::new(Scripted::with([
            Action::Retryable,
            Action::Ok,
            Action::Retryable,
        ]));
        let queue = Queue::spawn_dedicated(config.clone(), exporter.clone()).unwrap();
        for id in round * 100..round * 100 + 100 {
            queue
                .enqueue_blocking(spans([id], "cart"), deadline(5))
                .unwrap();
        }
        queue.shutdown_blocking(deadline(10)).unwrap();
        all.extend(exporter.exported());
    }
    assert_eq!(all.len(), 300);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 300);
}

#[test]
fn the_collector_queue_directory_name() {
    let dir = PersistentConfig::queue_directory(
        "/var/lib/otelcol/file_storage",
        "otlp/backend",
        Signal::Traces,
    );
    assert_eq!(
        dir,
        Path::new("/var/lib/otelcol/file_storage/exporter_otlp_backend_traces")
    );
}
