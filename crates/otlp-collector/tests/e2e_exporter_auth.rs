//! Exporter `auth: {authenticator: bearertokenauth/...}` against the Go collector's own
//! `bearertokenauth` on its OTLP receiver (otelcol-contrib-go v0.160.0, built by
//! `cargo xtask peers`):
//!
//! - `otlp_grpc` with the token in a file: accepted while the file holds the Go side's
//!   token; rewritten to another token, the next request is refused (UNAUTHENTICATED, counted
//!   as failed); rewritten back, the next one is accepted again — the file is read per
//!   request, not once;
//! - `otlp_http` with a custom `header` and `scheme` (`X-Auth: Token <token>`), which the Go
//!   receiver's authenticator is configured to check the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;

const PATIENCE: Duration = Duration::from_secs(30);

/// The Go collector: OTLP/gRPC and OTLP/HTTP in, each behind its own bearertokenauth, and
/// `otlp_http` out to the sink.
fn go_config(grpc: SocketAddr, http: SocketAddr, grpc_token: &Path, sink: SocketAddr) -> String {
    format!(
        r#"
extensions:
  bearertokenauth/grpc:
    filename: {grpc_token}
  bearertokenauth/http:
    header: X-Auth
    scheme: Token
    token: http-secret
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
        auth: {{authenticator: bearertokenauth/grpc}}
      http:
        endpoint: {http}
        auth: {{authenticator: bearertokenauth/http}}
exporters:
  otlp_http:
    endpoint: http://{sink}
    sending_queue: {{enabled: false}}
service:
  extensions: [bearertokenauth/grpc, bearertokenauth/http]
  telemetry: {{metrics: {{level: none}}, logs: {{level: warn}}}}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_http]
"#,
        grpc_token = grpc_token.display()
    )
}

/// Ours: OTLP/gRPC in; `otlp_grpc` to the Go gRPC receiver with the token from `token_file`
/// and `otlp_http` to the Go HTTP receiver with `X-Auth: Token http-secret`, one pipeline each.
fn our_config(
    grpc_in: SocketAddr,
    http_in: SocketAddr,
    go_grpc: SocketAddr,
    go_http: SocketAddr,
    token_file: &Path,
    metrics: SocketAddr,
) -> String {
    format!(
        r#"
extensions:
  bearertokenauth/file:
    filename: {token_file}
  bearertokenauth/header:
    header: X-Auth
    scheme: Token
    token: http-secret
receivers:
  otlp/grpc:
    protocols:
      grpc:
        endpoint: {grpc_in}
  otlp/http:
    protocols:
      grpc:
        endpoint: {http_in}
exporters:
  otlp_grpc:
    endpoint: {go_grpc}
    tls: {{insecure: true}}
    auth: {{authenticator: bearertokenauth/file}}
    sending_queue: {{enabled: false}}
    retry_on_failure: {{enabled: false}}
  otlp_http:
    endpoint: http://{go_http}
    auth: {{authenticator: bearertokenauth/header}}
    sending_queue: {{enabled: false}}
    retry_on_failure: {{enabled: false}}
service:
  extensions: [bearertokenauth/file, bearertokenauth/header]
  telemetry: {{metrics: {{address: "{metrics}"}}}}
  pipelines:
    traces/grpc:
      receivers: [otlp/grpc]
      exporters: [otlp_grpc]
    traces/http:
      receivers: [otlp/http]
      exporters: [otlp_http]
"#,
        token_file = token_file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporters_authenticate_to_the_go_receivers_bearertokenauth() {
    let _timer = Timer::start("exporters_authenticate_to_the_go_receivers_bearertokenauth");
    let go = require_peer!(Peer::OtelcolContribGo);
    let dir = temp_dir("exporter-auth");
    let go_token = write(dir.path(), "go-token", "grpc-secret\n");
    let our_token = write(dir.path(), "our-token", "grpc-secret\n");
    let sink = RunningSink::start().await;

    let (go_grpc, go_http) = (free_addr(), free_addr());
    let go_path = write(
        dir.path(),
        "go.yaml",
        &go_config(go_grpc, go_http, &go_token, sink.http),
    );
    let mut command = Command::new(&go);
    command
        .arg("--config")
        .arg(&go_path)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let mut theirs = Proc::spawn("otelcol-contrib-go", command);
    theirs.wait_listening(go_grpc, PATIENCE).await;
    theirs.wait_listening(go_http, PATIENCE).await;

    let (grpc_in, http_in, metrics) = (free_addr(), free_addr(), free_addr());
    let ours_path = write(
        dir.path(),
        "ours.yaml",
        &our_config(grpc_in, http_in, go_grpc, go_http, &our_token, metrics),
    );
    let mut ours = start_collector("auth-agent", &ours_path, &[]).await;
    ours.wait_listening(grpc_in, PATIENCE).await;
    ours.wait_listening(http_in, PATIENCE).await;
    let agent = client(Protocol::Grpc, grpc_in);

    // 1. The file's token is the Go side's: delivered.
    let first = ids(2);
    agent.export(&traces(&first, 0)).await.unwrap();
    sink.wait_for_with(
        "the first spans",
        PATIENCE,
        |r| first.iter().all(|id| r.spans.contains(id)),
        || format!("{}\n{}", ours.tail(), theirs.tail()),
    )
    .await;

    // 2. Another token in the file: the Go receiver refuses the next request.
    std::fs::write(&our_token, "not-the-token\n").unwrap();
    let refused = ids(2);
    let error = agent
        .export(&traces(&refused, 0))
        .await
        .expect_err("the Go receiver must refuse a wrong token");
    assert!(
        error
            .to_string()
            .to_ascii_lowercase()
            .contains("unauthenticated")
            || error.to_string().contains("401"),
        "the refusal should be the Go receiver's UNAUTHENTICATED: {error}"
    );
    assert_eq!(
        scrape(metrics, "otelcol_exporter_send_failed_spans_total"),
        2.0,
        "the refused spans are counted as failed"
    );

    // 3. The right token again: read again, delivered.
    std::fs::write(&our_token, "grpc-secret\n").unwrap();
    let third = ids(2);
    agent.export(&traces(&third, 0)).await.unwrap();
    sink.wait_for_with(
        "the spans after the token came back",
        PATIENCE,
        |r| third.iter().all(|id| r.spans.contains(id)),
        || format!("{}\n{}", ours.tail(), theirs.tail()),
    )
    .await;
    sink.with(|r| {
        assert!(
            refused.iter().all(|id| !r.spans.contains(id)),
            "spans sent with the wrong token must not arrive"
        );
    });

    // 4. otlp_http with `X-Auth: Token http-secret`.
    let over_http = ids(3);
    client(Protocol::Grpc, http_in)
        .export(&traces(&over_http, 0))
        .await
        .unwrap();
    sink.wait_for_with(
        "the spans over OTLP/HTTP",
        PATIENCE,
        |r| over_http.iter().all(|id| r.spans.contains(id)),
        || format!("{}\n{}", ours.tail(), theirs.tail()),
    )
    .await;

    ours.terminate();
    assert_eq!(
        ours.wait_exit(PATIENCE).await.code(),
        Some(0),
        "{}",
        ours.tail()
    );
    theirs.terminate();
    theirs.wait_exit(PATIENCE).await;
    sink.stop().await;
}

#[test]
fn an_exporter_naming_no_authenticator_extension_fails_to_start_naming_it() {
    let dir = temp_dir("exporter-auth-missing");
    let config = write(
        dir.path(),
        "config.yaml",
        &format!(
            r#"
extensions:
  health_check:
    endpoint: {health}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
exporters:
  otlp_grpc:
    endpoint: 127.0.0.1:1
    auth: {{authenticator: health_check}}
service:
  extensions: [health_check]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc]
"#,
            health = free_addr(),
            grpc = free_addr()
        ),
    );
    let (code, _, stderr) = run_collector(&["--config", config.to_str().unwrap()]);
    // 2: starting failed (the configuration itself is valid).
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "auth::authenticator: \"health_check\" is not a started client authenticator"
        ),
        "{stderr}"
    );
}
