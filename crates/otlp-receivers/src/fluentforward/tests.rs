//! The receiver end to end in-process: a socket, the framing, acks, refusals, bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, Resources};
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::{Probe, eventually};

use super::{FluentForwardConfig, FluentForwardReceiver};

fn message(tag: &str, seconds: u8, chunk: Option<&str>) -> Vec<u8> {
    let mut out = vec![if chunk.is_some() { 0x94 } else { 0x93 }];
    out.push(0xa0 | tag.len() as u8);
    out.extend_from_slice(tag.as_bytes());
    out.push(seconds & 0x7f);
    out.extend_from_slice(&[0x81, 0xa7]);
    out.extend_from_slice(b"message");
    out.extend_from_slice(&[0xa2, b'h', b'i']);
    if let Some(chunk) = chunk {
        out.extend_from_slice(&[0x81, 0xa5]);
        out.extend_from_slice(b"chunk");
        out.push(0xa0 | chunk.len() as u8);
        out.extend_from_slice(chunk.as_bytes());
    }
    out
}

async fn start(
    probe: Arc<Probe>,
    endpoint: &str,
) -> (
    FluentForwardReceiver,
    Arc<Metrics>,
    Option<std::net::SocketAddr>,
) {
    let metrics = Metrics::new();
    let ctx = ReceiverContext::new(
        otlp_pipeline::testing::id("fluentforward"),
        NextConsumers::new().with(Signal::Logs, probe),
    )
    .with_resources(Resources::new().with(Arc::clone(&metrics)));
    let receiver = FluentForwardReceiver::new(
        ctx,
        FluentForwardConfig {
            endpoint: endpoint.to_owned(),
        },
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();
    let addr = receiver.local_addr();
    (receiver, metrics, addr)
}

fn count(metrics: &Metrics, name: &str) -> f64 {
    metrics.sum(name, &[])
}

#[tokio::test]
async fn events_split_and_batched_across_reads_are_all_delivered_and_acked() {
    let probe = Probe::new();
    let (receiver, metrics, addr) = start(Arc::clone(&probe), "127.0.0.1:0").await;
    let mut stream = TcpStream::connect(addr.unwrap()).await.unwrap();
    let mut bytes = message("a", 1, None);
    bytes.extend(message("b", 2, Some("c1")));
    bytes.extend(message("c", 3, None));
    // Byte by byte: every split point of the framing.
    for byte in &bytes {
        stream.write_all(&[*byte]).await.unwrap();
    }
    let mut ack = vec![0u8; 8];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut ack))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ack, [0x81, 0xa3, b'a', b'c', b'k', 0xa2, b'c', b'1']);
    assert_eq!(probe.wait_items(3).await, 3);
    drop(stream);
    assert!(eventually(|| count(&metrics, "otelcol_fluent_closed_connections_total") == 1.0).await);
    assert_eq!(
        count(&metrics, "otelcol_receiver_accepted_log_records_total"),
        3.0
    );
    assert_eq!(count(&metrics, "otelcol_fluent_events_parsed_total"), 3.0);
    assert_eq!(
        count(&metrics, "otelcol_fluent_opened_connections_total"),
        1.0
    );
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_chunk_is_not_acked_and_the_connection_closes() {
    let probe = Probe::failing([ConsumeError::retryable("queue full")]);
    let (receiver, metrics, addr) = start(Arc::clone(&probe), "127.0.0.1:0").await;
    let mut stream = TcpStream::connect(addr.unwrap()).await.unwrap();
    stream
        .write_all(&message("a", 1, Some("c9")))
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(read.is_ok() || rest.is_empty());
    assert!(rest.is_empty(), "no ack for a refused event: {rest:?}");
    assert_eq!(
        count(&metrics, "otelcol_receiver_refused_log_records_total"),
        1.0
    );
    // The resend on a new connection is accepted and acked.
    let mut stream = TcpStream::connect(addr.unwrap()).await.unwrap();
    stream
        .write_all(&message("a", 1, Some("c9")))
        .await
        .unwrap();
    let mut ack = vec![0u8; 8];
    stream.read_exact(&mut ack).await.unwrap();
    assert_eq!(&ack[5..], &[0xa2, b'c', b'9']);
    assert_eq!(probe.items(), 1);
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_input_closes_only_its_connection() {
    let probe = Probe::new();
    let (receiver, metrics, addr) = start(Arc::clone(&probe), "127.0.0.1:0").await;
    let addr = addr.unwrap();
    let bad: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![0xc1],
        vec![0x93, 0x01, 0x02, 0x03],
        vec![0x93, 0xa1, b't', 0xc0, 0x80],
        // An event claiming 4 GiB.
        vec![0x92, 0xa1, b't', 0xc6, 0xff, 0xff, 0xff, 0xff],
        // Cut short, then closed.
        vec![0x93, 0xa1, b't', 0x01],
        vec![0x91; 100],
    ];
    for (i, bytes) in bad.iter().enumerate() {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        let failures = i as f64 + 1.0;
        assert!(
            eventually(|| count(&metrics, "otelcol_fluent_parse_failures_total") >= failures).await,
            "case {i} not counted"
        );
    }
    // Still serving.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&message("ok", 5, Some("z")))
        .await
        .unwrap();
    let mut ack = vec![0u8; 7];
    stream.read_exact(&mut ack).await.unwrap();
    assert_eq!(probe.items(), 1);
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn heartbeats_are_echoed_over_udp_on_the_same_port() {
    let (receiver, _metrics, addr) = start(Probe::new(), "127.0.0.1:0").await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&[0x00], addr.unwrap()).await.unwrap();
    let mut buffer = [9u8; 4];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((n, buffer[0], from), (1, 0x00, addr.unwrap()));
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn unix_sockets_serve_and_are_removed_at_shutdown() {
    let dir = std::env::temp_dir().join(format!("otlp-ff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fluent.sock");
    let _ = std::fs::remove_file(&path);
    let probe = Probe::new();
    let endpoint = format!("unix://{}", path.display());
    let (receiver, _metrics, _) = start(Arc::clone(&probe), &endpoint).await;
    let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    stream.write_all(&message("u", 1, Some("k"))).await.unwrap();
    let mut ack = vec![0u8; 7];
    stream.read_exact(&mut ack).await.unwrap();
    assert_eq!(probe.items(), 1);
    drop(stream);
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn registered_under_both_names() {
    let mut registry = otlp_pipeline::Registry::default();
    registry.register_receiver(super::factory()).unwrap();
    assert!(registry.receiver("fluentforward").is_some());
    assert!(registry.receiver("fluent_forward").is_some());
}
