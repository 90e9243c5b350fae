//! The syntax tree of OTTL statements and conditions, before paths and functions are resolved
//! for a context. The parser builds it, the printer (`Display`, in [`crate::printer`]) writes
//! it back as canonical OTTL, and the compiler ([`crate::compile`]) turns it into something
//! that runs.
//!
//! Every node keeps the byte offset it was parsed from ([`Pos`]) for error messages; offsets
//! never take part in equality, so `parse(print(ast)) == ast` holds although printing moves
//! things around.

use crate::lexer::CmpOp;

/// A byte offset in the source text. Always equal to any other (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pos(pub(crate) usize);

impl PartialEq for Pos {
    fn eq(&self, _other: &Pos) -> bool {
        true
    }
}

/// `editor(args) [where condition]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) editor: Call,
    pub(crate) condition: Option<BoolExpr>,
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BoolExpr {
    Or(Vec<BoolExpr>),
    And(Vec<BoolExpr>),
    Not(Box<BoolExpr>),
    Compare(Value, CmpOp, Value),
    /// A value standing alone: `true`, `false` or a converter call.
    Value(Value),
}

/// A value with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Value {
    pub(crate) pos: Pos,
    pub(crate) kind: ValueKind,
}

/// What a value is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueKind {
    Nil,
    Bool(bool),
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    /// An upper-case identifier: an enum (`SPAN_KIND_SERVER`) or, as an argument, a function
    /// name (`SHA256`).
    Enum(String),
    Path(PathExpr),
    Call(Call),
    List(Vec<Value>),
}

/// `seg.seg.seg["key"][0]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathExpr {
    pub(crate) segments: Vec<String>,
    pub(crate) keys: Vec<Key>,
}

/// An index: `["key"]` or `[0]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    Str(String),
    Int(i64),
}

/// `name(args)` with optional indexes on the result (`ParseJSON(body)["a"]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub(crate) pos: Pos,
    pub(crate) name: String,
    pub(crate) args: Vec<Arg>,
    pub(crate) keys: Vec<Key>,
}

/// A positional (`value`) or named (`name = value`) argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arg {
    pub(crate) pos: Pos,
    pub(crate) name: Option<String>,
    pub(crate) value: Value,
}

impl Call {
    /// Editors are lower-case (`set`), converters upper-case (`Concat`).
    pub(crate) fn is_converter(&self) -> bool {
        self.name.starts_with(|c: char| c.is_ascii_uppercase())
    }
}

impl BoolExpr {
    /// Every path in the expression, with its position.
    pub(crate) fn paths<'a>(&'a self, out: &mut Vec<(usize, &'a PathExpr)>) {
        match self {
            BoolExpr::Or(items) | BoolExpr::And(items) => {
                items.iter().for_each(|e| e.paths(out));
            }
            BoolExpr::Not(e) => e.paths(out),
            BoolExpr::Compare(a, _, b) => {
                a.paths(out);
                b.paths(out);
            }
            BoolExpr::Value(v) => v.paths(out),
        }
    }
}

impl Value {
    /// Every path in the value, with its position.
    pub(crate) fn paths<'a>(&'a self, out: &mut Vec<(usize, &'a PathExpr)>) {
        match &self.kind {
            ValueKind::Path(p) => out.push((self.pos.0, p)),
            ValueKind::Call(c) => c.paths(out),
            ValueKind::List(items) => items.iter().for_each(|v| v.paths(out)),
            _ => {}
        }
    }
}

impl Call {
    /// Every path in the arguments, with its position.
    pub(crate) fn paths<'a>(&'a self, out: &mut Vec<(usize, &'a PathExpr)>) {
        self.args.iter().for_each(|a| a.value.paths(out));
    }
}

impl Statement {
    /// Every path in the statement (with its position), its condition included.
    pub(crate) fn paths(&self) -> Vec<(usize, &PathExpr)> {
        let mut out = Vec::new();
        self.editor.paths(&mut out);
        if let Some(c) = &self.condition {
            c.paths(&mut out);
        }
        out
    }
}
