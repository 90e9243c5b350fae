//! What the Kafka end-to-end tests share (`e2e_kafka*.rs`): the broker from
//! `interop_support/kafka.rs` (included from otlp-transport's tests), unique names, starting a
//! collector from a config, the agent and gateway configs, reading a sink's span ids and a
//! collector's self-metrics.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

pub use crate::support::scrape;
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

/// An agent: OTLP/gRPC in, the kafka exporter out to `topic`, with `security` (an `auth` or
/// `tls` block) and `exporter_extra` under the exporter, and `telemetry` (e.g. [`QUIET`]).
pub fn agent_config(
    otlp: SocketAddr,
    bootstrap: &str,
    topic: &str,
    security: &str,
    exporter_extra: &str,
    telemetry: &str,
) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {otlp}
exporters:
  kafka:
    brokers: [{bootstrap}]
    traces:
      topic: {topic}
{security}{exporter_extra}
service:
{telemetry}  pipelines:
    traces:
      receivers: [otlp]
      exporters: [kafka]
"
    )
}

/// A gateway: the kafka receiver (group `group`, from the earliest offset, with
/// `receiver_extra` under it) in, OTLP/gRPC out to `sink` without a sending queue or retries
/// (the pipeline accepts a message only once the sink did: what the at-least-once claim
/// needs).
pub fn gateway_config(
    bootstrap: &str,
    topic: &str,
    group: &str,
    receiver_extra: &str,
    sink: SocketAddr,
    telemetry: &str,
) -> String {
    format!(
        "receivers:
  kafka:
    brokers: [{bootstrap}]
    group_id: {group}
    initial_offset: earliest
    traces:
      topics: [{topic}]
{receiver_extra}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
service:
{telemetry}  pipelines:
    traces:
      receivers: [kafka]
      exporters: [otlp]
"
    )
}
