//! [`ContainerDetector`]: `container.id`.

use std::path::PathBuf;

use otlp_model::semconv::resource::CONTAINER_ID;

use super::{Resource, ResourceDetector, string_kv};

/// Finds the id of the container the process runs in (`container.id`), if any.
///
/// First from `/proc/self/cgroup` (cgroup v1, and cgroup v2 without a cgroup namespace): the
/// 64-hex-digit id that ends a path segment, as in `/docker/<id>`,
/// `/kubepods/.../<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`,
/// `crio-<id>.scope` or `libpod-<id>.scope`. Then, for cgroup v2 with a cgroup namespace
/// (where that file only says `0::/`), from `/proc/self/mountinfo`: the id after a
/// `containers/` or `overlay-containers/` segment in the source of the `/etc/hostname`,
/// `/etc/hosts` or `/etc/resolv.conf` bind mount (Docker and Podman put those files in the
/// container's own directory). A process outside any container gets no attribute.
#[derive(Debug, Clone)]
pub struct ContainerDetector {
    root: PathBuf,
}

impl ContainerDetector {
    /// A detector reading the root file system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            root: PathBuf::from("/"),
        }
    }

    /// Reads `proc/self/cgroup` and `proc/self/mountinfo` under `root` instead (for tests).
    #[must_use]
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }
}

impl Default for ContainerDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ResourceDetector for ContainerDetector {
    fn detect(&self) -> Resource {
        let read = |path: &str| std::fs::read_to_string(self.root.join(path)).ok();
        let id = read("proc/self/cgroup")
            .and_then(|text| container_id_from_cgroup(&text))
            .or_else(|| {
                read("proc/self/mountinfo").and_then(|text| container_id_from_mountinfo(&text))
            });
        match id {
            Some(id) => Resource::new([string_kv(CONTAINER_ID, id)]),
            None => Resource::empty(),
        }
    }
}

/// The container id in `/proc/<pid>/cgroup` text (`hierarchy:controllers:path` lines).
pub(crate) fn container_id_from_cgroup(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.rsplit('/').find_map(id_in_segment)
    })
}

/// The container id in `/proc/<pid>/mountinfo` text: lines are `id parent major:minor root
/// mount-point options ...`; the id is taken from the `root` of the bind mounts of
/// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`.
pub(crate) fn container_id_from_mountinfo(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let root = fields.nth(3)?;
        let mount_point = fields.next()?;
        if !matches!(
            mount_point,
            "/etc/hostname" | "/etc/hosts" | "/etc/resolv.conf"
        ) {
            return None;
        }
        let segments: Vec<&str> = root.split('/').collect();
        segments.windows(2).find_map(|pair| {
            (matches!(pair[0], "containers" | "overlay-containers") && is_container_id(pair[1]))
                .then(|| pair[1].to_owned())
        })
    })
}

/// The id in one cgroup path segment: the segment itself, or the part after the last `-` of
/// a systemd unit such as `docker-<id>.scope`.
fn id_in_segment(segment: &str) -> Option<String> {
    let unit = segment.strip_suffix(".scope").unwrap_or(segment);
    let candidate = unit.rsplit('-').next().unwrap_or(unit);
    is_container_id(candidate).then(|| candidate.to_owned())
}

/// Docker, containerd, CRI-O and Podman ids: 64 lowercase hexadecimal digits.
fn is_container_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
