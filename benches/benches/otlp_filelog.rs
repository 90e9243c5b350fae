//! otlp-receivers `filelog`: lines per second from a file on disk to the pipeline's first
//! consumer, through the receiver's whole path (finding the file, fingerprinting, reading
//! and splitting, building entries, the operators, building the OTLP request).
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_filelog -- --warm-up-time 1 --measurement-time 5`.
//!
//! Each iteration starts a receiver (`start_at: beginning`, `poll_interval: 1ms`) on a temp
//! file of 50 000 lines and waits until a counting consumer has every record, then stops it.
//! - `read/plain`: no operator (~100-byte lines).
//! - `read/json_parser`: JSON lines (~150 bytes, 6 keys) through `json_parser` with a
//!   `timestamp` (strptime) and a `severity` block.
//! - `read/regex_parser`: access-log style lines through `regex_parser` (5 named groups) with
//!   a gotime `timestamp`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::type_complexity,
    missing_docs
)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Host, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::ConsumeError;
use otlp_receivers::filelog::{FileLogConfig, FileLogReceiver};

const LINES: usize = 50_000;

#[derive(Default)]
struct Count(AtomicUsize);

#[async_trait]
impl Consumer for Count {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        self.0.fetch_add(data.item_count(), Ordering::Relaxed);
        Ok(())
    }
}

fn write_file(dir: &std::path::Path, line: impl Fn(usize) -> String) -> std::path::PathBuf {
    let path = dir.join("bench.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..LINES {
        writeln!(f, "{}", line(i)).unwrap();
    }
    f.flush().unwrap();
    path
}

fn run_once(rt: &tokio::runtime::Runtime, yaml: &str) -> Duration {
    rt.block_on(async {
        let config: FileLogConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let count = Arc::new(Count::default());
        let ctx = ReceiverContext::new(
            "filelog".parse().unwrap(),
            NextConsumers::new().with(Signal::Logs, Arc::clone(&count) as Arc<dyn Consumer>),
        );
        let receiver = FileLogReceiver::new(ctx, config).unwrap();
        let started = Instant::now();
        receiver.start(&Host::empty()).await.unwrap();
        while count.0.load(Ordering::Relaxed) < LINES {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let took = started.elapsed();
        receiver
            .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
        took
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(10);
    let cases: [(&str, Box<dyn Fn(usize) -> String>, &str); 3] = [
        (
            "plain",
            Box::new(|i| {
                format!(
                    "2024-01-02 03:04:05 INFO request {i} served in {}ms by worker-{} of the pool",
                    i % 97,
                    i % 8
                )
            }),
            "",
        ),
        (
            "json_parser",
            Box::new(|i| {
                format!(
                    r#"{{"time":"2024-01-02T03:04:05.{:03}Z","level":"info","msg":"request served","id":{i},"path":"/api/v1/items/{}","ms":{}}}"#,
                    i % 1000,
                    i % 500,
                    i % 97
                )
            }),
            "operators:\n  - type: json_parser\n    timestamp: {parse_from: attributes.time, layout: '%Y-%m-%dT%H:%M:%S.%LZ'}\n    severity: {parse_from: attributes.level}\n",
        ),
        (
            "regex_parser",
            Box::new(|i| {
                format!(
                    "10.0.{}.{} - - 2024-01-02T03:04:05.{:03}Z \"GET /api/v1/items/{i} HTTP/1.1\" 200 {}",
                    i % 255,
                    i % 7,
                    i % 1000,
                    i % 5000
                )
            }),
            "operators:\n  - type: regex_parser\n    regex: '^(?P<ip>\\S+) \\S+ \\S+ (?P<time>\\S+) \"(?P<method>\\w+) (?P<path>\\S+) [^\"]*\" (?P<status>\\d+) (?P<bytes>\\d+)$'\n    timestamp: {parse_from: attributes.time, layout_type: gotime, layout: '2006-01-02T15:04:05.000Z07:00'}\n",
        ),
    ];
    for (name, line, operators) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), line);
        let yaml = format!(
            "include: ['{}']\nstart_at: beginning\npoll_interval: 1ms\n{operators}",
            path.display()
        );
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run_once(&rt, &yaml)).sum())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
