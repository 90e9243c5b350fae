//! The base-2 exponential bucket histogram aggregation of the metrics SDK.
//!
//! [`ExponentialHistogram`] is the aggregation state of one series (one attribute set of one
//! instrument). It holds no lock: the caller wraps it in a `Mutex` (or keeps one per thread and
//! [merges](ExponentialHistogram::merge) them).
//!
//! # What it follows
//!
//! The metrics SDK specification, *Base2 Exponential Bucket Histogram Aggregation*, and the data
//! model, *ExponentialHistogram* (its *Exponential Buckets* and *Producer Expectations*
//! sections):
//!
//! - **Buckets.** At scale `s` the base is `2^(2^-s)` and bucket `i` holds the values `v` with
//!   `base^i < |v| <= base^(i+1)` (upper-inclusive; the negative range maps `|v|` the same way).
//!   Each of the positive and negative ranges is a dense run of counts starting at an `offset`.
//!   Only exact `±0` go to `zero_count` (the zero threshold is 0).
//! - **Mapping.** For `s <= 0` the index comes from the float's bits: the base-2 exponent
//!   (subnormals included), one less for exact powers of two, shifted right by `-s`; this is exact.
//!   For `s > 0` the exponent and the significand `m` in `[1, 2)` are split off the bits, the exact
//!   power-of-two case gives `(e << s) - 1`, and otherwise the index is
//!   `(e << s) + floor(log2(m) * 2^s)` (the data model's logarithm method, applied to the
//!   significand only so that the large `e << s` part is exact), clamped to that power of two's
//!   `2^s` buckets. Where `log2(m) * 2^s` lands within 1e-6 of an integer, it is recomputed with
//!   a double-double (about 106-bit) logarithm, so values one ulp either side of a bucket
//!   boundary are mapped correctly too (tested against boundaries computed in 60-digit decimal).
//! - **Scale.** A new histogram starts at `max_scale` (the spec: use the maximum scale for single
//!   measurements). When a value's index would make a range span more than `max_size` buckets,
//!   the scale is lowered by the smallest `change` that makes it fit (the spec: maintain the
//!   ideal scale, i.e. the largest that fits), and both ranges are downscaled by merging
//!   buckets `i` into `i >> change` (the data model's "perfect subsetting").
//! - **Minimum scale.** The scale never goes below -10. At scale -10 the base is `2^1024`, so every
//!   *normal* value falls into bucket -1 or 0; only values `<= 2^-1024` (all subnormal) would need
//!   bucket -2. At that scale they are rounded up to the smallest normal value, which the spec
//!   permits ("Implementations MAY round subnormal values away from zero to the nearest normal
//!   value"). So every finite value fits into 2 buckets per range and none is ever dropped.
//! - **Non-finite values.** NaN and ±Inf are not counted, summed or bucketed (the spec: "SHOULD
//!   NOT incorporate non-normal values"); [`ExponentialHistogram::ignored`] counts them.
//! - **Reset.** The spec does not say what scale a delta collection starts the next interval
//!   with. [`ExponentialHistogram::reset`] goes back to `max_scale`, as opentelemetry-java (its
//!   buckets' `clear(scale)` is called with the maximum scale) and opentelemetry-rust (it
//!   replaces the state with a new one) do: each interval gets the best resolution its own data
//!   allows.
//! - **Sum.** Always kept and always reported by [`ExponentialHistogram::to_proto`]. The spec says
//!   the sum SHOULD NOT be collected for instruments that record negative measurements; the
//!   Histogram instrument's values are non-negative, and a caller that uses this aggregation for
//!   another instrument clears `sum` in the data point.

// `merge`, the accessors and the mapping functions are API for the pipeline (cumulative
// collection of delta state) and for tests; in a `pub(crate)` module they count as dead until
// the pipeline calls them.

use otlp_proto::common::v1::KeyValue;
use otlp_proto::metrics::v1::ExponentialHistogramDataPoint;
use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets as ProtoBuckets;

/// The largest scale this aggregation supports (the spec's default `MaxScale`).
pub const MAX_SCALE: i8 = 20;

/// The smallest scale this aggregation supports: at -10 two buckets cover every finite value.
pub const MIN_SCALE: i8 = -10;

/// The default maximum number of buckets of each range (the spec's default `MaxSize`).
pub const DEFAULT_MAX_SIZE: usize = 160;

/// The configuration of the aggregation (the spec's `MaxSize`, `MaxScale` and `RecordMinMax`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExponentialConfig {
    /// The maximum number of buckets in each of the positive and negative ranges, not counting
    /// the zero bucket. Default 160; at least 2.
    pub max_size: usize,
    /// The maximum (and starting) scale. Default 20; in `-10..=20`.
    pub max_scale: i8,
    /// Whether min and max are reported. Default `true`.
    pub record_min_max: bool,
}

impl Default for ExponentialConfig {
    fn default() -> Self {
        ExponentialConfig {
            max_size: DEFAULT_MAX_SIZE,
            max_scale: MAX_SCALE,
            record_min_max: true,
        }
    }
}

impl ExponentialConfig {
    /// Checks the configuration: `max_size >= 2` and `max_scale` in `-10..=20`.
    ///
    /// [`ExponentialHistogram::new`] accepts any configuration and clamps it into these
    /// bounds; call this where a configuration is read to reject bad values instead.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_size < 2 {
            return Err(format!(
                "exponential histogram: max_size ({}) must be at least 2",
                self.max_size
            ));
        }
        if !(MIN_SCALE..=MAX_SCALE).contains(&self.max_scale) {
            return Err(format!(
                "exponential histogram: max_scale ({}) must be in {MIN_SCALE}..={MAX_SCALE}",
                self.max_scale
            ));
        }
        Ok(())
    }

    fn clamped(self) -> Self {
        ExponentialConfig {
            max_size: self.max_size.max(2),
            max_scale: self.max_scale.clamp(MIN_SCALE, MAX_SCALE),
            record_min_max: self.record_min_max,
        }
    }
}

const SIGNIFICAND_WIDTH: u32 = 52;
const SIGNIFICAND_MASK: u64 = (1 << SIGNIFICAND_WIDTH) - 1;
const EXPONENT_BIAS: i32 = 1023;
/// The base-2 exponent of the smallest subnormal value, 2^-1074.
const MIN_SUBNORMAL_EXPONENT: i32 = -1074;

/// Splits a finite, non-zero magnitude into `(e, fraction)` with `|v| = 1.fraction * 2^e`:
/// `e` is the normalized base-2 exponent (-1074..=1023, subnormals included) and `fraction` the
/// 52 significand bits after the leading one.
fn decompose(value: f64) -> (i32, u64) {
    let bits = value.to_bits();
    let raw_exponent = ((bits >> SIGNIFICAND_WIDTH) & 0x7ff) as i32;
    let fraction = bits & SIGNIFICAND_MASK;
    if raw_exponent == 0 {
        // Subnormal: value = fraction * 2^-1074, the leading one is the highest set bit.
        let high_bit = 63 - fraction.leading_zeros() as i32;
        let normalized = (fraction << (SIGNIFICAND_WIDTH as i32 - high_bit)) & SIGNIFICAND_MASK;
        (MIN_SUBNORMAL_EXPONENT + high_bit, normalized)
    } else {
        (raw_exponent - EXPONENT_BIAS, fraction)
    }
}

/// At the minimum scale, indices below -1 (magnitudes `<= 2^-1024`, all subnormal) are rounded
/// up into bucket -1, the bucket of the smallest normal value.
fn clamp_index(index: i64, scale: i8) -> i64 {
    if scale <= MIN_SCALE {
        index.max(-1)
    } else {
        index
    }
}

/// The bucket index of the magnitude of `value` at `scale`: the `i` with
/// `base^i < |value| <= base^(i+1)`, `base = 2^(2^-scale)`.
///
/// `value` must be finite and non-zero (the caller puts zero into the zero bucket); for others the
/// result is meaningless. `scale` is clamped into `-10..=20`. For `scale <= 0` and for exact powers
/// of two the index is exact. Otherwise it comes from `log2` of the significand and, where that
/// lands within 1e-6 of a bucket boundary, from a double-double (about 106-bit) logarithm, so it
/// is correct for values one ulp either side of a boundary too.
pub fn map_to_index(value: f64, scale: i8) -> i32 {
    let scale = scale.clamp(MIN_SCALE, MAX_SCALE);
    let (exponent, fraction) = decompose(value.abs());
    let exponent = i64::from(exponent);
    let index = if scale <= 0 {
        // A power of two 2^e is the upper boundary of bucket e - 1.
        let index0 = if fraction == 0 {
            exponent - 1
        } else {
            exponent
        };
        clamp_index(index0 >> -scale, scale)
    } else if fraction == 0 {
        (exponent << scale) - 1
    } else {
        let significand = f64::from_bits(fraction | ((EXPONENT_BIAS as u64) << SIGNIFICAND_WIDTH));
        let buckets_per_octave = 1i64 << scale;
        // log2(m) * 2^s in (0, 2^s) for m in (1, 2); the multiplication by 2^s is exact, and the
        // result's error is below 2^20 * 2^-52 < 1e-9.
        let position = significand.log2() * buckets_per_octave as f64;
        let floor = position.floor();
        let position = if position - floor < NEAR_BOUNDARY || floor + 1.0 - position < NEAR_BOUNDARY
        {
            // Too close to a boundary to trust: recompute in double-double precision.
            precise_position(significand, scale)
        } else {
            floor as i64
        };
        (exponent << scale) + position.clamp(0, buckets_per_octave - 1)
    };
    // Every finite value's index fits: at scale 20 the range is -1_126_170_625..=1_073_741_823.
    index as i32
}

/// How close (in bucket units) `log2(m) * 2^s` must be to an integer for [`map_to_index`] to
/// recompute it precisely. The fast result's error is below 1e-9.
const NEAR_BOUNDARY: f64 = 1e-6;

/// A double-double number `hi + lo` with `|lo| <= ulp(hi) / 2` (about 106 significant bits).
#[derive(Clone, Copy, Debug)]
struct DoubleDouble {
    hi: f64,
    lo: f64,
}

impl DoubleDouble {
    /// `1 / ln 2` to about 106 bits (checked against a 60-digit decimal value in the tests).
    const LOG2_E: DoubleDouble = DoubleDouble {
        hi: std::f64::consts::LOG2_E,
        lo: 2.0355273740931033e-17,
    };

    fn from_f64(value: f64) -> Self {
        DoubleDouble { hi: value, lo: 0.0 }
    }

    /// `a + b` exactly, as a normalized pair.
    fn two_sum(a: f64, b: f64) -> Self {
        let hi = a + b;
        let b_virtual = hi - a;
        let lo = (a - (hi - b_virtual)) + (b - b_virtual);
        DoubleDouble { hi, lo }
    }

    /// Renormalizes `hi + lo` where `|hi| >= |lo|`.
    fn quick_two_sum(hi: f64, lo: f64) -> Self {
        let sum = hi + lo;
        DoubleDouble {
            hi: sum,
            lo: lo - (sum - hi),
        }
    }

    fn add(self, other: Self) -> Self {
        let sum = Self::two_sum(self.hi, other.hi);
        Self::quick_two_sum(sum.hi, sum.lo + self.lo + other.lo)
    }

    fn mul(self, other: Self) -> Self {
        let product = self.hi * other.hi;
        let error = self.hi.mul_add(other.hi, -product);
        Self::quick_two_sum(product, error + self.hi * other.lo + self.lo * other.hi)
    }

    fn div(self, other: Self) -> Self {
        let q1 = self.hi / other.hi;
        let r = self.add(other.mul(Self::from_f64(-q1)));
        let q2 = r.hi / other.hi;
        let r = r.add(other.mul(Self::from_f64(-q2)));
        let q3 = r.hi / other.hi;
        Self::quick_two_sum(q1, q2).add(Self::from_f64(q3))
    }

    /// The floor as an integer (`hi` is far below 2^53 here).
    fn floor(self) -> i64 {
        let floor = self.hi.floor();
        if floor == self.hi && self.lo < 0.0 {
            floor as i64 - 1
        } else {
            floor as i64
        }
    }
}

/// `floor(log2(m) * 2^scale)` for `m` in `(1, 2)`, in double-double precision: `ln m` by the
/// series `2 * atanh(z)`, `z = (m - 1) / (m + 1)` (`z <= 1/3`, so 36 terms reach 2^-110).
fn precise_position(significand: f64, scale: i8) -> i64 {
    let numerator = DoubleDouble::from_f64(significand - 1.0); // exact (Sterbenz)
    let denominator = DoubleDouble::two_sum(significand, 1.0);
    let z = numerator.div(denominator);
    let z2 = z.mul(z);
    let mut power = z;
    let mut series = z;
    for k in 1..36 {
        power = power.mul(z2);
        series = series.add(power.div(DoubleDouble::from_f64(f64::from(2 * k + 1))));
    }
    let ln = series.mul(DoubleDouble::from_f64(2.0));
    let position = ln
        .mul(DoubleDouble::LOG2_E)
        .mul(DoubleDouble::from_f64(pow2(i64::from(scale))));
    position.floor()
}

/// `2^exponent`, exact where representable (0 below 2^-1074, +Inf above 2^1023).
fn pow2(exponent: i64) -> f64 {
    if exponent > 1023 {
        f64::INFINITY
    } else if exponent >= -1022 {
        f64::from_bits(((exponent + i64::from(EXPONENT_BIAS)) as u64) << SIGNIFICAND_WIDTH)
    } else if exponent >= i64::from(MIN_SUBNORMAL_EXPONENT) {
        f64::from_bits(1u64 << (exponent - i64::from(MIN_SUBNORMAL_EXPONENT)))
    } else {
        0.0
    }
}

/// The lower (exclusive) boundary of bucket `index` at `scale`: `base^index`.
///
/// Exact when `index` is a multiple of `2^scale` (a power of two; always for `scale <= 0`),
/// otherwise `2^e * exp2(r / 2^scale)` with one rounding for the fraction and, for subnormal
/// results, one for the scaling. Boundaries beyond the `f64` range come out as 0 or +Inf.
pub fn lower_boundary(index: i32, scale: i8) -> f64 {
    let index = i64::from(index);
    if scale <= 0 {
        return pow2(index << -scale);
    }
    let buckets_per_octave = 1i64 << scale;
    let exponent = index >> scale;
    let remainder = index & (buckets_per_octave - 1);
    if remainder == 0 {
        return pow2(exponent);
    }
    let fraction = (remainder as f64 / buckets_per_octave as f64).exp2();
    if exponent >= -1022 {
        fraction * pow2(exponent)
    } else {
        // Scale in two steps so that the intermediate 2^exponent does not underflow.
        fraction * pow2(exponent + 64) * pow2(-64)
    }
}

/// The scale change that makes the index range `low..=high` (at `scale`) fit in `max_size`
/// buckets.
fn change_to_fit(low: i64, high: i64, scale: i8, max_size: usize) -> u32 {
    let max_size = max_size as i64;
    let mut change = 0u32;
    let (mut lo, mut hi) = (low, high);
    while hi - lo >= max_size && i32::from(scale) - (change as i32) > i32::from(MIN_SCALE) {
        change += 1;
        let new_scale = scale - change as i8;
        lo = clamp_index(low >> change, new_scale);
        hi = clamp_index(high >> change, new_scale);
    }
    change
}

/// One range (positive or negative) of buckets: counts of indices `offset..offset + len`.
///
/// Invariant: `counts` is empty or its first and last entries are non-zero.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Buckets {
    offset: i64,
    counts: Vec<u64>,
}

impl Buckets {
    /// The first and last index in use, if any.
    fn range(&self) -> Option<(i64, i64)> {
        if self.counts.is_empty() {
            None
        } else {
            Some((self.offset, self.offset + self.counts.len() as i64 - 1))
        }
    }

    /// Adds `n` (> 0) to the bucket `index`, growing the run at either end.
    fn add(&mut self, index: i64, n: u64) {
        match self.range() {
            None => {
                self.offset = index;
                self.counts.push(n);
                return;
            }
            Some((low, _)) if index < low => {
                let grow = (low - index) as usize;
                self.counts.splice(0..0, std::iter::repeat_n(0, grow));
                self.offset = index;
            }
            Some((_, high)) if index > high => {
                self.counts.resize((index - self.offset + 1) as usize, 0);
            }
            Some(_) => {}
        }
        let slot = (index - self.offset) as usize;
        self.counts[slot] = self.counts[slot].saturating_add(n);
    }

    /// Lowers the resolution by `change` (to `new_scale`): bucket `i` merges into `i >> change`.
    fn downscale(&mut self, change: u32, new_scale: i8) {
        let Some((low, high)) = self.range() else {
            return;
        };
        if change == 0 {
            return;
        }
        let new_low = clamp_index(low >> change, new_scale);
        let new_high = clamp_index(high >> change, new_scale);
        let mut merged = vec![0u64; (new_high - new_low + 1) as usize];
        for (i, &count) in self.counts.iter().enumerate() {
            let index = clamp_index((low + i as i64) >> change, new_scale);
            let slot = (index - new_low) as usize;
            merged[slot] = merged[slot].saturating_add(count);
        }
        self.offset = new_low;
        self.counts = merged;
    }

    /// The range of indices `other` (at `from`) and `self` (at `self_scale`) together occupy at
    /// `to`.
    fn union_range(&self, self_scale: i8, other: &Buckets, from: i8, to: i8) -> Option<(i64, i64)> {
        let shifted = |b: &Buckets, scale: i8| {
            b.range().map(|(lo, hi)| {
                let change = (scale - to) as u32;
                (clamp_index(lo >> change, to), clamp_index(hi >> change, to))
            })
        };
        match (shifted(self, self_scale), shifted(other, from)) {
            (None, r) | (r, None) => r,
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        }
    }

    fn offset_i32(&self) -> i32 {
        // Indices of finite values always fit in i32 (see `map_to_index`).
        if self.counts.is_empty() {
            0
        } else {
            self.offset as i32
        }
    }

    fn to_proto(&self) -> ProtoBuckets {
        ProtoBuckets {
            offset: self.offset_i32(),
            bucket_counts: self.counts.clone(),
        }
    }
}

/// The base-2 exponential histogram state of one series.
///
/// Records values into a zero bucket and positive and negative ranges of at most `max_size`
/// buckets each, lowering the shared scale as the data's range requires. See the
/// [module documentation](self) for the rules it follows.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialHistogram {
    config: ExponentialConfig,
    scale: i8,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    zero_count: u64,
    positive: Buckets,
    negative: Buckets,
    ignored: u64,
}

impl ExponentialHistogram {
    /// An empty histogram at `config.max_scale`.
    ///
    /// An out-of-range configuration is clamped (`max_size` to at least 2, `max_scale` into
    /// `-10..=20`); use [`ExponentialConfig::validate`] to reject it instead.
    pub fn new(config: ExponentialConfig) -> Self {
        let config = config.clamped();
        ExponentialHistogram {
            config,
            scale: config.max_scale,
            count: 0,
            sum: 0.0,
            min: 0.0,
            max: 0.0,
            zero_count: 0,
            positive: Buckets::default(),
            negative: Buckets::default(),
            ignored: 0,
        }
    }

    /// The configuration in effect (after clamping).
    pub fn config(&self) -> &ExponentialConfig {
        &self.config
    }

    /// Records one measurement. NaN and ±Inf are ignored and counted by [`Self::ignored`].
    pub fn record(&mut self, value: f64) {
        if !value.is_finite() {
            self.ignored += 1;
            return;
        }
        self.update_stats(value);
        if value == 0.0 {
            self.zero_count += 1;
            return;
        }
        let mut index = i64::from(map_to_index(value, self.scale));
        let buckets = if value > 0.0 {
            &self.positive
        } else {
            &self.negative
        };
        let change = match buckets.range() {
            None => 0,
            Some((low, high)) => change_to_fit(
                low.min(index),
                high.max(index),
                self.scale,
                self.config.max_size,
            ),
        };
        if change > 0 {
            self.downscale(change);
            index = clamp_index(index >> change, self.scale);
        }
        if value > 0.0 {
            self.positive.add(index, 1);
        } else {
            self.negative.add(index, 1);
        }
    }

    fn update_stats(&mut self, value: f64) {
        if self.count == 0 {
            self.min = value;
            self.max = value;
        } else {
            if value < self.min {
                self.min = value;
            }
            if value > self.max {
                self.max = value;
            }
        }
        self.count += 1;
        self.sum += value;
    }

    /// Lowers the scale by `change`, merging buckets in both ranges.
    fn downscale(&mut self, change: u32) {
        if change == 0 {
            return;
        }
        let new_scale = (i32::from(self.scale) - change as i32).max(i32::from(MIN_SCALE)) as i8;
        let change = (self.scale - new_scale) as u32;
        self.positive.downscale(change, new_scale);
        self.negative.downscale(change, new_scale);
        self.scale = new_scale;
    }

    /// Adds `other`'s measurements to this histogram (for example a delta interval's state into
    /// a cumulative one).
    ///
    /// The result uses the lower of the two scales, lowered further if the combined ranges need
    /// more than this histogram's `max_size` buckets; its counts are those that recording all of
    /// both histograms' values into one histogram would give at that scale.
    pub fn merge(&mut self, other: &ExponentialHistogram) {
        let mut target = self.scale.min(other.scale);
        let mut change = 0;
        for (mine, theirs) in [
            (&self.positive, &other.positive),
            (&self.negative, &other.negative),
        ] {
            if let Some((low, high)) = mine.union_range(self.scale, theirs, other.scale, target) {
                change = change.max(change_to_fit(low, high, target, self.config.max_size));
            }
        }
        target -= change as i8;
        self.downscale((self.scale - target) as u32);
        let from = other.scale;
        let shift = (from - self.scale) as u32;
        let scale = self.scale;
        for (mine, theirs) in [
            (&mut self.positive, &other.positive),
            (&mut self.negative, &other.negative),
        ] {
            for (i, &n) in theirs.counts.iter().enumerate() {
                if n > 0 {
                    let index = clamp_index((theirs.offset + i as i64) >> shift, scale);
                    mine.add(index, n);
                }
            }
        }
        if other.count > 0 {
            if self.count == 0 {
                self.min = other.min;
                self.max = other.max;
            } else {
                if other.min < self.min {
                    self.min = other.min;
                }
                if other.max > self.max {
                    self.max = other.max;
                }
            }
        }
        self.count += other.count;
        self.sum += other.sum;
        self.zero_count += other.zero_count;
        self.ignored += other.ignored;
    }

    /// Empties the histogram for the next (delta) interval and returns the scale to `max_scale`.
    ///
    /// The spec leaves the scale after a reset open; opentelemetry-java and opentelemetry-rust
    /// both go back to the maximum scale, so each interval gets the best resolution its own data
    /// allows. The [`Self::ignored`] counter is cleared too.
    pub fn reset(&mut self) {
        *self = ExponentialHistogram::new(self.config);
    }

    /// The OTLP data point of this state.
    ///
    /// `sum` is always `Some` (clear it for instruments that can record negative values, as the
    /// spec asks); `min` and `max` are `Some` when `record_min_max` is on and a value was recorded;
    /// `zero_threshold` is 0, `flags` 0 and `exemplars` empty (the caller fills them). Both
    /// ranges are always present; an empty one has offset 0 and no counts.
    pub fn to_proto(
        &self,
        start_time_unix_nano: u64,
        time_unix_nano: u64,
        attributes: Vec<KeyValue>,
    ) -> ExponentialHistogramDataPoint {
        let (min, max) = if self.config.record_min_max {
            (self.min(), self.max())
        } else {
            (None, None)
        };
        ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano,
            time_unix_nano,
            count: self.count,
            sum: Some(self.sum),
            scale: i32::from(self.scale),
            zero_count: self.zero_count,
            positive: Some(self.positive.to_proto()),
            negative: Some(self.negative.to_proto()),
            flags: 0,
            exemplars: Vec::new(),
            min,
            max,
            zero_threshold: 0.0,
        }
    }

    /// The current scale.
    pub fn scale(&self) -> i8 {
        self.scale
    }

    /// The number of recorded (finite) values, zeros included.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of the recorded values.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The smallest recorded value, if any (tracked whatever `record_min_max` says).
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    /// The largest recorded value, if any (tracked whatever `record_min_max` says).
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The number of values that were exactly ±0.
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }

    /// The number of NaN and ±Inf measurements that were not recorded.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Whether no value has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The positive range: the index of the first bucket (0 when empty) and the counts.
    pub fn positive(&self) -> (i32, &[u64]) {
        (self.positive.offset_i32(), &self.positive.counts)
    }

    /// The negative range (magnitudes of negative values): first index (0 when empty) and counts.
    pub fn negative(&self) -> (i32, &[u64]) {
        (self.negative.offset_i32(), &self.negative.counts)
    }
}

impl Default for ExponentialHistogram {
    fn default() -> Self {
        ExponentialHistogram::new(ExponentialConfig::default())
    }
}

#[cfg(test)]
mod tests;
