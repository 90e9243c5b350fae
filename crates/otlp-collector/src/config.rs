//! From the command line to a [`ValidatedConfig`]: the sources (`--config`, `--set`, or the
//! embedded default), loading, merging and validation against the registry.

use std::fmt::Write as _;

use otlp_pipeline::{ComponentKind, Config, ConfigErrors, ConfigSource, Registry, ValidatedConfig};

use crate::cli::ConfigArgs;

/// The embedded default configuration (`src/default_config.yaml`).
pub(crate) const DEFAULT_CONFIG: &str = include_str!("default_config.yaml");

/// How messages and logs name the embedded default configuration.
pub(crate) const DEFAULT_CONFIG_NAME: &str = "embedded default configuration";

/// The sources to load, in merge order: every `--config` (or the embedded default when there
/// is none), then every `--set`.
pub(crate) fn sources(args: &ConfigArgs) -> Result<Vec<ConfigSource>, String> {
    let mut sources: Vec<ConfigSource> = if args.configs.is_empty() {
        vec![ConfigSource::yaml(DEFAULT_CONFIG_NAME, DEFAULT_CONFIG)]
    } else {
        args.configs
            .iter()
            .map(|arg| ConfigSource::parse(arg))
            .collect()
    };
    for set in &args.sets {
        sources.push(set_source(set)?);
    }
    Ok(sources)
}

/// `--set KEY=VALUE` as a YAML source `KEY: VALUE` (the loader expands `a::b` keys), named
/// `--set KEY=VALUE` in messages. The value is YAML, as with otelcol.
pub(crate) fn set_source(arg: &str) -> Result<ConfigSource, String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!(
            "--set {arg}: expected KEY=VALUE (for example processors::batch::timeout=2s)"
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.split("::").any(str::is_empty) {
        return Err(format!(
            "--set {arg}: the key must be a path like exporters::debug::verbosity"
        ));
    }
    let quoted = key.replace('\'', "''");
    Ok(ConfigSource::yaml(
        format!("--set {arg}"),
        format!("'{quoted}': {value}\n"),
    ))
}

/// The sources as a log field: `embedded default configuration`, or their names.
pub(crate) fn describe(sources: &[ConfigSource]) -> String {
    sources
        .iter()
        .map(ConfigSource::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads, merges and validates `sources` against `registry`.
pub(crate) fn load(
    sources: &[ConfigSource],
    registry: &Registry,
) -> Result<ValidatedConfig, ConfigErrors> {
    let config = Config::load(sources)?;
    otlp_pipeline::validate(&config, registry)
}

/// Prints every error to stderr, one per line (`error: FILE: LOCATION: PROBLEM`), and a closing
/// line saying that nothing was started.
pub(crate) fn print_errors(errors: &ConfigErrors) {
    for error in errors {
        eprintln!("error: {error}");
    }
    let n = errors.len();
    eprintln!(
        "otlp-collector: {n} configuration error{}; nothing was started",
        if n == 1 { "" } else { "s" }
    );
}

/// The summary `validate` prints for a valid configuration.
pub(crate) fn summary(sources: &[ConfigSource], validated: &ValidatedConfig) -> String {
    let config = validated.config();
    let mut out = format!("{}: valid\n", describe(sources));
    let pipelines: Vec<String> = config
        .service
        .pipelines
        .iter()
        .map(|(id, p)| {
            let ids = |list: &[otlp_pipeline::ComponentId]| {
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let processors = if p.processors.is_empty() {
                String::new()
            } else {
                format!("{} → ", ids(&p.processors))
            };
            format!(
                "  pipeline {id}: {} → {processors}{}",
                ids(&p.receivers),
                ids(&p.exporters)
            )
        })
        .collect();
    for line in pipelines {
        let _ = writeln!(out, "{line}");
    }
    let count = |kind: ComponentKind| config.section(kind).len();
    let _ = writeln!(
        out,
        "  {} receivers, {} processors, {} exporters, {} connectors, {} extensions ({} started)",
        count(ComponentKind::Receiver),
        count(ComponentKind::Processor),
        count(ComponentKind::Exporter),
        count(ComponentKind::Connector),
        count(ComponentKind::Extension),
        config.service.extensions.len(),
    );
    out
}

/// `components`: every registered type, by kind, each with its aliases in parentheses
/// (`otlphttp (otlp_http)`).
pub(crate) fn components(registry: &Registry) -> String {
    let mut out = String::new();
    for kind in ComponentKind::ALL {
        let types: Vec<String> = registry
            .types(kind)
            .into_iter()
            .map(|name| {
                let aliases = registry
                    .factory(kind, name)
                    .map(|f| f.aliases().join(", "))
                    .unwrap_or_default();
                if aliases.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name} ({aliases})")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "{}: {}",
            kind.section(),
            if types.is_empty() {
                "(none)".into()
            } else {
                types.join(", ")
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_config_means_the_embedded_default() {
        let sources = sources(&ConfigArgs::default()).expect("sources");
        assert_eq!(describe(&sources), DEFAULT_CONFIG_NAME);
        let config = Config::load(&sources).expect("the default configuration loads");
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        let pipelines: Vec<String> = config
            .service
            .pipelines
            .keys()
            .map(ToString::to_string)
            .collect();
        assert_eq!(pipelines, ["traces", "metrics", "logs"]);
        for pipeline in config.service.pipelines.values() {
            let ids = |l: &[otlp_pipeline::ComponentId]| {
                l.iter().map(ToString::to_string).collect::<Vec<_>>()
            };
            assert_eq!(ids(&pipeline.receivers), ["otlp"]);
            assert_eq!(ids(&pipeline.processors), ["memory_limiter", "batch"]);
            assert_eq!(ids(&pipeline.exporters), ["debug"]);
        }
    }

    #[test]
    fn sets_apply_over_the_configs_in_order() {
        let args = ConfigArgs {
            configs: Vec::new(),
            sets: vec![
                "exporters::debug::verbosity=detailed".into(),
                "processors::batch::timeout=2s".into(),
            ],
        };
        let sources = sources(&args).expect("sources");
        assert_eq!(sources.len(), 3);
        let config = Config::load(&sources).expect("loads");
        let debug = &config.exporters[&"debug".parse().expect("id")].config;
        assert_eq!(debug["verbosity"].as_str(), Some("detailed"));
        let batch = &config.processors[&"batch".parse().expect("id")].config;
        assert_eq!(batch["timeout"].as_str(), Some("2s"));
    }

    #[test]
    fn bad_sets_are_refused() {
        assert!(set_source("novalue").is_err());
        assert!(set_source("=x").is_err());
        assert!(set_source("a::::b=x").is_err());
        let ConfigSource::Yaml { text, name } =
            set_source("receivers::otlp/it's::x=[1, 2]").expect("ok")
        else {
            panic!("a yaml source")
        };
        assert_eq!(name, "--set receivers::otlp/it's::x=[1, 2]");
        assert_eq!(text, "'receivers::otlp/it''s::x': [1, 2]\n");
    }
}
