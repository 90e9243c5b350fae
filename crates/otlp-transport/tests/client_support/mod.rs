//! Shared helpers of the client tests: a scripted HTTP/1 + HTTP/2 test receiver on
//! 127.0.0.1 that records what it gets, a virtual clock, sample requests and test PKI.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use otlp_proto::Message;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::client::Clock;
use otlp_transport::compression::{self, Compression};
use otlp_transport::grpc_wire::{self, GrpcCode};
use tokio::net::TcpListener;

/// A request as the test receiver got it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether the connection was TLS with a client certificate.
    pub client_certificate: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The protobuf message of a gRPC request: unframed and decompressed.
    pub fn grpc_message(&self) -> Vec<u8> {
        let (header, message) = grpc_wire::parse_unary_body(&self.body).unwrap().unwrap();
        if header.compressed {
            let encoding = Compression::from_token(self.header("grpc-encoding").unwrap()).unwrap();
            compression::decompress(encoding, message, 64 << 20).unwrap()
        } else {
            message.to_vec()
        }
    }

    /// The body of an HTTP request, decompressed per `content-encoding`.
    pub fn http_body(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            Some(token) => {
                let encoding = Compression::from_token(token).unwrap();
                compression::decompress(encoding, &self.body, 64 << 20).unwrap()
            }
            None => self.body.to_vec(),
        }
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A gRPC answer: status in trailers (or in the headers when `trailers_only`), with the
    /// framed `response` message when `code` is OK.
    Grpc {
        code: GrpcCode,
        message: String,
        details: Option<Vec<u8>>,
        response: Bytes,
        trailers_only: bool,
    },
    /// An HTTP answer.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Waits, then answers.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    pub fn grpc_ok(response: &impl Message) -> Reply {
        Reply::Grpc {
            code: GrpcCode::Ok,
            message: String::new(),
            details: None,
            response: Bytes::from(response.encode_to_vec()),
            trailers_only: false,
        }
    }

    pub fn grpc(code: GrpcCode, message: &str) -> Reply {
        Reply::Grpc {
            code,
            message: message.to_owned(),
            details: None,
            response: Bytes::new(),
            trailers_only: false,
        }
    }

    pub fn grpc_trailers_only(code: GrpcCode, message: &str) -> Reply {
        Reply::Grpc {
            code,
            message: message.to_owned(),
            details: None,
            response: Bytes::new(),
            trailers_only: true,
        }
    }

    pub fn grpc_retry_info(code: GrpcCode, message: &str, delay: Duration) -> Reply {
        Reply::Grpc {
            code,
            message: message.to_owned(),
            details: Some(grpc_wire::status_details_with_retry_delay(
                code, message, delay,
            )),
            response: Bytes::new(),
            trailers_only: false,
        }
    }

    pub fn http(status: u16) -> Reply {
        Reply::Http {
            status,
            headers: vec![],
            body: Bytes::new(),
        }
    }

    pub fn http_with(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        Reply::Http {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }

    pub fn delayed(self, delay: Duration) -> Reply {
        Reply::Delay(delay, Box::new(self))
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    connections: AtomicUsize,
}

/// The test receiver. Answers from its script, then with success (gRPC OK with an empty
/// response, or HTTP 200 with an empty body).
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// A plain-TCP receiver (HTTP/1.1, and HTTP/2 with prior knowledge).
    pub async fn start() -> TestServer {
        TestServer::spawn(None).await
    }

    /// A TLS receiver.
    pub async fn start_tls(config: Arc<rustls::ServerConfig>) -> TestServer {
        TestServer::spawn(Some(tokio_rustls::TlsAcceptor::from(config))).await
    }

    async fn spawn(tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                accept_state.connections.fetch_add(1, Ordering::SeqCst);
                let state = accept_state.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => serve(TokioIo::new(stream), state, false).await,
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let client_cert = stream.get_ref().1.peer_certificates().is_some();
                            serve(TokioIo::new(stream), state, client_cert).await;
                        }
                    }
                });
            }
        });
        TestServer { addr, state, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:<port>`.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Queues answers.
    pub fn reply(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

async fn serve<IO>(io: TokioIo<IO>, state: Arc<State>, client_certificate: bool)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(state, request, client_certificate).await) }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(io, service)
        .await;
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
    client_certificate: bool,
) -> Response<ReplyBody> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let grpc = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    let json = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v == "application/json");
    state.requests.lock().unwrap().push(Recorded {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        version: parts.version,
        headers: parts.headers,
        body,
        client_certificate,
    });
    let mut reply = state.script.lock().unwrap().pop_front().unwrap_or_else(|| {
        if grpc {
            Reply::grpc(GrpcCode::Ok, "")
        } else if json {
            Reply::http_with(200, &[("content-type", "application/json")], "{}")
        } else {
            Reply::http_with(200, &[("content-type", "application/x-protobuf")], "")
        }
    });
    while let Reply::Delay(delay, next) = reply {
        tokio::time::sleep(delay).await;
        reply = *next;
    }
    build_response(reply)
}

fn build_response(reply: Reply) -> Response<ReplyBody> {
    match reply {
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut response = Response::new(ReplyBody::new(Some(body), None));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            for (name, value) in headers {
                response.headers_mut().append(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(&value).unwrap(),
                );
            }
            response
        }
        Reply::Grpc {
            code,
            message,
            details,
            response,
            trailers_only,
        } => {
            let mut status = HeaderMap::new();
            status.insert("grpc-status", code.header_value());
            if !message.is_empty() {
                status.insert(
                    "grpc-message",
                    HeaderValue::from_str(&grpc_wire::percent_encode_message(&message)).unwrap(),
                );
            }
            if let Some(details) = details {
                status.insert(
                    "grpc-status-details-bin",
                    HeaderValue::from_str(&grpc_wire::encode_status_details_header(&details))
                        .unwrap(),
                );
            }
            let mut builder = Response::builder()
                .status(200)
                .header("content-type", grpc_wire::GRPC_CONTENT_TYPE);
            if trailers_only {
                for (name, value) in &status {
                    builder = builder.header(name, value);
                }
                return builder.body(ReplyBody::new(None, None)).unwrap();
            }
            let data = (code == GrpcCode::Ok).then(|| grpc_wire::encode_frame(&response, false));
            builder.body(ReplyBody::new(data, Some(status))).unwrap()
        }
        Reply::Delay(..) => unreachable!(),
    }
}

/// A body of one data frame and optional trailers.
pub struct ReplyBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl ReplyBody {
    fn new(data: Option<Bytes>, trailers: Option<HeaderMap>) -> Self {
        ReplyBody {
            data: data.filter(|d| !d.is_empty()),
            trailers,
        }
    }
}

impl hyper::body::Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// A virtual clock: `sleep` returns at once and moves `now` forward, recording the wait.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }

    /// The waits so far.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        *self.offset.lock().unwrap() += duration;
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(std::future::ready(()))
    }
}

/// A request of each signal with a little of everything, `n` items each.
pub fn sample_traces(n: usize) -> ExportTraceServiceRequest {
    use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource("checkout")),
            scope_spans: vec![ScopeSpans {
                scope: Some(otlp_proto::common::v1::InstrumentationScope {
                    name: "test".into(),
                    version: "1.0".into(),
                    ..Default::default()
                }),
                spans: (0..n)
                    .map(|i| Span {
                        trace_id: vec![0x5b; 16],
                        span_id: (i as u64 + 1).to_be_bytes().to_vec(),
                        name: format!("GET /cart/{i}"),
                        kind: span::SpanKind::Server as i32,
                        start_time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                        end_time_unix_nano: 1_700_000_000_250_000_000 + i as u64,
                        attributes: vec![string_attribute("http.route", "/cart/{id}")],
                        events: vec![span::Event {
                            time_unix_nano: 1_700_000_000_100_000_000,
                            name: "cache miss".into(),
                            ..Default::default()
                        }],
                        status: Some(otlp_proto::trace::v1::Status {
                            message: "ok".into(),
                            code: 1,
                        }),
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
        }],
    }
}

pub fn sample_metrics(n: usize) -> ExportMetricsServiceRequest {
    use otlp_proto::metrics::v1::{
        Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
        ScopeMetrics, metric, number_data_point,
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("checkout")),
            scope_metrics: vec![ScopeMetrics {
                scope: None,
                metrics: vec![
                    Metric {
                        name: "queue.depth".into(),
                        unit: "{item}".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: (0..n)
                                .map(|i| NumberDataPoint {
                                    time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                                    value: Some(number_data_point::Value::AsInt(i as i64)),
                                    attributes: vec![string_attribute("queue", "orders")],
                                    ..Default::default()
                                })
                                .collect(),
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "latency".into(),
                        unit: "ms".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                count: 3,
                                sum: Some(12.5),
                                bucket_counts: vec![1, 2, 0],
                                explicit_bounds: vec![5.0, 10.0],
                                ..Default::default()
                            }],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    },
                ],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

pub fn sample_logs(n: usize) -> ExportLogsServiceRequest {
    use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource("checkout")),
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: (0..n)
                    .map(|i| LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
                        severity_number: 9,
                        severity_text: "INFO".into(),
                        body: Some(string_value(&format!("order {i} placed"))),
                        attributes: vec![string_attribute("order.id", &i.to_string())],
                        trace_id: vec![0x5b; 16],
                        span_id: vec![0x1a; 8],
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

pub fn sample_profiles() -> ExportProfilesServiceRequest {
    ExportProfilesServiceRequest::default()
}

fn resource(service: &str) -> otlp_proto::resource::v1::Resource {
    otlp_proto::resource::v1::Resource {
        attributes: vec![string_attribute("service.name", service)],
        ..Default::default()
    }
}

fn string_value(value: &str) -> otlp_proto::common::v1::AnyValue {
    otlp_proto::common::v1::AnyValue {
        value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
            value.into(),
        )),
    }
}

fn string_attribute(key: &str, value: &str) -> otlp_proto::common::v1::KeyValue {
    otlp_proto::common::v1::KeyValue {
        key: key.into(),
        value: Some(string_value(value)),
        ..Default::default()
    }
}

/// A CA, a server certificate for 127.0.0.1 and `localhost`, and a client certificate, all
/// made with rcgen.
pub struct TestPki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

impl TestPki {
    pub fn new() -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "otlp-rs test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(vec!["exporter".to_owned()]).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "exporter");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

        TestPki {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// A rustls server configuration offering `alpn`, requiring a client certificate signed
    /// by the CA when `require_client_certificate`.
    pub fn server_config(
        &self,
        alpn: &[&[u8]],
        require_client_certificate: bool,
    ) -> Arc<rustls::ServerConfig> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_certificate {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_slice_iter(self.server_cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).unwrap();
        let mut config = builder.with_single_cert(chain, key).unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "otlp-rs-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
