//! The exporter in-process, against a capturing HTTP endpoint: formats, compression, the
//! queue's retries and permanent failures.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::http_server::{Handler, Request, Response, Server};
use otlp_pipeline::testing::eventually;

use super::{ZipkinExporter, ZipkinExporterConfig};

/// What the endpoint saw, and the statuses it answers with before 202s.
#[derive(Default)]
struct Endpoint {
    requests: Mutex<Vec<Request>>,
    script: Mutex<Vec<StatusCode>>,
}

async fn endpoint(script: Vec<StatusCode>) -> (Arc<Endpoint>, Server) {
    let state = Arc::new(Endpoint {
        requests: Mutex::new(Vec::new()),
        script: Mutex::new(script),
    });
    let shared = Arc::clone(&state);
    let handler: Handler = Arc::new(move |request: Request| {
        let shared = Arc::clone(&shared);
        Box::pin(async move {
            shared.requests.lock().unwrap().push(request);
            let mut script = shared.script.lock().unwrap();
            let status = if script.is_empty() {
                StatusCode::ACCEPTED
            } else {
                script.remove(0)
            };
            Response::text(status, "")
        })
    });
    let server = Server::bind_with_body("127.0.0.1:0", handler, Vec::new(), 1 << 20)
        .await
        .unwrap();
    (state, server)
}

fn exporter(yaml: &str, server: &Server) -> ZipkinExporter {
    let mut config: ZipkinExporterConfig = serde_yaml_ng::from_str(yaml).unwrap();
    config.endpoint = format!("http://{}/api/v2/spans", server.local_addr());
    ZipkinExporter::new(
        ExporterContext::new(
            otlp_pipeline::testing::id("zipkin"),
            otlp_pipeline::Signal::Traces,
        ),
        config,
    )
    .unwrap()
}

#[tokio::test]
async fn json_and_proto_bodies_with_compression() {
    let (state, server) = endpoint(Vec::new()).await;
    let json = exporter("sending_queue: {enabled: false}", &server);
    json.consume(Telemetry::new(otlp_pipeline::testing::traces(3)))
        .await
        .unwrap();
    let proto = exporter(
        "{format: proto, compression: gzip, sending_queue: {enabled: false}, headers: {X-Team: t1}}",
        &server,
    );
    proto
        .consume(Telemetry::new(otlp_pipeline::testing::traces(2)))
        .await
        .unwrap();
    let requests = state.requests.lock().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/api/v2/spans");
    assert_eq!(requests[0].headers["content-type"], "application/json");
    let spans = otlp_model::zipkin::decode_v2_json(&requests[0].body).unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(
        requests[1].headers["content-type"],
        "application/x-protobuf"
    );
    assert_eq!(requests[1].headers["content-encoding"], "gzip");
    assert_eq!(requests[1].headers["x-team"], "t1");
    let body = otlp_transport::compression::decompress(
        otlp_transport::compression::Compression::Gzip,
        &requests[1].body,
        1 << 20,
    )
    .unwrap();
    assert_eq!(otlp_model::zipkin::decode_v2_proto(&body).unwrap().len(), 2);
}

#[tokio::test]
async fn the_queue_retries_503_and_drops_400() {
    let (state, server) = endpoint(vec![
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::ACCEPTED,
        StatusCode::BAD_REQUEST,
    ])
    .await;
    let exporter = exporter(
        "retry_on_failure: {initial_interval: 10ms, max_interval: 20ms}",
        &server,
    );
    exporter.start(&Host::empty()).await.unwrap();
    exporter
        .consume(Telemetry::new(otlp_pipeline::testing::traces(1)))
        .await
        .unwrap();
    assert!(eventually(|| state.requests.lock().unwrap().len() == 3).await);
    exporter
        .consume(Telemetry::new(otlp_pipeline::testing::traces(1)))
        .await
        .unwrap();
    assert!(eventually(|| state.requests.lock().unwrap().len() == 4).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The 400 was not retried.
    assert_eq!(state.requests.lock().unwrap().len(), 4);
    exporter
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_span_without_ids_fails_for_good() {
    let (state, server) = endpoint(Vec::new()).await;
    let exporter = exporter("sending_queue: {enabled: false}", &server);
    let mut request = otlp_pipeline::testing::traces(1);
    request.resource_spans[0].scope_spans[0].spans[0]
        .trace_id
        .clear();
    let error = exporter.consume(Telemetry::new(request)).await.unwrap_err();
    assert!(error.is_permanent(), "{error}");
    assert!(error.to_string().contains("TraceID"), "{error}");
    assert!(state.requests.lock().unwrap().is_empty());
}
