//! The tracing reverse-proxy sidecar: listens on `SIDECAR_LISTEN` (default `127.0.0.1:8000`)
//! and forwards every request to `SIDECAR_UPSTREAM` (a base URL such as
//! `http://127.0.0.1:8080`), exporting spans, RED metrics and logs as the `OTEL_*` variables
//! say (`service.name` defaults to `sidecar`).
//!
//! ```text
//! SIDECAR_UPSTREAM=http://127.0.0.1:8080 cargo run -p otlp-demo --bin sidecar
//! cargo run -p otlp-demo --bin sidecar -- 127.0.0.1:8000 http://127.0.0.1:8080
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use otlp_demo::BoxError;
use otlp_demo::sidecar::{self, Upstream};
use otlp_demo::telemetry::{SCOPE, bridge};
use otlp_sdk::env::{Env, ProcessEnv};
use tracing_subscriber::layer::SubscriberExt;

/// The process environment, with `service.name` defaulting to `sidecar`.
struct SidecarEnv;

impl Env for SidecarEnv {
    fn get(&self, key: &str) -> Option<String> {
        ProcessEnv
            .get(key)
            .or_else(|| (key == "OTEL_SERVICE_NAME").then(|| "sidecar".to_owned()))
    }
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let listen: SocketAddr = args
        .next()
        .or_else(|| ProcessEnv.get("SIDECAR_LISTEN"))
        .unwrap_or_else(|| "127.0.0.1:8000".to_owned())
        .parse()?;
    let upstream = args
        .next()
        .or_else(|| ProcessEnv.get("SIDECAR_UPSTREAM"))
        .ok_or("set SIDECAR_UPSTREAM (or pass LISTEN UPSTREAM)")?;
    let upstream = Upstream::parse(&upstream)?;

    let otel = otlp_sdk::init_with(&SidecarEnv)?;
    let subscriber =
        tracing_subscriber::registry().with(bridge(otel.tracer(SCOPE), otel.logger(SCOPE)));
    tracing::subscriber::set_global_default(subscriber)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("sidecar: http://{} → {upstream}", listener.local_addr()?);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let server = tokio::spawn(async move {
            let meter = otel.meter(SCOPE);
            sidecar::run(
                listener,
                upstream,
                otel.tracer(SCOPE),
                &meter,
                dispatch,
                stop,
            )
            .await;
            otel
        });
        tokio::signal::ctrl_c().await?;
        let _ = stop_tx.send(true);
        let otel = server.await?;
        otel.shutdown(Instant::now() + Duration::from_secs(5))?;
        Ok::<_, BoxError>(())
    })?;
    Ok(())
}
