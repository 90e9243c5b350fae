//! The `hostmetrics` receiver against this machine and against the Go receiver:
//!
//! - its values agree with what `free -b`, `df -B1 /`, `ps -e` and `/proc/stat` (read right
//!   before and after) report in the same test;
//! - a differential: otelcol-contrib v0.160.0's `host_metrics` receiver (every scraper, the
//!   default metrics, then every optional metric this receiver supports) printing with the
//!   `debug` exporter (`verbosity: detailed`), and ours with the same configuration: the same
//!   metric names, units, types, value types, monotonicity, temporality, attribute keys and
//!   attribute values (cpu states, memory states, devices, mount points, …), scopes and
//!   process resource attributes.
//!
//! The Go collector comes from `OTLP_PEER_OTELCOL_CONTRIB_GO` or `target/peers/peers.env`;
//! without it the differential fails, saying to run `cargo xtask test`.

#![cfg(feature = "hostmetrics")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::any_value;
use otlp_proto::metrics::v1::{AggregationTemporality, metric, number_data_point};
use otlp_receivers::hostmetrics::{HostMetricsConfig, HostScrapers, ScrapeReport};

#[path = "../../otlp-transport/tests/interop_support/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

use peers::Peer;

/// The installed peer (see `interop_support/peers.rs`); a missing one fails the test.
fn peer(peer: Peer) -> PathBuf {
    peers::locate(peer).unwrap_or_else(|| {
        panic!(
            "{} is unset and target/peers/peers.env names no such peer: run `cargo xtask test` \
             (it installs the interop peers and sets their variables)",
            peer.env_var()
        )
    })
}

fn config(scrapers_yaml: &str) -> HostMetricsConfig {
    let value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&format!("scrapers:\n{scrapers_yaml}")).expect("YAML");
    otlp_pipeline::config::parse_config(&value).expect("a valid configuration")
}

fn run(command: &str, args: &[&str]) -> String {
    let out = Command::new(command)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(out.status.success(), "{command} {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `(attributes "k=v,…", value)` of every point of `name`.
fn points(request: &ExportMetricsServiceRequest, name: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for m in request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
    {
        let dps = match &m.data {
            Some(metric::Data::Sum(s)) => &s.data_points,
            Some(metric::Data::Gauge(g)) => &g.data_points,
            _ => continue,
        };
        for dp in dps {
            let attrs: Vec<String> = dp
                .attributes
                .iter()
                .map(
                    |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => format!("{}={s}", kv.key),
                        other => format!("{}={other:?}", kv.key),
                    },
                )
                .collect();
            let v = match dp.value {
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                Some(number_data_point::Value::AsDouble(d)) => d,
                None => f64::NAN,
            };
            out.push((attrs.join(","), v));
        }
    }
    out
}

fn value(request: &ExportMetricsServiceRequest, name: &str, attrs: &str) -> f64 {
    points(request, name)
        .into_iter()
        .find(|(a, _)| a == attrs)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} {{{attrs}}}: {:?}", points(request, name)))
}

fn scrape(yaml: &str) -> ScrapeReport {
    let mut scrapers = HostScrapers::new(&config(yaml)).expect("scrapers");
    let report = scrapers.scrape();
    for s in &report.scrapers {
        assert!(s.errors.is_empty(), "{s:?}");
    }
    report
}

#[test]
fn memory_agrees_with_free() {
    // `free -b`: total used free shared buff/cache available (procps: buff/cache = Buffers +
    // Cached + SReclaimable, the same `cached` gopsutil adds up).
    let before = run("free", &["-b"]);
    let report = scrape("  memory:\n    metrics:\n      system.memory.limit: {enabled: true}\n");
    let after = run("free", &["-b"]);
    let parse = |text: &str| -> Vec<f64> {
        let line = text
            .lines()
            .find(|l| l.starts_with("Mem:"))
            .expect("a Mem: line");
        line.split_whitespace()
            .skip(1)
            .map(|v| v.parse().expect("a number"))
            .collect()
    };
    let (b, a) = (parse(&before), parse(&after));
    let r = &report.request;
    let total = value(r, "system.memory.limit", "");
    assert_eq!(total, b[0], "free's total is MemTotal exactly");
    let states: f64 = ["used", "free", "buffered", "cached"]
        .iter()
        .map(|s| value(r, "system.memory.usage", &format!("state={s}")))
        .sum();
    assert_eq!(states, total, "used + free + buffered + cached = total");
    let within = |ours: f64, x: f64, y: f64, what: &str| {
        let (lo, hi) = (x.min(y), x.max(y));
        let slack = 0.03 * total;
        assert!(
            ours >= lo - slack && ours <= hi + slack,
            "{what}: ours {ours}, free said {x} then {y}"
        );
    };
    within(
        value(r, "system.memory.usage", "state=free"),
        b[2],
        a[2],
        "free",
    );
    let buff_cache = value(r, "system.memory.usage", "state=buffered")
        + value(r, "system.memory.usage", "state=cached");
    within(buff_cache, b[4], a[4], "buff/cache");
    // gopsutil's legacy used is total - free - buff/cache, not free's total - available.
    within(
        value(r, "system.memory.usage", "state=used"),
        b[0] - b[2] - b[4],
        a[0] - a[2] - a[4],
        "used",
    );
}

#[test]
fn the_root_file_system_agrees_with_df() {
    let before = run(
        "df",
        &["-B1", "--output=size,used,avail,source,fstype", "/"],
    );
    let report = scrape(
        "  filesystem:\n    include_mount_points: {mount_points: [/], match_type: strict}\n",
    );
    let after = run(
        "df",
        &["-B1", "--output=size,used,avail,source,fstype", "/"],
    );
    let parse = |text: &str| -> (Vec<f64>, String, String) {
        let f: Vec<&str> = text
            .lines()
            .nth(1)
            .expect("a row")
            .split_whitespace()
            .collect();
        (
            f[..3]
                .iter()
                .map(|v| v.parse().expect("a number"))
                .collect(),
            f[3].to_owned(),
            f[4].to_owned(),
        )
    };
    let ((b, device, fstype), (a, _, _)) = (parse(&before), parse(&after));
    let r = &report.request;
    let attrs = |state: &str| {
        let p = points(r, "system.filesystem.usage");
        p.into_iter()
            .find(|(k, _)| k.contains("mountpoint=/,") && k.ends_with(&format!("state={state}")))
            .unwrap_or_else(|| panic!("no / {state}: {:?}", points(r, "system.filesystem.usage")))
    };
    let (key, used) = attrs("used");
    assert!(
        key.contains(&format!("device={device},")),
        "{key} vs df's {device}"
    );
    assert!(
        key.contains(&format!("type={fstype},")),
        "{key} vs df's {fstype}"
    );
    let free = attrs("free").1;
    let reserved = attrs("reserved").1;
    assert_eq!(
        used + free + reserved,
        b[0],
        "size exactly (df's 1B-blocks)"
    );
    let block = 4096.0 * 256.0; // another process may write a little meanwhile
    assert!(
        used >= b[1].min(a[1]) - block && used <= b[1].max(a[1]) + block,
        "used {used}, df said {} then {}",
        b[1],
        a[1]
    );
    assert!(
        free >= b[2].min(a[2]) - block && free <= b[2].max(a[2]) + block,
        "available {free}, df said {} then {}",
        b[2],
        a[2]
    );
}

#[test]
fn process_counts_agree_with_ps() {
    let count = || run("ps", &["-e", "--no-headers"]).lines().count() as f64;
    let before = count();
    let report = scrape("  processes:\n  process:\n    mute_process_all_errors: true\n");
    let after = count();
    let r = &report.request;
    // Go's formula: the `State:` letters of every process, except that `running` and
    // `blocked` are `procs_running` / `procs_blocked` of /proc/stat (tasks, threads
    // included); so the processes in other states plus those two numbers.
    let counts = points(r, "system.processes.count");
    let others: f64 = counts
        .iter()
        .filter(|(k, _)| k != "status=running" && k != "status=blocked")
        .map(|(_, v)| v)
        .sum();
    let running = value(r, "system.processes.count", "status=running");
    let blocked = value(r, "system.processes.count", "status=blocked");
    let resources = r
        .resource_metrics
        .iter()
        .filter(|rm| {
            rm.scope_metrics[0]
                .scope
                .as_ref()
                .is_some_and(|s| s.name.ends_with("/processscraper"))
        })
        .count() as f64;
    // `ps` itself and the other tests' commands come and go: a margin of 5.
    let (lo, hi) = (before.min(after) - 5.0, before.max(after) + 5.0);
    assert!(
        resources >= lo && resources <= hi,
        "process resources: ours {resources}, ps said {before} then {after}"
    );
    assert!(
        others <= hi && others + running + blocked >= lo,
        "system.processes.count: {others} not running or blocked + {running} + {blocked}, ps said {before} then {after}"
    );
    // This test's own process is there, with its pid and name.
    let me = std::process::id() as i64;
    let found = r.resource_metrics.iter().any(|rm| {
        rm.resource.as_ref().is_some_and(|res| {
            res.attributes.iter().any(|kv| {
                kv.key == "process.pid"
                    && kv.value.as_ref().and_then(|v| v.value.clone())
                        == Some(any_value::Value::IntValue(me))
            })
        })
    });
    assert!(found, "pid {me} not reported");
}

#[test]
fn cpu_time_is_bracketed_by_proc_stat() {
    let hz = {
        // USER_HZ is 100 on every Linux this runs on; checked against getconf.
        let text = run("getconf", &["CLK_TCK"]);
        text.trim().parse::<f64>().expect("CLK_TCK")
    };
    let read = || {
        let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
        // Sum of the cpuN lines per column: user nice system idle iowait irq softirq steal.
        let mut sums = [0.0f64; 8];
        let mut cpus = 0;
        for line in stat
            .lines()
            .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
        {
            cpus += 1;
            for (i, v) in line.split_whitespace().skip(1).take(8).enumerate() {
                sums[i] += v.parse::<f64>().expect("a number") / hz;
            }
        }
        (sums, cpus)
    };
    let (before, cpus) = read();
    let report = scrape("  cpu:\n");
    let (after, _) = read();
    let r = &report.request;
    for (state, column) in [
        ("user", 0),
        ("nice", 1),
        ("system", 2),
        ("idle", 3),
        ("wait", 4),
        ("interrupt", 5),
        ("softirq", 6),
        ("steal", 7),
    ] {
        let ours = value(r, "system.cpu.time", &format!("state={state}"));
        // Summing per-CPU values in another order may differ in the last bits.
        let eps = 1e-6;
        assert!(
            ours >= before[column] - eps && ours <= after[column] + eps,
            "{state}: {} <= {ours} <= {}",
            before[column],
            after[column]
        );
    }
    assert_eq!(value(r, "system.cpu.logical.count", ""), cpus as f64);
}

// ---------------------------------------------------------------------------------------------
// The differential against the Go receiver
// ---------------------------------------------------------------------------------------------

/// A metric's shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Shape {
    scope: String,
    unit: String,
    data_type: String,
    monotonic: Option<bool>,
    temporality: Option<String>,
    /// `int` or `double`, per point.
    value_types: BTreeSet<String>,
    attributes: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Default, PartialEq)]
struct Batch {
    metrics: BTreeMap<String, Shape>,
    process_resource_keys: BTreeSet<String>,
    process_resources: usize,
}

/// The debug exporter's detailed batches, in order.
fn parse_debug(text: &str) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut scope = String::new();
    let mut current: Option<String> = None;
    let mut section = "";
    for line in text.lines() {
        if line.contains("\tMetrics\t{") && line.contains("\"data points\"") {
            batches.push(Batch::default());
            continue;
        }
        let Some(batch) = batches.last_mut() else {
            continue;
        };
        if line.starts_with("ResourceMetrics #") {
            section = "";
            continue;
        }
        if line.starts_with("Resource attributes:") {
            section = "resource";
            continue;
        }
        if let Some(name) = line.strip_prefix("InstrumentationScope ") {
            scope = name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            if scope.ends_with("/processscraper") {
                batch.process_resources += 1;
            }
            section = "";
            continue;
        }
        if line.starts_with("Data point attributes:") {
            section = "points";
            continue;
        }
        if let Some(rest) = line.strip_prefix("     -> ") {
            let (key, val) = rest.split_once(": ").unwrap_or((rest, ""));
            match (section, key) {
                ("resource", _) => {
                    // Only the process scraper's resources have attributes.
                    batch.process_resource_keys.insert(key.to_owned());
                }
                ("points", _) => {
                    let v = val
                        .strip_prefix("Str(")
                        .and_then(|v| v.strip_suffix(')'))
                        .unwrap_or(val);
                    if let Some(name) = &current {
                        batch
                            .metrics
                            .get_mut(name)
                            .expect("current metric")
                            .attributes
                            .entry(key.to_owned())
                            .or_default()
                            .insert(v.to_owned());
                    }
                }
                (_, "Name") => {
                    current = Some(val.to_owned());
                    batch
                        .metrics
                        .entry(val.to_owned())
                        .or_insert_with(|| Shape {
                            scope: scope.clone(),
                            ..Shape::default()
                        });
                }
                (_, k) => {
                    let Some(name) = &current else { continue };
                    let shape = batch.metrics.get_mut(name).expect("current metric");
                    match k {
                        "Unit" => shape.unit = val.to_owned(),
                        "DataType" => shape.data_type = val.to_owned(),
                        "IsMonotonic" => shape.monotonic = Some(val == "true"),
                        "AggregationTemporality" => shape.temporality = Some(val.to_owned()),
                        _ => {}
                    }
                }
            }
            continue;
        }
        if let Some(v) = line.strip_prefix("Value: ") {
            section = "";
            if let Some(name) = &current {
                let t = if v.contains('.') { "double" } else { "int" };
                batch
                    .metrics
                    .get_mut(name)
                    .expect("current metric")
                    .value_types
                    .insert(t.to_owned());
            }
            continue;
        }
        if line.starts_with("NumberDataPoints #") {
            section = "";
        }
    }
    batches
}

fn ours(request: &ExportMetricsServiceRequest) -> Batch {
    let mut batch = Batch::default();
    for rm in &request.resource_metrics {
        let scope = rm.scope_metrics[0]
            .scope
            .as_ref()
            .expect("scope")
            .name
            .clone();
        if scope.ends_with("/processscraper") {
            batch.process_resources += 1;
            for kv in &rm.resource.as_ref().expect("resource").attributes {
                batch.process_resource_keys.insert(kv.key.clone());
            }
        }
        for m in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let shape = batch
                .metrics
                .entry(m.name.clone())
                .or_insert_with(|| Shape {
                    scope: scope.clone(),
                    unit: m.unit.clone(),
                    ..Shape::default()
                });
            let dps = match &m.data {
                Some(metric::Data::Sum(s)) => {
                    shape.data_type = "Sum".into();
                    shape.monotonic = Some(s.is_monotonic);
                    shape.temporality = Some(
                        if s.aggregation_temporality == AggregationTemporality::Cumulative as i32 {
                            "Cumulative".into()
                        } else {
                            "Delta".into()
                        },
                    );
                    &s.data_points
                }
                Some(metric::Data::Gauge(g)) => {
                    shape.data_type = "Gauge".into();
                    &g.data_points
                }
                other => panic!("unexpected data {other:?}"),
            };
            for dp in dps {
                shape.value_types.insert(
                    match dp.value {
                        Some(number_data_point::Value::AsInt(_)) => "int",
                        _ => "double",
                    }
                    .into(),
                );
                for kv in &dp.attributes {
                    let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(s)) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    shape
                        .attributes
                        .entry(kv.key.clone())
                        .or_default()
                        .insert(v);
                }
            }
        }
    }
    batch
}

/// Runs the Go collector with `scrapers` until it printed `batches` batches.
fn go_batches(scrapers: &str, batches: usize) -> Vec<Batch> {
    let otelcol = peer(Peer::OtelcolContribGo);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "receivers:\n  host_metrics:\n    collection_interval: 1s\n    initial_delay: 0s\n    scrapers:\n{scrapers}\
             exporters:\n  debug:\n    verbosity: detailed\n\
             service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    metrics:\n      receivers: [host_metrics]\n      exporters: [debug]\n"
        ),
    )
    .expect("config");
    let stderr_path = dir.path().join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new(otelcol)
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the Go collector");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let parsed = loop {
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let parsed = parse_debug(&text);
        // The last batch may be half written: wait for one more.
        if parsed.len() > batches {
            break parsed;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "the Go collector printed {} batches in 30 s:\n{text}",
                parsed.len()
            );
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    parsed
}

/// The attribute keys whose value sets vary from one instant to the next.
const VOLATILE: &[&str] = &["status"];

fn compare(go: &Batch, ours: &Batch) {
    let go_names: BTreeSet<&String> = go.metrics.keys().collect();
    let our_names: BTreeSet<&String> = ours.metrics.keys().collect();
    assert_eq!(go_names, our_names, "the same metrics");
    for (name, g) in &go.metrics {
        let o = &ours.metrics[name];
        assert_eq!(g.scope, o.scope, "{name}: scope");
        assert_eq!(g.unit, o.unit, "{name}: unit");
        assert_eq!(g.data_type, o.data_type, "{name}: type");
        assert_eq!(g.monotonic, o.monotonic, "{name}: monotonic");
        assert_eq!(g.temporality, o.temporality, "{name}: temporality");
        // The debug exporter prints doubles with `%f`, integers without a fraction.
        assert_eq!(g.value_types, o.value_types, "{name}: value type");
        let gk: BTreeSet<&String> = g.attributes.keys().collect();
        let ok: BTreeSet<&String> = o.attributes.keys().collect();
        assert_eq!(gk, ok, "{name}: attribute keys");
        for (key, values) in &g.attributes {
            if VOLATILE.contains(&key.as_str()) {
                continue;
            }
            assert_eq!(values, &o.attributes[key], "{name}: values of {key}");
        }
    }
    assert_eq!(
        go.process_resource_keys, ours.process_resource_keys,
        "process resource attributes"
    );
    let (g, o) = (go.process_resources as f64, ours.process_resources as f64);
    assert!((g - o).abs() <= 5.0, "process resources: Go {g}, ours {o}");
}

const ALL_SCRAPERS: &str = "      cpu:\n      disk:\n      filesystem:\n      load:\n      memory:\n      network:\n      paging:\n      processes:\n      process:\n        mute_process_all_errors: true\n      system:\n";

const OPTIONAL: &str = "      cpu:
        metrics:
          system.cpu.time: {attributes: [cpu, state]}
          system.cpu.utilization: {enabled: true}
          system.cpu.physical.count: {enabled: true}
          system.cpu.frequency: {enabled: true}
      disk:
      filesystem:
        metrics:
          system.filesystem.utilization: {enabled: true}
      load:
        cpu_average: true
      memory:
        metrics:
          system.linux.memory.available: {enabled: true}
          system.linux.memory.dirty: {enabled: true}
          system.memory.limit: {enabled: true}
          system.memory.linux.hugepages.limit: {enabled: true}
          system.memory.linux.hugepages.page_size: {enabled: true}
          system.memory.linux.hugepages.reserved: {enabled: true}
          system.memory.linux.hugepages.surplus: {enabled: true}
          system.memory.linux.hugepages.usage: {enabled: true}
          system.memory.linux.hugepages.utilization: {enabled: true}
          system.memory.linux.shared: {enabled: true}
          system.memory.page_size: {enabled: true}
          system.memory.utilization: {enabled: true}
      network:
      paging:
        metrics:
          system.paging.utilization: {enabled: true}
      processes:
      process:
        mute_process_all_errors: true
        metrics:
          process.context_switches: {enabled: true}
          process.cpu.utilization: {enabled: true}
          process.disk.operations: {enabled: true}
          process.memory.utilization: {enabled: true}
          process.open_file_descriptors: {enabled: true}
          process.paging.faults: {enabled: true}
          process.signals_pending: {enabled: true}
          process.threads: {enabled: true}
          process.uptime: {enabled: true}
      system:
";

fn differential(scrapers: &str, nth: usize) {
    let go = go_batches(scrapers, nth + 1);
    let indented: String = scrapers
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let mut ours_scrapers = HostScrapers::new(&config(&indented)).expect("our scrapers");
    let mut report = ours_scrapers.scrape();
    for _ in 0..nth {
        std::thread::sleep(Duration::from_millis(200));
        report = ours_scrapers.scrape();
    }
    compare(&go[nth], &ours(&report.request));
}

#[test]
fn the_default_metrics_have_the_go_receivers_shape() {
    differential(ALL_SCRAPERS, 0);
}

#[test]
fn the_optional_metrics_have_the_go_receivers_shape() {
    // The second scrape: utilizations need a previous one.
    differential(OPTIONAL, 1);
}
