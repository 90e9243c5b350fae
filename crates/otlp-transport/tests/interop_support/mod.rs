//! Helpers shared by the real-peer interop tests (`tests/interop_*.rs`): finding the peers
//! installed by `cargo xtask peers`, child processes that are killed on drop, a receiver whose
//! handler records every request, bounded polling, and conversions from the OTLP types to
//! plain JSON values so that what a peer says it sent can be compared with what arrived.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod checks;
pub mod corpus;
pub mod kafka;
mod peers;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{Metric, metric, number_data_point};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;
use otlp_transport::server::{ExportHandler, Receiver, RequestContext, RunningReceiver};
use otlp_transport::{PartialSuccess, Refusal};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

#[allow(unused_imports)] // each test binary uses its own subset
pub use peers::{Peer, locate, peers_env_file, require};

/// Returns early from the test when the peer is missing (see [`require`]).
#[macro_export]
macro_rules! require_peer {
    ($peer:expr) => {
        match $crate::interop_support::require($peer) {
            Some(path) => path,
            None => return,
        }
    };
}

/// A script or config file of `tests/peers/`.
pub fn peer_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/// A child process whose stdout and stderr go to files in a temp directory; killed (and
/// reaped) when dropped, so a failing test never leaves a peer running.
pub struct ChildGuard {
    name: String,
    child: Child,
    pub dir: tempfile::TempDir,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ChildGuard {
    /// Spawns `command` with stdin closed and stdout/stderr captured to files.
    pub fn spawn(name: &str, mut command: Command) -> ChildGuard {
        ChildGuard::spawn_in(name, &mut command, temp_dir(name))
    }

    /// Like [`ChildGuard::spawn`] with a directory the caller prepared (config files, ...).
    pub fn spawn_in(name: &str, command: &mut Command, dir: tempfile::TempDir) -> ChildGuard {
        let stdout = dir.path().join("stdout.txt");
        let stderr = dir.path().join("stderr.txt");
        command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ChildGuard {
            name: name.to_owned(),
            child,
            dir,
            stdout,
            stderr,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last lines of stdout and stderr, for failure messages.
    pub fn output_tail(&self) -> String {
        let tail = |text: String| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        format!(
            "--- {} stdout (tail) ---\n{}\n--- {} stderr (tail) ---\n{}",
            self.name,
            tail(self.stdout()),
            self.name,
            tail(self.stderr())
        )
    }

    /// `Some(code)` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Panics with the output if the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exited() {
            panic!(
                "{} exited early with {status}\n{}",
                self.name,
                self.output_tail()
            );
        }
    }

    /// Waits (polling) for the process to exit; panics with its output after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.output_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until a TCP connection to `addr` succeeds (the peer listens); panics with the
    /// peer's output if it exits or `timeout` passes first.
    pub async fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            self.assert_running();
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} not listening on {addr} after {timeout:?}\n{}",
                    self.name,
                    self.output_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A fresh temp directory, removed when dropped.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("interop-{name}-"))
        .tempdir()
        .unwrap()
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Kill by this child's own id only, then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 for a peer to bind (checked by binding it, then released).
///
/// Chosen at random *below* the kernel's ephemeral range (`ip_local_port_range`), where the
/// `127.0.0.1:0` binds of our own receivers (in this and the other tests running in
/// parallel) never land: a port released here cannot be taken by one of them before the peer
/// binds it, which would make the peer fail and our readiness probe reach the wrong server.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SALT: AtomicU64 = AtomicU64::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if ephemeral_low <= 12_000 {
        // No room below the ephemeral range: let the kernel pick (racy, but rare here).
        return TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
    }
    let (low, high) = (10_000, ephemeral_low);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut state =
        nanos ^ (u64::from(std::process::id()) << 32) ^ SALT.fetch_add(1 << 20, Ordering::Relaxed);
    for _ in 0..200 {
        // SplitMix64 step.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let port = low + (z % u64::from(high - low)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found in {low}..{high} after 200 tries");
}

// ---------------------------------------------------------------------------------------------
// A recording receiver
// ---------------------------------------------------------------------------------------------

static EMPTY_RESOURCE: std::sync::LazyLock<Resource> = std::sync::LazyLock::new(Resource::default);

/// Every request the receiver handed to the handler, with its context; and what the handler
/// should answer besides success.
#[derive(Default)]
pub struct Recorded {
    pub traces: Vec<(ExportTraceServiceRequest, RequestContext)>,
    pub metrics: Vec<(ExportMetricsServiceRequest, RequestContext)>,
    pub logs: Vec<(ExportLogsServiceRequest, RequestContext)>,
    /// Refusals to answer the next trace requests with, first to last (the refused requests
    /// are not recorded in `traces`).
    pub refuse_traces: std::collections::VecDeque<Refusal>,
    /// When each trace request arrived, refused or not.
    pub trace_arrivals: Vec<(Instant, bool)>,
    /// The partial success to answer every logs request with.
    pub partial_logs: Option<PartialSuccess>,
}

impl Recorded {
    pub fn contexts(&self) -> impl Iterator<Item = &RequestContext> {
        self.traces
            .iter()
            .map(|(_, c)| c)
            .chain(self.metrics.iter().map(|(_, c)| c))
            .chain(self.logs.iter().map(|(_, c)| c))
    }

    /// Every span with the resource it came with.
    pub fn spans(&self) -> Vec<(&Resource, &Span)> {
        let empty: &Resource = &EMPTY_RESOURCE;
        let mut out = Vec::new();
        for (request, _) in &self.traces {
            for rs in &request.resource_spans {
                let resource = rs.resource.as_ref().unwrap_or(empty);
                for ss in &rs.scope_spans {
                    out.extend(ss.spans.iter().map(|span| (resource, span)));
                }
            }
        }
        out
    }

    /// Every metric with the resource it came with.
    pub fn metrics(&self) -> Vec<(&Resource, &Metric)> {
        let empty: &Resource = &EMPTY_RESOURCE;
        let mut out = Vec::new();
        for (request, _) in &self.metrics {
            for rm in &request.resource_metrics {
                let resource = rm.resource.as_ref().unwrap_or(empty);
                for sm in &rm.scope_metrics {
                    out.extend(sm.metrics.iter().map(|m| (resource, m)));
                }
            }
        }
        out
    }

    /// Every log record with the resource it came with.
    pub fn log_records(&self) -> Vec<(&Resource, &LogRecord)> {
        let empty: &Resource = &EMPTY_RESOURCE;
        let mut out = Vec::new();
        for (request, _) in &self.logs {
            for rl in &request.resource_logs {
                let resource = rl.resource.as_ref().unwrap_or(empty);
                for sl in &rl.scope_logs {
                    out.extend(sl.log_records.iter().map(|r| (resource, r)));
                }
            }
        }
        out
    }

    /// Every span with its resource and scope, keyed by span id.
    pub fn spans_by_id(&self) -> BTreeMap<Vec<u8>, Scoped<Span>> {
        flatten_spans(self.traces.iter().map(|(r, _)| r))
    }

    /// Every log record with its resource and scope, keyed by its `seq` attribute.
    pub fn logs_by_seq(&self) -> BTreeMap<i64, Scoped<LogRecord>> {
        flatten_logs(self.logs.iter().map(|(r, _)| r))
    }

    /// Every metric with its resource and scope, keyed by name.
    pub fn metrics_by_name(&self) -> BTreeMap<String, Vec<Scoped<Metric>>> {
        flatten_metrics(self.metrics.iter().map(|(r, _)| r))
    }

    pub fn span_count(&self) -> usize {
        self.spans().len()
    }

    pub fn log_count(&self) -> usize {
        self.log_records().len()
    }

    /// Number data points and histogram data points, over every metric.
    pub fn data_point_count(&self) -> usize {
        self.metrics()
            .iter()
            .map(|(_, m)| data_points(m).len())
            .sum()
    }
}

/// An item with the resource and scope it travelled with.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped<T> {
    pub resource: Resource,
    pub scope: Option<InstrumentationScope>,
    pub item: T,
}

/// Spans of `requests` by span id; panics on a duplicate id.
pub fn flatten_spans<'a>(
    requests: impl IntoIterator<Item = &'a ExportTraceServiceRequest>,
) -> BTreeMap<Vec<u8>, Scoped<Span>> {
    let mut out = BTreeMap::new();
    for rs in requests.into_iter().flat_map(|r| &r.resource_spans) {
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let scoped = Scoped {
                    resource: rs.resource.clone().unwrap_or_default(),
                    scope: ss.scope.clone(),
                    item: span.clone(),
                };
                assert!(
                    out.insert(span.span_id.clone(), scoped).is_none(),
                    "span {} twice",
                    hex(&span.span_id)
                );
            }
        }
    }
    out
}

/// Log records of `requests` by their `seq` attribute; panics on a duplicate or missing one.
pub fn flatten_logs<'a>(
    requests: impl IntoIterator<Item = &'a ExportLogsServiceRequest>,
) -> BTreeMap<i64, Scoped<LogRecord>> {
    let mut out = BTreeMap::new();
    for rl in requests.into_iter().flat_map(|r| &r.resource_logs) {
        for sl in &rl.scope_logs {
            for record in &sl.log_records {
                let seq =
                    corpus::seq(&record.attributes).expect("log record without a seq attribute");
                let scoped = Scoped {
                    resource: rl.resource.clone().unwrap_or_default(),
                    scope: sl.scope.clone(),
                    item: record.clone(),
                };
                assert!(
                    out.insert(seq, scoped).is_none(),
                    "log record seq={seq} twice"
                );
            }
        }
    }
    out
}

/// Metrics of `requests` by name (a name may come in several requests).
pub fn flatten_metrics<'a>(
    requests: impl IntoIterator<Item = &'a ExportMetricsServiceRequest>,
) -> BTreeMap<String, Vec<Scoped<Metric>>> {
    let mut out: BTreeMap<String, Vec<Scoped<Metric>>> = BTreeMap::new();
    for rm in requests.into_iter().flat_map(|r| &r.resource_metrics) {
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                out.entry(metric.name.clone()).or_default().push(Scoped {
                    resource: rm.resource.clone().unwrap_or_default(),
                    scope: sm.scope.clone(),
                    item: metric.clone(),
                });
            }
        }
    }
    out
}

/// A handler that accepts everything and records it.
#[derive(Default, Clone)]
pub struct Recorder(pub Arc<Mutex<Recorded>>);

impl Recorder {
    pub fn with<T>(&self, f: impl FnOnce(&Recorded) -> T) -> T {
        f(&self.0.lock().unwrap())
    }

    pub fn with_mut<T>(&self, f: impl FnOnce(&mut Recorded) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }

    /// Polls until `done` holds; panics with `what` and the state summary after `timeout`.
    pub async fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&Recorded) -> bool) {
        if let Err(message) = self.wait_until(what, timeout, done).await {
            panic!("{message}");
        }
    }

    /// Polls until `done` holds; after `timeout`, an error naming `what` and what arrived.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Recorded) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.with(&done) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let summary = self.with(|r| {
                    format!(
                        "{} trace requests ({} spans), {} metric requests ({} points), {} log requests ({} records)",
                        r.traces.len(),
                        r.span_count(),
                        r.metrics.len(),
                        r.data_point_count(),
                        r.logs.len(),
                        r.log_count()
                    )
                });
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what}; received so far: {summary}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[async_trait::async_trait]
impl ExportHandler for Recorder {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let mut recorded = self.0.lock().unwrap();
        if let Some(refusal) = recorded.refuse_traces.pop_front() {
            recorded.trace_arrivals.push((Instant::now(), true));
            return Err(refusal);
        }
        recorded.trace_arrivals.push((Instant::now(), false));
        recorded.traces.push((request, context));
        Ok(None)
    }

    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.lock().unwrap().metrics.push((request, context));
        Ok(None)
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let mut recorded = self.0.lock().unwrap();
        recorded.logs.push((request, context));
        Ok(recorded.partial_logs.clone())
    }
}

/// Our receiver on 127.0.0.1 (ports picked by the OS), gRPC and HTTP, recording everything.
pub async fn start_receiver() -> (Recorder, RunningReceiver) {
    let recorder = Recorder::default();
    let receiver = Receiver::new(recorder.clone())
        .grpc("127.0.0.1:0".parse().unwrap())
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("starting our receiver");
    (recorder, receiver)
}

// ---------------------------------------------------------------------------------------------
// OTLP values as JSON, for comparisons
// ---------------------------------------------------------------------------------------------

pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// An `AnyValue` as JSON: strings, booleans, `i64` and `f64` keep their JSON types (so an int
/// sent as a double, or the reverse, does not compare equal); bytes become lowercase hex.
pub fn value_json(value: &AnyValue) -> Value {
    match &value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => json!(*i),
        Some(any_value::Value::DoubleValue(d)) => json!(*d),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(value_json).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(attributes_json(&kv.values)),
        Some(any_value::Value::BytesValue(b)) => Value::String(hex(b)),
        #[allow(unreachable_patterns)]
        Some(_) => Value::String("<unsupported AnyValue>".into()),
    }
}

pub fn attributes_json(attributes: &[KeyValue]) -> Map<String, Value> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(Value::Null, value_json),
            )
        })
        .collect()
}

/// Asserts that every key of `expected` is in `actual` with the same JSON value (`actual` may
/// have more, such as the SDK's own `code.*` or `exception.*` attributes).
pub fn assert_attributes_include(what: &str, actual: &Map<String, Value>, expected: &Value) {
    let expected = expected
        .as_object()
        .unwrap_or_else(|| panic!("{what}: expected attributes must be an object"));
    for (key, value) in expected {
        assert_eq!(
            actual.get(key),
            Some(value),
            "{what}: attribute {key:?} differs (expected {value}); all attributes: {}",
            Value::Object(actual.clone())
        );
    }
}

pub fn resource_attr<'a>(resource: &'a Resource, key: &str) -> Option<&'a AnyValue> {
    resource
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// A metric's data points as `(attributes, value)`, the value as JSON: `{"int": n}`,
/// `{"double": x}` or `{"count": n, "sum": x}` for histograms.
pub fn data_points(metric: &Metric) -> Vec<(Map<String, Value>, Value)> {
    let number = |value: &Option<number_data_point::Value>| match value {
        Some(number_data_point::Value::AsInt(i)) => json!({ "int": i }),
        Some(number_data_point::Value::AsDouble(d)) => json!({ "double": d }),
        None => Value::Null,
    };
    match &metric.data {
        Some(metric::Data::Gauge(g)) => g
            .data_points
            .iter()
            .map(|p| (attributes_json(&p.attributes), number(&p.value)))
            .collect(),
        Some(metric::Data::Sum(s)) => s
            .data_points
            .iter()
            .map(|p| (attributes_json(&p.attributes), number(&p.value)))
            .collect(),
        Some(metric::Data::Histogram(h)) => h
            .data_points
            .iter()
            .map(|p| {
                (
                    attributes_json(&p.attributes),
                    json!({ "count": p.count, "sum": p.sum }),
                )
            })
            .collect(),
        Some(metric::Data::ExponentialHistogram(h)) => h
            .data_points
            .iter()
            .map(|p| {
                (
                    attributes_json(&p.attributes),
                    json!({ "count": p.count, "sum": p.sum }),
                )
            })
            .collect(),
        Some(metric::Data::Summary(s)) => s
            .data_points
            .iter()
            .map(|p| {
                (
                    attributes_json(&p.attributes),
                    json!({ "count": p.count, "sum": p.sum }),
                )
            })
            .collect(),
        None => Vec::new(),
    }
}

/// The metric's type name: `gauge`, `sum`, `histogram`, `exponential_histogram`, `summary`.
pub fn metric_type(metric: &Metric) -> &'static str {
    match &metric.data {
        Some(metric::Data::Gauge(_)) => "gauge",
        Some(metric::Data::Sum(_)) => "sum",
        Some(metric::Data::Histogram(_)) => "histogram",
        Some(metric::Data::ExponentialHistogram(_)) => "exponential_histogram",
        Some(metric::Data::Summary(_)) => "summary",
        None => "none",
    }
}

/// Spans by span id (hex), failing on a duplicate id.
pub fn spans_by_id<'a>(
    spans: &[(&'a Resource, &'a Span)],
) -> BTreeMap<String, (&'a Resource, &'a Span)> {
    let mut map = BTreeMap::new();
    for (resource, span) in spans {
        let id = hex(&span.span_id);
        assert!(
            map.insert(id.clone(), (*resource, *span)).is_none(),
            "span {id} arrived twice"
        );
    }
    map
}

/// Measures how long a test took, for the summary line it prints.
pub struct Timer(Instant, &'static str);

impl Timer {
    pub fn start(name: &'static str) -> Timer {
        Timer(Instant::now(), name)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("[interop] {} took {:.2?}", self.1, self.0.elapsed());
    }
}
