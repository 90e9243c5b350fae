//! The command line and the embedded default configuration, on the built binary: `--help`,
//! `--version`, usage errors, `validate`, `components`, `print-default-config`, exit codes,
//! and the default configuration actually running and printing what it receives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;

#[test]
fn help_and_version_exit_zero() {
    let (code, stdout, _) = run_collector(&["--help"]);
    assert_eq!(code, Some(0));
    for needle in [
        "--config",
        "--set",
        "--shutdown-timeout",
        "--feature-gates",
        "validate",
        "components",
        "Exit status",
    ] {
        assert!(
            stdout.contains(needle),
            "--help does not mention {needle}:\n{stdout}"
        );
    }
    let (code, stdout, _) = run_collector(&["--version"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.trim(),
        format!("otlp-collector {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_one() {
    let (code, _, stderr) = run_collector(&["--no-such-flag"]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, _, stderr) = run_collector(&["--shutdown-timeout", "soon", "validate"]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, _, stderr) = run_collector(&["validate", "--set", "no-equals-sign"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("expected KEY=VALUE"), "{stderr}");
}

#[test]
fn print_default_config_is_the_embedded_file() {
    let (code, stdout, _) = run_collector(&["print-default-config"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, include_str!("../src/default_config.yaml"));
}

#[test]
fn components_lists_the_builtins() {
    let (code, stdout, stderr) = run_collector(&["components"]);
    assert_eq!(code, Some(0), "{stderr}");
    let line = |section: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{section}:")))
            .unwrap_or_default();
        line.split_once(':')
            .map(|(_, v)| v)
            .unwrap_or_default()
            .split(',')
            .filter_map(|s| s.split_whitespace().next().map(str::to_owned))
            .collect()
    };
    let expect = |section: &str, types: &[&str]| {
        let listed = line(section);
        for t in types {
            assert!(
                listed.iter().any(|l| l == t),
                "{section} does not list {t}:\n{stdout}"
            );
        }
    };
    expect(
        "receivers",
        &[
            "otlp",
            "kafka",
            "filelog",
            "fluentforward",
            "hostmetrics",
            "prometheus",
            "zipkin",
            "jaeger",
        ],
    );
    expect(
        "processors",
        &[
            "batch",
            "memory_limiter",
            "attributes",
            "resource",
            "filter",
            "probabilistic_sampler",
            "transform",
            "tail_sampling",
            "resourcedetection",
            "metricstransform",
        ],
    );
    expect(
        "exporters",
        &[
            "otlp",
            "otlphttp",
            "debug",
            "file",
            "kafka",
            "loadbalancing",
            "prometheus",
            "prometheusremotewrite",
            "zipkin",
        ],
    );
    expect(
        "connectors",
        &["forward", "routing", "count", "spanmetrics", "servicegraph"],
    );
    // Aliases are listed beside their type.
    for (section, entry) in [
        ("exporters", "otlphttp (otlp_http)"),
        ("exporters", "debug (logging)"),
        ("exporters", "otlp (otlp_grpc)"),
        ("processors", "resourcedetection (resource_detection)"),
        ("connectors", "spanmetrics (span_metrics)"),
        ("receivers", "filelog (file_log)"),
        ("receivers", "hostmetrics (host_metrics)"),
        ("receivers", "fluentforward (fluent_forward)"),
        ("processors", "metricstransform (metrics_transform)"),
        (
            "exporters",
            "prometheusremotewrite (prometheus_remote_write)",
        ),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{section}:")))
            .unwrap_or_default();
        assert!(line.contains(entry), "{section} lacks {entry}: {line}");
    }
    expect(
        "extensions",
        &[
            "health_check",
            "healthcheckv2",
            "file_storage",
            "bearertokenauth",
            "pprof",
            "zpages",
        ],
    );
}

#[test]
fn validate_accepts_the_default_configuration() {
    let (code, stdout, stderr) = run_collector(&["validate"]);
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.starts_with("embedded default configuration: valid"),
        "{stdout}"
    );
    for pipeline in ["traces", "metrics", "logs"] {
        assert!(
            stdout.contains(&format!(
                "pipeline {pipeline}: otlp → memory_limiter, batch → debug"
            )),
            "{stdout}"
        );
    }
}

#[test]
fn validate_accepts_feature_gates() {
    // Accepted like the Go Collector's flag (comma-separated, `-` disables, repeatable, before
    // or after the subcommand); this build has no gates, so naming one is not an error.
    for args in [
        &[
            "validate",
            "--feature-gates=service.profilesSupport,-exporter.x",
        ][..],
        &[
            "--feature-gates",
            "+a.b",
            "--feature-gates",
            "c",
            "validate",
        ][..],
    ] {
        let (code, stdout, stderr) = run_collector(args);
        assert_eq!(
            code,
            Some(0),
            "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stdout.starts_with("embedded default configuration: valid"),
            "{stdout}"
        );
        assert!(
            stderr.contains("warning: ") && stderr.contains("feature gate"),
            "the gates are reported as not known: {stderr}"
        );
    }
    let (code, _, stderr) = run_collector(&["validate", "--feature-gates", "bad gate"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("invalid feature gate \"bad gate\""),
        "{stderr}"
    );
}

#[test]
fn a_port_in_use_is_a_runtime_failure() {
    // Something else holds the port: the configuration is valid, starting fails → exit 2.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let grpc = format!("--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:{port}");
    let http = format!(
        "--set=receivers::otlp::protocols::http::endpoint=127.0.0.1:{}",
        free_port()
    );
    let metrics = format!(
        "--set=service::telemetry::metrics::address=127.0.0.1:{}",
        free_port()
    );
    let (code, _, stderr) = run_collector(&[&grpc, &http, &metrics]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&port.to_string()),
        "the error names the address:\n{stderr}"
    );
    drop(held);
}

/// `cargo run -p otlp-collector` with no argument: the embedded default configuration (only its
/// ports moved, so that tests can run side by side) receives a span and a log record and the
/// debug exporter prints them; SIGTERM exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_configuration_runs_and_prints_what_it_receives() {
    let _timer = Timer::start("default_configuration_runs_and_prints_what_it_receives");
    let grpc = free_addr();
    let http = free_addr();
    let args = [
        format!("--set=receivers::otlp::protocols::grpc::endpoint={grpc}"),
        format!("--set=receivers::otlp::protocols::http::endpoint={http}"),
        format!(
            "--set=service::telemetry::metrics::address=127.0.0.1:{}",
            free_port()
        ),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut collector = collector("default-config", &args);
    collector
        .wait_for_output(READY, Duration::from_secs(15))
        .await;
    let log = collector.stderr();
    assert!(
        log.contains("embedded default configuration"),
        "the log names the configuration:\n{log}"
    );

    let ids = ids(3);
    client(Protocol::Grpc, grpc)
        .export(&traces(&ids, 0))
        .await
        .expect("traces over gRPC");
    client(Protocol::HttpProtobuf, http)
        .export(&logs(&ids))
        .await
        .expect("logs over HTTP");
    client(Protocol::HttpProtobuf, http)
        .export(&metrics(&ids))
        .await
        .expect("metrics over HTTP");

    // The debug exporter (verbosity basic) reports each batch; the batch processor flushes
    // within its 200 ms default timeout.
    wait_until(
        Duration::from_secs(10),
        || format!("the debug exporter's output\n{}", collector.tail()),
        || {
            let out = format!("{}{}", collector.stdout(), collector.stderr());
            debug_output_mentions(&out, "spans", 3)
                && debug_output_mentions(&out, "log records", 3)
                && debug_output_mentions(&out, "data points", 3)
        },
    )
    .await;

    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
    assert!(
        collector.stderr().contains("shutdown complete"),
        "{}",
        collector.tail()
    );
}

/// Whether the debug exporter's output reports `n` items of `unit` in one line (its `basic`
/// verbosity logs one summary per batch, as otelcol's does: `Traces {"resource spans": 1,
/// "spans": 3}`).
fn debug_output_mentions(out: &str, unit: &str, n: usize) -> bool {
    out.lines()
        .any(|line| line.contains(&format!("\"{unit}\": {n}")))
}
