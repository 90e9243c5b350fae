//! Severity: the `severity` block of parsers and the `severity_parser` operator. The value at
//! `parse_from` is looked up (lower-cased) in the mapping: stanza's default preset (`trace`,
//! `debug`, `info`, `warn`/`warning`, `error`/`err`, `fatal`, … with their `2`–`4` levels) plus
//! the configured `mapping` (a level to a string, an integer, a `{min, max}` range, an
//! `Nxx` HTTP-status shorthand, or a list of these). The severity text is the value as it was;
//! a value the mapping does not know leaves the number unspecified (0).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::{Mapping, Value as Yaml};

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

/// `severity:` / the `severity_parser` keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeverityConfig {
    #[serde(default)]
    parse_from: Option<String>,
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    mapping: Option<Mapping>,
    #[serde(default)]
    overwrite_text: bool,
}

/// The level names and their severity numbers.
const LEVELS: &[(&str, i32)] = &[
    ("trace", 1),
    ("trace2", 2),
    ("trace3", 3),
    ("trace4", 4),
    ("debug", 5),
    ("debug2", 6),
    ("debug3", 7),
    ("debug4", 8),
    ("info", 9),
    ("info2", 10),
    ("info3", 11),
    ("info4", 12),
    ("warn", 13),
    ("warn2", 14),
    ("warn3", 15),
    ("warn4", 16),
    ("error", 17),
    ("error2", 18),
    ("error3", 19),
    ("error4", 20),
    ("fatal", 21),
    ("fatal2", 22),
    ("fatal3", 23),
    ("fatal4", 24),
];

/// Severity text for a number (what `overwrite_text` writes).
fn level_text(number: i32) -> &'static str {
    match number {
        1 => "TRACE",
        2 => "TRACE2",
        3 => "TRACE3",
        4 => "TRACE4",
        5 => "DEBUG",
        6 => "DEBUG2",
        7 => "DEBUG3",
        8 => "DEBUG4",
        9 => "INFO",
        10 => "INFO2",
        11 => "INFO3",
        12 => "INFO4",
        13 => "WARN",
        14 => "WARN2",
        15 => "WARN3",
        16 => "WARN4",
        17 => "ERROR",
        18 => "ERROR2",
        19 => "ERROR3",
        20 => "ERROR4",
        21 => "FATAL",
        22 => "FATAL2",
        23 => "FATAL3",
        24 => "FATAL4",
        _ => "",
    }
}

/// A compiled mapping.
#[derive(Debug, Clone)]
pub(crate) struct SeverityParser {
    parse_from: Field,
    exact: HashMap<String, i32>,
    ranges: Vec<(i64, i64, i32)>,
    overwrite_text: bool,
}

impl SeverityParser {
    pub(crate) fn new(
        c: SeverityConfig,
        r: &Resolver<'_>,
        prefix: &str,
    ) -> Result<SeverityParser, ConfigError> {
        let parse_from = match &c.parse_from {
            Some(f) => r.field(&format!("{prefix}parse_from"), f)?,
            None => Field::body(),
        };
        let mut exact = HashMap::new();
        match c.preset.as_deref() {
            None | Some("default") => {
                for (name, number) in LEVELS {
                    exact.insert((*name).to_owned(), *number);
                }
                exact.insert("warning".into(), 13);
                exact.insert("err".into(), 17);
            }
            Some("none") => {}
            Some(other) => {
                return Err(r.error(
                    &format!("{prefix}preset"),
                    format!("\"{other}\": must be default or none"),
                ));
            }
        }
        let mut ranges = Vec::new();
        for (level, values) in c.mapping.iter().flatten() {
            let key = format!("{prefix}mapping");
            let level = level
                .as_str()
                .ok_or_else(|| r.error(&key, "levels must be names"))?
                .to_ascii_lowercase();
            let number = LEVELS
                .iter()
                .find(|(n, _)| *n == level)
                .map(|(_, v)| *v)
                .ok_or_else(|| r.error(&key, format!("\"{level}\" is not a severity level")))?;
            let list = match values {
                Yaml::Sequence(items) => items.clone(),
                other => vec![other.clone()],
            };
            for item in list {
                match item {
                    Yaml::String(s) => {
                        let lower = s.to_ascii_lowercase();
                        if let Some(class) = lower.strip_suffix("xx")
                            && let Ok(digit) = class.parse::<i64>()
                            && (1..=5).contains(&digit)
                        {
                            ranges.push((digit * 100, digit * 100 + 99, number));
                            continue;
                        }
                        exact.insert(lower, number);
                    }
                    Yaml::Number(n) => {
                        exact.insert(n.to_string(), number);
                    }
                    Yaml::Bool(b) => {
                        exact.insert(b.to_string(), number);
                    }
                    Yaml::Mapping(m) => {
                        let get = |k: &str| m.get(k).and_then(Yaml::as_i64);
                        let (Some(min), Some(max)) = (get("min"), get("max")) else {
                            return Err(r.error(&key, "a range needs integer min and max"));
                        };
                        ranges.push((min, max, number));
                    }
                    _ => return Err(r.error(&key, "unsupported mapping value")),
                }
            }
        }
        Ok(SeverityParser {
            parse_from,
            exact,
            ranges,
            overwrite_text: c.overwrite_text,
        })
    }

    /// The number for a value, 0 when the mapping does not know it.
    pub(crate) fn lookup(&self, value: &Value) -> (i32, String) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                _ => n.to_string(),
            },
            Value::Bool(b) => b.to_string(),
            other => other.to_string(),
        };
        let lower = text.to_ascii_lowercase();
        if let Some(n) = self.exact.get(&lower) {
            return (*n, text);
        }
        if let Ok(i) = lower.parse::<i64>()
            && let Some((_, _, n)) = self.ranges.iter().find(|(a, b, _)| (*a..=*b).contains(&i))
        {
            return (*n, text);
        }
        (0, text)
    }

    /// Sets the entry's severity from `parse_from`.
    pub(crate) fn apply(&self, entry: &mut Entry) -> Result<(), String> {
        let value = self
            .parse_from
            .get(entry)
            .ok_or_else(|| {
                format!(
                    "severity parser: log entry does not have the expected parse_from field {}",
                    self.parse_from
                )
            })?
            .clone();
        let (number, text) = self.lookup(&value);
        entry.severity = number;
        entry.severity_text = if self.overwrite_text {
            level_text(number).to_owned()
        } else {
            text
        };
        Ok(())
    }
}

/// The `severity_parser` operator.
pub(crate) struct SeverityOperator(SeverityParser);

impl SeverityOperator {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<SeverityOperator, ConfigError> {
        let c: SeverityConfig = r.parse(rest)?;
        Ok(SeverityOperator(SeverityParser::new(c, r, "")?))
    }
}

impl Operator for SeverityOperator {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        self.0.apply(entry).map(|()| Step::Next)
    }
}
