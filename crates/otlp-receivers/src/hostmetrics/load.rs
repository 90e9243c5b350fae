//! The `load` scraper: `system.cpu.load_average.{1m,5m,15m}` from `/proc/loadavg`, divided by
//! the number of logical CPUs with `cpu_average: true`.

use super::Scrape;
use super::host::{Host, ScrapeError};
use super::metric::{GAUGE, Kind, MetricDef, Recorder, Resolved, def};

/// The catalogue (otelcol-contrib v0.160.0 `loadscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.cpu.load_average.15m",
        "Average CPU Load over 15 minutes.",
        "{thread}",
        GAUGE,
        Kind::Double,
        true,
        &[],
    ),
    def(
        "system.cpu.load_average.1m",
        "Average CPU Load over 1 minute.",
        "{thread}",
        GAUGE,
        Kind::Double,
        true,
        &[],
    ),
    def(
        "system.cpu.load_average.5m",
        "Average CPU Load over 5 minutes.",
        "{thread}",
        GAUGE,
        Kind::Double,
        true,
        &[],
    ),
];

/// The three averages of `/proc/loadavg`.
pub(crate) fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut f = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([f.next()??, f.next()??, f.next()??])
}

/// The `load` scraper.
#[derive(Debug)]
pub(crate) struct LoadScraper {
    metrics: Vec<Resolved>,
    cpu_average: bool,
}

impl LoadScraper {
    pub(crate) fn new(metrics: Vec<Resolved>, cpu_average: bool) -> LoadScraper {
        LoadScraper {
            metrics,
            cpu_average,
        }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let text = match host.read_proc("loadavg") {
            Ok(t) => t,
            Err(e) => return scrape.failed("load", e),
        };
        let Some(mut avg) = parse_loadavg(&text) else {
            return scrape.failed(
                "load",
                ScrapeError::Format {
                    path: host.proc("loadavg").display().to_string(),
                    what: "not three numbers".into(),
                },
            );
        };
        if self.cpu_average {
            let cpus = host
                .read_proc("stat")
                .map(|s| super::cpu::parse_stat(&s, 100.0).len())
                .unwrap_or(0);
            if cpus > 0 {
                for v in &mut avg {
                    *v /= cpus as f64;
                }
            }
        }
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        rec.record("system.cpu.load_average.1m", avg[0], &[]);
        rec.record("system.cpu.load_average.5m", avg[1], &[]);
        rec.record("system.cpu.load_average.15m", avg[2], &[]);
        scrape.emit("load", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_loadavg() {
        assert_eq!(
            super::parse_loadavg("0.50 1.00 2.25 1/100 42\n"),
            Some([0.5, 1.0, 2.25])
        );
        assert_eq!(super::parse_loadavg("0.5 x"), None);
    }
}
