//! What the span receivers' differential tests (`zipkin_peers`, `jaeger_peers`) share: the
//! peers, an OTLP sink for the Go collector, otelcol-contrib-go started on a config, a
//! canonical text of spans to compare, small HTTP and port helpers.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};

#[path = "../../../otlp-transport/tests/interop_support/peers.rs"]
mod peers;

pub use peers::Peer;

/// The installed peer (see `interop_support/peers.rs`); a missing one fails the test.
pub fn peer(peer: Peer) -> PathBuf {
    peers::locate(peer).unwrap_or_else(|| {
        panic!(
            "{} is unset and target/peers/peers.env names no such peer: run `cargo xtask test` \
             (it installs the interop peers and sets their variables)",
            peer.env_var()
        )
    })
}

/// The OTLP endpoint the Go collector exports to: keeps every request.
pub struct TraceSink(pub Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[async_trait::async_trait]
impl otlp_transport::server::ExportHandler for TraceSink {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        _context: otlp_transport::server::RequestContext,
    ) -> Result<Option<otlp_transport::PartialSuccess>, otlp_transport::status::Refusal> {
        self.0.lock().unwrap().push(request);
        Ok(None)
    }
}

/// Kills a process (by its PID, through the child handle) when the test ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// otelcol-contrib-go running `receivers_yaml` (the `receivers:` section's body) into an
/// `otlp_http` exporter aimed at an in-test sink; what the sink received.
pub struct GoCollector {
    pub requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    _sink: otlp_transport::server::RunningReceiver,
    _process: Killed,
}

impl GoCollector {
    /// Starts it with the traces pipeline `receivers: [receiver]` and waits until every TCP
    /// port of `listening` accepts connections.
    pub async fn start(
        dir: &Path,
        receivers_yaml: &str,
        receiver: &str,
        listening: &[u16],
    ) -> Self {
        let otelcol = peer(Peer::OtelcolContribGo);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sink = otlp_transport::server::Receiver::new(TraceSink(Arc::clone(&requests)))
            .http("127.0.0.1:0".parse().unwrap())
            .start()
            .await
            .unwrap();
        let sink_port = sink.http_local_addr().unwrap().port();
        let config = dir.join("otelcol.yaml");
        std::fs::write(
            &config,
            format!(
                "receivers:\n{receivers_yaml}\
                 exporters:\n  otlp_http:\n    endpoint: http://127.0.0.1:{sink_port}\n    compression: none\n\
                 service:\n  telemetry:\n    metrics:\n      level: none\n\
                 \x20 pipelines:\n    traces:\n      receivers: [{receiver}]\n      exporters: [otlp_http]\n"
            ),
        )
        .unwrap();
        let log_path = dir.join("otelcol.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let process = Killed(
            Command::new(&otelcol)
                .arg("--config")
                .arg(&config)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while listening
            .iter()
            .any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "otelcol-contrib-go did not listen: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        GoCollector {
            requests,
            _sink: sink,
            _process: process,
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under the system's temporary one.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn canon(value: Option<&AnyValue>) -> String {
    use any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => "empty".into(),
        Some(Value::StringValue(s)) => format!("str:{s:?}"),
        Some(Value::BoolValue(b)) => format!("bool:{b}"),
        Some(Value::IntValue(i)) => format!("int:{i}"),
        Some(Value::DoubleValue(d)) => format!("double:{d}"),
        Some(Value::BytesValue(b)) => format!("bytes:{b:?}"),
        Some(other) => format!("{other:?}"),
    }
}

/// Attributes as a sorted map (Go builds them from maps: their order is random).
fn canon_attributes(attributes: &[KeyValue]) -> String {
    let sorted: BTreeMap<_, _> = attributes
        .iter()
        .map(|kv| (kv.key.clone(), canon(kv.value.as_ref())))
        .collect();
    format!("{sorted:?}")
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line per span with its resource and scope, sorted (Go groups some spans through maps,
/// so resources and scopes come out in any order); no status and an empty one alike.
pub fn canon_spans(requests: &[ExportTraceServiceRequest]) -> Vec<String> {
    let mut out = Vec::new();
    for request in requests {
        for rs in &request.resource_spans {
            let resource =
                canon_attributes(rs.resource.as_ref().map_or(&[][..], |r| &r.attributes));
            for ss in &rs.scope_spans {
                let scope = ss
                    .scope
                    .as_ref()
                    .map(|s| format!("{}/{}", s.name, s.version))
                    .unwrap_or_default();
                for s in &ss.spans {
                    let events: Vec<String> = s
                        .events
                        .iter()
                        .map(|e| {
                            format!(
                                "{}@{} {} -{}",
                                e.name,
                                e.time_unix_nano,
                                canon_attributes(&e.attributes),
                                e.dropped_attributes_count
                            )
                        })
                        .collect();
                    let links: Vec<String> = s
                        .links
                        .iter()
                        .map(|l| {
                            format!(
                                "{}/{}/{} {} -{}",
                                hex(&l.trace_id),
                                hex(&l.span_id),
                                l.trace_state,
                                canon_attributes(&l.attributes),
                                l.dropped_attributes_count
                            )
                        })
                        .collect();
                    let status = s
                        .status
                        .as_ref()
                        .map(|st| format!("{}:{}", st.code, st.message))
                        .unwrap_or_else(|| "0:".into());
                    out.push(format!(
                        "span {} {} parent={} name={:?} kind={} flags={} {}..{} status={status} state={:?}\n  \
                         resource={resource}\n  scope={scope:?}\n  attributes={}\n  events={events:?}\n  links={links:?}",
                        hex(&s.trace_id),
                        hex(&s.span_id),
                        hex(&s.parent_span_id),
                        s.name,
                        s.kind,
                        s.flags,
                        s.start_time_unix_nano,
                        s.end_time_unix_nano,
                        s.trace_state,
                        canon_attributes(&s.attributes),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// Asserts that ours and Go's requests hold the same spans.
pub fn assert_same_spans(
    ours: &[ExportTraceServiceRequest],
    go: &[ExportTraceServiceRequest],
    what: &str,
) {
    let (ours, go) = (canon_spans(ours), canon_spans(go));
    for (o, g) in ours.iter().zip(&go) {
        assert_eq!(o, g, "{what}: ours (left) and otelcol's (right) differ");
    }
    assert_eq!(ours.len(), go.len(), "{what}: span counts");
}

pub fn spans_in(requests: &[ExportTraceServiceRequest]) -> usize {
    requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// Polls `count` (every 20 ms, at most 30 s) until it reaches `n`; the last count.
pub async fn wait_for(mut count: impl FnMut() -> usize, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    count()
}

/// A blocking HTTP/1.1 POST; the status (0 when there was no answer).
pub fn post(port: u16, path: &str, content_type: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Runs a Python script (written into `dir`, with `extra` files beside it) to the end; the
/// number its last line of output says.
pub fn run_python(
    python: &Path,
    dir: &Path,
    name: &str,
    script: &str,
    extra: &[(&str, &str)],
    args: &[String],
) -> usize {
    for (file, text) in extra {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap()
}
