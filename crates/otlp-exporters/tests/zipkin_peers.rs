//! The `zipkin` exporter against real software (installed by `cargo xtask peers`): into a
//! real Zipkin 3.5.1 server (v2 JSON and v2 protobuf) with the trace read back from its query
//! API, and into otelcol-contrib v0.160.0's `zipkin` receiver, whose OTLP must be what our own
//! receiver makes of the same bodies and must carry the ids, times, names, kinds, status,
//! events and links we sent.
//!
//! Without the peers the tests are skipped, or fail under `OTLP_REQUIRE_PEERS=1` (as `cargo
//! xtask test` runs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_exporters::zipkin::{ZipkinExporter, ZipkinExporterConfig};
use otlp_model::prelude::*;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, ExporterContext};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::testing::id;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde_json::Value;
use support::*;

const TRACE: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];

/// Two services, four spans: server, client with a peer and an error, internal with events,
/// producer with a link; a trace state; typed attributes.
fn request(trace: [u8; 16], start: u64) -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource!["service.name" => "Frontend", "host.name" => "web-1", "service.version" => "1.2"])
        .scope("shop.http", "0.9")
        .span(
            SpanBuilder::new("GET /Cart")
                .kind(SpanKind::Server)
                .trace_id(trace)
                .span_id([1, 1, 1, 1, 1, 1, 1, 1])
                .start(start)
                .end(start + 12_345_678)
                .attr("http.request.method", "GET")
                .attr("http.response.status_code", 200)
                .attr("ratio", 0.5)
                .attr("cached", true)
                .status_ok(),
        )
        .span(
            SpanBuilder::new("SELECT")
                .kind(SpanKind::Client)
                .trace_id(trace)
                .span_id([2, 2, 2, 2, 2, 2, 2, 2])
                .parent([1, 1, 1, 1, 1, 1, 1, 1])
                .start(start + 1_000_000)
                .end(start + 3_000_000)
                .attr("service.peer.name", "postgres")
                .attr("network.peer.address", "10.1.2.3")
                .attr("net.peer.port", 5432)
                .status_error("connection reset"),
        )
        .resource(resource!["service.name" => "backend"])
        .scope("worker", "")
        .span(
            SpanBuilder::new("render")
                .kind(SpanKind::Internal)
                .trace_id(trace)
                .span_id([3, 3, 3, 3, 3, 3, 3, 3])
                .parent([1, 1, 1, 1, 1, 1, 1, 1])
                .start(start + 4_000_000)
                .end(start + 5_000_000)
                .event(EventBuilder::new("cache miss").time(start + 4_500_000).attr("key", "c1"))
                .event(EventBuilder::new("done").time(start + 4_900_000)),
        )
        .span(
            SpanBuilder::new("publish")
                .kind(SpanKind::Producer)
                .trace_id(trace)
                .span_id([4, 4, 4, 4, 4, 4, 4, 4])
                .parent([3, 3, 3, 3, 3, 3, 3, 3])
                .trace_state("vendor=x")
                .start(start + 6_000_000)
                .end(start + 6_000_400)
                .link(LinkBuilder::new(trace, [1, 1, 1, 1, 1, 1, 1, 1])),
        )
        .build()
}

fn exporter(endpoint: String, format: &str) -> ZipkinExporter {
    let config = ZipkinExporterConfig {
        endpoint,
        format: format.into(),
        sending_queue: serde_yaml_ng::from_str("enabled: false").unwrap(),
        ..ZipkinExporterConfig::default()
    };
    ZipkinExporter::new(ExporterContext::new(id("zipkin"), Signal::Traces), config).unwrap()
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_a_real_zipkin_server_in_json_and_protobuf() {
    let Some(jar) = require(Peer::Zipkin) else {
        return;
    };
    let port = free_port();
    let log = std::env::temp_dir().join(format!("otlp-zipkin-server-{}.log", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    let _server = Killed(
        Command::new("java")
            .args(["-Xmx256m", "-jar"])
            .arg(&jar)
            .arg(format!("--armeria.ports[0].port={port}"))
            .arg("--armeria.ports[0].ip=127.0.0.1")
            .arg("--armeria.ports[0].protocols=http")
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while http_get(port, "/health").is_none_or(|(s, _)| s != 200) {
        assert!(
            Instant::now() < deadline,
            "Zipkin did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let start = now_nanos() - 60_000_000_000;
    for (format, trace) in [
        ("json", TRACE),
        ("proto", {
            let mut t = TRACE;
            t[15] ^= 0xff;
            t
        }),
    ] {
        let exporter = exporter(format!("http://127.0.0.1:{port}/api/v2/spans"), format);
        exporter
            .consume(Telemetry::new(request(trace, start)))
            .await
            .unwrap();
        let path = format!("/api/v2/trace/{}", hex(&trace));
        let deadline = Instant::now() + Duration::from_secs(30);
        let spans: Vec<Value> = loop {
            if let Some((200, body)) = http_get(port, &path) {
                let spans: Vec<Value> = serde_json::from_str(&body).unwrap();
                if spans.len() == 4 {
                    break spans;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{format}: Zipkin did not return the trace"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let by_id: BTreeMap<String, &Value> = spans
            .iter()
            .map(|s| (s["id"].as_str().unwrap().to_owned(), s))
            .collect();
        let server = by_id["0101010101010101"];
        assert_eq!(server["name"], "get /cart", "{format}");
        assert_eq!(server["kind"], "SERVER");
        assert_eq!(server["localEndpoint"]["serviceName"], "frontend");
        assert_eq!(server["timestamp"].as_u64().unwrap(), (start + 500) / 1000);
        assert_eq!(server["duration"], 12_346);
        assert_eq!(server["tags"]["http.response.status_code"], "200");
        assert_eq!(server["tags"]["ratio"], "0.5");
        assert_eq!(server["tags"]["cached"], "true");
        assert_eq!(server["tags"]["host.name"], "web-1");
        assert_eq!(server["tags"]["otel.status_code"], "STATUS_CODE_OK");
        assert_eq!(
            server["tags"]["otel.scope.name"]
                .as_str()
                .or(server["tags"]["otel.library.name"].as_str()),
            Some("shop.http")
        );
        let client = by_id["0202020202020202"];
        assert_eq!(client["kind"], "CLIENT");
        assert_eq!(client["parentId"], "0101010101010101");
        assert_eq!(client["remoteEndpoint"]["serviceName"], "postgres");
        assert_eq!(client["remoteEndpoint"]["ipv4"], "10.1.2.3");
        assert_eq!(client["remoteEndpoint"]["port"], 5432);
        assert_eq!(client["tags"]["error"], "true");
        assert_eq!(
            client["tags"]["otel.status_description"],
            "connection reset"
        );
        let internal = by_id["0303030303030303"];
        assert!(internal.get("kind").is_none());
        assert_eq!(internal["tags"]["span.kind"], "internal");
        assert_eq!(internal["localEndpoint"]["serviceName"], "backend");
        let values: Vec<&str> = internal["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["cache miss|{\"key\":\"c1\"}|0", "done"]);
        let producer = by_id["0404040404040404"];
        assert_eq!(producer["kind"], "PRODUCER");
        assert_eq!(producer["tags"]["w3c.tracestate"], "vendor=x");
        assert_eq!(
            producer["tags"]["otlp.link.0"],
            format!("{}|0101010101010101||{{}}|0", hex(&trace))
        );
        // Zipkin rounds nothing away: 400 ns is 1 µs (the minimum).
        assert_eq!(producer["duration"], 1);
    }
    let (_, services) = http_get(port, "/api/v2/services").unwrap();
    let services: Vec<String> = serde_json::from_str(&services).unwrap();
    assert_eq!(services, ["backend", "frontend"]);
    let _ = std::fs::remove_file(&log);
}

/// The OTLP endpoint the Go collector exports to: keeps every request.
struct TraceSink(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

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

/// The spans of requests, each with its resource and scope, sorted, attributes sorted.
fn canonical(requests: &[ExportTraceServiceRequest]) -> Vec<String> {
    let mut out = Vec::new();
    for request in requests {
        for rs in &request.resource_spans {
            let mut resource: Vec<String> = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .map(|a| format!("{}={:?}", a.key, a.value))
                .collect();
            resource.sort();
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    let mut span = s.clone();
                    // An empty status and none are the same span (Go's pdata writes `{}`).
                    if span
                        .status
                        .as_ref()
                        .is_some_and(|st| *st == Default::default())
                    {
                        span.status = None;
                    }
                    span.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                    for e in &mut span.events {
                        e.attributes.sort_by(|a, b| a.key.cmp(&b.key));
                    }
                    out.push(format!("{resource:?} {:?} {span:?}", ss.scope));
                }
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otelcol_contrib_s_zipkin_receiver_reads_what_we_send() {
    let Some(otelcol) = require(Peer::OtelcolContribGo) else {
        return;
    };
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = otlp_transport::server::Receiver::new(TraceSink(Arc::clone(&received)))
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let sink_port = sink.http_local_addr().unwrap().port();
    let go_port = free_port();
    let dir = std::env::temp_dir().join(format!("otlp-zipkin-exporter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("otelcol.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:\n  zipkin:\n    endpoint: 127.0.0.1:{go_port}\n    parse_string_tags: true\n\
             exporters:\n  otlp_http:\n    endpoint: http://127.0.0.1:{sink_port}\n    compression: none\n\
             service:\n  telemetry:\n    metrics:\n      level: none\n\
             \x20 pipelines:\n    traces:\n      receivers: [zipkin]\n      exporters: [otlp_http]\n"
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
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", go_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "otelcol-contrib-go did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let start = 1_700_000_000_123_456_789;
    let sent = request(TRACE, start);
    let mut expected = Vec::new();
    for format in ["json", "proto"] {
        let exporter = exporter(format!("http://127.0.0.1:{go_port}/api/v2/spans"), format);
        exporter
            .consume(Telemetry::new(sent.clone()))
            .await
            .unwrap();
        // What our receiver makes of the same body.
        let (body, _) = otlp_exporters::zipkin::encode_request(&sent, format == "proto").unwrap();
        let spans = if format == "proto" {
            otlp_model::zipkin::decode_v2_proto(&body).unwrap()
        } else {
            otlp_model::zipkin::decode_v2_json(&body).unwrap()
        };
        expected.push(otlp_model::zipkin::to_otlp(spans, true).unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let count = || {
        received
            .lock()
            .unwrap()
            .iter()
            .map(|r: &ExportTraceServiceRequest| {
                r.resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .map(|s| s.spans.len())
                    .sum::<usize>()
            })
            .sum::<usize>()
    };
    while count() < 8 {
        assert!(
            Instant::now() < deadline,
            "otelcol exported {} spans",
            count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert_eq!(canonical(&got), canonical(&expected));
    // And what Go read is what we sent, to the microsecond.
    let spans: Vec<_> = got
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    let server = spans.iter().find(|s| s.span_id == [1; 8]).unwrap();
    assert_eq!(server.trace_id, TRACE);
    assert_eq!(server.name, "get /cart");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(server.start_time_unix_nano, 1_700_000_000_123_457_000);
    assert_eq!(server.status.as_ref().unwrap().code, 1);
    let client = spans.iter().find(|s| s.span_id == [2; 8]).unwrap();
    assert_eq!(client.parent_span_id, [1; 8]);
    assert_eq!(client.status.as_ref().unwrap().message, "connection reset");
    let internal = spans.iter().find(|s| s.span_id == [3; 8]).unwrap();
    assert_eq!(internal.kind, SpanKind::Internal as i32);
    assert_eq!(internal.events.len(), 2);
    let producer = spans.iter().find(|s| s.span_id == [4; 8]).unwrap();
    assert_eq!(producer.trace_state, "vendor=x");
    assert_eq!(producer.links.len(), 1);
    assert_eq!(producer.links[0].span_id, [1; 8]);
    let _ = std::fs::remove_dir_all(&dir);
}
