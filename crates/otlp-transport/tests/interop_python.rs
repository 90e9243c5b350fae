//! Interop: the OpenTelemetry Python SDK (1.45, the reference SDK most OTLP senders resemble)
//! exports traces, metrics and logs to OUR receiver over OTLP/gRPC, OTLP/HTTP protobuf (plain,
//! gzip, deflate) and OTLP/HTTP JSON (`opentelemetry-exporter-otlp-json-http`, plain and gzip), and
//! OTLP/gRPC with grpcio's gzip.
//!
//! The script `tests/peers/python_sdk_export.py` wraps each SDK exporter and prints, as JSON,
//! exactly what the SDK handed it. Each test then checks that every span (ids, parent, name,
//! kind, times, attributes, events, links, status, resource, scope), every metric data point
//! (name, type, unit, attributes, value) and every log record (body, severity, attributes,
//! trace context, time) arrived intact, that the SDK saw every export succeed, and that the
//! receiver saw the expected transport, body format and content encoding.
#![cfg(all(
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "json",
    feature = "gzip"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use interop_support::{
    ChildGuard, Peer, Recorded, Timer, attributes_json, data_points, hex, metric_type,
    resource_attr, spans_by_id, start_receiver, value_json,
};
use otlp_transport::server::{ContentType, Transport};
use otlp_transport::{Compression, PartialSuccess, Refusal};
use serde_json::{Value, json};

/// How one case sends, and what the receiver must see.
struct Case {
    transport: &'static str,
    expect_transport: Transport,
    expect_content_type: ContentType,
    expect_compression: Compression,
    /// Refuse the first trace request with this; the SDK must retry it.
    refuse_first_traces: Option<Refusal>,
    /// Answer every logs request with a partial success; the SDK must not retry it.
    partial_logs: bool,
}

impl Case {
    fn new(transport: &'static str, expect: (Transport, ContentType, Compression)) -> Case {
        Case {
            transport,
            expect_transport: expect.0,
            expect_content_type: expect.1,
            expect_compression: expect.2,
            refuse_first_traces: None,
            partial_logs: false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_grpc() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "grpc",
            (Transport::Grpc, ContentType::Grpc, Compression::None),
        ),
    )
    .await;
}

/// grpcio's message compression: `grpc-encoding: gzip` and the compressed flag per frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_grpc_gzip() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "grpc-gzip",
            (Transport::Grpc, ContentType::Grpc, Compression::Gzip),
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_protobuf() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "http",
            (Transport::Http, ContentType::Protobuf, Compression::None),
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_protobuf_gzip() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "http-gzip",
            (Transport::Http, ContentType::Protobuf, Compression::Gzip),
        ),
    )
    .await;
}

/// Python's `Compression.Deflate` sends zlib-wrapped deflate (`zlib.compress`), which is what
/// HTTP's `deflate` means.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_protobuf_deflate() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "http-deflate",
            (Transport::Http, ContentType::Protobuf, Compression::Deflate),
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_json() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "json",
            (Transport::Http, ContentType::Json, Compression::None),
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_json_gzip() {
    let python = require_peer!(Peer::Python);
    run(
        &python,
        Case::new(
            "json-gzip",
            (Transport::Http, ContentType::Json, Compression::Gzip),
        ),
    )
    .await;
}

/// Retries: the first trace request is answered 503 with `Retry-After: 2`; the SDK must wait
/// the advised 2 s (not its own 1 s backoff) and resend. Logs get a partial success, which the
/// SDK must take as success (no retry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_http_retries_after_503_and_accepts_partial_success() {
    let python = require_peer!(Peer::Python);
    let mut case = Case::new(
        "http",
        (Transport::Http, ContentType::Protobuf, Compression::None),
    );
    case.refuse_first_traces =
        Some(Refusal::retryable("queue full").with_retry_after(Duration::from_secs(2)));
    case.partial_logs = true;
    run(&python, case).await;
}

/// The same with 429 and OTLP/JSON, whose responses (partial success included) are JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_json_retries_after_429_and_accepts_partial_success() {
    let python = require_peer!(Peer::Python);
    let mut case = Case::new(
        "json",
        (Transport::Http, ContentType::Json, Compression::None),
    );
    case.refuse_first_traces = Some(Refusal::rate_limited("slow down", Duration::from_secs(2)));
    case.partial_logs = true;
    run(&python, case).await;
}

/// gRPC: the first trace export is answered UNAVAILABLE (with a `RetryInfo` of 2 s in
/// `grpc-status-details-bin`); grpcio's exporter must retry. The Python SDK looks for RetryInfo
/// only in a `google.rpc.retryinfo-bin` trailer of its own, not in the standard status
/// details, so it waits its own backoff (1 s ± 20 %): the test checks the retry, not the delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_grpc_retries_after_unavailable_and_accepts_partial_success() {
    let python = require_peer!(Peer::Python);
    let mut case = Case::new(
        "grpc",
        (Transport::Grpc, ContentType::Grpc, Compression::None),
    );
    case.refuse_first_traces =
        Some(Refusal::retryable("queue full").with_retry_after(Duration::from_secs(2)));
    case.partial_logs = true;
    run(&python, case).await;
}

async fn run(python: &Path, case: Case) {
    let _timer = Timer::start(case.transport);
    let (recorder, receiver) = start_receiver().await;
    recorder.with_mut(|r| {
        r.refuse_traces.extend(case.refuse_first_traces.clone());
        if case.partial_logs {
            r.partial_logs = Some(PartialSuccess {
                rejected_items: 1,
                error_message: "one record dropped by policy".into(),
            });
        }
    });
    let addr = match case.expect_transport {
        Transport::Grpc => receiver.grpc_local_addr(),
        Transport::Http => receiver.http_local_addr(),
    }
    .unwrap();

    let mut command = Command::new(python);
    command
        .arg(interop_support::peer_file("python_sdk_export.py"))
        .args([
            "--transport",
            case.transport,
            "--endpoint",
            &format!("http://{addr}"),
        ])
        // No proxy, no stray SDK configuration from the environment.
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let mut child = ChildGuard::spawn(&format!("python-{}", case.transport), command);
    let status = child.wait_exit(Duration::from_secs(25)).await;
    // (Retry cases add a 1-2 s wait inside the SDK, well within the bound.)
    let stdout = child.stdout();
    let summary: Value = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "no JSON summary on stdout ({status})\n{}",
                child.output_tail()
            )
        });
    assert!(
        status.success(),
        "the Python SDK reported failed exports ({status}): {}\n{}",
        summary["exports"],
        child.output_tail()
    );
    assert_eq!(
        summary["flushed"],
        json!(true),
        "force_flush timed out\n{}",
        child.output_tail()
    );

    let expected_spans = summary["spans"].as_array().unwrap();
    let expected_points = summary["metric_points"].as_array().unwrap();
    let expected_logs = summary["logs"].as_array().unwrap();
    // Not vacuous: the script made 5 spans, 3 log records and 8 distinct data points.
    assert_eq!(expected_spans.len(), 5, "spans the SDK exported");
    assert_eq!(expected_logs.len(), 3, "log records the SDK exported");
    assert!(
        expected_points.len() >= 8,
        "data points the SDK exported: {}",
        expected_points.len()
    );

    // The SDK got its answers before the script exited, so everything is here; poll briefly
    // anyway so a slow handler task cannot make the test flaky.
    let (spans, logs) = (expected_spans.len(), expected_logs.len());
    recorder
        .wait_for("every span and log record", Duration::from_secs(5), |r| {
            r.span_count() >= spans && r.log_count() >= logs && !r.metrics.is_empty()
        })
        .await;

    recorder.with(|recorded| {
        check_retries(recorded, &case, &summary);
        check_contexts(recorded, &case);
        check_spans(recorded, expected_spans);
        check_metrics(recorded, expected_points);
        check_logs(recorded, expected_logs, expected_spans);
    });
    receiver.shutdown(Duration::from_secs(5)).await;
    eprintln!(
        "[interop] python {}: {} spans, {} data points, {} log records verified",
        case.transport,
        expected_spans.len(),
        expected_points.len(),
        expected_logs.len()
    );
}

fn check_retries(recorded: &Recorded, case: &Case, summary: &Value) {
    let exports = |signal: &str| {
        summary["exports"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["signal"] == signal)
            .count()
    };
    // One SDK export call per request, unless the receiver refused one: the SDK retries
    // inside its export call.
    let refused = usize::from(case.refuse_first_traces.is_some());
    let arrivals = &recorded.trace_arrivals;
    assert_eq!(
        arrivals.len(),
        exports("spans") + refused,
        "trace requests (retries included): {arrivals:?}"
    );
    assert_eq!(
        arrivals
            .iter()
            .filter(|(_, was_refused)| *was_refused)
            .count(),
        refused
    );
    if let Some(refusal) = &case.refuse_first_traces {
        assert!(
            arrivals[0].1 && !arrivals[1].1,
            "refused, then accepted on retry: {arrivals:?}"
        );
        let waited = arrivals[1].0 - arrivals[0].0;
        eprintln!(
            "[interop] python {}: retried {waited:.2?} after `{refusal}`",
            case.transport
        );
        if case.expect_transport == Transport::Http {
            // Retry-After: 2 is honoured (the SDK's own first backoff would be 1 s ± 20 %).
            assert!(
                waited >= Duration::from_millis(1_900),
                "retried after {waited:?}, before the advised 2 s"
            );
        } else {
            assert!(
                waited >= Duration::from_millis(700),
                "retried after {waited:?}"
            );
        }
    }
    // A partial success is success: one request per SDK export call, never retried.
    assert_eq!(
        recorded.logs.len(),
        exports("logs"),
        "logs requests (a partial success must not be retried)"
    );
}

fn check_contexts(recorded: &Recorded, case: &Case) {
    assert!(
        !recorded.traces.is_empty() && !recorded.metrics.is_empty() && !recorded.logs.is_empty()
    );
    for context in recorded.contexts() {
        assert_eq!(
            context.transport, case.expect_transport,
            "{}: transport",
            context.signal
        );
        assert_eq!(
            context.content_type, case.expect_content_type,
            "{}: body format",
            context.signal
        );
        assert_eq!(
            context.compression, case.expect_compression,
            "{}: content encoding",
            context.signal
        );
    }
}

fn check_spans(recorded: &Recorded, expected: &[Value]) {
    let received = recorded.spans();
    assert_eq!(
        received.len(),
        expected.len(),
        "span count (a duplicate or an extra span?)"
    );
    let by_id = spans_by_id(&received);
    for want in expected {
        let id = want["span_id"].as_str().unwrap();
        let name = want["name"].as_str().unwrap();
        let (resource, span) = by_id
            .get(id)
            .unwrap_or_else(|| panic!("span {name} ({id}) never arrived"));
        let what = format!("span {name} ({id})");
        assert_eq!(hex(&span.trace_id), want["trace_id"], "{what}: trace id");
        assert_eq!(
            hex(&span.parent_span_id),
            want["parent_span_id"],
            "{what}: parent span id"
        );
        assert_eq!(span.name, name, "{what}: name");
        assert_eq!(json!(span.kind), want["kind"], "{what}: kind");
        assert_eq!(
            json!(span.start_time_unix_nano),
            want["start_time_unix_nano"],
            "{what}: start"
        );
        assert_eq!(
            json!(span.end_time_unix_nano),
            want["end_time_unix_nano"],
            "{what}: end"
        );
        assert_eq!(
            Value::Object(attributes_json(&span.attributes)),
            want["attributes"],
            "{what}: attributes"
        );
        let events: Vec<Value> = span
            .events
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "time_unix_nano": e.time_unix_nano,
                    "attributes": Value::Object(attributes_json(&e.attributes)),
                })
            })
            .collect();
        assert_eq!(Value::Array(events), want["events"], "{what}: events");
        let links: Vec<Value> = span
            .links
            .iter()
            .map(|l| {
                json!({
                    "trace_id": hex(&l.trace_id),
                    "span_id": hex(&l.span_id),
                    "attributes": Value::Object(attributes_json(&l.attributes)),
                })
            })
            .collect();
        assert_eq!(Value::Array(links), want["links"], "{what}: links");
        let status = span.status.clone().unwrap_or_default();
        assert_eq!(
            json!({"code": status.code, "message": status.message}),
            want["status"],
            "{what}: status"
        );
        assert_eq!(
            Value::Object(attributes_json(&resource.attributes)),
            want["resource"],
            "{what}: resource"
        );
    }
    // The scope travels once per scope group: check it on the groups themselves.
    for (request, _) in &recorded.traces {
        for ss in request.resource_spans.iter().flat_map(|rs| &rs.scope_spans) {
            let scope = ss.scope.clone().unwrap_or_default();
            assert_eq!(
                (scope.name.as_str(), scope.version.as_str()),
                ("interop.python", "1.2.3")
            );
        }
    }

    // What the script set, literally (so the comparison above cannot pass on empty data).
    let root = received
        .iter()
        .find(|(_, s)| s.name == "GET /orders/{id}")
        .expect("root span")
        .1;
    assert_eq!(root.kind, 2, "SERVER");
    assert_eq!(root.status.as_ref().map(|s| s.code), Some(1), "OK");
    assert!(root.parent_span_id.is_empty());
    let attributes = attributes_json(&root.attributes);
    assert_eq!(attributes["interop.tags"], json!(["a", "b", "c"]));
    assert_eq!(attributes["interop.ratio"], json!(0.25));
    assert_eq!(attributes["http.response.status_code"], json!(200));
    assert_eq!(
        attributes["interop.unicode"],
        json!("ünïcödé ✓ \"quoted\"\n")
    );
    let db = received
        .iter()
        .find(|(_, s)| s.name == "SELECT orders")
        .expect("db span")
        .1;
    assert_eq!(
        (db.kind, db.parent_span_id.as_slice()),
        (3, root.span_id.as_slice()),
        "CLIENT child of root"
    );
    assert_eq!(
        db.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((2, "connection reset"))
    );
    assert_eq!(
        db.events.first().map(|e| e.name.as_str()),
        Some("exception")
    );
    let producer = received
        .iter()
        .find(|(_, s)| s.name == "publish orders")
        .expect("producer")
        .1;
    let background = received
        .iter()
        .find(|(_, s)| s.name == "background job")
        .expect("background")
        .1;
    assert_eq!(producer.links.len(), 1);
    assert_eq!(producer.links[0].span_id, background.span_id);
    assert_ne!(
        producer.trace_id, background.trace_id,
        "the link crosses traces"
    );
    let resource = received[0].0;
    let service = resource_attr(resource, "service.name").map(value_json);
    assert!(
        service
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with("interop-python-")),
        "service.name: {service:?}"
    );
}

/// A data point's metric name and attributes (as JSON text).
type PointKey = (String, String);
/// A data point's value, metric type and unit.
type PointValue = (Value, &'static str, String);

fn check_metrics(recorded: &Recorded, expected: &[Value]) {
    // (name, attributes) -> every value received for it, with the metric's type and unit.
    let mut received: BTreeMap<PointKey, Vec<PointValue>> = BTreeMap::new();
    for (_, metric) in recorded.metrics() {
        for (attributes, value) in data_points(metric) {
            let key = (metric.name.clone(), Value::Object(attributes).to_string());
            received.entry(key).or_default().push((
                value,
                metric_type(metric),
                metric.unit.clone(),
            ));
        }
    }
    for want in expected {
        let name = want["name"].as_str().unwrap();
        let key = (name.to_owned(), want["attributes"].to_string());
        let values = received.get(&key).unwrap_or_else(|| {
            panic!(
                "data point {name} {} never arrived; received: {:?}",
                key.1,
                received.keys()
            )
        });
        let found = values.iter().any(|(value, kind, unit)| {
            *value == want["value"] && *kind == want["type"] && *unit == want["unit"]
        });
        assert!(
            found,
            "data point {name} {}: expected {} ({}, unit {}), received {values:?}",
            key.1, want["value"], want["type"], want["unit"]
        );
    }
    for (resource, metric) in recorded.metrics() {
        let service = resource_attr(resource, "service.name").map(value_json);
        assert!(
            service.is_some(),
            "metric {} without service.name",
            metric.name
        );
    }
    // Literal values of what the script recorded.
    let value = |name: &str, attributes: Value| {
        received
            .get(&(name.to_owned(), attributes.to_string()))
            .map(|v| v[0].0.clone())
    };
    assert_eq!(
        value("interop.requests", json!({"http.route": "/a"})),
        Some(json!({"int": 4}))
    );
    assert_eq!(
        value("interop.queue.depth", json!({"queue": "q1"})),
        Some(json!({"int": 3}))
    );
    assert_eq!(
        value("interop.latency", json!({"http.route": "/a"})),
        Some(json!({"count": 2, "sum": 20.0}))
    );
    assert_eq!(
        value("interop.temperature", json!({"room": "a"})),
        Some(json!({"double": 21.5}))
    );
}

fn check_logs(recorded: &Recorded, expected: &[Value], spans: &[Value]) {
    let received = recorded.log_records();
    assert_eq!(received.len(), expected.len(), "log record count");
    for want in expected {
        let body = want["body"].as_str().unwrap();
        let (resource, record) = received
            .iter()
            .find(|(_, r)| r.body.as_ref().map(value_json).as_ref() == Some(&want["body"]))
            .unwrap_or_else(|| panic!("log record {body:?} never arrived"));
        let what = format!("log record {body:?}");
        assert_eq!(
            json!(record.severity_number),
            want["severity_number"],
            "{what}: severity number"
        );
        assert_eq!(
            record.severity_text, want["severity_text"],
            "{what}: severity text"
        );
        assert_eq!(
            Value::Object(attributes_json(&record.attributes)),
            want["attributes"],
            "{what}: attributes"
        );
        assert_eq!(hex(&record.trace_id), want["trace_id"], "{what}: trace id");
        assert_eq!(hex(&record.span_id), want["span_id"], "{what}: span id");
        assert_eq!(
            json!(record.time_unix_nano),
            want["time_unix_nano"],
            "{what}: time"
        );
        assert_eq!(
            Value::Object(attributes_json(&resource.attributes)),
            want["resource"],
            "{what}: resource"
        );
    }
    // Literal values: the WARNING logged inside the root span carries its context.
    let root = spans
        .iter()
        .find(|s| s["name"] == "GET /orders/{id}")
        .unwrap();
    let (_, warning) = received
        .iter()
        .find(|(_, r)| r.body.as_ref().map(value_json) == Some(json!("order o-42 not found")))
        .expect("the warning");
    assert_eq!(
        (warning.severity_number, warning.severity_text.as_str()),
        (13, "WARN")
    );
    assert_eq!(hex(&warning.trace_id), root["trace_id"]);
    assert_eq!(hex(&warning.span_id), root["span_id"]);
    let attributes = attributes_json(&warning.attributes);
    assert_eq!(attributes["order.id"], json!("o-42"));
    assert_eq!(attributes["retry.count"], json!(3));
    let (_, outside) = received
        .iter()
        .find(|(_, r)| r.body.as_ref().map(value_json) == Some(json!("outside any span")))
        .expect("the info record");
    assert!(
        outside.trace_id.is_empty() && outside.span_id.is_empty(),
        "no trace context outside spans"
    );
    assert_eq!(outside.severity_number, 9);
}
