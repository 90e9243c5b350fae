//! The command line, as the Go Collector spells it: `--config` (repeatable, merged in order),
//! `--set KEY=VALUE`, `--feature-gates`, and the `validate` and `components` subcommands.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// An OpenTelemetry Collector compatible collector built from the otlp-rs crates.
///
/// Without `--config` it runs its embedded default configuration: OTLP on localhost:4317
/// (gRPC) and localhost:4318 (HTTP) → memory_limiter → batch → debug exporter.
///
/// Exit status: 0 after a clean shutdown, 1 when the command line or the configuration is
/// invalid (nothing was started), 2 when running failed (a port could not be opened, a
/// component failed, the shutdown missed its deadline, or a second signal forced the exit).
#[derive(Debug, Parser)]
#[command(
    name = "otlp-collector",
    version,
    about,
    long_about,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) config: ConfigArgs,

    /// How long SIGTERM/SIGINT may take: receivers stop accepting, pipelines drain and
    /// exporters flush within this time (Go durations: `30s`, `1m30s`, `500ms`). A second
    /// signal exits at once.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, global = true)]
    pub(crate) shutdown_timeout: Duration,

    /// Feature gates to enable (`gate`, `+gate`) or disable (`-gate`), comma-separated;
    /// repeatable. Accepted for compatibility with the Go Collector's command line: this build
    /// has no feature gates, so each one named is ignored with a warning (the Go Collector
    /// refuses a gate it does not know).
    #[arg(long = "feature-gates", value_name = "GATES", value_parser = parse_feature_gates, global = true)]
    pub(crate) feature_gates: Vec<FeatureGates>,
}

impl Cli {
    /// One warning for each gate named by `--feature-gates`, for the startup log.
    pub(crate) fn feature_gate_warnings(&self) -> Vec<String> {
        self.feature_gates
            .iter()
            .flat_map(|gates| &gates.0)
            .map(|gate| {
                let asked = if gate.enabled { "enable" } else { "disable" };
                format!(
                    "--feature-gates: cannot {asked} \"{}\": this build has no feature gates; \
                     ignored",
                    gate.id
                )
            })
            .collect()
    }
}

/// One `--feature-gates` argument: its gates, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeatureGates(pub(crate) Vec<FeatureGate>);

/// One gate of `--feature-gates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeatureGate {
    /// The gate's id (`service.profilesSupport`).
    pub(crate) id: String,
    /// `gate` or `+gate`: true; `-gate`: false.
    pub(crate) enabled: bool,
}

/// `gate1,-gate2,+gate3`, as the Go Collector reads it (empty items are skipped).
fn parse_feature_gates(text: &str) -> Result<FeatureGates, String> {
    let mut gates = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (id, enabled) = match item.strip_prefix('-') {
            Some(id) => (id, false),
            None => (item.strip_prefix('+').unwrap_or(item), true),
        };
        let valid = id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if id.is_empty() || !valid {
            return Err(format!(
                "invalid feature gate \"{item}\" (an id of letters, digits and dots, \
                 optionally after \"+\" or \"-\")"
            ));
        }
        gates.push(FeatureGate {
            id: id.to_owned(),
            enabled,
        });
    }
    Ok(FeatureGates(gates))
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConfigArgs {
    /// A configuration source; repeat to merge several, later ones overriding earlier ones
    /// key by key (lists are replaced). A path, `file:PATH`, `env:VAR` (YAML held by an
    /// environment variable) or `yaml:TEXT` (`yaml:exporters::debug::verbosity: detailed`).
    /// Without any, the embedded default configuration is used.
    #[arg(long = "config", value_name = "URI", global = true)]
    pub(crate) configs: Vec<String>,

    /// Sets one value over the configuration, after every `--config`: the key is a path
    /// separated by `::`, the value is YAML (`--set processors::batch::timeout=2s`).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub(crate) sets: Vec<String>,
}

/// What to do instead of running.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Checks the configuration without starting anything (no port is opened): prints a
    /// summary and exits 0, or prints every error (file, component, problem) and exits 1.
    Validate,
    /// Lists the component types this build knows, by kind.
    Components,
    /// Prints the embedded default configuration (a starting point for your own).
    PrintDefaultConfig,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    otlp_pipeline::config::duration::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("otlp-collector").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn configs_repeat_and_merge_in_order() {
        let cli = parse(&["--config", "a.yaml", "--config=b.yaml", "--set", "k::v=1"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.config.configs, ["a.yaml", "b.yaml"]);
        assert_eq!(cli.config.sets, ["k::v=1"]);
        assert_eq!(cli.shutdown_timeout, Duration::from_secs(30));
    }

    #[test]
    fn validate_takes_configs_before_or_after_the_subcommand() {
        let cli = parse(&["validate", "--config", "a.yaml", "--config", "b.yaml"]);
        assert!(matches!(cli.command, Some(Command::Validate)));
        assert_eq!(cli.config.configs, ["a.yaml", "b.yaml"]);
        let cli = parse(&["--config", "a.yaml", "validate"]);
        assert!(matches!(cli.command, Some(Command::Validate)));
        assert_eq!(cli.config.configs, ["a.yaml"]);
    }

    #[test]
    fn feature_gates_are_comma_separated_and_repeatable() {
        let cli = parse(&["--feature-gates=a.b,-c.d", "--feature-gates", "+e,,"]);
        let gates: Vec<(&str, bool)> = cli
            .feature_gates
            .iter()
            .flat_map(|gates| &gates.0)
            .map(|gate| (gate.id.as_str(), gate.enabled))
            .collect();
        assert_eq!(gates, [("a.b", true), ("c.d", false), ("e", true)]);
        let warnings = cli.feature_gate_warnings();
        assert_eq!(warnings.len(), 3);
        assert!(
            warnings[1].contains("cannot disable \"c.d\""),
            "{warnings:?}"
        );
        assert!(parse(&[]).feature_gate_warnings().is_empty());
        let cli = parse(&["validate", "--feature-gates", "x"]);
        assert_eq!(
            cli.feature_gates,
            [FeatureGates(vec![FeatureGate {
                id: "x".into(),
                enabled: true
            }])]
        );
        for bad in ["-", "a b", "x,+", "a=b"] {
            assert!(
                Cli::try_parse_from(["otlp-collector", "--feature-gates", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn shutdown_timeout_is_a_go_duration() {
        assert_eq!(
            parse(&["--shutdown-timeout", "1m30s"]).shutdown_timeout,
            Duration::from_secs(90)
        );
        assert_eq!(
            parse(&["--shutdown-timeout=250ms"]).shutdown_timeout,
            Duration::from_millis(250)
        );
        assert!(Cli::try_parse_from(["otlp-collector", "--shutdown-timeout", "soon"]).is_err());
    }
}
