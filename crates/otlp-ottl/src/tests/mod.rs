//! Tests of the language: editors and converters on hand-made items, contexts and context
//! inference, parse errors, and the printer's round trip (property tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contexts;
mod converters;
mod editors;
mod errors;
mod profiles;
mod roundtrip;

use otlp_proto::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;

use crate::{Context, ItemMut, Statement, TargetMut};

pub(super) fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}
pub(super) fn i(v: i64) -> AnyValue {
    AnyValue {
        value: Some(Value::IntValue(v)),
    }
}
pub(super) fn d(v: f64) -> AnyValue {
    AnyValue {
        value: Some(Value::DoubleValue(v)),
    }
}
pub(super) fn b(v: bool) -> AnyValue {
    AnyValue {
        value: Some(Value::BoolValue(v)),
    }
}
pub(super) fn list(values: Vec<AnyValue>) -> AnyValue {
    AnyValue {
        value: Some(Value::ArrayValue(ArrayValue { values })),
    }
}
pub(super) fn map(entries: Vec<(&str, AnyValue)>) -> AnyValue {
    AnyValue {
        value: Some(Value::KvlistValue(KeyValueList {
            values: kvs(entries),
        })),
    }
}
pub(super) fn kvs(entries: Vec<(&str, AnyValue)>) -> Vec<KeyValue> {
    entries
        .into_iter()
        .map(|(k, v)| KeyValue {
            key: k.into(),
            value: Some(v),
            key_strindex: 0,
        })
        .collect()
}

/// The value of `key` in `attrs`.
pub(super) fn get<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
}

/// A span with `attrs`, named `name`.
pub(super) fn span(name: &str, attrs: Vec<(&str, AnyValue)>) -> Span {
    Span {
        name: name.into(),
        attributes: kvs(attrs),
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        ..Span::default()
    }
}

/// A span run through `statements` (span context) with a resource `service.name=checkout`
/// and a scope `lib`; the span, resource and scope afterwards.
pub(super) fn run_span(
    statements: &[&str],
    mut sp: Span,
) -> (Span, Option<Resource>, Option<InstrumentationScope>) {
    let mut resource = Some(Resource {
        attributes: kvs(vec![("service.name", s("checkout"))]),
        ..Resource::default()
    });
    let mut scope = Some(InstrumentationScope {
        name: "lib".into(),
        ..InstrumentationScope::default()
    });
    let mut cache = Vec::new();
    for text in statements {
        let st = Statement::parse(text, Context::Span).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut t = TargetMut {
            item: ItemMut::Span(&mut sp),
            resource: &mut resource,
            scope: &mut scope,
            cache: &mut cache,
        };
        st.execute(&mut t).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    (sp, resource, scope)
}

/// The span's attributes after `statements`.
pub(super) fn attrs_after(statements: &[&str], attrs: Vec<(&str, AnyValue)>) -> Vec<KeyValue> {
    run_span(statements, span("s", attrs)).0.attributes
}

/// The attribute `x` after `set(attributes["x"], <expr>)`.
pub(super) fn value_of(expr: &str, attrs: Vec<(&str, AnyValue)>) -> Option<AnyValue> {
    let out = attrs_after(&[&format!("set(attributes[\"x\"], {expr})")], attrs);
    get(&out, "x").cloned()
}

/// The error of running `statement` against a span with `attrs`.
pub(super) fn run_error(statement: &str, attrs: Vec<(&str, AnyValue)>) -> String {
    let st = Statement::parse(statement, Context::Span).unwrap_or_else(|e| panic!("{e}"));
    let mut sp = span("s", attrs);
    let (mut r, mut sc, mut c) = (None, None, Vec::new());
    let mut t = TargetMut {
        item: ItemMut::Span(&mut sp),
        resource: &mut r,
        scope: &mut sc,
        cache: &mut c,
    };
    match st.execute(&mut t) {
        Err(e) => e.0,
        Ok(ran) => panic!("{statement}: no error (ran: {ran})"),
    }
}
