//! The scrape endpoint: `GET /metrics` over HTTP/1.1 (hyper), with content negotiation and
//! gzip.
//!
//! `GET` (and `HEAD`) on `/metrics` renders a scrape; any other path is 404, another method
//! on `/metrics` 405. OpenMetrics 1.0 is served when `enable_open_metrics` is set and the
//! `Accept` header lists `application/openmetrics-text` (any version, q > 0) ranked at least
//! as high as `text/plain`; otherwise text 0.0.4. The body is gzipped when `Accept-Encoding`
//! lists `gzip`. At most [`MAX_CONNECTIONS`] connections are served at once.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use otlp_pipeline::error::BoxError;
use otlp_pipeline::telemetry::resolve_endpoint;
use otlp_transport::compression::{Compression, compress};

use super::Shared;
use super::render::Format;

/// Connections served at once (more are closed at once).
const MAX_CONNECTIONS: usize = 64;
/// The time a client has to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServerError {
    /// The endpoint did not resolve.
    #[error("prometheus exporter: cannot resolve {endpoint}: {source}")]
    Resolve {
        endpoint: String,
        source: std::io::Error,
    },
    /// Binding failed.
    #[error("prometheus exporter: cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The running endpoint; stops on [`shutdown`](Server::shutdown) or when dropped.
pub(crate) struct Server {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `endpoint` (`host:port`) and serves scrapes of `shared`.
    pub(crate) async fn bind(endpoint: &str, shared: Arc<Shared>) -> Result<Server, BoxError> {
        let addr = resolve_endpoint(endpoint)
            .await
            .map_err(|source| ServerError::Resolve {
                endpoint: endpoint.to_owned(),
                source,
            })?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
        Ok(Server {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address bound.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and closes every connection.
    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        drop(stream);
                        continue;
                    }
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let shared = Arc::clone(&shared);
                            async move {
                                // Rendering holds a std mutex and may take a while: off the
                                // reactor.
                                let response = tokio::task::spawn_blocking(move || respond(&shared, &request_head(&request)))
                                    .await
                                    .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n"));
                                Ok::<_, Infallible>(response)
                            }
                        });
                        let _ = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "prometheus exporter: accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.abort_all();
}

/// What the handler reads of a request.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) accept: String,
    pub(crate) accept_encoding: String,
}

fn request_head<B>(request: &http::Request<B>) -> Head {
    let header_text = |name: header::HeaderName| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    Head {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        accept: header_text(header::ACCEPT),
        accept_encoding: header_text(header::ACCEPT_ENCODING),
    }
}

fn plain(status: StatusCode, body: &'static str) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The answer to one request.
pub(crate) fn respond(shared: &Shared, head: &Head) -> http::Response<Full<Bytes>> {
    if head.path != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if head.method != Method::GET && head.method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let format = negotiate(&head.accept, shared.open_metrics);
    let text = shared.render(format);
    let gzip = accepts_gzip(&head.accept_encoding) && Compression::Gzip.is_available();
    let (body, encoded) = if gzip {
        match compress(Compression::Gzip, text.as_bytes()) {
            Ok(bytes) => (Bytes::from(bytes), true),
            Err(error) => {
                tracing::debug!(%error, "prometheus exporter: gzip failed, sending plain");
                (Bytes::from(text), false)
            }
        }
    } else {
        (Bytes::from(text), false)
    };
    let mut response = http::Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if encoded {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// The media ranges of an `Accept` header: (type, q).
fn media_ranges(accept: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    accept.split(',').filter_map(|range| {
        let mut parts = range.split(';');
        let media = parts.next()?.trim().to_ascii_lowercase();
        if media.is_empty() {
            return None;
        }
        let mut q = 1.0f32;
        for parameter in parts {
            if let Some((k, v)) = parameter.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        Some((media, q))
    })
}

/// OpenMetrics when it is enabled and the scraper ranks it at least as high as the text
/// format; else the text format.
pub(crate) fn negotiate(accept: &str, open_metrics: bool) -> Format {
    if !open_metrics {
        return Format::Text;
    }
    let mut om = 0.0f32;
    let mut text = 0.0f32;
    for (media, q) in media_ranges(accept) {
        match media.as_str() {
            "application/openmetrics-text" => om = om.max(q),
            "text/plain" => text = text.max(q),
            _ => {}
        }
    }
    if om > 0.0 && om >= text {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// Whether `Accept-Encoding` lists gzip with q > 0.
pub(crate) fn accepts_gzip(accept_encoding: &str) -> bool {
    media_ranges(accept_encoding).any(|(coding, q)| coding == "gzip" && q > 0.0)
}
