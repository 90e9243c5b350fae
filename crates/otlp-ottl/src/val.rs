//! The values expressions evaluate to: OTTL's types (nil, string, int, double, bool, bytes,
//! map, slice), borrowed from the item where they can be, owned where a converter made them.

use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value};

use crate::value::{format_float, write_as_string};

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Nil,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Cow<'a, [u8]>),
    Map(Cow<'a, [KeyValue]>),
    List(Cow<'a, [AnyValue]>),
}

impl<'a> Val<'a> {
    /// The value of an `AnyValue` (unset is nil), borrowed.
    pub(crate) fn from_any(v: Option<&'a AnyValue>) -> Val<'a> {
        match v.and_then(|v| v.value.as_ref()) {
            None | Some(Value::StringValueStrindex(_)) => Val::Nil,
            Some(Value::StringValue(s)) => Val::Str(Cow::Borrowed(s)),
            Some(Value::IntValue(i)) => Val::Int(*i),
            Some(Value::DoubleValue(d)) => Val::Float(*d),
            Some(Value::BoolValue(b)) => Val::Bool(*b),
            Some(Value::BytesValue(b)) => Val::Bytes(Cow::Borrowed(b)),
            Some(Value::ArrayValue(a)) => Val::List(Cow::Borrowed(&a.values)),
            Some(Value::KvlistValue(l)) => Val::Map(Cow::Borrowed(&l.values)),
        }
    }

    /// The value of an owned `AnyValue`.
    pub(crate) fn from_owned_any(v: AnyValue) -> Val<'static> {
        match v.value {
            None | Some(Value::StringValueStrindex(_)) => Val::Nil,
            Some(Value::StringValue(s)) => Val::Str(Cow::Owned(s)),
            Some(Value::IntValue(i)) => Val::Int(i),
            Some(Value::DoubleValue(d)) => Val::Float(d),
            Some(Value::BoolValue(b)) => Val::Bool(b),
            Some(Value::BytesValue(b)) => Val::Bytes(Cow::Owned(b)),
            Some(Value::ArrayValue(a)) => Val::List(Cow::Owned(a.values)),
            Some(Value::KvlistValue(l)) => Val::Map(Cow::Owned(l.values)),
        }
    }

    /// The same value, owning everything.
    pub(crate) fn into_owned(self) -> Val<'static> {
        match self {
            Val::Nil => Val::Nil,
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Int(i) => Val::Int(i),
            Val::Float(f) => Val::Float(f),
            Val::Bool(b) => Val::Bool(b),
            Val::Bytes(b) => Val::Bytes(Cow::Owned(b.into_owned())),
            Val::Map(m) => Val::Map(Cow::Owned(m.into_owned())),
            Val::List(l) => Val::List(Cow::Owned(l.into_owned())),
        }
    }

    /// The `AnyValue` this value is stored as (nil: an unset value).
    pub(crate) fn into_any(self) -> AnyValue {
        AnyValue {
            value: match self {
                Val::Nil => None,
                Val::Str(s) => Some(Value::StringValue(s.into_owned())),
                Val::Int(i) => Some(Value::IntValue(i)),
                Val::Float(f) => Some(Value::DoubleValue(f)),
                Val::Bool(b) => Some(Value::BoolValue(b)),
                Val::Bytes(b) => Some(Value::BytesValue(b.into_owned())),
                Val::Map(m) => Some(Value::KvlistValue(KeyValueList {
                    values: m.into_owned(),
                })),
                Val::List(l) => Some(Value::ArrayValue(ArrayValue {
                    values: l.into_owned(),
                })),
            },
        }
    }

    /// OTTL's name of the value's type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Nil => "nil",
            Val::Str(_) => "string",
            Val::Int(_) => "int",
            Val::Float(_) => "double",
            Val::Bool(_) => "bool",
            Val::Bytes(_) => "bytes",
            Val::Map(_) => "map",
            Val::List(_) => "slice",
        }
    }

    /// OTTL's `StringLikeGetter`: the text of a value (bytes in hex, maps and slices as JSON),
    /// `None` for nil.
    pub(crate) fn string_like(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            Val::Nil => return None,
            Val::Str(s) => Cow::Borrowed(s.as_ref()),
            Val::Int(i) => Cow::Owned(i.to_string()),
            Val::Float(f) => {
                let mut s = String::new();
                format_float(*f, &mut s);
                Cow::Owned(s)
            }
            Val::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Val::Bytes(b) => Cow::Owned(hex_lower(b)),
            Val::Map(_) | Val::List(_) => {
                let mut s = String::new();
                write_as_string(Some(&self.clone().into_any()), &mut s);
                Cow::Owned(s)
            }
        })
    }

    /// Indexes into a map (string key) or a slice (int key); anything else is nil.
    pub(crate) fn index(self, key: &crate::ast::Key) -> Val<'a> {
        use crate::ast::Key;
        match (self, key) {
            (Val::Map(Cow::Borrowed(m)), Key::Str(k)) => m
                .iter()
                .find(|kv| kv.key == *k)
                .map_or(Val::Nil, |kv| Val::from_any(kv.value.as_ref())),
            (Val::Map(Cow::Owned(m)), Key::Str(k)) => m
                .into_iter()
                .find(|kv| kv.key == *k)
                .and_then(|kv| kv.value)
                .map_or(Val::Nil, Val::from_owned_any),
            (Val::List(Cow::Borrowed(l)), Key::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.get(i))
                .map_or(Val::Nil, |v| Val::from_any(Some(v))),
            (Val::List(Cow::Owned(l)), Key::Int(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.into_iter().nth(i))
                .map_or(Val::Nil, Val::from_owned_any),
            _ => Val::Nil,
        }
    }
}

/// Lower-case hex.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Hex (either case) to bytes; `None` when it is not an even number of hex digits.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Inserts or replaces `key` in `map`.
pub(crate) fn upsert(map: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    if let Some(kv) = map.iter_mut().find(|kv| kv.key == key) {
        kv.value = Some(value);
    } else {
        map.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            key_strindex: 0,
        });
    }
}
