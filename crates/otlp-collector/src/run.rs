//! Running a validated configuration: build, start, wait for a signal (or a component's fatal
//! error), then drain within the shutdown deadline.
//!
//! # Shutdown
//!
//! On SIGTERM or SIGINT: receivers stop accepting (new connections are refused, in-flight
//! requests finish and are answered), processors flush what they hold (the batch processor
//! sends its partial batches), exporters drain their queues to the destinations, extensions
//! stop — all of it bounded by one deadline, `--shutdown-timeout` after the signal. What the
//! collector acknowledged before the signal is exported before it exits, unless the deadline
//! passes first (then the exit status is 2 and the log names the components that did not
//! finish; a persistent queue keeps what it holds on disk for the next start). A second signal
//! exits at once, with status 2.

use std::time::Duration;

use otlp_pipeline::telemetry::{Metrics, MetricsServer};
use otlp_pipeline::{FatalError, LifecycleError, Pipelines, ValidatedConfig};
use otlp_pipeline::{Resources, ServiceStatus};
use tokio::time::Instant;

use crate::Exit;

/// How long past the shutdown deadline the process waits for the graph before giving up (the
/// graph bounds every component by the deadline; this only guards against one that ignores
/// cancellation).
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// SIGTERM and SIGINT (Ctrl-C elsewhere), installed once at startup so that a signal that
/// arrives while the configuration loads or the components start is not lost (the default
/// action would kill the process without a drain).
pub(crate) struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside the runtime).
    pub(crate) fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// The next signal's name.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Why the collector stops.
enum Stop {
    Signal(&'static str),
    Fatal(FatalError),
    StartFailed(LifecycleError),
}

/// Builds, starts and runs `validated` until a signal or a fatal error, then shuts down.
pub(crate) async fn run(
    validated: &ValidatedConfig,
    shutdown_timeout: Duration,
    signals: &mut Signals,
) -> Exit {
    // Fresh shared state for this collector: the self-metrics registry, the memory pressure the
    // memory_limiter and the receivers' admission share, the readiness health_check reports.
    let resources = Resources::collector();
    let metrics = resources.get::<Metrics>().unwrap_or_else(Metrics::global);
    let status = ServiceStatus::from_resources(&resources);
    // What zpages' /debug/servicez shows: this binary, not the framework crate.
    otlp_pipeline::ServiceTopology::from_resources(&resources).set_build_info(
        otlp_pipeline::BuildInfo {
            command: "otlp-collector".to_owned(),
            description: "otlp-rs collector".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    );
    let pipelines = match Pipelines::build_with(validated, resources) {
        Ok(pipelines) => pipelines,
        Err(errors) => {
            crate::config::print_errors(&errors);
            return Exit::Config;
        }
    };
    tracing::debug!(?pipelines, "built");

    // Self-telemetry first (as otelcol does): the counters are there from the first request.
    let metrics_server = match validated.telemetry().metrics.effective_address() {
        None => None,
        Some(address) => match MetricsServer::start(address, metrics.clone()).await {
            Ok(server) => {
                tracing::info!(address = %server.local_addr(), "serving self-metrics on /metrics");
                Some(server)
            }
            Err(error) => {
                tracing::error!(
                    %error,
                    address,
                    "cannot serve self-metrics (service::telemetry::metrics::address)"
                );
                return Exit::Runtime;
            }
        },
    };

    let started = tokio::select! {
        result = pipelines.start() => result.map_err(Stop::StartFailed),
        signal = signals.recv() => Err(Stop::Signal(signal)),
    };
    let stop = match started {
        Ok(()) => {
            for id in pipelines.receiver_ids() {
                for protocol in ["grpc", "http"] {
                    if let Some(address) = status.bound_address(id, protocol) {
                        tracing::info!(receiver = %id, protocol, %address, "receiving");
                    }
                }
            }
            tracing::info!("Everything is ready. Begin running and processing data.");
            tokio::select! {
                signal = signals.recv() => Stop::Signal(signal),
                error = pipelines.fatal_error() => Stop::Fatal(error),
            }
        }
        Err(stop) => stop,
    };
    let mut exit = match &stop {
        Stop::Signal(signal) => {
            tracing::info!(
                signal,
                timeout = ?shutdown_timeout,
                "shutting down: receivers stop accepting, pipelines drain, exporters flush"
            );
            Exit::Clean
        }
        Stop::Fatal(error) => {
            tracing::error!(%error, timeout = ?shutdown_timeout, "shutting down after a failure");
            Exit::Runtime
        }
        Stop::StartFailed(error) => {
            tracing::error!(%error, "startup failed; stopping what was started");
            Exit::Runtime
        }
    };

    // health_check answers "unavailable" from now on, so load balancers stop sending.
    status.set_ready(Some(false));
    let deadline = Instant::now() + shutdown_timeout;
    let outcome = tokio::select! {
        outcome = pipelines.shutdown(deadline) => outcome,
        signal = signals.recv() => {
            tracing::error!(signal, "second signal: exiting now; data not yet exported is lost unless a persistent queue holds it");
            return Exit::Runtime;
        }
        () = tokio::time::sleep_until(deadline + DEADLINE_GRACE) => {
            tracing::error!("the shutdown did not finish by its deadline; exiting");
            return Exit::Runtime;
        }
    };
    if let Some(server) = metrics_server {
        server.shutdown().await;
    }
    match outcome {
        Ok(()) => tracing::info!("shutdown complete"),
        Err(errors) => {
            for error in &errors.0 {
                tracing::error!(%error, "shutdown incomplete");
            }
            exit = Exit::Runtime;
        }
    }
    exit
}
