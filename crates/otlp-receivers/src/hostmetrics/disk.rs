//! The `disk` scraper, from `/proc/diskstats`: every device with any non-zero counter (as
//! gopsutil), filtered by `include`/`exclude` device names; sectors are 512 bytes and times
//! are milliseconds.

use super::Scrape;
use super::config::IncludeExclude;
use super::host::Host;
use super::metric::{Kind, MONO, MetricDef, Recorder, Resolved, UPDOWN, def};

const DEVICE_DIRECTION: &[&str] = &["device", "direction"];

/// The catalogue (otelcol-contrib v0.160.0 `diskscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.disk.io",
        "Disk bytes transferred.",
        "By",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.disk.io_time",
        "Time disk spent activated. On Windows, this is calculated as the inverse of disk idle time.",
        "s",
        MONO,
        Kind::Double,
        true,
        &["device"],
    ),
    def(
        "system.disk.merged",
        "The number of disk reads/writes merged into single physical disk access operations.",
        "{operations}",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.disk.operation_time",
        "Time spent in disk operations.",
        "s",
        MONO,
        Kind::Double,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.disk.operations",
        "Disk operations count.",
        "{operations}",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.disk.pending_operations",
        "The queue size of pending I/O operations.",
        "{operations}",
        UPDOWN,
        Kind::Int,
        true,
        &["device"],
    ),
    def(
        "system.disk.weighted_io_time",
        "Time disk spent activated multiplied by the queue length.",
        "s",
        MONO,
        Kind::Double,
        true,
        &["device"],
    ),
];

/// One line of `/proc/diskstats`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct DiskStat {
    pub name: String,
    pub reads: u64,
    pub merged_reads: u64,
    pub read_sectors: u64,
    pub read_ms: u64,
    pub writes: u64,
    pub merged_writes: u64,
    pub write_sectors: u64,
    pub write_ms: u64,
    pub in_progress: u64,
    pub io_ms: u64,
    pub weighted_ms: u64,
}

pub(crate) fn parse_diskstats(text: &str) -> Vec<DiskStat> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 14 {
                return None;
            }
            let n = |i: usize| f[i].parse::<u64>().ok();
            let d = DiskStat {
                name: f[2].to_owned(),
                reads: n(3)?,
                merged_reads: n(4)?,
                read_sectors: n(5)?,
                read_ms: n(6)?,
                writes: n(7)?,
                merged_writes: n(8)?,
                write_sectors: n(9)?,
                write_ms: n(10)?,
                in_progress: n(11)?,
                io_ms: n(12)?,
                weighted_ms: n(13)?,
            };
            let empty = DiskStat {
                name: d.name.clone(),
                ..DiskStat::default()
            };
            (d != empty).then_some(d)
        })
        .collect()
}

/// The `disk` scraper.
#[derive(Debug)]
pub(crate) struct DiskScraper {
    metrics: Vec<Resolved>,
    filter: IncludeExclude,
}

impl DiskScraper {
    pub(crate) fn new(metrics: Vec<Resolved>, filter: IncludeExclude) -> DiskScraper {
        DiskScraper { metrics, filter }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let text = match host.read_proc("diskstats") {
            Ok(t) => t,
            Err(e) => return scrape.failed("disk", e),
        };
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        for d in parse_diskstats(&text) {
            if !self.filter.allows(&d.name) {
                continue;
            }
            let dev = d.name.as_str();
            let read = [("device", dev), ("direction", "read")];
            let write = [("device", dev), ("direction", "write")];
            rec.record("system.disk.io", (d.read_sectors * 512) as f64, &read);
            rec.record("system.disk.io", (d.write_sectors * 512) as f64, &write);
            rec.record("system.disk.operations", d.reads as f64, &read);
            rec.record("system.disk.operations", d.writes as f64, &write);
            rec.record(
                "system.disk.io_time",
                d.io_ms as f64 / 1000.0,
                &[("device", dev)],
            );
            rec.record(
                "system.disk.operation_time",
                d.read_ms as f64 / 1000.0,
                &read,
            );
            rec.record(
                "system.disk.operation_time",
                d.write_ms as f64 / 1000.0,
                &write,
            );
            rec.record(
                "system.disk.weighted_io_time",
                d.weighted_ms as f64 / 1000.0,
                &[("device", dev)],
            );
            rec.record(
                "system.disk.pending_operations",
                d.in_progress as f64,
                &[("device", dev)],
            );
            rec.record("system.disk.merged", d.merged_reads as f64, &read);
            rec.record("system.disk.merged", d.merged_writes as f64, &write);
        }
        scrape.emit("disk", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_idle_devices_and_short_lines() {
        let text = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n 253       0 vda 10 1 80 5 20 2 160 7 0 12 13 0 0 0 0\nshort line\n";
        let disks = parse_diskstats(text);
        assert_eq!(disks.len(), 1);
        assert_eq!(disks[0].name, "vda");
        assert_eq!(disks[0].write_sectors, 160);
        assert_eq!(disks[0].weighted_ms, 13);
    }
}
