//! One served connection and its clocks: the first request head must arrive within the
//! handshake timeout of the accept, a connection idle for the idle timeout is closed, one past
//! its maximum age is asked to close, and a receiver shutting down closes it gracefully by its
//! deadline.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;

use super::Endpoint;
use super::clients::Share;

/// The clocks every connection of an endpoint runs by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clocks {
    /// From the accept to the first complete request head.
    pub(crate) first_request: Duration,
    /// Without a request in progress for this long: closed.
    pub(crate) idle: Option<Duration>,
    /// Older than this: asked to close.
    pub(crate) max_age: Option<Duration>,
    /// After being asked to close for its age, dropped after this long.
    pub(crate) age_grace: Option<Duration>,
}

/// How long a connection closed for idleness may take to say goodbye (HTTP/2 `GOAWAY`, the
/// HTTP/1 close) before it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// When nothing is due: look again after this long.
const FAR: Duration = Duration::from_secs(3600);

/// What the connection's requests tell its clock.
struct Activity {
    accepted: Instant,
    in_flight: AtomicUsize,
    seen_request: AtomicBool,
    /// When the last request ended, in milliseconds after `accepted`.
    last_end_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            accepted: Instant::now(),
            in_flight: AtomicUsize::new(0),
            seen_request: AtomicBool::new(false),
            last_end_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.seen_request.store(true, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    /// Since when the connection has been idle, or `None` while a request is in progress.
    fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0).then(|| {
            self.accepted + Duration::from_millis(self.last_end_ms.load(Ordering::Relaxed))
        })
    }
}

/// A request in progress on the connection.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = u64::try_from(self.0.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.last_end_ms.fetch_max(ms, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One accepted connection, holding its slots until it ends.
pub(crate) struct Connection {
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) builder: Arc<auto::Builder<TokioExecutor>>,
    pub(crate) stop: watch::Receiver<Option<Instant>>,
    pub(crate) clocks: Clocks,
    pub(crate) permit: OwnedSemaphorePermit,
    pub(crate) share: Share,
    pub(crate) peer: SocketAddr,
}

#[cfg(feature = "tls")]
pub(crate) type TlsAcceptor = tokio_rustls::TlsAcceptor;
/// Without the `tls` feature there is no acceptor (an uninhabited type).
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
pub(crate) enum TlsAcceptor {}

impl Connection {
    /// Serves the connection until it ends; `false` when it had to be dropped because it did
    /// not close by a deadline (the shutdown's, its age's grace, ...).
    pub(crate) async fn serve(self, stream: TcpStream, tls: Option<TlsAcceptor>) -> bool {
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        match tls {
            None => self.serve_io(TokioIo::new(stream), activity).await,
            #[cfg(feature = "tls")]
            Some(acceptor) => {
                let deadline = activity.accepted + self.clocks.first_request;
                match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => self.serve_io(TokioIo::new(stream), activity).await,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, peer = %self.peer, "TLS handshake failed");
                        true
                    }
                    Err(_) => {
                        tracing::debug!(peer = %self.peer, "TLS handshake timed out");
                        true
                    }
                }
            }
            #[cfg(not(feature = "tls"))]
            Some(never) => match never {},
        }
    }

    async fn serve_io<I>(self, io: TokioIo<I>, activity: Arc<Activity>) -> bool
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            endpoint,
            builder,
            mut stop,
            clocks,
            permit,
            share,
            peer,
        } = self;
        let _held = (permit, share);
        let service = {
            let activity = Arc::clone(&activity);
            hyper::service::service_fn(move |request| {
                let endpoint = Arc::clone(&endpoint);
                let busy = activity.begin();
                async move {
                    let _busy = busy;
                    Ok::<_, Infallible>(endpoint.serve(request, Some(peer)).await)
                }
            })
        };
        let connection = builder.serve_connection(io, service);
        tokio::pin!(connection);
        // Once a close began: when the connection is dropped if it has not ended by itself.
        let mut closing: Option<Instant> = None;
        // Asked to close (idle, age, shutdown): nothing more to decide but `closing`.
        let mut asked = false;
        let mut stopping = false;
        loop {
            let wake = next_check(&activity, &clocks, asked, closing);
            tokio::select! {
                ended = connection.as_mut() => {
                    if let Err(error) = ended {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                    return true;
                }
                _ = stop.changed(), if !stopping => {
                    // The receiver is shutting down (or was dropped: now).
                    stopping = true;
                    asked = true;
                    let deadline = stop.borrow().unwrap_or_else(Instant::now);
                    connection.as_mut().graceful_shutdown();
                    closing = Some(closing.map_or(deadline, |at| at.min(deadline)));
                }
                _ = tokio::time::sleep_until(wake) => {
                    let now = Instant::now();
                    if closing.is_some_and(|at| now >= at) {
                        tracing::debug!(%peer, "connection dropped: it did not close in time");
                        return false;
                    }
                    if !activity.seen_request.load(Ordering::Relaxed)
                        && now >= activity.accepted + clocks.first_request
                    {
                        tracing::debug!(%peer, "connection closed: no request within {:?}", clocks.first_request);
                        return true;
                    }
                    if asked {
                        continue;
                    }
                    let idle = clocks.idle.zip(activity.idle_since());
                    if idle.is_some_and(|(idle, since)| now >= since + idle) {
                        tracing::debug!(%peer, "connection closed: idle");
                        connection.as_mut().graceful_shutdown();
                        asked = true;
                        closing = Some(now + IDLE_CLOSE_GRACE);
                    } else if clocks.max_age.is_some_and(|age| now >= activity.accepted + age) {
                        tracing::debug!(%peer, "connection asked to close: maximum age");
                        connection.as_mut().graceful_shutdown();
                        asked = true;
                        closing = clocks.age_grace.map(|grace| now + grace);
                    }
                }
            }
        }
    }
}

/// When the connection's clocks next need looking at.
fn next_check(
    activity: &Activity,
    clocks: &Clocks,
    asked: bool,
    closing: Option<Instant>,
) -> Instant {
    let now = Instant::now();
    let mut due = now + FAR;
    if let Some(at) = closing {
        due = due.min(at);
    }
    if !activity.seen_request.load(Ordering::Relaxed) {
        due = due.min(activity.accepted + clocks.first_request);
    }
    if asked {
        return due.max(now);
    }
    if let Some(idle) = clocks.idle {
        // While a request is in progress, look again an idle period later.
        let since = activity.idle_since().unwrap_or(now);
        due = due.min(since + idle);
    }
    if let Some(age) = clocks.max_age {
        due = due.min(activity.accepted + age);
    }
    due.max(now)
}
