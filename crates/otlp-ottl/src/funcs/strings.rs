//! String converters: `Concat`, `Split`, `ToLowerCase`, `ToUpperCase`, `ConvertCase`,
//! `Substring`.

use std::borrow::Cow;

use otlp_proto::common::v1::AnyValue;

use super::converters::Case;
use crate::EvalError;
use crate::val::Val;

/// OTTL's `StringGetter`: the value must be a string.
pub(crate) fn expect_str<'v>(v: &'v Val<'_>, func: &str) -> Result<&'v str, EvalError> {
    match v {
        Val::Str(s) => Ok(s),
        other => Err(EvalError(format!(
            "{func}: expected a string but got {}",
            other.type_name()
        ))),
    }
}

/// `Concat(values, delimiter)`: the text of each value joined by `delimiter`; nil is written
/// `<nil>` (as Go prints it), maps and slices are left out (an empty piece).
pub(crate) fn concat(vals: &[Val<'_>], delimiter: &str) -> Val<'static> {
    let mut out = String::new();
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            out.push_str(delimiter);
        }
        match v {
            Val::Nil => out.push_str("<nil>"),
            Val::Map(_) | Val::List(_) => {}
            other => {
                if let Some(s) = other.string_like() {
                    out.push_str(&s);
                }
            }
        }
    }
    Val::Str(Cow::Owned(out))
}

/// `Split(target, delimiter)`: the pieces of a string, as a slice of strings (Go's
/// `strings.Split`: an empty delimiter splits into characters).
pub(crate) fn split(v: &Val<'_>, delimiter: &str) -> Result<Val<'static>, EvalError> {
    let s = expect_str(v, "Split")?;
    let piece = |p: &str| AnyValue {
        value: Some(otlp_proto::common::v1::any_value::Value::StringValue(
            p.to_owned(),
        )),
    };
    let parts: Vec<AnyValue> = if delimiter.is_empty() {
        s.chars()
            .map(|c| piece(c.encode_utf8(&mut [0; 4])))
            .collect()
    } else {
        s.split(delimiter).map(piece).collect()
    };
    Ok(Val::List(Cow::Owned(parts)))
}

/// `ToLowerCase`, `ToUpperCase`, `ConvertCase(target, case)`.
pub(crate) fn convert_case(v: &Val<'_>, case: Case) -> Result<Val<'static>, EvalError> {
    let s = expect_str(v, "ConvertCase")?;
    Ok(Val::Str(Cow::Owned(match case {
        Case::Lower => s.to_lowercase(),
        Case::Upper => s.to_uppercase(),
        Case::Snake => words(s)
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("_"),
        Case::Camel => words(s)
            .iter()
            .map(|w| {
                let mut chars = w.chars();
                chars.next().map_or_else(String::new, |first| {
                    first
                        .to_uppercase()
                        .chain(chars.flat_map(char::to_lowercase))
                        .collect()
                })
            })
            .collect(),
    })))
}

/// Splits an identifier into words: at separators (anything not a letter or digit) and where
/// a lower-case letter or digit is followed by an upper-case one (`httpRequestCount`).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `Substring(target, start, length)`: `length` bytes from byte `start`; an error when the
/// range is outside the string (or cuts a character).
pub(crate) fn substring(
    v: &Val<'_>,
    start: &Val<'_>,
    length: &Val<'_>,
) -> Result<Val<'static>, EvalError> {
    let s = expect_str(v, "Substring")?;
    let (Val::Int(start), Val::Int(length)) = (start, length) else {
        return Err(EvalError(
            "Substring: start and length must be integers".into(),
        ));
    };
    if *start < 0 || *length <= 0 {
        return Err(EvalError(format!(
            "Substring: invalid start {start} or length {length}"
        )));
    }
    let from = usize::try_from(*start).unwrap_or(usize::MAX);
    let to = from.saturating_add(usize::try_from(*length).unwrap_or(usize::MAX));
    s.get(from..to)
        .map(|sub| Val::Str(Cow::Owned(sub.to_owned())))
        .ok_or_else(|| {
            EvalError(format!(
                "Substring: range {from}..{to} is outside the string (length {})",
                s.len()
            ))
        })
}
