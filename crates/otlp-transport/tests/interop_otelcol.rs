//! Interop: the OpenTelemetry Collector (otelcol-contrib 0.135, Go) → OUR receiver.
//!
//! otelcol's filelog receiver reads a temp file from the beginning and its otlphttp exporter
//! sends the lines to our OTLP/HTTP endpoint (config: `tests/peers/otelcol_filelog.yaml`):
//! protobuf with gzip (the main case), OTLP/JSON with zstd (Go's pdata JSON encoder against
//! our JSON decoder) and protobuf with deflate. Half the lines are written before otelcol
//! starts and half once the first half has arrived (so both the initial read and tailing are
//! covered). Every line must arrive exactly once as a log record whose body is the line, byte
//! for byte (non-ASCII, quotes, tabs, backslashes), and every request must have arrived in the
//! body format and content encoding the Go exporter was configured with (read from the
//! handler's `RequestContext`).
#![cfg(all(
    feature = "server",
    feature = "http",
    feature = "json",
    feature = "gzip",
    feature = "zstd"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use interop_support::{ChildGuard, Peer, Timer, peer_file, start_receiver, value_json};
use otlp_transport::Compression;
use otlp_transport::server::{ContentType, Transport};
use serde_json::{Value, json};

/// Lines written to the file.
const LINES: usize = 400;

fn line(i: usize) -> String {
    format!(
        "{i:05} level=info msg=\"order accepted\" user=ünïcödé ✓ path=C:\\tmp\\x\ttab [{}]",
        "#".repeat(i % 17)
    )
}

/// The case the issue names: protobuf, gzip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_filelog_to_our_receiver_gzip() {
    let otelcol = require_peer!(Peer::Otelcol);
    run(&otelcol, "proto", Compression::Gzip).await;
}

/// Go's OTLP/JSON encoder (pdata) against our JSON decoder, with zstd.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_filelog_to_our_receiver_json_zstd() {
    let otelcol = require_peer!(Peer::Otelcol);
    run(&otelcol, "json", Compression::Zstd).await;
}

/// Go's `deflate` (zlib) content encoding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_filelog_to_our_receiver_deflate() {
    let otelcol = require_peer!(Peer::Otelcol);
    run(&otelcol, "proto", Compression::Deflate).await;
}

async fn run(otelcol: &Path, encoding: &str, compression: Compression) {
    let _timer = Timer::start("otelcol filelog");
    let (recorder, receiver) = start_receiver().await;
    let http = receiver.http_local_addr().unwrap();

    let dir = interop_support::temp_dir("otelcol");
    let log_path = dir.path().join("app.log");
    let mut file = std::fs::File::create(&log_path).unwrap();
    for i in 0..LINES / 2 {
        writeln!(file, "{}", line(i)).unwrap();
    }
    file.flush().unwrap();

    let mut command = Command::new(otelcol);
    command
        .arg("--config")
        .arg(peer_file("otelcol_filelog.yaml"))
        .env("INTEROP_ENCODING", encoding)
        .env("INTEROP_COMPRESSION", compression.name())
        .env("INTEROP_LOG_FILE", &log_path)
        .env("INTEROP_OTLP_ENDPOINT", format!("http://{http}"))
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut child = ChildGuard::spawn_in("otelcol", &mut command, dir);

    let half = LINES / 2;
    let first = recorder.wait_until(
        "the first half of the lines",
        Duration::from_secs(15),
        |r| r.log_count() >= half,
    );
    if let Err(message) = first.await {
        panic!("{message}\n{}", child.output_tail());
    }
    child.assert_running();
    for i in LINES / 2..LINES {
        writeln!(file, "{}", line(i)).unwrap();
    }
    file.flush().unwrap();
    let all = recorder.wait_until("every line", Duration::from_secs(15), |r| {
        r.log_count() >= LINES
    });
    if let Err(message) = all.await {
        panic!("{message}\n{}", child.output_tail());
    }

    recorder.with(|recorded| {
        let records = recorded.log_records();
        assert_eq!(records.len(), LINES, "exactly one record per line (no duplicates)");
        let mut bodies: BTreeMap<String, usize> = BTreeMap::new();
        for (_, record) in &records {
            let body = record.body.as_ref().map(value_json).unwrap_or(Value::Null);
            let body = body.as_str().unwrap_or_else(|| panic!("a body that is not a string: {body}")).to_owned();
            *bodies.entry(body).or_default() += 1;
            let attributes = interop_support::attributes_json(&record.attributes);
            assert_eq!(attributes.get("log.file.name"), Some(&json!("app.log")), "filelog's file name attribute");
            assert!(record.observed_time_unix_nano > 0, "filelog sets the observed time");
        }
        for i in 0..LINES {
            assert_eq!(bodies.get(&line(i)), Some(&1), "line {i} ({:?}) arrived intact exactly once", line(i));
        }
        assert!(!recorded.logs.is_empty());
        for (_, context) in &recorded.logs {
            assert_eq!(context.transport, Transport::Http);
            let content_type = if encoding == "json" { ContentType::Json } else { ContentType::Protobuf };
            assert_eq!(context.content_type, content_type, "otlphttp was told `encoding: {encoding}`");
            assert_eq!(context.compression, compression, "otlphttp was told `compression: {compression}`");
            assert!(context.request_size < context.decoded_size, "a compressed body smaller than the message");
        }
        let wire: usize = recorded.logs.iter().map(|(_, c)| c.request_size).sum();
        let decoded: usize = recorded.logs.iter().map(|(_, c)| c.decoded_size).sum();
        eprintln!(
            "[interop] otelcol {encoding}/{compression}: {LINES} lines in {} requests ({wire} bytes on the wire, {decoded} decoded)",
            recorded.logs.len()
        );
    });
    child.assert_running();
    drop(child);
    receiver.shutdown(Duration::from_secs(5)).await;
}
