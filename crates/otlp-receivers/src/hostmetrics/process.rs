//! The `process` scraper: one resource per process of `<root>/proc` (filtered by
//! `include`/`exclude` names) with `process.pid`, `process.parent_pid`,
//! `process.executable.name` (`Name:` of `status`, lengthened from the command line when the
//! kernel cut it at 15 bytes, as gopsutil), `process.executable.path` (the `exe` link),
//! `process.command` / `process.command_line` (`cmdline`) and `process.owner` (the real uid's
//! name in `<root>/etc/passwd`), and its CPU times (`stat`), memory (`statm`), disk I/O
//! (`io`), page faults, threads, context switches, open descriptors and pending signals.

use std::collections::{HashMap, HashSet};

use otlp_proto::common::v1::KeyValue;

use super::Scrape;
use super::config::{IncludeExclude, ProcessConfig};
use super::host::{Host, ScrapeError, clock_ticks, page_size};
use super::metric::{
    GAUGE, Kind, MONO, MetricDef, Recorder, Resolved, UPDOWN, def, int_kv, string_kv,
};

const fn unsupported(d: MetricDef) -> MetricDef {
    MetricDef {
        supported: false,
        ..d
    }
}

/// The catalogue (otelcol-contrib v0.160.0 `processscraper/metadata.yaml`); the `@v1`
/// metrics of the semantic-conventions migration and `process.handles` (Windows) are refused
/// when enabled.
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "process.context_switches",
        "Number of times the process has been context switched.",
        "{count}",
        MONO,
        Kind::Int,
        false,
        &["type"],
    ),
    unsupported(def(
        "process.context_switches@v1",
        "Number of times the process has been context switched.",
        "{context_switch}",
        MONO,
        Kind::Int,
        false,
        &["process.context_switch.type"],
    )),
    def(
        "process.cpu.time",
        "Total CPU seconds broken down by different states.",
        "s",
        MONO,
        Kind::Double,
        true,
        &["state"],
    ),
    unsupported(def(
        "process.cpu.time@v1",
        "Total CPU seconds broken down by different CPU modes.",
        "s",
        MONO,
        Kind::Double,
        false,
        &["cpu.mode"],
    )),
    def(
        "process.cpu.utilization",
        "Percentage of total CPU time used by the process since last scrape, expressed as a value between 0 and 1. On the first scrape, no data point is emitted for this metric.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["state"],
    ),
    unsupported(def(
        "process.cpu.utilization@v1",
        "Difference in process.cpu.time since the last measurement, divided by the elapsed time and number of CPUs available to the process. On the first scrape, no data point is emitted for this metric.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["cpu.mode"],
    )),
    def(
        "process.disk.io",
        "Disk bytes transferred.",
        "By",
        MONO,
        Kind::Int,
        true,
        &["direction"],
    ),
    unsupported(def(
        "process.disk.io@v1",
        "Disk bytes transferred.",
        "By",
        MONO,
        Kind::Int,
        false,
        &["disk.io.direction"],
    )),
    def(
        "process.disk.operations",
        "Number of disk operations performed by the process.",
        "{operations}",
        MONO,
        Kind::Int,
        false,
        &["direction"],
    ),
    unsupported(def(
        "process.handles",
        "Number of open handles held by the process.",
        "{count}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    )),
    def(
        "process.memory.usage",
        "The amount of physical memory in use.",
        "By",
        UPDOWN,
        Kind::Int,
        true,
        &[],
    ),
    def(
        "process.memory.utilization",
        "Percentage of total physical memory that is used by the process.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &[],
    ),
    def(
        "process.memory.virtual",
        "The amount of committed virtual memory.",
        "By",
        UPDOWN,
        Kind::Int,
        true,
        &[],
    ),
    def(
        "process.open_file_descriptors",
        "Number of file descriptors in use by the process.",
        "{count}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "process.paging.faults",
        "Number of page faults the process has made.",
        "{faults}",
        MONO,
        Kind::Int,
        false,
        &["type"],
    ),
    unsupported(def(
        "process.paging.faults@v1",
        "Number of page faults the process has made.",
        "{fault}",
        MONO,
        Kind::Int,
        false,
        &["system.paging.fault.type"],
    )),
    def(
        "process.signals_pending",
        "Number of pending signals for the process.",
        "{signals}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    unsupported(def(
        "process.thread.count@v1",
        "Process threads count.",
        "{thread}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    )),
    def(
        "process.threads",
        "Process threads count.",
        "{threads}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    unsupported(def(
        "process.unix.file_descriptor.count@v1",
        "Number of unix file descriptors in use by the process.",
        "{file_descriptor}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    )),
    def(
        "process.uptime",
        "The time the process has been running.",
        "s",
        GAUGE,
        Kind::Double,
        false,
        &[],
    ),
    unsupported(def(
        "process.windows.handle.count@v1",
        "Number of open handles held by the process.",
        "{handle}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    )),
];

/// The resource attributes: name, enabled by default, supported.
pub(crate) static RESOURCE_ATTRIBUTES: &[(&str, bool, bool)] = &[
    ("process.cgroup", false, false),
    ("process.command", true, true),
    ("process.command_line", true, true),
    ("process.executable.name", true, true),
    ("process.executable.path", true, true),
    ("process.linux.cgroup", false, false),
    ("process.owner", true, true),
    ("process.parent_pid", true, true),
    ("process.pid", true, true),
];

/// `/proc/PID/stat` fields after the command name.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Stat {
    pub state: String,
    pub ppid: i64,
    pub minflt: u64,
    pub majflt: u64,
    pub utime: u64,
    pub stime: u64,
    pub threads: u64,
    pub starttime: u64,
    pub blkio: u64,
}

pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        state: (*f.first()?).to_owned(),
        ppid: f.get(1)?.parse().ok()?,
        minflt: n(7)?,
        majflt: n(9)?,
        utime: n(11)?,
        stime: n(12)?,
        threads: n(17)?,
        starttime: n(19)?,
        blkio: n(39).unwrap_or(0),
    })
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.trim())
    })
}

/// gopsutil's process name: `Name:` of `status`, or, when that is 15 bytes or more (the
/// kernel's cut), the command line's first word's base name if it starts with it.
pub(crate) fn process_name(status_name: &str, cmdline: &[String]) -> String {
    if status_name.len() >= 15
        && let Some(first) = cmdline.first()
    {
        let base = first.rsplit('/').next().unwrap_or(first);
        if base.starts_with(status_name) {
            return base.to_owned();
        }
    }
    status_name.to_owned()
}

fn users(host: &Host) -> HashMap<u32, String> {
    std::fs::read_to_string(host.etc("passwd"))
        .map(|text| {
            text.lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let uid = f.nth(1)?.parse().ok()?;
                    Some((uid, name.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy)]
struct Previous {
    start: u64,
    at: u64,
    times: [f64; 3],
}

/// The `process` scraper.
#[derive(Debug)]
pub(crate) struct ProcessScraper {
    metrics: Vec<Resolved>,
    resource: HashSet<&'static str>,
    names: IncludeExclude,
    config: ProcessConfig,
    previous: HashMap<u32, Previous>,
}

impl ProcessScraper {
    pub(crate) fn new(
        metrics: Vec<Resolved>,
        config: ProcessConfig,
        names: IncludeExclude,
    ) -> ProcessScraper {
        let resource = RESOURCE_ATTRIBUTES
            .iter()
            .filter(|(name, default, _)| {
                config
                    .resource_attributes
                    .get(*name)
                    .and_then(|s| s.enabled)
                    .unwrap_or(*default)
            })
            .map(|(name, _, _)| *name)
            .collect();
        ProcessScraper {
            metrics,
            resource,
            names,
            config,
            previous: HashMap::new(),
        }
    }

    fn muted(&self, flag: bool) -> bool {
        self.config.mute_process_all_errors || flag
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let pids = match super::processes::pids(host) {
            Ok(p) => p,
            Err(source) => {
                return scrape.failed(
                    "process",
                    ScrapeError::Read {
                        path: host.proc("").display().to_string(),
                        source,
                    },
                );
            }
        };
        let boot = match host.boot_time() {
            Ok(b) => b,
            Err(e) => return scrape.failed("process", e),
        };
        let hz = clock_ticks();
        let page = page_size();
        let users = users(host);
        let total_memory = host
            .read_proc("meminfo")
            .map(|m| super::memory::parse_meminfo(&m).total)
            .unwrap_or(0);
        let cpus = host
            .read_proc("stat")
            .map(|s| super::cpu::parse_stat(&s, hz).len())
            .unwrap_or(1)
            .max(1);
        let mut seen = HashMap::new();
        for pid in pids {
            let dir = format!("{pid}/");
            let read = |file: &str| host.read_proc(&format!("{dir}{file}"));
            // A process that ended between the listing and now is skipped.
            let (Ok(stat_text), Ok(status)) = (read("stat"), read("status")) else {
                continue;
            };
            let Some(stat) = parse_stat(&stat_text) else {
                continue;
            };
            let cmdline: Vec<String> = std::fs::read(host.proc(&format!("{dir}cmdline")))
                .map(|b| {
                    b.split(|c| *c == 0)
                        .filter(|s| !s.is_empty())
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let Some(status_name) = status_field(&status, "Name") else {
                if !self.muted(self.config.mute_process_name_error) {
                    scrape.error(
                        "process",
                        ScrapeError::Format {
                            path: host.proc(&format!("{dir}status")).display().to_string(),
                            what: "no Name".into(),
                        },
                    );
                }
                continue;
            };
            let name = process_name(status_name, &cmdline);
            if !self.names.allows(&name) {
                continue;
            }
            let exe = match std::fs::read_link(host.proc(&format!("{dir}exe"))) {
                Ok(p) => p.display().to_string(),
                Err(source) => {
                    if !self.muted(self.config.mute_process_exe_error) {
                        scrape.error(
                            "process",
                            ScrapeError::Read {
                                path: host.proc(&format!("{dir}exe")).display().to_string(),
                                source,
                            },
                        );
                    }
                    String::new()
                }
            };
            let create_nanos = boot * 1_000_000_000 + ((stat.starttime as f64 / hz) * 1e9) as u64;
            let create_ms = create_nanos / 1_000_000;
            if self.config.scrape_process_delay.as_millis() as u64
                > (scrape.now / 1_000_000).saturating_sub(create_ms)
            {
                continue;
            }
            let uid: Option<u32> = status_field(&status, "Uid")
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok());
            let owner = uid.and_then(|u| users.get(&u).cloned());
            if owner.is_none() && !self.muted(self.config.mute_process_user_error) {
                scrape.error(
                    "process",
                    ScrapeError::Format {
                        path: host.etc("passwd").display().to_string(),
                        what: format!("no user with uid {uid:?} (pid {pid})"),
                    },
                );
            }

            let mut resource: Vec<KeyValue> = Vec::new();
            let on = |k: &str| self.resource.contains(k);
            if on("process.pid") {
                resource.push(int_kv("process.pid", i64::from(pid)));
            }
            if on("process.parent_pid") {
                resource.push(int_kv("process.parent_pid", stat.ppid));
            }
            if on("process.executable.name") {
                resource.push(string_kv("process.executable.name", name.clone()));
            }
            if on("process.executable.path") {
                resource.push(string_kv("process.executable.path", exe));
            }
            if on("process.command") {
                resource.push(string_kv(
                    "process.command",
                    cmdline.first().cloned().unwrap_or_default(),
                ));
            }
            if on("process.command_line") {
                resource.push(string_kv("process.command_line", cmdline.join(" ")));
            }
            if on("process.owner")
                && let Some(owner) = owner
            {
                resource.push(string_kv("process.owner", owner));
            }

            let mut rec = Recorder::new(&self.metrics, create_nanos, scrape.now);
            let times = [
                stat.utime as f64 / hz,
                stat.stime as f64 / hz,
                stat.blkio as f64 / hz,
            ];
            let states = ["user", "system", "wait"];
            for (state, t) in states.iter().zip(times) {
                rec.record("process.cpu.time", t, &[("state", state)]);
            }
            if let Some(prev) = self.previous.get(&pid)
                && prev.start == create_nanos
            {
                let elapsed = (scrape.now.saturating_sub(prev.at)) as f64 / 1e9;
                for (i, state) in states.iter().enumerate() {
                    let u = if elapsed > 0.0 {
                        (times[i] - prev.times[i]) / elapsed / cpus as f64
                    } else {
                        0.0
                    };
                    rec.record("process.cpu.utilization", u, &[("state", state)]);
                }
            }
            seen.insert(
                pid,
                Previous {
                    start: create_nanos,
                    at: scrape.now,
                    times,
                },
            );
            match read("statm") {
                Ok(statm) => {
                    let mut f = statm
                        .split_whitespace()
                        .map(|v| v.parse::<u64>().unwrap_or(0));
                    let vms = f.next().unwrap_or(0) * page;
                    let rss = f.next().unwrap_or(0) * page;
                    rec.record("process.memory.usage", rss as f64, &[]);
                    rec.record("process.memory.virtual", vms as f64, &[]);
                    if total_memory > 0 {
                        rec.record(
                            "process.memory.utilization",
                            rss as f64 / total_memory as f64,
                            &[],
                        );
                    }
                }
                Err(e) => scrape.error("process", e),
            }
            if rec.enabled("process.disk.io") || rec.enabled("process.disk.operations") {
                match read("io") {
                    Ok(io) => {
                        let g = |k: &str| {
                            status_field(&io, k)
                                .and_then(|v| v.parse::<u64>().ok())
                                .unwrap_or(0) as f64
                        };
                        rec.record("process.disk.io", g("read_bytes"), &[("direction", "read")]);
                        rec.record(
                            "process.disk.io",
                            g("write_bytes"),
                            &[("direction", "write")],
                        );
                        rec.record(
                            "process.disk.operations",
                            g("syscr"),
                            &[("direction", "read")],
                        );
                        rec.record(
                            "process.disk.operations",
                            g("syscw"),
                            &[("direction", "write")],
                        );
                    }
                    Err(e) => {
                        if !self.muted(self.config.mute_process_io_error) {
                            scrape.error("process", e);
                        }
                    }
                }
            }
            rec.record(
                "process.paging.faults",
                stat.majflt as f64,
                &[("type", "major")],
            );
            rec.record(
                "process.paging.faults",
                stat.minflt as f64,
                &[("type", "minor")],
            );
            rec.record("process.threads", stat.threads as f64, &[]);
            let num = |k: &str| {
                status_field(&status, k)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0) as f64
            };
            rec.record(
                "process.context_switches",
                num("nonvoluntary_ctxt_switches"),
                &[("type", "involuntary")],
            );
            rec.record(
                "process.context_switches",
                num("voluntary_ctxt_switches"),
                &[("type", "voluntary")],
            );
            if rec.enabled("process.open_file_descriptors") {
                match std::fs::read_dir(host.proc(&format!("{dir}fd"))) {
                    Ok(entries) => {
                        rec.record("process.open_file_descriptors", entries.count() as f64, &[]);
                    }
                    Err(source) => {
                        if !self.config.mute_process_all_errors {
                            scrape.error(
                                "process",
                                ScrapeError::Read {
                                    path: host.proc(&format!("{dir}fd")).display().to_string(),
                                    source,
                                },
                            );
                        }
                    }
                }
            }
            let pending = status_field(&status, "SigQ")
                .and_then(|v| v.split('/').next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            rec.record("process.signals_pending", pending as f64, &[]);
            let uptime = scrape.now.saturating_sub(create_nanos) as f64 / 1e9;
            rec.record("process.uptime", uptime, &[]);
            scrape.emit("process", resource, rec);
        }
        self.previous = seen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_the_name() {
        let text = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 3 0 250 50 0 0 20 0 7 0 12345 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 9 0 0\n";
        let s = parse_stat(text).expect("valid");
        assert_eq!(s.state, "S");
        assert_eq!(s.ppid, 1);
        assert_eq!((s.minflt, s.majflt), (100, 3));
        assert_eq!((s.utime, s.stime), (250, 50));
        assert_eq!(s.threads, 7);
        assert_eq!(s.starttime, 12345);
        assert_eq!(s.blkio, 9);
    }

    #[test]
    fn long_names_come_from_the_command_line() {
        let cmd = vec![
            "/usr/bin/otelcol-contrib-go".to_owned(),
            "--config".to_owned(),
        ];
        assert_eq!(process_name("otelcol-contrib", &cmd), "otelcol-contrib-go");
        assert_eq!(process_name("bash", &cmd), "bash");
        assert_eq!(process_name("kworker/0:1-eve", &[]), "kworker/0:1-eve");
    }
}
