//! The gRPC layers against the RPC semantic conventions: a real tonic server (the OTLP
//! TraceService stubs of otlp-proto) and a real tonic client over loopback TCP, and
//! hand-built responses through `tower::service_fn` for the body cases tonic does not make on
//! demand (trailers after data, a failing body, a dropped body, a non-gRPC HTTP error).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use otlp_instrumentation::grpc::DURATION_BOUNDARIES;
use otlp_instrumentation::grpc::client::GrpcClientLayer;
use otlp_instrumentation::grpc::server::GrpcServerLayer;
use otlp_propagation::Propagators;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use otlp_proto::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use otlp_proto::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use otlp_proto::common::v1::KeyValue as ProtoKeyValue;
use otlp_proto::common::v1::any_value::Value as V;
use otlp_proto::metrics::v1::HistogramDataPoint;
use otlp_proto::trace::v1::Span;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::metrics::{ManualReader, MeterProvider};
use otlp_sdk::trace::TracerProvider;
use tower::{Layer, ServiceBuilder, ServiceExt};

const METHOD: &str = "opentelemetry.proto.collector.trace.v1.TraceService/Export";

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
    fn server_layer(&self) -> GrpcServerLayer {
        GrpcServerLayer::new(
            self.tracer_provider.tracer("server"),
            &self.meter_provider.meter("server"),
        )
        .with_propagators(Propagators::w3c())
    }

    fn client_layer(&self) -> GrpcClientLayer {
        GrpcClientLayer::new(
            self.tracer_provider.tracer("client"),
            &self.meter_provider.meter("client"),
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

    /// The data points of the histogram `name`, after checking its unit and boundaries.
    fn histogram(&self, name: &str) -> Vec<HistogramDataPoint> {
        let metrics = self.metrics();
        let metric = metrics
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(metric.unit, "s");
        let Some(otlp_proto::metrics::v1::metric::Data::Histogram(h)) = &metric.data else {
            panic!("{name} is not a histogram")
        };
        for point in &h.data_points {
            assert_eq!(point.explicit_bounds, DURATION_BOUNDARIES.to_vec());
        }
        h.data_points.clone()
    }
}

fn find<'a>(attributes: &'a [ProtoKeyValue], key: &str) -> Option<&'a V> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a V> {
    find(&span.attributes, key)
}

fn s(v: &str) -> V {
    V::StringValue(v.to_owned())
}

fn status(span: &Span) -> i32 {
    span.status.as_ref().map_or(0, |s| s.code)
}

fn by_kind(spans: &[Span], kind: SpanKind) -> &Span {
    spans
        .iter()
        .find(|s| s.kind == kind as i32)
        .unwrap_or_else(|| panic!("no {kind:?} span in {spans:#?}"))
}

/// The handler: OK, unless the `x-test-status` metadata asks for an error. It records the
/// span context that is current while it runs.
#[derive(Default)]
struct Handler {
    current: Arc<Mutex<Vec<Option<otlp_propagation::SpanContext>>>>,
}

#[tonic::async_trait]
impl TraceService for Handler {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let current = otlp_sdk::context::current().span_context().cloned();
        self.current.lock().unwrap().push(current);
        match request
            .metadata()
            .get("x-test-status")
            .and_then(|v| v.to_str().ok())
        {
            Some("unavailable") => Err(tonic::Status::unavailable("try again later")),
            Some("invalid") => Err(tonic::Status::invalid_argument("bad spans")),
            _ => Ok(tonic::Response::new(ExportTraceServiceResponse::default())),
        }
    }
}

/// A tonic server with the server layer on 127.0.0.1:0; its address and what its handler
/// saw as current.
async fn serve(
    layer: GrpcServerLayer,
) -> (
    SocketAddr,
    Arc<Mutex<Vec<Option<otlp_propagation::SpanContext>>>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Handler::default();
    let current = Arc::clone(&handler.current);
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(TraceServiceServer::new(handler))
            .serve_with_incoming(incoming)
            .await
            .unwrap();
    });
    (addr, current)
}

/// One Export call through the client layer. tonic's `Channel` adds the authority below the
/// layer: the layer is told the server (`with_server`), or the client is made `with_origin`.
async fn call(
    t: &Setup,
    addr: SocketAddr,
    marker: Option<&'static str>,
) -> Result<(), tonic::Status> {
    call_with(t, addr, marker, false).await
}

async fn call_with(
    t: &Setup,
    addr: SocketAddr,
    marker: Option<&'static str>,
    origin: bool,
) -> Result<(), tonic::Status> {
    let uri: http::Uri = format!("http://{addr}").parse().unwrap();
    let channel = tonic::transport::Endpoint::from(uri.clone())
        .connect()
        .await
        .unwrap();
    let mut client = if origin {
        let channel = ServiceBuilder::new()
            .layer(t.client_layer())
            .service(channel);
        TraceServiceClient::with_origin(channel, uri)
    } else {
        let layer = t
            .client_layer()
            .with_server(addr.ip().to_string(), addr.port());
        TraceServiceClient::new(ServiceBuilder::new().layer(layer).service(channel))
    };
    let mut request = tonic::Request::new(ExportTraceServiceRequest::default());
    if let Some(marker) = marker {
        request
            .metadata_mut()
            .insert("x-test-status", marker.parse().unwrap());
    }
    client.export(request).await.map(|_| ())
}

/// The attributes both sides' spans must have.
fn assert_rpc_span(span: &Span, kind: SpanKind, code: &str, addr: SocketAddr) {
    assert_eq!(span.name, METHOD);
    assert_eq!(span.kind, kind as i32);
    assert_eq!(attr(span, "rpc.system.name"), Some(&s("grpc")));
    assert_eq!(attr(span, "rpc.method"), Some(&s(METHOD)));
    assert_eq!(attr(span, "rpc.response.status_code"), Some(&s(code)));
    assert_eq!(attr(span, "server.address"), Some(&s("127.0.0.1")));
    assert_eq!(
        attr(span, "server.port"),
        Some(&V::IntValue(i64::from(addr.port())))
    );
    assert_eq!(attr(span, "network.protocol.version"), Some(&s("2")));
    assert_eq!(attr(span, "rpc.method_original"), None);
    // The legacy keys are not emitted.
    for legacy in ["rpc.system", "rpc.service", "rpc.grpc.status_code"] {
        assert_eq!(attr(span, legacy), None, "{legacy}");
    }
}

#[tokio::test]
async fn an_ok_call_is_one_trace_through_the_metadata() {
    let t = setup();
    let (addr, current) = serve(t.server_layer()).await;

    let root = t.tracer_provider.tracer("app").start("checkout");
    let guard = root.attach();
    call_with(&t, addr, None, true).await.unwrap();
    drop(guard);
    drop(root);

    let spans = t.exported();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let (client, server) = (
        by_kind(&spans, SpanKind::Client),
        by_kind(&spans, SpanKind::Server),
    );
    let root = spans.iter().find(|s| s.name == "checkout").unwrap();
    assert_rpc_span(client, SpanKind::Client, "OK", addr);
    assert_rpc_span(server, SpanKind::Server, "OK", addr);
    for span in [client, server] {
        assert_eq!(attr(span, "error.type"), None);
        assert_eq!(status(span), StatusCode::Unset as i32);
    }
    // Metadata propagation: root → client → server, one trace.
    assert_eq!(client.parent_span_id, root.span_id);
    assert_eq!(server.parent_span_id, client.span_id);
    assert!(spans.iter().all(|s| s.trace_id == root.trace_id));
    // The server span is current inside the handler.
    let seen = current.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let seen = seen[0].clone().expect("no current span in the handler");
    assert_eq!(seen.span_id().to_bytes().to_vec(), server.span_id);
    // The server span ended before the client saw the trailers; the client span ends last.
    assert!(server.end_time_unix_nano <= client.end_time_unix_nano);
}

#[tokio::test]
async fn unavailable_is_an_error_on_both_sides() {
    let t = setup();
    let (addr, _) = serve(t.server_layer()).await;
    let error = call(&t, addr, Some("unavailable")).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::Unavailable);

    let spans = t.exported();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = by_kind(&spans, kind);
        assert_rpc_span(span, kind, "UNAVAILABLE", addr);
        assert_eq!(attr(span, "error.type"), Some(&s("UNAVAILABLE")));
        assert_eq!(status(span), StatusCode::Error as i32);
        assert_eq!(
            span.status.as_ref().unwrap().message,
            "try again later",
            "{kind:?}: the grpc-message is the description"
        );
    }
}

#[tokio::test]
async fn invalid_argument_is_an_error_for_the_client_only() {
    let t = setup();
    let (addr, _) = serve(t.server_layer()).await;
    let error = call(&t, addr, Some("invalid")).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);

    let spans = t.exported();
    let client = by_kind(&spans, SpanKind::Client);
    assert_rpc_span(client, SpanKind::Client, "INVALID_ARGUMENT", addr);
    assert_eq!(attr(client, "error.type"), Some(&s("INVALID_ARGUMENT")));
    assert_eq!(status(client), StatusCode::Error as i32);

    let server = by_kind(&spans, SpanKind::Server);
    assert_rpc_span(server, SpanKind::Server, "INVALID_ARGUMENT", addr);
    assert_eq!(attr(server, "error.type"), None);
    assert_eq!(status(server), StatusCode::Unset as i32);
}

#[tokio::test]
async fn call_durations_are_recorded_with_the_status() {
    let t = setup();
    let (addr, _) = serve(t.server_layer()).await;
    call(&t, addr, None).await.unwrap();
    call(&t, addr, None).await.unwrap();
    call(&t, addr, Some("unavailable")).await.unwrap_err();
    call(&t, addr, Some("invalid")).await.unwrap_err();
    // The simple exporter runs as each span ends; flushing also waits for the server side.
    let _ = t.exported();

    let count = |points: &[HistogramDataPoint], code: &str| -> u64 {
        points
            .iter()
            .filter(|p| find(&p.attributes, "rpc.response.status_code") == Some(&s(code)))
            .map(|p| p.count)
            .sum()
    };
    let error_type = |points: &[HistogramDataPoint], code: &str| -> Option<V> {
        points
            .iter()
            .find(|p| find(&p.attributes, "rpc.response.status_code") == Some(&s(code)))
            .and_then(|p| find(&p.attributes, "error.type").cloned())
    };

    let server = t.histogram("rpc.server.call.duration");
    assert_eq!(count(&server, "OK"), 2);
    assert_eq!(count(&server, "UNAVAILABLE"), 1);
    assert_eq!(count(&server, "INVALID_ARGUMENT"), 1);
    assert_eq!(error_type(&server, "OK"), None);
    assert_eq!(error_type(&server, "UNAVAILABLE"), Some(s("UNAVAILABLE")));
    assert_eq!(error_type(&server, "INVALID_ARGUMENT"), None);
    for point in &server {
        assert_eq!(find(&point.attributes, "rpc.system.name"), Some(&s("grpc")));
        assert_eq!(find(&point.attributes, "rpc.method"), Some(&s(METHOD)));
        // server.address and server.port are opt-in on the server metric.
        assert_eq!(find(&point.attributes, "server.address"), None);
        assert!(point.sum.unwrap() >= 0.0);
    }

    let client = t.histogram("rpc.client.call.duration");
    assert_eq!(count(&client, "OK"), 2);
    assert_eq!(count(&client, "UNAVAILABLE"), 1);
    assert_eq!(count(&client, "INVALID_ARGUMENT"), 1);
    assert_eq!(error_type(&client, "OK"), None);
    assert_eq!(error_type(&client, "UNAVAILABLE"), Some(s("UNAVAILABLE")));
    assert_eq!(
        error_type(&client, "INVALID_ARGUMENT"),
        Some(s("INVALID_ARGUMENT"))
    );
    for point in &client {
        let keys: Vec<&str> = point.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert!(keys.contains(&"rpc.system.name"), "{keys:?}");
        assert!(keys.contains(&"rpc.method"), "{keys:?}");
        assert!(keys.contains(&"server.address"), "{keys:?}");
        assert!(keys.contains(&"server.port"), "{keys:?}");
    }
}

// ---- Hand-built responses -------------------------------------------------------------------

fn grpc_request(path: &str) -> http::Request<()> {
    http::Request::post(format!("http://backend:50051{path}"))
        .version(http::Version::HTTP_2)
        .body(())
        .unwrap()
}

fn trailers(code: &str, message: &str) -> http::HeaderMap {
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", code.parse().unwrap());
    trailers.insert("grpc-message", message.parse().unwrap());
    trailers
}

#[tokio::test]
async fn the_status_in_the_trailers_ends_the_server_span() {
    let t = setup();
    let app = t
        .server_layer()
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            let body = http_body_util::Full::new(&b"\0\0\0\0\0"[..])
                .with_trailers(async { Some(Ok(trailers("15", "disk%20gone"))) });
            Ok::<_, Infallible>(
                http::Response::builder()
                    .header("content-type", "application/grpc")
                    .body(body)
                    .unwrap(),
            )
        }));
    let response = app.oneshot(grpc_request("/pkg.Store/Put")).await.unwrap();
    // Headers only so far: the call is not over.
    assert!(t.exported().is_empty());
    let collected = response.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["grpc-status"], "15");

    let spans = t.exported();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "pkg.Store/Put");
    assert_eq!(
        attr(span, "rpc.response.status_code"),
        Some(&s("DATA_LOSS"))
    );
    assert_eq!(attr(span, "error.type"), Some(&s("DATA_LOSS")));
    assert_eq!(attr(span, "server.address"), Some(&s("backend")));
    assert_eq!(attr(span, "server.port"), Some(&V::IntValue(50051)));
    assert_eq!(status(span), StatusCode::Error as i32);
    assert_eq!(span.status.as_ref().unwrap().message, "disk gone");
    let points = t.histogram("rpc.server.call.duration");
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 1);
}

#[tokio::test]
async fn a_dropped_body_is_cancelled_an_error_for_the_client_only() {
    let t = setup();
    let respond = || {
        tower::service_fn(|_req: http::Request<()>| async {
            let body = http_body_util::Full::new(&b"\0\0\0\0\0"[..])
                .with_trailers(async { Some(Ok(trailers("0", ""))) });
            Ok::<_, Infallible>(http::Response::new(body))
        })
    };
    let server = t.server_layer().layer(respond());
    drop(
        server
            .oneshot(grpc_request("/pkg.Store/Get"))
            .await
            .unwrap(),
    );
    let client = t.client_layer().layer(respond());
    drop(
        client
            .oneshot(grpc_request("/pkg.Store/Get"))
            .await
            .unwrap(),
    );

    let spans = t.exported();
    let server = by_kind(&spans, SpanKind::Server);
    assert_eq!(
        attr(server, "rpc.response.status_code"),
        Some(&s("CANCELLED"))
    );
    assert_eq!(attr(server, "error.type"), None);
    assert_eq!(status(server), StatusCode::Unset as i32);
    let client = by_kind(&spans, SpanKind::Client);
    assert_eq!(
        attr(client, "rpc.response.status_code"),
        Some(&s("CANCELLED"))
    );
    assert_eq!(attr(client, "error.type"), Some(&s("CANCELLED")));
    assert_eq!(status(client), StatusCode::Error as i32);
}

/// A body that fails on its first poll.
struct Failing;

impl http_body::Body for Failing {
    type Data = &'static [u8];
    type Error = String;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err("connection reset".to_owned())))
    }
}

#[tokio::test]
async fn a_body_error_is_other_and_an_http_error_is_mapped() {
    let t = setup();
    let failing = t
        .server_layer()
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(http::Response::new(Failing))
        }));
    let response = failing
        .oneshot(grpc_request("/pkg.Store/Get"))
        .await
        .unwrap();
    assert!(response.into_body().collect().await.is_err());

    // A proxy's 404 without grpc-status: UNIMPLEMENTED, as gRPC maps it.
    let not_found = t
        .client_layer()
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(
                http::Response::builder()
                    .status(404)
                    .body(http_body_util::Empty::<&'static [u8]>::new())
                    .unwrap(),
            )
        }));
    let response = not_found.oneshot(grpc_request("/not-grpc")).await.unwrap();
    assert_eq!(response.status(), 404);

    let spans = t.exported();
    let server = by_kind(&spans, SpanKind::Server);
    assert_eq!(attr(server, "error.type"), Some(&s("_OTHER")));
    assert_eq!(attr(server, "rpc.response.status_code"), None);
    assert_eq!(status(server), StatusCode::Error as i32);
    assert_eq!(server.status.as_ref().unwrap().message, "connection reset");

    let client = by_kind(&spans, SpanKind::Client);
    // Not a `/Service/Method` path: `_OTHER`, named after the system.
    assert_eq!(client.name, "grpc");
    assert_eq!(attr(client, "rpc.method"), Some(&s("_OTHER")));
    assert_eq!(attr(client, "rpc.method_original"), Some(&s("/not-grpc")));
    assert_eq!(
        attr(client, "rpc.response.status_code"),
        Some(&s("UNIMPLEMENTED"))
    );
    assert_eq!(attr(client, "error.type"), Some(&s("UNIMPLEMENTED")));
}

#[tokio::test]
async fn methods_outside_the_known_set_are_other() {
    let t = setup();
    let app = t
        .server_layer()
        .with_methods(["pkg.Store/Get"])
        .layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(
                http::Response::builder()
                    .header("grpc-status", "12")
                    .body(http_body_util::Empty::<&'static [u8]>::new())
                    .unwrap(),
            )
        }));
    app.clone()
        .oneshot(grpc_request("/pkg.Store/Get"))
        .await
        .unwrap();
    app.oneshot(grpc_request("/pkg.Store/Scan")).await.unwrap();
    let spans = t.exported();
    assert_eq!(spans[0].name, "pkg.Store/Get");
    assert_eq!(spans[1].name, "grpc");
    assert_eq!(attr(&spans[1], "rpc.method"), Some(&s("_OTHER")));
    assert_eq!(
        attr(&spans[1], "rpc.method_original"),
        Some(&s("/pkg.Store/Scan"))
    );
    // Trailers-only UNIMPLEMENTED is a server error.
    assert_eq!(attr(&spans[1], "error.type"), Some(&s("UNIMPLEMENTED")));
    let points = t.histogram("rpc.server.call.duration");
    assert!(
        points
            .iter()
            .all(|p| find(&p.attributes, "rpc.method_original").is_none())
    );
}
