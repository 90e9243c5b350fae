//! The Zipkin components' work without sockets, spans per second, single thread:
//!
//! - `zipkin_receive/{v2_json,v2_proto,v1_json}/1000`: a body of 1000 spans (the shape
//!   OpenTelemetry's Zipkin exporters send: 10 traces of a server span and its children over 4
//!   services, 6 tags, an annotation on every tenth span) decoded and translated into an OTLP
//!   request, as the `zipkin` receiver does per request;
//! - `zipkin_export/{json,proto}/1000`: the OTLP request that translation makes, translated
//!   back and encoded, as the `zipkin` exporter does per request.
//!
//! `cargo bench -p otlp-benches --bench otlp_zipkin`. The Go collector's receiver on the same
//! bodies is measured end to end by `cargo xtask bench --zipkin`.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_model::zipkin::{decode_v2_json, encode_v2_proto};
use otlp_receivers::zipkin::translate_body;

const SPANS: usize = 1000;

fn bench(c: &mut Criterion) {
    let json = otlp_benches::zipkin::v2_json_body(SPANS);
    let spans = decode_v2_json(&json).unwrap();
    let proto = encode_v2_proto(&spans);
    let v1 = otlp_benches::zipkin::v1_json_body(SPANS);
    let count = |r: &otlp_proto::collector::trace::v1::ExportTraceServiceRequest| -> usize {
        r.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    };
    let request = translate_body(&json, false, false, false).unwrap();
    assert_eq!(count(&request), SPANS);
    assert_eq!(
        count(&translate_body(&proto, false, true, false).unwrap()),
        SPANS
    );
    assert_eq!(
        count(&translate_body(&v1, true, false, false).unwrap()),
        SPANS
    );

    let mut group = c.benchmark_group("zipkin_receive");
    group.throughput(Throughput::Elements(SPANS as u64));
    group.bench_function("v2_json/1000", |b| {
        b.iter(|| translate_body(std::hint::black_box(&json), false, false, false).unwrap())
    });
    group.bench_function("v2_proto/1000", |b| {
        b.iter(|| translate_body(std::hint::black_box(&proto), false, true, false).unwrap())
    });
    group.bench_function("v1_json/1000", |b| {
        b.iter(|| translate_body(std::hint::black_box(&v1), true, false, false).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("zipkin_export");
    group.throughput(Throughput::Elements(SPANS as u64));
    for (name, proto) in [("json/1000", false), ("proto/1000", true)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                otlp_exporters::zipkin::encode_request(std::hint::black_box(&request), proto)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
