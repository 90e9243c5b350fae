//! Differential: the Go collector's file_log receiver (otelcol-contrib v0.160.0, peer
//! `OTLP_PEER_OTELCOL_CONTRIB_GO`, exporting OTLP/HTTP protobuf to an in-test receiver) and
//! ours read the same files with the same operators — the Kubernetes container config of
//! `otelcol-configs/007` adapted to a temporary directory, the `container` operator, and
//! json_parser / regex_parser with timestamps and severities followed by
//! move/copy/add/remove/flatten/filter — and must produce the same records: body,
//! attributes, resource, timestamp, severity number and text, an observed time on each.
//!
//! The peer is found through its variable or `target/peers/peers.env` (`cargo xtask peers`);
//! without it the test is skipped, and fails under `OTLP_REQUIRE_PEERS=1` (`cargo xtask test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod filelog_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, KeyValue, any_value};
use otlp_transport::server::{ExportHandler, Receiver, RequestContext};
use otlp_transport::{PartialSuccess, Refusal};

use filelog_support::{Sink, start};

const VAR: &str = "OTLP_PEER_OTELCOL_CONTRIB_GO";

fn go_collector() -> Option<PathBuf> {
    let from_env = std::env::var_os(VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let from_file = || {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers/peers.env");
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == VAR).then(|| PathBuf::from(v.trim().trim_matches('"')))
        })
    };
    let found = from_env.or_else(from_file).filter(|p| p.is_file());
    if found.is_none() {
        let message = format!(
            "{VAR} is unset and target/peers/peers.env names no Go collector: run `cargo xtask peers` (or `cargo xtask test`, which installs the peers and sets OTLP_REQUIRE_PEERS=1)"
        );
        if std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
            panic!("{message}");
        }
        println!("skipping: {message}");
    }
    found
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<ExportLogsServiceRequest>>>);

#[async_trait::async_trait]
impl ExportHandler for Recorder {
    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        _context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.0.lock().unwrap().push(request);
        Ok(None)
    }
}

fn value(v: &AnyValue) -> serde_json::Value {
    use any_value::Value as V;
    match &v.value {
        None => serde_json::Value::Null,
        Some(V::StringValue(s)) => serde_json::json!({ "str": s }),
        Some(V::BoolValue(b)) => serde_json::json!({ "bool": b }),
        Some(V::IntValue(i)) => serde_json::json!({ "int": i }),
        Some(V::DoubleValue(d)) => serde_json::json!({ "double": d }),
        Some(V::BytesValue(b)) => serde_json::json!({ "bytes": b }),
        Some(V::ArrayValue(a)) => serde_json::Value::Array(a.values.iter().map(value).collect()),
        Some(V::KvlistValue(kv)) => attributes(&kv.values),
        Some(V::StringValueStrindex(i)) => serde_json::json!({ "strindex": i }),
    }
}

fn attributes(kvs: &[KeyValue]) -> serde_json::Value {
    let map: BTreeMap<String, serde_json::Value> = kvs
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map_or(serde_json::Value::Null, value),
            )
        })
        .collect();
    serde_json::to_value(map).unwrap()
}

/// Every record as comparable JSON, sorted.
fn records(requests: &[ExportLogsServiceRequest]) -> Vec<String> {
    let mut out = Vec::new();
    for request in requests {
        for rl in &request.resource_logs {
            let resource = rl
                .resource
                .as_ref()
                .map_or(serde_json::json!({}), |r| attributes(&r.attributes));
            for sl in &rl.scope_logs {
                for r in &sl.log_records {
                    assert!(r.observed_time_unix_nano > 0, "observed time set: {r:?}");
                    let record = serde_json::json!({
                        "body": r.body.as_ref().map_or(serde_json::Value::Null, value),
                        "attributes": attributes(&r.attributes),
                        "resource": resource,
                        "time": r.time_unix_nano,
                        "severity": r.severity_number,
                        "severity_text": r.severity_text,
                    });
                    out.push(record.to_string());
                }
            }
        }
    }
    out.sort();
    out
}

const OPERATORS: &str = r#"
    operators:
      - type: router
        routes:
          - {expr: 'body matches "^\\{"', output: js}
          - {expr: 'body matches "^\\d{4}-"', output: rx}
        default: plain
      - type: json_parser
        id: js
        timestamp: {parse_from: attributes.time, layout: '%Y-%m-%dT%H:%M:%S.%LZ'}
        severity: {parse_from: attributes.level}
        output: shape
      - type: regex_parser
        id: rx
        regex: '^(?P<time>\S+) (?P<sev>\w+) (?P<msg>.*?)(?: id=(?P<id>\d+))?$'
        timestamp: {parse_from: attributes.time, layout_type: gotime, layout: '2006-01-02T15:04:05.999Z07:00'}
        severity:
          parse_from: attributes.sev
          mapping: {warn: [careful], error: [bad, '5xx']}
        output: shape
      - type: add
        id: plain
        field: attributes.kind
        value: plain
        output: drop-debug
      - type: copy
        id: shape
        from: attributes.msg
        to: 'resource["first.msg"]'
        on_error: send_quiet
      - type: move
        from: attributes.msg
        to: body
        on_error: send_quiet
      - type: remove
        field: attributes.time
        on_error: send_quiet
      - type: flatten
        field: attributes.ctx
        if: 'attributes.ctx != nil'
      - type: add
        field: 'attributes["parsed.by"]'
        value: stanza
      - type: filter
        id: drop-debug
        expr: 'body matches "DEBUG" or attributes.level == "debug"'
"#;

fn app_lines() -> Vec<String> {
    vec![
        r#"{"level":"warn","msg":"json one","n":5,"f":1.5,"b":true,"ctx":{"user":"u1","deep":{"k":1}},"time":"2024-01-02T03:04:05.5Z"}"#.into(),
        r#"{"level":"err","msg":"json two","arr":[1,"a",true],"time":"2024-01-02T03:04:06.123456Z"}"#.into(),
        r#"{"level":"debug","msg":"dropped by the filter","time":"2024-01-02T03:04:06.1Z"}"#.into(),
        r#"{"level":"Info","msg":"no time field"}"#.into(),
        "2024-01-02T03:04:05.123Z ERROR something failed id=7".into(),
        "2024-01-02T03:04:05+02:00 careful zone offset".into(),
        "2024-01-02T03:04:05.1Z bad mapped".into(),
        "2024-01-02T03:04:05.1Z 503 http status".into(),
        "2024-01-02T03:04:05Z DEBUG filtered".into(),
        "   plain line with spaces   ".into(),
        "INFO: plain".into(),
        "{not json at all".into(),
    ]
}

const POD_A: &str = "ns1_pod-a_0123abcd-0000-1111-2222-333344445555/app";
const POD_B: &str = "ns2_pod-b_aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/side";

fn write_pods(dir: &Path) {
    std::fs::create_dir_all(dir.join(POD_A)).unwrap();
    std::fs::create_dir_all(dir.join(POD_B)).unwrap();
    std::fs::write(
        dir.join(POD_A).join("0.log"),
        "2024-01-02T03:04:05.123456789Z stdout F containerd line\n\
         2024-01-02T03:04:05.2Z stderr F second containerd\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(POD_A).join("1.log"),
        "2024-01-02T03:04:05.123456789+00:00 stdout F crio line\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(POD_B).join("2.log"),
        "{\"log\":\"docker line\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.123Z\"}\n\
         {\"log\":\"docker err\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-02T03:04:07.5Z\"}\n",
    )
    .unwrap();
}

fn write_cri(dir: &Path) {
    let pod = dir.join(POD_A);
    std::fs::create_dir_all(&pod).unwrap();
    std::fs::write(
        pod.join("3.log"),
        "2024-01-02T03:04:05.1Z stdout P part one \n\
         2024-01-02T03:04:05.2Z stdout P part two \n\
         2024-01-02T03:04:05.3Z stdout F the end\n\
         2024-01-02T03:04:06Z stderr F whole\n\
         {\"log\":\"docker\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-02T03:04:05.123456Z\"}\n",
    )
    .unwrap();
}

/// The receivers, as `(name, yaml body indented by 4)`.
fn receivers(root: &Path) -> Vec<(&'static str, String, usize)> {
    let k8s_ops = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/filelog/testdata/k8s_operators.yaml"
    ))
    .unwrap();
    let k8s_ops: String = k8s_ops.lines().map(|l| format!("      {l}\n")).collect();
    vec![
        (
            "app",
            format!(
                "    include: ['{}/app/*.log']\n    start_at: beginning\n    include_file_path: true\n    attributes: {{static: v}}\n    resource: {{host: h1}}\n{OPERATORS}",
                root.display()
            ),
            // 12 lines, 2 dropped by the filter.
            10,
        ),
        (
            "k8s",
            format!(
                "    include: ['{0}/pods/*/*/*.log']\n    exclude: ['{0}/pods/*/otel-collector/*.log']\n    start_at: beginning\n    include_file_path: true\n    include_file_name: false\n    operators:\n{k8s_ops}",
                root.display()
            ),
            5,
        ),
        (
            "container",
            format!(
                "    include: ['{}/cri/*/*/*.log']\n    start_at: beginning\n    include_file_path: true\n    operators:\n      - type: container\n",
                root.display()
            ),
            3,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_records_as_the_go_file_log_receiver() {
    let Some(go) = go_collector() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("app")).unwrap();
    let mut text = app_lines().join("\n");
    text.push('\n');
    std::fs::write(root.path().join("app/app.log"), text).unwrap();
    write_pods(&root.path().join("pods"));
    write_cri(&root.path().join("cri"));
    let receivers = receivers(root.path());

    // The Go collector → OTLP/HTTP protobuf → our in-test receiver.
    let recorder = Recorder::default();
    let server = Receiver::new(recorder.clone())
        .http("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let addr = server.http_local_addr().unwrap();
    let mut config = String::from("receivers:\n");
    for (name, body, _) in &receivers {
        config.push_str(&format!("  file_log/{name}:\n{body}"));
    }
    let names: Vec<String> = receivers
        .iter()
        .map(|(n, _, _)| format!("file_log/{n}"))
        .collect();
    config.push_str(&format!(
        "exporters:\n  otlp_http:\n    endpoint: http://{addr}\n    encoding: proto\n    compression: none\nservice:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    logs:\n      receivers: [{}]\n      exporters: [otlp_http]\n",
        names.join(", ")
    ));
    let config_path = root.path().join("go.yaml");
    std::fs::write(&config_path, &config).unwrap();
    let log = std::fs::File::create(root.path().join("go.log")).unwrap();
    let mut child = Command::new(&go)
        .arg("--config")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // Until Go's count holds still for a second (and at least the lines it must send).
    let minimum: usize = receivers.iter().map(|(_, _, n)| n).sum();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let count = |r: &Recorder| records(&r.0.lock().unwrap()).len();
    let mut last = (0, std::time::Instant::now());
    while std::time::Instant::now() < deadline {
        let n = count(&recorder);
        if n != last.0 {
            last = (n, std::time::Instant::now());
        } else if n >= minimum && last.1.elapsed() > Duration::from_secs(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let theirs = records(&recorder.0.lock().unwrap());
    assert!(
        theirs.len() >= minimum,
        "the Go collector sent {} records: {}",
        theirs.len(),
        std::fs::read_to_string(root.path().join("go.log")).unwrap_or_default()
    );

    // Ours, each receiver with the very same YAML.
    let sink = Arc::new(Sink::default());
    let mut running = Vec::new();
    for (_, body, _) in &receivers {
        let yaml: String = body
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        running.push(start(&yaml, Arc::clone(&sink), None).await);
    }
    let _ = sink.wait_for(theirs.len(), Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    for r in &running {
        assert!(r.stop(Duration::from_secs(5)).await);
    }
    let ours = sink.requests.lock().unwrap().clone();
    let ours = records(&ours);
    let only_ours: Vec<&String> = ours.iter().filter(|r| !theirs.contains(r)).collect();
    let only_theirs: Vec<&String> = theirs.iter().filter(|r| !ours.contains(r)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "records only ours:\n{}\nrecords only Go's:\n{}",
        only_ours
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        only_theirs
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(ours, theirs);
}
