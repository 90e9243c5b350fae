//! `cargo xtask codegen [--check]`: `proto/` → `crates/otlp-proto/src/generated/`.
//!
//! The schema is compiled by protox (pure Rust, so no `protoc` is needed), the prost messages
//! and tonic stubs are produced by tonic-prost-build, and the OTLP/JSON serde implementations by
//! our own generator in [`json`], and the wire-schema table that validates received
//! requests without decoding them by [`wire`]. The output is checked in; `--check` regenerates into memory
//! and fails when anything differs from what is committed.

pub mod json;
pub mod wire;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;

/// Where the generated code lives, relative to the workspace root.
pub const GENERATED_DIR: &str = "crates/otlp-proto/src/generated";

/// The generated files, by path relative to [`GENERATED_DIR`].
pub type GeneratedFiles = BTreeMap<String, String>;

/// Every `.proto` file under `proto/`, sorted so that generation is deterministic.
pub fn proto_files(root: &Path) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result {
        let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("reading {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(&root.join("proto"), &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err("no .proto files under proto/".into());
    }
    Ok(files)
}

/// Compiles `proto/` into a descriptor set (with source info, so comments reach the rustdoc).
pub fn compile_schema(root: &Path) -> Result<prost_types::FileDescriptorSet> {
    let files = proto_files(root)?;
    protox::compile(&files, [root.join("proto")]).map_err(|e| format!("compiling proto/: {e:?}"))
}

/// Produces every generated file in memory.
pub fn generate(root: &Path) -> Result<GeneratedFiles> {
    let descriptors = compile_schema(root)?;
    let scratch = root
        .join("target")
        .join(format!("xtask-codegen-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).map_err(|e| format!("creating {}: {e}", scratch.display()))?;

    let grpc_only = "#[cfg(feature = \"grpc\")]";
    let outcome = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .client_mod_attribute(".", grpc_only)
        .server_mod_attribute(".", grpc_only)
        .emit_rerun_if_changed(false)
        .out_dir(&scratch)
        .compile_fds(descriptors.clone());
    let read = outcome
        .map_err(|e| format!("prost/tonic code generation: {e}"))
        .and_then(|()| read_dir_files(&scratch));
    let _ = fs::remove_dir_all(&scratch);

    let mut files = read?;
    for (name, contents) in json::generate(&descriptors)? {
        files.insert(name, contents);
    }
    for (name, contents) in wire::generate(&descriptors)? {
        files.insert(name, contents);
    }
    Ok(files)
}

fn read_dir_files(dir: &Path) -> Result<GeneratedFiles> {
    let mut files = GeneratedFiles::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries =
            fs::read_dir(&current).map_err(|e| format!("reading {}: {e}", current.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("reading {}: {e}", current.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .to_string_lossy()
                .replace('\\', "/");
            let contents = fs::read_to_string(&path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            files.insert(relative, contents);
        }
    }
    Ok(files)
}

/// `cargo xtask codegen`: replaces the generated directory with freshly generated files.
pub fn write(root: &Path) -> Result {
    let files = generate(root)?;
    let out = root.join(GENERATED_DIR);
    let _ = fs::remove_dir_all(&out);
    for (name, contents) in &files {
        let path = out.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        fs::write(&path, contents).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    println!("wrote {} files to {GENERATED_DIR}", files.len());
    Ok(())
}

/// `cargo xtask codegen --check`: fails, naming the files, when the checked-in code is stale.
pub fn check(root: &Path) -> Result {
    let fresh = generate(root)?;
    let committed = read_dir_files(&root.join(GENERATED_DIR)).unwrap_or_default();
    let mut problems = Vec::new();
    for (name, contents) in &fresh {
        match committed.get(name) {
            None => problems.push(format!("missing: {name}")),
            Some(old) if old != contents => problems.push(format!("stale: {name}")),
            Some(_) => {}
        }
    }
    for name in committed.keys().filter(|name| !fresh.contains_key(*name)) {
        problems.push(format!("not generated from proto/ any more: {name}"));
    }
    if problems.is_empty() {
        println!("{GENERATED_DIR} is up to date ({} files)", fresh.len());
        Ok(())
    } else {
        Err(format!(
            "the generated code in {GENERATED_DIR} does not match proto/:\n  {}\nrun `cargo xtask codegen` and commit the result",
            problems.join("\n  ")
        ))
    }
}
