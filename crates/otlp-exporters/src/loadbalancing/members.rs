//! The backends in use: one exporter per ring member ([`Backend`]), the ring over them
//! ([`Members`], an immutable snapshot swapped whole when the resolver's answer changes), and
//! the loadbalancer's own metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use otlp_pipeline::component::Exporter;
use otlp_pipeline::telemetry::{Counter, HistogramValue, Metrics, Registration};

use super::ring::HashRing;

/// Go's bucket bounds of `otelcol_loadbalancer_backend_latency` (milliseconds).
pub const LATENCY_BOUNDS_MS: [f64; 10] = [
    5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

/// A latency histogram over [`LATENCY_BOUNDS_MS`].
#[derive(Debug, Default)]
pub(super) struct Latency {
    /// Observations per bucket (not cumulative), the last one past every bound.
    buckets: [AtomicU64; 11],
    sum_ms: AtomicU64,
}

impl Latency {
    /// Records one consume call's duration, in whole milliseconds as Go does.
    pub(super) fn record(&self, elapsed: Duration) {
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BOUNDS_MS
            .iter()
            .position(|bound| ms as f64 <= *bound)
            .unwrap_or(LATENCY_BOUNDS_MS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The histogram, cumulative.
    pub(super) fn value(&self) -> HistogramValue {
        let mut cumulative = 0u64;
        let mut buckets = Vec::with_capacity(LATENCY_BOUNDS_MS.len());
        for (i, bound) in LATENCY_BOUNDS_MS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            buckets.push((*bound, cumulative));
        }
        let count = cumulative + self.buckets[LATENCY_BOUNDS_MS.len()].load(Ordering::Relaxed);
        HistogramValue {
            buckets,
            count,
            sum: self.sum_ms.load(Ordering::Relaxed) as f64,
        }
    }
}

/// One backend: the member's text (what the ring hashes), the endpoint its exporter
/// connects to, the exporter, and its outcome counters.
pub(super) struct Backend {
    /// The ring member (`10.0.0.7`, `backend-1:4317`).
    pub(super) member: String,
    /// The exporter's endpoint (the member with the default port when it has none).
    pub(super) endpoint: String,
    /// The backend's exporter (an `otlp` exporter with its own queue).
    pub(super) exporter: Arc<dyn Exporter>,
    /// `otelcol_loadbalancer_backend_outcome{success="true"}`: consume calls it accepted.
    pub(super) succeeded: Counter,
    /// `otelcol_loadbalancer_backend_outcome{success="false"}`: consume calls it refused.
    pub(super) failed: Counter,
    /// `otelcol_loadbalancer_backend_latency`.
    pub(super) latency: Arc<Latency>,
    _registration: Registration,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("member", &self.member)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The loadbalancer's metrics, labelled with its id and resolver.
pub(super) struct LoadBalancerMetrics {
    metrics: Arc<Metrics>,
    exporter: String,
    /// `otelcol_loadbalancer_num_backends`.
    pub(super) backends: otlp_pipeline::telemetry::Gauge,
    /// `otelcol_loadbalancer_num_resolutions{success="true"}`.
    pub(super) resolutions_ok: Counter,
    /// `otelcol_loadbalancer_num_resolutions{success="false"}`.
    pub(super) resolutions_failed: Counter,
    /// `otelcol_loadbalancer_num_backend_updates`.
    pub(super) updates: Counter,
}

impl LoadBalancerMetrics {
    /// The metrics of loadbalancer `exporter` with `resolver` (`static`, `dns`).
    pub(super) fn new(metrics: Arc<Metrics>, exporter: &str, resolver: &'static str) -> Self {
        let labels = [("exporter", exporter), ("resolver", resolver)];
        let resolutions = |success: &str| {
            metrics.counter(
                "otelcol_loadbalancer_num_resolutions_total",
                "Number of times the resolver has triggered new resolutions. [Development]",
                &[
                    ("exporter", exporter),
                    ("resolver", resolver),
                    ("success", success),
                ],
            )
        };
        LoadBalancerMetrics {
            backends: metrics.gauge(
                "otelcol_loadbalancer_num_backends",
                "Current number of backends in use. [Development]",
                &labels,
            ),
            resolutions_ok: resolutions("true"),
            resolutions_failed: resolutions("false"),
            updates: metrics.counter(
                "otelcol_loadbalancer_num_backend_updates_total",
                "Number of times the list of backends was updated. [Development]",
                &labels,
            ),
            exporter: exporter.to_owned(),
            metrics,
        }
    }

    /// A backend for `member`, exported to by `exporter` at `endpoint`, with its counters.
    pub(super) fn backend(
        &self,
        member: &str,
        endpoint: &str,
        exporter: Arc<dyn Exporter>,
    ) -> Backend {
        let outcome = |success: &str| {
            self.metrics.counter(
                "otelcol_loadbalancer_backend_outcome_total",
                "Number of successes and failures for each endpoint. [Development]",
                &[
                    ("endpoint", endpoint),
                    ("exporter", &self.exporter),
                    ("success", success),
                ],
            )
        };
        let latency = Arc::new(Latency::default());
        let read = Arc::clone(&latency);
        let registration = self.metrics.register_histogram(
            "otelcol_loadbalancer_backend_latency",
            "Response latency in ms for the backends. [Development]",
            &[("endpoint", endpoint), ("exporter", &self.exporter)],
            move || read.value(),
        );
        Backend {
            member: member.to_owned(),
            endpoint: endpoint.to_owned(),
            exporter,
            succeeded: outcome("true"),
            failed: outcome("false"),
            latency,
            _registration: registration,
        }
    }
}

/// The ring and its backends, by ring member index. Replaced whole on every change.
#[derive(Debug)]
pub(super) struct Members {
    /// The ring over the backends' members.
    pub(super) ring: HashRing,
    /// `backends[i]` serves `ring.members()[i]`.
    pub(super) backends: Vec<Arc<Backend>>,
    /// Increases with every change.
    pub(super) generation: u64,
}

impl Members {
    /// No backend yet.
    pub(super) fn empty() -> Members {
        Members {
            ring: HashRing::new::<&str>(&[]),
            backends: Vec::new(),
            generation: 0,
        }
    }

    /// The members over `backends` (sorted by member).
    pub(super) fn new(backends: Vec<Arc<Backend>>, generation: u64) -> Members {
        let names: Vec<&str> = backends.iter().map(|b| b.member.as_str()).collect();
        Members {
            ring: HashRing::new(&names),
            backends,
            generation,
        }
    }

    /// The backend serving `member`.
    pub(super) fn find(&self, member: &str) -> Option<&Arc<Backend>> {
        self.backends.iter().find(|b| b.member == member)
    }
}

/// The current [`Members`], read by every consume, swapped by the resolver.
#[derive(Debug)]
pub(super) struct Current(Mutex<Arc<Members>>);

impl Current {
    /// Starts empty.
    pub(super) fn new() -> Current {
        Current(Mutex::new(Arc::new(Members::empty())))
    }

    /// The members now.
    pub(super) fn get(&self) -> Arc<Members> {
        Arc::clone(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the members; returns the previous ones.
    pub(super) fn set(&self, members: Members) -> Arc<Members> {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *current, Arc::new(members))
    }
}

impl Default for Current {
    fn default() -> Self {
        Current::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative() {
        let latency = Latency::default();
        for ms in [1, 5, 6, 60, 10_000] {
            latency.record(Duration::from_millis(ms));
        }
        let value = latency.value();
        assert_eq!(value.count, 5);
        assert_eq!(value.sum, 10_072.0);
        assert_eq!(value.buckets[0], (5.0, 2));
        assert_eq!(value.buckets[1], (10.0, 3));
        assert_eq!(value.buckets[4], (100.0, 4));
        assert_eq!(value.buckets[9], (5000.0, 4));
    }
}
