//! `container`: Kubernetes container logs in the docker (JSON), CRI-O and containerd (CRI)
//! formats, detected per line unless `format` is given. The message becomes the body, the
//! stream `log.iostream`, the CRI tag `logtag`, the time the timestamp; CRI partial lines
//! (`P`) are joined with the following ones up to the final `F` (per file, the first line's
//! attributes and time kept, at most `max_log_size` bytes, at most 1024 files waiting at
//! once). With `add_metadata_from_filepath` (default true) the namespace, pod name, pod uid,
//! container name and restart count come from the `log.file.path` attribute
//! (`…/<namespace>_<pod>_<uid>/<container>/<restart>.log`) into the resource (`k8s.*`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::time_parser::Layout;
use super::{Operator, Resolver, Step};
use crate::filelog::entry::Entry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Auto,
    Docker,
    Cri,
}

pub(crate) struct Container {
    format: Format,
    metadata: bool,
    max_log_size: usize,
    cri: Regex,
    path: Regex,
    time: Layout,
    pending: Mutex<HashMap<String, Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    format: Option<String>,
    #[serde(default = "yes")]
    add_metadata_from_filepath: bool,
    #[serde(default)]
    max_log_size: Option<serde_yaml_ng::Value>,
}

fn yes() -> bool {
    true
}

const MAX_PENDING: usize = 1024;

impl Container {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Container, ConfigError> {
        let c: Config = r.parse(rest)?;
        let format = match c.format.as_deref() {
            None | Some("") => Format::Auto,
            Some("docker") => Format::Docker,
            Some("crio" | "containerd") => Format::Cri,
            Some(other) => {
                return Err(r.error(
                    "format",
                    format!("\"{other}\": must be docker, crio or containerd"),
                ));
            }
        };
        let max_log_size = match &c.max_log_size {
            None => 1024 * 1024,
            Some(serde_yaml_ng::Value::Number(n)) => n.as_u64().unwrap_or(1024 * 1024) as usize,
            Some(serde_yaml_ng::Value::String(s)) => crate::filelog::config::parse_byte_size(s)
                .map_err(|e| r.error("max_log_size", e))?
                as usize,
            Some(_) => return Err(r.error("max_log_size", "must be a size")),
        };
        let regex = |p: &str| Regex::new(p).map_err(|e| r.error("", e));
        Ok(Container {
            format,
            metadata: c.add_metadata_from_filepath,
            max_log_size,
            cri: regex(
                r"^(?P<time>[^ ]+) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$",
            )?,
            path: regex(
                r"^.*/(?P<namespace>[^_]+)_(?P<pod_name>[^_]+)_(?P<uid>[a-f0-9\-]+)/(?P<container_name>[^\._]+)/(?P<restart_count>\d+)\.log$",
            )?,
            time: Layout::new(Some("gotime"), "2006-01-02T15:04:05.999999999Z07:00")
                .map_err(|e| r.error("", e))?,
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn docker(&self, entry: &mut Entry, text: &str) -> Result<(), String> {
        let parsed: Value = serde_json::from_str(text)
            .map_err(|e| format!("container: the docker line is not JSON: {e}"))?;
        let Value::Object(mut map) = parsed else {
            return Err("container: the docker line is not a JSON object".into());
        };
        if let Some(time) = map.remove("time") {
            entry.timestamp = Some(u64::try_from(self.time.parse(&time)?).unwrap_or(0));
        }
        if let Some(stream) = map.remove("stream") {
            entry.attributes.insert("log.iostream".into(), stream);
        }
        entry.body = map.remove("log").unwrap_or(Value::Null);
        Ok(())
    }

    fn cri(&self, entry: &mut Entry, text: &str) -> Result<bool, String> {
        let caps = self
            .cri
            .captures(text)
            .ok_or_else(|| "container: the line is not in the CRI format".to_owned())?;
        let get = |n: &str| caps.name(n).map_or("", |m| m.as_str()).to_owned();
        let ns = self.time.parse(&Value::String(get("time")))?;
        let logtag = get("logtag");
        let partial = logtag == "P";
        entry.timestamp = Some(u64::try_from(ns).unwrap_or(0));
        entry
            .attributes
            .insert("log.iostream".into(), Value::String(get("stream")));
        entry
            .attributes
            .insert("logtag".into(), Value::String(logtag));
        entry.body = Value::String(get("log"));
        Ok(partial)
    }

    fn add_metadata(&self, entry: &mut Entry) -> Result<(), String> {
        let path = match entry.attributes.get("log.file.path") {
            Some(Value::String(p)) => p.clone(),
            _ => {
                return Err(
                    "container: the log.file.path attribute is missing (set include_file_path: true)"
                        .into(),
                );
            }
        };
        let caps = self
            .path
            .captures(&path)
            .ok_or_else(|| format!("container: \"{path}\" is not a Kubernetes pod log path"))?;
        for (group, key) in [
            ("namespace", "k8s.namespace.name"),
            ("pod_name", "k8s.pod.name"),
            ("uid", "k8s.pod.uid"),
            ("container_name", "k8s.container.name"),
            ("restart_count", "k8s.container.restart_count"),
        ] {
            if let Some(m) = caps.name(group) {
                entry
                    .resource
                    .insert(key.into(), Value::String(m.as_str().to_owned()));
            }
        }
        Ok(())
    }

    fn source_key(entry: &Entry) -> String {
        let get = |k: &str| match entry.attributes.get(k) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let path = get("log.file.path");
        if path.is_empty() {
            get("log.file.name")
        } else {
            path
        }
    }
}

impl Operator for Container {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        let text = match &entry.body {
            Value::String(s) => s.clone(),
            other => {
                return Err(format!(
                    "container: type {} cannot be parsed",
                    super::type_name(other)
                ));
            }
        };
        let docker = match self.format {
            Format::Docker => true,
            Format::Cri => false,
            Format::Auto => text.starts_with('{'),
        };
        let partial = if docker {
            self.docker(entry, &text)?;
            false
        } else {
            self.cri(entry, &text)?
        };
        if !docker {
            let key = Self::source_key(entry);
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(mut first) = pending.remove(&key) {
                let mut body = match std::mem::take(&mut first.body) {
                    Value::String(s) => s,
                    _ => String::new(),
                };
                if let Value::String(more) = &entry.body {
                    body.push_str(more);
                }
                first.body = Value::String(body);
                let full = first.body.as_str().map_or(0, str::len) >= self.max_log_size;
                if partial && !full {
                    pending.insert(key, first);
                    return Ok(Step::Held);
                }
                *entry = first;
            } else if partial && pending.len() < MAX_PENDING {
                pending.insert(key, entry.clone());
                return Ok(Step::Held);
            }
        }
        if self.metadata {
            self.add_metadata(entry)?;
        }
        Ok(Step::Next)
    }
}
