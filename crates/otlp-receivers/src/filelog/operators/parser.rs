//! What every stanza parser shares: `parse_from` (default `body`), `parse_to` (default
//! `attributes`), and the embedded `timestamp` and `severity` blocks applied after parsing.

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::severity_parser::{SeverityConfig, SeverityParser};
use super::time_parser::{TimeConfig, TimeParser};
use super::{Resolver, Step};
use crate::filelog::entry::{Entry, Field};

/// The common keys, parsed.
pub(crate) struct ParserCommon {
    pub(crate) parse_from: Field,
    pub(crate) parse_to: Field,
    pub(crate) timestamp: Option<TimeParser>,
    pub(crate) severity: Option<SeverityParser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommonConfig {
    #[serde(default)]
    parse_from: Option<String>,
    #[serde(default)]
    parse_to: Option<String>,
    #[serde(default)]
    timestamp: Option<TimeConfig>,
    #[serde(default)]
    severity: Option<SeverityConfig>,
}

/// Splits `rest` into the common keys and the operator's own.
pub(crate) fn split(rest: &Mapping, own: &[&str]) -> (Mapping, Mapping) {
    let mut common = Mapping::new();
    let mut mine = Mapping::new();
    for (k, v) in rest {
        if k.as_str().is_some_and(|k| own.contains(&k)) {
            mine.insert(k.clone(), v.clone());
        } else {
            common.insert(k.clone(), v.clone());
        }
    }
    (common, mine)
}

impl ParserCommon {
    pub(crate) fn build(common: &Mapping, r: &Resolver<'_>) -> Result<ParserCommon, ConfigError> {
        let c: CommonConfig = r.parse(common)?;
        Ok(ParserCommon {
            parse_from: match &c.parse_from {
                Some(f) => r.field("parse_from", f)?,
                None => Field::body(),
            },
            parse_to: match &c.parse_to {
                Some(f) => r.field("parse_to", f)?,
                None => Field::attributes(),
            },
            timestamp: c
                .timestamp
                .map(|t| TimeParser::new(t, r, "timestamp::"))
                .transpose()?,
            severity: c
                .severity
                .map(|s| SeverityParser::new(s, r, "severity::"))
                .transpose()?,
        })
    }

    /// The value at `parse_from`, or the error stanza gives when it is missing.
    pub(crate) fn source<'e>(
        &self,
        entry: &'e Entry,
    ) -> Result<std::borrow::Cow<'e, Value>, String> {
        if self.parse_from == Field::body()
            && let Some(bytes) = &entry.body_bytes
        {
            return Ok(std::borrow::Cow::Owned(Value::String(
                String::from_utf8_lossy(bytes).into_owned(),
            )));
        }
        self.parse_from
            .get(entry)
            .map(std::borrow::Cow::Borrowed)
            .ok_or_else(|| {
                format!(
                    "entry is missing the expected parse_from field: {}",
                    self.parse_from
                )
            })
    }

    /// Writes the parsed value to `parse_to`, then applies `timestamp` and `severity`.
    pub(crate) fn finish(&self, entry: &mut Entry, parsed: Value) -> Result<Step, String> {
        self.parse_to.set(entry, parsed)?;
        // Both are attempted, as in stanza: a missing time does not skip the severity.
        let time = self.timestamp.as_ref().map_or(Ok(()), |t| t.apply(entry));
        let severity = self.severity.as_ref().map_or(Ok(()), |s| s.apply(entry));
        match (time, severity) {
            (Ok(()), Ok(())) => Ok(Step::Next),
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
        }
    }
}
