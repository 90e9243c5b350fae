//! The `prometheus` receiver against real software: node_exporter 1.5.0 and Prometheus 2.42's
//! own `/metrics` scraped by our receiver (1 s interval), while a real Prometheus scrapes the
//! same node_exporter. Compared:
//!
//! - every metric family node_exporter's text output has samples for appears in ours with the
//!   OTLP type its `# TYPE` calls for (counter → monotonic cumulative sum, gauge/untyped →
//!   gauge, summary → summary); Prometheus's own histograms and summaries arrive as OTLP
//!   histograms (bounds = its `le` values) and summaries;
//! - the label sets: every series Prometheus stored for node_exporter (its `/api/v1/query`
//!   of `{job="node"}`) is a point of ours with the same attributes, and nothing more;
//! - stable values (`node_uname_info`, `node_memory_MemTotal_bytes`,
//!   `node_time_zone_offset_seconds`) equal what Prometheus's `/api/v1/query` returns;
//! - `up` is 1 for the live targets and 0 for a target on a closed port.
//!
//! The peers come from `OTLP_PEER_NODE_EXPORTER` / `OTLP_PEER_PROMETHEUS` or
//! `target/peers/peers.env` (`cargo xtask peers`).

#![cfg(feature = "prometheus")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

#[path = "prometheus_support.rs"]
mod support;

use otlp_proto::metrics::v1::{AggregationTemporality, metric};
use peers::{Peer, require};
use std::collections::{BTreeMap, BTreeSet};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporter_and_prometheus_agree_with_ours() {
    let Some(node_exporter) = require(Peer::NodeExporter) else {
        return;
    };
    let Some(prometheus) = require(Peer::Prometheus) else {
        return;
    };
    let dir = TempDir::new("peers");
    let node = start_node_exporter(&node_exporter, &dir);
    let prom_port = free_port();
    let prom = start_prometheus(&prometheus, &dir, prom_port, &node.address);
    let closed = format!("127.0.0.1:{}", free_port());

    let ours = OurReceiver::start(&format!(
        "config:\n  scrape_configs:\n\
         \x20   - {{job_name: node, scrape_interval: 1s, static_configs: [{{targets: ['{}']}}]}}\n\
         \x20   - {{job_name: prom, scrape_interval: 1s, static_configs: [{{targets: ['{}']}}]}}\n\
         \x20   - {{job_name: closed, scrape_interval: 1s, scrape_timeout: 500ms, static_configs: [{{targets: ['{closed}']}}]}}\n",
        node.address, prom.address
    ))
    .await;
    // Prometheus has a sample of node_exporter, and we have two scrapes of each target.
    wait_until("Prometheus scraped node_exporter", || {
        query(&prom.address, "up{job=\"node\"}")
            .first()
            .is_some_and(|(_, v)| v == "1")
    })
    .await;
    wait_until("our receiver scraped every target twice", || {
        ["node", "prom", "closed"]
            .iter()
            .all(|job| ours.requests_of(job).len() >= 2)
    })
    .await;
    // Wait for a scrape of ours that follows Prometheus's latest (for the label sets).
    let node_text = http_get(&node.address, "/metrics");
    let prom_text = http_get(&prom.address, "/metrics");
    let before = ours.requests_of("node").len();
    wait_until("one more scrape", || {
        ours.requests_of("node").len() > before
    })
    .await;
    ours.stop().await;

    // `up`.
    for job in ["node", "prom"] {
        let last = ours.requests_of(job).pop().unwrap();
        assert_eq!(gauge_values(&last, "up"), [1.0], "up of {job}");
    }
    for r in ours.requests_of("closed") {
        assert_eq!(gauge_values(&r, "up"), [0.0], "up of the closed port");
        assert_eq!(metric_names(&r).len(), 5, "only the scrape metrics");
    }

    // Types of every node_exporter family with samples.
    let node_req = ours.requests_of("node").pop().unwrap();
    let ours_metrics = metrics_by_name(&node_req);
    let node_types = text_types(&node_text);
    let sampled = sampled_families(&node_text, &node_types);
    assert!(sampled.len() > 40, "node_exporter exposed {sampled:?}");
    for family in &sampled {
        let kind = node_types
            .get(family)
            .map(String::as_str)
            .unwrap_or("untyped");
        let m = ours_metrics
            .get(family.as_str())
            .unwrap_or_else(|| panic!("{family} ({kind}) is missing from ours"));
        check_type(family, kind, m);
    }
    // Prometheus's own histograms and summaries.
    let prom_req = ours.requests_of("prom").pop().unwrap();
    let prom_metrics = metrics_by_name(&prom_req);
    let prom_types = text_types(&prom_text);
    let prom_sampled = sampled_families(&prom_text, &prom_types);
    let mut histograms = 0;
    let mut summaries = 0;
    for family in &prom_sampled {
        let kind = prom_types
            .get(family)
            .map(String::as_str)
            .unwrap_or("untyped");
        let m = prom_metrics
            .get(family.as_str())
            .unwrap_or_else(|| panic!("{family} ({kind}) is missing from ours"));
        check_type(family, kind, m);
        match kind {
            "histogram" => {
                histograms += 1;
                let want = bucket_bounds(&prom_text, family);
                let Some(metric::Data::Histogram(h)) = &m.data else {
                    unreachable!()
                };
                for dp in &h.data_points {
                    assert_eq!(dp.explicit_bounds, want, "bounds of {family}");
                    assert_eq!(dp.bucket_counts.len(), want.len() + 1);
                    assert_eq!(dp.bucket_counts.iter().sum::<u64>(), dp.count, "{family}");
                }
            }
            "summary" => summaries += 1,
            _ => {}
        }
    }
    assert!(
        histograms >= 3 && summaries >= 1,
        "{histograms} histograms, {summaries} summaries"
    );

    // Label sets: every series Prometheus stored for node_exporter is a point of ours.
    let stored = query(&prom.address, "{job=\"node\"}");
    let mut want: BTreeSet<(String, BTreeMap<String, String>)> = BTreeSet::new();
    for (labels, _) in &stored {
        let mut labels = labels.clone();
        let name = labels.remove("__name__").unwrap();
        labels.remove("job");
        labels.remove("instance");
        if name == "up" || name.starts_with("scrape_") {
            continue;
        }
        let (family, cut) = family_of_series(&name, &node_types);
        if let Some(cut) = cut {
            labels.remove(cut);
        }
        want.insert((family, labels));
    }
    let have: BTreeSet<(String, BTreeMap<String, String>)> = point_label_sets(&node_req)
        .into_iter()
        .filter(|(n, _)| n != "up" && !n.starts_with("scrape_"))
        .collect();
    let missing: Vec<_> = want.difference(&have).collect();
    let extra: Vec<_> = have.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "label sets differ: missing from ours {missing:?}, only in ours {extra:?}"
    );
    assert!(want.len() > 100, "{} series", want.len());

    // Stable values equal Prometheus's.
    for name in [
        "node_uname_info",
        "node_memory_MemTotal_bytes",
        "node_time_zone_offset_seconds",
    ] {
        let theirs = query(&prom.address, &format!("{name}{{job=\"node\"}}"));
        assert!(!theirs.is_empty(), "Prometheus has no {name}");
        for (labels, value) in theirs {
            let mut attrs = labels.clone();
            for k in ["__name__", "job", "instance"] {
                attrs.remove(k);
            }
            let ours_value = point_value(&node_req, name, &attrs)
                .unwrap_or_else(|| panic!("no point {name} {attrs:?} in ours"));
            let theirs_value: f64 = value.parse().unwrap();
            assert_eq!(ours_value, theirs_value, "{name}{attrs:?}");
        }
    }
    // Resource of the node target.
    let resource = resource_attributes(&node_req);
    assert_eq!(resource["service.name"], "node");
    assert_eq!(resource["service.instance.id"], node.address);
    assert_eq!(
        resource["server.port"],
        node.address.rsplit(':').next().unwrap()
    );
    assert_eq!(resource["url.scheme"], "http");
}

fn check_type(family: &str, kind: &str, m: &otlp_proto::metrics::v1::Metric) {
    match (kind, &m.data) {
        ("counter", Some(metric::Data::Sum(s))) => {
            assert!(s.is_monotonic, "{family}");
            assert_eq!(
                s.aggregation_temporality,
                AggregationTemporality::Cumulative as i32,
                "{family}"
            );
            for dp in &s.data_points {
                assert!(
                    dp.start_time_unix_nano > 0 && dp.start_time_unix_nano <= dp.time_unix_nano
                );
            }
        }
        ("gauge" | "untyped", Some(metric::Data::Gauge(_))) => {}
        ("histogram", Some(metric::Data::Histogram(h))) => assert_eq!(
            h.aggregation_temporality,
            AggregationTemporality::Cumulative as i32,
            "{family}"
        ),
        ("summary", Some(metric::Data::Summary(_))) => {}
        (kind, data) => panic!("{family}: a {kind} became {data:?}"),
    }
}
