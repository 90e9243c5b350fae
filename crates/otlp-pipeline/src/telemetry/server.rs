//! A small HTTP/1 server (self-metrics and `health_check`), and endpoint resolution.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::Metrics;

/// Checks the shape of a `host:port` endpoint as otelcol writes them (`localhost:4317`,
/// `0.0.0.0:8888`, `[::1]:13133`, `:4318` for every interface).
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let Some((host, port)) = endpoint.rsplit_once(':') else {
        return Err(format!("\"{endpoint}\" is not host:port"));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("\"{endpoint}\": invalid port \"{port}\""));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(format!(
            "\"{endpoint}\": write IPv6 addresses in brackets ([::1]:4317)"
        ));
    }
    Ok(())
}

/// Resolves a `host:port` endpoint to the address to bind: `:port` means every IPv4
/// interface (as Go's `net.Listen` reads it); a name resolving to several addresses binds the
/// first IPv4 one (`localhost` → `127.0.0.1`), as otelcol does.
pub async fn resolve_endpoint(endpoint: &str) -> io::Result<SocketAddr> {
    check_endpoint(endpoint).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let text = if endpoint.starts_with(':') {
        format!("0.0.0.0{endpoint}")
    } else {
        endpoint.to_owned()
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&text).await?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("\"{endpoint}\" resolves to no address"),
            )
        })
}

/// What a [`HttpServer`] handler answers.
#[derive(Debug, Clone)]
pub struct SimpleResponse {
    /// The status code.
    pub status: StatusCode,
    /// The `content-type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl SimpleResponse {
    /// A response with this status, content type and body.
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> SimpleResponse {
        SimpleResponse {
            status,
            content_type,
            body: body.into(),
        }
    }

    /// Go's `404 page not found`.
    pub fn not_found() -> SimpleResponse {
        SimpleResponse::new(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n",
        )
    }

    fn into_response(self) -> http::Response<Full<Bytes>> {
        let mut response = http::Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(self.content_type),
        );
        response
    }
}

/// A request handler: the method and the path to the response.
pub type Handler = Arc<dyn Fn(&Method, &str) -> SimpleResponse + Send + Sync>;

/// An HTTP/1.1 server answering every request with a handler of the method and the path.
/// Bodies are never read. Stops on [`shutdown`](HttpServer::shutdown) or when dropped.
pub struct HttpServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `endpoint` (`host:port`) and serves `handler` until stopped.
    pub async fn bind(endpoint: &str, handler: Handler) -> io::Result<HttpServer> {
        let addr = resolve_endpoint(endpoint).await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, handler, stop_rx));
        Ok(HttpServer {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address bound (handy with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and closes every connection.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, handler: Handler, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let handler = Arc::clone(&handler);
                    connections.spawn(async move {
                        let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                            let response = handler(request.method(), request.uri().path()).into_response();
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.abort_all();
}

/// Serves `GET /metrics` (Prometheus text format) for a [`Metrics`] registry: otelcol's
/// `service.telemetry.metrics` endpoint.
///
/// ```no_run
/// # async fn run(validated: otlp_pipeline::ValidatedConfig) -> std::io::Result<()> {
/// use otlp_pipeline::telemetry::{Metrics, MetricsServer};
/// let metrics = Metrics::new();
/// if let Some(server) = MetricsServer::from_config(validated.telemetry(), metrics.clone()).await? {
///     println!("self-metrics on http://{}/metrics", server.local_addr());
/// }
/// # Ok(()) }
/// ```
pub struct MetricsServer {
    server: HttpServer,
}

impl MetricsServer {
    /// Binds `address` (`host:port`; port 0 picks a free port) and serves `metrics`.
    pub async fn start(address: &str, metrics: Arc<Metrics>) -> io::Result<MetricsServer> {
        let handler: Handler = Arc::new(move |method, path| {
            if path != "/metrics" {
                return SimpleResponse::not_found();
            }
            if method != Method::GET && method != Method::HEAD {
                return SimpleResponse::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "text/plain; charset=utf-8",
                    "use GET\n",
                );
            }
            SimpleResponse::new(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics.render(),
            )
        });
        Ok(MetricsServer {
            server: HttpServer::bind(address, handler).await?,
        })
    }

    /// Serves `metrics` where `service.telemetry.metrics` says (`address`, or the Prometheus
    /// pull reader's host and port, default `localhost:8888`); `None` with `level: none`.
    pub async fn from_config(
        telemetry: &crate::config::TelemetryConfig,
        metrics: Arc<Metrics>,
    ) -> io::Result<Option<MetricsServer>> {
        match telemetry.metrics.effective_address() {
            Some(address) => MetricsServer::start(address, metrics).await.map(Some),
            None => Ok(None),
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stops serving.
    pub async fn shutdown(mut self) {
        self.server.shutdown().await;
    }
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("local_addr", &self.local_addr())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("localhost:4317").is_ok());
        assert!(check_endpoint(":4318").is_ok());
        assert!(check_endpoint("[::1]:13133").is_ok());
        assert!(check_endpoint("localhost").is_err());
        assert!(check_endpoint("::1:80").is_err());
        assert!(check_endpoint("host:http").is_err());
    }

    #[tokio::test]
    async fn resolves_localhost_to_ipv4() {
        let addr = resolve_endpoint("localhost:0").await.expect("resolve");
        assert!(addr.ip().is_loopback());
    }
}
