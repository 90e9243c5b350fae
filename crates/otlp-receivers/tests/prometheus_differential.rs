//! A differential test of the `prometheus` receiver: the Go collector v0.165.0 with contrib's
//! `prometheus` receiver v0.165.1 scrapes node_exporter 1.5.0 and exports with `otlp_http` to
//! an in-test OTLP/HTTP sink; ours scrapes the same node_exporter with the same job. Asserted
//! equal: metric names, types, descriptions, units, temporality and monotonicity, the
//! attribute key sets of every metric and the attribute sets of every point, the values of
//! stable metrics (`up`, `node_memory_MemTotal_bytes`, `node_uname_info`,
//! `node_time_zone_offset_seconds`), the resource attribute keys and values (no
//! `server.address` for a loopback target, as Go) and the scope name.
//!
//! Differences by nature, left out of the comparison: the scope version (each collector's own
//! version) and the values and timestamps of the points (two scrapes at different moments).
//! A documented difference, asserted as such: Go v0.165 leaves the start time of cumulative
//! points at 0 (its start-time adjustment moved to the `metricstarttime` processor); ours
//! start when the series was first seen (or at `_created`).
//!
//! The peers come from `OTLP_PEER_NODE_EXPORTER` / `OTLP_PEER_OTELCOL_GO` or
//! `target/peers/peers.env` (`cargo xtask peers`).

#![cfg(feature = "prometheus")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

#[path = "prometheus_support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::metrics::v1::{Metric, metric};
use peers::{Peer, require};
use support::*;

/// A minimal OTLP/HTTP metrics endpoint: decodes each `POST /v1/metrics` protobuf body.
/// The OTLP/HTTP sink the Go collector exports to: the transport's own receiver, keeping
/// every request.
struct MetricsSink(Arc<Mutex<Vec<ExportMetricsServiceRequest>>>);

#[async_trait::async_trait]
impl otlp_transport::server::ExportHandler for MetricsSink {
    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        _context: otlp_transport::server::RequestContext,
    ) -> Result<Option<otlp_transport::PartialSuccess>, otlp_transport::status::Refusal> {
        self.0.lock().unwrap().push(request);
        Ok(None)
    }
}

/// The shape of one metric: everything but values and timestamps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    kind: &'static str,
    description: String,
    unit: String,
    temporality: i32,
    monotonic: bool,
    attribute_keys: BTreeSet<String>,
}

fn shape(m: &Metric) -> Shape {
    let keys = |attrs: Vec<&[otlp_proto::common::v1::KeyValue]>| -> BTreeSet<String> {
        attrs
            .into_iter()
            .flat_map(|a| a.iter().map(|kv| kv.key.clone()))
            .collect()
    };
    let (kind, temporality, monotonic, attribute_keys) = match &m.data {
        Some(metric::Data::Gauge(g)) => (
            "gauge",
            0,
            false,
            keys(g.data_points.iter().map(|p| &p.attributes[..]).collect()),
        ),
        Some(metric::Data::Sum(s)) => (
            "sum",
            s.aggregation_temporality,
            s.is_monotonic,
            keys(s.data_points.iter().map(|p| &p.attributes[..]).collect()),
        ),
        Some(metric::Data::Histogram(h)) => (
            "histogram",
            h.aggregation_temporality,
            false,
            keys(h.data_points.iter().map(|p| &p.attributes[..]).collect()),
        ),
        Some(metric::Data::Summary(s)) => (
            "summary",
            0,
            false,
            keys(s.data_points.iter().map(|p| &p.attributes[..]).collect()),
        ),
        Some(metric::Data::ExponentialHistogram(h)) => (
            "exponential_histogram",
            h.aggregation_temporality,
            false,
            keys(h.data_points.iter().map(|p| &p.attributes[..]).collect()),
        ),
        None => ("none", 0, false, BTreeSet::new()),
    };
    Shape {
        kind,
        description: m.description.clone(),
        unit: m.unit.clone(),
        temporality,
        monotonic,
        attribute_keys,
    }
}

fn shapes(request: &ExportMetricsServiceRequest) -> BTreeMap<String, Shape> {
    all_metrics(request)
        .map(|m| (m.name.clone(), shape(m)))
        .collect()
}

fn scope_names(request: &ExportMetricsServiceRequest) -> BTreeSet<String> {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .filter_map(|s| s.scope.as_ref().map(|s| s.name.clone()))
        .collect()
}

/// The start times and times of every cumulative point (sums, histograms, summaries).
fn cumulative_times(request: &ExportMetricsServiceRequest) -> (Vec<u64>, Vec<u64>) {
    let mut starts = Vec::new();
    let mut times = Vec::new();
    for m in all_metrics(request) {
        match &m.data {
            Some(metric::Data::Sum(s)) => s.data_points.iter().for_each(|p| {
                starts.push(p.start_time_unix_nano);
                times.push(p.time_unix_nano);
            }),
            Some(metric::Data::Histogram(h)) => h.data_points.iter().for_each(|p| {
                starts.push(p.start_time_unix_nano);
                times.push(p.time_unix_nano);
            }),
            Some(metric::Data::Summary(s)) => s.data_points.iter().for_each(|p| {
                starts.push(p.start_time_unix_nano);
                times.push(p.time_unix_nano);
            }),
            _ => {}
        }
    }
    (starts, times)
}

/// The requests of one collector, merged into one per scrape-ish: the last request that
/// has `up` (Go may split a scrape across exports; merge the last few to be safe).
fn last_scrape(requests: &[ExportMetricsServiceRequest]) -> ExportMetricsServiceRequest {
    // Take the requests from the last one holding `up` back to the previous one holding it.
    let has_up = |r: &ExportMetricsServiceRequest| all_metrics(r).any(|m| m.name == "up");
    let ups: Vec<usize> = (0..requests.len())
        .filter(|&i| has_up(&requests[i]))
        .collect();
    assert!(ups.len() >= 2, "fewer than two scrapes");
    let (from, to) = (ups[ups.len() - 2] + 1, ups[ups.len() - 1]);
    let mut merged = ExportMetricsServiceRequest::default();
    for r in &requests[from..=to] {
        merged
            .resource_metrics
            .extend(r.resource_metrics.iter().cloned());
    }
    merged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_shape_as_the_go_prometheus_receiver() {
    let Some(node_exporter) = require(Peer::NodeExporter) else {
        return;
    };
    let Some(otelcol) = require(Peer::OtelcolGo) else {
        return;
    };
    let dir = TempDir::new("differential");
    let node = start_node_exporter(&node_exporter, &dir);

    // Go: prometheus → otlp_http → the sink.
    let go_requests = Arc::new(Mutex::new(Vec::new()));
    let sink = otlp_transport::server::Receiver::new(MetricsSink(Arc::clone(&go_requests)))
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let sink_port = sink.http_local_addr().unwrap().port();
    let receiver = format!(
        "config:\n  scrape_configs:\n    - job_name: node\n      scrape_interval: 1s\n      \
         static_configs: [{{targets: ['{}']}}]\n",
        node.address
    );
    let indented: String = receiver.lines().map(|l| format!("    {l}\n")).collect();
    let config = dir.path().join("otelcol.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:\n  prometheus:\n{indented}\
             exporters:\n  otlp_http:\n    endpoint: http://127.0.0.1:{sink_port}\n    compression: none\n\
             service:\n  telemetry:\n    metrics:\n      level: none\n\
             \x20 pipelines:\n    metrics:\n      receivers: [prometheus]\n      exporters: [otlp_http]\n"
        ),
    )
    .unwrap();
    let go = Server::spawn(
        &otelcol,
        &["--config".to_string(), config.display().to_string()],
        String::new(),
        dir.path().join("otelcol.log"),
    );

    // Ours, the same job.
    let ours = OurReceiver::start(&receiver).await;

    let count_ups = |requests: &[ExportMetricsServiceRequest]| {
        requests
            .iter()
            .filter(|r| all_metrics(r).any(|m| m.name == "up"))
            .count()
    };
    wait_until("both collectors scraped node_exporter three times", || {
        let go_ok = count_ups(&go_requests.lock().unwrap()) >= 3;
        go_ok && ours.requests_of("node").len() >= 3
    })
    .await;
    ours.stop().await;
    drop(go);

    let theirs = last_scrape(&go_requests.lock().unwrap());
    let mine = last_scrape(&ours.requests_of("node"));

    // Resource attributes: keys and values.
    let their_resource = resource_attributes(&theirs);
    let my_resource = resource_attributes(&mine);
    assert_eq!(
        my_resource, their_resource,
        "resource attributes (ours left)"
    );
    assert_eq!(scope_names(&mine), scope_names(&theirs), "scope names");

    // Metric names and shapes.
    let their_shapes = shapes(&theirs);
    let my_shapes = shapes(&mine);
    let their_names: BTreeSet<&String> = their_shapes.keys().collect();
    let my_names: BTreeSet<&String> = my_shapes.keys().collect();
    assert_eq!(
        my_names.difference(&their_names).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "metrics only ours has"
    );
    assert_eq!(
        their_names.difference(&my_names).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "metrics only Go has"
    );
    let mut differing = Vec::new();
    for (name, theirs) in &their_shapes {
        let mine = &my_shapes[name];
        if mine != theirs {
            differing.push(format!("{name}: ours {mine:?}, Go {theirs:?}"));
        }
    }
    assert!(
        differing.is_empty(),
        "shapes differ:\n{}",
        differing.join("\n")
    );
    assert!(their_shapes.len() > 40, "{} metrics", their_shapes.len());
    println!("resource: {their_resource:?}");
    for name in [
        "up",
        "scrape_duration_seconds",
        "node_context_switches_total",
        "go_gc_duration_seconds",
    ] {
        println!("{name}: {:?}", their_shapes.get(name));
    }

    // Documented difference: Go v0.165 no longer adjusts start times (the feature gate
    // `receiver.prometheusreceiver.RemoveStartTimeAdjustment`; the `metricstarttime`
    // processor does it): its cumulative points have no start time. Ours start when the
    // series was first seen. Both stamp points with the scrape time in milliseconds.
    let (go_starts, go_times) = cumulative_times(&theirs);
    let (our_starts, our_times) = cumulative_times(&mine);
    assert!(!go_starts.is_empty());
    assert!(go_starts.iter().all(|&s| s == 0), "Go sets start times now");
    for (s, t) in our_starts.iter().zip(&our_times) {
        assert!(*s > 0 && s <= t, "start {s}, time {t}");
    }
    for t in go_times.iter().chain(&our_times) {
        assert_eq!(
            t % 1_000_000,
            0,
            "a time of {t} ns is not in whole milliseconds"
        );
    }

    // Point label sets and stable values.
    assert_eq!(
        point_label_sets(&mine),
        point_label_sets(&theirs),
        "point attributes"
    );
    for (name, attrs) in point_label_sets(&theirs) {
        if [
            "node_memory_MemTotal_bytes",
            "node_uname_info",
            "node_time_zone_offset_seconds",
            "up",
        ]
        .contains(&name.as_str())
        {
            assert_eq!(
                point_value(&mine, &name, &attrs),
                point_value(&theirs, &name, &attrs),
                "{name}{attrs:?}"
            );
        }
    }
}
