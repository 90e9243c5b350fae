//! [`HostDetector`]: `host.name`, `host.id`, `host.arch`.

use std::path::PathBuf;

use otlp_model::semconv::resource::{HOST_ARCH, HOST_ID, HOST_NAME};

use super::{Resource, ResourceDetector, read_trimmed, string_kv};

/// Describes the host.
///
/// - `host.name`: the kernel hostname, from `/proc/sys/kernel/hostname` (Linux), else
///   `/etc/hostname`; left out when neither is readable (the `HOSTNAME` variable is not
///   trusted: shells set it without exporting it, and it is easily stale);
/// - `host.id`: the machine id, from `/etc/machine-id`, else `/var/lib/dbus/machine-id`;
/// - `host.arch`: the compile-time architecture, as the semantic conventions name it
///   (`amd64`, `arm64`, `arm32`, `x86`, `ppc32`, `ppc64`, `s390x`; other architectures keep
///   Rust's name, such as `riscv64`).
#[derive(Debug, Clone)]
pub struct HostDetector {
    root: PathBuf,
}

impl HostDetector {
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

impl Default for HostDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ResourceDetector for HostDetector {
    fn detect(&self) -> Resource {
        let mut attributes = Vec::new();
        let name = ["proc/sys/kernel/hostname", "etc/hostname"]
            .iter()
            .find_map(|path| read_trimmed(&self.root.join(path)));
        if let Some(name) = name {
            attributes.push(string_kv(HOST_NAME, name));
        }
        let id = ["etc/machine-id", "var/lib/dbus/machine-id"]
            .iter()
            .find_map(|path| read_trimmed(&self.root.join(path)));
        if let Some(id) = id {
            attributes.push(string_kv(HOST_ID, id));
        }
        attributes.push(string_kv(HOST_ARCH, host_arch(std::env::consts::ARCH)));
        Resource::new(attributes)
    }
}

/// The semantic-convention `host.arch` value for a Rust `target_arch` name.
pub(crate) fn host_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" | "arm64ec" => "arm64",
        "arm" => "arm32",
        "x86" => "x86",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}
