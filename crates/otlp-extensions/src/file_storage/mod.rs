//! The `file_storage` extension: a directory for exporters' persistent queues.
//!
//! otelcol-contrib's `file_storage` is a key-value store (bbolt) that the exporter queue
//! writes into. Here it only names (and creates) a directory: an exporter whose
//! `sending_queue.storage` is `file_storage/NAME` looks the extension up through the
//! [`Host`] at start and opens its `otlp-batch` persistent queue in
//! `<directory>/exporter_<exporter id>_<signal>` (see
//! `otlp_batch::PersistentConfig::queue_directory`).
//! The on-disk format is otlp-batch's segmented log, not bbolt: a directory written by
//! otelcol cannot be read here, nor the other way round.
//!
//! Keys: `directory` (default `/var/lib/otelcol/file_storage`), `create_directory` (default
//! false; the directory must exist otherwise), `fsync` (true: sync every write before
//! acknowledging, otlp-batch's `FsyncPolicy::Always`; false: sync every second),
//! `directory_permissions` (octal, used when creating; Unix). `timeout` and `compaction`
//! (bbolt's) are accepted and ignored: the segment files are deleted as soon as they are
//! fully acknowledged, so there is nothing to compact.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

use otlp_pipeline::component::{Extension, Host, StorageExtension};
use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};

/// otelcol-contrib's default directory on Linux.
pub const DEFAULT_DIRECTORY: &str = "/var/lib/otelcol/file_storage";

/// `extensions: file_storage:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileStorageConfig {
    /// Where the queues live.
    pub directory: PathBuf,
    /// Create the directory (and its parents) at start when missing.
    pub create_directory: bool,
    /// Permissions of a created directory, octal (default `0750`).
    pub directory_permissions: String,
    /// Sync every write to disk before acknowledging it.
    pub fsync: bool,
    /// Accepted, ignored (bbolt's lock timeout).
    #[serde(with = "duration::option", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Accepted, ignored (bbolt compaction; segments are deleted when acknowledged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compaction: Option<Value>,
}

impl Default for FileStorageConfig {
    fn default() -> Self {
        FileStorageConfig {
            directory: PathBuf::from(DEFAULT_DIRECTORY),
            create_directory: false,
            directory_permissions: "0750".into(),
            fsync: false,
            timeout: None,
            compaction: None,
        }
    }
}

impl ComponentConfig for FileStorageConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.directory.as_os_str().is_empty() {
            return Err(ConfigError::bad_value("directory", "must not be empty"));
        }
        if u32::from_str_radix(self.directory_permissions.trim_start_matches("0o"), 8).is_err() {
            return Err(ConfigError::bad_value(
                "directory_permissions",
                "must be an octal number such as 0750",
            ));
        }
        Ok(())
    }
}

/// The extension. Exporters find it through
/// [`Extension::as_storage`].
#[derive(Debug)]
pub struct FileStorage {
    config: FileStorageConfig,
}

impl FileStorage {
    /// The extension for a checked configuration.
    pub fn new(config: FileStorageConfig) -> FileStorage {
        FileStorage { config }
    }

    /// The storage directory.
    pub fn directory(&self) -> &Path {
        &self.config.directory
    }

    /// Whether writes are synced before they are acknowledged.
    pub fn fsync(&self) -> bool {
        self.config.fsync
    }
}

#[async_trait]
impl Extension for FileStorage {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let directory = &self.config.directory;
        match std::fs::metadata(directory) {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(format!("{} is not a directory", directory.display()).into()),
            Err(error)
                if error.kind() == std::io::ErrorKind::NotFound && self.config.create_directory =>
            {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt as _;
                    let mode = u32::from_str_radix(
                        self.config.directory_permissions.trim_start_matches("0o"),
                        8,
                    )
                    .unwrap_or(0o750);
                    builder.mode(mode);
                }
                builder
                    .create(directory)
                    .map_err(|e| format!("cannot create {}: {e}", directory.display()).into())
            }
            Err(error) => Err(format!(
                "directory {} is not usable: {error} (create it, or set create_directory: true)",
                directory.display()
            )
            .into()),
        }
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }

    fn as_storage(&self) -> Option<&dyn StorageExtension> {
        Some(self)
    }
}

impl StorageExtension for FileStorage {
    fn directory(&self) -> &Path {
        FileStorage::directory(self)
    }

    fn fsync(&self) -> bool {
        FileStorage::fsync(self)
    }
}

/// The `file_storage` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("file_storage", |_ctx, config: FileStorageConfig| {
        Ok(Box::new(FileStorage::new(config)))
    })
}
