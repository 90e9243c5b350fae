//! The end-to-end benchmark's load generator: sends realistic telemetry to an OTLP receiver,
//! by `--signal`: spans ([`otlp_benches::payloads::traces_request`], the default), metric data
//! points ([`otlp_benches::payloads::metrics_request`]), log records
//! ([`otlp_benches::payloads::logs_request`]), or `mixed`: metrics and logs requests
//! alternately. An *item* is a span, a data point or a log record; `--batch` items go in each
//! request and `--rate` counts items per second.
//!
//! A pool of distinct requests is encoded once before the clock starts, then sent with
//! `OtlpExporter::export_encoded` (no per-request encoding; only compression, when asked, is
//! done per request by the exporter). Two modes:
//!
//! - open loop (`--rate N`, spans per second): every 5 ms a token bucket releases the requests
//!   due by then, each sent on its own task, at most `--concurrency` in flight (beyond that the
//!   generator waits, and the summary's `behind_schedule_requests` says how often);
//! - closed loop (`--rate 0`, maximum rate): `--concurrency` tasks each send back to back.
//!
//! Retries are off: a request is acknowledged (the receiver said success) or it failed. At the
//! end a JSON summary is printed on one line of standard output (`acked_items`: items the
//! receiver acknowledged, minus those a partial success rejected).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use otlp_benches::payloads::{logs_request, metrics_request, traces_request};
use otlp_transport::Signal;
use otlp_transport::client::{Compression, OtlpExporter, Protocol, RetryConfig};
use prost::Message;
use tokio::sync::Semaphore;

/// Command line of the load generator.
#[derive(Debug, Parser)]
#[command(about = "OTLP load generator for the end-to-end benchmark")]
struct Args {
    /// Receiver endpoint, e.g. `http://127.0.0.1:4317` (gRPC) or `http://127.0.0.1:4318` (HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4317")]
    endpoint: String,
    /// `grpc` or `http/protobuf`.
    #[arg(long, default_value = "grpc")]
    protocol: String,
    /// `none` or `gzip`.
    #[arg(long, default_value = "none")]
    compression: String,
    /// What to send: `traces`, `metrics`, `logs` or `mixed` (metrics and logs alternately).
    #[arg(long, default_value = "traces")]
    signal: String,
    /// Target items per second; 0 sends as fast as the receiver acknowledges (closed loop).
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Items (spans, data points or log records) per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Resources (services) per request.
    #[arg(long, default_value_t = 2)]
    resources: usize,
    /// Distinct pre-encoded requests cycled through.
    #[arg(long, default_value_t = 64)]
    pool: usize,
    /// How long to send, in seconds (fractions allowed).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Stats {
    sent_requests: AtomicU64,
    sent_items: AtomicU64,
    acked_requests: AtomicU64,
    acked_items: AtomicU64,
    rejected_items: AtomicU64,
    failed_requests: AtomicU64,
    failed_items: AtomicU64,
}

/// What `--signal` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    Traces,
    Metrics,
    Logs,
    /// Metrics and logs requests alternately.
    Mixed,
}

impl std::str::FromStr for Mix {
    type Err = String;
    fn from_str(value: &str) -> Result<Mix, String> {
        match value {
            "traces" => Ok(Mix::Traces),
            "metrics" => Ok(Mix::Metrics),
            "logs" => Ok(Mix::Logs),
            "mixed" => Ok(Mix::Mixed),
            other => Err(format!(
                "--signal {other:?}: expected traces, metrics, logs or mixed"
            )),
        }
    }
}

/// Pre-encoded requests, each with its signal; every request holds `items` items.
struct Pool {
    requests: Vec<(Signal, Bytes)>,
    items: u64,
}

impl Pool {
    fn build(mix: Mix, size: usize, resources: usize, items: usize) -> Pool {
        let resources = resources.clamp(1, items.max(1));
        let requests = (0..size.max(1))
            .map(|index| {
                let seed = 0x5eed_0000 + index as u64;
                let signal = match mix {
                    Mix::Traces => Signal::Traces,
                    Mix::Metrics => Signal::Metrics,
                    Mix::Logs => Signal::Logs,
                    Mix::Mixed if index % 2 == 0 => Signal::Metrics,
                    Mix::Mixed => Signal::Logs,
                };
                let body = match signal {
                    Signal::Metrics => metrics_request(seed, resources, items).encode_to_vec(),
                    Signal::Logs => logs_request(seed, resources, items).encode_to_vec(),
                    _ => traces_request(seed, resources, items).encode_to_vec(),
                };
                (signal, Bytes::from(body))
            })
            .collect();
        Pool {
            requests,
            items: items as u64,
        }
    }

    fn get(&self, index: u64) -> (Signal, Bytes) {
        self.requests[index as usize % self.requests.len()].clone()
    }
}

async fn send_one(
    exporter: &OtlpExporter,
    (signal, body): (Signal, Bytes),
    items: u64,
    stats: &Stats,
) {
    stats.sent_requests.fetch_add(1, Ordering::Relaxed);
    stats.sent_items.fetch_add(items, Ordering::Relaxed);
    match exporter.export_encoded(signal, body).await {
        Ok(outcome) => {
            let rejected = outcome.rejected_items().max(0) as u64;
            stats.acked_requests.fetch_add(1, Ordering::Relaxed);
            stats
                .acked_items
                .fetch_add(items.saturating_sub(rejected), Ordering::Relaxed);
            stats.rejected_items.fetch_add(rejected, Ordering::Relaxed);
        }
        Err(error) => {
            if stats.failed_requests.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("loadgen: export failed: {error}");
            }
            stats.failed_items.fetch_add(items, Ordering::Relaxed);
        }
    }
}

async fn run(
    args: &Args,
    exporter: OtlpExporter,
    pool: Arc<Pool>,
    stats: Arc<Stats>,
) -> (Duration, u64) {
    let duration = Duration::from_secs_f64(args.duration.max(0.0));
    let concurrency = args.concurrency.max(1);
    let start = Instant::now();
    let mut behind = 0u64;
    if args.rate == 0 {
        let next = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (exporter, pool, stats, next) =
                    (exporter.clone(), pool.clone(), stats.clone(), next.clone());
                tokio::spawn(async move {
                    while start.elapsed() < duration {
                        let request = pool.get(next.fetch_add(1, Ordering::Relaxed));
                        send_one(&exporter, request, pool.items, &stats).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    } else {
        let permits = Arc::new(Semaphore::new(concurrency));
        let per_request = pool.items as f64 / args.rate as f64;
        let mut issued = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let elapsed = start.elapsed().min(duration);
            let due = (elapsed.as_secs_f64() / per_request) as u64;
            while issued < due {
                let permit = match permits.clone().try_acquire_owned() {
                    Ok(permit) => permit,
                    Err(_) => {
                        behind += 1;
                        match permits.clone().acquire_owned().await {
                            Ok(permit) => permit,
                            Err(_) => break,
                        }
                    }
                };
                let request = pool.get(issued);
                let (exporter, stats, items) = (exporter.clone(), stats.clone(), pool.items);
                tokio::spawn(async move {
                    send_one(&exporter, request, items, &stats).await;
                    drop(permit);
                });
                issued += 1;
            }
            if elapsed >= duration {
                break;
            }
        }
        // Wait for the requests in flight.
        let _ = permits.acquire_many(concurrency as u32).await;
    }
    (start.elapsed(), behind)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let protocol: Protocol = args.protocol.parse()?;
    let compression: Compression = args.compression.parse()?;
    let mix: Mix = args.signal.parse()?;
    let pool = Arc::new(Pool::build(mix, args.pool, args.resources, args.batch));
    let pool_bytes: usize = pool.requests.iter().map(|(_, body)| body.len()).sum();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    let stats = Arc::new(Stats::default());
    let (elapsed, behind) = runtime.block_on(async {
        let exporter = OtlpExporter::builder()
            .protocol(protocol)
            .endpoint(args.endpoint.clone())
            .compression(compression)
            .insecure(true)
            .timeout(Duration::from_secs_f64(args.timeout.max(0.001)))
            .retry(RetryConfig::disabled())
            .build()?;
        Ok::<_, Box<dyn std::error::Error>>(run(&args, exporter, pool, stats.clone()).await)
    })?;
    let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    println!(
        "{{\"signal\":\"{}\",\"sent_requests\":{},\"sent_items\":{},\"acked_requests\":{},\
         \"acked_items\":{},\"rejected_items\":{},\"failed_requests\":{},\"failed_items\":{},\
         \"elapsed_s\":{:.3},\"behind_schedule_requests\":{},\"request_bytes_avg\":{}}}",
        args.signal,
        get(&stats.sent_requests),
        get(&stats.sent_items),
        get(&stats.acked_requests),
        get(&stats.acked_items),
        get(&stats.rejected_items),
        get(&stats.failed_requests),
        get(&stats.failed_items),
        elapsed.as_secs_f64(),
        behind,
        pool_bytes / args.pool.max(1),
    );
    Ok(())
}
