//! `receivers: filelog:` — otelcol-contrib's filelog receiver keys and defaults (the stanza
//! `file_input` settings plus `storage`, `retry_on_failure`, `attributes`, `resource` and
//! `operators`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::fields::null_as_empty;
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

use super::operators::Pipeline;

/// `receivers: filelog:`.
///
/// ```yaml
/// filelog:
///   include: [/var/log/app/*.log]
///   start_at: beginning
///   storage: file_storage
///   operators:
///     - type: json_parser
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileLogConfig {
    /// Glob patterns (doublestar) of the files to read; required.
    pub include: Vec<String>,
    /// Glob patterns of matched files to leave out.
    pub exclude: Vec<String>,
    /// Where a file found at the first poll starts: `end` (default) or `beginning`. Files
    /// found later are always read from their beginning.
    pub start_at: String,
    /// How often files are looked for and read (default 200 ms).
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Bytes at the start of a file that identify it (default `1kb`, at least 16).
    #[serde(deserialize_with = "byte_size", serialize_with = "ser_bytes")]
    pub fingerprint_size: u64,
    /// The longest entry; longer ones are cut into several (default `1MiB`).
    #[serde(deserialize_with = "byte_size", serialize_with = "ser_bytes")]
    pub max_log_size: u64,
    /// How many files are read at once (default 1024; at least 1).
    pub max_concurrent_files: usize,
    /// Accepted for compatibility: batches are always bounded here (0, the default).
    pub max_batches: usize,
    /// `utf-8` (default), `utf8-raw`, `ascii`, `utf-16le`, `utf-16be`, `nop` (body as bytes).
    pub encoding: String,
    /// Add `log.file.name` (default true).
    pub include_file_name: bool,
    /// Add `log.file.path` (default false).
    pub include_file_path: bool,
    /// Add `log.file.name_resolved` (the symlink target's name).
    pub include_file_name_resolved: bool,
    /// Add `log.file.path_resolved`.
    pub include_file_path_resolved: bool,
    /// Splitting entries that span lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiline: Option<MultilineConfig>,
    /// How long an unterminated last entry waits for more before it is sent (default 500 ms).
    #[serde(with = "duration")]
    pub force_flush_period: Duration,
    /// Keep leading whitespace of each entry (default: trimmed).
    pub preserve_leading_whitespaces: bool,
    /// Keep trailing whitespace of each entry (default: trimmed).
    pub preserve_trailing_whitespaces: bool,
    /// A storage extension id (`file_storage[/NAME]`) keeping the read offsets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Retrying batches the pipeline refuses.
    #[serde(deserialize_with = "null_as_empty")]
    pub retry_on_failure: RetryOnFailure,
    /// Static attributes added to every entry.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Static resource attributes added to every entry.
    pub resource: serde_json::Map<String, serde_json::Value>,
    /// The stanza operators each entry goes through.
    pub operators: Vec<Value>,
    /// Refused when true: this receiver never deletes files.
    pub delete_after_read: bool,
    /// Refused: header parsing is not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// Refused: ordering criteria are not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering_criteria: Option<Value>,
    /// Refused unless empty: compressed files are not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Refused when true.
    pub acquire_fs_lock: bool,
    /// Refused when true.
    pub include_file_owner_name: bool,
    /// Refused when true.
    pub include_file_owner_group_name: bool,
    /// Refused when true.
    pub include_file_record_number: bool,
    /// Refused when true.
    pub include_file_record_offset: bool,
    /// Refused unless zero.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "duration::option",
        default
    )]
    pub exclude_older_than: Option<Duration>,
    /// Accepted, no effect (no archive of older fingerprints beyond the last poll's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polls_to_archive: Option<u64>,
}

impl Default for FileLogConfig {
    fn default() -> Self {
        FileLogConfig {
            include: Vec::new(),
            exclude: Vec::new(),
            start_at: "end".into(),
            poll_interval: Duration::from_millis(200),
            fingerprint_size: 1000,
            max_log_size: 1024 * 1024,
            max_concurrent_files: 1024,
            max_batches: 0,
            encoding: "utf-8".into(),
            include_file_name: true,
            include_file_path: false,
            include_file_name_resolved: false,
            include_file_path_resolved: false,
            multiline: None,
            force_flush_period: Duration::from_millis(500),
            preserve_leading_whitespaces: false,
            preserve_trailing_whitespaces: false,
            storage: None,
            retry_on_failure: RetryOnFailure::default(),
            attributes: serde_json::Map::new(),
            resource: serde_json::Map::new(),
            operators: Vec::new(),
            delete_after_read: false,
            header: None,
            ordering_criteria: None,
            compression: None,
            acquire_fs_lock: false,
            include_file_owner_name: false,
            include_file_owner_group_name: false,
            include_file_record_number: false,
            include_file_record_offset: false,
            exclude_older_than: None,
            polls_to_archive: None,
        }
    }
}

/// `multiline`: exactly one of the two patterns.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MultilineConfig {
    /// A line matching this starts a new entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_start_pattern: Option<String>,
    /// A line matching this ends the entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_end_pattern: Option<String>,
    /// Keep the whitespace of each entry (stanza's per-multiline flags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omit_pattern: Option<bool>,
}

/// `retry_on_failure` (otelcol's defaults: off, 1 s, 30 s, 5 min).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryOnFailure {
    /// Retry refused batches (default false: a refused batch is dropped and counted).
    pub enabled: bool,
    /// First wait (default 1 s).
    #[serde(with = "duration")]
    pub initial_interval: Duration,
    /// Longest wait (default 30 s).
    #[serde(with = "duration")]
    pub max_interval: Duration,
    /// Give up after this long (default 5 min; 0: never).
    #[serde(with = "duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryOnFailure {
    fn default() -> Self {
        RetryOnFailure {
            enabled: false,
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

/// The file encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-8; invalid bytes become U+FFFD.
    Utf8,
    /// ASCII; other bytes become U+FFFD.
    Ascii,
    /// UTF-16 little endian.
    Utf16Le,
    /// UTF-16 big endian.
    Utf16Be,
    /// No decoding: the body is the bytes.
    Nop,
}

impl Encoding {
    pub(crate) fn parse(text: &str) -> Result<Encoding, ConfigError> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "" | "utf-8" | "utf8" | "utf8-raw" => Encoding::Utf8,
            "ascii" | "us-ascii" => Encoding::Ascii,
            "utf-16le" | "utf16le" | "utf-16" => Encoding::Utf16Le,
            "utf-16be" | "utf16be" => Encoding::Utf16Be,
            "nop" => Encoding::Nop,
            other => {
                return Err(ConfigError::bad_value(
                    "encoding",
                    format!(
                        "\"{other}\" is not supported (utf-8, utf8-raw, ascii, utf-16le, utf-16be, nop)"
                    ),
                ));
            }
        })
    }
}

/// `byte_size`: an integer or `1kb`, `16KiB`, `1MiB`, `2mb` (otelcol's units: `kb` = 1000,
/// `KiB` = 1024).
pub(crate) fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "kib" | "ki" => 1024.0,
        "mb" | "m" => 1e6,
        "mib" | "mi" => 1_048_576.0,
        "gb" | "g" => 1e9,
        "gib" | "gi" => 1_073_741_824.0,
        _ => return Err(format!("\"{text}\": unknown unit \"{unit}\"")),
    };
    let value = number * factor;
    if !value.is_finite() || !(0.0..=1e15).contains(&value) {
        return Err(format!("\"{text}\" is out of range"));
    }
    Ok(value as u64)
}

fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Int(n) => Ok(n),
        Raw::Text(t) => parse_byte_size(&t).map_err(serde::de::Error::custom),
    }
}

fn ser_bytes<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(*v)
}

impl FileLogConfig {
    fn refuse(key: &str, why: &str) -> ConfigError {
        ConfigError::bad_value(
            key,
            format!("is not supported by this filelog receiver: {why}"),
        )
    }
}

impl ComponentConfig for FileLogConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.include.is_empty() {
            return Err(ConfigError::bad_value(
                "include",
                "required: at least one glob pattern",
            ));
        }
        for (key, list) in [("include", &self.include), ("exclude", &self.exclude)] {
            for pattern in list {
                super::finder::Glob::new(pattern)
                    .map_err(|e| ConfigError::bad_value(key, format!("\"{pattern}\": {e}")))?;
            }
        }
        if self.start_at != "end" && self.start_at != "beginning" {
            return Err(ConfigError::bad_value(
                "start_at",
                format!("\"{}\": must be end or beginning", self.start_at),
            ));
        }
        if self.poll_interval.is_zero() {
            return Err(ConfigError::bad_value("poll_interval", "must be positive"));
        }
        if self.fingerprint_size < 16 {
            return Err(ConfigError::bad_value(
                "fingerprint_size",
                "must be at least 16 bytes",
            ));
        }
        if self.max_log_size == 0 || self.max_log_size > 1 << 30 {
            return Err(ConfigError::bad_value(
                "max_log_size",
                "must be between 1 byte and 1 GiB",
            ));
        }
        if self.max_concurrent_files == 0 {
            return Err(ConfigError::bad_value(
                "max_concurrent_files",
                "must be at least 1",
            ));
        }
        Encoding::parse(&self.encoding)?;
        if let Some(m) = &self.multiline {
            super::multiline::Multiline::new(m)?;
        }
        if self.delete_after_read {
            return Err(Self::refuse("delete_after_read", "files are never deleted"));
        }
        if self.header.is_some() {
            return Err(Self::refuse("header", "header metadata parsing"));
        }
        if self.ordering_criteria.is_some() {
            return Err(Self::refuse(
                "ordering_criteria",
                "every matched file is read",
            ));
        }
        if self.compression.as_deref().is_some_and(|c| !c.is_empty()) {
            return Err(Self::refuse("compression", "compressed files"));
        }
        for (key, on) in [
            ("acquire_fs_lock", self.acquire_fs_lock),
            ("include_file_owner_name", self.include_file_owner_name),
            (
                "include_file_owner_group_name",
                self.include_file_owner_group_name,
            ),
            (
                "include_file_record_number",
                self.include_file_record_number,
            ),
            (
                "include_file_record_offset",
                self.include_file_record_offset,
            ),
        ] {
            if on {
                return Err(Self::refuse(key, "not implemented"));
            }
        }
        if self.exclude_older_than.is_some_and(|d| !d.is_zero()) {
            return Err(Self::refuse("exclude_older_than", "not implemented"));
        }
        if let Some(storage) = &self.storage {
            let id = otlp_pipeline::config::fields::parse_id("storage", storage)?;
            if id.type_name() != "file_storage" {
                return Err(ConfigError::bad_value(
                    "storage",
                    format!("\"{id}\" is not supported: only file_storage extensions are"),
                ));
            }
        }
        let r = &self.retry_on_failure;
        if r.enabled && (r.initial_interval.is_zero() || r.max_interval < r.initial_interval) {
            return Err(ConfigError::bad_value(
                "retry_on_failure",
                "initial_interval must be positive and at most max_interval",
            ));
        }
        Pipeline::build(&self.operators)?;
        Ok(())
    }
}
