//! otlp-batch: enqueue throughput with one and two producer threads, spans per CPU-second
//! through batch → an in-process exporter, and the resource-key alternatives of merging.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_batch`.
//!
//! - `enqueue/{1,2}_producers`: single-span requests (one `clone` of a pre-built request per
//!   enqueue is included; `enqueue/clone_only` measures it alone) through `enqueue_blocking`
//!   into an in-memory queue drained by one consumer on the queue's own thread. Time is wall
//!   time until every producer's last enqueue returned; backpressure applies (the queue holds
//!   at most 262 144 items), so this is sustained, not burst, throughput.
//! - `pipeline/cpu`: 100 requests of 100 spans (4 resources each) enqueued, merged into
//!   batches (8192 spans, then the flushed rest) and handed to a no-op exporter, then flushed;
//!   the requests are cloned before the clock starts. The "time" criterion
//!   reports for this group is the **process CPU time** (sum of every thread's on-CPU time
//!   from `/proc/self/task/*/schedstat`), so its throughput reads as spans per CPU-second.
//!   `pipeline/wall` is the same run timed by the wall clock.
//! - `merge_key/*`: the cost of the resource-group key used by merging past eight groups
//!   (structural hash) against hashing the encoded resource.
//! - `forwarding/*`: the design hint, measured. From 40 received
//!   `ExportTraceServiceRequest`s of 100 spans (their protobuf bytes) to the bytes of one
//!   4000-span batch to send: `decode_merge_encode` is what the collector does today (prost
//!   decode, `merge_all`, encode); `concatenate` appends the received bytes (a request is one
//!   repeated field, so the concatenation is a valid encoding of the union: checked before
//!   timing); `scan_and_concatenate` adds the walk over field headers that counts the spans
//!   without building any object (`Encoded::count_items`, what the queue uses).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use otlp_batch::{
    BatchExporter, BatchQueue, BatchQueueConfig, Encoded, ExportFailure, PartialSuccess,
};
use otlp_benches::payloads::traces_request;
use otlp_model::views::TracesView;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

/// The in-process exporter: counts spans, drops the batch.
#[derive(Default)]
struct Sink(AtomicU64);

#[otlp_batch::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for Sink {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        self.0
            .fetch_add(batch.span_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

fn queue(consumers: usize) -> (BatchQueue<ExportTraceServiceRequest>, Arc<Sink>) {
    let sink = Arc::new(Sink::default());
    let mut config = BatchQueueConfig::default();
    config.queue.num_consumers = consumers;
    let queue = BatchQueue::spawn_dedicated(config, sink.clone())
        .unwrap_or_else(|e| panic!("starting the queue: {e}"));
    (queue, sink)
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

/// Every thread's on-CPU time so far, from `/proc/self/task/*/schedstat` (nanoseconds).
fn process_cpu() -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += stat
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(total)
}

fn enqueue(c: &mut Criterion) {
    let requests: Vec<ExportTraceServiceRequest> =
        (0..1024).map(|seed| traces_request(seed, 1, 1)).collect();
    let mut group = c.benchmark_group("enqueue");
    group.throughput(Throughput::Elements(1));
    group.bench_function("clone_only", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(requests[i % requests.len()].clone())
        })
    });
    for producers in [1usize, 2] {
        let (queue, _sink) = queue(1);
        let requests = Arc::new(requests.clone());
        group.bench_function(BenchmarkId::new("producers", producers), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(producers as u64);
                let start = Instant::now();
                let threads: Vec<_> = (0..producers)
                    .map(|t| {
                        let queue = queue.clone();
                        let requests = Arc::clone(&requests);
                        std::thread::spawn(move || {
                            for i in 0..per_thread as usize {
                                let request = requests[(i + t * 7) % requests.len()].clone();
                                if let Err(e) = queue.enqueue_blocking(request, far()) {
                                    panic!("enqueue: {e}");
                                }
                            }
                        })
                    })
                    .collect();
                for thread in threads {
                    thread.join().ok();
                }
                let elapsed = start.elapsed();
                queue.flush_blocking(far()).ok();
                // Scale back to exactly `iters` enqueues when they did not split evenly.
                elapsed.mul_f64(iters as f64 / (per_thread * producers as u64).max(1) as f64)
            })
        });
        queue.shutdown_blocking(far()).ok();
    }
    group.finish();
}

const SPANS_PER_REQUEST: usize = 100;
const REQUESTS_PER_ITER: usize = 100;

fn pipeline(c: &mut Criterion) {
    let requests: Vec<ExportTraceServiceRequest> = (0..REQUESTS_PER_ITER as u64)
        .map(|seed| traces_request(seed, 4, SPANS_PER_REQUEST))
        .collect();
    let (queue, sink) = queue(1);
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(20);
    group.throughput(Throughput::Elements(
        (SPANS_PER_REQUEST * REQUESTS_PER_ITER) as u64,
    ));
    // Each iteration clones its 100 requests first, untimed (a receiver would have decoded
    // them, an application built them), then enqueues them and flushes: the flush returns
    // once the consumer has merged, exported and dropped every batch, so the timed section
    // holds all of the queue's work for those spans and nothing else.
    let run = |iters: u64, clock: &dyn Fn() -> Duration| {
        let before = sink.0.load(Ordering::Relaxed);
        let mut spent = Duration::ZERO;
        for _ in 0..iters {
            let batch: Vec<ExportTraceServiceRequest> = requests.clone();
            let start = clock();
            for request in batch {
                if let Err(e) = queue.enqueue_blocking(request, far()) {
                    panic!("enqueue: {e}");
                }
            }
            queue
                .flush_blocking(far())
                .unwrap_or_else(|e| panic!("flush: {e}"));
            spent += clock().saturating_sub(start);
        }
        assert_eq!(
            sink.0.load(Ordering::Relaxed) - before,
            iters * (SPANS_PER_REQUEST * REQUESTS_PER_ITER) as u64
        );
        spent
    };
    let epoch = Instant::now();
    group.bench_function("cpu", |b| b.iter_custom(|iters| run(iters, &process_cpu)));
    group.bench_function("wall", |b| {
        b.iter_custom(|iters| run(iters, &|| epoch.elapsed()))
    });
    group.finish();
    queue.shutdown_blocking(far()).ok();
}

fn merge_key(c: &mut Criterion) {
    let request = traces_request(7, 4, 4);
    let group_of = &request.resource_spans[0];
    let mut scratch = Vec::new();
    let mut group = c.benchmark_group("merge_key");
    group.bench_function("structural_hash", |b| {
        b.iter(|| otlp_batch::resource_key_structural(black_box(group_of)))
    });
    group.bench_function("encoded_hash", |b| {
        b.iter(|| otlp_batch::resource_key_encoded(black_box(group_of), &mut scratch))
    });
    group.bench_function("structural_eq", |b| {
        let other = group_of.clone();
        b.iter(|| black_box(&group_of.resource) == black_box(&other.resource))
    });
    group.finish();
}

fn forwarding(c: &mut Criterion) {
    use prost::Message;
    const REQUESTS: usize = 40;
    let received: Vec<Vec<u8>> = (0..REQUESTS as u64)
        .map(|seed| traces_request(seed, 4, SPANS_PER_REQUEST).encode_to_vec())
        .collect();
    let total: usize = received.iter().map(Vec::len).sum();

    let decode_merge_encode = || {
        let requests: Vec<ExportTraceServiceRequest> = received
            .iter()
            .map(|bytes| {
                ExportTraceServiceRequest::decode(bytes.as_slice())
                    .unwrap_or_else(|e| panic!("decode: {e}"))
            })
            .collect();
        let merged = otlp_batch::merge_all(requests);
        merged
            .iter()
            .map(Message::encode_to_vec)
            .collect::<Vec<_>>()
    };
    let concatenate = || {
        let mut out = Vec::with_capacity(total);
        for bytes in &received {
            out.extend_from_slice(bytes);
        }
        out
    };
    let scan_and_concatenate = || {
        let mut spans = 0;
        let mut out = Vec::with_capacity(total);
        for bytes in &received {
            spans += Encoded::<ExportTraceServiceRequest>::count_items(bytes);
            out.extend_from_slice(bytes);
        }
        (spans, out)
    };

    // The shortcut must deliver the same spans as the full path.
    let concatenated = ExportTraceServiceRequest::decode(concatenate().as_slice())
        .unwrap_or_else(|e| panic!("{e}"));
    let merged: Vec<ExportTraceServiceRequest> = decode_merge_encode()
        .iter()
        .map(|bytes| {
            ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let spans_of = |requests: &[&ExportTraceServiceRequest]| {
        let mut ids: Vec<Vec<u8>> = requests
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .map(|span| span.span_id.clone())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        spans_of(&[&concatenated]),
        spans_of(&merged.iter().collect::<Vec<_>>())
    );
    assert_eq!(scan_and_concatenate().0, REQUESTS * SPANS_PER_REQUEST);

    let mut group = c.benchmark_group("forwarding");
    group.throughput(Throughput::Elements((REQUESTS * SPANS_PER_REQUEST) as u64));
    group.bench_function("decode_merge_encode", |b| {
        b.iter(|| black_box(decode_merge_encode()))
    });
    group.bench_function("concatenate", |b| b.iter(|| black_box(concatenate())));
    group.bench_function("scan_and_concatenate", |b| {
        b.iter(|| black_box(scan_and_concatenate()))
    });
    group.finish();
}

criterion_group!(benches, enqueue, pipeline, merge_key, forwarding);
criterion_main!(benches);
