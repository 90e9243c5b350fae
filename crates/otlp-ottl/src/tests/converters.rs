//! Every converter, through `set(attributes["x"], ...)` or a condition, with exact results.

use super::*;
use crate::{Condition, Item, Target};

fn holds(condition: &str, sp: &Span) -> bool {
    Condition::parse(condition, Context::Span)
        .unwrap_or_else(|e| panic!("{condition}: {e}"))
        .eval(&Target {
            item: Item::Span(sp),
            resource: None,
            scope: None,
        })
        .unwrap_or_else(|e| panic!("{condition}: {e}"))
}

#[test]
fn concat_and_split() {
    let attrs = || vec![("method", s("GET")), ("path", s("/cart")), ("n", i(3))];
    assert_eq!(
        value_of(
            r#"Concat([attributes["method"], attributes["path"]], ": ")"#,
            attrs()
        ),
        Some(s("GET: /cart"))
    );
    assert_eq!(
        value_of(
            r#"Concat(["a", attributes["missing"], attributes["n"], 1.5, true], "-")"#,
            attrs()
        ),
        Some(s("a-<nil>-3-1.5-true"))
    );
    assert_eq!(
        value_of(r#"Concat([name, 0x0aff], "")"#, attrs()),
        Some(s("s0aff")),
        "bytes as hex"
    );
    assert_eq!(
        value_of(r#"Split("a,b,,c", ",")"#, vec![]),
        Some(list(vec![s("a"), s("b"), s(""), s("c")]))
    );
    assert_eq!(
        value_of(r#"Split(attributes["path"], "/")"#, attrs()),
        Some(list(vec![s(""), s("cart")]))
    );
}

#[test]
fn type_conversions() {
    let cases: Vec<(&str, Option<AnyValue>)> = vec![
        (r#"Int("12")"#, Some(i(12))),
        ("Int(3.9)", Some(i(3))),
        ("Int(-3.9)", Some(i(-3))),
        ("Int(true)", Some(i(1))),
        (r#"Int("x")"#, None),
        (r#"Double("1.5")"#, Some(d(1.5))),
        ("Double(2)", Some(d(2.0))),
        ("Double(false)", Some(d(0.0))),
        ("String(12)", Some(s("12"))),
        ("String(1.5)", Some(s("1.5"))),
        ("String(0x0102)", Some(s("0102"))),
        (r#"String(attributes["m"])"#, Some(s(r#"{"k":"v"}"#))),
        ("String(nil)", None),
        (r#"Bool("T")"#, Some(b(true))),
        (r#"Bool("0")"#, Some(b(false))),
        ("Bool(2)", Some(b(true))),
        (r#"Bool("yes")"#, None),
        (r#"Len("héllo")"#, Some(i(6))),
        ("Len(attributes)", Some(i(1))),
        (r#"Len(["a", "b"])"#, Some(i(2))),
    ];
    for (expr, want) in cases {
        assert_eq!(
            value_of(expr, vec![("m", map(vec![("k", s("v"))]))]),
            want,
            "{expr}"
        );
    }
}

#[test]
fn string_converters() {
    let cases: Vec<(&str, AnyValue)> = vec![
        (r#"ToLowerCase("MiXed")"#, s("mixed")),
        (r#"ToUpperCase("MiXed")"#, s("MIXED")),
        (r#"Substring("hello world", 6, 5)"#, s("world")),
        (
            r#"ConvertCase("MyMetricName", "snake")"#,
            s("my_metric_name"),
        ),
        (
            r#"ConvertCase("http.server.duration", "snake")"#,
            s("http_server_duration"),
        ),
        (
            r#"ConvertCase("my_metric_name", "camel")"#,
            s("MyMetricName"),
        ),
        (r#"ConvertCase("Mixed", "upper")"#, s("MIXED")),
        (r#"ConvertCase("Mixed", "lower")"#, s("mixed")),
        (
            r#"SHA256("hello")"#,
            s("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ),
        (r#"Hex("ab")"#, s("6162")),
        ("Hex(1)", s("0000000000000001")),
        ("Hex(true)", s("01")),
    ];
    for (expr, want) in cases {
        assert_eq!(value_of(expr, vec![]), Some(want), "{expr}");
    }
    assert!(
        run_error(r#"set(attributes["x"], Substring("abc", 1, 5))"#, vec![]).contains("outside")
    );
    assert!(run_error(r#"set(attributes["x"], ToLowerCase(1))"#, vec![]).contains("string"));
}

#[test]
fn parse_json_makes_maps_and_slices() {
    assert_eq!(
        value_of(
            r#"ParseJSON("{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {\"d\": 2.5}}")"#,
            vec![]
        ),
        Some(map(vec![
            ("a", d(1.0)),
            ("b", list(vec![b(true), AnyValue::default(), s("x")])),
            ("c", map(vec![("d", d(2.5))])),
        ]))
    );
    assert_eq!(
        value_of(r#"ParseJSON("[1, \"a\"]")"#, vec![]),
        Some(list(vec![d(1.0), s("a")]))
    );
    assert_eq!(
        value_of(
            r#"ParseJSON("{\"a\": {\"b\": \"deep\"}}")["a"]["b"]"#,
            vec![]
        ),
        Some(s("deep")),
        "converter results take keys"
    );
    assert!(
        run_error(r#"set(attributes["x"], ParseJSON("5"))"#, vec![]).contains("object or array")
    );
}

#[test]
fn ids_from_byte_literals() {
    let (sp, _, _) = run_span(
        &["set(trace_id, TraceID(0x000102030405060708090a0b0c0d0e0f))"],
        span("s", vec![]),
    );
    assert_eq!(sp.trace_id, (0..16).collect::<Vec<u8>>());
    assert!(holds(
        r#"trace_id.string == "01010101010101010101010101010101""#,
        &span("s", vec![])
    ));
    assert!(holds(
        "span_id == SpanID(0x0202020202020202)",
        &span("s", vec![])
    ));
}

#[test]
fn converters_in_conditions() {
    let sp = span(
        "GET /users/42",
        vec![
            ("code", i(503)),
            ("tags", list(vec![s("a"), s("b")])),
            ("m", map(vec![])),
            ("ratio", d(0.5)),
        ],
    );
    let cases = [
        (r#"IsMatch(name, "^GET /users/\\d+$")"#, true),
        (r#"IsMatch(attributes["code"], "^5")"#, true),
        (r#"IsMatch(attributes["missing"], ".*")"#, false),
        (
            r#"IsString(name) and IsInt(attributes["code"]) and IsDouble(attributes["ratio"])"#,
            true,
        ),
        (
            r#"IsList(attributes["tags"]) and IsMap(attributes["m"])"#,
            true,
        ),
        (r#"IsBool(attributes["code"])"#, false),
        (r#"Len(attributes["tags"]) == 2"#, true),
        (r#"Int(attributes["ratio"]) == 0"#, true),
        (r#"Concat([name, "x"], "") == "GET /users/42x""#, true),
        (r#"Split(name, "/")[2] == "42""#, true),
        (r#"Bool("true")"#, true),
        (r#"ToLowerCase(name) == "get /users/42""#, true),
    ];
    for (cond, want) in cases {
        assert_eq!(holds(cond, &sp), want, "{cond}");
    }
}
