//! The OpenTelemetry Python SDK (1.x, its own OTLP exporters) → otlp-collector → a test sink,
//! for traces, metrics and logs, over OTLP/gRPC (collector exporting with `otlp`) and
//! OTLP/HTTP (collector exporting with `otlphttp`). Every span the SDK made arrives with its
//! span id, every log record and both metrics arrive, and the SDK saw success for each export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use otlp_proto::common::v1::any_value;
use support::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Grpc,
    Http,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_grpc_through_the_collector() {
    let python = require_peer!(Peer::Python);
    run(&python, Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_http_through_the_collector() {
    let python = require_peer!(Peer::Python);
    run(&python, Transport::Http).await;
}

fn config(grpc: SocketAddr, http: SocketAddr, transport: Transport, sink: &RunningSink) -> String {
    let exporter = match transport {
        Transport::Grpc => format!(
            "otlp:\n    endpoint: {}\n    tls:\n      insecure: true",
            sink.grpc
        ),
        Transport::Http => format!("otlphttp:\n    endpoint: http://{}", sink.http),
    };
    let id = if transport == Transport::Grpc {
        "otlp"
    } else {
        "otlphttp"
    };
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
  memory_limiter:
    check_interval: 1s
    limit_mib: 1024
  batch:
    timeout: 100ms
exporters:
  {exporter}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [{id}]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [{id}]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [{id}]
"#
    )
}

async fn run(python: &Path, transport: Transport) {
    let name = if transport == Transport::Grpc {
        "python-grpc"
    } else {
        "python-http"
    };
    let _timer = Timer::start(if transport == Transport::Grpc {
        "python_grpc"
    } else {
        "python_http"
    });
    let sink = RunningSink::start().await;
    let (grpc, http) = (free_addr(), free_addr());
    let dir = temp_dir(name);
    let path = write(
        dir.path(),
        "collector.yaml",
        &config(grpc, http, transport, &sink),
    );
    let mut collector = start_collector(name, &path, &[]).await;

    let tag = format!("{name}-{}", std::process::id());
    let endpoint = format!(
        "http://{}",
        if transport == Transport::Grpc {
            grpc
        } else {
            http
        }
    );
    let mut command = Command::new(python);
    command
        .arg(peer_file("python_send.py"))
        .args([
            "--transport",
            if transport == Transport::Grpc {
                "grpc"
            } else {
                "http"
            },
        ])
        .args(["--endpoint", &endpoint])
        .args(["--tag", &tag])
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .env("OTEL_SDK_DISABLED", "false");
    let mut sdk = Proc::spawn(name, command);
    let status = sdk.wait_exit(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "the Python SDK reported a failed export\n{}\n{}",
        sdk.tail(),
        collector.tail()
    );
    let summary: serde_json::Value =
        serde_json::from_str(sdk.stdout().trim()).expect("the SDK's JSON summary");
    let span_ids: BTreeSet<u64> = summary["span_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| u64::from_str_radix(v.as_str().unwrap(), 16).unwrap())
        .collect();
    let logs = summary["logs"].as_u64().unwrap() as usize;
    assert_eq!(span_ids.len(), 5);

    sink.wait_for(
        "the SDK's spans, metrics and logs",
        Duration::from_secs(15),
        |r| {
            span_ids.iter().all(|id| r.spans.contains(id))
                && tagged_logs(r, &tag) >= logs
                && metric_names(r).len() >= 2
        },
    )
    .await;
    collector.terminate();
    let exit = collector.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(exit.code(), Some(0), "{}", collector.tail());

    sink.with(|r| {
        assert_eq!(r.span_set(), span_ids, "exactly the SDK's spans");
        assert_eq!(tagged_logs(r, &tag), logs, "every log record once");
        let names = metric_names(r);
        assert!(
            names.contains("e2e.python.requests") && names.contains("e2e.python.latency"),
            "metrics: {names:?}"
        );
        let expected = if transport == Transport::Grpc { "Grpc" } else { "Http" };
        assert!(r.transports.iter().all(|t| t == expected), "the collector exported over {:?}", r.transports);
        // The resource the SDK set travelled through the collector unchanged.
        let service = r.traces[0].resource_spans[0]
            .resource
            .as_ref()
            .and_then(|res| res.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.as_ref());
        assert!(
            matches!(service, Some(any_value::Value::StringValue(s)) if s.starts_with("e2e-python-")),
            "service.name: {service:?}"
        );
    });
}

fn tagged_logs(r: &Received, tag: &str) -> usize {
    r.logs
        .iter()
        .flat_map(|req| &req.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .filter(|l| {
            l.attributes.iter().any(|kv| {
                kv.key == "e2e.tag"
                    && matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(any_value::Value::StringValue(s)) if s == tag)
            })
        })
        .count()
}

fn metric_names(r: &Received) -> BTreeSet<String> {
    r.metrics
        .iter()
        .flat_map(|req| &req.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| m.name.clone())
        .collect()
}
