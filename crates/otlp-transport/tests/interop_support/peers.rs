//! Finding the interop peers installed by `cargo xtask peers`: from `OTLP_PEER_*`, else from
//! `target/peers/peers.env`; a missing peer skips the test, or fails it under
//! `OTLP_REQUIRE_PEERS=1` (set by `cargo xtask test`). Shared by the transport's interop tests
//! and the collector's end-to-end tests (included there by path).

use std::path::{Path, PathBuf};

/// An interop peer installed by `cargo xtask peers` into `target/peers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The Python venv's interpreter (OpenTelemetry Python SDK and its OTLP exporters).
    Python,
    /// `rotel-agent`, an OTLP collector written in Rust.
    Rotel,
    /// `otelcol-contrib` (filelog receiver, otlphttp exporter).
    Otelcol,
    /// `prometheus` 2.42.0 (Debian bookworm's package; its HTTP API, no web UI assets).
    Prometheus,
    /// `node_exporter` 1.5.0 (Debian bookworm's `prometheus-node-exporter`).
    NodeExporter,
    /// `otelcol-go`: the Go OpenTelemetry Collector v0.165.0, core components (otlp receiver,
    /// batch, otlp_grpc and otlp_http exporters), built by `cargo xtask peers`.
    OtelcolGo,
    /// `otelcol-contrib-go`: the Go OpenTelemetry Collector v0.160.0 with contrib components
    /// (kafka, load_balancing, tail_sampling, file_log, host_metrics, fluent_forward,
    /// metrics_transform, zipkin, jaeger, file_storage, pprof, bearertokenauth; core's otlp, batch,
    /// otlp_grpc, otlp_http, debug, zpages), built by `cargo xtask peers`.
    OtelcolContribGo,
    /// `kafka-broker`: the launcher of an Apache Kafka 4.0.2 broker (single KRaft node on
    /// loopback); see `interop_support/kafka.rs` for the broker the tests share.
    Kafka,
    /// The Zipkin venv's Python: OpenTelemetry Python 1.45.1 with its Zipkin exporters (v2 JSON
    /// and v2 protobuf).
    PythonZipkin,
    /// The `py_zipkin` 1.2.8 venv's Python (Zipkin v1 and v2 JSON).
    PyZipkin,
    /// `zipkin-server.jar`: the Zipkin 3.5.1 server (run with `java -jar`).
    Zipkin,
    /// The Jaeger venv's Python: OpenTelemetry Python 1.21.0 with its Jaeger exporters.
    PythonJaeger,
    /// The `jaeger-client` 4.8.0 venv's Python (with Apache Thrift's library).
    JaegerClient,
    /// `jaeger`: the Jaeger v1.75.0 backend (Jaeger v2, `cmd/jaeger`), built by `cargo xtask
    /// peers`.
    Jaeger,
}

impl Peer {
    pub const fn env_var(self) -> &'static str {
        match self {
            Peer::Python => "OTLP_PEER_PYTHON",
            Peer::Rotel => "OTLP_PEER_ROTEL",
            Peer::Otelcol => "OTLP_PEER_OTELCOL",
            Peer::Prometheus => "OTLP_PEER_PROMETHEUS",
            Peer::NodeExporter => "OTLP_PEER_NODE_EXPORTER",
            Peer::OtelcolGo => "OTLP_PEER_OTELCOL_GO",
            Peer::OtelcolContribGo => "OTLP_PEER_OTELCOL_CONTRIB_GO",
            Peer::Kafka => "OTLP_PEER_KAFKA",
            Peer::PythonZipkin => "OTLP_PEER_PYTHON_ZIPKIN",
            Peer::PyZipkin => "OTLP_PEER_PY_ZIPKIN",
            Peer::Zipkin => "OTLP_PEER_ZIPKIN",
            Peer::PythonJaeger => "OTLP_PEER_PYTHON_JAEGER",
            Peer::JaegerClient => "OTLP_PEER_JAEGER_CLIENT",
            Peer::Jaeger => "OTLP_PEER_JAEGER",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Peer::Python => "python (OpenTelemetry Python SDK)",
            Peer::Rotel => "rotel-agent",
            Peer::Otelcol => "otelcol-contrib",
            Peer::Prometheus => "prometheus",
            Peer::NodeExporter => "node_exporter",
            Peer::OtelcolGo => "otelcol-go",
            Peer::OtelcolContribGo => "otelcol-contrib-go",
            Peer::Kafka => "kafka-broker (Apache Kafka 4.0.2)",
            Peer::PythonZipkin => "python (OpenTelemetry Python SDK with its Zipkin exporters)",
            Peer::PyZipkin => "python (py_zipkin)",
            Peer::Zipkin => "zipkin-server.jar (Zipkin 3.5.1)",
            Peer::PythonJaeger => "python (OpenTelemetry Python 1.21.0 with its Jaeger exporters)",
            Peer::JaegerClient => "python (jaeger-client 4.8.0)",
            Peer::Jaeger => "jaeger (Jaeger v1.75.0)",
        }
    }
}

/// `target/peers/peers.env` of this workspace.
pub fn peers_env_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers/peers.env")
}

/// The peer's path from its environment variable, else from `target/peers/peers.env`; `None`
/// when neither names an existing file.
pub fn locate(peer: Peer) -> Option<PathBuf> {
    let from_env = std::env::var_os(peer.env_var())
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let from_file = || {
        let text = std::fs::read_to_string(peers_env_file()).ok()?;
        text.lines().find_map(|line| {
            let (key, value) = line.trim().split_once('=')?;
            (key.trim() == peer.env_var()).then(|| PathBuf::from(value.trim().trim_matches('"')))
        })
    };
    from_env.or_else(from_file).filter(|path| path.is_file())
}

/// The peer's path, or `None` after printing a skip notice. With `OTLP_REQUIRE_PEERS=1` (set by
/// `cargo xtask test`) a missing peer is a failure instead.
pub fn require(peer: Peer) -> Option<PathBuf> {
    if let Some(path) = locate(peer) {
        return Some(path);
    }
    if std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        let why = match std::env::var(peer.env_var()) {
            Ok(value) if !value.is_empty() => format!("{}={value} names no file", peer.env_var()),
            _ => format!(
                "{} is unset and {} does not name an existing file for it",
                peer.env_var(),
                peers_env_file().display()
            ),
        };
        panic!(
            "peer {} not installed: {why}; run `cargo xtask peers` (OTLP_REQUIRE_PEERS=1 makes \
             a missing peer a failure instead of a skip)",
            peer.name()
        );
    }
    println!(
        "skipping: peer {} not installed (run cargo xtask peers)",
        peer.name()
    );
    None
}
