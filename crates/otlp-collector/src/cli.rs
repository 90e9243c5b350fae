//! The command line, as the Go Collector spells it: `--config` (repeatable, merged in order),
//! `--set KEY=VALUE`, and the `validate` and `components` subcommands.

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
