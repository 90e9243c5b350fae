//! Property tests: the parser never panics, whatever the input, and printing a syntax tree
//! then parsing it gives the same tree (over generated trees and over whatever random token
//! soups happen to parse).

use proptest::prelude::*;

use crate::ast::{Arg, BoolExpr, Call, Key, PathExpr, Pos, Statement, Value, ValueKind};
use crate::lexer::CmpOp;
use crate::parser::{parse_condition, parse_statement};
use crate::{Condition, Context};

const KEYWORDS: [&str; 7] = ["and", "or", "not", "where", "true", "false", "nil"];

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}".prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        any::<String>().prop_map(Key::Str),
        any::<i64>().prop_map(Key::Int)
    ]
}

fn path() -> impl Strategy<Value = PathExpr> {
    (
        prop::collection::vec(ident(), 1..4),
        prop::collection::vec(key(), 0..3),
    )
        .prop_map(|(segments, keys)| PathExpr { segments, keys })
}

fn v(kind: ValueKind) -> Value {
    Value { pos: Pos(0), kind }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(ValueKind::Nil),
        any::<bool>().prop_map(ValueKind::Bool),
        any::<String>().prop_map(ValueKind::Str),
        any::<i64>().prop_map(ValueKind::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(ValueKind::Float),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(ValueKind::Bytes),
        "[A-Z][A-Z0-9_]{0,6}".prop_map(ValueKind::Enum),
        path().prop_map(ValueKind::Path),
    ]
    .prop_map(v)
}

fn args(inner: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Vec<Arg>> {
    (
        prop::collection::vec(inner.clone(), 0..3),
        prop::collection::vec((ident(), inner), 0..2),
    )
        .prop_map(|(positional, named)| {
            positional
                .into_iter()
                .map(|value| Arg {
                    pos: Pos(0),
                    name: None,
                    value,
                })
                .chain(named.into_iter().map(|(n, value)| Arg {
                    pos: Pos(0),
                    name: Some(n),
                    value,
                }))
                .collect()
        })
}

fn converter(inner: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Call> {
    (
        "[A-Z][a-zA-Z0-9]{0,6}",
        args(inner),
        prop::collection::vec(key(), 0..2),
    )
        .prop_map(|(name, args, keys)| Call {
            pos: Pos(0),
            name,
            args,
            keys,
        })
}

fn value() -> impl Strategy<Value = Value> + Clone {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            converter(inner.clone()).prop_map(|c| v(ValueKind::Call(c))),
            prop::collection::vec(inner, 0..3).prop_map(|l| v(ValueKind::List(l))),
        ]
    })
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ]
}

fn bool_expr() -> impl Strategy<Value = BoolExpr> {
    let leaf = prop_oneof![
        (value(), op(), value()).prop_map(|(a, o, b)| BoolExpr::Compare(a, o, b)),
        any::<bool>().prop_map(|b| BoolExpr::Value(v(ValueKind::Bool(b)))),
        converter(value()).prop_map(|c| BoolExpr::Value(v(ValueKind::Call(c)))),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(BoolExpr::Or),
            prop::collection::vec(inner.clone(), 2..4).prop_map(BoolExpr::And),
            inner.prop_map(|e| BoolExpr::Not(Box::new(e))),
        ]
    })
}

fn statement() -> impl Strategy<Value = Statement> {
    (ident(), args(value()), prop::option::of(bool_expr())).prop_map(|(name, args, condition)| {
        Statement {
            editor: Call {
                pos: Pos(0),
                name,
                args,
                keys: Vec::new(),
            },
            condition,
        }
    })
}

/// Fragments of OTTL, real and broken, to build token soups from.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("set(".to_owned()),
        Just("attributes[\"k\"]".to_owned()),
        Just("name".to_owned()),
        Just("span.name".to_owned()),
        Just("resource.attributes".to_owned()),
        Just("where".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just("not".to_owned()),
        Just("==".to_owned()),
        Just("<".to_owned()),
        Just("=".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just("Concat(".to_owned()),
        Just("IsMatch(".to_owned()),
        Just("limit(".to_owned()),
        Just("SPAN_KIND_SERVER".to_owned()),
        Just("SHA256".to_owned()),
        Just("nil".to_owned()),
        Just("0x0a".to_owned()),
        Just("\"(\"".to_owned()),
        "-?[0-9]{1,3}(\\.[0-9])?".prop_map(|s| s),
        "\"[a-z ]{0,4}\"".prop_map(|s| s),
    ]
}

proptest! {
    #[test]
    fn printed_statements_parse_back_to_the_same_tree(st in statement()) {
        let text = st.to_string();
        let parsed = parse_statement(&text);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&st), "{} -> {:?}", text, parsed);
    }

    #[test]
    fn printed_conditions_parse_back_to_the_same_tree(e in bool_expr()) {
        let text = e.to_string();
        let parsed = parse_condition(&text);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&e), "{} -> {:?}", text, parsed);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_statement(&text);
        let _ = parse_condition(&text);
        let _ = crate::Statement::parse(&text, Context::Log);
    }

    #[test]
    fn token_soups_never_panic_and_round_trip_when_they_parse(
        tokens in prop::collection::vec(token(), 0..14),
        ctx in prop_oneof![Just(Context::Span), Just(Context::DataPoint), Just(Context::Resource)],
    ) {
        let text = tokens.join(" ");
        if let Ok(st) = parse_statement(&text) {
            prop_assert_eq!(parse_statement(&st.to_string()).ok(), Some(st));
        }
        if let Ok(c) = parse_condition(&text) {
            prop_assert_eq!(parse_condition(&c.to_string()).ok(), Some(c));
        }
        if let Ok(st) = crate::Statement::parse(&text, ctx) {
            let again = crate::Statement::parse(&st.to_string(), ctx);
            prop_assert!(again.is_ok(), "{} -> {:?}", st, again.err());
        }
        let _ = Condition::parse(&text, ctx);
    }
}

#[test]
fn printing_is_canonical() {
    let cases = [
        (
            "set(attributes[\"a\"],\"b\")where  x==1",
            "set(attributes[\"a\"], \"b\") where x == 1",
        ),
        (
            "limit(attributes,1,priority_keys=[\"a\"])",
            "limit(attributes, 1, priority_keys = [\"a\"])",
        ),
        (
            "set(x, 1) where (a == 1 or b == 2) and not (c == 3 and d == 4)",
            "set(x, 1) where (a == 1 or b == 2) and not (c == 3 and d == 4)",
        ),
        (
            "set(x, 1.0) where y == 0x0AFF",
            "set(x, 1.0) where y == 0x0aff",
        ),
        ("set(x, \"q\\\"\\n\")", "set(x, \"q\\\"\\n\")"),
    ];
    for (text, want) in cases {
        let st = parse_statement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(st.to_string(), want);
    }
    // The compiled forms print the same text.
    let text = r#"set(attributes["k"], Concat([name, "x"], "-")) where IsMatch(name, "^a") or kind == SPAN_KIND_SERVER"#;
    let st = crate::Statement::parse(text, Context::Span).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(st.to_string(), text);
    let c =
        Condition::parse("not (name == \"a\")", Context::Span).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.to_string(), "not name == \"a\"");
}
