//! `cargo xtask bench --translators` (and the full `cargo xtask bench`): the Zipkin and Jaeger
//! translations side by side with the Go collector's, on the same bodies.
//!
//! Ours is `target/release/translators` (otlp-benches' bin), the Go side
//! `otelcol-translators-go` (`xtask/peers/otelcol-contrib-go/translators`, built by `cargo
//! xtask peers` from otelcol-contrib v0.160.0's packages): each decodes (or, for the exporter,
//! translates and encodes) one body in a loop on one thread for [`SECONDS`] (1 s with `--quick`)
//! after a second of warm-up, calling exactly what the component calls per request: the
//! `zipkin` receiver's decode + translation of a v2 JSON, v2 protobuf and v1 JSON body of 1000
//! spans, the `jaeger` receiver's Thrift deserialization + translation of a 1000-span `Batch`
//! (`thrift_http`'s body), the `zipkin` exporter's translation + encoding of the 1000-span OTLP
//! request into v2 JSON and v2 protobuf. Neither side does I/O in the loop. Figures: spans per
//! CPU-second (user + system of the process over the loop) and per wall-second, medians over
//! the repeats (interleaved), and the ratio ours / Go. The report is the section between
//! `<!-- translators:start -->` and `<!-- translators:end -->` of `docs/benchmarks.md`
//! (`target/bench-translators.md` with `--quick`).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::{Options, median, write};
use crate::Result;

/// Seconds of each timed loop.
const SECONDS: f64 = 3.0;
const START_MARKER: &str = "<!-- translators:start -->";
const END_MARKER: &str = "<!-- translators:end -->";

/// `(format, body file, what it is)`.
const FORMATS: &[(&str, &str, &str)] = &[
    (
        "zipkin_v2_json",
        "zipkin_v2_json",
        "zipkin receiver: v2 JSON → OTLP",
    ),
    (
        "zipkin_v2_proto",
        "zipkin_v2_proto",
        "zipkin receiver: v2 protobuf → OTLP",
    ),
    (
        "zipkin_v1_json",
        "zipkin_v1_json",
        "zipkin receiver: v1 JSON → OTLP",
    ),
    (
        "jaeger_thrift",
        "jaeger_thrift",
        "jaeger receiver: Thrift binary Batch → OTLP",
    ),
    (
        "zipkin_export_json",
        "otlp_traces",
        "zipkin exporter: OTLP → v2 JSON",
    ),
    (
        "zipkin_export_proto",
        "otlp_traces",
        "zipkin exporter: OTLP → v2 protobuf",
    ),
];

/// One timed loop.
struct Sample {
    spans_per_cpu_second: f64,
    spans_per_second: f64,
}

fn sample(program: &Path, format: &str, body: &Path, seconds: f64, ours: bool) -> Result<Sample> {
    let mut command = Command::new(program);
    if ours {
        command.arg("run");
    }
    let output = command
        .arg(format)
        .arg(body)
        .arg(seconds.to_string())
        .output()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {format}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = String::from_utf8_lossy(&output.stdout);
    let v: Value = serde_json::from_str(line.trim())
        .map_err(|e| format!("{} {format} printed {line:?}: {e}", program.display()))?;
    let spans = v["spans_per_call"].as_f64().unwrap_or(0.0) * v["calls"].as_f64().unwrap_or(0.0);
    let cpu = v["cpu_seconds"].as_f64().unwrap_or(0.0);
    let wall = v["wall_seconds"].as_f64().unwrap_or(0.0);
    if spans == 0.0 || cpu <= 0.0 || wall <= 0.0 {
        return Err(format!(
            "{} {format}: nothing measured: {line}",
            program.display()
        ));
    }
    Ok(Sample {
        spans_per_cpu_second: spans / cpu,
        spans_per_second: spans / wall,
    })
}

/// Runs the comparison and writes its report.
pub(super) fn run(root: &Path, ours: &Path, go: &Path, options: &Options) -> Result {
    let dir = root.join("target/bench-translators");
    let _ = fs::remove_dir_all(&dir);
    let status = Command::new(ours)
        .arg("write")
        .arg(&dir)
        .status()
        .map_err(|e| format!("{}: {e}", ours.display()))?;
    if !status.success() {
        return Err(format!("{} write failed: {status}", ours.display()));
    }
    let seconds = if options.quick { 1.0 } else { SECONDS };
    let repeats = options.repeats;
    let mut rows = Vec::new();
    for &(format, file, what) in FORMATS {
        let body = dir.join(file);
        let (mut ours_cpu, mut ours_wall, mut go_cpu, mut go_wall) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for repeat in 0..repeats {
            eprintln!("bench: translators {format} #{repeat}");
            let o = sample(ours, format, &body, seconds, true)?;
            let g = sample(go, format, &body, seconds, false)?;
            ours_cpu.push(o.spans_per_cpu_second);
            ours_wall.push(o.spans_per_second);
            go_cpu.push(g.spans_per_cpu_second);
            go_wall.push(g.spans_per_second);
        }
        rows.push((
            what,
            median(&mut ours_cpu),
            median(&mut go_cpu),
            median(&mut ours_wall),
            median(&mut go_wall),
        ));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nThe Zipkin and Jaeger translations, ours and otelcol-contrib v0.160.0's, on the same \
         bodies (1000 spans each; `cargo xtask bench --translators`, {repeats} repeat(s) of {seconds} s \
         per side after 1 s of warm-up, one thread, no I/O; medians). Spans per CPU-second: \
         more is better.\n"
    );
    let _ = writeln!(
        out,
        "| what | ours, spans/CPU-s | Go, spans/CPU-s | ours / Go | ours, spans/s | Go, spans/s |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (what, ours_cpu, go_cpu, ours_wall, go_wall) in &rows {
        let _ = writeln!(
            out,
            "| {what} | {ours_cpu:.0} | {go_cpu:.0} | {:.2} | {ours_wall:.0} | {go_wall:.0} |",
            ours_cpu / go_cpu
        );
    }
    let section = format!("{START_MARKER}\n{out}{END_MARKER}\n");
    if options.quick {
        let path = root.join("target/bench-translators.md");
        write(&path, &section)?;
        eprintln!("bench: wrote {}", path.display());
    } else {
        let docs = root.join("docs/benchmarks.md");
        let old = fs::read_to_string(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
        let new = match (old.find(START_MARKER), old.find(END_MARKER)) {
            (Some(start), Some(end)) if end > start => format!(
                "{}{}{}",
                &old[..start],
                section.trim_end(),
                &old[end + END_MARKER.len()..]
            ),
            _ => format!(
                "{}\n\n## Zipkin and Jaeger translations\n\n{section}",
                old.trim_end()
            ),
        };
        write(&docs, &new)?;
        eprintln!("bench: wrote the translators section of docs/benchmarks.md");
    }
    Ok(())
}
