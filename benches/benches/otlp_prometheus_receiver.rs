//! The `prometheus` receiver's scrape processing: a 10 000-sample text exposition (0.0.4)
//! parsed, and parsed + translated into an OTLP request (relabeling, series cache, start
//! times, the `scrape_*` metrics), samples per second, single thread, no sockets.
//!
//! `cargo bench -p otlp-benches --bench otlp_prometheus_receiver`
//!
//! The exposition: 4000 counter samples (`http_requests_total{method,code,path}`), 3000 gauge
//! samples (`node_filesystem_avail_bytes{device,mountpoint}`), 200 histograms of 10 buckets
//! (2400 samples) and 120 summaries of 3 quantiles (600 samples).

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_receivers::prometheus::parse::{Format, parse};
use otlp_receivers::prometheus::{PrometheusConfig, targets};

const SAMPLES: u64 = 10_000;

fn exposition() -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n",
    );
    for i in 0..4000 {
        let method = ["GET", "POST", "PUT", "DELETE"][i % 4];
        let code = ["200", "404", "500", "302", "201"][i % 5];
        writeln!(
            out,
            "http_requests_total{{method=\"{method}\",code=\"{code}\",path=\"/api/v1/items/{i}\"}} {}",
            i * 17
        )
        .unwrap();
    }
    out.push_str("# HELP node_filesystem_avail_bytes Free space.\n# TYPE node_filesystem_avail_bytes gauge\n");
    for i in 0..3000 {
        writeln!(
            out,
            "node_filesystem_avail_bytes{{device=\"/dev/sd{i}\",mountpoint=\"/mnt/{i}\"}} {}e+09",
            1.5 + i as f64
        )
        .unwrap();
    }
    out.push_str("# HELP rpc_latency_seconds Latency.\n# TYPE rpc_latency_seconds histogram\n");
    let bounds = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
    ];
    for s in 0..200 {
        for (j, le) in bounds.iter().enumerate() {
            writeln!(
                out,
                "rpc_latency_seconds_bucket{{service=\"svc{s}\",le=\"{le}\"}} {}",
                (j + 1) * 10
            )
            .unwrap();
        }
        writeln!(out, "rpc_latency_seconds_sum{{service=\"svc{s}\"}} 12.5").unwrap();
        writeln!(out, "rpc_latency_seconds_count{{service=\"svc{s}\"}} 100").unwrap();
    }
    out.push_str("# HELP gc_pause_seconds GC pauses.\n# TYPE gc_pause_seconds summary\n");
    for s in 0..120 {
        for q in ["0.5", "0.9", "0.99"] {
            writeln!(
                out,
                "gc_pause_seconds{{pool=\"p{s}\",quantile=\"{q}\"}} 0.0{s}"
            )
            .unwrap();
        }
        writeln!(out, "gc_pause_seconds_sum{{pool=\"p{s}\"}} 3.25").unwrap();
        writeln!(out, "gc_pause_seconds_count{{pool=\"p{s}\"}} 42").unwrap();
    }
    out
}

fn bench(c: &mut Criterion) {
    let body = exposition();
    let samples: usize = parse(body.as_bytes(), Format::Text)
        .unwrap()
        .iter()
        .map(|f| f.samples.len())
        .sum();
    assert_eq!(samples as u64, SAMPLES);
    let yaml = "config:\n  scrape_configs:\n    - job_name: bench\n      static_configs:\n        - targets: ['10.0.0.1:9100']\n          labels: {env: prod}\n      metric_relabel_configs:\n        - {source_labels: [code], regex: '5..', target_label: error, replacement: 'true'}\n";
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    let config: PrometheusConfig = otlp_pipeline::config::parse_config(&value).unwrap();
    let mut target = targets(&config).unwrap().remove(0);
    let mut now = 1_700_000_000_000_000_000u64;
    let (request, counts) = target
        .process(
            body.as_bytes(),
            "text/plain; version=0.0.4",
            now,
            Duration::ZERO,
        )
        .unwrap();
    assert_eq!(counts.scraped, SAMPLES);
    assert_eq!(
        request.resource_metrics[0].scope_metrics[0].metrics.len(),
        4 + 5
    );

    let mut group = c.benchmark_group("prometheus_receiver");
    group.throughput(Throughput::Elements(SAMPLES));
    group.bench_function("parse/text/10000", |b| {
        b.iter(|| parse(std::hint::black_box(body.as_bytes()), Format::Text).unwrap())
    });
    group.bench_function("parse_translate/text/10000", |b| {
        b.iter(|| {
            now += 1_000_000_000;
            target
                .process(
                    std::hint::black_box(body.as_bytes()),
                    "text/plain; version=0.0.4",
                    now,
                    Duration::ZERO,
                )
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
