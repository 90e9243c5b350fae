//! A minimal HTTP/1.1 `GET` over a Unix socket, for the Docker daemon's API: one request
//! with `Connection: close`, the response read to its end (at most 1 MiB), its status
//! checked and its body returned (`Content-Length` or chunked).

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The largest response accepted.
pub(crate) const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The socket could not be opened: no daemon there.
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// Writing the request or reading the response failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The response is larger than [`MAX_RESPONSE_BYTES`].
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The response is not HTTP/1.x as expected.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// The status is not 200.
    #[error("status {0}")]
    Status(u16),
}

/// `GET path` on the Unix socket at `socket`; the body of a 200 response.
#[cfg(unix)]
pub(crate) async fn get(socket: &Path, path: &str) -> Result<Vec<u8>, HttpError> {
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|source| HttpError::Connect {
            path: socket.display().to_string(),
            source,
        })?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: otlp-rs\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        if response.len() + n > MAX_RESPONSE_BYTES {
            return Err(HttpError::TooLarge);
        }
        response.extend_from_slice(&chunk[..n]);
    }
    parse_response(&response)
}

/// Without Unix sockets there is no Docker socket to ask.
#[cfg(not(unix))]
pub(crate) async fn get(socket: &Path, _path: &str) -> Result<Vec<u8>, HttpError> {
    Err(HttpError::Connect {
        path: socket.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::Unsupported, "no Unix sockets"),
    })
}

/// The body of a complete HTTP/1.x response, when its status is 200.
pub(crate) fn parse_response(response: &[u8]) -> Result<Vec<u8>, HttpError> {
    let end = find(response, b"\r\n\r\n").ok_or(HttpError::Malformed("no end of headers"))?;
    let head = std::str::from_utf8(&response[..end])
        .map_err(|_| HttpError::Malformed("headers are not text"))?;
    let body = &response[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(HttpError::Malformed("not an HTTP/1 status line"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Malformed("no status code"))?;
    if status != 200 {
        return Err(HttpError::Status(status));
    }
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse()
                    .map_err(|_| HttpError::Malformed("bad Content-Length"))?,
            );
        }
    }
    if chunked {
        return dechunk(body);
    }
    match length {
        Some(n) if n <= body.len() => Ok(body[..n].to_vec()),
        Some(_) => Err(HttpError::Malformed("body shorter than Content-Length")),
        None => Ok(body.to_vec()),
    }
}

/// The payload of a chunked body.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end =
            find(body, b"\r\n").ok_or(HttpError::Malformed("unterminated chunk size"))?;
        let size_text = std::str::from_utf8(&body[..line_end])
            .map_err(|_| HttpError::Malformed("chunk size is not text"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed("bad chunk size"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if size.checked_add(2).is_none_or(|needed| body.len() < needed) {
            return Err(HttpError::Malformed("truncated chunk"));
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
