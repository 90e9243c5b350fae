//! What the Kafka end-to-end tests share (`e2e_kafka*.rs`): the broker from
//! `interop_support/kafka.rs` (included from otlp-transport's tests), unique names, starting a
//! collector from a config, reading a sink's span ids and a collector's self-metrics.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use crate::support::{Proc, RunningSink, start_collector, temp_dir, write};

/// What `interop_support/kafka.rs` takes from its sibling `peers` (loaded once, by `support`).
mod peers {
    pub(crate) use crate::support::{Peer, require};
}

#[path = "../../../otlp-transport/tests/interop_support/kafka.rs"]
pub mod kafka_support;

/// How long a test waits for what it expects to arrive.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The service section that turns a collector's self-metrics off.
pub const QUIET: &str = "  telemetry:\n    metrics:\n      level: none\n";

/// A topic or group name no other test uses (one broker is shared).
pub fn unique(what: &str) -> String {
    kafka_support::unique_name(what)
}

/// An otlp-collector process on `config`, with the directory holding the file.
pub async fn start(name: &str, config: &str) -> (Proc, tempfile::TempDir) {
    let dir = temp_dir(name);
    let path = write(dir.path(), "collector.yaml", config);
    let proc = start_collector(name, &path, &[]).await;
    (proc, dir)
}

/// The span ids a sink received.
pub fn span_set(sink: &RunningSink) -> BTreeSet<u64> {
    sink.with(|r| r.span_set())
}

/// The sum of every sample of `metric` on a collector's Prometheus endpoint (0 when it does
/// not answer).
pub fn scrape(addr: SocketAddr, metric: &str) -> f64 {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return 0.0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text.lines()
        .filter(|line| line.starts_with(metric))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
