//! Parse errors: what is refused at parse time, and at which byte position.

use crate::{Condition, Context, Statement};

#[test]
fn statements_refused_with_position() {
    let cases: [(&str, usize, &str); 22] = [
        ("", 0, "empty"),
        ("frobnicate(name)", 0, "unsupported editor"),
        ("Concat([name], \"\")", 0, "converter"),
        ("set(name)", 0, "missing"),
        ("set(name, \"a\", \"b\")", 15, "at most"),
        ("delete_key(attributes, 1)", 23, "string literal"),
        ("set(\"x\", 1)", 4, "must be a path"),
        ("set(nme, 1)", 4, "unknown path"),
        ("set(name, Frob(1))", 10, "unsupported function"),
        ("set(name, set(name, \"x\"))", 10, "editor"),
        (
            "delete_matching_keys(attributes, \"(\")",
            33,
            "regular expression",
        ),
        ("replace_pattern(name, \"a\", \"b\", MD5)", 32, "SHA256"),
        (
            "replace_pattern(name, \"a\", \"b\", SHA256, \"no format\")",
            40,
            "%s",
        ),
        ("limit(attributes, 1, [\"a\", \"b\"])", 18, "priority keys"),
        ("limit(attributes, -1, [])", 18, "negative"),
        ("limit(attributes, 5, frob = [])", 21, "no parameter"),
        ("limit(target = attributes, 5)", 27, "positional"),
        ("set(target = name, target = name)", 19, "twice"),
        ("truncate_all(attributes, 2, true, \"long\")", 25, "marker"),
        (
            "merge_maps(attributes, attributes, \"merge\")",
            35,
            "strategy",
        ),
        ("set(name, \"x\") where", 20, "value"),
        ("set(name, \"x\") when x", 15, "where"),
    ];
    for (text, position, needle) in cases {
        match Statement::parse(text, Context::Span) {
            Err(e) => {
                assert_eq!(e.position, position, "{text}: {}", e.message);
                assert!(e.message.contains(needle), "{text}: {}", e.message);
            }
            Ok(s) => panic!("{text}: parsed as {s}"),
        }
    }
}

#[test]
fn context_specific_names_are_checked() {
    assert!(
        Statement::parse(
            r#"set(attributes["a"], HasAttrKeyOnDatapoint("k"))"#,
            Context::DataPoint
        )
        .is_err()
    );
    assert!(Condition::parse(r#"HasAttrKeyOnDatapoint("k")"#, Context::Metric).is_ok());
    assert!(Condition::parse("kind == SPAN_KIND_SERVER", Context::Log).is_err());
    assert!(
        Condition::parse("kind == SPAN_KIND_SERVER", Context::SpanEvent).is_err(),
        "kind is a span path"
    );
    assert!(Condition::parse("span.kind == SPAN_KIND_SERVER", Context::SpanEvent).is_ok());
    assert!(
        Statement::parse("set(type, 1)", Context::Metric).is_ok(),
        "type is read only: writing it does nothing"
    );
    assert!(
        Condition::parse("Len(name)", Context::Span).is_err(),
        "Len does not give a boolean"
    );
    assert!(
        Condition::parse("name[0] == 1", Context::Span).is_err(),
        "name cannot be indexed"
    );
}

#[test]
fn garbage_is_refused_not_a_panic() {
    let deep = format!("{}true{}", "(".repeat(500), ")".repeat(500));
    assert!(Condition::parse(&deep, Context::Span).is_err());
    let deep_list = format!("set(name, {}1{})", "[".repeat(500), "]".repeat(500));
    assert!(Statement::parse(&deep_list, Context::Span).is_err());
    for text in [
        "set(",
        "set(,)",
        "set(name,",
        "]",
        "not",
        "a.b.",
        "x[",
        "x[\"a\"",
        "0x",
        "set(x = )",
    ] {
        assert!(Statement::parse(text, Context::Span).is_err(), "{text}");
        assert!(Condition::parse(text, Context::Span).is_err(), "{text}");
    }
}
