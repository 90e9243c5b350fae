//! The sidecar forwards requests and bodies unchanged, continues the caller's trace on both
//! sides (SERVER span child of the caller, CLIENT span child of it, its context sent
//! upstream), and answers 502 when the upstream is down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioExecutor;
use otlp_demo::http::{Body, full, serve, stream};
use otlp_demo::sidecar::{self, Upstream};
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::MeterProvider;
use otlp_sdk::trace::TracerProvider;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::Dispatch;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER: &str = "b7ad6b7169203331";
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

/// Echoes the body back, with the path and `traceparent` it saw as headers.
async fn echo(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path_and_query().map(ToString::to_string);
    let traceparent = request.headers().get("traceparent").cloned();
    let mut response = Response::new(stream(request.into_body()));
    response
        .headers_mut()
        .insert("x-path", path.unwrap_or_default().parse().unwrap());
    if let Some(tp) = traceparent {
        response.headers_mut().insert("x-traceparent", tp);
    }
    Ok(response)
}

struct Running {
    sidecar: SocketAddr,
    spans: InMemoryExporter<otlp_proto::collector::trace::v1::ExportTraceServiceRequest>,
    provider: TracerProvider,
    _stop: watch::Sender<bool>,
}

async fn start(upstream: &str) -> Running {
    let (stop_tx, stop) = watch::channel(false);
    let spans = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let meter = MeterProvider::builder().build().meter("sidecar");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sidecar = listener.local_addr().unwrap();
    let upstream = Upstream::parse(upstream).unwrap();
    let tracer = provider.tracer("sidecar");
    tokio::spawn(async move {
        sidecar::run(listener, upstream, tracer, &meter, Dispatch::none(), stop).await;
    });
    Running {
        sidecar,
        spans,
        provider,
        _stop: stop_tx,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn send(sidecar: SocketAddr, path: &str, body: Vec<u8>) -> Response<Incoming> {
    let client =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Body>();
    let request = Request::post(format!("http://{sidecar}{path}"))
        .header("traceparent", format!("00-{TRACE}-{CALLER}-01"))
        .body(full(body))
        .unwrap();
    client.request(request).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_bodies_and_continues_the_trace() {
    let (_upstream_stop, stop) = watch::channel(false);
    let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    tokio::spawn(serve(
        upstream,
        tower::service_fn(echo),
        Dispatch::none(),
        stop,
    ));
    let running = start(&format!("http://{upstream_addr}/base/")).await;

    let body: Vec<u8> = (0..1_000_000_u32).map(|i| (i % 251) as u8).collect();
    let response = send(running.sidecar, "/echo?x=1", body.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let echoed = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(echoed.len(), body.len());
    assert!(echoed == body, "the body came back unchanged");
    assert_eq!(headers["x-path"], "/base/echo?x=1");

    running
        .provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let spans = running.spans.spans();
    assert_eq!(spans.len(), 2);
    let server = spans.iter().find(|s| s.kind == SERVER).expect("SERVER");
    let client = spans.iter().find(|s| s.kind == CLIENT).expect("CLIENT");
    assert_eq!(hex(&server.trace_id), TRACE);
    assert_eq!(hex(&server.parent_span_id), CALLER, "continues the caller");
    assert_eq!(client.trace_id, server.trace_id);
    assert_eq!(client.parent_span_id, server.span_id);
    // The upstream continues the CLIENT span.
    let traceparent = headers["x-traceparent"].to_str().unwrap();
    assert_eq!(
        traceparent,
        format!("00-{TRACE}-{}-01", hex(&client.span_id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_502() {
    // A port nothing listens on.
    let down = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let running = start(&format!("http://{down}")).await;
    let response = send(running.sidecar, "/anything", b"hello".to_vec()).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    running
        .provider
        .force_flush(Instant::now() + Duration::from_secs(5))
        .unwrap();
    let spans = running.spans.spans();
    let server = spans.iter().find(|s| s.kind == SERVER).expect("SERVER");
    let client = spans.iter().find(|s| s.kind == CLIENT).expect("CLIENT");
    let error = |s: &otlp_proto::trace::v1::Span| s.status.as_ref().map(|st| st.code) == Some(2);
    assert!(error(client), "the failed upstream call is an error");
    assert!(error(server), "a 502 is a server error");
}
