//! Loading otelcol configuration files: the real shapes, substitution, merging, sources.

#![allow(clippy::expect_used)] // test helpers outside #[test] functions

mod core_support;

use core_support::{OtlpExporterConfig, config_path, env_of, otelcol_registry};
use otlp_pipeline::config::{self, LogLevel, MetricsLevel, parse_config};
use otlp_pipeline::{
    ComponentId, ComponentKind, Config, ConfigSource, PipelineId, Pipelines, Signal,
};
use serde_yaml_ng::Value;

fn id(text: &str) -> ComponentId {
    text.parse().expect("valid id")
}

fn pid(text: &str) -> PipelineId {
    text.parse().expect("valid pipeline id")
}

fn ids(list: &[ComponentId]) -> Vec<&str> {
    list.iter().map(ComponentId::as_str).collect()
}

fn file(name: &str) -> ConfigSource {
    ConfigSource::File(config_path(name))
}

fn get<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

#[test]
fn go_collector_default_file_loads_validates_and_builds() {
    let config = Config::load(&[file("otlp-batch-otlp.yaml")]).expect("loads");
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    assert_eq!(
        config
            .receivers
            .keys()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["otlp"]
    );
    assert_eq!(
        config
            .processors
            .keys()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["batch", "memory_limiter"]
    );
    assert_eq!(
        config.receivers[&id("otlp")].config["protocols"]["grpc"]["endpoint"],
        "0.0.0.0:4317"
    );
    assert!(
        config.processors[&id("batch")].config.is_null(),
        "`batch:` with nothing under it"
    );
    assert_eq!(
        ids(&config.service.extensions),
        ["health_check", "pprof", "zpages"]
    );

    let traces = &config.service.pipelines[&pid("traces")];
    assert_eq!(ids(&traces.receivers), ["otlp"]);
    assert_eq!(ids(&traces.processors), ["memory_limiter", "batch"]);
    assert_eq!(ids(&traces.exporters), ["otlp", "debug"]);
    assert_eq!(config.service.pipelines.len(), 3);

    let telemetry = &config.service.telemetry;
    assert_eq!(telemetry.logs.level, LogLevel::Info);
    assert_eq!(telemetry.metrics.level, MetricsLevel::Detailed);
    assert_eq!(telemetry.metrics.effective_address(), Some("0.0.0.0:8888"));

    let registry = otelcol_registry();
    let validated = config::validate(&config, &registry).expect("valid");
    assert!(
        validated.warnings().is_empty(),
        "{:?}",
        validated.warnings()
    );
    let pipelines = Pipelines::build(&validated).expect("builds");
    assert_eq!(
        pipelines
            .receiver_ids()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["otlp"]
    );
    assert_eq!(
        pipelines
            .exporter_ids()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["debug", "otlp"]
    );
    assert_eq!(pipelines.extension_ids().count(), 3);
    let next = pipelines.receiver_consumers(&id("otlp")).expect("receiver");
    assert_eq!(next.signals().to_string(), "traces, metrics, logs");
}

#[test]
fn one_receiver_shared_by_two_named_pipelines() {
    let config = Config::load(&[file("shared-receiver.yaml")]).expect("loads");
    let validated = config::validate(&config, &otelcol_registry()).expect("valid");
    let pipelines = Pipelines::build(&validated).expect("builds");
    assert_eq!(
        pipelines
            .pipeline_ids()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["traces/backend", "traces/frontend"]
    );
    assert_eq!(
        pipelines.receiver_ids().count(),
        1,
        "one receiver for both pipelines"
    );
    assert_eq!(
        pipelines
            .exporter_ids()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["debug", "otlp/backend", "otlphttp/frontend"],
        "debug is listed twice and built once"
    );
    let frontend = &config.service.pipelines[&pid("traces/frontend")];
    assert_eq!(frontend.processors[0].type_name(), "attributes");
    assert_eq!(frontend.processors[0].name(), Some("frontend"));
    let next = pipelines.receiver_consumers(&id("otlp")).expect("receiver");
    assert_eq!(next.signals().iter().collect::<Vec<_>>(), [Signal::Traces]);
}

#[test]
fn environment_substitution_in_every_form() {
    let env = env_of(&[
        ("OTLP_HOST", "0.0.0.0"),
        ("OTLP_GRPC_PORT", "4317"),
        ("BATCH_SIZE", "512"),
        ("BACKEND_ENDPOINT", "backend:4317"),
        ("API_KEY", "12345"),
        ("INSECURE", "true"),
    ]);
    let config = Config::load_with_env(&[file("env.yaml")], &env).expect("loads");
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let raw = config.raw();
    assert_eq!(
        get(raw, "receivers.otlp.protocols.grpc.endpoint"),
        "0.0.0.0:4317"
    );
    assert_eq!(
        get(raw, "receivers.otlp.protocols.http.endpoint"),
        "0.0.0.0:4318",
        "default"
    );
    assert_eq!(
        get(raw, "processors.batch.send_batch_size"),
        &Value::from(512),
        "typed"
    );
    assert_eq!(get(raw, "processors.batch.timeout"), "5s", "default");
    assert_eq!(
        get(raw, "exporters.otlp.headers.x-literal"),
        "${env:NOT_EXPANDED}",
        "$$ escapes"
    );
    assert_eq!(
        get(raw, "exporters.otlp.headers.x-price"),
        "costs $5",
        "a lone $ stays"
    );
    assert_eq!(get(raw, "exporters.otlp.tls.insecure"), &Value::Bool(true));
    assert_eq!(config.service.telemetry.logs.level, LogLevel::Info);

    // A numeric-looking value still fills a string field exactly.
    let exporter: OtlpExporterConfig =
        parse_config(&config.exporters[&id("otlp")].config).expect("parses");
    assert_eq!(exporter.headers["api-key"], "12345");
    assert!(exporter.tls.insecure);

    let validated = config::validate(&config, &otelcol_registry()).expect("valid");
    assert!(
        validated.warnings().is_empty(),
        "{:?}",
        validated.warnings()
    );
}

#[test]
fn unset_variables_become_empty_with_a_warning() {
    let env = env_of(&[
        ("OTLP_HOST", "h"),
        ("OTLP_GRPC_PORT", "1"),
        ("BATCH_SIZE", "1"),
        ("API_KEY", "k"),
    ]);
    let config = Config::load_with_env(&[file("env.yaml")], &env).expect("loads");
    let warnings: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].ends_with(
        "env.yaml: exporters::otlp::endpoint: environment variable \"BACKEND_ENDPOINT\" is not set; \
         substituted an empty string"
    ));
    // The empty endpoint is then the exporter's problem, named with file and component.
    let errors = config::validate(&config, &otelcol_registry()).expect_err("empty endpoint");
    let message = errors.to_string();
    assert!(
        message.ends_with("env.yaml: exporters::otlp::endpoint: must be set"),
        "{message}"
    );
}

#[test]
fn substitution_cannot_inject_structure() {
    let yaml =
        "exporters:\n  otlp:\n    endpoint: ${env:EVIL}\n    headers:\n      x: ${env:LIST}\n";
    let env = env_of(&[("EVIL", "x\nreceivers:\n  evil: {}"), ("LIST", "[a, b]")]);
    let config = Config::from_yaml_with_env("c.yaml", yaml, &env).expect("loads");
    assert!(config.receivers.is_empty());
    assert_eq!(
        config.exporters[&id("otlp")].config["endpoint"],
        "x\nreceivers:\n  evil: {}"
    );
    assert_eq!(
        config.exporters[&id("otlp")].config["headers"]["x"],
        "[a, b]"
    );
}

#[test]
fn keys_are_not_substituted() {
    let yaml = "exporters:\n  otlp:\n    headers:\n      ${env:K}: v\n";
    let config =
        Config::from_yaml_with_env("c.yaml", yaml, &env_of(&[("K", "key")])).expect("loads");
    assert_eq!(
        config.exporters[&id("otlp")].config["headers"]["${env:K}"],
        "v"
    );
}

#[test]
fn process_environment_is_the_default() {
    let path = std::env::var("PATH").expect("PATH is set");
    let config = Config::from_yaml("c.yaml", "exporters:\n  debug:\n    verbosity: ${PATH}\n")
        .expect("loads");
    assert_eq!(
        config.exporters[&id("debug")].config["verbosity"],
        Value::String(path)
    );
}

#[test]
fn two_files_merge_as_otelcol_merges() {
    let config =
        Config::load(&[file("merge-base.yaml"), file("merge-override.yaml")]).expect("loads");
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let raw = config.raw();
    // Scalars: later file wins; untouched keys stay.
    assert_eq!(get(raw, "processors.batch.timeout"), "1s");
    assert_eq!(
        get(raw, "processors.batch.send_batch_size"),
        &Value::from(8192)
    );
    assert_eq!(get(raw, "exporters.otlp.endpoint"), "prod-backend:4317");
    assert_eq!(get(raw, "exporters.otlp.tls.insecure"), &Value::Bool(false));
    assert_eq!(get(raw, "exporters.otlp.headers.x-team"), "observability");
    assert_eq!(config.service.telemetry.logs.level, LogLevel::Warn);
    // Lists are replaced, not appended; unmentioned list fields stay.
    let traces = &config.service.pipelines[&pid("traces")];
    assert_eq!(ids(&traces.exporters), ["otlp", "otlphttp"]);
    assert_eq!(ids(&traces.processors), ["batch"]);
    assert_eq!(
        config.service.pipelines.len(),
        3,
        "logs added by the second file"
    );
    // Origins: which files define what.
    let files = |kind: ComponentKind, name: &str| -> Vec<String> {
        config.section(kind)[&id(name)]
            .origin
            .files()
            .map(|f| f.rsplit('/').next().unwrap_or(f).to_owned())
            .collect()
    };
    assert_eq!(
        files(ComponentKind::Exporter, "otlp"),
        ["merge-base.yaml", "merge-override.yaml"]
    );
    assert_eq!(files(ComponentKind::Exporter, "debug"), ["merge-base.yaml"]);
    assert_eq!(
        files(ComponentKind::Exporter, "otlphttp"),
        ["merge-override.yaml"]
    );
    config::validate(&config, &otelcol_registry()).expect("valid");
}

#[test]
fn inline_yaml_and_env_sources() {
    let env = env_of(&[("EXTRA", "exporters:\n  debug:\n    verbosity: basic\n")]);
    let sources = [
        file("merge-base.yaml"),
        ConfigSource::parse("yaml:exporters::otlp::endpoint: cli-backend:4317"),
        ConfigSource::parse("env:EXTRA"),
    ];
    let config = Config::load_with_env(&sources, &env).expect("loads");
    assert_eq!(
        get(config.raw(), "exporters.otlp.endpoint"),
        "cli-backend:4317"
    );
    assert_eq!(
        get(config.raw(), "exporters.otlp.tls.insecure"),
        &Value::Bool(true),
        "merged, not replaced"
    );
    assert_eq!(get(config.raw(), "exporters.debug.verbosity"), "basic");
    let origin: Vec<&str> = config.exporters[&id("otlp")].origin.files().collect();
    assert_eq!(origin.len(), 2);
    assert_eq!(
        origin[1],
        "yaml:exporters::otlp::endpoint: cli-backend:4317"
    );
    assert_eq!(
        config.exporters[&id("debug")].origin.files().last(),
        Some("env:EXTRA")
    );
}

#[test]
fn anchors_and_merge_keys() {
    let yaml = r"
x-common: &common
  tls:
    insecure: true
  timeout: 10s
exporters:
  otlp/a:
    <<: *common
    endpoint: a:4317
  otlp/b:
    <<: *common
    endpoint: b:4317
";
    // `x-common` is not an otelcol key: reported, but the anchors still resolve.
    let config = Config::from_yaml("anchors.yaml", yaml).expect("loads");
    assert_eq!(
        config.exporters[&id("otlp/b")].config["tls"]["insecure"],
        Value::Bool(true)
    );
    assert_eq!(config.exporters[&id("otlp/a")].config["endpoint"], "a:4317");
    assert_eq!(config.problems().len(), 1);
    assert!(
        config.problems()[0]
            .to_string()
            .starts_with("anchors.yaml: x-common: unknown key \"x-common\"")
    );
}

#[test]
fn telemetry_readers_form_and_unknown_telemetry_keys() {
    let yaml = r"
receivers: {otlp: {}}
exporters: {debug: {}}
service:
  telemetry:
    resource:
      service.name: gateway
    logs:
      level: debug
      encoding: json
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 0.0.0.0
                port: 8888
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
";
    let config = Config::from_yaml("t.yaml", yaml).expect("loads");
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let telemetry = &config.service.telemetry;
    assert_eq!(telemetry.logs.level, LogLevel::Debug);
    assert_eq!(telemetry.metrics.level, MetricsLevel::Basic);
    assert_eq!(telemetry.metrics.address.as_deref(), Some("0.0.0.0:8888"));
    assert_eq!(telemetry.raw["resource"]["service.name"], "gateway");
}

#[test]
fn empty_sections_and_empty_file() {
    let config = Config::from_yaml("empty.yaml", "").expect("an empty file is an empty map");
    assert!(config.receivers.is_empty());
    let config = Config::from_yaml(
        "nulls.yaml",
        "receivers:\nprocessors:\nservice:\n  pipelines:\n",
    )
    .expect("loads");
    assert!(config.problems().is_empty(), "{:?}", config.problems());
}

#[test]
fn aliases_select_the_same_factory() {
    let yaml = r"
receivers: {otlp: {}}
exporters:
  otlp_grpc/a: {endpoint: 'a:4317'}
  otlp_http/b: {endpoint: 'https://b'}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_grpc/a, otlp_http/b]}
";
    let config = Config::from_yaml("aliases.yaml", yaml).expect("loads");
    let validated =
        config::validate(&config, &otelcol_registry()).expect("aliases are known types");
    let pipelines = Pipelines::build(&validated).expect("builds");
    assert_eq!(
        pipelines
            .exporter_ids()
            .map(ComponentId::as_str)
            .collect::<Vec<_>>(),
        ["otlp_grpc/a", "otlp_http/b"],
        "ids stay as written"
    );
}

#[test]
fn component_ids_follow_otelcol_rules() {
    let id = id("otlphttp/frontend-eu.1");
    assert_eq!(
        (id.type_name(), id.name()),
        ("otlphttp", Some("frontend-eu.1"))
    );
    assert!("otlp/".parse::<ComponentId>().is_err());
    assert!("my-exporter".parse::<ComponentId>().is_err());
    assert_eq!(pid("metrics/internal").signal(), Signal::Metrics);
    assert!("span/x".parse::<PipelineId>().is_err());
}
