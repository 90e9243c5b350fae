//! The state of one series and how it turns into a data point at collection.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use otlp_proto::common::v1::KeyValue as ProtoKeyValue;
use otlp_proto::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, number_data_point,
};

use super::Aggregation;
use super::exponential::{ExponentialConfig, ExponentialHistogram};
use crate::metrics::Temporality;
use crate::metrics::exemplar::{Kept, Reservoir};

/// A measurement: integers stay integers (OTLP `as_int`), floats stay floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Measure {
    Int(i64),
    Float(f64),
}

impl Measure {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

#[derive(Debug)]
enum Cell {
    Int(AtomicI64),
    /// f64 bits.
    Float(AtomicU64),
}

impl Cell {
    fn new(integer: bool) -> Self {
        if integer {
            Self::Int(AtomicI64::new(0))
        } else {
            Self::Float(AtomicU64::new(0f64.to_bits()))
        }
    }

    fn add(&self, m: Measure) {
        match self {
            Self::Int(a) => {
                let add = match m {
                    Measure::Int(i) => i,
                    Measure::Float(f) => f as i64,
                };
                a.fetch_add(add, Ordering::Relaxed);
            }
            Self::Float(a) => {
                let add = m.as_f64();
                let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                    Some((f64::from_bits(bits) + add).to_bits())
                });
            }
        }
    }

    fn set(&self, m: Measure) {
        match self {
            Self::Int(a) => a.store(
                match m {
                    Measure::Int(i) => i,
                    Measure::Float(f) => f as i64,
                },
                Ordering::Relaxed,
            ),
            Self::Float(a) => a.store(m.as_f64().to_bits(), Ordering::Relaxed),
        }
    }

    fn load(&self) -> Measure {
        match self {
            Self::Int(a) => Measure::Int(a.load(Ordering::Relaxed)),
            Self::Float(a) => Measure::Float(f64::from_bits(a.load(Ordering::Relaxed))),
        }
    }

    fn take(&self) -> Measure {
        match self {
            Self::Int(a) => Measure::Int(a.swap(0, Ordering::Relaxed)),
            Self::Float(a) => {
                Measure::Float(f64::from_bits(a.swap(0f64.to_bits(), Ordering::Relaxed)))
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Buckets {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
}

impl Buckets {
    fn new(n: usize) -> Self {
        Self {
            counts: vec![0; n],
            sum: 0.0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

#[derive(Debug)]
enum Kind {
    /// Counters and up-down counters (synchronous: measurements add up).
    Sum(Cell),
    /// Observable counters: the callback reports the running total; `previous` is the last
    /// reported total (for delta temporality).
    ObservedSum {
        current: Cell,
        previous: Cell,
    },
    /// Gauges.
    LastValue(Cell),
    Histogram {
        boundaries: Vec<f64>,
        record_min_max: bool,
        state: Mutex<Buckets>,
    },
    Exponential(Mutex<ExponentialHistogram>),
}

/// A data point of one series.
#[derive(Debug)]
pub(crate) enum Collected {
    Number(NumberDataPoint),
    Histogram(HistogramDataPoint),
    Exponential(ExponentialHistogramDataPoint),
}

/// One series of a stream: its aggregation state, exemplars and bookkeeping.
#[derive(Debug)]
pub(crate) struct SeriesState {
    kind: Kind,
    /// Start of the current interval (delta) or of the series (cumulative), Unix nanos.
    start: AtomicU64,
    /// Measured since the last collection.
    updated: AtomicBool,
    /// Bound instruments holding this series (never forgotten while > 0).
    bound: AtomicUsize,
    exemplars: Option<Mutex<Reservoir>>,
    /// Fed by a callback: reported only when observed in the collection.
    observed: bool,
}

impl SeriesState {
    /// A new series for `aggregation` (never `Default` or `Drop`, resolved before).
    pub(crate) fn new(
        aggregation: &Aggregation,
        integer: bool,
        observed: bool,
        exemplars: bool,
    ) -> Self {
        let (kind, reservoir) = match aggregation {
            Aggregation::LastValue => (Kind::LastValue(Cell::new(integer)), Reservoir::fixed(1)),
            Aggregation::ExplicitBucketHistogram {
                boundaries,
                record_min_max,
            } => (
                Kind::Histogram {
                    boundaries: boundaries.clone(),
                    record_min_max: *record_min_max,
                    state: Mutex::new(Buckets::new(boundaries.len() + 1)),
                },
                if boundaries.is_empty() {
                    Reservoir::fixed(1)
                } else {
                    Reservoir::aligned(boundaries)
                },
            ),
            Aggregation::Base2ExponentialHistogram {
                max_size,
                max_scale,
                record_min_max,
            } => (
                Kind::Exponential(Mutex::new(ExponentialHistogram::new(ExponentialConfig {
                    max_size: *max_size,
                    max_scale: *max_scale,
                    record_min_max: *record_min_max,
                }))),
                Reservoir::fixed((*max_size).min(20)),
            ),
            _ if observed => (
                Kind::ObservedSum {
                    current: Cell::new(integer),
                    previous: Cell::new(integer),
                },
                Reservoir::fixed(1),
            ),
            _ => (Kind::Sum(Cell::new(integer)), Reservoir::fixed(1)),
        };
        Self {
            kind,
            start: AtomicU64::new(otlp_model::time::now_unix_nanos()),
            updated: AtomicBool::new(false),
            bound: AtomicUsize::new(0),
            exemplars: exemplars.then(|| Mutex::new(reservoir)),
            observed,
        }
    }

    /// Records a synchronous measurement (or an observation, for observable instruments).
    pub(crate) fn record(&self, m: Measure) {
        match &self.kind {
            Kind::Sum(cell) => cell.add(m),
            Kind::ObservedSum { current, .. } => current.set(m),
            Kind::LastValue(cell) => cell.set(m),
            Kind::Histogram {
                boundaries,
                record_min_max,
                state,
            } => {
                let v = m.as_f64();
                if !v.is_finite() {
                    return;
                }
                let index = boundaries.partition_point(|b| *b < v);
                let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(c) = s.counts.get_mut(index) {
                    *c += 1;
                }
                s.sum += v;
                s.count += 1;
                if *record_min_max {
                    s.min = s.min.min(v);
                    s.max = s.max.max(v);
                }
            }
            Kind::Exponential(h) => h
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(m.as_f64()),
        }
        if !self.updated.load(Ordering::Relaxed) {
            self.updated.store(true, Ordering::Relaxed);
        }
    }

    /// Offers the measurement to the reservoir (the filter already let it through).
    pub(crate) fn offer(&self, m: Measure, kept: impl FnOnce() -> Kept) {
        if let Some(reservoir) = &self.exemplars {
            // The reservoir decides first; the exemplar (a clock read, the filtered
            // attributes) is built only when it is kept.
            reservoir
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .offer_with(m.as_f64(), kept);
        }
    }

    pub(crate) fn wants_exemplars(&self) -> bool {
        self.exemplars.is_some()
    }

    pub(crate) fn bind(&self) {
        self.bound.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unbind(&self) {
        self.bound.fetch_sub(1, Ordering::Relaxed);
    }

    /// Whether a delta collection may forget this series: nothing measured in the interval
    /// that just ended and no bound instrument holding it.
    pub(crate) fn forgettable(&self) -> bool {
        !self.updated.load(Ordering::Relaxed) && self.bound.load(Ordering::Relaxed) == 0
    }

    /// The data point of this series at `now`, or `None` when it has nothing to report
    /// (delta: nothing measured in the interval; observable: not observed this time).
    pub(crate) fn collect(
        &self,
        temporality: Temporality,
        now: u64,
        attributes: Vec<ProtoKeyValue>,
    ) -> Option<Collected> {
        let updated = self.updated.swap(false, Ordering::Relaxed);
        let delta = temporality == Temporality::Delta;
        if !updated && (delta || self.observed) {
            return None;
        }
        let start = if delta {
            self.start.swap(now, Ordering::Relaxed)
        } else {
            self.start.load(Ordering::Relaxed)
        };
        let exemplars = self.take_exemplars();
        Some(match &self.kind {
            Kind::Sum(cell) => number(
                if delta { cell.take() } else { cell.load() },
                start,
                now,
                attributes,
                exemplars,
            ),
            Kind::ObservedSum { current, previous } => {
                let total = current.load();
                let value = if delta {
                    let before = previous.load();
                    previous.set(total);
                    match (total, before) {
                        (Measure::Int(t), Measure::Int(b)) => Measure::Int(t - b),
                        (t, b) => Measure::Float(t.as_f64() - b.as_f64()),
                    }
                } else {
                    total
                };
                number(value, start, now, attributes, exemplars)
            }
            Kind::LastValue(cell) => number(cell.load(), start, now, attributes, exemplars),
            Kind::Histogram {
                boundaries,
                record_min_max,
                state,
            } => {
                let b = {
                    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
                    if delta {
                        std::mem::replace(&mut *s, Buckets::new(boundaries.len() + 1))
                    } else {
                        s.clone()
                    }
                };
                let has_min_max = *record_min_max && b.count > 0;
                Collected::Histogram(HistogramDataPoint {
                    attributes,
                    start_time_unix_nano: start,
                    time_unix_nano: now,
                    count: b.count,
                    sum: Some(b.sum),
                    bucket_counts: b.counts,
                    explicit_bounds: boundaries.clone(),
                    exemplars,
                    flags: 0,
                    min: has_min_max.then_some(b.min),
                    max: has_min_max.then_some(b.max),
                })
            }
            Kind::Exponential(h) => {
                let mut h = h.lock().unwrap_or_else(PoisonError::into_inner);
                let mut point = h.to_proto(start, now, attributes);
                if delta {
                    h.reset();
                }
                point.exemplars = exemplars;
                Collected::Exponential(point)
            }
        })
    }

    fn take_exemplars(&self) -> Vec<Exemplar> {
        self.exemplars.as_ref().map_or_else(Vec::new, |r| {
            r.lock().unwrap_or_else(PoisonError::into_inner).take()
        })
    }
}

fn number(
    value: Measure,
    start: u64,
    now: u64,
    attributes: Vec<ProtoKeyValue>,
    exemplars: Vec<Exemplar>,
) -> Collected {
    Collected::Number(NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: now,
        exemplars,
        flags: 0,
        value: Some(match value {
            Measure::Int(i) => number_data_point::Value::AsInt(i),
            Measure::Float(f) => number_data_point::Value::AsDouble(f),
        }),
    })
}
