//! The `env` detector: the attributes of `OTEL_RESOURCE_ATTRIBUTES` (or, when that is unset
//! or blank, the deprecated `OTEL_RESOURCE`), `key1=value1,key2=value2`, values
//! percent-decoded as the SDK specification says.
//!
//! A pair without `=`, with an empty key or with a value that does not decode (a bad `%`
//! escape, or bytes that are not UTF-8) is skipped with a warning and the other pairs are
//! kept, as the Go SDK does; a key given twice keeps its last value.

use super::{Attributes, string};
use crate::resourcedetection::environment::Environment;

/// The variable the specification names.
pub(crate) const VARIABLE: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// The variable otelcol-contrib still reads when the first is unset.
pub(crate) const DEPRECATED_VARIABLE: &str = "OTEL_RESOURCE";
/// The most pairs read from the variable.
const MAX_PAIRS: usize = 1024;

/// The `env` detector (no settings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EnvDetector;

impl EnvDetector {
    /// The attributes of the variable; none when it is unset.
    pub(crate) fn detect(&self, environment: &Environment) -> Attributes {
        let text = [VARIABLE, DEPRECATED_VARIABLE]
            .iter()
            .filter_map(|name| environment.var(name))
            .find(|value| !value.trim().is_empty());
        match text {
            Some(text) => parse(&text),
            None => Attributes::new(),
        }
    }
}

/// Why a pair was skipped.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PairError {
    /// No `=` in the pair.
    #[error("no '=' in {0:?}")]
    NoEquals(String),
    /// Nothing before the `=`.
    #[error("empty key in {0:?}")]
    EmptyKey(String),
    /// The value's percent-encoding is broken, or decodes to bytes that are not UTF-8.
    #[error("cannot decode the value of {key:?}: {reason}")]
    BadValue {
        /// The pair's key.
        key: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The attributes of `key1=value1,…`, bad pairs skipped (and logged).
pub(crate) fn parse(text: &str) -> Attributes {
    let mut attributes = Attributes::new();
    for (index, pair) in text.split(',').enumerate() {
        if index >= MAX_PAIRS {
            tracing::warn!(
                variable = VARIABLE,
                "more than {MAX_PAIRS} pairs; the rest ignored"
            );
            break;
        }
        if pair.trim().is_empty() {
            continue;
        }
        match parse_pair(pair) {
            Ok((key, value)) => {
                attributes.retain(|kv| kv.key != key);
                attributes.push(string(&key, value));
            }
            Err(error) => {
                tracing::warn!(variable = VARIABLE, %error, "skipped a resource attribute");
            }
        }
    }
    attributes
}

fn parse_pair(pair: &str) -> Result<(String, String), PairError> {
    let Some((key, value)) = pair.split_once('=') else {
        return Err(PairError::NoEquals(pair.trim().to_owned()));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(PairError::EmptyKey(pair.trim().to_owned()));
    }
    let value = percent_decode(value.trim()).map_err(|reason| PairError::BadValue {
        key: key.to_owned(),
        reason,
    })?;
    Ok((key.to_owned(), value))
}

/// `%XX` escapes decoded; every other character kept as is (`+` stays `+`).
pub(crate) fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let high = bytes.get(i + 1).and_then(|b| hex(*b));
        let low = bytes.get(i + 2).and_then(|b| hex(*b));
        match (high, low) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err("'%' not followed by two hexadecimal digits"),
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| "the decoded bytes are not UTF-8")
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}
