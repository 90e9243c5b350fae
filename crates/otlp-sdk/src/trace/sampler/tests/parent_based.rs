use super::super::{
    AlwaysOff, AlwaysOn, ParentBased, Sampler, SamplingDecision, SamplingParameters,
    SamplingResult, TraceIdRatioBased,
};
use super::*;
use crate::value::KeyValue;

/// A delegate that names itself in an attribute.
#[derive(Debug)]
struct Named(&'static str, SamplingDecision);

impl Sampler for Named {
    fn should_sample(&self, _: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult {
            decision: self.1,
            attributes: vec![KeyValue::new("delegate", self.0)],
            trace_state: None,
        }
    }

    fn description(&self) -> String {
        self.0.to_owned()
    }
}

fn named() -> ParentBased {
    ParentBased::new(Named("root", SamplingDecision::RecordOnly))
        .remote_parent_sampled(Named("remote_sampled", SamplingDecision::RecordOnly))
        .remote_parent_not_sampled(Named("remote_not_sampled", SamplingDecision::RecordOnly))
        .local_parent_sampled(Named("local_sampled", SamplingDecision::RecordOnly))
        .local_parent_not_sampled(Named("local_not_sampled", SamplingDecision::RecordOnly))
}

fn delegate_of(sampler: &ParentBased, parent_cx: Option<&SpanContext>) -> String {
    let id = trace_id_with_randomness(42);
    let result = sampler.should_sample(&params(parent_cx, id));
    assert_eq!(result.attributes.len(), 1);
    result.attributes[0].value.as_str().unwrap().to_owned()
}

#[test]
fn delegation_table() {
    let sampler = named();
    let id = trace_id_with_randomness(42);
    let cases = [
        (None, "root"),
        (Some((true, true)), "remote_sampled"),
        (Some((true, false)), "remote_not_sampled"),
        (Some((false, true)), "local_sampled"),
        (Some((false, false)), "local_not_sampled"),
    ];
    for (parent_kind, expected) in cases {
        let cx =
            parent_kind.map(|(remote, sampled)| parent(id, sampled, remote, TraceState::new()));
        assert_eq!(
            delegate_of(&sampler, cx.as_ref()),
            expected,
            "{parent_kind:?}"
        );
    }
}

#[test]
fn default_delegates() {
    // Root delegate AlwaysOff so that a root is told apart from the AlwaysOn defaults.
    let sampler = ParentBased::new(AlwaysOff);
    let id = trace_id_with_randomness(42);
    let decide = |cx: Option<&SpanContext>| sampler.should_sample(&params(cx, id));
    assert_eq!(decide(None), SamplingResult::new(SamplingDecision::Drop));
    let expectations = [
        ((true, true), SamplingDecision::RecordAndSample),
        ((true, false), SamplingDecision::Drop),
        ((false, true), SamplingDecision::RecordAndSample),
        ((false, false), SamplingDecision::Drop),
    ];
    for ((remote, sampled), expected) in expectations {
        let cx = parent(id, sampled, remote, state("congo=t61rcWkgMzE"));
        let result = decide(Some(&cx));
        assert_eq!(
            result,
            SamplingResult::new(expected),
            "remote {remote} sampled {sampled}"
        );
    }
    let on = ParentBased::new(AlwaysOn);
    assert_eq!(
        on.should_sample(&root(id)).decision,
        SamplingDecision::RecordAndSample
    );
}

#[test]
fn descriptions() {
    assert_eq!(
        ParentBased::new(AlwaysOn).description(),
        "ParentBased{root=AlwaysOnSampler,remoteParentSampled=AlwaysOnSampler,\
         remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,\
         localParentNotSampled=AlwaysOffSampler}"
    );
    assert_eq!(
        named().description(),
        "ParentBased{root=root,remoteParentSampled=remote_sampled,\
         remoteParentNotSampled=remote_not_sampled,localParentSampled=local_sampled,\
         localParentNotSampled=local_not_sampled}"
    );
}

#[test]
fn consistent_parent_threshold_is_propagated() {
    let sampler = ParentBased::new(AlwaysOn);
    for remote in [false, true] {
        // Sampled at 50 % upstream, R >= th: consistent, unchanged.
        let id = trace_id_with_randomness(HALF + 7);
        let cx = parent(id, true, remote, state("ot=th:8,a=1"));
        let result = sampler.should_sample(&params(Some(&cx), id));
        assert_eq!(
            result,
            SamplingResult::new(SamplingDecision::RecordAndSample)
        );
        // Not sampled, R < th: consistent too.
        let id = trace_id_with_randomness(HALF - 7);
        let cx = parent(id, false, remote, state("ot=th:8,a=1"));
        let result = sampler.should_sample(&params(Some(&cx), id));
        assert_eq!(result, SamplingResult::new(SamplingDecision::Drop));
    }
}

#[test]
fn inconsistent_parent_threshold_is_erased() {
    let sampler = ParentBased::new(AlwaysOn);
    // Sampled but R < th.
    let id = trace_id_with_randomness(HALF - 1);
    let cx = parent(id, true, true, state("a=1,ot=th:8;rv:NOPE"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=rv:NOPE,a=1");
    // Not sampled but R >= th.
    let id = trace_id_with_randomness(HALF);
    let cx = parent(id, false, false, state("ot=th:8,a=1"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::Drop);
    assert_eq!(result.trace_state.unwrap().to_string(), "a=1");
    // An invalid th is erased.
    let cx = parent(id, true, true, state("ot=th:XYZ;k:v"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=k:v");
    // A delegate that overrides the parent's decision makes the th inconsistent: erased.
    let overriding = ParentBased::new(AlwaysOn).remote_parent_sampled(AlwaysOff);
    let cx = parent(id, true, true, state("ot=th:8"));
    let result = overriding.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::Drop);
    assert_eq!(result.trace_state, Some(TraceState::new()));
}

#[test]
fn rv_decides_consistency() {
    let sampler = ParentBased::new(AlwaysOn);
    // The trace id says R < th, but rv (which takes precedence) says R >= th: consistent.
    let id = trace_id_with_randomness(0);
    let cx = parent(id, true, true, state("ot=th:8;rv:80000000000000"));
    assert_eq!(
        sampler.should_sample(&params(Some(&cx), id)).trace_state,
        None
    );
    // And the other way round.
    let id = trace_id_with_randomness((1 << 56) - 1);
    let cx = parent(id, true, true, state("ot=th:8;rv:7fffffffffffff"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(
        result.trace_state.unwrap().to_string(),
        "ot=rv:7fffffffffffff"
    );
}

#[test]
fn delegate_trace_state_passes_through() {
    // A ratio delegate for sampled remote parents writes its own threshold.
    let sampler = ParentBased::new(AlwaysOn).remote_parent_sampled(TraceIdRatioBased::new(0.25));
    let id = trace_id_with_randomness((1 << 56) - 1);
    let cx = parent(id, true, true, state("ot=th:8,a=1"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=th:c,a=1");
    // A root decided by a ratio sampler gets its th.
    let sampler = ParentBased::new(TraceIdRatioBased::new(0.5));
    let result = sampler.should_sample(&root(id));
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=th:8");
    let result = sampler.should_sample(&root(trace_id_with_randomness(1)));
    assert_eq!(result, SamplingResult::new(SamplingDecision::Drop));
}
