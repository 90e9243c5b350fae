//! Sample values, label values and HELP text as the text format 0.0.4 writes them.

use std::fmt::Write as _;

use otlp_proto::common::v1::AnyValue;
use otlp_proto::common::v1::any_value::Value;

/// A float as Prometheus parses it: `+Inf`, `-Inf`, `NaN`; integral values below 1e15
/// without exponent or fraction (`3`, not `3.0`); other values in the shortest form that
/// reads back exactly, with an exponent outside [1e-4, 1e15).
pub fn write_f64(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v == 0.0 || (1e-4..1e15).contains(&v.abs()) {
        // `Display` of an f64 is the shortest round-trip form and never uses an exponent.
        let _ = write!(out, "{v}");
    } else {
        let _ = write!(out, "{v:e}");
    }
}

/// [`write_f64`] into a new string.
pub fn f64_string(v: f64) -> String {
    let mut s = String::new();
    write_f64(&mut s, v);
    s
}

/// Appends a label value with `\`, `"` and line feed escaped.
pub fn write_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends HELP text with `\` and line feed escaped.
pub fn write_help(out: &mut String, help: &str) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// An attribute value as a label value, per the specification's "AnyValue representation
/// for non-OTLP protocols": strings as they are, booleans and integers in decimal, doubles
/// in the float form above, bytes in base64, arrays and maps as JSON, no value as "".
pub fn any_value_string(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => f64_string(*d),
        Some(Value::BytesValue(b)) => base64(b),
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            let mut out = String::new();
            write_json(&mut out, Some(v), 0);
            out
        }
        // String-table references (profiles only) carry no text here.
        Some(_) => String::new(),
    }
}

/// Nesting beyond this is written as `null` (a hostile value cannot exhaust the stack).
const MAX_JSON_DEPTH: usize = 32;

fn write_json(out: &mut String, value: Option<&Value>, depth: usize) {
    if depth > MAX_JSON_DEPTH {
        out.push_str("null");
        return;
    }
    match value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => write_json_string(out, s),
        Some(Value::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) if d.is_nan() => out.push_str("\"NaN\""),
        Some(Value::DoubleValue(d)) if *d == f64::INFINITY => out.push_str("\"Infinity\""),
        Some(Value::DoubleValue(d)) if *d == f64::NEG_INFINITY => out.push_str("\"-Infinity\""),
        Some(Value::DoubleValue(d)) => write_f64(out, *d),
        Some(Value::BytesValue(b)) => write_json_string(out, &base64(b)),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, v) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v.value.as_ref(), depth + 1);
            }
            out.push(']');
        }
        Some(Value::KvlistValue(kv)) => {
            out.push('{');
            for (i, kv) in kv.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, &kv.key);
                out.push(':');
                write_json(
                    out,
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                    depth + 1,
                );
            }
            out.push('}');
        }
        Some(_) => out.push_str("null"),
    }
}

pub(super) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 0x3f) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use otlp_proto::common::v1::{ArrayValue, KeyValue, KeyValueList};

    use super::*;

    #[test]
    fn floats() {
        assert_eq!(f64_string(3.0), "3");
        assert_eq!(f64_string(-3.0), "-3");
        assert_eq!(f64_string(0.0), "0");
        assert_eq!(f64_string(0.25), "0.25");
        assert_eq!(f64_string(1234.5), "1234.5");
        assert_eq!(f64_string(1e6), "1000000");
        assert_eq!(f64_string(1e21), "1e21");
        assert_eq!(f64_string(1.5e-7), "1.5e-7");
        assert_eq!(f64_string(0.1), "0.1");
        assert_eq!(f64_string(f64::INFINITY), "+Inf");
        assert_eq!(f64_string(f64::NEG_INFINITY), "-Inf");
        assert_eq!(f64_string(f64::NAN), "NaN");
        for v in [0.1, 1.0 / 3.0, 123456.789, 1e300, 5e-324, f64::MAX] {
            assert_eq!(f64_string(v).parse::<f64>().unwrap(), v);
        }
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        write_label_value(&mut s, "a\\b\"c\nd");
        assert_eq!(s, r#"a\\b\"c\nd"#);
        let mut s = String::new();
        write_help(&mut s, "a\\b\"c\nd");
        assert_eq!(s, r#"a\\b"c\nd"#);
    }

    #[test]
    fn attribute_values() {
        let v = |value| AnyValue { value: Some(value) };
        assert_eq!(any_value_string(None), "");
        assert_eq!(any_value_string(Some(&v(Value::BoolValue(true)))), "true");
        assert_eq!(any_value_string(Some(&v(Value::IntValue(-7)))), "-7");
        assert_eq!(any_value_string(Some(&v(Value::DoubleValue(2.5)))), "2.5");
        assert_eq!(
            any_value_string(Some(&v(Value::BytesValue(b"hi!?".to_vec())))),
            "aGkhPw=="
        );
        let array = Value::ArrayValue(ArrayValue {
            values: vec![v(Value::StringValue("a\"".into())), v(Value::IntValue(1))],
        });
        assert_eq!(any_value_string(Some(&v(array))), r#"["a\"",1]"#);
        let map = Value::KvlistValue(KeyValueList {
            values: vec![KeyValue {
                key: "k".into(),
                value: Some(v(Value::DoubleValue(f64::NAN))),
                ..Default::default()
            }],
        });
        assert_eq!(any_value_string(Some(&v(map))), r#"{"k":"NaN"}"#);
    }
}
