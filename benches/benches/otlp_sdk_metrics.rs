//! otlp-sdk's metrics SDK side by side with opentelemetry-rust 0.33 (`opentelemetry` +
//! `opentelemetry_sdk`), in one run (issue 12).
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_sdk_metrics -- --warm-up-time 1
//! --measurement-time 3`.
//!
//! Like is compared with like: each benchmark builds one provider per SDK with one manual,
//! cumulative reader (otlp-sdk: `ManualReader::default()`; opentelemetry_sdk: its
//! `ManualReader`, behind the `experimental_metrics_custom_reader` feature, shared with the
//! provider through a forwarding `MetricReader`), no views unless said, and the same
//! instruments, values and attribute lists (each SDK's own `KeyValue`, built once before the
//! measurement). Attribute lists: key `k0`..`k9` (sorted order is `k0, k1, ...`), `k0` the
//! series number (an `i64`, which makes every list a distinct series), the others static
//! strings; the unsorted form is the same list reversed. Every series is recorded once before
//! measuring, so the measured path is the lookup of an existing series, never its creation.
//! Each iteration takes the next of 1000 precomputed lists, round robin.
//!
//! - `metrics/counter_add/<attrs>/<sdk>`: `Counter<u64>::add(1, attrs)`; `<attrs>` is `0` (one
//!   series: there is only one empty set), `3_sorted`, `3_unsorted`, `10_sorted`,
//!   `10_unsorted` (1000 series each).
//! - `metrics/histogram_record/3/<sdk>`: `Histogram<f64>::record` with 3 sorted attributes,
//!   1000 series, the default boundaries of each SDK (the same 15 of the specification), values
//!   cycling over 0..1000 × 1.7.
//! - `metrics/gauge_record/3/<sdk>`: `Gauge<f64>::record`, 3 sorted attributes, 1000 series.
//! - `metrics/bound/<case>/<sdk>`: `bound`: a counter bound to 3 attributes, `add(1)` (otlp-sdk's
//!   `Counter::bind`, opentelemetry's `Counter::bind` behind its
//!   `experimental_metrics_bound_instruments` feature); `unbound_fixed`: `add(1, attrs)` with
//!   that one fixed attribute list, for reference.
//! - `metrics/exemplars/<filter>/otlp_sdk`: `Counter<u64>::add` with 3 attributes over 1000
//!   series inside a sampled span (an otlp-sdk `TracerProvider` with no processor, its root span
//!   attached with `Span::attach`), exemplar filter `trace_based` (every measurement offered to
//!   the series' reservoir) against `always_off`. otlp-sdk only: opentelemetry_sdk 0.33 has no
//!   exemplars.
//! - `metrics/collect/<case>/<sdk>`: one counter with 10 000 attribute sets (3 attributes)
//!   recorded once, cardinality limit raised to 20 000 for both (otlp-sdk:
//!   `with_cardinality_limit`; opentelemetry_sdk: a view setting the stream's
//!   `with_cardinality_limit`), collected cumulatively. otlp-sdk's `ManualReader::collect`
//!   returns the OTLP `ExportMetricsServiceRequest` messages (not encoded); for
//!   opentelemetry_sdk `collect` is its `ManualReader::collect` into a reused `ResourceMetrics`
//!   (its own data model), and `collect_to_proto` adds opentelemetry-proto's
//!   `ExportMetricsServiceRequest::from(&ResourceMetrics)`, the step its OTLP exporter takes —
//!   the like-for-like comparison with otlp-sdk's single call.
//! - `metrics/throughput` (not criterion: printed on stderr as `throughput ...`): 2 threads,
//!   each recording `Counter<u64>::add(1, attrs)` with 3 attributes for 1 s over the same 1000
//!   series (the threads start at different offsets), into one counter per SDK; measurements per
//!   second summed over both threads, each SDK 3 times alternating, the median printed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Barrier, Weak};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader as TheirReader;
use opentelemetry_sdk::metrics::{InstrumentKind, Pipeline, SdkMeterProvider, Temporality};

/// Distinct series per benchmark.
const SERIES: usize = 1000;
/// Series collected in `metrics/collect`.
const COLLECT_SERIES: usize = 10_000;

const KEYS: [&str; 10] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];
const WORDS: [&str; 7] = [
    "GET",
    "POST",
    "/api/users",
    "200",
    "eu-west-1",
    "pod-a",
    "v2",
];

// ---------------------------------------------------------------------------------------------
// Attribute lists, the same for both SDKs.

/// The `n` attributes of series `i`, in sorted key order: `(key, Some(i))` for `k0`, `(key,
/// None)` and the word index otherwise.
fn spec(i: usize, n: usize) -> Vec<(&'static str, Result<i64, &'static str>)> {
    (0..n)
        .map(|j| {
            let value = if j == 0 {
                Ok(i as i64)
            } else {
                Err(WORDS[(i + j) % WORDS.len()])
            };
            (KEYS[j], value)
        })
        .collect()
}

fn ours_attrs(series: usize, n: usize, sorted: bool) -> Vec<Vec<otlp_sdk::KeyValue>> {
    (0..series)
        .map(|i| {
            let mut list: Vec<otlp_sdk::KeyValue> = spec(i, n)
                .into_iter()
                .map(|(k, v)| match v {
                    Ok(int) => otlp_sdk::KeyValue::new(k, int),
                    Err(s) => otlp_sdk::KeyValue::new(k, s),
                })
                .collect();
            if !sorted {
                list.reverse();
            }
            list
        })
        .collect()
}

fn theirs_attrs(series: usize, n: usize, sorted: bool) -> Vec<Vec<opentelemetry::KeyValue>> {
    (0..series)
        .map(|i| {
            let mut list: Vec<opentelemetry::KeyValue> = spec(i, n)
                .into_iter()
                .map(|(k, v)| match v {
                    Ok(int) => opentelemetry::KeyValue::new(k, int),
                    Err(s) => opentelemetry::KeyValue::new(k, s),
                })
                .collect();
            if !sorted {
                list.reverse();
            }
            list
        })
        .collect()
}

/// Runs `f` on the next list, round robin.
struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Self { items, next: 0 }
    }

    #[inline]
    fn next(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next += 1;
        if self.next == self.items.len() {
            self.next = 0;
        }
        item
    }
}

fn values() -> Vec<f64> {
    (0..SERIES).map(|i| i as f64 * 1.7).collect()
}

// ---------------------------------------------------------------------------------------------
// Providers.

fn ours_provider(
    reader: otlp_sdk::metrics::ManualReader,
    filter: otlp_sdk::metrics::ExemplarFilter,
    cardinality_limit: usize,
) -> otlp_sdk::metrics::MeterProvider {
    otlp_sdk::metrics::MeterProvider::builder()
        .with_reader(reader)
        .with_exemplar_filter(filter)
        .with_cardinality_limit(cardinality_limit)
        .build()
}

fn ours_default() -> otlp_sdk::metrics::MeterProvider {
    ours_provider(
        otlp_sdk::metrics::ManualReader::default(),
        otlp_sdk::metrics::ExemplarFilter::default(),
        otlp_sdk::metrics::DEFAULT_CARDINALITY_LIMIT,
    )
}

/// opentelemetry_sdk's `ManualReader`, shared with the provider (`with_reader` takes it by
/// value and it is not `Clone`).
#[derive(Debug, Clone)]
struct Shared(Arc<opentelemetry_sdk::metrics::ManualReader>);

impl TheirReader for Shared {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

fn theirs_provider(reader: Shared, cardinality_limit: Option<usize>) -> SdkMeterProvider {
    let builder = SdkMeterProvider::builder().with_reader(reader);
    match cardinality_limit {
        None => builder,
        Some(limit) => builder.with_view(move |_: &opentelemetry_sdk::metrics::Instrument| {
            opentelemetry_sdk::metrics::Stream::builder()
                .with_cardinality_limit(limit)
                .build()
                .ok()
        }),
    }
    .build()
}

fn their_reader() -> Shared {
    Shared(Arc::new(
        opentelemetry_sdk::metrics::ManualReader::builder()
            .with_temporality(Temporality::Cumulative)
            .build(),
    ))
}

fn theirs_default() -> SdkMeterProvider {
    theirs_provider(their_reader(), None)
}

// ---------------------------------------------------------------------------------------------
// Counter, histogram, gauge.

fn counter_add(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/counter_add");
    for (case, n, sorted) in [
        ("0", 0, true),
        ("3_sorted", 3, true),
        ("3_unsorted", 3, false),
        ("10_sorted", 10, true),
        ("10_unsorted", 10, false),
    ] {
        let series = if n == 0 { 1 } else { SERIES };
        {
            let provider = ours_default();
            let counter = provider.meter("bench").u64_counter("requests").build();
            let attrs = ours_attrs(series, n, sorted);
            for a in &attrs {
                counter.add(1, a);
            }
            let mut cycle = Cycle::new(&attrs);
            group.bench_function(BenchmarkId::new(case, "otlp_sdk"), |b| {
                b.iter(|| counter.add(black_box(1), cycle.next()));
            });
        }
        {
            let provider = theirs_default();
            let counter = provider.meter("bench").u64_counter("requests").build();
            let attrs = theirs_attrs(series, n, sorted);
            for a in &attrs {
                counter.add(1, a);
            }
            let mut cycle = Cycle::new(&attrs);
            group.bench_function(BenchmarkId::new(case, "opentelemetry_sdk"), |b| {
                b.iter(|| counter.add(black_box(1), cycle.next()));
            });
        }
    }
    group.finish();
}

fn histogram_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/histogram_record");
    let values = values();
    {
        let provider = ours_default();
        let histogram = provider.meter("bench").f64_histogram("duration").build();
        let attrs = ours_attrs(SERIES, 3, true);
        for (a, v) in attrs.iter().zip(&values) {
            histogram.record(*v, a);
        }
        let pairs: Vec<_> = attrs.iter().zip(values.iter().copied()).collect();
        let mut cycle = Cycle::new(&pairs);
        group.bench_function(BenchmarkId::new("3", "otlp_sdk"), |b| {
            b.iter(|| {
                let (a, v) = cycle.next();
                histogram.record(black_box(*v), a);
            });
        });
    }
    {
        let provider = theirs_default();
        let histogram = provider.meter("bench").f64_histogram("duration").build();
        let attrs = theirs_attrs(SERIES, 3, true);
        for (a, v) in attrs.iter().zip(&values) {
            histogram.record(*v, a);
        }
        let pairs: Vec<_> = attrs.iter().zip(values.iter().copied()).collect();
        let mut cycle = Cycle::new(&pairs);
        group.bench_function(BenchmarkId::new("3", "opentelemetry_sdk"), |b| {
            b.iter(|| {
                let (a, v) = cycle.next();
                histogram.record(black_box(*v), a);
            });
        });
    }
    group.finish();
}

fn gauge_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/gauge_record");
    let values = values();
    {
        let provider = ours_default();
        let gauge = provider.meter("bench").f64_gauge("temperature").build();
        let attrs = ours_attrs(SERIES, 3, true);
        for (a, v) in attrs.iter().zip(&values) {
            gauge.record(*v, a);
        }
        let pairs: Vec<_> = attrs.iter().zip(values.iter().copied()).collect();
        let mut cycle = Cycle::new(&pairs);
        group.bench_function(BenchmarkId::new("3", "otlp_sdk"), |b| {
            b.iter(|| {
                let (a, v) = cycle.next();
                gauge.record(black_box(*v), a);
            });
        });
    }
    {
        let provider = theirs_default();
        let gauge = provider.meter("bench").f64_gauge("temperature").build();
        let attrs = theirs_attrs(SERIES, 3, true);
        for (a, v) in attrs.iter().zip(&values) {
            gauge.record(*v, a);
        }
        let pairs: Vec<_> = attrs.iter().zip(values.iter().copied()).collect();
        let mut cycle = Cycle::new(&pairs);
        group.bench_function(BenchmarkId::new("3", "opentelemetry_sdk"), |b| {
            b.iter(|| {
                let (a, v) = cycle.next();
                gauge.record(black_box(*v), a);
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Bound instruments.

fn bound(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/bound");
    {
        let provider = ours_default();
        let counter = provider.meter("bench").u64_counter("requests").build();
        let attrs = ours_attrs(1, 3, true).remove(0);
        let bound = counter.bind(&attrs);
        group.bench_function(BenchmarkId::new("bound", "otlp_sdk"), |b| {
            b.iter(|| bound.add(black_box(1)));
        });
        group.bench_function(BenchmarkId::new("unbound_fixed", "otlp_sdk"), |b| {
            b.iter(|| counter.add(black_box(1), black_box(&attrs)));
        });
    }
    {
        let provider = theirs_default();
        let counter = provider.meter("bench").u64_counter("requests").build();
        let attrs = theirs_attrs(1, 3, true).remove(0);
        let bound = counter.bind(&attrs);
        group.bench_function(BenchmarkId::new("bound", "opentelemetry_sdk"), |b| {
            b.iter(|| bound.add(black_box(1)));
        });
        group.bench_function(
            BenchmarkId::new("unbound_fixed", "opentelemetry_sdk"),
            |b| {
                b.iter(|| counter.add(black_box(1), black_box(&attrs)));
            },
        );
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Exemplars (otlp-sdk only).

fn exemplars(c: &mut Criterion) {
    use otlp_sdk::metrics::ExemplarFilter;
    let mut group = c.benchmark_group("metrics/exemplars");
    let tracers = otlp_sdk::trace::TracerProvider::builder()
        .try_build()
        .expect("otlp-sdk tracer provider");
    let tracer = tracers.tracer("bench");
    let span = tracer.span("parent").root().start();
    assert!(span.span_context().is_sampled());
    let _guard = span.attach();
    for (case, filter) in [
        ("trace_based", ExemplarFilter::TraceBased),
        ("always_off", ExemplarFilter::AlwaysOff),
    ] {
        let provider = ours_provider(
            otlp_sdk::metrics::ManualReader::default(),
            filter,
            otlp_sdk::metrics::DEFAULT_CARDINALITY_LIMIT,
        );
        let counter = provider.meter("bench").u64_counter("requests").build();
        let attrs = ours_attrs(SERIES, 3, true);
        for a in &attrs {
            counter.add(1, a);
        }
        let mut cycle = Cycle::new(&attrs);
        group.bench_function(BenchmarkId::new(case, "otlp_sdk"), |b| {
            b.iter(|| counter.add(black_box(1), cycle.next()));
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Collection.

fn collect(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/collect");
    let limit = 2 * COLLECT_SERIES;
    {
        let reader = otlp_sdk::metrics::ManualReader::default();
        let provider = ours_provider(
            reader.clone(),
            otlp_sdk::metrics::ExemplarFilter::default(),
            limit,
        );
        let counter = provider.meter("bench").u64_counter("requests").build();
        for a in &ours_attrs(COLLECT_SERIES, 3, true) {
            counter.add(1, a);
        }
        let request = reader.collect().unwrap();
        let points = request.resource_metrics[0].scope_metrics[0].metrics[0]
            .data
            .as_ref()
            .map(|d| match d {
                otlp_proto::metrics::v1::metric::Data::Sum(s) => s.data_points.len(),
                _ => 0,
            })
            .unwrap_or(0);
        assert_eq!(points, COLLECT_SERIES, "otlp-sdk collected series");
        group.bench_function(BenchmarkId::new("collect", "otlp_sdk"), |b| {
            b.iter(|| black_box(reader.collect().unwrap()));
        });
    }
    {
        let reader = their_reader();
        let provider = theirs_provider(reader.clone(), Some(limit));
        let counter = provider.meter("bench").u64_counter("requests").build();
        for a in &theirs_attrs(COLLECT_SERIES, 3, true) {
            counter.add(1, a);
        }
        let mut rm = ResourceMetrics::default();
        reader.collect(&mut rm).unwrap();
        let request =
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::from(
                &rm,
            );
        let points = request.resource_metrics[0].scope_metrics[0].metrics[0]
            .data
            .as_ref()
            .map(|d| match d {
                opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s) => {
                    s.data_points.len()
                }
                _ => 0,
            })
            .unwrap_or(0);
        assert_eq!(points, COLLECT_SERIES, "opentelemetry_sdk collected series");
        group.bench_function(BenchmarkId::new("collect", "opentelemetry_sdk"), |b| {
            b.iter(|| {
                reader.collect(&mut rm).unwrap();
                black_box(&rm);
            });
        });
        group.bench_function(
            BenchmarkId::new("collect_to_proto", "opentelemetry_sdk"),
            |b| {
                b.iter(|| {
                    reader.collect(&mut rm).unwrap();
                    black_box(opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::from(&rm))
                });
            },
        );
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Two threads, 1 s each.

const THREADS: usize = 2;
const RUN: Duration = Duration::from_secs(1);

/// Measurements per second over `THREADS` threads each calling `add(i)` for `RUN`.
fn throughput_run<C: Sync>(counter: &C, add: impl Fn(&C, usize) + Sync) -> f64 {
    let barrier = Barrier::new(THREADS);
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                let add = &add;
                s.spawn(move || {
                    let mut i = t * SERIES / THREADS;
                    let mut count = 0_u64;
                    barrier.wait();
                    let start = Instant::now();
                    loop {
                        for _ in 0..256 {
                            add(counter, i);
                            i += 1;
                            if i == SERIES {
                                i = 0;
                            }
                        }
                        count += 256;
                        if start.elapsed() >= RUN {
                            break;
                        }
                    }
                    count as f64 / start.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap() as u64).sum()
    });
    total as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn throughput() {
    let ours_provider = ours_default();
    let ours = ours_provider.meter("bench").u64_counter("requests").build();
    let ours_a = ours_attrs(SERIES, 3, true);
    let theirs_provider = theirs_default();
    let theirs = theirs_provider
        .meter("bench")
        .u64_counter("requests")
        .build();
    let theirs_a = theirs_attrs(SERIES, 3, true);
    for (a, b) in ours_a.iter().zip(&theirs_a) {
        ours.add(1, a);
        theirs.add(1, b);
    }
    let (mut o, mut t) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        o.push(throughput_run(&ours, |c, i| c.add(1, &ours_a[i])));
        t.push(throughput_run(&theirs, |c, i| c.add(1, &theirs_a[i])));
    }
    let (o, t) = (median(o), median(t));
    eprintln!(
        "throughput {THREADS} threads x {RUN:?}, Counter<u64>::add, 3 attributes, {SERIES} series: \
         otlp_sdk {:.2} M/s, opentelemetry_sdk {:.2} M/s, ratio otlp_sdk/opentelemetry_sdk {:.2}",
        o / 1e6,
        t / 1e6,
        o / t
    );
}

/// Whether the command line's filters (if any) select `name`.
fn selected(name: &str) -> bool {
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
    filters.is_empty() || filters.iter().any(|f| name.contains(f))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    counter_add(&mut c);
    histogram_record(&mut c);
    gauge_record(&mut c);
    bound(&mut c);
    exemplars(&mut c);
    collect(&mut c);
    if selected("metrics/throughput") {
        throughput();
    }
    c.final_summary();
}
