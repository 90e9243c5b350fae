//! The `filelog` receiver (alias `file_log`): tails files into log records, compatible with
//! otelcol-contrib's filelog receiver (stanza's `file_input` and its operators).
//!
//! # Keys and defaults (otelcol's)
//!
//! `include` (required) and `exclude` (doublestar globs), `start_at` (`end`), `poll_interval`
//! (200 ms), `fingerprint_size` (`1kb`), `max_log_size` (`1MiB`; longer entries are cut into
//! several), `max_concurrent_files` (1024), `encoding` (`utf-8`; `utf8-raw`, `ascii`,
//! `utf-16le`, `utf-16be`, `nop`), `include_file_name` (true → `log.file.name`),
//! `include_file_path` (`log.file.path`), `include_file_name_resolved` /
//! `include_file_path_resolved`, `multiline` (`line_start_pattern` | `line_end_pattern`),
//! `force_flush_period` (500 ms), `preserve_leading_whitespaces` /
//! `preserve_trailing_whitespaces` (false: trimmed), `attributes` / `resource` (static),
//! `operators` (the operators module lists the types), `storage` (a `file_storage` extension) and
//! `retry_on_failure` (off; 1 s, 30 s, 5 min). Refused by name: `delete_after_read`,
//! `header`, `ordering_criteria`, `compression`, `acquire_fs_lock`, the file owner and record
//! number attributes, `exclude_older_than`.
//!
//! # Files
//!
//! Every poll finds the matching files and identifies each by its fingerprint (its first
//! `fingerprint_size` bytes), not its path. A file renamed away (rotation) keeps its open
//! handle and is read to its end before it is forgotten; a new file at the old path has a new
//! fingerprint and is read from its start; a file shorter than its offset (truncated) is read
//! again from 0; a deleted file is read to its end through its handle. Files found at the
//! first poll start at `start_at`, files found later at their beginning; empty files wait
//! until they have content.
//!
//! # Delivery: at least once
//!
//! Entries are read in batches (at most one read buffer, about `max_log_size`, per batch; one
//! batch in flight per receiver) and handed to the pipeline as one request per batch. A
//! file's offset moves past a batch **only after the pipeline accepted it**, and with
//! `storage` the offsets (with the fingerprints) are then written to the checkpoint file, so
//! a restart — kill -9 included — reads again at most the batch that was in flight. A batch
//! refused retryably is retried with backoff while `retry_on_failure` is enabled (until
//! `max_elapsed_time`); refused permanently, or with retries off, it is dropped, counted and
//! logged, and reading goes on. Without `storage`, `start_at` decides at every start.
//!
//! # Counting
//!
//! `otelcol_receiver_accepted_log_records_total` / `_refused_log_records_total` (transport
//! empty, as otelcol's filelog receiver), `otelcol_fileconsumer_open_files` and our own
//! `otelcol_filelog_receiver_dropped_log_records_total` (refused batches given up) and
//! `otelcol_filelog_receiver_operator_errors_total`.

pub(crate) mod checkpoint;
pub(crate) mod config;
pub(crate) mod entry;
pub(crate) mod expr;
pub(crate) mod finder;
pub(crate) mod multiline;
pub(crate) mod operators;
pub(crate) mod reader;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use config::{FileLogConfig, MultilineConfig, RetryOnFailure};

use otlp_pipeline::component::{Consumer, Host, Receiver, ReceiverContext, SignalSet};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::data::Telemetry;
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::{Counter, Gauge, Metrics};
use otlp_pipeline::{ServiceStatus, Signal};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::resource::v1::Resource;

use checkpoint::{Checkpoints, Record, hex, unhex};
use config::Encoding;
use entry::Entry;
use finder::Glob;
use multiline::Multiline;
use operators::Pipeline;
use reader::{FileState, ReadOptions, read_fingerprint, same_file};

/// What the poller needs, compiled from the configuration.
struct Settings {
    include: Vec<Glob>,
    exclude: Vec<Glob>,
    read: ReadOptions,
    pipeline: Pipeline,
    beginning: bool,
    poll_interval: Duration,
    max_files: usize,
    include_file_name: bool,
    include_file_path: bool,
    include_file_name_resolved: bool,
    include_file_path_resolved: bool,
    preserve_leading: bool,
    preserve_trailing: bool,
    attributes: serde_json::Map<String, Value>,
    resource: serde_json::Map<String, Value>,
    retry: RetryOnFailure,
}

impl Settings {
    fn new(config: &FileLogConfig) -> Result<Settings, ConfigError> {
        let globs = |key: &str, list: &[String]| {
            list.iter()
                .map(|p| {
                    Glob::new(p).map_err(|e| ConfigError::bad_value(key, format!("\"{p}\": {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Settings {
            include: globs("include", &config.include)?,
            exclude: globs("exclude", &config.exclude)?,
            read: ReadOptions {
                encoding: Encoding::parse(&config.encoding)?,
                max_log_size: usize::try_from(config.max_log_size).unwrap_or(usize::MAX),
                multiline: config.multiline.as_ref().map(Multiline::new).transpose()?,
                force_flush_period: config.force_flush_period,
                fingerprint_size: usize::try_from(config.fingerprint_size).unwrap_or(1000),
            },
            pipeline: Pipeline::build(&config.operators)?,
            beginning: config.start_at == "beginning",
            poll_interval: config.poll_interval,
            max_files: config.max_concurrent_files,
            include_file_name: config.include_file_name,
            include_file_path: config.include_file_path,
            include_file_name_resolved: config.include_file_name_resolved,
            include_file_path_resolved: config.include_file_path_resolved,
            preserve_leading: config.preserve_leading_whitespaces,
            preserve_trailing: config.preserve_trailing_whitespaces,
            attributes: config.attributes.clone(),
            resource: config.resource.clone(),
            retry: config.retry_on_failure.clone(),
        })
    }
}

struct Counters {
    accepted: Counter,
    refused: Counter,
    dropped: Counter,
    operator_errors: Counter,
    open_files: Gauge,
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The `filelog` receiver.
pub struct FileLogReceiver {
    id: ComponentId,
    config: FileLogConfig,
    settings: Arc<Settings>,
    next: Option<Arc<dyn Consumer>>,
    metrics: Arc<Metrics>,
    status: Arc<ServiceStatus>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for FileLogReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLogReceiver")
            .field("id", &self.id)
            .field("include", &self.config.include)
            .finish_non_exhaustive()
    }
}

impl FileLogReceiver {
    /// Builds the receiver; nothing is read until [`Receiver::start`].
    pub fn new(ctx: ReceiverContext, config: FileLogConfig) -> Result<Self, ConfigError> {
        otlp_pipeline::factory::ComponentConfig::validate(&config)?;
        let settings = Arc::new(Settings::new(&config)?);
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        Ok(FileLogReceiver {
            next: ctx.next.get(Signal::Logs).cloned(),
            id: ctx.id,
            config,
            settings,
            metrics: Metrics::from_resources(&ctx.resources),
            status,
            running: Mutex::new(None),
        })
    }

    fn counters(&self) -> Counters {
        let labels = [("receiver", self.id.as_str()), ("transport", "")];
        let own = [("receiver", self.id.as_str())];
        Counters {
            accepted: self.metrics.counter(
                "otelcol_receiver_accepted_log_records_total",
                "Number of log records successfully pushed into the pipeline. [alpha]",
                &labels,
            ),
            refused: self.metrics.counter(
                "otelcol_receiver_refused_log_records_total",
                "Number of log records that could not be pushed into the pipeline. [alpha]",
                &labels,
            ),
            dropped: self.metrics.counter(
                "otelcol_filelog_receiver_dropped_log_records_total",
                "Log records of refused batches that were given up (retries off, permanent refusal or max_elapsed_time).",
                &own,
            ),
            operator_errors: self.metrics.counter(
                "otelcol_filelog_receiver_operator_errors_total",
                "Entries an operator failed on (handled by its on_error).",
                &own,
            ),
            open_files: self.metrics.gauge(
                "otelcol_fileconsumer_open_files",
                "Number of open files",
                &own,
            ),
        }
    }
}

#[async_trait]
impl Receiver for FileLogReceiver {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        let Some(next) = self.next.clone() else {
            self.status.receiver_started(&self.id);
            return Ok(());
        };
        let checkpoints = match &self.config.storage {
            Some(text) => {
                let id = otlp_pipeline::config::fields::parse_id("storage", text)?;
                let (dir, fsync) = host
                    .extension(&id)
                    .and_then(|e| e.as_storage())
                    .map(|s| (s.directory().to_path_buf(), s.fsync()))
                    .ok_or_else(|| {
                        format!("storage: \"{id}\" is not a started storage extension such as file_storage (list it in service.extensions)")
                    })?;
                Some(Checkpoints::new(&dir, self.id.as_str(), fsync))
            }
            None => None,
        };
        let mut files = Vec::new();
        if let Some(c) = &checkpoints {
            let records = c
                .load()
                .map_err(|e| format!("cannot read the checkpoint {}: {e}", c.path().display()))?;
            for r in records {
                if let Some(fp) = unhex(&r.fingerprint) {
                    files.push(FileState::new(r.path.into(), fp, r.offset, None));
                }
            }
        }
        let (stop, stopped) = watch::channel(false);
        let poller = Poller {
            id: self.id.to_string(),
            settings: Arc::clone(&self.settings),
            next,
            files,
            checkpoints,
            first: true,
            buf: Vec::new(),
            counters: self.counters(),
            stop: stopped,
        };
        let task = tokio::spawn(poller.run());
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running { stop, task });
        self.status.receiver_started(&self.id);
        Ok(())
    }

    /// Stops polling and lets the batch in flight finish by `deadline`; what it did not
    /// deliver is read again at the next start (its offset was not saved).
    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let _ = running.stop.send(true);
        let mut task = running.task;
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(_) => Ok(()),
            Err(_) => {
                task.abort();
                Err("the filelog receiver did not stop by the shutdown deadline".into())
            }
        }
    }
}

enum Delivery {
    Accepted,
    Dropped,
    Stopped,
}

struct Poller {
    id: String,
    settings: Arc<Settings>,
    next: Arc<dyn Consumer>,
    files: Vec<FileState>,
    checkpoints: Option<Checkpoints>,
    first: bool,
    buf: Vec<u8>,
    counters: Counters,
    stop: watch::Receiver<bool>,
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Poller {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    async fn run(mut self) {
        loop {
            self.poll().await;
            if self.stopped() {
                break;
            }
            let interval = self.settings.poll_interval;
            let _ = tokio::time::timeout(interval, self.stop.wait_for(|s| *s)).await;
            if self.stopped() {
                break;
            }
        }
        self.save();
    }

    fn save(&self) {
        let Some(c) = &self.checkpoints else {
            return;
        };
        let records = self
            .files
            .iter()
            .map(|f| Record {
                fingerprint: hex(&f.fingerprint),
                offset: f.offset,
                path: f.path.to_string_lossy().into_owned(),
            })
            .collect();
        if let Err(error) = c.save(records) {
            tracing::warn!(receiver = %self.id, %error, path = %c.path().display(), "cannot write the filelog checkpoint");
        }
    }

    async fn poll(&mut self) {
        let settings = Arc::clone(&self.settings);
        let paths = finder::find_files(&settings.include, &settings.exclude, settings.max_files);
        let mut known = std::mem::take(&mut self.files);
        let mut seen: Vec<FileState> = Vec::new();
        for path in paths {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(error) => {
                    tracing::debug!(receiver = %self.id, path = %path.display(), %error, "cannot open");
                    continue;
                }
            };
            let fingerprint = match read_fingerprint(&file, settings.read.fingerprint_size) {
                Ok(fp) => fp,
                Err(error) => {
                    tracing::debug!(receiver = %self.id, path = %path.display(), %error, "cannot read");
                    continue;
                }
            };
            if fingerprint.is_empty()
                || seen.iter().any(|s| same_file(&s.fingerprint, &fingerprint))
            {
                continue;
            }
            if let Some(i) = known
                .iter()
                .position(|s| same_file(&s.fingerprint, &fingerprint))
            {
                let mut state = known.swap_remove(i);
                state.path = path;
                state.update_fingerprint(&fingerprint, settings.read.fingerprint_size);
                state.file = Some(file);
                seen.push(state);
            } else {
                let offset = if self.first && !settings.beginning {
                    file.metadata().map_or(0, |m| m.len())
                } else {
                    0
                };
                seen.push(FileState::new(path, fingerprint, offset, Some(file)));
            }
        }
        // Files no longer found (rotated away, deleted): read to their end through the
        // handle kept open, before the files that replace them, then forget them.
        // One still found under a new fingerprint (truncated and rewritten) is the new one.
        let inode = |s: &FileState| {
            use std::os::unix::fs::MetadataExt;
            s.file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map(|m| (m.dev(), m.ino()))
        };
        let live: Vec<(u64, u64)> = seen.iter().filter_map(inode).collect();
        let retired: Vec<FileState> = known
            .into_iter()
            .filter(|s| inode(s).is_some_and(|i| !live.contains(&i)))
            .collect();
        let retired_count = retired.len();
        self.files = retired;
        self.files.extend(seen);
        self.first = false;
        self.counters
            .open_files
            .set(i64::try_from(self.files.len()).unwrap_or(i64::MAX));
        for i in 0..self.files.len() {
            if self.stopped() {
                break;
            }
            self.drain(i).await;
        }
        if !self.stopped() {
            self.files.drain(..retired_count);
        }
        self.save();
    }

    /// Reads file `i` to its current end, batch by batch.
    async fn drain(&mut self, i: usize) {
        let settings = Arc::clone(&self.settings);
        let mut buf = std::mem::take(&mut self.buf);
        loop {
            if self.stopped() {
                break;
            }
            let state = &mut self.files[i];
            let batch = match state.read_batch(&mut buf, &settings.read) {
                Ok(b) => b,
                Err(error) => {
                    tracing::warn!(receiver = %self.id, path = %state.path.display(), %error, "cannot read the file");
                    break;
                }
            };
            if batch.entries.is_empty() {
                if batch.end > state.offset {
                    state.offset = batch.end;
                }
                break;
            }
            let attrs = file_attributes(&settings, &state.path);
            let observed = now_nanos();
            let mut errors = 0;
            let mut out = Vec::with_capacity(batch.entries.len());
            for raw in &batch.entries {
                let entry = make_entry(&settings, raw, &attrs, observed);
                if let Some(e) = settings.pipeline.run(entry, &mut errors) {
                    out.push(e);
                }
            }
            if errors > 0 {
                self.counters.operator_errors.add(errors);
            }
            let delivered = if out.is_empty() {
                Delivery::Accepted
            } else {
                self.deliver(to_request(out)).await
            };
            match delivered {
                Delivery::Accepted | Delivery::Dropped => {
                    self.files[i].offset = batch.end;
                    self.save();
                }
                Delivery::Stopped => break,
            }
            if !batch.more {
                break;
            }
        }
        self.buf = buf;
    }

    async fn deliver(&mut self, request: ExportLogsServiceRequest) -> Delivery {
        let count: usize = request
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        let count = count as u64;
        let retry = self.settings.retry.clone();
        let started = Instant::now();
        let mut wait = retry.initial_interval;
        let mut data = Telemetry::new(request);
        loop {
            match self.next.consume_or_return(data).await {
                Ok(()) => {
                    self.counters.accepted.add(count);
                    return Delivery::Accepted;
                }
                Err(refused) => {
                    self.counters.refused.add(count);
                    let error = refused.error;
                    let give_up = !retry.enabled
                        || error.is_permanent()
                        || refused.data.is_none()
                        || (!retry.max_elapsed_time.is_zero()
                            && started.elapsed() + wait > retry.max_elapsed_time);
                    let Some(back) = refused.data.filter(|_| !give_up) else {
                        self.counters.dropped.add(count);
                        tracing::warn!(receiver = %self.id, %error, records = count, "the pipeline refused a batch of file log records; dropped");
                        return Delivery::Dropped;
                    };
                    data = back;
                    let delay = error.retry_after().map_or(wait, |d| d.max(wait));
                    tracing::debug!(receiver = %self.id, %error, ?delay, "the pipeline refused a batch; retrying");
                    if tokio::time::timeout(delay, self.stop.wait_for(|s| *s))
                        .await
                        .is_ok()
                    {
                        return Delivery::Stopped;
                    }
                    wait = (wait * 2).min(retry.max_interval);
                }
            }
        }
    }
}

fn file_attributes(settings: &Settings, path: &Path) -> Vec<(&'static str, Value)> {
    let mut attrs = Vec::new();
    let text = |p: &Path| Value::String(p.to_string_lossy().into_owned());
    let name = |p: &Path| {
        Value::String(
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    if settings.include_file_name {
        attrs.push(("log.file.name", name(path)));
    }
    if settings.include_file_path {
        attrs.push(("log.file.path", text(path)));
    }
    if settings.include_file_name_resolved || settings.include_file_path_resolved {
        let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if settings.include_file_name_resolved {
            attrs.push(("log.file.name_resolved", name(&resolved)));
        }
        if settings.include_file_path_resolved {
            attrs.push(("log.file.path_resolved", text(&resolved)));
        }
    }
    attrs
}

fn make_entry(
    settings: &Settings,
    raw: &[u8],
    attrs: &[(&'static str, Value)],
    observed: u64,
) -> Entry {
    let mut entry = if settings.read.encoding == Encoding::Nop {
        let mut e = Entry::new(Value::Null, observed);
        e.body_bytes = Some(raw.to_vec());
        e
    } else {
        let text = reader::decode(raw, settings.read.encoding);
        let trimmed = match (settings.preserve_leading, settings.preserve_trailing) {
            (true, true) => text.as_str(),
            (false, true) => text.trim_start(),
            (true, false) => text.trim_end(),
            (false, false) => text.trim(),
        };
        let body = if trimmed.len() == text.len() {
            text
        } else {
            trimmed.to_owned()
        };
        Entry::new(Value::String(body), observed)
    };
    for (k, v) in &settings.attributes {
        entry.attributes.insert(k.clone(), v.clone());
    }
    for (k, v) in attrs {
        entry.attributes.insert((*k).to_owned(), v.clone());
    }
    for (k, v) in &settings.resource {
        entry.resource.insert(k.clone(), v.clone());
    }
    entry
}

/// A JSON value as an OTLP value.
pub(crate) fn any_value(value: Value) -> AnyValue {
    use any_value::Value as V;
    let v = match value {
        Value::Null => None,
        Value::Bool(b) => Some(V::BoolValue(b)),
        Value::Number(n) => Some(if n.is_f64() {
            V::DoubleValue(n.as_f64().unwrap_or(0.0))
        } else if let Some(i) = n.as_i64() {
            V::IntValue(i)
        } else {
            V::DoubleValue(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Some(V::StringValue(s)),
        Value::Array(items) => Some(V::ArrayValue(ArrayValue {
            values: items.into_iter().map(any_value).collect(),
        })),
        Value::Object(map) => Some(V::KvlistValue(KeyValueList {
            values: key_values(map),
        })),
    };
    AnyValue { value: v }
}

fn key_values(map: serde_json::Map<String, Value>) -> Vec<KeyValue> {
    map.into_iter()
        .map(|(key, v)| KeyValue {
            key,
            value: Some(any_value(v)),
            ..KeyValue::default()
        })
        .collect()
}

/// Entries as one request, grouped by resource.
pub(crate) fn to_request(entries: Vec<Entry>) -> ExportLogsServiceRequest {
    let mut groups: Vec<(Vec<KeyValue>, Vec<LogRecord>)> = Vec::new();
    for e in entries {
        let resource = key_values(e.resource);
        let body = match e.body_bytes {
            Some(bytes) => Some(AnyValue {
                value: Some(any_value::Value::BytesValue(bytes)),
            }),
            None if e.body.is_null() => None,
            None => Some(any_value(e.body)),
        };
        let record = LogRecord {
            time_unix_nano: e.timestamp.unwrap_or(0),
            observed_time_unix_nano: e.observed,
            severity_number: e.severity,
            severity_text: e.severity_text,
            body,
            attributes: key_values(e.attributes),
            ..LogRecord::default()
        };
        match groups.iter_mut().find(|(r, _)| *r == resource) {
            Some((_, records)) => records.push(record),
            None => groups.push((resource, vec![record])),
        }
    }
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(attributes, log_records)| ResourceLogs {
                resource: Some(Resource {
                    attributes,
                    ..Resource::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records,
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            })
            .collect(),
    }
}

/// The `filelog` receiver factory (alias `file_log`, the Go collector's newer name).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver(
        "filelog",
        SignalSet::from(Signal::Logs),
        |ctx, config: FileLogConfig| Ok(Box::new(FileLogReceiver::new(ctx, config)?)),
    )
    .with_aliases(&["file_log"])
}
