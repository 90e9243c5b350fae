//! The repository rules as tests, so a plain `cargo test` catches stale generated code or a
//! broken layering rule.

#[test]
fn generated_code_is_fresh() {
    let root = xtask::workspace_root();
    if let Err(message) = xtask::codegen::check(&root) {
        panic!("{message}");
    }
}

#[test]
fn tidy() {
    let root = xtask::workspace_root();
    if let Err(message) = xtask::tidy::check(&root) {
        panic!("{message}");
    }
}

/// The check must be able to fail: in a scratch copy, edit one generated file and add a stray
/// one, and expect both named in the error.
#[test]
fn stale_generated_code_is_reported() {
    use std::fs;
    use std::path::Path;

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).unwrap();
            }
        }
    }

    let root = xtask::workspace_root();
    let scratch = root
        .join("target")
        .join(format!("xtask-stale-check-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    copy_dir(&root.join("proto"), &scratch.join("proto"));
    let generated = scratch.join(xtask::codegen::GENERATED_DIR);
    copy_dir(&root.join(xtask::codegen::GENERATED_DIR), &generated);
    let edited = generated.join("opentelemetry.proto.trace.v1.rs");
    let mut text = fs::read_to_string(&edited).unwrap();
    text.push_str("// a hand edit\n");
    fs::write(&edited, text).unwrap();
    fs::write(generated.join("stray.rs"), "// not from proto/\n").unwrap();

    let result = xtask::codegen::check(&scratch);
    let _ = fs::remove_dir_all(&scratch);
    let message = result.expect_err("a hand-edited generated file must be reported");
    assert!(
        message.contains("stale: opentelemetry.proto.trace.v1.rs"),
        "{message}"
    );
    assert!(
        message.contains("not generated from proto/ any more: stray.rs"),
        "{message}"
    );
    assert!(message.contains("run `cargo xtask codegen`"), "{message}");
}
