//! Shutdown semantics on the built binary:
//!
//! - SIGTERM under load: every item acknowledged before (and during) the drain is exported
//!   before the process exits 0 — including what sat in the batch processor and the sending
//!   queue when the signal came;
//! - `--shutdown-timeout`: with the destination down, the drain gives up at the deadline and
//!   the exit status is 2;
//! - a second signal during the drain exits at once, with status 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use otlp_transport::client::Protocol;
use support::*;

fn config(
    grpc: SocketAddr,
    http: SocketAddr,
    destination: SocketAddr,
    batch_timeout: &str,
) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    timeout: {batch_timeout}
    send_batch_size: 2000
exporters:
  otlp:
    endpoint: {destination}
    tls:
      insecure: true
    compression: none
    timeout: 10s
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 300ms
      max_elapsed_time: 0
    sending_queue:
      sizer: items
      queue_size: 200000
      num_consumers: 2
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exports_everything_acknowledged() {
    let _timer = Timer::start("sigterm_under_load");
    let sink = RunningSink::start().await;
    // A slow destination, so that the queue holds data when the signal comes.
    sink.set_delay(Duration::from_millis(100));
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("sigterm-config");
    let path = write(
        dir.path(),
        "collector.yaml",
        &config(grpc, http, sink.grpc, "2s"),
    );
    let mut collector =
        start_collector("sigterm-under-load", &path, &["--shutdown-timeout", "25s"]).await;

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for s in 0..3 {
        let (acked, stop) = (acked.clone(), stop.clone());
        let client = if s == 1 {
            client(Protocol::HttpProtobuf, http)
        } else {
            client(Protocol::Grpc, grpc)
        };
        senders.push(tokio::spawn(async move {
            let mut failures = 0;
            while !stop.load(Ordering::Relaxed) {
                let ids = ids(50);
                match client.export(&traces(&ids, 256)).await {
                    Ok(_) => acked.lock().unwrap().extend(ids),
                    // After the signal the receivers stop: refusals and closed connections.
                    Err(_) => {
                        failures += 1;
                        if failures > 20 {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    wait_until(
        Duration::from_secs(20),
        || "5000 acknowledged spans".into(),
        || acked.lock().unwrap().len() >= 5_000,
    )
    .await;
    let acked_at_signal = acked.lock().unwrap().len();
    let delivered_at_signal = sink.with(|r| r.spans.len());
    let signalled = Instant::now();
    collector.terminate();

    let status = collector.wait_exit(Duration::from_secs(30)).await;
    let drain = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
    let acked = acked.lock().unwrap().clone();
    sink.with(|r| {
        let received = r.span_set();
        let lost: Vec<&u64> = acked.difference(&received).take(5).collect();
        assert!(
            lost.is_empty(),
            "{} of {} acknowledged spans were not exported before exit (e.g. {lost:?})\n{}",
            acked.difference(&received).count(),
            acked.len(),
            collector.tail()
        );
        eprintln!(
            "[e2e] sigterm: {acked_at_signal} spans acknowledged and {delivered_at_signal} delivered at the signal; \
             {} acknowledged in all, all {} delivered; drain took {drain:.2?}",
            acked.len(),
            received.len()
        );
    });
    assert!(
        delivered_at_signal < acked_at_signal,
        "the test proves nothing unless data was pending at the signal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_bounds_the_drain() {
    let _timer = Timer::start("the_shutdown_deadline_bounds_the_drain");
    let destination = down_addr(); // down: the queue can never drain
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("deadline-config");
    let path = write(
        dir.path(),
        "collector.yaml",
        &config(grpc, http, destination, "50ms"),
    );
    let mut collector = start_collector("deadline", &path, &["--shutdown-timeout", "1s"]).await;
    client(Protocol::Grpc, grpc)
        .export(&traces(&ids(10), 0))
        .await
        .expect("queued");

    let signalled = Instant::now();
    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(10)).await;
    let took = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(2),
        "data left undelivered at the deadline is a failure\n{}",
        collector.tail()
    );
    assert!(
        took < Duration::from_secs(5),
        "the drain took {took:?} with a 1 s deadline"
    );
    assert!(
        collector.stderr().contains("shutdown"),
        "{}",
        collector.tail()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let _timer = Timer::start("a_second_signal_exits_at_once");
    let destination = down_addr(); // down: the drain waits for the whole deadline
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("second-signal-config");
    let path = write(
        dir.path(),
        "collector.yaml",
        &config(grpc, http, destination, "50ms"),
    );
    let mut collector =
        start_collector("second-signal", &path, &["--shutdown-timeout", "60s"]).await;
    client(Protocol::Grpc, grpc)
        .export(&traces(&ids(10), 0))
        .await
        .expect("queued");

    collector.terminate();
    collector
        .wait_for_output("shutting down", Duration::from_secs(5))
        .await;
    let second = Instant::now();
    collector.signal(libc::SIGINT);
    let status = collector.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(2), "{}", collector.tail());
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "took {:?}",
        second.elapsed()
    );
    assert!(
        collector.stderr().contains("second signal"),
        "{}",
        collector.tail()
    );
}
