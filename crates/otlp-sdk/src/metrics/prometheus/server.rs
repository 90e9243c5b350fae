//! The HTTP endpoint: `GET /metrics` on a listener of its own, with no async runtime.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use otlp_proto::metrics::v1::ResourceMetrics;

use otlp_model::prometheus::{TextOptions, encode_text};

/// The `Content-Type` of a scrape response.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Threads that serve connections (one connection each at a time).
const WORKERS: usize = 4;
/// Accepted connections waiting for a worker; beyond this a client gets 503.
const QUEUE: usize = 16;
/// The longest a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a response may take to be written.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 16 * 1024;
/// The most time spent answering 503 to one connection (writing, then draining).
const REJECT_TIMEOUT: Duration = Duration::from_millis(200);
/// How long the request is drained after a response, at most.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);
/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(25);

/// The metrics that a scrape encodes, collected when the scrape comes.
pub type MetricsSource = Arc<dyn Fn() -> Vec<ResourceMetrics> + Send + Sync>;

/// A Prometheus pull endpoint: serves `GET /metrics` (and `HEAD`) in the text format 0.0.4.
///
/// Its threads are its own (an accept loop, four workers and one that answers 503, created
/// by [`bind`]), so the
/// application needs no async runtime. Each scrape calls the source and encodes what it
/// returns with [`encode_text`]. One request per connection (`Connection: close`),
/// HTTP/1.0 or 1.1; other paths get 404, other methods 405, a malformed request 400, a
/// request head over 16 KiB 431, and when four requests are being served and sixteen more
/// wait, a further connection gets 503. A client has 5 s to send its request.
///
/// [`shutdown`](Self::shutdown), or dropping the server, stops the threads and closes the
/// listener; it returns within a fraction of a second even while clients are connected.
///
/// [`bind`]: Self::bind
pub struct PrometheusServer {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for PrometheusServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusServer")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl PrometheusServer {
    /// Listens on `addr` and starts serving (port 0 picks a free port; see
    /// [`local_addr`](Self::local_addr)). The specification's default is `localhost:9464`.
    pub fn bind(
        addr: SocketAddr,
        source: MetricsSource,
        options: TextOptions,
    ) -> io::Result<PrometheusServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(Handler { source, options });
        let (sender, receiver) = mpsc::sync_channel::<TcpStream>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));

        let mut server = PrometheusServer {
            local_addr,
            stop,
            threads: Vec::new(),
        };
        for i in 0..WORKERS {
            let (stop, receiver, handler) =
                (server.stop.clone(), receiver.clone(), handler.clone());
            let spawned = thread::Builder::new()
                .name(format!("prometheus-worker-{i}"))
                .spawn(move || worker(&stop, &receiver, &handler));
            // On error `server` is dropped, which stops the threads already started.
            server.threads.push(spawned?);
        }
        let (reject_sender, reject_receiver) = mpsc::sync_channel::<TcpStream>(QUEUE);
        let reject_stop = server.stop.clone();
        let spawned = thread::Builder::new()
            .name("prometheus-reject".to_owned())
            .spawn(move || reject_loop(&reject_stop, &reject_receiver));
        server.threads.push(spawned?);
        let accept_stop = server.stop.clone();
        let spawned = thread::Builder::new()
            .name("prometheus-accept".to_owned())
            .spawn(move || accept_loop(&listener, &accept_stop, &sender, &reject_sender));
        server.threads.push(spawned?);
        Ok(server)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, ends the connections being served and waits for the threads.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::warn!("a Prometheus server thread panicked");
            }
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Accepts until stopped; hands connections to the workers, or to the rejecting thread
/// (503) when the workers are all busy and their queue is full, or closes them when that
/// thread's queue is full too.
fn accept_loop(
    listener: &TcpListener,
    stop: &AtomicBool,
    workers: &SyncSender<TcpStream>,
    rejects: &SyncSender<TcpStream>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                // Accepted sockets may inherit non-blocking mode (BSDs).
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                match workers.try_send(stream) {
                    Ok(()) => {}
                    Err(TrySendError::Full(stream)) => {
                        tracing::debug!("Prometheus server busy: 503");
                        // Full too: the stream is dropped, which closes it.
                        let _ = rejects.try_send(stream);
                    }
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // E.g. out of file descriptors: back off rather than spin.
                tracing::warn!(error = %e, "Prometheus server: accept failed");
                thread::sleep(POLL);
            }
        }
    }
}

/// Answers 503 to the connections the workers have no room for.
fn reject_loop(stop: &AtomicBool, receiver: &Receiver<TcpStream>) {
    let busy = response(
        503,
        "Service Unavailable",
        &[("Retry-After", "1")],
        b"busy\n",
        true,
    );
    while !stop.load(Ordering::SeqCst) {
        match receiver.recv_timeout(POLL) {
            Ok(mut stream) => {
                let _ = stream.set_read_timeout(Some(POLL));
                let _ = stream.set_write_timeout(Some(POLL));
                if write_all(&mut stream, &busy, stop, REJECT_TIMEOUT).is_ok() {
                    let _ = stream.shutdown(Shutdown::Write);
                    drain(&mut stream, stop, REJECT_TIMEOUT);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn worker(stop: &AtomicBool, receiver: &Mutex<Receiver<TcpStream>>, handler: &Handler) {
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv_timeout(POLL),
            Err(_) => return,
        };
        match next {
            Ok(stream) => {
                let _ = handler.serve(stream, stop);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

struct Handler {
    source: MetricsSource,
    options: TextOptions,
}

/// Why reading a request head ended without one.
enum ReadError {
    TooLarge,
    /// Timed out, closed early, stopped, or an I/O error: no response.
    Gone,
}

impl Handler {
    fn serve(&self, mut stream: TcpStream, stop: &AtomicBool) -> io::Result<()> {
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(POLL))?;
        let reply = match read_head(&mut stream, stop) {
            Ok(head) => self.respond(&head),
            Err(ReadError::TooLarge) => response(
                431,
                "Request Header Fields Too Large",
                &[],
                b"request head too large\n",
                true,
            ),
            Err(ReadError::Gone) => return Ok(()),
        };
        write_all(&mut stream, &reply, stop, WRITE_TIMEOUT)?;
        // Half-close and read what the client still sends, so that closing with unread data
        // does not reset the connection before the client has read the response.
        let _ = stream.shutdown(Shutdown::Write);
        drain(&mut stream, stop, DRAIN_TIMEOUT);
        Ok(())
    }

    fn respond(&self, head: &[u8]) -> Vec<u8> {
        let Some(request) = parse_request_line(head) else {
            return response(400, "Bad Request", &[], b"malformed request\n", true);
        };
        if !request.version.starts_with("HTTP/1.") {
            return response(
                505,
                "HTTP Version Not Supported",
                &[],
                b"use HTTP/1.1\n",
                true,
            );
        }
        if request.path != "/metrics" {
            return response(404, "Not Found", &[], b"not found: try /metrics\n", true);
        }
        let with_body = match request.method {
            "GET" => true,
            "HEAD" => false,
            _ => {
                return response(
                    405,
                    "Method Not Allowed",
                    &[("Allow", "GET, HEAD")],
                    b"method not allowed\n",
                    true,
                );
            }
        };
        let text = catch_unwind(AssertUnwindSafe(|| {
            let metrics = (self.source)();
            encode_text(&metrics, &self.options)
        }));
        match text {
            Ok(text) => response(
                200,
                "OK",
                &[("Content-Type", CONTENT_TYPE)],
                text.as_bytes(),
                with_body,
            ),
            Err(_) => {
                tracing::warn!("Prometheus server: the metrics source panicked");
                response(
                    500,
                    "Internal Server Error",
                    &[],
                    b"collection failed\n",
                    with_body,
                )
            }
        }
    }
}

/// Reads up to the end of the request head (`\r\n\r\n`, or `\n\n`).
fn read_head(stream: &mut TcpStream, stop: &AtomicBool) -> Result<Vec<u8>, ReadError> {
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    loop {
        if let Some(end) = head_end(&head) {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
        if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
            return Err(ReadError::Gone);
        }
        match stream.read(&mut buf) {
            Ok(0) => return Err(ReadError::Gone),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if is_retry(&e) => {}
            Err(_) => return Err(ReadError::Gone),
        }
    }
}

/// The length of the head (through its blank line), if it is complete.
fn head_end(data: &[u8]) -> Option<usize> {
    let limit = data.len().min(MAX_HEAD + 4);
    let data = &data[..limit];
    let crlf = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = data.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Writes everything, giving up at the write deadline or when the server stops.
fn write_all(
    stream: &mut TcpStream,
    mut data: &[u8],
    stop: &AtomicBool,
    timeout: Duration,
) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    while !data.is_empty() {
        if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match stream.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if is_retry(&e) => {}
            Err(e) => return Err(e),
        }
    }
    stream.flush()
}

/// Reads and discards what the client still sends, for at most `timeout` or 256 KiB.
fn drain(stream: &mut TcpStream, stop: &AtomicBool, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut left = 256 * 1024usize;
    let mut buf = [0u8; 4096];
    while left > 0 && Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => left = left.saturating_sub(n),
            Err(e) if is_retry(&e) => {}
            Err(_) => return,
        }
    }
}

struct RequestLine<'a> {
    method: &'a str,
    path: &'a str,
    version: &'a str,
}

/// `METHOD SP target SP HTTP/x.y`; the target's query is ignored, an absolute-form target
/// is reduced to its path.
fn parse_request_line(head: &[u8]) -> Option<RequestLine<'_>> {
    let line_end = head.iter().position(|b| *b == b'\n')?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if parts.next().is_some()
        || !token(method)
        || target.is_empty()
        || !version.starts_with("HTTP/")
    {
        return None;
    }
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    if !target.starts_with('/') && target != "*" {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    Some(RequestLine {
        method,
        path,
        version,
    })
}

/// A complete response with `Content-Length` and `Connection: close`; without the body for
/// `HEAD` (the length is still that of the body).
fn response(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    with_body: bool,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    let has_type = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if !has_type {
        out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    if with_body {
        out.extend_from_slice(body);
    }
    out
}
