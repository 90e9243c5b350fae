//! [`TraceIdRatioBased`]: consistent probability sampling of a fixed ratio.

use std::sync::atomic::{AtomicBool, Ordering};

use super::ot_state;
use super::threshold::{Randomness, Threshold};
use super::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};

/// Whether the compatibility warning (non-root span, no `rv`, `random` flag not set) has been
/// logged; the specification asks for it the first time only.
static WARNED_NOT_RANDOM: AtomicBool = AtomicBool::new(false);

/// Samples a fixed ratio of traces, consistently across services (OpenTelemetry
/// `trace/sdk.md`, "TraceIdRatioBased", and OTEP 235).
///
/// The ratio gives a rejection threshold `T` ([`Threshold::from_ratio`]: 4 significant hex
/// digits). For each span the randomness `R` is the `rv` sub-key of the parent's `ot` trace
/// state member when there is a valid one, else the last 7 bytes of the trace id
/// ([`Randomness::of`]). The span is `RECORD_AND_SAMPLE` when `R >= T`, else `DROP`; the
/// parent's sampled flag is ignored (wrap in [`ParentBased`](super::ParentBased) to follow it).
///
/// Trace state: a sampled span gets `Some(state)` with `th:<T>` in the `ot` member (other `ot`
/// sub-keys, `rv` included, and other members kept), or `None` when the parent's `th` already
/// says exactly that. A dropped span gets no `th`: `Some(state)` with the parent's `th` erased
/// when it had one, else `None`.
///
/// For a non-root span decided on trace id randomness whose `random` flag is not set, a
/// compatibility warning is logged once (the trace id may come from an SDK that predates W3C
/// Trace Context Level 2); the trace id is still presumed random, as the specification says.
///
/// ```
/// use otlp_sdk::trace::sampler::{Sampler, TraceIdRatioBased};
///
/// let sampler = TraceIdRatioBased::new(0.25);
/// assert_eq!(sampler.description(), "TraceIdRatioBased{0.25}");
/// assert_eq!(sampler.threshold().to_th().as_deref(), Some("c"));
/// assert_eq!(TraceIdRatioBased::new(f64::NAN).ratio(), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceIdRatioBased {
    ratio: f64,
    threshold: Threshold,
}

impl TraceIdRatioBased {
    /// A sampler of `ratio`, clamped to `[0, 1]` (NaN is 0). Ratio 0 samples nothing and ratio
    /// 1 samples everything (`th:0`).
    #[must_use]
    pub fn new(ratio: f64) -> Self {
        // -0.0 and NaN become 0 as well (so the description never says `-0` or `NaN`).
        let ratio = if ratio.is_nan() || ratio <= 0.0 {
            0.0
        } else {
            ratio.min(1.0)
        };
        Self {
            ratio,
            threshold: Threshold::from_ratio(ratio),
        }
    }

    /// The configured ratio, after clamping.
    #[must_use]
    pub const fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The rejection threshold the decisions use (and sampled spans record as `th`).
    #[must_use]
    pub const fn threshold(&self) -> Threshold {
        self.threshold
    }
}

impl Sampler for TraceIdRatioBased {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        let state = params.parent_trace_state();
        let randomness = match Randomness::from_trace_state(state) {
            Some(rv) => rv,
            None => {
                if params.parent.is_some() && !params.random_trace_id {
                    warn_not_random();
                }
                Randomness::from_trace_id(params.trace_id)
            }
        };

        if self.threshold.should_sample(randomness) {
            let th = self.threshold.to_th();
            let unchanged = th.is_some()
                && ot_state::sub_value(state, ot_state::THRESHOLD_KEY) == th.as_deref();
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: (!unchanged)
                    .then(|| ot_state::with_threshold(state, Some(self.threshold))),
            }
        } else {
            SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: ot_state::has_threshold(state)
                    .then(|| ot_state::with_threshold(state, None)),
            }
        }
    }

    fn description(&self) -> String {
        format!("TraceIdRatioBased{{{}}}", self.ratio)
    }
}

fn warn_not_random() {
    if !WARNED_NOT_RANDOM.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "otlp_sdk",
            "The TraceIdRatioBased sampler is presuming TraceIDs are random and expects the \
             Trace random flag to be set in confirmation. Please upgrade your caller(s) to use \
             W3C Trace Context Level 2."
        );
    }
}
