//! Propagation both ways with the OpenTelemetry Python SDK (installed by `cargo xtask peers`):
//! a Python program's span calls a Rust HTTP service instrumented with `HttpServerLayer`,
//! whose handler calls back a Python HTTP server through `HttpClientLayer`; every span of both
//! SDKs is in ONE trace with the right parents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use otlp_instrumentation::http::client::HttpClientLayer;
use otlp_instrumentation::http::server::HttpServerLayer;
use otlp_propagation::Propagators;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::MeterProvider;
use otlp_sdk::trace::TracerProvider;
use tower::{Layer, Service, ServiceExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_to_rust_and_back_is_one_trace() {
    let Some(python) = peers::require(peers::Peer::Python) else {
        return;
    };
    let spans = InMemoryExporter::new();
    let tracer_provider = TracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let meter = MeterProvider::builder().build().meter("rust");
    let server_layer = HttpServerLayer::new(tracer_provider.tracer("rust"), &meter)
        .with_propagators(Propagators::w3c());
    let client_layer = HttpClientLayer::new(tracer_provider.tracer("rust"), &meter)
        .with_propagators(Propagators::w3c());

    // The Rust service: calls back the URL the Python side names in `x-callback`.
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let handler = tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let mut client = client_layer.layer(client.clone());
        async move {
            let callback = req.headers()["x-callback"].to_str().unwrap().to_owned();
            let request = http::Request::get(callback)
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = client.ready().await.unwrap().call(request).await.unwrap();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, Infallible>(http::Response::new(Full::new(body)))
        }
    });
    let service = server_layer.layer(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let serve = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = service.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |req| service.clone().oneshot(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });

    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python_roundtrip.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(format!("http://{addr}/hello"))
            .env("NO_PROXY", "*")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    serve.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("done"),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let python_spans: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    tracer_provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let rust_spans = spans.spans();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();

    let py = |name: &str| {
        python_spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    let (root, callback) = (py("python root"), py("python callback"));
    let server = rust_spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    let client = rust_spans
        .iter()
        .find(|s| s.kind == SpanKind::Client as i32)
        .unwrap();
    let trace = root["trace_id"].as_str().unwrap();
    assert_eq!(
        hex(&server.trace_id),
        trace,
        "Rust continued Python's trace"
    );
    assert_eq!(
        hex(&server.parent_span_id),
        root["span_id"].as_str().unwrap()
    );
    assert_eq!(
        client.parent_span_id, server.span_id,
        "the handler's call is a child of the server span"
    );
    assert_eq!(
        callback["trace_id"].as_str().unwrap(),
        trace,
        "Python continued Rust's trace"
    );
    assert_eq!(callback["parent"].as_str().unwrap(), hex(&client.span_id));
}
