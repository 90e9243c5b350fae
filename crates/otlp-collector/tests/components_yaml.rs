//! Every built-in component from the YAML users run with the Go collector, and the errors
//! for what is not supported.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod components_support;

use std::time::Duration;

use otlp_pipeline::MemoryPressure;
use otlp_pipeline::{Config, Pipelines};

/// A configuration in the style of otelcol-contrib's documentation, every built-in in it.
const GATEWAY: &str = r#"
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
        max_recv_msg_size_mib: 8
        max_concurrent_streams: 16
        read_buffer_size: 524288
        keepalive:
          server_parameters:
            max_connection_age: 60s
        include_metadata: true
        auth:
          authenticator: bearertokenauth/server
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 10485760
        traces_url_path: /v1/traces
        cors:
          allowed_origins: []
  otlp_grpc/second:
    protocols:
      grpc:

processors:
  batch:
  batch/small:
    send_batch_size: 512
    send_batch_max_size: 1024
    timeout: 1s
    metadata_cardinality_limit: 100
  memory_limiter:
    check_interval: 1s
    limit_mib: 4000
    spike_limit_mib: 800
  memory_limiter/pct:
    check_interval: 5s
    limit_percentage: 80
    spike_limit_percentage: 20
  attributes/redact:
    actions:
      - key: db.statement
        action: delete
      - key: user.email
        action: hash
  resource:
    attributes:
      - key: deployment.environment
        value: production
        action: upsert
  filter/health:
    error_mode: ignore
    traces:
      span:
        - 'attributes["http.route"] == "/health"'
  probabilistic_sampler:
    sampling_percentage: 15.3
    hash_seed: 22

exporters:
  otlp:
    endpoint: otelcol-backend:4317
    compression: zstd
    headers:
      x-tenant: acme
    tls:
      insecure: true
    timeout: 10s
    balancer_name: round_robin
    sending_queue:
      enabled: true
      num_consumers: 4
      queue_size: 5000
      storage: file_storage/queue
    retry_on_failure:
      enabled: true
      initial_interval: 5s
      max_interval: 30s
      max_elapsed_time: 300s
      multiplier: 2
      randomization_factor: 0.3
  otlphttp:
    endpoint: https://backend.example.com:4318
    traces_endpoint: https://traces.example.com/v1/traces
    encoding: json
    compression: gzip
    idle_conn_timeout: 90s
    sending_queue:
      sizer: items
      queue_size: 100000
      block_on_overflow: true
  otlphttp/sync:
    endpoint: http://localhost:4318
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
  debug:
    verbosity: detailed
    sampling_initial: 5
    sampling_thereafter: 200
  file:
    path: FILE_PATH
    rotation:
      max_megabytes: 10
      max_days: 3
      max_backups: 3
    format: json
    flush_interval: 5s

extensions:
  health_check:
    endpoint: 127.0.0.1:0
  file_storage/queue:
    directory: STORAGE_DIR
    create_directory: true
    timeout: 1s
    compaction:
      on_start: true
      directory: /tmp/
  bearertokenauth/server:
    token: s3cret

service:
  extensions: [health_check, file_storage/queue, bearertokenauth/server]
  telemetry:
    metrics:
      level: detailed
      address: 127.0.0.1:0
  pipelines:
    traces:
      receivers: [otlp, otlp_grpc/second]
      processors: [memory_limiter, attributes/redact, resource, filter/health, probabilistic_sampler, batch]
      exporters: [otlp, otlphttp, debug, file]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter/pct, batch/small]
      exporters: [otlphttp/sync]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, probabilistic_sampler, batch]
      exporters: [otlp, file]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_configuration_builds_starts_and_stops() {
    let directory = tempfile::tempdir().unwrap();
    let yaml = GATEWAY
        .replace(
            "FILE_PATH",
            &directory
                .path()
                .join("out/telemetry.json")
                .display()
                .to_string(),
        )
        .replace(
            "STORAGE_DIR",
            &directory.path().join("queue").display().to_string(),
        )
        // A second gRPC receiver on the default port would collide between test runs.
        .replace(
            "  otlp_grpc/second:\n    protocols:\n      grpc:\n",
            "  otlp_grpc/second:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n",
        );
    let registry = otlp_collector::components();
    let config = Config::from_yaml("gateway.yaml", &yaml).unwrap();
    let validated = otlp_pipeline::validate(&config, &registry).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        validated.telemetry().metrics.effective_address(),
        Some("127.0.0.1:0")
    );
    let resources = otlp_pipeline::Resources::collector();
    let pipelines =
        Pipelines::build_with(&validated, resources.clone()).unwrap_or_else(|e| panic!("{e}"));
    pipelines.start().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(MemoryPressure::from_resources(&resources).reserved_bytes() == 0);
    assert!(directory.path().join("queue/exporter_otlp_traces").is_dir());
    assert!(directory.path().join("queue/exporter_otlp_logs").is_dir());
    assert!(directory.path().join("out/telemetry.json").is_file());
    // The persistent queue cannot reach otelcol-backend; shutdown leaves nothing behind but
    // the (empty) queue.
    pipelines
        .shutdown(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn errors_of(yaml: &str) -> String {
    let registry = otlp_collector::components();
    let config = Config::from_yaml("bad.yaml", yaml).unwrap();
    match otlp_pipeline::validate(&config, &registry) {
        Ok(_) => String::new(),
        Err(errors) => errors.to_string(),
    }
}

fn with_component(section: &str, id: &str, body: &str, signal: &str) -> String {
    let (receivers, processors, exporters) = match section {
        "receivers" => (id, "", "debug"),
        "processors" => ("otlp", id, "debug"),
        _ => ("otlp", "", id),
    };
    let receiver_def = if section == "receivers" {
        String::new()
    } else {
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n".to_owned()
    };
    let exporter_def = if section == "exporters" {
        String::new()
    } else {
        "exporters:\n  debug:\n".to_owned()
    };
    format!(
        "{receiver_def}{exporter_def}{section}:\n  {id}:\n{body}\nservice:\n  pipelines:\n    {signal}:\n      receivers: [{receivers}]\n      processors: [{processors}]\n      exporters: [{exporters}]\n"
    )
}

#[test]
fn unsupported_keys_are_configuration_errors() {
    let cases = [
        (
            "receivers",
            "otlp",
            "    protocols: {}",
            "traces",
            "must specify at least one protocol",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      http:\n        traces_url_path: /custom",
            "traces",
            "protocols::http::traces_url_path",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      http:\n        cors:\n          allowed_origins: [\"*\"]\n          allowed_methods: [GET]",
            "traces",
            "allowed_methods",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      grpc:\n        auth:\n          authenticator: oidc",
            "traces",
            "only bearertokenauth",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      grpc:\n        tls:\n          cert_file: a.pem",
            "traces",
            "key_file",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      grpc:\n        endpoint: localhost",
            "traces",
            "not host:port",
        ),
        (
            "receivers",
            "otlp",
            "    protocols:\n      grpc:\n        bogus: 1",
            "traces",
            "unknown field `bogus`",
        ),
        (
            "exporters",
            "otlp",
            "    endpoint: x:4317\n    compression: snappy",
            "traces",
            "\"snappy\" is not supported",
        ),
        (
            "exporters",
            "otlp",
            "    compression: gzip",
            "traces",
            "requires a non-empty \"endpoint\"",
        ),
        (
            "exporters",
            "otlp",
            "    endpoint: x:4317\n    auth:\n      authenticator: 'not an id'",
            "traces",
            "auth::authenticator",
        ),
        (
            "exporters",
            "otlp",
            "    endpoint: x:4317\n    sending_queue:\n      storage: redis/x",
            "traces",
            "only file_storage",
        ),
        (
            "exporters",
            "otlp",
            "    endpoint: x:4317\n    sending_queue:\n      queue_size: 0",
            "traces",
            "queue_size",
        ),
        (
            "exporters",
            "otlphttp",
            "    endpoint: http://x:4318\n    encoding: avro",
            "traces",
            "invalid encoding",
        ),
        (
            "exporters",
            "otlphttp",
            "    traces_endpoint: http://x/v1/traces",
            "traces",
            "at least one endpoint",
        ),
        (
            "exporters",
            "otlphttp",
            "    endpoint: http://x:4318\n    proxy_url: socks5://proxy:1080",
            "traces",
            "proxy_url",
        ),
        (
            "exporters",
            "debug",
            "    verbosity: loud",
            "traces",
            "verbosity",
        ),
        (
            "exporters",
            "file",
            "    format: json",
            "traces",
            "path must be non-empty",
        ),
        (
            "exporters",
            "file",
            "    path: x.json\n    compression: zstd",
            "traces",
            "not supported",
        ),
        (
            "exporters",
            "file",
            "    path: x.json\n    append: true\n    rotation:\n      max_megabytes: 1",
            "traces",
            "append and rotation",
        ),
        (
            "processors",
            "batch",
            "    send_batch_size: 100\n    send_batch_max_size: 10",
            "traces",
            "send_batch_max_size must be greater or equal",
        ),
        (
            "processors",
            "batch",
            "    metadata_keys: [tenant]",
            "traces",
            "metadata_keys",
        ),
        (
            "processors",
            "memory_limiter",
            "    limit_mib: 100",
            "traces",
            "check_interval",
        ),
        (
            "processors",
            "memory_limiter",
            "    check_interval: 1s",
            "traces",
            "limit_mib or limit_percentage",
        ),
        (
            "processors",
            "memory_limiter",
            "    check_interval: 1s\n    limit_mib: 10\n    spike_limit_mib: 10",
            "traces",
            "spike_limit_mib",
        ),
        (
            "processors",
            "probabilistic_sampler",
            "    sampling_percentage: 10",
            "metrics",
            "does not support metrics",
        ),
        (
            "processors",
            "filter",
            "    traces:\n      span:\n        - 'name == '",
            "traces",
            "traces.span[0]",
        ),
        (
            "processors",
            "attributes",
            "    actions:\n      - key: a\n        action: explode",
            "traces",
            "actions",
        ),
    ];
    for (section, id, body, signal, expected) in cases {
        let yaml = with_component(section, id, body, signal);
        let errors = errors_of(&yaml);
        assert!(
            errors.contains(expected),
            "{section}.{id} {body:?}: expected {expected:?} in:\n{errors}\n--- yaml:\n{yaml}"
        );
    }
}

/// `tls.insecure_skip_verify` and `proxy_url` (otelcol's keys) are accepted: they map to the
/// transport's unverified TLS and CONNECT proxy.
#[test]
fn insecure_skip_verify_and_proxy_url_are_accepted() {
    for (id, body) in [
        (
            "otlp",
            "    endpoint: x:4317\n    tls:\n      insecure_skip_verify: true",
        ),
        (
            "otlphttp",
            "    endpoint: https://x:4318\n    tls:\n      insecure_skip_verify: true",
        ),
        (
            "otlphttp",
            "    endpoint: http://x:4318\n    proxy_url: http://user:pw@proxy:3128",
        ),
    ] {
        let yaml = with_component("exporters", id, body, "traces");
        let errors = errors_of(&yaml);
        assert!(errors.is_empty(), "{id} {body:?}:\n{errors}");
    }
}

#[test]
fn extension_errors() {
    let base = |extension: &str| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  debug:\nextensions:\n{extension}\nservice:\n  extensions: [{}]\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n",
            extension
                .lines()
                .next()
                .unwrap()
                .trim()
                .trim_end_matches(':')
        )
    };
    for (extension, expected) in [
        ("  health_check:\n    endpoint: nowhere", "not host:port"),
        (
            "  health_check:\n    tls:\n      cert_file: x",
            "TLS is not supported",
        ),
        ("  file_storage:\n    directory: ''", "must not be empty"),
        (
            "  bearertokenauth:\n    scheme: two words\n    token: x",
            "must be one word",
        ),
        (
            "  bearertokenauth:\n    header: 'x auth'\n    token: x",
            "is not a valid header name",
        ),
        ("  bearertokenauth:\n    token: ''", "must not be empty"),
        ("  bearertokenauth:", "token or filename is required"),
    ] {
        let errors = errors_of(&base(extension));
        assert!(
            errors.contains(expected),
            "{extension:?}: expected {expected:?} in:\n{errors}"
        );
    }
}

#[test]
fn defaults_are_otelcol_defaults() {
    let registry = otlp_collector::components();
    let exporter = registry.exporter("otlp").unwrap().default_config();
    let text = serde_yaml_ng::to_string(&exporter).unwrap();
    for expected in [
        "compression: gzip",
        "timeout: 5s",
        "num_consumers: 10",
        "queue_size: 1000",
        "initial_interval: 5s",
        "max_elapsed_time: 5m0s",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    let http = serde_yaml_ng::to_string(&registry.exporter("otlp_http").unwrap().default_config())
        .unwrap();
    assert!(
        http.contains("timeout: 30s") && http.contains("encoding: proto"),
        "{http}"
    );
    let batch =
        serde_yaml_ng::to_string(&registry.processor("batch").unwrap().default_config()).unwrap();
    assert!(
        batch.contains("send_batch_size: 8192") && batch.contains("timeout: 200ms"),
        "{batch}"
    );
    let health =
        serde_yaml_ng::to_string(&registry.extension("health_check").unwrap().default_config())
            .unwrap();
    assert!(health.contains("endpoint: localhost:13133"), "{health}");
    assert!(registry.receiver("otlp_grpc").is_some());
}
