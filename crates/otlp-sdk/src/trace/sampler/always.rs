//! [`AlwaysOn`] and [`AlwaysOff`].

use super::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};

/// Samples every span (`RECORD_AND_SAMPLE`); description `AlwaysOnSampler`.
///
/// The trace state is left unchanged (`trace_state: None`), as `trace/sdk.md` specifies: a
/// parent's `ot` threshold passes through. Under [`ParentBased`](super::ParentBased), which is
/// where a parent is normally seen, that threshold is checked for consistency with the decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlwaysOn;

impl Sampler for AlwaysOn {
    fn should_sample(&self, _params: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult::new(SamplingDecision::RecordAndSample)
    }

    fn description(&self) -> String {
        "AlwaysOnSampler".to_owned()
    }
}

/// Drops every span (`DROP`); description `AlwaysOffSampler`.
///
/// The trace state is left unchanged (`trace_state: None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlwaysOff;

impl Sampler for AlwaysOff {
    fn should_sample(&self, _params: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult::new(SamplingDecision::Drop)
    }

    fn description(&self) -> String {
        "AlwaysOffSampler".to_owned()
    }
}
