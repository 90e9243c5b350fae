//! A minimal blocking HTTP/1.1 GET for `${http://...}` references: one request, no redirects,
//! `Connection: close`, bounded in time (one deadline for connecting, sending and reading)
//! and in size (the head, each chunk line and the body).
//!
//! Configuration loading is synchronous and runs before any runtime exists, so this uses
//! `std::net` rather than the crate's async HTTP stack.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The most the status line and headers (and a chunked body's trailers) may take.
const MAX_HEAD: u64 = 64 * 1024;
/// The most one chunk-size line may take.
const MAX_CHUNK_LINE: u64 = 1024;

/// Why a GET gave no body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The URL is not `http://host[:port][/path]`.
    #[error("invalid URL: {0}")]
    InvalidUrl(&'static str),
    /// No address of the host could be connected to.
    #[error("cannot connect to {host}: {source}")]
    Connect { host: String, source: io::Error },
    /// The whole exchange took longer than the timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// Sending or reading failed.
    #[error("{0}")]
    Io(io::Error),
    /// The server answered with a status other than 2xx.
    #[error("the server answered {status} {reason} (expected a 2xx status)")]
    Status { status: u16, reason: String },
    /// The body (or the head) is over the limit.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The answer is not HTTP/1.x as understood here.
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
}

/// GETs `url` (`http://...`) and returns its body, failing after `timeout` or past `limit`
/// bytes of body.
pub(crate) fn get(url: &str, timeout: Duration, limit: u64) -> Result<Vec<u8>, HttpError> {
    let target = Target::parse(url)?;
    let deadline = Instant::now() + timeout;
    let stream = connect(&target, deadline, timeout)?;
    let mut stream = Timed {
        stream,
        deadline,
        timeout,
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: otlp-collector\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n",
        target.path, target.authority
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| io_error(e, timeout))?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader, timeout)?;
    if !(200..300).contains(&head.status) {
        return Err(HttpError::Status {
            status: head.status,
            reason: head.reason,
        });
    }
    if head.chunked {
        read_chunked(&mut reader, limit, timeout)
    } else if let Some(length) = head.length {
        if length > limit {
            return Err(HttpError::TooLarge { limit });
        }
        let mut body = Vec::new();
        (&mut reader)
            .take(length)
            .read_to_end(&mut body)
            .map_err(|e| io_error(e, timeout))?;
        if (body.len() as u64) < length {
            return Err(HttpError::Malformed(
                "the body is shorter than its Content-Length",
            ));
        }
        Ok(body)
    } else {
        read_bounded(&mut reader, limit, timeout)
    }
}

/// Where to connect and what to ask for.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// `host` or `[v6]`, without the port (for resolving).
    host: String,
    port: u16,
    /// The `Host` header: the authority as written.
    authority: String,
    /// The path and query, `/` at least.
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, HttpError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or(HttpError::InvalidUrl("it does not start with http://"))?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, ""),
        };
        let path = path.split('#').next().unwrap_or_default();
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        if authority.is_empty() {
            return Err(HttpError::InvalidUrl("it has no host"));
        }
        if authority.contains('@') {
            return Err(HttpError::InvalidUrl("user information is not supported"));
        }
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(HttpError::InvalidUrl(
                "the path holds spaces or control characters",
            ));
        }
        let (host, port) = split_port(authority)?;
        Ok(Target {
            host: host.to_owned(),
            port,
            authority: authority.to_owned(),
            path,
        })
    }
}

/// `host[:port]` or `[v6][:port]` → host (brackets removed) and port (80 by default).
fn split_port(authority: &str) -> Result<(&str, u16), HttpError> {
    let bad_port = HttpError::InvalidUrl("the port is not a number from 1 to 65535");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or(HttpError::InvalidUrl("an unclosed \"[\" in the host"))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(HttpError::InvalidUrl("text after the IPv6 address")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(HttpError::InvalidUrl("it has no host"));
    }
    let port = match port {
        None => 80,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(bad_port),
        },
    };
    Ok((host, port))
}

fn connect(target: &Target, deadline: Instant, timeout: Duration) -> Result<TcpStream, HttpError> {
    let failed = |source| HttpError::Connect {
        host: target.authority.clone(),
        source,
    };
    let addresses = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(failed)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for address in addresses {
        let left = remaining(deadline).ok_or(HttpError::Timeout(timeout))?;
        match TcpStream::connect_timeout(&address, left) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(failed(last))
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

fn io_error(error: io::Error, timeout: Duration) -> HttpError {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout(timeout),
        _ => HttpError::Io(error),
    }
}

/// A stream whose every read and write must finish before one deadline.
struct Timed {
    stream: TcpStream,
    deadline: Instant,
    timeout: Duration,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        remaining(self.deadline).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no answer within {:?}", self.timeout),
            )
        })
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The parts of the head this client uses.
#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    length: Option<u64>,
    chunked: bool,
}

/// Reads one line (up to `\n`) of at most `max` bytes, without its line ending; `None` at the
/// end of the stream.
fn read_line(
    reader: &mut impl BufRead,
    max: u64,
    timeout: Duration,
) -> Result<Option<String>, HttpError> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(max)
        .read_until(b'\n', &mut line)
        .map_err(|e| io_error(e, timeout))?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() as u64 >= max {
            HttpError::Malformed("a line of the head is too long")
        } else {
            HttpError::Malformed("the answer ends inside its head")
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// One line of the head, counted against what is left of the head's budget.
fn head_line(
    reader: &mut impl BufRead,
    budget: &mut u64,
    timeout: Duration,
) -> Result<String, HttpError> {
    let line = read_line(reader, *budget, timeout)?
        .ok_or(HttpError::Malformed("the answer ends inside its head"))?;
    *budget = budget.saturating_sub(line.len() as u64 + 2);
    if *budget == 0 {
        return Err(HttpError::Malformed("the head is larger than 64 KiB"));
    }
    Ok(line)
}

fn read_head(reader: &mut impl BufRead, timeout: Duration) -> Result<Head, HttpError> {
    let mut budget = MAX_HEAD;
    let status_line = head_line(reader, &mut budget, timeout)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed("the status line is not HTTP/1.x"));
    }
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or(HttpError::Malformed("the status line has no status code"))?;
    let reason = parts.next().unwrap_or_default().trim().to_owned();
    let mut head = Head {
        status,
        reason,
        length: None,
        chunked: false,
    };
    loop {
        let line = head_line(reader, &mut budget, timeout)?;
        if line.is_empty() {
            return Ok(head);
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Malformed("a header line has no \":\""));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse::<u64>()
                .map_err(|_| HttpError::Malformed("Content-Length is not a number"))?;
            if head.length.is_some_and(|known| known != length) {
                return Err(HttpError::Malformed("two different Content-Length headers"));
            }
            head.length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        }
    }
}

/// A body that ends when the server closes the connection.
fn read_bounded(
    reader: &mut impl Read,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    reader
        .by_ref()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| io_error(e, timeout))?;
    if body.len() as u64 > limit {
        return Err(HttpError::TooLarge { limit });
    }
    Ok(body)
}

/// A `Transfer-Encoding: chunked` body.
fn read_chunked(
    reader: &mut impl BufRead,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, MAX_CHUNK_LINE, timeout)?.ok_or(HttpError::Malformed(
            "the answer ends inside its chunked body",
        ))?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| HttpError::Malformed("a chunk size is not hexadecimal"))?;
        if size == 0 {
            break;
        }
        if body.len() as u64 + size > limit {
            return Err(HttpError::TooLarge { limit });
        }
        let before = body.len();
        reader
            .by_ref()
            .take(size)
            .read_to_end(&mut body)
            .map_err(|e| io_error(e, timeout))?;
        if ((body.len() - before) as u64) < size {
            return Err(HttpError::Malformed("the answer ends inside a chunk"));
        }
        match read_line(reader, MAX_CHUNK_LINE, timeout)? {
            Some(empty) if empty.is_empty() => {}
            _ => {
                return Err(HttpError::Malformed(
                    "a chunk is not followed by a line end",
                ));
            }
        }
    }
    // Trailers, up to the empty line (or the end of the stream), bounded like the head.
    let mut budget = MAX_HEAD;
    while let Some(line) = read_line(reader, budget, timeout)? {
        if line.is_empty() {
            break;
        }
        budget = budget.saturating_sub(line.len() as u64 + 2);
        if budget == 0 {
            return Err(HttpError::Malformed("the trailers are larger than 64 KiB"));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let target = Target::parse("http://h:8080/a/b?c=d#frag").unwrap();
        assert_eq!(
            target,
            Target {
                host: "h".into(),
                port: 8080,
                authority: "h:8080".into(),
                path: "/a/b?c=d".into(),
            }
        );
        let target = Target::parse("http://[::1]/x").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 80));
        assert_eq!(Target::parse("http://h").unwrap().path, "/");
        assert_eq!(Target::parse("http://h?q").unwrap().path, "/?q");
        for bad in [
            "https://h/",
            "http://",
            "http://u@h/",
            "http://h:0/",
            "http://h:x/",
            "http://[::1/",
            "http://h/a b",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chunked_bodies_are_decoded_and_bounded() {
        let timeout = Duration::from_secs(1);
        let wire = b"4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n";
        let body = read_chunked(&mut &wire[..], 100, timeout).unwrap();
        assert_eq!(body, b"abcdefg");
        assert!(matches!(
            read_chunked(&mut &wire[..], 5, timeout),
            Err(HttpError::TooLarge { limit: 5 })
        ));
        assert!(matches!(
            read_chunked(&mut &b"zz\r\n"[..], 100, timeout),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            read_chunked(&mut &b"9\r\nabc"[..], 100, timeout),
            Err(HttpError::Malformed(_))
        ));
    }

    #[test]
    fn heads() {
        let timeout = Duration::from_secs(1);
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
        let head = read_head(&mut &wire[..], timeout).unwrap();
        assert_eq!(
            (head.status, head.length, head.chunked),
            (200, Some(5), false)
        );
        let wire = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        let head = read_head(&mut &wire[..], timeout).unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.chunked),
            (404, "Not Found", true)
        );
        assert!(read_head(&mut &b"SSH-2.0\r\n\r\n"[..], timeout).is_err());
        assert!(read_head(&mut &b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"[..], timeout).is_err());
        assert!(read_head(&mut &b"HTTP/1.1 200 OK\r\n"[..], timeout).is_err());
    }
}
