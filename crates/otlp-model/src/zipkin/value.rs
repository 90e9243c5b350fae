//! Attribute values as text, the way otelcol (Go's pdata and `encoding/json`) writes them:
//! `Value.AsString()` for tags, `json.Marshal` of a map for event and link attributes, and the
//! reverse typing of `parse_string_tags`.

use base64::Engine as _;

use crate::proto::common::v1::any_value::Value;
use crate::proto::common::v1::{AnyValue, KeyValue};

/// A float as Go's `encoding/json` (and pdata's `AsString`) writes it: the shortest digits,
/// plain for `1e-6 <= |x| < 1e21`, else exponent form with at least one exponent digit
/// (`1e-7`, `1e+21`). `None` for NaN and infinities, which Go refuses.
pub(crate) fn go_float(value: f64) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{value:e}");
        // Rust: `1e21`, `1.5e-7`; Go: `1e+21`, `1.5e-07` → cleaned to `1.5e-7`.
        return Some(match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        });
    }
    Some(format!("{value}"))
}

/// The error text Go gives for a float JSON cannot hold.
fn unsupported_float(value: f64) -> String {
    let name = if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    };
    format!("json: unsupported value: {name}")
}

/// pdata's `Value.AsString()`.
pub(crate) fn as_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        // A dictionary index (profiles only) has no text of its own here.
        None | Some(Value::StringValueStrindex(_)) => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => go_float(*d).unwrap_or_else(|| unsupported_float(*d)),
        Some(Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(Value::ArrayValue(_)) | Some(Value::KvlistValue(_)) => {
            let mut out = String::new();
            match write_json_value(&mut out, value) {
                Ok(()) => out,
                Err(error) => error,
            }
        }
    }
}

/// `json.Marshal(map.AsRaw())`: keys sorted, values as Go marshals them. Fails on NaN and
/// infinities, as Go does.
pub(crate) fn attributes_json(attributes: &[KeyValue]) -> Result<String, String> {
    let mut out = String::new();
    write_json_map(&mut out, attributes)?;
    Ok(out)
}

fn write_json_map(out: &mut String, attributes: &[KeyValue]) -> Result<(), String> {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    // A map keeps the last value of a repeated key.
    sorted.dedup_by(|later, earlier| {
        if later.key == earlier.key {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    out.push('{');
    for (i, kv) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, &kv.key);
        out.push(':');
        write_json_value(out, kv.value.as_ref())?;
    }
    out.push('}');
    Ok(())
}

fn write_json_value(out: &mut String, value: Option<&AnyValue>) -> Result<(), String> {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_string(out, s),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => {
            out.push_str(&go_float(*d).ok_or_else(|| unsupported_float(*d))?);
        }
        Some(Value::BytesValue(b)) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Some(Value::ArrayValue(array)) => {
            out.push('[');
            for (i, v) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_value(out, Some(v))?;
            }
            out.push(']');
        }
        Some(Value::KvlistValue(list)) => write_json_map(out, &list.values)?,
    }
    Ok(())
}

/// A JSON string as Go's `encoding/json` escapes it (HTML-safe: `<`, `>`, `&` as `\u003c`…,
/// and U+2028/U+2029 escaped).
pub(crate) fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' => Some("\\u003c"),
            '>' => Some("\\u003e"),
            '&' => Some("\\u0026"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&text[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
        start = i + c.len_utf8();
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// A tag value typed as `parse_string_tags` types it: `-?\d+` an int (clamped to the i64 range,
/// as Go's `ParseInt` does), `-?\d+\.\d+` a double, `true`/`false` a bool, anything else
/// (including JSON-looking maps and lists) a string.
pub(crate) fn typed_tag(value: &str) -> Value {
    let bytes = value.as_bytes();
    let digits = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    let unsigned = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits(unsigned) {
        return Value::IntValue(value.parse::<i64>().unwrap_or(if bytes[0] == b'-' {
            i64::MIN
        } else {
            i64::MAX
        }));
    }
    if let Some(dot) = unsigned.iter().position(|&b| b == b'.')
        && digits(&unsigned[..dot])
        && digits(&unsigned[dot + 1..])
        && let Ok(d) = value.parse::<f64>()
    {
        return Value::DoubleValue(d);
    }
    match value {
        "true" => Value::BoolValue(true),
        "false" => Value::BoolValue(false),
        _ => Value::StringValue(value.to_owned()),
    }
}

/// A JSON value of an event's or link's attribute map as otelcol reads it back: strings,
/// numbers (integral ones as ints), booleans; `null`, objects and arrays are dropped.
pub(crate) fn attributes_from_json(text: &str) -> Result<Vec<KeyValue>, String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            serde_json::Value::String(s) => Value::StringValue(s),
            serde_json::Value::Bool(b) => Value::BoolValue(b),
            serde_json::Value::Number(n) => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 {
                    Value::IntValue(f as i64)
                } else {
                    Value::DoubleValue(f)
                }
            }
            _ => continue,
        };
        out.push(KeyValue {
            key,
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        });
    }
    Ok(out)
}
