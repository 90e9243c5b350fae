//! The `fluentforward` receiver (alias `fluent_forward`, the name otelcol-contrib v0.160.0
//! gives it): logs over the [Fluent Forward protocol v1] from fluentd, fluent-bit and the
//! fluent-logger libraries, translated into OTLP log records as otelcol-contrib's receiver
//! translates them (the `protocol` module documents the mapping).
//!
//! [Fluent Forward protocol v1]: https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1
//!
//! # Keys and defaults (otelcol's)
//!
//! `endpoint` (`localhost:8006`): `host:port` for TCP — with a UDP socket on the same port
//! echoing heartbeats, as otelcol does — or `unix://path` (or a path starting with `/`) for a
//! Unix domain socket (removed at shutdown).
//!
//! # What is supported
//!
//! All four carrier modes — Message, Forward, PackedForward and CompressedPackedForward
//! (`compressed: gzip`, concatenated gzip members included) — several events per connection
//! and per read, `EventTime` (ext type 0) and integer timestamps, and the `chunk` option: the
//! receiver answers `{"ack": chunk}` **only after the pipeline accepted the event's records**
//! (otelcol acknowledges as soon as the event is queued). When the pipeline refuses an event
//! that asked for an ack, the connection is closed without the ack, so the sender resends; an
//! event without `chunk` that is refused is counted and dropped (the sender cannot be told).
//! Not supported, as in otelcol: TLS and the handshake phase (HELO/PING/PONG).
//!
//! # Bounds and bad input
//!
//! An event may take at most 16 MiB on the wire, its compressed entries may inflate to at most
//! 64 MiB, it may carry at most 1,048,576 records, values may nest 64 deep; at most 1,024
//! connections are served at once (more wait in the listen backlog); read buffers beyond
//! 256 KiB per connection share a budget of 256 MiB — a connection whose event would exceed it
//! is closed (logged; the sender retries), so partly received events hold at most
//! 256 MiB + 1,024 × 256 KiB. Input that breaks any of
//! these, or is not MessagePack, is cut short, or has the wrong types, is counted
//! (`otelcol_fluent_parse_failures_total`), logged, and its connection closed; the receiver
//! keeps serving everyone else.
//!
//! # Counting
//!
//! `otelcol_receiver_accepted_log_records_total` / `_refused_log_records_total` (transport
//! `http`, the label otelcol's receiver reports), and otelcol's own
//! `otelcol_fluent_opened_connections_total`, `_closed_connections_total`,
//! `_events_parsed_total`, `_parse_failures_total` and `_records_generated_total`.

mod config;
mod msgpack;
pub(crate) mod protocol;
mod server;

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tokio::net::{TcpListener, UdpSocket, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{DEFAULT_ENDPOINT, FluentForwardConfig};

use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::{ServiceStatus, Signal};

use config::Endpoint;
use protocol::Limits;
use server::{Listener, Shared};

/// The largest event accepted, as sent.
pub const MAX_EVENT_BYTES: usize = 16 << 20;
/// The most a compressed PackedForward event's entries may inflate to.
pub const MAX_DECOMPRESSED_BYTES: usize = 64 << 20;
/// The most records one event may carry.
pub const MAX_RECORDS_PER_EVENT: usize = 1 << 20;
/// The most connections served at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Read-buffer bytes all connections together may hold beyond their first 256 KiB each.
pub const MAX_BUFFERED_BYTES: usize = 256 << 20;

/// The running listeners.
struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The `fluentforward` receiver.
pub struct FluentForwardReceiver {
    id: ComponentId,
    config: FluentForwardConfig,
    next: NextConsumers,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    running: Mutex<Option<Running>>,
    bound: Mutex<Option<std::net::SocketAddr>>,
}

impl std::fmt::Debug for FluentForwardReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FluentForwardReceiver")
            .field("id", &self.id)
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl FluentForwardReceiver {
    /// Builds the receiver; nothing listens until [`Receiver::start`].
    pub fn new(ctx: ReceiverContext, config: FluentForwardConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(FluentForwardReceiver {
            id: ctx.id,
            config,
            next: ctx.next,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            running: Mutex::new(None),
            bound: Mutex::new(None),
        })
    }

    /// The TCP address listened on once started (useful with port 0).
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shared(&self, next: Arc<dyn otlp_pipeline::component::Consumer>) -> Shared {
        let id = self.id.as_str();
        let receiver = [("receiver", id), ("transport", "http")];
        let own = [("receiver", id)];
        let counter = |name: &str, help: &str, labels: &[(&str, &str)]| {
            self.metrics.counter(name, help, labels)
        };
        Shared {
            id: id.to_owned(),
            next,
            limits: Limits {
                max_decompressed_bytes: MAX_DECOMPRESSED_BYTES,
                max_records: MAX_RECORDS_PER_EVENT,
            },
            max_event_bytes: MAX_EVENT_BYTES,
            buffered: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            max_buffered: MAX_BUFFERED_BYTES,
            accepted: counter(
                "otelcol_receiver_accepted_log_records_total",
                "Number of log records successfully pushed into the pipeline. [alpha]",
                &receiver,
            ),
            refused: counter(
                "otelcol_receiver_refused_log_records_total",
                "Number of log records that could not be pushed into the pipeline. [alpha]",
                &receiver,
            ),
            opened: counter(
                "otelcol_fluent_opened_connections_total",
                "Number of connections opened to the fluentforward receiver",
                &own,
            ),
            closed: counter(
                "otelcol_fluent_closed_connections_total",
                "Number of connections closed to the fluentforward receiver",
                &own,
            ),
            events_parsed: counter(
                "otelcol_fluent_events_parsed_total",
                "Number of Fluent events parsed successfully",
                &own,
            ),
            parse_failures: counter(
                "otelcol_fluent_parse_failures_total",
                "Number of times Fluent messages failed to be decoded",
                &own,
            ),
            records_generated: counter(
                "otelcol_fluent_records_generated_total",
                "Number of log records generated from Fluent forward input",
                &own,
            ),
        }
    }
}

#[async_trait]
impl Receiver for FluentForwardReceiver {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let Some(next) = self.next.get(Signal::Logs) else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let (listener, udp) = match self.config.listen() {
            Endpoint::Tcp(address) => {
                let tcp = TcpListener::bind(&address)
                    .await
                    .map_err(|e| format!("cannot listen on {address}: {e}"))?;
                let local = tcp.local_addr()?;
                let udp = UdpSocket::bind(local)
                    .await
                    .map_err(|e| format!("cannot listen for heartbeats on UDP {local}: {e}"))?;
                *self.bound.lock().unwrap_or_else(PoisonError::into_inner) = Some(local);
                (Listener::Tcp(tcp), Some(udp))
            }
            Endpoint::Unix(path) => {
                let unix = UnixListener::bind(&path)
                    .map_err(|e| format!("cannot listen on unix://{}: {e}", path.display()))?;
                (Listener::Unix(unix, path), None)
            }
        };
        tracing::info!(receiver = %self.id, endpoint = %self.config.endpoint, "listening for Fluent Forward");
        let shared = Arc::new(self.shared(Arc::clone(next)));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(server::accept_loop(
            shared,
            listener,
            MAX_CONNECTIONS,
            stopped.clone(),
        ))];
        if let Some(udp) = udp {
            tasks.push(tokio::spawn(server::heartbeats(udp, stopped)));
        }
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Running { stop, tasks });
        self.status.receiver_started(&self.id);
        Ok(())
    }

    /// Stops accepting; each connection finishes the event in hand (by `deadline`).
    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let _ = running.stop.send(true);
        let mut late = false;
        for task in running.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                abort.abort();
                late = true;
            }
        }
        if let Endpoint::Unix(path) = self.config.listen() {
            let _ = std::fs::remove_file(path);
        }
        if late {
            return Err("the fluentforward receiver did not stop by the shutdown deadline".into());
        }
        Ok(())
    }
}

/// The `fluentforward` receiver factory (alias `fluent_forward`).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "fluentforward",
        SignalSet::EMPTY.with(Signal::Logs),
        |ctx, config: FluentForwardConfig| Ok(Box::new(FluentForwardReceiver::new(ctx, config)?)),
    )
    .with_aliases(&["fluent_forward"])
}

/// Decodes one complete Forward-protocol event into its OTLP request and the `chunk` to
/// acknowledge, exactly as a connection does (for benchmarks and tests).
#[doc(hidden)]
pub fn decode_event_for_bench(
    bytes: &[u8],
) -> Result<
    (
        otlp_proto::collector::logs::v1::ExportLogsServiceRequest,
        Option<String>,
    ),
    String,
> {
    let event = protocol::decode_event(
        bytes,
        Limits {
            max_decompressed_bytes: MAX_DECOMPRESSED_BYTES,
            max_records: MAX_RECORDS_PER_EVENT,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok((server::request(event.records), event.chunk))
}

#[cfg(test)]
mod tests;
