//! Validation: every kind of error, each naming the file, the place and the problem, all
//! reported in one run; warnings; the registry's lookups.

#![allow(clippy::expect_used)] // test helpers outside #[test] functions

mod core_support;

use core_support::{config_path, env_of, otelcol_registry, probe_registry};
use otlp_pipeline::config::{self, ConfigErrorKind};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::{
    ComponentKind, Config, ConfigErrors, ConfigSource, Pipelines, Registry, RegistryError,
    Resources, Signal, SignalSet,
};

/// The errors of validating `yaml` (named `name`) against the otelcol stand-ins, one line each.
fn errors(name: &str, yaml: &str) -> Vec<String> {
    let config = Config::from_yaml(name, yaml).expect("loads");
    match config::validate(&config, &otelcol_registry()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

const MINIMAL: &str = "
receivers: {otlp: {}}
exporters: {debug: {}}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
";

#[test]
fn a_minimal_configuration_is_valid() {
    assert_eq!(errors("ok.yaml", MINIMAL), Vec::<String>::new());
}

#[test]
fn unknown_type_suggests_close_matches() {
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {}, otlpp/backend: {}}",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: exporters::otlpp/backend: unknown exporter type \"otlpp\"; did you mean \"otlp\"?"
        ]
    );
    let yaml = MINIMAL.replace("receivers: {otlp: {}}", "receivers: {otlp: {}, kafka: {}}");
    assert_eq!(
        errors("c.yaml", &yaml),
        ["c.yaml: receivers::kafka: unknown receiver type \"kafka\"; available: otlp, zipkin"]
    );
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {}}\nprocessors: {bacth: {}}",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        ["c.yaml: processors::bacth: unknown processor type \"bacth\"; did you mean \"batch\"?"]
    );
}

#[test]
fn undefined_component_in_a_pipeline() {
    let yaml = MINIMAL.replace("exporters: [debug]", "exporters: [debug, otlp/missing]");
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: service::pipelines::traces: references exporter \"otlp/missing\", which is not defined in `exporters`"
        ]
    );
    let yaml = MINIMAL.replace(
        "receivers: [otlp]",
        "receivers: [otlp], processors: [batch]",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: service::pipelines::traces: references processor \"batch\", which is not defined in `processors`"
        ]
    );
}

#[test]
fn signal_not_supported() {
    let yaml = "
receivers: {zipkin: {}}
exporters: {debug: {}}
service:
  pipelines:
    logs: {receivers: [zipkin], exporters: [debug]}
";
    assert_eq!(
        errors("c.yaml", yaml),
        [
            "c.yaml: service::pipelines::logs: receiver \"zipkin\" does not support logs (it supports traces)"
        ]
    );
}

#[test]
fn bad_values_name_the_path_inside_the_component() {
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters:\n  debug: {}\n  otlp:\n    endpoint: x:4317\n    tls: {insecure: maybe}\n",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: exporters::otlp::tls::insecure: invalid type: string \"maybe\", expected a boolean"
        ]
    );
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {verbosity: detailed, colour: red}}",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        ["c.yaml: exporters::debug::colour: unknown field `colour`, expected `verbosity`"]
    );
    // A rule the config type checks itself.
    let yaml = format!(
        "{MINIMAL}processors:\n  batch: {{send_batch_size: 100, send_batch_max_size: 10}}\n"
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: processors::batch::send_batch_max_size: must be greater than or equal to send_batch_size"
        ]
    );
    let yaml = format!("{MINIMAL}processors:\n  batch: {{timeout: 5 parsecs}}\n");
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: processors::batch::timeout: invalid duration \"5 parsecs\": unknown unit \"parsecs\""
        ]
    );
}

#[test]
fn signal_dependent_rules_of_processors() {
    let yaml = "
receivers: {otlp: {}}
processors: {filter: {log_bodies: [secret]}}
exporters: {debug: {}}
service:
  pipelines:
    logs: {receivers: [otlp], processors: [filter], exporters: [debug]}
    traces: {receivers: [otlp], processors: [filter], exporters: [debug]}
";
    assert_eq!(
        errors("c.yaml", yaml),
        [
            "c.yaml: processors::filter::log_bodies: in pipeline \"traces\": is only valid for logs, not traces"
        ]
    );
}

#[test]
fn pipelines_without_receivers_or_exporters_and_duplicates() {
    let yaml = "
receivers: {otlp: {}}
processors: {batch: {}}
exporters: {debug: {}}
service:
  pipelines:
    traces: {receivers: [otlp, otlp], processors: [batch, batch], exporters: [debug]}
    metrics: {exporters: [debug]}
    logs/empty:
";
    assert_eq!(
        errors("c.yaml", yaml),
        // Pipelines in signal order (traces, metrics, logs), then by name.
        [
            "c.yaml: service::pipelines::traces: references receiver \"otlp\" more than once",
            "c.yaml: service::pipelines::traces: references processor \"batch\" more than once",
            "c.yaml: service::pipelines::metrics: the pipeline has no receivers; at least one is required",
            "c.yaml: service::pipelines::logs/empty: the pipeline has no receivers; at least one is required",
            "c.yaml: service::pipelines::logs/empty: the pipeline has no exporters; at least one is required",
        ]
    );
}

#[test]
fn no_pipelines() {
    assert_eq!(
        errors("c.yaml", "receivers: {otlp: {}}\nservice: {}\n"),
        ["c.yaml: service::pipelines: no pipelines are defined; at least one is required"]
    );
}

#[test]
fn invalid_ids() {
    let yaml = "
receivers: {otlp: {}, 'otlp/': {}}
exporters: {debug: {}}
service:
  pipelines:
    trace: {receivers: [otlp], exporters: [debug]}
    traces: {receivers: [otlp], exporters: ['debug/a b']}
";
    assert_eq!(
        errors("c.yaml", yaml),
        [
            "c.yaml: receivers::otlp/: invalid component id \"otlp/\": the name after \"/\" must not be empty",
            "c.yaml: service::pipelines::trace: invalid pipeline id \"trace\": unknown signal \"trace\"; a pipeline id is traces, metrics, logs or profiles, optionally followed by /name",
            "c.yaml: service::pipelines::traces::exporters: invalid component id \"debug/a b\": the name \"a b\" must not contain spaces, control characters or symbols",
            "c.yaml: service::pipelines::traces: the pipeline has no exporters; at least one is required",
        ]
    );
}

#[test]
fn unknown_keys_at_every_level() {
    let config = Config::load(&[ConfigSource::File(config_path("invalid/unknown-keys.yaml"))])
        .expect("loads");
    let found: Vec<String> = config::validate(&config, &otelcol_registry())
        .expect_err("invalid")
        .iter()
        .map(|e| {
            e.to_string()
                .rsplit("tests/configs/")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        found,
        [
            "invalid/unknown-keys.yaml: exporter: unknown key \"exporter\"; expected one of: receivers, processors, exporters, extensions, connectors, service",
            "invalid/unknown-keys.yaml: service::pipeline: unknown key \"pipeline\"; expected one of: extensions, pipelines, telemetry",
            "invalid/unknown-keys.yaml: service::pipelines: no pipelines are defined; at least one is required",
        ]
    );
    let yaml = MINIMAL.replace(
        "exporters: [debug]",
        "exporters: [debug], exporter: [debug]",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: service::pipelines::traces::exporter: unknown key \"exporter\"; expected one of: receivers, processors, exporters"
        ]
    );
}

#[test]
fn wrong_shapes() {
    let yaml = "receivers: [otlp]\nexporters: {debug: {}}\nservice:\n  pipelines:\n    traces: {receivers: otlp, exporters: [debug]}\n";
    assert_eq!(
        errors("c.yaml", yaml),
        [
            "c.yaml: receivers: expected a map of component ids to their configuration, found a list",
            "c.yaml: service::pipelines::traces::receivers: expected a list of component ids, found text",
            "c.yaml: service::pipelines::traces: the pipeline has no receivers; at least one is required",
        ]
    );
}

#[test]
fn connectors_of_unregistered_types_are_unknown() {
    let yaml = format!("{MINIMAL}connectors:\n  spanmetrics: {{}}\n");
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: connectors::spanmetrics: unknown connector type \"spanmetrics\"; no component of this kind is registered"
        ]
    );
}

#[test]
fn substitution_errors() {
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {verbosity: '${ftp:/etc/v}'}}",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: exporters::debug::verbosity: unsupported reference \"${ftp:/etc/v}\": scheme \"ftp\" is not supported (use env:, file:, yaml:, http: or a plain ${NAME})"
        ]
    );
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {verbosity: '${env:V'}}",
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: exporters::debug::verbosity: unterminated \"${\" in \"${env:V\" (write \"$$\" for a literal \"$\")"
        ]
    );
}

#[test]
fn extensions_must_be_defined_and_listed_once() {
    let yaml = format!(
        "{MINIMAL}  extensions: [health_check, pprof, health_check]\nextensions:\n  health_check:\n"
    );
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: service::extensions: references extension \"pprof\", which is not defined in `extensions`",
            "c.yaml: service::extensions: references extension \"health_check\" more than once",
        ]
    );
}

#[test]
fn telemetry_values() {
    let yaml = format!("{MINIMAL}  telemetry:\n    logs: {{level: verbose}}\n");
    assert_eq!(
        errors("c.yaml", &yaml),
        [
            "c.yaml: service::telemetry::logs::level: invalid log level \"verbose\"; expected debug, info, warn or error"
        ]
    );
}

#[test]
fn every_error_of_a_file_in_one_run() {
    let config = Config::load(&[ConfigSource::File(config_path("invalid/many-errors.yaml"))])
        .expect("loads");
    let errors = config::validate(&config, &otelcol_registry()).expect_err("invalid");
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            e.to_string()
                .rsplit("tests/configs/invalid/")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        lines,
        [
            "many-errors.yaml: processors::bacth: unknown processor type \"bacth\"; did you mean \"batch\"?",
            "many-errors.yaml: processors::batch::timeout: invalid duration \"5 parsecs\": unknown unit \"parsecs\"",
            "many-errors.yaml: exporters::otlpp/backend: unknown exporter type \"otlpp\"; did you mean \"otlp\"?",
            "many-errors.yaml: service::pipelines::traces: references processor \"batch\" more than once",
            "many-errors.yaml: service::pipelines::traces: references exporter \"otlp/missing\", which is not defined in `exporters`",
            "many-errors.yaml: service::pipelines::metrics: the pipeline has no exporters; at least one is required",
            "many-errors.yaml: service::pipelines::logs: receiver \"zipkin\" does not support logs (it supports traces)",
        ]
    );
    // Structured access for programs: the kind of each error.
    assert!(matches!(
        errors.iter().next().map(|e| e.kind()),
        Some(ConfigErrorKind::UnknownType {
            kind: ComponentKind::Processor,
            ..
        })
    ));
    // The whole report, as the binary prints it: one error per line.
    assert_eq!(errors.to_string().lines().count(), 7);
}

#[test]
fn errors_name_the_file_that_defined_the_component() {
    let base = ConfigSource::yaml("base.yaml", MINIMAL);
    let extra = ConfigSource::yaml(
        "extra.yaml",
        "exporters:\n  otlp: {endpoint: ''}\n  kafka: {}\n",
    );
    let override_debug =
        ConfigSource::yaml("prod.yaml", "exporters:\n  debug: {verbosity: [loud]}\n");
    let config = Config::load(&[base, extra, override_debug]).expect("loads");
    let errors: Vec<String> = config::validate(&config, &otelcol_registry())
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "base.yaml, prod.yaml: exporters::debug::verbosity: invalid type: sequence, expected a string",
            "extra.yaml: exporters::kafka: unknown exporter type \"kafka\"; available: debug, otlp, otlphttp",
            "extra.yaml: exporters::otlp::endpoint: must be set",
        ]
    );
}

#[test]
fn unreadable_and_unparsable_files() {
    let missing = ConfigSource::File("/nonexistent/otelcol.yaml".into());
    let broken = ConfigSource::yaml("broken.yaml", "receivers:\n  otlp: {\n");
    let errors = Config::load(&[missing, broken]).expect_err("fails");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("/nonexistent/otelcol.yaml: cannot read the configuration: "),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("broken.yaml: invalid YAML: "),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("line"),
        "the YAML error has a position: {lines:?}"
    );
    let errors =
        Config::load(&[ConfigSource::Env("NOT_SET_ANYWHERE_42".into())]).expect_err("fails");
    assert_eq!(
        errors.to_string(),
        "env:NOT_SET_ANYWHERE_42: cannot read the configuration: environment variable \"NOT_SET_ANYWHERE_42\" is not set"
    );
}

#[test]
fn unused_components_are_warnings_not_errors() {
    let yaml = format!("{MINIMAL}processors: {{batch: {{}}}}\nextensions: {{zpages: {{}}}}\n")
        .replace(
            "exporters: {debug: {}}",
            "exporters: {debug: {}, otlp/unused: {endpoint: 'x:1'}}",
        );
    let config = Config::from_yaml("c.yaml", &yaml).expect("loads");
    let validated = config::validate(&config, &otelcol_registry()).expect("valid");
    let warnings: Vec<String> = validated
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "c.yaml: processors::batch: processor \"batch\" is defined but not used in any pipeline; it will not be built",
            "c.yaml: exporters::otlp/unused: exporter \"otlp/unused\" is defined but not used in any pipeline; it will not be built",
            "c.yaml: extensions::zpages: extension \"zpages\" is defined but not listed in service::extensions; it will not be started",
        ]
    );
    let pipelines = Pipelines::build(&validated).expect("builds");
    assert_eq!(
        pipelines.exporter_ids().count(),
        1,
        "unused components are not built"
    );
    assert_eq!(pipelines.extension_ids().count(), 0);
}

#[test]
fn factory_errors_at_build_name_file_and_component() {
    let yaml = "
receivers: {probe: {}}
processors: {probe/p: {fail_create: true}}
exporters: {probe/ok: {}, probe/bad: {fail_create: true}}
service:
  pipelines:
    traces: {receivers: [probe], processors: [probe/p], exporters: [probe/ok]}
    logs: {receivers: [probe], exporters: [probe/bad]}
";
    let config = Config::from_yaml("build.yaml", yaml).expect("loads");
    let validated = config::validate(&config, &probe_registry()).expect("valid: the checks pass");
    let resources = Resources::new().with(std::sync::Arc::new(core_support::Probe::default()));
    let errors: ConfigErrors =
        Pipelines::build_with(&validated, resources).expect_err("create fails");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "build.yaml: exporters::probe/bad::fail_create: this probe refuses to be built",
            "build.yaml: processors::probe/p::fail_create: in pipeline \"traces\": this probe refuses to be built",
        ]
    );
}

#[test]
fn registry_aliases_duplicates_and_names() {
    let registry = otelcol_registry();
    let by_alias = registry.exporter("otlp_grpc").expect("alias");
    assert_eq!(by_alias.type_name(), "otlp");
    assert_eq!(
        registry.exporter("otlp_http").expect("alias").type_name(),
        "otlphttp"
    );
    assert!(
        registry.receiver("otlp_http").is_none(),
        "aliases are per kind"
    );
    assert_eq!(
        registry.types(ComponentKind::Exporter),
        ["debug", "otlp", "otlphttp"]
    );
    assert_eq!(
        registry.suggest(ComponentKind::Exporter, "otlphtp"),
        ["otlphttp", "otlp_http"]
    );

    let mut registry = otelcol_registry();
    let noop = |_ctx, _: core_support::AnyConfig| -> Result<Box<dyn otlp_pipeline::Exporter>, _> {
        Err(otlp_pipeline::ConfigError::invalid("unused"))
    };
    assert_eq!(
        registry.register_exporter(FnFactory::exporter("otlp", SignalSet::ALL, noop)),
        Err(RegistryError::Duplicate {
            kind: ComponentKind::Exporter,
            name: "otlp".into()
        })
    );
    assert_eq!(
        registry.register_exporter(
            FnFactory::exporter("mine", SignalSet::ALL, noop).with_aliases(&["otlp_grpc"])
        ),
        Err(RegistryError::Duplicate {
            kind: ComponentKind::Exporter,
            name: "otlp_grpc".into()
        })
    );
    assert!(matches!(
        registry.register_exporter(FnFactory::exporter("my-exporter", SignalSet::ALL, noop)),
        Err(RegistryError::InvalidName { .. })
    ));
    // Replacing a built-in: remove, then register.
    assert!(registry.remove_exporter("otlp"));
    assert!(
        registry.exporter("otlp_grpc").is_none(),
        "its aliases go with it"
    );
    registry
        .register_exporter(FnFactory::exporter("otlp", Signal::Traces, noop))
        .expect("free again");
    assert_eq!(
        registry
            .exporter("otlp")
            .expect("registered")
            .supported_signals(),
        SignalSet::from(Signal::Traces)
    );

    let mut empty = Registry::default();
    assert!(empty.types(ComponentKind::Receiver).is_empty());
    empty.extend(probe_registry()).expect("no overlap");
    assert_eq!(empty.types(ComponentKind::Receiver), ["probe"]);
}

#[test]
fn default_config_of_typed_factories() {
    let registry = otelcol_registry();
    let batch = registry.processor("batch").expect("batch");
    assert_eq!(
        serde_yaml_ng::to_string(&batch.default_config()).expect("yaml"),
        "timeout: null\nsend_batch_size: 0\nsend_batch_max_size: 0\n"
    );
}

#[test]
fn validation_uses_the_given_environment() {
    let yaml = MINIMAL.replace(
        "exporters: {debug: {}}",
        "exporters: {debug: {verbosity: '${env:V}'}}",
    );
    let config =
        Config::from_yaml_with_env("c.yaml", &yaml, &env_of(&[("V", "basic")])).expect("loads");
    let validated = config::validate(&config, &otelcol_registry()).expect("valid");
    assert_eq!(
        validated
            .config()
            .exporters
            .values()
            .next()
            .map(|e| &e.config["verbosity"]),
        Some(&"basic".into())
    );
}
