//! [`PrometheusReader`]: a pull endpoint — Prometheus scrapes `/metrics` and each scrape
//! collects (cumulative, as Prometheus expects).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use crate::env::{Env, invalid, usize_var};
use crate::error::SdkError;
use crate::metrics::prometheus::{PrometheusServer, TextOptions};
use crate::metrics::{MetricReader, MetricsCollector, TemporalityPreference};

/// Serves the Prometheus text format on an HTTP address, from a thread of its own.
pub struct PrometheusReader {
    collector: Arc<OnceLock<MetricsCollector>>,
    server: Mutex<Option<PrometheusServer>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for PrometheusReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusReader")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl PrometheusReader {
    /// Listens on `addr` (port 0: any free port, see [`local_addr`](Self::local_addr)) with the
    /// default translation (unit and `_total` suffixes, scope labels, `target_info`).
    ///
    /// # Errors
    ///
    /// The address cannot be bound.
    pub fn bind(addr: SocketAddr) -> Result<Self, SdkError> {
        Self::bind_with(addr, TextOptions::default())
    }

    /// Listens on `addr` with `options`.
    ///
    /// # Errors
    ///
    /// The address cannot be bound.
    pub fn bind_with(addr: SocketAddr, options: TextOptions) -> Result<Self, SdkError> {
        let collector: Arc<OnceLock<MetricsCollector>> = Arc::new(OnceLock::new());
        let source = Arc::clone(&collector);
        let server = PrometheusServer::bind(
            addr,
            Arc::new(move || {
                source
                    .get()
                    .map(|c| c.collect().resource_metrics)
                    .unwrap_or_default()
            }),
            options,
        )
        .map_err(|e| SdkError::Build(format!("binding the Prometheus endpoint {addr}: {e}")))?;
        let addr = server.local_addr();
        Ok(Self {
            collector,
            server: Mutex::new(Some(server)),
            addr,
        })
    }

    /// From `OTEL_EXPORTER_PROMETHEUS_HOST` (default `localhost`) and
    /// `OTEL_EXPORTER_PROMETHEUS_PORT` (default 9464).
    ///
    /// # Errors
    ///
    /// The address cannot be resolved or bound.
    pub fn from_env(env: &dyn Env) -> Result<Self, SdkError> {
        let host = env
            .get("OTEL_EXPORTER_PROMETHEUS_HOST")
            .unwrap_or_else(|| "localhost".into());
        let port = match usize_var(env, "OTEL_EXPORTER_PROMETHEUS_PORT").map(u16::try_from) {
            None => 9464,
            Some(Ok(port)) => port,
            Some(Err(_)) => {
                invalid(
                    "OTEL_EXPORTER_PROMETHEUS_PORT",
                    "(too large)",
                    "a port number",
                );
                9464
            }
        };
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| {
                SdkError::Config(format!(
                    "cannot resolve OTEL_EXPORTER_PROMETHEUS_HOST={host:?}"
                ))
            })?;
        Self::bind(addr)
    }

    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl MetricReader for PrometheusReader {
    fn temporality(&self) -> TemporalityPreference {
        TemporalityPreference::Cumulative
    }

    fn register(&self, collector: MetricsCollector) {
        let _ = self.collector.set(collector);
    }

    fn force_flush(&self, _deadline: Instant) -> Result<(), SdkError> {
        Ok(()) // pulled, not pushed
    }

    fn shutdown(&self, _deadline: Instant) -> Result<(), SdkError> {
        match self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some(server) => {
                server.shutdown();
                Ok(())
            }
            None => Err(SdkError::AlreadyShutdown),
        }
    }
}
