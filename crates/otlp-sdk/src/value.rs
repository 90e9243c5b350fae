//! Attribute keys and values as the SDK holds them on the hot path.
//!
//! A span's attributes are written by the application while the span runs and encoded to OTLP
//! protobuf later, on the export thread. [`Key`] and [`Value`] keep `&'static str` keys and
//! values without allocating (the common case: `span.set_attribute("http.request.method",
//! "GET")`), and convert to `otlp_proto`'s `KeyValue` / `AnyValue` once, at export.

use std::borrow::Cow;
use std::fmt;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue as ProtoKeyValue, any_value};

/// An attribute key: a static string or an owned one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Cow<'static, str>);

impl Key {
    /// A key from a static string, in a `const` context.
    #[must_use]
    pub const fn from_static(key: &'static str) -> Self {
        Self(Cow::Borrowed(key))
    }

    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned `String` (no copy when it already owns one).
    #[must_use]
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl From<&'static str> for Key {
    fn from(key: &'static str) -> Self {
        Self(Cow::Borrowed(key))
    }
}

impl From<String> for Key {
    fn from(key: String) -> Self {
        Self(Cow::Owned(key))
    }
}

impl From<Cow<'static, str>> for Key {
    fn from(key: Cow<'static, str>) -> Self {
        Self(key)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An attribute value: the OTLP `AnyValue` kinds, with strings that may be static.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    I64(i64),
    /// A double.
    F64(f64),
    /// A string.
    String(Cow<'static, str>),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A homogeneous or heterogeneous array.
    Array(Vec<Value>),
    /// Any other OTLP value (maps, nested arrays), as it goes on the wire.
    Any(AnyValue),
}

impl Value {
    /// The value as OTLP protobuf.
    #[must_use]
    pub fn into_proto(self) -> AnyValue {
        let value = match self {
            Self::Bool(v) => any_value::Value::BoolValue(v),
            Self::I64(v) => any_value::Value::IntValue(v),
            Self::F64(v) => any_value::Value::DoubleValue(v),
            Self::String(v) => any_value::Value::StringValue(v.into_owned()),
            Self::Bytes(v) => any_value::Value::BytesValue(v),
            Self::Array(values) => any_value::Value::ArrayValue(ArrayValue {
                values: values.into_iter().map(Self::into_proto).collect(),
            }),
            Self::Any(any) => return any,
        };
        AnyValue { value: Some(value) }
    }

    /// The value as OTLP protobuf, from a reference.
    #[must_use]
    pub fn to_proto(&self) -> AnyValue {
        let value = match self {
            Self::Bool(v) => any_value::Value::BoolValue(*v),
            Self::I64(v) => any_value::Value::IntValue(*v),
            Self::F64(v) => any_value::Value::DoubleValue(*v),
            Self::String(v) => any_value::Value::StringValue(v.as_ref().to_owned()),
            Self::Bytes(v) => any_value::Value::BytesValue(v.clone()),
            Self::Array(values) => any_value::Value::ArrayValue(ArrayValue {
                values: values.iter().map(Self::to_proto).collect(),
            }),
            Self::Any(any) => return any.clone(),
        };
        AnyValue { value: Some(value) }
    }

    /// The string, if this is a string value.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// Truncates strings (also inside arrays) to at most `limit` characters, on a character
    /// boundary, as the attribute value length limit asks. Returns whether anything changed.
    pub fn truncate(&mut self, limit: usize) -> bool {
        match self {
            Self::String(s) => truncate_cow(s, limit),
            Self::Array(values) => {
                let mut changed = false;
                for value in values {
                    changed |= value.truncate(limit);
                }
                changed
            }
            Self::Bytes(bytes) if bytes.len() > limit => {
                bytes.truncate(limit);
                true
            }
            _ => false,
        }
    }
}

fn truncate_cow(s: &mut Cow<'static, str>, limit: usize) -> bool {
    let Some((index, _)) = s.char_indices().nth(limit) else {
        return false;
    };
    match s {
        Cow::Borrowed(b) => *s = Cow::Borrowed(&b[..index]),
        Cow::Owned(o) => o.truncate(index),
    }
    true
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Self::I64(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::F64(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Self::F64(f64::from(v))
    }
}

impl From<&'static str> for Value {
    fn from(v: &'static str) -> Self {
        Self::String(Cow::Borrowed(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::String(Cow::Owned(v))
    }
}

impl From<Cow<'static, str>> for Value {
    fn from(v: Cow<'static, str>) -> Self {
        Self::String(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

impl From<AnyValue> for Value {
    fn from(v: AnyValue) -> Self {
        Self::Any(v)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value
where
    T: NotBytes,
{
    fn from(values: Vec<T>) -> Self {
        Self::Array(values.into_iter().map(Into::into).collect())
    }
}

/// Element types whose `Vec` is an array (not `u8`, whose `Vec` is bytes).
pub trait NotBytes {}
impl NotBytes for bool {}
impl NotBytes for i64 {}
impl NotBytes for f64 {}
impl NotBytes for &'static str {}
impl NotBytes for String {}
impl NotBytes for Value {}

/// One attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// The key.
    pub key: Key,
    /// The value.
    pub value: Value,
}

impl KeyValue {
    /// An attribute from anything that converts into a key and a value.
    pub fn new(key: impl Into<Key>, value: impl Into<Value>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The attribute as OTLP protobuf, from a reference (one copy of each string).
    #[must_use]
    pub fn to_proto(&self) -> ProtoKeyValue {
        ProtoKeyValue {
            key: self.key.as_str().to_owned(),
            value: Some(self.value.to_proto()),
            ..ProtoKeyValue::default()
        }
    }

    /// The attribute as OTLP protobuf.
    #[must_use]
    pub fn into_proto(self) -> ProtoKeyValue {
        ProtoKeyValue {
            key: self.key.into_string(),
            value: Some(self.value.into_proto()),
            ..ProtoKeyValue::default()
        }
    }
}

impl<K: Into<Key>, V: Into<Value>> From<(K, V)> for KeyValue {
    fn from((key, value): (K, V)) -> Self {
        Self::new(key, value)
    }
}

/// Converts a list of SDK attributes to OTLP protobuf.
#[must_use]
pub fn into_proto_attributes(attributes: Vec<KeyValue>) -> Vec<ProtoKeyValue> {
    attributes.into_iter().map(KeyValue::into_proto).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_strings_stay_borrowed_and_convert() {
        let kv = KeyValue::new("http.request.method", "GET");
        assert!(matches!(kv.key.0, Cow::Borrowed(_)));
        assert!(matches!(kv.value, Value::String(Cow::Borrowed(_))));
        let proto = kv.into_proto();
        assert_eq!(proto.key, "http.request.method");
        assert_eq!(
            proto.value.and_then(|v| v.value),
            Some(any_value::Value::StringValue("GET".into()))
        );
        let array = Value::from(vec![1_i64, 2]).into_proto();
        assert!(
            matches!(array.value, Some(any_value::Value::ArrayValue(a)) if a.values.len() == 2)
        );
        assert!(matches!(Value::from(vec![1_u8]), Value::Bytes(_)));
    }

    #[test]
    fn truncation_respects_characters() {
        let mut v = Value::from("héllo");
        assert!(v.truncate(2));
        assert_eq!(v.as_str(), Some("hé"));
        let mut v = Value::from(String::from("héllo"));
        assert!(!v.truncate(5));
        assert!(v.truncate(0));
        assert_eq!(v.as_str(), Some(""));
        let mut v = Value::from(vec!["abc", "de"]);
        assert!(v.truncate(2));
        assert_eq!(v, Value::Array(vec!["ab".into(), "de".into()]));
        assert!(!Value::from(5).truncate(0));
    }
}
