//! `examples/custom_collector.rs` (the collector of `docs/custom-collector.md`) works as the
//! guide says: its `redact` processor runs between the `otlp` receiver and exporter it picked,
//! several `--config` merge, and SIGTERM drains and exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use otlp_proto::common::v1::any_value;
use otlp_transport::client::Protocol;
use support::*;

/// The example's binary, beside the collector's: `cargo test` builds examples with the tests.
/// Built here only when it is missing or older than its source (a run of one test target).
fn example() -> PathBuf {
    let binary = Path::new(COLLECTOR)
        .parent()
        .unwrap()
        .join("examples")
        .join("custom_collector");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/custom_collector.rs");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&binary), modified(&source)), (Some(b), Some(s)) if b >= s);
    if !fresh {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "otlp-examples",
                "--example",
                "custom_collector",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example");
        assert!(status.success(), "building the example failed");
    }
    binary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_custom_collector_example_redacts_and_drains() {
    let _timer = Timer::start("the_custom_collector_example_redacts_and_drains");
    let binary = example();
    let sink = RunningSink::start().await;
    let grpc = free_addr();
    let dir = temp_dir("example-config");
    let base = write(
        dir.path(),
        "collector.yaml",
        &format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
processors:
  redact:
    keys: [user.email]
  batch:
    timeout: 5s
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [redact, batch]
      exporters: [otlp]
"#,
            sink = sink.grpc
        ),
    );
    // A second file merged over the first, as with the real binary.
    let overlay = write(
        dir.path(),
        "overlay.yaml",
        "processors:\n  redact:\n    keys: [user.email, user.phone]\n",
    );
    let mut command = Command::new(&binary);
    command
        .arg("--config")
        .arg(&base)
        .arg("--config")
        .arg(&overlay);
    let mut collector = Proc::spawn("custom-collector", command);
    collector
        .wait_listening(grpc, Duration::from_secs(15))
        .await;

    let ids = ids(2);
    let mut request = traces(&ids, 0);
    for span in &mut request.resource_spans[0].scope_spans[0].spans {
        span.attributes
            .push(kv_str("user.email", "someone@example.com"));
        span.attributes.push(kv_str("user.phone", "+1 555 0100"));
        span.attributes.push(kv_str("http.route", "/orders"));
    }
    client(Protocol::Grpc, grpc)
        .export(&request)
        .await
        .expect("accepted");

    // The batch processor holds the spans (5 s timeout); SIGTERM flushes them.
    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(0), "{}", collector.tail());
    sink.with(|r| {
        assert_eq!(r.spans.len(), 2, "{}", r.summary());
        for span in r
            .traces
            .iter()
            .flat_map(|t| &t.resource_spans)
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
        {
            let value = |key: &str| {
                span.attributes
                    .iter()
                    .find(|kv| kv.key == key)
                    .and_then(|kv| kv.value.as_ref()?.value.clone())
            };
            let text = |v: Option<any_value::Value>| match v {
                Some(any_value::Value::StringValue(s)) => s,
                other => format!("{other:?}"),
            };
            assert_eq!(text(value("user.email")), "***");
            assert_eq!(text(value("user.phone")), "***");
            assert_eq!(text(value("http.route")), "/orders");
        }
    });
}
