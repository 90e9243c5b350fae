//! The `file` exporter: OTLP/JSON lines (or length-prefixed protobuf) written to a file, with
//! size-based rotation.
//!
//! Keys (otelcol-contrib's): `path` (required); `format`: `json` (default; one OTLP/JSON
//! request per line, otlp-proto's canonical mapping) or `proto` (each request as protobuf
//! prefixed by its length, a 4-byte big-endian integer); `append` (default false: the file is
//! truncated at start); `rotation: {max_megabytes (100), max_days (0: keep), max_backups (100,
//! 0: keep all), localtime}` — when a write would take the file past `max_megabytes` it is
//! renamed `<name>-<UTC timestamp>.<ext>` (lumberjack's scheme, `2006-01-02T15-04-05.000`) and
//! a new file started; old backups beyond `max_backups` or older than `max_days` are deleted;
//! `localtime` is accepted but timestamps stay UTC (no time-zone database); `flush_interval`
//! (default 1 s): the buffer is flushed to the file this often and at shutdown.
//! Not supported: `compression: zstd`, `encoding` (encoding extensions), `group_by`.
//!
//! # Acknowledgement
//!
//! `consume` returns `Ok` once the request is in the exporter's write buffer — as otelcol's
//! file exporter does. The data reaches the file within `flush_interval` (and at shutdown);
//! a crash loses at most that interval. A write error is a retryable error to the sender and
//! is counted in `otelcol_exporter_send_failed_*`.

mod rotation;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Consumer, Exporter, ExporterContext, Host, SignalSet};
use otlp_pipeline::config::fields::null_as_default;
use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use otlp_pipeline::data::{Payload, Telemetry};
use otlp_pipeline::error::{BoxError, ConsumeError};
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Counter, Metrics, item_unit, item_words};

/// `exporters: file:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileExporterConfig {
    /// The file to write (required).
    pub path: PathBuf,
    /// `json` or `proto`.
    pub format: String,
    /// Append to an existing file instead of truncating it.
    pub append: bool,
    /// Size-based rotation.
    #[serde(
        deserialize_with = "null_as_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub rotation: Option<RotationConfig>,
    /// How often the buffer is flushed (default 1 s).
    #[serde(with = "duration")]
    pub flush_interval: Duration,
    /// Only empty (no compression) is supported.
    pub compression: String,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Value>,
}

impl Default for FileExporterConfig {
    fn default() -> Self {
        FileExporterConfig {
            path: PathBuf::new(),
            format: "json".into(),
            append: false,
            rotation: None,
            flush_interval: Duration::from_secs(1),
            compression: String::new(),
            encoding: None,
            group_by: None,
        }
    }
}

/// `rotation` (lumberjack's keys and defaults).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RotationConfig {
    /// Rotate before the file exceeds this size.
    pub max_megabytes: u64,
    /// Delete backups older than this many days (0: never).
    pub max_days: u64,
    /// Keep at most this many backups (0: all).
    pub max_backups: u64,
    /// Accepted; timestamps are UTC.
    pub localtime: bool,
}

impl Default for RotationConfig {
    fn default() -> Self {
        RotationConfig {
            max_megabytes: 100,
            max_days: 0,
            max_backups: 100,
            localtime: false,
        }
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OTLP/JSON, one request per line.
    Json,
    /// Protobuf, each request prefixed by its length (4 bytes, big-endian).
    Proto,
}

impl FileExporterConfig {
    fn format(&self) -> Result<Format, ConfigError> {
        match self.format.as_str() {
            "json" | "" => Ok(Format::Json),
            "proto" => Ok(Format::Proto),
            other => Err(ConfigError::bad_value(
                "format",
                format!("\"{other}\" is not json or proto"),
            )),
        }
    }
}

impl ComponentConfig for FileExporterConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::bad_value("path", "path must be non-empty"));
        }
        self.format()?;
        if !self.compression.is_empty() {
            return Err(ConfigError::bad_value(
                "compression",
                format!("\"{}\" is not supported", self.compression),
            ));
        }
        if self.flush_interval.is_zero() {
            return Err(ConfigError::bad_value(
                "flush_interval",
                "must be larger than zero",
            ));
        }
        if self.append && self.rotation.is_some() {
            return Err(ConfigError::bad_value(
                "append",
                "append and rotation enabled at the same time is not supported",
            ));
        }
        if let Some(rotation) = &self.rotation
            && rotation.max_megabytes == 0
        {
            return Err(ConfigError::bad_value(
                "rotation::max_megabytes",
                "must be greater than zero",
            ));
        }
        if self.encoding.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ConfigError::bad_value(
                "encoding",
                "encoding extensions are not supported",
            ));
        }
        let group_by = self
            .group_by
            .as_ref()
            .and_then(|g| g.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if group_by {
            return Err(ConfigError::bad_value(
                "group_by",
                "group_by is not supported",
            ));
        }
        Ok(())
    }
}

struct Open {
    writer: BufWriter<File>,
    size: u64,
}

/// The file, its buffer and its rotation.
struct Sink {
    path: PathBuf,
    append: bool,
    rotation: Option<RotationConfig>,
    open: Mutex<Option<Open>>,
}

impl Sink {
    fn lock(&self) -> MutexGuard<'_, Option<Open>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open_file(path: &Path, truncate: bool) -> std::io::Result<Open> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = if truncate {
            OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(path)?
        } else {
            OpenOptions::new().create(true).append(true).open(path)?
        };
        let size = file.metadata()?.len();
        Ok(Open {
            writer: BufWriter::with_capacity(64 * 1024, file),
            size,
        })
    }

    fn start(&self) -> std::io::Result<()> {
        // With rotation the file is appended to, as lumberjack does.
        let truncate = !self.append && self.rotation.is_none();
        *self.lock() = Some(Sink::open_file(&self.path, truncate)?);
        Ok(())
    }

    fn write(&self, record: &[u8]) -> std::io::Result<()> {
        let mut guard = self.lock();
        let Some(open) = guard.as_mut() else {
            return Err(std::io::Error::other("the file exporter is not started"));
        };
        if let Some(rotation) = &self.rotation {
            let max = rotation.max_megabytes.saturating_mul(1024 * 1024);
            if open.size > 0 && open.size + record.len() as u64 > max {
                open.writer.flush()?;
                *guard = None;
                rotation::rotate(&self.path, rotation)?;
                *guard = Some(Sink::open_file(&self.path, false)?);
            }
        }
        let Some(open) = guard.as_mut() else {
            return Err(std::io::Error::other("the file is closed"));
        };
        open.writer.write_all(record)?;
        open.size += record.len() as u64;
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        match self.lock().as_mut() {
            Some(open) => open.writer.flush(),
            None => Ok(()),
        }
    }

    fn close(&self) -> std::io::Result<()> {
        let open = self.lock().take();
        match open {
            Some(mut open) => {
                open.writer.flush()?;
                open.writer.get_ref().sync_data()
            }
            None => Ok(()),
        }
    }
}

/// Encodes one request in `format` (a JSON line, or a length-prefixed protobuf message).
pub fn encode(payload: &Payload, format: Format) -> Result<Vec<u8>, String> {
    use prost::Message as _;
    match format {
        Format::Json => {
            let mut line = match payload {
                Payload::Traces(r) => otlp_proto::json::to_vec(r),
                Payload::Metrics(r) => otlp_proto::json::to_vec(r),
                Payload::Logs(r) => otlp_proto::json::to_vec(r),
                Payload::Profiles(r) => otlp_proto::json::to_vec(r),
            }
            .map_err(|e| e.to_string())?;
            line.push(b'\n');
            Ok(line)
        }
        Format::Proto => {
            let body = match payload {
                Payload::Traces(r) => r.encode_to_vec(),
                Payload::Metrics(r) => r.encode_to_vec(),
                Payload::Logs(r) => r.encode_to_vec(),
                Payload::Profiles(r) => r.encode_to_vec(),
            };
            let len = u32::try_from(body.len()).map_err(|_| "a request over 4 GiB".to_owned())?;
            let mut record = Vec::with_capacity(4 + body.len());
            record.extend_from_slice(&len.to_be_bytes());
            record.extend_from_slice(&body);
            Ok(record)
        }
    }
}

/// The `file` exporter.
pub struct FileExporter {
    id: ComponentId,
    format: Format,
    flush_interval: Duration,
    sink: Arc<Sink>,
    flusher: Mutex<Option<JoinHandle<()>>>,
    sent: [Counter; 4],
    failed: [Counter; 4],
}

impl FileExporter {
    /// An exporter for `ctx` (the file is opened at start).
    pub fn new(
        ctx: ExporterContext,
        config: FileExporterConfig,
    ) -> Result<FileExporter, ConfigError> {
        let format = config.format()?;
        if config.rotation.as_ref().is_some_and(|r| r.localtime) {
            tracing::warn!(exporter = %ctx.id, "rotation.localtime: backup timestamps are written in UTC");
        }
        let metrics = Metrics::from_resources(&ctx.resources);
        let counter = |verb: &str, help: &str| {
            Signal::ALL.map(|signal| {
                metrics.counter(
                    &format!("otelcol_exporter_{verb}_{}_total", item_unit(signal)),
                    &format!("Number of {} {help}", item_words(signal)),
                    &[("exporter", ctx.id.as_str())],
                )
            })
        };
        Ok(FileExporter {
            sent: counter("sent", "successfully sent to destination. [alpha]"),
            failed: counter(
                "send_failed",
                "in failed attempts to send to destination. [alpha]",
            ),
            id: ctx.id,
            format,
            flush_interval: config.flush_interval,
            sink: Arc::new(Sink {
                path: config.path,
                append: config.append,
                rotation: config.rotation,
                open: Mutex::new(None),
            }),
            flusher: Mutex::new(None),
        })
    }

    /// Flushes the write buffer to the file now.
    pub fn flush(&self) -> std::io::Result<()> {
        self.sink.flush()
    }
}

#[async_trait]
impl Consumer for FileExporter {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let index = Signal::ALL
            .iter()
            .position(|s| *s == data.signal())
            .unwrap_or(0);
        let items = data.item_count() as u64;
        let record = encode(data.payload(), self.format).map_err(|e| {
            self.failed[index].add(items);
            ConsumeError::permanent(format!("cannot encode: {e}"))
        })?;
        match self.sink.write(&record) {
            Ok(()) => {
                self.sent[index].add(items);
                Ok(())
            }
            Err(error) => {
                self.failed[index].add(items);
                tracing::warn!(exporter = %self.id, %error, "writing failed");
                Err(ConsumeError::retryable(format!(
                    "writing {}: {error}",
                    self.sink.path.display()
                )))
            }
        }
    }
}

#[async_trait]
impl Exporter for FileExporter {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        self.sink
            .start()
            .map_err(|e| format!("cannot open {}: {e}", self.sink.path.display()))?;
        let sink = Arc::clone(&self.sink);
        let interval = self.flush_interval;
        let id = self.id.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
            loop {
                ticker.tick().await;
                if let Err(error) = sink.flush() {
                    tracing::warn!(exporter = %id, %error, "flushing failed");
                }
            }
        });
        *self.flusher.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        if let Some(task) = self
            .flusher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        self.sink
            .close()
            .map_err(|e| format!("closing {}: {e}", self.sink.path.display()))?;
        Ok(())
    }
}

impl std::fmt::Debug for FileExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileExporter")
            .field("id", &self.id)
            .field("path", &self.sink.path)
            .finish_non_exhaustive()
    }
}

/// The `file` exporter factory.
pub fn factory() -> impl otlp_pipeline::ExporterFactory {
    FnFactory::exporter("file", SignalSet::ALL, |ctx, config: FileExporterConfig| {
        Ok(Box::new(FileExporter::new(ctx, config)?))
    })
}
