//! `otlp-collector`: the otlp-rs collector binary — an OpenTelemetry Collector compatible
//! process that reads otelcol-style YAML, runs the receivers, processors, exporters and
//! extensions of the kind crates (every one of them: `otlp_collector::components()`), and
//! drains them on SIGTERM/SIGINT.
//!
//! It is the top of the workspace: it depends on `otlp-pipeline` and every component crate
//! with every feature on, and nothing may depend on it. A program that needs a collector with
//! other components builds one from `otlp-pipeline` and the kind crates it picks (see
//! `docs/custom-collector.md` and `examples/custom_collector.rs`).
//!
//! # Running
//!
//! ```text
//! cargo run --release -p otlp-collector                     # the embedded default configuration
//! otlp-collector --config collector.yaml                    # one file
//! otlp-collector --config base.yaml --config prod.yaml      # merged in order, like otelcol
//! otlp-collector --config c.yaml --set exporters::debug::verbosity=detailed
//! otlp-collector validate --config c.yaml                   # check, start nothing
//! otlp-collector components                                 # the component types built in
//! otlp-collector print-default-config                       # the embedded configuration
//! ```
//!
//! The embedded default configuration (`src/default_config.yaml`) receives OTLP on
//! localhost:4317 (gRPC) and localhost:4318 (HTTP) for traces, metrics and logs and sends it
//! through `memory_limiter` and `batch` to the `debug` exporter, which logs what arrives.
//!
//! # Exit status
//!
//! - `0`: clean shutdown after SIGTERM/SIGINT (everything acknowledged was exported), or a
//!   successful `validate`, `--help`, `--version`;
//! - `1`: invalid command line or configuration — every error is printed as
//!   `error: FILE: LOCATION: PROBLEM`, and nothing was started (no port opened);
//! - `2`: a runtime failure — a component could not start (a port in use), failed while
//!   running, or did not finish by the shutdown deadline, or a second signal forced the exit.
//!
//! # Logs
//!
//! Through `tracing`, to stderr, at `service.telemetry.logs.level` (default `info`);
//! `RUST_LOG` overrides it with any `tracing-subscriber` filter (`RUST_LOG=debug`,
//! `RUST_LOG=info,otlp_pipeline=debug`).

#[cfg(feature = "mimalloc")]
mod allocator;
mod cli;
mod config;
mod logging;
mod run;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use clap::error::ErrorKind;
use otlp_pipeline::Registry;

use crate::cli::{Cli, Command};

/// The global allocator (mimalloc with feature `mimalloc`, on by default; see `Cargo.toml`),
/// counting the bytes in use for the `memory_limiter` (`otlp_pipeline::allocator`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: otlp_pipeline::allocator::CountingAllocator<mimalloc::MiMalloc> =
    otlp_pipeline::allocator::CountingAllocator(mimalloc::MiMalloc);
#[cfg(not(feature = "mimalloc"))]
#[global_allocator]
static ALLOCATOR: otlp_pipeline::allocator::CountingAllocator<std::alloc::System> =
    otlp_pipeline::allocator::CountingAllocator(std::alloc::System);

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: a clean shutdown or a successful command.
    Clean = 0,
    /// 1: the command line or the configuration is invalid; nothing was started.
    Config = 1,
    /// 2: running failed.
    Runtime = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The components this binary knows: the distribution's set.
fn registry() -> Registry {
    otlp_collector::components()
}

fn main() -> ExitCode {
    #[cfg(feature = "mimalloc")]
    allocator::apply_defaults();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Clean,
                _ => Exit::Config,
            }
            .into();
        }
    };
    match cli.command {
        Some(Command::PrintDefaultConfig) => {
            print!("{}", config::DEFAULT_CONFIG);
            return Exit::Clean.into();
        }
        Some(Command::Components) => {
            print!("{}", config::components(&registry()));
            return Exit::Clean.into();
        }
        Some(Command::Validate) | None => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .thread_name("otlp-collector")
        // Hand the counting allocator this thread's last change (blocking-pool threads come
        // and go), so the memory limiter's count does not drift.
        .on_thread_stop(otlp_pipeline::allocator::flush_thread)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("otlp-collector: cannot start the async runtime: {error}");
            return Exit::Runtime.into();
        }
    };
    #[cfg(feature = "mimalloc")]
    allocator::spawn_memory_return();
    let exit = runtime.block_on(async_main(cli));
    // Tasks still running (connections past the deadline, a forced exit) are abandoned.
    runtime.shutdown_timeout(Duration::from_secs(1));
    exit.into()
}

/// The runtime's worker threads: `TOKIO_WORKER_THREADS` when it is set to a positive number,
/// else one fewer than the cores the process may use, at least one.
///
/// One core is left to what the workers wait on: the kernel's network stack, which copies
/// every byte in and out, and the processes the collector serves, which on a sidecar or agent
/// host share its cores. Measured on the benchmark's 2-core machine (docs/benchmarks.md,
/// "Issue 17: what changed"), a second worker made the collector wake its peer thread for
/// nearly every task it woke — three times the context switches at 20 000 spans/s, 15 % more
/// CPU per span — and raised no rate: the load generator and the sink had the second core.
fn worker_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    worker_threads_for(std::env::var("TOKIO_WORKER_THREADS").ok().as_deref(), cores)
}

fn worker_threads_for(configured: Option<&str>, cores: usize) -> usize {
    configured
        .and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| cores.saturating_sub(1).max(1))
}

async fn async_main(cli: Cli) -> Exit {
    // First, so that a signal during loading or startup leads to a drain, not a kill.
    let mut signals = match run::Signals::install() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("otlp-collector: cannot install the signal handlers: {error}");
            return Exit::Runtime;
        }
    };
    let sources = match config::sources(&cli.config) {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::Config;
        }
    };
    let registry = registry();
    let validated = match config::load(&sources, &registry) {
        Ok(validated) => validated,
        Err(errors) => {
            config::print_errors(&errors);
            return Exit::Config;
        }
    };

    if matches!(cli.command, Some(Command::Validate)) {
        // Building creates every component (the factories' own checks) and opens nothing.
        let resources = otlp_pipeline::Resources::collector();
        if let Err(errors) = otlp_pipeline::Pipelines::build_with(&validated, resources) {
            config::print_errors(&errors);
            return Exit::Config;
        }
        for warning in validated.warnings() {
            eprintln!("warning: {warning}");
        }
        for warning in cli.feature_gate_warnings() {
            eprintln!("warning: {warning}");
        }
        print!("{}", config::summary(&sources, &validated));
        return Exit::Clean;
    }

    let filter = logging::init(validated.telemetry().logs.level);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %config::describe(&sources),
        log_filter = %filter,
        "starting otlp-collector"
    );
    for warning in cli.feature_gate_warnings() {
        tracing::warn!(%warning, "feature gates");
    }
    for warning in validated.warnings() {
        tracing::warn!(%warning, "configuration warning");
    }
    run::run(&validated, cli.shutdown_timeout, &mut signals).await
}

#[cfg(test)]
mod tests {
    use super::worker_threads_for;

    #[test]
    fn workers_are_one_fewer_than_the_cores_unless_configured() {
        assert_eq!(worker_threads_for(None, 1), 1);
        assert_eq!(worker_threads_for(None, 2), 1);
        assert_eq!(worker_threads_for(None, 16), 15);
        assert_eq!(worker_threads_for(Some("4"), 2), 4);
        assert_eq!(worker_threads_for(Some(" 3 "), 8), 3);
        assert_eq!(
            worker_threads_for(Some("0"), 8),
            7,
            "zero is not a thread count"
        );
        assert_eq!(worker_threads_for(Some("many"), 8), 7);
    }
}
