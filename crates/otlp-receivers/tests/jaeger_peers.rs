//! The `jaeger` receiver against real senders and otelcol-contrib's receiver: every packet
//! and request — spans from OpenTelemetry Python 1.21's Jaeger exporters (agent UDP compact,
//! collector HTTP Thrift, gRPC), from `jaeger-client` 4.8.0 (agent UDP compact), batches
//! written with Apache Thrift's own Python library (compact and binary over UDP, binary over
//! HTTP) and `PostSpansRequest`s built with the Jaeger protobuf classes the gRPC exporter ships
//! — goes to otelcol-contrib v0.160.0's `jaeger` receiver (exporting with `otlp_http` to an
//! in-test OTLP endpoint) and to ours; the OTLP that comes out must be the same span for span.
//! Bad input must be refused by both, and both must keep serving.
//!
//! The peers come from `OTLP_PEER_*` or `target/peers/peers.env`; without them these tests
//! fail, saying to run `cargo xtask test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod span_support;

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::testing::Probe;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_receivers::jaeger::{JaegerConfig, JaegerReceiver};
use span_support::{
    GoCollector, Peer, assert_same_spans, free_port, free_udp_port, peer, post, run_python,
    spans_in, temp_dir, wait_for,
};

/// Receives datagrams on a socket of its own and forwards each, unchanged, to both agents.
const FORWARD: &str = r#"
import socket
def capture():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]
def forward(s, ports, quiet=0.5):
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(quiet)
    n = 0
    while True:
        try:
            data, _ = s.recvfrom(65535)
        except socket.timeout:
            return n
        for p in ports:
            out.sendto(data, ("127.0.0.1", int(p)))
        n += 1
"#;

/// OpenTelemetry Python 1.21: one set of spans through the agent (UDP compact), the
/// collector (HTTP Thrift) and gRPC exporters; Jaeger protobuf requests built by hand with the
/// exporter's generated classes. Prints the spans sent to each receiver.
const OTEL_SENDER: &str = r#"
import sys, time
from forward import capture, forward
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Link
from opentelemetry.exporter.jaeger.thrift import JaegerExporter as ThriftExporter
from opentelemetry.exporter.jaeger.proto.grpc import JaegerExporter as GrpcExporter
from opentelemetry.exporter.jaeger.proto.grpc.gen import model_pb2, collector_pb2, collector_pb2_grpc
import grpc

compact = sys.argv[1:3]; http = sys.argv[3:5]; grpc_ports = sys.argv[5:7]
memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "web-1", "deployment.environment": "test"}))
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("shop.cart", "2.1.0")
with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER,
        attributes={"http.method": "GET", "http.status_code": 200, "ratio": 0.25, "cached": False, "tags": ["a", "b"]}) as root:
    root.add_event("cache miss", {"key": "c1", "n": 3})
    with tracer.start_as_current_span("SELECT cart", kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "peer.service": "postgres"},
            links=[Link(root.get_span_context(), {"why": "follows"})]) as db:
        db.set_status(Status(StatusCode.ERROR, "timeout"))
    with tracer.start_as_current_span("render", kind=SpanKind.INTERNAL) as internal:
        internal.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER, attributes={"http.status_code": 404}):
        pass
spans = memory.get_finished_spans()

sock, port = capture()
assert ThriftExporter(agent_host_name="127.0.0.1", agent_port=port).export(spans).name == "SUCCESS"
assert forward(sock, compact) >= 1
for p in http:
    e = ThriftExporter(collector_endpoint="http://127.0.0.1:%s/api/traces" % p)
    assert e.export(spans).name == "SUCCESS"
for p in grpc_ports:
    e = GrpcExporter(collector_endpoint="127.0.0.1:%s" % p, insecure=True)
    assert e.export(spans).name == "SUCCESS", p

# Protobuf requests the exporter never makes: spans with their own process, 8-byte trace ids,
# scope and trace-state tags, every value type, references of both kinds.
def kv(key, **v):
    return model_pb2.KeyValue(key=key, **v)
def ts(us):
    return {"seconds": us // 1000000, "nanos": (us % 1000000) * 1000}
P = model_pb2
proc = P.Process(service_name="billing", tags=[kv("hostname", v_str="b-1"), kv("jaeger.version", v_str="Go-2.30"), kv("ip", v_str="10.0.0.9")])
other = P.Process(service_name="ledger", tags=[kv("client-uuid", v_str="u1")])
tid = bytes(range(1, 17)); tid8 = bytes(range(1, 9))
def span(sid, name, tags=(), refs=(), process=None, trace=tid, logs=()):
    s = P.Span(trace_id=trace, span_id=sid, operation_name=name, flags=1,
               start_time=ts(1700000000000000 + sid[-1]), duration={"seconds": 0, "nanos": 1500000},
               tags=list(tags), references=list(refs), logs=list(logs))
    if process is not None:
        s.process.CopyFrom(process)
    return s
b = lambda n: bytes([0] * 7 + [n])
batch = P.Batch(process=proc, spans=[
    span(b(1), "charge", [kv("span.kind", v_str="server"), kv("otel.scope.name", v_str="pay"), kv("otel.scope.version", v_str="1.2"),
                         kv("w3c.tracestate", v_str="k=v"), kv("amount", v_type=P.FLOAT64, v_float64=9.5),
                         kv("retries", v_type=P.INT64, v_int64=2), kv("ok", v_type=P.BOOL, v_bool=True),
                         kv("blob", v_type=P.BINARY, v_binary=b"\x00\x01"), kv("otel.status_code", v_str="ERROR"),
                         kv("otel.status_description", v_str="declined")],
         logs=[P.Log(timestamp=ts(1700000000000500), fields=[kv("event", v_str="retry"), kv("attempt", v_type=P.INT64, v_int64=1)]),
               P.Log(timestamp=ts(1700000000000600), fields=[kv("message", v_str="no event field")])]),
    span(b(2), "db", [kv("span.kind", v_str="client"), kv("http.status_code", v_type=P.INT64, v_int64=404), kv("otel.scope.name", v_str="pay"), kv("otel.scope.version", v_str="1.2")],
         refs=[P.SpanRef(trace_id=tid, span_id=b(1), ref_type=P.CHILD_OF), P.SpanRef(trace_id=tid8, span_id=b(9), ref_type=P.FOLLOWS_FROM)]),
    span(b(3), "own process", [kv("error", v_type=P.BOOL, v_bool=True), kv("http.status_message", v_str="boom")], process=other, trace=tid8,
         refs=[P.SpanRef(trace_id=tid8, span_id=b(2), ref_type=P.FOLLOWS_FROM)]),
    span(b(4), "old scope tags", [kv("otel.library.name", v_str="lib"), kv("span.kind", v_str="weird"), kv("http.status_code", v_str="503")]),
])
requests = [collector_pb2.PostSpansRequest(batch=batch),
            collector_pb2.PostSpansRequest(batch=P.Batch(process=P.Process(service_name="OTLPResourceNoServiceName", tags=[kv("dropped", v_str="x")]),
                                                         spans=[span(b(5), "no service")]))]
for p in grpc_ports:
    stub = collector_pb2_grpc.CollectorServiceStub(grpc.insecure_channel("127.0.0.1:%s" % p))
    for r in requests:
        stub.PostSpans(r, timeout=10)
print(len(spans) * 3 + 5)
"#;

/// jaeger-client 4.8.0 through its agent reporter (UDP compact), and batches written with
/// Apache Thrift's Python library in compact and binary (UDP) and binary (HTTP).
const JAEGER_CLIENT_SENDER: &str = r#"
import sys, time, socket, urllib.request
from forward import capture, forward
from jaeger_client import Config
from thrift.transport import TTransport
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift import TSerialization
from thrift.Thrift import TMessageType
from jaeger_client.thrift_gen.agent import Agent
from jaeger_client.thrift_gen.jaeger import ttypes as J

compact = sys.argv[1:3]; binary = sys.argv[3:5]; http = sys.argv[5:7]
sock, port = capture()
config = Config(config={"sampler": {"type": "const", "param": 1}, "logging": False,
                        "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": port},
                        "reporter_flush_interval": 0.2}, service_name="inventory", validate=True)
tracer = config.initialize_tracer()
with tracer.start_active_span("GET /stock", tags={"span.kind": "server", "http.status_code": 200}) as scope:
    scope.span.log_kv({"event": "cache.hit", "size": 3})
    with tracer.start_active_span("lookup") as child:
        child.span.set_tag("error", True)
        child.span.set_tag("sku", "A-1")
time.sleep(1.0)
assert forward(sock, compact, quiet=1.0) >= 1

def tag(key, t, **v):
    return J.Tag(key=key, vType=t, **v)
batch = J.Batch(process=J.Process(serviceName="billing", tags=[tag("hostname", J.TagType.STRING, vStr="b-1"), tag("jaeger.version", J.TagType.STRING, vStr="Java-1.8")]),
    spans=[J.Span(traceIdLow=0x1122, traceIdHigh=-5, spanId=7, parentSpanId=0, operationName="charge", flags=3,
                  startTime=1700000000000000, duration=1500,
                  tags=[tag("span.kind", J.TagType.STRING, vStr="consumer"), tag("amount", J.TagType.DOUBLE, vDouble=9.5),
                        tag("n", J.TagType.LONG, vLong=-2), tag("ok", J.TagType.BOOL, vBool=False), tag("blob", J.TagType.BINARY, vBinary="\x01\x02"),
                        tag("w3c.tracestate", J.TagType.STRING, vStr="k=v"), tag("otel.scope.name", J.TagType.STRING, vStr="kept"),
                        tag("http.response.status_code", J.TagType.LONG, vLong=500)],
                  logs=[J.Log(timestamp=1700000000000100, fields=[tag("event", J.TagType.STRING, vStr="retry"), tag("attempt", J.TagType.LONG, vLong=1)]),
                        J.Log(timestamp=1700000000000200, fields=[])],
                  references=[J.SpanRef(refType=J.SpanRefType.CHILD_OF, traceIdLow=0x1122, traceIdHigh=-5, spanId=3),
                              J.SpanRef(refType=J.SpanRefType.FOLLOWS_FROM, traceIdLow=9, traceIdHigh=0, spanId=4)]),
           J.Span(traceIdLow=0x1122, traceIdHigh=-5, spanId=8, parentSpanId=7, operationName="child", flags=0,
                  startTime=1700000000000300, duration=10,
                  tags=[tag("otel.status_code", J.TagType.STRING, vStr="ok"), tag("error", J.TagType.STRING, vStr="true")],
                  references=[J.SpanRef(refType=J.SpanRefType.CHILD_OF, traceIdLow=0x1122, traceIdHigh=-5, spanId=5)])])
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for proto, ports in ((TCompactProtocol.TCompactProtocol, compact), (TBinaryProtocol.TBinaryProtocol, binary)):
    # What Agent.Client.send_emitBatch writes, on a memory buffer.
    buf = TTransport.TMemoryBuffer()
    oprot = proto(buf)
    oprot.writeMessageBegin("emitBatch", TMessageType.ONEWAY, 1)
    args = Agent.emitBatch_args()
    args.batch = batch
    args.write(oprot)
    oprot.writeMessageEnd()
    for p in ports:
        out.sendto(buf.getvalue(), ("127.0.0.1", int(p)))
body = TSerialization.serialize(batch, TBinaryProtocol.TBinaryProtocolFactory())
for p in http:
    req = urllib.request.Request("http://127.0.0.1:%s/api/traces" % p, data=body, headers={"Content-Type": "application/x-thrift"})
    assert urllib.request.urlopen(req).status == 202
print(2 + 2 * 3)
"#;

struct Ports {
    grpc: u16,
    http: u16,
    binary: u16,
    compact: u16,
}

fn ports() -> Ports {
    Ports {
        grpc: free_port(),
        http: free_port(),
        binary: free_udp_port(),
        compact: free_udp_port(),
    }
}

fn protocols_yaml(p: &Ports) -> String {
    format!(
        "    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{}\n      thrift_http:\n        endpoint: 127.0.0.1:{}\n\
         \x20     thrift_binary:\n        endpoint: 127.0.0.1:{}\n      thrift_compact:\n        endpoint: 127.0.0.1:{}\n",
        p.grpc, p.http, p.binary, p.compact
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_otlp_as_otelcol_contrib_jaeger_for_real_senders() {
    let python = peer(Peer::PythonJaeger);
    let jaeger_client = peer(Peer::JaegerClient);
    let dir = temp_dir("jaeger-differential");

    // Go: jaeger → otlp_http → the sink.
    let go = ports();
    let collector = GoCollector::start(
        &dir,
        &format!("  jaeger:\n{}", protocols_yaml(&go)),
        "jaeger",
        &[go.grpc, go.http],
    )
    .await;

    // Ours.
    let ours = ports();
    let probe = Probe::new();
    let receiver = JaegerReceiver::new(
        ReceiverContext::new(
            otlp_pipeline::testing::id("jaeger"),
            NextConsumers::new().with(Signal::Traces, Arc::clone(&probe) as _),
        ),
        serde_yaml_ng::from_str::<JaegerConfig>(&protocols_yaml(&ours)).unwrap(),
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();

    let (py, jc, d) = (python.clone(), jaeger_client.clone(), dir.clone());
    let (g, o) = (
        [go.grpc, go.http, go.binary, go.compact],
        [ours.grpc, ours.http, ours.binary, ours.compact],
    );
    let sent = tokio::task::spawn_blocking(move || {
        let s = |p: u16| p.to_string();
        // Bad input first: both must refuse it and keep serving.
        for (body, content_type) in [
            (&b"\x0c\x00\x01garbage"[..], "application/x-thrift"),
            (&b""[..], "application/x-thrift"),
            (
                &b"\x0c\x00\x01\x0b\x00\x01\x00\x00\x00\x01a\x00"[..],
                "application/json",
            ),
        ] {
            let (go, ours) = (
                post(g[1], "/api/traces", content_type, body),
                post(o[1], "/api/traces", content_type, body),
            );
            assert_eq!((ours, go), (400, 400), "{content_type} {body:?}");
        }
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for packet in [&b"\x82\x81\x01\x09emitBatch\x1c\x18"[..], b"garbage"] {
            for port in [g[2], g[3], o[2], o[3]] {
                udp.send_to(packet, ("127.0.0.1", port)).unwrap();
            }
        }
        // An empty datagram crashes otelcol-contrib v0.160 (a nil pointer in its UDP
        // server's buffered transport): only ours gets it.
        for port in [o[2], o[3]] {
            udp.send_to(b"", ("127.0.0.1", port)).unwrap();
        }
        let otel = run_python(
            &py,
            &d,
            "otel_jaeger.py",
            OTEL_SENDER,
            &[("forward.py", FORWARD)],
            &[s(g[3]), s(o[3]), s(g[1]), s(o[1]), s(g[0]), s(o[0])],
        );
        let client = run_python(
            &jc,
            &d,
            "jaeger_client_sender.py",
            JAEGER_CLIENT_SENDER,
            &[("forward.py", FORWARD)],
            &[s(g[3]), s(o[3]), s(g[2]), s(o[2]), s(g[1]), s(o[1])],
        );
        otel + client
    })
    .await
    .unwrap();

    let go_count = wait_for(|| spans_in(&collector.requests.lock().unwrap()), sent).await;
    assert_eq!(go_count, sent, "spans otelcol exported");
    assert_eq!(wait_for(|| probe.items(), sent).await, sent);
    let ours: Vec<ExportTraceServiceRequest> = probe
        .received
        .lock()
        .unwrap()
        .iter()
        .filter_map(|t| t.traces().cloned())
        .collect();
    assert_same_spans(&ours, &collector.requests.lock().unwrap(), "jaeger");
    receiver
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
