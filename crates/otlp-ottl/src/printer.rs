//! Canonical OTTL text for a syntax tree: single spaces around operators and after commas,
//! `name = value` named arguments, strings with `\"`, `\\`, `\n`, `\t`, `\r` escapes, floats
//! in Rust's shortest round-trip form (always with a `.` or an exponent), byte literals in
//! lower-case hex. Parentheses are written only where the tree needs them (an `or` inside an
//! `and` or a `not`, an `and` inside a `not`, or a nested group of the same operator), so that
//! parsing the printed text gives the same tree back.

use core::fmt::{self, Display, Formatter, Write as _};

use crate::ast::{Arg, BoolExpr, Call, Key, PathExpr, Statement, Value, ValueKind};

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.editor)?;
        if let Some(c) = &self.condition {
            write!(f, " where {c}")?;
        }
        Ok(())
    }
}

/// Writes `e`, in parentheses when `wrap` says so.
fn group(f: &mut Formatter<'_>, e: &BoolExpr, wrap: bool) -> fmt::Result {
    if wrap {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for BoolExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            BoolExpr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    group(f, e, matches!(e, BoolExpr::Or(_)))?;
                }
                Ok(())
            }
            BoolExpr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    group(f, e, matches!(e, BoolExpr::Or(_) | BoolExpr::And(_)))?;
                }
                Ok(())
            }
            BoolExpr::Not(e) => {
                f.write_str("not ")?;
                group(f, e, matches!(**e, BoolExpr::Or(_) | BoolExpr::And(_)))
            }
            BoolExpr::Compare(a, op, b) => write!(f, "{a} {} {b}", op.as_str()),
            BoolExpr::Value(v) => write!(f, "{v}"),
        }
    }
}

/// Writes `s` as an OTTL string literal.
pub(crate) fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for ch in s.chars() {
        match ch {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueKind::Nil => f.write_str("nil"),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Str(s) => write_string(f, s),
            ValueKind::Int(i) => write!(f, "{i}"),
            // `{:?}` is the shortest text that reads back as the same f64, and always has a
            // `.` or an exponent, so that it reads back as a float.
            ValueKind::Float(x) => write!(f, "{x:?}"),
            ValueKind::Bytes(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            ValueKind::Enum(name) => f.write_str(name),
            ValueKind::Path(p) => write!(f, "{p}"),
            ValueKind::Call(c) => write!(f, "{c}"),
            ValueKind::List(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_char(']')
            }
        }
    }
}

fn write_keys(f: &mut Formatter<'_>, keys: &[Key]) -> fmt::Result {
    for k in keys {
        match k {
            Key::Str(s) => {
                f.write_char('[')?;
                write_string(f, s)?;
                f.write_char(']')?;
            }
            Key::Int(i) => write!(f, "[{i}]")?,
        }
    }
    Ok(())
}

impl Display for PathExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))?;
        write_keys(f, &self.keys)
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_char(')')?;
        write_keys(f, &self.keys)
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            write!(f, "{name} = ")?;
        }
        write!(f, "{}", self.value)
    }
}
