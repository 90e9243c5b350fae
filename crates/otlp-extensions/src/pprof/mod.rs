//! The `pprof` extension: otelcol-contrib's pprof endpoint, CPU profiles of the collector in
//! the pprof protobuf format, on `endpoint` (default `localhost:1777`).
//!
//! | path | what |
//! |---|---|
//! | `/debug/pprof/` | an index page |
//! | `/debug/pprof/profile?seconds=N` | a CPU profile of the next N seconds (default 30, as Go; a missing, unparsable or non-positive value is 30; capped at [`MAX_SECONDS`]), gzipped pprof protobuf as Go serves it (`application/octet-stream`, `attachment; filename="profile"`): `go tool pprof http://localhost:1777/debug/pprof/profile` reads it |
//! | `/debug/pprof/cmdline` | the command line, NUL-separated |
//!
//! Go's other profiles (`heap`, `goroutine`, `block`, `mutex`, `allocs`, `threadcreate`,
//! `trace`, `symbol`) have no Rust counterpart here and answer 404.
//!
//! Sampling is the `pprof` crate's: `SIGPROF` at 100 Hz (Go's rate), stacks unwound and
//! symbolised in the process. The profile is taken off the async runtime (a blocking thread
//! waits out the seconds and builds the report), so the collector keeps serving. Only **one
//! CPU profile runs at a time** in the process (the sampler is process-wide, as Go's is): a
//! second request while one runs — or while `save_to_file` profiles — is answered
//! `409 Conflict` with `Could not enable CPU profiling: cpu profiling already in use` (Go
//! answers the same text with a 500). A profile cut short by shutdown is still served.
//!
//! Keys: `endpoint`; `save_to_file` (a CPU profile from start to shutdown is written there at
//! shutdown, gzipped pprof like Go's `pprof.StartCPUProfile`; the file is created at start, so
//! a bad path fails the start); `block_profile_fraction` and `mutex_profile_fraction` are
//! accepted and have no effect (they set Go runtime rates that do not exist in Rust);
//! `dialer` is accepted and ignored.

#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

use otlp_pipeline::ServiceStatus;
use otlp_pipeline::component::{Extension, ExtensionContext, Host};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::check_endpoint;

use otlp_pipeline::http_server::{Handler, Request, Response, Server, escape};

/// otelcol's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "localhost:1777";

/// Go's default profile length.
pub const DEFAULT_SECONDS: u64 = 30;

/// The longest profile served.
pub const MAX_SECONDS: u64 = 300;

/// Samples per second (Go's `runtime.SetCPUProfileRate` default).
pub const FREQUENCY: i32 = 100;

/// `extensions: pprof:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PprofConfig {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// Go's block profile rate; accepted, no effect in Rust.
    pub block_profile_fraction: i64,
    /// Go's mutex profile fraction; accepted, no effect in Rust.
    pub mutex_profile_fraction: i64,
    /// Where a CPU profile of the whole run is written at shutdown (empty: none).
    pub save_to_file: String,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialer: Option<Value>,
}

impl Default for PprofConfig {
    fn default() -> Self {
        PprofConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            block_profile_fraction: 0,
            mutex_profile_fraction: 0,
            save_to_file: String::new(),
            dialer: None,
        }
    }
}

impl ComponentConfig for PprofConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|e| ConfigError::bad_value("endpoint", e))?;
        if self.block_profile_fraction < 0 {
            return Err(ConfigError::bad_value(
                "block_profile_fraction",
                "must be 0 or more",
            ));
        }
        if self.mutex_profile_fraction < 0 {
            return Err(ConfigError::bad_value(
                "mutex_profile_fraction",
                "must be 0 or more",
            ));
        }
        Ok(())
    }
}

/// Whether a CPU profile runs in this process (the sampler is process-wide).
static PROFILING: AtomicBool = AtomicBool::new(false);

/// The right to profile: held while a profile runs, released on drop.
struct ProfilingSlot;

impl ProfilingSlot {
    fn take() -> Option<ProfilingSlot> {
        (!PROFILING.swap(true, Ordering::AcqRel)).then_some(ProfilingSlot)
    }
}

impl Drop for ProfilingSlot {
    fn drop(&mut self) {
        PROFILING.store(false, Ordering::Release);
    }
}

/// Why a profile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Another profile runs.
    #[error("Could not enable CPU profiling: cpu profiling already in use")]
    InUse,
    /// The sampler failed.
    #[error("CPU profiler: {0}")]
    Profiler(#[from] ::pprof::Error),
    /// Writing the result failed.
    #[error("writing the profile: {0}")]
    Io(#[from] std::io::Error),
}

/// A running CPU profile.
struct Running {
    guard: ::pprof::ProfilerGuard<'static>,
    _slot: ProfilingSlot,
}

impl Running {
    fn start() -> Result<Running, ProfileError> {
        let slot = ProfilingSlot::take().ok_or(ProfileError::InUse)?;
        let guard = ::pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()?;
        Ok(Running { guard, _slot: slot })
    }

    /// Stops and returns the gzipped pprof protobuf.
    fn finish(self) -> Result<Vec<u8>, ProfileError> {
        use ::pprof::protos::Message as _;
        let report = self.guard.report().build()?;
        let profile = report.pprof()?;
        let mut encoded = Vec::with_capacity(profile.encoded_len());
        profile
            .encode(&mut encoded)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&encoded)?;
        Ok(gzip.finish()?)
    }
}

/// Profiles the CPU for `duration` (or until `stop` says), off the caller's thread's work:
/// call it on a blocking thread.
fn profile_blocking(
    duration: Duration,
    stop: &Mutex<mpsc::Receiver<()>>,
) -> Result<Vec<u8>, ProfileError> {
    let running = Running::start()?;
    let _ = stop
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .recv_timeout(duration);
    running.finish()
}

/// The profile length a `seconds` value asks for, as Go reads it.
pub(crate) fn seconds(request: &Request) -> u64 {
    match request.param("seconds").map(|s| s.parse::<i64>()) {
        Some(Ok(n)) if n > 0 => u64::try_from(n).unwrap_or(MAX_SECONDS).min(MAX_SECONDS),
        _ => DEFAULT_SECONDS,
    }
}

fn index() -> Response {
    Response::html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>/debug/pprof/</title></head><body>\
         <h1>/debug/pprof/</h1><p>Types of profiles available:</p><table>\
         <tr><th>Profile</th><th>Description</th></tr>\
         <tr><td><a href=\"profile?seconds={DEFAULT_SECONDS}\">profile</a></td><td>CPU profile: samples of the stacks running, {FREQUENCY} per second (<code>seconds</code>, default {DEFAULT_SECONDS}, at most {MAX_SECONDS}). Gzipped pprof protobuf: <code>go tool pprof</code> reads it.</td></tr>\
         <tr><td><a href=\"cmdline\">cmdline</a></td><td>The command line invocation of the current program: {}</td></tr>\
         </table><p>Go's heap, goroutine, block, mutex, allocs, threadcreate and trace profiles have no counterpart in this Rust collector.</p></body></html>\n",
        escape(&std::env::args().collect::<Vec<_>>().join(" "))
    ))
}

/// The request handler; `stop` ends running profiles early (at shutdown).
fn handler(stop: Arc<Mutex<mpsc::Receiver<()>>>) -> Handler {
    Arc::new(move |request: Request| {
        let stop = Arc::clone(&stop);
        Box::pin(async move {
            if !request.is_get() {
                return Response::method_not_allowed();
            }
            match request.path.as_str() {
                "/debug/pprof" | "/debug/pprof/" => index(),
                "/debug/pprof/cmdline" => Response::text(
                    StatusCode::OK,
                    std::env::args().collect::<Vec<_>>().join("\0"),
                ),
                "/debug/pprof/profile" => {
                    let duration = Duration::from_secs(seconds(&request));
                    let result =
                        tokio::task::spawn_blocking(move || profile_blocking(duration, &stop))
                            .await;
                    match result {
                        Ok(Ok(bytes)) => {
                            Response::new(StatusCode::OK, "application/octet-stream", bytes)
                                .with_header(
                                    header::CONTENT_DISPOSITION,
                                    HeaderValue::from_static("attachment; filename=\"profile\""),
                                )
                        }
                        Ok(Err(ProfileError::InUse)) => Response::text(
                            StatusCode::CONFLICT,
                            format!("{}\n", ProfileError::InUse),
                        ),
                        Ok(Err(error)) => {
                            Response::text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))
                        }
                        Err(join) => Response::text(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("profile task failed: {join}\n"),
                        ),
                    }
                }
                _ => Response::not_found(),
            }
        })
    })
}

/// The extension.
pub struct Pprof {
    id: ComponentId,
    config: PprofConfig,
    status: Arc<ServiceStatus>,
    server: tokio::sync::Mutex<Option<Server>>,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    whole_run: Mutex<Option<(Running, PathBuf, std::fs::File)>>,
}

impl Pprof {
    /// The extension for `ctx` (nothing is bound until start).
    pub fn new(ctx: ExtensionContext, config: PprofConfig) -> Pprof {
        Pprof {
            status: ServiceStatus::from_resources(&ctx.resources),
            id: ctx.id,
            config,
            server: tokio::sync::Mutex::new(None),
            stop: Mutex::new(None),
            whole_run: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Extension for Pprof {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        if !self.config.save_to_file.is_empty() {
            let path = PathBuf::from(&self.config.save_to_file);
            let file = std::fs::File::create(&path)
                .map_err(|e| format!("save_to_file: cannot create {}: {e}", path.display()))?;
            let running = Running::start().map_err(|e| format!("save_to_file: {e}"))?;
            *self
                .whole_run
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some((running, path, file));
        }
        let (stop, stop_rx) = mpsc::channel();
        let server = Server::bind(
            &self.config.endpoint,
            handler(Arc::new(Mutex::new(stop_rx))),
            Vec::new(),
        )
        .await?;
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop);
        self.status
            .record_bound(&self.id, "http", server.local_addr());
        tracing::info!(extension = %self.id, addr = %server.local_addr(), "pprof listening");
        *self.server.lock().await = Some(server);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        if let Some(stop) = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        let whole_run = self
            .whole_run
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((running, path, mut file)) = whole_run {
            let written = tokio::task::spawn_blocking(move || -> Result<(), ProfileError> {
                let bytes = running.finish()?;
                file.write_all(&bytes)?;
                file.sync_all()?;
                Ok(())
            })
            .await
            .map_err(|e| format!("save_to_file: {e}"))?;
            written.map_err(|e| format!("save_to_file {}: {e}", path.display()))?;
            tracing::info!(extension = %self.id, file = %path.display(), "CPU profile written");
        }
        Ok(())
    }
}

impl std::fmt::Debug for Pprof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pprof")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The `pprof` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("pprof", |ctx, config: PprofConfig| {
        Ok(Box::new(Pprof::new(ctx, config)))
    })
}
