//! Interop, both directions at once: OUR exporter → rotel (an OTLP collector written in Rust,
//! on tonic and hyper) → OUR receiver.
//!
//! The first hop tests our exporter against rotel's receivers (gRPC and OTLP/HTTP protobuf,
//! plain and gzip); the second tests rotel's OTLP exporter (gRPC or HTTP, plain or gzip)
//! against our receiver. Every case sends 500 spans in 5 requests, 7 metrics of every type
//! with 4 data points each, and 100 log records in 4 requests, all built to use every field a
//! forwarder could lose (`interop_support::corpus`), and checks that each item arrives once,
//! whole (compared as protobuf structs), with its resource and scope, and that the second hop
//! used the protocol and encoding rotel was told to use.
#![cfg(all(
    feature = "client",
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "json",
    feature = "gzip"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod interop_support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use interop_support::checks::{check_logs, check_metrics, check_spans};
use interop_support::corpus;
use interop_support::{ChildGuard, Peer, Recorded, Timer, free_port, start_receiver};
use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig};
use otlp_transport::server::{ContentType, Transport};
use otlp_transport::{Compression, ExportRequest as _, Refusal};

const TRACE_REQUESTS: u64 = 5;
const SPANS_PER_REQUEST: u64 = 100;
const LOG_REQUESTS: u64 = 4;
const LOGS_PER_REQUEST: u64 = 25;
const POINTS_PER_METRIC: u64 = 4;

struct Case {
    name: &'static str,
    /// Our exporter → rotel.
    ours: Protocol,
    ours_compression: Compression,
    /// rotel → our receiver.
    hop: Transport,
    hop_compression: Compression,
    /// Our receiver refuses rotel's first trace request (retryable, advising 1 s).
    refuse_first: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_grpc_both_hops() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "grpc",
            ours: Protocol::Grpc,
            ours_compression: Compression::None,
            hop: Transport::Grpc,
            hop_compression: Compression::None,
            refuse_first: false,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_http_both_hops() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "http",
            ours: Protocol::HttpProtobuf,
            ours_compression: Compression::None,
            hop: Transport::Http,
            hop_compression: Compression::None,
            refuse_first: false,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_grpc_gzip_both_hops() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "grpc-gzip",
            ours: Protocol::Grpc,
            ours_compression: Compression::Gzip,
            hop: Transport::Grpc,
            hop_compression: Compression::Gzip,
            refuse_first: false,
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_http_gzip_both_hops() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "http-gzip",
            ours: Protocol::HttpProtobuf,
            ours_compression: Compression::Gzip,
            hop: Transport::Http,
            hop_compression: Compression::Gzip,
            refuse_first: false,
        },
    )
    .await;
}

/// Our OTLP/JSON encoding against rotel's OTLP/JSON decoder (hex ids, 64-bit integers as
/// strings, bytes as base64, nested values), then protobuf to our receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_http_json_first_hop() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "http-json",
            ours: Protocol::HttpJson,
            ours_compression: Compression::None,
            hop: Transport::Http,
            hop_compression: Compression::Gzip,
            refuse_first: false,
        },
    )
    .await;
}

/// A canary for the rotel bug worked around above: an `asInt` gauge sent by our http/json
/// exporter (`"asInt": "-3"`, proto3 JSON's form for int64) reaches our receiver with no value
/// at all, while the same request as http/protobuf arrives intact. If this fails after a peer
/// upgrade, rotel was fixed: widen `metrics_rotel_json_safe` and delete this test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_json_loses_string_encoded_ints_known_peer_bug() {
    let rotel = require_peer!(Peer::Rotel);
    let _timer = Timer::start("rotel json canary");
    let (recorder, receiver) = start_receiver().await;
    let case = Case {
        name: "json-canary",
        ours: Protocol::HttpJson,
        ours_compression: Compression::None,
        hop: Transport::Http,
        hop_compression: Compression::Gzip,
        refuse_first: false,
    };
    let (mut child, _, rotel_http) =
        start_rotel(&rotel, &case, receiver.http_local_addr().unwrap()).await;
    let mut request = corpus::metrics(1);
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .retain(|m| m.name == "interop.gauge.int");
    request.resource_metrics[0].scope_metrics[0].metrics[0].data = Some(
        otlp_proto::metrics::v1::metric::Data::Gauge(otlp_proto::metrics::v1::Gauge {
            data_points: vec![otlp_proto::metrics::v1::NumberDataPoint {
                time_unix_nano: corpus::BASE_TIME,
                value: Some(otlp_proto::metrics::v1::number_data_point::Value::AsInt(-3)),
                ..Default::default()
            }],
        }),
    );
    for protocol in [Protocol::HttpJson, Protocol::HttpProtobuf] {
        let exporter = OtlpExporter::builder()
            .protocol(protocol)
            .endpoint(format!("http://{rotel_http}"))
            .retry(RetryConfig::disabled())
            .build()
            .unwrap();
        exporter
            .export(&request)
            .await
            .unwrap_or_else(|e| panic!("{protocol} to rotel: {e}"));
        let before = recorder.with(|r| r.metrics.len());
        if let Err(message) = recorder
            .wait_until("the gauge through rotel", Duration::from_secs(10), |r| {
                r.metrics.len() > before
            })
            .await
        {
            panic!("{message}\n{}", child.output_tail());
        }
    }
    child.assert_running();
    recorder.with(|recorded| {
        let values: Vec<_> = recorded
            .metrics
            .iter()
            .map(|(request, _)| {
                match &request.resource_metrics[0].scope_metrics[0].metrics[0].data {
                    Some(otlp_proto::metrics::v1::metric::Data::Gauge(g)) => g.data_points[0].value,
                    other => panic!("not the gauge: {other:?}"),
                }
            })
            .collect();
        let as_int = Some(otlp_proto::metrics::v1::number_data_point::Value::AsInt(-3));
        assert_eq!(
            values,
            vec![None, as_int],
            "via http/json (value lost by rotel), then via http/protobuf"
        );
    });
    receiver.shutdown(Duration::from_secs(5)).await;
}

/// rotel's exporter meets our retryable refusal (gRPC UNAVAILABLE with RetryInfo 1 s) on its
/// first trace request: it must retry, and every span must still arrive exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_grpc_retries_after_our_unavailable() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "grpc-retry",
            ours: Protocol::Grpc,
            ours_compression: Compression::None,
            hop: Transport::Grpc,
            hop_compression: Compression::Gzip,
            refuse_first: true,
        },
    )
    .await;
}

/// The same over HTTP: 503 with `Retry-After: 1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotel_http_retries_after_our_503() {
    let rotel = require_peer!(Peer::Rotel);
    run(
        &rotel,
        Case {
            name: "http-retry",
            ours: Protocol::HttpProtobuf,
            ours_compression: Compression::None,
            hop: Transport::Http,
            hop_compression: Compression::Gzip,
            refuse_first: true,
        },
    )
    .await;
}

/// Starts rotel between our exporter and our receiver; returns it with its gRPC and HTTP
/// receiver addresses once both listen.
async fn start_rotel(
    rotel: &Path,
    case: &Case,
    next_hop: SocketAddr,
) -> (ChildGuard, SocketAddr, SocketAddr) {
    let grpc: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let http: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let dir = interop_support::temp_dir(&format!("rotel-{}", case.name));
    let mut command = Command::new(rotel);
    command
        .arg("start")
        .args(["--otlp-grpc-endpoint", &grpc.to_string()])
        .args(["--otlp-http-endpoint", &http.to_string()])
        .args(["--exporter", "otlp"])
        .args(["--otlp-exporter-endpoint", &format!("http://{next_hop}")])
        .args([
            "--otlp-exporter-protocol",
            if case.hop == Transport::Grpc {
                "grpc"
            } else {
                "http"
            },
        ])
        .args([
            "--otlp-exporter-compression",
            if case.hop_compression == Compression::Gzip {
                "gzip"
            } else {
                "none"
            },
        ])
        // Short batches: requests are forwarded within ~50 ms rather than held for 200 ms.
        .args(["--batch-timeout", "50ms"])
        // Retries within the test's time: 200 ms, at most 2 s apart (defaults: 5 s, 30 s).
        .args(["--otlp-exporter-retry-initial-backoff", "200ms"])
        .args(["--otlp-exporter-retry-max-backoff", "2s"])
        .arg("--pid-file")
        .arg(dir.path().join("rotel.pid"))
        .arg("--log-file")
        .arg(dir.path().join("rotel.log"))
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut child = ChildGuard::spawn_in(&format!("rotel-{}", case.name), &mut command, dir);
    child.wait_listening(grpc, Duration::from_secs(10)).await;
    child.wait_listening(http, Duration::from_secs(10)).await;
    (child, grpc, http)
}

async fn run(rotel: &Path, case: Case) {
    let _timer = Timer::start(case.name);
    let (recorder, receiver) = start_receiver().await;
    if case.refuse_first {
        recorder.with_mut(|r| {
            r.refuse_traces.push_back(
                Refusal::retryable("queue full").with_retry_after(Duration::from_secs(1)),
            );
        });
    }
    let next_hop = match case.hop {
        Transport::Grpc => receiver.grpc_local_addr(),
        Transport::Http => receiver.http_local_addr(),
    }
    .unwrap();
    let (mut child, rotel_grpc, rotel_http) = start_rotel(rotel, &case, next_hop).await;

    let target = if case.ours == Protocol::Grpc {
        rotel_grpc
    } else {
        rotel_http
    };
    let exporter = OtlpExporter::builder()
        .protocol(case.ours)
        .endpoint(format!("http://{target}"))
        .compression(case.ours_compression)
        .timeout(Duration::from_secs(5))
        .retry(
            RetryConfig::default()
                .with_initial_interval(Duration::from_millis(50))
                .with_max_interval(Duration::from_millis(500))
                .with_max_elapsed_time(Duration::from_secs(10)),
        )
        .build()
        .expect("building our exporter");

    let traces = corpus::traces(0, TRACE_REQUESTS, SPANS_PER_REQUEST);
    // rotel 0.0.1a15's OTLP/JSON receiver silently loses data (answering 200): metrics with
    // exemplars, summaries, exponential histograms, histograms whose counts are JSON strings,
    // and `asInt` values written as JSON strings, the form proto3 JSON gives 64-bit integers
    // (see `corpus::metrics_rotel_json_safe`). Its bug, not ours: reproduced with hand-written
    // bodies, where the same values as JSON numbers pass. So the JSON case sends only what it
    // keeps, and `rotel_json_loses_string_encoded_ints` pins the bug down.
    let metrics = if case.ours == Protocol::HttpJson {
        corpus::metrics_rotel_json_safe(POINTS_PER_METRIC)
    } else {
        corpus::metrics(POINTS_PER_METRIC)
    };
    let logs = corpus::logs(0, LOG_REQUESTS, LOGS_PER_REQUEST);
    for request in &traces {
        let outcome = exporter
            .export(request)
            .await
            .unwrap_or_else(|e| panic!("exporting traces to rotel: {e}\n{}", child.output_tail()));
        assert_eq!(outcome.partial_success, None, "rotel rejected spans");
    }
    let outcome = exporter
        .export(&metrics)
        .await
        .unwrap_or_else(|e| panic!("exporting metrics to rotel: {e}"));
    assert_eq!(outcome.partial_success, None);
    for request in &logs {
        let outcome = exporter
            .export(request)
            .await
            .unwrap_or_else(|e| panic!("exporting logs to rotel: {e}"));
        assert_eq!(outcome.partial_success, None);
    }

    let spans = (TRACE_REQUESTS * SPANS_PER_REQUEST) as usize;
    let records = (LOG_REQUESTS * LOGS_PER_REQUEST) as usize;
    let points = metrics.item_count();
    let what =
        format!("{spans} spans, {points} data points and {records} log records through rotel");
    let waited = recorder
        .wait_until(&what, Duration::from_secs(15), |r| {
            r.span_count() >= spans && r.log_count() >= records && r.data_point_count() >= points
        })
        .await;
    if let Err(message) = waited {
        panic!("{message}\n{}", child.output_tail());
    }
    child.assert_running();

    recorder.with(|recorded| {
        let refused = recorded.trace_arrivals.iter().filter(|(_, refused)| *refused).count();
        assert_eq!(refused, usize::from(case.refuse_first), "refused trace requests");
        if case.refuse_first {
            let arrivals = &recorded.trace_arrivals;
            assert!(arrivals.len() >= 2 && !arrivals[1].1, "rotel retried the refused request: {arrivals:?}");
            eprintln!(
                "[interop] rotel {}: retried {:.2?} after our refusal advising 1 s",
                case.name,
                arrivals[1].0 - arrivals[0].0
            );
        }
        check_second_hop(recorded, &case);
        check_spans(recorded, &traces);
        check_metrics(recorded, &metrics);
        check_logs(recorded, &logs);
        eprintln!(
            "[interop] rotel {}: {} spans in {} requests, {} data points, {} log records in {} requests arrived intact",
            case.name,
            recorded.span_count(),
            recorded.traces.len(),
            recorded.data_point_count(),
            recorded.log_count(),
            recorded.logs.len()
        );
    });
    receiver.shutdown(Duration::from_secs(5)).await;
}

fn check_second_hop(recorded: &Recorded, case: &Case) {
    let content_type = if case.hop == Transport::Grpc {
        ContentType::Grpc
    } else {
        ContentType::Protobuf
    };
    let seen: Vec<String> = recorded
        .contexts()
        .map(|c| {
            format!(
                "{}: {:?} {:?} {:?}",
                c.signal, c.transport, c.content_type, c.compression
            )
        })
        .collect();
    for context in recorded.contexts() {
        assert_eq!(
            context.transport, case.hop,
            "{}: rotel's exporter transport; all: {seen:?}",
            context.signal
        );
        assert_eq!(
            context.content_type, content_type,
            "{}: rotel's body format; all: {seen:?}",
            context.signal
        );
        // rotel 0.0.1a15 ignores `--otlp-exporter-compression none` (and the per-signal
        // flags): it gzips every export whatever it is told (checked against a plain HTTP
        // server: `content-encoding: gzip`). So "none" accepts either; gzip must be gzip.
        let allowed: &[Compression] = match case.hop_compression {
            Compression::None => &[Compression::None, Compression::Gzip],
            _ => std::slice::from_ref(&case.hop_compression),
        };
        assert!(
            allowed.contains(&context.compression),
            "{}: rotel's content encoding {:?}, expected one of {allowed:?}; all: {seen:?}",
            context.signal,
            context.compression
        );
    }
}
