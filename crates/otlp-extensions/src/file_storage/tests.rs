#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use otlp_pipeline::config::parse_config;

fn config(yaml: &str) -> FileStorageConfig {
    let config: FileStorageConfig = parse_config(&serde_yaml_ng::from_str(yaml).unwrap()).unwrap();
    config.validate().unwrap();
    config
}

#[tokio::test]
async fn creates_the_directory_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b");
    let missing = FileStorage::new(config(&format!("directory: {}", target.display())));
    let error = missing.start(&Host::empty()).await.unwrap_err();
    assert!(error.to_string().contains("create_directory"), "{error}");
    let storage = FileStorage::new(config(&format!(
        "directory: {}\ncreate_directory: true\nfsync: true\ntimeout: 1s\ncompaction:\n  on_start: true\n  directory: /tmp",
        target.display()
    )));
    storage.start(&Host::empty()).await.unwrap();
    assert!(target.is_dir());
    assert!(storage.fsync());
    assert_eq!(storage.directory(), target);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o750
        );
    }
}

#[test]
fn defaults() {
    let config = config("{}");
    assert_eq!(config.directory, PathBuf::from(DEFAULT_DIRECTORY));
    assert!(!config.create_directory && !config.fsync);
}
