//! The `fluentforward` receiver's decoder: Forward-protocol events decoded and translated into
//! an OTLP logs request, records per second, single thread, no sockets.
//!
//! `cargo bench -p otlp-benches --bench otlp_fluentforward`
//!
//! - `packed_forward/1000`: one PackedForward event of 1000 entries (EventTime, a record of
//!   6 keys: `message` and 5 attributes, ~150 bytes each).
//! - `compressed_packed_forward/1000`: the same entries gzip-compressed.
//! - `message/1000`: 1000 Message-mode events of one such record each (the fluent-logger
//!   shape), decoded one by one.

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_receivers::fluentforward::decode_event_for_bench;

const RECORDS: usize = 1000;

fn str(out: &mut Vec<u8>, s: &str) {
    if s.len() < 32 {
        out.push(0xa0 | s.len() as u8);
    } else {
        out.push(0xd9);
        out.push(s.len() as u8);
    }
    out.extend_from_slice(s.as_bytes());
}

fn event_time(out: &mut Vec<u8>, i: usize) {
    out.extend_from_slice(&[0xd7, 0x00]);
    out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_be_bytes());
    out.extend_from_slice(&(i as u32 * 1000).to_be_bytes());
}

fn record(out: &mut Vec<u8>, i: usize) {
    out.push(0x86);
    str(out, "message");
    str(
        out,
        &format!("GET /api/v1/items/{i} 200 12ms user-agent=curl/8.5 request"),
    );
    str(out, "level");
    str(out, "info");
    str(out, "host");
    str(out, "web-7f9c");
    str(out, "status");
    out.extend_from_slice(&[0xcc, 200]);
    str(out, "latency_ms");
    out.push(0xcb);
    out.extend_from_slice(&12.5f64.to_be_bytes());
    str(out, "pid");
    out.extend_from_slice(&[0xcd, 0x1f, 0x90]);
}

fn entries() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..RECORDS {
        out.push(0x92);
        event_time(&mut out, i);
        record(&mut out, i);
    }
    out
}

fn packed(entries: &[u8], compressed: bool) -> Vec<u8> {
    let mut out = vec![if compressed { 0x93 } else { 0x92 }];
    str(&mut out, "app.access");
    out.push(0xc6);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(entries);
    if compressed {
        out.push(0x81);
        str(&mut out, "compressed");
        str(&mut out, "gzip");
    }
    out
}

fn messages() -> Vec<Vec<u8>> {
    (0..RECORDS)
        .map(|i| {
            let mut out = vec![0x93];
            str(&mut out, "app.access");
            event_time(&mut out, i);
            record(&mut out, i);
            out
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let entries = entries();
    let plain = packed(&entries, false);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&entries).unwrap();
    let compressed = packed(&gz.finish().unwrap(), true);
    let messages = messages();
    let count = |bytes: &[u8]| {
        let (request, _) = decode_event_for_bench(bytes).unwrap();
        request.resource_logs[0].scope_logs[0].log_records.len()
    };
    assert_eq!(count(&plain), RECORDS);
    assert_eq!(count(&compressed), RECORDS);

    let mut group = c.benchmark_group("fluentforward_decode");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("packed_forward/1000", |b| {
        b.iter(|| decode_event_for_bench(std::hint::black_box(&plain)).unwrap())
    });
    group.bench_function("compressed_packed_forward/1000", |b| {
        b.iter(|| decode_event_for_bench(std::hint::black_box(&compressed)).unwrap())
    });
    group.bench_function("message/1000", |b| {
        b.iter(|| {
            for event in &messages {
                std::hint::black_box(decode_event_for_bench(event).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
