//! Type converters: `Int`, `Double`, `String`, `Bool`, `Len`, and the data point scan behind
//! `HasAttrKeyOnDatapoint` / `HasAttrOnDatapoint`.

use std::borrow::Cow;

use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::{Metric, metric::Data};

use crate::EvalError;
use crate::val::Val;

/// `Int(value)`: ints as they are, doubles truncated toward zero, booleans 1/0, strings parsed
/// as a decimal integer; anything else (a string that does not parse included) is nil.
pub(crate) fn to_int(v: &Val<'_>) -> Val<'static> {
    match v {
        Val::Int(i) => Val::Int(*i),
        Val::Float(f) if f.is_finite() => Val::Int(f.trunc() as i64),
        Val::Bool(b) => Val::Int(i64::from(*b)),
        Val::Str(s) => s.trim().parse::<i64>().map_or(Val::Nil, Val::Int),
        _ => Val::Nil,
    }
}

/// `Double(value)`: doubles as they are, ints converted, booleans 1.0/0.0, strings parsed;
/// anything else is nil.
pub(crate) fn to_double(v: &Val<'_>) -> Val<'static> {
    match v {
        Val::Float(f) => Val::Float(*f),
        Val::Int(i) => Val::Float(*i as f64),
        Val::Bool(b) => Val::Float(if *b { 1.0 } else { 0.0 }),
        Val::Str(s) => s.trim().parse::<f64>().map_or(Val::Nil, Val::Float),
        _ => Val::Nil,
    }
}

/// `String(value)`: the text of a value (bytes in lower-case hex, maps and slices as JSON);
/// nil stays nil.
pub(crate) fn to_string(v: &Val<'_>) -> Val<'static> {
    v.string_like()
        .map_or(Val::Nil, |s| Val::Str(Cow::Owned(s.into_owned())))
}

/// `Bool(value)`: booleans as they are, numbers true when non-zero, strings `1`, `t`, `T`,
/// `TRUE`, `true`, `True` and `0`, `f`, `F`, `FALSE`, `false`, `False` (Go's
/// `strconv.ParseBool`); anything else is nil.
pub(crate) fn to_bool(v: &Val<'_>) -> Val<'static> {
    match v {
        Val::Bool(b) => Val::Bool(*b),
        Val::Int(i) => Val::Bool(*i != 0),
        Val::Float(f) => Val::Bool(*f != 0.0),
        Val::Str(s) => match s.as_ref() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Val::Bool(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Val::Bool(false),
            _ => Val::Nil,
        },
        _ => Val::Nil,
    }
}

/// `Len(target)`: bytes of a string or byte slice, entries of a map or slice; an error for
/// anything else (nil included).
pub(crate) fn len(v: &Val<'_>) -> Result<Val<'static>, EvalError> {
    let n = match v {
        Val::Str(s) => s.len(),
        Val::Bytes(b) => b.len(),
        Val::Map(m) => m.len(),
        Val::List(l) => l.len(),
        other => {
            return Err(EvalError(format!(
                "Len: unsupported type {}",
                other.type_name()
            )));
        }
    };
    Ok(Val::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Whether any data point of `m` has attributes for which `f` holds.
pub(crate) fn any_point(m: &Metric, f: impl Fn(&[KeyValue]) -> bool) -> bool {
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::ExponentialHistogram(h)) => h.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Summary(s)) => s.data_points.iter().any(|p| f(&p.attributes)),
        None => false,
    }
}
