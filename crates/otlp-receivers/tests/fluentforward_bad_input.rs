//! Fuzz-ish: valid Forward events mutated at random (bytes flipped, cut short, lengths
//! inflated) through the decoder and through live connections; the decoder never panics and
//! the receiver keeps serving good senders.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, Resources};
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::Probe;
use otlp_receivers::fluentforward::{
    FluentForwardConfig, FluentForwardReceiver, decode_event_for_bench,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Valid events of every mode (hand-encoded MessagePack).
fn seeds() -> Vec<Vec<u8>> {
    let record = [
        0x83, 0xa7, b'm', b'e', b's', b's', b'a', b'g', b'e', 0xa2, b'h', b'i', 0xa1, b'n', 0x92,
        0x01, 0x81, 0xa1, b'k', 0xc0, 0xa1, b'f', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    ];
    let event_time = [0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x07];
    let mut message = vec![0x94, 0xa3, b'a', b'p', b'p'];
    message.extend_from_slice(&event_time);
    message.extend_from_slice(&record);
    message.extend_from_slice(&[0x81, 0xa5, b'c', b'h', b'u', b'n', b'k', 0xa1, b'x']);

    let mut entry = vec![0x92, 0xce, 0x65, 0x53, 0xf1, 0x00];
    entry.extend_from_slice(&record);
    let mut forward = vec![0x92, 0xa1, b'f', 0x93];
    for _ in 0..3 {
        forward.extend_from_slice(&entry);
    }

    let mut entries = Vec::new();
    for _ in 0..4 {
        entries.extend_from_slice(&entry);
    }
    let mut packed = vec![0x92, 0xa1, b'p', 0xc5];
    packed.extend_from_slice(&(entries.len() as u16).to_be_bytes());
    packed.extend_from_slice(&entries);

    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&entries).unwrap();
    let gz = gz.finish().unwrap();
    let mut compressed = vec![0x93, 0xa1, b'g', 0xc5];
    compressed.extend_from_slice(&(gz.len() as u16).to_be_bytes());
    compressed.extend_from_slice(&gz);
    compressed.extend_from_slice(&[
        0x81, 0xaa, b'c', b'o', b'm', b'p', b'r', b'e', b's', b's', b'e', b'd', 0xa4, b'g', b'z',
        b'i', b'p',
    ]);
    vec![message, forward, packed, compressed]
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
        }
        1 => bytes.truncate(rng.below(bytes.len())),
        2 => {
            let at = rng.below(bytes.len());
            bytes.insert(at, [0xdd, 0xdf, 0xdb, 0xc6, 0xc1][rng.below(5)]);
        }
        _ => {
            let at = rng.below(bytes.len());
            let n = rng.below(8);
            for _ in 0..n {
                bytes.insert(at, 0x91);
            }
        }
    }
    bytes
}

#[test]
fn the_seeds_decode_and_mutations_never_panic() {
    for seed in seeds() {
        let (request, _) = decode_event_for_bench(&seed).unwrap();
        assert!(
            !request.resource_logs[0].scope_logs[0]
                .log_records
                .is_empty()
        );
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = seeds();
    let mut errors = 0;
    for _ in 0..20_000 {
        let seed = &seeds[rng.below(seeds.len())];
        if decode_event_for_bench(&mutate(&mut rng, seed)).is_err() {
            errors += 1;
        }
    }
    // Most mutations break the event; some (a flipped string byte) do not.
    assert!(errors > 5_000, "{errors}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_streams_close_their_connections_and_good_senders_are_still_served() {
    let probe = Probe::new();
    let metrics = Metrics::new();
    let ctx = ReceiverContext::new(
        otlp_pipeline::testing::id("fluentforward"),
        NextConsumers::new().with(Signal::Logs, Arc::clone(&probe) as _),
    )
    .with_resources(Resources::new().with(Arc::clone(&metrics)));
    let receiver = FluentForwardReceiver::new(
        ctx,
        FluentForwardConfig {
            endpoint: "127.0.0.1:0".into(),
        },
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();
    let addr = receiver.local_addr().unwrap();
    let mut rng = Rng(42);
    let seeds = seeds();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let seed = &seeds[rng.below(seeds.len())];
        let _ = stream.write_all(&mutate(&mut rng, seed)).await;
        let _ = stream.shutdown().await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut sink)).await;
    }
    assert!(metrics.sum("otelcol_fluent_parse_failures_total", &[]) > 50.0);
    let before = probe.items();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(&seeds[0]).await.unwrap();
    let mut ack = [0u8; 7];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut ack))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&ack, &[0x81, 0xa3, b'a', b'c', b'k', 0xa1, b'x']);
    assert_eq!(probe.items(), before + 1);
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}
