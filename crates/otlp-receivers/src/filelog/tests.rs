//! Unit tests of the receiver: configuration keys, defaults and refusals (each error names its
//! key), the factory and its alias, and the conversion of entries into a request.

use serde_json::json;

use otlp_pipeline::factory::ComponentConfig;

use super::config::{FileLogConfig, parse_byte_size};
use super::entry::Entry;

fn parse(yaml: &str) -> Result<FileLogConfig, String> {
    let config: FileLogConfig = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn defaults_are_otelcols() {
    let c = parse("include: [/var/log/*.log]").unwrap();
    assert_eq!(c.start_at, "end");
    assert_eq!(c.poll_interval, std::time::Duration::from_millis(200));
    assert_eq!(c.fingerprint_size, 1000);
    assert_eq!(c.max_log_size, 1 << 20);
    assert_eq!(c.max_concurrent_files, 1024);
    assert_eq!(c.encoding, "utf-8");
    assert!(c.include_file_name && !c.include_file_path);
    assert_eq!(c.force_flush_period, std::time::Duration::from_millis(500));
    assert!(!c.retry_on_failure.enabled);
    assert_eq!(
        c.retry_on_failure.max_elapsed_time,
        std::time::Duration::from_secs(300)
    );
}

#[test]
fn sizes_and_the_real_configs_parse() {
    assert_eq!(parse_byte_size("1kb"), Ok(1000));
    assert_eq!(parse_byte_size("16KiB"), Ok(16 * 1024));
    assert_eq!(parse_byte_size("1MiB"), Ok(1 << 20));
    assert_eq!(parse_byte_size("1_024"), Ok(1024));
    assert!(parse_byte_size("12 parsecs").is_err());
    let c = parse("include: [/x]\nfingerprint_size: 2kb\nmax_log_size: 102_400\n").unwrap();
    assert_eq!((c.fingerprint_size, c.max_log_size), (2000, 102_400));
    for file in [
        "007-contrib-kubernetes-filelog.yaml",
        "012-contrib-logline-filter-out.yaml",
        "038-honeycomb-workshop-trinity.yaml",
    ] {
        let path = format!(
            "{}/../../../shared/otelcol-configs/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        let receiver = &doc["receivers"]["filelog"];
        let config: FileLogConfig = serde_yaml_ng::from_value(receiver.clone()).unwrap();
        config.validate().unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn errors_name_the_key() {
    for (yaml, key) in [
        ("start_at: end", "include"),
        ("include: [/x]\nstart_at: middle", "start_at"),
        ("include: ['/x/[a']", "include"),
        ("include: [/x]\nexclude: ['/x/{a']", "exclude"),
        ("include: [/x]\nencoding: ebcdic", "encoding"),
        ("include: [/x]\nfingerprint_size: 4", "fingerprint_size"),
        ("include: [/x]\nmax_log_size: 0", "max_log_size"),
        (
            "include: [/x]\nmax_concurrent_files: 0",
            "max_concurrent_files",
        ),
        ("include: [/x]\npoll_interval: 0s", "poll_interval"),
        (
            "include: [/x]\ndelete_after_read: true",
            "delete_after_read",
        ),
        ("include: [/x]\nheader: {pattern: x}", "header"),
        (
            "include: [/x]\nordering_criteria: {regex: x}",
            "ordering_criteria",
        ),
        ("include: [/x]\ncompression: gzip", "compression"),
        ("include: [/x]\nacquire_fs_lock: true", "acquire_fs_lock"),
        (
            "include: [/x]\ninclude_file_record_number: true",
            "include_file_record_number",
        ),
        (
            "include: [/x]\nexclude_older_than: 1h",
            "exclude_older_than",
        ),
        ("include: [/x]\nstorage: redis/x", "storage"),
        (
            "include: [/x]\nmultiline: {line_start_pattern: a, line_end_pattern: b}",
            "multiline",
        ),
        (
            "include: [/x]\nretry_on_failure: {enabled: true, initial_interval: 0s}",
            "retry_on_failure",
        ),
        (
            "include: [/x]\noperators: [{type: tail_sampler}]",
            "operators[0]",
        ),
        ("include: [/x]\nno_such_key: 1", "no_such_key"),
    ] {
        let error = parse(yaml).expect_err(yaml);
        assert!(error.contains(key), "{yaml}: {error}");
    }
    assert!(parse("include: [/x]\nstorage: file_storage/checkpoints").is_ok());
    assert!(parse("include: [/x]\ncompression: ''").is_ok());
}

#[test]
fn factory_and_alias() {
    let mut registry = otlp_pipeline::Registry::default();
    crate::register(&mut registry).unwrap();
    assert!(registry.receiver("filelog").is_some());
    assert!(registry.receiver("file_log").is_some());
    let factory = super::factory();
    let defaults = otlp_pipeline::Factory::default_config(&factory);
    assert_eq!(defaults["start_at"], serde_yaml_ng::Value::from("end"));
}

#[test]
fn entries_become_one_request_grouped_by_resource() {
    let mut a = Entry::new(json!("one"), 5);
    a.resource.insert("host".into(), json!("h1"));
    a.attributes.insert("n".into(), json!(1.5));
    a.attributes.insert("i".into(), json!(7));
    a.timestamp = Some(9);
    a.severity = 17;
    a.severity_text = "ERROR".into();
    let mut b = Entry::new(json!({"k": [true, null]}), 6);
    b.resource.insert("host".into(), json!("h1"));
    let mut c = Entry::new(serde_json::Value::Null, 7);
    c.body_bytes = Some(vec![0xff, 0]);
    let request = super::to_request(vec![a, b, c]);
    assert_eq!(request.resource_logs.len(), 2);
    let records = &request.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records.len(), 2);
    assert_eq!(
        (
            records[0].time_unix_nano,
            records[0].observed_time_unix_nano
        ),
        (9, 5)
    );
    assert_eq!(
        (
            records[0].severity_number,
            records[0].severity_text.as_str()
        ),
        (17, "ERROR")
    );
    use otlp_proto::common::v1::any_value::Value as V;
    let attr = |k: &str| {
        records[0]
            .attributes
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    assert_eq!(attr("n"), Some(V::DoubleValue(1.5)));
    assert_eq!(attr("i"), Some(V::IntValue(7)));
    assert!(matches!(
        records[1].body.as_ref().and_then(|b| b.value.as_ref()),
        Some(V::KvlistValue(_))
    ));
    let bytes = &request.resource_logs[1].scope_logs[0].log_records[0];
    assert_eq!(
        bytes.body.as_ref().and_then(|b| b.value.clone()),
        Some(V::BytesValue(vec![0xff, 0]))
    );
}
