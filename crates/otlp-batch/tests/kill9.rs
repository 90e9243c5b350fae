//! `kill -9` in the middle of a load, then a restart: every item the child reported as
//! accepted is exported at least once, and duplicates stay inside the documented window.
//!
//! The test re-executes its own binary as the child (`child` below, which does nothing
//! unless `OTLP_BATCH_KILL9` is set). In `load` mode the child enqueues single-span requests
//! numbered 0, 1, 2, ... into a persistent queue and prints `ACK <id>` after each enqueue
//! returns; its exporter appends `L <id>` lines to `exported.log` and fails every seventh call
//! (retryable). The parent kills it with SIGKILL (`Child::kill`) after 3000 acknowledgements
//! and starts it again in `drain` mode, whose exporter appends `D <id>` lines, and which shuts
//! the queue down once it is empty.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions
#![cfg(all(unix, feature = "persistent"))]

mod common;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{deadline, ids, spans};
use otlp_batch::{
    BatchExporter, BatchQueue, BatchQueueConfig, ExportFailure, FsyncPolicy, PartialSuccess,
    PersistentConfig, StorageConfig,
};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

const MODE: &str = "OTLP_BATCH_KILL9";
const DIR: &str = "OTLP_BATCH_KILL9_DIR";
const CONSUMERS: usize = 2;
const MAX_BATCH: usize = 64;
const ACKS_BEFORE_KILL: usize = 3000;

fn config(dir: &Path) -> BatchQueueConfig {
    let mut config = BatchQueueConfig::default();
    config.batch.send_batch_size = 32;
    config.batch.send_batch_max_size = MAX_BATCH;
    config.batch.timeout = Duration::from_millis(5);
    config.queue.num_consumers = CONSUMERS;
    config.queue.capacity_items = 2048;
    config.retry.initial_interval = Duration::from_millis(1);
    config.retry.max_interval = Duration::from_millis(2);
    config.retry.max_elapsed_time = Duration::ZERO;
    config.storage = StorageConfig::Persistent(PersistentConfig {
        directory: dir.join("queue"),
        max_bytes: 64 << 20,
        segment_size: 64 << 10,
        fsync: FsyncPolicy::Never,
    });
    config
}

/// Appends the ids of each exported batch to a log, one `write(2)` per batch.
struct LogExporter {
    log: File,
    phase: char,
    calls: AtomicUsize,
    flaky: bool,
}

#[otlp_batch::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for LogExporter {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        if self.flaky && call % 7 == 3 {
            return Err(ExportFailure::retryable("flaky receiver"));
        }
        // A little latency so a backlog builds up on disk.
        tokio::time::sleep(Duration::from_micros(300)).await;
        let mut lines = String::new();
        for id in ids(batch) {
            lines.push_str(&format!("{} {id}\n", self.phase));
        }
        (&self.log)
            .write_all(lines.as_bytes())
            .map_err(ExportFailure::retryable)?;
        Ok(None)
    }
}

fn exporter(dir: &Path, phase: char, flaky: bool) -> Arc<LogExporter> {
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("exported.log"))
        .unwrap();
    // A line the previous process may have left half-written must not swallow ours.
    log.write_all(b"\n").unwrap();
    Arc::new(LogExporter {
        log,
        phase,
        calls: AtomicUsize::new(0),
        flaky,
    })
}

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let dir = PathBuf::from(std::env::var(DIR).unwrap());
    match mode.as_str() {
        "load" => {
            let queue =
                BatchQueue::spawn_dedicated(config(&dir), exporter(&dir, 'L', true)).unwrap();
            let mut out = std::io::stdout().lock();
            for id in 0u64.. {
                queue
                    .enqueue_blocking(spans([id], "load"), deadline(30))
                    .unwrap();
                writeln!(out, "ACK {id}").unwrap();
                out.flush().unwrap();
            }
        }
        "drain" => {
            let queue =
                BatchQueue::spawn_dedicated(config(&dir), exporter(&dir, 'D', false)).unwrap();
            let recovered = queue.queue_metrics().snapshot();
            let report = queue.shutdown_blocking(deadline(20)).unwrap();
            println!(
                "DRAINED recovered={} torn={} exported={}",
                recovered.recovered_items, recovered.torn_records, report.exported_items
            );
        }
        other => panic!("unknown mode {other}"),
    }
}

fn child_command(dir: &Path, mode: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child", "--nocapture", "--test-threads", "1"])
        .env(MODE, mode)
        .env(DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

#[test]
fn kill_9_mid_load_then_restart_exports_every_acknowledged_item() {
    let dir = tempfile::tempdir().unwrap();

    let mut load = child_command(dir.path(), "load").spawn().unwrap();
    let mut lines = BufReader::new(load.stdout.take().unwrap()).lines();
    let mut acknowledged = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        // libtest may print its "test child ... " prefix on the same line.
        if let Some((_, id)) = line.rsplit_once("ACK ") {
            acknowledged.push(id.parse::<u64>().unwrap());
            if acknowledged.len() == ACKS_BEFORE_KILL {
                break;
            }
        }
    }
    assert_eq!(
        acknowledged.len(),
        ACKS_BEFORE_KILL,
        "the child stopped early"
    );
    load.kill().unwrap(); // SIGKILL
    load.wait().unwrap();
    // Acknowledgements already in the pipe count too.
    for line in lines.map_while(Result::ok) {
        if let Some(id) = line
            .rsplit_once("ACK ")
            .and_then(|(_, id)| id.parse::<u64>().ok())
        {
            acknowledged.push(id);
        }
    }

    let drain = child_command(dir.path(), "drain").output().unwrap();
    let stdout = String::from_utf8_lossy(&drain.stdout);
    assert!(drain.status.success(), "drain failed: {stdout}");
    let summary = stdout
        .lines()
        .find_map(|l| l.split_once("DRAINED "))
        .map(|(_, s)| s.to_owned())
        .unwrap_or_default();

    let log = std::fs::read_to_string(dir.path().join("exported.log")).unwrap();
    let mut before: HashMap<u64, usize> = HashMap::new();
    let mut after: HashMap<u64, usize> = HashMap::new();
    for line in log.lines() {
        let mut fields = line.split(' ');
        let (Some(phase), Some(Ok(id)), None) = (
            fields.next(),
            fields.next().map(str::parse::<u64>),
            fields.next(),
        ) else {
            continue; // the blank separators, or a line cut by the kill
        };
        match phase {
            "L" => *before.entry(id).or_default() += 1,
            "D" => *after.entry(id).or_default() += 1,
            _ => {}
        }
    }

    let lost: Vec<u64> = acknowledged
        .iter()
        .copied()
        .filter(|id| !before.contains_key(id) && !after.contains_key(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but never exported: {lost:?}");
    assert!(
        before.values().all(|&n| n == 1),
        "duplicates while the process was alive"
    );
    assert!(
        after.values().all(|&n| n == 1),
        "duplicates within the drain"
    );
    let duplicates = after.keys().filter(|id| before.contains_key(id)).count();
    assert!(
        duplicates <= CONSUMERS * MAX_BATCH,
        "{duplicates} items exported both before the kill and after the restart; the window is {CONSUMERS} in-flight batches of at most {MAX_BATCH}"
    );
    assert!(
        !after.is_empty(),
        "the kill left nothing queued on disk; the test proves nothing ({summary})"
    );
    eprintln!(
        "kill -9: {} acknowledged, {} exported before the kill, {} after the restart, {duplicates} duplicates; {summary}",
        acknowledged.len(),
        before.len(),
        after.len()
    );
}
