//! `AnyValue` conversions, lookups, edits and the `Display` form, through the public API only.

use std::borrow::Cow;

use otlp_model::attributes::{AnyValueError, DisplayValue, array, kvlist, remove, try_int, upsert};
use otlp_model::prelude::*;
use otlp_model::proto::common::v1::any_value::Value;
use otlp_model::proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};

/// The oneof variant a conversion picked (`None` would mean an unset value).
fn variant(value: impl IntoAnyValue) -> Option<Value> {
    value.into_any_value().value
}

#[test]
fn every_conversion_picks_the_documented_variant() {
    assert_eq!(variant("s"), Some(Value::StringValue("s".into())));
    let owned = String::from("s");
    assert_eq!(variant(&owned), Some(Value::StringValue("s".into())));
    assert_eq!(variant(owned), Some(Value::StringValue("s".into())));
    assert_eq!(
        variant(Cow::Owned::<str>("s".into())),
        Some(Value::StringValue("s".into()))
    );
    assert_eq!(variant('x'), Some(Value::StringValue("x".into())));
    assert_eq!(variant(true), Some(Value::BoolValue(true)));
    assert_eq!(variant(-1_i8), Some(Value::IntValue(-1)));
    assert_eq!(variant(-1_i16), Some(Value::IntValue(-1)));
    assert_eq!(variant(-1_i32), Some(Value::IntValue(-1)));
    assert_eq!(variant(-1_i64), Some(Value::IntValue(-1)));
    assert_eq!(variant(1_u16), Some(Value::IntValue(1)));
    assert_eq!(
        variant(u32::MAX),
        Some(Value::IntValue(i64::from(u32::MAX)))
    );
    assert_eq!(variant(0.5_f32), Some(Value::DoubleValue(0.5)));
    assert_eq!(variant(0.5_f64), Some(Value::DoubleValue(0.5)));
    assert_eq!(variant(vec![1_u8]), Some(Value::BytesValue(vec![1])));
    assert_eq!(variant(&[1_u8][..]), Some(Value::BytesValue(vec![1])));
    assert_eq!(variant([1_u8, 2]), Some(Value::BytesValue(vec![1, 2])));
    assert_eq!(variant(b"hi"), Some(Value::BytesValue(b"hi".to_vec())));
    let ints = ArrayValue {
        values: vec![1.into_any_value(), 2.into_any_value()],
    };
    assert_eq!(variant(vec![1, 2]), Some(Value::ArrayValue(ints.clone())));
    assert_eq!(variant([1, 2]), Some(Value::ArrayValue(ints.clone())));
    assert_eq!(variant(&[1, 2][..]), Some(Value::ArrayValue(ints.clone())));
    assert_eq!(variant(ints.clone()), Some(Value::ArrayValue(ints)));
    let list = KeyValueList {
        values: vec![kv("a", 1)],
    };
    assert_eq!(
        variant(vec![kv("a", 1)]),
        Some(Value::KvlistValue(list.clone()))
    );
    assert_eq!(variant(list.clone()), Some(Value::KvlistValue(list)));
    assert_eq!(
        variant(Value::BoolValue(false)),
        Some(Value::BoolValue(false))
    );
    let any = "x".into_any_value();
    assert_eq!((&any).into_any_value(), any);
}

#[test]
fn wide_integers_go_through_try_int() {
    assert_eq!(try_int(7_u64).map(|v| v.as_i64()), Ok(Some(7)));
    assert_eq!(
        try_int(usize::MAX).err(),
        Some(AnyValueError::IntOutOfRange)
    );
    assert_eq!(
        try_int(i128::from(i64::MIN)).map(|v| v.as_i64()),
        Ok(Some(i64::MIN))
    );
    assert_eq!(
        AnyValueError::IntOutOfRange.to_string(),
        "integer is outside the int64 range of an OTLP AnyValue"
    );
}

#[test]
fn display_of_every_variant() {
    let cases: Vec<(AnyValue, &str)> = vec![
        ("hello world".into_any_value(), "hello world"),
        ("".into_any_value(), ""),
        (false.into_any_value(), "false"),
        (i64::MIN.into_any_value(), "-9223372036854775808"),
        (3.0.into_any_value(), "3.0"),
        (0.1.into_any_value(), "0.1"),
        (f64::INFINITY.into_any_value(), "inf"),
        (vec![0xca_u8, 0xfe].into_any_value(), "cafe"),
        (array(["a", "b"]), r#"["a", "b"]"#),
        (
            array([
                1.into_any_value(),
                "x".into_any_value(),
                true.into_any_value(),
            ]),
            r#"[1, "x", true]"#,
        ),
        (kvlist([("k", "v")]), r#"{k: "v"}"#),
        (
            kvlist([("outer", kvlist([("inner", array([1, 2]))]))]),
            "{outer: {inner: [1, 2]}}",
        ),
        (array(["line\nbreak"]), r#"["line\nbreak"]"#),
        (AnyValue::default(), "null"),
        (
            Value::StringValueStrindex(2).into_any_value(),
            "strindex(2)",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(value.display().to_string(), expected, "{value:?}");
        assert_eq!(DisplayValue::new(Some(&value)).to_string(), expected);
    }
    assert_eq!(DisplayValue::new(None).to_string(), "null");
    assert_eq!(format!("{:>6}", "ab".into_any_value().display()), "    ab");
    assert_eq!(format!("{:-<5}|", 1.into_any_value().display()), "1----|");
    assert_eq!(format!("{:.3}", "abcdef".into_any_value().display()), "abc");
}

#[test]
fn attribute_lists_display_as_maps() {
    let attrs = attributes!["http.request.method" => "GET", "retry" => true, "sizes" => vec![1, 2]];
    assert_eq!(
        attrs.display().to_string(),
        r#"{http.request.method: "GET", retry: true, sizes: [1, 2]}"#
    );
    assert_eq!(Vec::<KeyValue>::new().display().to_string(), "{}");
    assert_eq!(format!("{:>4}", Vec::<KeyValue>::new().display()), "  {}");
}

#[test]
fn lookups_and_edits() {
    let mut attrs = attributes!["a" => "x", "n" => 1, "f" => 2.5, "b" => true, "raw" => vec![7_u8]];
    assert_eq!(attrs.get_str("a"), Some("x"));
    assert_eq!(attrs.get_i64("n"), Some(1));
    assert_eq!(attrs.get_f64("f"), Some(2.5));
    assert_eq!(attrs.get_bool("b"), Some(true));
    assert_eq!(attrs.get_bytes("raw"), Some(&[7_u8][..]));
    assert_eq!(
        attrs.get_key_value("n").map(|kv| kv.key.as_str()),
        Some("n")
    );
    assert_eq!(attrs.get_f64("n"), None, "no int-to-double coercion");

    assert_eq!(upsert(&mut attrs, "n", 2).and_then(|v| v.as_i64()), Some(1));
    assert_eq!(attrs.get_i64("n"), Some(2));
    assert_eq!(upsert(&mut attrs, "new", "v"), None);
    assert_eq!(attrs.len(), 6);
    assert_eq!(
        remove(&mut attrs, "a").and_then(|v| v.as_str().map(str::to_owned)),
        Some("x".into())
    );
    assert_eq!(attrs.len(), 5);
    assert!(!attrs.contains_key("a"));
    assert_eq!(
        attrs.first().map(|kv| kv.key.as_str()),
        Some("n"),
        "order is kept"
    );
}
