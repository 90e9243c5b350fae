//! The microservices demo (`examples/microservices`, package `otlp-demo`) exports through the
//! real collector, and one checkout arrives as one trace across four services, with RED
//! metrics per service and log records correlated with the trace.
//!
//! ```text
//! demo: gateway → users → orders ─queue→ payments ──(OTLP/gRPC)──→ otlp-collector ──→ sink
//! ```
//!
//! The demo runs as its own process (its `demo` binary, built here like the custom collector
//! example of `e2e_example.rs`): the layering rules (`xtask/src/tidy.rs`) let otlp-collector
//! depend on otlp-sdk, but not on otlp-instrumentation or the demo package.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use otlp_model::AttributesExt;
use otlp_proto::common::v1::any_value;
use otlp_proto::metrics::v1::metric::Data;
use otlp_proto::trace::v1::Span;
use otlp_proto::trace::v1::span::SpanKind;
use support::*;

/// The demo's binary, beside the collector's, built (a no-op when fresh) with the collector's
/// profile.
fn demo_binary() -> PathBuf {
    let dir = Path::new(COLLECTOR).parent().unwrap();
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--quiet", "-p", "otlp-demo", "--bin", "demo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if dir.file_name().is_some_and(|name| name == "release") {
        command.arg("--release");
    }
    let status = command.status().expect("cargo build -p otlp-demo");
    assert!(status.success(), "building the demo failed");
    dir.join("demo")
}

fn collector_config(grpc: std::net::SocketAddr, sink: std::net::SocketAddr) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
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
    metrics:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"#
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A span as it arrived, with its resource's `service.name`.
struct Arrived {
    service: String,
    span: Span,
}

impl Arrived {
    fn str(&self, key: &str) -> Option<&str> {
        self.span.attributes.get_str(key)
    }
    fn int(&self, key: &str) -> Option<i64> {
        self.span.attributes.get_i64(key)
    }
}

fn spans(r: &Received) -> Vec<Arrived> {
    let mut out = Vec::new();
    for rs in r.traces.iter().flat_map(|t| &t.resource_spans) {
        let service = rs
            .resource
            .as_ref()
            .and_then(|res| res.attributes.get_str("service.name"))
            .unwrap_or_default()
            .to_owned();
        for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
            out.push(Arrived {
                service: service.clone(),
                span: span.clone(),
            });
        }
    }
    out
}

/// Per (service.name, metric name): the largest data-point count of its histograms, or the
/// largest value of its integer sums (cumulative: the last export holds the total).
fn metric_totals(r: &Received) -> BTreeMap<(String, String), u64> {
    use otlp_proto::metrics::v1::number_data_point::Value;
    let mut totals: BTreeMap<(String, String), u64> = BTreeMap::new();
    for rm in r.metrics.iter().flat_map(|m| &m.resource_metrics) {
        let service = rm
            .resource
            .as_ref()
            .and_then(|res| res.attributes.get_str("service.name"))
            .unwrap_or_default()
            .to_owned();
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let total = match &metric.data {
                Some(Data::Histogram(h)) => h.data_points.iter().map(|p| p.count).sum(),
                Some(Data::Sum(s)) => s
                    .data_points
                    .iter()
                    .map(|p| match p.value {
                        Some(Value::AsInt(v)) => u64::try_from(v).unwrap_or(0),
                        _ => 0,
                    })
                    .sum(),
                _ => continue,
            };
            let entry = totals
                .entry((service.clone(), metric.name.clone()))
                .or_default();
            *entry = (*entry).max(total);
        }
    }
    totals
}

/// A log record as it arrived, with its resource's `service.name`.
#[derive(Debug)]
struct Record {
    service: String,
    body: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    severity: i32,
}

fn log_records(r: &Received) -> Vec<Record> {
    let mut out = Vec::new();
    for rl in r.logs.iter().flat_map(|l| &l.resource_logs) {
        let service = rl
            .resource
            .as_ref()
            .and_then(|res| res.attributes.get_str("service.name"))
            .unwrap_or_default()
            .to_owned();
        for record in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let body = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            out.push(Record {
                service: service.clone(),
                body,
                trace_id: record.trace_id.clone(),
                span_id: record.span_id.clone(),
                severity: record.severity_number,
            });
        }
    }
    out
}

/// The expected RED metrics and messaging metrics of one checkout.
const METRICS: &[(&str, &str)] = &[
    ("gateway", "http.server.request.duration"),
    ("users", "http.server.request.duration"),
    ("orders", "http.server.request.duration"),
    ("gateway", "http.client.request.duration"),
    ("users", "http.client.request.duration"),
    ("orders", "messaging.client.operation.duration"),
    ("orders", "messaging.client.sent.messages"),
    ("payments", "messaging.process.duration"),
    ("payments", "messaging.client.consumed.messages"),
];

/// The log records of one checkout: (service, body).
const LOGS: &[(&str, &str)] = &[
    ("gateway", "checkout started"),
    ("gateway", "checkout done"),
    ("users", "user looked up"),
    ("orders", "order created"),
    ("payments", "payment charged"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_checkout_is_one_trace_across_four_services() {
    let _timer = Timer::start("one_checkout_is_one_trace_across_four_services");
    let binary = demo_binary();
    let sink = RunningSink::start().await;
    let grpc = free_addr();
    let dir = temp_dir("demo-e2e");
    let config = write(dir.path(), "c.yaml", &collector_config(grpc, sink.grpc));
    let mut collector = start_collector("collector-demo", &config, &[]).await;

    // One checkout; the demo shuts its services' providers down (10 s deadline) and exits 0
    // only when everything was exported.
    let mut command = Command::new(&binary);
    command
        .args(["--requests", "1"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{grpc}"))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut demo = Proc::spawn("demo", command);
    let status = demo.wait_exit(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "{}", demo.tail());
    let stdout = demo.stdout();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("checkout 0: "))
        .unwrap_or_else(|| panic!("no checkout line\n{}", demo.tail()));
    assert!(line.starts_with("checkout 0: 200 "), "{line}");
    let trace_id = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("trace_id="))
        .expect("trace id printed")
        .to_owned();
    assert_eq!(trace_id.len(), 32, "{line}");
    assert!(stdout.contains("payments processed: 1"), "{stdout}");

    sink.wait_for_with(
        "8 spans, the metrics and 5 log records of the checkout",
        Duration::from_secs(15),
        |r| {
            let totals = metric_totals(r);
            spans(r).len() >= 8
                && log_records(r).len() >= LOGS.len()
                && METRICS
                    .iter()
                    .all(|(s, m)| totals.contains_key(&((*s).to_owned(), (*m).to_owned())))
        },
        || format!("{}\n{}", demo.tail(), collector.tail()),
    )
    .await;

    sink.with(|r| {
        let spans = spans(r);
        // Exactly one trace, the one the gateway reported.
        let traces: BTreeSet<String> = spans.iter().map(|a| hex(&a.span.trace_id)).collect();
        assert_eq!(
            traces,
            BTreeSet::from([trace_id.clone()]),
            "one trace id across every span"
        );
        assert_eq!(
            spans.len(),
            8,
            "{:?}",
            spans
                .iter()
                .map(|a| (&a.service, &a.span.name))
                .collect::<Vec<_>>()
        );
        let find = |service: &str, kind: SpanKind, name: &str| -> &Arrived {
            let found: Vec<&Arrived> = spans
                .iter()
                .filter(|a| {
                    a.service == service && a.span.kind == kind as i32 && a.span.name == name
                })
                .collect();
            assert_eq!(found.len(), 1, "one {service} {kind:?} span {name:?}");
            found[0]
        };
        let gateway_server = find("gateway", SpanKind::Server, "GET /checkout/{user}");
        let gateway_client = find("gateway", SpanKind::Client, "GET");
        let users_server = find("users", SpanKind::Server, "GET /users/{id}");
        let users_client = find("users", SpanKind::Client, "POST");
        let orders_server = find("orders", SpanKind::Server, "POST /orders");
        let producer = find("orders", SpanKind::Producer, "send payments");
        let consumer = find("payments", SpanKind::Consumer, "process payments");
        let charge = find("payments", SpanKind::Internal, "charge");

        // The parent chain: gateway SERVER is the root; every hop a child of the one before.
        assert!(gateway_server.span.parent_span_id.is_empty(), "the root");
        for (child, parent) in [
            (gateway_client, gateway_server),
            (users_server, gateway_client),
            (users_client, users_server),
            (orders_server, users_client),
            (producer, orders_server),
            (consumer, producer),
            (charge, consumer),
        ] {
            assert_eq!(
                child.span.parent_span_id, parent.span.span_id,
                "{} {} is a child of {} {}",
                child.service, child.span.name, parent.service, parent.span.name
            );
            assert!(child.span.start_time_unix_nano >= parent.span.start_time_unix_nano);
        }
        // The consumer continues the producer's trace (`Parent::Creation`) and links to it.
        assert_eq!(consumer.span.links.len(), 1);
        assert_eq!(consumer.span.links[0].span_id, producer.span.span_id);
        assert_eq!(consumer.span.links[0].trace_id, producer.span.trace_id);

        // HTTP attributes.
        for (server, route, code) in [
            (gateway_server, "/checkout/{user}", 200),
            (users_server, "/users/{id}", 200),
            (orders_server, "/orders", 201),
        ] {
            assert_eq!(server.str("http.route"), Some(route));
            assert_eq!(server.int("http.response.status_code"), Some(code));
            assert_eq!(server.str("url.scheme"), Some("http"));
            assert_eq!(server.str("server.address"), Some("127.0.0.1"));
        }
        assert_eq!(gateway_server.str("http.request.method"), Some("GET"));
        assert_eq!(orders_server.str("http.request.method"), Some("POST"));
        assert_eq!(gateway_client.int("http.response.status_code"), Some(200));
        assert_eq!(users_client.int("http.response.status_code"), Some(201));
        assert!(
            gateway_client
                .str("url.full")
                .is_some_and(|u| u.starts_with("http://127.0.0.1:") && u.ends_with("/users/100")),
            "{:?}",
            gateway_client.str("url.full")
        );
        // Messaging attributes.
        for (span, operation) in [(producer, "send"), (consumer, "process")] {
            assert_eq!(span.str("messaging.system"), Some("demo-queue"));
            assert_eq!(span.str("messaging.destination.name"), Some("payments"));
            assert_eq!(span.str("messaging.operation.name"), Some(operation));
            assert_eq!(span.str("messaging.operation.type"), Some(operation));
        }
        // No span is an error.
        for a in &spans {
            let code = a.span.status.as_ref().map_or(0, |s| s.code);
            assert_ne!(code, 2, "{} {} is an error", a.service, a.span.name);
        }

        // RED metrics per service: one request each.
        let totals = metric_totals(r);
        for (service, metric) in METRICS {
            assert_eq!(
                totals.get(&((*service).to_owned(), (*metric).to_owned())),
                Some(&1),
                "{service} {metric}: {totals:?}"
            );
        }
        // The server duration's series carry the route and the status code.
        for rm in r.metrics.iter().flat_map(|m| &m.resource_metrics) {
            for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
                if let (Some(Data::Histogram(h)), "http.server.request.duration") =
                    (&metric.data, metric.name.as_str())
                {
                    for point in &h.data_points {
                        assert!(point.attributes.get_str("http.route").is_some());
                        assert!(
                            point
                                .attributes
                                .get_i64("http.response.status_code")
                                .is_some()
                        );
                    }
                }
            }
        }

        // Log records from `tracing::info!` in the handlers, through the bridge: in the
        // request's trace, in the span that was current.
        let records = log_records(r);
        let span_of = |service: &str| match service {
            "gateway" => &gateway_server.span.span_id,
            "users" => &users_server.span.span_id,
            "orders" => &orders_server.span.span_id,
            _ => &charge.span.span_id,
        };
        for (service, body) in LOGS {
            let found: Vec<_> = records
                .iter()
                .filter(|r| r.service == *service && r.body == *body)
                .collect();
            assert_eq!(found.len(), 1, "{service}: {body:?} in {records:?}");
            let record = found[0];
            assert_eq!(
                hex(&record.trace_id),
                trace_id,
                "{service}: {body:?} in the trace"
            );
            assert_eq!(
                &record.span_id,
                span_of(service),
                "{service}: {body:?} in its span"
            );
            assert_eq!(record.severity, 9, "INFO");
        }
        for record in &records {
            assert!(
                record.trace_id.is_empty() || hex(&record.trace_id) == trace_id,
                "{record:?} in another trace"
            );
        }
    });

    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
}
