//! [`ParentBased`]: follow the parent's sampled flag, through five delegates.

use super::ot_state;
use super::threshold::{Randomness, Threshold};
use super::{AlwaysOff, AlwaysOn, Sampler, SamplingParameters, SamplingResult};

/// The specification's `ParentBased` decorator: picks a delegate by the parent.
///
/// | parent  | `is_remote()` | `is_sampled()` | delegate                                   |
/// |---------|---------------|----------------|--------------------------------------------|
/// | absent  |               |                | `root`                                     |
/// | present | true          | true           | `remote_parent_sampled` (default AlwaysOn)  |
/// | present | true          | false          | `remote_parent_not_sampled` (AlwaysOff)    |
/// | present | false         | true           | `local_parent_sampled` (AlwaysOn)          |
/// | present | false         | false          | `local_parent_not_sampled` (AlwaysOff)     |
///
/// The delegate's result is returned as is, with one exception for the parent's `ot` threshold
/// (`trace/tracestate-probability-sampling.md`, "Tracestate handling requirements"): when the
/// delegate leaves the trace state unchanged, the parent's `th` is propagated only if it is
/// consistent with the decision, that is `R >= th` exactly when the span is sampled (`R` from
/// [`Randomness::of`]); otherwise, or when the `th` is not a valid threshold, it is erased
/// (`trace_state: Some(parent's state without th)`). A delegate that sets the trace state
/// itself (such as [`TraceIdRatioBased`](super::TraceIdRatioBased)) is trusted with it.
///
/// ```
/// use otlp_sdk::trace::sampler::{AlwaysOff, ParentBased, Sampler, TraceIdRatioBased};
///
/// let sampler = ParentBased::new(TraceIdRatioBased::new(0.5)).local_parent_sampled(AlwaysOff);
/// assert_eq!(
///     sampler.description(),
///     "ParentBased{root=TraceIdRatioBased{0.5},remoteParentSampled=AlwaysOnSampler,\
///      remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOffSampler,\
///      localParentNotSampled=AlwaysOffSampler}"
/// );
/// ```
#[derive(Debug)]
pub struct ParentBased {
    root: Box<dyn Sampler>,
    remote_parent_sampled: Box<dyn Sampler>,
    remote_parent_not_sampled: Box<dyn Sampler>,
    local_parent_sampled: Box<dyn Sampler>,
    local_parent_not_sampled: Box<dyn Sampler>,
}

impl ParentBased {
    /// A parent-based sampler with `root` for root spans and the specification's defaults for
    /// the others: [`AlwaysOn`] for sampled parents, [`AlwaysOff`] for parents not sampled.
    #[must_use]
    pub fn new(root: impl Sampler) -> Self {
        Self {
            root: Box::new(root),
            remote_parent_sampled: Box::new(AlwaysOn),
            remote_parent_not_sampled: Box::new(AlwaysOff),
            local_parent_sampled: Box::new(AlwaysOn),
            local_parent_not_sampled: Box::new(AlwaysOff),
        }
    }

    /// Sets the delegate for a remote parent with the sampled flag set.
    #[must_use]
    pub fn remote_parent_sampled(mut self, sampler: impl Sampler) -> Self {
        self.remote_parent_sampled = Box::new(sampler);
        self
    }

    /// Sets the delegate for a remote parent without the sampled flag.
    #[must_use]
    pub fn remote_parent_not_sampled(mut self, sampler: impl Sampler) -> Self {
        self.remote_parent_not_sampled = Box::new(sampler);
        self
    }

    /// Sets the delegate for a local parent with the sampled flag set.
    #[must_use]
    pub fn local_parent_sampled(mut self, sampler: impl Sampler) -> Self {
        self.local_parent_sampled = Box::new(sampler);
        self
    }

    /// Sets the delegate for a local parent without the sampled flag.
    #[must_use]
    pub fn local_parent_not_sampled(mut self, sampler: impl Sampler) -> Self {
        self.local_parent_not_sampled = Box::new(sampler);
        self
    }

    /// The delegate the table picks for `params`.
    fn delegate(&self, params: &SamplingParameters<'_>) -> &dyn Sampler {
        match params.parent {
            None => &*self.root,
            Some(parent) => match (parent.is_remote(), parent.is_sampled()) {
                (true, true) => &*self.remote_parent_sampled,
                (true, false) => &*self.remote_parent_not_sampled,
                (false, true) => &*self.local_parent_sampled,
                (false, false) => &*self.local_parent_not_sampled,
            },
        }
    }
}

impl Sampler for ParentBased {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        let mut result = self.delegate(params).should_sample(params);
        if let Some(parent) = params.parent
            && result.trace_state.is_none()
        {
            let state = parent.trace_state();
            if ot_state::has_threshold(state) {
                let consistent = Threshold::from_trace_state(state).is_some_and(|th| {
                    th.should_sample(Randomness::of(params.trace_id, state))
                        == result.decision.is_sampled()
                });
                if !consistent {
                    result.trace_state = Some(ot_state::with_threshold(state, None));
                }
            }
        }
        result
    }

    fn description(&self) -> String {
        format!(
            "ParentBased{{root={},remoteParentSampled={},remoteParentNotSampled={},\
             localParentSampled={},localParentNotSampled={}}}",
            self.root.description(),
            self.remote_parent_sampled.description(),
            self.remote_parent_not_sampled.description(),
            self.local_parent_sampled.description(),
            self.local_parent_not_sampled.description(),
        )
    }
}
