//! `cargo xtask`: see the crate docs of the `xtask` library for the commands.

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]   regenerate crates/otlp-proto/src/generated (or fail if it is stale)
  tidy                check the repository rules (layering, metadata, docs)
  test                run every test of the project (what CI runs)
  peers               install the interop peers (OpenTelemetry Python, rotel, otelcol-contrib, Prometheus,
                      node_exporter, otelcol-go, otelcol-contrib-go, Apache Kafka) into target/peers
  bench [--quick | --kafka] [--no-criterion] [--repeats N] [--duration S]
                      criterion suite, then loadgen -> collector -> sink for otlp-collector, rotel and
                      the Go collector (otelcol-go), then the Kafka pair (agent -> Kafka -> gateway)
                      for otlp-collector and the Go collector (otelcol-contrib-go); --kafka: that part
                      alone (writes docs/benchmarks.md and docs/benchmarks.svg; --quick: target/bench-quick.md)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = xtask::workspace_root();
    let result = match args.as_slice() {
        ["codegen"] => xtask::codegen::write(&root),
        ["codegen", "--check"] => xtask::codegen::check(&root),
        ["tidy"] => xtask::tidy::check(&root),
        ["test", rest @ ..] => xtask::run_tests::run(&root, rest),
        ["peers"] => xtask::peers::install(&root),
        ["bench", rest @ ..] => xtask::bench::run(&root, rest),
        ["help" | "--help" | "-h"] | [] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("unknown command {args:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
