//! Aggregations: how the measurements of one series become a data point.

// Complete for its own tests (merge, boundaries); the SDK uses record/collect/reset.
#[allow(unreachable_pub, dead_code)]
pub(crate) mod exponential;
pub(crate) mod state;

pub(crate) use state::{Collected, SeriesState};

/// The spec's default explicit bucket boundaries.
pub const DEFAULT_BOUNDARIES: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// How a stream aggregates (a view may choose; otherwise the instrument kind's default).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Aggregation {
    /// The kind's default: sum for counters, last value for gauges, explicit-bucket
    /// histogram for histograms.
    Default,
    /// Drop every measurement.
    Drop,
    /// The arithmetic sum.
    Sum,
    /// The last value recorded.
    LastValue,
    /// A histogram over fixed boundaries.
    ExplicitBucketHistogram {
        /// Bucket boundaries, strictly increasing (upper-inclusive buckets).
        boundaries: Vec<f64>,
        /// Record min and max (default true).
        record_min_max: bool,
    },
    /// A base-2 exponential histogram.
    Base2ExponentialHistogram {
        /// Buckets per sign at most (default 160).
        max_size: usize,
        /// The finest scale (default 20).
        max_scale: i8,
        /// Record min and max (default true).
        record_min_max: bool,
    },
}

impl Aggregation {
    /// The explicit-bucket histogram with the spec's default boundaries.
    #[must_use]
    pub fn default_histogram() -> Self {
        Self::ExplicitBucketHistogram {
            boundaries: DEFAULT_BOUNDARIES.to_vec(),
            record_min_max: true,
        }
    }

    /// The exponential histogram with the spec's defaults (160 buckets, scale 20).
    #[must_use]
    pub fn default_exponential() -> Self {
        Self::Base2ExponentialHistogram {
            max_size: 160,
            max_scale: 20,
            record_min_max: true,
        }
    }

    /// Checks boundaries and sizes.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            Self::ExplicitBucketHistogram { boundaries, .. } => {
                if boundaries.iter().any(|b| !b.is_finite()) {
                    return Err("histogram boundaries must be finite".into());
                }
                if boundaries.windows(2).any(|w| w[0] >= w[1]) {
                    return Err("histogram boundaries must be strictly increasing".into());
                }
                Ok(())
            }
            Self::Base2ExponentialHistogram {
                max_size,
                max_scale,
                record_min_max,
            } => exponential::ExponentialConfig {
                max_size: *max_size,
                max_scale: *max_scale,
                record_min_max: *record_min_max,
            }
            .validate(),
            _ => Ok(()),
        }
    }
}
