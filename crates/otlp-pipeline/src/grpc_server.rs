//! A small unary gRPC server (HTTP/2 on hyper, otlp-transport's gRPC framing; no tonic) for the
//! components that answer gRPC methods other than OTLP's: the `jaeger` receiver's
//! `jaeger.api_v2.CollectorService/PostSpans`, `healthcheckv2`'s `grpc.health.v1.Health/Check`.
//! Shared here, below the component crates, so that none writes its own accept loop.
//!
//! The server reads each request body up to a limit (`RESOURCE_EXHAUSTED` beyond it), takes
//! the one framed message out of it (`INVALID_ARGUMENT` for broken framing), inflates it when
//! it is compressed with `grpc-encoding` `gzip`, `deflate` or `zstd` (`UNIMPLEMENTED` for
//! others), and hands the message to the handler with the method path and the headers; the
//! handler's [`Answer`] becomes the response (the message framed, then the status trailers;
//! an error is a trailers-only response). Bounded: at most [`MAX_CONNECTIONS`] connections of
//! [`MAX_STREAMS`] streams each.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use http_body_util::{BodyExt as _, Limited};
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use otlp_transport::compression::{Compression, decompress};
use otlp_transport::grpc_wire::{
    GRPC_CONTENT_TYPE, GRPC_ENCODING, GRPC_MESSAGE, GRPC_STATUS, GrpcCode, encode_frame,
    parse_unary_body, percent_encode_message,
};
use otlp_transport::server::ReplyBody;

use crate::listening::Listening;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Streams per connection.
pub const MAX_STREAMS: u32 = 100;

/// One unary call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method path (`/package.Service/Method`).
    pub path: String,
    /// The request headers (metadata).
    pub headers: HeaderMap,
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The request message, unframed and inflated (empty for an empty body).
    pub message: Bytes,
}

/// The handler's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub code: GrpcCode,
    /// `grpc-message`, for errors.
    pub message: String,
    /// The response message (encoded protobuf), for `OK`.
    pub body: Vec<u8>,
}

impl Answer {
    /// `OK` with a response message.
    pub fn ok(body: Vec<u8>) -> Answer {
        Answer {
            code: GrpcCode::Ok,
            message: String::new(),
            body,
        }
    }

    /// An error status.
    pub fn error(code: GrpcCode, message: impl Into<String>) -> Answer {
        Answer {
            code,
            message: message.into(),
            body: Vec::new(),
        }
    }
}

/// A boxed answer future.
pub type AnswerFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// A call handler.
pub type Handler = Arc<dyn Fn(Call) -> AnswerFuture + Send + Sync>;

fn response(answer: Answer) -> http::Response<ReplyBody> {
    let mut trailers = HeaderMap::new();
    trailers.insert(GRPC_STATUS, HeaderValue::from(answer.code as i32));
    if !answer.message.is_empty()
        && let Ok(value) = HeaderValue::from_str(&percent_encode_message(&answer.message))
    {
        trailers.insert(GRPC_MESSAGE, value);
    }
    let mut out = if answer.code == GrpcCode::Ok {
        http::Response::new(ReplyBody::new(
            encode_frame(&answer.body, false),
            Some(trailers),
        ))
    } else {
        // Trailers-only: the status in the headers.
        let mut r = http::Response::new(ReplyBody::new(Bytes::new(), None));
        r.headers_mut().extend(trailers);
        r
    };
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(GRPC_CONTENT_TYPE),
    );
    out
}

async fn call(
    handler: Handler,
    request: http::Request<hyper::body::Incoming>,
    peer: SocketAddr,
    max_message: usize,
) -> Answer {
    let (parts, body) = request.into_parts();
    let limit = max_message.saturating_add(5);
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Answer::error(
                GrpcCode::ResourceExhausted,
                format!("the request message is larger than {max_message} bytes"),
            );
        }
        Err(error) => return Answer::error(GrpcCode::Internal, error.to_string()),
    };
    let message = match parse_unary_body(&body) {
        Ok(None) => Bytes::new(),
        Ok(Some((frame, message))) if frame.compressed => {
            let encoding = parts
                .headers
                .get(GRPC_ENCODING)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("identity");
            let compression = match encoding {
                "gzip" => Compression::Gzip,
                "deflate" => Compression::Deflate,
                "zstd" => Compression::Zstd,
                other => {
                    return Answer::error(
                        GrpcCode::Unimplemented,
                        format!("grpc-encoding {other:?} is not supported"),
                    );
                }
            };
            match decompress(compression, message, max_message) {
                Ok(inflated) => Bytes::from(inflated),
                Err(error) => {
                    return Answer::error(GrpcCode::ResourceExhausted, error.to_string());
                }
            }
        }
        Ok(Some((_, message))) => body.slice_ref(message),
        Err(error) => return Answer::error(GrpcCode::InvalidArgument, error.to_string()),
    };
    handler(Call {
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        peer: Some(peer),
        message,
    })
    .await
}

/// The running server; stops on [`shutdown`](Server::shutdown) or when dropped.
pub struct Server(Listening);

impl Server {
    /// Binds `endpoint` (`host:port`) and serves `handler`, with request messages of at most
    /// `max_message` bytes (before and after inflation).
    pub async fn bind(endpoint: &str, handler: Handler, max_message: usize) -> io::Result<Server> {
        let serve =
            move |stream, peer| serve_connection(stream, peer, Arc::clone(&handler), max_message);
        Ok(Server(
            Listening::bind(endpoint, MAX_CONNECTIONS, serve).await?,
        ))
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(&mut self) {
        self.0.shutdown().await;
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Handler,
    max_message: usize,
) {
    let service = service_fn(move |request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, Infallible>(response(call(handler, request, peer, max_message).await)) }
    });
    let _ = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
