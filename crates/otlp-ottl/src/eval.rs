//! Compiled expressions and conditions, and their evaluation against a [`View`], following
//! OTTL's comparison rules.

use std::borrow::Cow;

use crate::EvalError;
use crate::ast::Key;
use crate::funcs::Converter;
use crate::lexer::CmpOp;
use crate::paths::Path;
use crate::target::View;
use crate::val::Val;

/// A compiled value expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    /// A literal (enums are ints by now).
    Lit(Val<'static>),
    Path(Path),
    Call(Box<Converter>, Vec<Key>),
    List(Vec<Expr>),
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Compare(Expr, CmpOp, Expr),
    /// A value used as a boolean (a literal or a converter returning a bool).
    Truthy(Expr),
}

/// A borrowed copy of a literal (no allocation for strings and lists of scalars).
fn borrow<'a>(v: &'a Val<'static>) -> Val<'a> {
    match v {
        Val::Nil => Val::Nil,
        Val::Str(s) => Val::Str(Cow::Borrowed(s)),
        Val::Int(i) => Val::Int(*i),
        Val::Float(f) => Val::Float(*f),
        Val::Bool(b) => Val::Bool(*b),
        Val::Bytes(b) => Val::Bytes(Cow::Borrowed(b)),
        Val::Map(m) => Val::Map(Cow::Borrowed(m)),
        Val::List(l) => Val::List(Cow::Borrowed(l)),
    }
}

impl Expr {
    /// Evaluates the expression.
    pub(crate) fn eval<'a>(&'a self, v: &View<'a>) -> Result<Val<'a>, EvalError> {
        Ok(match self {
            Expr::Lit(l) => borrow(l),
            Expr::Path(p) => p.read(v),
            Expr::Call(c, keys) => keys.iter().fold(c.eval(v)?, Val::index),
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for e in items {
                    out.push(e.eval(v)?.into_any());
                }
                Val::List(Cow::Owned(out))
            }
        })
    }

    /// Whether the expression is known to give a boolean (for a condition standing alone).
    pub(crate) fn returns_bool(&self) -> bool {
        match self {
            Expr::Lit(Val::Bool(_)) => true,
            Expr::Call(c, keys) => keys.is_empty() && c.returns_bool(),
            _ => false,
        }
    }
}

fn ordered<T: PartialOrd + ?Sized>(a: &T, b: &T, op: CmpOp) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// OTTL's comparison rules: values of different types are never equal (and never ordered);
/// ints and doubles compare numerically; strings and bytes compare lexicographically; booleans
/// order `false < true`; nil equals only nil; maps and lists support `==` / `!=` only.
pub(crate) fn compare(a: &Val<'_>, op: CmpOp, b: &Val<'_>) -> bool {
    let mismatch = op == CmpOp::Ne;
    match (a, b) {
        (Val::Nil, Val::Nil) => matches!(op, CmpOp::Eq | CmpOp::Le | CmpOp::Ge),
        (Val::Nil, _) | (_, Val::Nil) => mismatch,
        (Val::Str(x), Val::Str(y)) => ordered(x.as_ref(), y.as_ref(), op),
        (Val::Int(x), Val::Int(y)) => ordered(x, y, op),
        (Val::Float(x), Val::Float(y)) => ordered(x, y, op),
        (Val::Int(x), Val::Float(y)) => ordered(&(*x as f64), y, op),
        (Val::Float(x), Val::Int(y)) => ordered(x, &(*y as f64), op),
        (Val::Bool(x), Val::Bool(y)) => ordered(x, y, op),
        (Val::Bytes(x), Val::Bytes(y)) => ordered(x.as_ref(), y.as_ref(), op),
        (Val::Map(x), Val::Map(y)) => match op {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            _ => false,
        },
        (Val::List(x), Val::List(y)) => match op {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            _ => false,
        },
        _ => mismatch,
    }
}

impl Cond {
    /// Evaluates the condition; `and` / `or` short-circuit left to right.
    pub(crate) fn eval(&self, v: &View<'_>) -> Result<bool, EvalError> {
        Ok(match self {
            Cond::Or(items) => {
                for e in items {
                    if e.eval(v)? {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::And(items) => {
                for e in items {
                    if !e.eval(v)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Not(e) => !e.eval(v)?,
            Cond::Compare(a, op, b) => compare(&a.eval(v)?, *op, &b.eval(v)?),
            Cond::Truthy(e) => match e.eval(v)? {
                Val::Bool(b) => b,
                other => {
                    return Err(EvalError(format!(
                        "expected a boolean, got {}",
                        other.type_name()
                    )));
                }
            },
        })
    }
}
