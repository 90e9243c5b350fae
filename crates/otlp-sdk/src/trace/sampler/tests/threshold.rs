use super::super::{Randomness, Threshold};
use super::*;

fn th(ratio: f64) -> String {
    Threshold::from_ratio(ratio).to_th().unwrap()
}

fn th_with(ratio: f64, precision: u8) -> String {
    Threshold::from_ratio_with_precision(ratio, precision)
        .to_th()
        .unwrap()
}

#[test]
fn powers_of_two_are_exact() {
    assert_eq!(th(1.0), "0");
    assert_eq!(th(0.5), "8");
    assert_eq!(th(0.25), "c");
    assert_eq!(th(0.125), "e");
    assert_eq!(th(0.0625), "f");
    assert_eq!(Threshold::from_ratio(0.5).to_u64(), HALF);
    assert_eq!(Threshold::from_ratio(0.25).to_u64(), 3 << 54);
    assert_eq!(Threshold::from_ratio(1.0), Threshold::ALWAYS_SAMPLE);
}

/// The table of `trace/tracestate-probability-sampling.md` ("Converting floating-point
/// probability to threshold value"), precision 4 (the recommended default) and 3 and 5.
#[test]
fn specification_table() {
    let table: [(f64, [&str; 3]); 13] = [
        (1.0, ["0", "0", "0"]),
        (0.5, ["8", "8", "8"]),
        (1.0 / 3.0, ["aab", "aaab", "aaaab"]),
        (0.25, ["c", "c", "c"]),
        (0.2, ["ccd", "cccd", "ccccd"]),
        (0.125, ["e", "e", "e"]),
        (0.1, ["e66", "e666", "e6666"]),
        (0.0625, ["f", "f", "f"]),
        (0.01, ["fd71", "fd70a", "fd70a4"]),
        (0.001, ["ffbe7", "ffbe77", "ffbe76d"]),
        (0.0001, ["fff972", "fff9724", "fff97247"]),
        (0.00001, ["ffff584", "ffff583a", "ffff583a5"]),
        (0.000001, ["ffffef4", "ffffef39", "ffffef391"]),
    ];
    for (ratio, [p3, p4, p5]) in table {
        assert_eq!(th_with(ratio, 3), p3, "ratio {ratio} precision 3");
        assert_eq!(th(ratio), p4, "ratio {ratio} precision 4");
        assert_eq!(th_with(ratio, 5), p5, "ratio {ratio} precision 5");
    }
    // The example of the "Rejection Threshold" definition: 1% at 5 digits of precision.
    assert_eq!(
        Threshold::from_ratio_with_precision(0.01, 4).to_u64(),
        0xfd70a000000000
    );
    assert_eq!(
        Threshold::from_th("fd70a4").unwrap().to_u64(),
        0xfd70a400000000
    );
}

#[test]
fn extremes() {
    // The smallest probability, 2^-56: the largest threshold, all 14 digits.
    let min = 2f64.powi(-56);
    assert_eq!(th(min), "ffffffffffffff");
    assert_eq!(Threshold::from_ratio(min).to_u64(), (1 << 56) - 1);
    // Below 2^-57 nothing rounds to a representable probability.
    assert_eq!(
        Threshold::from_ratio(2f64.powi(-58)),
        Threshold::NEVER_SAMPLE
    );
    assert_eq!(Threshold::from_ratio(0.0), Threshold::NEVER_SAMPLE);
    assert_eq!(Threshold::from_ratio(-1.0), Threshold::NEVER_SAMPLE);
    assert_eq!(Threshold::from_ratio(f64::NAN), Threshold::NEVER_SAMPLE);
    assert_eq!(Threshold::from_ratio(2.0), Threshold::ALWAYS_SAMPLE);
    assert_eq!(Threshold::NEVER_SAMPLE.to_th(), None);
    assert_eq!(Threshold::NEVER_SAMPLE.to_string(), "never");
    assert_eq!(Threshold::NEVER_SAMPLE.probability(), 0.0);
    // Near 1 the threshold rounds at its 4th digit: 0.99999 keeps 1 - 2^-16.
    assert_eq!(th(0.99999), "0001");
    assert_eq!(th(1.0 - 1e-9), "0");
    // Precision is clamped to 1..=14.
    assert_eq!(th_with(0.1, 0), "e");
    assert_eq!(th_with(0.2, 1), "d");
    assert_eq!(th_with(0.1, 200), "e6666666666666");
}

#[test]
fn probability_and_ordering() {
    assert_eq!(Threshold::from_ratio(0.5).probability(), 0.5);
    assert_eq!(Threshold::ALWAYS_SAMPLE.probability(), 1.0);
    assert!((Threshold::from_ratio(0.1).probability() - 0.100006103515625).abs() < 1e-15);
    assert!(Threshold::from_ratio(0.1) > Threshold::from_ratio(0.2));
}

#[test]
fn parse_th() {
    assert_eq!(Threshold::from_th("0"), Some(Threshold::ALWAYS_SAMPLE));
    assert_eq!(Threshold::from_th("8").map(Threshold::to_u64), Some(HALF));
    assert_eq!(
        Threshold::from_th("80000000000000").map(Threshold::to_u64),
        Some(HALF)
    );
    assert_eq!(
        Threshold::from_th("ffffffffffffff").map(Threshold::to_u64),
        Some((1 << 56) - 1)
    );
    for bad in [
        "",
        "A",
        "8A",
        "g",
        "+8",
        "-8",
        " 8",
        "8 ",
        "0x8",
        "fffffffffffffff",
        "é",
    ] {
        assert_eq!(Threshold::from_th(bad), None, "{bad:?}");
    }
    assert_eq!(Threshold::from_u64(1 << 56), Some(Threshold::NEVER_SAMPLE));
    assert_eq!(Threshold::from_u64((1 << 56) + 1), None);
    assert_eq!(Threshold::from_ratio(0.1).to_string(), "e666");
}

#[test]
fn randomness_sources() {
    let id = TraceId::from(0x0123_4567_89ab_cdef_0011_2233_4455_6677_u128);
    assert_eq!(Randomness::from_trace_id(id).to_u64(), 0x11_2233_4455_6677);
    let all_ones = TraceId::from(u128::MAX);
    assert_eq!(Randomness::from_trace_id(all_ones).to_u64(), (1 << 56) - 1);

    assert_eq!(
        Randomness::from_rv("6e6d1a75832a2f").map(Randomness::to_u64),
        Some(0x6e6d1a75832a2f)
    );
    for bad in [
        "",
        "6e6d1a75832a2",
        "6e6d1a75832a2f0",
        "6E6D1A75832A2F",
        "6e6d1a75832a2g",
    ] {
        assert_eq!(Randomness::from_rv(bad), None, "{bad:?}");
    }
    // rv takes precedence over the trace id; an invalid rv is ignored.
    let with_rv = state("ot=th:8;rv:00000000000001");
    assert_eq!(Randomness::of(all_ones, &with_rv).to_u64(), 1);
    let bad_rv = state("ot=rv:zz");
    assert_eq!(Randomness::of(id, &bad_rv), Randomness::from_trace_id(id));
    assert_eq!(
        Randomness::of(id, &TraceState::new()),
        Randomness::from_trace_id(id)
    );
    assert_eq!(Randomness::from_u64(1 << 56), None);

    // `R >= T`.
    let t = Threshold::from_ratio(0.5);
    assert!(t.should_sample(Randomness::from_u64(HALF).unwrap()));
    assert!(!t.should_sample(Randomness::from_u64(HALF - 1).unwrap()));
    assert!(!Threshold::NEVER_SAMPLE.should_sample(Randomness::from_u64((1 << 56) - 1).unwrap()));
    assert!(Threshold::ALWAYS_SAMPLE.should_sample(Randomness::from_u64(0).unwrap()));
}

#[test]
fn threshold_from_trace_state() {
    assert_eq!(
        Threshold::from_trace_state(&state("ot=rv:00000000000001;th:c")),
        Threshold::from_th("c")
    );
    assert_eq!(Threshold::from_trace_state(&state("ot=th:C")), None);
    assert_eq!(Threshold::from_trace_state(&state("other=th:c")), None);
    // First occurrence wins, segments are trimmed, empty segments skipped.
    assert_eq!(
        Threshold::from_trace_state(&state("ot=;; th:4 ;th:8")),
        Threshold::from_th("4")
    );
}
