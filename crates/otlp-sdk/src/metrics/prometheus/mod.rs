//! TEMPORARY STUB (replaced by the Prometheus module).
#![allow(missing_docs, dead_code, unreachable_pub)]
use std::net::SocketAddr;
use std::sync::Arc;
use otlp_proto::metrics::v1::ResourceMetrics;
#[derive(Clone, Debug, Default)]
pub struct TextOptions;
pub struct PrometheusServer { addr: SocketAddr }
impl PrometheusServer {
    pub fn bind(addr: SocketAddr, _source: Arc<dyn Fn() -> Vec<ResourceMetrics> + Send + Sync>, _options: TextOptions) -> std::io::Result<Self> { Ok(Self { addr }) }
    pub fn local_addr(&self) -> SocketAddr { self.addr }
    pub fn shutdown(self) {}
}
