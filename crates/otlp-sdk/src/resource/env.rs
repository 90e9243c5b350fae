//! [`EnvDetector`]: `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`.

use std::fmt;

use otlp_model::semconv::resource::SERVICE_NAME;

use super::{Resource, ResourceDetector, string_kv};
use crate::env::{Env, ProcessEnv, invalid};
use crate::value::KeyValue;

/// The variable holding `key1=value1,key2=value2` resource attributes.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// The variable holding `service.name`; it wins over a `service.name` in
/// `OTEL_RESOURCE_ATTRIBUTES`.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// Reads resource attributes from `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`.
///
/// `OTEL_RESOURCE_ATTRIBUTES` is a comma-separated list of `key=value` pairs, in the W3C
/// Baggage format without `;` properties. Keys and values are percent-decoded (`,` and `=`
/// must be encoded as `%2C` and `%3D`, other characters may be), whitespace around keys and
/// values is trimmed, and every value is a string. An entry without `=`, an empty key, a
/// malformed `%` escape or a decoded value that is not UTF-8 is an error: as the
/// specification asks, the whole variable is then discarded, with a warning. Empty entries
/// (`a=1,,b=2`, a leading or trailing comma) are skipped.
///
/// `OTEL_SERVICE_NAME`, when set, becomes `service.name` and wins over one given in
/// `OTEL_RESOURCE_ATTRIBUTES`.
pub struct EnvDetector {
    env: Box<dyn Env>,
}

impl EnvDetector {
    /// A detector over `env` (a map in tests, [`ProcessEnv`] in applications).
    pub fn new(env: impl Env + 'static) -> Self {
        Self { env: Box::new(env) }
    }
}

impl Default for EnvDetector {
    /// A detector over the process environment.
    fn default() -> Self {
        Self::new(ProcessEnv)
    }
}

impl fmt::Debug for EnvDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvDetector")
    }
}

impl ResourceDetector for EnvDetector {
    fn detect(&self) -> Resource {
        detect(&*self.env)
    }
}

/// The attributes of `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` in `env`.
pub(crate) fn detect(env: &dyn Env) -> Resource {
    let mut attributes = Vec::new();
    if let Some(raw) = env.get(OTEL_RESOURCE_ATTRIBUTES) {
        match parse_resource_attributes(&raw) {
            Ok(parsed) => attributes = parsed,
            Err(error) => invalid(
                OTEL_RESOURCE_ATTRIBUTES,
                &raw,
                &format!(
                    "comma-separated key=value pairs with percent-encoded keys and values \
                     ({error}); the whole value is discarded"
                ),
            ),
        }
    }
    if let Some(name) = env.get(OTEL_SERVICE_NAME) {
        attributes.push(string_kv(SERVICE_NAME, name.trim()));
    }
    Resource::new(attributes)
}

/// Why an `OTEL_RESOURCE_ATTRIBUTES` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// An entry has no `=`.
    MissingEquals(usize),
    /// An entry has an empty key.
    EmptyKey(usize),
    /// A `%` is not followed by two hexadecimal digits.
    BadEscape(usize),
    /// The decoded bytes of a key or value are not UTF-8.
    NotUtf8(usize),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingEquals(n) => write!(f, "entry {n} has no '='"),
            Self::EmptyKey(n) => write!(f, "entry {n} has an empty key"),
            Self::BadEscape(n) => write!(f, "entry {n} has a malformed percent escape"),
            Self::NotUtf8(n) => write!(f, "entry {n} does not decode to UTF-8"),
        }
    }
}

/// Parses `key1=value1,key2=value2` (entries numbered from 1 in errors). A repeated key keeps
/// its last value (done by [`Resource::new`]).
pub(crate) fn parse_resource_attributes(raw: &str) -> Result<Vec<KeyValue>, ParseError> {
    let mut attributes = Vec::new();
    for (index, entry) in raw.split(',').enumerate() {
        let n = index + 1;
        if entry.trim().is_empty() {
            continue;
        }
        let (key, value) = entry.split_once('=').ok_or(ParseError::MissingEquals(n))?;
        let key = percent_decode(key.trim(), n)?;
        if key.trim().is_empty() {
            return Err(ParseError::EmptyKey(n));
        }
        let value = percent_decode(value.trim(), n)?;
        attributes.push(KeyValue::new(key, value));
    }
    Ok(attributes)
}

/// Decodes `%XX` escapes (RFC 3986); `+` stays a plus sign, as in W3C Baggage.
fn percent_decode(text: &str, n: usize) -> Result<String, ParseError> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_digit(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_digit(*b));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(ParseError::BadEscape(n)),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ParseError::NotUtf8(n))
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
