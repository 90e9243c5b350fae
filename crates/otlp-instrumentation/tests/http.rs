//! The HTTP layers against the stable HTTP semantic conventions, with real providers and the
//! in-memory exporter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use otlp_instrumentation::http::client::HttpClientLayer;
use otlp_instrumentation::http::server::{HttpServerLayer, Route};
use otlp_propagation::Propagators;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::any_value::Value as V;
use otlp_proto::trace::v1::Span;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::{ManualReader, MeterProvider};
use otlp_sdk::trace::TracerProvider;
use tower::{Layer, ServiceExt};

struct Setup {
    spans: InMemoryExporter<ExportTraceServiceRequest>,
    tracer_provider: TracerProvider,
    reader: ManualReader,
    meter_provider: MeterProvider,
}

fn setup() -> Setup {
    let spans = InMemoryExporter::new();
    let tracer_provider = TracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let reader = ManualReader::default();
    let meter_provider = MeterProvider::builder().with_reader(reader.clone()).build();
    Setup {
        spans,
        tracer_provider,
        reader,
        meter_provider,
    }
}

impl Setup {
    fn server(&self) -> HttpServerLayer {
        HttpServerLayer::new(
            self.tracer_provider.tracer("server"),
            &self.meter_provider.meter("server"),
        )
        .with_propagators(Propagators::w3c())
    }

    fn exported(&self) -> Vec<Span> {
        self.tracer_provider
            .force_flush(Instant::now() + Duration::from_secs(5))
            .unwrap();
        self.spans.spans()
    }

    fn metrics(&self) -> ExportMetricsServiceRequest {
        self.reader.collect().unwrap()
    }
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a V> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn s(v: &str) -> V {
    V::StringValue(v.to_owned())
}

#[tokio::test]
async fn a_server_span_continues_the_caller_and_is_current_in_the_handler() {
    let t = setup();
    let handler = tower::service_fn(|req: http::Request<()>| async move {
        // The handler sees the server span as current.
        let current = otlp_sdk::context::current().span_context().cloned();
        let mut response = http::Response::new(());
        *response.status_mut() = if req.uri().path() == "/boom" {
            http::StatusCode::INTERNAL_SERVER_ERROR
        } else {
            http::StatusCode::OK
        };
        response.extensions_mut().insert(current);
        Ok::<_, Infallible>(response)
    });
    let service = t.server().layer(handler);
    let request = http::Request::builder()
        .method("GET")
        .uri("/users/42?verbose=1")
        .header("host", "shop.example:8080")
        .header("user-agent", "curl/8.0")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .extension(Route("/users/{id}".into()))
        .body(())
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    let seen = response
        .extensions()
        .get::<Option<otlp_model::SpanContext>>()
        .cloned()
        .flatten()
        .unwrap();

    let spans = t.exported();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(span.trace_id, hex("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert_eq!(span.parent_span_id, hex("00f067aa0ba902b7"));
    assert_eq!(span.flags & 0x300, 0x300, "the parent is remote");
    assert_eq!(
        seen.span_id().to_bytes().to_vec(),
        span.span_id,
        "the handler ran in the span"
    );
    assert_eq!(attr(span, "http.request.method"), Some(&s("GET")));
    assert_eq!(attr(span, "url.path"), Some(&s("/users/42")));
    assert_eq!(attr(span, "url.query"), Some(&s("verbose=1")));
    assert_eq!(attr(span, "url.scheme"), Some(&s("http")));
    assert_eq!(attr(span, "http.route"), Some(&s("/users/{id}")));
    assert_eq!(attr(span, "server.address"), Some(&s("shop.example")));
    assert_eq!(attr(span, "server.port"), Some(&V::IntValue(8080)));
    assert_eq!(attr(span, "user_agent.original"), Some(&s("curl/8.0")));
    assert_eq!(attr(span, "network.protocol.version"), Some(&s("1.1")));
    assert_eq!(
        attr(span, "http.response.status_code"),
        Some(&V::IntValue(200))
    );
    assert!(span.status.is_none(), "2xx leaves the status unset");

    // 5xx is an error for a server; 4xx is not.
    let boom = http::Request::builder().uri("/boom").body(()).unwrap();
    service.clone().oneshot(boom).await.unwrap();
    let spans = t.exported();
    let boom = &spans[1];
    assert_eq!(boom.name, "GET", "no route: the method alone");
    assert_eq!(boom.status.as_ref().map(|s| s.code), Some(2));
    assert_eq!(attr(boom, "error.type"), Some(&s("500")));

    // Metrics: the duration histogram with low-cardinality attributes, active back to 0.
    let metrics = t.metrics();
    let all: Vec<_> = metrics
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    let duration = all
        .iter()
        .find(|m| m.name == "http.server.request.duration")
        .unwrap();
    assert_eq!(duration.unit, "s");
    let Some(otlp_proto::metrics::v1::metric::Data::Histogram(h)) = &duration.data else {
        panic!()
    };
    assert_eq!(h.data_points.iter().map(|p| p.count).sum::<u64>(), 2);
    assert_eq!(
        h.data_points[0].explicit_bounds,
        otlp_instrumentation::http::DURATION_BOUNDARIES.to_vec()
    );
    let keys: Vec<&str> = h
        .data_points
        .iter()
        .find(|p| p.attributes.iter().any(|kv| kv.key == "http.route"))
        .unwrap()
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "http.request.method",
            "http.response.status_code",
            "http.route",
            "network.protocol.version",
            "url.scheme"
        ]
    );
    let active = all
        .iter()
        .find(|m| m.name == "http.server.active_requests")
        .unwrap();
    let Some(otlp_proto::metrics::v1::metric::Data::Sum(sum)) = &active.data else {
        panic!()
    };
    assert!(!sum.is_monotonic);
    for p in &sum.data_points {
        assert_eq!(
            p.value,
            Some(otlp_proto::metrics::v1::number_data_point::Value::AsInt(0))
        );
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn a_client_span_is_injected_and_4xx_is_an_error() {
    let t = setup();
    let client = HttpClientLayer::new(
        t.tracer_provider.tracer("client"),
        &t.meter_provider.meter("client"),
    )
    .with_propagators(Propagators::w3c());
    // The "network": a server that answers 404 and echoes the traceparent it got.
    let upstream = tower::service_fn(|req: http::Request<()>| async move {
        let traceparent = req
            .headers()
            .get("traceparent")
            .map(|v| v.to_str().unwrap().to_owned());
        let mut response = http::Response::new(traceparent);
        *response.status_mut() = http::StatusCode::NOT_FOUND;
        Ok::<_, Infallible>(response)
    });
    let service = client.layer(upstream);
    let request = http::Request::builder()
        .method("POST")
        .uri("https://user:secret@api.example/v1/items?x=1")
        .body(())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let sent = response.into_body().unwrap();
    let spans = t.exported();
    let span = &spans[0];
    assert_eq!(span.kind, SpanKind::Client as i32);
    assert_eq!(span.name, "POST");
    let span_id: String = span.span_id.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        sent.contains(&span_id),
        "the callee's parent is the client span: {sent}"
    );
    assert_eq!(
        attr(span, "url.full"),
        Some(&s("https://api.example/v1/items?x=1")),
        "no credentials"
    );
    assert_eq!(attr(span, "server.address"), Some(&s("api.example")));
    assert_eq!(attr(span, "server.port"), Some(&V::IntValue(443)));
    assert_eq!(
        attr(span, "http.response.status_code"),
        Some(&V::IntValue(404))
    );
    assert_eq!(attr(span, "error.type"), Some(&s("404")));
    assert_eq!(
        span.status.as_ref().map(|s| s.code),
        Some(2),
        "4xx is an error for a client"
    );
    let metrics = t.metrics();
    assert!(
        metrics.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .any(|m| m.name == "http.client.request.duration")
    );
}

#[tokio::test]
async fn client_then_server_is_one_trace() {
    let t = setup();
    let server = t
        .server()
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(http::Response::new(()))
        }));
    let client = HttpClientLayer::new(
        t.tracer_provider.tracer("client"),
        &t.meter_provider.meter("client"),
    )
    .with_propagators(Propagators::w3c())
    .layer(server);
    let root = t.tracer_provider.tracer("app").start("checkout");
    let _guard = root.attach();
    client
        .oneshot(
            http::Request::builder()
                .uri("http://users:8080/u/1")
                .body(())
                .unwrap(),
        )
        .await
        .unwrap();
    drop(_guard);
    drop(root);
    let spans = t.exported();
    let by_kind = |k: SpanKind| spans.iter().find(|s| s.kind == k as i32).unwrap();
    let (client, server) = (by_kind(SpanKind::Client), by_kind(SpanKind::Server));
    let root = spans.iter().find(|s| s.name == "checkout").unwrap();
    assert_eq!(client.parent_span_id, root.span_id);
    assert_eq!(server.parent_span_id, client.span_id);
    assert!(spans.iter().all(|s| s.trace_id == root.trace_id));
}

/// opentelemetry-rust 0.33's W3C propagator on both sides of our layers: its injected
/// context is continued by the server layer, and what our client layer injects is extracted
/// by it as our client span.
#[tokio::test]
async fn both_ways_with_opentelemetry_rusts_propagator() {
    use opentelemetry::propagation::TextMapPropagator as _;
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::propagation::TraceContextPropagator;

    let t = setup();
    let theirs = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let their_span = theirs.tracer("theirs").start("their client");
    let their_cx = opentelemetry::Context::current_with_span(their_span);
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&their_cx, &mut carrier);

    // Their context into our server layer; the handler calls out through our client layer to
    // an upstream that extracts with their propagator.
    let upstream = tower::service_fn(|req: http::Request<()>| async move {
        let headers: std::collections::HashMap<String, String> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let cx = TraceContextPropagator::new().extract(&headers);
        let sc = cx.span().span_context().clone();
        Ok::<_, Infallible>(http::Response::new((
            sc.trace_id().to_string(),
            sc.span_id().to_string(),
        )))
    });
    let client = HttpClientLayer::new(
        t.tracer_provider.tracer("client"),
        &t.meter_provider.meter("c"),
    )
    .with_propagators(Propagators::w3c())
    .layer(upstream);
    let handler = tower::service_fn(move |_req: http::Request<()>| {
        let client = client.clone();
        async move {
            let seen = client
                .oneshot(http::Request::get("http://upstream/x").body(()).unwrap())
                .await
                .unwrap()
                .into_body();
            Ok::<_, Infallible>(http::Response::new(seen))
        }
    });
    let mut builder = http::Request::builder().uri("/in");
    for (k, v) in &carrier {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let (trace_id, span_id) = t
        .server()
        .layer(handler)
        .oneshot(builder.body(()).unwrap())
        .await
        .unwrap()
        .into_body();
    let spans = t.exported();
    let server = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    let client = spans
        .iter()
        .find(|s| s.kind == SpanKind::Client as i32)
        .unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(
        hex(&server.trace_id),
        their_cx.span().span_context().trace_id().to_string()
    );
    assert_eq!(
        hex(&server.parent_span_id),
        their_cx.span().span_context().span_id().to_string()
    );
    assert_eq!(trace_id, hex(&client.trace_id));
    assert_eq!(
        span_id,
        hex(&client.span_id),
        "they see our client span as the parent"
    );
}

#[tokio::test]
async fn body_sizes_are_recorded_when_asked() {
    let t = setup();
    let layer = t
        .server()
        .with_body_sizes(&t.meter_provider.meter("server"));
    let service = layer.layer(tower::service_fn(|_req: http::Request<()>| async {
        let mut response = http::Response::new(());
        response
            .headers_mut()
            .insert("content-length", "11".parse().unwrap());
        Ok::<_, Infallible>(response)
    }));
    let request = http::Request::post("/upload")
        .header("content-length", "42")
        .body(())
        .unwrap();
    service.oneshot(request).await.unwrap();
    let spans = t.exported();
    assert_eq!(
        attr(&spans[0], "http.request.body.size"),
        Some(&V::IntValue(42))
    );
    assert_eq!(
        attr(&spans[0], "http.response.body.size"),
        Some(&V::IntValue(11))
    );
    let metrics = t.metrics();
    let all: Vec<_> = metrics
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .collect();
    for (name, sum) in [
        ("http.server.request.body.size", 42.0),
        ("http.server.response.body.size", 11.0),
    ] {
        let m = all.iter().find(|m| m.name == name).unwrap();
        assert_eq!(m.unit, "By");
        let Some(otlp_proto::metrics::v1::metric::Data::Histogram(h)) = &m.data else {
            panic!()
        };
        assert_eq!(h.data_points[0].sum, Some(sum));
    }
}
