//! `cargo xtask bench --kafka` (and the full `cargo xtask bench`): the Kafka pair side by side.
//!
//! The chain is `loadgen → agent (otlp receiver → batch → kafka exporter) → Apache Kafka →
//! gateway (kafka receiver → batch → otlp exporter) → sink`, all on 127.0.0.1, once with
//! otlp-collector as agent and gateway and once with the Go collector (`otelcol-contrib-go`,
//! our build of its contrib `kafka` exporter and receiver, installed by `cargo xtask peers`),
//! interleaved, on **the same broker** (one Kafka 4.0.2 KRaft node started for the whole run
//! by the peers' launcher and stopped by its PID). The same work for both: the same config
//! text (only the OTLP exporter's type name differs), OTLP/gRPC traces at [`RATE`] spans/s in
//! requests of 200 spans, batches of [`BATCH`] spans (under Kafka's default 1 MB message
//! limit, so neither splits), `otlp_proto` encoding, no Kafka compression, acks from the
//! leader (`required_acks: 1`, both defaults), one topic of one partition per case (created
//! just before it with Kafka's `TopicCommand`), read by a new consumer group from the earliest
//! offset, and the gateway's OTLP export to the sink without compression. The run's first
//! case also pays for the broker creating `__consumer_offsets` (the first consumer group
//! ever): medians over the repeats keep it out.
//!
//! Per case: how long after the load started the first span reached the sink and how long
//! after it ended the last one did (every case offers the same 200 000 spans), CPU-seconds
//! per million spans of the agent and of the gateway (utime + stime from `/proc`; the
//! broker's too, for the scale-out model), each one's peak RSS, and the spans lost
//! (acknowledged to the load generator but never counted by the sink). The report is the
//! section between `<!-- kafka:start -->` and `<!-- kafka:end -->` of `docs/benchmarks.md`:
//! medians over the repeats and the ratios ours / Go.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    Bins, Guard, Options, cpu_ticks, free_addr, group, median, peak_rss_kib, sink_count,
    wait_listening, write,
};
use crate::Result;
use crate::peers::kafka::Broker;

/// Spans per second offered by the load generator.
const RATE: u64 = 20_000;
/// Spans per request of the load generator.
const REQUEST: u64 = 200;
/// Requests in flight at most.
const CONCURRENCY: u64 = 4;
/// The batch processor's size in front of the kafka exporter and of the otlp exporter: 1000
/// spans of the generator's kind make a message of about 570 KB, under Kafka's default
/// `max.message.bytes` of 1 MB and the exporters' `max_message_bytes` default.
const BATCH: u64 = 1000;
const BATCH_TIMEOUT: &str = "200ms";
const START_MARKER: &str = "<!-- kafka:start -->";
const END_MARKER: &str = "<!-- kafka:end -->";

/// The two implementations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pair {
    Ours,
    Go,
}

const PAIRS: [Pair; 2] = [Pair::Ours, Pair::Go];

impl Pair {
    fn name(self) -> &'static str {
        match self {
            Pair::Ours => "otlp-collector",
            Pair::Go => "otelcol (Go)",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Pair::Ours => "ours",
            Pair::Go => "go",
        }
    }

    /// The OTLP/gRPC exporter's type name in this implementation.
    fn otlp_exporter(self) -> &'static str {
        match self {
            Pair::Ours => "otlp",
            Pair::Go => "otlp_grpc",
        }
    }
}

/// What one case measured.
#[derive(Debug, Clone)]
struct Sample {
    sink_rate: f64,
    /// From the load's start to the first span at the sink (a new consumer group's join and
    /// the topic's creation by the first message are in it).
    first_seconds: f64,
    /// From the load's end to the last span at the sink.
    drain_seconds: f64,
    agent_cpu_per_million: f64,
    gateway_cpu_per_million: f64,
    /// The broker's CPU over the same window (the same JVM for both implementations).
    broker_cpu_per_million: f64,
    agent_rss_mib: f64,
    gateway_rss_mib: f64,
    lost: i64,
    acked: u64,
    received: u64,
}

impl Sample {
    fn total_cpu_per_million(&self) -> f64 {
        self.agent_cpu_per_million + self.gateway_cpu_per_million
    }
}

/// The agent's config: OTLP/gRPC in, batches into the topic.
fn agent_config(grpc: &str, bootstrap: &str, topic: &str) -> String {
    format!(
        "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
processors:
  batch:
    send_batch_size: {BATCH}
    send_batch_max_size: {BATCH}
    timeout: {BATCH_TIMEOUT}
exporters:
  kafka:
    brokers: [{bootstrap}]
    traces:
      topic: {topic}
      encoding: otlp_proto
    producer:
      compression: none
      required_acks: 1
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
"
    )
}

/// The gateway's config: the topic in, batches to the sink over OTLP/gRPC.
fn gateway_config(pair: Pair, bootstrap: &str, topic: &str, sink: &str) -> String {
    let exporter = pair.otlp_exporter();
    format!(
        "receivers:
  kafka:
    brokers: [{bootstrap}]
    traces:
      topics: [{topic}]
      encoding: otlp_proto
    group_id: {topic}-gateway
    initial_offset: earliest
processors:
  batch:
    send_batch_size: {BATCH}
    send_batch_max_size: {BATCH}
    timeout: {BATCH_TIMEOUT}
exporters:
  {exporter}:
    endpoint: {sink}
    tls:
      insecure: true
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [kafka]
      processors: [batch]
      exporters: [{exporter}]
"
    )
}

/// Creates `topic` (one partition) with Kafka's own `TopicCommand`, from the jars beside the
/// launcher (`target/peers/kafka/libs/`), so that neither consumer waits for the first message
/// to create it (a subscription to a missing topic is retried on the client's own schedule,
/// which differs between librdkafka and franz-go and is not what this compares).
fn create_topic(launcher: &Path, bootstrap: &str, topic: &str) -> Result {
    let libs = launcher
        .parent()
        .and_then(Path::parent)
        .map(|peers| peers.join("kafka/libs/*"))
        .ok_or("the launcher has no parent directory")?;
    let output = Command::new("java")
        .arg("-cp")
        .arg(&libs)
        .arg("org.apache.kafka.tools.TopicCommand")
        .args([
            "--bootstrap-server",
            bootstrap,
            "--create",
            "--topic",
            topic,
        ])
        .args(["--partitions", "1", "--replication-factor", "1"])
        .output()
        .map_err(|e| format!("java TopicCommand: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "creating topic {topic}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn collector_command(bins: &Bins, pair: Pair, config: &Path) -> Command {
    let binary = match pair {
        Pair::Ours => &bins.collector,
        Pair::Go => &bins.otelcol_contrib_go,
    };
    let mut command = Command::new(binary);
    command.arg("--config").arg(config).env_remove("RUST_LOG");
    command
}

fn run_case(
    bins: &Bins,
    broker: &Broker,
    pair: Pair,
    duration: f64,
    topic: &str,
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

    let gateway_yaml = dir.join("gateway.yaml");
    write(
        &gateway_yaml,
        &gateway_config(pair, broker.bootstrap(), topic, &sink_addr.to_string()),
    )?;
    let mut gateway = Guard::spawn("gateway", collector_command(bins, pair, &gateway_yaml), dir)?;
    let grpc = free_addr()?;
    let agent_yaml = dir.join("agent.yaml");
    write(
        &agent_yaml,
        &agent_config(&grpc.to_string(), broker.bootstrap(), topic),
    )?;
    let mut agent = Guard::spawn("agent", collector_command(bins, pair, &agent_yaml), dir)?;
    wait_listening(&mut agent, grpc, dir)?;
    gateway.check_alive(dir)?;
    let cpu_before = (cpu_ticks(agent.pid())?, cpu_ticks(gateway.pid())?);
    let broker_before = cpu_ticks(broker.pid())?;

    let mut loadgen_command = Command::new(&bins.loadgen);
    loadgen_command
        .args(["--endpoint", &format!("http://{grpc}")])
        .args(["--protocol", "grpc"])
        .args(["--compression", "none"])
        .args(["--signal", "traces"])
        .args(["--rate", &RATE.to_string()])
        .args(["--concurrency", &CONCURRENCY.to_string()])
        .args(["--batch", &REQUEST.to_string()])
        .args(["--duration", &duration.to_string()]);
    let mut loadgen = Guard::spawn("loadgen", loadgen_command, dir)?;
    let start = Instant::now();
    // When the sink saw its first span, and when its count last moved.
    let mut first: Option<Instant> = None;
    let mut last = (0u64, start);
    let mut observe = |now: Instant| {
        let count = sink_count(&count_file).unwrap_or(last.0);
        if count > 0 && first.is_none() {
            first = Some(now);
        }
        if count != last.0 {
            last = (count, now);
        }
        last
    };
    let load_end = loop {
        std::thread::sleep(Duration::from_millis(50));
        observe(Instant::now());
        match loadgen.child.try_wait() {
            Ok(Some(status)) if status.success() => break Instant::now(),
            Ok(Some(status)) => {
                return Err(format!("loadgen failed: {status}; see {}", dir.display()));
            }
            Ok(None) => {}
            Err(e) => return Err(format!("loadgen: {e}")),
        }
        if start.elapsed() > Duration::from_secs_f64(duration + 60.0) {
            return Err("loadgen did not finish".to_owned());
        }
        agent.check_alive(dir)?;
        gateway.check_alive(dir)?;
    };
    let summary_text = fs::read_to_string(dir.join("loadgen.out")).map_err(|e| e.to_string())?;
    let summary: Value = serde_json::from_str(summary_text.trim())
        .map_err(|e| format!("loadgen summary {summary_text:?}: {e}"))?;
    let acked = summary["acked_items"].as_u64().unwrap_or(0);

    // Drain: until the sink has everything acknowledged, or its count stops moving for 5 s
    // (the consumer's fetch wait and two batch timeouts are in the path), at most 60 s.
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = Instant::now();
        let (count, changed) = observe(now);
        if count >= acked
            || now.duration_since(changed) >= Duration::from_secs(5)
            || now >= drain_deadline
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (arrived, last_arrival) = last;
    let cpu_after = (cpu_ticks(agent.pid())?, cpu_ticks(gateway.pid())?);
    let broker_after = cpu_ticks(broker.pid())?;
    let rss = (peak_rss_kib(agent.pid())?, peak_rss_kib(gateway.pid())?);
    drop(loadgen);
    drop(agent);
    drop(gateway);
    drop(sink);
    let received = sink_count(&count_file).unwrap_or(arrived);

    // From the first span at the sink to the last: the rate the tier sustained.
    let span = first.map_or(0.0, |t| {
        last_arrival.saturating_duration_since(t).as_secs_f64()
    });
    let sink_rate = if span > 0.2 {
        arrived as f64 / span
    } else {
        f64::NAN
    };
    let drain_seconds = last_arrival
        .saturating_duration_since(load_end)
        .as_secs_f64();
    let per_million = |before: u64, after: u64| {
        let seconds = after.saturating_sub(before) as f64 / super::TICKS_PER_SECOND;
        if received > 0 {
            seconds / (received as f64 / 1e6)
        } else {
            f64::NAN
        }
    };
    Ok(Sample {
        sink_rate,
        first_seconds: first.map_or(f64::NAN, |t| t.duration_since(start).as_secs_f64()),
        drain_seconds,
        agent_cpu_per_million: per_million(cpu_before.0, cpu_after.0),
        gateway_cpu_per_million: per_million(cpu_before.1, cpu_after.1),
        broker_cpu_per_million: per_million(broker_before, broker_after),
        agent_rss_mib: rss.0 as f64 / 1024.0,
        gateway_rss_mib: rss.1 as f64 / 1024.0,
        lost: acked as i64 - received as i64,
        acked,
        received,
    })
}

/// Runs the comparison and writes its section of `docs/benchmarks.md`.
pub(super) fn run(root: &Path, bins: &Bins, launcher: &Path, options: &Options) -> Result {
    let started = Instant::now();
    let work = root.join("target/bench-kafka");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    eprintln!("bench: starting the Kafka broker ({})", launcher.display());
    let broker = Broker::start(launcher, &work.join("broker"))?;
    let total = options.repeats * PAIRS.len();
    let mut results: BTreeMap<Pair, Vec<Sample>> = BTreeMap::new();
    let mut done = 0;
    for repeat in 1..=options.repeats {
        for pair in PAIRS {
            super::progress(
                done,
                total,
                &format!("kafka pair {} #{repeat}", pair.name()),
            );
            let topic = format!("bench-{}-{repeat}", pair.slug());
            let dir = work.join(&topic);
            create_topic(launcher, broker.bootstrap(), &topic)?;
            let sample = run_case(bins, &broker, pair, options.duration, &topic, &dir)?;
            eprintln!(
                "    {:>9} spans/s at sink, first {:.2} s after the start, last {:.2} s after the end, agent {:.2} + gateway {:.2} CPU-s/M spans (broker {:.2}), peak RSS {:.1} + {:.1} MiB, lost {} of {} acknowledged",
                group(sample.sink_rate, 0),
                sample.first_seconds,
                sample.drain_seconds,
                sample.agent_cpu_per_million,
                sample.gateway_cpu_per_million,
                sample.broker_cpu_per_million,
                sample.agent_rss_mib,
                sample.gateway_rss_mib,
                sample.lost,
                sample.acked,
            );
            results.entry(pair).or_default().push(sample);
            done += 1;
        }
    }
    super::progress(done, total, "done");
    broker.stop()?;
    let versions = [
        (
            "otlp-collector",
            super::command_line(&bins.collector, &["--version"]),
        ),
        (
            "otelcol (Go)",
            format!(
                "{} (contrib kafka exporter and receiver)",
                super::command_line(&bins.otelcol_contrib_go, &["--version"])
            ),
        ),
        (
            "broker",
            format!("Apache Kafka {}", crate::peers::kafka::VERSION),
        ),
    ];
    let section = report(
        options,
        &versions,
        &results,
        started.elapsed().as_secs_f64(),
    );
    let docs = root.join("docs/benchmarks.md");
    let old = fs::read_to_string(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
    write(&docs, &replace_section(&old, &section))?;
    eprintln!("bench: wrote the Kafka section of docs/benchmarks.md");
    let lost: Vec<String> = results
        .iter()
        .flat_map(|(pair, samples)| samples.iter().map(move |s| (pair, s)))
        .filter(|(_, s)| s.lost != 0 || s.received == 0)
        .map(|(pair, s)| {
            format!(
                "{}: {} acknowledged, {} received",
                pair.name(),
                s.acked,
                s.received
            )
        })
        .collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bench --kafka: spans lost:\n  {}",
            lost.join("\n  ")
        ))
    }
}

fn median_of(samples: &[Sample], figure: fn(&Sample) -> f64) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(figure).collect();
    median(&mut values)
}

type Row = (&'static str, &'static str, usize, fn(&Sample) -> f64);

const ROWS: [Row; 9] = [
    (
        "first span at the sink after the load started",
        "s",
        2,
        |s| s.first_seconds,
    ),
    ("last span at the sink after the load ended", "s", 2, |s| {
        s.drain_seconds
    }),
    ("agent CPU-seconds per million spans", "CPU-s/M", 2, |s| {
        s.agent_cpu_per_million
    }),
    ("gateway CPU-seconds per million spans", "CPU-s/M", 2, |s| {
        s.gateway_cpu_per_million
    }),
    (
        "agent + gateway CPU-seconds per million spans",
        "CPU-s/M",
        2,
        Sample::total_cpu_per_million,
    ),
    (
        "broker CPU-seconds per million spans (the same JVM)",
        "CPU-s/M",
        2,
        |s| s.broker_cpu_per_million,
    ),
    ("agent peak RSS", "MiB", 1, |s| s.agent_rss_mib),
    ("gateway peak RSS", "MiB", 1, |s| s.gateway_rss_mib),
    ("lost", "spans", 0, |s| s.lost as f64),
];

fn report(
    options: &Options,
    versions: &[(&str, String)],
    results: &BTreeMap<Pair, Vec<Sample>>,
    elapsed: f64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{START_MARKER}");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` (the Kafka part alone: `cargo xtask bench --kafka`); \
         {} repeats of {:.0} s per implementation, interleaved, in {elapsed:.0} s. Medians.\n",
        options.repeats, options.duration
    );
    let _ = writeln!(
        out,
        "`loadgen → agent (otlp → batch {BATCH} → kafka exporter) → Kafka → gateway (kafka \
         receiver → batch {BATCH} → otlp exporter) → sink`, OTLP/gRPC traces at {} spans/s in \
         requests of {REQUEST} spans, `otlp_proto`, no compression anywhere, `required_acks: 1`, \
         one partition (created before the case), the same broker for both.\n",
        group(RATE as f64, 0)
    );
    for (name, version) in versions {
        let _ = writeln!(out, "- {name}: {version}");
    }
    let _ = writeln!(
        out,
        "\n| figure | otlp-collector | otelcol (Go) | ours / Go |\n|---|---:|---:|---:|"
    );
    for (name, unit, decimals, figure) in ROWS {
        let value = |pair: Pair| {
            results
                .get(&pair)
                .map_or(f64::NAN, |s| median_of(s, figure))
        };
        let (ours, go) = (value(Pair::Ours), value(Pair::Go));
        let ratio = if go.is_finite() && go != 0.0 && ours.is_finite() {
            format!("{:.2}×", ours / go)
        } else {
            "n/a".to_owned()
        };
        let _ = writeln!(
            out,
            "| {name} ({unit}) | {} | {} | {ratio} |",
            group(ours, decimals),
            group(go, decimals)
        );
    }
    let _ = writeln!(out, "{END_MARKER}");
    out
}

/// `old` with its Kafka section replaced by `section` (appended when it has none).
fn replace_section(old: &str, section: &str) -> String {
    match (old.find(START_MARKER), old.find(END_MARKER)) {
        (Some(start), Some(end)) if end > start => {
            let end = end + END_MARKER.len();
            let rest = old[end..].strip_prefix('\n').unwrap_or(&old[end..]);
            format!("{}{section}{rest}", &old[..start])
        }
        _ => format!("{old}\n{section}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_its_own_section() {
        let old = format!("a\n{START_MARKER}\nold\n{END_MARKER}\nb\n");
        let new = replace_section(&old, &format!("{START_MARKER}\nnew\n{END_MARKER}\n"));
        assert_eq!(new, format!("a\n{START_MARKER}\nnew\n{END_MARKER}\nb\n"));
        let appended = replace_section("a\n", "S\n");
        assert_eq!(appended, "a\n\nS\n");
    }

    #[test]
    fn both_configs_name_the_same_topic_and_batch() {
        let agent = agent_config("127.0.0.1:1", "127.0.0.1:2", "t");
        let gateway = gateway_config(Pair::Go, "127.0.0.1:2", "t", "127.0.0.1:3");
        assert!(agent.contains("topic: t\n") && gateway.contains("topics: [t]"));
        assert!(gateway.contains("otlp_grpc:") && !agent.contains("otlp_grpc"));
        assert_eq!(
            agent.matches(&format!("send_batch_size: {BATCH}")).count(),
            1
        );
    }
}
