//! The runtime behind the generated OTLP/JSON code.
//!
//! The generated `Serialize`/`Deserialize` impls (see `src/generated/json/`) describe every
//! field by a [`Kind`]: a zero-sized type that knows how one value of that protobuf type is
//! written to and read from JSON under the OTLP rules. The wrappers [`One`] and [`Many`] and
//! the seeds [`OneSeed`] and [`ManySeed`] turn a kind into a field value or a repeated field;
//! [`KeySeed`] maps an object key straight to a field index without allocating.
//!
//! Nothing here recurses on its own: nesting only happens through the deserializer's
//! `deserialize_map`/`deserialize_seq`, which serde_json bounds with its recursion limit.

use core::fmt;
use core::marker::PhantomData;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Unexpected, Visitor};
use serde::ser::{Error as _, SerializeSeq as _, Serializer};
use serde::{Deserialize, Serialize};

/// How one protobuf value of a given type maps to and from JSON.
pub(crate) trait Kind {
    /// The Rust type prost uses for one value.
    type Value;
    /// Writes one value.
    fn serialize<S: Serializer>(value: &Self::Value, serializer: S) -> Result<S::Ok, S::Error>;
    /// Reads one value; `null` is not a value here (the seeds handle it for fields).
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self::Value, D::Error>;
}

// ---------------------------------------------------------------------------------------------
// Field wrappers and seeds
// ---------------------------------------------------------------------------------------------

/// Serializes one value of kind `K`.
pub(crate) struct One<'a, K: Kind>(pub(crate) &'a K::Value);

impl<K: Kind> Serialize for One<'_, K> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        K::serialize(self.0, serializer)
    }
}

/// Serializes a repeated field of kind `K` as a JSON array.
pub(crate) struct Many<'a, K: Kind>(pub(crate) &'a [K::Value]);

impl<K: Kind> Serialize for Many<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            seq.serialize_element(&One::<K>(value))?;
        }
        seq.end()
    }
}

/// Reads a singular field of kind `K`: `None` when the JSON value is `null`.
pub(crate) struct OneSeed<K>(PhantomData<K>);

impl<K> OneSeed<K> {
    #[inline]
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, K: Kind> DeserializeSeed<'de> for OneSeed<K> {
    type Value = Option<K::Value>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(OptionVisitor::<K>(PhantomData))
    }
}

struct OptionVisitor<K>(PhantomData<K>);

impl<'de, K: Kind> Visitor<'de> for OptionVisitor<K> {
    type Value = Option<K::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field value or null")
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        K::deserialize(deserializer).map(Some)
    }
}

/// Reads a repeated field of kind `K`: `null` is the empty list, elements must not be `null`.
pub(crate) struct ManySeed<K>(PhantomData<K>);

impl<K> ManySeed<K> {
    #[inline]
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, K: Kind> DeserializeSeed<'de> for ManySeed<K> {
    type Value = Vec<K::Value>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(RepeatedVisitor::<K>(PhantomData))
    }
}

struct RepeatedVisitor<K>(PhantomData<K>);

impl<'de, K: Kind> Visitor<'de> for RepeatedVisitor<K> {
    type Value = Vec<K::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Never trust a size hint from the input for more than a small preallocation.
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(value) = seq.next_element_seed(ElementSeed::<K>(PhantomData))? {
            values.push(value);
        }
        Ok(values)
    }
}

struct ElementSeed<K>(PhantomData<K>);

impl<'de, K: Kind> DeserializeSeed<'de> for ElementSeed<K> {
    type Value = K::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        K::deserialize(deserializer)
    }
}

// ---------------------------------------------------------------------------------------------
// Object keys
// ---------------------------------------------------------------------------------------------

/// Index returned by [`Fields::index`] for a key that names no field (the value is skipped).
pub(crate) const UNKNOWN: u8 = u8::MAX;

/// The JSON keys of one message, generated per message.
pub(crate) trait Fields {
    /// The full protobuf name of the message, for error messages.
    const MESSAGE: &'static str;
    /// The JSON names, by field index.
    const NAMES: &'static [&'static str];
    /// The index of the field named `key`, or [`UNKNOWN`].
    fn index(key: &str) -> u8;
}

/// Reads an object key as a field index, borrowing the key (no allocation, even for keys
/// with escapes: serde_json hands us a scratch `&str` then).
pub(crate) struct KeySeed<F>(PhantomData<F>);

impl<F> KeySeed<F> {
    #[inline]
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, F: Fields> DeserializeSeed<'de> for KeySeed<F> {
    type Value = u8;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u8, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, F: Fields> Visitor<'de> for KeySeed<F> {
    type Value = u8;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, key: &str) -> Result<u8, E> {
        Ok(F::index(key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<u8, E> {
        Ok(core::str::from_utf8(key).map_or(UNKNOWN, F::index))
    }
}

/// The fields already read from one object: a repeated key is an error, as in the protobuf
/// JSON mapping (the same key twice, or two members of one oneof, is ambiguous data).
#[derive(Default)]
pub(crate) struct Seen(u64);

impl Seen {
    /// Records field `index` (no-op for [`UNKNOWN`]); errors when it was already present.
    #[inline]
    pub(crate) fn mark<F: Fields, E: de::Error>(&mut self, index: u8) -> Result<u8, E> {
        if index == UNKNOWN {
            return Ok(index);
        }
        let bit = 1u64 << (index & 63);
        if self.0 & bit != 0 {
            let name = F::NAMES.get(usize::from(index)).copied().unwrap_or("?");
            return Err(E::custom(format_args!(
                "duplicate field `{name}` in {}",
                F::MESSAGE
            )));
        }
        self.0 |= bit;
        Ok(index)
    }
}

/// Stores a oneof member; errors when another member of the same oneof was already set.
#[inline]
pub(crate) fn set_oneof<T, E: de::Error>(
    slot: &mut Option<T>,
    value: T,
    oneof: &'static str,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format_args!(
            "more than one member of oneof `{oneof}` is set"
        )));
    }
    *slot = Some(value);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Kinds: strings, booleans, messages, enums
// ---------------------------------------------------------------------------------------------

/// `string`.
pub(crate) struct Str;

impl Kind for Str {
    type Value = String;

    #[inline]
    fn serialize<S: Serializer>(value: &String, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        String::deserialize(deserializer)
    }
}

/// `bool`: JSON `true`/`false` only.
pub(crate) struct Bool;

impl Kind for Bool {
    type Value = bool;

    #[inline]
    fn serialize<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
        bool::deserialize(deserializer)
    }
}

/// A message type: its own generated impls.
pub(crate) struct Msg<M>(PhantomData<M>);

impl<M: Serialize + DeserializeOwned> Kind for Msg<M> {
    type Value = M;

    #[inline]
    fn serialize<S: Serializer>(value: &M, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<M, D::Error> {
        M::deserialize(deserializer)
    }
}

/// A generated prost enumeration, as seen by the JSON mapping.
pub(crate) trait ProtoEnum {
    /// The full protobuf name of the enum, for error messages.
    const NAME: &'static str;
    /// The number of the value called `name` in the schema.
    fn number(name: &str) -> Option<i32>;
}

/// An enum field (an `i32` in prost): written as its number, read from a number (unknown
/// numbers kept: enums are open) or from a value name (unknown names are an error).
pub(crate) struct Enum<E>(PhantomData<E>);

impl<E: ProtoEnum> Kind for Enum<E> {
    type Value = i32;

    #[inline]
    fn serialize<S: Serializer>(value: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(*value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        deserializer.deserialize_any(EnumVisitor::<E>(PhantomData))
    }
}

struct EnumVisitor<E>(PhantomData<E>);

impl<'de, E: ProtoEnum> Visitor<'de> for EnumVisitor<E> {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} value (a 32-bit integer or a value name)", E::NAME)
    }

    fn visit_i64<Er: de::Error>(self, v: i64) -> Result<i32, Er> {
        i32::try_from(v).map_err(|_| Er::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<Er: de::Error>(self, v: u64) -> Result<i32, Er> {
        i32::try_from(v).map_err(|_| Er::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<Er: de::Error>(self, v: f64) -> Result<i32, Er> {
        integral_f64::<i32>(v).ok_or_else(|| Er::invalid_value(Unexpected::Float(v), &self))
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<i32, Er> {
        E::number(v).ok_or_else(|| Er::custom(format_args!("unknown {} value name {v:?}", E::NAME)))
    }
}

// ---------------------------------------------------------------------------------------------
// Kinds: integers
// ---------------------------------------------------------------------------------------------

/// The integer types of protobuf, as the JSON mapping sees them.
trait Int: Copy + TryFrom<i64> + TryFrom<u64> + core::str::FromStr {
    /// Used in error messages.
    const EXPECTING: &'static str;
    /// The smallest value, as a float (exact for every integer width).
    const MIN_F64: f64;
    /// One past the largest value, as a float (a power of two, so exact).
    const END_F64: f64;
    /// `f as Self`, for an integral `f` already checked to be in range.
    fn from_integral_f64(f: f64) -> Self;
}

macro_rules! int {
    ($t:ty, $expecting:literal, $min:expr, $end:expr) => {
        impl Int for $t {
            const EXPECTING: &'static str = $expecting;
            const MIN_F64: f64 = $min;
            const END_F64: f64 = $end;
            #[inline]
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn from_integral_f64(f: f64) -> Self {
                f as $t
            }
        }
    };
}

int!(
    i32,
    "a 32-bit signed integer (a number or a decimal string)",
    -2_147_483_648.0,
    2_147_483_648.0
);
int!(
    u32,
    "a 32-bit unsigned integer (a number or a decimal string)",
    0.0,
    4_294_967_296.0
);
int!(
    i64,
    "a 64-bit signed integer (a decimal string or a number)",
    -9_223_372_036_854_775_808.0,
    9_223_372_036_854_775_808.0
);
int!(
    u64,
    "a 64-bit unsigned integer (a decimal string or a number)",
    0.0,
    18_446_744_073_709_551_616.0
);

/// `f` as an integer of type `T`, when it has no fractional part and is in range.
#[inline]
fn integral_f64<T: Int>(f: f64) -> Option<T> {
    // NaN fails both comparisons; infinities fail one of them.
    (f.fract() == 0.0 && f >= T::MIN_F64 && f < T::END_F64).then(|| T::from_integral_f64(f))
}

struct IntVisitor<T>(PhantomData<T>);

impl<T: Int> IntVisitor<T> {
    fn parse_str<E: de::Error>(&self, v: &str) -> Result<T, E> {
        if let Ok(parsed) = v.parse::<T>() {
            return Ok(parsed);
        }
        // "1e3" or "1000.0": accepted when the value is integral and in range, like numbers.
        let looks_like_float = v.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
            && v.bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'));
        if looks_like_float && let Some(value) = v.parse::<f64>().ok().and_then(integral_f64::<T>) {
            return Ok(value);
        }
        Err(E::invalid_value(Unexpected::Str(v), self))
    }
}

impl<'de, T: Int> Visitor<'de> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    #[inline]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    #[inline]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        integral_f64::<T>(v).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.parse_str(v)
    }
}

/// `int32`, `sint32`, `sfixed32`: a JSON number on output.
pub(crate) struct I32;

impl Kind for I32 {
    type Value = i32;

    #[inline]
    fn serialize<S: Serializer>(value: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(*value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
        deserializer.deserialize_any(IntVisitor::<i32>(PhantomData))
    }
}

/// `uint32`, `fixed32`: a JSON number on output.
pub(crate) struct U32;

impl Kind for U32 {
    type Value = u32;

    #[inline]
    fn serialize<S: Serializer>(value: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(*value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_any(IntVisitor::<u32>(PhantomData))
    }
}

/// `int64`, `sint64`, `sfixed64`: a decimal string on output.
pub(crate) struct I64;

impl Kind for I64 {
    type Value = i64;

    #[inline]
    fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 21];
        serializer.serialize_str(decimal(value.unsigned_abs(), *value < 0, &mut buffer))
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(IntVisitor::<i64>(PhantomData))
    }
}

/// `uint64`, `fixed64`: a decimal string on output.
pub(crate) struct U64;

impl Kind for U64 {
    type Value = u64;

    #[inline]
    fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 21];
        serializer.serialize_str(decimal(*value, false, &mut buffer))
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(IntVisitor::<u64>(PhantomData))
    }
}

/// Writes `value` (negated when `negative`) in decimal at the end of `buffer` and returns it.
#[inline]
fn decimal(mut value: u64, negative: bool, buffer: &mut [u8; 21]) -> &str {
    let mut start = buffer.len();
    loop {
        start -= 1;
        // `value % 10` is below 10, so the cast cannot truncate.
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    if negative {
        start -= 1;
        buffer[start] = b'-';
    }
    // Only ASCII digits were written.
    core::str::from_utf8(&buffer[start..]).unwrap_or_default()
}

/// `bytes` known to be ASCII as a `&str`, or a serialization error (never happens).
#[inline]
fn ascii<E: serde::ser::Error>(bytes: &[u8]) -> Result<&str, E> {
    core::str::from_utf8(bytes).map_err(E::custom)
}

// ---------------------------------------------------------------------------------------------
// Kinds: floating point
// ---------------------------------------------------------------------------------------------

/// The proto3 JSON names of the non-finite values.
const NAN: &str = "NaN";
const INFINITY: &str = "Infinity";
const NEG_INFINITY: &str = "-Infinity";

#[inline]
fn serialize_non_finite<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if value.is_nan() {
        NAN
    } else if value > 0.0 {
        INFINITY
    } else {
        NEG_INFINITY
    })
}

struct FloatVisitor {
    expecting: &'static str,
}

impl<'de> Visitor<'de> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    #[inline]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    #[inline]
    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    #[inline]
    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            NAN => Ok(f64::NAN),
            INFINITY => Ok(f64::INFINITY),
            NEG_INFINITY => Ok(f64::NEG_INFINITY),
            _ => match v.parse::<f64>() {
                // Rust also reads "inf", "nan", "infinity" and overflows to infinity; the
                // mapping allows only the three names above for non-finite values.
                Ok(parsed) if parsed.is_finite() && is_json_number_text(v) => Ok(parsed),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            },
        }
    }
}

/// Whether `v` only uses the characters of a JSON number (Rust's parser is laxer).
fn is_json_number_text(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// `double`: a JSON number, or "NaN", "Infinity", "-Infinity".
pub(crate) struct F64;

impl Kind for F64 {
    type Value = f64;

    #[inline]
    fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serializer.serialize_f64(*value)
        } else {
            serialize_non_finite(*value, serializer)
        }
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_any(FloatVisitor {
            expecting: "a double (a number, a numeric string, \"NaN\", \"Infinity\" or \"-Infinity\")",
        })
    }
}

/// `float`: like `double`, but a finite value beyond the `f32` range is an error.
///
/// No OTLP v1.10.0 field is a `float`; the kind is here so that the generator handles every
/// protobuf scalar type.
#[allow(dead_code)]
pub(crate) struct F32;

impl Kind for F32 {
    type Value = f32;

    #[inline]
    fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serializer.serialize_f32(*value)
        } else {
            serialize_non_finite(f64::from(*value), serializer)
        }
    }

    #[allow(clippy::cast_possible_truncation)]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        let value = deserializer.deserialize_any(FloatVisitor {
            expecting: "a float (a number, a numeric string, \"NaN\", \"Infinity\" or \"-Infinity\")",
        })?;
        if value.is_finite() && value.abs() > f64::from(f32::MAX) {
            return Err(de::Error::custom(format_args!(
                "float value {value} is out of range"
            )));
        }
        Ok(value as f32)
    }
}

// ---------------------------------------------------------------------------------------------
// Kinds: bytes
// ---------------------------------------------------------------------------------------------

const DECODE_CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, DECODE_CONFIG);
const URL_SAFE_LENIENT: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, DECODE_CONFIG);

/// `bytes` (other than trace and span ids): standard base64 with padding on output; standard
/// or URL-safe alphabet, padded or not, on input.
pub(crate) struct Bytes;

impl Kind for Bytes {
    type Value = Vec<u8>;

    fn serialize<S: Serializer>(value: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        const STACK: usize = 256;
        let engine = &base64::engine::general_purpose::STANDARD;
        if value.len() <= STACK / 4 * 3 {
            let mut buffer = [0u8; STACK];
            let len = engine
                .encode_slice(value, &mut buffer)
                .map_err(S::Error::custom)?;
            serializer.serialize_str(ascii(&buffer[..len])?)
        } else {
            serializer.serialize_str(&engine.encode(value))
        }
    }

    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_str(Base64Visitor)
    }
}

struct Base64Visitor;

impl<'de> Visitor<'de> for Base64Visitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        let url_safe = v.bytes().any(|b| b == b'-' || b == b'_');
        let engine = if url_safe {
            &URL_SAFE_LENIENT
        } else {
            &STANDARD_LENIENT
        };
        engine
            .decode(v)
            .map_err(|e| E::custom(format_args!("invalid base64 bytes value: {e}")))
    }
}

/// Lower-case hex digits, for encoding.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Value of each byte as a hex digit (either case), or `0xFF`.
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn serialize_hex<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    let mut stack = [0u8; 32];
    let mut heap = Vec::new();
    let out: &mut [u8] = if bytes.len() <= 16 {
        &mut stack[..bytes.len() * 2]
    } else {
        // Not a valid id; still written faithfully (a strict reader will refuse it).
        heap.resize(bytes.len() * 2, 0);
        &mut heap
    };
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
        pair[1] = HEX_DIGITS[usize::from(byte & 0x0F)];
    }
    serializer.serialize_str(ascii(out)?)
}

/// Hex ids: a fixed number of bytes, or empty.
struct HexIdVisitor {
    what: &'static str,
    bytes: usize,
}

impl<'de> Visitor<'de> for HexIdVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} as {} hex digits, or an empty string",
            self.what,
            self.bytes * 2
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        if v.is_empty() {
            return Ok(Vec::new());
        }
        let digits = v.as_bytes();
        if digits.len() != self.bytes * 2 {
            return Err(E::custom(format_args!(
                "invalid {}: expected {} hex digits, found {} characters",
                self.what,
                self.bytes * 2,
                v.chars().count()
            )));
        }
        let mut out = Vec::with_capacity(self.bytes);
        for pair in digits.chunks_exact(2) {
            let high = HEX_VALUES[usize::from(pair[0])];
            let low = HEX_VALUES[usize::from(pair[1])];
            if (high | low) & 0xF0 != 0 {
                return Err(E::custom(format_args!(
                    "invalid {}: {v:?} is not hexadecimal",
                    self.what
                )));
            }
            out.push(high << 4 | low);
        }
        Ok(out)
    }
}

/// A `trace_id` field: 32 hex digits (16 bytes), lower case on output, any case on input.
pub(crate) struct TraceId;

impl Kind for TraceId {
    type Value = Vec<u8>;

    #[inline]
    fn serialize<S: Serializer>(value: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_hex(value, serializer)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_str(HexIdVisitor {
            what: "trace id",
            bytes: 16,
        })
    }
}

/// A `span_id` or `parent_span_id` field: 16 hex digits (8 bytes).
pub(crate) struct SpanId;

impl Kind for SpanId {
    type Value = Vec<u8>;

    #[inline]
    fn serialize<S: Serializer>(value: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_hex(value, serializer)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_str(HexIdVisitor {
            what: "span id",
            bytes: 8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_width() {
        let mut buffer = [0u8; 21];
        assert_eq!(decimal(0, false, &mut buffer), "0");
        assert_eq!(decimal(7, true, &mut buffer), "-7");
        assert_eq!(decimal(1_234_567_890, false, &mut buffer), "1234567890");
        assert_eq!(
            decimal(u64::MAX, false, &mut buffer),
            "18446744073709551615"
        );
        let min = i64::MIN;
        assert_eq!(
            decimal(min.unsigned_abs(), true, &mut buffer),
            "-9223372036854775808"
        );
    }

    #[test]
    fn integral_floats_convert_only_in_range() {
        assert_eq!(integral_f64::<i64>(1e3), Some(1000));
        assert_eq!(
            integral_f64::<i64>(-9_223_372_036_854_775_808.0),
            Some(i64::MIN)
        );
        assert_eq!(integral_f64::<i64>(9_223_372_036_854_775_808.0), None);
        assert_eq!(integral_f64::<u64>(-1.0), None);
        assert_eq!(integral_f64::<u64>(1.5), None);
        assert_eq!(integral_f64::<u32>(f64::NAN), None);
        assert_eq!(integral_f64::<u32>(f64::INFINITY), None);
        assert_eq!(integral_f64::<u32>(4_294_967_295.0), Some(u32::MAX));
    }

    #[test]
    fn hex_table_knows_both_cases() {
        assert_eq!(HEX_VALUES[usize::from(b'a')], 10);
        assert_eq!(HEX_VALUES[usize::from(b'F')], 15);
        assert_eq!(HEX_VALUES[usize::from(b'9')], 9);
        assert_eq!(HEX_VALUES[usize::from(b'g')], 0xFF);
    }
}
