//! `AnyValue` and attribute helpers: conversions, lookups, in-place edits and a `Display` form.
//!
//! - [`IntoAnyValue`] turns Rust values into OTLP [`AnyValue`]s; [`kv`] pairs one with a key.
//! - [`AnyValueExt`] reads an `AnyValue` back (`as_str`, `as_i64`, ...) and renders it
//!   ([`AnyValueExt::display`]).
//! - [`AttributesExt`] looks keys up in a `[KeyValue]` list (`get_str`, `get_i64`, ...).
//! - [`upsert`] and [`remove`] edit a `Vec<KeyValue>` in place.
//!
//! # Why a trait and not `From`
//!
//! `AnyValue` is defined in `otlp-proto` and `&str`, `i64`, ... in `std`, so Rust's orphan rule
//! forbids `impl From<&str> for AnyValue` here. [`IntoAnyValue`] is the same idea under a local
//! name, and every API in this crate that takes a value takes `impl IntoAnyValue`.
//!
//! # Which Rust types become which value
//!
//! | Rust type | `AnyValue` |
//! |---|---|
//! | `&str`, `String`, `&String`, `Cow<str>`, `char` | `string_value` |
//! | `bool` | `bool_value` |
//! | `i8`, `i16`, `i32`, `i64`, `u16`, `u32` | `int_value` |
//! | `f32`, `f64` | `double_value` |
//! | `Vec<u8>`, `&[u8]`, `[u8; N]`, `&[u8; N]` | `bytes_value` |
//! | `Vec<T>`, `&[T]`, `[T; N]` of any other `T: IntoAnyValue` | `array_value` |
//! | `Vec<KeyValue>`, `KeyValueList` | `kvlist_value` |
//! | `ArrayValue`, `AnyValue`, `any_value::Value` | as they are |
//!
//! `u64`, `usize`, `u128`, `i128` and `isize` are left out on purpose: OTLP integers are
//! `int64`, and a silent wrap or clamp would corrupt data. Use [`try_int`], which returns
//! [`AnyValueError::IntOutOfRange`] for values beyond `i64`. A lone `u8` is left out too, so that
//! byte containers (`Vec<u8>`, `&[u8]`) can mean bytes rather than an array of small integers;
//! write `i64::from(byte)` for a single byte.
//!
//! # Display
//!
//! [`AnyValueExt::display`], [`DisplayValue`] and [`AttributesExt::display`] render values for
//! humans (the debug exporter, test failures):
//!
//! - a top-level string is written as is, unquoted;
//! - strings *inside* arrays and maps are quoted and escaped as Rust `{:?}` does, so that
//!   `["a, b"]` and `["a", "b"]` stay distinguishable;
//! - integers in decimal; doubles with Rust's `{:?}` (always a `.` or exponent: `1.0`, `2.5e-7`,
//!   `NaN`, `inf`), so `1` and `1.0` differ;
//! - bytes as lower-case hex without a prefix (`0a1b`), matching how ids are shown;
//! - arrays as `[a, b]`, maps as `{k: v, k2: v2}`;
//! - an unset value as `null`, a profiles string-table index as `strindex(N)`;
//! - nesting deeper than [`MAX_DISPLAY_DEPTH`] as `...` (decoded input is bounded by prost's
//!   recursion limit, but values built in memory are not).
//!
//! ```
//! use otlp_model::attributes::{kv, kvlist, AnyValueExt, AttributesExt, IntoAnyValue};
//!
//! let attrs = vec![
//!     kv("http.request.method", "GET"),
//!     kv("http.response.status_code", 200),
//!     kv("tags", vec!["a", "b"]),
//! ];
//! assert_eq!(attrs.get_str("http.request.method"), Some("GET"));
//! assert_eq!(attrs.get_i64("http.response.status_code"), Some(200));
//! assert_eq!(
//!     attrs.display().to_string(),
//!     r#"{http.request.method: "GET", http.response.status_code: 200, tags: ["a", "b"]}"#
//! );
//!
//! let value = kvlist([("k", 1.5.into_any_value()), ("raw", vec![0xde_u8, 0xad].into_any_value())]);
//! assert_eq!(value.display().to_string(), "{k: 1.5, raw: dead}");
//! assert_eq!("plain".into_any_value().display().to_string(), "plain");
//! ```

use core::fmt;
use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value::Value};

/// Error returned when a Rust value cannot be represented as an OTLP [`AnyValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnyValueError {
    /// The integer does not fit in OTLP's `int64` (`i64::MIN..=i64::MAX`).
    #[error("integer is outside the int64 range of an OTLP AnyValue")]
    IntOutOfRange,
}

/// Conversion into an OTLP [`AnyValue`]: the crate's stand-in for `From<T> for AnyValue`, which
/// the orphan rule forbids outside `otlp-proto` (see the [module docs](self) for the type table).
pub trait IntoAnyValue {
    /// Converts `self` into an `AnyValue`.
    fn into_any_value(self) -> AnyValue;
}

/// Wraps a oneof variant into an `AnyValue`.
const fn wrap(value: Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

impl IntoAnyValue for AnyValue {
    fn into_any_value(self) -> AnyValue {
        self
    }
}

impl IntoAnyValue for &AnyValue {
    fn into_any_value(self) -> AnyValue {
        self.clone()
    }
}

impl IntoAnyValue for Value {
    fn into_any_value(self) -> AnyValue {
        wrap(self)
    }
}

impl IntoAnyValue for &str {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::StringValue(self.to_owned()))
    }
}

impl IntoAnyValue for String {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::StringValue(self))
    }
}

impl IntoAnyValue for &String {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::StringValue(self.clone()))
    }
}

impl IntoAnyValue for Cow<'_, str> {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::StringValue(self.into_owned()))
    }
}

impl IntoAnyValue for char {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::StringValue(self.to_string()))
    }
}

impl IntoAnyValue for bool {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::BoolValue(self))
    }
}

/// Integers that convert into `i64` without loss.
macro_rules! lossless_int {
    ($($int:ty),*) => {$(
        impl IntoAnyValue for $int {
            fn into_any_value(self) -> AnyValue {
                wrap(Value::IntValue(i64::from(self)))
            }
        }
    )*};
}
lossless_int!(i8, i16, i32, i64, u16, u32);

impl IntoAnyValue for f64 {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::DoubleValue(self))
    }
}

impl IntoAnyValue for f32 {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::DoubleValue(f64::from(self)))
    }
}

impl IntoAnyValue for Vec<u8> {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::BytesValue(self))
    }
}

impl IntoAnyValue for &[u8] {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::BytesValue(self.to_vec()))
    }
}

impl<const N: usize> IntoAnyValue for [u8; N] {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::BytesValue(self.to_vec()))
    }
}

impl<const N: usize> IntoAnyValue for &[u8; N] {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::BytesValue(self.to_vec()))
    }
}

impl<T: IntoAnyValue> IntoAnyValue for Vec<T> {
    fn into_any_value(self) -> AnyValue {
        array(self)
    }
}

impl<T: IntoAnyValue + Clone> IntoAnyValue for &[T] {
    fn into_any_value(self) -> AnyValue {
        array(self.iter().cloned())
    }
}

impl<T: IntoAnyValue, const N: usize> IntoAnyValue for [T; N] {
    fn into_any_value(self) -> AnyValue {
        array(self)
    }
}

impl IntoAnyValue for ArrayValue {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::ArrayValue(self))
    }
}

impl IntoAnyValue for Vec<KeyValue> {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::KvlistValue(KeyValueList { values: self }))
    }
}

impl IntoAnyValue for KeyValueList {
    fn into_any_value(self) -> AnyValue {
        wrap(Value::KvlistValue(self))
    }
}

/// Builds a [`KeyValue`] from a key and anything that is [`IntoAnyValue`].
///
/// ```
/// use otlp_model::attributes::{kv, AnyValueExt};
///
/// let attr = kv("server.port", 8080);
/// assert_eq!(attr.key, "server.port");
/// assert_eq!(attr.value.as_ref().and_then(AnyValueExt::as_i64), Some(8080));
/// ```
pub fn kv(key: impl Into<String>, value: impl IntoAnyValue) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(value.into_any_value()),
        key_strindex: 0,
    }
}

/// Builds an `array_value` from any sequence of values.
///
/// ```
/// use otlp_model::attributes::{array, AnyValueExt};
///
/// let value = array([1, 2, 3]);
/// assert_eq!(value.as_array().map(<[_]>::len), Some(3));
/// ```
pub fn array<I>(values: I) -> AnyValue
where
    I: IntoIterator,
    I::Item: IntoAnyValue,
{
    wrap(Value::ArrayValue(ArrayValue {
        values: values
            .into_iter()
            .map(IntoAnyValue::into_any_value)
            .collect(),
    }))
}

/// Builds a `kvlist_value` (a nested map) from `(key, value)` pairs.
///
/// ```
/// use otlp_model::attributes::{kvlist, AnyValueExt};
///
/// let value = kvlist([("a", 1), ("b", 2)]);
/// assert_eq!(value.display().to_string(), "{a: 1, b: 2}");
/// ```
pub fn kvlist<I, K, V>(pairs: I) -> AnyValue
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: IntoAnyValue,
{
    wrap(Value::KvlistValue(KeyValueList {
        values: pairs.into_iter().map(|(k, v)| kv(k, v)).collect(),
    }))
}

/// Converts any integer that may not fit OTLP's `int64` (`u64`, `usize`, `i128`, ...).
///
/// # Errors
///
/// [`AnyValueError::IntOutOfRange`] if the value is outside `i64::MIN..=i64::MAX`.
///
/// ```
/// use otlp_model::attributes::{try_int, AnyValueError, AnyValueExt};
///
/// assert_eq!(try_int(42_u64)?.as_i64(), Some(42));
/// assert_eq!(try_int(u64::MAX), Err(AnyValueError::IntOutOfRange));
/// # Ok::<(), AnyValueError>(())
/// ```
pub fn try_int<T: TryInto<i64>>(value: T) -> Result<AnyValue, AnyValueError> {
    value
        .try_into()
        .map(|v| wrap(Value::IntValue(v)))
        .map_err(|_| AnyValueError::IntOutOfRange)
}

/// Typed reads and a `Display` form for [`AnyValue`].
///
/// Each accessor returns `Some` only for its own variant: `as_f64` does not convert an integer
/// and `as_str` does not resolve a profiles string-table index.
pub trait AnyValueExt {
    /// The string, if this is a `string_value`.
    fn as_str(&self) -> Option<&str>;
    /// The integer, if this is an `int_value`.
    fn as_i64(&self) -> Option<i64>;
    /// The double, if this is a `double_value`.
    fn as_f64(&self) -> Option<f64>;
    /// The boolean, if this is a `bool_value`.
    fn as_bool(&self) -> Option<bool>;
    /// The bytes, if this is a `bytes_value`.
    fn as_bytes(&self) -> Option<&[u8]>;
    /// The elements, if this is an `array_value`.
    fn as_array(&self) -> Option<&[AnyValue]>;
    /// The entries, if this is a `kvlist_value`.
    fn as_kvlist(&self) -> Option<&[KeyValue]>;
    /// `true` if no variant is set (an empty `AnyValue`, which OTLP allows).
    fn is_unset(&self) -> bool;
    /// A [`Display`](fmt::Display) adapter; see the [module docs](self#display) for the format.
    fn display(&self) -> DisplayValue<'_>;
}

impl AnyValueExt for AnyValue {
    fn as_str(&self) -> Option<&str> {
        match &self.value {
            Some(Value::StringValue(s)) => Some(s),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self.value {
            Some(Value::IntValue(i)) => Some(i),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self.value {
            Some(Value::DoubleValue(d)) => Some(d),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self.value {
            Some(Value::BoolValue(b)) => Some(b),
            _ => None,
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Some(Value::BytesValue(b)) => Some(b),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[AnyValue]> {
        match &self.value {
            Some(Value::ArrayValue(a)) => Some(&a.values),
            _ => None,
        }
    }

    fn as_kvlist(&self) -> Option<&[KeyValue]> {
        match &self.value {
            Some(Value::KvlistValue(l)) => Some(&l.values),
            _ => None,
        }
    }

    fn is_unset(&self) -> bool {
        self.value.is_none()
    }

    fn display(&self) -> DisplayValue<'_> {
        DisplayValue::new(Some(self))
    }
}

/// Lookups by key in an attribute list (`Span.attributes`, `Resource.attributes`, ...).
///
/// Keys are compared by their `key` string (entries that only carry a profiles `key_strindex`
/// never match). OTLP requires unique keys; if a list has duplicates anyway, the first wins, as
/// in the Go Collector's `pcommon.Map`.
///
/// The plain lookup is called `get_value` rather than `get` because `[T]::get(usize)` is an
/// inherent method and would always be picked first.
pub trait AttributesExt {
    /// The first entry with this key.
    fn get_key_value(&self, key: &str) -> Option<&KeyValue>;

    /// The value of the first entry with this key (`None` if absent or if its value is unset).
    fn get_value(&self, key: &str) -> Option<&AnyValue> {
        self.get_key_value(key).and_then(|kv| kv.value.as_ref())
    }
    /// `true` if some entry has this key.
    fn contains_key(&self, key: &str) -> bool {
        self.get_key_value(key).is_some()
    }
    /// The value under `key`, if it is a `string_value`.
    fn get_str(&self, key: &str) -> Option<&str> {
        self.get_value(key).and_then(AnyValueExt::as_str)
    }
    /// The value under `key`, if it is an `int_value`.
    fn get_i64(&self, key: &str) -> Option<i64> {
        self.get_value(key).and_then(AnyValueExt::as_i64)
    }
    /// The value under `key`, if it is a `double_value`.
    fn get_f64(&self, key: &str) -> Option<f64> {
        self.get_value(key).and_then(AnyValueExt::as_f64)
    }
    /// The value under `key`, if it is a `bool_value`.
    fn get_bool(&self, key: &str) -> Option<bool> {
        self.get_value(key).and_then(AnyValueExt::as_bool)
    }
    /// The value under `key`, if it is a `bytes_value`.
    fn get_bytes(&self, key: &str) -> Option<&[u8]> {
        self.get_value(key).and_then(AnyValueExt::as_bytes)
    }
    /// Renders the list as a map, `{k: v, k2: v2}` (see the [module docs](self#display)).
    fn display(&self) -> DisplayAttributes<'_>;
}

impl AttributesExt for [KeyValue] {
    fn get_key_value(&self, key: &str) -> Option<&KeyValue> {
        self.iter().find(|kv| kv.key == key)
    }

    fn display(&self) -> DisplayAttributes<'_> {
        DisplayAttributes { attributes: self }
    }
}

/// Sets `key` to `value`: replaces the value of the first entry with that key, or appends a new
/// entry. Returns the value it replaced, if any.
///
/// ```
/// use otlp_model::attributes::{kv, upsert, AttributesExt};
///
/// let mut attrs = vec![kv("a", 1)];
/// upsert(&mut attrs, "a", 2);
/// upsert(&mut attrs, "b", "x");
/// assert_eq!(attrs.get_i64("a"), Some(2));
/// assert_eq!(attrs.len(), 2);
/// ```
pub fn upsert(
    attributes: &mut Vec<KeyValue>,
    key: &str,
    value: impl IntoAnyValue,
) -> Option<AnyValue> {
    let value = value.into_any_value();
    match attributes.iter_mut().find(|kv| kv.key == key) {
        Some(existing) => existing.value.replace(value),
        None => {
            attributes.push(kv(key, value));
            None
        }
    }
}

/// Removes every entry with `key`, keeping the order of the others. Returns the value of the
/// first entry removed, if any.
///
/// ```
/// use otlp_model::attributes::{kv, remove, AnyValueExt};
///
/// let mut attrs = vec![kv("a", 1), kv("b", 2)];
/// assert_eq!(remove(&mut attrs, "a").and_then(|v| v.as_i64()), Some(1));
/// assert!(remove(&mut attrs, "a").is_none());
/// assert_eq!(attrs.len(), 1);
/// ```
pub fn remove(attributes: &mut Vec<KeyValue>, key: &str) -> Option<AnyValue> {
    let position = attributes.iter().position(|kv| kv.key == key)?;
    let removed = attributes.remove(position);
    // Duplicates are invalid OTLP but possible on input; they can only follow the first match.
    if attributes[position..].iter().any(|kv| kv.key == key) {
        attributes.retain(|kv| kv.key != key);
    }
    removed.value
}

/// Nesting deeper than this is rendered as `...` by [`DisplayValue`] and [`DisplayAttributes`].
pub const MAX_DISPLAY_DEPTH: usize = 32;

/// [`Display`](fmt::Display) adapter for an optional [`AnyValue`]; see the
/// [module docs](self#display) for the format. `None` and an unset value render as `null`.
///
/// ```
/// use otlp_model::attributes::{DisplayValue, IntoAnyValue};
///
/// let body = Some("started".into_any_value());
/// assert_eq!(DisplayValue::new(body.as_ref()).to_string(), "started");
/// assert_eq!(DisplayValue::new(None).to_string(), "null");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DisplayValue<'a> {
    value: Option<&'a AnyValue>,
}

impl<'a> DisplayValue<'a> {
    /// Wraps an optional value, such as a `KeyValue.value` or a `LogRecord.body`.
    #[must_use]
    pub const fn new(value: Option<&'a AnyValue>) -> Self {
        Self { value }
    }
}

impl fmt::Display for DisplayValue<'_> {
    /// Honours width, fill, alignment and precision (which truncates) like `str` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() || f.precision().is_some() {
            return f.pad(&Self::new(self.value).to_string());
        }
        write_value(f, self.value, 0, false)
    }
}

/// [`Display`](fmt::Display) adapter for an attribute list, rendered as a map `{k: v}`.
#[derive(Debug, Clone, Copy)]
pub struct DisplayAttributes<'a> {
    attributes: &'a [KeyValue],
}

impl fmt::Display for DisplayAttributes<'_> {
    /// Honours width, fill, alignment and precision (which truncates) like `str` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() || f.precision().is_some() {
            return f.pad(
                &Self {
                    attributes: self.attributes,
                }
                .to_string(),
            );
        }
        write_map(f, self.attributes, 0)
    }
}

fn write_value(
    f: &mut fmt::Formatter<'_>,
    value: Option<&AnyValue>,
    depth: usize,
    nested: bool,
) -> fmt::Result {
    let Some(value) = value.and_then(|v| v.value.as_ref()) else {
        return f.write_str("null");
    };
    match value {
        Value::StringValue(s) if nested => write!(f, "{s:?}"),
        Value::StringValue(s) => f.write_str(s),
        Value::BoolValue(b) => write!(f, "{b}"),
        Value::IntValue(i) => write!(f, "{i}"),
        Value::DoubleValue(d) => write!(f, "{d:?}"),
        Value::BytesValue(bytes) => bytes.iter().try_for_each(|b| write!(f, "{b:02x}")),
        Value::StringValueStrindex(index) => write!(f, "strindex({index})"),
        Value::ArrayValue(array) => {
            if depth >= MAX_DISPLAY_DEPTH {
                return f.write_str("...");
            }
            f.write_str("[")?;
            for (i, element) in array.values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_value(f, Some(element), depth + 1, true)?;
            }
            f.write_str("]")
        }
        Value::KvlistValue(list) => write_map(f, &list.values, depth),
    }
}

fn write_map(f: &mut fmt::Formatter<'_>, entries: &[KeyValue], depth: usize) -> fmt::Result {
    if depth >= MAX_DISPLAY_DEPTH {
        return f.write_str("...");
    }
    f.write_str("{")?;
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}: ", entry.key)?;
        write_value(f, entry.value.as_ref(), depth + 1, true)?;
    }
    f.write_str("}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &AnyValue) -> String {
        v.display().to_string()
    }

    #[test]
    fn scalar_conversions_pick_the_right_variant() {
        assert_eq!("a".into_any_value().as_str(), Some("a"));
        assert_eq!(String::from("b").into_any_value().as_str(), Some("b"));
        assert_eq!((&String::from("c")).into_any_value().as_str(), Some("c"));
        assert_eq!(Cow::Borrowed("d").into_any_value().as_str(), Some("d"));
        assert_eq!('e'.into_any_value().as_str(), Some("e"));
        assert_eq!(true.into_any_value().as_bool(), Some(true));
        assert_eq!((-3_i8).into_any_value().as_i64(), Some(-3));
        assert_eq!(7_i16.into_any_value().as_i64(), Some(7));
        assert_eq!(
            i32::MIN.into_any_value().as_i64(),
            Some(i64::from(i32::MIN))
        );
        assert_eq!(i64::MAX.into_any_value().as_i64(), Some(i64::MAX));
        assert_eq!(u16::MAX.into_any_value().as_i64(), Some(65_535));
        assert_eq!(u32::MAX.into_any_value().as_i64(), Some(4_294_967_295));
        assert_eq!(1.5_f64.into_any_value().as_f64(), Some(1.5));
        assert_eq!(0.25_f32.into_any_value().as_f64(), Some(0.25));
    }

    #[test]
    fn accessors_do_not_coerce() {
        let int = 1.into_any_value();
        assert_eq!(int.as_f64(), None);
        assert_eq!(int.as_str(), None);
        assert_eq!(int.as_bool(), None);
        assert_eq!("1".into_any_value().as_i64(), None);
        let strindex = wrap(Value::StringValueStrindex(3));
        assert_eq!(strindex.as_str(), None);
        assert!(AnyValue::default().is_unset());
        assert!(!int.is_unset());
    }

    #[test]
    fn bytes_and_arrays() {
        let bytes = vec![1_u8, 2].into_any_value();
        assert_eq!(bytes.as_bytes(), Some(&[1_u8, 2][..]));
        assert_eq!((&[3_u8][..]).into_any_value().as_bytes(), Some(&[3_u8][..]));
        assert_eq!([4_u8, 5].into_any_value().as_bytes(), Some(&[4_u8, 5][..]));
        assert_eq!((&[6_u8]).into_any_value().as_bytes(), Some(&[6_u8][..]));

        let ints = vec![1_i64, 2].into_any_value();
        assert_eq!(ints.as_array().map(<[_]>::len), Some(2));
        let strs = ["a", "b", "c"].into_any_value();
        assert_eq!(strs.as_array().map(<[_]>::len), Some(3));
        let slice: &[bool] = &[true];
        assert_eq!(slice.into_any_value().as_array().map(<[_]>::len), Some(1));
        let nested = vec![vec![1, 2], vec![3]].into_any_value();
        assert_eq!(s(&nested), "[[1, 2], [3]]");
    }

    #[test]
    fn kvlists() {
        let value = vec![kv("a", 1), kv("b", "x")].into_any_value();
        assert_eq!(value.as_kvlist().map(<[_]>::len), Some(2));
        assert_eq!(s(&value), r#"{a: 1, b: "x"}"#);
        let value = KeyValueList::default().into_any_value();
        assert_eq!(s(&value), "{}");
    }

    #[test]
    fn try_int_checks_the_range() {
        assert_eq!(try_int(5_usize).ok().and_then(|v| v.as_i64()), Some(5));
        assert_eq!(
            try_int(i64::MAX as u64).ok().and_then(|v| v.as_i64()),
            Some(i64::MAX)
        );
        assert_eq!(
            try_int(i64::MAX as u64 + 1),
            Err(AnyValueError::IntOutOfRange)
        );
        assert_eq!(try_int(i128::MIN), Err(AnyValueError::IntOutOfRange));
        assert_eq!(try_int(-1_isize).ok().and_then(|v| v.as_i64()), Some(-1));
    }

    #[test]
    fn display_forms() {
        assert_eq!(s(&"plain text".into_any_value()), "plain text");
        assert_eq!(s(&true.into_any_value()), "true");
        assert_eq!(s(&(-42).into_any_value()), "-42");
        assert_eq!(s(&1.0.into_any_value()), "1.0");
        assert_eq!(s(&2.5e-7.into_any_value()), "2.5e-7");
        assert_eq!(s(&f64::NAN.into_any_value()), "NaN");
        assert_eq!(s(&vec![0x00_u8, 0xab, 0xff].into_any_value()), "00abff");
        assert_eq!(s(&Vec::<u8>::new().into_any_value()), "");
        assert_eq!(s(&AnyValue::default()), "null");
        assert_eq!(s(&wrap(Value::StringValueStrindex(7))), "strindex(7)");
        assert_eq!(s(&["a, b", "c\"d"].into_any_value()), r#"["a, b", "c\"d"]"#);
        assert_eq!(s(&Vec::<i64>::new().into_any_value()), "[]");
        let unset = KeyValue {
            key: "k".into(),
            value: None,
            key_strindex: 0,
        };
        assert_eq!([unset].display().to_string(), "{k: null}");
    }

    #[test]
    fn display_stops_at_the_depth_limit() {
        let mut value = 1.into_any_value();
        for _ in 0..(MAX_DISPLAY_DEPTH + 10) {
            value = vec![value].into_any_value();
        }
        let text = s(&value);
        assert!(text.contains("..."));
        assert_eq!(text.matches('[').count(), MAX_DISPLAY_DEPTH);

        let mut map = 1.into_any_value();
        for _ in 0..(MAX_DISPLAY_DEPTH + 10) {
            map = vec![kv("k", map)].into_any_value();
        }
        let text = s(&map);
        assert!(text.contains("..."));
        assert_eq!(text.matches('{').count(), MAX_DISPLAY_DEPTH);
    }

    #[test]
    fn lookups() {
        let attrs = [
            kv("s", "x"),
            kv("i", 3),
            kv("f", 0.5),
            kv("b", false),
            kv("y", vec![9_u8]),
            kv("s", "duplicate"),
            KeyValue {
                key: "unset".into(),
                value: None,
                key_strindex: 0,
            },
        ];
        assert_eq!(attrs.get_str("s"), Some("x"));
        assert_eq!(attrs.get_i64("i"), Some(3));
        assert_eq!(attrs.get_f64("f"), Some(0.5));
        assert_eq!(attrs.get_bool("b"), Some(false));
        assert_eq!(attrs.get_bytes("y"), Some(&[9_u8][..]));
        assert_eq!(attrs.get_i64("s"), None);
        assert_eq!(attrs.get_value("missing"), None);
        assert!(attrs.contains_key("unset"));
        assert_eq!(attrs.get_value("unset"), None);
        assert!(!attrs.contains_key("missing"));
    }

    #[test]
    fn upsert_and_remove() {
        let mut attrs = vec![kv("a", 1), kv("b", 2), kv("a", 3)];
        let old = upsert(&mut attrs, "a", 10);
        assert_eq!(old.and_then(|v| v.as_i64()), Some(1));
        assert_eq!(attrs.get_i64("a"), Some(10));
        assert_eq!(upsert(&mut attrs, "c", "new"), None);
        assert_eq!(attrs.last().map(|kv| kv.key.as_str()), Some("c"));

        let removed = remove(&mut attrs, "a");
        assert_eq!(removed.and_then(|v| v.as_i64()), Some(10));
        assert!(!attrs.contains_key("a"), "every duplicate is removed");
        let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["b", "c"]);
        assert_eq!(remove(&mut attrs, "zzz"), None);
    }
}
