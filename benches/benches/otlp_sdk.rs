//! otlp-sdk inside an application, side by side with opentelemetry-rust 0.33
//! (`opentelemetry` + `opentelemetry_sdk`, `opentelemetry-otlp`) and `tracing-opentelemetry`,
//! in one run (issue 11).
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_sdk -- --warm-up-time 1 --measurement-time 3`.
//!
//! Like is compared with like: both SDKs get the same resource (`service.name` only), the
//! same spans and records (static keys and values), and the same processors — the SDK's own
//! batch processor with the specification's defaults (queue 2048, batch 512, 5 s for spans and
//! 1 s for logs; both drop a new item when the queue is full) in front of an exporter that
//! discards what it is given (otlp-sdk: a `BatchExporter` returning `Ok(None)`;
//! opentelemetry_sdk: a `SpanExporter` / `LogExporter` returning `Ok(())`). The time measured is
//! the application thread's per span or record; the export threads run beside it on the
//! second core (otlp-sdk's also encodes each batch to protobuf there, opentelemetry_sdk's hands
//! its `SpanData` to the exporter unencoded). In a tight loop both queues fill, so both drop
//! spans; the counts are printed after each benchmark (`ended ... exported ...`).
//!
//! - `sdk/span/<case>/<sdk>`: one span, started and ended on the benchmark thread.
//!   `sampled_batch`: root span with 5 attributes given to the builder (2 str, 2 i64, 1 f64)
//!   under the default sampler (`parentbased_always_on`) and the batch processor;
//!   `sampled_noproc`: the same with no processor at all (the span API's own cost);
//!   `unsampled`: the same under `AlwaysOff` (the attributes still go to the builder, so the
//!   caller's `Vec` is built); `unsampled_set`: `AlwaysOff`, attributes set on the started span
//!   (a no-op for a non-recording span); `child_batch`: `sampled_batch` as the child of an
//!   attached parent span (the current-context lookup).
//!   Heap allocations per span on the benchmark thread (a counting global allocator over
//!   `System`, thread-local counts, so the export threads are not counted) are printed first:
//!   `allocations per span ...`.
//! - `sdk/tracing/<layer>`: `tracing::info_span!(target: "bench", "name", a = 1, b = "x")
//!   .in_scope(|| {})` (an explicit target: this binary's own, `otlp_sdk`, is one the bridge
//!   ignores) through a `tracing_subscriber::Registry` alone (`registry`), with
//!   tracing-opentelemetry's layer over opentelemetry_sdk (`tracing_opentelemetry`: its
//!   defaults, which add code location, thread and target attributes and busy/idle times;
//!   `tracing_opentelemetry_matched`: code location only, the attributes otlp-sdk's bridge
//!   records by default) and with otlp-sdk's bridge layer `otlp_sdk::bridge::OtlpLayer`
//!   (`otlp_sdk_bridge`, its defaults), each under `tracing::subscriber::with_default`, with
//!   the discarding batch exporters.
//! - `sdk/log/<sdk>`: one log record (severity number and text, a string body, 3 attributes)
//!   emitted inside an attached sampled span (so each SDK copies the trace context into it),
//!   batch log processor into a discarding exporter.
//! - `sdk/export` (not criterion: printed on stderr as `export ...`): 20 000 spans ended then
//!   `force_flush`, through otlp-sdk's batch processor and otlp-transport's gRPC exporter, and
//!   through opentelemetry_sdk's batch processor and opentelemetry-otlp's tonic exporter, into
//!   the same in-process otlp-transport receiver over loopback gRPC (no compression). The
//!   queues are 20 000 deep for both so that nothing is dropped (checked: the receiver must
//!   count every span). Each run reports wall time per span and CPU-seconds per million spans:
//!   the process's user+sys time (`getrusage(RUSAGE_SELF)`) minus the receiver's (its runtime's
//!   one worker thread, by `pthread_getcpuclockid`), i.e. the application side's whole
//!   pipeline: span API, processor, encoding, gRPC client. Runs alternate between the two, 5
//!   each after a warm-up; the medians are printed.
// The counting global allocator needs `unsafe impl GlobalAlloc` (it only forwards to `System`
// and bumps a thread-local counter), and CPU times come from libc calls; nothing else here is
// unsafe.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sdk::export::{BatchExporter, BatchSettings, ExportFailure, PartialSuccess};
use otlp_transport::ExportRequest;
use otlp_transport::server::{ExportHandler, Receiver, RequestContext};
use otlp_transport::{PartialSuccess as ServerPartial, Refusal};
use tracing_subscriber::layer::SubscriberExt as _;

// ---------------------------------------------------------------------------------------------
// Allocation counting.

struct Counting;

thread_local! {
    // Const-initialised, no destructor: safe to touch from inside the allocator.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments (so the caller's
// contract is `System`'s); the bookkeeping is a thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations per call of `f` on this thread (after one warm-up call).
fn allocations_per_call(n: u64, mut f: impl FnMut()) -> f64 {
    f();
    let before = allocations();
    for _ in 0..n {
        f();
    }
    (allocations() - before) as f64 / n as f64
}

// ---------------------------------------------------------------------------------------------
// Discarding exporters that count what they are given.

#[derive(Clone, Debug, Default)]
struct Discard(Arc<AtomicU64>);

impl Discard {
    fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[otlp_sdk::export::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for Discard {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        self.0
            .fetch_add(batch.item_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

#[otlp_sdk::export::async_trait]
impl BatchExporter<ExportLogsServiceRequest> for Discard {
    async fn export(
        &self,
        batch: &ExportLogsServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        self.0
            .fetch_add(batch.item_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl opentelemetry_sdk::logs::LogExporter for Discard {
    async fn export(
        &self,
        batch: opentelemetry_sdk::logs::LogBatch<'_>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0
            .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Providers.

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn ours_resource() -> otlp_sdk::Resource {
    otlp_sdk::Resource::new([otlp_sdk::KeyValue::new("service.name", "bench")])
}

fn theirs_resource() -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder_empty()
        .with_service_name("bench")
        .build()
}

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Batch,
    NoProcessor,
    Unsampled,
}

fn ours_provider(setup: Setup, exporter: &Discard) -> otlp_sdk::trace::TracerProvider {
    let builder = otlp_sdk::trace::TracerProvider::builder().with_resource(ours_resource());
    match setup {
        Setup::Batch => builder.with_batch_exporter(exporter.clone()),
        Setup::NoProcessor => builder,
        Setup::Unsampled => builder
            .with_sampler(otlp_sdk::trace::AlwaysOff)
            .with_batch_exporter(exporter.clone()),
    }
    .try_build()
    .expect("otlp-sdk tracer provider")
}

fn theirs_provider(
    setup: Setup,
    exporter: &Discard,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    let builder =
        opentelemetry_sdk::trace::SdkTracerProvider::builder().with_resource(theirs_resource());
    match setup {
        Setup::Batch => builder.with_batch_exporter(exporter.clone()),
        Setup::NoProcessor => builder,
        Setup::Unsampled => builder
            .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff)
            .with_batch_exporter(exporter.clone()),
    }
    .build()
}

// ---------------------------------------------------------------------------------------------
// One span, each SDK.

fn ours_span(tracer: &otlp_sdk::trace::Tracer) {
    use otlp_sdk::KeyValue;
    let mut span = tracer
        .span("GET /api/users/{id}")
        .attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/api/users/42"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("http.response.body.size", 1024_i64),
            KeyValue::new("server.duration_ratio", 0.25_f64),
        ])
        .start();
    span.end();
}

fn ours_span_set(tracer: &otlp_sdk::trace::Tracer) {
    use otlp_sdk::KeyValue;
    let mut span = tracer.start("GET /api/users/{id}");
    span.set_attribute(KeyValue::new("http.request.method", "GET"));
    span.set_attribute(KeyValue::new("url.path", "/api/users/42"));
    span.set_attribute(KeyValue::new("http.response.status_code", 200_i64));
    span.set_attribute(KeyValue::new("http.response.body.size", 1024_i64));
    span.set_attribute(KeyValue::new("server.duration_ratio", 0.25_f64));
    span.end();
}

fn theirs_span(tracer: &opentelemetry_sdk::trace::SdkTracer) {
    use opentelemetry::KeyValue;
    let mut span = tracer
        .span_builder("GET /api/users/{id}")
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/api/users/42"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("http.response.body.size", 1024_i64),
            KeyValue::new("server.duration_ratio", 0.25_f64),
        ])
        .start(tracer);
    span.end();
}

fn theirs_span_set(tracer: &opentelemetry_sdk::trace::SdkTracer) {
    use opentelemetry::KeyValue;
    let mut span = tracer.start("GET /api/users/{id}");
    span.set_attribute(KeyValue::new("http.request.method", "GET"));
    span.set_attribute(KeyValue::new("url.path", "/api/users/42"));
    span.set_attribute(KeyValue::new("http.response.status_code", 200_i64));
    span.set_attribute(KeyValue::new("http.response.body.size", 1024_i64));
    span.set_attribute(KeyValue::new("server.duration_ratio", 0.25_f64));
    span.end();
}

/// Runs `iters` calls of `f`, adding them to `ended`.
fn timed(iters: u64, ended: &AtomicU64, mut f: impl FnMut()) -> Duration {
    ended.fetch_add(iters, Ordering::Relaxed);
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

fn report(what: &str, ended: u64, exporter: &Discard) {
    if ended == 0 {
        return; // filtered out
    }
    let exported = exporter.count();
    eprintln!(
        "{what}: ended {ended}, exported {exported} ({:.1} % dropped by the full queue)",
        100.0 * ended.saturating_sub(exported) as f64 / ended.max(1) as f64
    );
}

fn span_allocations() {
    let none = Discard::default();
    let ours_on = ours_provider(Setup::NoProcessor, &none);
    let ours_off = ours_provider(Setup::Unsampled, &none);
    let theirs_on = theirs_provider(Setup::NoProcessor, &none);
    let theirs_off = theirs_provider(Setup::Unsampled, &none);
    let (t_ours_on, t_ours_off) = (ours_on.tracer("bench"), ours_off.tracer("bench"));
    let (t_theirs_on, t_theirs_off) = (theirs_on.tracer("bench"), theirs_off.tracer("bench"));
    const N: u64 = 10_000;
    let rows: [(&str, f64); 6] = [
        (
            "unsampled, attributes on the builder, otlp_sdk",
            allocations_per_call(N, || ours_span(&t_ours_off)),
        ),
        (
            "unsampled, attributes on the builder, opentelemetry_sdk",
            allocations_per_call(N, || theirs_span(&t_theirs_off)),
        ),
        (
            "unsampled, attributes set on the span, otlp_sdk",
            allocations_per_call(N, || ours_span_set(&t_ours_off)),
        ),
        (
            "unsampled, attributes set on the span, opentelemetry_sdk",
            allocations_per_call(N, || theirs_span_set(&t_theirs_off)),
        ),
        (
            "sampled, no processor, otlp_sdk",
            allocations_per_call(N, || ours_span(&t_ours_on)),
        ),
        (
            "sampled, no processor, opentelemetry_sdk",
            allocations_per_call(N, || theirs_span(&t_theirs_on)),
        ),
    ];
    for (what, n) in rows {
        eprintln!("allocations per span, {what}: {n:.2}");
    }
    let _ = (ours_off.shutdown(deadline()), theirs_off.shutdown());
}

fn span(c: &mut Criterion) {
    span_allocations();
    let mut group = c.benchmark_group("sdk/span");
    for (case, setup, child, set) in [
        ("sampled_batch", Setup::Batch, false, false),
        ("sampled_noproc", Setup::NoProcessor, false, false),
        ("unsampled", Setup::Unsampled, false, false),
        ("unsampled_set", Setup::Unsampled, false, true),
        ("child_batch", Setup::Batch, true, false),
    ] {
        {
            let exporter = Discard::default();
            let provider = ours_provider(setup, &exporter);
            let tracer = provider.tracer("bench");
            let parent = child.then(|| tracer.span("parent").root().start());
            let _guard = parent.as_ref().map(otlp_sdk::trace::Span::attach);
            let ended = AtomicU64::new(0);
            group.bench_function(BenchmarkId::new(case, "otlp_sdk"), |b| {
                b.iter_custom(|iters| {
                    timed(iters, &ended, || {
                        if set {
                            ours_span_set(black_box(&tracer));
                        } else {
                            ours_span(black_box(&tracer));
                        }
                    })
                })
            });
            drop(_guard);
            drop(parent);
            let _ = provider.force_flush(deadline());
            if setup == Setup::Batch {
                report(
                    &format!("sdk/span/{case}/otlp_sdk"),
                    ended.load(Ordering::Relaxed),
                    &exporter,
                );
                let stats = provider.processor_stats();
                eprintln!("  otlp-sdk processor stats: {stats:?}");
            }
            let _ = provider.shutdown(deadline());
        }
        {
            let exporter = Discard::default();
            let provider = theirs_provider(setup, &exporter);
            let tracer = provider.tracer("bench");
            let _guard = child.then(|| {
                let parent = tracer.span_builder("parent").start(&tracer);
                opentelemetry::Context::current_with_span(parent).attach()
            });
            let ended = AtomicU64::new(0);
            group.bench_function(BenchmarkId::new(case, "opentelemetry_sdk"), |b| {
                b.iter_custom(|iters| {
                    timed(iters, &ended, || {
                        if set {
                            theirs_span_set(black_box(&tracer));
                        } else {
                            theirs_span(black_box(&tracer));
                        }
                    })
                })
            });
            drop(_guard);
            let _ = provider.force_flush();
            if setup == Setup::Batch {
                report(
                    &format!("sdk/span/{case}/opentelemetry_sdk"),
                    ended.load(Ordering::Relaxed),
                    &exporter,
                );
            }
            let _ = provider.shutdown();
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// `tracing` spans.

/// The span, with an explicit target: the default would be this binary's name, `otlp_sdk`,
/// which otlp-sdk's bridge ignores (its own diagnostics' target).
fn tracing_span() {
    tracing::info_span!(target: "bench", "name", a = 1, b = "x").in_scope(|| {});
}

fn tracing_bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subscriber: impl tracing::Subscriber + Send + Sync + 'static,
) -> u64 {
    let ended = AtomicU64::new(0);
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| timed(iters, &ended, tracing_span))
        });
    });
    ended.load(Ordering::Relaxed)
}

fn tracing_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("sdk/tracing");
    tracing_bench(
        &mut group,
        "registry",
        tracing_subscriber::Registry::default(),
    );

    for (name, matched) in [
        ("tracing_opentelemetry", false),
        ("tracing_opentelemetry_matched", true),
    ] {
        let exporter = Discard::default();
        let provider = theirs_provider(Setup::Batch, &exporter);
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        // `matched`: the attributes otlp-sdk's bridge records by default (the fields and the
        // code location), no thread, target or busy/idle attributes.
        let layer = if matched {
            layer
                .with_threads(false)
                .with_target(false)
                .with_tracked_inactivity(false)
        } else {
            layer
        };
        let ended = tracing_bench(
            &mut group,
            name,
            tracing_subscriber::Registry::default().with(layer),
        );
        let _ = provider.force_flush();
        report(&format!("sdk/tracing/{name}"), ended, &exporter);
        let _ = provider.shutdown();
    }

    bridge::bench(&mut group);
    group.finish();
}

/// otlp-sdk's `tracing` bridge (its defaults: code location attributes on, events not
/// exported, no thread, target or busy/idle attributes).
mod bridge {
    use super::{Discard, Setup, deadline, ours_provider, report, tracing_bench};
    use tracing_subscriber::layer::SubscriberExt as _;

    pub(super) fn bench(
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ) {
        let exporter = Discard::default();
        let provider = ours_provider(Setup::Batch, &exporter);
        let layer = otlp_sdk::bridge::OtlpLayer::builder(provider.tracer("bench")).build();
        let ended = tracing_bench(
            group,
            "otlp_sdk_bridge",
            tracing_subscriber::Registry::default().with(layer),
        );
        let _ = provider.force_flush(deadline());
        report("sdk/tracing/otlp_sdk_bridge", ended, &exporter);
        let _ = provider.shutdown(deadline());
    }
}

// ---------------------------------------------------------------------------------------------
// Log records.

fn log(c: &mut Criterion) {
    let mut group = c.benchmark_group("sdk/log");
    {
        use otlp_sdk::KeyValue;
        use otlp_sdk::logs::{LogRecord, SeverityNumber};
        let none = Discard::default();
        let tracer_provider = ours_provider(Setup::NoProcessor, &none);
        let tracer = tracer_provider.tracer("bench");
        let exporter = Discard::default();
        let provider = otlp_sdk::logs::LoggerProvider::builder()
            .with_resource(ours_resource())
            .with_batch_exporter(exporter.clone())
            .try_build()
            .expect("otlp-sdk logger provider");
        let logger = provider.logger("bench");
        let span = tracer.start("request");
        let guard = span.attach();
        let ended = AtomicU64::new(0);
        group.bench_function("otlp_sdk", |b| {
            b.iter_custom(|iters| {
                timed(iters, &ended, || {
                    logger.emit(
                        LogRecord::new()
                            .with_severity(SeverityNumber::Info, "INFO")
                            .with_body("user logged in")
                            .with_attribute(KeyValue::new("user.id", 42_i64))
                            .with_attribute(KeyValue::new("http.request.method", "POST"))
                            .with_attribute(KeyValue::new("url.path", "/login")),
                    );
                })
            })
        });
        drop(guard);
        drop(span);
        let _ = provider.force_flush(deadline());
        report("sdk/log/otlp_sdk", ended.load(Ordering::Relaxed), &exporter);
        let _ = provider.shutdown(deadline());
    }
    {
        use opentelemetry::logs::Severity;
        let none = Discard::default();
        let tracer_provider = theirs_provider(Setup::NoProcessor, &none);
        let tracer = tracer_provider.tracer("bench");
        let exporter = Discard::default();
        let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
            .with_resource(theirs_resource())
            .with_batch_exporter(exporter.clone())
            .build();
        let logger = provider.logger("bench");
        let guard = opentelemetry::Context::current_with_span(tracer.start("request")).attach();
        let ended = AtomicU64::new(0);
        group.bench_function("opentelemetry_sdk", |b| {
            b.iter_custom(|iters| {
                timed(iters, &ended, || {
                    let mut record = logger.create_log_record();
                    record.set_severity_number(Severity::Info);
                    record.set_severity_text("INFO");
                    record.set_body("user logged in".into());
                    record.add_attribute("user.id", 42_i64);
                    record.add_attribute("http.request.method", "POST");
                    record.add_attribute("url.path", "/login");
                    logger.emit(record);
                })
            })
        });
        drop(guard);
        let _ = provider.force_flush();
        report(
            "sdk/log/opentelemetry_sdk",
            ended.load(Ordering::Relaxed),
            &exporter,
        );
        let _ = provider.shutdown();
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Export over loopback gRPC: CPU per span.

const EXPORT_SPANS: usize = 20_000;
const EXPORT_RUNS: usize = 5;

/// Counts the spans it receives.
#[derive(Clone, Default)]
struct Count(Arc<AtomicU64>);

#[otlp_batch::async_trait]
impl ExportHandler for Count {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<ServerPartial>, Refusal> {
        self.0
            .fetch_add(request.item_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

/// User + system CPU time of the whole process.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` writes into the zeroed struct we own; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time of the given threads (the receiver's runtime).
fn threads_cpu(threads: &Mutex<Vec<libc::pthread_t>>) -> Duration {
    let threads = threads.lock().unwrap_or_else(|e| e.into_inner());
    threads
        .iter()
        .map(|&thread| {
            // SAFETY: `thread` is a live thread of the receiver's runtime (which outlives every
            // call); both calls write only into locals we own.
            unsafe {
                let mut clock: libc::clockid_t = 0;
                if libc::pthread_getcpuclockid(thread, &mut clock) != 0 {
                    return Duration::ZERO;
                }
                let mut ts: libc::timespec = std::mem::zeroed();
                if libc::clock_gettime(clock, &mut ts) != 0 {
                    return Duration::ZERO;
                }
                Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
            }
        })
        .sum()
}

struct Run {
    wall_per_span: Duration,
    pipeline_cpu_per_million: f64,
    process_cpu_per_million: f64,
    receiver_cpu_per_million: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn export() {
    let receiver_threads = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&receiver_threads);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("receiver")
        .on_thread_start(move || {
            // SAFETY: `pthread_self` has no preconditions.
            let me = unsafe { libc::pthread_self() };
            record.lock().unwrap_or_else(|e| e.into_inner()).push(me);
        })
        .enable_all()
        .build()
        .expect("receiver runtime");
    let count = Count::default();
    let receiver = server
        .block_on(async {
            Receiver::new(count.clone())
                .grpc(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .start()
                .await
        })
        .expect("starting the receiver");
    let endpoint = format!(
        "http://{}",
        receiver.grpc_local_addr().expect("gRPC endpoint bound")
    );

    // otlp-sdk: batch processor -> otlp-transport's gRPC exporter (its own runtime thread).
    let settings = BatchSettings {
        max_queue_size: EXPORT_SPANS,
        ..BatchSettings::spans()
    };
    let exporter = otlp_transport::client::OtlpExporter::builder()
        .protocol(otlp_transport::client::Protocol::Grpc)
        .endpoint(endpoint.clone())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("otlp-transport exporter");
    let ours = otlp_sdk::trace::TracerProvider::builder()
        .with_resource(ours_resource())
        .with_batch_exporter_settings(exporter, settings)
        .try_build()
        .expect("otlp-sdk provider");
    let ours_tracer = ours.tracer("bench");

    // opentelemetry_sdk: batch processor -> opentelemetry-otlp's tonic exporter, which needs a
    // tokio runtime of the application's (one worker, like ours).
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime");
    let theirs = {
        use opentelemetry_otlp::WithExportConfig as _;
        let _enter = client.enter();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("opentelemetry-otlp exporter");
        let config = opentelemetry_sdk::trace::BatchConfigBuilder::default()
            .with_max_queue_size(EXPORT_SPANS)
            .build();
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_resource(theirs_resource())
            .with_span_processor(
                opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
                    .with_batch_config(config)
                    .build(),
            )
            .build()
    };
    let theirs_tracer = theirs.tracer("bench");

    let run = |ours_side: bool| -> Run {
        let received = count.0.load(Ordering::Relaxed);
        let (cpu0, rx0) = (process_cpu(), threads_cpu(&receiver_threads));
        let start = Instant::now();
        if ours_side {
            for _ in 0..EXPORT_SPANS {
                ours_span(&ours_tracer);
            }
            ours.force_flush(deadline()).expect("otlp-sdk flush");
        } else {
            for _ in 0..EXPORT_SPANS {
                theirs_span(&theirs_tracer);
            }
            theirs.force_flush().expect("opentelemetry_sdk flush");
        }
        // The receiver counts before it answers, so every span is counted by now.
        let wall = start.elapsed();
        let (cpu1, rx1) = (process_cpu(), threads_cpu(&receiver_threads));
        let got = count.0.load(Ordering::Relaxed) - received;
        assert_eq!(got, EXPORT_SPANS as u64, "spans lost (ours: {ours_side})");
        let per_million = |d: Duration| d.as_secs_f64() * 1e6 / EXPORT_SPANS as f64;
        let process = cpu1 - cpu0;
        let rx = rx1 - rx0;
        Run {
            wall_per_span: wall / EXPORT_SPANS as u32,
            pipeline_cpu_per_million: per_million(process.saturating_sub(rx)),
            process_cpu_per_million: per_million(process),
            receiver_cpu_per_million: per_million(rx),
        }
    };

    run(true);
    run(false);
    let (mut ours_runs, mut theirs_runs) = (Vec::new(), Vec::new());
    for _ in 0..EXPORT_RUNS {
        ours_runs.push(run(true));
        theirs_runs.push(run(false));
    }
    let mut pipeline = [0.0; 2];
    for (i, (name, runs)) in [
        ("otlp_sdk + otlp-transport gRPC", &ours_runs),
        ("opentelemetry_sdk + opentelemetry-otlp tonic", &theirs_runs),
    ]
    .into_iter()
    .enumerate()
    {
        for r in runs.iter() {
            eprintln!(
                "export run {name}: {:.2} µs/span wall, pipeline {:.2} CPU-s/M spans \
                 (process {:.2}, receiver {:.2})",
                r.wall_per_span.as_secs_f64() * 1e6,
                r.pipeline_cpu_per_million,
                r.process_cpu_per_million,
                r.receiver_cpu_per_million
            );
        }
        let m = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
        pipeline[i] = m(|r| r.pipeline_cpu_per_million);
        eprintln!(
            "export median {name}: {:.2} µs/span wall, pipeline {:.2} CPU-s/M spans \
             (process {:.2}, receiver {:.2}); {EXPORT_SPANS} spans per run, {EXPORT_RUNS} runs",
            m(|r| r.wall_per_span.as_secs_f64() * 1e6),
            pipeline[i],
            m(|r| r.process_cpu_per_million),
            m(|r| r.receiver_cpu_per_million)
        );
    }
    eprintln!(
        "export pipeline CPU ratio otlp_sdk / opentelemetry_sdk: {:.2}",
        pipeline[0] / pipeline[1]
    );

    let _ = ours.shutdown(deadline());
    {
        let _enter = client.enter();
        let _ = theirs.shutdown();
    }
    server.block_on(receiver.shutdown(Duration::from_secs(5)));
}

// ---------------------------------------------------------------------------------------------

/// Whether the export section runs: under `cargo bench` (`--bench`), unless a filter is given
/// that `sdk/export` does not match.
fn export_selected() -> bool {
    const TAKES_VALUE: [&str; 12] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--profile-time",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return false;
    }
    let mut filters = Vec::new();
    let mut skip = false;
    for arg in &args {
        if skip {
            skip = false;
        } else if TAKES_VALUE.contains(&arg.as_str()) {
            skip = true;
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    filters.is_empty() || filters.iter().any(|f| "sdk/export".contains(f))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    span(&mut c);
    tracing_group(&mut c);
    log(&mut c);
    if export_selected() {
        export();
    }
    c.final_summary();
}
