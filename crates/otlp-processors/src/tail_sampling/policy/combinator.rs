//! The combining policies: `and` (every sub-policy samples) and `drop` (every sub-policy
//! samples, so the trace is dropped). Inverted sub-decisions count as plain ones here, as in
//! contrib: `InvertSampled` as sampled, `InvertNotSampled` as not sampled.

use otlp_pipeline::config::ConfigError;
use tokio::time::Instant;

use super::{Decision, EvalError, Evaluator, Level, NamedPolicy, TraceView, build_list};
use crate::tail_sampling::config::{AndConfig, DropConfig};

/// Compiles a non-empty list of leaf sub-policies at `at::field`.
fn subs(
    configs: &[crate::tail_sampling::config::PolicyConfig],
    at: &str,
    field: &str,
) -> Result<Vec<NamedPolicy>, ConfigError> {
    let path = format!("{at}::{field}");
    if configs.is_empty() {
        return Err(ConfigError::bad_value(
            path,
            "at least one sub-policy is required",
        ));
    }
    build_list(configs, &path, Level::Leaf)
}

/// `true` when every sub-policy samples (stops at the first that does not).
fn all_sample(
    subs: &mut [NamedPolicy],
    trace: &TraceView<'_>,
    now: Instant,
) -> Result<bool, EvalError> {
    for sub in subs {
        if !sub.evaluator.evaluate(trace, now)?.is_sampled() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `and`: `Sampled` when every sub-policy samples, `NotSampled` otherwise.
#[derive(Debug)]
pub(crate) struct And {
    subs: Vec<NamedPolicy>,
}

impl And {
    pub(crate) fn new(config: &AndConfig, at: &str) -> Result<And, ConfigError> {
        Ok(And {
            subs: subs(&config.and_sub_policy, at, "and_sub_policy")?,
        })
    }
}

impl Evaluator for And {
    fn evaluate(&mut self, trace: &TraceView<'_>, now: Instant) -> Result<Decision, EvalError> {
        Ok(if all_sample(&mut self.subs, trace, now)? {
            Decision::Sampled
        } else {
            Decision::NotSampled
        })
    }
}

/// `drop`: `Dropped` when every sub-policy samples, `NotSampled` otherwise.
#[derive(Debug)]
pub(crate) struct DropPolicy {
    subs: Vec<NamedPolicy>,
}

impl DropPolicy {
    pub(crate) fn new(config: &DropConfig, at: &str) -> Result<DropPolicy, ConfigError> {
        Ok(DropPolicy {
            subs: subs(&config.drop_sub_policy, at, "drop_sub_policy")?,
        })
    }
}

impl Evaluator for DropPolicy {
    fn evaluate(&mut self, trace: &TraceView<'_>, now: Instant) -> Result<Decision, EvalError> {
        Ok(if all_sample(&mut self.subs, trace, now)? {
            Decision::Dropped
        } else {
            Decision::NotSampled
        })
    }
}
