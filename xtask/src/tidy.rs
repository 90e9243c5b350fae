//! `cargo xtask tidy`: the repository rules that keep the workspace honest.
//!
//! 1. Layering: a crate under `crates/` depends (normal, dev or build) only on crates below it
//!    along the edges of [`EDGES`], a small DAG; kind crates never depend on each other, and the
//!    application side (`otlp-sdk`, `otlp-instrumentation`) and the collector side
//!    (`otlp-pipeline` and up) meet only in `otlp-collector`. The low layers never pull in an
//!    async runtime or a network stack ([`LIGHT_CRATES`]).
//! 2. Metadata: every package inherits version, edition, rust-version, license and repository
//!    from the workspace, and opts into `[lints] workspace = true`.
//! 3. Docs: every crate has a README and crate-level docs; the README's crate map and
//!    `docs/ARCHITECTURE.md` name every crate.
//! 4. Picking components: the custom collector example (`examples/`) compiles exactly the
//!    component features it declares, none by default.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::Result;

/// The crates and the crates directly below each. A crate may depend on every crate it
/// reaches by following these edges down, and on nothing else of ours. Crates named here that
/// do not exist yet (`otlp-sdk`, `otlp-connectors`, ...) hold their place in the graph.
pub const EDGES: &[(&str, &[&str])] = &[
    ("otlp-proto", &[]),
    ("otlp-model", &["otlp-proto"]),
    ("otlp-propagation", &["otlp-model"]),
    ("otlp-transport", &["otlp-propagation"]),
    ("otlp-batch", &["otlp-transport"]),
    // The application side.
    ("otlp-sdk", &["otlp-batch"]),
    ("otlp-instrumentation", &["otlp-sdk"]),
    // The collector side: the framework, shared logic, then the components by kind.
    ("otlp-pipeline", &["otlp-batch"]),
    ("otlp-ottl", &["otlp-pipeline"]),
    ("otlp-receivers", &["otlp-ottl"]),
    ("otlp-processors", &["otlp-ottl"]),
    ("otlp-exporters", &["otlp-ottl"]),
    ("otlp-connectors", &["otlp-ottl"]),
    ("otlp-extensions", &["otlp-ottl"]),
    // The distribution; it may use the SDK for its own telemetry.
    (
        "otlp-collector",
        &[
            "otlp-receivers",
            "otlp-processors",
            "otlp-exporters",
            "otlp-connectors",
            "otlp-extensions",
            "otlp-sdk",
        ],
    ),
];

/// Packages that must stay light: none of these may appear in their normal dependency graph.
pub const LIGHT_CRATES: &[(&str, &[&str])] = &[
    ("otlp-proto", &["tokio", "hyper", "tonic"]),
    ("otlp-model", &["tokio", "hyper", "tonic"]),
    ("otlp-propagation", &["tokio", "hyper"]),
    ("otlp-ottl", &["tokio", "hyper", "tonic"]),
];

/// The component crates, whose features are components.
const KIND_CRATES: &[&str] = &[
    "otlp-receivers",
    "otlp-processors",
    "otlp-exporters",
    "otlp-connectors",
    "otlp-extensions",
];

/// Whether `name` is a component crate (its features are components).
pub fn is_kind_crate(name: &str) -> bool {
    KIND_CRATES.contains(&name)
}

/// The package holding the custom collector example.
const EXAMPLES_PACKAGE: &str = "otlp-examples";

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
    check_example_picks(root, &mut problems);
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

/// Whether `name` is one of the crates of [`EDGES`].
fn in_graph(name: &str) -> bool {
    EDGES.iter().any(|(crate_name, _)| *crate_name == name)
}

/// Every crate `name` reaches by following [`EDGES`] down (itself excluded).
fn below(name: &str) -> BTreeSet<&'static str> {
    let mut reached = BTreeSet::new();
    let mut todo: Vec<&str> = vec![name];
    while let Some(current) = todo.pop() {
        let direct = EDGES
            .iter()
            .find(|(c, _)| *c == current)
            .map_or(&[][..], |(_, d)| *d);
        for next in direct {
            if reached.insert(*next) {
                todo.push(next);
            }
        }
    }
    reached
}

/// The graph as text, for messages: `a → b, c; ...`.
fn describe_edges() -> String {
    EDGES
        .iter()
        .filter(|(_, below)| !below.is_empty())
        .map(|(name, below)| format!("{name} → {}", below.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn check_layering(metadata: &Value, problems: &mut Vec<String>) {
    let ours: BTreeSet<&str> = packages(metadata).map(|p| str_of(p, "name")).collect();
    for package in packages(metadata) {
        let name = str_of(package, "name");
        let in_crates = str_of(package, "manifest_path").contains("/crates/");
        if !in_graph(name) {
            if in_crates {
                problems.push(format!(
                    "{name}: a crate under crates/ that is not in the dependency graph (xtask/src/tidy.rs EDGES)"
                ));
            }
            continue;
        }
        let allowed = below(name);
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let target = str_of(dependency, "name");
            if !ours.contains(target) || allowed.contains(target) {
                continue;
            }
            let kind = dependency["kind"].as_str().unwrap_or("normal");
            if in_graph(target) {
                problems.push(format!(
                    "{name} depends on {target} ({kind}), which is not below it: the allowed edges are {}",
                    describe_edges()
                ));
            } else {
                problems.push(format!(
                    "{name} depends on {target} ({kind}), which is not a library crate of the graph"
                ));
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
        if !in_graph(name) {
            continue; // xtask, benches, examples: tools, not published crates
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
    for (name, _) in EDGES {
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

/// The custom collector example compiles the component features it declares and no other:
/// `cargo tree -e features` of its package lists, per kind crate, exactly the features its
/// `Cargo.toml` asks for (a `default` there would bring every component).
fn check_example_picks(root: &Path, problems: &mut Vec<String>) {
    let manifest_path = root.join("examples/Cargo.toml");
    let Ok(text) = fs::read_to_string(&manifest_path) else {
        problems.push(format!(
            "{}: missing (the custom collector example)",
            manifest_path.display()
        ));
        return;
    };
    let manifest: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            problems.push(format!("examples/Cargo.toml: {e}"));
            return;
        }
    };
    let declared = declared_picks(&manifest);
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--package",
            EXAMPLES_PACKAGE,
            "--edges",
            "features,normal",
            "--prefix",
            "none",
        ])
        .current_dir(root)
        .output();
    let tree = match output {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        Ok(output) => {
            problems.push(format!(
                "cargo tree -p {EXAMPLES_PACKAGE} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            return;
        }
        Err(e) => {
            problems.push(format!("running cargo tree -p {EXAMPLES_PACKAGE}: {e}"));
            return;
        }
    };
    problems.extend(compare_picks(&declared, &compiled_picks(&tree)));
}

/// Per kind crate, the features `[dependencies]` of the examples' manifest turns on.
fn declared_picks(manifest: &toml::Table) -> BTreeMap<String, BTreeSet<String>> {
    let mut declared = BTreeMap::new();
    let dependencies = manifest.get("dependencies").and_then(toml::Value::as_table);
    for (name, spec) in dependencies.into_iter().flatten() {
        if !KIND_CRATES.contains(&name.as_str()) {
            continue;
        }
        let mut features: BTreeSet<String> = spec
            .get("features")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        if spec.get("default-features").and_then(toml::Value::as_bool) != Some(false) {
            features.insert("default".to_owned());
        }
        declared.insert(name.clone(), features);
    }
    declared
}

/// Per kind crate, the features `cargo tree -e features --prefix none` shows compiled
/// (lines `otlp-processors feature "batch"`).
fn compiled_picks(tree: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut compiled: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.splitn(3, ' ');
        let (Some(name), Some("feature"), Some(feature)) =
            (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if KIND_CRATES.contains(&name) {
            let feature = feature.trim().trim_matches('"');
            compiled
                .entry(name.to_owned())
                .or_default()
                .insert(feature.to_owned());
        }
    }
    compiled
}

fn compare_picks(
    declared: &BTreeMap<String, BTreeSet<String>>,
    compiled: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if declared.is_empty() {
        problems
            .push("examples/Cargo.toml: the custom collector picks no component crate".to_owned());
    }
    for (name, picked) in declared {
        if picked.contains("default") {
            problems.push(format!(
                "examples/Cargo.toml: {name} without `default-features = false` compiles every component"
            ));
        }
        let built = compiled.get(name).cloned().unwrap_or_default();
        let extra: Vec<&String> = built.difference(picked).collect();
        if !extra.is_empty() {
            problems.push(format!(
                "the custom collector example compiles {name} features it did not pick: {extra:?}"
            ));
        }
    }
    for name in compiled.keys().filter(|name| !declared.contains_key(*name)) {
        problems.push(format!(
            "the custom collector example compiles {name}, which it did not pick"
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::{check_layering, compare_picks, compiled_picks, declared_picks};
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

    /// The layering problems of `packages`, in a workspace that also holds every other crate
    /// of the graph (with no dependencies), as the real one will.
    fn problems(mut packages: Vec<serde_json::Value>) -> Vec<String> {
        for (name, _) in super::EDGES {
            if !packages.iter().any(|p| p["name"] == *name) {
                packages.push(package(name, &[]));
            }
        }
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
            package(
                "otlp-pipeline",
                &[("otlp-batch", "normal"), ("otlp-model", "dev")],
            ),
            package("otlp-ottl", &[("otlp-proto", "normal")]),
            package(
                "otlp-processors",
                &[("otlp-ottl", "normal"), ("otlp-pipeline", "dev")],
            ),
            package(
                "otlp-instrumentation",
                &[("otlp-sdk", "normal"), ("otlp-transport", "normal")],
            ),
            package(
                "otlp-collector",
                &[("otlp-exporters", "normal"), ("otlp-sdk", "normal")],
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
    fn kind_crates_never_depend_on_each_other() {
        let found = problems(vec![
            package("otlp-receivers", &[("otlp-extensions", "normal")]),
            package("otlp-exporters", &[("otlp-processors", "dev")]),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("otlp-receivers depends on otlp-extensions (normal)"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("otlp-exporters depends on otlp-processors (dev)"),
            "{found:?}"
        );
    }

    #[test]
    fn the_framework_and_the_branches_stay_apart() {
        let found = problems(vec![
            package(
                "otlp-pipeline",
                &[("otlp-processors", "normal"), ("otlp-ottl", "normal")],
            ),
            package("otlp-sdk", &[("otlp-pipeline", "normal")]),
            package("otlp-ottl", &[("otlp-receivers", "dev")]),
            package("otlp-batch", &[("otlp-collector", "dev")]),
        ]);
        assert_eq!(found.len(), 5, "{found:?}");
    }

    #[test]
    fn unknown_crate_under_crates_fails() {
        let found = problems(vec![package("otlp-mystery", &[])]);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("not in the dependency graph"));
    }

    #[test]
    fn the_example_compiles_only_what_it_picks() {
        let manifest: toml::Table = r#"
            [dependencies]
            otlp-pipeline.workspace = true
            otlp-processors = { workspace = true, default-features = false, features = ["batch"] }
            otlp-exporters = { workspace = true, features = ["otlp"] }
        "#
        .parse()
        .unwrap_or_default();
        let declared = declared_picks(&manifest);
        let tree = "otlp-examples v0.1.0 (/repo/examples)\n\
                    otlp-processors feature \"batch\"\n\
                    otlp-processors feature \"filter\"\n\
                    otlp-exporters feature \"otlp\"\n\
                    otlp-exporters feature \"default\"\n\
                    otlp-receivers feature \"otlp\"\n";
        let found = compare_picks(&declared, &compiled_picks(tree));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].contains("otlp-exporters without `default-features = false`"),
            "{found:?}"
        );
        assert!(
            found[1].contains("otlp-processors features it did not pick: [\"filter\"]"),
            "{found:?}"
        );
        assert!(
            found[2].contains("otlp-receivers, which it did not pick"),
            "{found:?}"
        );

        let exact = "otlp-processors feature \"batch\"\notlp-exporters feature \"otlp\"\notlp-exporters feature \"default\"\n";
        let mut declared = declared;
        declared.insert("otlp-exporters".into(), ["otlp".to_owned()].into());
        let found = compare_picks(&declared, &compiled_picks(exact));
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
