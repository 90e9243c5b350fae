//! Reading a component's configuration into its typed struct ([`parse_config`]) and the serde
//! helpers otelcol configurations need ([`duration`]).

use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::config::error::ConfigError;

/// Deserializes a component's configuration (`null`, as in `batch:` with nothing under it,
/// reads as an empty map) into `C`.
///
/// Errors are [`ConfigErrorKind::BadValue`](crate::config::ConfigErrorKind::BadValue) with the
/// path inside the component (`protocols::grpc::endpoint`, `actions[1]::key`), which
/// validation prefixes with the component and the file.
///
/// The value is read through YAML text rather than directly from the [`Value`] so that a
/// plain scalar reads as both a string and a number, as in otelcol: `api_key: 12345` fills a
/// `String`, and `port: ${env:PORT}` fills a `u16`. Give configuration structs
/// `#[serde(deny_unknown_fields)]`: otelcol rejects unknown keys, and so should we.
pub fn parse_config<C: DeserializeOwned>(config: &Value) -> Result<C, ConfigError> {
    let empty = Value::Mapping(serde_yaml_ng::Mapping::new());
    let value = if config.is_null() { &empty } else { config };
    let text = serde_yaml_ng::to_string(value).map_err(|e| ConfigError::bad_value("", e))?;
    let deserializer = serde_yaml_ng::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let serde_path = error.path().to_string();
        let path = render_path(error.path());
        let inner = error.into_inner();
        ConfigError::bad_value(path, clean_message(&inner, &serde_path))
    })
}

/// `a::b[1]::c` from serde_path_to_error's segments (the root is `""`).
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push_str("::");
    }
    out.push_str(key);
}

/// The YAML error's message without its own path prefix and without the line and column,
/// which refer to the text made from the value, not to the user's file.
fn clean_message(error: &serde_yaml_ng::Error, serde_path: &str) -> String {
    let mut message = error.to_string();
    if let Some(location) = error.location() {
        let suffix = format!(" at line {} column {}", location.line(), location.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    if let Some((head, tail)) = message.split_once(": ") {
        let is_path = serde_path == head
            || serde_path.starts_with(&format!("{head}."))
            || serde_path.starts_with(&format!("{head}["));
        if is_path {
            message = tail.to_owned();
        }
    }
    message
}

/// Go durations in configurations: `otlp_transport::go_duration` (below the framework, so the
/// Kafka settings of otlp-transport read them the same way). Use with
/// `#[serde(with = "otlp_pipeline::config::duration")]` on a `Duration` field, or
/// `duration::option` on an `Option<Duration>`.
pub use otlp_transport::go_duration as duration;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Action {
        key: String,
        #[serde(default)]
        count: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        actions: Vec<Action>,
        #[serde(default, with = "duration::option")]
        timeout: Option<Duration>,
        #[serde(default)]
        port: u16,
        #[serde(default)]
        token: String,
    }

    fn value(yaml: &str) -> Value {
        serde_yaml_ng::from_str(yaml).expect("yaml")
    }

    #[test]
    fn reads_plain_scalars_as_either_type() {
        let sample: Sample =
            parse_config(&value("port: 4317\ntoken: 12345\ntimeout: 1m30s")).expect("valid");
        assert_eq!(sample.port, 4317);
        assert_eq!(sample.token, "12345");
        assert_eq!(sample.timeout, Some(Duration::from_secs(90)));
        let empty: Sample = parse_config(&Value::Null).expect("null is an empty map");
        assert_eq!(empty.port, 0);
    }

    #[test]
    fn errors_carry_the_path() {
        let error = parse_config::<Sample>(&value("actions: [{key: a}, {key: b, count: 300}]"))
            .expect_err("bad");
        assert_eq!(error.location(), "actions[1]::count");
        assert_eq!(
            error.kind().to_string(),
            "invalid value: integer `300`, expected u8"
        );
        let error =
            parse_config::<Sample>(&value("actions: [{key: a, bogus: 1}]")).expect_err("bad");
        assert_eq!(error.location(), "actions[0]::bogus");
        assert_eq!(
            error.kind().to_string(),
            "unknown field `bogus`, expected `key` or `count`"
        );
        let error = parse_config::<Sample>(&value("timeout: 5 parsecs")).expect_err("bad");
        assert_eq!(error.location(), "timeout");
        assert!(
            error
                .kind()
                .to_string()
                .contains("unknown unit \"parsecs\""),
            "{error}"
        );
        let error = parse_config::<Sample>(&value("[1]")).expect_err("bad");
        assert_eq!(error.location(), "");
        assert_eq!(
            error.kind().to_string(),
            "invalid type: sequence, expected struct Sample"
        );
    }

    #[test]
    fn go_durations() {
        use duration::{format, parse};
        assert_eq!(parse("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse("1h2m3s"), Ok(Duration::from_secs(3723)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("10us"), Ok(Duration::from_micros(10)));
        assert!(parse("5").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("").is_err());
        assert!(parse("1x").is_err());
        for text in ["0s", "1h2m3s", "1.5s", "200ms", "10us", "5ns", "2m0s"] {
            assert_eq!(format(parse(text).expect("valid")), text);
        }
    }
}
