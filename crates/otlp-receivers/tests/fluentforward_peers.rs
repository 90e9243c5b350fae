//! The `fluentforward` receiver against real senders: PyPI's `fluent-logger` (its `sender` —
//! Message mode, integer and nanosecond EventTime timestamps, its reconnect buffer — and its
//! `asyncsender`) and raw Forward / PackedForward / CompressedPackedForward events with
//! `chunk` acks written with Python's `msgpack`; and a differential test: the same Python
//! sender into otelcol-contrib v0.160.0's `fluent_forward` receiver (exporting with
//! `otlp_http` to an in-test HTTP server) and into ours, compared record by record.
//!
//! The peers come from `OTLP_PEER_PYTHON` / `OTLP_PEER_OTELCOL_CONTRIB_GO` or
//! `target/peers/peers.env`; without them these tests fail, saying to run `cargo xtask test`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::testing::Probe;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, any_value};
use otlp_proto::logs::v1::LogRecord;
use otlp_receivers::fluentforward::{FluentForwardConfig, FluentForwardReceiver};

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

use peers::Peer;

/// The installed peer (see `interop_support/peers.rs`); a missing one fails the test.
fn peer(peer: Peer) -> PathBuf {
    peers::locate(peer).unwrap_or_else(|| {
        panic!(
            "{} is unset and target/peers/peers.env names no such peer: run `cargo xtask test` \
             (it installs the interop peers and sets their variables)",
            peer.env_var()
        )
    })
}

/// The sender script: every mode, deterministic content; prints the record count sent.
const SENDER: &str = r#"
import gzip, socket, sys, time
import msgpack
from fluent import asyncsender, sender

host, port, phase = sys.argv[1], int(sys.argv[2]), sys.argv[3]
total = 0

def record(i):
    return {"message": "hello %d" % i, "i": i, "neg": -i - 1, "ok": i % 2 == 0, "f": 1.5 + i,
            "big": 2**64 - 1, "none": None, "bin": b"raw\x01bin",
            "nested": {"a": [1, "x", None, 2.5], "b": {"c": -3, "d": [True]}}}

def raw(event, chunk=None, use_bin_type=True):
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(msgpack.packb(event, use_bin_type=use_bin_type))
    if chunk is not None:
        unpacker = msgpack.Unpacker(raw=False)
        while True:
            data = sock.recv(4096)
            if not data:
                raise SystemExit("connection closed before the ack of %s" % chunk)
            unpacker.feed(data)
            acks = list(unpacker)
            if acks:
                assert acks[0] == {"ack": chunk}, acks
                break
    sock.close()

if phase == "buffered":
    # Nothing listens yet: the sender keeps the events in its buffer, then sends them all in
    # one write once the receiver is up.
    s = sender.FluentSender("buf", host=host, port=port, bufmax=1 << 20, timeout=1)
    for i in range(3):
        assert not s.emit_with_time("x", 1700000200 + i, {"message": "buffered %d" % i})
    print("buffered", flush=True)
    sys.stdin.readline()
    assert s.emit_with_time("x", 1700000300, {"message": "after"}), s.last_error
    s.close()
    print(4, flush=True)
    raise SystemExit(0)

s = sender.FluentSender("app", host=host, port=port)
for i in range(5):
    assert s.emit_with_time("web", 1700000000 + i, record(i)), s.last_error
s.close(); total += 5

s = sender.FluentSender("app", host=host, port=port, nanosecond_precision=True)
for i in range(5):
    assert s.emit_with_time("ns", 1700000100.25 + i, {"log": "bit style %d" % i, "k": "v"}), s.last_error
s.close(); total += 5

a = asyncsender.FluentSender("async", host=host, port=port, nanosecond_precision=True)
for i in range(4):
    a.emit_with_time("q", sender.EventTime(1700000400 + i, 999999999), {"message": "async %d" % i, "both": 1, "log": "last wins"})
a.close(); total += 4

raw(["fwd", [[1700000500, {"message": "f0"}], [sender.EventTime(1700000501, 7), {"k": ["a", {"z": 1}]}]], {"chunk": "fwd-1"}], "fwd-1"); total += 2

entries = b"".join(msgpack.packb([sender.EventTime(1700000600 + i, i), {"message": "p%d" % i, "fluent.tag": "inner"}]) for i in range(6))
raw(["packed", entries, {"size": 6, "chunk": "pf-1"}], "pf-1"); total += 6
# The old spec's raw type: the entries as a str.
raw(["packed.str", entries], None, use_bin_type=False); total += 6

half = [msgpack.packb([1700000700 + i, {"log": "c%d" % i}]) for i in range(8)]
compressed = gzip.compress(b"".join(half[:4])) + gzip.compress(b"".join(half[4:]))
raw(["packed.gz", compressed, {"compressed": "gzip", "chunk": "cpf-1"}], "cpf-1"); total += 8

raw(["msg.ack", 1700000800, {"message": "acked", "fluent.tag": "overridden"}, {"chunk": "m-1"}], "m-1"); total += 1

print(total, flush=True)
"#;

fn write_script(dir: &Path) -> PathBuf {
    let path = dir.join("fluent_sender.py");
    std::fs::write(&path, SENDER).unwrap();
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("otlp-ff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the sender to the end; the record count it printed.
fn run_sender(python: &Path, script: &Path, port: u16) -> usize {
    let out = Command::new(python)
        .arg(script)
        .args(["127.0.0.1", &port.to_string(), "all"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the sender failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_ours(probe: Arc<Probe>, endpoint: &str) -> FluentForwardReceiver {
    let ctx = ReceiverContext::new(
        otlp_pipeline::testing::id("fluentforward"),
        NextConsumers::new().with(Signal::Logs, probe),
    );
    let receiver = FluentForwardReceiver::new(
        ctx,
        FluentForwardConfig {
            endpoint: endpoint.to_owned(),
        },
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();
    receiver
}

fn records_of(probe: &Probe) -> Vec<LogRecord> {
    probe
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|t| t.logs().cloned())
        .flat_map(|r| r.resource_logs)
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .collect()
}

/// A canonical text of a value: kvlists sorted by key (otelcol builds nested maps from Go
/// maps, whose order is random); no value and an empty value alike.
fn canon(value: Option<&AnyValue>) -> String {
    use any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => "empty".into(),
        Some(Value::StringValue(s)) => format!("str:{s:?}"),
        Some(Value::BoolValue(b)) => format!("bool:{b}"),
        Some(Value::IntValue(i)) => format!("int:{i}"),
        Some(Value::DoubleValue(d)) => format!("double:{d}"),
        Some(Value::BytesValue(b)) => format!("bytes:{b:?}"),
        Some(Value::ArrayValue(a)) => format!(
            "[{}]",
            a.values
                .iter()
                .map(|v| canon(Some(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(Value::KvlistValue(kv)) => {
            let sorted: BTreeMap<_, _> = kv
                .values
                .iter()
                .map(|kv| (kv.key.clone(), canon(kv.value.as_ref())))
                .collect();
            format!("{sorted:?}")
        }
        Some(other) => format!("{other:?}"),
    }
}

fn canon_record(r: &LogRecord) -> String {
    let attributes: BTreeMap<_, _> = r
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), canon(kv.value.as_ref())))
        .collect();
    format!(
        "time={} observed={} severity={}/{} body={} attributes={attributes:?}",
        r.time_unix_nano,
        r.observed_time_unix_nano,
        r.severity_number,
        r.severity_text,
        canon(r.body.as_ref())
    )
}

async fn wait_for(mut count: impl FnMut() -> usize, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluent_logger_and_raw_msgpack_senders_into_ours() {
    let python = peer(Peer::Python);
    let dir = temp_dir("ours");
    let script = write_script(&dir);
    let probe = Probe::new();
    let receiver = start_ours(Arc::clone(&probe), "127.0.0.1:0").await;
    let port = receiver.local_addr().unwrap().port();
    let sent = tokio::task::spawn_blocking(move || run_sender(&python, &script, port))
        .await
        .unwrap();
    assert_eq!(sent, 37);
    let got = wait_for(|| probe.items(), sent).await;
    let records = records_of(&probe);
    assert_eq!(
        got,
        sent,
        "{:#?}",
        records.iter().map(canon_record).collect::<Vec<_>>()
    );
    let find = |body: &str| {
        records
            .iter()
            .find(|r| canon(r.body.as_ref()) == format!("str:{body:?}"))
            .unwrap_or_else(|| panic!("no record {body}"))
    };
    let tag = |r: &LogRecord| {
        r.attributes
            .iter()
            .find(|kv| kv.key == "fluent.tag")
            .map(|kv| canon(kv.value.as_ref()))
    };
    // Message mode, integer time.
    let hello = find("hello 3");
    assert_eq!(hello.time_unix_nano, 1_700_000_003_000_000_000);
    assert_eq!(tag(hello).as_deref(), Some("str:\"app.web\""));
    let attr = |r: &LogRecord, k: &str| {
        r.attributes
            .iter()
            .find(|kv| kv.key == k)
            .map(|kv| canon(kv.value.as_ref()))
    };
    assert_eq!(
        attr(hello, "big").as_deref(),
        Some("str:\"18446744073709551615\"")
    );
    assert_eq!(attr(hello, "neg").as_deref(), Some("int:-4"));
    assert_eq!(attr(hello, "bin").as_deref(), Some("str:\"raw\\u{1}bin\""));
    assert_eq!(attr(hello, "none").as_deref(), Some("empty"));
    // EventTime, `log` as the body.
    let bit = find("bit style 2");
    assert_eq!(bit.time_unix_nano, 1_700_000_102_250_000_000);
    // The last of `message` / `log` is the body.
    assert_eq!(
        records
            .iter()
            .filter(|r| canon(r.body.as_ref()) == "str:\"last wins\"")
            .count(),
        4
    );
    // Forward with an EventTime entry and a nested value.
    let forwarded: Vec<_> = records
        .iter()
        .filter(|r| tag(r).as_deref() == Some("str:\"fwd\""))
        .collect();
    assert_eq!(forwarded.len(), 2);
    assert!(
        forwarded
            .iter()
            .any(|r| r.time_unix_nano == 1_700_000_501_000_000_007)
    );
    // PackedForward: the tag attribute set after the record's own `fluent.tag`.
    let packed_tags: Vec<_> = records
        .iter()
        .filter(|r| canon(r.body.as_ref()) == "str:\"p5\"")
        .map(|r| tag(r).unwrap())
        .collect();
    assert_eq!(packed_tags.len(), 2);
    assert!(packed_tags.iter().all(|t| t.starts_with("str:\"packed")));
    assert_eq!(find("c7").time_unix_nano, 1_700_000_707_000_000_000);
    // Message mode: the record's `fluent.tag` overrides the tag.
    assert_eq!(tag(find("acked")).as_deref(), Some("str:\"overridden\""));
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluent_logger_buffer_is_sent_in_one_write_once_the_receiver_is_up() {
    let python = peer(Peer::Python);
    let dir = temp_dir("buffered");
    let script = write_script(&dir);
    let port = free_port();
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["127.0.0.1", &port.to_string(), "buffered"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "buffered");
    let probe = Probe::new();
    let receiver = start_ours(Arc::clone(&probe), &format!("127.0.0.1:{port}")).await;
    writeln!(child.stdin.take().unwrap(), "go").unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        let count = lines.next().map(|l| l.unwrap());
        let status = child.wait().unwrap();
        (count, status)
    })
    .await
    .unwrap();
    assert!(printed.1.success(), "the buffered sender failed");
    assert_eq!(printed.0.as_deref(), Some("4"));
    assert_eq!(wait_for(|| probe.items(), 4).await, 4);
    let mut bodies: Vec<_> = records_of(&probe)
        .iter()
        .map(|r| canon(r.body.as_ref()))
        .collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            "str:\"after\"",
            "str:\"buffered 0\"",
            "str:\"buffered 1\"",
            "str:\"buffered 2\""
        ]
    );
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A minimal OTLP/HTTP logs endpoint: decodes each POST's protobuf body.
/// The OTLP/HTTP sink the Go collector exports to: the transport's own receiver, keeping
/// every log record.
struct LogSink(Arc<Mutex<Vec<LogRecord>>>);

#[async_trait::async_trait]
impl otlp_transport::server::ExportHandler for LogSink {
    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        _context: otlp_transport::server::RequestContext,
    ) -> Result<Option<otlp_transport::PartialSuccess>, otlp_transport::status::Refusal> {
        self.0.lock().unwrap().extend(
            request
                .resource_logs
                .into_iter()
                .flat_map(|r| r.scope_logs)
                .flat_map(|s| s.log_records),
        );
        Ok(None)
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_records_as_otelcol_contrib_fluent_forward() {
    let python = peer(Peer::Python);
    let otelcol = peer(Peer::OtelcolContribGo);
    let dir = temp_dir("differential");
    let script = write_script(&dir);

    // Go: fluent_forward → otlp_http → the sink.
    let go_records = Arc::new(Mutex::new(Vec::new()));
    let sink = otlp_transport::server::Receiver::new(LogSink(Arc::clone(&go_records)))
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let sink_port = sink.http_local_addr().unwrap().port();
    let go_port = free_port();
    let config = dir.join("otelcol.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:\n  fluent_forward:\n    endpoint: 127.0.0.1:{go_port}\n\
             exporters:\n  otlp_http:\n    endpoint: http://127.0.0.1:{sink_port}\n    compression: none\n\
             service:\n  telemetry:\n    metrics:\n      level: none\n\
             \x20 pipelines:\n    logs:\n      receivers: [fluent_forward]\n      exporters: [otlp_http]\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("otelcol.log")).unwrap();
    let _go = Killed(
        Command::new(&otelcol)
            .arg("--config")
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", go_port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "otelcol-contrib-go did not listen: {}",
            std::fs::read_to_string(dir.join("otelcol.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Ours.
    let probe = Probe::new();
    let receiver = start_ours(Arc::clone(&probe), "127.0.0.1:0").await;
    let our_port = receiver.local_addr().unwrap().port();

    let (py, sc) = (python.clone(), script.clone());
    let sent_go = tokio::task::spawn_blocking(move || run_sender(&py, &sc, go_port))
        .await
        .unwrap();
    let sent_ours = tokio::task::spawn_blocking(move || run_sender(&python, &script, our_port))
        .await
        .unwrap();
    assert_eq!(sent_go, sent_ours);
    let go_count = wait_for(|| go_records.lock().unwrap().len(), sent_go).await;
    assert_eq!(go_count, sent_go, "records otelcol exported");
    assert_eq!(wait_for(|| probe.items(), sent_ours).await, sent_ours);

    let mut go: Vec<String> = go_records
        .lock()
        .unwrap()
        .iter()
        .map(canon_record)
        .collect();
    let mut ours: Vec<String> = records_of(&probe).iter().map(canon_record).collect();
    go.sort();
    ours.sort();
    for (g, o) in go.iter().zip(&ours) {
        assert_eq!(o, g, "ours (left) and otelcol's (right) differ");
    }
    assert_eq!(go.len(), ours.len());
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
