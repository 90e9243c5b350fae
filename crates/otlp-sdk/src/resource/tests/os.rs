use super::{TempRoot, get_str};
use crate::resource::os::{os_release_field, os_type};
use crate::resource::{OsDetector, ResourceDetector};

const UBUNTU: &str = r#"PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
HOME_URL="https://www.ubuntu.com/"
"#;

#[test]
fn os_types_map_to_semantic_convention_values() {
    assert_eq!(os_type("linux"), "linux");
    assert_eq!(os_type("android"), "linux");
    assert_eq!(os_type("macos"), "darwin");
    assert_eq!(os_type("windows"), "windows");
    assert_eq!(os_type("freebsd"), "freebsd");
    assert_eq!(os_type("netbsd"), "netbsd");
    assert_eq!(os_type("openbsd"), "openbsd");
    assert_eq!(os_type("dragonfly"), "dragonflybsd");
    assert_eq!(os_type("illumos"), "solaris");
    assert_eq!(os_type("aix"), "aix");
}

#[test]
fn os_release_quoting() {
    assert_eq!(os_release_field(UBUNTU, "NAME").as_deref(), Some("Ubuntu"));
    assert_eq!(os_release_field(UBUNTU, "ID").as_deref(), Some("ubuntu"));
    assert_eq!(
        os_release_field(UBUNTU, "PRETTY_NAME").as_deref(),
        Some("Ubuntu 22.04.4 LTS")
    );
    assert_eq!(os_release_field(UBUNTU, "MISSING"), None);
    assert_eq!(
        os_release_field("NAME='Alpine Linux'\n", "NAME").as_deref(),
        Some("Alpine Linux")
    );
    assert_eq!(
        os_release_field(r#"NAME="say \"hi\" \\ \$HOME""#, "NAME").as_deref(),
        Some(r#"say "hi" \ $HOME"#)
    );
    assert_eq!(os_release_field("NAME=\"\"\n", "NAME"), None);
    // A key that only starts like another is not it.
    assert_eq!(
        os_release_field("NAME_X=a\nNAME=b\n", "NAME").as_deref(),
        Some("b")
    );
}

#[cfg(target_os = "linux")]
#[test]
fn linux_fixture() {
    let root = TempRoot::new();
    root.write("proc/sys/kernel/osrelease", "6.8.0-1015-aws\n");
    root.write("etc/os-release", UBUNTU);
    let resource = OsDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "os.type"), Some("linux"));
    assert_eq!(get_str(&resource, "os.name"), Some("Ubuntu"));
    assert_eq!(get_str(&resource, "os.version"), Some("6.8.0-1015-aws"));
    assert_eq!(
        get_str(&resource, "os.description"),
        Some("Ubuntu 22.04.4 LTS (Linux 6.8.0-1015-aws)")
    );

    // /usr/lib/os-release is the fallback; no kernel release file.
    let root = TempRoot::new();
    root.write("usr/lib/os-release", "NAME=Debian\n");
    let resource = OsDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "os.name"), Some("Debian"));
    assert_eq!(get_str(&resource, "os.description"), Some("Debian"));
    assert_eq!(resource.get("os.version"), None);

    // Nothing readable: only os.type.
    let root = TempRoot::new();
    let resource = OsDetector::new().with_root(root.path()).detect();
    assert_eq!(resource.len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn real_os() {
    let resource = OsDetector::new().detect();
    assert_eq!(get_str(&resource, "os.type"), Some("linux"));
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(get_str(&resource, "os.version"), Some(release.trim()));
}
