//! The collector's own logs: `tracing` events, written by `tracing-subscriber`'s fmt layer to
//! stderr (as the Go Collector does), at the level of `service.telemetry.logs.level`;
//! `RUST_LOG` overrides it with any `tracing` filter.

use std::io::IsTerminal as _;

use otlp_pipeline::config::LogLevel;
use tracing_subscriber::EnvFilter;

/// Crates that log every frame at debug level; kept at `warn` unless `RUST_LOG` says otherwise.
const NOISY: &[&str] = &["h2", "hyper", "hyper_util", "rustls", "tower"];

/// The filter for `level`: the level for everything, `warn` for the noisy HTTP stack.
pub(crate) fn directives(level: LogLevel) -> String {
    let mut directives = level.name().to_owned();
    for target in NOISY {
        directives.push_str(&format!(",{target}=warn"));
    }
    directives
}

/// Installs the global subscriber. Returns what chose the filter, for the first log line.
pub(crate) fn init(level: LogLevel) -> String {
    let (filter, origin) = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::try_new(&value) {
            Ok(filter) => (filter, format!("RUST_LOG={value}")),
            Err(error) => (
                EnvFilter::new(directives(level)),
                format!("service::telemetry::logs::level={level} (RUST_LOG ignored: {error})"),
            ),
        },
        _ => (
            EnvFilter::new(directives(level)),
            format!("service::telemetry::logs::level={level}"),
        ),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    origin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_parse() {
        for level in [
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
        ] {
            let text = directives(level);
            assert!(text.starts_with(level.name()), "{text}");
            EnvFilter::try_new(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }
}
