//! The end-to-end benchmark's load generator: sends realistic spans
//! ([`otlp_benches::payloads::traces_request`]) to an OTLP receiver.
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
//! end a JSON summary is printed on one line of standard output.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use otlp_benches::payloads::traces_request;
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
    /// Target spans per second; 0 sends as fast as the receiver acknowledges (closed loop).
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Spans per request.
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
    sent_spans: AtomicU64,
    acked_requests: AtomicU64,
    acked_spans: AtomicU64,
    rejected_spans: AtomicU64,
    failed_requests: AtomicU64,
    failed_spans: AtomicU64,
}

struct Pool {
    requests: Vec<Bytes>,
    spans: u64,
}

impl Pool {
    fn build(size: usize, resources: usize, spans: usize) -> Pool {
        let resources = resources.clamp(1, spans.max(1));
        let requests = (0..size.max(1))
            .map(|seed| {
                Bytes::from(
                    traces_request(0x5eed_0000 + seed as u64, resources, spans).encode_to_vec(),
                )
            })
            .collect();
        Pool {
            requests,
            spans: spans as u64,
        }
    }
}

async fn send_one(exporter: &OtlpExporter, body: Bytes, spans: u64, stats: &Stats) {
    stats.sent_requests.fetch_add(1, Ordering::Relaxed);
    stats.sent_spans.fetch_add(spans, Ordering::Relaxed);
    match exporter.export_encoded(Signal::Traces, body).await {
        Ok(outcome) => {
            let rejected = outcome.rejected_items().max(0) as u64;
            stats.acked_requests.fetch_add(1, Ordering::Relaxed);
            stats
                .acked_spans
                .fetch_add(spans.saturating_sub(rejected), Ordering::Relaxed);
            stats.rejected_spans.fetch_add(rejected, Ordering::Relaxed);
        }
        Err(error) => {
            if stats.failed_requests.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("loadgen: export failed: {error}");
            }
            stats.failed_spans.fetch_add(spans, Ordering::Relaxed);
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
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let body = pool.requests[i % pool.requests.len()].clone();
                        send_one(&exporter, body, pool.spans, &stats).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    } else {
        let permits = Arc::new(Semaphore::new(concurrency));
        let per_request = pool.spans as f64 / args.rate as f64;
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
                let body = pool.requests[issued as usize % pool.requests.len()].clone();
                let (exporter, stats, spans) = (exporter.clone(), stats.clone(), pool.spans);
                tokio::spawn(async move {
                    send_one(&exporter, body, spans, &stats).await;
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
    let pool = Arc::new(Pool::build(args.pool, args.resources, args.batch));
    let pool_bytes: usize = pool.requests.iter().map(Bytes::len).sum();
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
        "{{\"sent_requests\":{},\"sent_spans\":{},\"acked_requests\":{},\"acked_spans\":{},\
         \"rejected_spans\":{},\"failed_requests\":{},\"failed_spans\":{},\"elapsed_s\":{:.3},\
         \"behind_schedule_requests\":{},\"request_bytes_avg\":{}}}",
        get(&stats.sent_requests),
        get(&stats.sent_spans),
        get(&stats.acked_requests),
        get(&stats.acked_spans),
        get(&stats.rejected_spans),
        get(&stats.failed_requests),
        get(&stats.failed_spans),
        elapsed.as_secs_f64(),
        behind,
        pool_bytes / args.pool.max(1),
    );
    Ok(())
}
