//! otlp-propagation: the per-request cost of propagation — `traceparent` parse and format,
//! `tracestate` parse, `baggage` parse and format — and one whole hop (extract from an
//! `http::HeaderMap`, make the child, inject into a fresh one).
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_propagation` (add `-- --quick` for a short
//! run). Figures are ns per operation.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use otlp_propagation::{
    Propagators, TRACESTATE_MAX_LEN, TextMapPropagator, TraceParent, format_tracestate,
    parse_baggage, parse_tracestate,
};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE_2: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
const BAGGAGE_3: &str = "user.id=alice,tenant=acme%20corp;internal,session=8c7f2b1e-9d6a-4c1b";

fn tracestate_32() -> String {
    (0..32)
        .map(|i| format!("vendor{i:02}@sys=value{i:02}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn baggage_20() -> String {
    (0..20)
        .map(|i| format!("key{i:02}=value%20number%20{i:02};prop{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn traceparent(c: &mut Criterion) {
    let mut group = c.benchmark_group("traceparent");
    group.bench_function("parse", |b| {
        b.iter(|| TraceParent::parse(black_box(TRACEPARENT)).ok())
    });
    group.bench_function("parse_invalid", |b| {
        let invalid = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
        b.iter(|| TraceParent::parse(black_box(invalid)).is_err())
    });
    let parsed = match TraceParent::parse(TRACEPARENT) {
        Ok(parsed) => parsed,
        Err(e) => panic!("benchmark traceparent does not parse: {e}"),
    };
    group.bench_function("format", |b| b.iter(|| black_box(&parsed).encode()));
    group.finish();
}

fn tracestate(c: &mut Criterion) {
    let full = tracestate_32();
    let mut group = c.benchmark_group("tracestate");
    for (name, value) in [("2_members", TRACESTATE_2), ("32_members", full.as_str())] {
        group.bench_function(BenchmarkId::new("parse", name), |b| {
            b.iter(|| parse_tracestate([black_box(value)]).ok())
        });
    }
    let state = match parse_tracestate([full.as_str()]) {
        Ok(state) => state,
        Err(e) => panic!("benchmark tracestate does not parse: {e}"),
    };
    group.bench_function(BenchmarkId::new("format_truncated", "32_members"), |b| {
        b.iter(|| format_tracestate(black_box(&state), TRACESTATE_MAX_LEN))
    });
    group.finish();
}

fn baggage(c: &mut Criterion) {
    let many = baggage_20();
    let mut group = c.benchmark_group("baggage");
    for (name, value) in [("3_members", BAGGAGE_3), ("20_members", many.as_str())] {
        group.bench_function(BenchmarkId::new("parse", name), |b| {
            b.iter(|| parse_baggage([black_box(value)]))
        });
        let parsed = parse_baggage([value]);
        group.bench_function(BenchmarkId::new("format", name), |b| {
            b.iter(|| black_box(&parsed).to_header_value())
        });
    }
    group.finish();
}

fn hop(c: &mut Criterion) {
    let mut incoming = http::HeaderMap::new();
    for (name, value) in [
        ("traceparent", TRACEPARENT),
        ("tracestate", TRACESTATE_2),
        ("baggage", BAGGAGE_3),
        ("user-agent", "bench/1.0"),
        ("accept", "*/*"),
    ] {
        match value.parse() {
            Ok(value) => {
                incoming.insert(name, value);
            }
            Err(e) => panic!("benchmark header {name}: {e}"),
        }
    }
    let propagators = match Propagators::from_names("tracecontext,baggage") {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let mut group = c.benchmark_group("hop");
    group.bench_function("extract_child_inject/tracecontext,baggage", |b| {
        b.iter(|| {
            let cx = propagators.extract(black_box(&incoming)).child();
            let mut outgoing = http::HeaderMap::new();
            propagators.inject(&cx, &mut outgoing);
            outgoing
        })
    });
    group.finish();
}

criterion_group!(benches, traceparent, tracestate, baggage, hop);
criterion_main!(benches);
