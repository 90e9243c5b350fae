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
