//! Values written in a configuration, and the Go collector's string rendering of `AnyValue`s.

use core::fmt;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A value written in a processor configuration (`value:` of an action or a match attribute),
/// already converted to the OTLP `AnyValue` it stands for, as the Go collector's
/// `pcommon.Value.FromRaw` converts it: YAML strings become `string_value`, integers
/// `int_value`, floats `double_value`, booleans `bool_value`, sequences `array_value` and
/// mappings `kvlist_value`. A YAML `null` is "not set".
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue(pub AnyValue);

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(AnyValueVisitor)
            .map(ConfigValue)
    }
}

struct AnyValueVisitor;

fn wrap(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, sequence or mapping")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnyValue, E> {
        Ok(wrap(Value::BoolValue(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyValue, E> {
        Ok(wrap(Value::IntValue(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyValue, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(wrap(Value::IntValue(i))),
            Err(_) => Err(E::custom(format!("integer {v} does not fit in int64"))),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyValue, E> {
        Ok(wrap(Value::DoubleValue(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyValue, E> {
        Ok(wrap(Value::StringValue(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<AnyValue, E> {
        Ok(wrap(Value::StringValue(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<AnyValue, E> {
        Ok(wrap(Value::BytesValue(v.to_vec())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<AnyValue, E> {
        Ok(AnyValue { value: None })
    }
    fn visit_none<E: de::Error>(self) -> Result<AnyValue, E> {
        Ok(AnyValue { value: None })
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<AnyValue, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyValue, A::Error> {
        let mut values = Vec::new();
        while let Some(ConfigValue(v)) = seq.next_element()? {
            values.push(v);
        }
        Ok(wrap(Value::ArrayValue(ArrayValue { values })))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        let mut values = Vec::new();
        while let Some((key, ConfigValue(value))) = map.next_entry::<String, ConfigValue>()? {
            values.push(KeyValue {
                key,
                value: Some(value),
                key_strindex: 0,
            });
        }
        Ok(wrap(Value::KvlistValue(KeyValueList { values })))
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest decimal that round-trips, never in
/// exponent form; `NaN`, `+Inf`, `-Inf` for the special values.
pub fn format_float(f: f64, out: &mut String) {
    use fmt::Write as _;
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        // Rust's `Display` for f64 is the shortest round-trip form without an exponent.
        let _ = write!(out, "{f}");
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub fn base64(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// The Go collector's `pcommon.Value.AsString()`: strings as they are, integers in decimal,
/// doubles per [`format_float`], booleans `true`/`false`, bytes in standard base64, arrays and
/// maps as JSON, an unset value as the empty string.
pub fn as_string(value: Option<&AnyValue>) -> String {
    let mut out = String::new();
    write_as_string(value, &mut out);
    out
}

/// Like [`as_string`], but borrows when the value already is a string.
pub fn as_str_cow(value: Option<&AnyValue>) -> std::borrow::Cow<'_, str> {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => std::borrow::Cow::Borrowed(s),
        _ => std::borrow::Cow::Owned(as_string(value)),
    }
}

/// [`as_string`], appended to `out`.
pub fn write_as_string(value: Option<&AnyValue>, out: &mut String) {
    use fmt::Write as _;
    match value.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => {}
        Some(Value::StringValue(s)) => out.push_str(s),
        Some(Value::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::DoubleValue(d)) => format_float(*d, out),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::BytesValue(b)) => base64(b, out),
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => {
            let json = to_json(v);
            out.push_str(&json.to_string());
        }
    }
}

fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::StringValue(s) => serde_json::Value::String(s.clone()),
        Value::BoolValue(b) => serde_json::Value::Bool(*b),
        Value::IntValue(i) => serde_json::Value::from(*i),
        Value::DoubleValue(d) => serde_json::Number::from_f64(*d)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::BytesValue(b) => {
            let mut s = String::new();
            base64(b, &mut s);
            serde_json::Value::String(s)
        }
        Value::StringValueStrindex(_) => serde_json::Value::Null,
        Value::ArrayValue(a) => serde_json::Value::Array(
            a.values
                .iter()
                .map(|v| v.value.as_ref().map_or(serde_json::Value::Null, to_json))
                .collect(),
        ),
        Value::KvlistValue(l) => serde_json::Value::Object(
            l.values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        kv.value
                            .as_ref()
                            .and_then(|v| v.value.as_ref())
                            .map_or(serde_json::Value::Null, to_json),
                    )
                })
                .collect(),
        ),
    }
}

/// A short description of a value for error messages.
pub fn describe(value: &AnyValue) -> String {
    as_string(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_model::attributes::IntoAnyValue;

    #[test]
    fn as_string_matches_go() {
        assert_eq!(as_string(Some(&"a".into_any_value())), "a");
        assert_eq!(as_string(Some(&(-3).into_any_value())), "-3");
        assert_eq!(as_string(Some(&1.5.into_any_value())), "1.5");
        assert_eq!(as_string(Some(&3.0.into_any_value())), "3");
        assert_eq!(
            as_string(Some(&1e21.into_any_value())),
            "1000000000000000000000"
        );
        assert_eq!(as_string(Some(&f64::INFINITY.into_any_value())), "+Inf");
        assert_eq!(as_string(Some(&true.into_any_value())), "true");
        assert_eq!(
            as_string(Some(&vec![1_u8, 2, 3, 4].into_any_value())),
            "AQIDBA=="
        );
        assert_eq!(as_string(Some(&vec![1, 2].into_any_value())), "[1,2]");
        assert_eq!(as_string(None), "");
    }

    #[test]
    fn base64_padding() {
        for (input, want) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
        ] {
            let mut s = String::new();
            base64(input, &mut s);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn config_values_from_yaml() {
        let v: Vec<ConfigValue> =
            serde_yaml_ng::from_str("[a, 1, 1.5, true, [x], {k: v}, null]").unwrap_or_default();
        assert_eq!(v.len(), 7);
        assert_eq!(v[0].0, "a".into_any_value());
        assert_eq!(v[1].0, 1.into_any_value());
        assert_eq!(v[2].0, 1.5.into_any_value());
        assert_eq!(v[3].0, true.into_any_value());
        assert!(v[6].0.value.is_none());
    }
}
