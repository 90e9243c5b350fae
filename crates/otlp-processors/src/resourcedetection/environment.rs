//! What the detectors see of the host, behind one struct so tests give them fixtures: the
//! environment variables, files read under a root directory (`/etc/machine-id`,
//! `/proc/cpuinfo`, …), the system resolver, the Docker socket, the OS and architecture.
//!
//! [`Environment::host`] is the real machine. A pipeline finds an injected one in its
//! [`Resources`](otlp_pipeline::Resources) (`resources.with(Arc::new(Environment::fixture(dir)))`),
//! which is how tests run the processor against fixture files.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// The most of a file a detector reads (the start of `/proc/cpuinfo` on a large machine is
/// enough).
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// The most directory entries read (`/sys/class/net`).
const MAX_DIR_ENTRIES: usize = 1024;
/// The most addresses taken from the resolver.
const MAX_ADDRESSES: usize = 64;

/// Where the environment variables come from.
#[derive(Debug, Clone)]
enum Vars {
    Process,
    Fixed(BTreeMap<String, String>),
}

/// The host as the detectors see it: the real one ([`Environment::host`]) or a fixture
/// ([`Environment::fixture`]), put in the pipeline's resources for the processor to find.
#[derive(Debug, Clone)]
pub struct Environment {
    root: PathBuf,
    vars: Vars,
    docker_socket: PathBuf,
    os_type: String,
    arch: String,
    machine: String,
    resolver: bool,
}

impl Environment {
    /// This machine: the process environment, files under `/`, the system resolver,
    /// `/var/run/docker.sock`, the OS and architecture this program was built for.
    pub fn host() -> Environment {
        Environment {
            root: PathBuf::from("/"),
            vars: Vars::Process,
            docker_socket: PathBuf::from("/var/run/docker.sock"),
            os_type: os_type(std::env::consts::OS).to_owned(),
            arch: host_arch(std::env::consts::ARCH).to_owned(),
            machine: std::env::consts::ARCH.to_owned(),
            resolver: true,
        }
    }

    /// A fixture: files under `root`, no environment variable, no resolver, the Docker socket
    /// at `root/var/run/docker.sock`, `linux` on `amd64` (`x86_64`).
    pub fn fixture(root: impl Into<PathBuf>) -> Environment {
        let root = root.into();
        Environment {
            docker_socket: root.join("var/run/docker.sock"),
            root,
            vars: Vars::Fixed(BTreeMap::new()),
            os_type: "linux".to_owned(),
            arch: "amd64".to_owned(),
            machine: "x86_64".to_owned(),
            resolver: false,
        }
    }

    /// Sets an environment variable (a fixture's only; the process environment is left
    /// alone and stops being read).
    #[must_use]
    pub fn with_var(mut self, name: &str, value: &str) -> Environment {
        if let Vars::Process = self.vars {
            self.vars = Vars::Fixed(BTreeMap::new());
        }
        if let Vars::Fixed(map) = &mut self.vars {
            map.insert(name.to_owned(), value.to_owned());
        }
        self
    }

    /// Sets the Docker socket path.
    #[must_use]
    pub fn with_docker_socket(mut self, path: impl Into<PathBuf>) -> Environment {
        self.docker_socket = path.into();
        self
    }

    /// Sets the OS type (`os.type`), the architecture (`host.arch`) and the machine name
    /// (`uname -m`, in `os.description`).
    #[must_use]
    pub fn with_platform(mut self, os_type: &str, arch: &str, machine: &str) -> Environment {
        self.os_type = os_type.to_owned();
        self.arch = arch.to_owned();
        self.machine = machine.to_owned();
        self
    }

    /// An environment variable, if set and valid Unicode.
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        match &self.vars {
            Vars::Process => std::env::var(name).ok(),
            Vars::Fixed(map) => map.get(name).cloned(),
        }
    }

    fn under_root(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// The start (at most 64 KiB, invalid UTF-8 replaced) of the file at the absolute `path`,
    /// read under the root; `None` when it cannot be read.
    pub(crate) fn read(&self, path: &str) -> Option<String> {
        let file = std::fs::File::open(self.under_root(path)).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES).read_to_end(&mut bytes).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The trimmed content of the file, when it is not empty.
    pub(crate) fn read_trimmed(&self, path: &str) -> Option<String> {
        let text = self.read(path)?;
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// The names in the directory at the absolute `path` (under the root), sorted; at most
    /// 1024.
    pub(crate) fn list(&self, path: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.under_root(path)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .take(MAX_DIR_ENTRIES)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// The addresses the system resolver gives for `host` (none for a fixture).
    pub(crate) fn resolve(&self, host: &str) -> Vec<IpAddr> {
        if !self.resolver {
            return Vec::new();
        }
        let Ok(addresses) = (host, 0).to_socket_addrs() else {
            return Vec::new();
        };
        let mut ips: Vec<IpAddr> = Vec::new();
        for address in addresses.take(MAX_ADDRESSES) {
            if !ips.contains(&address.ip()) {
                ips.push(address.ip());
            }
        }
        ips
    }

    /// The Docker daemon's socket.
    pub(crate) fn docker_socket(&self) -> &Path {
        &self.docker_socket
    }

    /// `os.type`, in the semantic conventions' spelling (`linux`, `darwin`, `windows`).
    pub(crate) fn os_type(&self) -> &str {
        &self.os_type
    }

    /// `host.arch`, in the semantic conventions' spelling (`amd64`, `arm64`).
    pub(crate) fn arch(&self) -> &str {
        &self.arch
    }

    /// The machine hardware name, as `uname -m` prints it (`x86_64`).
    pub(crate) fn machine(&self) -> &str {
        &self.machine
    }
}

/// The semantic conventions' `os.type` for Rust's `std::env::consts::OS`.
pub(crate) fn os_type(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        "dragonfly" => "dragonflybsd",
        "illumos" => "solaris",
        other => other,
    }
}

/// The semantic conventions' `host.arch` for Rust's `std::env::consts::ARCH`.
pub(crate) fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        other => other,
    }
}
