use proptest::prelude::*;

use super::super::{
    AlwaysOn, ParentBased, Randomness, Sampler, SamplingDecision, Threshold, TraceIdRatioBased,
};
use super::*;

fn is_sampled(ratio: f64, trace_id: TraceId) -> bool {
    TraceIdRatioBased::new(ratio)
        .should_sample(&root(trace_id))
        .decision
        == SamplingDecision::RecordAndSample
}

/// The fraction of `n` pseudo-random trace ids (fixed seed) a ratio sampler keeps.
fn sampled_fraction(ratio: f64, seed: u64, n: u32) -> f64 {
    let sampler = TraceIdRatioBased::new(ratio);
    let mut rng = SplitMix64(seed);
    let kept = (0..n)
        .filter(|_| {
            sampler
                .should_sample(&root(rng.trace_id()))
                .decision
                .is_sampled()
        })
        .count();
    kept as f64 / f64::from(n)
}

#[test]
fn fraction_sampled_matches_ratio() {
    for seed in [1, 2, 0x5eed] {
        let fraction = sampled_fraction(0.3, seed, 20_000);
        assert!((fraction - 0.3).abs() <= 0.02, "seed {seed}: {fraction}");
    }
    let fraction = sampled_fraction(0.1, 7, 20_000);
    assert!((fraction - 0.1).abs() <= 0.02, "{fraction}");
    assert_eq!(sampled_fraction(0.0, 7, 1_000), 0.0);
    assert_eq!(sampled_fraction(1.0, 7, 1_000), 1.0);
}

/// Whether the `ot` member has a segment with key `th` (valid or not).
fn has_th_segment(state: &TraceState) -> bool {
    state.get("ot").is_some_and(|ot| {
        ot.split(';')
            .any(|segment| segment.trim().split(':').next() == Some("th"))
    })
}

/// Characters of W3C tracestate values, weighted towards the `ot` syntax.
fn ot_value() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("th:".to_owned()),
        Just("rv:".to_owned()),
        Just(";".to_owned()),
        Just(":".to_owned()),
        "[0-9a-f]{1,15}",
        "[ -+\\--<>-~]{1,4}",
    ];
    proptest::collection::vec(token, 1..24).prop_map(|tokens| tokens.concat())
}

fn valid_ratio() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..=1.0_f64,
        Just(0.0),
        Just(1.0),
        Just(0.5),
        (1_u32..56).prop_map(|e| 2f64.powi(-(e as i32)))
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decision_is_monotone_in_ratio(id in 1_u128.., a in valid_ratio(), b in valid_ratio()) {
        let (p, q) = if a <= b { (a, b) } else { (b, a) };
        let trace_id = TraceId::from(id);
        if is_sampled(p, trace_id) {
            prop_assert!(is_sampled(q, trace_id), "sampled at {} but not at {}", p, q);
        }
        prop_assert!(Threshold::from_ratio(p) >= Threshold::from_ratio(q));
    }

    #[test]
    fn decision_is_r_at_least_t(id in 1_u128.., ratio in valid_ratio()) {
        let trace_id = TraceId::from(id);
        let t = TraceIdRatioBased::new(ratio).threshold();
        prop_assert_eq!(is_sampled(ratio, trace_id), Randomness::from_trace_id(trace_id).to_u64() >= t.to_u64());
    }

    #[test]
    fn threshold_is_close_to_ratio(ratio in 1e-12..=1.0_f64) {
        // 4 significant digits after the leading fs: relative error of the probability below
        // 16^-3 (and absolute error below 2^-17 near 1).
        let p = Threshold::from_ratio(ratio).probability();
        prop_assert!((p - ratio).abs() <= (ratio * 16f64.powi(-3)).max(2f64.powi(-17)), "{} -> {}", ratio, p);
    }

    #[test]
    fn th_round_trips(value in 0_u64..(1 << 56)) {
        let t = Threshold::from_u64(value).unwrap();
        let th = t.to_th().unwrap();
        prop_assert!(!th.is_empty() && th.len() <= 14);
        prop_assert!(th == "0" || !th.ends_with('0'));
        prop_assert_eq!(Threshold::from_th(&th), Some(t));
    }

    #[test]
    fn arbitrary_ot_values_never_panic(
        value in ot_value(),
        id in 1_u128..,
        ratio in valid_ratio(),
        sampled in any::<bool>(),
        remote in any::<bool>(),
    ) {
        let Ok(incoming) = TraceState::from_members([("a", "1"), ("ot", value.as_str())]) else {
            return Ok(());
        };
        let trace_id = TraceId::from(id);
        let cx = parent(trace_id, sampled, remote, incoming.clone());
        let p = params(Some(&cx), trace_id);
        let randomness = Randomness::of(trace_id, &incoming);

        let ratio_sampler = TraceIdRatioBased::new(ratio);
        let result = ratio_sampler.should_sample(&p);
        let out = result.trace_state.clone().unwrap_or_else(|| incoming.clone());
        prop_assert_eq!(out.get("a"), Some("1"));
        prop_assert_eq!(result.decision.is_sampled(), ratio_sampler.threshold().should_sample(randomness));
        if result.decision.is_sampled() {
            // th is ours unless the ot value had no room for it.
            let th = Threshold::from_trace_state(&out);
            prop_assert!(th.is_none() || th == Some(ratio_sampler.threshold()));
        } else {
            prop_assert!(!has_th_segment(&out), "{}", out);
        }
        // rv is never changed.
        prop_assert_eq!(Randomness::from_trace_state(&out), Randomness::from_trace_state(&incoming));

        let parent_based = ParentBased::new(AlwaysOn);
        let result = parent_based.should_sample(&p);
        let out = result.trace_state.clone().unwrap_or_else(|| incoming.clone());
        prop_assert_eq!(out.get("a"), Some("1"));
        if let Some(th) = Threshold::from_trace_state(&out) {
            prop_assert_eq!(th.should_sample(Randomness::of(trace_id, &out)), result.decision.is_sampled());
        }
        prop_assert_eq!(Randomness::from_trace_state(&out), Randomness::from_trace_state(&incoming));
    }
}
