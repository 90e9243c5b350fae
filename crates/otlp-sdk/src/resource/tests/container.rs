use super::{TempRoot, get_str};
use crate::resource::container::{container_id_from_cgroup, container_id_from_mountinfo};
use crate::resource::{ContainerDetector, ResourceDetector};

const ID: &str = "3ef5b7d1c2a94f0e8b6d7c5a4e3f2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e";
const OTHER: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn cgroup(text: &str) -> Option<String> {
    container_id_from_cgroup(text)
}

#[test]
fn docker_cgroup_v1() {
    let text = format!(
        "12:perf_event:/docker/{ID}\n11:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n"
    );
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn docker_systemd_driver() {
    let text = format!("0::/system.slice/docker-{ID}.scope\n");
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn kubernetes_cgroupfs_driver() {
    let text = format!(
        "11:cpuset:/kubepods/burstable/pod5c7a8f1e-4d2b-4c3a-9e8f-7a6b5c4d3e2f/{ID}\n\
         10:memory:/kubepods/burstable/pod5c7a8f1e-4d2b-4c3a-9e8f-7a6b5c4d3e2f/{ID}\n"
    );
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn containerd_under_systemd() {
    let text = format!(
        "0::/kubepods.slice/kubepods-burstable.slice/\
         kubepods-burstable-pod5c7a8f1e_4d2b_4c3a_9e8f_7a6b5c4d3e2f.slice/\
         cri-containerd-{ID}.scope\n"
    );
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn cri_o() {
    let text = format!(
        "12:pids:/kubepods.slice/kubepods-besteffort.slice/\
         kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/crio-{ID}.scope\n"
    );
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn podman() {
    let rootful = format!("0::/machine.slice/libpod-{ID}.scope/container\n");
    assert_eq!(cgroup(&rootful).as_deref(), Some(ID));
    let rootless =
        format!("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope\n");
    assert_eq!(cgroup(&rootless).as_deref(), Some(ID));
}

#[test]
fn ecs_cgroup_v1() {
    let text = format!("9:cpuset:/ecs/0f1e2d3c4b5a69788a9b0c1d2e3f4a5b/{ID}\n");
    assert_eq!(cgroup(&text).as_deref(), Some(ID));
}

#[test]
fn hosts_and_namespaced_cgroup_v2_have_no_id_in_cgroup() {
    let host_v1 = "12:memory:/user.slice/user-1000.slice/session-3.scope\n\
                   1:name=systemd:/init.scope\n0::/init.scope\n";
    assert_eq!(cgroup(host_v1), None);
    let host_v2 = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/\
                   app-org.gnome.Terminal.slice/vte-spawn-0c1d2e3f.scope\n";
    assert_eq!(cgroup(host_v2), None);
    assert_eq!(cgroup("0::/\n"), None);
    assert_eq!(cgroup(""), None);
    // 63 and 65 digits, upper case: not ids.
    assert_eq!(cgroup(&format!("0::/docker/{}\n", &ID[1..])), None);
    assert_eq!(cgroup(&format!("0::/docker/{ID}0\n")), None);
    assert_eq!(cgroup(&format!("0::/docker/{}\n", ID.to_uppercase())), None);
}

#[test]
fn docker_cgroup_v2_mountinfo() {
    let text = format!(
        "620 590 0:52 / / rw,relatime master:305 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC\n\
         621 620 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n\
         630 620 254:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n\
         631 620 254:1 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n\
         632 620 254:1 /var/lib/docker/containers/{ID}/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n"
    );
    assert_eq!(container_id_from_mountinfo(&text).as_deref(), Some(ID));
    // Docker Desktop and a separate /var/lib/docker file system.
    let desktop = format!(
        "1510 1492 254:1 /docker/containers/{ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n"
    );
    assert_eq!(container_id_from_mountinfo(&desktop).as_deref(), Some(ID));
}

#[test]
fn podman_cgroup_v2_mountinfo() {
    let text = format!(
        "1163 1120 0:104 /containers/storage/overlay-containers/{ID}/userdata/hostname \
         /etc/hostname rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=3270712k\n"
    );
    assert_eq!(container_id_from_mountinfo(&text).as_deref(), Some(ID));
    let rootless = format!(
        "745 720 0:43 /home/user/.local/share/containers/storage/overlay-containers/{ID}/userdata/resolv.conf \
         /etc/resolv.conf rw,nosuid,nodev,relatime - tmpfs tmpfs rw\n"
    );
    assert_eq!(container_id_from_mountinfo(&rootless).as_deref(), Some(ID));
}

#[test]
fn mountinfo_without_a_container() {
    // Only the hostname / hosts / resolv.conf mounts count, and containerd's sandbox
    // directory is the pod's, not the container's.
    let text = format!(
        "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n\
         30 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n\
         40 30 259:2 /var/lib/docker/containers/{ID}/config /mnt/config rw - ext4 /dev/x rw\n\
         41 30 0:5 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{OTHER}/hostname \
         /etc/hostname rw - ext4 /dev/x rw\n"
    );
    assert_eq!(container_id_from_mountinfo(&text), None);
    assert_eq!(container_id_from_mountinfo(""), None);
    assert_eq!(container_id_from_mountinfo("garbage\n1 2\n"), None);
}

#[test]
fn detector_prefers_cgroup_and_falls_back_on_mountinfo() {
    let root = TempRoot::new();
    root.write(
        "proc/self/cgroup",
        &format!("0::/system.slice/docker-{ID}.scope\n"),
    );
    root.write(
        "proc/self/mountinfo",
        &format!(
            "1 2 0:1 /var/lib/docker/containers/{OTHER}/hostname /etc/hostname rw - ext4 x rw\n"
        ),
    );
    let resource = ContainerDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "container.id"), Some(ID));

    let root = TempRoot::new();
    root.write("proc/self/cgroup", "0::/\n");
    root.write(
        "proc/self/mountinfo",
        &format!(
            "1 2 0:1 /var/lib/docker/containers/{OTHER}/hostname /etc/hostname rw - ext4 x rw\n"
        ),
    );
    let resource = ContainerDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "container.id"), Some(OTHER));
}

#[test]
fn detector_outside_a_container_or_without_files_finds_nothing() {
    let root = TempRoot::new();
    root.write("proc/self/cgroup", "0::/init.scope\n");
    root.write(
        "proc/self/mountinfo",
        "30 1 259:2 / / rw - ext4 /dev/sda1 rw\n",
    );
    assert!(
        ContainerDetector::new()
            .with_root(root.path())
            .detect()
            .is_empty()
    );
    let empty = TempRoot::new();
    assert!(
        ContainerDetector::new()
            .with_root(empty.path())
            .detect()
            .is_empty()
    );
}
