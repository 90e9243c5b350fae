//! With feature `axum`: the layer as an axum route layer names spans by the matched route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use otlp_instrumentation::http::server::HttpServerLayer;
use otlp_proto::common::v1::any_value::Value as V;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::MeterProvider;
use otlp_sdk::trace::TracerProvider;
use tower::ServiceExt;

#[tokio::test]
async fn axum_matched_paths_name_the_spans() {
    let spans = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let meter = MeterProvider::builder().build().meter("axum");
    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route_layer(HttpServerLayer::new(provider.tracer("axum"), &meter));
    let response = app
        .oneshot(
            http::Request::get("/users/42")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let span = &spans.spans()[0];
    assert_eq!(span.name, "GET /users/{id}");
    let route = span
        .attributes
        .iter()
        .find(|kv| kv.key == "http.route")
        .and_then(|kv| kv.value.clone()?.value);
    assert_eq!(route, Some(V::StringValue("/users/{id}".into())));
}
