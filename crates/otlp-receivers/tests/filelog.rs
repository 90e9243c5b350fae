//! The filelog receiver on real files: a writer appends while files are rotated (rename +
//! create), truncated and deleted, and every line arrives exactly once; restarts from the
//! checkpoint (stopped mid-stream, and with a consumer that refused everything) lose nothing
//! and repeat at most the batch in flight; refused batches are retried or dropped and counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod filelog_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use filelog_support::{Sink, append, start};

fn yaml(dir: &std::path::Path, extra: &str) -> String {
    format!(
        "include: ['{}/app.log']\nstart_at: beginning\npoll_interval: 20ms\n{extra}",
        dir.display()
    )
}

fn seq(range: std::ops::Range<usize>) -> Vec<String> {
    range
        .map(|i| format!("line {i:06} {}.", "x".repeat(i % 37)))
        .collect()
}

fn assert_exactly_once(sink: &Sink, n: usize) {
    let counts = sink.counts();
    let expected: std::collections::BTreeSet<String> = seq(0..n).into_iter().collect();
    let got: std::collections::BTreeSet<String> = counts.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).take(5).collect();
    assert!(missing.is_empty(), "missing lines, e.g. {missing:?}");
    let extra: Vec<_> = got.difference(&expected).take(5).collect();
    assert!(extra.is_empty(), "unexpected lines {extra:?}");
    let dup: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).take(5).collect();
    assert!(dup.is_empty(), "duplicates {dup:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_truncation_and_deletion_deliver_every_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let sink = Arc::new(Sink::default());
    let running = start(&yaml(dir.path(), ""), Arc::clone(&sink), None).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A writer thread: 3000 lines, rotating (rename, then create) every 400.
    let writer = {
        let path = path.clone();
        let dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            for chunk in 0..30 {
                let lines = seq(chunk * 100..chunk * 100 + 100);
                for l in lines {
                    append(&path, [l]);
                }
                if chunk % 4 == 3 {
                    std::fs::rename(&path, dir.join(format!("app.log.{chunk}"))).unwrap();
                }
                // Paced so that every file is seen before it is rotated away: a file renamed
                // before any poll found it is not under `include` and never read (as in Go).
                std::thread::sleep(Duration::from_millis(40));
            }
        })
    };
    // Joined off the runtime's threads, so the receiver's task keeps running meanwhile.
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    if !sink.wait_for(3000, Duration::from_secs(5)).await {
        let c = sink.counts();
        let firsts: Vec<_> = c.keys().take(3).collect();
        let lasts: Vec<_> = c.keys().rev().take(3).collect();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        panic!("got {} {firsts:?} {lasts:?} {files:?}", sink.count());
    }
    // Truncation: once everything was read, the file is cut to nothing and written again.
    std::fs::write(&path, "").unwrap();
    append(&path, seq(3000..3100));
    assert!(
        sink.wait_for(3100, Duration::from_secs(10)).await,
        "got {}",
        sink.count()
    );
    // Deleted while open: the rest is read through the handle the receiver holds.
    append(&path, seq(3100..3200));
    std::fs::remove_file(&path).unwrap();
    append(&path, seq(3200..3300));
    assert!(
        sink.wait_for(3300, Duration::from_secs(10)).await,
        "got {}",
        sink.count()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(running.stop(Duration::from_secs(5)).await);
    assert_exactly_once(&sink, 3300);
    assert_eq!(
        running.metric("otelcol_receiver_accepted_log_records_total"),
        3300.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_stream_resumes_from_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let storage = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    // Small entries and a slow consumer, so the stop lands mid-stream.
    let config = yaml(dir.path(), "storage: file_storage/fl\nmax_log_size: 1kb\n");
    append(&path, seq(0..20_000));
    let sink = Arc::new(Sink::default());
    *sink.delay.lock().unwrap() = Duration::from_millis(30);
    let first = start(&config, Arc::clone(&sink), Some(storage.path())).await;
    assert!(sink.wait_for(1, Duration::from_secs(10)).await);
    // Stopped with no time to finish: the batch in flight is abandoned.
    first.stop(Duration::ZERO).await;
    let before = sink.count();
    assert!(
        before < 20_000,
        "the stop should land mid-stream ({before})"
    );
    // More lines while it is down; start_at: end must not skip them (the checkpoint wins).
    append(&path, seq(20_000..21_000));
    *sink.delay.lock().unwrap() = Duration::ZERO;
    let config = config.replace("start_at: beginning", "start_at: end");
    let second = start(&config, Arc::clone(&sink), Some(storage.path())).await;
    assert!(
        sink.wait_for(21_000, Duration::from_secs(20)).await,
        "got {}",
        sink.count()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(second.stop(Duration::from_secs(5)).await);
    let counts = sink.counts();
    for l in seq(0..21_000) {
        assert!(counts.contains_key(&l), "{l} lost");
    }
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    assert!(
        duplicates <= sink.largest_batch(),
        "{duplicates} duplicates, more than one batch ({})",
        sink.largest_batch()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_checkpointed_while_the_pipeline_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let storage = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let config = yaml(
        dir.path(),
        "storage: file_storage/fl\nretry_on_failure: {enabled: true, initial_interval: 10ms, max_interval: 20ms}\n",
    );
    append(&path, seq(0..500));
    let refusing = Arc::new(Sink::default());
    refusing.refuse.store(true, Ordering::SeqCst);
    let first = start(&config, Arc::clone(&refusing), Some(storage.path())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(first.metric("otelcol_receiver_refused_log_records_total") >= 500.0);
    assert!(first.stop(Duration::from_secs(5)).await);
    assert_eq!(refusing.count(), 0);
    let checkpoint =
        std::fs::read_to_string(storage.path().join("filelog_filelog_test.json")).unwrap();
    assert!(checkpoint.contains("\"offset\":0"), "{checkpoint}");
    let sink = Arc::new(Sink::default());
    let second = start(&config, Arc::clone(&sink), Some(storage.path())).await;
    assert!(sink.wait_for(500, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(second.stop(Duration::from_secs(5)).await);
    assert_exactly_once(&sink, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_retried_or_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, seq(0..100));
    // Retried: three refusals, then accepted, each line once.
    let sink = Arc::new(Sink::default());
    sink.refuse_first.store(3, Ordering::SeqCst);
    let config = yaml(
        dir.path(),
        "retry_on_failure: {enabled: true, initial_interval: 5ms}\n",
    );
    let running = start(&config, Arc::clone(&sink), None).await;
    assert!(sink.wait_for(100, Duration::from_secs(10)).await);
    assert!(running.stop(Duration::from_secs(5)).await);
    assert_exactly_once(&sink, 100);
    assert_eq!(
        running.metric("otelcol_receiver_refused_log_records_total"),
        300.0
    );
    // Retries off: dropped, counted, and reading goes on.
    let sink = Arc::new(Sink::default());
    sink.refuse_first.store(1, Ordering::SeqCst);
    let running = start(&yaml(dir.path(), ""), Arc::clone(&sink), None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    append(&path, seq(100..150));
    assert!(sink.wait_for(50, Duration::from_secs(10)).await);
    assert!(running.stop(Duration::from_secs(5)).await);
    assert_eq!(
        running.metric("otelcol_filelog_receiver_dropped_log_records_total"),
        100.0
    );
    assert_eq!(sink.count(), 50);
    // A permanent refusal is not retried even with retries on.
    let sink = Arc::new(Sink::default());
    sink.refuse_first.store(1, Ordering::SeqCst);
    sink.permanent.store(true, Ordering::SeqCst);
    let running = start(&config, Arc::clone(&sink), None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(running.stop(Duration::from_secs(5)).await);
    assert_eq!(
        running.metric("otelcol_filelog_receiver_dropped_log_records_total"),
        150.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_end_skips_what_was_there_and_reads_new_files_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    append(&path, seq(0..10));
    let sink = Arc::new(Sink::default());
    let config = format!(
        "include: ['{}/*.log']\npoll_interval: 20ms\n",
        dir.path().display()
    );
    let running = start(&config, Arc::clone(&sink), None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    append(&path, seq(10..20));
    append(&dir.path().join("new.log"), seq(20..30));
    assert!(sink.wait_for(20, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(running.stop(Duration::from_secs(5)).await);
    let counts = sink.counts();
    assert_eq!(counts.len(), 20);
    assert!(seq(10..30).iter().all(|l| counts.get(l) == Some(&1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiline_and_utf16_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut bytes = Vec::new();
    for unit in "E1 first\n  at a\nE2 second\n".encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let sink = Arc::new(Sink::default());
    let config = yaml(
        dir.path(),
        "encoding: utf-16le\nforce_flush_period: 100ms\nmultiline: {line_start_pattern: '^E'}\n",
    );
    let running = start(&config, Arc::clone(&sink), None).await;
    assert!(sink.wait_for(2, Duration::from_secs(10)).await);
    assert!(running.stop(Duration::from_secs(5)).await);
    assert_eq!(
        *sink.bodies.lock().unwrap(),
        ["E1 first\n  at a", "E2 second"]
    );
}
