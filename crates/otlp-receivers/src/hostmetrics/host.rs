//! Where the host's files are (`root_path`), reading them, and the scrape errors.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why (part of) a scrape failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScrapeError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file did not have the expected format.
    #[error("unexpected content in {path}: {what}")]
    Format { path: String, what: String },
    /// A file system could not be measured.
    #[error("failed to read usage at {mountpoint}: {source}")]
    Statvfs {
        mountpoint: String,
        #[source]
        source: std::io::Error,
    },
}

/// The host's file system, below `root_path`.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    root: PathBuf,
}

impl Host {
    /// `root_path` (empty: `/`).
    pub(crate) fn new(root_path: &str) -> Host {
        Host {
            root: if root_path.is_empty() {
                PathBuf::from("/")
            } else {
                PathBuf::from(root_path)
            },
        }
    }

    /// The root (`/` or `root_path`).
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/proc/<rel>`.
    pub(crate) fn proc(&self, rel: &str) -> PathBuf {
        self.root.join("proc").join(rel)
    }

    /// `<root>/etc/<rel>`.
    pub(crate) fn etc(&self, rel: &str) -> PathBuf {
        self.root.join("etc").join(rel)
    }

    /// The text of `path`.
    pub(crate) fn read(&self, path: &Path) -> Result<String, ScrapeError> {
        std::fs::read_to_string(path).map_err(|source| ScrapeError::Read {
            path: path.display().to_string(),
            source,
        })
    }

    /// The text of `<root>/proc/<rel>`.
    pub(crate) fn read_proc(&self, rel: &str) -> Result<String, ScrapeError> {
        self.read(&self.proc(rel))
    }

    /// The boot time in Unix seconds (`btime` of `/proc/stat`).
    pub(crate) fn boot_time(&self) -> Result<u64, ScrapeError> {
        let stat = self.read_proc("stat")?;
        parse_btime(&stat).ok_or_else(|| ScrapeError::Format {
            path: self.proc("stat").display().to_string(),
            what: "no btime line".into(),
        })
    }
}

/// `btime N` of `/proc/stat`.
pub(crate) fn parse_btime(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Now, in Unix nanoseconds.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Clock ticks per second (`USER_HZ`, the unit of `/proc/stat` and `/proc/PID/stat` times).
pub(crate) fn clock_ticks() -> f64 {
    let hz = rustix::param::clock_ticks_per_second();
    if hz == 0 { 100.0 } else { hz as f64 }
}

/// The memory page size in bytes.
pub(crate) fn page_size() -> u64 {
    rustix::param::page_size() as u64
}

/// `Key:   123 kB` lines of `/proc/meminfo`-like files, values in bytes when they end in
/// `kB`.
pub(crate) fn parse_kv_kb(text: &str) -> Vec<(&str, u64)> {
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let mut parts = rest.split_whitespace();
            let value: u64 = parts.next()?.parse().ok()?;
            let value = match parts.next() {
                Some("kB") => value.saturating_mul(1024),
                _ => value,
            };
            Some((key.trim(), value))
        })
        .collect()
}

/// Replaces the octal escapes (`\040`) of mount tables.
pub(crate) fn unescape_octal(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = u32::from(bytes[i + 1] - b'0') * 64
                + u32::from(bytes[i + 2] - b'0') * 8
                + u32::from(bytes[i + 3] - b'0');
            out.push((v & 0xff) as u8);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo_lines_and_escapes() {
        let kv = parse_kv_kb("MemTotal:       16 kB\nHugePages_Total:       3\nbad line\n");
        assert_eq!(kv, vec![("MemTotal", 16 * 1024), ("HugePages_Total", 3)]);
        assert_eq!(unescape_octal(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape_octal(r"/x\04"), r"/x\04");
        assert_eq!(
            parse_btime("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }
}
