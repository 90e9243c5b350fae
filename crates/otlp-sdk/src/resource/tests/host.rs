use super::{TempRoot, get_str};
use crate::resource::host::host_arch;
use crate::resource::{HostDetector, ResourceDetector};

#[test]
fn reads_hostname_and_machine_id() {
    let root = TempRoot::new();
    root.write("proc/sys/kernel/hostname", "web-7f9c\n");
    root.write("etc/hostname", "stale-name\n");
    root.write("etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
    root.write(
        "var/lib/dbus/machine-id",
        "00000000000000000000000000000000\n",
    );
    let resource = HostDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "host.name"), Some("web-7f9c"));
    assert_eq!(
        get_str(&resource, "host.id"),
        Some("3d1219c7c4c5404aaa1f6d2a48adfda4")
    );
    assert_eq!(
        get_str(&resource, "host.arch"),
        Some(host_arch(std::env::consts::ARCH))
    );
}

#[test]
fn falls_back_on_etc_hostname_and_dbus_machine_id() {
    let root = TempRoot::new();
    root.write("etc/hostname", "  box  \n");
    root.write("etc/machine-id", "\n"); // empty (as in many container images)
    root.write(
        "var/lib/dbus/machine-id",
        "b08dfa6083e7567a1921a715000001fb\n",
    );
    let resource = HostDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "host.name"), Some("box"));
    assert_eq!(
        get_str(&resource, "host.id"),
        Some("b08dfa6083e7567a1921a715000001fb")
    );
}

#[test]
fn missing_files_leave_only_the_architecture() {
    let root = TempRoot::new();
    let resource = HostDetector::new().with_root(root.path()).detect();
    assert_eq!(resource.len(), 1);
    assert!(resource.get("host.arch").is_some());
}

#[test]
fn architectures_map_to_semantic_convention_values() {
    assert_eq!(host_arch("x86_64"), "amd64");
    assert_eq!(host_arch("aarch64"), "arm64");
    assert_eq!(host_arch("arm"), "arm32");
    assert_eq!(host_arch("x86"), "x86");
    assert_eq!(host_arch("powerpc"), "ppc32");
    assert_eq!(host_arch("powerpc64"), "ppc64");
    assert_eq!(host_arch("s390x"), "s390x");
    assert_eq!(host_arch("riscv64"), "riscv64");
}

#[cfg(target_os = "linux")]
#[test]
fn real_host_name_is_the_kernel_hostname() {
    let expected = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let resource = HostDetector::new().detect();
    let name = get_str(&resource, "host.name").unwrap();
    assert!(!name.is_empty());
    assert_eq!(name, expected.trim());
    if let Ok(id) = std::fs::read_to_string("/etc/machine-id")
        && !id.trim().is_empty()
    {
        assert_eq!(get_str(&resource, "host.id"), Some(id.trim()));
    }
}
