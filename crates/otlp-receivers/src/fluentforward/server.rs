//! The listeners: the accept loop (TCP or a Unix socket) with its connection cap, one task per
//! connection framing and decoding events and handing them to the pipeline, and the UDP
//! heartbeat echo.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::resource::v1::Resource;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket, UnixListener};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use otlp_pipeline::component::Consumer;
use otlp_pipeline::data::{ClientInfo, Context, Telemetry};
use otlp_pipeline::telemetry::Counter;

use super::msgpack::{MsgpackError, Scan, Scanner};
use super::protocol::{self, EventError, Limits};

/// Bytes read at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Read-buffer capacity a connection may hold outside the shared budget.
pub(crate) const FREE_PER_CONNECTION: usize = 256 * 1024;

/// The read-buffer capacity a connection holds from the shared budget, given back on drop.
struct Budget<'a> {
    total: &'a AtomicUsize,
    max: usize,
    held: usize,
}

impl Budget<'_> {
    /// Accounts for a buffer of `capacity`; `false` when the budget cannot cover it.
    fn cover(&mut self, capacity: usize) -> bool {
        let want = capacity.saturating_sub(FREE_PER_CONNECTION);
        if want > self.held {
            let more = want - self.held;
            let before = self.total.fetch_add(more, Ordering::SeqCst);
            if before.saturating_add(more) > self.max {
                self.total.fetch_sub(more, Ordering::SeqCst);
                return false;
            }
        } else {
            self.total.fetch_sub(self.held - want, Ordering::SeqCst);
        }
        self.held = want;
        true
    }
}

impl Drop for Budget<'_> {
    fn drop(&mut self) {
        self.total.fetch_sub(self.held, Ordering::SeqCst);
    }
}

/// What every connection of a receiver shares.
pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) next: Arc<dyn Consumer>,
    pub(crate) limits: Limits,
    /// The largest event, as sent (before decompression).
    pub(crate) max_event_bytes: usize,
    /// Read-buffer bytes beyond each connection's first [`FREE_PER_CONNECTION`], over all
    /// connections, and their cap.
    pub(crate) buffered: Arc<AtomicUsize>,
    pub(crate) max_buffered: usize,
    pub(crate) accepted: Counter,
    pub(crate) refused: Counter,
    pub(crate) opened: Counter,
    pub(crate) closed: Counter,
    pub(crate) events_parsed: Counter,
    pub(crate) parse_failures: Counter,
    pub(crate) records_generated: Counter,
}

/// Why a connection was closed.
#[derive(Debug, Error)]
pub(crate) enum ConnError {
    #[error("reading or writing the connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Forward protocol stream: {0}")]
    Msgpack(#[from] MsgpackError),
    #[error("cannot decode the event: {0}")]
    Event(#[from] EventError),
    #[error("an event larger than {0} bytes")]
    TooLarge(usize),
    #[error(
        "the receiver's read buffers are full ({0} bytes over all connections); closing so that the sender retries"
    )]
    Busy(usize),
    #[error("the connection closed in the middle of an event ({0} bytes buffered)")]
    CutShort(usize),
    #[error("the pipeline refused chunk {chunk:?}; closing so that the sender resends it: {error}")]
    Refused { chunk: String, error: String },
}

/// A bound listener.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, std::path::PathBuf),
}

impl Listener {
    async fn accept(&self) -> std::io::Result<Connection> {
        match self {
            Listener::Tcp(l) => {
                let (stream, peer) = l.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok(Connection::Tcp(stream, peer))
            }
            Listener::Unix(l, _) => {
                let (stream, _) = l.accept().await?;
                Ok(Connection::Unix(stream))
            }
        }
    }
}

enum Connection {
    Tcp(tokio::net::TcpStream, SocketAddr),
    Unix(tokio::net::UnixStream),
}

/// Accepts connections until `stop`, at most `max_connections` at once (more wait in the
/// kernel's backlog), then waits for the connections to finish what they hold.
pub(crate) async fn accept_loop(
    shared: Arc<Shared>,
    listener: Listener,
    max_connections: usize,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let connection = match accepted {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(receiver = %shared.id, %error, "accepting a Fluent Forward connection failed");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = stop.changed() => break,
                }
            }
        };
        shared.opened.add(1);
        let shared = Arc::clone(&shared);
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let (result, peer) = match connection {
                Connection::Tcp(stream, peer) => {
                    (serve(&shared, stream, Some(peer), stop).await, Some(peer))
                }
                Connection::Unix(stream) => (serve(&shared, stream, None, stop).await, None),
            };
            shared.closed.add(1);
            if let Err(error) = result {
                tracing::warn!(receiver = %shared.id, peer = ?peer, %error, "closing a Fluent Forward connection");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
    if let Listener::Unix(_, path) = &listener {
        let _ = std::fs::remove_file(path);
    }
}

/// Serves one connection: frames events, decodes each, hands its records to the pipeline
/// and, when the event asks (`chunk`), acknowledges it once the pipeline accepted it.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    mut stream: S,
    peer: Option<SocketAddr>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ConnError> {
    let context = Context::with_client(ClientInfo::new(peer));
    let mut buffer: Vec<u8> = Vec::new();
    let mut budget = Budget {
        total: &shared.buffered,
        max: shared.max_buffered,
        held: 0,
    };
    let mut scanner = Scanner::default();
    loop {
        loop {
            let scan = scanner.advance(&buffer).inspect_err(|_| {
                shared.parse_failures.add(1);
            })?;
            match scan {
                Scan::Complete(end) => {
                    let records = decode(shared, buffer.get(..end).unwrap_or_default())?;
                    buffer.drain(..end);
                    // A large event's buffer goes back to the shared budget once it is done.
                    if buffer.capacity() > FREE_PER_CONNECTION && buffer.len() < READ_CHUNK {
                        buffer.shrink_to(READ_CHUNK);
                        budget.cover(buffer.capacity());
                    }
                    deliver(shared, &mut stream, &context, records).await?;
                }
                Scan::NeedMore(want) => {
                    if want > shared.max_event_bytes || buffer.len() > shared.max_event_bytes {
                        shared.parse_failures.add(1);
                        return Err(ConnError::TooLarge(shared.max_event_bytes));
                    }
                    break;
                }
            }
        }
        if buffer.capacity() - buffer.len() < READ_CHUNK / 4 {
            buffer.reserve(READ_CHUNK);
            if !budget.cover(buffer.capacity()) {
                return Err(ConnError::Busy(shared.max_buffered));
            }
        }
        let read = tokio::select! {
            read = stream.read_buf(&mut buffer) => read?,
            _ = stop.changed() => return Ok(()),
        };
        if read == 0 {
            if buffer.is_empty() {
                return Ok(());
            }
            shared.parse_failures.add(1);
            return Err(ConnError::CutShort(buffer.len()));
        }
    }
}

/// A decoded event: its records and the chunk to acknowledge.
struct Decoded {
    records: Vec<LogRecord>,
    chunk: Option<String>,
}

fn decode(shared: &Shared, bytes: &[u8]) -> Result<Decoded, ConnError> {
    match protocol::decode_event(bytes, shared.limits) {
        Ok(event) => {
            shared.events_parsed.add(1);
            shared.records_generated.add(event.records.len() as u64);
            tracing::trace!(receiver = %shared.id, mode = event.mode.map(protocol::Mode::name), records = event.records.len(), "a Fluent Forward event");
            Ok(Decoded {
                records: event.records,
                chunk: event.chunk,
            })
        }
        Err(error) => {
            shared.parse_failures.add(1);
            Err(error.into())
        }
    }
}

/// The OTLP request of one event's records: an empty resource and scope, as otelcol's.
pub(crate) fn request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource::default()),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope::default()),
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

async fn deliver<S: AsyncWrite + Unpin>(
    shared: &Shared,
    stream: &mut S,
    context: &Context,
    event: Decoded,
) -> Result<(), ConnError> {
    let count = event.records.len() as u64;
    if count > 0 {
        let data = Telemetry::new(request(event.records)).with_context(context.clone());
        if let Err(error) = shared.next.consume(data).await {
            shared.refused.add(count);
            match event.chunk {
                Some(chunk) => {
                    return Err(ConnError::Refused {
                        chunk,
                        error: error.to_string(),
                    });
                }
                None => {
                    tracing::warn!(receiver = %shared.id, records = count, %error, "the pipeline refused Fluent Forward records (the event asked for no ack; they are dropped)");
                    return Ok(());
                }
            }
        }
        shared.accepted.add(count);
    }
    if let Some(chunk) = event.chunk {
        stream.write_all(&ack(&chunk)).await?;
        stream.flush().await?;
    }
    Ok(())
}

/// `{"ack": chunk}` in MessagePack.
pub(crate) fn ack(chunk: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() + 10);
    out.extend_from_slice(&[0x81, 0xa3, b'a', b'c', b'k']);
    let len = chunk.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(n) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, n]);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
    out.extend_from_slice(chunk.as_bytes());
    out
}

/// Echoes heartbeats (the protocol's UDP 0x00 datagrams; otelcol echoes the first byte of
/// whatever arrives) until `stop`.
pub(crate) async fn heartbeats(socket: UdpSocket, mut stop: watch::Receiver<bool>) {
    let mut buffer = [0u8; 1];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = stop.changed() => return,
        };
        match received {
            Ok((n, from)) if n > 0 => {
                if let Err(error) = socket.send_to(&buffer[..n], from).await {
                    tracing::debug!(%from, %error, "failed to echo a Fluent Forward heartbeat");
                }
            }
            Ok(_) => {}
            // ICMP errors from earlier sends surface here; keep serving.
            Err(error) => tracing::debug!(%error, "receiving a Fluent Forward heartbeat"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_pipeline::testing::Probe;

    fn shared(max_buffered: usize, probe: Arc<Probe>) -> Shared {
        Shared {
            id: "fluentforward".into(),
            next: probe,
            limits: Limits {
                max_decompressed_bytes: 1 << 20,
                max_records: 1 << 20,
            },
            max_event_bytes: 16 << 20,
            buffered: Arc::new(AtomicUsize::new(0)),
            max_buffered,
            accepted: Counter::detached(),
            refused: Counter::detached(),
            opened: Counter::detached(),
            closed: Counter::detached(),
            events_parsed: Counter::detached(),
            parse_failures: Counter::detached(),
            records_generated: Counter::detached(),
        }
    }

    /// A PackedForward event of `entries` one-record entries.
    fn packed(entries: usize) -> Vec<u8> {
        let mut body = Vec::new();
        for _ in 0..entries {
            body.extend_from_slice(&[0x92, 0x01, 0x81, 0xa1, b'k', 0xa1, b'v']);
        }
        let mut out = vec![0x92, 0xa1, b't', 0xc6];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    async fn send(shared: &Shared, bytes: Vec<u8>) -> Result<(), ConnError> {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let (_stop_tx, stop) = watch::channel(false);
        let writer = tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
            let _ = client.shutdown().await;
            // Keep the client end open until the server is done reading.
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink).await;
        });
        let result = serve(shared, server, None, stop).await;
        let _ = writer.await;
        result
    }

    #[tokio::test]
    async fn large_events_draw_on_the_shared_budget_and_give_it_back() {
        let probe = Probe::new();
        // 100,000 entries: ~700 KB, beyond the free 256 KiB.
        let big = packed(100_000);
        let starved = shared(0, Arc::clone(&probe));
        assert!(matches!(
            send(&starved, big.clone()).await,
            Err(ConnError::Busy(0))
        ));
        assert_eq!(starved.buffered.load(Ordering::SeqCst), 0);
        let roomy = shared(8 << 20, Arc::clone(&probe));
        send(&roomy, big).await.unwrap();
        assert_eq!(probe.items(), 100_000);
        assert_eq!(roomy.buffered.load(Ordering::SeqCst), 0);
        // Small events never touch it.
        send(&starved, packed(10)).await.unwrap();
        assert_eq!(probe.items(), 100_010);
    }

    #[test]
    fn acks_are_msgpack_maps() {
        assert_eq!(ack("ab"), [0x81, 0xa3, b'a', b'c', b'k', 0xa2, b'a', b'b']);
        let long = "x".repeat(40);
        assert_eq!(&ack(&long)[5..7], &[0xd9, 40]);
        let longer = "y".repeat(300);
        assert_eq!(&ack(&longer)[5..8], &[0xda, 0x01, 0x2c]);
    }
}
