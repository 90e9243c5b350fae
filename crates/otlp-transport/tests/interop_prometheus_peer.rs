//! The Prometheus peers: node_exporter 1.5.0 and Prometheus 2.42.0 (Debian bookworm's packages,
//! installed by `cargo xtask peers` into `target/peers/bin/`) run on loopback, unprivileged;
//! Prometheus scrapes node_exporter every second, and its HTTP API must report the target up
//! (`up == 1`) within 20 s and serve a `node_load1` sample from it.
//!
//! This pins down that the pair installs, starts from nothing but command-line flags (a config
//! file and a data directory in a temp dir; no `/etc/prometheus`, no web UI assets) and talks to
//! each other, so that tests putting our code between them start from a known-good pair.
//!
//! HTTP is a tiny HTTP/1.1 `GET` over `std::net::TcpStream` (with chunked decoding), so the
//! check does not depend on the transport's own HTTP stack.
#![cfg(all(feature = "server", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use interop_support::{ChildGuard, Peer, free_port, temp_dir};
use serde_json::Value;

/// The scrape job of node_exporter in Prometheus's config.
const JOB: &str = "node_exporter";
/// How long Prometheus may take, from listening, to report the target up.
const UP_WITHIN: Duration = Duration::from_secs(20);

/// node_exporter's collectors: only ones that read world-readable `/proc` files, so it runs
/// the same unprivileged, in a container or on a host (the default set also walks `/sys`,
/// `/run/udev` and mounts, which log errors where those are missing or restricted), and a
/// once-a-second scrape stays cheap.
const NODE_EXPORTER_FLAGS: &[&str] = &[
    "--collector.disable-defaults",
    "--collector.loadavg",
    "--collector.meminfo",
    "--collector.stat",
    "--collector.time",
    "--collector.uname",
];

#[tokio::test]
async fn prometheus_scrapes_node_exporter_every_second() {
    let prometheus = require_peer!(Peer::Prometheus);
    let node_exporter = require_peer!(Peer::NodeExporter);

    // node_exporter on loopback; both children are killed (by their own handle) and reaped
    // when their guards drop, also when an assertion below fails.
    let exporter_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut command = Command::new(&node_exporter);
    command
        .arg(format!("--web.listen-address={exporter_addr}"))
        .args(NODE_EXPORTER_FLAGS);
    let mut exporter = ChildGuard::spawn("node_exporter", command);
    exporter
        .wait_listening(exporter_addr, Duration::from_secs(10))
        .await;
    let (status, metrics) = http_get(exporter_addr, "/metrics")
        .unwrap_or_else(|e| panic!("GET /metrics: {e}\n{}", exporter.output_tail()));
    assert_eq!(status, 200, "{metrics}\n{}", exporter.output_tail());
    assert!(
        metrics.lines().any(|line| line.starts_with("node_load1 ")),
        "node_exporter serves no node_load1:\n{metrics}"
    );

    // Prometheus on loopback, scraping it every second.
    let prometheus_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let dir = temp_dir("prometheus");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      \
             - targets: [\"{exporter_addr}\"]\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(&prometheus);
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={prometheus_addr}"));
    let mut server = ChildGuard::spawn_in("prometheus", &mut command, dir);
    server
        .wait_listening(prometheus_addr, Duration::from_secs(20))
        .await;

    let started = Instant::now();
    loop {
        server.assert_running();
        exporter.assert_running();
        let last = match query(prometheus_addr, &format!("up{{job=\"{JOB}\"}}")) {
            Ok(result) if sample(&result, exporter_addr).as_deref() == Some("1") => break,
            Ok(result) => Value::Array(result).to_string(),
            Err(e) => e,
        };
        assert!(
            started.elapsed() < UP_WITHIN,
            "Prometheus did not report {JOB} at {exporter_addr} up within {UP_WITHIN:?}; last \
             answer: {last}\n{}\n{}",
            server.output_tail(),
            exporter.output_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "prometheus reported {JOB} up after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let result = query(prometheus_addr, "node_load1")
        .unwrap_or_else(|e| panic!("query node_load1: {e}\n{}", server.output_tail()));
    let load = sample(&result, exporter_addr).unwrap_or_else(|| {
        panic!(
            "node_load1 has no sample from {exporter_addr}: {}",
            Value::Array(result.clone())
        )
    });
    let load: f64 = load.parse().unwrap();
    assert!(load.is_finite() && load >= 0.0, "node_load1 = {load}");
}

/// `GET /api/v1/query?query=<promql>`: the `data.result` vector of a successful instant query.
fn query(addr: SocketAddr, promql: &str) -> Result<Vec<Value>, String> {
    let (status, body) = http_get(addr, &format!("/api/v1/query?query={}", percent(promql)))?;
    if status != 200 {
        return Err(format!("HTTP {status}: {body}"));
    }
    let answer: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if answer["status"] != "success" || answer["data"]["resultType"] != "vector" {
        return Err(format!("not a successful vector answer: {body}"));
    }
    match &answer["data"]["result"] {
        Value::Array(result) => Ok(result.clone()),
        _ => Err(format!("no data.result array: {body}")),
    }
}

/// The value (`"value": [<time>, "<value>"]`) of the series of our job scraped from `instance`.
fn sample(result: &[Value], instance: SocketAddr) -> Option<String> {
    result
        .iter()
        .find(|series| {
            series["metric"]["job"] == JOB && series["metric"]["instance"] == instance.to_string()
        })
        .and_then(|series| series["value"][1].as_str())
        .map(str::to_owned)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A one-shot HTTP/1.1 `GET` (`Connection: close`): the status and the body (de-chunked).
fn http_get(addr: SocketAddr, target: &str) -> Result<(u16, String), String> {
    let io = |e: std::io::Error| format!("GET http://{addr}{target}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(io)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(&raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    String::from_utf8(body)
        .map(|body| (status, body))
        .map_err(|e| format!("body is not UTF-8: {e}"))
}

/// Decodes a `Transfer-Encoding: chunked` body (trailers ignored).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line without CRLF")?;
        let line = String::from_utf8_lossy(&rest[..end]);
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|e| format!("chunk size {line:?}: {e}"))?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a truncated chunk")?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(size..)
            .and_then(|r| r.strip_prefix(b"\r\n"))
            .ok_or("a chunk not followed by CRLF")?;
    }
}
