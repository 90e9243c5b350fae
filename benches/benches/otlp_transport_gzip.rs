//! gzip for exporters (issue 17): what the exporter's compression of a whole batch costs,
//! zlib-rs (flate2, the streaming encoder the exporters used before) against libdeflate (one
//! call on the whole buffer, what `otlp_transport::compression::compress_with` does now), and
//! zstd for scale.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_transport_gzip -- --warm-up-time 1 --measurement-time 3`.
//!
//! Payload: `otlp_benches::payloads::traces_request(42, 4, 4096)`, a batch of 4096 realistic
//! spans from four services, as protobuf. Throughput is of the **uncompressed** bytes, so the
//! MB/s of every codec compare directly. Each codec's output size and ratio are printed once,
//! at setup (`gzip ratio ...` on stderr), after checking that it decompresses to the input.
//!
//! - `gzip/zlib-rs/<level>`: flate2's `GzEncoder` (zlib-rs backend) at levels 6 (its default),
//!   1, and 4 (the zlib-rs level whose ratio is libdeflate level 1's), into a buffer of a
//!   quarter of the input, as the exporters compressed before.
//! - `gzip/libdeflate/<level>`: `compress_with(Gzip, level)` at levels 1, 3 and 6.
//! - `gzip/zstd/<level>`: `compress_with(Zstd, level)` at levels 1 and 3.

use std::hint::black_box;
use std::io::Write;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use otlp_benches::payloads::traces_request;
use otlp_proto::Message;
use otlp_transport::compression::{Compression, CompressionLevel, compress_with, decompress};

const SPANS: usize = 4096;

/// flate2's streaming gzip encoder on the whole buffer (the exporters' former `compress`).
fn zlib_rs(level: u32, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::new(level),
    );
    encoder.write_all(data)?;
    encoder.finish()
}

/// A compression of the whole input.
type Compress = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// An encoder's name, its level and its compression.
type Codec = (&'static str, u32, Compress);

fn codecs() -> Vec<Codec> {
    let ours = |compression, level: i32| -> Compress {
        Box::new(move |data| {
            compress_with(compression, CompressionLevel::new(level), data)
                .unwrap_or_else(|e| panic!("{compression} {level}: {e}"))
        })
    };
    let flate = |level| -> Compress {
        Box::new(move |data| zlib_rs(level, data).unwrap_or_else(|e| panic!("zlib-rs: {e}")))
    };
    vec![
        ("zlib-rs", 6, flate(6)),
        ("zlib-rs", 1, flate(1)),
        ("zlib-rs", 4, flate(4)),
        ("libdeflate", 1, ours(Compression::Gzip, 1)),
        ("libdeflate", 3, ours(Compression::Gzip, 3)),
        ("libdeflate", 6, ours(Compression::Gzip, 6)),
        ("zstd", 1, ours(Compression::Zstd, 1)),
        ("zstd", 3, ours(Compression::Zstd, 3)),
    ]
}

fn gzip(c: &mut Criterion) {
    let bytes = traces_request(42, 4, SPANS).encode_to_vec();
    let mut group = c.benchmark_group("gzip");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    for (name, level, compress) in codecs() {
        let packed = compress(&bytes);
        let codec = if name == "zstd" {
            Compression::Zstd
        } else {
            Compression::Gzip
        };
        match decompress(codec, &packed, bytes.len()) {
            Ok(round_trip) if round_trip == bytes => {}
            Ok(_) => panic!("{name} {level}: the round trip changed the data"),
            Err(e) => panic!("{name} {level}: {e}"),
        }
        eprintln!(
            "gzip ratio {name:<10} level {level}: {} -> {} bytes, {:.2}x",
            bytes.len(),
            packed.len(),
            bytes.len() as f64 / packed.len() as f64
        );
        group.bench_function(BenchmarkId::new(name, level), |b| {
            b.iter(|| compress(black_box(&bytes)).len())
        });
    }
    group.finish();
}

criterion_group!(benches, gzip);
criterion_main!(benches);
