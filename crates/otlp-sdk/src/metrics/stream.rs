//! A metric stream: one instrument as one reader sees it through one view — its
//! aggregation, temporality, attribute filter, cardinality limit and series.

use std::sync::Arc;

use otlp_proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, Gauge, Histogram, Metric, Sum, metric,
};

use crate::metrics::aggregation::state::Measure;
use crate::metrics::aggregation::{Aggregation, Collected, SeriesState};
use crate::metrics::attributes::{SeriesMap, filter};
use crate::metrics::exemplar::{ExemplarFilter, Kept};
use crate::metrics::{InstrumentKind, Temporality};
use crate::value::{Key, KeyValue};

/// What identifies a stream's output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StreamDescriptor {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) unit: String,
    pub(crate) kind: InstrumentKind,
    pub(crate) integer: bool,
    /// Resolved: never `Default`.
    pub(crate) aggregation: Aggregation,
    pub(crate) keep: Option<Vec<Key>>,
    pub(crate) temporality: Temporality,
    pub(crate) cardinality_limit: usize,
    pub(crate) exemplar_filter: ExemplarFilter,
}

#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) descriptor: StreamDescriptor,
    series: SeriesMap<SeriesState>,
}

impl Stream {
    pub(crate) fn new(descriptor: StreamDescriptor) -> Self {
        Self {
            series: SeriesMap::new(descriptor.cardinality_limit),
            descriptor,
        }
    }

    fn make(&self) -> SeriesState {
        let d = &self.descriptor;
        SeriesState::new(
            &d.aggregation,
            d.integer,
            d.kind.is_observable(),
            d.exemplar_filter != ExemplarFilter::AlwaysOff && !d.kind.is_observable(),
        )
    }

    pub(crate) fn record(&self, m: Measure, attributes: &[KeyValue]) {
        if self.descriptor.aggregation == Aggregation::Drop {
            return;
        }
        match &self.descriptor.keep {
            None => self
                .series
                .apply(attributes, || self.make(), |s| self.measure(s, m, Vec::new)),
            Some(keep) => {
                let (kept, filtered) = filter(attributes.to_vec(), keep);
                self.series
                    .apply(&kept, || self.make(), |s| self.measure(s, m, || filtered))
            }
        }
    }

    fn measure(&self, series: &SeriesState, m: Measure, filtered: impl FnOnce() -> Vec<KeyValue>) {
        series.record(m);
        if series.wants_exemplars()
            && let Some(trace) = self.descriptor.exemplar_filter.admit()
        {
            let integer = match m {
                Measure::Int(i) => Some(i),
                Measure::Float(_) => None,
            };
            series.offer(m, || Kept::new(m.as_f64(), integer, filtered(), trace));
        }
    }

    pub(crate) fn bind(
        self: &Arc<Self>,
        attributes: &[KeyValue],
    ) -> Option<(Arc<Stream>, Arc<SeriesState>)> {
        if self.descriptor.aggregation == Aggregation::Drop {
            return None;
        }
        let kept = match &self.descriptor.keep {
            None => attributes.to_vec(),
            Some(keep) => filter(attributes.to_vec(), keep).0,
        };
        // Bound under the map's lock: a delta collection cannot forget it first.
        let series = self.series.apply(
            &kept,
            || self.make(),
            |s| {
                s.bind();
                Arc::clone(s)
            },
        );
        Some((Arc::clone(self), series))
    }

    pub(crate) fn record_bound(&self, series: &SeriesState, m: Measure) {
        self.measure(series, m, Vec::new);
    }

    /// The stream's metric at `now`; `None` when no series has a data point.
    pub(crate) fn collect(&self, now: u64) -> Option<Metric> {
        let d = &self.descriptor;
        if d.aggregation == Aggregation::Drop {
            return None;
        }
        let mut numbers = Vec::new();
        let mut histograms = Vec::new();
        let mut exponentials = Vec::new();
        let mut silent = false;
        self.series.for_each(|attributes, series| {
            let attrs = attributes.iter().map(KeyValue::to_proto).collect();
            match series.collect(d.temporality, now, attrs) {
                Some(Collected::Number(p)) => numbers.push(p),
                Some(Collected::Histogram(p)) => histograms.push(p),
                Some(Collected::Exponential(p)) => exponentials.push(p),
                None => silent = true,
            }
        });
        if silent && d.temporality == Temporality::Delta {
            // Series with nothing in the interval are forgotten: memory follows what is
            // measured, not what ever was.
            self.series.retain(|s| !s.forgettable());
        }
        let temporality = match d.temporality {
            Temporality::Cumulative => AggregationTemporality::Cumulative,
            Temporality::Delta => AggregationTemporality::Delta,
        } as i32;
        let data = match &d.aggregation {
            Aggregation::Sum => {
                if numbers.is_empty() {
                    return None;
                }
                metric::Data::Sum(Sum {
                    data_points: numbers,
                    aggregation_temporality: temporality,
                    is_monotonic: matches!(
                        d.kind,
                        InstrumentKind::Counter | InstrumentKind::ObservableCounter
                    ),
                })
            }
            Aggregation::LastValue => {
                if numbers.is_empty() {
                    return None;
                }
                metric::Data::Gauge(Gauge {
                    data_points: numbers,
                })
            }
            Aggregation::ExplicitBucketHistogram { .. } => {
                if histograms.is_empty() {
                    return None;
                }
                metric::Data::Histogram(Histogram {
                    data_points: histograms,
                    aggregation_temporality: temporality,
                })
            }
            Aggregation::Base2ExponentialHistogram { .. } => {
                if exponentials.is_empty() {
                    return None;
                }
                metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: exponentials,
                    aggregation_temporality: temporality,
                })
            }
            Aggregation::Default | Aggregation::Drop => return None,
        };
        Some(Metric {
            name: d.name.clone(),
            description: d.description.clone(),
            unit: d.unit.clone(),
            metadata: Vec::new(),
            data: Some(data),
        })
    }
}
