//! The final decision for a trace from its policies' decisions, with contrib's precedence:
//!
//! 1. a `drop` policy matched (`Dropped`): not sampled;
//! 2. an inverted policy refused (`InvertNotSampled`): not sampled;
//! 3. a policy sampled (`Sampled`): sampled;
//! 4. an inverted policy kept it (`InvertSampled`) and no policy said `NotSampled`: sampled;
//! 5. otherwise: not sampled.
//!
//! A policy that fails to evaluate casts no vote (and is counted). With
//! `sample_on_first_match`, evaluation stops at the first `Sampled`.

use tokio::time::Instant;

use super::metrics::TailMetrics;
use super::policy::{Decision, NamedPolicy, TraceView};

/// The outcome for a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Final {
    /// Forwarded.
    Sampled,
    /// Not forwarded: no policy kept it.
    NotSampled,
    /// Not forwarded: a `drop` policy matched.
    Dropped,
}

impl Final {
    /// `true` for [`Final::Sampled`].
    pub(crate) fn is_sampled(self) -> bool {
        self == Final::Sampled
    }
}

/// Which decisions the policies cast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Votes {
    sampled: bool,
    not_sampled: bool,
    invert_sampled: bool,
    invert_not_sampled: bool,
    dropped: bool,
}

impl Votes {
    /// Adds one policy's decision.
    pub(crate) fn add(&mut self, decision: Decision) {
        match decision {
            Decision::Sampled => self.sampled = true,
            Decision::NotSampled => self.not_sampled = true,
            Decision::InvertSampled => self.invert_sampled = true,
            Decision::InvertNotSampled => self.invert_not_sampled = true,
            Decision::Dropped => self.dropped = true,
        }
    }

    /// The final decision, by the precedence of the module documentation.
    pub(crate) fn decide(self) -> Final {
        if self.dropped {
            Final::Dropped
        } else if self.invert_not_sampled {
            Final::NotSampled
        } else if self.sampled || (self.invert_sampled && !self.not_sampled) {
            Final::Sampled
        } else {
            Final::NotSampled
        }
    }
}

/// Evaluates every policy for `trace` and combines their decisions, counting each policy's
/// decision and its latency.
pub(crate) fn evaluate(
    policies: &mut [NamedPolicy],
    trace: &TraceView<'_>,
    now: Instant,
    first_match: bool,
    metrics: &TailMetrics,
) -> Final {
    let mut votes = Votes::default();
    for (i, policy) in policies.iter_mut().enumerate() {
        let started = std::time::Instant::now();
        let result = policy.evaluator.evaluate(trace, now);
        metrics
            .decision_latency
            .observe(started.elapsed().as_micros() as f64);
        match result {
            Ok(decision) => {
                metrics.count_policy(i, decision);
                votes.add(decision);
                if first_match && decision == Decision::Sampled {
                    break;
                }
            }
            Err(error) => {
                metrics.count_policy_error(i);
                tracing::debug!(policy = %policy.name, %error, "tail_sampling: policy evaluation failed");
            }
        }
    }
    votes.decide()
}
