//! The rate-based policies: `rate_limiting` (a token bucket of spans) and `composite`
//! (sub-policies in order, each with its share of a per-second span budget).

use std::collections::{HashMap, HashSet};

use otlp_pipeline::config::ConfigError;
use tokio::time::Instant;

use super::{Decision, EvalError, Evaluator, Level, NamedPolicy, TraceView, build_list};
use crate::tail_sampling::config::{CompositeConfig, RateLimitingConfig};

/// `rate_limiting`: a token bucket of spans refilled at `spans_per_second` and holding twice
/// that (contrib's burst capacity), full at start. A trace is sampled when the bucket holds
/// all its spans, which are then taken; a trace larger than the bucket never is.
#[derive(Debug)]
pub(crate) struct RateLimiting {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiting {
    pub(crate) fn new(config: &RateLimitingConfig, at: &str) -> Result<RateLimiting, ConfigError> {
        if config.spans_per_second <= 0 {
            return Err(ConfigError::bad_value(
                format!("{at}::spans_per_second"),
                "must be greater than zero",
            ));
        }
        let rate = config.spans_per_second as f64;
        Ok(RateLimiting {
            rate,
            capacity: rate * 2.0,
            tokens: rate * 2.0,
            last: None,
        })
    }
}

impl Evaluator for RateLimiting {
    fn evaluate(&mut self, trace: &TraceView<'_>, now: Instant) -> Result<Decision, EvalError> {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        }
        self.last = Some(now);
        let needed = trace.span_count as f64;
        if needed <= self.tokens {
            self.tokens -= needed;
            Ok(Decision::Sampled)
        } else {
            Ok(Decision::NotSampled)
        }
    }
}

/// One sub-policy of a composite and its spans-per-second budget.
#[derive(Debug)]
struct SubPolicy {
    policy: NamedPolicy,
    allocated: u64,
    used: u64,
}

/// `composite`: the sub-policies in `composite_sub_policy` order; the first that samples
/// decides: sampled when its spans still fit its budget for the current second (and the
/// total), not sampled otherwise (its budget is not charged). A sub-policy's budget is its
/// `rate_allocation` percent of `max_total_spans_per_second`; an entry with percent 0 gets an
/// equal share; a sub-policy with no entry gets none (as in contrib) — unless
/// `rate_allocation` is empty, when every sub-policy gets an equal share.
#[derive(Debug)]
pub(crate) struct Composite {
    subs: Vec<SubPolicy>,
    max_total: u64,
    origin: Option<Instant>,
    second: u64,
}

impl Composite {
    pub(crate) fn new(config: &CompositeConfig, at: &str) -> Result<Composite, ConfigError> {
        let max_total = u64::try_from(config.max_total_spans_per_second)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ConfigError::bad_value(
                    format!("{at}::max_total_spans_per_second"),
                    "must be greater than zero",
                )
            })?;
        if config.composite_sub_policy.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::composite_sub_policy"),
                "at least one sub-policy is required",
            ));
        }
        let policies = build_list(
            &config.composite_sub_policy,
            &format!("{at}::composite_sub_policy"),
            Level::Composite,
        )?;
        let names: HashSet<&str> = policies.iter().map(|p| p.name.as_str()).collect();
        for (i, name) in config.policy_order.iter().enumerate() {
            if !names.contains(name.as_str()) {
                return Err(ConfigError::bad_value(
                    format!("{at}::policy_order[{i}]"),
                    format!("no sub-policy is named {name:?}"),
                ));
            }
        }
        let equal = max_total / policies.len() as u64;
        let mut allocation = HashMap::new();
        let mut percent_total = 0i64;
        for (i, rate) in config.rate_allocation.iter().enumerate() {
            if !names.contains(rate.policy.as_str()) {
                return Err(ConfigError::bad_value(
                    format!("{at}::rate_allocation[{i}]::policy"),
                    format!("no sub-policy is named {:?}", rate.policy),
                ));
            }
            if !(0..=100).contains(&rate.percent) {
                return Err(ConfigError::bad_value(
                    format!("{at}::rate_allocation[{i}]::percent"),
                    "must be between 0 and 100",
                ));
            }
            percent_total += rate.percent;
            let share = if rate.percent > 0 {
                (rate.percent as u64).saturating_mul(max_total) / 100
            } else {
                equal
            };
            allocation.insert(rate.policy.as_str(), share);
        }
        if percent_total > 100 {
            return Err(ConfigError::bad_value(
                format!("{at}::rate_allocation"),
                "the percentages add up to more than 100",
            ));
        }
        let all_equal = config.rate_allocation.is_empty();
        let subs = policies
            .into_iter()
            .map(|policy| {
                let allocated = if all_equal {
                    equal
                } else {
                    allocation.get(policy.name.as_str()).copied().unwrap_or(0)
                };
                SubPolicy {
                    policy,
                    allocated,
                    used: 0,
                }
            })
            .collect();
        Ok(Composite {
            subs,
            max_total,
            origin: None,
            second: 0,
        })
    }
}

impl Evaluator for Composite {
    fn evaluate(&mut self, trace: &TraceView<'_>, now: Instant) -> Result<Decision, EvalError> {
        let origin = *self.origin.get_or_insert(now);
        let second = now.saturating_duration_since(origin).as_secs();
        if second != self.second {
            self.second = second;
            for sub in &mut self.subs {
                sub.used = 0;
            }
        }
        for sub in &mut self.subs {
            let decision = sub.policy.evaluator.evaluate(trace, now)?;
            if decision.is_sampled() {
                let if_sampled = sub.used.saturating_add(trace.span_count);
                if if_sampled <= sub.allocated && if_sampled <= self.max_total {
                    sub.used = if_sampled;
                    return Ok(Decision::Sampled);
                }
                return Ok(Decision::NotSampled);
            }
        }
        Ok(Decision::NotSampled)
    }
}
