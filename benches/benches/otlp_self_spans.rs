//! otlp-pipeline's `SelfSpans`: what recording one of the collector's own spans costs (the
//! `otlp` receiver records one per export request, every queued exporter one per send).
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_self_spans`.
//!
//! - `idle`: `start` + `end` with no reader subscribed (no zpages extension): the cost every
//!   request pays by default — one atomic load, nothing allocated.
//! - `recording`: the same with a reader (zpages running): ids, two clock reads, the lock,
//!   the per-name counts and the bounded samples.
//! - `recording_2_attributes`: plus two attributes, as the receiver sets them.
//! - `recording_256_names`: spans over 256 distinct names (the cap), so each lands on a
//!   different entry.
//!
//! On the 2-core development machine: `idle` 4.4 ns, `recording` 164 ns,
//! `recording_2_attributes` 196 ns, `recording_256_names` 163 ns. Against an export request
//! (tens of µs to decode and forward), the recorder is invisible when zpages is off and
//! well under 1 % when it is on.

#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use otlp_pipeline::telemetry::{SelfSpans, SpanKind};

const NAME: &str = "opentelemetry.proto.collector.trace.v1.TraceService/Export";

fn spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("self_spans");
    let idle = SelfSpans::new();
    group.bench_function("idle", |b| {
        b.iter(|| idle.start(black_box(NAME), SpanKind::Server).end())
    });

    let recording = SelfSpans::new();
    let _reader = recording.subscribe();
    group.bench_function("recording", |b| {
        b.iter(|| recording.start(black_box(NAME), SpanKind::Server).end())
    });
    group.bench_function("recording_2_attributes", |b| {
        b.iter(|| {
            let mut span = recording.start(black_box(NAME), SpanKind::Server);
            span.set_attribute("otelcol.component.id", "otlp");
            span.set_attribute("spans", 512);
            span.end();
        })
    });

    let many = SelfSpans::new();
    let _many_reader = many.subscribe();
    let names: Vec<Arc<str>> = (0..256)
        .map(|i| Arc::from(format!("exporter/otlp/{i}")))
        .collect();
    let mut next = 0;
    group.bench_function("recording_256_names", |b| {
        b.iter(|| {
            next = (next + 1) % names.len();
            many.start(Arc::clone(&names[next]), SpanKind::Client).end();
        })
    });
    group.finish();
}

criterion_group!(benches, spans);
criterion_main!(benches);
