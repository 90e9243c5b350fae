//! lumberjack-style rotation: `name.ext` → `name-2006-01-02T15-04-05.000.ext`, then cleanup.

use std::path::{Path, PathBuf};

use super::RotationConfig;
use otlp_model::time::{now_unix_nanos, utc_fields};

/// lumberjack's backup timestamp (`2006-01-02T15-04-05.000`), UTC.
pub(crate) fn stamp(unix_nanos: u64) -> String {
    let (y, mo, d, h, mi, s, n) = utc_fields(unix_nanos);
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}-{mi:02}-{s:02}.{:03}",
        n / 1_000_000
    )
}

/// `(directory, prefix "name-", extension ".ext")` of the active file.
fn parts(path: &Path) -> (PathBuf, String, String) {
    let directory = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match file_name.rfind('.') {
        Some(dot) if dot > 0 => (file_name[..dot].to_owned(), file_name[dot..].to_owned()),
        _ => (file_name.clone(), String::new()),
    };
    (directory, format!("{stem}-"), ext)
}

/// The backups of `path`, newest first, with their timestamps.
pub(crate) fn backups(path: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let (directory, prefix, ext) = parts(path);
    let listing = if directory.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        directory.clone()
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&listing)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stamp) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(ext.as_str()))
        else {
            continue;
        };
        // 2006-01-02T15-04-05.000
        if stamp.len() == 23 && stamp.as_bytes()[10] == b'T' {
            found.push((stamp.to_owned(), entry.path()));
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(found)
}

/// Renames the active file to a timestamped backup and deletes the backups beyond the
/// configured count and age.
pub(crate) fn rotate(path: &Path, config: &RotationConfig) -> std::io::Result<()> {
    let (directory, prefix, ext) = parts(path);
    let mut now = now_unix_nanos();
    let mut backup = directory.join(format!("{prefix}{}{ext}", stamp(now)));
    // Two rotations within a millisecond: move to the next free millisecond.
    while backup.exists() {
        now += 1_000_000;
        backup = directory.join(format!("{prefix}{}{ext}", stamp(now)));
    }
    std::fs::rename(path, &backup)?;
    let found = backups(path)?;
    let cutoff = (config.max_days > 0)
        .then(|| stamp(now.saturating_sub(config.max_days.saturating_mul(86_400 * 1_000_000_000))));
    for (i, (stamp, file)) in found.iter().enumerate() {
        let too_many = config.max_backups > 0 && i as u64 >= config.max_backups;
        let too_old = cutoff.as_ref().is_some_and(|cutoff| stamp < cutoff);
        if (too_many || too_old)
            && let Err(error) = std::fs::remove_file(file)
        {
            tracing::warn!(file = %file.display(), %error, "cannot delete an old backup");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(stamp(1_581_452_772_123_456_789), "2020-02-11T20-26-12.123");
        let (dir, prefix, ext) = parts(Path::new("/var/log/otel/traces.json"));
        assert_eq!(
            (dir, prefix.as_str(), ext.as_str()),
            (PathBuf::from("/var/log/otel"), "traces-", ".json")
        );
        let (_, prefix, ext) = parts(Path::new("out"));
        assert_eq!((prefix.as_str(), ext.as_str()), ("out-", ""));
    }
}
