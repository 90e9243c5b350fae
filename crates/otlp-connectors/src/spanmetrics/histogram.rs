//! The duration histograms of `spanmetrics`: explicit buckets (bucket `i` holds values in
//! `(bounds[i-1], bounds[i]]`, as OTLP defines them) or a base-2 exponential histogram of at
//! most `max_size` buckets, which lowers its scale (merging neighbouring buckets) whenever a
//! new value would need more.

use std::sync::Arc;

use otlp_proto::metrics::v1::exponential_histogram_data_point::Buckets;
use otlp_proto::metrics::v1::{ExponentialHistogramDataPoint, HistogramDataPoint};

/// The scale a new exponential histogram starts at (the finest; lowered as values spread).
pub(crate) const MAX_SCALE: i32 = 20;
/// The coarsest scale (each bucket spans a factor of 2^1024: every f64 fits in two).
const MIN_SCALE: i32 = -10;

/// One series' duration histogram.
#[derive(Debug, Clone)]
pub(crate) enum DurationHistogram {
    /// Explicit bounds.
    Explicit(ExplicitHistogram),
    /// Base-2 exponential.
    Exponential(ExponentialHistogram),
}

impl DurationHistogram {
    /// Records one duration (never negative).
    pub(crate) fn observe(&mut self, value: f64) {
        match self {
            DurationHistogram::Explicit(h) => h.observe(value),
            DurationHistogram::Exponential(h) => h.observe(value),
        }
    }
}

/// Counts per explicit bucket, with the count and the sum.
#[derive(Debug, Clone)]
pub(crate) struct ExplicitHistogram {
    bounds: Arc<[f64]>,
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl ExplicitHistogram {
    /// An empty histogram over `bounds` (increasing).
    pub(crate) fn new(bounds: Arc<[f64]>) -> ExplicitHistogram {
        let counts = vec![0; bounds.len() + 1];
        ExplicitHistogram {
            bounds,
            counts,
            count: 0,
            sum: 0.0,
        }
    }

    /// Records `value` in the first bucket whose upper bound is at least `value`.
    pub(crate) fn observe(&mut self, value: f64) {
        let index = self.bounds.partition_point(|bound| *bound < value);
        if let Some(slot) = self.counts.get_mut(index) {
            *slot += 1;
        }
        self.count += 1;
        self.sum += value;
    }

    /// The data point (attributes, times and exemplars left for the caller).
    pub(crate) fn point(&self) -> HistogramDataPoint {
        HistogramDataPoint {
            count: self.count,
            sum: Some(self.sum),
            bucket_counts: self.counts.clone(),
            explicit_bounds: self.bounds.to_vec(),
            ..HistogramDataPoint::default()
        }
    }
}

/// A base-2 exponential histogram of non-negative values.
#[derive(Debug, Clone)]
pub(crate) struct ExponentialHistogram {
    max_size: usize,
    scale: i32,
    offset: i64,
    counts: Vec<u64>,
    zero_count: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// The bucket index of a positive, normal `value` at `scale`: bucket `i` holds values in
/// `(2^(i / 2^scale), 2^((i + 1) / 2^scale)]`.
fn bucket_index(value: f64, scale: i32) -> i64 {
    let bits = value.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let exact_power = bits & ((1 << 52) - 1) == 0;
    if scale <= 0 {
        // The index at scale 0, then a floor division by 2^-scale.
        let index = if exact_power { exponent - 1 } else { exponent };
        return index >> (-scale);
    }
    if exact_power {
        return (exponent << scale) - 1;
    }
    let scaled = value.log2() * f64::from(scale).exp2();
    scaled.ceil() as i64 - 1
}

impl ExponentialHistogram {
    /// An empty histogram of at most `max_size` buckets (at least 1).
    pub(crate) fn new(max_size: u32) -> ExponentialHistogram {
        ExponentialHistogram {
            max_size: (max_size as usize).max(1),
            scale: MAX_SCALE,
            offset: 0,
            counts: Vec::new(),
            zero_count: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// The current scale.
    #[cfg(test)]
    pub(crate) fn scale(&self) -> i32 {
        self.scale
    }

    /// Records `value`: zero (and values too small to be normal) in the zero bucket.
    pub(crate) fn observe(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if !value.is_normal() {
            self.zero_count += 1;
            return;
        }
        let mut index = bucket_index(value, self.scale);
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(1);
            return;
        }
        let low = self.offset.min(index);
        let high = (self.offset + self.counts.len() as i64 - 1).max(index);
        let mut change = 0;
        while self.scale - change > MIN_SCALE
            && (high >> change) - (low >> change) + 1 > self.max_size as i64
        {
            change += 1;
        }
        if change > 0 {
            self.downscale(change);
            index >>= change;
        }
        if index < self.offset {
            let missing = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, missing));
            self.offset = index;
        }
        let position = (index - self.offset) as usize;
        if position >= self.counts.len() {
            self.counts.resize(position + 1, 0);
        }
        if let Some(slot) = self.counts.get_mut(position) {
            *slot += 1;
        }
    }

    /// Lowers the scale by `change`, merging each 2^change neighbouring buckets.
    fn downscale(&mut self, change: i32) {
        let offset = self.offset >> change;
        let mut merged: Vec<u64> = Vec::new();
        for (i, count) in self.counts.iter().enumerate() {
            let position = (((self.offset + i as i64) >> change) - offset) as usize;
            if position >= merged.len() {
                merged.resize(position + 1, 0);
            }
            if let Some(slot) = merged.get_mut(position) {
                *slot += count;
            }
        }
        self.offset = offset;
        self.counts = merged;
        self.scale -= change;
    }

    /// The data point (attributes, times and exemplars left for the caller).
    pub(crate) fn point(&self) -> ExponentialHistogramDataPoint {
        let (min, max) = if self.count > 0 {
            (Some(self.min), Some(self.max))
        } else {
            (None, None)
        };
        ExponentialHistogramDataPoint {
            count: self.count,
            sum: Some(self.sum),
            scale: self.scale,
            zero_count: self.zero_count,
            positive: Some(Buckets {
                offset: self.offset as i32,
                bucket_counts: self.counts.clone(),
            }),
            negative: Some(Buckets::default()),
            min,
            max,
            ..ExponentialHistogramDataPoint::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn explicit_bounds_are_upper_inclusive() {
        let mut h = ExplicitHistogram::new(Arc::from(vec![1.0, 10.0]));
        for value in [0.5, 1.0, 1.5, 10.0, 11.0] {
            h.observe(value);
        }
        let point = h.point();
        assert_eq!(point.bucket_counts, [2, 2, 1]);
        assert_eq!(point.count, 5);
        assert_eq!(point.sum, Some(24.0));
    }

    #[test]
    fn exponential_indexes_powers_of_two_into_the_lower_bucket() {
        // At scale 0, bucket i is (2^i, 2^(i+1)]: 4 is in bucket 1, 5 in bucket 2.
        assert_eq!(bucket_index(4.0, 0), 1);
        assert_eq!(bucket_index(5.0, 0), 2);
        assert_eq!(bucket_index(1.0, 0), -1);
        // At scale 1 the base is sqrt(2): 2 = sqrt(2)^2 is in bucket 1, 2.5 in bucket 2.
        assert_eq!(bucket_index(2.0, 1), 1);
        assert_eq!(bucket_index(2.5, 1), 2);
        // At scale -1 the base is 4: 5 is in (4, 16], bucket 1.
        assert_eq!(bucket_index(5.0, -1), 1);
    }

    #[test]
    fn exponential_downscales_to_stay_within_max_size() {
        let mut h = ExponentialHistogram::new(4);
        for value in [1.0, 2.0, 4.0, 8.0, 16.0, 1000.0, 0.0] {
            h.observe(value);
        }
        let point = h.point();
        let positive = point.positive.unwrap();
        assert!(positive.bucket_counts.len() <= 4, "{positive:?}");
        assert_eq!(positive.bucket_counts.iter().sum::<u64>(), 6);
        assert_eq!(point.zero_count, 1);
        assert_eq!(point.count, 7);
        assert_eq!(point.min, Some(0.0));
        assert_eq!(point.max, Some(1000.0));
        // Every value still lies in the bucket the final scale gives it.
        let base = f64::from(point.scale).exp2().recip().exp2();
        for value in [1.0_f64, 2.0, 4.0, 8.0, 16.0, 1000.0] {
            let i = bucket_index(value, point.scale) - i64::from(positive.offset);
            assert!(positive.bucket_counts[i as usize] > 0);
            let upper = base.powi((i as i32) + positive.offset + 1);
            assert!(value <= upper * (1.0 + 1e-9), "{value} <= {upper}");
        }
    }

    #[test]
    fn one_value_keeps_the_finest_scale() {
        let mut h = ExponentialHistogram::new(160);
        h.observe(3.0);
        assert_eq!(h.scale(), MAX_SCALE);
        assert_eq!(h.point().positive.unwrap().bucket_counts, [1]);
    }
}
