//! The editors (lower-case functions that change the item): which exist, their parameters,
//! how a call is compiled, and how it is applied to a [`TargetMut`].

use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use regex::Regex;

use otlp_proto::metrics::v1::AggregationTemporality;

use super::maps::{self, Strategy};
use super::replace::{HashFn, Post, glob, replace_regex, replace_whole};
use super::signal_editors::{self, SEMCONV_VERSIONS};
use crate::Context;
use crate::ast::{Call, ValueKind};
use crate::compile::{
    Compiler, bind, error, lit_bool, lit_int, lit_regex, lit_str, lit_str_list, req,
};
use crate::eval::Expr;
use crate::paths::Path;
use crate::target::{ItemMut, TargetMut};
use crate::val::Val;
use crate::{EvalError, ParseError};

/// `replace_all_patterns`' mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Key,
    Value,
}

/// A replacement: its text (any string expression) and what is applied to it.
#[derive(Debug, Clone)]
pub(crate) struct Replacement {
    value: Expr,
    post: Post,
}

/// A compiled editor call.
#[derive(Debug, Clone)]
pub(crate) enum Editor {
    Set(Path, Expr),
    DeleteKey(Path, String),
    DeleteMatchingKeys(Path, Regex),
    KeepKeys(Path, Vec<String>),
    KeepMatchingKeys(Path, Regex),
    Limit(Path, usize, Vec<String>),
    TruncateAll(Path, usize, String),
    ReplacePattern(Path, Regex, Replacement),
    ReplaceMatch(Path, Regex, Replacement),
    ReplaceAllPatterns(Path, Mode, Regex, Replacement),
    ReplaceAllMatches(Path, Regex, Replacement),
    MergeMaps(Path, Expr, Strategy),
    Flatten(Path, Option<String>, Option<usize>),
    Append(Path, Vec<Expr>),
    /// `set_semconv_span_name` (span context), keeping the old name in the attribute given.
    SetSemconvSpanName(Option<String>),
    /// `convert_gauge_to_sum` (metric context).
    ConvertGaugeToSum(AggregationTemporality, bool),
    /// `convert_sum_to_gauge` (metric context).
    ConvertSumToGauge,
}

/// Every editor name, for error messages.
pub(crate) const EDITORS: &[&str] = &[
    "append",
    "convert_gauge_to_sum",
    "convert_sum_to_gauge",
    "delete_key",
    "delete_matching_keys",
    "flatten",
    "keep_keys",
    "keep_matching_keys",
    "limit",
    "merge_maps",
    "replace_all_matches",
    "replace_all_patterns",
    "replace_match",
    "replace_pattern",
    "set",
    "set_semconv_span_name",
    "truncate_all",
];

/// Refuses an editor outside the context it belongs to.
fn only_in(c: &Compiler, call: &Call, context: Context) -> Result<(), ParseError> {
    if c.ctx == context {
        Ok(())
    } else {
        Err(error(
            call.pos.0,
            format!(
                "{} is an editor of the {} context, not of {}",
                call.name,
                context.name(),
                c.ctx.name()
            ),
        ))
    }
}

fn non_negative(call: &Call, arg: &crate::ast::Arg, what: &str) -> Result<usize, ParseError> {
    let n = lit_int(call, arg, what)?;
    usize::try_from(n).map_err(|_| {
        error(
            arg.value.pos.0,
            format!("{}: {what} must not be negative", call.name),
        )
    })
}

fn glob_arg(call: &Call, arg: &crate::ast::Arg) -> Result<Regex, ParseError> {
    let pattern = lit_str(call, arg, "the pattern")?;
    glob(&pattern).ok_or_else(|| {
        error(
            arg.value.pos.0,
            format!("{}: invalid glob pattern {pattern:?}", call.name),
        )
    })
}

/// The `replacement`, `function`, `replacementFormat` arguments at `at`, `at + 1`, `at + 2`.
fn replacement(
    c: &Compiler,
    call: &Call,
    slots: &[Option<&crate::ast::Arg>],
    at: usize,
) -> Result<Replacement, ParseError> {
    let value = c.getter(req(call, slots, at)?)?;
    let function = match slots.get(at + 1).copied().flatten() {
        None => None,
        Some(arg) => match &arg.value.kind {
            ValueKind::Enum(name) if name == "SHA256" => Some(HashFn::Sha256),
            _ => {
                return Err(error(
                    arg.value.pos.0,
                    format!(
                        "{}: the function must be a hash converter named without parentheses; supported: SHA256",
                        call.name
                    ),
                ));
            }
        },
    };
    let format = match slots.get(at + 2).copied().flatten() {
        None => None,
        Some(arg) => {
            let f = lit_str(call, arg, "replacementFormat")?;
            if f.matches("%s").count() != 1 || f.replace("%s", "").contains('%') {
                return Err(error(
                    arg.value.pos.0,
                    format!(
                        "{}: replacementFormat must contain exactly one `%s` and no other `%`",
                        call.name
                    ),
                ));
            }
            if function.is_none() {
                return Err(error(
                    arg.value.pos.0,
                    format!("{}: replacementFormat needs a function", call.name),
                ));
            }
            Some(f)
        }
    };
    Ok(Replacement {
        value,
        post: Post { function, format },
    })
}

/// Compiles an editor call.
pub(crate) fn compile_editor(c: &Compiler, call: &Call) -> Result<Editor, ParseError> {
    let target = |slots: &[Option<&crate::ast::Arg>]| c.target(call, req(call, slots, 0)?);
    Ok(match call.name.as_str() {
        "set" => {
            let s = bind(call, &["target", "value"], 2)?;
            Editor::Set(target(&s)?, c.getter(req(call, &s, 1)?)?)
        }
        "delete_key" => {
            let s = bind(call, &["target", "key"], 2)?;
            Editor::DeleteKey(target(&s)?, lit_str(call, req(call, &s, 1)?, "the key")?)
        }
        "delete_matching_keys" => {
            let s = bind(call, &["target", "pattern"], 2)?;
            Editor::DeleteMatchingKeys(target(&s)?, lit_regex(call, req(call, &s, 1)?)?)
        }
        "keep_keys" => {
            let s = bind(call, &["target", "keys"], 2)?;
            Editor::KeepKeys(target(&s)?, lit_str_list(call, req(call, &s, 1)?, "keys")?)
        }
        "keep_matching_keys" => {
            let s = bind(call, &["target", "pattern"], 2)?;
            Editor::KeepMatchingKeys(target(&s)?, lit_regex(call, req(call, &s, 1)?)?)
        }
        "limit" => {
            let s = bind(call, &["target", "limit", "priority_keys"], 2)?;
            let limit_arg = req(call, &s, 1)?;
            let limit = non_negative(call, limit_arg, "the limit")?;
            let priority = match s.get(2).copied().flatten() {
                Some(arg) => lit_str_list(call, arg, "priority_keys")?,
                None => Vec::new(),
            };
            if priority.len() > limit {
                return Err(error(
                    limit_arg.value.pos.0,
                    "limit: the number of priority keys cannot be greater than the limit",
                ));
            }
            Editor::Limit(target(&s)?, limit, priority)
        }
        "truncate_all" => {
            let s = bind(
                call,
                &["target", "limit", "utf8_safe", "truncation_marker"],
                2,
            )?;
            let limit_arg = req(call, &s, 1)?;
            let limit = non_negative(call, limit_arg, "the limit")?;
            if let Some(arg) = s.get(2).copied().flatten() {
                // Strings are always valid UTF-8 here: truncation always keeps characters whole.
                lit_bool(call, arg, "utf8_safe")?;
            }
            let marker = match s.get(3).copied().flatten() {
                Some(arg) => lit_str(call, arg, "truncation_marker")?,
                None => String::new(),
            };
            if marker.len() > limit {
                return Err(error(
                    limit_arg.value.pos.0,
                    "truncate_all: the truncation marker is longer than the limit",
                ));
            }
            Editor::TruncateAll(target(&s)?, limit, marker)
        }
        "replace_pattern" => {
            let names = [
                "target",
                "regex",
                "replacement",
                "function",
                "replacementFormat",
            ];
            let s = bind(call, &names, 3)?;
            Editor::ReplacePattern(
                target(&s)?,
                lit_regex(call, req(call, &s, 1)?)?,
                replacement(c, call, &s, 2)?,
            )
        }
        "replace_match" | "replace_all_matches" => {
            let names = [
                "target",
                "pattern",
                "replacement",
                "function",
                "replacementFormat",
            ];
            let s = bind(call, &names, 3)?;
            let (t, g, r) = (
                target(&s)?,
                glob_arg(call, req(call, &s, 1)?)?,
                replacement(c, call, &s, 2)?,
            );
            if call.name == "replace_match" {
                Editor::ReplaceMatch(t, g, r)
            } else {
                Editor::ReplaceAllMatches(t, g, r)
            }
        }
        "replace_all_patterns" => {
            let names = [
                "target",
                "mode",
                "regex",
                "replacement",
                "function",
                "replacementFormat",
            ];
            let s = bind(call, &names, 4)?;
            let mode_arg = req(call, &s, 1)?;
            let mode = match lit_str(call, mode_arg, "the mode")?.as_str() {
                "key" => Mode::Key,
                "value" => Mode::Value,
                other => {
                    return Err(error(
                        mode_arg.value.pos.0,
                        format!(
                            "replace_all_patterns: unknown mode {other:?}; expected key or value"
                        ),
                    ));
                }
            };
            Editor::ReplaceAllPatterns(
                target(&s)?,
                mode,
                lit_regex(call, req(call, &s, 2)?)?,
                replacement(c, call, &s, 3)?,
            )
        }
        "merge_maps" => {
            let s = bind(call, &["target", "source", "strategy"], 3)?;
            let strategy_arg = req(call, &s, 2)?;
            let strategy = match lit_str(call, strategy_arg, "the strategy")?.as_str() {
                "insert" => Strategy::Insert,
                "update" => Strategy::Update,
                "upsert" => Strategy::Upsert,
                other => {
                    return Err(error(
                        strategy_arg.value.pos.0,
                        format!(
                            "merge_maps: unknown strategy {other:?}; expected insert, update or upsert"
                        ),
                    ));
                }
            };
            Editor::MergeMaps(target(&s)?, c.getter(req(call, &s, 1)?)?, strategy)
        }
        "flatten" => {
            let s = bind(call, &["target", "prefix", "depth"], 1)?;
            let prefix = match s.get(1).copied().flatten() {
                Some(arg) => Some(lit_str(call, arg, "the prefix")?),
                None => None,
            };
            let depth = match s.get(2).copied().flatten() {
                Some(arg) => Some(non_negative(call, arg, "the depth")?),
                None => None,
            };
            Editor::Flatten(target(&s)?, prefix, depth)
        }
        "append" => {
            let s = bind(call, &["target", "value", "values"], 1)?;
            let mut items = Vec::new();
            if let Some(arg) = s.get(1).copied().flatten() {
                items.push(c.getter(arg)?);
            }
            if let Some(arg) = s.get(2).copied().flatten() {
                items.extend(c.getter_list(call, arg)?);
            }
            if s.get(1).copied().flatten().is_none() && s.get(2).copied().flatten().is_none() {
                return Err(error(
                    call.pos.0,
                    "append: at least one of `value` and `values` is required",
                ));
            }
            Editor::Append(target(&s)?, items)
        }
        "set_semconv_span_name" => {
            only_in(c, call, Context::Span)?;
            let s = bind(
                call,
                &["semconv_version", "original_span_name_attribute"],
                1,
            )?;
            let version_arg = req(call, &s, 0)?;
            let version = lit_str(call, version_arg, "the semantic-convention version")?;
            if !SEMCONV_VERSIONS.contains(&version.as_str()) {
                return Err(error(
                    version_arg.value.pos.0,
                    format!(
                        "set_semconv_span_name: unsupported semantic-convention version {version:?}; supported: {}",
                        SEMCONV_VERSIONS.join(", ")
                    ),
                ));
            }
            let original = match s.get(1).copied().flatten() {
                Some(arg) => {
                    let key = lit_str(call, arg, "the original span name attribute")?;
                    if key.is_empty() {
                        return Err(error(
                            arg.value.pos.0,
                            "set_semconv_span_name: the original span name attribute cannot be empty",
                        ));
                    }
                    Some(key)
                }
                None => None,
            };
            Editor::SetSemconvSpanName(original)
        }
        "convert_gauge_to_sum" => {
            only_in(c, call, Context::Metric)?;
            let s = bind(call, &["aggregation_temporality", "is_monotonic"], 2)?;
            let temporality_arg = req(call, &s, 0)?;
            let temporality = match lit_str(call, temporality_arg, "the temporality")?.as_str() {
                "cumulative" => AggregationTemporality::Cumulative,
                "delta" => AggregationTemporality::Delta,
                other => {
                    return Err(error(
                        temporality_arg.value.pos.0,
                        format!(
                            "convert_gauge_to_sum: unknown temporality {other:?}; expected cumulative or delta"
                        ),
                    ));
                }
            };
            let monotonic = lit_bool(call, req(call, &s, 1)?, "is_monotonic")?;
            Editor::ConvertGaugeToSum(temporality, monotonic)
        }
        "convert_sum_to_gauge" => {
            only_in(c, call, Context::Metric)?;
            bind(call, &[], 0)?;
            Editor::ConvertSumToGauge
        }
        other => {
            return Err(error(
                call.pos.0,
                format!(
                    "unsupported editor `{other}`; supported editors: {}",
                    EDITORS.join(", ")
                ),
            ));
        }
    })
}

/// The text of the replacement, evaluated against the item (must be a string).
fn replacement_text(r: &Replacement, t: &TargetMut<'_>) -> Result<String, EvalError> {
    match r.value.eval(&t.view())? {
        Val::Str(s) => Ok(s.into_owned()),
        other => Err(EvalError(format!(
            "the replacement must be a string, got {}",
            other.type_name()
        ))),
    }
}

fn string_value(kv: &mut KeyValue) -> Option<&mut String> {
    match &mut kv.value {
        Some(AnyValue {
            value: Some(Value::StringValue(s)),
        }) => Some(s),
        _ => None,
    }
}

impl Editor {
    /// Applies the editor to `t`.
    pub(crate) fn apply(&self, t: &mut TargetMut<'_>) -> Result<(), EvalError> {
        match self {
            Editor::Set(path, value) => {
                let v = value.eval(&t.view())?.into_owned();
                if v != Val::Nil {
                    path.set(t, v)?;
                }
            }
            Editor::DeleteKey(path, key) => {
                if let Some(m) = path.map_mut(t)? {
                    m.retain(|kv| kv.key != *key);
                }
            }
            Editor::DeleteMatchingKeys(path, re) => {
                if let Some(m) = path.map_mut(t)? {
                    m.retain(|kv| !re.is_match(&kv.key));
                }
            }
            Editor::KeepKeys(path, keys) => {
                if let Some(m) = path.map_mut(t)? {
                    m.retain(|kv| keys.contains(&kv.key));
                }
            }
            Editor::KeepMatchingKeys(path, re) => {
                if let Some(m) = path.map_mut(t)? {
                    m.retain(|kv| re.is_match(&kv.key));
                }
            }
            Editor::Limit(path, limit, priority) => {
                if let Some(m) = path.map_mut(t)? {
                    maps::limit(m, *limit, priority);
                }
            }
            Editor::TruncateAll(path, limit, marker) => {
                if let Some(m) = path.map_mut(t)? {
                    maps::truncate_all(m, *limit, marker);
                }
            }
            Editor::MergeMaps(path, source, strategy) => {
                let source = match source.eval(&t.view())?.into_owned() {
                    Val::Map(m) => m.into_owned(),
                    Val::Nil => return Ok(()),
                    other => {
                        return Err(EvalError(format!(
                            "merge_maps: the source must be a map, got {}",
                            other.type_name()
                        )));
                    }
                };
                if let Some(m) = path.map_mut(t)? {
                    maps::merge(m, &source, *strategy);
                }
            }
            Editor::Flatten(path, prefix, depth) => {
                if let Some(m) = path.map_mut(t)? {
                    maps::flatten(m, prefix.as_deref(), *depth);
                }
            }
            Editor::ReplacePattern(path, re, r) => {
                let updated = match path.read(&t.view()) {
                    Val::Str(s) => {
                        let text = replacement_text(r, t)?;
                        replace_regex(re, &s, &text, &r.post)
                    }
                    _ => None,
                };
                if let Some(u) = updated {
                    path.set(t, Val::Str(Cow::Owned(u)))?;
                }
            }
            Editor::ReplaceMatch(path, g, r) => {
                let matched = matches!(path.read(&t.view()), Val::Str(s) if g.is_match(&s));
                if matched {
                    let text = replace_whole(&replacement_text(r, t)?, &r.post);
                    path.set(t, Val::Str(Cow::Owned(text)))?;
                }
            }
            Editor::ReplaceAllMatches(path, g, r) => {
                let text = replace_whole(&replacement_text(r, t)?, &r.post);
                if let Some(m) = path.map_mut(t)? {
                    for kv in m.iter_mut() {
                        if let Some(s) = string_value(kv)
                            && g.is_match(s)
                        {
                            s.clone_from(&text);
                        }
                    }
                }
            }
            Editor::ReplaceAllPatterns(path, mode, re, r) => {
                let text = replacement_text(r, t)?;
                if let Some(m) = path.map_mut(t)? {
                    match mode {
                        Mode::Value => {
                            for kv in m.iter_mut() {
                                if let Some(s) = string_value(kv)
                                    && let Some(u) = replace_regex(re, s, &text, &r.post)
                                {
                                    *s = u;
                                }
                            }
                        }
                        Mode::Key => {
                            let mut out: Vec<KeyValue> = Vec::with_capacity(m.len());
                            for mut kv in std::mem::take(m) {
                                if let Some(k) = replace_regex(re, &kv.key, &text, &r.post) {
                                    kv.key = k;
                                }
                                match out.iter_mut().find(|o| o.key == kv.key) {
                                    Some(o) => o.value = kv.value,
                                    None => out.push(kv),
                                }
                            }
                            *m = out;
                        }
                    }
                }
            }
            Editor::Append(path, items) => {
                let mut list = match path.read(&t.view()).into_owned() {
                    Val::Nil => Vec::new(),
                    Val::List(l) => l.into_owned(),
                    scalar => vec![scalar.into_any()],
                };
                for e in items {
                    list.push(e.eval(&t.view())?.into_owned().into_any());
                }
                path.set(t, Val::List(Cow::Owned(list)))?;
            }
            Editor::SetSemconvSpanName(original) => {
                if let ItemMut::Span(span) = &mut t.item {
                    signal_editors::set_semconv_span_name(span, original.as_deref());
                }
            }
            Editor::ConvertGaugeToSum(temporality, monotonic) => {
                if let ItemMut::Metric(metric) = &mut t.item {
                    signal_editors::gauge_to_sum(metric, *temporality, *monotonic);
                }
            }
            Editor::ConvertSumToGauge => {
                if let ItemMut::Metric(metric) = &mut t.item {
                    signal_editors::sum_to_gauge(metric);
                }
            }
        }
        Ok(())
    }
}
