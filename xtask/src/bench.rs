//! `cargo xtask bench [--quick | --kafka] [--no-criterion] [--repeats N] [--duration S]`: the
//! benchmark suite.
//!
//! 1. Unless `--quick` or `--no-criterion`: the criterion suite (`cargo bench -p otlp-benches`).
//! 2. The end-to-end comparison of three collectors: otlp-collector, rotel and the Go
//!    OpenTelemetry Collector (`otelcol-go`, core components; both peers installed by
//!    `cargo xtask peers`). The chain is `loadgen → collector (OTLP receiver, batch, OTLP/gRPC
//!    exporter with gzip) → sink`, all on 127.0.0.1, in four scenarios ([`SCENARIOS`]): OTLP/gRPC
//!    traces at 20 000 spans/s, OTLP/gRPC traces at maximum rate (closed loop), OTLP/HTTP
//!    protobuf traces at 20 000 spans/s, and OTLP/gRPC metrics and logs (alternate requests) at
//!    20 000 items/s. The generator sends uncompressed; every collector gzips its export
//!    (rotel cannot do otherwise, so the others do the same). Each case is repeated (3 times by
//!    default) with the collectors interleaved, so that drift hits all alike.
//! 3. Unless `--quick`: the Kafka pair, ours against the Go collector's on one broker
//!    ([`kafka`]); `--kafka` runs this part alone.
//! 4. Unless `--quick`: the Zipkin and Jaeger translations against the Go collector's on the
//!    same bodies ([`translators`]); `--translators` runs this part alone.
//!
//! An *item* is a span, a metric data point or a log record. Per case: items/s arriving at the
//! sink in the steady window (from 1 s after the load started to its end), the collector's
//! CPU-seconds per million items (utime + stime from `/proc/<pid>/stat`, in USER_HZ = 100 ticks
//! per second, from just before the load to the end of the drain), its peak RSS (`VmHWM` of
//! `/proc/<pid>/status`), for the maximum-rate scenario its RSS 3 s after the drain (`VmRSS`:
//! what it keeps once the burst has passed), and the items lost (acknowledged by the collector
//! to the generator but never counted by the sink).
//!
//! Output: the section between `<!-- e2e:start -->` and `<!-- e2e:end -->` of
//! `docs/benchmarks.md` (medians, ratios otlp-collector / rotel and / otelcol (Go), and the
//! targets of issue 17 computed from the medians) and `docs/benchmarks.svg`. `--quick` runs one
//! 3 s case per collector and scenario for OTLP/gRPC traces at 20 000 spans/s and for metrics +
//! logs at 20 000 items/s, writes `target/bench-quick.md` and `.svg` instead, and fails if an
//! item was lost, a request failed or nothing arrived; it never checks a speed.
//!
//! Every child process is killed when its guard is dropped, on every exit path (including
//! errors and panics); Ctrl-C reaches the children too, as they share the terminal's process
//! group.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Result;

mod kafka;
mod translators;

/// Items per second of the fixed-rate scenarios.
const FIXED_RATE: u64 = 20_000;
/// Items per request sent by the load generator (issue 17's harness: 200 spans per request).
const BATCH: u64 = 200;
/// Requests in flight at most at a fixed rate (open loop).
const FIXED_CONCURRENCY: u64 = 4;
/// Senders at maximum rate (closed loop).
const MAX_CONCURRENCY: u64 = 8;
/// The collectors' batch: at most this many items, at most this long. 4096 realistic spans
/// (~570 bytes each) stay under the 4 MiB default gRPC message limit of most receivers.
const BATCH_MAX: u64 = 4096;
const BATCH_TIMEOUT: &str = "200ms";
/// Linux reports `/proc/<pid>/stat` times in USER_HZ, 100 on every mainstream architecture.
const TICKS_PER_SECOND: f64 = 100.0;
const START_MARKER: &str = "<!-- e2e:start -->";
const END_MARKER: &str = "<!-- e2e:end -->";

/// The collectors compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Collector {
    Ours,
    Rotel,
    OtelcolGo,
}

/// Every collector, in the order of the table's columns.
const COLLECTORS: [Collector; 3] = [Collector::Ours, Collector::Rotel, Collector::OtelcolGo];

impl Collector {
    fn name(self) -> &'static str {
        match self {
            Collector::Ours => "otlp-collector",
            Collector::Rotel => "rotel",
            Collector::OtelcolGo => "otelcol (Go)",
        }
    }

    /// The name in file names and log files.
    fn slug(self) -> &'static str {
        match self {
            Collector::Ours => "otlp-collector",
            Collector::Rotel => "rotel",
            Collector::OtelcolGo => "otelcol-go",
        }
    }

    /// The chart's colour.
    fn color(self) -> &'static str {
        match self {
            Collector::Ours => "#1f77b4",
            Collector::Rotel => "#ff7f0e",
            Collector::OtelcolGo => "#2ca02c",
        }
    }
}

/// How the load generator talks to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Input {
    Grpc,
    HttpProtobuf,
}

/// What the load generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Load {
    Traces,
    /// Metrics and logs requests alternately (loadgen `--signal mixed`).
    MetricsAndLogs,
}

/// One scenario: an input protocol, a signal mix and a rate (0 = maximum, closed loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Scenario {
    input: Input,
    load: Load,
    rate: u64,
}

const GRPC_TRACES_FIXED: Scenario = Scenario {
    input: Input::Grpc,
    load: Load::Traces,
    rate: FIXED_RATE,
};
const GRPC_TRACES_MAX: Scenario = Scenario {
    input: Input::Grpc,
    load: Load::Traces,
    rate: 0,
};
const HTTP_TRACES_FIXED: Scenario = Scenario {
    input: Input::HttpProtobuf,
    load: Load::Traces,
    rate: FIXED_RATE,
};
const GRPC_METRICS_LOGS_FIXED: Scenario = Scenario {
    input: Input::Grpc,
    load: Load::MetricsAndLogs,
    rate: FIXED_RATE,
};

/// The full run's scenarios, in the table's order.
const SCENARIOS: [Scenario; 4] = [
    GRPC_TRACES_FIXED,
    GRPC_TRACES_MAX,
    HTTP_TRACES_FIXED,
    GRPC_METRICS_LOGS_FIXED,
];
/// The scenarios of `--quick`.
const QUICK_SCENARIOS: [Scenario; 2] = [GRPC_TRACES_FIXED, GRPC_METRICS_LOGS_FIXED];

impl Scenario {
    /// `spans` or `items`.
    fn unit(self) -> &'static str {
        match self.load {
            Load::Traces => "spans",
            Load::MetricsAndLogs => "items",
        }
    }

    fn label(self) -> String {
        let input = match self.input {
            Input::Grpc => "OTLP/gRPC",
            Input::HttpProtobuf => "OTLP/HTTP protobuf",
        };
        let load = match self.load {
            Load::Traces => "traces",
            Load::MetricsAndLogs => "metrics + logs",
        };
        let rate = if self.rate == 0 {
            "max rate".to_owned()
        } else {
            format!("{} {}/s", group(self.rate as f64, 0), self.unit())
        };
        format!("{input} {load}, {rate}")
    }

    fn short(self) -> String {
        let input = match (self.input, self.load) {
            (Input::Grpc, Load::Traces) => "grpc",
            (Input::HttpProtobuf, Load::Traces) => "http",
            (Input::Grpc, Load::MetricsAndLogs) => "m+l grpc",
            (Input::HttpProtobuf, Load::MetricsAndLogs) => "m+l http",
        };
        let rate = if self.rate == 0 {
            "max".to_owned()
        } else {
            format!("{}k", self.rate / 1000)
        };
        format!("{input} {rate}")
    }

    fn slug(self) -> String {
        self.short().replace(['+', ' '], "-")
    }

    fn concurrency(self) -> u64 {
        if self.rate == 0 {
            MAX_CONCURRENCY
        } else {
            FIXED_CONCURRENCY
        }
    }

    /// loadgen's `--signal`.
    fn signal(self) -> &'static str {
        match self.load {
            Load::Traces => "traces",
            Load::MetricsAndLogs => "mixed",
        }
    }
}

/// Whether `collector` can run `scenario` (a cell stays empty otherwise). All three take every
/// scenario today; rotel's `--exporter otlp` carries traces, metrics and logs.
fn supports(collector: Collector, scenario: Scenario) -> bool {
    let _ = (collector, scenario);
    true
}

/// What one case measured.
#[derive(Debug, Clone)]
struct Sample {
    sink_rate: f64,
    cpu_per_million: f64,
    peak_rss_mib: f64,
    /// RSS [`SETTLE`] after the drain, maximum-rate scenarios only (NaN elsewhere): what
    /// the collector keeps once a burst has passed.
    settled_rss_mib: f64,
    lost: i64,
    acked: u64,
    received: u64,
    failed: u64,
}

struct Options {
    quick: bool,
    /// `--kafka`: only the Kafka pair comparison ([`kafka`]).
    kafka_only: bool,
    /// `--translators`: only the Zipkin and Jaeger translations against Go's ([`translators`]).
    translators_only: bool,
    criterion: bool,
    repeats: usize,
    duration: f64,
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        quick: false,
        kafka_only: false,
        translators_only: false,
        criterion: true,
        repeats: 3,
        duration: 10.0,
    };
    let mut explicit = (None, None);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match *arg {
            "--quick" => options.quick = true,
            "--kafka" => options.kafka_only = true,
            "--translators" => options.translators_only = true,
            "--no-criterion" => options.criterion = false,
            "--repeats" => {
                let value = iter.next().ok_or("--repeats needs a value")?;
                explicit.0 = Some(
                    value
                        .parse::<usize>()
                        .map_err(|e| format!("--repeats: {e}"))?
                        .max(1),
                );
            }
            "--duration" => {
                let value = iter.next().ok_or("--duration needs a value")?;
                explicit.1 = Some(
                    value
                        .parse::<f64>()
                        .map_err(|e| format!("--duration: {e}"))?
                        .max(2.0),
                );
            }
            other => {
                return Err(format!(
                    "bench: unknown argument {other:?} (expected --quick, --kafka, --translators, --no-criterion, --repeats N, --duration SECONDS)"
                ));
            }
        }
    }
    if options.quick || options.kafka_only || options.translators_only {
        options.criterion = false;
    }
    if options.quick {
        options.repeats = 1;
        options.duration = 3.0;
    }
    if let Some(repeats) = explicit.0 {
        options.repeats = repeats;
    }
    if let Some(duration) = explicit.1 {
        options.duration = duration;
    }
    Ok(options)
}

/// `cargo xtask bench`.
pub fn run(root: &Path, args: &[&str]) -> Result {
    let options = parse(args)?;
    let started = Instant::now();
    if options.criterion {
        eprintln!("bench: criterion suite (cargo bench -p otlp-benches)");
        cargo(root, &["bench", "-p", "otlp-benches"])?;
    }
    eprintln!("bench: building otlp-collector, loadgen and sink (release)");
    // Two invocations, so that the bench binaries' features do not change the collector's build.
    cargo(root, &["build", "--release", "-p", "otlp-collector"])?;
    cargo(
        root,
        &["build", "--release", "-p", "otlp-benches", "--bins"],
    )?;
    let peers = crate::peers::ensure(root)?;
    let release = root.join("target/release");
    let bins = Bins {
        collector: release.join("otlp-collector"),
        rotel: peers.rotel.clone(),
        otelcol_go: peers.otelcol_go.clone(),
        otelcol_contrib_go: peers.otelcol_contrib_go.clone(),
        loadgen: release.join("loadgen"),
        sink: release.join("sink"),
    };
    let translators_bin = release.join("translators");
    if options.kafka_only {
        return kafka::run(root, &bins, &peers.kafka, &options);
    }
    if options.translators_only {
        return translators::run(root, &translators_bin, &peers.translators_go, &options);
    }
    let work = root.join("target/bench-e2e");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let scenarios: &[Scenario] = if options.quick {
        &QUICK_SCENARIOS
    } else {
        &SCENARIOS
    };
    let cases: Vec<(Scenario, Collector)> = scenarios
        .iter()
        .flat_map(|&scenario| {
            COLLECTORS
                .into_iter()
                .filter(move |&collector| supports(collector, scenario))
                .map(move |collector| (scenario, collector))
        })
        .collect();
    let total = options.repeats * cases.len();
    let mut results: BTreeMap<(Scenario, Collector), Vec<Sample>> = BTreeMap::new();
    let mut done = 0;
    for repeat in 1..=options.repeats {
        for &(scenario, collector) in &cases {
            progress(
                done,
                total,
                &format!("{} {} #{repeat}", collector.name(), scenario.short()),
            );
            let dir = work.join(format!("{}-{}-{repeat}", collector.slug(), scenario.slug()));
            let sample = run_case(&bins, collector, scenario, options.duration, &dir)?;
            eprintln!(
                "    {:>9} {unit}/s at sink, {:.2} CPU-s/M {unit}, peak RSS {:.1} MiB, lost {} of {} acknowledged{}",
                group(sample.sink_rate, 0),
                sample.cpu_per_million,
                sample.peak_rss_mib,
                sample.lost,
                sample.acked,
                if sample.failed > 0 {
                    format!(", {} failed requests", sample.failed)
                } else {
                    String::new()
                },
                unit = scenario.unit(),
            );
            results
                .entry((scenario, collector))
                .or_default()
                .push(sample);
            done += 1;
        }
    }
    progress(done, total, "done");

    let environment = environment(root, &bins);
    let elapsed = started.elapsed().as_secs_f64();
    let section = report(&options, &environment, scenarios, &results, elapsed);
    let svg = chart(scenarios, &results);
    if options.quick {
        let md = root.join("target/bench-quick.md");
        write(&md, &section)?;
        write(&root.join("target/bench-quick.svg"), &svg)?;
        eprintln!("bench: wrote {} ({elapsed:.0} s)", md.display());
        let problems = problems(&results);
        if !problems.is_empty() {
            return Err(format!(
                "bench --quick: items lost or not delivered:\n  {}",
                problems.join("\n  ")
            ));
        }
    } else {
        let docs = root.join("docs/benchmarks.md");
        let old = fs::read_to_string(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
        write(&docs, &replace_section(&old, &section))?;
        write(&root.join("docs/benchmarks.svg"), &svg)?;
        eprintln!("bench: wrote docs/benchmarks.md and docs/benchmarks.svg ({elapsed:.0} s)");
        kafka::run(root, &bins, &peers.kafka, &options)?;
        translators::run(root, &translators_bin, &peers.translators_go, &options)?;
    }
    Ok(())
}

/// The cases that lost an item, had a request fail or delivered nothing (what `--quick`
/// fails on).
fn problems(results: &BTreeMap<(Scenario, Collector), Vec<Sample>>) -> Vec<String> {
    let mut problems = Vec::new();
    for ((scenario, collector), samples) in results {
        for sample in samples {
            if sample.lost != 0 || sample.received == 0 || sample.failed != 0 {
                problems.push(format!(
                    "{} {}: {} {unit} acknowledged, {} received at the sink, {} failed requests",
                    collector.name(),
                    scenario.label(),
                    sample.acked,
                    sample.received,
                    sample.failed,
                    unit = scenario.unit(),
                ));
            }
        }
    }
    problems
}

fn cargo(root: &Path, args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo {}: {e}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed: {status}", args.join(" ")))
    }
}

fn write(path: &Path, contents: &str) -> Result {
    fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

fn progress(done: usize, total: usize, what: &str) {
    const WIDTH: usize = 24;
    let filled = WIDTH * done / total.max(1);
    eprintln!(
        "[{}{}] {done}/{total} {what}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    );
}

struct Bins {
    collector: PathBuf,
    rotel: PathBuf,
    otelcol_go: PathBuf,
    otelcol_contrib_go: PathBuf,
    loadgen: PathBuf,
    sink: PathBuf,
}

/// A child process killed (and reaped) when dropped.
struct Guard {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Guard {
    fn spawn(name: &str, mut command: Command, dir: &Path) -> Result<Guard> {
        let out = fs::File::create(dir.join(format!("{name}.out"))).map_err(|e| e.to_string())?;
        let err = fs::File::create(dir.join(format!("{name}.err"))).map_err(|e| e.to_string())?;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .env("NO_PROXY", "*")
            .env("no_proxy", "*")
            .spawn()
            .map_err(|e| format!("{name}: {e}"))?;
        let stdin = child.stdin.take();
        Ok(Guard {
            name: name.to_owned(),
            child,
            stdin,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn check_alive(&mut self, dir: &Path) -> Result {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            status => {
                let log =
                    fs::read_to_string(dir.join(format!("{}.err", self.name))).unwrap_or_default();
                let tail: String = log
                    .lines()
                    .rev()
                    .take(10)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                Err(format!("{} exited early ({status:?}):\n{tail}", self.name))
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener.local_addr().map_err(|e| e.to_string())
}

fn wait_listening(guard: &mut Guard, addr: SocketAddr, dir: &Path) -> Result {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        guard.check_alive(dir)?;
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{} did not listen on {addr} within 20 s",
        guard.name
    ))
}

fn sink_count(path: &Path) -> Option<u64> {
    fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU ticks (utime + stime) of a process.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("bad /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let get = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or("bad /proc stat field")
    };
    Ok(get(14)? + get(15)?)
}

/// Peak resident set size, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// A `kB` line of `/proc/<pid>/status`.
fn status_kib(pid: u32, key: &str) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
}

/// How long after a maximum-rate run's drain the collector's RSS is read again.
const SETTLE: Duration = Duration::from_secs(3);

/// The collector's listen addresses and its destination.
struct Ports {
    grpc: SocketAddr,
    http: SocketAddr,
    sink: SocketAddr,
}

/// The otelcol-format config of otlp-collector and of the Go collector: the OTLP receiver on
/// both protocols, the batch processor and an OTLP/gRPC exporter with gzip, in a pipeline per
/// signal. Only the exporter's type name differs (`otlp` is ours; the Go release calls it
/// `otlp_grpc`, `otlp` there being a deprecated alias).
fn otelcol_config(exporter: &str, ports: &Ports) -> String {
    let Ports { grpc, http, sink } = ports;
    let mut config = format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    send_batch_size: {BATCH_MAX}
    send_batch_max_size: {BATCH_MAX}
    timeout: {BATCH_TIMEOUT}
exporters:
  {exporter}:
    endpoint: {sink}
    tls:
      insecure: true
    compression: gzip
service:
  telemetry:
    metrics:
      level: none
  pipelines:
"
    );
    for signal in ["traces", "metrics", "logs"] {
        let _ = write!(
            config,
            "    {signal}:
      receivers: [otlp]
      processors: [batch]
      exporters: [{exporter}]
"
        );
    }
    config
}

fn start_collector(bins: &Bins, collector: Collector, ports: &Ports, dir: &Path) -> Result<Guard> {
    let command = match collector {
        Collector::Ours | Collector::OtelcolGo => {
            let (binary, exporter) = match collector {
                Collector::Ours => (&bins.collector, "otlp"),
                _ => (&bins.otelcol_go, "otlp_grpc"),
            };
            let config = dir.join("collector.yaml");
            write(&config, &otelcol_config(exporter, ports))?;
            let mut command = Command::new(binary);
            command.arg("--config").arg(&config).env_remove("RUST_LOG");
            command
        }
        Collector::Rotel => {
            let mut command = Command::new(&bins.rotel);
            command
                .arg("start")
                .args(["--otlp-grpc-endpoint", &ports.grpc.to_string()])
                .args(["--otlp-http-endpoint", &ports.http.to_string()])
                .args(["--exporter", "otlp"])
                .args([
                    "--otlp-exporter-endpoint",
                    &format!("http://{}", ports.sink),
                ])
                .args(["--otlp-exporter-protocol", "grpc"])
                .args(["--otlp-exporter-compression", "gzip"])
                .args(["--batch-max-size", &BATCH_MAX.to_string()])
                .args(["--batch-timeout", BATCH_TIMEOUT])
                .arg("--pid-file")
                .arg(dir.join("rotel.pid"))
                .arg("--log-file")
                .arg(dir.join("rotel.log"));
            command
        }
    };
    let mut guard = Guard::spawn(collector.slug(), command, dir)?;
    wait_listening(&mut guard, ports.grpc, dir)?;
    wait_listening(&mut guard, ports.http, dir)?;
    Ok(guard)
}

fn run_case(
    bins: &Bins,
    collector: Collector,
    scenario: Scenario,
    duration: f64,
    dir: &Path,
) -> Result<Sample> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let sink_addr = free_addr()?;
    let count_file = dir.join("sink.count");
    let mut sink_command = Command::new(&bins.sink);
    sink_command
        .args(["--grpc", &sink_addr.to_string()])
        .arg("--count-file")
        .arg(&count_file);
    let mut sink = Guard::spawn("sink", sink_command, dir)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sink_count(&count_file).is_none() {
        sink.check_alive(dir)?;
        if Instant::now() > deadline {
            return Err("the sink did not start within 10 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    let ports = Ports {
        grpc: free_addr()?,
        http: free_addr()?,
        sink: sink_addr,
    };
    let mut server = start_collector(bins, collector, &ports, dir)?;
    let pid = server.pid();
    let cpu_before = cpu_ticks(pid)?;

    let (endpoint, protocol) = match scenario.input {
        Input::Grpc => (ports.grpc, "grpc"),
        Input::HttpProtobuf => (ports.http, "http/protobuf"),
    };
    let mut loadgen_command = Command::new(&bins.loadgen);
    loadgen_command
        .args(["--endpoint", &format!("http://{endpoint}")])
        .args(["--protocol", protocol])
        .args(["--compression", "none"])
        .args(["--signal", scenario.signal()])
        .args(["--rate", &scenario.rate.to_string()])
        .args(["--concurrency", &scenario.concurrency().to_string()])
        .args(["--batch", &BATCH.to_string()])
        .args(["--duration", &duration.to_string()]);
    let mut loadgen = Guard::spawn("loadgen", loadgen_command, dir)?;
    let start = Instant::now();
    let warmup = Duration::from_secs(1);
    let mut window_start: Option<(Instant, u64)> = None;
    let window_end = loop {
        std::thread::sleep(Duration::from_millis(50));
        if window_start.is_none() && start.elapsed() >= warmup {
            window_start = sink_count(&count_file).map(|count| (Instant::now(), count));
        }
        match loadgen.child.try_wait() {
            Ok(Some(status)) if status.success() => {
                break (Instant::now(), sink_count(&count_file).unwrap_or(0));
            }
            Ok(Some(status)) => {
                return Err(format!("loadgen failed: {status}; see {}", dir.display()));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("loadgen: {e}")),
        }
        if start.elapsed() > Duration::from_secs_f64(duration + 60.0) {
            return Err("loadgen did not finish".to_owned());
        }
        server.check_alive(dir)?;
    };
    let summary_text = fs::read_to_string(dir.join("loadgen.out")).map_err(|e| e.to_string())?;
    let summary: Value = serde_json::from_str(summary_text.trim())
        .map_err(|e| format!("loadgen summary {summary_text:?}: {e}"))?;
    let acked = summary["acked_items"].as_u64().unwrap_or(0);
    let failed = summary["failed_requests"].as_u64().unwrap_or(0);

    // Drain: until the sink has everything acknowledged, or its count stops moving for 2 s
    // (bounded at 30 s).
    let drain_deadline = Instant::now() + Duration::from_secs(30);
    let (mut last, mut last_change) = (sink_count(&count_file).unwrap_or(0), Instant::now());
    while last < acked
        && last_change.elapsed() < Duration::from_secs(2)
        && Instant::now() < drain_deadline
    {
        std::thread::sleep(Duration::from_millis(50));
        let now = sink_count(&count_file).unwrap_or(last);
        if now != last {
            (last, last_change) = (now, Instant::now());
        }
    }
    let cpu_after = cpu_ticks(pid)?;
    let rss = peak_rss_kib(pid)?;
    let settled_rss = if scenario.rate == 0 {
        std::thread::sleep(SETTLE);
        server.check_alive(dir)?;
        status_kib(pid, "VmRSS:")? as f64 / 1024.0
    } else {
        f64::NAN
    };
    drop(server);
    drop(loadgen);
    drop(sink);
    let received = sink_count(&count_file).unwrap_or(last);

    let (window_t, window_n) = window_start.unwrap_or((start, 0));
    let window = window_end
        .0
        .saturating_duration_since(window_t)
        .as_secs_f64();
    let sink_rate = if window > 0.2 {
        window_end.1.saturating_sub(window_n) as f64 / window
    } else {
        received as f64 / start.elapsed().as_secs_f64()
    };
    let cpu_seconds = cpu_after.saturating_sub(cpu_before) as f64 / TICKS_PER_SECOND;
    Ok(Sample {
        sink_rate,
        cpu_per_million: if received > 0 {
            cpu_seconds / (received as f64 / 1e6)
        } else {
            f64::NAN
        },
        peak_rss_mib: rss as f64 / 1024.0,
        settled_rss_mib: settled_rss,
        lost: acked as i64 - received as i64,
        acked,
        received,
        failed,
    })
}

fn command_line(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn environment(root: &Path, bins: &Bins) -> Vec<(String, String)> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:").map(|v| {
                    v.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .unwrap_or(0.0)
                })
            })
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    vec![
        (
            "machine".to_owned(),
            format!(
                "{model}, {cores} cores, {mem_gib:.0} GiB, {} {}",
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
        ),
        (
            "rustc".to_owned(),
            command_line(Path::new("rustc"), &["-V"]),
        ),
        (
            "otlp-collector".to_owned(),
            format!(
                "{} (commit {commit}, release profile)",
                command_line(&bins.collector, &["--version"])
            ),
        ),
        (
            "rotel".to_owned(),
            command_line(&bins.rotel, &["--version"]),
        ),
        (
            "otelcol (Go)".to_owned(),
            format!(
                "{} (core components: otlp receiver, batch, otlp_grpc exporter)",
                command_line(&bins.otelcol_go, &["--version"])
            ),
        ),
    ]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Median, minimum and maximum of one figure.
fn stats(samples: &[Sample], figure: fn(&Sample) -> f64) -> (f64, f64, f64) {
    let mut values: Vec<f64> = samples.iter().map(figure).collect();
    let med = median(&mut values);
    (
        med,
        values.first().copied().unwrap_or(f64::NAN),
        values.last().copied().unwrap_or(f64::NAN),
    )
}

/// `1234567.8` → `1 234 568` (thin grouping with spaces, as the rest of the document).
fn group(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let text = format!("{value:.decimals$}");
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

struct Figure {
    name: &'static str,
    /// The unit; `{unit}` stands for the scenario's (`spans` or `items`).
    unit: &'static str,
    decimals: usize,
    get: fn(&Sample) -> f64,
}

impl Figure {
    fn unit(&self, scenario: Scenario) -> String {
        self.unit.replace("{unit}", scenario.unit())
    }
}

const RATE: Figure = Figure {
    name: "rate at the sink",
    unit: "{unit}/s",
    decimals: 0,
    get: |s| s.sink_rate,
};
const CPU: Figure = Figure {
    name: "CPU-seconds per million {unit}",
    unit: "CPU-s/M",
    decimals: 2,
    get: |s| s.cpu_per_million,
};
const RSS: Figure = Figure {
    name: "peak RSS",
    unit: "MiB",
    decimals: 1,
    get: |s| s.peak_rss_mib,
};
const SETTLED_RSS: Figure = Figure {
    name: "RSS 3 s after the drain",
    unit: "MiB",
    decimals: 1,
    get: |s| s.settled_rss_mib,
};
const LOST: Figure = Figure {
    name: "lost",
    unit: "{unit}",
    decimals: 0,
    get: |s| s.lost as f64,
};
/// Items per CPU-second of the collector: the inverse of [`CPU`].
const PER_CPU_SECOND: Figure = Figure {
    name: "throughput per CPU-second",
    unit: "{unit}/CPU-s",
    decimals: 0,
    get: |s| 1e6 / s.cpu_per_million,
};

const FIGURES: [&Figure; 5] = [&RATE, &CPU, &RSS, &SETTLED_RSS, &LOST];

/// One target of issue 17: otlp-collector's median `figure` in `scenario` against `against`'s,
/// at most (`at_least == false`) or at least `bound` times it.
struct Target {
    goal: &'static str,
    scenario: Scenario,
    figure: &'static Figure,
    against: Collector,
    bound: f64,
    at_least: bool,
}

const TARGETS: [Target; 5] = [
    Target {
        goal: "CPU per span at 20 000 spans/s ≤ 0.33× rotel's",
        scenario: GRPC_TRACES_FIXED,
        figure: &CPU,
        against: Collector::Rotel,
        bound: 0.33,
        at_least: false,
    },
    Target {
        goal: "peak RSS ≤ 0.5× rotel's",
        scenario: GRPC_TRACES_FIXED,
        figure: &RSS,
        against: Collector::Rotel,
        bound: 0.5,
        at_least: false,
    },
    Target {
        goal: "maximum rate ≥ 2× rotel's",
        scenario: GRPC_TRACES_MAX,
        figure: &RATE,
        against: Collector::Rotel,
        bound: 2.0,
        at_least: true,
    },
    Target {
        goal: "throughput per CPU-second ≥ 3× Go's",
        scenario: GRPC_TRACES_MAX,
        figure: &PER_CPU_SECOND,
        against: Collector::OtelcolGo,
        bound: 3.0,
        at_least: true,
    },
    Target {
        goal: "throughput per CPU-second ≥ 3× Go's",
        scenario: GRPC_TRACES_FIXED,
        figure: &PER_CPU_SECOND,
        against: Collector::OtelcolGo,
        bound: 3.0,
        at_least: true,
    },
];

type Results = BTreeMap<(Scenario, Collector), Vec<Sample>>;

/// The median, minimum and maximum of `figure` for one collector in one scenario.
fn cell(
    results: &Results,
    scenario: Scenario,
    collector: Collector,
    figure: &Figure,
) -> Option<(f64, f64, f64)> {
    results
        .get(&(scenario, collector))
        .filter(|samples| !samples.is_empty())
        .map(|samples| stats(samples, figure.get))
}

/// otlp-collector's median over `other`'s, when both are finite and the divisor is not zero.
fn ratio(results: &Results, scenario: Scenario, other: Collector, figure: &Figure) -> Option<f64> {
    let ours = cell(results, scenario, Collector::Ours, figure)?.0;
    let theirs = cell(results, scenario, other, figure)?.0;
    (ours.is_finite() && theirs.is_finite() && theirs != 0.0).then(|| ours / theirs)
}

fn report(
    options: &Options,
    environment: &[(String, String)],
    scenarios: &[Scenario],
    results: &Results,
    elapsed: f64,
) -> String {
    let mut out = String::new();
    let command = if options.quick {
        "cargo xtask bench --quick".to_owned()
    } else {
        "cargo xtask bench".to_owned()
    };
    let _ = writeln!(
        out,
        "## End to end: otlp-collector, rotel and otelcol (Go)\n"
    );
    let _ = writeln!(
        out,
        "Generated by `{command}` (repeats: {}, {} s of load per case, {elapsed:.0} s in all); \
         do not edit by hand between the markers.\n",
        options.repeats, options.duration
    );
    let _ = writeln!(
        out,
        "Chain, all on 127.0.0.1: `loadgen` (otlp-benches; {BATCH} realistic items per request, \
         pre-encoded, retries off) → collector (OTLP receiver on gRPC and HTTP → batch of at \
         most {BATCH_MAX} items or {BATCH_TIMEOUT} → OTLP/gRPC exporter; one such pipeline per \
         signal) → `sink` (otlp-benches; decodes every request fully and counts items). An item \
         is a span, a metric data point or a log record. Fixed-rate scenarios are open loop with \
         at most {FIXED_CONCURRENCY} requests in flight; the maximum-rate one is closed loop \
         ({MAX_CONCURRENCY} senders, each sending its next request when the previous one is \
         acknowledged). \"metrics + logs\" alternates a request of {BATCH} metric data points \
         (a request-duration histogram, two sums and a gauge, several attribute sets each) and \
         one of {BATCH} log records (access-log lines with trace context); its rate counts \
         both. Generator, collector and sink share the machine's cores.\n"
    );
    let _ = writeln!(
        out,
        "Compression, the same for every collector: **loadgen → collector uncompressed** in \
         every scenario (OTLP/gRPC, or OTLP/HTTP protobuf where the scenario says so); \
         **collector → sink OTLP/gRPC with gzip**, each at its own default level: otlp-collector \
         `compression: gzip`, otelcol (Go) `otlp_grpc` with `compression: gzip` (its default), \
         rotel `--otlp-exporter-compression gzip` (its default; rotel gzips its exports \
         whatever it is told).\n"
    );
    let _ = writeln!(
        out,
        "Figures: items/s arriving at the sink between 1 s after the start and the end of the \
         load; the collector's CPU time (utime + stime, `/proc/<pid>/stat`) from just before \
         the load to the end of the drain, per million items delivered; its peak RSS (`VmHWM`); \
         items lost = acknowledged to the generator − counted by the sink. Medians{} over the \
         repeats; the ratios are otlp-collector's median over the other's (below 1 is better \
         for CPU and RSS, above 1 for the rate).\n",
        if options.repeats > 1 {
            " with min–max"
        } else {
            ""
        }
    );
    for (key, value) in environment {
        let _ = writeln!(out, "- {key}: {value}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| scenario | figure | otlp-collector | rotel | otelcol (Go) | otlp-collector / rotel | otlp-collector / otelcol (Go) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for &scenario in scenarios {
        for &figure in &FIGURES {
            if figure.name == SETTLED_RSS.name && scenario.rate != 0 {
                continue;
            }
            let show = |collector| match cell(results, scenario, collector, figure) {
                Some((med, min, max)) if options.repeats > 1 => format!(
                    "{} ({}–{})",
                    group(med, figure.decimals),
                    group(min, figure.decimals),
                    group(max, figure.decimals)
                ),
                Some((med, _, _)) => group(med, figure.decimals),
                None => "n/a".to_owned(),
            };
            let show_ratio = |other| match ratio(results, scenario, other, figure) {
                Some(r) if figure.name != LOST.name => format!("{r:.2}"),
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} | {} | {} | {} | {} |",
                scenario.label(),
                figure.name.replace("{unit}", scenario.unit()),
                figure.unit(scenario),
                show(Collector::Ours),
                show(Collector::Rotel),
                show(Collector::OtelcolGo),
                show_ratio(Collector::Rotel),
                show_ratio(Collector::OtelcolGo)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n### Against the targets of issue 17\n\nComputed from the medians above; \
         \"n/a\" where a scenario was not run.\n"
    );
    let _ = writeln!(
        out,
        "| target | scenario | otlp-collector | rotel | otelcol (Go) | measured | met? |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for target in &TARGETS {
        let figure = target.figure;
        let scenario = target.scenario;
        let show = |collector| {
            cell(results, scenario, collector, figure).map_or("n/a".to_owned(), |(med, _, _)| {
                format!("{} {}", group(med, figure.decimals), figure.unit(scenario))
            })
        };
        let measured = ratio(results, scenario, target.against, figure);
        let met = match measured {
            Some(r)
                if (target.at_least && r >= target.bound)
                    || (!target.at_least && r <= target.bound) =>
            {
                "met"
            }
            Some(_) => "not met",
            None => "–",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {met} |",
            target.goal,
            scenario.label(),
            show(Collector::Ours),
            show(Collector::Rotel),
            show(Collector::OtelcolGo),
            measured.map_or("n/a".to_owned(), |r| format!(
                "{r:.2}× {}",
                target.against.name()
            )),
        );
    }
    let lost: i64 = results.values().flatten().map(|s| s.lost.max(0)).sum();
    let failed: u64 = results.values().flatten().map(|s| s.failed).sum();
    let _ = writeln!(
        out,
        "| nothing lost | every case, every collector | – | – | – | {lost} items lost, {failed} requests failed | {} |",
        if lost == 0 && failed == 0 {
            "met"
        } else {
            "not met"
        }
    );
    let _ = writeln!(
        out,
        "\nChart: {} (same medians).",
        if options.quick {
            "`target/bench-quick.svg`"
        } else {
            "[benchmarks.svg](benchmarks.svg)"
        }
    );
    out
}

fn replace_section(old: &str, section: &str) -> String {
    let block = format!("{START_MARKER}\n{section}{END_MARKER}");
    match (old.find(START_MARKER), old.find(END_MARKER)) {
        (Some(start), Some(end)) if end > start => {
            format!("{}{block}{}", &old[..start], &old[end + END_MARKER.len()..])
        }
        _ => format!("{}\n{block}\n", old.trim_end()),
    }
}

/// A grouped bar chart, one panel per figure (lost items are in the table), one group per
/// scenario, one bar per collector; hand-written SVG.
fn chart(scenarios: &[Scenario], results: &Results) -> String {
    const PANEL_W: f64 = 380.0;
    const PANEL_H: f64 = 220.0;
    const TOP: f64 = 50.0;
    const LEFT: f64 = 20.0;
    let figures = &FIGURES[..3];
    let width = LEFT + PANEL_W * figures.len() as f64 + 20.0;
    let height = TOP + PANEL_H + 70.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">End to end: otlp-collector, rotel and otelcol (Go) (medians)</text>"#
    );
    for (i, collector) in COLLECTORS.iter().enumerate() {
        let x = LEFT + 560.0 + i as f64 * 130.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="10" width="12" height="12" fill="{}"/><text x="{}" y="20">{}</text>"#,
            collector.color(),
            x + 16.0,
            collector.name()
        );
    }
    for (p, figure) in figures.iter().enumerate() {
        let x0 = LEFT + PANEL_W * p as f64;
        let base = TOP + PANEL_H;
        let values: Vec<Vec<f64>> = scenarios
            .iter()
            .map(|&s| {
                COLLECTORS
                    .iter()
                    .map(|&c| cell(results, s, c, figure).map_or(f64::NAN, |v| v.0))
                    .collect()
            })
            .collect();
        let max = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
            .max(1e-9);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-weight="bold">{} ({})</text>"#,
            x0 + 10.0,
            TOP - 12.0,
            figure.name.replace("{unit}", "items"),
            figure.unit.replace("{unit}", "items")
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{base}" x2="{}" y2="{base}" stroke="#333"/>"##,
            x0 + 5.0,
            x0 + PANEL_W - 15.0
        );
        let group_w = (PANEL_W - 30.0) / scenarios.len().max(1) as f64;
        let bar_w = (group_w - 12.0) / COLLECTORS.len() as f64;
        for (g, scenario) in scenarios.iter().enumerate() {
            let gx = x0 + 10.0 + group_w * g as f64;
            for (b, collector) in COLLECTORS.iter().enumerate() {
                let value = values[g][b];
                let h = if value.is_finite() {
                    (value / max * (PANEL_H - 20.0)).max(0.0)
                } else {
                    0.0
                };
                let bx = gx + 6.0 + bar_w * b as f64;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                    base - h,
                    bar_w - 2.0,
                    collector.color()
                );
                let label = if figure.decimals == 0 && value >= 10_000.0 {
                    format!("{:.0}k", value / 1000.0)
                } else {
                    group(value, figure.decimals.min(1))
                };
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="8">{label}</text>"#,
                    bx + (bar_w - 2.0) / 2.0,
                    base - h - 3.0
                );
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                gx + group_w / 2.0,
                base + 14.0,
                scenario.short()
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="{}" font-size="10" fill="#555">grpc/http = OTLP/gRPC or OTLP/HTTP protobuf traces in, m+l = metrics and logs; 20k = 20 000 items/s open loop, max = closed loop, {MAX_CONCURRENCY} senders. Uncompressed in, gzip out for all. Lower is better for CPU and RSS.</text>"##,
        height - 20.0
    );
    let _ = writeln!(svg, "</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits() {
        assert_eq!(group(1234567.0, 0), "1 234 567");
        assert_eq!(group(999.0, 0), "999");
        assert_eq!(group(12.345, 2), "12.35");
        assert_eq!(group(-1000.0, 0), "-1 000");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn replaces_only_the_marked_section() {
        let doc = "# A\n\ntext\n<!-- e2e:start -->\nold\n<!-- e2e:end -->\ntail\n";
        let new = replace_section(doc, "new\n");
        assert_eq!(
            new,
            "# A\n\ntext\n<!-- e2e:start -->\nnew\n<!-- e2e:end -->\ntail\n"
        );
        let appended = replace_section("# A\n", "new\n");
        assert_eq!(appended, "# A\n<!-- e2e:start -->\nnew\n<!-- e2e:end -->\n");
    }

    #[test]
    fn scenario_names_are_distinct_and_file_safe() {
        let slugs: std::collections::BTreeSet<String> =
            SCENARIOS.iter().map(|s| s.slug()).collect();
        assert_eq!(slugs.len(), SCENARIOS.len());
        for slug in slugs
            .iter()
            .map(String::as_str)
            .chain(COLLECTORS.map(Collector::slug))
        {
            assert!(
                slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{slug}"
            );
        }
        assert_eq!(SCENARIOS[0].label(), "OTLP/gRPC traces, 20 000 spans/s");
        assert_eq!(SCENARIOS[1].label(), "OTLP/gRPC traces, max rate");
        assert_eq!(
            SCENARIOS[3].label(),
            "OTLP/gRPC metrics + logs, 20 000 items/s"
        );
        assert!(QUICK_SCENARIOS.iter().all(|s| SCENARIOS.contains(s)));
    }

    fn sample(rate: f64, cpu: f64, rss: f64) -> Sample {
        Sample {
            sink_rate: rate,
            cpu_per_million: cpu,
            peak_rss_mib: rss,
            settled_rss_mib: f64::NAN,
            lost: 0,
            acked: 1000,
            received: 1000,
            failed: 0,
        }
    }

    #[test]
    fn report_has_every_collector_ratios_and_targets() {
        let mut results = Results::new();
        for (collector, cpu, rss, max) in [
            (Collector::Ours, 3.0, 20.0, 150_000.0),
            (Collector::Rotel, 10.0, 50.0, 50_000.0),
            (Collector::OtelcolGo, 12.0, 80.0, 40_000.0),
        ] {
            results.insert(
                (GRPC_TRACES_FIXED, collector),
                vec![sample(20_000.0, cpu, rss)],
            );
            results.insert((GRPC_TRACES_MAX, collector), vec![sample(max, cpu, rss)]);
        }
        let options = Options {
            quick: false,
            kafka_only: false,
            translators_only: false,
            criterion: false,
            repeats: 1,
            duration: 10.0,
        };
        let text = report(
            &options,
            &[],
            &[GRPC_TRACES_FIXED, GRPC_TRACES_MAX],
            &results,
            1.0,
        );
        assert!(text.contains(
            "| OTLP/gRPC traces, 20 000 spans/s | CPU-seconds per million spans (CPU-s/M) | 3.00 | 10.00 | 12.00 | 0.30 | 0.25 |"
        ));
        // 0.30 ≤ 0.33: met; RSS 0.40 ≤ 0.5: met; max rate 3.00 ≥ 2: met; per CPU-s 4× Go.
        assert!(text.contains("| 0.30× rotel | met |"), "{text}");
        assert!(text.contains("| 0.40× rotel | met |"), "{text}");
        assert!(text.contains("| 3.00× rotel | met |"), "{text}");
        assert!(text.contains("| 4.00× otelcol (Go) | met |"), "{text}");
        assert!(
            text.contains("| 0 items lost, 0 requests failed | met |"),
            "{text}"
        );
        let svg = chart(&[GRPC_TRACES_FIXED, GRPC_TRACES_MAX], &results);
        assert!(svg.contains("otelcol (Go)"));
    }

    #[test]
    fn quick_fails_on_a_loss_or_an_empty_case() {
        let mut results = Results::new();
        results.insert(
            (GRPC_TRACES_FIXED, Collector::Ours),
            vec![sample(1.0, 1.0, 1.0)],
        );
        assert!(problems(&results).is_empty());
        let mut lost = sample(1.0, 1.0, 1.0);
        lost.lost = 5;
        let mut empty = sample(0.0, f64::NAN, 1.0);
        empty.received = 0;
        results.insert((GRPC_TRACES_FIXED, Collector::OtelcolGo), vec![lost]);
        results.insert((GRPC_METRICS_LOGS_FIXED, Collector::Rotel), vec![empty]);
        assert_eq!(problems(&results).len(), 2);
    }
}
