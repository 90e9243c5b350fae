//! Encoding converters: `ParseJSON`, `SHA256`, `Hex` (and the hash that `replace_*`'s
//! `function` argument names).

use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value};
use sha2::{Digest, Sha256};

use super::strings::expect_str;
use crate::EvalError;
use crate::val::{Val, hex_lower};

/// `SHA256(value)`: the lower-case hex SHA-256 of a string.
pub(crate) fn sha256(v: &Val<'_>) -> Result<Val<'static>, EvalError> {
    Ok(Val::Str(Cow::Owned(sha256_hex(expect_str(v, "SHA256")?))))
}

/// The lower-case hex SHA-256 of `s`.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex_lower(&Sha256::digest(s.as_bytes()))
}

/// `Hex(value)`: the lower-case hex of a value's bytes: bytes as they are, a string's UTF-8,
/// an int as 8 big-endian bytes, a double as its 8 big-endian IEEE 754 bytes, a bool as one
/// byte. An error for nil, maps and slices.
pub(crate) fn hex(v: &Val<'_>) -> Result<Val<'static>, EvalError> {
    let text = match v {
        Val::Bytes(b) => hex_lower(b),
        Val::Str(s) => hex_lower(s.as_bytes()),
        Val::Int(i) => hex_lower(&i.to_be_bytes()),
        Val::Float(f) => hex_lower(&f.to_bits().to_be_bytes()),
        Val::Bool(b) => hex_lower(&[u8::from(*b)]),
        other => {
            return Err(EvalError(format!(
                "Hex: unsupported type {}",
                other.type_name()
            )));
        }
    };
    Ok(Val::Str(Cow::Owned(text)))
}

/// `ParseJSON(target)`: a JSON object (a map) or array (a slice) from a string. Numbers become
/// doubles, as they do in the Go collector; `null` an unset value. An error when the string
/// is not JSON or holds something other than an object or an array.
pub(crate) fn parse_json(v: &Val<'_>) -> Result<Val<'static>, EvalError> {
    let s = expect_str(v, "ParseJSON")?;
    let json: serde_json::Value =
        serde_json::from_str(s).map_err(|e| EvalError(format!("ParseJSON: invalid JSON: {e}")))?;
    match json {
        serde_json::Value::Object(o) => Ok(Val::Map(Cow::Owned(object(o)))),
        serde_json::Value::Array(a) => Ok(Val::List(Cow::Owned(
            a.into_iter().map(from_json).collect(),
        ))),
        other => Err(EvalError(format!(
            "ParseJSON: expected a JSON object or array, got {}",
            match other {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Number(_) => "a number",
                _ => "a string",
            }
        ))),
    }
}

fn object(o: serde_json::Map<String, serde_json::Value>) -> Vec<KeyValue> {
    o.into_iter()
        .map(|(key, v)| KeyValue {
            key,
            value: Some(from_json(v)),
            key_strindex: 0,
        })
        .collect()
}

fn from_json(v: serde_json::Value) -> AnyValue {
    AnyValue {
        value: match v {
            serde_json::Value::Null => None,
            serde_json::Value::Bool(b) => Some(Value::BoolValue(b)),
            serde_json::Value::Number(n) => Some(Value::DoubleValue(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => Some(Value::StringValue(s)),
            serde_json::Value::Array(a) => Some(Value::ArrayValue(ArrayValue {
                values: a.into_iter().map(from_json).collect(),
            })),
            serde_json::Value::Object(o) => {
                Some(Value::KvlistValue(KeyValueList { values: object(o) }))
            }
        },
    }
}
