//! `service.telemetry`: the collector's own logs and metrics.
//!
//! Only what otlp-rs acts on is interpreted (log level, metrics level and address); every
//! other key otelcol accepts here (`resource`, `traces`, `logs.encoding`, ...) is kept
//! unvalidated in [`TelemetryConfig::raw`] so that existing files load unchanged.

use std::fmt;

use serde_yaml_ng::Value;

use crate::config::error::{ConfigError, ConfigErrorKind};

/// The default address of the self-metrics Prometheus endpoint (otelcol's default since it
/// stopped listening on all interfaces).
pub const DEFAULT_METRICS_ADDRESS: &str = "localhost:8888";

/// `service.telemetry`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TelemetryConfig {
    /// `service.telemetry.logs`.
    pub logs: LogsTelemetry,
    /// `service.telemetry.metrics`.
    pub metrics: MetricsTelemetry,
    /// The whole `service.telemetry` section as written (after substitution and merging).
    pub raw: Value,
}

/// `service.telemetry.logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogsTelemetry {
    /// `level`: `debug`, `info` (default), `warn`, `error` (otelcol's `dpanic`, `panic` and
    /// `fatal` are read as `error`).
    pub level: LogLevel,
}

/// A log level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `debug`.
    Debug,
    /// `info`.
    #[default]
    Info,
    /// `warn`.
    Warn,
    /// `error`.
    Error,
}

impl LogLevel {
    /// The lower-case name, as `tracing` filters spell it.
    pub const fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `service.telemetry.metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsTelemetry {
    /// `level`: `none`, `basic`, `normal` (default), `detailed`.
    pub level: MetricsLevel,
    /// Where to serve Prometheus metrics: `address` (`0.0.0.0:8888`), or the `host` and `port`
    /// of the first `readers: [{pull: {exporter: {prometheus: ...}}}]` entry, the form newer
    /// otelcol configurations use. `None` when neither is set; see
    /// [`effective_address`](Self::effective_address).
    pub address: Option<String>,
}

impl MetricsTelemetry {
    /// The address to serve self-metrics on: `None` when the level is `none`, otherwise the
    /// configured address or [`DEFAULT_METRICS_ADDRESS`].
    pub fn effective_address(&self) -> Option<&str> {
        if self.level == MetricsLevel::None {
            None
        } else {
            Some(self.address.as_deref().unwrap_or(DEFAULT_METRICS_ADDRESS))
        }
    }
}

/// How much the collector reports about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricsLevel {
    /// No self-metrics; nothing listens.
    None,
    /// The essential counters.
    Basic,
    /// Basic plus per-component detail.
    #[default]
    Normal,
    /// Everything, high-cardinality included.
    Detailed,
}

impl MetricsLevel {
    /// The lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            MetricsLevel::None => "none",
            MetricsLevel::Basic => "basic",
            MetricsLevel::Normal => "normal",
            MetricsLevel::Detailed => "detailed",
        }
    }
}

impl fmt::Display for MetricsLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_mapping()
        .and_then(|m| m.get(key))
        .filter(|v| !v.is_null())
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn bad(path: &str, message: String) -> ConfigError {
    ConfigError::new(ConfigErrorKind::BadValue {
        path: path.to_owned(),
        message,
    })
}

impl TelemetryConfig {
    /// Reads `service.telemetry`; errors have paths relative to it (`metrics::level`).
    pub(crate) fn from_value(raw: Value) -> (TelemetryConfig, Vec<ConfigError>) {
        let mut config = TelemetryConfig::default();
        let mut errors = Vec::new();
        if !raw.is_null() && !raw.is_mapping() {
            errors.push(bad("", "expected a map".into()));
        }
        if let Some(level) = get(&raw, "logs").and_then(|l| get(l, "level")) {
            match scalar_text(level)
                .map(|s| s.to_ascii_lowercase())
                .as_deref()
            {
                Some("debug") => config.logs.level = LogLevel::Debug,
                Some("info") => config.logs.level = LogLevel::Info,
                Some("warn") => config.logs.level = LogLevel::Warn,
                Some("error" | "dpanic" | "panic" | "fatal") => config.logs.level = LogLevel::Error,
                _ => errors.push(bad(
                    "logs::level",
                    format!(
                        "invalid log level {}; expected debug, info, warn or error",
                        show(level)
                    ),
                )),
            }
        }
        if let Some(metrics) = get(&raw, "metrics") {
            if let Some(level) = get(metrics, "level") {
                match scalar_text(level)
                    .map(|s| s.to_ascii_lowercase())
                    .as_deref()
                {
                    Some("none") => config.metrics.level = MetricsLevel::None,
                    Some("basic") => config.metrics.level = MetricsLevel::Basic,
                    Some("normal") => config.metrics.level = MetricsLevel::Normal,
                    Some("detailed") => config.metrics.level = MetricsLevel::Detailed,
                    _ => errors.push(bad(
                        "metrics::level",
                        format!(
                            "invalid metrics level {}; expected none, basic, normal or detailed",
                            show(level)
                        ),
                    )),
                }
            }
            if let Some(address) = get(metrics, "address") {
                match address {
                    Value::String(s) if !s.is_empty() => config.metrics.address = Some(s.clone()),
                    _ => errors.push(bad(
                        "metrics::address",
                        format!("expected host:port, found {}", show(address)),
                    )),
                }
            } else if let Some(readers) = get(metrics, "readers") {
                config.metrics.address = prometheus_reader_address(readers, &mut errors);
            }
        }
        config.raw = raw;
        (config, errors)
    }
}

/// `host:port` of the first pull Prometheus reader.
fn prometheus_reader_address(readers: &Value, errors: &mut Vec<ConfigError>) -> Option<String> {
    let Some(readers) = readers.as_sequence() else {
        errors.push(bad("metrics::readers", "expected a list".into()));
        return None;
    };
    for (i, reader) in readers.iter().enumerate() {
        let Some(prometheus) = get(reader, "pull")
            .and_then(|p| get(p, "exporter"))
            .and_then(|e| get(e, "prometheus"))
        else {
            continue;
        };
        let host = get(prometheus, "host")
            .and_then(scalar_text)
            .unwrap_or_else(|| "localhost".into());
        let port = match get(prometheus, "port") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|p| p <= u64::from(u16::MAX)) => {
                n.to_string()
            }
            Some(other) => {
                errors.push(bad(
                    &format!("metrics::readers::[{i}]::pull::exporter::prometheus::port"),
                    format!("expected a port number, found {}", show(other)),
                ));
                return None;
            }
            None => "8888".into(),
        };
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        return Some(format!("{host}:{port}"));
    }
    None
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> (TelemetryConfig, Vec<ConfigError>) {
        TelemetryConfig::from_value(serde_yaml_ng::from_str(yaml).expect("yaml"))
    }

    #[test]
    fn levels_and_address() {
        let (config, errors) =
            parse("logs: {level: DEBUG}\nmetrics: {level: detailed, address: '0.0.0.0:8888'}");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config.logs.level, LogLevel::Debug);
        assert_eq!(config.metrics.level, MetricsLevel::Detailed);
        assert_eq!(config.metrics.effective_address(), Some("0.0.0.0:8888"));
    }

    #[test]
    fn readers_form() {
        let (config, errors) = parse(
            "metrics:\n  readers:\n    - pull:\n        exporter:\n          prometheus:\n            host: '::'\n            port: 9999\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config.metrics.address.as_deref(), Some("[::]:9999"));
    }

    #[test]
    fn defaults_and_errors() {
        let (config, errors) = parse("{}");
        assert!(errors.is_empty());
        assert_eq!(
            config.metrics.effective_address(),
            Some(DEFAULT_METRICS_ADDRESS)
        );
        let (config, _) = parse("metrics: {level: none}");
        assert_eq!(config.metrics.effective_address(), None);
        let (_, errors) = parse("logs: {level: loud}\nmetrics: {level: 3}");
        let messages: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.location(), e.kind()))
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("logs::level: invalid log level \"loud\""),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("metrics::level: invalid metrics level 3"),
            "{messages:?}"
        );
    }
}
