//! Shared by the end-to-end tests (`tests/e2e_*.rs`): the built collector as a child process
//! (killed on drop), an in-test OTLP sink that records every item it gets, a client without
//! retries (so a refusal is seen, not retried), payloads whose every item carries a unique
//! id, the interop peers, and bounded polling.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::client::{ExportError, OtlpExporter, Protocol, RetryConfig};
use otlp_transport::server::{ExportHandler, Limits, Receiver, RequestContext, RunningReceiver};
use otlp_transport::{PartialSuccess, Refusal};

/// The binary under test.
pub const COLLECTOR: &str = env!("CARGO_BIN_EXE_otlp-collector");

/// The line the collector logs once every component has started.
pub const READY: &str = "Everything is ready. Begin running and processing data.";

// ---------------------------------------------------------------------------------------------
// Ports, files, polling
// ---------------------------------------------------------------------------------------------

/// A free port on 127.0.0.1 (bound, then released: the process under test binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `127.0.0.1:<free port>`.
pub fn free_addr() -> SocketAddr {
    ([127, 0, 0, 1], free_port()).into()
}

/// A free address for a destination that is **down** until the test starts it: a port below
/// the kernel's ephemeral range. Connecting to a closed port inside that range can pick the
/// same port as its source and connect to itself (TCP simultaneous open), which would occupy
/// the port the test means to bind later; below the range that cannot happen.
pub fn down_addr() -> SocketAddr {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (first, last) = (10_000u16, low.saturating_sub(1).max(10_001));
    let span = u32::from(last - first);
    let start = (std::process::id().wrapping_mul(7919)
        ^ NEXT_ID.fetch_add(97, Ordering::Relaxed) as u32)
        % span;
    for i in 0..span {
        let port = first + ((start + i) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return ([127, 0, 0, 1], port).into();
        }
    }
    panic!("no free port between {first} and {last}");
}

/// `true` when something accepts TCP connections on `addr`.
pub fn listening(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// A fresh temp directory, removed when dropped.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("e2e-{name}-"))
        .tempdir()
        .unwrap()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Polls `done` every 20 ms until it holds; panics with `what()` after `timeout`.
pub async fn wait_until(
    timeout: Duration,
    what: impl Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?}: {}", what());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Prints how long a test took when dropped.
pub struct Timer(Instant, &'static str);

impl Timer {
    pub fn start(name: &'static str) -> Timer {
        Timer(Instant::now(), name)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("[e2e] {} took {:.2?}", self.1, self.0.elapsed());
    }
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/// Sends `signal` to the process `pid` (our own child only).
pub fn send_signal(pid: u32, signal: i32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill(2) with a pid of a child this test spawned and has not reaped; it touches
    // no memory of this process.
    #[allow(unsafe_code)]
    let result = unsafe { libc::kill(pid, signal) };
    assert_eq!(
        result,
        0,
        "kill({pid}, {signal}): {}",
        std::io::Error::last_os_error()
    );
}

/// A child process with stdout and stderr in files of its own temp directory; killed (SIGKILL,
/// by its own pid) and reaped when dropped, so a failing test leaves nothing running.
pub struct Proc {
    name: String,
    child: Option<Child>,
    pid: u32,
    stdout: PathBuf,
    stderr: PathBuf,
    status: Option<ExitStatus>,
    /// Owns the output files; also a scratch directory for the test.
    pub dir: tempfile::TempDir,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command) -> Proc {
        let dir = temp_dir(name);
        let stdout = dir.path().join("stdout.txt");
        let stderr = dir.path().join("stderr.txt");
        command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        let pid = child.id();
        Proc {
            name: name.to_owned(),
            child: Some(child),
            pid,
            stdout,
            stderr,
            status: None,
            dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last lines of stdout and stderr, for failure messages.
    pub fn tail(&self) -> String {
        let tail = |text: String| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(60)..].join("\n")
        };
        format!(
            "--- {name} stdout (tail) ---\n{}\n--- {name} stderr (tail) ---\n{}",
            tail(self.stdout()),
            tail(self.stderr()),
            name = self.name
        )
    }

    /// The exit status once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait().unwrap()
        {
            self.status = Some(status);
        }
        self.status
    }

    /// Panics with the output when the process is gone.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exited() {
            panic!("{} exited early with {status}\n{}", self.name, self.tail());
        }
    }

    pub fn signal(&mut self, signal: i32) {
        assert!(
            self.exited().is_none(),
            "{} already exited\n{}",
            self.name,
            self.tail()
        );
        send_signal(self.pid, signal);
    }

    pub fn terminate(&mut self) {
        self.signal(libc::SIGTERM);
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) -> ExitStatus {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let status = child.wait().unwrap();
            self.status = Some(status);
        }
        self.status.unwrap()
    }

    /// Waits (polling) for the exit; panics with the output after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until stderr or stdout contains `needle`; panics if the process exits first or
    /// after `timeout`.
    pub async fn wait_for_output(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) || self.stdout().contains(needle) {
                return;
            }
            self.assert_running();
            if Instant::now() >= deadline {
                panic!(
                    "{} did not print {needle:?} within {timeout:?}\n{}",
                    self.name,
                    self.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until a TCP connection to `addr` succeeds.
    pub async fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            self.assert_running();
            if listening(addr) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} not listening on {addr} after {timeout:?}\n{}",
                    self.name,
                    self.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The resident set size (`VmRSS` of `/proc/<pid>/status`), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// The peak resident set size so far (`VmHWM`), in KiB.
    #[allow(dead_code)] // not every test binary reads it
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.status.is_none() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// The collector, started with `args` (`--config` paths, ...).
pub fn collector(name: &str, args: &[&str]) -> Proc {
    let mut command = Command::new(COLLECTOR);
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    Proc::spawn(name, command)
}

/// Starts the collector on the config file `config` and waits for its ready line.
pub async fn start_collector(name: &str, config: &Path, extra: &[&str]) -> Proc {
    let mut args = vec!["--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut proc = collector(name, &args);
    proc.wait_for_output(READY, Duration::from_secs(15)).await;
    proc
}

/// Runs the collector to completion with `args`; returns its exit code, stdout and stderr.
pub fn run_collector(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(COLLECTOR)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------

#[path = "../../../otlp-transport/tests/interop_support/peers.rs"]
mod peers;
#[allow(unused_imports)] // each test binary uses its own subset
pub use peers::{Peer, locate, peers_env_file, require};

/// Returns early from the test when the peer is missing (see [`require`]).
#[macro_export]
macro_rules! require_peer {
    ($peer:expr) => {
        match $crate::support::require($peer) {
            Some(path) => path,
            None => return,
        }
    };
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

/// A file of `tests/peers/`.
pub fn peer_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// Payloads: every item carries a unique id
// ---------------------------------------------------------------------------------------------

/// The attribute that carries an item's id on metric data points and log records (spans use
/// their span id).
pub const ITEM_ID: &str = "e2e.item.id";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `n` fresh ids, unique within this test process.
pub fn ids(n: usize) -> Vec<u64> {
    let first = NEXT_ID.fetch_add(n as u64, Ordering::Relaxed);
    (first..first + n as u64).collect()
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv_str("service.name", service)],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "otlp-collector-e2e".into(),
        version: "1".into(),
        ..Default::default()
    })
}

pub fn kv_str(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

pub fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One span per id (span id = the id, big-endian), with `padding` bytes of attribute.
pub fn traces(ids: &[u64], padding: usize) -> ExportTraceServiceRequest {
    let now = now_nanos();
    let spans = ids
        .iter()
        .map(|&id| {
            let mut attributes = vec![kv_int(ITEM_ID, id as i64)];
            if padding > 0 {
                attributes.push(kv_str("e2e.padding", &"x".repeat(padding)));
            }
            Span {
                trace_id: [&[0xe2u8; 8][..], &id.to_be_bytes()].concat(),
                span_id: id.to_be_bytes().to_vec(),
                name: format!("e2e span {id}"),
                kind: 2,
                start_time_unix_nano: now,
                end_time_unix_nano: now + 1_000,
                attributes,
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("e2e"),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One gauge data point per id.
pub fn metrics(ids: &[u64]) -> ExportMetricsServiceRequest {
    let now = now_nanos();
    let data_points = ids
        .iter()
        .map(|&id| NumberDataPoint {
            attributes: vec![kv_int(ITEM_ID, id as i64)],
            time_unix_nano: now,
            value: Some(number_data_point::Value::AsInt(id as i64)),
            ..Default::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource("e2e"),
            scope_metrics: vec![ScopeMetrics {
                scope: scope(),
                metrics: vec![Metric {
                    name: "e2e.gauge".into(),
                    unit: "1".into(),
                    data: Some(metric::Data::Gauge(Gauge { data_points })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One log record per id.
pub fn logs(ids: &[u64]) -> ExportLogsServiceRequest {
    let now = now_nanos();
    let log_records = ids
        .iter()
        .map(|&id| LogRecord {
            time_unix_nano: now,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue(format!("e2e log {id}"))),
            }),
            attributes: vec![kv_int(ITEM_ID, id as i64)],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("e2e"),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn item_id(attributes: &[KeyValue]) -> Option<u64> {
    attributes
        .iter()
        .find(|kv| kv.key == ITEM_ID)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::IntValue(i) => u64::try_from(*i).ok(),
            _ => None,
        })
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// An OTLP client to `addr` over `protocol`, without retries: every refusal is returned.
pub fn client(protocol: Protocol, addr: SocketAddr) -> OtlpExporter {
    OtlpExporter::builder()
        .protocol(protocol)
        .endpoint(format!("http://{addr}"))
        .timeout(Duration::from_secs(10))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// `true` when the error is the retryable refusal a collector under pressure answers: gRPC
/// UNAVAILABLE (or RESOURCE_EXHAUSTED) / HTTP 503 (or 429).
pub fn is_retryable_refusal(error: &ExportError) -> bool {
    use otlp_transport::grpc_wire::GrpcCode;
    if let Some(code) = error.grpc_code() {
        return matches!(code, GrpcCode::Unavailable | GrpcCode::ResourceExhausted);
    }
    if let Some(status) = error.http_status() {
        return status.as_u16() == 503 || status.as_u16() == 429;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// The sink
// ---------------------------------------------------------------------------------------------

/// What a sink received.
#[derive(Debug, Default)]
pub struct Received {
    pub trace_requests: usize,
    pub metric_requests: usize,
    pub log_requests: usize,
    /// Span ids (as u64) of every span.
    pub spans: Vec<u64>,
    /// Item ids of every data point that has one; `points` counts every data point.
    pub point_ids: Vec<u64>,
    pub points: usize,
    /// Item ids of every log record that has one; `records` counts every record.
    pub log_ids: Vec<u64>,
    pub records: usize,
    /// The requests themselves, in arrival order.
    pub traces: Vec<ExportTraceServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub logs: Vec<ExportLogsServiceRequest>,
    /// Transport of every request (gRPC or HTTP).
    pub transports: BTreeSet<String>,
}

impl Received {
    pub fn span_set(&self) -> BTreeSet<u64> {
        self.spans.iter().copied().collect()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} trace requests ({} spans), {} metric requests ({} points), {} log requests ({} records)",
            self.trace_requests,
            self.spans.len(),
            self.metric_requests,
            self.points,
            self.log_requests,
            self.records
        )
    }
}

/// An OTLP receiver (gRPC and HTTP) that records every item; optionally slow.
#[derive(Clone, Default)]
pub struct Sink {
    pub received: Arc<Mutex<Received>>,
    delay: Arc<Mutex<Duration>>,
}

impl Sink {
    pub fn with<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        f(&self.received.lock().unwrap())
    }

    /// Every request waits this long before it is answered.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    async fn pause(&self) {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Polls until `done` holds; panics with the state after `timeout`.
    pub async fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&Received) -> bool) {
        self.wait_for_with(what, timeout, done, String::new).await;
    }

    /// [`wait_for`](Self::wait_for), adding `context()` (the processes' output) to the panic.
    pub async fn wait_for_with(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Received) -> bool,
        context: impl Fn() -> String,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.with(&done) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; received: {}\n{}",
                    self.with(Received::summary),
                    context()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn transport(context: &RequestContext) -> String {
    format!("{:?}", context.transport)
}

#[async_trait::async_trait]
impl ExportHandler for Sink {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.pause().await;
        let mut r = self.received.lock().unwrap();
        r.trace_requests += 1;
        r.transports.insert(transport(&context));
        for rs in &request.resource_spans {
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    let id =
                        <[u8; 8]>::try_from(span.span_id.as_slice()).map_or(0, u64::from_be_bytes);
                    r.spans.push(id);
                }
            }
        }
        r.traces.push(request);
        Ok(None)
    }

    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.pause().await;
        let mut r = self.received.lock().unwrap();
        r.metric_requests += 1;
        r.transports.insert(transport(&context));
        for rm in &request.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    let points: Vec<&[KeyValue]> = match &m.data {
                        Some(metric::Data::Gauge(g)) => g
                            .data_points
                            .iter()
                            .map(|p| p.attributes.as_slice())
                            .collect(),
                        Some(metric::Data::Sum(s)) => s
                            .data_points
                            .iter()
                            .map(|p| p.attributes.as_slice())
                            .collect(),
                        Some(metric::Data::Histogram(h)) => h
                            .data_points
                            .iter()
                            .map(|p| p.attributes.as_slice())
                            .collect(),
                        Some(metric::Data::ExponentialHistogram(h)) => h
                            .data_points
                            .iter()
                            .map(|p| p.attributes.as_slice())
                            .collect(),
                        Some(metric::Data::Summary(s)) => s
                            .data_points
                            .iter()
                            .map(|p| p.attributes.as_slice())
                            .collect(),
                        None => Vec::new(),
                    };
                    r.points += points.len();
                    let ids: Vec<u64> = points.iter().filter_map(|a| item_id(a)).collect();
                    r.point_ids.extend(ids);
                }
            }
        }
        r.metrics.push(request);
        Ok(None)
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.pause().await;
        let mut r = self.received.lock().unwrap();
        r.log_requests += 1;
        r.transports.insert(transport(&context));
        for rl in &request.resource_logs {
            for sl in &rl.scope_logs {
                r.records += sl.log_records.len();
                let ids: Vec<u64> = sl
                    .log_records
                    .iter()
                    .filter_map(|l| item_id(&l.attributes))
                    .collect();
                r.log_ids.extend(ids);
            }
        }
        r.logs.push(request);
        Ok(None)
    }
}

/// A running sink with its gRPC and HTTP addresses.
pub struct RunningSink {
    pub sink: Sink,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    /// A Zipkin endpoint (`POST /api/v2/spans`, otlp-rs's own `zipkin` receiver) recording
    /// into the same sink, for configs with a `zipkin` exporter.
    pub zipkin: SocketAddr,
    receiver: Option<RunningReceiver>,
    zipkin_receiver: Option<otlp_receivers::zipkin::ZipkinReceiver>,
}

/// Hands what the sink's Zipkin receiver decodes to the sink, as if it came over OTLP/HTTP.
struct ZipkinToSink(Sink);

#[async_trait::async_trait]
impl otlp_pipeline::component::Consumer for ZipkinToSink {
    async fn consume(
        &self,
        data: otlp_pipeline::data::Telemetry,
    ) -> Result<(), otlp_pipeline::error::ConsumeError> {
        if let Some(traces) = data.traces() {
            let context = RequestContext::new(
                otlp_transport::Signal::Traces,
                otlp_transport::server::Transport::Http,
            );
            self.0
                .export_traces(traces.clone(), context)
                .await
                .map_err(|e| otlp_pipeline::error::ConsumeError::permanent(e.to_string()))?;
        }
        Ok(())
    }
}

impl RunningSink {
    /// A sink on fresh ports.
    pub async fn start() -> RunningSink {
        RunningSink::start_on(
            ([127, 0, 0, 1], 0).into(),
            ([127, 0, 0, 1], 0).into(),
            Sink::default(),
        )
        .await
    }

    /// A sink on the given addresses (a destination that comes up late, on the port the
    /// collector was configured with), recording into `sink`.
    pub async fn start_on(grpc: SocketAddr, http: SocketAddr, sink: Sink) -> RunningSink {
        // Permissive limits: a batch processor without `send_batch_max_size` sends batches
        // larger than gRPC's 4 MiB default, which a real backend would refuse for good.
        let receiver = Receiver::new(sink.clone())
            .grpc(grpc)
            .http(http)
            .limits(Limits::uniform(64 << 20))
            .max_concurrent_requests(256)
            .start()
            .await
            .expect("starting the sink");
        let zipkin = otlp_receivers::zipkin::ZipkinReceiver::new(
            otlp_pipeline::component::ReceiverContext::new(
                "zipkin/sink"
                    .parse::<otlp_pipeline::config::ComponentId>()
                    .unwrap(),
                otlp_pipeline::component::NextConsumers::new().with(
                    otlp_pipeline::Signal::Traces,
                    Arc::new(ZipkinToSink(sink.clone())),
                ),
            ),
            otlp_receivers::zipkin::ZipkinConfig {
                endpoint: "127.0.0.1:0".into(),
                ..Default::default()
            },
        )
        .expect("the sink's zipkin receiver");
        otlp_pipeline::component::Receiver::start(
            &zipkin,
            &otlp_pipeline::component::Host::empty(),
        )
        .await
        .expect("starting the sink's zipkin receiver");
        RunningSink {
            sink,
            grpc: receiver.grpc_local_addr().unwrap(),
            http: receiver.http_local_addr().unwrap(),
            zipkin: zipkin.local_addr().unwrap(),
            receiver: Some(receiver),
            zipkin_receiver: Some(zipkin),
        }
    }

    pub async fn stop(mut self) {
        if let Some(receiver) = self.receiver.take() {
            receiver.shutdown(Duration::from_secs(2)).await;
        }
        if let Some(zipkin) = self.zipkin_receiver.take() {
            let _ = otlp_pipeline::component::Receiver::shutdown(
                &zipkin,
                tokio::time::Instant::now() + Duration::from_secs(2),
            )
            .await;
        }
    }
}

impl std::ops::Deref for RunningSink {
    type Target = Sink;
    fn deref(&self) -> &Sink {
        &self.sink
    }
}
