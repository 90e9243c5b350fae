//! Tests of the resource module: one file per detector, fixtures written to temporary trees.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Resource;

mod builder;
mod container;
mod env;
mod host;
mod k8s;
mod os;
mod process;
mod resource;
mod sdk;
mod service;

/// A temporary directory standing in for `/`, removed when dropped.
pub(super) struct TempRoot {
    path: PathBuf,
}

impl TempRoot {
    pub(super) fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "otlp-sdk-resource-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    /// Writes `content` to `relative` (parents created).
    pub(super) fn write(&self, relative: &str, content: &str) -> &Self {
        let file = self.path.join(relative);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
        self
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A map environment from pairs.
pub(super) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The string value of `key`.
pub(super) fn get_str<'a>(resource: &'a Resource, key: &str) -> Option<&'a str> {
    resource.get(key).and_then(|v| v.as_str())
}
