//! Metrics (feature `metrics`): [`MeterProvider`] → [`Meter`] → instruments (counters,
//! up-down counters, histograms, gauges, their observable forms, bound instruments),
//! aggregation (sum, last value, explicit-bucket and base-2 exponential histograms),
//! cardinality limits with the overflow series, both temporalities, views, exemplars, and the
//! readers: periodic export, manual, and a Prometheus pull endpoint.

pub(crate) mod aggregation;
mod attributes;
mod exemplar;
mod instrument;
mod meter;
mod pipeline;
pub mod process;
pub mod prometheus;
mod prometheus_reader;
mod provider;
mod reader;
mod stream;
mod view;

pub use aggregation::{Aggregation, DEFAULT_BOUNDARIES};
pub use attributes::OVERFLOW_ATTRIBUTE;
pub use exemplar::ExemplarFilter;
pub use instrument::{
    BoundCounter, BoundGauge, BoundHistogram, BoundUpDownCounter, Counter, Gauge, Histogram,
    InstrumentKind, Number, Observable, Observer, UpDownCounter,
};
pub use meter::{InstrumentBuilder, Meter, ObservableBuilder};
pub use prometheus_reader::PrometheusReader;
pub use provider::{DEFAULT_CARDINALITY_LIMIT, MeterProvider, MeterProviderBuilder};
pub use reader::{ManualReader, MetricReader, MetricsCollector, PeriodicReader, PeriodicSettings};
pub use view::View;

use crate::env::{Env, invalid};

/// How sums and histograms accumulate between collections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Temporality {
    /// Since the series started.
    Cumulative,
    /// Since the previous collection.
    Delta,
}

/// A reader's temporality per instrument kind, as
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TemporalityPreference {
    /// Everything cumulative (the default).
    #[default]
    Cumulative,
    /// Counters, histograms and observable counters delta; up-down counters cumulative.
    Delta,
    /// Counters and histograms delta; observable counters and up-down counters cumulative.
    LowMemory,
}

impl TemporalityPreference {
    /// The temporality of `kind`'s streams under this preference.
    #[must_use]
    pub fn temporality(self, kind: InstrumentKind) -> Temporality {
        use InstrumentKind as K;
        match (self, kind) {
            (Self::Cumulative, _) => Temporality::Cumulative,
            (Self::Delta, K::Counter | K::Histogram | K::ObservableCounter | K::Gauge) => {
                Temporality::Delta
            }
            (Self::LowMemory, K::Counter | K::Histogram | K::Gauge) => Temporality::Delta,
            _ => Temporality::Cumulative,
        }
    }

    /// From `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (`cumulative`, `delta`,
    /// `lowmemory`, any case); an invalid value is logged and the default kept.
    #[must_use]
    pub fn from_env(env: &dyn Env) -> Self {
        let key = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
        match env
            .get(key)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("cumulative") => Self::Cumulative,
            Some("delta") => Self::Delta,
            Some("lowmemory") => Self::LowMemory,
            Some(other) => {
                invalid(key, other, "cumulative, delta or lowmemory");
                Self::Cumulative
            }
        }
    }
}
