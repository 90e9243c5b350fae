//! `translators`: ours of the Zipkin and Jaeger translations timed on a body, the counterpart
//! of the Go program `xtask/peers/otelcol-contrib-go/translators` (`cargo xtask bench
//! --translators` runs both on the same bodies).
//!
//! - `translators write DIR`: writes the bodies: `zipkin_v2_json`, `zipkin_v2_proto` and
//!   `zipkin_v1_json` (1000 spans each), `jaeger_thrift` (a Thrift binary `Batch` of 1000
//!   spans) and `otlp_traces` (the OTLP request the Zipkin v2 JSON body translates to, the
//!   input of the two export formats).
//! - `translators run FORMAT FILE SECONDS`: as the Go program (the same formats and the same
//!   JSON line: spans per call, calls, wall and CPU seconds of the timed loop, after one
//!   second of warm-up; CPU from `/proc/self/stat`).

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::time::{Duration, Instant};

use otlp_proto::Message as _;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); 12 and 13 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn spans(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

fn write(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let json = otlp_benches::zipkin::v2_json_body(1000);
    let decoded = otlp_model::zipkin::decode_v2_json(&json).unwrap();
    std::fs::write(
        dir.join("zipkin_v2_proto"),
        otlp_model::zipkin::encode_v2_proto(&decoded),
    )
    .unwrap();
    let request = otlp_receivers::zipkin::translate_body(&json, false, false, false).unwrap();
    std::fs::write(dir.join("otlp_traces"), request.encode_to_vec()).unwrap();
    std::fs::write(dir.join("zipkin_v2_json"), json).unwrap();
    std::fs::write(
        dir.join("zipkin_v1_json"),
        otlp_benches::zipkin::v1_json_body(1000),
    )
    .unwrap();
    std::fs::write(
        dir.join("jaeger_thrift"),
        otlp_benches::jaeger::thrift_batch(1000),
    )
    .unwrap();
}

fn run(format: &str, file: &Path, seconds: f64) {
    let body = std::fs::read(file).unwrap();
    let call: Box<dyn Fn() -> usize> = match format {
        "zipkin_v2_json" | "zipkin_v2_proto" | "zipkin_v1_json" => {
            let (v1, proto) = (format == "zipkin_v1_json", format == "zipkin_v2_proto");
            Box::new(move || {
                spans(&otlp_receivers::zipkin::translate_body(&body, v1, proto, false).unwrap())
            })
        }
        "jaeger_thrift" => {
            Box::new(move || spans(&otlp_receivers::jaeger::translate_thrift_batch(&body).unwrap()))
        }
        "zipkin_export_json" | "zipkin_export_proto" => {
            let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            let proto = format == "zipkin_export_proto";
            Box::new(move || {
                let (out, _) = otlp_exporters::zipkin::encode_request(&request, proto).unwrap();
                assert!(!out.is_empty());
                spans(&request)
            })
        }
        other => panic!("unknown FORMAT {other:?}"),
    };
    let per_call = call();
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        std::hint::black_box(call());
    }
    let (cpu0, start) = (cpu_seconds(), Instant::now());
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        std::hint::black_box(call());
        calls += 1;
    }
    let (wall, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    println!(
        "{}",
        serde_json::json!({
            "spans_per_call": per_call, "calls": calls, "wall_seconds": wall, "cpu_seconds": cpu,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") if args.len() == 3 => write(Path::new(&args[2])),
        Some("run") if args.len() == 5 => run(
            &args[2],
            Path::new(&args[3]),
            args[4].parse().expect("SECONDS"),
        ),
        _ => {
            eprintln!("usage: translators write DIR | translators run FORMAT FILE SECONDS");
            std::process::exit(2);
        }
    }
}
