//! The `hostmetrics` receiver: one full scrape of this machine by every scraper (defaults;
//! `process` with `mute_process_all_errors`), and each scraper alone, single thread.
//!
//! `cargo bench -p otlp-benches --bench otlp_hostmetrics`
//!
//! A scrape reads `/proc` and `/sys` and builds the OTLP request; the time of `process`
//! grows with the number of processes (printed at the start).

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use otlp_receivers::hostmetrics::{HostMetricsConfig, HostScrapers};

const SCRAPERS: [&str; 10] = [
    "cpu",
    "disk",
    "filesystem",
    "load",
    "memory",
    "network",
    "paging",
    "processes",
    "process",
    "system",
];

fn scrapers(names: &[&str]) -> HostScrapers {
    let body: String = names
        .iter()
        .map(|n| {
            if *n == "process" {
                "  process: {mute_process_all_errors: true}\n".to_owned()
            } else {
                format!("  {n}:\n")
            }
        })
        .collect();
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&format!("scrapers:\n{body}")).unwrap();
    let config: HostMetricsConfig = otlp_pipeline::config::parse_config(&value).unwrap();
    HostScrapers::new(&config).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut all = scrapers(&SCRAPERS);
    let report = all.scrape();
    let points: usize = report.scrapers.iter().map(|s| s.points).sum();
    eprintln!(
        "one scrape: {} resources, {points} data points ({:?})",
        report.request.resource_metrics.len(),
        report
            .scrapers
            .iter()
            .map(|s| (s.scraper, s.points))
            .collect::<Vec<_>>()
    );
    c.bench_function("scrape/all", |b| b.iter(|| all.scrape()));
    let mut group = c.benchmark_group("scrape");
    for name in SCRAPERS {
        let mut one = scrapers(&[name]);
        group.bench_function(name, |b| b.iter(|| one.scrape()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
