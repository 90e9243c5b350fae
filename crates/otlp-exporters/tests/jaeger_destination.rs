//! Jaeger as a destination: the `otlp` exporter (OTLP/gRPC, with its queue) and the `otlphttp`
//! exporter deliver traces to a real Jaeger v1.75.0 backend (installed by `cargo xtask
//! peers`, in-memory storage, loopback ports), and the traces are read back from Jaeger's query
//! API with the services, operations, kinds, tags, references, logs and status we sent. This is
//! how the collector reaches Jaeger (its own exporter left the Go collector in 2023).
//!
//! Without the peer the test is skipped, or fails under `OTLP_REQUIRE_PEERS=1` (as `cargo
//! xtask test` runs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otlp_exporters::otlp::{OtlpExporterComponent, OtlpExporterConfig, OtlpHttpExporterConfig};
use otlp_model::prelude::*;
use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::testing::id;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use serde_json::Value;
use support::{Killed, Peer, free_port, now_nanos, require};

fn request(trace: [u8; 16], start: u64) -> ExportTraceServiceRequest {
    TracesBuilder::new()
        .resource(resource!["service.name" => "frontend", "host.name" => "web-1"])
        .scope("shop.http", "0.9")
        .span(
            SpanBuilder::new("GET /cart")
                .kind(SpanKind::Server)
                .trace_id(trace)
                .span_id([1; 8])
                .start(start)
                .end(start + 12_000_000)
                .attr("http.request.method", "GET")
                .attr("http.response.status_code", 200)
                .event(
                    EventBuilder::new("cache miss")
                        .time(start + 1_000_000)
                        .attr("key", "c1"),
                ),
        )
        .resource(resource!["service.name" => "backend"])
        .scope("db", "")
        .span(
            SpanBuilder::new("SELECT")
                .kind(SpanKind::Client)
                .trace_id(trace)
                .span_id([2; 8])
                .parent([1; 8])
                .start(start + 2_000_000)
                .end(start + 5_000_000)
                .attr("db.system.name", "postgresql")
                .status_error("connection reset"),
        )
        .build()
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
    Some((status, text.split_once("\r\n\r\n")?.1.to_owned()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Jaeger's query API's tags of a span (or process) as a map.
fn tags(value: &Value) -> BTreeMap<String, Value> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["key"].as_str().unwrap().to_owned(), t["value"].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_exporters_deliver_to_a_real_jaeger() {
    let Some(jaeger) = require(Peer::Jaeger) else {
        return;
    };
    let (grpc, http, query, query_grpc) = (free_port(), free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("otlp-jaeger-destination-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("jaeger.yaml");
    std::fs::write(
        &config,
        format!(
            "service:\n  extensions: [jaeger_storage, jaeger_query]\n  pipelines:\n    traces:\n      \
             receivers: [otlp]\n      exporters: [jaeger_storage_exporter]\n  telemetry:\n    metrics:\n      level: none\n\
             extensions:\n  jaeger_query:\n    storage:\n      traces: mem\n    http:\n      endpoint: 127.0.0.1:{query}\n    \
             grpc:\n      endpoint: 127.0.0.1:{query_grpc}\n  jaeger_storage:\n    backends:\n      mem:\n        memory:\n          max_traces: 1000\n\
             receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{grpc}\n      http:\n        endpoint: 127.0.0.1:{http}\n\
             exporters:\n  jaeger_storage_exporter:\n    trace_storage: mem\n"
        ),
    )
    .unwrap();
    let log = dir.join("jaeger.log");
    let file = std::fs::File::create(&log).unwrap();
    let _jaeger = Killed(
        Command::new(&jaeger)
            .arg("--config")
            .arg(&config)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_get(query, "/api/services").is_none_or(|(s, _)| s != 200)
        || std::net::TcpStream::connect(("127.0.0.1", grpc)).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "Jaeger did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let start = now_nanos() - 60_000_000_000;
    let grpc_exporter = OtlpExporterComponent::grpc(
        ExporterContext::new(id("otlp"), Signal::Traces),
        serde_yaml_ng::from_str::<OtlpExporterConfig>(&format!(
            "endpoint: 127.0.0.1:{grpc}\ntls: {{insecure: true}}"
        ))
        .unwrap(),
    )
    .unwrap();
    let http_exporter = OtlpExporterComponent::http(
        ExporterContext::new(id("otlphttp"), Signal::Traces),
        serde_yaml_ng::from_str::<OtlpHttpExporterConfig>(&format!(
            "endpoint: http://127.0.0.1:{http}"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut traces = Vec::new();
    for (n, exporter) in [&grpc_exporter, &http_exporter].into_iter().enumerate() {
        let mut trace = [0x4b_u8; 16];
        trace[15] = n as u8;
        exporter.start(&Host::empty()).await.unwrap();
        exporter
            .consume(Telemetry::new(request(trace, start)))
            .await
            .unwrap();
        exporter
            .shutdown(tokio::time::Instant::now() + Duration::from_secs(10))
            .await
            .unwrap();
        traces.push(trace);
    }

    for trace in traces {
        let path = format!("/api/traces/{}", hex(&trace));
        let deadline = Instant::now() + Duration::from_secs(30);
        let data: Value = loop {
            if let Some((200, body)) = http_get(query, &path) {
                let v: Value = serde_json::from_str(&body).unwrap();
                if v["data"][0]["spans"]
                    .as_array()
                    .is_some_and(|s| s.len() == 2)
                {
                    break v["data"][0].clone();
                }
            }
            assert!(Instant::now() < deadline, "Jaeger never returned {path}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let processes = data["processes"].as_object().unwrap();
        let service = |span: &Value| {
            processes[span["processID"].as_str().unwrap()]["serviceName"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let spans = data["spans"].as_array().unwrap();
        let by_name = |name: &str| spans.iter().find(|s| s["operationName"] == name).unwrap();
        let server = by_name("GET /cart");
        assert_eq!(server["spanID"], "0101010101010101");
        assert_eq!(server["traceID"], hex(&trace));
        assert_eq!(service(server), "frontend");
        assert_eq!(server["startTime"].as_u64().unwrap(), start / 1000);
        assert_eq!(server["duration"], 12_000);
        let t = tags(&server["tags"]);
        assert_eq!(t["span.kind"], "server");
        assert_eq!(t["http.request.method"], "GET");
        assert_eq!(t["http.response.status_code"], 200);
        assert_eq!(t["otel.scope.name"], "shop.http");
        let log = &server["logs"][0];
        assert_eq!(
            log["timestamp"].as_u64().unwrap(),
            (start + 1_000_000) / 1000
        );
        let fields = tags(&log["fields"]);
        assert_eq!(fields["event"], "cache miss");
        assert_eq!(fields["key"], "c1");
        let client = by_name("SELECT");
        assert_eq!(service(client), "backend");
        assert_eq!(client["references"][0]["refType"], "CHILD_OF");
        assert_eq!(client["references"][0]["spanID"], "0101010101010101");
        let t = tags(&client["tags"]);
        assert_eq!(t["span.kind"], "client");
        assert_eq!(t["error"], true);
        assert_eq!(t["otel.status_description"], "connection reset");
        let process = &processes[client["processID"].as_str().unwrap()];
        assert!(tags(&process["tags"]).is_empty() || process["serviceName"] == "backend");
    }
    let (_, services) = http_get(query, "/api/services").unwrap();
    let services: Value = serde_json::from_str(&services).unwrap();
    let mut names: Vec<&str> = services["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["backend", "frontend"]);
    let _ = std::fs::remove_dir_all(&dir);
}
