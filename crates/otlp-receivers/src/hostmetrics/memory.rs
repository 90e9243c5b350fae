//! The `memory` scraper, from `/proc/meminfo` as gopsutil reads it: `cached` is `Cached` plus
//! `SReclaimable`, and `used` is the legacy formula `MemTotal - MemFree - Buffers - cached`
//! (otelcol's default, without the `useLinuxMemAvailable` feature gate).

use super::Scrape;
use super::host::{Host, page_size, parse_kv_kb};
use super::metric::{GAUGE, Kind, MetricDef, Recorder, Resolved, UPDOWN, def};

/// The catalogue (otelcol-contrib v0.160.0 `memoryscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.linux.memory.available",
        "An estimate of how much memory is available for starting new applications, without swapping. This is a more accurate alternative than system.memory.usage with state=free. (Linux only)",
        "By",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.linux.memory.dirty",
        "The amount of dirty memory according to `/proc/meminfo`.",
        "By",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.limit",
        "Total bytes of memory available.",
        "By",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.linux.hugepages.limit",
        "Total number of hugepages available.",
        "{page}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.linux.hugepages.page_size",
        "System hugepage size in bytes.",
        "By",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.linux.hugepages.reserved",
        "Number of reserved hugepages (hugepages for which a commitment to allocate has been made, but no allocation has yet been made). This is reported as a separate metric rather than a usage state because reserved pages are already counted in free pages - they represent a subset of free pages that cannot be used for non-reserved allocations.",
        "{page}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.linux.hugepages.surplus",
        "Number of surplus hugepages (overcommitted hugepages beyond the persistent pool). This is reported as a separate metric rather than a usage state because surplus pages can be in either used or free state, and including them would break the semantic convention that usage states must sum to the limit.",
        "{page}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.linux.hugepages.usage",
        "Number of hugepages in use by state.",
        "{page}",
        UPDOWN,
        Kind::Int,
        false,
        &["system.memory.linux.hugepages.state"],
    ),
    def(
        "system.memory.linux.hugepages.utilization",
        "Percentage of hugepages in use by state.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["system.memory.linux.hugepages.state"],
    ),
    def(
        "system.memory.linux.shared",
        "Shared memory usage, including tmpfs filesystems and System V/POSIX shared memory. Only supported on Linux.",
        "By",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.page_size",
        "A constant value for the system's configured page size.",
        "By",
        GAUGE,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.memory.usage",
        "Bytes of memory in use.",
        "By",
        UPDOWN,
        Kind::Int,
        true,
        &["state"],
    ),
    def(
        "system.memory.utilization",
        "Percentage of memory bytes in use.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["state"],
    ),
];

/// The `/proc/meminfo` values the scraper uses, in bytes (hugepage counts in pages).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct MemInfo {
    pub total: u64,
    pub free: u64,
    pub available: u64,
    pub buffers: u64,
    /// `Cached` + `SReclaimable`, as gopsutil.
    pub cached: u64,
    pub sreclaimable: u64,
    pub sunreclaim: u64,
    pub dirty: u64,
    pub shmem: u64,
    pub huge_total: u64,
    pub huge_free: u64,
    pub huge_rsvd: u64,
    pub huge_surp: u64,
    pub huge_size: u64,
}

impl MemInfo {
    /// gopsutil's legacy `used`.
    pub(crate) fn used(&self) -> u64 {
        self.total
            .saturating_sub(self.free)
            .saturating_sub(self.buffers)
            .saturating_sub(self.cached)
    }
}

pub(crate) fn parse_meminfo(text: &str) -> MemInfo {
    let mut m = MemInfo::default();
    let mut cached = 0;
    for (key, value) in parse_kv_kb(text) {
        match key {
            "MemTotal" => m.total = value,
            "MemFree" => m.free = value,
            "MemAvailable" => m.available = value,
            "Buffers" => m.buffers = value,
            "Cached" => cached = value,
            "SReclaimable" => m.sreclaimable = value,
            "SUnreclaim" => m.sunreclaim = value,
            "Dirty" => m.dirty = value,
            "Shmem" => m.shmem = value,
            "HugePages_Total" => m.huge_total = value,
            "HugePages_Free" => m.huge_free = value,
            "HugePages_Rsvd" => m.huge_rsvd = value,
            "HugePages_Surp" => m.huge_surp = value,
            "Hugepagesize" => m.huge_size = value,
            _ => {}
        }
    }
    m.cached = cached + m.sreclaimable;
    m
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The `memory` scraper.
#[derive(Debug)]
pub(crate) struct MemoryScraper {
    metrics: Vec<Resolved>,
}

impl MemoryScraper {
    pub(crate) fn new(metrics: Vec<Resolved>) -> MemoryScraper {
        MemoryScraper { metrics }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let text = match host.read_proc("meminfo") {
            Ok(t) => t,
            Err(e) => return scrape.failed("memory", e),
        };
        let m = parse_meminfo(&text);
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        let states = [
            ("used", m.used()),
            ("free", m.free),
            ("buffered", m.buffers),
            ("cached", m.cached),
            ("slab_reclaimable", m.sreclaimable),
            ("slab_unreclaimable", m.sunreclaim),
        ];
        for (state, value) in states {
            rec.record("system.memory.usage", value as f64, &[("state", state)]);
            rec.record(
                "system.memory.utilization",
                ratio(value, m.total),
                &[("state", state)],
            );
        }
        rec.record("system.memory.limit", m.total as f64, &[]);
        rec.record("system.linux.memory.available", m.available as f64, &[]);
        rec.record("system.linux.memory.dirty", m.dirty as f64, &[]);
        rec.record("system.memory.linux.shared", m.shmem as f64, &[]);
        rec.record("system.memory.page_size", page_size() as f64, &[]);
        rec.record(
            "system.memory.linux.hugepages.page_size",
            m.huge_size as f64,
            &[],
        );
        rec.record(
            "system.memory.linux.hugepages.limit",
            m.huge_total as f64,
            &[],
        );
        rec.record(
            "system.memory.linux.hugepages.reserved",
            m.huge_rsvd as f64,
            &[],
        );
        rec.record(
            "system.memory.linux.hugepages.surplus",
            m.huge_surp as f64,
            &[],
        );
        let huge_used = m.huge_total.saturating_sub(m.huge_free);
        for (state, value) in [("free", m.huge_free), ("used", huge_used)] {
            let attrs = [("system.memory.linux.hugepages.state", state)];
            rec.record("system.memory.linux.hugepages.usage", value as f64, &attrs);
            // No utilization without hugepages (as in Go).
            if m.huge_total != 0 {
                rec.record(
                    "system.memory.linux.hugepages.utilization",
                    ratio(value, m.huge_total),
                    &attrs,
                );
            }
        }
        scrape.emit("memory", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_is_gopsutils_legacy_formula() {
        let m = parse_meminfo(
            "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\nSReclaimable: 30 kB\nSUnreclaim: 20 kB\n",
        );
        assert_eq!(m.cached, 230 * 1024);
        assert_eq!(m.used(), (1000 - 100 - 50 - 230) * 1024);
    }
}
