//! The attribute policies: `numeric_attribute`, `string_attribute`, `boolean_attribute`.
//! Each looks the key up on every resource, then on the spans under it, as contrib does.
//!
//! With `invert_match` a policy answers contrib's deprecated inverted decisions:
//! `InvertNotSampled` as soon as a resource or a span matches, `InvertSampled` when none
//! does (a trace without the attribute is therefore kept).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use otlp_pipeline::config::ConfigError;
use otlp_proto::common::v1::{KeyValue, any_value::Value};
use regex::Regex;
use tokio::time::Instant;

use super::{Decision, EvalError, Evaluator, TraceView, attribute, require_key};
use crate::tail_sampling::config::{
    BooleanAttributeConfig, NumericAttributeConfig, StringAttributeConfig,
};
use crate::tail_sampling::group::ResourceHead;

/// The decision of an attribute policy whose test on an attribute list is `matches`: the
/// same test applies to resources and spans, as in contrib.
fn decide(
    trace: &TraceView<'_>,
    invert: bool,
    mut matches: impl FnMut(&[KeyValue]) -> bool,
) -> Decision {
    // A resource is tested once per run of spans under it (the tests have no side effects
    // but the regex memo, so testing it again could not change the answer).
    let mut tested: Option<&Arc<ResourceHead>> = None;
    let found = trace.spans.iter().any(|t| {
        let resource = &t.scope.resource;
        if !tested.is_some_and(|r| Arc::ptr_eq(r, resource)) {
            tested = Some(resource);
            if matches(
                resource
                    .resource
                    .as_ref()
                    .map_or(&[][..], |r| r.attributes.as_slice()),
            ) {
                return true;
            }
        }
        matches(&t.span.attributes)
    });
    match (invert, found) {
        (false, true) => Decision::Sampled,
        (false, false) => Decision::NotSampled,
        (true, true) => Decision::InvertNotSampled,
        (true, false) => Decision::InvertSampled,
    }
}

/// `numeric_attribute`: an integer attribute in `[min_value, max_value]`.
#[derive(Debug)]
pub(crate) struct NumericAttribute {
    key: String,
    min: i64,
    max: i64,
    invert: bool,
}

impl NumericAttribute {
    pub(crate) fn new(
        config: &NumericAttributeConfig,
        at: &str,
    ) -> Result<NumericAttribute, ConfigError> {
        require_key(&config.key, at)?;
        if config.min_value.is_none() && config.max_value.is_none() {
            return Err(ConfigError::bad_value(
                format!("{at}::min_value"),
                "set min_value, max_value or both",
            ));
        }
        let min = config.min_value.unwrap_or(i64::MIN);
        let max = config.max_value.unwrap_or(i64::MAX);
        if min > max {
            return Err(ConfigError::bad_value(
                format!("{at}::max_value"),
                "must be at least min_value",
            ));
        }
        Ok(NumericAttribute {
            key: config.key.clone(),
            min,
            max,
            invert: config.invert_match,
        })
    }
}

impl Evaluator for NumericAttribute {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(decide(
            trace,
            self.invert,
            |attributes| matches!(attribute(attributes, &self.key), Some(Value::IntValue(v)) if (self.min..=self.max).contains(v)),
        ))
    }
}

/// `cache_max_size`'s default.
const DEFAULT_REGEX_CACHE: usize = 128;
/// Longer values are matched without being memoized (the memo's memory stays bounded).
const MAX_MEMO_VALUE_LEN: usize = 256;

/// How a string policy matches.
#[derive(Debug)]
enum Matcher {
    Exact(HashSet<String>),
    Regex {
        patterns: Vec<Regex>,
        /// Results by value, at most `capacity` entries (cleared when full).
        memo: HashMap<String, bool>,
        capacity: usize,
    },
}

impl Matcher {
    fn matches(&mut self, value: &str) -> bool {
        match self {
            Matcher::Exact(values) => values.contains(value),
            Matcher::Regex {
                patterns,
                memo,
                capacity,
            } => {
                if let Some(hit) = memo.get(value) {
                    return *hit;
                }
                let result = patterns.iter().any(|p| p.is_match(value));
                if value.len() <= MAX_MEMO_VALUE_LEN {
                    if memo.len() >= *capacity {
                        memo.clear();
                    }
                    memo.insert(value.to_owned(), result);
                }
                result
            }
        }
    }
}

/// `string_attribute`: a string attribute equal to one of `values` (or matching one of them
/// as an unanchored regular expression).
#[derive(Debug)]
pub(crate) struct StringAttribute {
    key: String,
    matcher: Matcher,
    invert: bool,
}

impl StringAttribute {
    pub(crate) fn new(
        config: &StringAttributeConfig,
        at: &str,
    ) -> Result<StringAttribute, ConfigError> {
        require_key(&config.key, at)?;
        if config.values.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::values"),
                "at least one value is required",
            ));
        }
        let matcher = if config.enabled_regex_matching {
            let patterns = config
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Regex::new(v).map_err(|e| {
                        ConfigError::bad_value(
                            format!("{at}::values[{i}]"),
                            format!("invalid regular expression: {e}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            let capacity = match usize::try_from(config.cache_max_size) {
                Ok(0) => DEFAULT_REGEX_CACHE,
                Ok(n) => n,
                Err(_) => usize::MAX,
            };
            Matcher::Regex {
                patterns,
                memo: HashMap::new(),
                capacity,
            }
        } else {
            Matcher::Exact(
                config
                    .values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .collect(),
            )
        };
        Ok(StringAttribute {
            key: config.key.clone(),
            matcher,
            invert: config.invert_match,
        })
    }
}

impl Evaluator for StringAttribute {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        let key = &self.key;
        let matcher = &mut self.matcher;
        Ok(decide(
            trace,
            self.invert,
            |attributes| matches!(attribute(attributes, key), Some(Value::StringValue(v)) if !v.is_empty() && matcher.matches(v)),
        ))
    }
}

/// `boolean_attribute`: a boolean attribute equal to `value`.
#[derive(Debug)]
pub(crate) struct BooleanAttribute {
    key: String,
    value: bool,
    invert: bool,
}

impl BooleanAttribute {
    pub(crate) fn new(
        config: &BooleanAttributeConfig,
        at: &str,
    ) -> Result<BooleanAttribute, ConfigError> {
        require_key(&config.key, at)?;
        Ok(BooleanAttribute {
            key: config.key.clone(),
            value: config.value,
            invert: config.invert_match,
        })
    }
}

impl Evaluator for BooleanAttribute {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        Ok(decide(
            trace,
            self.invert,
            |attributes| matches!(attribute(attributes, &self.key), Some(Value::BoolValue(v)) if *v == self.value),
        ))
    }
}
