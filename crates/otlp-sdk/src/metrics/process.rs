//! Process metrics, opt-in: CPU time, memory, threads and open file descriptors of this
//! process, read from `/proc` at each collection (Linux; elsewhere the instruments report
//! nothing). Names, units and attributes follow the semantic conventions' process metrics.

use crate::metrics::Meter;
use crate::value::KeyValue;

/// `/proc/[pid]/stat` times are in clock ticks; Linux's `USER_HZ` is 100 on every platform
/// the kernel supports for user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// Registers `process.cpu.time` (s, `cpu.mode` = `user` | `system`), `process.memory.usage`
/// and `process.memory.virtual` (By), `process.thread.count` (`{thread}`) and
/// `process.unix.file_descriptor.count` (`{file_descriptor}`) on `meter`.
pub fn register(meter: &Meter) {
    let _cpu = meter
        .f64_observable_counter("process.cpu.time")
        .with_unit("s")
        .with_description("Total CPU seconds broken down by different CPU modes.")
        .with_callback(|o| {
            if let Some((user, system)) = cpu_seconds() {
                o.observe(user, &[KeyValue::new("cpu.mode", "user")]);
                o.observe(system, &[KeyValue::new("cpu.mode", "system")]);
            }
        })
        .build();
    let _rss = meter
        .i64_observable_up_down_counter("process.memory.usage")
        .with_unit("By")
        .with_description("The amount of physical memory in use.")
        .with_callback(|o| {
            if let Some(kib) = status_field("VmRSS:") {
                o.observe(kib * 1024, &[]);
            }
        })
        .build();
    let _virtual = meter
        .i64_observable_up_down_counter("process.memory.virtual")
        .with_unit("By")
        .with_description("The amount of committed virtual memory.")
        .with_callback(|o| {
            if let Some(kib) = status_field("VmSize:") {
                o.observe(kib * 1024, &[]);
            }
        })
        .build();
    let _threads = meter
        .i64_observable_up_down_counter("process.thread.count")
        .with_unit("{thread}")
        .with_description("Process threads count.")
        .with_callback(|o| {
            if let Some(n) = status_field("Threads:") {
                o.observe(n, &[]);
            }
        })
        .build();
    let _fds = meter
        .i64_observable_up_down_counter("process.unix.file_descriptor.count")
        .with_unit("{file_descriptor}")
        .with_description("Number of unix file descriptors in use by the process.")
        .with_callback(|o| {
            if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
                o.observe(entries.count() as i64, &[]);
            }
        })
        .build();
}

/// User and system CPU seconds from `/proc/self/stat` (fields 14 and 15).
pub(crate) fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_times(&stat)
}

fn parse_stat_times(stat: &str) -> Option<(f64, f64)> {
    // The command name (field 2) is in parentheses and may contain spaces: count from the
    // last ')'. Field 3 is the first after it, so utime (14) and stime (15) are the 12th and
    // 13th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user / TICKS_PER_SECOND, system / TICKS_PER_SECOND))
}

/// A numeric field of `/proc/self/status` (kB values are returned in kB).
pub(crate) fn status_field(name: &str) -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_field(&status, name)
}

fn parse_status_field(status: &str, name: &str) -> Option<i64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let stat = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0";
        assert_eq!(parse_stat_times(stat), Some((2.5, 0.75)));
        let status = "Name:\tx\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t9\n";
        assert_eq!(parse_status_field(status, "VmRSS:"), Some(2048));
        assert_eq!(parse_status_field(status, "Threads:"), Some(9));
        assert_eq!(parse_status_field(status, "Nope:"), None);
    }
}
