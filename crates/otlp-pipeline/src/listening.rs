//! The accept loop under [`http_server`](crate::http_server) and
//! [`grpc_server`](crate::grpc_server): a bound listener, at most `max_connections`
//! connections each served by its own task (more are closed at once), stopped on
//! [`shutdown`](Listening::shutdown) or when dropped.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::telemetry::resolve_endpoint;

/// A listener serving connections.
pub(crate) struct Listening {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Listening {
    /// Binds `endpoint` (`host:port`) and serves each accepted connection with `serve`.
    pub(crate) async fn bind<S, F>(
        endpoint: &str,
        max_connections: usize,
        serve: S,
    ) -> io::Result<Listening>
    where
        S: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let addr = resolve_endpoint(endpoint).await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
        let local_addr = listener.local_addr()?;
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(
            listener,
            max_connections,
            Arc::new(serve),
            stop_rx,
        ));
        Ok(Listening {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address bound.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and closes every connection.
    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn accept_loop<S, F>(
    listener: TcpListener,
    max_connections: usize,
    serve: Arc<S>,
    mut stop: oneshot::Receiver<()>,
) where
    S: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if connections.len() >= max_connections {
                        drop(stream);
                        continue;
                    }
                    connections.spawn(serve(stream, peer));
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.abort_all();
}
