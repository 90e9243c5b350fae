//! Flush and shutdown return by their deadline, from any thread or runtime flavour, with the
//! destination down or hanging, and say what was not exported.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use otlp_sdk::export::{BatchSettings, Signal, otlp_exporter};
use otlp_sdk::trace::TracerProvider;

/// A destination that accepts connections and never answers.
fn hanging_destination() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, endpoint)
}

/// A destination where nothing listens.
fn closed_destination() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    endpoint
}

fn provider(endpoint: &str, protocol: &str) -> TracerProvider {
    let env = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ]);
    let exporter = otlp_exporter(Signal::Traces, &env).expect("exporter");
    let settings = BatchSettings {
        scheduled_delay: Duration::from_millis(50),
        ..BatchSettings::spans()
    };
    TracerProvider::builder()
        .with_batch_exporter_settings(exporter, settings)
        .build()
}

/// Ends 100 spans, then shuts down with a 700 ms deadline and checks the call returned in
/// time and reported every span as not exported.
fn check_shutdown_returns_in_time(provider: &TracerProvider) {
    let tracer = provider.tracer("t");
    for _ in 0..100 {
        tracer.start("s").end();
    }
    std::thread::sleep(Duration::from_millis(100)); // let an export start and hang
    let started = Instant::now();
    let result = provider.shutdown(started + Duration::from_millis(700));
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "shutdown took {took:?}");
    let error = result.expect_err("nothing could be exported");
    assert_eq!(error.not_exported(), 100, "{error}");
}

#[test]
fn shutdown_with_a_hanging_destination_on_a_plain_thread() {
    for protocol in ["grpc", "http/protobuf"] {
        let (_listener, endpoint) = hanging_destination();
        check_shutdown_returns_in_time(&provider(&endpoint, protocol));
    }
}

#[test]
fn shutdown_with_a_closed_destination_inside_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let endpoint = closed_destination();
    runtime.block_on(async {
        // Inside the runtime's only thread: must neither panic nor deadlock.
        check_shutdown_returns_in_time(&provider(&endpoint, "http/protobuf"));
    });
}

#[test]
fn shutdown_with_a_hanging_destination_inside_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (_listener, endpoint) = hanging_destination();
    runtime.block_on(async {
        let provider = provider(&endpoint, "grpc");
        tokio::task::spawn_blocking(move || check_shutdown_returns_in_time(&provider))
            .await
            .expect("task");
    });
}

#[test]
fn flush_with_the_destination_down_returns_by_its_deadline() {
    let provider = provider(&closed_destination(), "grpc");
    let tracer = provider.tracer("t");
    for _ in 0..10 {
        tracer.start("s").end();
    }
    let started = Instant::now();
    let error = provider
        .force_flush(started + Duration::from_millis(500))
        .expect_err("the destination is down");
    assert!(
        started.elapsed() < Duration::from_millis(1300),
        "{:?}",
        started.elapsed()
    );
    assert!(error.not_exported() > 0, "{error}");
    // Dropping the provider shuts it down within its own bound (5 s) even so.
    let started = Instant::now();
    drop((tracer, provider));
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[test]
fn metrics_shutdown_with_a_hanging_destination_returns_in_time() {
    use otlp_sdk::metrics::{MeterProvider, PeriodicReader, PeriodicSettings};
    let (_listener, endpoint) = hanging_destination();
    let env = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    let reader = PeriodicReader::new(
        otlp_exporter(Signal::Metrics, &env).expect("exporter"),
        PeriodicSettings {
            interval: Duration::from_millis(50),
            ..PeriodicSettings::default()
        },
    )
    .expect("reader");
    let provider = MeterProvider::builder().with_reader(reader).build();
    provider.meter("m").u64_counter("c").build().add(1, &[]);
    std::thread::sleep(Duration::from_millis(200)); // an export starts and hangs
    let started = Instant::now();
    let result = provider.shutdown(started + Duration::from_millis(700));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(result.is_err(), "the metrics could not be exported");
}
