//! `kill -9` with a persistent sending queue (`file_storage`) loses nothing acknowledged: the
//! destination is down, senders keep sending (traces, metrics and logs) while the collector
//! is killed mid-stream; a new collector on the same directory, once the destination is up,
//! delivers every item that was acknowledged before the kill.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;

fn config(grpc: SocketAddr, http: SocketAddr, sink: SocketAddr, storage: &Path) -> String {
    format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
extensions:
  file_storage/queue:
    directory: {storage}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
    compression: none
    timeout: 10s
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 300ms
      max_elapsed_time: 0
    sending_queue:
      storage: file_storage/queue
      sizer: items
      queue_size: 1000000
      num_consumers: 2
service:
  extensions: [file_storage/queue]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      exporters: [otlp]
    logs:
      receivers: [otlp]
      exporters: [otlp]
"#,
        storage = storage.display()
    )
}

#[derive(Default)]
struct Acked {
    spans: BTreeSet<u64>,
    points: BTreeSet<u64>,
    records: BTreeSet<u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_a_persistent_queue_loses_nothing_acknowledged() {
    let _timer = Timer::start("kill_9_with_a_persistent_queue");
    let storage = temp_dir("persistent-queue");
    let sink_addr = down_addr(); // down until the end
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir("persistent-config");
    let path = write(
        dir.path(),
        "collector.yaml",
        &config(grpc, http, sink_addr, storage.path()),
    );
    let mut first = start_collector("persistent-first", &path, &[]).await;

    // Senders: one per protocol, all three signals, until the collector dies under them.
    let acked = Arc::new(Mutex::new(Acked::default()));
    let requests = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let (acked, requests) = (acked.clone(), requests.clone());
        let client = client(
            protocol,
            if protocol == Protocol::Grpc {
                grpc
            } else {
                http
            },
        );
        senders.push(tokio::spawn(async move {
            for round in 0.. {
                let ids = ids(20);
                let result = match round % 3 {
                    0 => client.export(&traces(&ids, 128)).await,
                    1 => client.export(&metrics(&ids)).await,
                    _ => client.export(&logs(&ids)).await,
                };
                if result.is_err() {
                    return; // the collector is gone
                }
                let mut acked = acked.lock().unwrap();
                match round % 3 {
                    0 => acked.spans.extend(ids),
                    1 => acked.points.extend(ids),
                    _ => acked.records.extend(ids),
                }
                requests.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    wait_until(
        Duration::from_secs(20),
        || "300 acknowledged requests".into(),
        || requests.load(Ordering::Relaxed) >= 300,
    )
    .await;
    first.kill9();
    for sender in senders {
        tokio::time::timeout(Duration::from_secs(15), sender)
            .await
            .expect("senders stop")
            .unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!(
        "[e2e] persistent: killed with {} spans, {} points, {} records acknowledged",
        acked.spans.len(),
        acked.points.len(),
        acked.records.len()
    );

    // A new collector on the same directory; then the destination comes up.
    let mut second = start_collector("persistent-second", &path, &[]).await;
    let sink = RunningSink::start_on(sink_addr, ([127, 0, 0, 1], 0).into(), Sink::default()).await;
    let wait = sink.wait_for(
        "every acknowledged item after the restart",
        Duration::from_secs(25),
        |r| {
            acked.spans.iter().all(|id| r.spans.contains(id))
                && acked.points.iter().all(|id| r.point_ids.contains(id))
                && acked.records.iter().all(|id| r.log_ids.contains(id))
        },
    );
    if tokio::time::timeout(Duration::from_secs(26), wait)
        .await
        .is_err()
    {
        panic!(
            "acknowledged items lost\n{}\n{}",
            first.tail(),
            second.tail()
        );
    }
    second.terminate();
    let status = second.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(0), "{}", second.tail());
    sink.with(|r| {
        let duplicates = r.spans.len() - r.span_set().len();
        eprintln!(
            "[e2e] persistent: all delivered after the restart ({duplicates} duplicate spans)"
        );
    });
}
