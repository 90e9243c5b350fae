//! Unit tests of the segment files: recovery, torn tails, acknowledgement and deletion.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::sync::Arc;

use otlp_transport::Signal;

use super::*;
use crate::config::{FsyncPolicy, PersistentConfig};
use crate::metrics::QueueMetrics;

fn config(dir: &Path) -> PersistentConfig {
    PersistentConfig {
        directory: dir.to_path_buf(),
        max_bytes: 1 << 20,
        segment_size: 4096,
        fsync: FsyncPolicy::Never,
    }
}

fn open(config: &PersistentConfig) -> (DiskQueue, Vec<Recovered>, u64, Arc<QueueMetrics>) {
    let metrics = Arc::new(QueueMetrics::default());
    let (queue, recovered, next) =
        DiskQueue::open(config, Signal::Traces, Arc::clone(&metrics)).unwrap();
    (queue, recovered, next, metrics)
}

fn payload(seq: u64) -> Vec<u8> {
    format!("payload-{seq:04}-{}", "x".repeat(100)).into_bytes()
}

fn append(queue: &mut DiskQueue, seqs: std::ops::Range<u64>) -> Vec<RecordRef> {
    let payloads: Vec<(u64, Vec<u8>)> = seqs.map(|seq| (seq, payload(seq))).collect();
    let batch: Vec<(u64, usize, &[u8])> = payloads
        .iter()
        .map(|(seq, p)| (*seq, 1, p.as_slice()))
        .collect();
    queue.append(&batch).unwrap()
}

fn seqs(recovered: &[Recovered]) -> Vec<u64> {
    recovered.iter().map(|r| r.seq).collect()
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

#[test]
fn records_survive_reopen_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, recovered, next, _) = open(&config);
    assert!(recovered.is_empty());
    assert_eq!(next, 1);
    let refs = append(&mut queue, 1..6);
    assert_eq!(refs[2].read_payload().unwrap(), payload(3));
    drop(queue);

    let (_queue, recovered, next, metrics) = open(&config);
    assert_eq!(seqs(&recovered), vec![1, 2, 3, 4, 5]);
    assert_eq!(next, 6);
    assert_eq!(recovered[4].record.read_payload().unwrap(), payload(5));
    assert_eq!(metrics.snapshot().recovered_items, 5);
}

#[test]
fn acknowledged_records_are_not_recovered_even_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, _) = open(&config);
    let refs = append(&mut queue, 1..8);
    queue.acknowledge(&[
        (2, refs[1].segment),
        (5, refs[4].segment),
        (6, refs[5].segment),
    ]);
    drop(queue);
    let (_queue, recovered, next, _) = open(&config);
    assert_eq!(seqs(&recovered), vec![1, 3, 4, 7]);
    assert_eq!(next, 8);
}

#[test]
fn a_torn_tail_is_skipped_counted_and_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, _) = open(&config);
    append(&mut queue, 1..4);
    drop(queue);
    // Cut the last record short, as a crash in the middle of write(2) would.
    let file = segment_files(dir.path()).pop().unwrap();
    let len = fs::metadata(&file).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 10)
        .unwrap();

    let (mut queue, recovered, next, metrics) = open(&config);
    assert_eq!(seqs(&recovered), vec![1, 2]);
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.torn_records, 1);
    assert_eq!(
        snapshot.torn_bytes,
        data_record_len(payload(3).len()) as u64 - 10
    );
    // Appends resume on a record boundary.
    append(&mut queue, next..next + 2);
    drop(queue);
    let (_queue, recovered, _, metrics) = open(&config);
    assert_eq!(seqs(&recovered), vec![1, 2, 3, 4]);
    assert_eq!(metrics.snapshot().torn_records, 0);
}

#[test]
fn garbage_after_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, _) = open(&config);
    append(&mut queue, 1..3);
    drop(queue);
    let file = segment_files(dir.path()).pop().unwrap();
    OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(&[0xAB; 37])
        .unwrap();
    let (_queue, recovered, _, metrics) = open(&config);
    assert_eq!(seqs(&recovered), vec![1, 2]);
    assert_eq!(
        (
            metrics.snapshot().torn_records,
            metrics.snapshot().torn_bytes
        ),
        (1, 37)
    );
}

#[test]
fn corruption_in_an_older_segment_is_counted_and_later_segments_survive() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, _) = open(&config);
    for seq in 1..80 {
        append(&mut queue, seq..seq + 1);
    }
    drop(queue);
    let files = segment_files(dir.path());
    assert!(files.len() >= 3, "rotation happened: {files:?}");
    // Flip a byte in the middle of the first segment.
    let mut bytes = fs::read(&files[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    fs::write(&files[0], bytes).unwrap();
    let (_queue, recovered, _, metrics) = open(&config);
    let recovered = seqs(&recovered);
    assert_eq!(metrics.snapshot().corrupt_records, 1);
    assert!(
        recovered.len() < 79 && recovered.len() > 40,
        "{}",
        recovered.len()
    );
    assert_eq!(recovered.last(), Some(&79));
}

#[test]
fn settled_segments_are_deleted_and_disk_usage_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, metrics) = open(&config);
    let mut refs = Vec::new();
    for seq in 1..100 {
        refs.extend(append(&mut queue, seq..seq + 1));
    }
    let full = metrics.snapshot().disk_bytes;
    assert!(segment_files(dir.path()).len() > 3);
    let settled: Vec<(u64, u64)> = (1..100)
        .zip(&refs)
        .map(|(seq, r)| (seq, r.segment))
        .collect();
    queue.acknowledge(&settled[..50]);
    assert!(metrics.snapshot().disk_bytes < full);
    queue.acknowledge(&settled[50..]);
    let files = segment_files(dir.path());
    assert_eq!(
        files.len(),
        1,
        "only a fresh active segment is left: {files:?}"
    );
    assert!(metrics.snapshot().disk_bytes < 64);
    drop(queue);
    let (_queue, recovered, next, _) = open(&config);
    assert!(recovered.is_empty());
    assert!(next >= 1);
}

#[test]
fn capacity_is_enforced_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.max_bytes = 8192;
    let (mut queue, _, _, _) = open(&config);
    let record = data_record_len(payload(1).len()) as u64;
    let mut seq = 1;
    while queue.fits(record) {
        append(&mut queue, seq..seq + 1);
        seq += 1;
    }
    assert!(seq > 10);
    assert!(queue.disk_bytes <= 8192);
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (_queue, _, _, _) = open(&config);
    let error = DiskQueue::open(&config, Signal::Traces, Arc::new(QueueMetrics::default()))
        .err()
        .unwrap();
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn a_directory_of_another_signal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (mut queue, _, _, _) = open(&config);
    append(&mut queue, 1..2);
    drop(queue);
    let error = DiskQueue::open(&config, Signal::Logs, Arc::new(QueueMetrics::default()))
        .err()
        .unwrap();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn fsync_always_writes_through() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.fsync = FsyncPolicy::Always;
    let (mut queue, _, _, _) = open(&config);
    let refs = append(&mut queue, 1..3);
    queue.acknowledge(&[(1, refs[0].segment)]);
    assert!(!queue.dirty);
    drop(queue);
    let (_queue, recovered, _, _) = open(&config);
    assert_eq!(seqs(&recovered), vec![2]);
}
