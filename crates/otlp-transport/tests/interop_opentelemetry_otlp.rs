//! Interop: opentelemetry-rust's SDK and `opentelemetry-otlp` 0.33 exporters (span, metric and
//! log) → OUR receiver, over tonic gRPC and over `http-proto` (protobuf over HTTP), each plain
//! and gzip, and over `http-json` (OTLP/JSON through opentelemetry-proto's serde mapping).
//!
//! The SDK runs as an application would: batch span and log processors and a periodic metric
//! reader (each on its own thread), flushed with `force_flush`. Everything the test sets is
//! explicit (times included), so each field is compared with a literal: span ids, parent,
//! name, kind, times, attributes of every type, events, links, status, resource and scope;
//! every metric data point (counter, up-down counter, histogram, gauge, observable gauge)
//! with its value and attributes; log records with body (string and map), severity, event
//! name, attributes and the trace context of the span they were emitted in.
//!
//! The http-proto exporter gets its HTTP client from the test: opentelemetry-http's hyper
//! client, called on the test's tokio runtime, since the SDK's processors call the exporter
//! from their own threads where hyper would find no runtime.
#![cfg(all(
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "gzip"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use interop_support::{
    Recorded, Timer, attributes_json, data_points, hex, metric_type, resource_attr, start_receiver,
    value_json,
};
use opentelemetry::logs::{
    AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{
    Array, Context, InstrumentationScope, KeyValue, StringValue, Value as OtelValue,
};
use opentelemetry_http::{HttpClient, HttpError, hyper::HyperClient};
use opentelemetry_otlp::{
    Compression as OtlpCompression, WithExportConfig as _, WithHttpConfig as _,
    WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otlp_transport::Compression;
use otlp_transport::server::{ContentType, Transport};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Wire {
    Tonic,
    HttpProto,
    HttpJson,
}

/// opentelemetry-http's hyper client, run on the test's runtime whatever thread calls it.
#[derive(Debug, Clone)]
struct OnRuntime {
    client: HyperClient,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_otlp_tonic() {
    run(Wire::Tonic, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_otlp_tonic_gzip() {
    run(Wire::Tonic, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_otlp_http_proto() {
    run(Wire::HttpProto, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_otlp_http_proto_gzip() {
    run(Wire::HttpProto, true).await;
}

/// `http-json`: opentelemetry-proto's serde mapping of OTLP/JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_otlp_http_json() {
    run(Wire::HttpJson, false).await;
}

const T0: u64 = 1_760_000_000_000_000_000;

fn at(offset_ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(T0 + offset_ns)
}

struct Providers {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
    logger: SdkLoggerProvider,
}

fn build_providers(wire: Wire, gzip: bool, base: &str) -> Providers {
    let resource = Resource::builder()
        .with_service_name(format!("interop-rust-{wire:?}"))
        .with_attribute(KeyValue::new("deployment.environment.name", "interop"))
        .with_attribute(KeyValue::new("interop.gzip", gzip))
        .build();
    let compression = OtlpCompression::Gzip;
    let http_client = || OnRuntime {
        client: HyperClient::with_default_connector(Duration::from_secs(5), None),
        runtime: tokio::runtime::Handle::current(),
    };
    macro_rules! exporter {
        ($kind:ident, $path:literal) => {{
            let builder = opentelemetry_otlp::$kind::builder();
            match wire {
                Wire::Tonic => {
                    let builder = builder
                        .with_tonic()
                        .with_endpoint(base)
                        .with_timeout(Duration::from_secs(5));
                    let builder = if gzip {
                        builder.with_compression(compression)
                    } else {
                        builder
                    };
                    builder
                        .build()
                        .expect(concat!("building the tonic ", stringify!($kind)))
                }
                Wire::HttpProto | Wire::HttpJson => {
                    let protocol = if wire == Wire::HttpJson {
                        opentelemetry_otlp::Protocol::HttpJson
                    } else {
                        opentelemetry_otlp::Protocol::HttpBinary
                    };
                    let builder = builder
                        .with_http()
                        .with_protocol(protocol)
                        .with_endpoint(format!("{base}{}", $path))
                        .with_timeout(Duration::from_secs(5))
                        .with_http_client(http_client());
                    let builder = if gzip {
                        builder.with_compression(compression)
                    } else {
                        builder
                    };
                    builder
                        .build()
                        .expect(concat!("building the http ", stringify!($kind)))
                }
            }
        }};
    }
    let span_exporter = exporter!(SpanExporter, "/v1/traces");
    let metric_exporter = exporter!(MetricExporter, "/v1/metrics");
    let log_exporter = exporter!(LogExporter, "/v1/logs");
    Providers {
        tracer: SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(span_exporter)
            .build(),
        meter: SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_periodic_exporter(metric_exporter)
            .build(),
        logger: SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(log_exporter)
            .build(),
    }
}

/// What the test created: span contexts by name.
struct Created {
    spans: BTreeMap<&'static str, SpanContext>,
}

fn emit(providers: &Providers) -> Created {
    let scope = InstrumentationScope::builder("interop.rust")
        .with_version("0.3.3")
        .with_attributes([KeyValue::new("scope.kind", "test")])
        .build();
    let tracer = providers.tracer.tracer_with_scope(scope.clone());
    let logger = providers.logger.logger_with_scope(scope.clone());
    let meter = providers.meter.meter_with_scope(scope);
    let mut spans = BTreeMap::new();

    let mut other = tracer
        .span_builder("background")
        .with_kind(SpanKind::Internal)
        .with_start_time(at(0))
        .start(&tracer);
    other.end_with_timestamp(at(10));
    spans.insert("background", other.span_context().clone());

    let mut root = tracer
        .span_builder("GET /items/{id}")
        .with_kind(SpanKind::Server)
        .with_start_time(at(1_000))
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("interop.ratio", 0.25),
            KeyValue::new("interop.flag", true),
            KeyValue::new("interop.unicode", "ünïcödé ✓"),
            KeyValue::new(
                "interop.strings",
                OtelValue::Array(Array::String(vec![
                    StringValue::from("a"),
                    StringValue::from("b"),
                ])),
            ),
            KeyValue::new("interop.ints", OtelValue::Array(Array::I64(vec![1, -2, 3]))),
            KeyValue::new(
                "interop.doubles",
                OtelValue::Array(Array::F64(vec![0.5, 1.5])),
            ),
            KeyValue::new(
                "interop.bools",
                OtelValue::Array(Array::Bool(vec![true, false])),
            ),
        ])
        .with_links(vec![Link::new(
            spans["background"].clone(),
            vec![KeyValue::new("link.reason", "batch")],
            0,
        )])
        .start(&tracer);
    root.add_event_with_timestamp(
        "request.received",
        at(1_100),
        vec![KeyValue::new("size", 128_i64)],
    );
    spans.insert("GET /items/{id}", root.span_context().clone());
    let root_cx = Context::current().with_remote_span_context(root.span_context().clone());

    let mut db = tracer
        .span_builder("SELECT items")
        .with_kind(SpanKind::Client)
        .with_start_time(at(1_200))
        .with_attributes([KeyValue::new("db.system.name", "postgresql")])
        .start_with_context(&tracer, &root_cx);
    db.set_status(Status::error("connection reset"));
    spans.insert("SELECT items", db.span_context().clone());
    {
        // A log record emitted inside the db span carries its trace context.
        let _guard = Context::current()
            .with_remote_span_context(db.span_context().clone())
            .attach();
        let mut record = logger.create_log_record();
        record.set_timestamp(at(1_250));
        record.set_observed_timestamp(at(1_260));
        record.set_severity_number(Severity::Error);
        record.set_severity_text("ERROR");
        record.set_body(LogValue::from("query failed: connection reset"));
        record.set_event_name("db.query.failed");
        record.add_attribute("db.system.name", "postgresql");
        record.add_attribute("retry.count", 3_i64);
        logger.emit(record);
    }
    db.end_with_timestamp(at(1_300));

    for (name, kind) in [
        ("publish", SpanKind::Producer),
        ("consume", SpanKind::Consumer),
    ] {
        let mut span = tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(at(1_400))
            .start_with_context(&tracer, &root_cx);
        span.set_status(Status::Ok);
        span.end_with_timestamp(at(1_500));
        spans.insert(name, span.span_context().clone());
    }
    root.set_status(Status::Ok);
    root.end_with_timestamp(at(2_000));

    // A structured log record, outside any span.
    let mut record = logger.create_log_record();
    record.set_timestamp(at(3_000));
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_body(LogValue::Map(Box::new(
        [
            ("message".into(), LogValue::from("structured")),
            ("n".into(), LogValue::Int(7)),
        ]
        .into_iter()
        .collect(),
    )));
    record.add_attribute("interop.float", 2.5);
    logger.emit(record);

    let requests = meter
        .u64_counter("interop.requests")
        .with_unit("{request}")
        .build();
    requests.add(1, &[KeyValue::new("http.route", "/a")]);
    requests.add(2, &[KeyValue::new("http.route", "/b")]);
    requests.add(3, &[KeyValue::new("http.route", "/a")]);
    let depth = meter.i64_up_down_counter("interop.queue.depth").build();
    depth.add(5, &[KeyValue::new("queue", "q1")]);
    depth.add(-7, &[KeyValue::new("queue", "q1")]);
    let latency = meter
        .f64_histogram("interop.latency")
        .with_unit("ms")
        .build();
    for (value, route) in [(5.0, "/a"), (15.0, "/a"), (250.0, "/b")] {
        latency.record(value, &[KeyValue::new("http.route", route)]);
    }
    let inflight = meter.i64_gauge("interop.inflight").build();
    inflight.record(12, &[KeyValue::new("pool", "main")]);
    let _temperature = meter
        .f64_observable_gauge("interop.temperature")
        .with_unit("Cel")
        .with_callback(|observer| {
            observer.observe(21.5, &[KeyValue::new("room", "a")]);
            observer.observe(19.0, &[KeyValue::new("room", "b")]);
        })
        .build();
    Created { spans }
}

async fn run(wire: Wire, gzip: bool) {
    let _timer = Timer::start(match (wire, gzip) {
        (Wire::Tonic, false) => "opentelemetry-otlp tonic",
        (Wire::Tonic, true) => "opentelemetry-otlp tonic gzip",
        (Wire::HttpProto, false) => "opentelemetry-otlp http-proto",
        (Wire::HttpProto, true) => "opentelemetry-otlp http-proto gzip",
        (Wire::HttpJson, _) => "opentelemetry-otlp http-json",
    });
    let (recorder, receiver) = start_receiver().await;
    let addr = match wire {
        Wire::Tonic => receiver.grpc_local_addr(),
        Wire::HttpProto | Wire::HttpJson => receiver.http_local_addr(),
    }
    .unwrap();
    let providers = build_providers(wire, gzip, &format!("http://{addr}"));
    let created = emit(&providers);

    // The processors export from their own threads and force_flush blocks until they have:
    // call it off the runtime's workers.
    let results = tokio::task::spawn_blocking(move || {
        let flushed = [
            ("traces", providers.tracer.force_flush()),
            ("metrics", providers.meter.force_flush()),
            ("logs", providers.logger.force_flush()),
        ];
        let _ = providers.tracer.shutdown();
        let _ = providers.meter.shutdown();
        let _ = providers.logger.shutdown();
        flushed.map(|(signal, result)| (signal, result.map_err(|e| e.to_string())))
    });
    let results = tokio::time::timeout(Duration::from_secs(20), results)
        .await
        .expect("the SDK's force_flush did not return within 20 s")
        .unwrap();
    for (signal, result) in results {
        assert!(
            result.is_ok(),
            "opentelemetry-otlp failed to export {signal}: {result:?}"
        );
    }
    recorder
        .wait_for("5 spans and 2 log records", Duration::from_secs(5), |r| {
            r.span_count() >= 5 && r.log_count() >= 2 && !r.metrics.is_empty()
        })
        .await;

    recorder.with(|recorded| {
        check_contexts(recorded, wire, gzip);
        check_spans(recorded, &created);
        check_metrics(recorded);
        check_logs(recorded, &created);
        eprintln!(
            "[interop] opentelemetry-otlp {wire:?} gzip={gzip}: {} spans, {} data points, {} log records verified",
            recorded.span_count(),
            recorded.data_point_count(),
            recorded.log_count()
        );
    });
    receiver.shutdown(Duration::from_secs(5)).await;
}

fn check_contexts(recorded: &Recorded, wire: Wire, gzip: bool) {
    let (transport, content_type) = match wire {
        Wire::Tonic => (Transport::Grpc, ContentType::Grpc),
        Wire::HttpProto => (Transport::Http, ContentType::Protobuf),
        Wire::HttpJson => (Transport::Http, ContentType::Json),
    };
    let compression = if gzip {
        Compression::Gzip
    } else {
        Compression::None
    };
    for context in recorded.contexts() {
        assert_eq!(
            (context.transport, context.content_type, context.compression),
            (transport, content_type, compression),
            "{}: transport, body format, encoding",
            context.signal
        );
    }
}

fn check_spans(recorded: &Recorded, created: &Created) {
    let received = recorded.spans_by_id();
    assert_eq!(received.len(), created.spans.len(), "span count");
    let get = |name: &str| {
        let cx = &created.spans[name];
        let scoped = received
            .get(cx.span_id().to_bytes().as_slice())
            .unwrap_or_else(|| panic!("span {name} never arrived"));
        assert_eq!(
            scoped.item.trace_id,
            cx.trace_id().to_bytes(),
            "{name}: trace id"
        );
        assert_eq!(scoped.item.name, name);
        let scope = scoped.scope.clone().unwrap_or_default();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("interop.rust", "0.3.3"),
            "{name}: scope"
        );
        assert_eq!(
            Value::Object(attributes_json(&scope.attributes)),
            json!({"scope.kind": "test"})
        );
        let service = resource_attr(&scoped.resource, "service.name").map(value_json);
        assert!(
            service
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("interop-rust-")),
            "{name}: service.name {service:?}"
        );
        assert_eq!(
            resource_attr(&scoped.resource, "deployment.environment.name").map(value_json),
            Some(json!("interop"))
        );
        scoped.item.clone()
    };
    let background = get("background");
    assert_eq!(
        (
            background.kind,
            background.start_time_unix_nano,
            background.end_time_unix_nano
        ),
        (1, T0, T0 + 10)
    );

    let root = get("GET /items/{id}");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(
        (
            root.kind,
            root.start_time_unix_nano,
            root.end_time_unix_nano
        ),
        (2, T0 + 1_000, T0 + 2_000)
    );
    assert_eq!(
        Value::Object(attributes_json(&root.attributes)),
        json!({
            "http.request.method": "GET",
            "http.response.status_code": 200,
            "interop.ratio": 0.25,
            "interop.flag": true,
            "interop.unicode": "ünïcödé ✓",
            "interop.strings": ["a", "b"],
            "interop.ints": [1, -2, 3],
            "interop.doubles": [0.5, 1.5],
            "interop.bools": [true, false],
        })
    );
    assert_eq!(root.events.len(), 1);
    assert_eq!(
        (root.events[0].name.as_str(), root.events[0].time_unix_nano),
        ("request.received", T0 + 1_100)
    );
    assert_eq!(
        Value::Object(attributes_json(&root.events[0].attributes)),
        json!({"size": 128})
    );
    assert_eq!(root.links.len(), 1);
    assert_eq!(root.links[0].span_id, background.span_id);
    assert_eq!(root.links[0].trace_id, background.trace_id);
    assert_eq!(
        Value::Object(attributes_json(&root.links[0].attributes)),
        json!({"link.reason": "batch"})
    );
    assert_eq!(
        root.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((1, ""))
    );

    let db = get("SELECT items");
    assert_eq!(db.parent_span_id, root.span_id, "db is a child of the root");
    assert_eq!(db.trace_id, root.trace_id);
    assert_eq!(
        (db.kind, db.start_time_unix_nano, db.end_time_unix_nano),
        (3, T0 + 1_200, T0 + 1_300)
    );
    assert_eq!(
        db.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((2, "connection reset"))
    );
    assert_eq!(
        Value::Object(attributes_json(&db.attributes)),
        json!({"db.system.name": "postgresql"})
    );

    for (name, kind) in [("publish", 4), ("consume", 5)] {
        let span = get(name);
        assert_eq!(
            (span.kind, span.parent_span_id.as_slice()),
            (kind, root.span_id.as_slice()),
            "{name}"
        );
        assert_eq!(span.status.as_ref().map(|s| s.code), Some(1), "{name}: OK");
    }
}

fn check_metrics(recorded: &Recorded) {
    let mut points: BTreeMap<(String, String), (Value, &'static str, String)> = BTreeMap::new();
    for (_, metric) in recorded.metrics() {
        for (attributes, value) in data_points(metric) {
            let key = (metric.name.clone(), Value::Object(attributes).to_string());
            points.insert(key, (value, metric_type(metric), metric.unit.clone()));
        }
    }
    let expect = [
        (
            "interop.requests",
            json!({"http.route": "/a"}),
            json!({"int": 4}),
            "sum",
            "{request}",
        ),
        (
            "interop.requests",
            json!({"http.route": "/b"}),
            json!({"int": 2}),
            "sum",
            "{request}",
        ),
        (
            "interop.queue.depth",
            json!({"queue": "q1"}),
            json!({"int": -2}),
            "sum",
            "",
        ),
        (
            "interop.latency",
            json!({"http.route": "/a"}),
            json!({"count": 2, "sum": 20.0}),
            "histogram",
            "ms",
        ),
        (
            "interop.latency",
            json!({"http.route": "/b"}),
            json!({"count": 1, "sum": 250.0}),
            "histogram",
            "ms",
        ),
        (
            "interop.inflight",
            json!({"pool": "main"}),
            json!({"int": 12}),
            "gauge",
            "",
        ),
        (
            "interop.temperature",
            json!({"room": "a"}),
            json!({"double": 21.5}),
            "gauge",
            "Cel",
        ),
        (
            "interop.temperature",
            json!({"room": "b"}),
            json!({"double": 19.0}),
            "gauge",
            "Cel",
        ),
    ];
    for (name, attributes, value, kind, unit) in expect {
        let key = (name.to_owned(), attributes.to_string());
        let got = points.get(&key).unwrap_or_else(|| {
            panic!(
                "data point {name} {attributes} never arrived; got {:?}",
                points.keys()
            )
        });
        assert_eq!(
            got,
            &(value, kind, unit.to_owned()),
            "data point {name} {attributes}"
        );
    }
    // The monotonic flag and temporality survive too.
    for (_, metric) in recorded.metrics() {
        if let Some(otlp_proto::metrics::v1::metric::Data::Sum(sum)) = &metric.data {
            let monotonic = metric.name == "interop.requests";
            assert_eq!(
                (sum.is_monotonic, sum.aggregation_temporality),
                (monotonic, 2),
                "{}",
                metric.name
            );
        }
    }
}

fn check_logs(recorded: &Recorded, created: &Created) {
    let records = recorded.log_records();
    assert_eq!(records.len(), 2, "log record count");
    let db = &created.spans["SELECT items"];
    let (resource, failed) = records
        .iter()
        .find(|(_, r)| {
            r.body.as_ref().map(value_json) == Some(json!("query failed: connection reset"))
        })
        .expect("the error record");
    assert_eq!(
        (failed.severity_number, failed.severity_text.as_str()),
        (17, "ERROR")
    );
    assert_eq!(
        (failed.time_unix_nano, failed.observed_time_unix_nano),
        (T0 + 1_250, T0 + 1_260)
    );
    assert_eq!(failed.event_name, "db.query.failed");
    assert_eq!(
        hex(&failed.trace_id),
        hex(&db.trace_id().to_bytes()),
        "trace context of the db span"
    );
    assert_eq!(hex(&failed.span_id), hex(&db.span_id().to_bytes()));
    assert_eq!(
        Value::Object(attributes_json(&failed.attributes)),
        json!({"db.system.name": "postgresql", "retry.count": 3})
    );
    assert!(resource_attr(resource, "service.name").is_some());

    let (_, structured) = records
        .iter()
        .find(|(_, r)| {
            r.body.as_ref().map(value_json) == Some(json!({"message": "structured", "n": 7}))
        })
        .expect("the structured record");
    assert_eq!(
        (
            structured.severity_number,
            structured.severity_text.as_str()
        ),
        (9, "INFO")
    );
    assert_eq!(structured.time_unix_nano, T0 + 3_000);
    assert!(structured.trace_id.is_empty() && structured.span_id.is_empty());
    assert_eq!(
        Value::Object(attributes_json(&structured.attributes)),
        json!({"interop.float": 2.5})
    );
}
