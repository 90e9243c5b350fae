//! The `paging` scraper: swap devices from `/proc/swaps` (`system.paging.usage` /
//! `.utilization` by device and state `used`/`free`) and the paging counters of
//! `/proc/vmstat`. The counters are reported as the Go receiver reports them: gopsutil
//! multiplies `pswpin`, `pswpout`, `pgpgin`, `pgpgout`, `pgfault` and `pgmajfault` by 4096,
//! so `system.paging.operations` and `system.paging.faults` agree with otelcol's values.

use super::Scrape;
use super::host::{Host, ScrapeError};
use super::metric::{GAUGE, Kind, MONO, MetricDef, Recorder, Resolved, UPDOWN, def};

/// The catalogue (otelcol-contrib v0.160.0 `pagingscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.paging.faults",
        "The number of page faults.",
        "{faults}",
        MONO,
        Kind::Int,
        true,
        &["type"],
    ),
    def(
        "system.paging.operations",
        "The number of paging operations.",
        "{operations}",
        MONO,
        Kind::Int,
        true,
        &["direction", "type"],
    ),
    def(
        "system.paging.usage",
        "Swap (unix) or pagefile (windows) usage.",
        "By",
        UPDOWN,
        Kind::Int,
        true,
        &["device", "state"],
    ),
    def(
        "system.paging.utilization",
        "Swap (unix) or pagefile (windows) utilization.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["device", "state"],
    ),
];

/// One swap device: name, total and used bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Swap {
    pub device: String,
    pub total: u64,
    pub used: u64,
}

/// `/proc/swaps` (sizes in KiB), its header checked as Go checks it.
pub(crate) fn parse_swaps(text: &str) -> Result<Vec<Swap>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty file")?
        .split_whitespace()
        .collect();
    if header.len() < 4 || header[0] != "Filename" || header[2] != "Size" || header[3] != "Used" {
        return Err(format!("unexpected header {header:?}"));
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let n = |i: usize| {
                f.get(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| format!("bad row {line:?}"))
            };
            Ok(Swap {
                device: f.first().copied().unwrap_or_default().to_owned(),
                total: n(2)? * 1024,
                used: n(3)? * 1024,
            })
        })
        .collect()
}

/// The `/proc/vmstat` value of `key`.
fn vmstat(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The `paging` scraper.
#[derive(Debug)]
pub(crate) struct PagingScraper {
    metrics: Vec<Resolved>,
}

impl PagingScraper {
    pub(crate) fn new(metrics: Vec<Resolved>) -> PagingScraper {
        PagingScraper { metrics }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        let swaps = host.read_proc("swaps").and_then(|t| {
            parse_swaps(&t).map_err(|what| ScrapeError::Format {
                path: host.proc("swaps").display().to_string(),
                what,
            })
        });
        match swaps {
            Ok(swaps) => {
                for s in swaps {
                    let free = s.total.saturating_sub(s.used);
                    for (state, v) in [("used", s.used), ("free", free)] {
                        let attrs = [("device", s.device.as_str()), ("state", state)];
                        rec.record("system.paging.usage", v as f64, &attrs);
                        let util = if s.total == 0 {
                            0.0
                        } else {
                            v as f64 / s.total as f64
                        };
                        rec.record("system.paging.utilization", util, &attrs);
                    }
                }
            }
            Err(e) => scrape.error("paging", e),
        }
        match host.read_proc("vmstat") {
            Ok(v) => {
                let g = |k: &str| (vmstat(&v, k).saturating_mul(4096)) as f64;
                let op = "system.paging.operations";
                rec.record(
                    op,
                    g("pswpin"),
                    &[("direction", "page_in"), ("type", "major")],
                );
                rec.record(
                    op,
                    g("pswpout"),
                    &[("direction", "page_out"), ("type", "major")],
                );
                rec.record(
                    op,
                    g("pgpgin"),
                    &[("direction", "page_in"), ("type", "minor")],
                );
                rec.record(
                    op,
                    g("pgpgout"),
                    &[("direction", "page_out"), ("type", "minor")],
                );
                let major = g("pgmajfault");
                rec.record("system.paging.faults", major, &[("type", "major")]);
                rec.record(
                    "system.paging.faults",
                    (g("pgfault") - major).max(0.0),
                    &[("type", "minor")],
                );
            }
            Err(e) => scrape.error("paging", e),
        }
        scrape.emit("paging", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_swaps() {
        let s = parse_swaps(
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdb partition 1024 256 -2\n",
        )
        .expect("valid");
        assert_eq!(
            s,
            vec![Swap {
                device: "/dev/vdb".into(),
                total: 1024 * 1024,
                used: 256 * 1024
            }]
        );
        assert!(parse_swaps("Name Type Size Used\n").is_err());
        assert_eq!(
            parse_swaps("Filename Type Size Used Priority\n").map(|v| v.len()),
            Ok(0)
        );
    }
}
