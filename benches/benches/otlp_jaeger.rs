//! The `jaeger` receiver's decoding and translation without sockets, spans per second, single
//! thread:
//!
//! - `jaeger_receive/thrift_http/1000`: a Thrift binary `Batch` of 1000 spans (one process, 6
//!   tags per span, a log on every tenth) decoded and translated, as `POST /api/traces` is;
//! - `jaeger_receive/agent_binary/100`: an agent datagram (`emitBatch`) of 100 spans, as one
//!   UDP packet of `thrift_binary` is (Jaeger clients keep datagrams under 65 000 bytes).
//!
//! `cargo bench -p otlp-benches --bench otlp_jaeger`.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_receivers::jaeger::{ThriftProtocol, translate_agent_packet, translate_thrift_batch};

fn spans(r: &otlp_proto::collector::trace::v1::ExportTraceServiceRequest) -> usize {
    r.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let body = otlp_benches::jaeger::thrift_batch(1000);
    let packet = otlp_benches::jaeger::agent_binary_packet(100);
    assert!(packet.len() < 65_000, "{}", packet.len());
    assert_eq!(spans(&translate_thrift_batch(&body).unwrap()), 1000);
    assert_eq!(
        spans(
            &translate_agent_packet(&packet, ThriftProtocol::Binary)
                .unwrap()
                .unwrap()
        ),
        100
    );
    let mut group = c.benchmark_group("jaeger_receive");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("thrift_http/1000", |b| {
        b.iter(|| translate_thrift_batch(std::hint::black_box(&body)).unwrap())
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("agent_binary/100", |b| {
        b.iter(|| {
            translate_agent_packet(std::hint::black_box(&packet), ThriftProtocol::Binary).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
