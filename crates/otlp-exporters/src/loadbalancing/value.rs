//! An attribute value as text, the way the Go collector's `pcommon.Value.AsString` writes it,
//! since that text is what the Go exporter hashes for the `attributes` and `service` keys:
//! strings as they are, integers in decimal, doubles in ECMAScript's number-to-string form
//! (`1e+21`, `1.5e-7`, `0.25`), booleans as `true`/`false`, bytes in standard base64, arrays
//! and maps as JSON (map keys sorted, `<`, `>` and `&` escaped as Go's `encoding/json` does),
//! and an empty value as the empty string.

use otlp_proto::common::v1::AnyValue;
use otlp_proto::common::v1::any_value::Value;

/// Appends `value` as Go's `AsString` text.
pub(crate) fn push_as_string(out: &mut String, value: Option<&AnyValue>) {
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => {}
        Some(Value::StringValue(s)) => out.push_str(s),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => push_number(out, *d),
        Some(Value::BytesValue(bytes)) => push_base64(out, bytes),
        Some(Value::ArrayValue(_)) | Some(Value::KvlistValue(_)) => {
            push_json(out, value.and_then(|v| v.value.as_ref()))
        }
    }
}

/// The text of a string value, the way Go's `Value.Str()` reads it: empty for every other type.
pub(crate) fn str_of(value: Option<&AnyValue>) -> &str {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s,
        _ => "",
    }
}

/// A double in ECMAScript's form (what Go's `encoding/json` and `AsString` write).
fn push_number(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("json: unsupported value: NaN");
        return;
    }
    if d.is_infinite() {
        out.push_str(if d > 0.0 {
            "json: unsupported value: +Inf"
        } else {
            "json: unsupported value: -Inf"
        });
        return;
    }
    let abs = d.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` is the shortest round-trip form: `1e21`, `1.5e-7`; Go writes the
        // sign of a positive exponent (`1e+21`).
        let text = format!("{d:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                out.push_str(mantissa);
                out.push_str("e+");
                out.push_str(exponent);
            }
            _ => out.push_str(&text),
        }
    } else {
        // `{}` is the shortest round-trip form without an exponent (`100`, `0.001`, `-0`).
        out.push_str(&format!("{d}"));
    }
}

fn push_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_json(out: &mut String, value: Option<&Value>) {
    match value {
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => push_json_string(out, s),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => push_number(out, *d),
        Some(Value::BytesValue(bytes)) => {
            out.push('"');
            push_base64(out, bytes);
            out.push('"');
        }
        Some(Value::ArrayValue(array)) => {
            out.push('[');
            for (i, v) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(out, v.value.as_ref());
            }
            out.push(']');
        }
        Some(Value::KvlistValue(list)) => {
            let mut entries: Vec<_> = list.values.iter().collect();
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            entries.dedup_by(|later, earlier| later.key == earlier.key);
            out.push('{');
            for (i, kv) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, &kv.key);
                out.push(':');
                push_json(out, kv.value.as_ref().and_then(|v| v.value.as_ref()));
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_proto::common::v1::{ArrayValue, KeyValue, KeyValueList};

    fn text(value: Value) -> String {
        let mut out = String::new();
        push_as_string(&mut out, Some(&AnyValue { value: Some(value) }));
        out
    }

    #[test]
    fn scalars_as_go_writes_them() {
        assert_eq!(text(Value::StringValue("a b".into())), "a b");
        assert_eq!(text(Value::IntValue(-42)), "-42");
        assert_eq!(text(Value::BoolValue(true)), "true");
        assert_eq!(text(Value::DoubleValue(100.0)), "100");
        assert_eq!(text(Value::DoubleValue(0.25)), "0.25");
        assert_eq!(text(Value::DoubleValue(1e21)), "1e+21");
        assert_eq!(text(Value::DoubleValue(1.5e-7)), "1.5e-7");
        assert_eq!(text(Value::DoubleValue(123456789.0)), "123456789");
        assert_eq!(text(Value::BytesValue(vec![0x01, 0xff])), "Af8=");
        assert_eq!(text(Value::BytesValue(b"abc".to_vec())), "YWJj");
        assert_eq!(text(Value::BytesValue(b"ab".to_vec())), "YWI=");
        let mut empty = String::new();
        push_as_string(&mut empty, None);
        assert_eq!(empty, "");
    }

    #[test]
    fn arrays_and_maps_as_json_with_sorted_keys() {
        let kv = |k: &str, v: Value| KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        };
        let map = Value::KvlistValue(KeyValueList {
            values: vec![
                kv("b", Value::IntValue(2)),
                kv("a", Value::StringValue("x<".into())),
            ],
        });
        assert_eq!(text(map), r#"{"a":"x\u003c","b":2}"#);
        let array = Value::ArrayValue(ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(Value::BoolValue(false)),
                },
                AnyValue { value: None },
                AnyValue {
                    value: Some(Value::DoubleValue(1.5)),
                },
            ],
        });
        assert_eq!(text(array), "[false,null,1.5]");
    }
}
