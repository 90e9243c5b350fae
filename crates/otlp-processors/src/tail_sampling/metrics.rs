//! The processor's self-metrics, with otelcol-contrib's names
//! (`otelcol_processor_tail_sampling_*`; counters take Prometheus' `_total`), labelled with
//! the `processor` id. Those marked `[otlp-rs]` in their help are ours.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use otlp_pipeline::telemetry::{Counter, Gauge, HistogramValue, Metrics, Registration};

use super::decision::Final;
use super::policy::Decision;

const PREFIX: &str = "otelcol_processor_tail_sampling_";

/// A histogram over fixed bounds, lock-free.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_bits: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records one observation.
    pub(crate) fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b)
            && let Some(bucket) = self.buckets.get(i)
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    /// Observations so far.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> HistogramValue {
        let mut cumulative = 0;
        let buckets = self
            .bounds
            .iter()
            .zip(&self.buckets)
            .map(|(bound, n)| {
                cumulative += n.load(Ordering::Relaxed);
                (*bound, cumulative)
            })
            .collect();
        HistogramValue {
            buckets,
            count: self.count(),
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
        }
    }
}

const MICROS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 750.0, 1000.0,
    2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 50000.0,
];
const MILLIS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 750.0, 1000.0,
    2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 50000.0,
];
const SECONDS: &[f64] = &[
    1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];

/// A policy's counters by decision: sampled, not sampled, dropped.
#[derive(Debug)]
struct PolicyCounters {
    sampled: Counter,
    not_sampled: Counter,
    dropped: Counter,
    errors: Counter,
}

/// Every metric of one processor instance.
#[derive(Debug)]
pub(crate) struct TailMetrics {
    policies: Vec<PolicyCounters>,
    global_traces: [Counter; 3],
    global_spans: [Counter; 2],
    /// `new_trace_id_received`.
    pub(crate) new_traces: Counter,
    /// `early_releases_from_cache_decision`, sampled and not.
    pub(crate) early_releases: [Counter; 2],
    /// Traces decided before `decision_wait`: by `num_traces`, by the span bound.
    pub(crate) decided_early: [Counter; 2],
    /// `sampling_trace_dropped_too_early`: pending traces dropped undecided (shutdown with
    /// `drop_pending_traces_on_shutdown`).
    pub(crate) dropped_too_early: Counter,
    /// Sampled spans the next consumer refused (or that missed the shutdown deadline).
    pub(crate) forward_failed: Counter,
    /// `sampling_traces_on_memory`.
    pub(crate) traces_on_memory: Gauge,
    /// Spans buffered.
    pub(crate) spans_on_memory: Gauge,
    /// `sampling_decision_latency` (µs, per policy evaluation).
    pub(crate) decision_latency: Arc<Histogram>,
    /// `sampling_decision_timer_latency` (ms, per decision tick).
    pub(crate) timer_latency: Arc<Histogram>,
    /// `sampling_late_span_age` (s).
    pub(crate) late_span_age: Arc<Histogram>,
    /// `sampling_trace_removal_age` (s).
    pub(crate) removal_age: Arc<Histogram>,
    _registrations: Vec<Registration>,
}

impl TailMetrics {
    /// Registers the metrics of processor `id` with policies `policies`.
    pub(crate) fn new(metrics: &Metrics, id: &str, policies: &[&str]) -> TailMetrics {
        let name = |n: &str| format!("{PREFIX}{n}");
        let p = ("processor", id);
        let traces = name("count_traces_sampled_total");
        let policies = policies
            .iter()
            .map(|policy| {
                let help = "Count of traces that were sampled or not per sampling policy";
                let c = |sampled: &str, decision: &str| {
                    metrics.counter(
                        &traces,
                        help,
                        &[
                            p,
                            ("policy", policy),
                            ("sampled", sampled),
                            ("decision", decision),
                        ],
                    )
                };
                PolicyCounters {
                    sampled: c("true", "sampled"),
                    not_sampled: c("false", "not_sampled"),
                    dropped: c("false", "dropped"),
                    errors: metrics.counter(
                        &name("sampling_policy_evaluation_error_total"),
                        "Count of sampling policy evaluation errors",
                        &[p, ("policy", policy)],
                    ),
                }
            })
            .collect();
        let global = name("global_count_traces_sampled_total");
        let global_help = "Global count of traces that were sampled or not by at least one policy";
        let g = |sampled: &str, decision: &str| {
            metrics.counter(
                &global,
                global_help,
                &[p, ("sampled", sampled), ("decision", decision)],
            )
        };
        let spans = name("global_count_spans_sampled_total");
        let spans_help = "Spans released by a decision, forwarded (sampled) or not [otlp-rs]";
        let s = |sampled: &str| metrics.counter(&spans, spans_help, &[p, ("sampled", sampled)]);
        let early = name("early_releases_from_cache_decision_total");
        let early_help = "Number of spans that were able to be immediately released due to a decision cache hit.";
        let e = |sampled: &str| metrics.counter(&early, early_help, &[p, ("sampled", sampled)]);
        let decided = name("sampling_trace_decided_early_total");
        let decided_help =
            "Traces decided before decision_wait to keep memory bounded, by reason [otlp-rs]";
        let d = |reason: &str| metrics.counter(&decided, decided_help, &[p, ("reason", reason)]);
        let mut tail = TailMetrics {
            policies,
            global_traces: [
                g("true", "sampled"),
                g("false", "not_sampled"),
                g("false", "dropped"),
            ],
            global_spans: [s("true"), s("false")],
            new_traces: metrics.counter(
                &name("new_trace_id_received_total"),
                "Counts the arrival of new traces",
                &[p],
            ),
            early_releases: [e("true"), e("false")],
            decided_early: [d("num_traces"), d("span_limit")],
            dropped_too_early: metrics.counter(
                &name("sampling_trace_dropped_too_early_total"),
                "Count of traces that needed to be dropped before the configured wait time",
                &[p],
            ),
            forward_failed: metrics.counter(
                &name("forward_failed_spans_total"),
                "Sampled spans the next consumer refused or that missed the shutdown deadline [otlp-rs]",
                &[p],
            ),
            traces_on_memory: metrics.gauge(
                &name("sampling_traces_on_memory"),
                "Tracks the number of traces current on memory",
                &[p],
            ),
            spans_on_memory: metrics.gauge(
                &name("sampling_spans_on_memory"),
                "Spans of the traces waiting for a decision [otlp-rs]",
                &[p],
            ),
            decision_latency: Arc::new(Histogram::new(MICROS)),
            timer_latency: Arc::new(Histogram::new(MILLIS)),
            late_span_age: Arc::new(Histogram::new(SECONDS)),
            removal_age: Arc::new(Histogram::new(SECONDS)),
            _registrations: Vec::new(),
        };
        let histograms = [
            (
                "sampling_decision_latency",
                "Latency (in microseconds) of a given sampling policy",
                Arc::clone(&tail.decision_latency),
            ),
            (
                "sampling_decision_timer_latency",
                "Latency (in milliseconds) of each run of the sampling decision timer",
                Arc::clone(&tail.timer_latency),
            ),
            (
                "sampling_late_span_age",
                "Time (in seconds) from the sampling decision was taken and the arrival of a late span",
                Arc::clone(&tail.late_span_age),
            ),
            (
                "sampling_trace_removal_age",
                "Time (in seconds) from arrival of a new trace until its removal from memory",
                Arc::clone(&tail.removal_age),
            ),
        ];
        tail._registrations = histograms
            .into_iter()
            .map(|(n, help, h)| {
                metrics.register_histogram(&name(n), help, &[p], move || h.snapshot())
            })
            .collect();
        tail
    }

    /// Counts policy `i`'s decision.
    pub(crate) fn count_policy(&self, i: usize, decision: Decision) {
        if let Some(c) = self.policies.get(i) {
            match decision {
                Decision::Sampled | Decision::InvertSampled => c.sampled.add(1),
                Decision::NotSampled | Decision::InvertNotSampled => c.not_sampled.add(1),
                Decision::Dropped => c.dropped.add(1),
            }
        }
    }

    /// Counts an evaluation error of policy `i`.
    pub(crate) fn count_policy_error(&self, i: usize) {
        if let Some(c) = self.policies.get(i) {
            c.errors.add(1);
        }
    }

    /// Counts a trace's final decision and its spans.
    pub(crate) fn count_final(&self, decision: Final, spans: u64) {
        let i = match decision {
            Final::Sampled => 0,
            Final::NotSampled => 1,
            Final::Dropped => 2,
        };
        self.global_traces[i].add(1);
        self.count_spans(decision.is_sampled(), spans);
    }

    /// Counts spans released by a decision (a trace's, or late ones).
    pub(crate) fn count_spans(&self, sampled: bool, spans: u64) {
        self.global_spans[usize::from(!sampled)].add(spans);
    }
}
