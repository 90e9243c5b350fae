use super::super::{Sampler, SamplingDecision, TraceIdRatioBased};
use super::*;

const RV_ZERO: &str = "00000000000000";
const RV_MAX: &str = "ffffffffffffff";

fn sampled(sampler: &TraceIdRatioBased, low56: u64) -> bool {
    let result = sampler.should_sample(&root(trace_id_with_randomness(low56)));
    result.decision == SamplingDecision::RecordAndSample
}

/// The trace state a sampled root span gets.
fn root_state(ratio: f64, low56: u64) -> String {
    let result =
        TraceIdRatioBased::new(ratio).should_sample(&root(trace_id_with_randomness(low56)));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    result.trace_state.unwrap().to_string()
}

#[test]
fn ratio_zero_and_one_are_exact() {
    let never = TraceIdRatioBased::new(0.0);
    let always = TraceIdRatioBased::new(1.0);
    for low56 in [0, 1, HALF, (1 << 56) - 1] {
        assert!(!sampled(&never, low56));
        assert!(sampled(&always, low56));
    }
    let dropped = never.should_sample(&root(trace_id_with_randomness((1 << 56) - 1)));
    assert_eq!(dropped.trace_state, None);
    assert_eq!(root_state(1.0, 0), "ot=th:0");
}

#[test]
fn half_samples_exactly_upper_half() {
    let sampler = TraceIdRatioBased::new(0.5);
    let ids: [u64; 8] = [
        0,
        1,
        HALF - 1,
        HALF,
        HALF + 1,
        (1 << 56) - 1,
        0x12_3456_789a_bcde,
        0xed_cba9_8765_4321,
    ];
    for low56 in ids {
        assert_eq!(sampled(&sampler, low56), low56 >= HALF, "R = {low56:#x}");
    }
    // Only the last 7 bytes count: the high bytes do not change the decision.
    for high in [1_u128, 0xff, u128::from(u64::MAX)] {
        let id = TraceId::from((high << 64) | u128::from(HALF - 1));
        assert_eq!(
            sampler.should_sample(&root(id)).decision,
            SamplingDecision::Drop
        );
        let id = TraceId::from((high << 64) | 0x0080_0000_0000_0000);
        assert_eq!(
            sampler.should_sample(&root(id)).decision,
            SamplingDecision::RecordAndSample
        );
    }
}

#[test]
fn threshold_is_written() {
    assert_eq!(root_state(1.0, 5), "ot=th:0");
    assert_eq!(root_state(0.5, HALF), "ot=th:8");
    assert_eq!(root_state(0.25, 3 << 54), "ot=th:c");
    assert_eq!(root_state(0.1, (1 << 56) - 1), "ot=th:e666");
    // 0.1 at precision 4: T = 0xe666 << 40; R just below is dropped.
    let sampler = TraceIdRatioBased::new(0.1);
    assert!(sampled(&sampler, 0xe666 << 40));
    assert!(!sampled(&sampler, (0xe666 << 40) - 1));
    assert_eq!(sampler.threshold().to_u64(), 0xe666 << 40);
}

#[test]
fn rv_takes_precedence_over_trace_id() {
    let sampler = TraceIdRatioBased::new(0.5);
    // Trace id randomness says sample, rv says drop.
    let cx = parent(
        trace_id_with_randomness((1 << 56) - 1),
        true,
        true,
        state(&format!("ot=rv:{RV_ZERO}")),
    );
    let result = sampler.should_sample(&params(Some(&cx), cx.trace_id()));
    assert_eq!(result.decision, SamplingDecision::Drop);
    assert_eq!(result.trace_state, None);
    // Trace id randomness says drop, rv says sample; rv is kept.
    let cx = parent(
        trace_id_with_randomness(0),
        true,
        true,
        state(&format!("ot=rv:{RV_MAX}")),
    );
    let result = sampler.should_sample(&params(Some(&cx), cx.trace_id()));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert_eq!(
        result.trace_state.unwrap().to_string(),
        format!("ot=th:8;rv:{RV_MAX}")
    );
    // An invalid rv is ignored (the trace id decides) but kept.
    let cx = parent(
        trace_id_with_randomness((1 << 56) - 1),
        true,
        true,
        state("ot=rv:NOPE"),
    );
    let result = sampler.should_sample(&params(Some(&cx), cx.trace_id()));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=th:8;rv:NOPE");
}

#[test]
fn other_members_and_sub_keys_are_preserved() {
    let sampler = TraceIdRatioBased::new(0.25);
    let incoming = state(&format!(
        "congo=t61rcWkgMzE,ot=rv:{RV_MAX};foo:bar,rojo=00f067aa0ba902b7"
    ));
    let cx = parent(trace_id_with_randomness(0), false, true, incoming);
    let result = sampler.should_sample(&params(Some(&cx), cx.trace_id()));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    let out = result.trace_state.unwrap();
    assert_eq!(
        out.to_string(),
        format!("ot=th:c;rv:{RV_MAX};foo:bar,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
    );
}

#[test]
fn existing_threshold_is_replaced_or_kept() {
    let sampler = TraceIdRatioBased::new(0.5);
    let id = trace_id_with_randomness((1 << 56) - 1);
    // A different th is replaced.
    let cx = parent(id, true, false, state("a=1,ot=foo:1;th:c;bar:2"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(
        result.trace_state.unwrap().to_string(),
        "ot=th:8;foo:1;bar:2,a=1"
    );
    // The same th: nothing to change.
    let cx = parent(id, true, false, state("a=1,ot=th:8"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    assert_eq!(result.trace_state, None);
}

#[test]
fn dropped_span_has_no_threshold() {
    let sampler = TraceIdRatioBased::new(0.5);
    let id = trace_id_with_randomness(0);
    let cx = parent(id, true, true, state("a=1,ot=th:0;rv:NOPE"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::Drop);
    assert_eq!(result.trace_state.unwrap().to_string(), "ot=rv:NOPE,a=1");
    // `ot` with nothing but th disappears.
    let cx = parent(id, true, true, state("a=1,ot=th:0"));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.trace_state.unwrap().to_string(), "a=1");
}

#[test]
fn parent_sampled_flag_is_ignored() {
    let sampler = TraceIdRatioBased::new(0.5);
    let high = trace_id_with_randomness((1 << 56) - 1);
    let low = trace_id_with_randomness(1);
    for remote in [false, true] {
        let not_sampled = parent(high, false, remote, TraceState::new());
        let result = sampler.should_sample(&params(Some(&not_sampled), high));
        assert_eq!(result.decision, SamplingDecision::RecordAndSample);
        let sampled = parent(low, true, remote, TraceState::new());
        let result = sampler.should_sample(&params(Some(&sampled), low));
        assert_eq!(result.decision, SamplingDecision::Drop);
    }
}

#[test]
fn ot_value_too_long_keeps_decision_without_threshold() {
    let sampler = TraceIdRatioBased::new(0.5);
    let id = trace_id_with_randomness((1 << 56) - 1);
    // 254 characters: adding `th:8;` would exceed 256.
    let long = format!("x:{}", "a".repeat(252));
    let cx = parent(id, true, true, state(&format!("ot={long}")));
    let result = sampler.should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    let out = result
        .trace_state
        .unwrap_or_else(|| cx.trace_state().clone());
    assert_eq!(out.get("ot"), Some(long.as_str()));
    // With an old, shorter th in the way, the old th is erased rather than left stale.
    let long_th = format!("th:c;x:{}", "a".repeat(249));
    assert_eq!(long_th.len(), 256);
    let cx = parent(id, true, true, state(&format!("ot={long_th}")));
    let result = TraceIdRatioBased::new(0.1).should_sample(&params(Some(&cx), id));
    assert_eq!(result.decision, SamplingDecision::RecordAndSample);
    let out = result.trace_state.unwrap();
    assert_eq!(out.get("ot"), Some(&long_th[5..]));
}

#[test]
fn warns_once_without_random_flag() {
    // The warning is process-wide and once only, so this only checks it never repeats and
    // never fires for root spans or rv-based decisions.
    let sampler = TraceIdRatioBased::new(0.5);
    let id = trace_id_with_randomness(HALF);
    let cx = parent(id, true, true, TraceState::new());
    let mut not_random = params(Some(&cx), id);
    not_random.random_trace_id = false;
    let warnings = count_warnings(|| {
        for _ in 0..3 {
            assert_eq!(
                sampler.should_sample(&not_random).decision,
                SamplingDecision::RecordAndSample
            );
        }
    });
    assert!(warnings <= 1, "{warnings} warnings");
    let mut root_not_random = root(id);
    root_not_random.random_trace_id = false;
    let rv_cx = parent(id, true, true, state(&format!("ot=rv:{RV_MAX}")));
    let mut rv_not_random = params(Some(&rv_cx), id);
    rv_not_random.random_trace_id = false;
    let warnings = count_warnings(|| {
        sampler.should_sample(&root_not_random);
        sampler.should_sample(&rv_not_random);
    });
    assert_eq!(warnings, 0);
}

#[test]
fn clamping_and_description() {
    assert_eq!(
        TraceIdRatioBased::new(0.25).description(),
        "TraceIdRatioBased{0.25}"
    );
    assert_eq!(
        TraceIdRatioBased::new(0.0001).description(),
        "TraceIdRatioBased{0.0001}"
    );
    assert_eq!(
        TraceIdRatioBased::new(1.0).description(),
        "TraceIdRatioBased{1}"
    );
    assert_eq!(
        TraceIdRatioBased::new(0.0).description(),
        "TraceIdRatioBased{0}"
    );
    assert_eq!(TraceIdRatioBased::new(1.5).ratio(), 1.0);
    assert_eq!(TraceIdRatioBased::new(f64::INFINITY).ratio(), 1.0);
    assert_eq!(TraceIdRatioBased::new(-0.5).ratio(), 0.0);
    assert_eq!(TraceIdRatioBased::new(f64::NAN).ratio(), 0.0);
    assert_eq!(
        TraceIdRatioBased::new(-0.0).description(),
        "TraceIdRatioBased{0}"
    );
    assert_eq!(
        TraceIdRatioBased::new(f64::NEG_INFINITY).description(),
        "TraceIdRatioBased{0}"
    );
    assert_eq!(TraceIdRatioBased::new(7.0), TraceIdRatioBased::new(1.0));
}
