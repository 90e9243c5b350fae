//! A tracing reverse proxy: every request is forwarded to an upstream base URL, bodies
//! streamed through unchanged in both directions.
//!
//! The incoming side is wrapped in [`HttpServerLayer`]: a SERVER span that continues the
//! caller's trace from its headers (or starts one), and `http.server.request.duration` /
//! `http.server.active_requests`. The upstream call goes through [`HttpClientLayer`]
//! (`crate::http::client`): a CLIENT span, `http.client.request.duration`, and the CLIENT
//! span's context injected into the forwarded request, so the upstream continues the trace.
//! An upstream that cannot be reached is answered with 502.
//!
//! [`HttpClientLayer`]: otlp_instrumentation::http::client::HttpClientLayer

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName};
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use otlp_instrumentation::http::server::HttpServerLayer;
use otlp_sdk::metrics::Meter;
use otlp_sdk::trace::Tracer;
use tokio::net::TcpListener;
use tower::{Layer, ServiceExt};
use tracing::Dispatch;

use crate::BoxError;
use crate::http::{Body, Client, Stop, client, serve, stream, text};

/// Where requests go: scheme, authority and an optional path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
}

impl Upstream {
    /// Parses a base URL such as `http://127.0.0.1:8080` or `http://users:8080/api`.
    ///
    /// # Errors
    ///
    /// Not a URL, not `http`, or without a host.
    pub fn parse(base: &str) -> Result<Self, BoxError> {
        let uri: Uri = base.parse()?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or("the upstream needs a scheme (http://)")?;
        if scheme != http::uri::Scheme::HTTP {
            return Err(format!("upstream scheme {scheme} is not supported (http only)").into());
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or("the upstream needs a host")?;
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(Self {
            scheme,
            authority,
            prefix,
        })
    }

    /// The upstream URI of a request for `uri` (its path and query appended to the prefix).
    ///
    /// # Errors
    ///
    /// The joined URI is invalid.
    pub fn target(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{path}", self.prefix))
            .build()
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

struct Proxy {
    upstream: Upstream,
    client: Client,
}

/// The proxy as a tower service (HTTP server instrumentation included), ready for
/// [`crate::http::serve`] or any hyper server.
pub fn service(
    upstream: Upstream,
    tracer: Tracer,
    meter: &Meter,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Send + 'static,
> + Clone
+ Send
+ 'static {
    let proxy = Arc::new(Proxy {
        upstream,
        client: client(tracer.clone(), meter),
    });
    HttpServerLayer::new(tracer, meter).layer(tower::service_fn(move |request| {
        forward(Arc::clone(&proxy), request)
    }))
}

/// Proxies connections accepted on `listener` to `upstream` until `stop` turns `true`.
pub async fn run(
    listener: TcpListener,
    upstream: Upstream,
    tracer: Tracer,
    meter: &Meter,
    dispatch: Dispatch,
    stop: Stop,
) {
    serve(listener, service(upstream, tracer, meter), dispatch, stop).await;
}

/// The hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1), plus those the
/// `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

async fn forward(
    proxy: Arc<Proxy>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = request.into_parts();
    parts.uri = match proxy.upstream.target(&parts.uri) {
        Ok(uri) => uri,
        Err(error) => return Ok(text(StatusCode::BAD_REQUEST, error.to_string())),
    };
    strip_hop_by_hop(&mut parts.headers);
    // The client sets `Host` from the upstream URI; the caller's goes along as X-Forwarded-Host.
    if let Some(host) = parts.headers.remove(header::HOST) {
        parts.headers.insert("x-forwarded-host", host);
    }
    parts.version = http::Version::HTTP_11;
    let upstream = Request::from_parts(parts, stream(body));
    match proxy.client.clone().oneshot(upstream).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Ok(Response::from_parts(parts, stream(body)))
        }
        Err(error) => {
            tracing::warn!(%error, upstream = %proxy.upstream, "upstream unavailable");
            Ok(text(StatusCode::BAD_GATEWAY, "upstream unavailable"))
        }
    }
}
