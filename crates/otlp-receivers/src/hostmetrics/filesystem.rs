//! The `filesystem` scraper: the mounts of `<root>/proc/1/mountinfo` (else
//! `<root>/proc/self/mountinfo`), as gopsutil lists them — without `include_virtual_filesystems`
//! only types that `/proc/filesystems` does not mark `nodev`, bind mounts left out — each
//! measured with `statvfs` below `root_path`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Scrape;
use super::config::FsFilters;
use super::host::{Host, ScrapeError, unescape_octal};
use super::metric::{GAUGE, Kind, MetricDef, Recorder, Resolved, UPDOWN, def};

const ATTRS: &[&str] = &["device", "mode", "mountpoint", "type", "state"];

/// The catalogue (otelcol-contrib v0.160.0 `filesystemscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.filesystem.inodes.usage",
        "FileSystem inodes used.",
        "{inodes}",
        UPDOWN,
        Kind::Int,
        true,
        ATTRS,
    ),
    def(
        "system.filesystem.usage",
        "Filesystem bytes used.",
        "By",
        UPDOWN,
        Kind::Int,
        true,
        ATTRS,
    ),
    def(
        "system.filesystem.utilization",
        "Fraction of filesystem bytes used.",
        "1",
        GAUGE,
        Kind::Double,
        false,
        &["device", "mode", "mountpoint", "type"],
    ),
];

/// One mount.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Partition {
    pub device: String,
    pub mountpoint: String,
    pub fstype: String,
    pub opts: Vec<String>,
}

impl Partition {
    /// `rw`, `ro` or `unknown`.
    pub(crate) fn mode(&self) -> &'static str {
        if self.opts.iter().any(|o| o == "rw") {
            "rw"
        } else if self.opts.iter().any(|o| o == "ro") {
            "ro"
        } else {
            "unknown"
        }
    }
}

/// The physical types of `/proc/filesystems` (lines without `nodev`).
pub(crate) fn physical_types(text: &str) -> HashSet<String> {
    text.lines()
        .filter(|l| !l.starts_with("nodev"))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Parses mountinfo; `physical`: `Some(types)` keeps only those types and no bind mounts.
pub(crate) fn parse_mountinfo(text: &str, physical: Option<&HashSet<String>>) -> Vec<Partition> {
    let mut seen_devices: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split_whitespace().collect();
        let after: Vec<&str> = right.split_whitespace().collect();
        if fields.len() < 5 || after.len() < 2 {
            continue;
        }
        let (dev_id, root_dir, mountpoint) = (fields[2], fields[3], fields[4]);
        let mut opts: Vec<String> = fields
            .get(5)
            .map(|o| o.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let (fstype, source) = (after[0], after[1]);
        let super_opts: Vec<&str> = after
            .get(2)
            .map(|o| o.split(',').collect())
            .unwrap_or_default();
        // Writable only when both the mount and the superblock are.
        if super_opts.contains(&"ro")
            && let Some(rw) = opts.iter_mut().find(|o| *o == "rw")
        {
            *rw = "ro".to_owned();
        }
        if let Some(types) = physical
            && !types.contains(fstype)
        {
            continue;
        }
        let mut device = if source.starts_with('/') || root_dir == "/" {
            source.to_owned()
        } else {
            root_dir.to_owned()
        };
        if let Some(first) = seen_devices.get(dev_id) {
            device = first.clone();
        }
        let subvolume = super_opts
            .iter()
            .find_map(|o| o.strip_prefix("subvol="))
            .is_some_and(|v| v == root_dir);
        let bind = source.starts_with('/') && root_dir != "/" && !subvolume;
        seen_devices
            .entry(dev_id.to_owned())
            .or_insert_with(|| device.clone());
        if physical.is_some() && bind {
            continue;
        }
        if bind {
            opts.push("bind".to_owned());
        }
        out.push(Partition {
            device,
            mountpoint: unescape_octal(mountpoint),
            fstype: fstype.to_owned(),
            opts,
        });
    }
    out
}

/// The path to measure a host mount point at, below `root_path` (unless mountinfo already
/// shows it there).
pub(crate) fn translate(root: &Path, mountpoint: &str) -> std::path::PathBuf {
    if root == Path::new("/") || Path::new(mountpoint).starts_with(root) {
        return mountpoint.into();
    }
    root.join(mountpoint.trim_start_matches('/'))
}

/// Space and inodes of one file system (`statvfs`), as gopsutil reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Usage {
    pub total: u64,
    pub free: u64,
    pub used: u64,
    pub inodes_used: u64,
    pub inodes_free: u64,
}

pub(crate) fn usage(path: &Path) -> std::io::Result<Usage> {
    let s = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    let block = s.f_frsize;
    Ok(Usage {
        total: s.f_blocks.saturating_mul(block),
        free: s.f_bavail.saturating_mul(block),
        used: s.f_blocks.saturating_sub(s.f_bfree).saturating_mul(block),
        inodes_used: s.f_files.saturating_sub(s.f_ffree),
        inodes_free: s.f_ffree,
    })
}

/// The `filesystem` scraper.
#[derive(Debug)]
pub(crate) struct FilesystemScraper {
    metrics: Vec<Resolved>,
    filters: FsFilters,
    include_virtual: bool,
}

impl FilesystemScraper {
    pub(crate) fn new(
        metrics: Vec<Resolved>,
        filters: FsFilters,
        include_virtual: bool,
    ) -> FilesystemScraper {
        FilesystemScraper {
            metrics,
            filters,
            include_virtual,
        }
    }

    /// The partitions the scraper reports, before the include/exclude filters.
    pub(crate) fn partitions(&self, host: &Host) -> Result<Vec<Partition>, ScrapeError> {
        let text = host
            .read_proc("1/mountinfo")
            .or_else(|_| host.read_proc("self/mountinfo"))?;
        let physical = if self.include_virtual {
            None
        } else {
            Some(physical_types(&host.read_proc("filesystems")?))
        };
        Ok(parse_mountinfo(&text, physical.as_ref()))
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let partitions = match self.partitions(host) {
            Ok(p) => p,
            Err(e) => return scrape.failed("filesystem", e),
        };
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        let mut seen = HashSet::new();
        for p in partitions {
            if !p.mountpoint.is_empty() && !seen.insert((p.mountpoint.clone(), p.device.clone())) {
                continue;
            }
            if !(self.filters.devices.allows(&p.device)
                && self.filters.fs_types.allows(&p.fstype)
                && self.filters.mount_points.allows(&p.mountpoint))
            {
                continue;
            }
            let path = translate(host.root(), &p.mountpoint);
            let u = match usage(&path) {
                Ok(u) => u,
                Err(source) => {
                    scrape.error(
                        "filesystem",
                        ScrapeError::Statvfs {
                            mountpoint: path.display().to_string(),
                            source,
                        },
                    );
                    continue;
                }
            };
            let base = [
                ("device", p.device.as_str()),
                ("mode", p.mode()),
                ("mountpoint", p.mountpoint.as_str()),
                ("type", p.fstype.as_str()),
            ];
            let with = |state: &'static str| {
                let mut a = base.to_vec();
                a.push(("state", state));
                a
            };
            let reserved = u.total.saturating_sub(u.used).saturating_sub(u.free);
            rec.record("system.filesystem.usage", u.used as f64, &with("used"));
            rec.record("system.filesystem.usage", u.free as f64, &with("free"));
            rec.record(
                "system.filesystem.usage",
                reserved as f64,
                &with("reserved"),
            );
            let whole = u.used + u.free;
            let util = if whole == 0 {
                0.0
            } else {
                u.used as f64 / whole as f64
            };
            rec.record("system.filesystem.utilization", util, &base);
            rec.record(
                "system.filesystem.inodes.usage",
                u.inodes_used as f64,
                &with("used"),
            );
            rec.record(
                "system.filesystem.inodes.usage",
                u.inodes_free as f64,
                &with("free"),
            );
        }
        scrape.emit("filesystem", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 253:0 / / rw,relatime - ext4 /dev/vda rw,discard
23 22 0:5 / /proc rw,nosuid - proc proc rw
24 22 253:0 /data /srv/data rw - ext4 /dev/vda rw
25 22 0:30 / /mnt/with\\040space ro - tmpfs tmpfs rw
26 22 253:1 / /ro rw - xfs /dev/vdb ro
";

    #[test]
    fn lists_physical_mounts_without_binds() {
        let types: HashSet<String> = ["ext4", "xfs"].iter().map(|s| s.to_string()).collect();
        let p = parse_mountinfo(MOUNTINFO, Some(&types));
        let names: Vec<&str> = p.iter().map(|p| p.mountpoint.as_str()).collect();
        assert_eq!(names, ["/", "/ro"]);
        assert_eq!(p[0].device, "/dev/vda");
        assert_eq!(p[0].mode(), "rw");
        assert_eq!(p[1].mode(), "ro", "a read-only superblock wins");
        let all = parse_mountinfo(MOUNTINFO, None);
        assert_eq!(all.len(), 5);
        assert_eq!(all[2].device, "/dev/vda");
        assert!(all[2].opts.contains(&"bind".to_owned()));
        assert_eq!(all[3].mountpoint, "/mnt/with space");
        assert_eq!(all[3].mode(), "ro");
        assert_eq!(all[1].device, "proc");
    }

    #[test]
    fn translates_below_the_root() {
        assert_eq!(translate(Path::new("/"), "/boot"), Path::new("/boot"));
        assert_eq!(
            translate(Path::new("/hostfs"), "/boot"),
            Path::new("/hostfs/boot")
        );
        assert_eq!(
            translate(Path::new("/hostfs"), "/hostfs/boot"),
            Path::new("/hostfs/boot")
        );
    }
}
