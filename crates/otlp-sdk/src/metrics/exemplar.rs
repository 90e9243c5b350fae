//! Exemplars: sample measurements kept with a data point, with the trace and span they were
//! recorded in (`OTEL_METRICS_EXEMPLAR_FILTER`, the spec's default reservoirs).

use otlp_model::{SpanId, TraceId};
use otlp_proto::metrics::v1::{Exemplar as ProtoExemplar, exemplar};

use crate::context;
use crate::env::{Env, invalid};
use crate::value::{KeyValue, into_proto_attributes};

/// Which measurements may become exemplars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExemplarFilter {
    /// Measurements recorded inside a sampled span (the default).
    #[default]
    TraceBased,
    /// Every measurement.
    AlwaysOn,
    /// None.
    AlwaysOff,
}

impl ExemplarFilter {
    /// From `OTEL_METRICS_EXEMPLAR_FILTER` (`trace_based`, `always_on`, `always_off`);
    /// an invalid value is logged and the default kept.
    #[must_use]
    pub fn from_env(env: &dyn Env) -> Self {
        match env
            .get("OTEL_METRICS_EXEMPLAR_FILTER")
            .as_deref()
            .map(str::trim)
        {
            None | Some("trace_based") => Self::TraceBased,
            Some("always_on") => Self::AlwaysOn,
            Some("always_off") => Self::AlwaysOff,
            Some(other) => {
                invalid(
                    "OTEL_METRICS_EXEMPLAR_FILTER",
                    other,
                    "trace_based, always_on or always_off",
                );
                Self::TraceBased
            }
        }
    }

    /// The trace context a measurement would be sampled with, if the filter lets it through
    /// (`Some(None)`: no span, still offered).
    pub(crate) fn admit(self) -> Option<Option<(TraceId, SpanId)>> {
        match self {
            Self::AlwaysOff => None,
            Self::AlwaysOn => Some(context::with_current(|cx| {
                cx.span_context().map(|sc| (sc.trace_id(), sc.span_id()))
            })),
            Self::TraceBased => context::with_current(|cx| {
                cx.span_context()
                    .filter(|sc| sc.is_sampled())
                    .map(|sc| Some((sc.trace_id(), sc.span_id())))
            }),
        }
    }
}

/// A measurement kept as an exemplar.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Kept {
    value: f64,
    integer: Option<i64>,
    time_unix_nano: u64,
    filtered: Vec<KeyValue>,
    trace: Option<(TraceId, SpanId)>,
}

impl Kept {
    pub(crate) fn new(
        value: f64,
        integer: Option<i64>,
        filtered: Vec<KeyValue>,
        trace: Option<(TraceId, SpanId)>,
    ) -> Self {
        Self {
            value,
            integer,
            time_unix_nano: otlp_model::time::now_unix_nanos(),
            filtered,
            trace,
        }
    }

    fn into_proto(self) -> ProtoExemplar {
        let (trace_id, span_id) = match self.trace {
            Some((t, s)) => (t.to_bytes().to_vec(), s.to_bytes().to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        ProtoExemplar {
            filtered_attributes: into_proto_attributes(self.filtered),
            time_unix_nano: self.time_unix_nano,
            span_id,
            trace_id,
            value: Some(match self.integer {
                Some(i) => exemplar::Value::AsInt(i),
                None => exemplar::Value::AsDouble(self.value),
            }),
        }
    }
}

/// The spec's default reservoirs.
#[derive(Debug)]
pub(crate) enum Reservoir {
    /// `SimpleFixedSizeExemplarReservoir`: uniform (reservoir sampling) over the interval.
    Fixed {
        size: usize,
        kept: Vec<Kept>,
        seen: u64,
    },
    /// `AlignedHistogramBucketExemplarReservoir`: the last measurement of each bucket.
    Aligned {
        boundaries: Vec<f64>,
        kept: Vec<Option<Kept>>,
    },
}

impl Reservoir {
    /// The fixed-size reservoir (size 1 for sums and gauges; min(20, max_size) for
    /// exponential histograms, as the spec says).
    pub(crate) fn fixed(size: usize) -> Self {
        Self::Fixed {
            size: size.max(1),
            kept: Vec::new(),
            seen: 0,
        }
    }

    /// One slot per bucket of an explicit-bucket histogram.
    pub(crate) fn aligned(boundaries: &[f64]) -> Self {
        Self::Aligned {
            boundaries: boundaries.to_vec(),
            kept: vec![None; boundaries.len() + 1],
        }
    }

    /// Offers a measurement of `value`; `make` builds the exemplar only if it is kept.
    pub(crate) fn offer_with(&mut self, value: f64, make: impl FnOnce() -> Kept) {
        match self {
            Self::Fixed {
                size,
                kept: slots,
                seen,
            } => {
                *seen += 1;
                if slots.len() < *size {
                    slots.push(make());
                } else {
                    let j = rand::random_range(0..*seen);
                    if let Some(slot) = usize::try_from(j).ok().and_then(|j| slots.get_mut(j)) {
                        *slot = make();
                    }
                }
            }
            Self::Aligned {
                boundaries,
                kept: slots,
            } => {
                let index = boundaries.partition_point(|b| *b < value);
                if let Some(slot) = slots.get_mut(index) {
                    *slot = Some(make());
                }
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn offer(&mut self, kept: Kept) {
        match self {
            Self::Fixed {
                size,
                kept: slots,
                seen,
            } => {
                *seen += 1;
                if slots.len() < *size {
                    slots.push(kept);
                } else {
                    let j = rand::random_range(0..*seen);
                    if let Some(slot) = usize::try_from(j).ok().and_then(|j| slots.get_mut(j)) {
                        *slot = kept;
                    }
                }
            }
            Self::Aligned {
                boundaries,
                kept: slots,
            } => {
                let index = boundaries.partition_point(|b| *b < kept.value);
                if let Some(slot) = slots.get_mut(index) {
                    *slot = Some(kept);
                }
            }
        }
    }

    /// The exemplars of the interval, and a fresh reservoir for the next one.
    pub(crate) fn take(&mut self) -> Vec<ProtoExemplar> {
        match self {
            Self::Fixed { kept, seen, .. } => {
                *seen = 0;
                std::mem::take(kept)
                    .into_iter()
                    .map(Kept::into_proto)
                    .collect()
            }
            Self::Aligned { kept, .. } => kept
                .iter_mut()
                .filter_map(Option::take)
                .map(Kept::into_proto)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn env_and_reservoirs() {
        let env = HashMap::from([("OTEL_METRICS_EXEMPLAR_FILTER", "always_on")]);
        assert_eq!(ExemplarFilter::from_env(&env), ExemplarFilter::AlwaysOn);
        let env = HashMap::from([("OTEL_METRICS_EXEMPLAR_FILTER", "bogus")]);
        assert_eq!(ExemplarFilter::from_env(&env), ExemplarFilter::TraceBased);
        // No current span: trace_based admits nothing, always_on admits without ids.
        assert_eq!(ExemplarFilter::TraceBased.admit(), None);
        assert_eq!(ExemplarFilter::AlwaysOn.admit(), Some(None));

        let mut fixed = Reservoir::fixed(2);
        for i in 0..100 {
            fixed.offer(Kept::new(f64::from(i), None, vec![], None));
        }
        assert_eq!(fixed.take().len(), 2);
        assert!(fixed.take().is_empty(), "taken means reset");

        let mut aligned = Reservoir::aligned(&[10.0, 20.0]);
        for v in [1.0, 5.0, 15.0, 25.0, 30.0] {
            aligned.offer(Kept::new(v, None, vec![], None));
        }
        let values: Vec<_> = aligned.take().into_iter().map(|e| e.value).collect();
        assert_eq!(
            values,
            vec![
                Some(exemplar::Value::AsDouble(5.0)),
                Some(exemplar::Value::AsDouble(15.0)),
                Some(exemplar::Value::AsDouble(30.0))
            ],
            "the last measurement of each bucket"
        );
    }
}
