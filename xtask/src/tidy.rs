//! `cargo xtask tidy`: the repository rules that keep the workspace honest.
//!
//! 1. Layering: a crate under `crates/` depends only on crates below it in
//!    [`LAYERS`]; the low layers never pull in an async runtime or a network stack.
//! 2. Metadata: every package inherits version, edition, rust-version, license and repository
//!    from the workspace, and opts into `[lints] workspace = true`.
//! 3. Docs: every crate has a README and crate-level docs; the README's crate map and
//!    `docs/ARCHITECTURE.md` name every crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::Result;

/// The layers, bottom to top. A crate may depend only on crates that come before it here.
pub const LAYERS: &[&str] = &[
    "otlp-proto",
    "otlp-model",
    "otlp-propagation",
    "otlp-transport",
    "otlp-batch",
    "otlp-pipeline",
    "otlp-collector",
];

/// Packages that must stay light: none of these may appear in their normal dependency graph.
pub const LIGHT_CRATES: &[(&str, &[&str])] = &[
    ("otlp-proto", &["tokio", "hyper", "tonic"]),
    ("otlp-model", &["tokio", "hyper", "tonic"]),
    ("otlp-propagation", &["tokio", "hyper"]),
];

const INHERITED: &[&str] = &[
    "version",
    "edition",
    "rust-version",
    "license",
    "repository",
];

/// Runs every rule and reports all violations at once.
pub fn check(root: &Path) -> Result {
    let metadata = cargo_metadata(root)?;
    let mut problems = Vec::new();
    check_layering(&metadata, &mut problems);
    check_light_crates(root, &mut problems);
    check_packages(root, &metadata, &mut problems);
    check_maps(root, &mut problems);
    if problems.is_empty() {
        println!("tidy: all repository rules hold");
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn cargo_metadata(root: &Path) -> Result<Value> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("running cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("parsing cargo metadata: {e}"))
}

fn packages(metadata: &Value) -> impl Iterator<Item = &Value> {
    metadata["packages"].as_array().into_iter().flatten()
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// Layer of a package, when it is one of ours under `crates/`.
fn layer_of(name: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| *layer == name)
}

fn check_layering(metadata: &Value, problems: &mut Vec<String>) {
    let ours: BTreeSet<&str> = packages(metadata).map(|p| str_of(p, "name")).collect();
    for package in packages(metadata) {
        let name = str_of(package, "name");
        let in_crates = str_of(package, "manifest_path").contains("/crates/");
        let Some(own_layer) = layer_of(name) else {
            if in_crates {
                problems.push(format!(
                    "{name}: a crate under crates/ that is not in the layer table (xtask/src/tidy.rs LAYERS)"
                ));
            }
            continue;
        };
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let target = str_of(dependency, "name");
            if !ours.contains(target) {
                continue;
            }
            let kind = dependency["kind"].as_str().unwrap_or("normal");
            match layer_of(target) {
                Some(target_layer) if target_layer < own_layer => {}
                Some(_) => problems.push(format!(
                    "{name} depends on {target} ({kind}), which is not below it: the layers are {}",
                    LAYERS.join(" → ")
                )),
                None => problems.push(format!(
                    "{name} depends on {target} ({kind}), which is not a library layer"
                )),
            }
        }
    }
}

fn check_light_crates(root: &Path, problems: &mut Vec<String>) {
    for (name, forbidden) in LIGHT_CRATES {
        if !root.join("crates").join(name).exists() {
            continue;
        }
        // Default features and a prost-only build: what a user gets with `default-features = false`.
        for features in [&[][..], &["--no-default-features"][..]] {
            let output = Command::new(env!("CARGO"))
                .args([
                    "tree",
                    "--package",
                    name,
                    "--edges",
                    "normal",
                    "--prefix",
                    "none",
                ])
                .args(features)
                .current_dir(root)
                .output();
            let output = match output {
                Ok(output) if output.status.success() => output,
                Ok(output) => {
                    problems.push(format!(
                        "cargo tree -p {name} failed: {}",
                        String::from_utf8_lossy(&output.stderr).trim()
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("running cargo tree -p {name}: {e}"));
                    continue;
                }
            };
            let tree = String::from_utf8_lossy(&output.stdout);
            for line in tree.lines() {
                let dependency = line.split_whitespace().next().unwrap_or_default();
                if forbidden.contains(&dependency) {
                    problems.push(format!(
                        "{name} ({}) pulls in {dependency}; it must stay free of {}",
                        if features.is_empty() {
                            "default features"
                        } else {
                            "no default features"
                        },
                        forbidden.join(", ")
                    ));
                }
            }
        }
    }
}

fn check_packages(root: &Path, metadata: &Value, problems: &mut Vec<String>) {
    for package in packages(metadata) {
        let name = str_of(package, "name");
        let manifest_path = Path::new(str_of(package, "manifest_path"));
        let Some(dir) = manifest_path.parent() else {
            continue;
        };
        let manifest = match fs::read_to_string(manifest_path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{name}: reading {}: {e}", manifest_path.display()));
                continue;
            }
        };
        let manifest: toml::Table = match manifest.parse() {
            Ok(table) => table,
            Err(e) => {
                problems.push(format!("{name}: parsing Cargo.toml: {e}"));
                continue;
            }
        };
        let package_table = manifest.get("package").and_then(toml::Value::as_table);
        for key in INHERITED {
            let inherited = package_table
                .and_then(|table| table.get(*key))
                .and_then(toml::Value::as_table)
                .and_then(|table| table.get("workspace"))
                .and_then(toml::Value::as_bool)
                == Some(true);
            if !inherited {
                problems.push(format!(
                    "{name}: package.{key} must be `{key}.workspace = true`"
                ));
            }
        }
        let lints_inherited = manifest
            .get("lints")
            .and_then(toml::Value::as_table)
            .and_then(|table| table.get("workspace"))
            .and_then(toml::Value::as_bool)
            == Some(true);
        if !lints_inherited {
            problems.push(format!(
                "{name}: Cargo.toml needs `[lints] workspace = true`"
            ));
        }
        if layer_of(name).is_none() {
            continue; // xtask and benches: tools, not published crates
        }
        if !dir.join("README.md").is_file() {
            problems.push(format!("{name}: missing README.md"));
        }
        check_crate_docs(name, dir, problems);
    }
    let _ = root;
}

fn check_crate_docs(name: &str, dir: &Path, problems: &mut Vec<String>) {
    let entry = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|file| dir.join(file))
        .find(|path| path.is_file());
    let Some(entry) = entry else {
        problems.push(format!("{name}: neither src/lib.rs nor src/main.rs"));
        return;
    };
    let text = fs::read_to_string(&entry).unwrap_or_default();
    let doc_lines: Vec<&str> = text
        .lines()
        .take_while(|line| line.starts_with("//!") || line.trim().is_empty())
        .filter(|line| line.starts_with("//!"))
        .collect();
    if doc_lines.len() < 3 {
        problems.push(format!(
            "{name}: {} needs crate-level docs (`//!`) saying what the crate is for and what it must not depend on",
            entry.display()
        ));
    }
    if doc_lines.iter().any(|line| line.contains("PLACEHOLDER")) {
        problems.push(format!("{name}: crate docs still hold a placeholder"));
    }
}

fn check_maps(root: &Path, problems: &mut Vec<String>) {
    let readme = fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let architecture = fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap_or_default();
    let headings: BTreeMap<&str, ()> = architecture
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| (line, ()))
        .collect();
    for name in LAYERS {
        if !root.join("crates").join(name).exists() {
            continue;
        }
        if !readme.contains(&format!("`{name}`")) {
            problems.push(format!(
                "README.md: the crate map does not mention `{name}`"
            ));
        }
        if !headings
            .keys()
            .any(|heading| heading.contains(&format!("`{name}`")))
        {
            problems.push(format!("docs/ARCHITECTURE.md: no heading for `{name}`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_layering;
    use serde_json::json;

    fn package(name: &str, dependencies: &[(&str, &str)]) -> serde_json::Value {
        json!({
            "name": name,
            "manifest_path": format!("/repo/crates/{name}/Cargo.toml"),
            "dependencies": dependencies
                .iter()
                .map(|(dep, kind)| json!({ "name": dep, "kind": kind }))
                .collect::<Vec<_>>(),
        })
    }

    fn problems(packages: Vec<serde_json::Value>) -> Vec<String> {
        let mut problems = Vec::new();
        check_layering(&json!({ "packages": packages }), &mut problems);
        problems
    }

    #[test]
    fn downward_edges_pass() {
        let found = problems(vec![
            package("otlp-proto", &[("prost", "normal")]),
            package("otlp-model", &[("otlp-proto", "normal")]),
            package(
                "otlp-propagation",
                &[("otlp-model", "normal"), ("otlp-proto", "dev")],
            ),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn upward_and_sideways_edges_fail() {
        let found = problems(vec![
            package("otlp-proto", &[("otlp-model", "dev")]),
            package(
                "otlp-model",
                &[("otlp-proto", "normal"), ("otlp-model", "normal")],
            ),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("otlp-proto depends on otlp-model (dev)"),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_crate_under_crates_fails() {
        let found = problems(vec![package("otlp-mystery", &[])]);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("not in the layer table"));
    }
}
