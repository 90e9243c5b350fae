//! The converters (upper-case functions that give a value): which exist, their parameters,
//! how a call is compiled, and which implementation runs it.

use regex::Regex;

use super::{encoding, strings, types};
use crate::EvalError;
use crate::ParseError;
use crate::ast::Call;
use crate::compile::{Compiler, bind, error, lit_bytes, lit_regex, lit_str, req};
use crate::eval::Expr;
use crate::target::{Context, Item, View};
use crate::val::Val;

/// The case `ConvertCase` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Lower,
    Upper,
    Snake,
    Camel,
}

/// A compiled converter call.
#[derive(Debug, Clone)]
pub(crate) enum Converter {
    IsMatch(Expr, Regex),
    IsString(Expr),
    IsInt(Expr),
    IsDouble(Expr),
    IsBool(Expr),
    IsMap(Expr),
    IsList(Expr),
    Len(Expr),
    Int(Expr),
    Double(Expr),
    String(Expr),
    Bool(Expr),
    Concat(Vec<Expr>, String),
    Split(Expr, String),
    ToLowerCase(Expr),
    ToUpperCase(Expr),
    Substring(Expr, Expr, Expr),
    ConvertCase(Expr, Case),
    ParseJSON(Expr),
    Sha256(Expr),
    Hex(Expr),
    TraceId(Vec<u8>),
    SpanId(Vec<u8>),
    HasAttrKeyOnDatapoint(String),
    HasAttrOnDatapoint(String, String),
}

/// Every converter name, for error messages.
pub(crate) const CONVERTERS: &[&str] = &[
    "Bool",
    "Concat",
    "ConvertCase",
    "Double",
    "HasAttrKeyOnDatapoint",
    "HasAttrOnDatapoint",
    "Hex",
    "Int",
    "IsBool",
    "IsDouble",
    "IsInt",
    "IsList",
    "IsMap",
    "IsMatch",
    "IsString",
    "Len",
    "ParseJSON",
    "SHA256",
    "SpanID",
    "Split",
    "String",
    "Substring",
    "ToLowerCase",
    "ToUpperCase",
    "TraceID",
];

/// Compiles a converter call.
pub(crate) fn compile_converter(c: &Compiler, call: &Call) -> Result<Converter, ParseError> {
    let one = |name: &str| -> Result<Expr, ParseError> {
        let slots = bind(call, &[name], 1)?;
        c.getter(req(call, &slots, 0)?)
    };
    Ok(match call.name.as_str() {
        "IsMatch" => {
            let s = bind(call, &["target", "pattern"], 2)?;
            Converter::IsMatch(
                c.getter(req(call, &s, 0)?)?,
                lit_regex(call, req(call, &s, 1)?)?,
            )
        }
        "IsString" => Converter::IsString(one("value")?),
        "IsInt" => Converter::IsInt(one("value")?),
        "IsDouble" => Converter::IsDouble(one("value")?),
        "IsBool" => Converter::IsBool(one("value")?),
        "IsMap" => Converter::IsMap(one("value")?),
        "IsList" => Converter::IsList(one("value")?),
        "Len" => Converter::Len(one("target")?),
        "Int" => Converter::Int(one("target")?),
        "Double" => Converter::Double(one("target")?),
        "String" => Converter::String(one("target")?),
        "Bool" => Converter::Bool(one("target")?),
        "ToLowerCase" => Converter::ToLowerCase(one("target")?),
        "ToUpperCase" => Converter::ToUpperCase(one("target")?),
        "ParseJSON" => Converter::ParseJSON(one("target")?),
        "SHA256" => Converter::Sha256(one("value")?),
        "Hex" => Converter::Hex(one("value")?),
        "Concat" => {
            let s = bind(call, &["vals", "delimiter"], 2)?;
            Converter::Concat(
                c.getter_list(call, req(call, &s, 0)?)?,
                lit_str(call, req(call, &s, 1)?, "the delimiter")?,
            )
        }
        "Split" => {
            let s = bind(call, &["target", "delimiter"], 2)?;
            Converter::Split(
                c.getter(req(call, &s, 0)?)?,
                lit_str(call, req(call, &s, 1)?, "the delimiter")?,
            )
        }
        "Substring" => {
            let s = bind(call, &["target", "start", "length"], 3)?;
            Converter::Substring(
                c.getter(req(call, &s, 0)?)?,
                c.getter(req(call, &s, 1)?)?,
                c.getter(req(call, &s, 2)?)?,
            )
        }
        "ConvertCase" => {
            let s = bind(call, &["target", "toCase"], 2)?;
            let arg = req(call, &s, 1)?;
            let case = match lit_str(call, arg, "toCase")?.as_str() {
                "lower" => Case::Lower,
                "upper" => Case::Upper,
                "snake" => Case::Snake,
                "camel" => Case::Camel,
                other => {
                    return Err(error(
                        arg.value.pos.0,
                        format!(
                            "ConvertCase: unknown case {other:?}; expected lower, upper, snake or camel"
                        ),
                    ));
                }
            };
            Converter::ConvertCase(c.getter(req(call, &s, 0)?)?, case)
        }
        "TraceID" => {
            let s = bind(call, &["bytes"], 1)?;
            Converter::TraceId(lit_bytes(call, req(call, &s, 0)?, 16)?)
        }
        "SpanID" => {
            let s = bind(call, &["bytes"], 1)?;
            Converter::SpanId(lit_bytes(call, req(call, &s, 0)?, 8)?)
        }
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" if c.ctx == Context::Metric => {
            if call.name == "HasAttrKeyOnDatapoint" {
                let s = bind(call, &["key"], 1)?;
                Converter::HasAttrKeyOnDatapoint(lit_str(call, req(call, &s, 0)?, "the key")?)
            } else {
                let s = bind(call, &["key", "value"], 2)?;
                Converter::HasAttrOnDatapoint(
                    lit_str(call, req(call, &s, 0)?, "the key")?,
                    lit_str(call, req(call, &s, 1)?, "the value")?,
                )
            }
        }
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" => {
            return Err(error(
                call.pos.0,
                format!("{} is only available in the metric context", call.name),
            ));
        }
        other => {
            return Err(error(
                call.pos.0,
                format!(
                    "unsupported function `{other}`; supported converters: {}",
                    CONVERTERS.join(", ")
                ),
            ));
        }
    })
}

impl Converter {
    /// Whether the converter gives a boolean.
    pub(crate) fn returns_bool(&self) -> bool {
        matches!(
            self,
            Converter::IsMatch(..)
                | Converter::IsString(_)
                | Converter::IsInt(_)
                | Converter::IsDouble(_)
                | Converter::IsBool(_)
                | Converter::IsMap(_)
                | Converter::IsList(_)
                | Converter::Bool(_)
                | Converter::HasAttrKeyOnDatapoint(_)
                | Converter::HasAttrOnDatapoint(..)
        )
    }

    /// Runs the converter.
    pub(crate) fn eval<'a>(&'a self, v: &View<'a>) -> Result<Val<'a>, EvalError> {
        Ok(match self {
            Converter::IsMatch(target, re) => {
                let val = target.eval(v)?;
                Val::Bool(val.string_like().is_some_and(|s| re.is_match(&s)))
            }
            Converter::IsString(e) => Val::Bool(matches!(e.eval(v)?, Val::Str(_))),
            Converter::IsInt(e) => Val::Bool(matches!(e.eval(v)?, Val::Int(_))),
            Converter::IsDouble(e) => Val::Bool(matches!(e.eval(v)?, Val::Float(_))),
            Converter::IsBool(e) => Val::Bool(matches!(e.eval(v)?, Val::Bool(_))),
            Converter::IsMap(e) => Val::Bool(matches!(e.eval(v)?, Val::Map(_))),
            Converter::IsList(e) => Val::Bool(matches!(e.eval(v)?, Val::List(_))),
            Converter::Len(e) => types::len(&e.eval(v)?)?,
            Converter::Int(e) => types::to_int(&e.eval(v)?),
            Converter::Double(e) => types::to_double(&e.eval(v)?),
            Converter::String(e) => types::to_string(&e.eval(v)?),
            Converter::Bool(e) => types::to_bool(&e.eval(v)?),
            Converter::Concat(items, delimiter) => {
                let mut vals = Vec::with_capacity(items.len());
                for e in items {
                    vals.push(e.eval(v)?);
                }
                strings::concat(&vals, delimiter)
            }
            Converter::Split(e, delimiter) => strings::split(&e.eval(v)?, delimiter)?,
            Converter::ToLowerCase(e) => strings::convert_case(&e.eval(v)?, Case::Lower)?,
            Converter::ToUpperCase(e) => strings::convert_case(&e.eval(v)?, Case::Upper)?,
            Converter::ConvertCase(e, case) => strings::convert_case(&e.eval(v)?, *case)?,
            Converter::Substring(e, start, length) => {
                strings::substring(&e.eval(v)?, &start.eval(v)?, &length.eval(v)?)?
            }
            Converter::ParseJSON(e) => encoding::parse_json(&e.eval(v)?)?,
            Converter::Sha256(e) => encoding::sha256(&e.eval(v)?)?,
            Converter::Hex(e) => encoding::hex(&e.eval(v)?)?,
            Converter::TraceId(b) | Converter::SpanId(b) => {
                Val::Bytes(std::borrow::Cow::Borrowed(b))
            }
            Converter::HasAttrKeyOnDatapoint(key) => Val::Bool(match v.target.item {
                Item::Metric(m) => {
                    types::any_point(m, |attrs| attrs.iter().any(|kv| kv.key == *key))
                }
                _ => false,
            }),
            Converter::HasAttrOnDatapoint(key, value) => Val::Bool(match v.target.item {
                Item::Metric(m) => types::any_point(m, |attrs| {
                    attrs.iter().any(|kv| {
                        kv.key == *key
                            && matches!(Val::from_any(kv.value.as_ref()), Val::Str(s) if s == value.as_str())
                    })
                }),
                _ => false,
            }),
        })
    }
}
