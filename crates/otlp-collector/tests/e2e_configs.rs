//! Real otelcol configuration files, on the built binary:
//!
//! - every file of `crates/otlp-pipeline/tests/configs/` (the pipeline's own fixtures, written
//!   as Go Collector users write them) and of `tests/configs/` here passes `validate` as it
//!   is, then actually runs: merged with a generated `--config` that moves every endpoint to a
//!   free port and every exporter to a test sink, it starts, receives one request per pipeline,
//!   serves its self-metrics and health check, exits 0 on SIGTERM — and what went through a
//!   pipeline of pass-through processors reached the sink;
//! - every real otelcol config of `../shared/otelcol-configs/` (copied from public
//!   repositories; DEVELOPERS.md) that validates with its `check.sh`'s placeholder values runs
//!   the same way (TLS receivers on a throwaway certificate, load-balancing backends moved to
//!   the sink), and at least as many validate as did when the floor was last raised; the test
//!   says SKIPPED when that folder is not next to the workspace (`$OTLP_OTELCOL_CONFIGS` names
//!   another);
//! - every file of `crates/otlp-pipeline/tests/configs/invalid/` fails `validate` and startup
//!   with exit status 1, each error naming the file, the component and the problem, and the
//!   collector never binds its receiver's port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use otlp_transport::client::{OtlpExporter, Protocol, RetryConfig, TlsConfig};
use serde_yaml_ng::{Mapping, Value};
use support::*;

fn pipeline_configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../otlp-pipeline/tests/configs")
}

fn own_configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

/// The configurations to run: each file alone, except the merge pair, which runs as the two
/// `--config` it was written for.
fn cases() -> Vec<Vec<PathBuf>> {
    let mut cases = Vec::new();
    let mut pair = Vec::new();
    for file in yaml_files(&pipeline_configs())
        .into_iter()
        .chain(yaml_files(&own_configs()))
    {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("merge-") {
            pair.push(file);
        } else {
            cases.push(vec![file]);
        }
    }
    pair.sort(); // merge-base.yaml, then merge-override.yaml
    if !pair.is_empty() {
        cases.push(pair);
    }
    cases
}

/// Variables the fixtures reference (`env.yaml`).
fn fixture_env() -> Vec<(String, String)> {
    [
        ("OTLP_HOST", "127.0.0.1".to_owned()),
        ("OTLP_GRPC_PORT", free_port().to_string()),
        ("OTLP_HTTP_PORT", free_port().to_string()),
        ("BATCH_SIZE", "512".into()),
        ("BACKEND_ENDPOINT", "127.0.0.1:4317".into()),
        ("API_KEY", "test-key".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(base), Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Mapping(_), Value::Null) => {}
        (base, overlay) => *base = overlay,
    }
}

fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_mapping()?.get(key)
}

fn entries(value: Option<&Value>) -> Vec<(String, Value)> {
    value
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn ids_of(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn type_of(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Mapping(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::String(k.into()), v))
            .collect::<Mapping>(),
    )
}

fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// Where a pipeline is fed: a receiver protocol's address, and the CA to trust when the
/// config serves it with TLS (the test's own throwaway certificate in place of the config's).
#[derive(Clone)]
struct Target {
    protocol: Protocol,
    addr: SocketAddr,
    ca: Option<PathBuf>,
}

/// A throwaway CA and a certificate it signed for `localhost` and `127.0.0.1`, in `dir`
/// (`openssl`, as the Kafka peer's launcher uses): `(CA certificate, certificate, key)`.
fn throwaway_certificate(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca = dir.join("ca.crt");
    let cert = dir.join("receiver.crt");
    let key = dir.join("receiver.key");
    if cert.exists() {
        return (ca, cert, key);
    }
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("running openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "receiver.key",
        "-out",
        "receiver.csr",
    ]);
    std::fs::write(
        dir.join("receiver.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "receiver.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "receiver.ext",
        "-out",
        "receiver.crt",
    ]);
    (ca, cert, key)
}

/// One pipeline as the test drives it.
struct PipelinePlan {
    name: String,
    signal: String,
    /// The receiver address to send to (the first `otlp` receiver of the pipeline).
    target: Option<Target>,
    /// `true` when what is sent must reach the sink (a network exporter behind pass-through
    /// processors only).
    expect_delivery: bool,
}

/// The `--config` laid over a fixture so it can run here, and what to send.
struct Plan {
    overrides: String,
    pipelines: Vec<PipelinePlan>,
    metrics: Option<SocketAddr>,
    /// Each `health_check`'s address and its `path` (default `/`).
    health: Vec<(SocketAddr, String)>,
    /// Every receiver endpoint.
    receivers: Vec<SocketAddr>,
    /// A `kafka` exporter with no broker for it (`OTLP_KAFKA_BOOTSTRAP` unset): its queue
    /// would retry until the shutdown deadline, so the config is validated, not run.
    needs_kafka: bool,
}

fn plan(files: &[PathBuf], sink: &RunningSink, scratch: &Path) -> Plan {
    let mut merged = Value::Mapping(Mapping::new());
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        merge(&mut merged, serde_yaml_ng::from_str(&text).unwrap());
    }
    let mut receivers = Mapping::new();
    let mut endpoints: BTreeMap<String, Vec<Target>> = BTreeMap::new();
    for (id, config) in entries(get(&merged, "receivers")) {
        if type_of(&id) != "otlp" {
            continue;
        }
        let mut protocols = Mapping::new();
        for (protocol, settings) in entries(get(&config, "protocols")) {
            let addr = free_addr();
            let kind = if protocol == "grpc" {
                Protocol::Grpc
            } else {
                Protocol::HttpProtobuf
            };
            let mut overrides = vec![("endpoint", s(addr.to_string()))];
            let mut ca = None;
            let tls = get(&settings, "tls").filter(|t| t.is_mapping());
            if let Some(tls) = tls {
                // The config's certificate paths are the deployment's: serve ours instead.
                let (ca_cert, cert, key) = throwaway_certificate(scratch);
                overrides.push((
                    "tls",
                    map(vec![
                        ("cert_file", s(cert.display().to_string())),
                        ("key_file", s(key.display().to_string())),
                    ]),
                ));
                ca = Some(ca_cert);
                if get(tls, "client_ca_file").is_some() {
                    // Mutual TLS: the test has no client certificate the config would take.
                    protocols.insert(s(protocol), map(overrides));
                    continue;
                }
            }
            endpoints.entry(id.clone()).or_default().push(Target {
                protocol: kind,
                addr,
                ca,
            });
            protocols.insert(s(protocol), map(overrides));
        }
        receivers.insert(s(id), map(vec![("protocols", Value::Mapping(protocols))]));
    }
    let mut exporters = Mapping::new();
    let mut network_exporters = BTreeSet::new();
    let mut needs_kafka = false;
    for (id, _) in entries(get(&merged, "exporters")) {
        let config = match type_of(&id) {
            "otlp" | "otlp_grpc" => map(vec![
                ("endpoint", s(sink.grpc.to_string())),
                ("tls", map(vec![("insecure", Value::Bool(true))])),
            ]),
            "otlphttp" | "otlp_http" => map(vec![("endpoint", s(format!("http://{}", sink.http)))]),
            // The run's Kafka broker (`cargo xtask test` starts one); the config's is the
            // deployment's.
            "kafka" => match std::env::var("OTLP_KAFKA_BOOTSTRAP") {
                Ok(bootstrap) if !bootstrap.is_empty() => {
                    exporters.insert(
                        s(id.clone()),
                        map(vec![("brokers", Value::Sequence(vec![s(bootstrap)]))]),
                    );
                    continue;
                }
                _ => {
                    needs_kafka = true;
                    continue;
                }
            },
            // The sink's Zipkin endpoint (otlp-rs's own zipkin receiver in front of it).
            "zipkin" => map(vec![(
                "endpoint",
                s(format!("http://{}/api/v2/spans", sink.zipkin)),
            )]),
            // Every backend is the sink (the config's hostnames are the deployment's).
            "loadbalancing" | "load_balancing" => map(vec![
                (
                    "protocol",
                    map(vec![(
                        "otlp",
                        map(vec![("tls", map(vec![("insecure", Value::Bool(true))]))]),
                    )]),
                ),
                (
                    "resolver",
                    map(vec![(
                        "static",
                        map(vec![(
                            "hostnames",
                            Value::Sequence(vec![s(sink.grpc.to_string())]),
                        )]),
                    )]),
                ),
            ]),
            // A pull exporter: its scrape endpoint moves to a free port.
            "prometheus" => {
                exporters.insert(
                    s(id.clone()),
                    map(vec![("endpoint", s(free_addr().to_string()))]),
                );
                continue;
            }
            "file" => map(vec![(
                "path",
                s(scratch
                    .join(format!("{}.json", id.replace('/', "-")))
                    .display()
                    .to_string()),
            )]),
            _ => continue,
        };
        network_exporters.insert(id.clone());
        if type_of(&id) == "file" {
            network_exporters.remove(&id);
        }
        exporters.insert(s(id), config);
    }
    let mut extensions = Mapping::new();
    let mut health = Vec::new();
    for (id, settings) in entries(get(&merged, "extensions")) {
        let config = match type_of(&id) {
            "health_check" | "pprof" | "zpages" => {
                let addr = free_addr();
                if type_of(&id) == "health_check" {
                    let path = get(&settings, "path")
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_owned();
                    health.push((addr, path));
                }
                map(vec![("endpoint", s(addr.to_string()))])
            }
            "file_storage" => map(vec![
                (
                    "directory",
                    s(scratch.join(id.replace('/', "-")).display().to_string()),
                ),
                ("create_directory", Value::Bool(true)),
            ]),
            _ => continue,
        };
        extensions.insert(s(id), config);
    }
    let service = get(&merged, "service").cloned().unwrap_or(Value::Null);
    let metrics_level = get(&service, "telemetry")
        .and_then(|t| get(t, "metrics"))
        .and_then(|m| get(m, "level"))
        .and_then(Value::as_str)
        .unwrap_or("normal")
        .to_owned();
    let metrics = (metrics_level != "none").then(free_addr);
    let mut overrides = vec![
        ("receivers", Value::Mapping(receivers)),
        ("exporters", Value::Mapping(exporters)),
        ("extensions", Value::Mapping(extensions)),
    ];
    if let Some(addr) = metrics {
        overrides.push((
            "service",
            map(vec![(
                "telemetry",
                map(vec![(
                    "metrics",
                    map(vec![("address", s(addr.to_string()))]),
                )]),
            )]),
        ));
    }
    let overrides = serde_yaml_ng::to_string(&map(overrides)).unwrap();

    const PASS_THROUGH: [&str; 5] = [
        "batch",
        "memory_limiter",
        "attributes",
        "resource",
        "filter",
    ];
    let pipelines = entries(get(&service, "pipelines"))
        .into_iter()
        .map(|(name, pipeline)| {
            let signal = name.split('/').next().unwrap().to_owned();
            let target = ids_of(get(&pipeline, "receivers"))
                .iter()
                .find_map(|id| endpoints.get(id))
                .and_then(|addrs| addrs.first().cloned());
            let expect_delivery = ids_of(get(&pipeline, "exporters"))
                .iter()
                .any(|e| network_exporters.contains(e))
                && ids_of(get(&pipeline, "processors"))
                    .iter()
                    .all(|p| PASS_THROUGH.contains(&type_of(p)));
            PipelinePlan {
                name,
                signal,
                target,
                expect_delivery,
            }
        })
        .collect();
    let receivers = endpoints
        .values()
        .flatten()
        .map(|target| target.addr)
        .collect();
    Plan {
        overrides,
        pipelines,
        metrics,
        health,
        receivers,
        needs_kafka,
    }
}

/// `GET path` over HTTP/1.0; the status code and the body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn args_of<'a>(files: &'a [PathBuf], extra: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = Vec::new();
    for file in files {
        args.push("--config");
        args.push(file.to_str().unwrap());
    }
    args.extend_from_slice(extra);
    args
}

fn run_with_env(args: &[&str], env: &[(String, String)]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(COLLECTOR)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// otelcol components a build of otlp-collector may leave out (the `pprof` and `zpages`
/// features). When `components` does not list them, a fixture using them must fail validation
/// naming exactly them ("unknown extension type") and then runs without them; when it lists
/// them (the default build) they are kept. Any other unknown type fails the test.
const NOT_BUILT_IN: &[(&str, &str)] = &[("extensions", "pprof"), ("extensions", "zpages")];

/// The types `otlp-collector components` lists, by section.
fn registered() -> BTreeMap<String, BTreeSet<String>> {
    let (code, stdout, stderr) = run_collector(&["components"]);
    assert_eq!(code, Some(0), "{stderr}");
    stdout
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(section, types)| {
            (
                section.to_owned(),
                types.split(',').map(|t| t.trim().to_owned()).collect(),
            )
        })
        .collect()
}

/// The components of `files` whose type is in [`NOT_BUILT_IN`] and not registered: `(section, id)`.
fn unsupported(
    files: &[PathBuf],
    registered: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for file in files {
        let value: Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for (section, type_name) in NOT_BUILT_IN {
            if registered
                .get(*section)
                .is_some_and(|types| types.contains(*type_name))
            {
                continue;
            }
            for (id, _) in entries(get(&value, section)) {
                if type_of(&id) == *type_name
                    && !found.contains(&((*section).to_owned(), id.clone()))
                {
                    found.push(((*section).to_owned(), id));
                }
            }
        }
    }
    found
}

/// A copy of `file` in `dir` without the components `strip` (definitions and references).
fn stripped_copy(file: &Path, strip: &[(String, String)], dir: &Path) -> PathBuf {
    let mut value: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    for (section, id) in strip {
        if let Some(Value::Mapping(components)) = value.get_mut(section.as_str()) {
            components.remove(id.as_str());
        }
        let list = if section == "extensions" {
            value
                .get_mut("service")
                .and_then(|s| s.get_mut("extensions"))
        } else {
            None
        };
        if let Some(Value::Sequence(ids)) = list {
            ids.retain(|v| v.as_str() != Some(id.as_str()));
        }
    }
    write(
        dir,
        &file.file_name().unwrap().to_string_lossy(),
        &serde_yaml_ng::to_string(&value).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_otelcol_configs_validate_and_run() {
    let _timer = Timer::start("real_otelcol_configs_validate_and_run");
    let cases = cases();
    assert!(cases.len() >= 6, "the fixtures: {cases:?}");
    let env = fixture_env();
    let registered = registered();
    for original in &cases {
        validate_and_run(original, &env, &registered).await;
    }
}

/// The folder of real otelcol configs copied from public repositories (DEVELOPERS.md:
/// `../shared/otelcol-configs/` next to the workspace), or `$OTLP_OTELCOL_CONFIGS`.
fn shared_configs() -> Option<PathBuf> {
    let dir = match std::env::var_os("OTLP_OTELCOL_CONFIGS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/otelcol-configs"),
    };
    dir.is_dir().then_some(dir)
}

/// The placeholder the configs' own `check.sh` gives an environment variable a config
/// references without a default (the same rules, so that what validates there runs here).
fn placeholder(name: &str, scratch: &Path) -> String {
    let n = name.to_ascii_uppercase();
    if n.contains("PORT") {
        return if n.contains("HTTP") { "4318" } else { "4317" }.into();
    }
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| n.ends_with(s));
    if ends(&["HOST", "HOSTNAME", "_IP", "IP_ADDRESS"]) || n == "IP" {
        return "127.0.0.1".into();
    }
    if ends(&["ENDPOINT", "ADDR", "ADDRESS", "BROKER", "BROKERS"]) {
        return "127.0.0.1:4317".into();
    }
    if ends(&["URL", "URI"]) {
        return "http://127.0.0.1:4318".into();
    }
    if ends(&["DIR", "DIRECTORY", "PATH"]) {
        return scratch.display().to_string();
    }
    "x".into()
}

/// `${NAME}`, `${env:NAME}` (and with `:-default`) in `text`, not `$${...}`: each name, and
/// whether every reference to it has a default.
fn env_references(text: &str) -> BTreeMap<String, bool> {
    let mut names: BTreeMap<String, bool> = BTreeMap::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(found) = text[at..].find("${") {
        let start = at + found;
        at = start + 2;
        if start > 0 && bytes[start - 1] == b'$' {
            continue;
        }
        let rest = &text[at..];
        let rest = rest.strip_prefix("env:").unwrap_or(rest);
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            continue;
        }
        let defaulted = rest[len..].starts_with(":-");
        if !defaulted && !rest[len..].starts_with('}') {
            continue;
        }
        let entry = names.entry(rest[..len].to_owned()).or_insert(true);
        *entry &= defaulted;
    }
    names
}

/// The configs `check.sh` counts (`../shared/otelcol-configs/*.yaml`): every one that
/// validates with placeholder values also runs (free ports, test sinks, one request per
/// pipeline, SIGTERM, exit 0). At least [`SHARED_CONFIGS_VALIDATING`] must validate, so a
/// regression fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_otelcol_configs_that_validate_also_run() {
    let _timer = Timer::start("shared_otelcol_configs_that_validate_also_run");
    let Some(dir) = shared_configs() else {
        eprintln!(
            "[e2e] SKIPPED: no ../shared/otelcol-configs next to the workspace and no \
             $OTLP_OTELCOL_CONFIGS; the real-config runs need that folder"
        );
        return;
    };
    let registered = registered();
    let scratch = temp_dir("shared-configs-env");
    let mut valid = Vec::new();
    let mut refused = Vec::new();
    for file in yaml_files(&dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        let env: Vec<(String, String)> = env_references(&text)
            .into_iter()
            .filter(|(_, defaulted)| !defaulted)
            .map(|(name, _)| {
                let value = placeholder(&name, scratch.path());
                (name, value)
            })
            .collect();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let path = file.to_str().unwrap().to_owned();
        let (code, _, stderr) = run_with_env(&["validate", "--config", &path], &env);
        if code != Some(0) {
            let first = stderr
                .lines()
                .find(|l| l.starts_with("error: "))
                .unwrap_or("");
            refused.push(format!("{name}: {first}"));
            continue;
        }
        validate_and_run(std::slice::from_ref(&file), &env, &registered).await;
        valid.push(name);
    }
    eprintln!(
        "[e2e] shared otelcol configs: {} validate and ran: {valid:?}; {} refused:\n  {}",
        valid.len(),
        refused.len(),
        refused.join("\n  ")
    );
    assert!(
        valid.len() >= SHARED_CONFIGS_VALIDATING,
        "only {} of the shared configs validate, fewer than the {SHARED_CONFIGS_VALIDATING} \
         that did: {valid:?}",
        valid.len()
    );
}

/// How many of `../shared/otelcol-configs` validated when this was last raised.
const SHARED_CONFIGS_VALIDATING: usize = 21;

/// One case: `validate` as written (or without the components otlp-rs does not build in),
/// then a run on free ports and test sinks.
async fn validate_and_run(
    original: &[PathBuf],
    env: &[(String, String)],
    registered: &BTreeMap<String, BTreeSet<String>>,
) {
    let original = &original.to_vec();
    let name = original
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy())
        .collect::<Vec<_>>()
        .join(" + ");
    let scratch = temp_dir("config-scratch");

    // As written: valid — or invalid only for the otelcol components otlp-rs lacks.
    let mut validate = vec!["validate"];
    validate.extend(args_of(original, &[]));
    let (code, stdout, stderr) = run_with_env(&validate, env);
    let strip = unsupported(original, registered);
    let files: Vec<PathBuf> = if strip.is_empty() {
        assert_eq!(
            code,
            Some(0),
            "{name}: validate\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(stdout.contains(": valid"), "{name}: {stdout}");
        original.clone()
    } else {
        assert_eq!(code, Some(1), "{name}: validate\n{stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            errors.len(),
            strip.len(),
            "{name}: only {strip:?} may be refused:\n{stderr}"
        );
        for (section, id) in &strip {
            let kind = section.trim_end_matches('s');
            let needle = format!("{section}::{id}: unknown {kind} type \"{}\"", type_of(id));
            assert!(
                errors.iter().any(|e| e.contains(&needle)),
                "{name}: no error says {needle:?}:\n{stderr}"
            );
        }
        eprintln!("[e2e] {name}: runs without {strip:?} (not built into otlp-rs)");
        let copies: Vec<PathBuf> = original
            .iter()
            .map(|f| stripped_copy(f, &strip, scratch.path()))
            .collect();
        let mut validate = vec!["validate"];
        validate.extend(args_of(&copies, &[]));
        let (code, stdout, stderr) = run_with_env(&validate, env);
        assert_eq!(
            code,
            Some(0),
            "{name} without {strip:?}: validate\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        copies
    };
    let files = &files;

    // Moved to free ports and test sinks: it runs.
    let sink = RunningSink::start().await;
    let plan = plan(files, &sink, scratch.path());
    if plan.needs_kafka {
        eprintln!(
            "[e2e] {name}: valid; not run: it exports to Kafka and OTLP_KAFKA_BOOTSTRAP names no \
             broker (cargo xtask test starts one)"
        );
        sink.stop().await;
        return;
    }
    let overrides = write(scratch.path(), "overrides.yaml", &plan.overrides);
    let mut all = files.clone();
    all.push(overrides);
    let args = args_of(&all, &[]);
    let mut command = std::process::Command::new(COLLECTOR);
    command
        .args(&args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("RUST_LOG");
    let mut collector = Proc::spawn(&format!("config-{name}"), command);
    // Ready when every receiver listens (the ready line is an info log, and some fixtures
    // log at warn only).
    for addr in &plan.receivers {
        collector
            .wait_listening(*addr, Duration::from_secs(15))
            .await;
    }

    let mut expected: Vec<(String, Vec<u64>)> = Vec::new();
    for pipeline in &plan.pipelines {
        let Some(target) = pipeline.target.clone() else {
            continue;
        };
        let ids = ids(3);
        let client = match &target.ca {
            None => client(target.protocol, target.addr),
            Some(ca) => OtlpExporter::builder()
                .protocol(target.protocol)
                .endpoint(format!("https://localhost:{}", target.addr.port()))
                .tls(TlsConfig::new().with_ca_file(ca).unwrap())
                .timeout(Duration::from_secs(10))
                .retry(RetryConfig::disabled())
                .build()
                .unwrap(),
        };
        let result = match pipeline.signal.as_str() {
            "traces" => client.export(&traces(&ids, 0)).await.map(|_| ()),
            "metrics" => client.export(&metrics(&ids)).await.map(|_| ()),
            "logs" => client.export(&logs(&ids)).await.map(|_| ()),
            _ => continue,
        };
        result.unwrap_or_else(|e| {
            panic!(
                "{name}: pipeline {}: {e}\n{}",
                pipeline.name,
                collector.tail()
            )
        });
        if pipeline.expect_delivery {
            expected.push((pipeline.signal.clone(), ids));
        }
    }
    if let Some(addr) = plan.metrics {
        // A config without network receivers (filelog, hostmetrics) gives no earlier sign of
        // readiness than the self-metrics listener itself.
        collector
            .wait_listening(addr, Duration::from_secs(15))
            .await;
        let (status, body) = http_get(addr, "/metrics");
        assert_eq!(status, 200, "{name}: self-metrics on {addr}");
        assert!(body.contains("otelcol_"), "{name}: self-metrics:\n{body}");
    }
    for (addr, path) in &plan.health {
        collector
            .wait_listening(*addr, Duration::from_secs(15))
            .await;
        let (status, _) = http_get(*addr, path);
        assert_eq!(status, 200, "{name}: health_check on {addr}{path}");
    }

    collector.terminate();
    let status = collector.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "{name}: exit\n{}", collector.tail());
    sink.with(|r| {
        for (signal, ids) in &expected {
            let got: &[u64] = match signal.as_str() {
                "traces" => &r.spans,
                "metrics" => &r.point_ids,
                _ => &r.log_ids,
            };
            assert!(
                ids.iter().all(|id| got.contains(id)),
                "{name}: {signal} {ids:?} did not reach the sink"
            );
        }
    });
    eprintln!(
        "[e2e] {name}: valid, ran, {} pipelines fed, {} checked at the sink",
        plan.pipelines.len(),
        expected.len()
    );
    sink.stop().await;
}

/// Problems each invalid fixture must report (beyond "file: location: problem" on every line).
fn expected_problems(name: &str) -> &'static [&'static str] {
    match name {
        "many-errors.yaml" => &[
            "processors::batch::timeout",
            "processors::bacth: unknown processor type \"bacth\"; did you mean \"batch\"",
            "exporters::otlpp/backend: unknown exporter type \"otlpp\"",
            "service::pipelines::logs: receiver \"zipkin\" does not support logs",
            "service::pipelines::traces: references processor \"batch\" more than once",
            "service::pipelines::traces: references exporter \"otlp/missing\", which is not defined",
            "service::pipelines::metrics: the pipeline has no exporters",
        ],
        "unknown-keys.yaml" => &["unknown key \"exporter\"", "unknown key \"pipeline\""],
        _ => &[],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configs_exit_1_naming_file_component_and_problem_before_any_port_opens() {
    let _timer = Timer::start("invalid_configs");
    let files = yaml_files(&pipeline_configs().join("invalid"));
    assert!(!files.is_empty());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let path = file.to_str().unwrap();
        let (code, stdout, stderr) = run_collector(&["validate", "--config", path]);
        assert_eq!(
            code,
            Some(1),
            "{name}: validate\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert!(!errors.is_empty(), "{name}: {stderr}");
        for line in &errors {
            assert!(
                line.starts_with(&format!("error: {path}: ")),
                "{name}: an error without its file: {line}"
            );
        }
        for problem in expected_problems(&name) {
            assert!(
                errors.iter().any(|l| l.contains(problem)),
                "{name}: no error says {problem:?}:\n{stderr}"
            );
        }
        let marked = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| l.contains("# ERROR"))
            .count();
        assert!(
            errors.len() >= marked,
            "{name}: {marked} marked errors, {} reported:\n{stderr}",
            errors.len()
        );

        // Running it: the same errors, exit 1, and its receiver's port is never bound. The
        // test holds that port: a collector that tried to bind it would fail with "address in
        // use" and exit 2, not 1.
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let set = format!("--set=receivers::otlp::protocols::grpc::endpoint=127.0.0.1:{port}");
        let (code, _, run_stderr) = run_collector(&["--config", path, &set]);
        assert_eq!(code, Some(1), "{name}: run\n{run_stderr}");
        assert!(
            !run_stderr.contains("Everything is ready"),
            "{name}: {run_stderr}"
        );
        assert!(!run_stderr.contains("cannot bind"), "{name}: {run_stderr}");
        // The held listener saw no connection attempt either: the collector never got as far
        // as anything network-related.
        held.set_nonblocking(true).unwrap();
        assert!(
            held.accept().is_err(),
            "{name}: something connected to {port}"
        );
    }
}
