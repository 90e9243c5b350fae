//! otlp-proto: protobuf and OTLP/JSON encode/decode of a realistic trace request, ours side by
//! side with the `opentelemetry-proto` crate's prost types on the same bytes, and the
//! allocation-free validating walk (`otlp_proto::wire::validate`) that replaces decoding when
//! nothing reads the request.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_proto`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest as PeerRequest;
use otlp_benches::payloads::traces_request;
use otlp_proto::Message;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

const SPANS: usize = 1000;

fn protobuf(c: &mut Criterion) {
    let ours = traces_request(42, 4, SPANS);
    let bytes = ours.encode_to_vec();
    let peer = match PeerRequest::decode(bytes.as_slice()) {
        Ok(peer) => peer,
        Err(e) => panic!("opentelemetry-proto could not decode our request: {e}"),
    };

    let mut group = c.benchmark_group("protobuf");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::new("encode", "otlp-proto"), |b| {
        let mut buffer = Vec::with_capacity(bytes.len());
        b.iter(|| {
            buffer.clear();
            black_box(&ours).encode(&mut buffer).ok();
            black_box(buffer.len())
        })
    });
    group.bench_function(BenchmarkId::new("encode", "opentelemetry-proto"), |b| {
        let mut buffer = Vec::with_capacity(bytes.len());
        b.iter(|| {
            buffer.clear();
            black_box(&peer).encode(&mut buffer).ok();
            black_box(buffer.len())
        })
    });
    group.bench_function(BenchmarkId::new("decode", "otlp-proto"), |b| {
        b.iter(|| ExportTraceServiceRequest::decode(black_box(bytes.as_slice())).ok())
    });
    group.bench_function(BenchmarkId::new("decode", "opentelemetry-proto"), |b| {
        b.iter(|| PeerRequest::decode(black_box(bytes.as_slice())).ok())
    });
    // What a receiver whose pipeline only forwards bytes does instead of decoding: the same
    // checks (and the id lengths), no allocation.
    group.bench_function(BenchmarkId::new("validate", "otlp-proto wire walk"), |b| {
        b.iter(|| {
            otlp_proto::wire::validate(otlp_proto::wire::Request::Traces, black_box(&bytes)).ok()
        })
    });
    group.finish();
}

fn json(c: &mut Criterion) {
    let ours = traces_request(42, 4, SPANS);
    let text = match otlp_proto::json::to_vec(&ours) {
        Ok(text) => text,
        Err(e) => panic!("encoding the benchmark request as JSON: {e}"),
    };
    let peer = match PeerRequest::decode(ours.encode_to_vec().as_slice()) {
        Ok(peer) => peer,
        Err(e) => panic!("opentelemetry-proto could not decode our request: {e}"),
    };

    let mut group = c.benchmark_group("json");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(BenchmarkId::new("encode", "otlp-proto"), |b| {
        b.iter(|| {
            otlp_proto::json::to_vec(black_box(&ours))
                .map(|v| v.len())
                .ok()
        })
    });
    group.bench_function(BenchmarkId::new("encode", "opentelemetry-proto"), |b| {
        b.iter(|| serde_json::to_vec(black_box(&peer)).map(|v| v.len()).ok())
    });
    group.bench_function(BenchmarkId::new("decode", "otlp-proto"), |b| {
        b.iter(|| otlp_proto::json::from_slice::<ExportTraceServiceRequest>(black_box(&text)).ok())
    });
    // opentelemetry-proto reads its own output (it does not accept every spec-valid form).
    let peer_text = serde_json::to_vec(&peer).unwrap_or_default();
    group.bench_function(BenchmarkId::new("decode", "opentelemetry-proto"), |b| {
        b.iter(|| serde_json::from_slice::<PeerRequest>(black_box(&peer_text)).ok())
    });
    group.finish();
}

criterion_group!(benches, protobuf, json);
criterion_main!(benches);
