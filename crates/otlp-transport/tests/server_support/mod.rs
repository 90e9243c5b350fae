//! Helpers shared by the receiver tests: a recording handler, raw HTTP/1 and HTTP/2 clients
//! built on hyper's client connections, gRPC framing, sample requests and compression bombs.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::grpc_wire::{self, GrpcCode};
use otlp_transport::server::{ExportHandler, Receiver, RequestContext, RunningReceiver};
use otlp_transport::{PartialSuccess, Refusal, Signal};
use prost::Message;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

/// What the handler does with each traces request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    Accept,
    Partial(PartialSuccess),
    Refuse(Refusal),
    Panic,
}

/// A handler that records what it receives and answers as told. Traces and logs are
/// implemented; metrics and profiles use the default (unsupported).
pub struct TestHandler {
    pub behaviour: Behaviour,
    pub calls: AtomicUsize,
    /// When set, each call reports on `entered` and then waits for `release`.
    pub gate: Option<(mpsc::UnboundedSender<()>, Arc<Notify>)>,
    pub contexts: std::sync::Mutex<Vec<RequestContext>>,
    pub spans: AtomicUsize,
}

impl TestHandler {
    pub fn new(behaviour: Behaviour) -> Arc<TestHandler> {
        Arc::new(TestHandler {
            behaviour,
            calls: AtomicUsize::new(0),
            gate: None,
            contexts: Default::default(),
            spans: AtomicUsize::new(0),
        })
    }

    /// A handler that blocks in every call until `release` is notified; `entered` receives one
    /// message per call as it starts.
    pub fn gated() -> (Arc<TestHandler>, mpsc::UnboundedReceiver<()>, Arc<Notify>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let handler = Arc::new(TestHandler {
            behaviour: Behaviour::Accept,
            calls: AtomicUsize::new(0),
            gate: Some((tx, Arc::clone(&release))),
            contexts: Default::default(),
            spans: AtomicUsize::new(0),
        });
        (handler, rx, release)
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn answer(
        &self,
        items: usize,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.spans.fetch_add(items, Ordering::SeqCst);
        self.contexts.lock().unwrap().push(context);
        if let Some((entered, release)) = &self.gate {
            let released = release.notified();
            entered.send(()).unwrap();
            released.await;
        }
        match &self.behaviour {
            Behaviour::Accept => Ok(None),
            Behaviour::Partial(partial) => Ok(Some(partial.clone())),
            Behaviour::Refuse(refusal) => Err(refusal.clone()),
            Behaviour::Panic => panic!("handler panics on purpose"),
        }
    }
}

#[async_trait::async_trait]
impl ExportHandler for TestHandler {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        use otlp_transport::ExportRequest;
        self.answer(request.item_count(), context).await
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        use otlp_transport::ExportRequest;
        self.answer(request.item_count(), context).await
    }
}

/// Starts a receiver on 127.0.0.1 port 0 for both protocols.
pub async fn start(handler: Arc<TestHandler>) -> RunningReceiver {
    start_with(handler, |r| r).await
}

pub async fn start_with(
    handler: Arc<TestHandler>,
    configure: impl FnOnce(Receiver) -> Receiver,
) -> RunningReceiver {
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let receiver = Receiver::from_arc(handler).grpc(local).http(local);
    configure(receiver).start().await.expect("receiver starts")
}

/// A traces request with `n` spans.
pub fn traces(n: usize) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: format!("span-{i}"),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A received response: status, headers, body, trailers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub trailers: Option<HeaderMap>,
}

impl Reply {
    /// The gRPC status: from the trailers, or from the headers of a trailers-only response.
    pub fn grpc_code(&self) -> GrpcCode {
        let value = self
            .trailers
            .as_ref()
            .and_then(|t| t.get("grpc-status"))
            .or_else(|| self.headers.get("grpc-status"))
            .expect("a grpc-status");
        GrpcCode::from_header(value.as_bytes())
    }

    pub fn grpc_message(&self) -> String {
        let headers = self.trailers.as_ref().unwrap_or(&self.headers);
        headers
            .get("grpc-message")
            .map(|v| grpc_wire::percent_decode_message(v.as_bytes()))
            .unwrap_or_default()
    }

    pub fn retry_delay(&self) -> Option<std::time::Duration> {
        let headers = self.trailers.as_ref().unwrap_or(&self.headers);
        let bytes = grpc_wire::decode_status_details_header(
            headers.get("grpc-status-details-bin")?.as_bytes(),
        )?;
        grpc_wire::retry_delay_from_status_details(&bytes)
    }

    /// The google.rpc.Status of an HTTP error body (protobuf).
    pub fn status_proto(&self) -> grpc_wire::RpcStatus {
        assert_eq!(self.headers["content-type"], "application/x-protobuf");
        grpc_wire::RpcStatus::decode(self.body.clone()).expect("a google.rpc.Status body")
    }

    /// The message of a gRPC success response.
    pub fn grpc_message_body<M: Message + Default>(&self) -> M {
        let (header, message) = grpc_wire::parse_unary_body(&self.body).unwrap().unwrap();
        assert!(!header.compressed);
        M::decode(message).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// Which HTTP version a request goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http1,
    Http2,
}

/// Sends one request on a fresh connection.
pub async fn send<B>(addr: SocketAddr, version: Version, request: Request<B>) -> Reply
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    send_on(TokioIo::new(stream), version, request)
        .await
        .expect("a response")
}

/// Sends one request over an established I/O (plain or TLS).
pub async fn send_on<I, B>(
    io: TokioIo<I>,
    version: Version,
    request: Request<B>,
) -> Result<Reply, hyper::Error>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = match version {
        Version::Http1 => {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        }
        Version::Http2 => {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(connection);
            sender.send_request(request).await?
        }
    };
    let (parts, body) = response.into_parts();
    let collected = body.collect().await?;
    let trailers = collected.trailers().cloned();
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: collected.to_bytes(),
        trailers,
    })
}

/// An OTLP/HTTP POST.
pub fn http_request(
    signal: Signal,
    content_type: &str,
    encoding: Option<&str>,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::post(format!("http://localhost{}", signal.http_path()))
        .header("content-type", content_type);
    if let Some(encoding) = encoding {
        builder = builder.header("content-encoding", encoding);
    }
    builder.body(Full::new(body.into())).unwrap()
}

/// A gRPC Export call whose body is `body` as is (already framed).
pub fn grpc_request(
    signal: Signal,
    encoding: Option<&str>,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::post(format!("http://localhost{}", signal.grpc_path()))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(encoding) = encoding {
        builder = builder.header("grpc-encoding", encoding);
    }
    builder.body(Full::new(body.into())).unwrap()
}

pub async fn post_http(addr: SocketAddr, version: Version, request: Request<Full<Bytes>>) -> Reply {
    send(addr, version, request).await
}

pub async fn grpc_call(addr: SocketAddr, request: Request<Full<Bytes>>) -> Reply {
    let reply = send(addr, Version::Http2, request).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "gRPC answers HTTP 200: {reply:?}"
    );
    assert_eq!(reply.header("content-type"), Some("application/grpc"));
    reply
}

/// Checks that both endpoints still serve a good request (traces, 2 spans).
pub async fn assert_still_serving(receiver: &RunningReceiver) {
    let body = traces(2).encode_to_vec();
    let http = receiver.http_local_addr().unwrap();
    let reply = post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, "application/x-protobuf", None, body.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let response = ExportTraceServiceResponse::decode(reply.body).unwrap();
    assert_eq!(response.partial_success, None);
    let grpc = receiver.grpc_local_addr().unwrap();
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, grpc_wire::encode_frame(&body, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Ok, "{reply:?}");
}

/// A request body fed through a channel, to send part of a body and keep the stream open.
pub struct ChannelBody(pub mpsc::UnboundedReceiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(http_body::Frame::data(c))))
    }
}

// ---- Compression bombs: 1 GiB of zeros, built in well under a second. ----

pub const GIB: usize = 1 << 30;

/// gzip: 1024 members of 1 MiB of zeros each (RFC 1952 allows a series of members; a gzip
/// decoder must read them all), about 1 MB in all.
pub fn gzip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    member.repeat(GIB >> 20)
}

/// zstd: 1024 frames of 1 MiB of zeros each (concatenated frames decode as one stream).
pub fn zstd_bomb() -> Vec<u8> {
    let frame = zstd::bulk::compress(&vec![0u8; 1 << 20], 19).unwrap();
    frame.repeat(GIB >> 20)
}

/// brotli: a hand-built stream of `meta_blocks` meta-blocks of 16 MiB of zeros each (64 make
/// 1 GiB, in 590 bytes). Brotli has no concatenation, and its encoder needs ~15 s for 1 GiB in
/// a debug build, so the stream is written directly (RFC 7932): each meta-block has one
/// command, "insert (one zero literal, first block only) and copy 16 MiB from distance 1",
/// with one-symbol prefix codes, so every symbol takes zero bits.
pub fn brotli_bomb(meta_blocks: usize) -> Vec<u8> {
    const MLEN: u32 = 1 << 24;
    let mut w = BitWriter::default();
    w.bits(0, 1); // WBITS = 16 (a 64 KiB window is plenty for distance 1)
    for index in 0..meta_blocks {
        let first = index == 0;
        let last = index + 1 == meta_blocks;
        w.bits(u32::from(last), 1); // ISLAST
        if last {
            w.bits(0, 1); // ISLASTEMPTY = 0
        }
        w.bits(2, 2); // MNIBBLES = 6
        w.bits(MLEN - 1, 24); // MLEN - 1
        if !last {
            w.bits(0, 1); // ISUNCOMPRESSED = 0
        }
        w.bits(0, 1); // NBLTYPESL = 1
        w.bits(0, 1); // NBLTYPESI = 1
        w.bits(0, 1); // NBLTYPESD = 1
        w.bits(0, 2); // NPOSTFIX = 0
        w.bits(0, 4); // NDIRECT = 0
        w.bits(0, 2); // context mode of the literal block type: LSB6
        w.bits(0, 1); // NTREESL = 1
        w.bits(0, 1); // NTREESD = 1
        // Literal code: simple, one symbol (0), 8 alphabet bits.
        w.bits(1, 2); // HSKIP = 1: simple prefix code
        w.bits(0, 2); // NSYM - 1 = 0
        w.bits(0, 8);
        // Insert-and-copy code: one symbol. Copy length code 23 (base 2118, 24 extra bits)
        // with insert length code 1 (first block) or 0: symbols 399 and 391 (explicit
        // distance cells 384..447).
        w.bits(1, 2);
        w.bits(0, 2);
        w.bits(if first { 399 } else { 391 }, 10);
        // Distance code: one symbol, 16 (with 1 extra bit: distance = extra + 1), 6 bits.
        w.bits(1, 2);
        w.bits(0, 2);
        w.bits(16, 6);
        // The command: the symbol takes no bits; copy length extra bits; the literal (if any)
        // takes no bits; the distance symbol no bits, its extra bit 0 (distance 1).
        let copy = if first { MLEN - 1 } else { MLEN };
        w.bits(copy - 2118, 24);
        w.bits(0, 1);
    }
    w.finish()
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    used: u32,
}

impl BitWriter {
    /// Appends the low `count` bits of `value`, least significant first (RFC 7932 order).
    fn bits(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value & ((1u64 << count) - 1) as u32) << self.used;
        self.used += count;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}
