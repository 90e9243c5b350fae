//! `receivers: fluentforward:` — otelcol-contrib's keys (v0.160.0 has one: `endpoint`).

use serde::{Deserialize, Serialize};

use otlp_pipeline::config::ConfigError;
use otlp_pipeline::factory::ComponentConfig;

/// The default listen address, as otelcol's.
pub const DEFAULT_ENDPOINT: &str = "localhost:8006";

/// `receivers: fluentforward:`.
///
/// ```yaml
/// fluentforward:
///   endpoint: 0.0.0.0:8006        # or unix:///run/fluent.sock
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FluentForwardConfig {
    /// `host:port` (TCP, with heartbeats over UDP on the same port) or `unix://path` (or a
    /// path starting with `/`) for a Unix domain socket. Default `localhost:8006`.
    pub endpoint: String,
}

impl Default for FluentForwardConfig {
    fn default() -> Self {
        FluentForwardConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
        }
    }
}

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// TCP (and UDP heartbeats) on `host:port`.
    Tcp(String),
    /// A Unix domain socket at this path.
    Unix(std::path::PathBuf),
}

impl FluentForwardConfig {
    /// The endpoint, parsed as otelcol reads it: `unix://` or a leading `/` is a socket path.
    pub(crate) fn listen(&self) -> Endpoint {
        if let Some(path) = self.endpoint.strip_prefix("unix://") {
            Endpoint::Unix(path.into())
        } else if self.endpoint.starts_with('/') {
            Endpoint::Unix(self.endpoint.clone().into())
        } else {
            Endpoint::Tcp(self.endpoint.clone())
        }
    }
}

impl ComponentConfig for FluentForwardConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        match self.listen() {
            Endpoint::Unix(path) if path.as_os_str().is_empty() => Err(ConfigError::bad_value(
                "endpoint",
                "a unix:// endpoint needs a socket path",
            )),
            Endpoint::Unix(_) => Ok(()),
            Endpoint::Tcp(address) => {
                let Some((_, port)) = address.rsplit_once(':') else {
                    return Err(ConfigError::bad_value(
                        "endpoint",
                        format!("{address:?} is not host:port or unix://path"),
                    ));
                };
                if port.parse::<u16>().is_err() {
                    return Err(ConfigError::bad_value(
                        "endpoint",
                        format!("{port:?} in {address:?} is not a port number"),
                    ));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_endpoints() {
        let config: FluentForwardConfig = serde_yaml_ng::from_str("{}").unwrap();
        assert_eq!(config.endpoint, "localhost:8006");
        assert_eq!(config.listen(), Endpoint::Tcp("localhost:8006".into()));
        assert!(config.validate().is_ok());
        let unix: FluentForwardConfig =
            serde_yaml_ng::from_str("endpoint: unix:///tmp/f.sock").unwrap();
        assert_eq!(unix.listen(), Endpoint::Unix("/tmp/f.sock".into()));
        let slash: FluentForwardConfig = serde_yaml_ng::from_str("endpoint: /tmp/g.sock").unwrap();
        assert_eq!(slash.listen(), Endpoint::Unix("/tmp/g.sock".into()));
    }

    #[test]
    fn bad_values_name_the_key() {
        for bad in [
            "endpoint: localhost",
            "endpoint: 'h:99999'",
            "endpoint: 'unix://'",
        ] {
            let config: FluentForwardConfig = serde_yaml_ng::from_str(bad).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains("endpoint"), "{bad}: {error}");
        }
        assert!(serde_yaml_ng::from_str::<FluentForwardConfig>("max_connections: 3").is_err());
    }
}
