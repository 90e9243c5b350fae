//! Repository automation for otlp-rs: `cargo xtask codegen [--check] | tidy | test | peers`.
//!
//! This crate is never a dependency of another crate; it reads the workspace from the outside
//! (files, `cargo metadata`) and may depend on anything.

pub mod bench;
pub mod codegen;
pub mod peers;
pub mod run_tests;
pub mod tidy;

use std::path::{Path, PathBuf};

/// The workspace root: the directory above this crate.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
}

/// What every xtask step returns: `Err` carries the message printed to the user.
pub type Result<T = ()> = std::result::Result<T, String>;
