//! Listening, connection handling and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::auth::BearerAuth;
use super::clients::ClientTable;
use super::config::{EndpointConfig, ReceiverConfig};
use super::connection::{Clocks, Connection, TlsAcceptor};
use super::limits::{ConcurrencyLimit, Pace};
use super::{Admission, Endpoint, EndpointKind, ExportHandler, ReceiverError, Shared};

/// How [`RunningReceiver::shutdown`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownOutcome {
    /// Every in-flight request finished and every connection closed within the deadline.
    Drained,
    /// The deadline passed first; the remaining connections were closed abruptly.
    DeadlineExceeded,
}

/// A serving receiver. Dropping it stops serving at once; [`RunningReceiver::shutdown`] stops
/// gracefully.
#[derive(Debug)]
pub struct RunningReceiver {
    grpc_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    stop: watch::Sender<Option<Instant>>,
    listeners: JoinSet<ShutdownOutcome>,
    concurrency: ConcurrencyLimit,
    max_concurrent_requests: usize,
}

impl RunningReceiver {
    /// The address the gRPC endpoint listens on (the real port when configured with port 0).
    pub fn grpc_local_addr(&self) -> Option<SocketAddr> {
        self.grpc_addr
    }

    /// The address the HTTP endpoint listens on (the real port when configured with port 0).
    pub fn http_local_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Requests being handled now (holding a concurrency permit).
    pub fn in_flight_requests(&self) -> usize {
        self.max_concurrent_requests
            .saturating_sub(self.concurrency.available())
    }

    /// Stops accepting connections, lets in-flight requests finish (HTTP/2 `GOAWAY`, HTTP/1
    /// connections closed after their current response), and returns once every connection
    /// closed or `deadline` passed, whichever is first; connections still open then are
    /// dropped.
    pub async fn shutdown(mut self, deadline: Duration) -> ShutdownOutcome {
        let at = Instant::now() + deadline;
        self.stop.send_replace(Some(at));
        let mut outcome = ShutdownOutcome::Drained;
        while let Some(result) = self.listeners.join_next().await {
            if !matches!(result, Ok(ShutdownOutcome::Drained)) {
                outcome = ShutdownOutcome::DeadlineExceeded;
            }
        }
        outcome
    }
}

/// Binds the endpoints and spawns their accept loops.
pub(crate) async fn start(
    config: ReceiverConfig,
    handler: Arc<dyn ExportHandler>,
    admission: Option<Arc<dyn Admission>>,
) -> Result<RunningReceiver, ReceiverError> {
    validate(&config)?;
    let clients = ClientTable::new(
        config.connections_per_address(),
        config.requests_per_address(),
    );
    let concurrency = ConcurrencyLimit::new(
        config.max_concurrent_requests,
        Some(Arc::clone(&clients)),
        config.overload_retry_after,
    );
    let shared = Arc::new(Shared {
        handler,
        admission,
        auth: config.bearer_token.as_deref().map(BearerAuth::new),
        concurrency: concurrency.clone(),
        pace: Pace {
            timeout: config.body_timeout,
            min_rate: config.body_min_rate,
            grace: config.body_rate_grace,
        },
        include_metadata: config.include_metadata,
        cors: super::cors::CorsPolicy::compile(config.cors.as_ref())?,
    });
    let clocks = Clocks {
        first_request: config.handshake_timeout,
        idle: config.idle_timeout,
        max_age: config.max_connection_age,
        age_grace: config.max_connection_age_grace,
    };
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let (stop, _) = watch::channel(None);
    let mut listeners = JoinSet::new();
    let mut addrs = [None, None];
    let endpoints = [
        (EndpointKind::Grpc, config.grpc),
        (EndpointKind::Http, config.http),
    ];
    for (slot, (kind, endpoint)) in addrs.iter_mut().zip(endpoints) {
        let Some(EndpointConfig { addr, limits }) = endpoint else {
            continue;
        };
        let tls = tls_acceptor(&config, kind)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ReceiverError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ReceiverError::Bind { addr, source })?;
        *slot = Some(local);
        let endpoint = Arc::new(Endpoint {
            shared: Arc::clone(&shared),
            kind,
            limits,
        });
        let accept = AcceptLoop {
            listener,
            endpoint,
            tls,
            connections: Arc::clone(&connections),
            clients: Arc::clone(&clients),
            clocks,
            http: HttpSettings::from(&config),
        };
        listeners.spawn(accept.run(stop.subscribe()));
        tracing::info!(%local, ?kind, "OTLP receiver listening");
    }
    Ok(RunningReceiver {
        grpc_addr: addrs[0],
        http_addr: addrs[1],
        stop,
        listeners,
        concurrency,
        max_concurrent_requests: config.max_concurrent_requests,
    })
}

fn validate(config: &ReceiverConfig) -> Result<(), ReceiverError> {
    let error = |message: &str| Err(ReceiverError::Config(message.into()));
    if config.grpc.is_none() && config.http.is_none() {
        return error("no endpoint configured (set `grpc` or `http`)");
    }
    if config.grpc.is_some() && !cfg!(feature = "grpc") {
        return error("a gRPC endpoint needs the `grpc` feature");
    }
    if config.http.is_some() && !cfg!(feature = "http") {
        return error("an HTTP endpoint needs the `http` feature");
    }
    if config.tls.is_some() && !cfg!(feature = "tls") {
        return error("TLS needs the `tls` feature");
    }
    if config.max_concurrent_requests == 0 || config.max_connections == 0 {
        return error("max_concurrent_requests and max_connections must be at least 1");
    }
    if config.max_concurrent_requests_per_address == Some(0)
        || config.max_connections_per_address == Some(0)
        || config.max_concurrent_streams == 0
    {
        return error(
            "max_concurrent_requests_per_address, max_connections_per_address and max_concurrent_streams must be at least 1",
        );
    }
    if config.handshake_timeout.is_zero() || config.body_timeout.is_zero() {
        return error("handshake_timeout and body_timeout must be more than zero");
    }
    for endpoint in [&config.grpc, &config.http].into_iter().flatten() {
        if endpoint.limits.max_request_size == 0 || endpoint.limits.max_compressed_size == 0 {
            return error("size limits must be at least 1 byte");
        }
    }
    Ok(())
}

#[cfg(feature = "tls")]
fn tls_acceptor(
    config: &ReceiverConfig,
    kind: EndpointKind,
) -> Result<Option<TlsAcceptor>, ReceiverError> {
    let Some(tls) = &config.tls else {
        return Ok(None);
    };
    let alpn: &[&[u8]] = match kind {
        EndpointKind::Grpc => &[b"h2"],
        EndpointKind::Http => &[b"h2", b"http/1.1"],
    };
    Ok(Some(tokio_rustls::TlsAcceptor::from(
        super::tls::server_config(tls, alpn)?,
    )))
}

#[cfg(not(feature = "tls"))]
fn tls_acceptor(
    _config: &ReceiverConfig,
    _kind: EndpointKind,
) -> Result<Option<TlsAcceptor>, ReceiverError> {
    Ok(None)
}

/// The HTTP/1 and HTTP/2 settings of every connection.
#[derive(Debug, Clone, Copy)]
struct HttpSettings {
    header_read_timeout: Duration,
    max_concurrent_streams: u32,
    keepalive_time: Option<Duration>,
    keepalive_timeout: Duration,
    http1_keep_alive: bool,
}

impl HttpSettings {
    fn from(config: &ReceiverConfig) -> HttpSettings {
        HttpSettings {
            header_read_timeout: config.handshake_timeout,
            max_concurrent_streams: config.max_concurrent_streams,
            keepalive_time: config.keepalive_time,
            keepalive_timeout: config.keepalive_timeout,
            http1_keep_alive: config.http1_keep_alive,
        }
    }
}

struct AcceptLoop {
    listener: TcpListener,
    endpoint: Arc<Endpoint>,
    tls: Option<TlsAcceptor>,
    connections: Arc<Semaphore>,
    clients: Arc<ClientTable>,
    clocks: Clocks,
    http: HttpSettings,
}

impl AcceptLoop {
    async fn run(self, mut stop: watch::Receiver<Option<Instant>>) -> ShutdownOutcome {
        let mut tasks = JoinSet::new();
        let builder = Arc::new(self.connection_builder());
        let mut accept_errors = LogLimiter::new(Duration::from_secs(1));
        let mut over_share = LogLimiter::new(Duration::from_secs(1));
        let deadline = loop {
            let (stream, peer) = tokio::select! {
                biased;
                _ = stop.changed() => break stop_deadline(&stop),
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off briefly, keep serving.
                        // One line a second at most, so a flood cannot flood the log too.
                        if let Some(suppressed) = accept_errors.record() {
                            tracing::warn!(%error, suppressed, "accepting a connection failed");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // The address's share first: a connection beyond it is closed at once, and never
            // waits for (or takes) a slot of the receiver-wide bound.
            let Some(share) = self.clients.connection(peer.ip()) else {
                if let Some(suppressed) = over_share.record() {
                    tracing::warn!(
                        %peer,
                        suppressed,
                        "connection closed: this client address holds its share of the connections already"
                    );
                }
                drop(stream);
                continue;
            };
            // A connection slot before serving it, and before accepting the next: at the
            // bound, this loop holds one accepted socket and the rest wait in the backlog.
            let permit = tokio::select! {
                biased;
                _ = stop.changed() => break stop_deadline(&stop),
                permit = Arc::clone(&self.connections).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break Instant::now(),
                },
            };
            while tasks.try_join_next().is_some() {}
            let connection = Connection {
                endpoint: Arc::clone(&self.endpoint),
                builder: Arc::clone(&builder),
                stop: stop.clone(),
                clocks: self.clocks,
                permit,
                share,
                peer,
            };
            tasks.spawn(connection.serve(stream, self.tls.clone()));
        };
        drop(self.listener);
        // Every connection saw the stop and is closing gracefully by `deadline`; one that had
        // to be dropped then did not drain.
        let drained = tokio::time::timeout_at(deadline, async {
            let mut clean = true;
            while let Some(ended) = tasks.join_next().await {
                clean &= matches!(ended, Ok(true));
            }
            clean
        })
        .await
        .unwrap_or(false);
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        if drained {
            ShutdownOutcome::Drained
        } else {
            ShutdownOutcome::DeadlineExceeded
        }
    }

    fn connection_builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.http.header_read_timeout)
            .keep_alive(self.http.http1_keep_alive);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.http.max_concurrent_streams)
            .keep_alive_interval(self.http.keepalive_time)
            .keep_alive_timeout(self.http.keepalive_timeout);
        if self.endpoint.kind == EndpointKind::Grpc {
            builder.http2_only()
        } else {
            builder
        }
    }
}

/// At most one log line per `interval` for a recurring event; the line says how many were
/// suppressed since the last one.
pub(crate) struct LogLimiter {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    pub(crate) fn new(interval: Duration) -> LogLimiter {
        LogLimiter {
            interval,
            last: None,
            suppressed: 0,
        }
    }

    /// One more event: `Some(suppressed since the last line)` when it should be logged.
    pub(crate) fn record(&mut self) -> Option<u64> {
        self.record_at(Instant::now())
    }

    fn record_at(&mut self, now: Instant) -> Option<u64> {
        if self.last.is_some_and(|last| now < last + self.interval) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The deadline sent by `shutdown`; a dropped sender means now.
fn stop_deadline(stop: &watch::Receiver<Option<Instant>>) -> Instant {
    stop.borrow().unwrap_or_else(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_rate_limited() {
        let mut limiter = LogLimiter::new(Duration::from_secs(1));
        let start = Instant::now();
        assert_eq!(limiter.record_at(start), Some(0));
        for i in 1..=99 {
            assert_eq!(
                limiter.record_at(start + Duration::from_millis(i * 5)),
                None
            );
        }
        assert_eq!(limiter.record_at(start + Duration::from_secs(1)), Some(99));
        assert_eq!(limiter.record_at(start + Duration::from_millis(1500)), None);
        assert_eq!(limiter.record_at(start + Duration::from_secs(3)), Some(1));
    }
}
