//! One scrape over HTTP/1.1: a GET with Prometheus's `Accept`, `Accept-Encoding: gzip` and
//! `X-Prometheus-Scrape-Timeout-Seconds`, the timeout as a deadline over connect, request and
//! body, and the body capped (compressed and uncompressed).

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::net::TcpStream;

/// Prometheus's `Accept` header (OpenMetrics preferred, then the text format).
pub const ACCEPT: &str =
    "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Why a scrape failed.
#[derive(Debug, Error)]
pub enum ScrapeError {
    /// No answer in time.
    #[error("scrape timed out after {0:?}")]
    Timeout(Duration),
    /// The TCP connection failed.
    #[error("connecting to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built (a bad path or parameter).
    #[error("building the request: {0}")]
    Request(#[from] http::Error),
    /// Not `200 OK`.
    #[error("server returned HTTP status {0}")]
    Status(http::StatusCode),
    /// The body is larger than the limit.
    #[error("body size limit exceeded: more than {0} bytes")]
    BodyTooLarge(u64),
    /// A `Content-Encoding` other than gzip and identity.
    #[error("unsupported Content-Encoding {0:?}")]
    Encoding(String),
    /// A gzip body that does not decompress.
    #[error("gzip: {0}")]
    Gzip(std::io::Error),
    /// The body does not parse.
    #[error("parsing the exposition: {0}")]
    Parse(#[from] super::parse::ParseError),
    /// The samples do not fit the limits.
    #[error(transparent)]
    Translate(#[from] super::translate::TranslateError),
}

/// A fetched body and its Content-Type.
#[derive(Debug)]
pub struct Fetched {
    /// Uncompressed body.
    pub body: Vec<u8>,
    /// The `Content-Type` (empty when absent).
    pub content_type: String,
}

/// GETs `http://address path_and_query` within `timeout`.
pub async fn fetch(
    address: &str,
    path_and_query: &str,
    timeout: Duration,
    limit: u64,
) -> Result<Fetched, ScrapeError> {
    match tokio::time::timeout(
        timeout,
        fetch_inner(address, path_and_query, timeout, limit),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(ScrapeError::Timeout(timeout)),
    }
}

async fn fetch_inner(
    address: &str,
    path_and_query: &str,
    timeout: Duration,
    limit: u64,
) -> Result<Fetched, ScrapeError> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|source| ScrapeError::Connect {
            address: address.to_string(),
            source,
        })?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = http::Request::get(path_and_query)
        .header(http::header::HOST, address)
        .header(http::header::ACCEPT, ACCEPT)
        .header(http::header::ACCEPT_ENCODING, "gzip")
        .header(
            http::header::USER_AGENT,
            concat!("otlp-rs-prometheus-receiver/", env!("CARGO_PKG_VERSION")),
        )
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", timeout.as_secs_f64()),
        )
        .body(Empty::<Bytes>::new())?;
    let result = async {
        let response = sender.send_request(request).await?;
        if response.status() != http::StatusCode::OK {
            return Err(ScrapeError::Status(response.status()));
        }
        let header = |name: http::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let content_type = header(http::header::CONTENT_TYPE);
        let encoding = header(http::header::CONTENT_ENCODING).to_ascii_lowercase();
        let gzip = match encoding.trim() {
            "" | "identity" => false,
            "gzip" | "x-gzip" => true,
            other => return Err(ScrapeError::Encoding(other.to_string())),
        };
        let mut body = response.into_body();
        let mut raw: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame?;
            if let Ok(data) = frame.into_data() {
                if (raw.len() + data.len()) as u64 > limit {
                    return Err(ScrapeError::BodyTooLarge(limit));
                }
                raw.extend_from_slice(&data);
            }
        }
        let body = if gzip {
            let mut out = Vec::new();
            let decoder = flate2::read::GzDecoder::new(raw.as_slice());
            decoder
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(ScrapeError::Gzip)?;
            if out.len() as u64 > limit {
                return Err(ScrapeError::BodyTooLarge(limit));
            }
            out
        } else {
            raw
        };
        Ok(Fetched { body, content_type })
    }
    .await;
    driver.abort();
    result
}
