//! `cargo xtask bench [--quick] [--no-criterion] [--repeats N] [--duration S]`: the benchmark
//! suite.
//!
//! 1. Unless `--quick` or `--no-criterion`: the criterion suite (`cargo bench -p otlp-benches`).
//! 2. The end-to-end comparison, for otlp-collector and for rotel (installed by
//!    `cargo xtask peers`): `loadgen → collector (OTLP/gRPC in, batch, OTLP/gRPC out) → sink`,
//!    all on 127.0.0.1, at a fixed rate of 20 000 spans/s and at maximum rate (closed loop),
//!    with and without gzip (on both hops; rotel always gzips its exports), each case repeated
//!    (3 times by default) with the collectors interleaved so drift hits both alike.
//!
//! Per case: spans/s arriving at the sink in the steady window (from 1 s after the load started
//! to its end), the collector's CPU-seconds per million spans (utime + stime from
//! `/proc/<pid>/stat`, in USER_HZ = 100 ticks per second, from just before the load to the end
//! of the drain), its peak RSS (`VmHWM` of `/proc/<pid>/status`) and the spans lost
//! (acknowledged by the collector to the generator but never counted by the sink).
//!
//! Output: the section between `<!-- e2e:start -->` and `<!-- e2e:end -->` of
//! `docs/benchmarks.md` and `docs/benchmarks.svg`. `--quick` runs one short case per collector
//! (20 000 spans/s, no compression, 3 s), writes `target/bench-quick.md` and `.svg` instead,
//! and fails if a span was lost or nothing arrived; it never checks a speed.
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

/// Spans per second of the fixed-rate scenario.
const FIXED_RATE: u64 = 20_000;
/// Spans per request sent by the load generator.
const BATCH: u64 = 100;
/// In-flight requests of the load generator.
const CONCURRENCY: u64 = 8;
/// The collectors' batch: at most this many spans, at most this long. 4096 realistic spans
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
}

impl Collector {
    fn name(self) -> &'static str {
        match self {
            Collector::Ours => "otlp-collector",
            Collector::Rotel => "rotel",
        }
    }
}

/// One scenario: a rate (0 = maximum) and a compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Scenario {
    rate: u64,
    gzip: bool,
}

impl Scenario {
    fn label(self) -> String {
        let rate = if self.rate == 0 {
            "max rate".to_owned()
        } else {
            format!("{} spans/s", group(self.rate as f64, 0))
        };
        format!(
            "{rate}, {}",
            if self.gzip { "gzip" } else { "no compression" }
        )
    }
    fn short(self) -> String {
        let rate = if self.rate == 0 {
            "max".to_owned()
        } else {
            format!("{}k", self.rate / 1000)
        };
        format!("{rate} {}", if self.gzip { "gzip" } else { "none" })
    }
}

/// What one case measured.
#[derive(Debug, Clone)]
struct Sample {
    sink_rate: f64,
    cpu_per_million: f64,
    peak_rss_mib: f64,
    lost: i64,
    acked: u64,
    received: u64,
    failed: u64,
}

struct Options {
    quick: bool,
    criterion: bool,
    repeats: usize,
    duration: f64,
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        quick: false,
        criterion: true,
        repeats: 3,
        duration: 10.0,
    };
    let mut explicit = (None, None);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match *arg {
            "--quick" => options.quick = true,
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
                    "bench: unknown argument {other:?} (expected --quick, --no-criterion, --repeats N, --duration SECONDS)"
                ));
            }
        }
    }
    if options.quick {
        options.criterion = false;
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
        loadgen: release.join("loadgen"),
        sink: release.join("sink"),
    };
    let work = root.join("target/bench-e2e");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let scenarios: Vec<Scenario> = if options.quick {
        vec![Scenario {
            rate: FIXED_RATE,
            gzip: false,
        }]
    } else {
        [FIXED_RATE, 0]
            .into_iter()
            .flat_map(|rate| [false, true].map(|gzip| Scenario { rate, gzip }))
            .collect()
    };
    let collectors = [Collector::Ours, Collector::Rotel];
    let total = options.repeats * scenarios.len() * collectors.len();
    let mut results: BTreeMap<(Scenario, Collector), Vec<Sample>> = BTreeMap::new();
    let mut done = 0;
    for repeat in 1..=options.repeats {
        for &scenario in &scenarios {
            for &collector in &collectors {
                progress(
                    done,
                    total,
                    &format!("{} {} #{repeat}", collector.name(), scenario.short()),
                );
                let dir = work.join(format!(
                    "{}-{}-{}",
                    collector.name(),
                    scenario.short().replace(' ', "-"),
                    repeat
                ));
                let sample = run_case(&bins, collector, scenario, options.duration, &dir)?;
                eprintln!(
                    "    {:>9} spans/s at sink, {:.2} CPU-s/M spans, peak RSS {:.1} MiB, lost {} of {} acknowledged{}",
                    group(sample.sink_rate, 0),
                    sample.cpu_per_million,
                    sample.peak_rss_mib,
                    sample.lost,
                    sample.acked,
                    if sample.failed > 0 {
                        format!(", {} failed requests", sample.failed)
                    } else {
                        String::new()
                    }
                );
                results
                    .entry((scenario, collector))
                    .or_default()
                    .push(sample);
                done += 1;
            }
        }
    }
    progress(done, total, "done");

    let environment = environment(root, &bins);
    let elapsed = started.elapsed().as_secs_f64();
    let section = report(&options, &environment, &scenarios, &results, elapsed);
    let svg = chart(&scenarios, &results);
    if options.quick {
        let md = root.join("target/bench-quick.md");
        write(&md, &section)?;
        write(&root.join("target/bench-quick.svg"), &svg)?;
        eprintln!("bench: wrote {} ({elapsed:.0} s)", md.display());
        let mut problems = Vec::new();
        for ((scenario, collector), samples) in &results {
            for sample in samples {
                if sample.lost != 0 || sample.received == 0 || sample.failed != 0 {
                    problems.push(format!(
                        "{} {}: {} acknowledged, {} received at the sink, {} failed requests",
                        collector.name(),
                        scenario.label(),
                        sample.acked,
                        sample.received,
                        sample.failed
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(format!(
                "bench --quick: spans lost or not delivered:\n  {}",
                problems.join("\n  ")
            ));
        }
    } else {
        let docs = root.join("docs/benchmarks.md");
        let old = fs::read_to_string(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
        write(&docs, &replace_section(&old, &section))?;
        write(&root.join("docs/benchmarks.svg"), &svg)?;
        eprintln!("bench: wrote docs/benchmarks.md and docs/benchmarks.svg ({elapsed:.0} s)");
    }
    Ok(())
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
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM".to_owned())
}

fn start_collector(
    bins: &Bins,
    collector: Collector,
    gzip: bool,
    grpc: SocketAddr,
    sink: SocketAddr,
    dir: &Path,
) -> Result<Guard> {
    let compression = if gzip { "gzip" } else { "none" };
    let command = match collector {
        Collector::Ours => {
            let config = dir.join("collector.yaml");
            write(
                &config,
                &format!(
                    "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
processors:
  batch:
    send_batch_size: {BATCH_MAX}
    send_batch_max_size: {BATCH_MAX}
    timeout: {BATCH_TIMEOUT}
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
    compression: {compression}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"
                ),
            )?;
            let mut command = Command::new(&bins.collector);
            command.arg("--config").arg(&config).env_remove("RUST_LOG");
            command
        }
        Collector::Rotel => {
            let http = free_addr()?;
            let mut command = Command::new(&bins.rotel);
            command
                .arg("start")
                .args(["--otlp-grpc-endpoint", &grpc.to_string()])
                .args(["--otlp-http-endpoint", &http.to_string()])
                .args(["--exporter", "otlp"])
                .args(["--otlp-exporter-endpoint", &format!("http://{sink}")])
                .args(["--otlp-exporter-protocol", "grpc"])
                .args(["--otlp-exporter-compression", compression])
                .args(["--batch-max-size", &BATCH_MAX.to_string()])
                .args(["--batch-timeout", BATCH_TIMEOUT])
                .arg("--pid-file")
                .arg(dir.join("rotel.pid"))
                .arg("--log-file")
                .arg(dir.join("rotel.log"));
            command
        }
    };
    let mut guard = Guard::spawn(collector.name(), command, dir)?;
    wait_listening(&mut guard, grpc, dir)?;
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

    let grpc = free_addr()?;
    let mut server = start_collector(bins, collector, scenario.gzip, grpc, sink_addr, dir)?;
    let pid = server.pid();
    let cpu_before = cpu_ticks(pid)?;

    let mut loadgen_command = Command::new(&bins.loadgen);
    loadgen_command
        .args(["--endpoint", &format!("http://{grpc}")])
        .args(["--protocol", "grpc"])
        .args(["--compression", if scenario.gzip { "gzip" } else { "none" }])
        .args(["--rate", &scenario.rate.to_string()])
        .args(["--concurrency", &CONCURRENCY.to_string()])
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
    let acked = summary["acked_spans"].as_u64().unwrap_or(0);
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
    unit: &'static str,
    decimals: usize,
    get: fn(&Sample) -> f64,
}

const FIGURES: [Figure; 4] = [
    Figure {
        name: "spans/s at the sink",
        unit: "spans/s",
        decimals: 0,
        get: |s| s.sink_rate,
    },
    Figure {
        name: "CPU-seconds per million spans",
        unit: "CPU-s/M",
        decimals: 2,
        get: |s| s.cpu_per_million,
    },
    Figure {
        name: "peak RSS",
        unit: "MiB",
        decimals: 1,
        get: |s| s.peak_rss_mib,
    },
    Figure {
        name: "spans lost",
        unit: "spans",
        decimals: 0,
        get: |s| s.lost as f64,
    },
];

fn report(
    options: &Options,
    environment: &[(String, String)],
    scenarios: &[Scenario],
    results: &BTreeMap<(Scenario, Collector), Vec<Sample>>,
    elapsed: f64,
) -> String {
    let mut out = String::new();
    let command = if options.quick {
        "cargo xtask bench --quick".to_owned()
    } else {
        "cargo xtask bench".to_owned()
    };
    let _ = writeln!(out, "## End to end: otlp-collector and rotel\n");
    let _ = writeln!(
        out,
        "Generated by `{command}` (repeats: {}, {} s of load per case, {elapsed:.0} s in all); \
         do not edit by hand between the markers.\n",
        options.repeats, options.duration
    );
    let _ = writeln!(
        out,
        "Chain, all on 127.0.0.1: `loadgen` (otlp-benches; {BATCH} realistic spans per request, \
         pre-encoded, {CONCURRENCY} requests in flight at most, retries off) → collector \
         (OTLP/gRPC receiver → batch of at most {BATCH_MAX} spans or {BATCH_TIMEOUT} → OTLP/gRPC \
         exporter) → `sink` (otlp-benches; decodes every request fully and counts spans). The \
         fixed-rate scenario is open loop; the maximum-rate one is closed loop (each of the \
         {CONCURRENCY} senders sends its next request when the previous one is acknowledged). \
         \"gzip\" compresses both hops; rotel gzips its exports whatever it is told, so in the \
         \"no compression\" rows rotel still compresses its output. Generator, collector and \
         sink share the machine's cores.\n"
    );
    let _ = writeln!(
        out,
        "Figures: spans/s arriving at the sink between 1 s after the start and the end of the \
         load; the collector's CPU time (utime + stime, `/proc/<pid>/stat`) from just before \
         the load to the end of the drain, per million spans delivered; its peak RSS (`VmHWM`); \
         spans lost = acknowledged to the generator − counted by the sink. Medians with min–max \
         over the repeats; the ratio is otlp-collector / rotel of the medians.\n"
    );
    for (key, value) in environment {
        let _ = writeln!(out, "- {key}: {value}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| scenario | figure | otlp-collector | rotel | otlp-collector / rotel |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for &scenario in scenarios {
        for figure in &FIGURES {
            let cell = |collector| {
                results
                    .get(&(scenario, collector))
                    .map(|samples| stats(samples, figure.get))
            };
            let (ours, theirs) = (cell(Collector::Ours), cell(Collector::Rotel));
            let show = |s: Option<(f64, f64, f64)>| match s {
                Some((med, min, max)) if options.repeats > 1 => format!(
                    "{} ({}–{})",
                    group(med, figure.decimals),
                    group(min, figure.decimals),
                    group(max, figure.decimals)
                ),
                Some((med, _, _)) => group(med, figure.decimals),
                None => "n/a".to_owned(),
            };
            let ratio = match (ours, theirs) {
                (Some((a, _, _)), Some((b, _, _)))
                    if b != 0.0 && a.is_finite() && b.is_finite() =>
                {
                    format!("{:.2}", a / b)
                }
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} | {} | {ratio} |",
                scenario.label(),
                figure.name,
                figure.unit,
                show(ours),
                show(theirs)
            );
        }
    }
    let _ = writeln!(
        out,
        "\nChart: [benchmarks.svg](benchmarks.svg) (same medians)."
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

/// A grouped bar chart, one panel per figure (lost spans are in the table), one group per
/// scenario, one bar per collector; hand-written SVG.
fn chart(scenarios: &[Scenario], results: &BTreeMap<(Scenario, Collector), Vec<Sample>>) -> String {
    const PANEL_W: f64 = 300.0;
    const PANEL_H: f64 = 220.0;
    const TOP: f64 = 50.0;
    const LEFT: f64 = 20.0;
    let colors = [(Collector::Ours, "#1f77b4"), (Collector::Rotel, "#ff7f0e")];
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
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">End to end: otlp-collector vs rotel (medians)</text>"#
    );
    for (i, (collector, color)) in colors.iter().enumerate() {
        let x = LEFT + 380.0 + i as f64 * 130.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="10" width="12" height="12" fill="{color}"/><text x="{}" y="20">{}</text>"#,
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
                colors
                    .iter()
                    .map(|(c, _)| {
                        results
                            .get(&(s, *c))
                            .map_or(f64::NAN, |v| stats(v, figure.get).0)
                    })
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
            figure.name,
            figure.unit
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{base}" x2="{}" y2="{base}" stroke="#333"/>"##,
            x0 + 5.0,
            x0 + PANEL_W - 15.0
        );
        let group_w = (PANEL_W - 30.0) / scenarios.len().max(1) as f64;
        let bar_w = (group_w - 12.0) / colors.len() as f64;
        for (g, scenario) in scenarios.iter().enumerate() {
            let gx = x0 + 10.0 + group_w * g as f64;
            for (b, (_, color)) in colors.iter().enumerate() {
                let value = values[g][b];
                let h = if value.is_finite() {
                    (value / max * (PANEL_H - 20.0)).max(0.0)
                } else {
                    0.0
                };
                let bx = gx + 6.0 + bar_w * b as f64;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{color}"/>"#,
                    base - h,
                    bar_w - 2.0
                );
                let label = if figure.decimals == 0 && value >= 10_000.0 {
                    format!("{:.0}k", value / 1000.0)
                } else {
                    group(value, figure.decimals.min(1))
                };
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9">{label}</text>"#,
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
        r##"<text x="{LEFT}" y="{}" font-size="10" fill="#555">20k = 20 000 spans/s open loop; max = closed loop, 8 requests in flight; none/gzip = compression. Lower is better for CPU and RSS.</text>"##,
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
}
