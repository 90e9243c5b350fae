//! The microservices demo: starts gateway, users, orders and payments on loopback ports, drives
//! `N` checkouts through them, waits for every payment, and shuts the services' telemetry
//! down (10 s at most), exporting to the OTLP endpoint of `OTEL_EXPORTER_OTLP_*`.
//!
//! ```text
//! cargo run -p otlp-demo --bin demo -- [--requests N] [--serve]
//! ```
//!
//! Prints one line per checkout: `checkout <i>: <status> trace_id=<hex> body=<body>`. With
//! `--serve` it then keeps serving (the gateway's address is printed) until Ctrl-C.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use otlp_demo::BoxError;
use otlp_demo::services::Demo;
use otlp_sdk::env::ProcessEnv;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, BoxError> {
    let mut requests: u64 = 3;
    let mut keep_serving = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" | "-n" => {
                requests = args.next().ok_or("--requests needs a number")?.parse()?;
            }
            "--serve" => keep_serving = true,
            other => {
                return Err(format!("unknown argument {other:?} (--requests N, --serve)").into());
            }
        }
    }
    let demo = Demo::start(&ProcessEnv).await?;
    println!("gateway listening on http://{}", demo.gateway());
    let mut failed = false;
    for i in 0..requests {
        let checkout = demo.checkout(100 + i).await?;
        failed |= !checkout.status.is_success();
        println!(
            "checkout {i}: {} trace_id={} body={}",
            checkout.status.as_u16(),
            checkout.trace_id.as_deref().unwrap_or("-"),
            checkout.body
        );
    }
    // Payments are asynchronous: wait (a little) for the queue to drain.
    let waited = Instant::now();
    while demo.payments_processed() < requests && waited.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("payments processed: {}", demo.payments_processed());
    if keep_serving {
        println!(
            "serving until Ctrl-C: curl http://{}/checkout/7",
            demo.gateway()
        );
        tokio::signal::ctrl_c().await?;
    }
    let shutdown = demo
        .shutdown(Instant::now() + Duration::from_secs(10))
        .await;
    match shutdown {
        Ok(()) => println!("telemetry shut down: everything exported"),
        Err(error) => {
            eprintln!("telemetry shutdown: {error}");
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
