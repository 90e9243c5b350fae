//! The engine: decisions after `decision_wait`, the `num_traces` and span bounds (deciding
//! early), late spans through the recent decisions and the decision caches.

use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::telemetry::Metrics;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::ResourceSpans;
use tokio::time::Instant;

use super::{i, request, span, span_ids, with_attrs};
use crate::tail_sampling::config::TailSamplingConfig;
use crate::tail_sampling::engine::{Engine, MIN_BUFFERED_SPANS};
use crate::tail_sampling::metrics::TailMetrics;

const KEEP_EVEN: &str =
    "{name: even, type: numeric_attribute, numeric_attribute: {key: keep, min_value: 1}}";

/// An engine for `yaml` and the registry its metrics are in.
fn engine(yaml: &str) -> (Engine, Arc<Metrics>) {
    let config: TailSamplingConfig = serde_yaml_ng::from_str(yaml).unwrap();
    let registry = Metrics::new();
    let names: Vec<&str> = config.policies.iter().map(|p| p.name.as_str()).collect();
    let metrics = Arc::new(TailMetrics::new(&registry, "tail_sampling/x", &names));
    (Engine::new(&config, metrics).unwrap(), registry)
}

/// A request with `n` spans of trace `t`, kept when `keep`.
fn trace(t: u8, n: u8, keep: bool) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|k| with_attrs(span(t, k, 0, 1), vec![i("keep", i64::from(keep))]))
        .collect();
    request(vec![], spans)
}

fn ids(batches: Vec<ResourceSpans>) -> Vec<(u8, u8)> {
    span_ids(&ExportTraceServiceRequest {
        resource_spans: batches,
    })
}

fn value(registry: &Metrics, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut all = vec![("processor", "tail_sampling/x")];
    all.extend_from_slice(labels);
    registry
        .value(&format!("otelcol_processor_tail_sampling_{name}"), &all)
        .unwrap_or(0.0)
}

#[test]
fn traces_are_decided_after_decision_wait() {
    let (mut e, registry) = engine(&format!("decision_wait: 10s\npolicies: [{KEEP_EVEN}]"));
    let t0 = Instant::now();
    assert!(e.ingest(trace(1, 2, true), t0).is_empty());
    assert!(
        e.ingest(trace(2, 1, false), t0 + Duration::from_secs(1))
            .is_empty()
    );
    assert!(
        e.ingest(trace(1, 1, true), t0 + Duration::from_secs(2))
            .is_empty()
    );
    assert!(e.decide_due(t0 + Duration::from_millis(9_999)).is_empty());
    assert_eq!(e.pending_traces(), 2);
    // Trace 1 is due; its three spans (two requests) go out together.
    assert_eq!(
        ids(e.decide_due(t0 + Duration::from_secs(10))),
        vec![(1, 0), (1, 1), (1, 0)]
    );
    assert_eq!(e.pending_traces(), 1);
    assert!(
        e.decide_due(t0 + Duration::from_secs(11)).is_empty(),
        "trace 2 is not sampled"
    );
    assert_eq!(e.pending_traces(), 0);
    assert_eq!(value(&registry, "new_trace_id_received_total", &[]), 2.0);
    assert_eq!(
        value(
            &registry,
            "count_traces_sampled_total",
            &[
                ("policy", "even"),
                ("sampled", "true"),
                ("decision", "sampled")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &registry,
            "global_count_traces_sampled_total",
            &[("sampled", "false"), ("decision", "not_sampled")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &registry,
            "global_count_spans_sampled_total",
            &[("sampled", "true")]
        ),
        3.0
    );
    assert_eq!(value(&registry, "sampling_traces_on_memory", &[]), 0.0);
}

#[test]
fn num_traces_decides_the_oldest_trace_early() {
    let (mut e, registry) = engine(&format!("num_traces: 2\npolicies: [{KEEP_EVEN}]"));
    let now = Instant::now();
    assert!(e.ingest(trace(1, 1, true), now).is_empty());
    assert!(e.ingest(trace(2, 1, false), now).is_empty());
    // A third trace: trace 1 (the oldest) is decided now and, sampled, goes out.
    assert_eq!(ids(e.ingest(trace(3, 1, true), now)), vec![(1, 0)]);
    assert_eq!(e.pending_traces(), 2);
    // A fourth: trace 2 is decided, not sampled.
    assert!(e.ingest(trace(4, 1, true), now).is_empty());
    assert_eq!(e.pending_traces(), 2);
    assert_eq!(
        value(
            &registry,
            "sampling_trace_decided_early_total",
            &[("reason", "num_traces")]
        ),
        2.0
    );
    // Spans for a trace already waiting do not count as a new trace.
    assert!(e.ingest(trace(4, 1, true), now).is_empty());
    assert_eq!(e.pending_traces(), 2);
}

#[test]
fn the_span_bound_decides_the_oldest_traces_early() {
    let (mut e, registry) = engine(&format!("num_traces: 10\npolicies: [{KEEP_EVEN}]"));
    let now = Instant::now();
    assert!(e.ingest(trace(1, 3, true), now).is_empty());
    let big: Vec<_> = (0..=MIN_BUFFERED_SPANS)
        .map(|k| with_attrs(span(2, (k % 200) as u8, 0, 1), vec![i("keep", 0)]))
        .collect();
    let out = e.ingest(request(vec![], big), now);
    // Trace 1 went first; trace 2 alone is still over the bound, so it was decided too.
    assert_eq!(ids(out), vec![(1, 0), (1, 1), (1, 2)]);
    assert_eq!(e.pending_traces(), 0);
    assert_eq!(e.pending_spans(), 0);
    assert_eq!(
        value(
            &registry,
            "sampling_trace_decided_early_total",
            &[("reason", "span_limit")]
        ),
        2.0
    );
}

#[test]
fn late_spans_follow_the_recent_decision() {
    let (mut e, registry) = engine(&format!("decision_wait: 1s\npolicies: [{KEEP_EVEN}]"));
    let t0 = Instant::now();
    e.ingest(trace(1, 1, true), t0);
    e.ingest(trace(2, 1, false), t0);
    assert_eq!(e.decide_due(t0 + Duration::from_secs(1)).len(), 1);
    // Late spans: forwarded at once for the sampled trace (even without the attribute that
    // sampled it), dropped for the other; nothing is buffered again.
    let later = t0 + Duration::from_secs(5);
    assert_eq!(
        ids(e.ingest(trace(1, 2, false), later)),
        vec![(1, 0), (1, 1)]
    );
    assert!(e.ingest(trace(2, 2, true), later).is_empty());
    assert_eq!(e.pending_traces(), 0);
    assert_eq!(value(&registry, "new_trace_id_received_total", &[]), 2.0);
    assert_eq!(
        value(
            &registry,
            "global_count_spans_sampled_total",
            &[("sampled", "true")]
        ),
        3.0
    );
    assert_eq!(
        value(
            &registry,
            "global_count_spans_sampled_total",
            &[("sampled", "false")]
        ),
        3.0
    );
}

#[test]
fn the_decision_cache_outlives_the_recent_decisions() {
    let config =
        |cache: &str| format!("num_traces: 1\ndecision_wait: 1s\n{cache}\npolicies: [{KEEP_EVEN}]");
    let t0 = Instant::now();
    let run = |e: &mut Engine| {
        for t in 1..=3 {
            e.ingest(trace(t, 1, t != 2), t0);
            e.decide_due(t0 + Duration::from_secs(1));
        }
        // Only trace 3 is among the recent decisions now (num_traces: 1).
        let late = t0 + Duration::from_secs(2);
        (
            ids(e.ingest(trace(1, 1, false), late)),
            e.ingest(trace(2, 1, true), late).len(),
        )
    };

    let (mut cached, registry) = engine(&config(
        "decision_cache: {sampled_cache_size: 10, non_sampled_cache_size: 10}",
    ));
    assert_eq!(run(&mut cached), (vec![(1, 0)], 0));
    assert_eq!(cached.pending_traces(), 0);
    assert_eq!(
        value(
            &registry,
            "early_releases_from_cache_decision_total",
            &[("sampled", "true")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &registry,
            "early_releases_from_cache_decision_total",
            &[("sampled", "false")]
        ),
        1.0
    );

    // Without a cache the late spans start new traces (contrib's scenario 2).
    let (mut uncached, _) = engine(&config(""));
    assert_eq!(run(&mut uncached), (vec![], 0));
    assert_eq!(
        uncached.pending_traces(),
        1,
        "num_traces: 1 decided trace 1 early when trace 2 came"
    );
}

#[test]
fn a_drop_policy_overrides_a_sampling_one() {
    let (mut e, registry) = engine(
        "policies:\n  - {name: all, type: always_sample}\n  - {name: no-health, type: drop, drop: {drop_sub_policy: [{name: h, type: numeric_attribute, numeric_attribute: {key: keep, max_value: 0}}]}}",
    );
    let now = Instant::now();
    e.ingest(trace(1, 1, true), now);
    e.ingest(trace(2, 1, false), now);
    assert_eq!(ids(e.decide_all(now)), vec![(1, 0)]);
    assert_eq!(
        value(
            &registry,
            "count_traces_sampled_total",
            &[
                ("policy", "no-health"),
                ("sampled", "false"),
                ("decision", "dropped")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &registry,
            "global_count_traces_sampled_total",
            &[("sampled", "false"), ("decision", "dropped")]
        ),
        1.0
    );
}

#[test]
fn sample_on_first_match_stops_evaluating() {
    let (mut e, registry) = engine(
        "sample_on_first_match: true\npolicies:\n  - {name: all, type: always_sample}\n  - {name: second, type: always_sample}",
    );
    let now = Instant::now();
    e.ingest(trace(1, 1, true), now);
    assert_eq!(e.decide_all(now).len(), 1);
    let second = value(
        &registry,
        "count_traces_sampled_total",
        &[
            ("policy", "second"),
            ("sampled", "true"),
            ("decision", "sampled"),
        ],
    );
    assert_eq!(second, 0.0);
}

#[test]
fn shutdown_can_drop_pending_traces() {
    let (mut e, registry) = engine(&format!("policies: [{KEEP_EVEN}]"));
    e.ingest(trace(1, 4, true), Instant::now());
    assert_eq!(e.drop_all(), 1);
    assert_eq!(e.pending_traces(), 0);
    assert_eq!(
        value(&registry, "sampling_trace_dropped_too_early_total", &[]),
        1.0
    );
    assert_eq!(
        value(
            &registry,
            "global_count_spans_sampled_total",
            &[("sampled", "false")]
        ),
        4.0
    );
}
