//! Configuration from the OTLP exporter specification's environment variables.

use std::path::Path;
use std::time::Duration;

use super::config::Pem;
use super::endpoint::{EndpointKind, resolve};
use super::{ConfigError, ExporterConfig, Protocol};
use crate::compression::Compression;
use crate::signal::Signal;

const PREFIX: &str = "OTEL_EXPORTER_OTLP_";

/// One option looked up in its per-signal variable, then its general one.
struct Lookup<'a, F> {
    signal: Signal,
    lookup: &'a F,
}

impl<F: Fn(&str) -> Option<String>> Lookup<'_, F> {
    /// The value and the name of the variable it came from. Empty values count as unset, as
    /// the specification requires.
    fn get(&self, option: &str) -> Option<(String, String)> {
        let specific = format!("{PREFIX}{}_{option}", self.signal.env_name());
        let general = format!("{PREFIX}{option}");
        [specific, general].into_iter().find_map(|var| {
            let value = (self.lookup)(&var)?;
            (!value.trim().is_empty()).then_some((var, value))
        })
    }
}

fn env_error(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Env {
        var: var.to_owned(),
        message: message.into(),
    }
}

impl ExporterConfig {
    /// Reads the configuration of an exporter for `signal` from the process environment.
    /// See [`ExporterConfig::from_env_with`].
    pub fn from_env(signal: Signal) -> Result<ExporterConfig, ConfigError> {
        ExporterConfig::from_env_with(signal, |name| std::env::var(name).ok())
    }

    /// Reads the configuration of an exporter for `signal` through `lookup` (a variable name
    /// to its value), so tests and embedders need not touch the process environment.
    ///
    /// | Variable (`OTEL_EXPORTER_OTLP_` + ) | Value |
    /// |---|---|
    /// | `ENDPOINT` | base endpoint; for OTLP/HTTP the signal's path is appended |
    /// | `HEADERS` | `key=value,key2=value2`, keys and values percent-decoded, whitespace trimmed |
    /// | `COMPRESSION` | `none`, `gzip`, `deflate`, `zstd`, `brotli` (or `br`; OTLP/HTTP only) |
    /// | `TIMEOUT` | milliseconds per attempt, a positive integer (default 10000) |
    /// | `PROTOCOL` | `grpc`, `http/protobuf` (default), `http/json` |
    /// | `CERTIFICATE` | PEM file of the CA(s) that verify the server |
    /// | `CLIENT_KEY`, `CLIENT_CERTIFICATE` | PEM files of the client's key and certificate chain (mTLS; both or neither) |
    /// | `INSECURE` | `true` (any case): a gRPC endpoint without a scheme uses plain HTTP/2 |
    ///
    /// Each has a per-signal form, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and so on (`METRICS`,
    /// `LOGS`, `PROFILES`), which takes precedence for that option alone; a per-signal
    /// endpoint is used exactly as given. An empty value is the same as an unset one.
    /// Certificate files are read now. Every invalid value is a [`ConfigError::Env`] naming
    /// the variable, except `INSECURE`, which the specification's boolean rule makes `false`
    /// for any value other than `true` (with a warning for values other than `false`).
    /// Retry settings have no variables: they keep their defaults.
    pub fn from_env_with<F>(signal: Signal, lookup: F) -> Result<ExporterConfig, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Lookup {
            signal,
            lookup: &lookup,
        };
        let mut config = ExporterConfig::default();

        if let Some((var, value)) = env.get("PROTOCOL") {
            let protocol: Protocol = value.parse().map_err(|e| env_error(&var, format!("{e}")))?;
            if !protocol.is_available() {
                return Err(env_error(
                    &var,
                    format!(
                        "{protocol} needs the `{}` cargo feature",
                        protocol.feature()
                    ),
                ));
            }
            config.protocol = protocol;
        }

        if let Some((var, value)) = env.get("INSECURE") {
            config.insecure = parse_bool(&var, &value);
        }

        if let Some((var, value)) = env.get("ENDPOINT") {
            let kind = if var == format!("{PREFIX}ENDPOINT") {
                EndpointKind::Base
            } else {
                EndpointKind::Signal
            };
            resolve(config.protocol, signal, &value, kind, config.insecure)
                .map_err(|message| env_error(&var, message))?;
            match kind {
                EndpointKind::Signal => {
                    config.signal_endpoints[signal.index()] = Some(value.trim().to_owned());
                }
                EndpointKind::Base => config.endpoint = Some(value.trim().to_owned()),
            }
        }

        if let Some((var, value)) = env.get("HEADERS") {
            config.headers = parse_headers(&value).map_err(|message| env_error(&var, message))?;
        }

        if let Some((var, value)) = env.get("COMPRESSION") {
            let compression: Compression =
                value.parse().map_err(|e| env_error(&var, format!("{e}")))?;
            if compression == Compression::Brotli && config.protocol == Protocol::Grpc {
                return Err(env_error(&var, "brotli is not a gRPC encoding"));
            }
            if !compression.is_available() {
                return Err(env_error(
                    &var,
                    format!("{compression} is not compiled in (its cargo feature is off)"),
                ));
            }
            config.compression = compression;
        }

        if let Some((var, value)) = env.get("TIMEOUT") {
            let millis: u64 = value.trim().parse().map_err(|_| {
                env_error(
                    &var,
                    format!("`{value}` is not a whole number of milliseconds"),
                )
            })?;
            if millis == 0 {
                return Err(env_error(&var, "the timeout must be greater than zero"));
            }
            config.timeout = Duration::from_millis(millis);
        }

        let read = |option: &str, what: &str| -> Result<Option<(String, Pem)>, ConfigError> {
            match env.get(option) {
                Some((var, path)) => match Pem::from_file(Path::new(path.trim()), what) {
                    Ok(pem) => Ok(Some((var, pem))),
                    Err(error) => Err(env_error(&var, error.to_string())),
                },
                None => Ok(None),
            }
        };
        if let Some((var, ca)) = read("CERTIFICATE", "CA certificate")? {
            super::tls::check_ca(&ca).map_err(|e| env_error(&var, e.to_string()))?;
            config.tls.ca = Some(ca);
        }
        match (
            read("CLIENT_CERTIFICATE", "client certificate")?,
            read("CLIENT_KEY", "client key")?,
        ) {
            (Some((cert_var, cert)), Some((key_var, key))) => {
                super::tls::check_identity(&cert, &key)
                    .map_err(|e| env_error(&format!("{cert_var}/{key_var}"), e.to_string()))?;
                config.tls.identity = Some((cert, key));
            }
            (Some((var, _)), None) => {
                return Err(env_error(
                    &var,
                    "a client certificate needs a client key too",
                ));
            }
            (None, Some((var, _))) => {
                return Err(env_error(
                    &var,
                    "a client key needs a client certificate too",
                ));
            }
            (None, None) => {}
        }

        Ok(config)
    }
}

/// The specification's boolean rule: `true` in any case is true, anything else false (with a
/// warning for values other than `false`).
fn parse_bool(var: &str, value: &str) -> bool {
    let value = value.trim();
    if value.eq_ignore_ascii_case("true") {
        true
    } else {
        if !value.eq_ignore_ascii_case("false") {
            tracing::warn!(var, value, "not a boolean (true or false); using false");
        }
        false
    }
}

/// Parses `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value` members in the W3C
/// Baggage format, each key and value percent-decoded and trimmed. Empty members are
/// skipped; a member without `=` or with an empty key, bad percent-encoding, or a name or
/// value HTTP does not allow is an error.
pub(crate) fn parse_headers(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for member in value.split(',') {
        let member = member.trim();
        if member.is_empty() {
            continue;
        }
        let Some((key, val)) = member.split_once('=') else {
            return Err(format!("`{member}` is not key=value"));
        };
        let key = percent_decode(key.trim()).map_err(|e| format!("key `{key}`: {e}"))?;
        let val = percent_decode(val.trim()).map_err(|e| format!("value of `{key}`: {e}"))?;
        let key = key.trim().to_owned();
        let val = val.trim().to_owned();
        if key.is_empty() {
            return Err(format!("`{member}` has an empty key"));
        }
        if http::HeaderName::from_bytes(key.as_bytes()).is_err() {
            return Err(format!("`{key}` is not a valid header name"));
        }
        if http::HeaderValue::from_str(&val).is_err() {
            return Err(format!("the value of `{key}` is not a valid header value"));
        }
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&key));
        headers.push((key, val));
    }
    Ok(headers)
}

/// Decodes `%XX` escapes (as UTF-8); `+` stays `+`, as in W3C Baggage.
fn percent_decode(input: &str) -> Result<String, String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-decodes to invalid UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_like_baggage() {
        assert_eq!(
            parse_headers("api-key=secret, x-tenant = blue%20team ,,empty=").unwrap(),
            vec![
                ("api-key".to_owned(), "secret".to_owned()),
                ("x-tenant".to_owned(), "blue team".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
        assert_eq!(
            parse_headers("Authorization=Basic%20dXNlcjpwYXNz%3D%3D").unwrap(),
            vec![(
                "Authorization".to_owned(),
                "Basic dXNlcjpwYXNz==".to_owned()
            )]
        );
        assert_eq!(
            parse_headers("a=b=c").unwrap(),
            vec![("a".to_owned(), "b=c".to_owned())]
        );
        assert_eq!(
            parse_headers("a=1,A=2").unwrap(),
            vec![("A".to_owned(), "2".to_owned())]
        );
        assert_eq!(parse_headers("k=caf%C3%A9").unwrap()[0].1, "café");
        assert_eq!(parse_headers("").unwrap(), vec![]);
        for bad in [
            "novalue",
            "=v",
            "a=%zz",
            "a=%4",
            "bad key=v",
            "a=x%0Ay",
            "a=%FF",
        ] {
            assert!(parse_headers(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn booleans_follow_the_spec() {
        assert!(parse_bool("V", "true"));
        assert!(parse_bool("V", "TRUE"));
        assert!(!parse_bool("V", "false"));
        assert!(!parse_bool("V", "1"));
        assert!(!parse_bool("V", "yes"));
    }
}
