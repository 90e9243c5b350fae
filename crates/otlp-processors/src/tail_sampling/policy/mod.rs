//! The sampling policies: what each one decides for a trace ([`Decision`]), the trace as they
//! see it ([`TraceView`]), and [`build_all`], which checks and compiles `policies:` into
//! evaluators, naming the offending key (`policies[2]::string_attribute::key`) when it cannot.
//!
//! One file per family: `basic.rs` (always_sample, latency, span_count, status_code,
//! trace_state, probabilistic), `attribute.rs` (numeric, string, boolean attributes),
//! `rate.rs` (rate_limiting, composite), `combinator.rs` (and, drop), `ottl.rs`
//! (ottl_condition).
//!
//! Nesting follows contrib: `and` and `drop` take leaf policies, `composite` takes leaf
//! policies and `and`; the top level takes everything.

mod attribute;
mod basic;
mod combinator;
mod ottl;
mod rate;

use std::collections::HashSet;

use otlp_pipeline::config::ConfigError;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::Span;
use tokio::time::Instant;

use super::config::PolicyConfig;
use super::group::TaggedSpan;
use super::store::TraceId;

/// What one policy says about a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Keep it.
    Sampled,
    /// This policy does not keep it.
    NotSampled,
    /// Kept by an `invert_match` policy (deprecated in contrib): keeps it unless another
    /// policy said `NotSampled`.
    InvertSampled,
    /// Refused by an `invert_match` policy (deprecated in contrib): drops it.
    InvertNotSampled,
    /// A `drop` policy matched: drops it whatever the others say.
    Dropped,
}

impl Decision {
    /// `true` for the decisions that vote to keep the trace.
    pub(crate) fn is_sampled(self) -> bool {
        matches!(self, Decision::Sampled | Decision::InvertSampled)
    }
}

/// A policy that could not evaluate a trace (an OTTL condition with `error_mode: propagate`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct EvalError(pub(crate) String);

/// A trace waiting for its decision: its spans as received, each with its resource and scope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceView<'a> {
    /// The trace id.
    pub(crate) id: &'a TraceId,
    /// The spans, with their resources and scopes, in arrival order.
    pub(crate) spans: &'a [TaggedSpan],
    /// How many spans.
    pub(crate) span_count: u64,
}

impl<'a> TraceView<'a> {
    /// Every span with its resource and scope.
    pub(crate) fn spans(
        &self,
    ) -> impl Iterator<
        Item = (
            Option<&'a Resource>,
            Option<&'a InstrumentationScope>,
            &'a Span,
        ),
    > + 'a {
        self.spans
            .iter()
            .map(|t| (t.resource(), t.scope.scope.as_ref(), &t.span))
    }

    /// `true` when `span` holds for some span.
    pub(crate) fn any_span(&self, mut f: impl FnMut(&Span) -> bool) -> bool {
        self.spans.iter().any(|t| f(&t.span))
    }
}

/// The value of attribute `key`, if set.
pub(crate) fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

/// One compiled policy.
pub(crate) trait Evaluator: Send {
    /// The decision for `trace`, at `now` (rate-based policies read the clock).
    fn evaluate(&mut self, trace: &TraceView<'_>, now: Instant) -> Result<Decision, EvalError>;
}

/// A compiled top-level policy and its name.
pub(crate) struct NamedPolicy {
    /// `name:`.
    pub(crate) name: String,
    /// The evaluator.
    pub(crate) evaluator: Box<dyn Evaluator>,
}

impl std::fmt::Debug for NamedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedPolicy")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Where a policy sits, which decides the types it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// `policies:`: every type.
    Top,
    /// `composite_sub_policy:`: leaves and `and`.
    Composite,
    /// `and_sub_policy:` / `drop_sub_policy:`: leaves only.
    Leaf,
}

/// The leaf policy types.
const LEAF_TYPES: [&str; 11] = [
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "span_count",
    "trace_state",
    "boolean_attribute",
    "ottl_condition",
];

/// Every policy type, for the error naming an unknown one.
pub(crate) const KNOWN_TYPES: [&str; 14] = [
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "span_count",
    "trace_state",
    "boolean_attribute",
    "ottl_condition",
    "and",
    "composite",
    "drop",
];

/// Checks and compiles `policies:`.
pub(crate) fn build_all(configs: &[PolicyConfig]) -> Result<Vec<NamedPolicy>, ConfigError> {
    if configs.is_empty() {
        return Err(ConfigError::bad_value(
            "policies",
            "at least one policy is required",
        ));
    }
    build_list(configs, "policies", Level::Top)
}

/// Checks and compiles a list of policies at `path` (unique, non-empty names).
pub(crate) fn build_list(
    configs: &[PolicyConfig],
    path: &str,
    level: Level,
) -> Result<Vec<NamedPolicy>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(configs.len());
    for (i, config) in configs.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if config.name.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::name"),
                "a policy needs a name",
            ));
        }
        if !names.insert(config.name.as_str()) {
            return Err(ConfigError::bad_value(
                format!("{at}::name"),
                format!("duplicate policy name {:?}", config.name),
            ));
        }
        out.push(NamedPolicy {
            name: config.name.clone(),
            evaluator: build(config, &at, level)?,
        });
    }
    Ok(out)
}

/// The section of `type` when present, its default otherwise.
fn section<T: Clone + Default>(value: &Option<T>) -> T {
    value.clone().unwrap_or_default()
}

/// Compiles one policy at `path`.
fn build(
    config: &PolicyConfig,
    path: &str,
    level: Level,
) -> Result<Box<dyn Evaluator>, ConfigError> {
    let kind = config.kind.as_str();
    let allowed = match level {
        Level::Top => KNOWN_TYPES.contains(&kind),
        Level::Composite => LEAF_TYPES.contains(&kind) || kind == "and",
        Level::Leaf => LEAF_TYPES.contains(&kind),
    };
    if !allowed {
        let message = if KNOWN_TYPES.contains(&kind) {
            format!("policy type {kind:?} cannot be nested here")
        } else {
            format!(
                "unknown policy type {kind:?}; known types: {}",
                KNOWN_TYPES.join(", ")
            )
        };
        return Err(ConfigError::bad_value(format!("{path}::type"), message));
    }
    let at = format!("{path}::{kind}");
    Ok(match kind {
        "always_sample" => Box::new(basic::AlwaysSample),
        "latency" => Box::new(basic::Latency::new(&section(&config.latency), &at)?),
        "span_count" => Box::new(basic::SpanCount::new(&section(&config.span_count), &at)?),
        "status_code" => Box::new(basic::StatusCodes::new(&section(&config.status_code), &at)?),
        "trace_state" => Box::new(basic::TraceState::new(&section(&config.trace_state), &at)?),
        "probabilistic" => Box::new(basic::Probabilistic::new(
            &section(&config.probabilistic),
            &at,
        )?),
        "numeric_attribute" => Box::new(attribute::NumericAttribute::new(
            &section(&config.numeric_attribute),
            &at,
        )?),
        "string_attribute" => Box::new(attribute::StringAttribute::new(
            &section(&config.string_attribute),
            &at,
        )?),
        "boolean_attribute" => Box::new(attribute::BooleanAttribute::new(
            &section(&config.boolean_attribute),
            &at,
        )?),
        "rate_limiting" => Box::new(rate::RateLimiting::new(
            &section(&config.rate_limiting),
            &at,
        )?),
        "ottl_condition" => Box::new(ottl::OttlCondition::new(
            &section(&config.ottl_condition),
            &at,
        )?),
        "and" => Box::new(combinator::And::new(&section(&config.and), &at)?),
        "drop" => Box::new(combinator::DropPolicy::new(&section(&config.drop), &at)?),
        "composite" => Box::new(rate::Composite::new(&section(&config.composite), &at)?),
        other => {
            return Err(ConfigError::bad_value(
                format!("{path}::type"),
                format!("unknown policy type {other:?}"),
            ));
        }
    })
}

/// A key that must not be empty.
pub(crate) fn require_key(key: &str, at: &str) -> Result<(), ConfigError> {
    if key.is_empty() {
        return Err(ConfigError::bad_value(
            format!("{at}::key"),
            "must not be empty",
        ));
    }
    Ok(())
}
