//! From the syntax tree to what runs, for one context: paths resolved, enums replaced by their
//! numbers, functions looked up with their arguments bound (positional or named, optional
//! ones defaulted) and checked (literal types, regular expressions compiled). Everything that
//! can be refused is refused here, with the byte position, never at run time.

use std::borrow::Cow;

use regex::Regex;

use crate::ParseError;
use crate::ast::{Arg, BoolExpr, Call, Value, ValueKind};
use crate::eval::{Cond, Expr};
use crate::funcs::compile_converter;
use crate::paths::{Path, resolve};
use crate::profile;
use crate::target::Context;
use crate::val::Val;

/// Compiles syntax for one context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compiler {
    pub(crate) ctx: Context,
}

pub(crate) fn error(position: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position,
        message: message.into(),
    }
}

impl Compiler {
    pub(crate) fn cond(&self, e: &BoolExpr) -> Result<Cond, ParseError> {
        Ok(match e {
            BoolExpr::Or(items) => Cond::Or(
                items
                    .iter()
                    .map(|e| self.cond(e))
                    .collect::<Result<_, _>>()?,
            ),
            BoolExpr::And(items) => Cond::And(
                items
                    .iter()
                    .map(|e| self.cond(e))
                    .collect::<Result<_, _>>()?,
            ),
            BoolExpr::Not(e) => Cond::Not(Box::new(self.cond(e)?)),
            BoolExpr::Compare(a, op, b) => Cond::Compare(self.expr(a)?, *op, self.expr(b)?),
            BoolExpr::Value(v) => {
                let e = self.expr(v)?;
                if !e.returns_bool() {
                    return Err(error(
                        v.pos.0,
                        "expected a comparison (==, !=, <, <=, >, >=) or a boolean: this value alone is not a condition",
                    ));
                }
                Cond::Truthy(e)
            }
        })
    }

    pub(crate) fn expr(&self, v: &Value) -> Result<Expr, ParseError> {
        let at = v.pos.0;
        Ok(match &v.kind {
            ValueKind::Nil => Expr::Lit(Val::Nil),
            ValueKind::Bool(b) => Expr::Lit(Val::Bool(*b)),
            ValueKind::Str(s) => Expr::Lit(Val::Str(Cow::Owned(s.clone()))),
            ValueKind::Int(i) => Expr::Lit(Val::Int(*i)),
            ValueKind::Float(f) => Expr::Lit(Val::Float(*f)),
            ValueKind::Bytes(b) => Expr::Lit(Val::Bytes(Cow::Owned(b.clone()))),
            ValueKind::Enum(name) => match self.enum_value(name) {
                Some(i) => Expr::Lit(Val::Int(i)),
                None => {
                    return Err(error(
                        at,
                        format!("unknown enum `{name}` in the {} context", self.ctx.name()),
                    ));
                }
            },
            ValueKind::Path(p) => Expr::Path(resolve(self.ctx, p, at)?),
            ValueKind::Call(c) => {
                if !c.is_converter() {
                    return Err(error(
                        at,
                        format!(
                            "`{}` is an editor; only converters (upper-case functions) give values",
                            c.name
                        ),
                    ));
                }
                Expr::Call(Box::new(compile_converter(self, c)?), c.keys.clone())
            }
            ValueKind::List(items) => Expr::List(
                items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The number of an enum name, as the context knows it.
    fn enum_value(&self, name: &str) -> Option<i64> {
        let span_like = self.ctx.can_reach(Context::Span);
        let metric_like = self.ctx.can_reach(Context::Metric);
        let v = match name {
            "SPAN_KIND_UNSPECIFIED" if span_like => 0,
            "SPAN_KIND_INTERNAL" if span_like => 1,
            "SPAN_KIND_SERVER" if span_like => 2,
            "SPAN_KIND_CLIENT" if span_like => 3,
            "SPAN_KIND_PRODUCER" if span_like => 4,
            "SPAN_KIND_CONSUMER" if span_like => 5,
            "STATUS_CODE_UNSET" if span_like => 0,
            "STATUS_CODE_OK" if span_like => 1,
            "STATUS_CODE_ERROR" if span_like => 2,
            "METRIC_DATA_TYPE_NONE" if metric_like => 0,
            "METRIC_DATA_TYPE_GAUGE" if metric_like => 1,
            "METRIC_DATA_TYPE_SUM" if metric_like => 2,
            "METRIC_DATA_TYPE_HISTOGRAM" if metric_like => 3,
            "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM" if metric_like => 4,
            "METRIC_DATA_TYPE_SUMMARY" if metric_like => 5,
            "AGGREGATION_TEMPORALITY_UNSPECIFIED" if metric_like => 0,
            "AGGREGATION_TEMPORALITY_DELTA" if metric_like => 1,
            "AGGREGATION_TEMPORALITY_CUMULATIVE" if metric_like => 2,
            "FLAG_NONE" if self.ctx == Context::DataPoint => 0,
            "FLAG_NO_RECORDED_VALUE" if self.ctx == Context::DataPoint => 1,
            "SEVERITY_NUMBER_UNSPECIFIED" if self.ctx == Context::Log => 0,
            _ if self.ctx == Context::Log => {
                let rest = name.strip_prefix("SEVERITY_NUMBER_")?;
                return crate::severity::parse_severity(rest)
                    .filter(|_| !rest.starts_with(|c: char| c.is_ascii_digit()))
                    .map(i64::from);
            }
            _ => return None,
        };
        Some(v)
    }

    // -----------------------------------------------------------------------------------------
    // Argument kinds

    /// A path the function writes (`target`).
    pub(crate) fn target(&self, call: &Call, arg: &Arg) -> Result<Path, ParseError> {
        match &arg.value.kind {
            ValueKind::Path(p) => {
                let path = resolve(self.ctx, p, arg.value.pos.0)?;
                if path.owner == Context::Profile && profile::read_only(path.field) {
                    return Err(error(
                        arg.value.pos.0,
                        format!(
                            "{}: `{p}` cannot be written: a profile's attributes are indexes into the request's dictionary, read-only in OTTL here",
                            call.name
                        ),
                    ));
                }
                Ok(path)
            }
            _ => Err(error(
                arg.value.pos.0,
                format!("{}: the target must be a path", call.name),
            )),
        }
    }

    /// Any value.
    pub(crate) fn getter(&self, arg: &Arg) -> Result<Expr, ParseError> {
        self.expr(&arg.value)
    }

    /// A list literal of values (`Concat([a, b], "")`).
    pub(crate) fn getter_list(&self, call: &Call, arg: &Arg) -> Result<Vec<Expr>, ParseError> {
        match &arg.value.kind {
            ValueKind::List(items) => items.iter().map(|v| self.expr(v)).collect(),
            _ => Err(error(
                arg.value.pos.0,
                format!("{}: expected a list `[...]`", call.name),
            )),
        }
    }
}

/// A string literal.
pub(crate) fn lit_str(call: &Call, arg: &Arg, what: &str) -> Result<String, ParseError> {
    match &arg.value.kind {
        ValueKind::Str(s) => Ok(s.clone()),
        _ => Err(error(
            arg.value.pos.0,
            format!("{}: {what} must be a string literal", call.name),
        )),
    }
}

/// An integer literal.
pub(crate) fn lit_int(call: &Call, arg: &Arg, what: &str) -> Result<i64, ParseError> {
    match &arg.value.kind {
        ValueKind::Int(i) => Ok(*i),
        _ => Err(error(
            arg.value.pos.0,
            format!("{}: {what} must be an integer literal", call.name),
        )),
    }
}

/// A boolean literal.
pub(crate) fn lit_bool(call: &Call, arg: &Arg, what: &str) -> Result<bool, ParseError> {
    match &arg.value.kind {
        ValueKind::Bool(b) => Ok(*b),
        _ => Err(error(
            arg.value.pos.0,
            format!("{}: {what} must be true or false", call.name),
        )),
    }
}

/// A list of string literals.
pub(crate) fn lit_str_list(call: &Call, arg: &Arg, what: &str) -> Result<Vec<String>, ParseError> {
    let bad = |at: usize| {
        error(
            at,
            format!("{}: {what} must be a list of string literals", call.name),
        )
    };
    match &arg.value.kind {
        ValueKind::List(items) => items
            .iter()
            .map(|v| match &v.kind {
                ValueKind::Str(s) => Ok(s.clone()),
                _ => Err(bad(v.pos.0)),
            })
            .collect(),
        _ => Err(bad(arg.value.pos.0)),
    }
}

/// A regular expression literal, compiled.
pub(crate) fn lit_regex(call: &Call, arg: &Arg) -> Result<Regex, ParseError> {
    let pattern = lit_str(call, arg, "the pattern")?;
    Regex::new(&pattern).map_err(|e| {
        error(
            arg.value.pos.0,
            format!("{}: invalid regular expression: {e}", call.name),
        )
    })
}

/// A byte literal of `len` bytes.
pub(crate) fn lit_bytes(call: &Call, arg: &Arg, len: usize) -> Result<Vec<u8>, ParseError> {
    match &arg.value.kind {
        ValueKind::Bytes(b) if b.len() == len => Ok(b.clone()),
        _ => Err(error(
            arg.value.pos.0,
            format!(
                "{}: expected a {len}-byte literal (0x followed by {} hex digits)",
                call.name,
                len * 2
            ),
        )),
    }
}

/// Binds a call's arguments to the parameters `names` (the first `required` are mandatory):
/// positional ones in order, named ones by name (`priority_keys = [...]`; case and `_` are
/// ignored, so `replacementFormat` and `replacement_format` are the same name).
pub(crate) fn bind<'c>(
    call: &'c Call,
    names: &[&str],
    required: usize,
) -> Result<Vec<Option<&'c Arg>>, ParseError> {
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let mut slots: Vec<Option<&Arg>> = vec![None; names.len()];
    for (i, arg) in call.args.iter().enumerate() {
        let slot = match &arg.name {
            None => {
                if i >= names.len() {
                    return Err(error(
                        arg.pos.0,
                        format!(
                            "{} takes at most {} argument(s), got {}",
                            call.name,
                            names.len(),
                            call.args.len()
                        ),
                    ));
                }
                i
            }
            Some(n) => names
                .iter()
                .position(|p| norm(p) == norm(n))
                .ok_or_else(|| {
                    error(
                        arg.pos.0,
                        format!(
                            "{} has no parameter `{n}`; its parameters are {}",
                            call.name,
                            names.join(", ")
                        ),
                    )
                })?,
        };
        if slots[slot].is_some() {
            return Err(error(
                arg.pos.0,
                format!("{}: `{}` is given twice", call.name, names[slot]),
            ));
        }
        slots[slot] = Some(arg);
    }
    if let Some(missing) = (0..required).find(|i| slots[*i].is_none()) {
        return Err(error(
            call.pos.0,
            format!(
                "{} takes {} argument(s) ({}); `{}` is missing",
                call.name,
                if required == names.len() {
                    required.to_string()
                } else {
                    format!("{required} to {}", names.len())
                },
                names.join(", "),
                names[missing]
            ),
        ));
    }
    Ok(slots)
}

/// The bound argument at `i` (present: `bind` checked the required ones).
pub(crate) fn req<'c>(
    call: &Call,
    slots: &[Option<&'c Arg>],
    i: usize,
) -> Result<&'c Arg, ParseError> {
    slots
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| error(call.pos.0, format!("{}: missing argument", call.name)))
}
