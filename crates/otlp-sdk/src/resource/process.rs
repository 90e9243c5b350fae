//! [`ProcessDetector`]: `process.*`.

use std::path::{Path, PathBuf};

use otlp_model::semconv::resource::{
    PROCESS_COMMAND, PROCESS_COMMAND_ARGS, PROCESS_EXECUTABLE_NAME, PROCESS_EXECUTABLE_PATH,
    PROCESS_OWNER, PROCESS_PARENT_PID, PROCESS_PID,
};

use super::{Resource, ResourceDetector, string_kv};
use crate::value::{Key, KeyValue, Value};

/// `process.args_count`: the length of `process.command_args` (not in
/// `otlp_model::semconv::resource` yet).
pub(crate) const PROCESS_ARGS_COUNT: &str = "process.args_count";

/// Describes the running process.
///
/// Always: `process.pid`; when known: `process.parent_pid`, `process.executable.name` and
/// `process.executable.path` (from [`std::env::current_exe`]), `process.command` (the first
/// argument), `process.args_count`, and on Linux `process.owner` (the user name of the real
/// uid of `/proc/self/status`, looked up in `/etc/passwd`; left out when the user is not
/// listed there).
///
/// `process.command_args` is left out unless [`with_command_args`](Self::with_command_args)
/// asks for it: the semantic conventions say command arguments SHOULD NOT be collected by
/// default, since they may hold secrets. `process.command_line` is never set (the
/// conventions: do not assemble it, use `process.command_args`).
#[derive(Debug, Clone)]
pub struct ProcessDetector {
    root: PathBuf,
    command_args: bool,
}

impl ProcessDetector {
    /// A detector reading `/proc` and `/etc` of the root file system.
    #[must_use]
    pub fn new() -> Self {
        Self {
            root: PathBuf::from("/"),
            command_args: false,
        }
    }

    /// Reads `proc/self/status` and `etc/passwd` under `root` instead (for tests).
    #[must_use]
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// Also reports `process.command_args`, every argument of the process. Only for
    /// processes whose arguments hold nothing sensitive.
    #[must_use]
    pub fn with_command_args(mut self, enabled: bool) -> Self {
        self.command_args = enabled;
        self
    }
}

impl Default for ProcessDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl ResourceDetector for ProcessDetector {
    fn detect(&self) -> Resource {
        let mut attributes = vec![KeyValue::new(PROCESS_PID, i64::from(std::process::id()))];
        let status = std::fs::read_to_string(self.root.join("proc/self/status"))
            .map(|text| parse_status(&text))
            .unwrap_or_default();
        if let Some(ppid) = status.ppid.or_else(parent_id) {
            attributes.push(KeyValue::new(PROCESS_PARENT_PID, i64::from(ppid)));
        }
        if let Ok(path) = std::env::current_exe() {
            if let Some(name) = path.file_name() {
                attributes.push(string_kv(
                    PROCESS_EXECUTABLE_NAME,
                    name.to_string_lossy().into_owned(),
                ));
            }
            attributes.push(string_kv(
                PROCESS_EXECUTABLE_PATH,
                path.to_string_lossy().into_owned(),
            ));
        }
        let args: Vec<String> = std::env::args_os()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        if let Some(command) = args.first() {
            attributes.push(string_kv(PROCESS_COMMAND, command.clone()));
        }
        attributes.push(KeyValue::new(
            Key::from_static(PROCESS_ARGS_COUNT),
            i64::try_from(args.len()).unwrap_or(i64::MAX),
        ));
        if self.command_args {
            attributes.push(KeyValue::new(
                Key::from_static(PROCESS_COMMAND_ARGS),
                Value::Array(args.into_iter().map(Value::from).collect()),
            ));
        }
        if let Some(owner) = status.uid.and_then(|uid| owner_name(&self.root, uid)) {
            attributes.push(string_kv(PROCESS_OWNER, owner));
        }
        Resource::new(attributes)
    }
}

/// The executable's file name (`process.executable.name`), falling back on the base name of
/// the first argument.
pub(crate) fn executable_name() -> Option<String> {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()));
    from_exe
        .or_else(|| {
            let arg0 = std::env::args_os().next()?;
            Path::new(&arg0)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
}

/// What `process.*` needs from `/proc/self/status`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status {
    /// The real user id (first number of `Uid:`).
    pub(crate) uid: Option<u32>,
    /// The parent process id (`PPid:`).
    pub(crate) ppid: Option<u32>,
}

/// Parses the `Uid:` and `PPid:` lines of `/proc/<pid>/status`.
pub(crate) fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Uid:") {
            status.uid = rest.split_whitespace().next().and_then(|v| v.parse().ok());
        } else if let Some(rest) = line.strip_prefix("PPid:") {
            status.ppid = rest.trim().parse().ok();
        }
    }
    status
}

/// The user name of `uid` in `passwd` text (`name:password:uid:gid:...` lines).
pub(crate) fn passwd_user(passwd: &str, uid: u32) -> Option<&str> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let line_uid: u32 = fields.next()?.parse().ok()?;
        (line_uid == uid && !name.is_empty() && !name.starts_with('#')).then_some(name)
    })
}

fn owner_name(root: &Path, uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).ok()?;
    passwd_user(&passwd, uid).map(str::to_owned)
}

#[cfg(unix)]
fn parent_id() -> Option<u32> {
    Some(std::os::unix::process::parent_id())
}

#[cfg(not(unix))]
fn parent_id() -> Option<u32> {
    None
}
