//! The scrape endpoint: `GET /metrics` over HTTP/1.1, with content negotiation and
//! gzip.
//!
//! `GET` (and `HEAD`) on `/metrics` renders a scrape; any other path is 404, another method
//! on `/metrics` 405. OpenMetrics 1.0 is served when `enable_open_metrics` is set and the
//! `Accept` header lists `application/openmetrics-text` (any version, q > 0) ranked at least
//! as high as `text/plain`; otherwise text 0.0.4. The body is gzipped when `Accept-Encoding`
//! lists `gzip`. Served by otlp-pipeline's async HTTP server (bounded connections, header
//! timeout).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};

use otlp_pipeline::error::BoxError;
use otlp_pipeline::http_server::{Handler, Request, Response};
use otlp_transport::compression::{Compression, compress};

use super::Shared;
use super::render::Format;

/// The running endpoint (otlp-pipeline's async server).
pub(crate) type Server = otlp_pipeline::http_server::Server;

/// Binds `endpoint` (`host:port`) and serves scrapes of `shared`.
pub(crate) async fn bind(endpoint: &str, shared: Arc<Shared>) -> Result<Server, BoxError> {
    let handler: Handler = Arc::new(move |request| {
        let shared = Arc::clone(&shared);
        Box::pin(async move {
            // Rendering holds a std mutex and may take a while: off the reactor.
            tokio::task::spawn_blocking(move || respond(&shared, &request))
                .await
                .unwrap_or_else(|_| {
                    Response::text(StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n")
                })
        })
    });
    Server::bind(endpoint, handler, Vec::new())
        .await
        .map_err(|e| format!("prometheus exporter: {e}").into())
}

/// The values of header `name`, joined with commas.
fn header_text(request: &Request, name: header::HeaderName) -> String {
    request
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

/// The answer to one request.
pub(crate) fn respond(shared: &Shared, request: &Request) -> Response {
    if request.path != "/metrics" {
        return Response::not_found();
    }
    if request.method != Method::GET && request.method != Method::HEAD {
        return Response::method_not_allowed()
            .with_header(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    let format = negotiate(&header_text(request, header::ACCEPT), shared.open_metrics);
    let text = shared.render(format);
    let gzip = accepts_gzip(&header_text(request, header::ACCEPT_ENCODING))
        && Compression::Gzip.is_available();
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
    let mut response = Response::new(StatusCode::OK, format.content_type(), body)
        .with_header(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if encoded {
        response = response.with_header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
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
