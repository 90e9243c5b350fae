//! The per-request overhead of otlp-instrumentation's HTTP server layer
//! (`HttpServerLayer`, crates/otlp-instrumentation/src/http/server.rs) on an axum hello-world,
//! against opentelemetry-instrumentation-tower 0.19 (`http::server::Layer`, on opentelemetry
//! 0.33), in one run (issue 13).
//!
//! Every case drives the same axum `Router` (`GET /hello` -> `"hello"`) in-process: a clone of
//! the router, `tower::ServiceExt::oneshot` on an `http::Request<axum::body::Body>` built in the
//! loop, the response body dropped. All requests of one criterion sample run inside one
//! `block_on` of a current-thread tokio runtime (`iter_custom`), so the runtime's cost is not
//! in the numbers and is the same for every case.
//!
//! Cases (`http_server/<case>`):
//!
//! - `baseline`: the bare router.
//! - `ours_sampled`: `HttpServerLayer::new(tracer, &meter).with_route(MatchedPath)`, the
//!   default `ParentBased(AlwaysOn)` sampler, spans into a `BatchSpanProcessor` with a
//!   discarding exporter, metrics into a `MeterProvider` whose `ManualReader` is never
//!   collected (the aggregation is measured, the export is not).
//! - `ours_sampled_no_route`: the same, plain `HttpServerLayer::new` (span name `GET`, no
//!   `http.route`).
//! - `ours_unsampled`: the same as `ours_sampled` with `AlwaysOff`; metrics still on.
//! - `theirs_sampled` / `theirs_unsampled`: opentelemetry-instrumentation-tower's
//!   `LayerBuilder::builder().build()` (tracing and metrics on, its `axum` feature: the route
//!   from `MatchedPath`), over opentelemetry_sdk 0.33 providers set up the same way
//!   (`ParentBased(AlwaysOn)` / `AlwaysOff`, batch processor with a discarding exporter,
//!   `ManualReader` never collected). Its layer only reads the *global* providers and
//!   propagator (its `with_tracer_provider` / `with_meter_provider` are `#[cfg(test)]`), so each
//!   case installs them with `opentelemetry::global::set_*` before building the layer; the
//!   layer keeps the tracer and meter it was built with. The global propagator is set to W3C
//!   trace context + baggage, which is what ours uses by default.
//!
//! Both layers go on with `Router::layer`, so they wrap the matched route and see
//! `MatchedPath`.
//!
//! ```sh
//! cargo bench -p otlp-benches --bench otlp_instrumentation -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! After criterion's own output a summary prints each case's median per request, the
//! overhead over `baseline` and the ratio ours/theirs.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::routing::get;
use criterion::Criterion;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sdk::export::{BatchExporter, ExportFailure, PartialSuccess};
use otlp_transport::ExportRequest as _;
use tower::ServiceExt as _;

// ---------------------------------------------------------------------------------------------
// Discarding span exporters that count what they are given (as in otlp_sdk.rs).

#[derive(Clone, Debug, Default)]
struct Discard(Arc<AtomicU64>);

impl Discard {
    fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[otlp_sdk::export::async_trait]
impl BatchExporter<ExportTraceServiceRequest> for Discard {
    async fn export(
        &self,
        batch: &ExportTraceServiceRequest,
    ) -> Result<Option<PartialSuccess>, ExportFailure> {
        self.0
            .fetch_add(batch.item_count() as u64, Ordering::Relaxed);
        Ok(None)
    }
}

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The app and the request.

async fn hello() -> &'static str {
    "hello"
}

fn app() -> Router {
    Router::new().route("/hello", get(hello))
}

fn request() -> http::Request<Body> {
    http::Request::builder()
        .method(http::Method::GET)
        .uri("/hello")
        .header(http::header::HOST, "localhost:8080")
        .header(http::header::USER_AGENT, "bench/1.0")
        .body(Body::empty())
        .unwrap()
}

/// `iters` requests through clones of `router`, in one `block_on`.
fn drive(rt: &tokio::runtime::Runtime, router: &Router, iters: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let response = router.clone().oneshot(request()).await.unwrap();
            assert_eq!(response.status(), http::StatusCode::OK);
            black_box(response);
        }
        start.elapsed()
    })
}

// ---------------------------------------------------------------------------------------------
// The layers.

/// Our providers: returns the instrumented router, the providers (kept alive for the case).
fn ours(
    sampled: bool,
    route: bool,
    exporter: &Discard,
) -> (
    Router,
    otlp_sdk::trace::TracerProvider,
    otlp_sdk::metrics::MeterProvider,
) {
    let builder = otlp_sdk::trace::TracerProvider::builder();
    let builder = if sampled {
        builder.with_sampler(otlp_sdk::trace::ParentBased::new(otlp_sdk::trace::AlwaysOn))
    } else {
        builder.with_sampler(otlp_sdk::trace::AlwaysOff)
    };
    let tracer_provider = builder
        .with_batch_exporter(exporter.clone())
        .try_build()
        .unwrap();
    let meter_provider = otlp_sdk::metrics::MeterProvider::builder()
        .with_reader(otlp_sdk::metrics::ManualReader::default())
        .build();
    let layer = otlp_instrumentation::http::server::HttpServerLayer::new(
        tracer_provider.tracer("bench"),
        &meter_provider.meter("bench"),
    );
    let layer = if route {
        layer.with_route(|parts| {
            parts
                .extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
        })
    } else {
        layer
    };
    (app().layer(layer), tracer_provider, meter_provider)
}

/// opentelemetry-instrumentation-tower's layer over opentelemetry_sdk 0.33 providers,
/// installed as the globals (the only way its layer takes them).
fn theirs(
    sampled: bool,
    exporter: &Discard,
) -> (
    Router,
    opentelemetry_sdk::trace::SdkTracerProvider,
    opentelemetry_sdk::metrics::SdkMeterProvider,
) {
    use opentelemetry_sdk::trace::Sampler;
    let sampler = if sampled {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    } else {
        Sampler::AlwaysOff
    };
    let tracer_provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(exporter.clone())
        .build();
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(opentelemetry_sdk::metrics::ManualReader::builder().build())
        .build();
    opentelemetry::global::set_tracer_provider(tracer_provider.clone());
    opentelemetry::global::set_meter_provider(meter_provider.clone());
    opentelemetry::global::set_text_map_propagator(
        opentelemetry::propagation::TextMapCompositePropagator::new(vec![
            Box::new(opentelemetry_sdk::propagation::TraceContextPropagator::new()),
            Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
        ]),
    );
    let layer = opentelemetry_instrumentation_tower::http::server::LayerBuilder::builder()
        .build()
        .unwrap();
    (app().layer(layer), tracer_provider, meter_provider)
}

// ---------------------------------------------------------------------------------------------
// The run.

const CASES: [&str; 6] = [
    "baseline",
    "ours_sampled",
    "ours_sampled_no_route",
    "ours_unsampled",
    "theirs_sampled",
    "theirs_unsampled",
];

fn bench(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, router: &Router) {
    c.benchmark_group("http_server")
        .bench_function(name, |b| b.iter_custom(|iters| drive(rt, router, iters)));
}

fn run(c: &mut Criterion, rt: &tokio::runtime::Runtime, case: &str) {
    let exporter = Discard::default();
    match case {
        "baseline" => bench(c, rt, case, &app()),
        "ours_sampled" | "ours_sampled_no_route" | "ours_unsampled" => {
            let (router, tracer_provider, meter_provider) = ours(
                case != "ours_unsampled",
                case != "ours_sampled_no_route",
                &exporter,
            );
            bench(c, rt, case, &router);
            drop(router);
            let deadline = Instant::now() + Duration::from_secs(10);
            let _ = tracer_provider.shutdown(deadline);
            let _ = meter_provider.shutdown(deadline);
        }
        "theirs_sampled" | "theirs_unsampled" => {
            let (router, tracer_provider, meter_provider) =
                theirs(case == "theirs_sampled", &exporter);
            bench(c, rt, case, &router);
            drop(router);
            let _ = tracer_provider.shutdown();
            let _ = meter_provider.shutdown();
        }
        _ => unreachable!(),
    }
    if case != "baseline" {
        eprintln!("  ({case}: {} spans exported)", exporter.count());
    }
}

/// Criterion's median estimate of `http_server/<case>`, in ns per request.
fn median_ns(case: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = dir
        .join("criterion/http_server")
        .join(case)
        .join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn summary() {
    let Some(baseline) = median_ns("baseline") else {
        return;
    };
    let overhead = |case: &str| median_ns(case).map(|m| (m, m - baseline));
    println!("\nhttp_server: median per request, overhead = case - baseline");
    println!("{:<24} {:>10} {:>10}", "case", "median", "overhead");
    for case in CASES {
        if let Some((m, o)) = overhead(case) {
            println!("{case:<24} {m:>8.0}ns {o:>8.0}ns");
        }
    }
    for (ours, theirs) in [
        ("ours_sampled", "theirs_sampled"),
        ("ours_sampled_no_route", "theirs_sampled"),
        ("ours_unsampled", "theirs_unsampled"),
    ] {
        if let (Some((_, o)), Some((_, t))) = (overhead(ours), overhead(theirs)) {
            println!("{ours} / {theirs}: {:.2}", o / t);
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for case in CASES {
        run(&mut c, &rt, case);
    }
    c.final_summary();
    summary();
}
