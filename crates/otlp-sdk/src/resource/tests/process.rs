use super::{TempRoot, get_str};
use crate::resource::process::{PROCESS_ARGS_COUNT, Status, parse_status, passwd_user};
use crate::resource::{ProcessDetector, ResourceDetector};
use crate::value::Value;

const STATUS: &str = "Name:\tsdk_resource-1a\nUmask:\t0022\nState:\tR (running)\n\
Tgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4100\nTracerPid:\t0\n\
Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
# a comment:x:1000:\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";

#[test]
fn status_parsing() {
    assert_eq!(
        parse_status(STATUS),
        Status {
            uid: Some(1000),
            ppid: Some(4100)
        }
    );
    assert_eq!(parse_status(""), Status::default());
    assert_eq!(parse_status("Uid:\tnope\n"), Status::default());
}

#[test]
fn passwd_lookup() {
    assert_eq!(passwd_user(PASSWD, 0), Some("root"));
    assert_eq!(passwd_user(PASSWD, 1000), Some("alice"));
    assert_eq!(passwd_user(PASSWD, 4), None);
    assert_eq!(passwd_user("broken\n::x\n", 0), None);
}

#[test]
fn fixture_gives_owner_and_parent() {
    let root = TempRoot::new();
    root.write("proc/self/status", STATUS);
    root.write("etc/passwd", PASSWD);
    let resource = ProcessDetector::new().with_root(root.path()).detect();
    assert_eq!(get_str(&resource, "process.owner"), Some("alice"));
    assert_eq!(resource.get("process.parent_pid"), Some(&Value::I64(4100)));

    // Unknown uid: no owner, and no panic without the files.
    let root = TempRoot::new();
    root.write("proc/self/status", "Uid:\t4321\t4321\t4321\t4321\n");
    root.write("etc/passwd", PASSWD);
    let resource = ProcessDetector::new().with_root(root.path()).detect();
    assert_eq!(resource.get("process.owner"), None);
    let empty = TempRoot::new();
    let resource = ProcessDetector::new().with_root(empty.path()).detect();
    assert_eq!(resource.get("process.owner"), None);
}

#[test]
fn real_process() {
    let resource = ProcessDetector::new().detect();
    assert_eq!(
        resource.get("process.pid"),
        Some(&Value::I64(i64::from(std::process::id())))
    );
    let exe = std::env::current_exe().unwrap();
    assert_eq!(
        get_str(&resource, "process.executable.path"),
        Some(exe.to_string_lossy().as_ref())
    );
    assert_eq!(
        get_str(&resource, "process.executable.name"),
        exe.file_name().and_then(|n| n.to_str())
    );
    let args: Vec<String> = std::env::args().collect();
    assert_eq!(
        get_str(&resource, "process.command"),
        Some(args[0].as_str())
    );
    assert_eq!(
        resource.get(PROCESS_ARGS_COUNT),
        Some(&Value::I64(args.len() as i64))
    );
    #[cfg(unix)]
    assert_eq!(
        resource.get("process.parent_pid"),
        Some(&Value::I64(i64::from(std::os::unix::process::parent_id())))
    );
    // Command arguments may hold secrets: only on request.
    assert_eq!(resource.get("process.command_args"), None);
    assert_eq!(resource.get("process.command_line"), None);
}

#[test]
fn command_args_on_request() {
    let resource = ProcessDetector::new().with_command_args(true).detect();
    let expected: Vec<Value> = std::env::args().map(Value::from).collect();
    assert_eq!(
        resource.get("process.command_args"),
        Some(&Value::Array(expected))
    );
}

#[cfg(target_os = "linux")]
#[test]
fn real_owner_matches_proc_status() {
    let status = parse_status(&std::fs::read_to_string("/proc/self/status").unwrap());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let expected = status.uid.and_then(|uid| passwd_user(&passwd, uid));
    let resource = ProcessDetector::new().detect();
    assert_eq!(get_str(&resource, "process.owner"), expected);
}
