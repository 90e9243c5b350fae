//! The `processes` scraper: `system.processes.count` by status (the `State:` letter of every
//! `/proc/PID/status`; `running` and `blocked` from `procs_running` / `procs_blocked` of
//! `/proc/stat`, and `unknown` for what the total of `/proc` entries adds) and
//! `system.processes.created` (`processes` of `/proc/stat`), as gopsutil and the Go scraper.

use std::collections::BTreeMap;

use super::Scrape;
use super::host::Host;
use super::metric::{Kind, MONO, MetricDef, Recorder, Resolved, UPDOWN, def};

/// The catalogue (otelcol-contrib v0.160.0 `processesscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.processes.count",
        "Total number of processes in each state.",
        "{processes}",
        UPDOWN,
        Kind::Int,
        true,
        &["status"],
    ),
    def(
        "system.processes.created",
        "Total number of created processes. Supported on Linux and OpenBSD.",
        "{processes}",
        MONO,
        Kind::Int,
        true,
        &[],
    ),
];

/// The status attribute value of a `/proc/PID/status` `State:` letter.
pub(crate) fn status_of(letter: &str) -> &'static str {
    match letter {
        "A" => "daemon",
        "D" | "U" => "blocked",
        "E" => "detached",
        "I" => "idle",
        "L" => "locked",
        "O" => "orphan",
        "R" => "running",
        "S" => "sleeping",
        "T" | "t" => "stopped",
        "W" => "paging",
        "Y" => "system",
        "Z" => "zombies",
        _ => "unknown",
    }
}

/// The numeric entries of `<root>/proc`.
pub(crate) fn pids(host: &Host) -> std::io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir(host.proc(""))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The `State:` letter of a `/proc/PID/status` text.
pub(crate) fn state_letter(status: &str) -> Option<&str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .and_then(|v| v.split_whitespace().next())
}

/// The `processes` scraper.
#[derive(Debug)]
pub(crate) struct ProcessesScraper {
    metrics: Vec<Resolved>,
}

impl ProcessesScraper {
    pub(crate) fn new(metrics: Vec<Resolved>) -> ProcessesScraper {
        ProcessesScraper { metrics }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let pids = match pids(host) {
            Ok(p) => p,
            Err(source) => {
                return scrape.failed(
                    "processes",
                    super::host::ScrapeError::Read {
                        path: host.proc("").display().to_string(),
                        source,
                    },
                );
            }
        };
        let mut counts: BTreeMap<&'static str, i64> = BTreeMap::new();
        for pid in &pids {
            // A process that ended meanwhile is not counted (as in Go).
            let Ok(status) = std::fs::read_to_string(host.proc(&format!("{pid}/status"))) else {
                continue;
            };
            let state = state_letter(&status).map_or("unknown", status_of);
            *counts.entry(state).or_default() += 1;
        }
        let stat = match host.read_proc("stat") {
            Ok(s) => s,
            Err(e) => return scrape.failed("processes", e),
        };
        let field = |name: &str| {
            stat.lines()
                .filter_map(|l| l.split_once(' '))
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        };
        counts.insert("running", field("procs_running").unwrap_or(0));
        counts.insert("blocked", field("procs_blocked").unwrap_or(0));
        let known: i64 = counts.values().sum();
        let total = pids.len() as i64;
        if total > known {
            counts.insert("unknown", total - known);
        }
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        for (status, count) in counts {
            rec.record(
                "system.processes.count",
                count as f64,
                &[("status", status)],
            );
        }
        if let Some(created) = field("processes") {
            rec.record("system.processes.created", created as f64, &[]);
        }
        scrape.emit("processes", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_state_letters() {
        assert_eq!(
            state_letter("Name:\tbash\nState:\tS (sleeping)\n"),
            Some("S")
        );
        assert_eq!(status_of("S"), "sleeping");
        assert_eq!(status_of("D"), "blocked");
        assert_eq!(status_of("Z"), "zombies");
        assert_eq!(status_of("?"), "unknown");
    }
}
