//! otlp-transport: the content encodings, the receiver's body path, and an exporter sending to
//! a receiver in the same process over loopback.
//!
//! Run: `cargo bench -p otlp-benches --bench otlp_transport -- --warm-up-time 1 --measurement-time 3`.
//!
//! Payload: `otlp_benches::payloads::traces_request(42, 4, 1000)`, 1000 realistic spans from
//! four services (562 535 bytes of protobuf). Every throughput in bytes is the **uncompressed**
//! protobuf size, so MB/s figures of different codecs compare directly.
//!
//! - `compression/{compress,decompress}/<codec>`: `otlp_transport::compression::{compress,
//!   decompress}` with the exporter levels (gzip and deflate libdeflate 1, zstd 3, brotli 5;
//!   `otlp_transport_gzip` compares gzip encoders and levels) and the
//!   receiver's bounded decompression. The ratio of each codec is printed once, at setup
//!   (`compression ratio ...` on stderr).
//! - `http_body/<format>`: one request through the HTTP body path, both ends: the exporter's
//!   encoding (protobuf, or OTLP/JSON, then compression) and the receiver's
//!   `server::decode_request` (checks, decompression under the size limit, decoding);
//!   `grpc/...` adds the 5-byte gRPC framing instead.
//! - `loopback/{sequential,concurrent16}/<protocol>`: `OtlpExporter::export` to a running
//!   `Receiver` on 127.0.0.1 with a handler that counts spans; 100-span requests, one at a time
//!   or 16 in flight. Throughput is spans/s; requests/s is that divided by 100. Client and
//!   server share one 2-worker tokio runtime on this 2-core machine, so this is the whole
//!   round trip's CPU cost (encode, HTTP/2 or HTTP/1.1, decode, answer), not a network test.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use otlp_benches::payloads::traces_request;
use otlp_proto::Message;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig};
use otlp_transport::compression::{Compression, compress, decompress};
use otlp_transport::grpc_wire::encode_frame;
use otlp_transport::server::{ExportHandler, Limits, Receiver, RequestContext, decode_request};
use otlp_transport::{ExportRequest, PartialSuccess, Refusal, Signal};

const SPANS: usize = 1000;
const CODECS: [Compression; 4] = [
    Compression::Gzip,
    Compression::Deflate,
    Compression::Zstd,
    Compression::Brotli,
];

fn request() -> (ExportTraceServiceRequest, Vec<u8>) {
    let request = traces_request(42, 4, SPANS);
    let bytes = request.encode_to_vec();
    (request, bytes)
}

fn compression(c: &mut Criterion) {
    let (_, bytes) = request();
    let limit = bytes.len() + 1;
    let mut group = c.benchmark_group("compression");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    for codec in CODECS {
        let compressed =
            compress(codec, &bytes).unwrap_or_else(|e| panic!("{codec} compress: {e}"));
        match decompress(codec, &compressed, limit) {
            Ok(round_trip) if round_trip == bytes => {}
            Ok(_) => panic!("{codec} round trip changed the data"),
            Err(e) => panic!("{codec} decompress: {e}"),
        }
        eprintln!(
            "compression ratio {:<8} {} -> {} bytes: {:.2}x ({:.1}% of the protobuf)",
            codec.name(),
            bytes.len(),
            compressed.len(),
            bytes.len() as f64 / compressed.len() as f64,
            100.0 * compressed.len() as f64 / bytes.len() as f64
        );
        group.bench_function(BenchmarkId::new("compress", codec.name()), |b| {
            b.iter(|| compress(codec, black_box(&bytes)).map(|v| v.len()).ok())
        });
        group.bench_function(BenchmarkId::new("decompress", codec.name()), |b| {
            b.iter(|| {
                decompress(codec, black_box(&compressed), limit)
                    .map(|v| v.len())
                    .ok()
            })
        });
    }
    group.finish();
}

/// The exporter's encoding of one request and the receiver's decoding of it.
fn http_body(c: &mut Criterion) {
    let (request, bytes) = request();
    let limits = Limits::HTTP_DEFAULT;
    let mut group = c.benchmark_group("http_body");
    group.throughput(Throughput::Bytes(bytes.len() as u64));

    let decode = |content_type: &str, encoding: Option<&str>, body: Vec<u8>| match decode_request(
        Signal::Traces,
        content_type,
        encoding,
        body.into(),
        &limits,
    ) {
        Ok(decoded) => decoded.request.item_count(),
        Err(e) => panic!("decode_request: {e}"),
    };
    assert_eq!(decode("application/x-protobuf", None, bytes.clone()), SPANS);

    group.bench_function(BenchmarkId::new("protobuf", "none"), |b| {
        b.iter(|| {
            decode(
                "application/x-protobuf",
                None,
                black_box(&request).encode_to_vec(),
            )
        })
    });
    for codec in [Compression::Gzip, Compression::Zstd] {
        let token = codec.http_token();
        group.bench_function(BenchmarkId::new("protobuf", codec.name()), |b| {
            b.iter(|| {
                let body = compress(codec, &black_box(&request).encode_to_vec())
                    .ok()
                    .unwrap_or_default();
                decode("application/x-protobuf", token, body)
            })
        });
    }
    group.bench_function(BenchmarkId::new("json", "none"), |b| {
        b.iter(|| {
            let body = otlp_proto::json::to_vec(black_box(&request))
                .ok()
                .unwrap_or_default();
            decode("application/json", None, body)
        })
    });
    group.bench_function(BenchmarkId::new("grpc", "none"), |b| {
        b.iter(|| {
            let frame = encode_frame(&black_box(&request).encode_to_vec(), false);
            decode("application/grpc", None, frame.to_vec())
        })
    });
    group.finish();
}

/// Counts the spans it receives.
#[derive(Clone, Default)]
struct Count(Arc<AtomicU64>);

#[otlp_batch::async_trait]
impl ExportHandler for Count {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0
            .fetch_add(request.item_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

const LOOPBACK_SPANS: usize = 100;
const IN_FLIGHT: usize = 16;

fn loopback(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let count = Count::default();
    let receiver = runtime.block_on(async {
        let localhost = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Receiver::new(count.clone())
            .grpc(localhost)
            .http(localhost)
            .start()
            .await
    });
    let receiver = receiver.unwrap_or_else(|e| panic!("starting the receiver: {e}"));
    let request = Arc::new(traces_request(7, 2, LOOPBACK_SPANS));
    let mut group = c.benchmark_group("loopback");
    let endpoints = [
        ("grpc", Protocol::Grpc, receiver.grpc_local_addr()),
        (
            "http-protobuf",
            Protocol::HttpProtobuf,
            receiver.http_local_addr(),
        ),
    ];
    for (name, protocol, addr) in endpoints {
        let Some(addr) = addr else {
            panic!("{name} endpoint not bound")
        };
        let exporter = OtlpExporter::builder()
            .protocol(protocol)
            .endpoint(format!("http://{addr}"))
            .timeout(Duration::from_secs(10))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap_or_else(|e| panic!("building the {name} exporter: {e}"));
        // Connect once before measuring.
        if let Err(e) = runtime.block_on(exporter.export(request.as_ref())) {
            panic!("{name} warm-up export: {e}");
        }

        group.throughput(Throughput::Elements(LOOPBACK_SPANS as u64));
        group.bench_function(BenchmarkId::new("sequential", name), |b| {
            b.iter(
                || match runtime.block_on(exporter.export(request.as_ref())) {
                    Ok(outcome) => outcome.attempts,
                    Err(e) => panic!("{name} export failed: {e}"),
                },
            )
        });
        group.throughput(Throughput::Elements((LOOPBACK_SPANS * IN_FLIGHT) as u64));
        group.bench_function(
            BenchmarkId::new(format!("concurrent{IN_FLIGHT}"), name),
            |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let mut tasks = tokio::task::JoinSet::new();
                        for _ in 0..IN_FLIGHT {
                            let (exporter, request) = (exporter.clone(), Arc::clone(&request));
                            tasks.spawn(async move {
                                exporter.export(request.as_ref()).await.map(|o| o.attempts)
                            });
                        }
                        let mut attempts = 0;
                        while let Some(done) = tasks.join_next().await {
                            match done {
                                Ok(Ok(n)) => attempts += n,
                                Ok(Err(e)) => panic!("{name} export failed: {e}"),
                                Err(e) => panic!("{name} export task: {e}"),
                            }
                        }
                        attempts
                    })
                })
            },
        );
    }
    group.finish();
    let received = count.0.load(Ordering::Relaxed);
    eprintln!("loopback: the receiver counted {received} spans");
    runtime.block_on(receiver.shutdown(Duration::from_secs(5)));
}

criterion_group!(benches, compression, http_body, loopback);
criterion_main!(benches);
