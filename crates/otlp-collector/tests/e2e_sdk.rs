//! An application instrumented with otlp-sdk exports into otlp-collector and into rotel; every
//! span and log record arrives with its ids, parents and resource intact.
//!
//! ```text
//! otlp-sdk app ──(grpc | http/protobuf | http/json)──→ otlp-collector ──→ sink
//! otlp-sdk app ──(grpc | http/protobuf)──→ rotel ──→ otlp-collector ──→ sink
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use otlp_model::AttributesExt;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sdk::export::{BatchSettings, Signal, otlp_exporter};
use otlp_sdk::logs::{LogRecord, LoggerProvider, SeverityNumber};
use otlp_sdk::trace::{SpanKind, Status, TracerProvider};
use otlp_sdk::{KeyValue, Resource};
use support::*;

fn collector_config(grpc: SocketAddr, http: SocketAddr, sink: SocketAddr) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    timeout: 50ms
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"#
    )
}

/// What the instrumented program produced, to compare with what arrived.
struct Produced {
    /// span id → (name, parent span id, trace id).
    spans: BTreeMap<[u8; 8], (String, [u8; 8], [u8; 16])>,
    /// (body, span id) of each log record.
    logs: Vec<(String, [u8; 8])>,
}

/// A small instrumented service: one request span, two children, a log record inside each.
fn run_program(endpoint: &str, protocol: &str, requests: usize) -> Produced {
    let env = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ]);
    let resource = Resource::builder()
        .with_default_detectors()
        .with_service_name("checkout")
        .with_attribute(KeyValue::new("deployment.environment.name", "e2e"))
        .build();
    let settings = BatchSettings {
        scheduled_delay: Duration::from_millis(100),
        ..BatchSettings::spans()
    };
    let tracer_provider = TracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter_settings(
            otlp_exporter(Signal::Traces, &env).unwrap(),
            settings.clone(),
        )
        .try_build()
        .unwrap();
    let logger_provider = LoggerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter_settings(otlp_exporter(Signal::Logs, &env).unwrap(), settings)
        .try_build()
        .unwrap();
    let tracer = tracer_provider.tracer("checkout.http");
    let logger = logger_provider.logger("checkout.http");

    let mut produced = Produced {
        spans: BTreeMap::new(),
        logs: Vec::new(),
    };
    let mut note = |span: &otlp_sdk::trace::Span, name: &str, parent: [u8; 8]| {
        let sc = span.span_context();
        produced.spans.insert(
            sc.span_id().to_bytes(),
            (name.to_owned(), parent, sc.trace_id().to_bytes()),
        );
    };
    for i in 0..requests {
        let mut root = tracer
            .span("GET /cart")
            .kind(SpanKind::Server)
            .attribute(("http.request.method", "GET"))
            .attribute(("request.index", i as i64))
            .start();
        note(&root, "GET /cart", [0; 8]);
        let _guard = root.attach();
        for child_name in ["SELECT carts", "GET /prices"] {
            let mut child = tracer.span(child_name).kind(SpanKind::Client).start();
            note(&child, child_name, root.span_context().span_id().to_bytes());
            let _inner = child.attach();
            let body = format!("{child_name} #{i}");
            logger.emit(
                LogRecord::new()
                    .with_severity(SeverityNumber::Info, "INFO")
                    .with_body(body.clone()),
            );
            produced
                .logs
                .push((body, child.span_context().span_id().to_bytes()));
            child.set_status(Status::Ok);
        }
        root.end();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    tracer_provider
        .shutdown(deadline)
        .expect("every span exported");
    logger_provider
        .shutdown(deadline)
        .expect("every log record exported");
    produced
}

fn check_arrived(
    produced: &Produced,
    traces: &[ExportTraceServiceRequest],
    logs: &[ExportLogsServiceRequest],
) {
    let mut seen = BTreeMap::new();
    for rs in traces.iter().flat_map(|r| &r.resource_spans) {
        let resource = rs.resource.as_ref().expect("resource");
        assert_eq!(
            resource.attributes.get_str("service.name"),
            Some("checkout")
        );
        assert_eq!(
            resource.attributes.get_str("deployment.environment.name"),
            Some("e2e")
        );
        assert_eq!(
            resource.attributes.get_str("telemetry.sdk.language"),
            Some("rust")
        );
        for ss in &rs.scope_spans {
            assert_eq!(
                ss.scope.as_ref().map(|s| s.name.as_str()),
                Some("checkout.http")
            );
            for span in &ss.spans {
                let id: [u8; 8] = span.span_id.as_slice().try_into().expect("span id");
                let parent: [u8; 8] = if span.parent_span_id.is_empty() {
                    [0; 8]
                } else {
                    span.parent_span_id
                        .as_slice()
                        .try_into()
                        .expect("parent id")
                };
                let trace: [u8; 16] = span.trace_id.as_slice().try_into().expect("trace id");
                assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
                assert!(
                    seen.insert(id, (span.name.clone(), parent, trace))
                        .is_none(),
                    "duplicate span"
                );
            }
        }
    }
    assert_eq!(
        &seen, &produced.spans,
        "every span, with its name, parent and trace"
    );

    let mut records = Vec::new();
    for rl in logs.iter().flat_map(|r| &r.resource_logs) {
        for record in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(otlp_proto::common::v1::any_value::Value::StringValue(s)) => s.clone(),
                other => panic!("unexpected body {other:?}"),
            };
            let span: [u8; 8] = record.span_id.as_slice().try_into().expect("span id");
            let (_, _, trace) = &produced.spans[&span];
            assert_eq!(
                record.trace_id, trace,
                "log record correlated with its trace"
            );
            records.push((body, span));
        }
    }
    records.sort();
    let mut expected = produced.logs.clone();
    expected.sort();
    assert_eq!(records, expected, "every log record, with its span");
}

async fn through_collector(protocol: &str, use_http: bool) {
    let sink = RunningSink::start().await;
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("sdk-e2e");
    let path = write(
        dir.path(),
        "c.yaml",
        &collector_config(grpc, http, sink.grpc),
    );
    let mut collector = start_collector(
        &format!("collector-sdk-{}", protocol.replace('/', "-")),
        &path,
        &[],
    )
    .await;
    let endpoint = format!("http://{}", if use_http { http } else { grpc });
    let protocol_owned = protocol.to_owned();
    let produced = tokio::task::spawn_blocking(move || run_program(&endpoint, &protocol_owned, 20))
        .await
        .unwrap();
    let (n_spans, n_logs) = (produced.spans.len(), produced.logs.len());
    sink.wait_for(
        "every span and record at the sink",
        Duration::from_secs(15),
        |r| {
            r.traces
                .iter()
                .map(|t| {
                    t.resource_spans
                        .iter()
                        .flat_map(|rs| &rs.scope_spans)
                        .map(|s| s.spans.len())
                        .sum::<usize>()
                })
                .sum::<usize>()
                >= n_spans
                && r.records >= n_logs
        },
    )
    .await;
    sink.with(|r| check_arrived(&produced, &r.traces, &r.logs));
    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_to_collector_over_grpc() {
    through_collector("grpc", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_to_collector_over_http_protobuf() {
    through_collector("http/protobuf", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_to_collector_over_http_json() {
    through_collector("http/json", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_to_rotel_to_collector() {
    let rotel = require_peer!(Peer::Rotel);
    for protocol in ["grpc", "http/protobuf"] {
        let sink = RunningSink::start().await;
        let (grpc, http) = (free_addr(), free_addr());
        let dir = temp_dir("sdk-rotel");
        let path = write(
            dir.path(),
            "c.yaml",
            &collector_config(grpc, http, sink.grpc),
        );
        let mut collector = start_collector("collector-sdk-rotel", &path, &[]).await;
        let (mut rotel, r_grpc, r_http, _rotel_dir) = start_rotel(&rotel, grpc, "rotel-sdk").await;
        let endpoint = format!(
            "http://{}",
            if protocol == "grpc" { r_grpc } else { r_http }
        );
        let produced = tokio::task::spawn_blocking(move || run_program(&endpoint, protocol, 10))
            .await
            .unwrap();
        let (n_spans, n_logs) = (produced.spans.len(), produced.logs.len());
        sink.wait_for_with(
            "every span and record through rotel",
            Duration::from_secs(20),
            |r| {
                r.traces
                    .iter()
                    .flat_map(|t| &t.resource_spans)
                    .flat_map(|rs| &rs.scope_spans)
                    .map(|s| s.spans.len())
                    .sum::<usize>()
                    >= n_spans
                    && r.records >= n_logs
            },
            || format!("{}\n{}", rotel.tail(), collector.tail()),
        )
        .await;
        sink.with(|r| check_arrived(&produced, &r.traces, &r.logs));
        rotel.assert_running();
        collector.terminate();
        let status = collector.wait_exit(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(0), "{}", collector.tail());
    }
}

/// Records a counter and a histogram in a small program and exports them with a periodic
/// reader over `protocol`; returns (counter total, histogram count).
fn run_metrics_program(endpoint: &str, protocol: &str) -> (i64, u64) {
    use otlp_sdk::metrics::{MeterProvider, PeriodicReader, PeriodicSettings};
    let env = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ]);
    let reader = PeriodicReader::new(
        otlp_exporter(Signal::Metrics, &env).unwrap(),
        PeriodicSettings {
            interval: Duration::from_millis(200),
            ..PeriodicSettings::default()
        },
    )
    .unwrap();
    let provider = MeterProvider::builder()
        .with_resource(Resource::builder().with_service_name("checkout").build())
        .with_reader(reader)
        .build();
    let meter = provider.meter("checkout.http");
    let requests = meter.u64_counter("http.server.requests").build();
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .build();
    for i in 0..50_u64 {
        requests.add(
            1,
            &[KeyValue::new(
                "http.route",
                if i % 2 == 0 { "/a" } else { "/b" },
            )],
        );
        duration.record(i as f64 / 100.0, &[]);
    }
    provider
        .shutdown(Instant::now() + Duration::from_secs(10))
        .expect("metrics exported");
    (50, 50)
}

/// The latest cumulative value of each series of `name` at the sink.
fn latest(r: &Received, name: &str) -> (i64, u64) {
    use otlp_proto::metrics::v1::{metric::Data, number_data_point::Value};
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut count = 0;
    for m in r
        .metrics
        .iter()
        .flat_map(|x| &x.resource_metrics)
        .flat_map(|x| &x.scope_metrics)
        .flat_map(|x| &x.metrics)
    {
        match &m.data {
            Some(Data::Sum(s)) if m.name == name => {
                for p in &s.data_points {
                    if let Some(Value::AsInt(v)) = p.value {
                        sums.insert(format!("{:?}", p.attributes), v);
                    }
                }
            }
            Some(Data::Histogram(h)) if m.name == "http.server.request.duration" => {
                count = count.max(h.data_points.iter().map(|p| p.count).sum());
            }
            _ => {}
        }
    }
    (sums.values().sum(), count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_metrics_to_collector_and_through_rotel() {
    for (protocol, via_rotel) in [
        ("grpc", false),
        ("http/protobuf", false),
        ("http/json", false),
        ("grpc", true),
    ] {
        let rotel = if via_rotel {
            match support::require(Peer::Rotel) {
                Some(path) => Some(path),
                None => continue,
            }
        } else {
            None
        };
        let sink = RunningSink::start().await;
        let (grpc, http) = (free_addr(), free_addr());
        let dir = temp_dir("sdk-metrics");
        let path = write(
            dir.path(),
            "c.yaml",
            &collector_config(grpc, http, sink.grpc),
        );
        let mut collector = start_collector("collector-sdk-metrics", &path, &[]).await;
        let mut rotel_proc = None;
        let endpoint = match rotel {
            None => format!("http://{}", if protocol == "grpc" { grpc } else { http }),
            Some(rotel) => {
                let (proc, r_grpc, _, rotel_dir) =
                    start_rotel(&rotel, grpc, "rotel-sdk-metrics").await;
                rotel_proc = Some((proc, rotel_dir));
                format!("http://{r_grpc}")
            }
        };
        let p = protocol.to_owned();
        let expected = tokio::task::spawn_blocking(move || run_metrics_program(&endpoint, &p))
            .await
            .unwrap();
        sink.wait_for(
            "the counter and histogram totals",
            Duration::from_secs(15),
            |r| latest(r, "http.server.requests") == expected,
        )
        .await;
        if let Some((mut proc, _dir)) = rotel_proc {
            proc.assert_running();
        }
        collector.terminate();
        let status = collector.wait_exit(Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(0), "{}", collector.tail());
    }
}

/// rotel on fresh loopback ports, forwarding everything over gRPC to `next_hop`, once it
/// listens on both: the process, its gRPC and HTTP addresses, and its directory (pid, log).
async fn start_rotel(
    rotel: &std::path::Path,
    next_hop: SocketAddr,
    name: &str,
) -> (Proc, SocketAddr, SocketAddr, tempfile::TempDir) {
    let (r_grpc, r_http) = (free_addr(), free_addr());
    let dir = temp_dir(name);
    let mut command = Command::new(rotel);
    command
        .arg("start")
        .args(["--otlp-grpc-endpoint", &r_grpc.to_string()])
        .args(["--otlp-http-endpoint", &r_http.to_string()])
        .args(["--exporter", "otlp"])
        .args(["--otlp-exporter-endpoint", &format!("http://{next_hop}")])
        .args(["--otlp-exporter-protocol", "grpc"])
        .arg("--disable-batching")
        .arg("--pid-file")
        .arg(dir.path().join("rotel.pid"))
        .arg("--log-file")
        .arg(dir.path().join("rotel.log"))
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut proc = Proc::spawn(name, command);
    proc.wait_listening(r_grpc, Duration::from_secs(15)).await;
    proc.wait_listening(r_http, Duration::from_secs(15)).await;
    (proc, r_grpc, r_http, dir)
}
