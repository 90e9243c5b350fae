//! Process metrics read from `/proc` (Linux; elsewhere the values are absent and read as 0).

use std::time::Instant;

use super::registry::{Kind, Metrics, Registration};

/// Clock ticks per second of `/proc/<pid>/stat` times: `USER_HZ`, which Linux fixes at 100 on
/// every architecture for this interface (it is ABI, independent of the kernel's `HZ`).
const USER_HZ: f64 = 100.0;

/// The resident set size of this process in bytes: `VmRSS` of `/proc/self/status` (the same
/// number as `/proc/self/statm`'s second field times the page size, without needing the page
/// size).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// User plus system CPU time of this process, in seconds.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may contain anything; fields after it
    // start with the state (field 3).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// The memory available to this process: the cgroup limit (v2 `memory.max`, v1
/// `memory.limit_in_bytes`) when one is set, else `MemTotal` of `/proc/meminfo`.
pub fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line
                .trim_start_matches("MemTotal:")
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024)
        });
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .filter_map(|text| text.trim().parse::<u64>().ok())
    .next();
    match (cgroup, meminfo) {
        // cgroup v1 reports "no limit" as a huge number: take the smaller of the two.
        (Some(limit), Some(total)) => Some(limit.min(total)),
        (limit, total) => limit.or(total),
    }
}

pub(super) fn register(metrics: &Metrics) -> Vec<Registration> {
    let started: Instant = metrics.started();
    vec![
        metrics.register_fn(
            Kind::Gauge,
            "otelcol_process_memory_rss_bytes",
            "Total physical memory (resident set size) [alpha]",
            &[],
            || rss_bytes().unwrap_or(0) as f64,
        ),
        metrics.register_fn(
            Kind::Counter,
            "otelcol_process_cpu_seconds_total",
            "Total CPU user and system time in seconds [alpha]",
            &[],
            || cpu_seconds().unwrap_or(0.0),
        ),
        metrics.register_fn(
            Kind::Counter,
            "otelcol_process_uptime_seconds_total",
            "Uptime of the process [alpha]",
            &[],
            move || started.elapsed().as_secs_f64(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_proc() {
        assert!(rss_bytes().is_some_and(|b| b > 0));
        assert!(cpu_seconds().is_some());
        assert!(total_memory_bytes().is_some_and(|b| b > 0));
    }
}
