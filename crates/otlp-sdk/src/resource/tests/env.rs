use proptest::prelude::*;

use super::{env, get_str};
use crate::resource::env::{ParseError, detect, parse_resource_attributes};
use crate::resource::{EnvDetector, ResourceDetector};
use crate::value::{KeyValue, Value};

fn pairs(raw: &str) -> Vec<(String, String)> {
    parse_resource_attributes(raw)
        .unwrap()
        .into_iter()
        .map(|kv| (kv.key.into_string(), kv.value.as_str().unwrap().to_owned()))
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn plain_pairs_are_strings() {
    assert_eq!(
        pairs("service.name=checkout,deployment.environment.name=prod,replicas=3"),
        owned(&[
            ("service.name", "checkout"),
            ("deployment.environment.name", "prod"),
            ("replicas", "3"),
        ])
    );
    let parsed = parse_resource_attributes("replicas=3").unwrap();
    assert_eq!(parsed[0].value, Value::from("3"), "numbers stay strings");
}

#[test]
fn percent_decoding_of_values_and_keys() {
    assert_eq!(
        pairs("a=hello%20world,b=x%2Cy,c=k%3Dv,d=100%25,e=caf%C3%A9,f=%E6%97%A5%E6%9C%AC"),
        owned(&[
            ("a", "hello world"),
            ("b", "x,y"),
            ("c", "k=v"),
            ("d", "100%"),
            ("e", "café"),
            ("f", "日本"),
        ])
    );
    // Emoji: a four-byte sequence, lowercase hex digits.
    assert_eq!(pairs("g=%f0%9f%9a%80"), owned(&[("g", "🚀")]));
    // Keys are decoded too, and `+` is a literal plus (not a space).
    assert_eq!(pairs("my%2Ckey=a+b"), owned(&[("my,key", "a+b")]));
}

#[test]
fn whitespace_around_keys_and_values_is_trimmed_but_encoded_spaces_stay() {
    assert_eq!(
        pairs("  a = 1 ,\tb=  two words  , c=%20padded%20 "),
        owned(&[("a", "1"), ("b", "two words"), ("c", " padded ")])
    );
}

#[test]
fn raw_equals_in_value_and_empty_values_are_accepted() {
    assert_eq!(pairs("a=b=c"), owned(&[("a", "b=c")]));
    assert_eq!(pairs("a="), owned(&[("a", "")]));
}

#[test]
fn empty_entries_are_skipped() {
    assert_eq!(pairs(",a=1,,b=2,"), owned(&[("a", "1"), ("b", "2")]));
    assert_eq!(pairs(" , "), owned(&[]));
}

#[test]
fn invalid_entries_are_errors() {
    assert_eq!(
        parse_resource_attributes("a=1,novalue,b=2"),
        Err(ParseError::MissingEquals(2))
    );
    assert_eq!(
        parse_resource_attributes("a=1, =2"),
        Err(ParseError::EmptyKey(2))
    );
    assert_eq!(
        parse_resource_attributes("%20=2"),
        Err(ParseError::EmptyKey(1))
    );
    assert_eq!(
        parse_resource_attributes("a=100%"),
        Err(ParseError::BadEscape(1))
    );
    assert_eq!(
        parse_resource_attributes("a=%4"),
        Err(ParseError::BadEscape(1))
    );
    assert_eq!(
        parse_resource_attributes("a=%zz"),
        Err(ParseError::BadEscape(1))
    );
    assert_eq!(
        parse_resource_attributes("a=1,b=%FF"),
        Err(ParseError::NotUtf8(2))
    );
    assert_eq!(
        parse_resource_attributes("a=%C3"),
        Err(ParseError::NotUtf8(1))
    );
}

#[test]
fn an_error_discards_the_whole_variable() {
    let map = env(&[("OTEL_RESOURCE_ATTRIBUTES", "good=1,bad,other=2")]);
    let resource = EnvDetector::new(map).detect();
    assert!(resource.is_empty(), "{resource:?}");

    // OTEL_SERVICE_NAME is a separate variable and still applies.
    let map = env(&[
        ("OTEL_RESOURCE_ATTRIBUTES", "good=1,bad=%G0"),
        ("OTEL_SERVICE_NAME", "checkout"),
    ]);
    let resource = detect(&map);
    assert_eq!(resource.len(), 1);
    assert_eq!(get_str(&resource, "service.name"), Some("checkout"));
}

#[test]
fn repeated_keys_keep_the_last_value() {
    let resource = detect(&env(&[("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2,a=3")]));
    assert_eq!(resource.len(), 2);
    assert_eq!(get_str(&resource, "a"), Some("3"));
}

#[test]
fn service_name_variable_wins_over_resource_attributes() {
    let map = env(&[
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attributes,team=core",
        ),
        ("OTEL_SERVICE_NAME", " from-variable "),
    ]);
    let resource = EnvDetector::new(map).detect();
    assert_eq!(get_str(&resource, "service.name"), Some("from-variable"));
    assert_eq!(get_str(&resource, "team"), Some("core"));

    let map = env(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")]);
    assert_eq!(
        get_str(&detect(&map), "service.name"),
        Some("from-attributes")
    );
}

#[test]
fn unset_and_empty_variables_give_nothing() {
    assert!(detect(&env(&[])).is_empty());
    let map = env(&[
        ("OTEL_RESOURCE_ATTRIBUTES", ""),
        ("OTEL_SERVICE_NAME", "  "),
    ]);
    assert!(detect(&map).is_empty());
}

#[test]
fn detector_debug_does_not_print_the_environment() {
    let map = env(&[("OTEL_RESOURCE_ATTRIBUTES", "secret=hunter2")]);
    assert_eq!(format!("{:?}", EnvDetector::new(map)), "EnvDetector");
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

proptest! {
    #[test]
    fn parser_never_panics(raw in any::<String>()) {
        let _ = parse_resource_attributes(&raw);
        let _ = detect(&env(&[("OTEL_RESOURCE_ATTRIBUTES", raw.as_str())]));
    }

    #[test]
    fn parser_never_panics_on_baggage_like_text(raw in "[a-z=,% 0-9A-Fé\t]{0,40}") {
        let _ = parse_resource_attributes(&raw);
    }

    #[test]
    fn encoded_pairs_round_trip(
        entries in proptest::collection::vec(("\\PC{1,12}", "\\PC{0,12}"), 0..6)
    ) {
        // A key that decodes to blank text is an error: leave those out.
        let entries: Vec<(String, String)> =
            entries.into_iter().filter(|(k, _)| !k.trim().is_empty()).collect();
        let raw = entries
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join(",");
        let parsed = parse_resource_attributes(&raw).unwrap();
        let expected: Vec<KeyValue> =
            entries.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
        prop_assert_eq!(parsed, expected);
    }
}
