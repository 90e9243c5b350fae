use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const SMALLEST_SUBNORMAL: f64 = 5e-324; // 2^-1074
const LARGEST_SUBNORMAL: f64 = 2.225_073_858_507_201e-308; // 2^-1022 - 2^-1074

fn config(max_size: usize, max_scale: i8) -> ExponentialConfig {
    ExponentialConfig {
        max_size,
        max_scale,
        record_min_max: true,
    }
}

fn histogram_of(values: &[f64], max_size: usize, max_scale: i8) -> ExponentialHistogram {
    let mut h = ExponentialHistogram::new(config(max_size, max_scale));
    for &v in values {
        h.record(v);
    }
    h
}

/// The counts a histogram at `scale` must have: every value mapped directly at that scale.
fn expected_counts(values: &[f64], scale: i8, positive: bool) -> BTreeMap<i32, u64> {
    let mut counts = BTreeMap::new();
    for &v in values {
        if v.is_finite() && v != 0.0 && (v > 0.0) == positive {
            *counts.entry(map_to_index(v, scale)).or_insert(0) += 1;
        }
    }
    counts
}

fn as_map((offset, counts): (i32, &[u64])) -> BTreeMap<i32, u64> {
    counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(i, &c)| (offset + i as i32, c))
        .collect()
}

#[test]
fn constants_match_the_float_format() {
    assert_eq!(SMALLEST_SUBNORMAL, f64::from_bits(1));
    assert_eq!(LARGEST_SUBNORMAL, f64::from_bits((1 << 52) - 1));
    assert_eq!(pow2(-1074), SMALLEST_SUBNORMAL);
    assert_eq!(pow2(-1075), 0.0);
    assert_eq!(pow2(-1022), f64::MIN_POSITIVE);
    assert_eq!(pow2(1023), 2f64.powi(1023));
    assert_eq!(pow2(1024), f64::INFINITY);
    // 1/ln 2 = 1.44269504088896340735992468100189213742664595415298593413544940693...
    let log2_e = DoubleDouble::LOG2_E;
    assert_eq!(log2_e.hi, std::f64::consts::LOG2_E);
    assert_eq!(log2_e.lo, 2.0355273740931033e-17);
    // hi + lo is within 1.1e-33 of the true value; check the sum's leading digits exactly.
    let sum = log2_e.hi + log2_e.lo;
    assert_eq!(sum, std::f64::consts::LOG2_E);
}

#[test]
fn scale_zero_mapping_is_upper_inclusive() {
    // Bucket i at scale 0 is (2^i, 2^(i+1)].
    assert_eq!(map_to_index(1.0, 0), -1);
    assert_eq!(map_to_index(1.0f64.next_up(), 0), 0);
    assert_eq!(map_to_index(1.0f64.next_down(), 0), -1);
    assert_eq!(map_to_index(1.5, 0), 0);
    assert_eq!(map_to_index(2.0, 0), 0);
    assert_eq!(map_to_index(2.0f64.next_up(), 0), 1);
    assert_eq!(map_to_index(3.0, 0), 1);
    assert_eq!(map_to_index(4.0, 0), 1);
    assert_eq!(map_to_index(4.0f64.next_up(), 0), 2);
    assert_eq!(map_to_index(0.5, 0), -2);
    assert_eq!(map_to_index(0.75, 0), -1);
    // Negative values map by magnitude.
    assert_eq!(map_to_index(-2.0, 0), 0);
    assert_eq!(map_to_index(-3.0, 0), 1);
}

#[test]
fn scale_zero_extremes_and_subnormals() {
    // The data model: normal values have indices -1023..=1023, subnormals -1075..=-1023.
    assert_eq!(map_to_index(f64::MAX, 0), 1023);
    assert_eq!(map_to_index(2f64.powi(1023), 0), 1022);
    assert_eq!(map_to_index(f64::MIN_POSITIVE, 0), -1023);
    assert_eq!(map_to_index(f64::MIN_POSITIVE.next_up(), 0), -1022);
    assert_eq!(map_to_index(LARGEST_SUBNORMAL, 0), -1023);
    // The data model's example: 0x1p-1023 (a subnormal power of two) is in bucket -1024.
    assert_eq!(map_to_index(pow2(-1023), 0), -1024);
    assert_eq!(map_to_index(pow2(-1023).next_up(), 0), -1023);
    assert_eq!(map_to_index(SMALLEST_SUBNORMAL, 0), -1075);
    assert_eq!(map_to_index(2.0 * SMALLEST_SUBNORMAL, 0), -1074);
    assert_eq!(map_to_index(3.0 * SMALLEST_SUBNORMAL, 0), -1073);
}

#[test]
fn negative_scale_mapping() {
    // Scale -1: base 4, bucket i is (4^i, 4^(i+1)].
    assert_eq!(map_to_index(1.0, -1), -1);
    assert_eq!(map_to_index(1.0f64.next_up(), -1), 0);
    assert_eq!(map_to_index(4.0, -1), 0);
    assert_eq!(map_to_index(4.0f64.next_up(), -1), 1);
    assert_eq!(map_to_index(0.25, -1), -2);
    assert_eq!(map_to_index(0.3, -1), -1);
    // Scale -2: base 16.
    assert_eq!(map_to_index(16.0, -2), 0);
    assert_eq!(map_to_index(17.0, -2), 1);
    assert_eq!(map_to_index(256.0, -2), 1);
    assert_eq!(map_to_index(1.0 / 16.0, -2), -2);
    assert_eq!(map_to_index(f64::MAX, -2), 255);
    assert_eq!(map_to_index(SMALLEST_SUBNORMAL, -2), -269);
    // Scale -4: the smallest normal value is in the bucket with lower boundary 2^-1024
    // (the data model's example).
    let index = map_to_index(f64::MIN_POSITIVE, -4);
    assert_eq!(index, -64);
    assert_eq!(lower_boundary(index, -4), pow2(-1024));
    // Scale -10: base 2^1024, every normal value is in bucket -1 or 0.
    assert_eq!(map_to_index(f64::MAX, -10), 0);
    assert_eq!(map_to_index(1.0f64.next_up(), -10), 0);
    assert_eq!(map_to_index(1.0, -10), -1);
    assert_eq!(map_to_index(f64::MIN_POSITIVE, -10), -1);
    // ... and the subnormals <= 2^-1024 (bucket -2 in exact arithmetic) are rounded up into -1.
    assert_eq!(map_to_index(pow2(-1024), -10), -1);
    assert_eq!(map_to_index(SMALLEST_SUBNORMAL, -10), -1);
    // At scale -9 they are exact again: bucket -3 is (2^-1536, 2^-1024].
    assert_eq!(map_to_index(SMALLEST_SUBNORMAL, -9), -3);
    assert_eq!(map_to_index(pow2(-1024), -9), -3);
    assert_eq!(map_to_index(pow2(-1024).next_up(), -9), -2);
}

#[test]
fn scale_one_mapping() {
    // Base sqrt(2): 1 -> -1 (in (1/sqrt2, 1]), (1, 1.414..] -> 0, (1.414.., 2] -> 1.
    assert_eq!(map_to_index(1.0, 1), -1);
    assert_eq!(map_to_index(1.0f64.next_up(), 1), 0);
    assert_eq!(map_to_index(1.4, 1), 0);
    assert_eq!(map_to_index(1.5, 1), 1);
    assert_eq!(map_to_index(2.0, 1), 1);
    assert_eq!(map_to_index(2.0f64.next_up(), 1), 2);
    assert_eq!(map_to_index(3.0, 1), 3);
    assert_eq!(map_to_index(4.0, 1), 3);
    assert_eq!(map_to_index(0.5, 1), -3);
    assert_eq!(map_to_index(0.6, 1), -2);
    // f64's SQRT_2 is above the true sqrt(2), its predecessor below.
    assert_eq!(map_to_index(std::f64::consts::SQRT_2, 1), 1);
    assert_eq!(map_to_index(std::f64::consts::SQRT_2.next_down(), 1), 0);
}

#[test]
fn max_scale_mapping() {
    let octave = 1i32 << 20;
    assert_eq!(map_to_index(1.0, 20), -1);
    assert_eq!(map_to_index(1.0f64.next_up(), 20), 0);
    assert_eq!(map_to_index(2.0, 20), octave - 1);
    assert_eq!(map_to_index(2.0f64.next_down(), 20), octave - 1);
    assert_eq!(map_to_index(2.0f64.next_up(), 20), octave);
    assert_eq!(map_to_index(0.5, 20), -octave - 1);
    // The extremes of the f64 range fit an i32 index at scale 20.
    assert_eq!(map_to_index(f64::MAX, 20), 1024 * octave - 1);
    assert_eq!(map_to_index(2f64.powi(1023), 20), 1023 * octave - 1);
    assert_eq!(map_to_index(f64::MIN_POSITIVE, 20), -1022 * octave - 1);
    assert_eq!(map_to_index(SMALLEST_SUBNORMAL, 20), -1074 * octave - 1);
    assert_eq!(
        map_to_index(2.0 * SMALLEST_SUBNORMAL, 20),
        -1073 * octave - 1
    );
    // 3 * 2^-1074 = 1.5 * 2^-1073: log2(1.5) * 2^20 = 613_377.64...
    assert_eq!(
        map_to_index(3.0 * SMALLEST_SUBNORMAL, 20),
        -1073 * octave + 613_377
    );
    assert_eq!(map_to_index(LARGEST_SUBNORMAL, 20), -1022 * octave - 1);
}

/// `(scale, index, d, index of d, index of d.next_up())`: `d` is the largest f64 below the
/// boundary `2^(index / 2^scale)`, and the indices are `floor(log2(x) * 2^scale)`, all computed
/// with Python's `decimal` at 80 digits. For normal values `d` is in bucket `index - 1` and
/// `d.next_up()` in bucket `index`; for subnormals at high scales one ulp spans many buckets.
const BOUNDARIES: &[(i8, i32, u64, i32, i32)] = &[
    (1, 1, 0x3ff6a09e667f3bcc, 0, 1),
    (1, -1, 0x3fe6a09e667f3bcc, -2, -1),
    (1, 3, 0x4006a09e667f3bcc, 2, 3),
    (3, 5, 0x3ff8ace5422aa0db, 4, 5),
    (10, 1000, 0x3fff7bfdad9cbe13, 999, 1000),
    (20, 1, 0x3ff00000b1721bcf, 0, 1),
    (20, 1048575, 0x3ffffffe9d1bd7c0, 1048574, 1048575),
    (20, 123456789, 0x474aad85965dc9b9, 123456788, 123456789),
    (20, -987654321, 0x051124483b4357f5, -987654322, -987654321),
    (20, 1073741822, 0x7feffffd3a37bee0, 1073741821, 1073741822),
    (16, -70111175, 0x0000000000000012, -70112384, -70107272),
    (
        20,
        -1100000000,
        0x0000000001f16573,
        -1100000001,
        -1100000000,
    ),
    (
        20,
        -1071644671,
        0x00100000b1721bcf,
        -1071644672,
        -1071644671,
    ),
    (5, -33000, 0x000006ba27e656b4, -33001, -33000),
    (12, -4394000, 0x0000000000000002, -4395009, -4392612), // 2^-1073: upper boundary of its bucket
];

#[test]
fn values_one_ulp_around_irrational_boundaries_map_exactly() {
    for &(scale, index, bits, index_below, index_above) in BOUNDARIES {
        let below = f64::from_bits(bits);
        let above = below.next_up();
        assert_eq!(
            map_to_index(below, scale),
            index_below,
            "{below:e} at scale {scale}"
        );
        assert_eq!(
            map_to_index(above, scale),
            index_above,
            "{above:e} at scale {scale}"
        );
        assert_eq!(
            map_to_index(-above, scale),
            index_above,
            "{:e} at scale {scale}",
            -above
        );
        if below >= f64::MIN_POSITIVE {
            assert_eq!((index_below, index_above), (index - 1, index));
            // The inverse mapping is within one ulp of the true boundary.
            let boundary = lower_boundary(index, scale);
            assert!(
                boundary == below || boundary == above,
                "boundary {boundary:e}"
            );
        }
    }
}

#[test]
fn lower_boundary_is_exact_at_powers_of_two() {
    assert_eq!(lower_boundary(0, 0), 1.0);
    assert_eq!(lower_boundary(1, 0), 2.0);
    assert_eq!(lower_boundary(-1, 0), 0.5);
    assert_eq!(lower_boundary(1, -1), 4.0);
    assert_eq!(lower_boundary(1 << 20, 20), 2.0);
    assert_eq!(lower_boundary(-1074 << 20, 20), SMALLEST_SUBNORMAL);
    assert_eq!(lower_boundary(1023 << 20, 20), 2f64.powi(1023));
    assert_eq!(lower_boundary(-1075, 0), 0.0);
    assert_eq!(lower_boundary(1024, 0), f64::INFINITY);
    // The top bucket's lower boundary is finite at every positive scale.
    for scale in 1..=20i8 {
        let top = map_to_index(f64::MAX, scale);
        let boundary = lower_boundary(top, scale);
        assert!(boundary.is_finite() && boundary < f64::MAX, "scale {scale}");
        assert_eq!(lower_boundary(top + 1, scale), f64::INFINITY);
    }
}

#[test]
fn mapping_is_monotonic_around_powers_of_two_at_every_scale() {
    for scale in MIN_SCALE..=MAX_SCALE {
        for exponent in [-1074, -1060, -1023, -1022, -1, 0, 1, 10, 1023] {
            let p = pow2(exponent);
            let index = map_to_index(p, scale);
            // 2^e is the upper boundary of its bucket: the next value up is in the next bucket
            // (except where two buckets of indices merge at scale -10's clamp).
            if scale > MIN_SCALE || exponent > -1024 {
                let expected = if scale >= 0 {
                    (exponent << scale) - 1
                } else {
                    (exponent - 1) >> -scale
                };
                assert_eq!(i64::from(index), expected, "2^{exponent} at scale {scale}");
            }
            if p < f64::MAX {
                assert!(map_to_index(p.next_up(), scale) >= index);
            }
            // For normal values an ulp is far narrower than a bucket (2^-52 against 2^-20).
            if scale > 0 && exponent >= -1022 {
                assert_eq!(map_to_index(p.next_up(), scale), index + 1);
            }
        }
    }
}

#[test]
fn config_default_and_validate() {
    let default = ExponentialConfig::default();
    assert_eq!(default.max_size, 160);
    assert_eq!(default.max_scale, 20);
    assert!(default.record_min_max);
    assert_eq!(default.validate(), Ok(()));
    assert!(config(1, 20).validate().is_err());
    assert!(config(0, 20).validate().is_err());
    assert!(config(2, 21).validate().is_err());
    assert!(config(2, -11).validate().is_err());
    assert_eq!(config(2, -10).validate(), Ok(()));
    // `new` clamps what `validate` rejects.
    let h = ExponentialHistogram::new(config(0, 50));
    assert_eq!(h.config().max_size, 2);
    assert_eq!(h.scale(), 20);
    assert_eq!(ExponentialHistogram::new(config(5, -30)).scale(), -10);
}

#[test]
fn single_value_uses_max_scale() {
    let h = histogram_of(&[3.0], 160, 20);
    assert_eq!(h.scale(), 20);
    assert_eq!(h.positive(), (map_to_index(3.0, 20), &[1u64][..]));
    assert_eq!(h.negative(), (0, &[][..]));
    let h = histogram_of(&[-3.0, 1e300], 160, 20);
    assert_eq!(h.scale(), 20, "one value in each range: no rescale");
}

#[test]
fn rescaling_one_and_powers_of_two() {
    // 1 is in bucket -1 at every scale >= 0 ((-1) >> c = -1); 2^k is in bucket (k << s) - 1.
    // Both fit in max_size = 160 buckets when (k << s) - 1 - (-1) + 1 <= 160, i.e. k * 2^s < 160.
    for k in 1..=20 {
        let h = histogram_of(&[1.0, pow2(k)], 160, 20);
        let expected = (0..=20i8).rev().find(|&s| (k << s) < 160).unwrap_or(0);
        assert_eq!(h.scale(), expected, "1 and 2^{k}");
        let (offset, counts) = h.positive();
        assert_eq!(offset, -1);
        assert_eq!(counts.first(), Some(&1));
        assert_eq!(counts.last(), Some(&1));
        assert_eq!(counts.len(), (k << expected) as usize + 1);
    }
    // 2^-1074 .. f64::MAX needs 2148 octaves: scale -4 (135 buckets), not -3 (269).
    let h = histogram_of(&[SMALLEST_SUBNORMAL, f64::MAX], 160, 20);
    assert_eq!(h.scale(), -4);
    assert_eq!(h.positive().0, -68);
    assert_eq!(h.positive().1.len(), 64 + 68);
}

#[test]
fn max_size_two_reaches_min_scale_without_dropping() {
    let values = [
        SMALLEST_SUBNORMAL,
        1.0,
        f64::MAX,
        -SMALLEST_SUBNORMAL,
        -f64::MAX,
        0.0,
    ];
    let h = histogram_of(&values, 2, 20);
    assert_eq!(h.scale(), -10);
    assert_eq!(h.positive(), (-1, &[2u64, 1][..]));
    assert_eq!(h.negative(), (-1, &[1u64, 1][..]));
    assert_eq!(h.zero_count(), 1);
    assert_eq!(h.count(), 6);
    assert_eq!(h.ignored(), 0);
}

#[test]
fn downscale_merges_buckets() {
    // At scale 0: 1.5 -> 0, 3 -> 1, 6 -> 2, 12 -> 3, 24 -> 4; max_size 4 forces scale -1,
    // where the indices are 0, 0, 1, 1, 2.
    let h = histogram_of(&[1.5, 3.0, 6.0, 12.0, 24.0], 4, 0);
    assert_eq!(h.scale(), -1);
    assert_eq!(h.positive(), (0, &[2u64, 2, 1][..]));
    // Negative offsets round down: at scale 0, 0.75 -> -1, 0.375 -> -2, 0.1875 -> -3,
    // 0.09 -> -4; at scale -1: -1, -1, -2, -2 and 1.5 -> 0.
    let h = histogram_of(&[0.75, 0.375, 0.1875, 0.09, 1.5], 4, 0);
    assert_eq!(h.scale(), -1);
    assert_eq!(h.positive(), (-2, &[2u64, 2, 1][..]));
}

#[test]
fn statistics_and_zero() {
    let mut h = ExponentialHistogram::default();
    assert!(h.is_empty());
    assert_eq!((h.min(), h.max()), (None, None));
    for v in [5.0, 0.0, -0.0, -2.5, 1e-9, 7.25] {
        h.record(v);
    }
    assert_eq!(h.count(), 6);
    assert_eq!(h.zero_count(), 2);
    assert_eq!(h.sum(), 5.0 - 2.5 + 1e-9 + 7.25);
    assert_eq!(h.min(), Some(-2.5));
    assert_eq!(h.max(), Some(7.25));
    let total: u64 = h.positive().1.iter().chain(h.negative().1).sum();
    assert_eq!(total + h.zero_count(), h.count());
    assert_eq!(h.negative().1.iter().sum::<u64>(), 1);
}

#[test]
fn non_finite_values_are_ignored() {
    let mut h = ExponentialHistogram::default();
    h.record(f64::NAN);
    h.record(f64::INFINITY);
    h.record(f64::NEG_INFINITY);
    assert_eq!(h.ignored(), 3);
    assert!(h.is_empty());
    assert_eq!(h.sum(), 0.0);
    assert_eq!(h.min(), None);
    h.record(2.0);
    h.record(-f64::NAN);
    assert_eq!(h.ignored(), 4);
    assert_eq!(
        (h.count(), h.sum(), h.min(), h.max()),
        (1, 2.0, Some(2.0), Some(2.0))
    );
}

#[test]
fn reset_returns_to_max_scale() {
    let mut h = histogram_of(&[1.0, 1e10, -3.0, 0.0, f64::NAN], 8, 12);
    assert!(h.scale() < 12);
    h.reset();
    assert_eq!(h, ExponentialHistogram::new(config(8, 12)));
    assert_eq!(h.scale(), 12);
    assert_eq!((h.count(), h.zero_count(), h.ignored()), (0, 0, 0));
    h.record(3.0);
    assert_eq!(h.scale(), 12);
}

#[test]
fn merge_equals_recording_everything_into_one() {
    let a: Vec<f64> = (1..200).map(|i| f64::from(i) * 0.37).collect();
    let b: Vec<f64> = (1..50)
        .map(|i| -f64::from(i) * 1e5)
        .chain([0.0, 1e-7])
        .collect();
    let all: Vec<f64> = a.iter().chain(&b).copied().collect();
    let mut merged = histogram_of(&a, 160, 20);
    merged.merge(&histogram_of(&b, 160, 20));
    let direct = histogram_of(&all, 160, 20);
    assert_eq!(merged.scale(), direct.scale());
    assert_eq!(merged.positive(), direct.positive());
    assert_eq!(merged.negative(), direct.negative());
    assert_eq!(merged.zero_count(), direct.zero_count());
    assert_eq!(merged.count(), direct.count());
    assert_eq!(merged.min(), direct.min());
    assert_eq!(merged.max(), direct.max());
    assert!((merged.sum() - direct.sum()).abs() <= 1e-9 * direct.sum().abs());
}

#[test]
fn merge_into_and_from_empty() {
    let full = histogram_of(&[1.0, 2.0, 3.0, -4.0, 0.0], 160, 20);
    let mut empty = ExponentialHistogram::default();
    empty.merge(&full);
    assert_eq!(empty, full);
    let mut copy = full.clone();
    copy.merge(&ExponentialHistogram::default());
    assert_eq!(copy, full);
}

#[test]
fn merge_rescales_when_the_union_does_not_fit() {
    // Each fits at scale 20 alone; together they span 1 .. 2^10 and need 160 buckets at most.
    let mut low = histogram_of(&[1.0, 1.5], 160, 20);
    let high = histogram_of(&[1000.0, 1001.0], 160, 20);
    low.merge(&high);
    assert_eq!(
        low.scale(),
        3,
        "10 octaves * 2^3 = 80 buckets, * 2^4 = 160 too many"
    );
    let (_, counts) = low.positive();
    assert!(counts.len() <= 160);
    assert_eq!(counts.iter().sum::<u64>(), 4);
    assert_eq!(
        as_map(low.positive()),
        expected_counts(&[1.0, 1.5, 1000.0, 1001.0], 3, true)
    );
}

#[test]
fn to_proto_fields() {
    let h = histogram_of(&[1.0, 2.0, 0.0, -8.0], 160, 20);
    let attributes = vec![KeyValue::default()];
    let point = h.to_proto(10, 20, attributes.clone());
    assert_eq!(point.attributes, attributes);
    assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (10, 20));
    assert_eq!(point.count, 4);
    assert_eq!(point.sum, Some(-5.0));
    assert_eq!(point.scale, i32::from(h.scale()));
    assert_eq!(point.zero_count, 1);
    let positive = point.positive.clone().unwrap_or_default();
    assert_eq!((positive.offset, &positive.bucket_counts[..]), h.positive());
    let negative = point.negative.clone().unwrap_or_default();
    assert_eq!((negative.offset, &negative.bucket_counts[..]), h.negative());
    assert_eq!(negative.bucket_counts.iter().sum::<u64>(), 1);
    assert_eq!((point.min, point.max), (Some(-8.0), Some(2.0)));
    assert_eq!((point.zero_threshold, point.flags), (0.0, 0));
    assert!(point.exemplars.is_empty());

    let mut config = config(160, 20);
    config.record_min_max = false;
    let mut h = ExponentialHistogram::new(config);
    h.record(1.0);
    let point = h.to_proto(0, 0, Vec::new());
    assert_eq!((point.min, point.max), (None, None));
    let empty = ExponentialHistogram::default().to_proto(0, 0, Vec::new());
    assert_eq!((empty.count, empty.sum, empty.min), (0, Some(0.0), None));
    assert_eq!(
        empty.positive.map(|b| (b.offset, b.bucket_counts.len())),
        Some((0, 0))
    );
}

/// Finite values of every kind: normal, subnormal, zero, and a few in ordinary ranges.
fn finite_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        4 => -1e6..1e6f64,
        1 => (-1074i64..=1023).prop_map(pow2),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_value_is_counted_in_its_bucket(
        values in prop::collection::vec(finite_value(), 0..300),
        max_size in 2usize..200,
        max_scale in MIN_SCALE..=MAX_SCALE,
    ) {
        let h = histogram_of(&values, max_size, max_scale);
        let scale = h.scale();
        prop_assert!(scale <= max_scale);
        // Counts add up.
        let buckets: u64 = h.positive().1.iter().chain(h.negative().1).sum();
        prop_assert_eq!(buckets + h.zero_count(), h.count());
        prop_assert_eq!(h.count(), values.len() as u64);
        // max_size holds for both ranges, and the ends of a range are in use.
        for (_, counts) in [h.positive(), h.negative()] {
            prop_assert!(counts.len() <= max_size);
            prop_assert!(counts.is_empty() || (counts[0] > 0 && counts[counts.len() - 1] > 0));
        }
        // Each value is in the bucket the final scale maps it to...
        prop_assert_eq!(as_map(h.positive()), expected_counts(&values, scale, true));
        prop_assert_eq!(as_map(h.negative()), expected_counts(&values, scale, false));
        // ... and that bucket's range (base^i, base^(i+1)] contains it.
        for &v in values.iter().filter(|v| **v != 0.0) {
            let magnitude = v.abs();
            let index = map_to_index(v, scale);
            let rounded_up = scale == MIN_SCALE && magnitude <= pow2(-1024);
            if !rounded_up {
                prop_assert!(lower_boundary(index, scale) < magnitude, "{v:e} at {scale}");
            }
            prop_assert!(magnitude <= lower_boundary(index + 1, scale), "{v:e} at {scale}");
        }
        // The scale is the largest that fits (when the ranges are not trivially small).
        if scale < max_scale {
            let finer = scale + 1;
            let too_wide = |positive: bool| {
                let counts = expected_counts(&values, finer, positive);
                match (counts.keys().next(), counts.keys().next_back()) {
                    (Some(lo), Some(hi)) => i64::from(*hi) - i64::from(*lo) >= max_size as i64,
                    _ => false,
                }
            };
            prop_assert!(too_wide(true) || too_wide(false), "scale {scale} is not the ideal one");
        }
        // Statistics.
        let finite: Vec<f64> = values.clone();
        if let (Some(min), Some(max)) = (h.min(), h.max()) {
            prop_assert_eq!(min, finite.iter().copied().fold(f64::INFINITY, f64::min));
            prop_assert_eq!(max, finite.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        } else {
            prop_assert!(values.is_empty());
        }
    }

    #[test]
    fn merge_is_commutative_and_matches_direct_recording(
        a in prop::collection::vec(finite_value(), 0..150),
        b in prop::collection::vec(finite_value(), 0..150),
        max_size in 2usize..100,
    ) {
        let ha = histogram_of(&a, max_size, 20);
        let hb = histogram_of(&b, max_size, 20);
        let mut ab = ha.clone();
        ab.merge(&hb);
        let mut ba = hb.clone();
        ba.merge(&ha);
        prop_assert_eq!(ab.scale(), ba.scale());
        prop_assert_eq!(ab.positive(), ba.positive());
        prop_assert_eq!(ab.negative(), ba.negative());
        prop_assert_eq!(ab.zero_count(), ba.zero_count());
        prop_assert_eq!(ab.count(), ba.count());
        prop_assert_eq!(ab.min(), ba.min());
        prop_assert_eq!(ab.max(), ba.max());
        // Each side's scale is the largest its own values fit at, so both are at least the
        // largest that all values fit at, and the merge lowers the smaller one exactly to that:
        // the merged histogram equals recording everything into one.
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let direct = histogram_of(&all, max_size, 20);
        prop_assert_eq!(ab.scale(), direct.scale());
        prop_assert_eq!(ab.positive(), direct.positive());
        prop_assert_eq!(ab.negative(), direct.negative());
        prop_assert_eq!(as_map(ab.positive()), expected_counts(&all, ab.scale(), true));
        prop_assert_eq!(as_map(ab.negative()), expected_counts(&all, ab.scale(), false));
        for (_, counts) in [ab.positive(), ab.negative()] {
            prop_assert!(counts.len() <= max_size);
        }
    }

    #[test]
    fn fast_and_precise_positions_agree_away_from_boundaries(
        bits in 1u64..(1 << 52),
        scale in 1i8..=20,
    ) {
        let m = f64::from_bits(bits | (1023u64 << 52));
        let fast = m.log2() * pow2(i64::from(scale));
        let fraction = fast - fast.floor();
        prop_assume!(fraction > 1e-6 && fraction < 1.0 - 1e-6);
        prop_assert_eq!(precise_position(m, scale), fast.floor() as i64);
    }
}
