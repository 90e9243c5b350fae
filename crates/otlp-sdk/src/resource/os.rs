//! [`OsDetector`]: `os.type`, `os.name`, `os.version`, `os.description`.

use std::path::PathBuf;

use otlp_model::semconv::resource::{OS_DESCRIPTION, OS_NAME, OS_TYPE, OS_VERSION};

use super::{Resource, ResourceDetector, read_trimmed, string_kv};

/// Describes the operating system.
///
/// - `os.type`: from the compile-time target OS, as the semantic conventions name it
///   (`linux`, `darwin`, `windows`, `freebsd`, `netbsd`, `openbsd`, `dragonflybsd`,
///   `solaris`, `aix`, ...);
/// - on Linux, `os.version`: the kernel release from `/proc/sys/kernel/osrelease`;
///   `os.name` (`NAME`) and `os.description` (`PRETTY_NAME`, with the kernel release) from
///   `/etc/os-release`, else `/usr/lib/os-release`. In a container these describe the
///   image's distribution and the host's kernel.
#[derive(Debug, Clone)]
pub struct OsDetector {
    root: PathBuf,
}

impl OsDetector {
    /// A detector reading the root file system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            root: PathBuf::from("/"),
        }
    }

    /// Reads its files under `root` instead (for tests).
    #[must_use]
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }
}

impl Default for OsDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ResourceDetector for OsDetector {
    fn detect(&self) -> Resource {
        let os_type = os_type(std::env::consts::OS);
        let mut attributes = vec![string_kv(OS_TYPE, os_type)];
        if os_type == "linux" {
            let release = read_trimmed(&self.root.join("proc/sys/kernel/osrelease"));
            let os_release = ["etc/os-release", "usr/lib/os-release"]
                .iter()
                .find_map(|path| std::fs::read_to_string(self.root.join(path)).ok())
                .unwrap_or_default();
            let name = os_release_field(&os_release, "NAME");
            let pretty = os_release_field(&os_release, "PRETTY_NAME").or_else(|| name.clone());
            if let Some(name) = name {
                attributes.push(string_kv(OS_NAME, name));
            }
            let description = match (pretty, &release) {
                (Some(pretty), Some(release)) => Some(format!("{pretty} (Linux {release})")),
                (Some(pretty), None) => Some(pretty),
                (None, Some(release)) => Some(format!("Linux {release}")),
                (None, None) => None,
            };
            if let Some(description) = description {
                attributes.push(string_kv(OS_DESCRIPTION, description));
            }
            if let Some(release) = release {
                attributes.push(string_kv(OS_VERSION, release));
            }
        }
        Resource::new(attributes)
    }
}

/// The semantic-convention `os.type` value for a Rust `target_os` name.
pub(crate) fn os_type(rust_os: &str) -> &str {
    match rust_os {
        "linux" | "android" => "linux",
        "macos" | "ios" | "tvos" | "watchos" | "visionos" => "darwin",
        "dragonfly" => "dragonflybsd",
        "solaris" | "illumos" => "solaris",
        other => other,
    }
}

/// The value of `key` in `os-release` text: `KEY=value`, `KEY="value"` or `KEY='value'`,
/// with the backslash escapes of double quotes undone. Blank values count as missing.
pub(crate) fn os_release_field(text: &str, key: &str) -> Option<String> {
    let raw = text.lines().find_map(|line| {
        let (k, v) = line.trim().split_once('=')?;
        (k == key).then_some(v.trim())
    })?;
    let value = if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next @ ('"' | '\\' | '$' | '`')) => out.push(next),
                    Some(next) => {
                        out.push('\\');
                        out.push(next);
                    }
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        out
    } else if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        inner.to_owned()
    } else {
        raw.to_owned()
    };
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}
