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

/// The problems loading `yaml` (named `c.yaml`) found, as printed.
fn load_problems(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> (Config, Vec<String>) {
    let config = Config::from_yaml_with_env("c.yaml", yaml, env).expect("loads");
    let problems = config.problems().iter().map(ToString::to_string).collect();
    (config, problems)
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// Writes `text` to `name` in `dir` and returns its path as text.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("writes");
    path.display().to_string()
}

#[test]
fn file_reference_as_a_whole_value_inserts_its_yaml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tls = write(&dir, "tls.yaml", "insecure: true\nca_file: /etc/ca.pem\n");
    let yaml = format!("exporters:\n  otlp:\n    endpoint: b:4317\n    tls: '${{file:{tls}}}'\n");
    let (config, problems) = load_problems(&yaml, &no_env);
    assert!(problems.is_empty(), "{problems:?}");
    let tls = &config.exporters[&id("otlp")].config["tls"];
    assert_eq!(tls["insecure"], Value::Bool(true));
    assert_eq!(tls["ca_file"], "/etc/ca.pem");
}

#[test]
fn file_reference_inside_text_inserts_its_scalar() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = write(&dir, "token", "s3cr3t\n");
    let port = write(&dir, "port", "4317\n");
    let yaml = format!(
        "exporters:\n  otlp:\n    endpoint: 'backend:${{file:{port}}}'\n    headers:\n      \
         authorization: 'Bearer ${{file:{token}}}'\n      port: '${{file:{port}}}'\n"
    );
    let (config, problems) = load_problems(&yaml, &no_env);
    assert!(problems.is_empty(), "{problems:?}");
    let otlp = &config.exporters[&id("otlp")].config;
    assert_eq!(otlp["endpoint"], "backend:4317");
    assert_eq!(
        otlp["headers"]["authorization"], "Bearer s3cr3t",
        "parsed as YAML: no trailing newline"
    );
    assert_eq!(otlp["headers"]["port"], Value::from(4317), "typed");

    // A map cannot be part of a longer string.
    let map = write(&dir, "map.yaml", "a: 1\n");
    let yaml = format!("exporters:\n  otlp:\n    endpoint: 'x${{file:{map}}}'\n");
    let (_, problems) = load_problems(&yaml, &no_env);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("exporters::otlp::endpoint")
            && problems[0].contains("must give a string, a number or a boolean, not a map"),
        "{problems:?}"
    );
}

#[test]
fn unreadable_and_too_large_files_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.yaml").display().to_string();
    let yaml = format!("exporters:\n  otlp:\n    endpoint: '${{file:{missing}}}'\n");
    let (_, problems) = load_problems(&yaml, &no_env);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("c.yaml: exporters::otlp::endpoint: cannot read file")
            && problems[0].contains(&missing),
        "{problems:?}"
    );

    let big = dir.path().join("big.yaml");
    let file = std::fs::File::create(&big).expect("creates");
    file.set_len(10 * 1024 * 1024 + 1).expect("sparse file");
    let big = big.display().to_string();
    let yaml = format!("exporters:\n  otlp:\n    endpoint: '${{file:{big}}}'\n");
    let (_, problems) = load_problems(&yaml, &no_env);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&format!("file \"{big}\" is larger than 10485760 bytes")),
        "{problems:?}"
    );
}

#[test]
fn inline_yaml_references() {
    let yaml = "exporters:\n  otlp:\n    endpoint: b:4317\n    headers: '${yaml:{a: x, b: 2}}'\n    \
                compression: '${yaml:gzip}'\n    timeout: '${yaml:5}s'\n";
    let (config, problems) = load_problems(yaml, &no_env);
    assert!(problems.is_empty(), "{problems:?}");
    let otlp = &config.exporters[&id("otlp")].config;
    assert_eq!(otlp["headers"]["a"], "x");
    assert_eq!(otlp["headers"]["b"], Value::from(2));
    assert_eq!(otlp["compression"], "gzip");
    assert_eq!(otlp["timeout"], "5s");
}

/// A one-thread HTTP/1.1 server answering `answers` connections: `/config.yaml` with `body`
/// (chunked when asked on `/chunked.yaml`), anything else with 404.
fn serve(body: &'static str, answers: usize) -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(answers) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clones"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("reads");
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or_default();
            let answer = match path {
                "/config.yaml" => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                ),
                "/chunked.yaml" => {
                    let (first, second) = body.split_at(body.len() / 2);
                    format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                        first.len(),
                        second.len()
                    )
                }
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found".to_owned(),
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    address
}

#[test]
fn http_references_get_yaml_and_report_bad_statuses() {
    let address = serve("insecure: true\nca_file: ${env:CA}\n", 3);
    let env = env_of(&[("CA", "/etc/ca.pem")]);
    let yaml = format!(
        "exporters:\n  otlp:\n    endpoint: b:4317\n    tls: '${{http://{address}/config.yaml}}'\n  \
         otlp/chunked:\n    endpoint: b:4317\n    tls: '${{http://{address}/chunked.yaml}}'\n  \
         otlp/missing:\n    endpoint: '${{http://{address}/missing.yaml}}'\n"
    );
    let (config, problems) = load_problems(&yaml, &env);
    for exporter in ["otlp", "otlp/chunked"] {
        let tls = &config.exporters[&id(exporter)].config["tls"];
        assert_eq!(tls["insecure"], Value::Bool(true), "{exporter}");
        assert_eq!(
            tls["ca_file"], "/etc/ca.pem",
            "{exporter}: references in the answer are expanded"
        );
    }
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("exporters::otlp/missing::endpoint")
            && problems[0].contains(&format!("GET http://{address}/missing.yaml"))
            && problems[0].contains("404 Not Found"),
        "{problems:?}"
    );

    let yaml = "exporters:\n  otlp:\n    endpoint: '${https://example.com/c.yaml}'\n";
    let (_, problems) = load_problems(yaml, &no_env);
    assert!(
        problems.len() == 1 && problems[0].contains("https is not supported"),
        "{problems:?}"
    );
}

#[test]
fn file_content_is_expanded_in_turn_with_cycles_and_depth_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inner = write(
        &dir,
        "inner.yaml",
        "endpoint: ${env:HOST}:${env:PORT:-4317}\n",
    );
    let outer = write(&dir, "outer.yaml", &format!("otlp: ${{file:{inner}}}\n"));
    let env = env_of(&[
        ("HOST", "backend"),
        ("DIR", &dir.path().display().to_string()),
    ]);
    let yaml = format!(
        "exporters: '${{file:{outer}}}'\nprocessors:\n  batch:\n    \
         timeout: '${{file:${{env:DIR}}/seconds}}s'\n"
    );
    write(&dir, "seconds", "7");
    let (config, problems) = load_problems(&yaml, &env);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        config.exporters[&id("otlp")].config["endpoint"],
        "backend:4317"
    );
    assert_eq!(
        config.processors[&id("batch")].config["timeout"],
        "7s",
        "a location's own references are expanded first"
    );

    // a → b → a.
    let a = dir.path().join("a.yaml").display().to_string();
    let b = write(&dir, "b.yaml", &format!("x: ${{file:{a}}}\n"));
    write(&dir, "a.yaml", &format!("y: ${{file:{b}}}\n"));
    let yaml = format!("exporters:\n  otlp:\n    endpoint: '${{file:{a}}}'\n");
    let (_, problems) = load_problems(&yaml, &no_env);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("includes itself")
            && problems[0].contains(&format!("file:{a} → file:{b} → file:{a}")),
        "{problems:?}"
    );

    // Eleven files, each including the next.
    let mut next = write(&dir, "level-11.yaml", "end");
    for level in (1..=10).rev() {
        next = write(
            &dir,
            &format!("level-{level}.yaml"),
            &format!("${{file:{next}}}"),
        );
    }
    let yaml = format!("exporters:\n  otlp:\n    endpoint: '${{file:{next}}}'\n");
    let (_, problems) = load_problems(&yaml, &no_env);
    assert!(
        problems.len() == 1 && problems[0].contains("nested more than 10"),
        "{problems:?}"
    );
    // Ten are fine.
    let yaml = format!(
        "exporters:\n  otlp:\n    endpoint: '${{file:{}}}'\n",
        dir.path().join("level-2.yaml").display()
    );
    let (config, problems) = load_problems(&yaml, &no_env);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(config.exporters[&id("otlp")].config["endpoint"], "end");
}

#[test]
fn escapes_and_unset_variables_inside_provider_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "h.yaml", "literal: $${env:X}\nunset: ${env:NOPE}\n");
    let yaml = format!(
        "exporters:\n  otlp:\n    endpoint: b:4317\n    headers: '${{file:{path}}}'\n    \
         compression: '$${{file:{path}}}'\n"
    );
    let (config, problems) = load_problems(&yaml, &no_env);
    assert!(problems.is_empty(), "{problems:?}");
    let otlp = &config.exporters[&id("otlp")].config;
    assert_eq!(otlp["headers"]["literal"], "${env:X}");
    assert_eq!(otlp["headers"]["unset"], "");
    assert_eq!(
        otlp["compression"],
        Value::String(format!("${{file:{path}}}")),
        "$$ escapes a provider reference too"
    );
    let warnings: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("exporters::otlp::headers")
            && warnings[0].contains("at unset: environment variable \"NOPE\" is not set"),
        "{warnings:?}"
    );
}
