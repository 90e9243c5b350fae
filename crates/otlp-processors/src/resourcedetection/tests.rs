//! Tests of the `resourcedetection` processor: configuration, the three detectors on fixture
//! files (and, for `system`, on this machine), the merge rules, and the processor end to end
//! from YAML through the registry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use otlp_pipeline::component::{Host, Processor, Resources};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::testing::{Probe, logs, metrics, processor_ctx, traces};
use otlp_pipeline::{Registry, Telemetry};
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::common::v1::{KeyValue, any_value};
use otlp_proto::profiles::v1development::ResourceProfiles;
use otlp_proto::resource::v1::Resource;

use super::config::HostnameSource;
use super::detectors::env::{parse, percent_decode};
use super::detectors::system::{self, SystemDetector, hostname};
use super::detectors::{Session, merge_first_wins, string};
use super::*;
use crate::resourcedetection::config::enabled_attributes;

// ---------------------------------------------------------------- helpers

fn config(yaml: &str) -> Result<ResourceDetectionConfig, otlp_pipeline::ConfigError> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    let parsed: ResourceDetectionConfig = otlp_pipeline::config::parse_config(&value)?;
    parsed.validate()?;
    Ok(parsed)
}

fn text(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::ArrayValue(a)) => a
            .values
            .iter()
            .map(|v| match &v.value {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => format!("{other:?}"),
    }
}

fn map(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv)))
        .collect()
}

fn keys(attributes: &[KeyValue]) -> Vec<&str> {
    attributes.iter().map(|kv| kv.key.as_str()).collect()
}

fn write(root: &Path, path: &str, content: &str) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

/// A Linux-like root: host name `box`, a hosts file, machine id, os-release, kernel fields,
/// one CPU, one interface `eth0` (up) plus `lo`, and their addresses.
fn linux_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "/proc/sys/kernel/hostname", "box\n");
    write(root, "/proc/sys/kernel/ostype", "Linux\n");
    write(root, "/proc/sys/kernel/osrelease", "6.1.0-test\n");
    write(root, "/proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC\n");
    write(
        root,
        "/etc/hosts",
        "127.0.0.1 localhost\n# a comment\n10.0.0.5 box.example.com box # the box\n",
    );
    write(
        root,
        "/etc/machine-id",
        "0123456789abcdef0123456789abcdef\n",
    );
    write(
        root,
        "/etc/os-release",
        "PRETTY_NAME=\"Fixture Linux 7 (test)\"\nNAME=\"Fixture Linux\"\nVERSION_ID=\"7\"\nBUILD_ID=rolling\n",
    );
    write(
        root,
        "/proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineTest\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Test CPU @ 2.00GHz\nstepping\t: 7\ncache size\t: 1024 KB\n\nprocessor\t: 1\nvendor_id\t: Other\n",
    );
    write(
        root,
        "/proc/net/fib_trie",
        "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.0.0.5\n        /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 10.0.0.0\n        /24 link UNICAST\nLocal:\n     |-- 10.0.0.5\n        /32 host LOCAL\n",
    );
    write(
        root,
        "/proc/net/if_inet6",
        "fe800000000000000000000000000001 02 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n",
    );
    write(root, "/sys/class/net/eth0/flags", "0x1003\n");
    write(root, "/sys/class/net/eth0/address", "02:42:ac:11:00:02\n");
    write(root, "/sys/class/net/lo/flags", "0x9\n");
    write(root, "/sys/class/net/lo/address", "00:00:00:00:00:00\n");
    write(root, "/sys/class/net/down0/flags", "0x1002\n");
    write(root, "/sys/class/net/down0/address", "02:00:00:00:00:09\n");
    dir
}

fn system_detector(yaml: &str) -> SystemDetector {
    let config = config(yaml).unwrap();
    SystemDetector::new(
        config.system.sources(),
        enabled_attributes(
            "system::resource_attributes",
            &system::ATTRIBUTES,
            &config.system.resource_attributes,
        )
        .unwrap(),
    )
}

const ALL_SYSTEM: &str = "detectors: [system]\nsystem:\n  hostname_sources: [os]\n  resource_attributes:\n    host.arch: {enabled: true}\n    host.cpu.cache.l2.size: {enabled: true}\n    host.cpu.family: {enabled: true}\n    host.cpu.model.id: {enabled: true}\n    host.cpu.model.name: {enabled: true}\n    host.cpu.stepping: {enabled: true}\n    host.cpu.vendor.id: {enabled: true}\n    host.id: {enabled: true}\n    host.ip: {enabled: true}\n    host.mac: {enabled: true}\n    os.build.id: {enabled: true}\n    os.description: {enabled: true}\n    os.name: {enabled: true}\n    os.version: {enabled: true}\n";

async fn run(yaml: &str, environment: Environment) -> detectors::Detection {
    let config = config(yaml).unwrap();
    Session::new(&config)
        .unwrap()
        .run(&Arc::new(environment))
        .await
}

// ---------------------------------------------------------------- configuration

#[test]
fn defaults_are_contribs() {
    let config = config("").unwrap();
    assert_eq!(config.detectors, vec!["env".to_owned()]);
    assert!(config.override_existing);
    assert_eq!(config.timeout, Duration::from_secs(5));
    assert_eq!(config.refresh_interval, Duration::ZERO);
    assert!(!config.fail_on_missing_metadata);
    assert!(config.retry.enabled);
    assert_eq!(config.retry.initial_interval, Duration::from_secs(1));
    assert_eq!(config.retry.max_interval, Duration::from_secs(30));
    assert_eq!(
        config.system.sources(),
        vec![HostnameSource::Dns, HostnameSource::Os]
    );
    let defaults = enabled_attributes("system", &system::ATTRIBUTES, &BTreeMap::new()).unwrap();
    assert_eq!(
        defaults.into_iter().collect::<Vec<_>>(),
        vec!["host.name", "os.type"]
    );
}

#[test]
fn unsupported_and_unknown_detectors_are_refused_with_the_supported_list() {
    let error = config("detectors: [env, ec2]").unwrap_err().to_string();
    assert!(error.contains("detectors[1]"), "{error}");
    assert!(error.contains("does not implement"), "{error}");
    assert!(error.contains("env, system, docker"), "{error}");
    let error = config("detectors: [nonsense]").unwrap_err().to_string();
    assert!(error.contains("not a known detector"), "{error}");
    assert!(config("detectors: []").is_err());
    assert!(config("detectors: [' system ', docker]").is_ok());
}

#[test]
fn unknown_keys_attributes_and_sources_are_refused() {
    let error = config("system:\n  resource_attributes:\n    host.interface: {enabled: true}")
        .unwrap_err()
        .to_string();
    assert!(error.contains("host.interface"), "{error}");
    assert!(error.contains("host.name"), "lists the supported: {error}");
    assert!(config("docker:\n  resource_attributes:\n    os.type: {enabled: false}").is_ok());
    assert!(config("docker:\n  resource_attributes:\n    host.id: {enabled: true}").is_err());
    assert!(config("system:\n  hostname_sources: [dns, carrier_pigeon]").is_err());
    assert!(config("attributes: [host.name]").is_err());
    assert!(config("endpoint: http://x").is_err());
}

#[test]
fn retry_needs_a_bound() {
    let error = config("timeout: 0s").unwrap_err().to_string();
    assert!(error.contains("retry"), "{error}");
    assert!(config("timeout: 0s\nretry:\n  enabled: false").is_ok());
    assert!(config("timeout: 0s\nretry:\n  max_elapsed_time: 1m").is_ok());
    assert!(config("retry:\n  multiplier: 0.5").is_err());
    assert!(config("retry:\n  randomization_factor: 2").is_err());
}

#[test]
fn factory_answers_to_both_names_with_contribs_defaults() {
    let mut registry = Registry::default();
    registry
        .register_processor(resourcedetection_factory())
        .unwrap();
    let factory = registry.processor("resourcedetection").unwrap();
    assert!(registry.processor("resource_detection").is_some());
    let defaults = factory.default_config();
    assert_eq!(defaults["detectors"][0].as_str(), Some("env"));
    assert_eq!(defaults["override"].as_bool(), Some(true));
    assert_eq!(defaults["timeout"].as_str(), Some("5s"));
    assert!(
        factory
            .supported_signals()
            .contains(otlp_pipeline::Signal::Profiles)
    );
}

// ---------------------------------------------------------------- env

#[test]
fn env_values_are_percent_decoded() {
    let attributes = parse("a=b%20c, euro = %E2%82%AC ,plus=1+1,empty=,url=http%3A%2F%2Fx%2Cy");
    assert_eq!(
        map(&attributes),
        BTreeMap::from([
            ("a".to_owned(), "b c".to_owned()),
            ("euro".to_owned(), "€".to_owned()),
            ("plus".to_owned(), "1+1".to_owned()),
            ("empty".to_owned(), String::new()),
            ("url".to_owned(), "http://x,y".to_owned()),
        ])
    );
    assert_eq!(
        percent_decode("%zz"),
        Err("'%' not followed by two hexadecimal digits")
    );
    assert!(percent_decode("%C3").is_err(), "a lone UTF-8 lead byte");
    assert!(percent_decode("%4").is_err());
}

#[test]
fn env_bad_pairs_are_skipped_and_the_last_duplicate_wins() {
    let attributes = parse("noequals,=v,bad=%zz,k=1,,k=2,ok=yes,");
    assert_eq!(keys(&attributes), vec!["k", "ok"]);
    assert_eq!(text(&attributes[0]), "2");
}

#[tokio::test]
async fn env_reads_the_variable_then_the_deprecated_one() {
    let dir = tempfile::tempdir().unwrap();
    let unset = run("detectors: [env]", Environment::fixture(dir.path())).await;
    assert!(unset.attributes.is_empty() && unset.failures.is_empty());
    let deprecated = Environment::fixture(dir.path())
        .with_var("OTEL_RESOURCE_ATTRIBUTES", "  ")
        .with_var("OTEL_RESOURCE", "old=1");
    let found = run("detectors: [env]", deprecated).await;
    assert_eq!(keys(&found.attributes), vec!["old"]);
    let both = Environment::fixture(dir.path())
        .with_var("OTEL_RESOURCE_ATTRIBUTES", "new=1")
        .with_var("OTEL_RESOURCE", "old=1");
    assert_eq!(
        keys(&run("detectors: [env]", both).await.attributes),
        vec!["new"]
    );
}

// ---------------------------------------------------------------- merge rules

fn resource(pairs: &[(&str, &str)]) -> Option<Resource> {
    Some(Resource {
        attributes: pairs.iter().map(|(k, v)| string(k, *v)).collect(),
        ..Resource::default()
    })
}

#[test]
fn override_true_replaces_and_false_keeps() {
    let detected = vec![string("host.name", "detected"), string("os.type", "linux")];
    let mut replaced = resource(&[("host.name", "sent"), ("service.name", "svc")]);
    merge_resource(&mut replaced, &detected, true);
    let attributes = &replaced.unwrap().attributes;
    assert_eq!(
        keys(attributes),
        vec!["host.name", "service.name", "os.type"]
    );
    assert_eq!(map(attributes)["host.name"], "detected");

    let mut kept = resource(&[("host.name", "sent")]);
    merge_resource(&mut kept, &detected, false);
    let attributes = &kept.unwrap().attributes;
    assert_eq!(map(attributes)["host.name"], "sent");
    assert_eq!(map(attributes)["os.type"], "linux");
}

#[test]
fn a_missing_resource_is_created_and_nothing_detected_changes_nothing() {
    let mut missing = None;
    merge_resource(&mut missing, &[string("a", "1")], false);
    assert_eq!(keys(&missing.unwrap().attributes), vec!["a"]);
    let mut untouched = None;
    merge_resource(&mut untouched, &[], true);
    assert!(untouched.is_none());
}

#[test]
fn the_first_detector_wins() {
    let mut merged = vec![string("host.name", "first")];
    merge_first_wins(
        &mut merged,
        vec![string("host.name", "second"), string("os.type", "linux")],
    );
    assert_eq!(map(&merged)["host.name"], "first");
    assert_eq!(merged.len(), 2);
}

#[tokio::test]
async fn detector_order_decides_between_env_and_system() {
    let dir = linux_fixture();
    let environment = || {
        Environment::fixture(dir.path()).with_var("OTEL_RESOURCE_ATTRIBUTES", "host.name=from-env")
    };
    let env_first = run("detectors: [env, system]", environment()).await;
    assert_eq!(map(&env_first.attributes)["host.name"], "from-env");
    let system_first = run("detectors: [system, env]", environment()).await;
    assert_eq!(
        map(&system_first.attributes)["host.name"],
        "box.example.com"
    );
}

#[test]
fn profiles_resources_get_the_attributes() {
    let mut request = ExportProfilesServiceRequest {
        resource_profiles: vec![ResourceProfiles::default(), ResourceProfiles::default()],
        ..ExportProfilesServiceRequest::default()
    };
    merge_profiles(&mut request, &[string("host.name", "h")], true);
    for rp in &request.resource_profiles {
        assert_eq!(
            keys(&rp.resource.as_ref().unwrap().attributes),
            vec!["host.name"]
        );
    }
}

// ---------------------------------------------------------------- system (fixtures)

#[test]
fn system_defaults_give_host_name_and_os_type_only() {
    let dir = linux_fixture();
    let found = system_detector("detectors: [system]")
        .detect(&Environment::fixture(dir.path()))
        .unwrap();
    assert_eq!(
        map(&found),
        BTreeMap::from([
            ("host.name".to_owned(), "box.example.com".to_owned()),
            ("os.type".to_owned(), "linux".to_owned()),
        ])
    );
}

#[test]
fn system_all_attributes_from_fixture_files() {
    let dir = linux_fixture();
    let environment = Environment::fixture(dir.path()).with_platform("linux", "arm64", "aarch64");
    let found = map(&system_detector(ALL_SYSTEM).detect(&environment).unwrap());
    let expected = [
        ("host.name", "box"),
        ("os.type", "linux"),
        ("host.id", "0123456789abcdef0123456789abcdef"),
        ("host.arch", "arm64"),
        (
            "os.description",
            "Fixture Linux 7 (test) (Linux box 6.1.0-test #1 SMP PREEMPT_DYNAMIC aarch64)",
        ),
        ("os.name", "Fixture Linux"),
        ("os.version", "7"),
        ("os.build.id", "rolling"),
        ("host.ip", "10.0.0.5,fe80::1"),
        ("host.mac", "02-42-AC-11-00-02"),
        ("host.cpu.vendor.id", "GenuineTest"),
        ("host.cpu.family", "6"),
        ("host.cpu.model.id", "85"),
        ("host.cpu.model.name", "Test CPU @ 2.00GHz"),
        ("host.cpu.stepping", "7"),
        ("host.cpu.cache.l2.size", "1024"),
    ];
    for (key, value) in expected {
        assert_eq!(found.get(key).map(String::as_str), Some(value), "{key}");
    }
    assert_eq!(found.len(), expected.len());
}

#[test]
fn system_toggles_and_fallbacks() {
    let dir = linux_fixture();
    std::fs::remove_file(dir.path().join("etc/machine-id")).unwrap();
    write(dir.path(), "/var/lib/dbus/machine-id", "dbus-id\n");
    let yaml = "system:\n  resource_attributes:\n    host.name: {enabled: false}\n    host.id: {enabled: true}\n";
    let found = system_detector(yaml)
        .detect(&Environment::fixture(dir.path()))
        .unwrap();
    assert_eq!(keys(&found), vec!["os.type", "host.id"]);
    assert_eq!(text(&found[1]), "dbus-id");

    std::fs::remove_file(dir.path().join("var/lib/dbus/machine-id")).unwrap();
    let found = system_detector(yaml)
        .detect(&Environment::fixture(dir.path()))
        .unwrap();
    assert_eq!(
        keys(&found),
        vec!["os.type"],
        "no machine id: left out, no failure"
    );
}

#[test]
fn hostname_sources_in_order_with_fallbacks() {
    let dir = linux_fixture();
    let environment = Environment::fixture(dir.path());
    let host_name = |yaml: &str| {
        system_detector(yaml)
            .detect(&environment)
            .map(|found| map(&found)["host.name"].clone())
    };
    assert_eq!(
        host_name("system:\n  hostname_sources: [dns, os]").unwrap(),
        "box.example.com"
    );
    assert_eq!(
        host_name("system:\n  hostname_sources: [os, dns]").unwrap(),
        "box"
    );
    assert_eq!(
        hostname(HostnameSource::Cname, &environment).unwrap(),
        "box.example.com"
    );
    // A fixture has no resolver: `lookup` finds nothing and the next source is used.
    assert!(hostname(HostnameSource::Lookup, &environment).is_err());
    assert_eq!(
        host_name("system:\n  hostname_sources: [lookup, os]").unwrap(),
        "box"
    );

    write(dir.path(), "/etc/hosts", "127.0.0.1 localhost\n");
    assert_eq!(
        host_name("system:\n  hostname_sources: [dns, os]").unwrap(),
        "box"
    );
    let error = host_name("system:\n  hostname_sources: [dns, cname]").unwrap_err();
    assert!(error.contains("all hostname sources failed"), "{error}");

    std::fs::remove_file(dir.path().join("proc/sys/kernel/hostname")).unwrap();
    write(dir.path(), "/etc/hostname", "from-etc\n");
    assert_eq!(
        host_name("system:\n  hostname_sources: [os]").unwrap(),
        "from-etc"
    );
}

// ---------------------------------------------------------------- system (this machine)

fn command(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(target_os = "linux")]
#[test]
fn system_on_this_machine_matches_the_system_tools() {
    let found = map(&system_detector(ALL_SYSTEM)
        .detect(&Environment::host())
        .unwrap());
    if let Some(name) = command("hostname", &[]) {
        assert_eq!(found["host.name"], name);
    }
    assert_eq!(found["os.type"], "linux");
    let machine_id = std::fs::read_to_string("/etc/machine-id")
        .or_else(|_| std::fs::read_to_string("/var/lib/dbus/machine-id"))
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    assert_eq!(found.get("host.id"), machine_id.as_ref());
    if let Some(machine) = command("uname", &["-m"]) {
        let expected = match machine.as_str() {
            "x86_64" => "amd64",
            "aarch64" | "arm64" => "arm64",
            other => other,
        };
        assert_eq!(found["host.arch"], expected);
    }
    if let Some(uname) = command("uname", &["-snrvm"]) {
        let pretty = std::fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            });
        let expected = match pretty {
            Some(pretty) => format!("{pretty} ({uname})"),
            None => uname,
        };
        assert_eq!(found["os.description"], expected);
    }
    let ips = found["host.ip"].clone();
    assert!(
        !ips.split(',').any(|ip| ip == "127.0.0.1" || ip == "::1"),
        "{ips}"
    );
    if let Some(listed) = command("hostname", &["-I"]) {
        for ipv4 in listed.split_whitespace().filter(|ip| !ip.contains(':')) {
            assert!(ips.split(',').any(|ip| ip == ipv4), "{ipv4} not in {ips}");
        }
    }
}

// ---------------------------------------------------------------- docker

#[tokio::test]
async fn docker_without_a_socket_is_skipped_unless_metadata_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let skipped = run("detectors: [docker]", Environment::fixture(dir.path())).await;
    assert!(skipped.attributes.is_empty());
    assert!(skipped.failures.is_empty(), "{:?}", skipped.failures);

    let required = run(
        "detectors: [docker]\nfail_on_missing_metadata: true\nretry:\n  enabled: false",
        Environment::fixture(dir.path()),
    )
    .await;
    assert_eq!(required.failures.len(), 1);
    assert!(
        required.failures[0].starts_with("docker: "),
        "{:?}",
        required.failures
    );
}

/// An in-test Docker daemon: a Unix socket answering each connection with `response` after
/// reading the request, which it hands back. It is a legitimate peer for the protocol's
/// shape (HTTP/1.1 over a Unix socket), not a copy of Docker.
#[cfg(unix)]
fn fake_daemon(socket: &Path, response: String) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::UnixListener::bind(socket).unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0_u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&request).into_owned());
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    rx
}

const INFO_JSON: &str =
    r#"{"ID":"abc","Name":"docker-host-7","OSType":"linux","Architecture":"x86_64","NCPU":4}"#;

#[cfg(unix)]
#[tokio::test]
async fn docker_reads_name_and_os_type_from_info() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    // Chunked, as the daemon answers bodies of unknown length.
    let (first, second) = INFO_JSON.split_at(20);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    let mut requests = fake_daemon(&socket, response);
    let environment = Environment::fixture(dir.path()).with_docker_socket(&socket);
    let found = run("detectors: [docker]", environment.clone()).await;
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    assert_eq!(
        map(&found.attributes),
        BTreeMap::from([
            ("host.name".to_owned(), "docker-host-7".to_owned()),
            ("os.type".to_owned(), "linux".to_owned()),
        ])
    );
    let request = requests.recv().await.unwrap();
    assert!(request.starts_with("GET /info HTTP/1.1\r\n"), "{request}");

    let yaml =
        "detectors: [docker]\ndocker:\n  resource_attributes:\n    host.name: {enabled: false}";
    assert_eq!(
        keys(&run(yaml, environment).await.attributes),
        vec!["os.type"]
    );
}

#[cfg(unix)]
#[tokio::test]
async fn docker_errors_are_skipped_or_fail_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let _requests = fake_daemon(
        &socket,
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_owned(),
    );
    let environment = Environment::fixture(dir.path()).with_docker_socket(&socket);
    let skipped = run("detectors: [docker]", environment.clone()).await;
    assert!(skipped.attributes.is_empty() && skipped.failures.is_empty());
    let failed = run(
        "detectors: [docker]\nfail_on_missing_metadata: true\nretry:\n  enabled: false",
        environment,
    )
    .await;
    assert!(
        failed.failures[0].contains("status 500"),
        "{:?}",
        failed.failures
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_daemon_that_never_answers_is_bounded_by_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let _hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream); // accepted, never answered
        }
    });
    let environment = Environment::fixture(dir.path()).with_docker_socket(&socket);
    let started = std::time::Instant::now();
    let skipped = run("detectors: [docker]\ntimeout: 200ms", environment.clone()).await;
    assert!(skipped.failures.is_empty() && skipped.attributes.is_empty());
    let failed = run(
        "detectors: [docker]\ntimeout: 200ms\nfail_on_missing_metadata: true",
        environment,
    )
    .await;
    assert!(
        failed.failures[0].contains("no answer"),
        "{:?}",
        failed.failures
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn http_responses_are_checked() {
    use super::detectors::http::parse_response;
    let body = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}trailing").unwrap();
    assert_eq!(body, b"{}");
    assert!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
    assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").is_err());
    assert!(
        parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").is_err()
    );
    assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    let huge_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab";
    assert!(
        parse_response(huge_chunk).is_err(),
        "no overflow on a huge chunk size"
    );
}

// ---------------------------------------------------------------- end to end

fn resources_with(environment: Environment) -> Resources {
    Resources::collector().with(Arc::new(environment))
}

fn create(
    type_name: &str,
    yaml: &str,
    pipeline: &str,
    probe: Arc<Probe>,
    resources: &Resources,
) -> Result<Box<dyn Processor>, otlp_pipeline::ConfigError> {
    let mut registry = Registry::default();
    crate::register(&mut registry).unwrap();
    let factory = registry.processor(type_name).unwrap();
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
    factory.validate(&value)?;
    factory.create(
        processor_ctx(
            &format!("{type_name}/x"),
            pipeline,
            probe,
            resources.clone(),
        ),
        value,
    )
}

fn resource_of(data: &Telemetry) -> BTreeMap<String, String> {
    let attributes = if let Some(t) = data.traces() {
        &t.resource_spans[0].resource.as_ref().unwrap().attributes
    } else if let Some(m) = data.metrics() {
        &m.resource_metrics[0].resource.as_ref().unwrap().attributes
    } else {
        &data.logs().unwrap().resource_logs[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes
    };
    map(attributes)
}

#[tokio::test]
async fn end_to_end_every_signal_gets_the_detected_attributes() {
    let dir = linux_fixture();
    let environment = Environment::fixture(dir.path()).with_var(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.name=from-env,deployment.environment=prod",
    );
    let resources = resources_with(environment);
    let yaml = "detectors: [env, system]\nsystem:\n  hostname_sources: [os]";
    for (pipeline, data) in [
        ("traces", Telemetry::new(traces(2))),
        ("metrics", Telemetry::new(metrics(2))),
        ("logs", Telemetry::new(logs(2))),
    ] {
        let probe = Probe::new();
        let processor = create(
            "resource_detection",
            yaml,
            pipeline,
            probe.clone(),
            &resources,
        )
        .unwrap();
        processor.start(&Host::empty()).await.unwrap();
        processor.consume(data).await.unwrap();
        let attributes = resource_of(&probe.received.lock().unwrap()[0]);
        assert_eq!(
            attributes["service.name"], "from-env",
            "{pipeline}: override is on"
        );
        assert_eq!(attributes["deployment.environment"], "prod");
        assert_eq!(attributes["host.name"], "box");
        assert_eq!(attributes["os.type"], "linux");
        processor
            .shutdown(tokio::time::Instant::now())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn end_to_end_override_false_keeps_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let environment = Environment::fixture(dir.path())
        .with_var("OTEL_RESOURCE_ATTRIBUTES", "service.name=env,k=v");
    let resources = resources_with(environment);
    let probe = Probe::new();
    let processor = create(
        "resourcedetection",
        "detectors: [env]\noverride: false",
        "traces",
        probe.clone(),
        &resources,
    )
    .unwrap();
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(Telemetry::new(traces(1))).await.unwrap();
    let attributes = resource_of(&probe.received.lock().unwrap()[0]);
    assert_eq!(attributes["service.name"], "checkout");
    assert_eq!(attributes["k"], "v");
}

#[tokio::test]
async fn a_failing_detector_fails_start_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap(); // no host name anywhere: `system` fails
    let environment = Environment::fixture(dir.path()).with_var("OTEL_RESOURCE_ATTRIBUTES", "k=v");
    let resources = resources_with(environment);
    let probe = Probe::new();
    let processor = create(
        "resourcedetection",
        "detectors: [env, system]\ntimeout: 300ms\nretry:\n  initial_interval: 50ms",
        "logs",
        probe.clone(),
        &resources,
    )
    .unwrap();
    let error = processor
        .start(&Host::empty())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("system: all hostname sources failed"),
        "{error}"
    );
    processor.consume(Telemetry::new(logs(1))).await.unwrap();
    let attributes = resource_of(&probe.received.lock().unwrap()[0]);
    assert_eq!(attributes["k"], "v");
    assert!(!attributes.contains_key("host.name"));
}

#[tokio::test]
async fn before_start_and_with_nothing_detected_data_passes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let resources = resources_with(Environment::fixture(dir.path()));
    let probe = Probe::new();
    let processor = create(
        "resourcedetection",
        "detectors: [env]",
        "traces",
        probe.clone(),
        &resources,
    )
    .unwrap();
    let sent = Telemetry::new(traces(1));
    processor.consume(sent.clone()).await.unwrap();
    processor.start(&Host::empty()).await.unwrap();
    processor.consume(sent.clone()).await.unwrap();
    let received = probe.received.lock().unwrap();
    assert!(
        received.iter().all(|d| Telemetry::same_payload(d, &sent)),
        "no copy made"
    );
}

#[tokio::test]
async fn refresh_interval_picks_up_changes() {
    let dir = linux_fixture();
    let resources = resources_with(Environment::fixture(dir.path()));
    let probe = Probe::new();
    let processor = create(
        "resourcedetection",
        "detectors: [system]\nrefresh_interval: 50ms\ntimeout: 100ms\nretry:\n  enabled: false\nsystem:\n  hostname_sources: [os]",
        "traces",
        probe.clone(),
        &resources,
    )
    .unwrap();
    processor.start(&Host::empty()).await.unwrap();
    write(dir.path(), "/proc/sys/kernel/hostname", "renamed\n");
    let mut seen = String::new();
    for _ in 0..200 {
        probe.received.lock().unwrap().clear();
        processor.consume(Telemetry::new(traces(1))).await.unwrap();
        seen = resource_of(&probe.received.lock().unwrap()[0])["host.name"].clone();
        if seen == "renamed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, "renamed");
    // A failed refresh keeps the last good attributes.
    std::fs::remove_file(dir.path().join("proc/sys/kernel/hostname")).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    probe.received.lock().unwrap().clear();
    processor.consume(Telemetry::new(traces(1))).await.unwrap();
    assert_eq!(
        resource_of(&probe.received.lock().unwrap()[0])["host.name"],
        "renamed"
    );
    processor
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}
