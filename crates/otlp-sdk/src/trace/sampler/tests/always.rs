use std::sync::Arc;

use super::super::{AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingResult};
use super::*;

#[test]
fn always_on_samples_and_keeps_trace_state() {
    let state = state("ot=th:8;rv:00000000000000,congo=t61rcWkgMzE");
    for (remote, sampled) in [(false, false), (true, true), (true, false)] {
        let cx = parent(trace_id_with_randomness(0), sampled, remote, state.clone());
        let result = AlwaysOn.should_sample(&params(Some(&cx), cx.trace_id()));
        assert_eq!(
            result,
            SamplingResult::new(SamplingDecision::RecordAndSample)
        );
    }
    let result = AlwaysOn.should_sample(&root(trace_id_with_randomness(7)));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert!(result.attributes.is_empty());
    assert_eq!(result.trace_state, None);
}

#[test]
fn always_off_drops_and_keeps_trace_state() {
    let cx = parent(
        trace_id_with_randomness(u64::MAX),
        true,
        true,
        state("ot=th:0"),
    );
    let result = AlwaysOff.should_sample(&params(Some(&cx), cx.trace_id()));
    assert_eq!(result, SamplingResult::new(SamplingDecision::Drop));
    assert_eq!(
        AlwaysOff
            .should_sample(&root(trace_id_with_randomness(u64::MAX)))
            .decision,
        SamplingDecision::Drop
    );
}

#[test]
fn descriptions() {
    assert_eq!(AlwaysOn.description(), "AlwaysOnSampler");
    assert_eq!(AlwaysOff.description(), "AlwaysOffSampler");
}

#[test]
fn arc_and_box_delegate() {
    let arc: Arc<dyn Sampler> = Arc::new(AlwaysOff);
    let boxed: Box<dyn Sampler> = Box::new(AlwaysOn);
    let id = trace_id_with_randomness(1);
    assert_eq!(
        arc.should_sample(&root(id)).decision,
        SamplingDecision::Drop
    );
    assert_eq!(arc.description(), "AlwaysOffSampler");
    assert_eq!(
        boxed.should_sample(&root(id)).decision,
        SamplingDecision::RecordAndSample
    );
    assert_eq!(boxed.description(), "AlwaysOnSampler");
    // Nested: an Arc of a Box of a sampler is a sampler.
    let nested = Arc::new(boxed);
    assert_eq!(nested.description(), "AlwaysOnSampler");
}

#[test]
fn decision_helpers() {
    assert!(!SamplingDecision::Drop.is_recording());
    assert!(SamplingDecision::RecordOnly.is_recording());
    assert!(!SamplingDecision::RecordOnly.is_sampled());
    assert!(SamplingDecision::RecordAndSample.is_recording());
    assert!(SamplingDecision::RecordAndSample.is_sampled());
}
