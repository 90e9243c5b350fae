//! The `zipkin` receiver against real senders and otelcol-contrib's receiver: every body —
//! spans from OpenTelemetry Python's Zipkin exporters (v2 JSON, v1 JSON, v2 protobuf), from
//! `py_zipkin` (v1 and v2 JSON), and a hand-written corpus covering the translation's corners —
//! goes to otelcol-contrib v0.160.0's `zipkin` receiver (exporting with `otlp_http` to an
//! in-test OTLP endpoint) and to ours, with and without `parse_string_tags`; the OTLP that
//! comes out must be the same span for span, and bad bodies must get the same status.
//!
//! The peers come from `OTLP_PEER_*` or `target/peers/peers.env`; without them these tests
//! fail, saying to run `cargo xtask test`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

mod span_support;

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext};
use otlp_pipeline::testing::Probe;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_receivers::zipkin::{ZipkinConfig, ZipkinReceiver};
use span_support::{
    GoCollector, Peer, assert_same_spans, free_port, peer, post, run_python, spans_in, temp_dir,
    wait_for,
};

/// OpenTelemetry Python: one set of spans, exported by each Zipkin exporter to every URL base
/// given (so both receivers get the same bytes). Prints the number of spans per export.
const OTEL_SENDER: &str = r#"
import sys
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Link
from opentelemetry.exporter.zipkin.encoder import Protocol
from opentelemetry.exporter.zipkin.json import ZipkinExporter as JsonExporter
from opentelemetry.exporter.zipkin.proto.http import ZipkinExporter as ProtoExporter

memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({
    "service.name": "checkout", "host.name": "web-1", "deployment.environment": "test",
    "service.version": "1.4.2"}))
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("shop.cart", "2.1.0")
other = provider.get_tracer("shop.db")
with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER,
        attributes={"http.request.method": "GET", "http.response.status_code": 200,
                    "retries": 3, "ratio": 0.25, "cached": False, "tags": ["a", "b"]}) as root:
    root.add_event("cache miss", {"key": "c1", "n": 3, "f": 0.5, "ok": True})
    root.add_event("plain")
    with other.start_as_current_span("SELECT cart", kind=SpanKind.CLIENT,
            attributes={"db.system": "postgresql", "peer.service": "postgres",
                        "net.peer.ip": "10.1.2.3", "net.peer.port": 5432},
            links=[Link(root.get_span_context(), {"why": "follows"})]) as db:
        db.set_status(Status(StatusCode.ERROR, "timeout"))
    with tracer.start_as_current_span("render", kind=SpanKind.INTERNAL) as internal:
        internal.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span("publish", kind=SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka"}):
        pass
spans = memory.get_finished_spans()
for base in sys.argv[1:]:
    for exporter in (JsonExporter(endpoint=base + "/api/v2/spans"),
                     JsonExporter(version=Protocol.V1, endpoint=base + "/api/v1/spans", max_tag_value_length=256),
                     ProtoExporter(endpoint=base + "/api/v2/spans")):
        result = exporter.export(spans)
        assert result.name == "SUCCESS", (base, exporter, result)
print(len(spans))
"#;

/// py_zipkin: a root span with a child, in v1 and in v2 JSON, each sent to every port given.
const PY_ZIPKIN_SENDER: &str = r#"
import sys
from py_zipkin.encoding import Encoding
from py_zipkin.transport import BaseTransportHandler, SimpleHTTPTransport
from py_zipkin.zipkin import zipkin_span

class Both(BaseTransportHandler):
    def __init__(self, ports):
        self.targets = [SimpleHTTPTransport("127.0.0.1", int(p)) for p in ports]
    def get_max_payload_bytes(self):
        return None
    def send(self, payload):
        for t in self.targets:
            t.send(payload)

transport = Both(sys.argv[1:])
for encoding in (Encoding.V1_JSON, Encoding.V2_JSON):
    with zipkin_span(service_name="inventory", span_name="GET /stock", transport_handler=transport,
                     sample_rate=100.0, encoding=encoding, host="10.0.0.7", port=8080,
                     binary_annotations={"http.path": "/stock", "items": "12"}) as root:
        root.add_annotation("cache.hit")
        with zipkin_span(service_name="inventory", span_name="lookup",
                         binary_annotations={"sku": "A-1"}):
            pass
print(4)
"#;

/// The hand-written corpus: `(path, content type, body)`.
fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let v2 = br#"[
 {"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf5f","id":"352bff9a74ca9ad2","parentId":"6b221d5bc9e6496c",
  "name":"get /api","kind":"SERVER","timestamp":1556604172355737,"duration":1431,
  "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.1","port":3306},
  "remoteEndpoint":{"serviceName":"frontend","ipv6":"2001:db8::1","port":63305},
  "annotations":[{"timestamp":1556604172355800,"value":"retry|{\"attempt\":2,\"ok\":true,\"s\":\"x\"}|1"},
                 {"timestamp":1556604172355900,"value":"a|b"},{"timestamp":1556604172356000,"value":"wr"}],
  "tags":{"http.method":"GET","http.status_code":"200","error":"boom","count":"-7","f":"2.50",
          "flag":"true","Flag":"True","otel.library.name":"lib","otel.library.version":"1.0",
          "host.name":"h1","service.version":"9","w3c.tracestate":"vendor=x",
          "otlp.link.0":"0102030405060708090a0b0c0d0e0f10|0102030405060708|k=v|{\"k\":\"v\",\"n\":1}|2",
          "otlp.link.1":"|||{}|0","otlp.link.3":"skipped"}},
 {"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf5f","id":"352bff9a74ca9ad3","parentId":"352bff9a74ca9ad3",
  "name":"self-parent","timestamp":1556604172355740,"duration":1,
  "localEndpoint":{"serviceName":"backend"},
  "tags":{"otel.library.name":"lib2","span.kind":"internal","otel.status_code":"STATUS_CODE_OK",
          "otel.status_description":"fine","host.name":"dropped"}},
 {"traceId":"5af7183fb1d4cf5f","id":"0000000000000001","name":"no service, no time",
  "kind":"CONSUMER","tags":{"span.kind":"client","otel.status_code":"Error"}},
 {"traceId":"5AF7183FB1D4CF5F","id":"ABCDEF0123456789","name":"upper hex","kind":"PRODUCER",
  "timestamp":1556604172355741,"localEndpoint":{"serviceName":"queue","ipv6":"::ffff:10.0.0.1"},
  "tags":{"error":"true","otel.status_description":"kept","faas.name":"f"},"debug":true,"shared":true},
 {"traceId":"0000000000000009","id":"0000000000000009","name":"scope tags only","timestamp":1556604172355743,
  "localEndpoint":{"serviceName":"scoped"},"tags":{"otel.scope.name":"only-scope","otel.scope.version":"3","k":"v"}},
 {"traceId":"000000000000000a","id":"000000000000000a","name":"both scope tags","timestamp":1556604172355744,
  "localEndpoint":{"serviceName":"scoped"},"tags":{"otel.scope.name":"new-scope","otel.scope.version":"4",
  "otel.library.name":"old-lib","otel.library.version":"0.1"}},
 {"traceId":"0000000000000000","id":"0000000000000002","name":"zero trace","kind":"weird",
  "timestamp":1556604172355742,"duration":0,"localEndpoint":{"serviceName":"zero"},
  "tags":{"otlp.service.name.source":"k8s.deployment.name","span.kind":"server"}}
]"#;
    let spans = otlp_model::zipkin::decode_v2_json(v2).unwrap();
    let proto = otlp_model::zipkin::encode_v2_proto(&spans);
    let v1 = br#"[
 {"traceId":"0000000000000001","id":"0000000000000002","name":"get","timestamp":1000000,"duration":500,
  "annotations":[{"timestamp":1000000,"value":"sr","endpoint":{"serviceName":"svc","ipv4":"10.0.0.1","port":80}},
                 {"timestamp":1000100,"value":"work"},
                 {"timestamp":1000500,"value":"ss","endpoint":{"serviceName":"svc","ipv4":"10.0.0.1","port":80}}],
  "binaryAnnotations":[{"key":"lc","value":"db"},{"key":"http.status_code","value":"500"},
                       {"key":"http.status_message","value":"oops"},{"key":"n","value":"12"}]},
 {"traceId":"00000000000000010000000000000003","id":"0000000000000004","parentId":"0000000000000002",
  "name":"call","annotations":[{"timestamp":1000010,"value":"cs","endpoint":{"serviceName":"svc"}},
                 {"timestamp":1000090,"value":"cr"}],
  "binaryAnnotations":[{"key":"census.status_code","value":"0"},{"key":"census.status_description","value":"ok"},
                       {"key":"sa","value":"true","endpoint":{"serviceName":"db"}}]},
 {"traceId":"0000000000000005","id":"0000000000000006","name":"msg","timestamp":2000000,"duration":3,
  "annotations":[{"timestamp":2000000,"value":"ms","endpoint":{"serviceName":"producer","port":9092}}],
  "binaryAnnotations":[{"key":"error","value":"broken"},{"key":"otel.status_description","value":"d"}]},
 {"traceId":"0000000000000007","id":"0000000000000008","name":"bin only","timestamp":3000000,"duration":9,
  "binaryAnnotations":[{"key":"lc","value":"fallback-lc"},{"key":"otel.status_code","value":"2"}]}
]"#;
    vec![
        ("/api/v2/spans", "application/json", v2.to_vec()),
        ("/api/v2/spans", "application/x-protobuf", proto),
        ("/api/v1/spans", "application/json", v1.to_vec()),
    ]
}

/// Bodies both receivers must refuse with 400.
const BAD: &[(&str, &str, &[u8])] = &[
    ("/api/v2/spans", "application/json", b"{ not json"),
    ("/api/v2/spans", "application/json", b"{}"),
    ("/api/v2/spans", "application/json", b"[{\"traceId\":\"xyz\",\"id\":\"1\"}]"),
    ("/api/v2/spans", "application/json", b"[{\"traceId\":\"1\",\"id\":\"0\"}]"),
    ("/api/v2/spans", "application/json", b"[{\"traceId\":\"1\",\"id\":\"2\",\"annotations\":[{\"timestamp\":5,\"value\":\"a|b|c\"}]}]"),
    ("/api/v2/spans", "application/x-protobuf", b"\x0a\x10\x0a"),
    ("/api/v2/spans", "application/x-protobuf", b"\x0a\x0a\x0a\x08\x01\x02\x03\x04\x05\x06\x07\x08\x1a\x00"),
    ("/api/v1/spans", "application/json", b"[{\"traceId\":\"1\",\"id\":\"0000000000000002\"}]"),
    ("/api/v1/spans", "application/json", b"[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"binaryAnnotations\":[{\"key\":\"k\",\"value\":1}]}]"),
];

async fn start_ours(probe: Arc<Probe>, parse_string_tags: bool) -> ZipkinReceiver {
    let ctx = ReceiverContext::new(
        otlp_pipeline::testing::id("zipkin"),
        NextConsumers::new().with(Signal::Traces, probe),
    );
    let receiver = ZipkinReceiver::new(
        ctx,
        ZipkinConfig {
            endpoint: "127.0.0.1:0".into(),
            parse_string_tags,
            ..ZipkinConfig::default()
        },
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();
    receiver
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_otlp_as_otelcol_contrib_zipkin_for_real_senders_and_the_corpus() {
    let python = peer(Peer::PythonZipkin);
    let py_zipkin = peer(Peer::PyZipkin);
    let dir = temp_dir("zipkin-differential");

    for parse_string_tags in [false, true] {
        // Go: zipkin → otlp_http → the sink.
        let go_port = free_port();
        let go = GoCollector::start(
            &dir,
            &format!(
                "  zipkin:\n    endpoint: 127.0.0.1:{go_port}\n    parse_string_tags: {parse_string_tags}\n"
            ),
            "zipkin",
            &[go_port],
        )
        .await;
        let probe = Probe::new();
        let receiver = start_ours(Arc::clone(&probe), parse_string_tags).await;
        let our_port = receiver.local_addr().unwrap().port();

        // The senders, each sending the same bytes to both.
        let (py, pz, d) = (python.clone(), py_zipkin.clone(), dir.clone());
        let sent = tokio::task::spawn_blocking(move || {
            let bases = vec![
                format!("http://127.0.0.1:{go_port}"),
                format!("http://127.0.0.1:{our_port}"),
            ];
            let otel = run_python(&py, &d, "otel_zipkin.py", OTEL_SENDER, &[], &bases);
            let ports = vec![go_port.to_string(), our_port.to_string()];
            let pyz = run_python(
                &pz,
                &d,
                "py_zipkin_sender.py",
                PY_ZIPKIN_SENDER,
                &[],
                &ports,
            );
            let mut corpus_spans = 0;
            for (path, content_type, body) in corpus() {
                assert_eq!(
                    post(go_port, path, content_type, &body),
                    202,
                    "go: {path} {content_type}"
                );
                assert_eq!(
                    post(our_port, path, content_type, &body),
                    202,
                    "ours: {path} {content_type}"
                );
                corpus_spans += if path.contains("v1") { 4 } else { 7 };
            }
            for (path, content_type, body) in BAD {
                let go = post(go_port, path, content_type, body);
                let ours = post(our_port, path, content_type, body);
                assert_eq!(
                    (ours, go),
                    (400, 400),
                    "{path} {content_type} {:?}",
                    String::from_utf8_lossy(body)
                );
            }
            otel * 3 + pyz + corpus_spans
        })
        .await
        .unwrap();

        let go_count = wait_for(|| spans_in(&go.requests.lock().unwrap()), sent).await;
        assert_eq!(go_count, sent, "spans otelcol exported");
        assert_eq!(wait_for(|| probe.items(), sent).await, sent);
        let ours: Vec<ExportTraceServiceRequest> = probe
            .received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|t| t.traces().cloned())
            .collect();
        assert_same_spans(
            &ours,
            &go.requests.lock().unwrap(),
            &format!("parse_string_tags={parse_string_tags}"),
        );
        receiver
            .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
