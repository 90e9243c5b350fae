//! The `system` scraper: `system.uptime`, the whole seconds since `btime` of `/proc/stat`.

use super::Scrape;
use super::host::Host;
use super::metric::{GAUGE, Kind, MetricDef, Recorder, Resolved, def};

/// The catalogue (otelcol-contrib v0.160.0 `systemscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[def(
    "system.uptime",
    "The time the system has been running",
    "s",
    GAUGE,
    Kind::Double,
    true,
    &[],
)];

/// The `system` scraper.
#[derive(Debug)]
pub(crate) struct SystemScraper {
    metrics: Vec<Resolved>,
}

impl SystemScraper {
    pub(crate) fn new(metrics: Vec<Resolved>) -> SystemScraper {
        SystemScraper { metrics }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let boot = match host.boot_time() {
            Ok(b) => b,
            Err(e) => return scrape.failed("system", e),
        };
        let now_secs = scrape.now / 1_000_000_000;
        let mut rec = Recorder::new(&self.metrics, boot * 1_000_000_000, scrape.now);
        rec.record("system.uptime", now_secs.saturating_sub(boot) as f64, &[]);
        scrape.emit("system", Vec::new(), rec);
    }
}
