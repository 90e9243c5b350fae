//! A small async HTTP/1.1 server for the components whose pages read the query string or the
//! request headers, or take time to answer (the `zpages`, `pprof` and `healthcheckv2`
//! extensions, the `prometheus` exporter's scrape endpoint): [`HttpServer`](crate::telemetry::HttpServer)
//! hands its synchronous handler only the method and the path. Shared here, below the
//! component crates, so that none of them writes its own accept loop.
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections (more are closed at once), request heads
//! within [`HEADER_TIMEOUT`], request bodies never read — unless the server is bound with
//! [`Server::bind_with_body`] (the `zipkin` receiver), which reads each body up to a limit
//! within [`BODY_TIMEOUT`] (a longer, late or broken one reaches the handler as
//! [`Request::body_error`], with the answer to give). Every
//! response gets the configured extra headers (otelcol's `response_headers`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::listening::Listening;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 64;

/// The time a client has to send a request head (otelcol's `read_header_timeout` default).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// The time a client has to send a request body, when bodies are read.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// What a handler sees of a request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The body (empty unless the server reads bodies, see [`Server::bind_with_body`]).
    pub body: Bytes,
    /// Why the body could not be read (too long, too late, broken), as the answer to give:
    /// `413`, `408` or `400`. `body` is then empty.
    pub body_error: Option<(StatusCode, String)>,
    /// The method.
    pub method: Method,
    /// The path.
    pub path: String,
    /// The query string (without `?`).
    pub query: String,
    /// The request headers.
    pub headers: http::HeaderMap,
}

impl Request {
    /// The first value of query parameter `key`, percent-decoded (`+` is a space).
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }

    /// `true` for GET and HEAD.
    pub fn is_get(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a query component (invalid escapes are kept as written; invalid UTF-8 is
/// replaced).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'+' {
            out.push(b' ');
        } else if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(b'%');
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query component (everything but unreserved characters).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// More headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// An answer with no extra headers.
    pub fn new(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// `200` with an HTML page.
    pub fn html(body: String) -> Response {
        Response::new(StatusCode::OK, "text/html; charset=utf-8", body)
    }

    /// A plain-text answer.
    pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// Go's `404 page not found`.
    pub fn not_found() -> Response {
        Response::text(StatusCode::NOT_FOUND, "404 page not found\n")
    }

    /// `405` for anything but GET/HEAD.
    pub fn method_not_allowed() -> Response {
        Response::text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n")
    }

    /// Adds a header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Response {
        self.headers.push((name, value));
        self
    }
}

/// A boxed response future.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A request handler.
pub type Handler = Arc<dyn Fn(Request) -> ResponseFuture + Send + Sync>;

/// A handler from a synchronous function.
pub fn sync_handler(f: impl Fn(Request) -> Response + Send + Sync + 'static) -> Handler {
    Arc::new(move |request| {
        let response = f(request);
        Box::pin(async move { response })
    })
}

/// The running server; stops on [`shutdown`](Server::shutdown) or when dropped.
pub struct Server(Listening);

impl Server {
    /// Binds `endpoint` (`host:port`) and serves `handler`, adding `extra` headers to every
    /// response.
    pub async fn bind(
        endpoint: &str,
        handler: Handler,
        extra: Vec<(HeaderName, HeaderValue)>,
    ) -> io::Result<Server> {
        Server::bind_with_body(endpoint, handler, extra, 0).await
    }

    /// [`bind`](Server::bind), reading each request's body (up to `max_body` bytes; see
    /// [`Request::body_error`] for a longer one) into [`Request::body`]. `max_body` 0 reads
    /// none.
    pub async fn bind_with_body(
        endpoint: &str,
        handler: Handler,
        extra: Vec<(HeaderName, HeaderValue)>,
        max_body: usize,
    ) -> io::Result<Server> {
        let extra = Arc::new(extra);
        let serve = move |stream, peer| {
            serve_connection(
                stream,
                peer,
                Arc::clone(&handler),
                Arc::clone(&extra),
                max_body,
            )
        };
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

fn into_response(
    response: Response,
    extra: &[(HeaderName, HeaderValue)],
) -> http::Response<Full<Bytes>> {
    let mut out = http::Response::new(Full::new(response.body));
    *out.status_mut() = response.status;
    let headers = out.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(response.content_type),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for (name, value) in response.headers.into_iter().chain(extra.iter().cloned()) {
        headers.insert(name, value);
    }
    out
}

/// Reads a body of at most `max_body` bytes; `Err` is the answer to give instead.
async fn read_body(
    body: hyper::body::Incoming,
    max_body: usize,
) -> Result<Bytes, (StatusCode, String)> {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(body, max_body);
    match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {max_body} bytes"),
        )),
        Ok(Err(error)) => Err((
            StatusCode::BAD_REQUEST,
            format!("reading the request body: {error}"),
        )),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            "the request body did not arrive in time".to_owned(),
        )),
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Handler,
    extra: Arc<Vec<(HeaderName, HeaderValue)>>,
    max_body: usize,
) {
    let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let (parts, body) = request.into_parts();
        let handler = Arc::clone(&handler);
        let extra = Arc::clone(&extra);
        async move {
            let (body, body_error) = if max_body == 0 {
                (Bytes::new(), None)
            } else {
                match read_body(body, max_body).await {
                    Ok(body) => (body, None),
                    Err(answer) => (Bytes::new(), Some(answer)),
                }
            };
            let request = Request {
                peer: Some(peer),
                body,
                body_error,
                method: parts.method,
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().unwrap_or("").to_owned(),
                headers: parts.headers,
            };
            Ok::<_, Infallible>(into_response(handler(request).await, &extra))
        }
    });
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let request = Request {
            peer: None,
            body: Bytes::new(),
            body_error: None,
            method: Method::GET,
            path: "/".into(),
            query: "zspanname=POST%20%2fv1%2ftraces&ztype=1&x=a+b&bad=%zz&e".into(),
            headers: http::HeaderMap::new(),
        };
        assert_eq!(
            request.param("zspanname").as_deref(),
            Some("POST /v1/traces")
        );
        assert_eq!(request.param("ztype").as_deref(), Some("1"));
        assert_eq!(request.param("x").as_deref(), Some("a b"));
        assert_eq!(request.param("bad").as_deref(), Some("%zz"));
        assert_eq!(request.param("e").as_deref(), Some(""));
        assert_eq!(request.param("missing"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
        let name = "a b/<é>&";
        assert_eq!(percent_decode(&percent_encode(name)), name);
    }
}
