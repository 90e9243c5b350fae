//! The agent's UDP servers (`thrift_compact`, `thrift_binary`): one socket, a bounded queue of
//! datagrams, `workers` tasks decoding them. Nothing is ever sent back (UDP agents are
//! fire-and-forget), so bad datagrams and refusals are counted and logged, never answered.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use otlp_pipeline::data::ClientInfo;

use super::config::UdpProtocol;
use super::thrift::Protocol;
use super::{Counters, Shared, model, translate};

/// A running UDP server.
pub(crate) struct UdpServer {
    local: SocketAddr,
    tasks: JoinSet<()>,
}

impl UdpServer {
    pub(crate) async fn start(
        endpoint: &str,
        config: &UdpProtocol,
        protocol: Protocol,
        shared: Arc<Shared>,
        counters: Counters,
    ) -> std::io::Result<UdpServer> {
        let addr = otlp_pipeline::telemetry::resolve_endpoint(endpoint).await?;
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot bind UDP {addr}: {e}")))?;
        if config.socket_buffer_size > 0 {
            rustix::net::sockopt::set_socket_recv_buffer_size(&socket, config.socket_buffer_size)
                .map_err(|e| {
                std::io::Error::other(format!(
                    "cannot set socket_buffer_size {}: {e}",
                    config.socket_buffer_size
                ))
            })?;
        }
        let local = socket.local_addr()?;
        let counters = Arc::new(counters);
        let (queue, packets) = mpsc::channel::<(Vec<u8>, SocketAddr)>(config.queue_size);
        let packets = Arc::new(Mutex::new(packets));
        let mut tasks = JoinSet::new();
        let max = config.max_packet_size;
        {
            let counters = Arc::clone(&counters);
            let id = shared.id.clone();
            tasks.spawn(async move {
                // One byte more than allowed, to tell a datagram that was cut from one that fit.
                let mut buffer = vec![0u8; max + 1];
                loop {
                    let Ok((n, peer)) = socket.recv_from(&mut buffer).await else {
                        continue;
                    };
                    if n > max {
                        counters.failed.add(1);
                        tracing::debug!(receiver = %id, %peer, max, "a Jaeger datagram over max_packet_size was dropped");
                        continue;
                    }
                    if queue.try_send((buffer[..n].to_vec(), peer)).is_err() {
                        counters.failed.add(1);
                        tracing::debug!(receiver = %id, %peer, "the Jaeger UDP queue is full; a datagram was dropped");
                    }
                }
            });
        }
        for _ in 0..config.workers {
            let packets = Arc::clone(&packets);
            let shared = Arc::clone(&shared);
            let counters = Arc::clone(&counters);
            tasks.spawn(async move {
                loop {
                    let next = packets.lock().await.recv().await;
                    let Some((packet, peer)) = next else {
                        return;
                    };
                    match model::decode_emit_batch(&packet, protocol) {
                        Ok(Some(batch)) => {
                            let request = translate::from_thrift(&batch);
                            let _ = shared
                                .deliver(request, ClientInfo::new(Some(peer)), &counters)
                                .await;
                        }
                        Ok(None) => {}
                        Err(error) => {
                            counters.failed.add(1);
                            tracing::debug!(receiver = %shared.id, %peer, %error, "a Jaeger agent datagram did not decode");
                        }
                    }
                }
            });
        }
        Ok(UdpServer { local, tasks })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}
