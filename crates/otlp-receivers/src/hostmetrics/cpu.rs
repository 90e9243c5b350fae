//! The `cpu` scraper: `system.cpu.time` per logical CPU and state from `/proc/stat` (by
//! default summed over CPUs: its `cpu` attribute is off, as in Go), `system.cpu.utilization`
//! (the change since the previous scrape), `system.cpu.logical.count`,
//! `system.cpu.physical.count` and `system.cpu.frequency` (`/proc/cpuinfo`).

use std::collections::HashSet;

use super::Scrape;
use super::host::{Host, clock_ticks};
use super::metric::{GAUGE, Kind, MetricDef, Recorder, Resolved, Strategy, UPDOWN, def};

const CPU_STATE: &[&str] = &["cpu", "state"];

/// The catalogue (otelcol-contrib v0.160.0 `cpuscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    MetricDef {
        strategy: Strategy::Avg,
        ..def(
            "system.cpu.frequency",
            "Current frequency of the CPU core in Hz.",
            "Hz",
            GAUGE,
            Kind::Double,
            false,
            &["cpu"],
        )
    },
    def(
        "system.cpu.logical.count",
        "Number of available logical CPUs.",
        "{cpu}",
        UPDOWN,
        Kind::Int,
        true,
        &[],
    ),
    def(
        "system.cpu.physical.count",
        "Number of available physical CPUs.",
        "{cpu}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    MetricDef {
        default_attributes: Some(&["state"]),
        ..def(
            "system.cpu.time",
            "Total seconds each logical CPU spent on each mode.",
            "s",
            super::metric::MONO,
            Kind::Double,
            true,
            CPU_STATE,
        )
    },
    MetricDef {
        default_attributes: Some(&["state"]),
        ..def(
            "system.cpu.utilization",
            "Difference in system.cpu.time since the last measurement per logical CPU, divided by the elapsed time (value in interval [0,1]).",
            "1",
            GAUGE,
            Kind::Double,
            false,
            CPU_STATE,
        )
    },
];

/// The states in the order the Go scraper records them, with their column in `/proc/stat`.
const STATES: [(&str, usize); 8] = [
    ("user", 0),
    ("system", 2),
    ("idle", 3),
    ("interrupt", 5),
    ("nice", 1),
    ("softirq", 6),
    ("steal", 7),
    ("wait", 4),
];

/// One logical CPU's times in seconds, in `/proc/stat` column order (user, nice, system,
/// idle, iowait, irq, softirq, steal).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CpuTimes {
    pub cpu: String,
    pub times: [f64; 8],
}

impl CpuTimes {
    fn total(&self) -> f64 {
        self.times.iter().sum()
    }
}

/// The `cpuN` lines of `/proc/stat` (`cpu` alone is the total and is skipped).
pub(crate) fn parse_stat(stat: &str, hz: f64) -> Vec<CpuTimes> {
    stat.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            if !name.starts_with("cpu") || name == "cpu" {
                return None;
            }
            let mut times = [0.0; 8];
            for slot in &mut times {
                *slot = fields.next().and_then(|v| v.parse::<u64>().ok())? as f64 / hz;
            }
            Some(CpuTimes {
                cpu: name.to_owned(),
                times,
            })
        })
        .collect()
}

/// The `cpu` scraper.
#[derive(Debug)]
pub(crate) struct CpuScraper {
    metrics: Vec<Resolved>,
    previous: Option<Vec<CpuTimes>>,
}

impl CpuScraper {
    pub(crate) fn new(metrics: Vec<Resolved>) -> CpuScraper {
        CpuScraper {
            metrics,
            previous: None,
        }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        let stat = match host.read_proc("stat") {
            Ok(s) => s,
            Err(e) => return scrape.failed("cpu", e),
        };
        let cpus = parse_stat(&stat, clock_ticks());
        for cpu in &cpus {
            for (state, column) in STATES {
                rec.record(
                    "system.cpu.time",
                    cpu.times[column],
                    &[("cpu", &cpu.cpu), ("state", state)],
                );
            }
        }
        if let Some(previous) = &self.previous {
            for before in previous {
                let Some(after) = cpus.iter().find(|c| c.cpu == before.cpu) else {
                    continue;
                };
                let elapsed = after.total() - before.total();
                for (state, column) in STATES {
                    let value = if elapsed > 0.0 {
                        (after.times[column] - before.times[column]) / elapsed
                    } else {
                        0.0
                    };
                    rec.record(
                        "system.cpu.utilization",
                        value,
                        &[("cpu", &before.cpu), ("state", state)],
                    );
                }
            }
        }
        rec.record("system.cpu.logical.count", cpus.len() as f64, &[]);
        self.previous = Some(cpus);
        if rec.enabled("system.cpu.physical.count") || rec.enabled("system.cpu.frequency") {
            match host.read_proc("cpuinfo") {
                Ok(info) => {
                    let parsed = parse_cpuinfo(&info);
                    rec.record("system.cpu.physical.count", parsed.physical as f64, &[]);
                    for (cpu, mhz) in parsed.frequencies {
                        rec.record(
                            "system.cpu.frequency",
                            mhz * 1e6,
                            &[("cpu", &format!("cpu{cpu}"))],
                        );
                    }
                }
                Err(e) => scrape.error("cpu", e),
            }
        }
        scrape.emit("cpu", Vec::new(), rec);
    }
}

/// What `/proc/cpuinfo` says.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CpuInfo {
    /// Distinct (physical id, core id) pairs (at least 1 when there are processors).
    pub physical: usize,
    /// `processor` number and `cpu MHz`.
    pub frequencies: Vec<(u32, f64)>,
}

pub(crate) fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut cores = HashSet::new();
    let mut info = CpuInfo::default();
    let (mut processor, mut physical_id, mut core_id) = (None, String::new(), String::new());
    let mut processors = 0;
    let mut flush =
        |processor: &mut Option<u32>, physical_id: &mut String, core_id: &mut String| {
            if processor.take().is_some() {
                cores.insert((std::mem::take(physical_id), std::mem::take(core_id)));
            }
        };
    for line in text.lines().chain(std::iter::once("")) {
        let Some((key, value)) = line.split_once(':') else {
            flush(&mut processor, &mut physical_id, &mut core_id);
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => {
                flush(&mut processor, &mut physical_id, &mut core_id);
                processor = value.parse().ok();
                processors += 1;
            }
            "physical id" => physical_id = value.to_owned(),
            "core id" => core_id = value.to_owned(),
            "cpu MHz" => {
                if let (Some(p), Ok(mhz)) = (processor, value.parse::<f64>()) {
                    info.frequencies.push((p, mhz));
                }
            }
            _ => {}
        }
    }
    info.physical = if processors == 0 {
        0
    } else {
        cores.len().max(1)
    };
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_and_cpuinfo() {
        let stat = "cpu  10 0 0 0 0 0 0 0 0 0\ncpu0 100 2 30 400 5 6 7 8 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\nintr 1\n";
        let cpus = parse_stat(stat, 100.0);
        assert_eq!(cpus.len(), 2);
        assert_eq!(cpus[0].cpu, "cpu0");
        assert_eq!(cpus[0].times, [1.0, 0.02, 0.3, 4.0, 0.05, 0.06, 0.07, 0.08]);
        let info = parse_cpuinfo(
            "processor\t: 0\nphysical id\t: 0\ncore id\t: 0\ncpu MHz\t\t: 2000.5\n\nprocessor\t: 1\nphysical id\t: 0\ncore id\t: 0\ncpu MHz\t\t: 1999\n\n",
        );
        assert_eq!(info.physical, 1, "two hyperthreads of one core");
        assert_eq!(info.frequencies, vec![(0, 2000.5), (1, 1999.0)]);
    }
}
