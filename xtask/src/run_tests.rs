//! `cargo xtask test`: the one command that runs every test of the project.
//!
//! CI (`.ci/run`) calls exactly this. Steps run in order and all of them run even when one
//! fails, so a single CI run reports every failure; the closing line sums the test counts of
//! every `cargo test` invocation, plus one for the `cargo xtask bench --quick` smoke run.
//!
//! One Kafka broker (the `kafka-broker` peer) serves every test process of the run: it is
//! started before the cargo steps, its addresses are exported as [`ENV_KAFKA_BOOTSTRAP`],
//! [`ENV_KAFKA_SASL_BOOTSTRAP`] (its SASL_PLAINTEXT listener), [`ENV_KAFKA_SSL_BOOTSTRAP`],
//! [`ENV_KAFKA_SASL_SSL_BOOTSTRAP`] and [`ENV_KAFKA_MTLS_BOOTSTRAP`] (its TLS listeners) with
//! [`ENV_KAFKA_TLS_DIR`] (their CA and client certificate), and it is stopped by its pid
//! after them (also when a step fails; and by the launcher's watchdog if this
//! process dies).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Result;
use crate::peers::kafka::Broker;

/// Gives every test process the `127.0.0.1:PORT` of the run's Kafka broker.
pub const ENV_KAFKA_BOOTSTRAP: &str = "OTLP_KAFKA_BOOTSTRAP";
/// Gives every test process the `127.0.0.1:PORT` of that broker's SASL_PLAINTEXT listener.
pub const ENV_KAFKA_SASL_BOOTSTRAP: &str = "OTLP_KAFKA_SASL_BOOTSTRAP";
/// Gives every test process the `127.0.0.1:PORT` of that broker's SSL listener.
pub const ENV_KAFKA_SSL_BOOTSTRAP: &str = "OTLP_KAFKA_SSL_BOOTSTRAP";
/// Gives every test process the `127.0.0.1:PORT` of that broker's SASL_SSL listener.
pub const ENV_KAFKA_SASL_SSL_BOOTSTRAP: &str = "OTLP_KAFKA_SASL_SSL_BOOTSTRAP";
/// Gives every test process the `127.0.0.1:PORT` of that broker's MTLS listener (a client
/// certificate required).
pub const ENV_KAFKA_MTLS_BOOTSTRAP: &str = "OTLP_KAFKA_MTLS_BOOTSTRAP";
/// Gives every test process the directory of that broker's TLS files (`ca.pem`, `client.pem`,
/// `client-key.pem`).
pub const ENV_KAFKA_TLS_DIR: &str = "OTLP_KAFKA_TLS_DIR";
/// The run's broker's data directory, relative to the workspace root (removed when it stops).
const KAFKA_DATA_DIR: &str = "target/kafka-test";

/// One step of the run: a cargo invocation and why it is there.
struct Step {
    why: &'static str,
    args: &'static [&'static str],
}

const STEPS: &[Step] = &[
    Step {
        why: "the workspace is rustfmt-clean (rustfmt.toml)",
        args: &["fmt", "--all", "--check"],
    },
    Step {
        why: "otlp-proto builds prost-only, with only gRPC stubs and with only OTLP/JSON",
        args: &[
            "check",
            "--quiet",
            "--package",
            "otlp-proto",
            "--no-default-features",
        ],
    },
    Step {
        why: "otlp-proto with the gRPC stubs alone",
        args: &[
            "check",
            "--quiet",
            "--package",
            "otlp-proto",
            "--no-default-features",
            "--features",
            "grpc",
        ],
    },
    Step {
        why: "otlp-proto with OTLP/JSON alone",
        args: &[
            "check",
            "--quiet",
            "--package",
            "otlp-proto",
            "--no-default-features",
            "--features",
            "json",
        ],
    },
    Step {
        why: "unit, integration, property, differential and repository-rule tests; benches run once as tests",
        args: &[
            "test",
            "--workspace",
            "--all-features",
            "--all-targets",
            "--no-fail-fast",
        ],
    },
    Step {
        why: "documentation examples",
        args: &[
            "test",
            "--workspace",
            "--all-features",
            "--doc",
            "--no-fail-fast",
        ],
    },
];

/// Runs every step; `extra` is passed on to the `cargo test` steps (e.g. a test name filter).
///
/// The interop peers are installed first (`cargo xtask peers`, idempotent); the test processes
/// find them through the `OTLP_PEER_*` variables, and `OTLP_REQUIRE_PEERS=1` makes an interop
/// test fail, rather than skip, when a peer is missing.
pub fn run(root: &Path, extra: &[&str]) -> Result {
    println!("==> installing the interop peers (cargo xtask peers)");
    let peers = crate::peers::ensure(root)?;
    let mut passed = 0u64;
    let mut failed = 0u64;
    let mut failed_steps = Vec::new();
    println!(
        "\n==> cargo check of every crate's tests with its default features, and of each component feature alone"
    );
    let mut failed_checks = Vec::new();
    for args in feature_checks(root) {
        // Quiet: one line per check, the compiler's errors when it fails.
        let status = cargo().args(&args).current_dir(root).status();
        if !matches!(status, Ok(status) if status.success()) {
            failed_checks.push(format!("cargo {}", args.join(" ")));
        }
    }
    if failed_checks.is_empty() {
        println!(
            "\n==> each crate's tests build with its default features, each component alone: ok"
        );
    } else {
        failed_steps.extend(failed_checks);
    }
    println!("\n==> starting one Kafka broker for every test process ({ENV_KAFKA_BOOTSTRAP})");
    let mut broker = match start_test_broker(&peers.kafka, &root.join(KAFKA_DATA_DIR)) {
        Ok(broker) => Some(broker),
        Err(message) => {
            // The tests that need a broker then start their own through the launcher.
            eprintln!("kafka broker: {message}");
            failed_steps.push("starting the Kafka broker".to_owned());
            None
        }
    };
    for step in STEPS {
        println!("\n==> cargo {} ({})", step.args.join(" "), step.why);
        let mut command = cargo();
        command.args(step.args).current_dir(root);
        command.envs(peers.env()).env("OTLP_REQUIRE_PEERS", "1");
        if let Some(broker) = &broker {
            command.env(ENV_KAFKA_BOOTSTRAP, broker.bootstrap());
            command.env(ENV_KAFKA_SASL_BOOTSTRAP, broker.sasl_bootstrap());
            command.env(ENV_KAFKA_SSL_BOOTSTRAP, broker.ssl_bootstrap());
            command.env(ENV_KAFKA_SASL_SSL_BOOTSTRAP, broker.sasl_ssl_bootstrap());
            command.env(ENV_KAFKA_MTLS_BOOTSTRAP, broker.mtls_bootstrap());
            command.env(ENV_KAFKA_TLS_DIR, broker.tls_dir());
        }
        if step.args.first() == Some(&"test") && !extra.is_empty() {
            command.arg("--").args(extra);
        }
        let outcome = run_counting(&mut command)?;
        passed += outcome.passed;
        failed += outcome.failed;
        if !outcome.success {
            failed_steps.push(format!("cargo {}", step.args.join(" ")));
        }
    }
    // An early return above drops the broker, which stops it too.
    if let Some(broker) = broker.take()
        && let Err(message) = broker.stop()
    {
        eprintln!("kafka broker: {message}");
        failed_steps.push("stopping the Kafka broker".to_owned());
    }
    // The end-to-end benchmark harness, smoke version: loadgen → otlp-collector, rotel and the
    // Go collector → sink for a few seconds each, traces and metrics + logs. It checks that
    // the harness works and nothing is lost, never that a speed was reached.
    println!("\n==> cargo xtask bench --quick (end-to-end harness smoke run: zero items lost)");
    match crate::bench::run(root, &["--quick"]) {
        Ok(()) => passed += 1,
        Err(message) => {
            eprintln!("bench --quick: {message}");
            failed += 1;
            failed_steps.push("cargo xtask bench --quick".to_owned());
        }
    }
    println!();
    if let Some(bytes) = directory_size(&root.join("target")) {
        println!(
            "target/ holds {:.1} GiB",
            bytes as f64 / f64::from(1u32 << 30)
        );
    }
    println!("tests: {passed} passed, {failed} failed");
    if failed_steps.is_empty() {
        Ok(())
    } else {
        Err(format!("failed steps:\n  {}", failed_steps.join("\n  ")))
    }
}

/// Starts the run's Kafka broker with the `kafka-broker` launcher (data in [`KAFKA_DATA_DIR`]
/// for the run), and waits until it answers.
fn start_test_broker(launcher: &Path, data_dir: &Path) -> Result<Broker> {
    let started = Instant::now();
    let broker = Broker::start(launcher, data_dir)?;
    println!(
        "kafka broker at {} (SASL at {}, TLS at {}, SASL over TLS at {}, mutual TLS at {}; \
         pid {}), ready in {:.1}s",
        broker.bootstrap(),
        broker.sasl_bootstrap(),
        broker.ssl_bootstrap(),
        broker.sasl_ssl_bootstrap(),
        broker.mtls_bootstrap(),
        broker.pid(),
        started.elapsed().as_secs_f64()
    );
    Ok(broker)
}

/// A cargo command for a step. Under CI (a clean clone, built once) without incremental state,
/// which would only take disk: with it, and full debuginfo, one run filled 14 GiB of target/.
fn cargo() -> Command {
    let mut command = Command::new(env!("CARGO"));
    if std::env::var_os("CI").is_some() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

/// The bytes of the files under `dir` (not following symlinks); `None` when it is unreadable.
fn directory_size(dir: &Path) -> Option<u64> {
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Some(total)
}

/// The feature sets the all-features run does not see: plain `cargo test -p CRATE` (default
/// features) for every crate of the graph, and every component crate with one component
/// feature alone (what a custom collector that picks it compiles).
fn feature_checks(root: &Path) -> Vec<Vec<String>> {
    let mut checks = Vec::new();
    for (name, _) in crate::tidy::EDGES {
        let manifest = root.join("crates").join(name).join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue; // a crate of the graph not written yet
        };
        let check = |extra: &[&str]| {
            let mut args: Vec<String> = ["check", "--quiet", "--tests", "--package", name]
                .iter()
                .map(|a| (*a).to_owned())
                .collect();
            args.extend(extra.iter().map(|a| (*a).to_owned()));
            args
        };
        checks.push(check(&[]));
        if crate::tidy::is_kind_crate(name) {
            for feature in component_features(&text) {
                checks.push(check(&["--no-default-features", "--features", &feature]));
            }
        }
    }
    checks
}

/// The features of a component crate's manifest other than `default`.
fn component_features(manifest: &str) -> Vec<String> {
    let table: toml::Table = manifest.parse().unwrap_or_default();
    table
        .get("features")
        .and_then(toml::Value::as_table)
        .map(|features| {
            features
                .keys()
                .filter(|k| *k != "default")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

struct Outcome {
    success: bool,
    passed: u64,
    failed: u64,
}

/// Runs a command, echoing its standard output and adding up libtest's `test result:` lines.
fn run_counting(command: &mut Command) -> Result<Outcome> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {command:?}: {e}"))?;
    let mut outcome = Outcome {
        success: false,
        passed: 0,
        failed: 0,
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            if let Some(summary) = line.strip_prefix("test result: ") {
                outcome.passed += count_before(summary, " passed");
                outcome.failed += count_before(summary, " failed");
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {command:?}: {e}"))?;
    outcome.success = status.success();
    Ok(outcome)
}

/// In `ok. 12 passed; 0 failed; ...`, the number before `label`.
fn count_before(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .find(|part| part.contains(label))
        .and_then(|part| part.split_whitespace().rev().nth(1))
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::kafka::{api_versions, is_broker, is_running, tls_handshake};
    use crate::workspace_root;
    use std::net::SocketAddr;
    use std::time::Duration;

    /// Starts the run's broker as `run` does, with the installed launcher (skipped when `cargo
    /// xtask peers` has not installed it), checks that it answers on its own port, stops it and
    /// checks that it is gone with its data directory.
    #[test]
    fn test_broker_starts_answers_and_stops() {
        let root = workspace_root();
        let launcher = root
            .join(crate::peers::PEERS_DIR)
            .join("bin")
            .join(crate::peers::kafka::LAUNCHER);
        if !launcher.is_file() {
            println!(
                "skipping: {} not installed (cargo xtask peers)",
                launcher.display()
            );
            return;
        }
        // Not the run's KAFKA_DATA_DIR: under `cargo xtask test` its broker is running.
        let data_dir = root.join(format!("target/kafka-unit-test-{}", std::process::id()));
        let broker = start_test_broker(&launcher, &data_dir).unwrap();
        assert_eq!(broker.data_dir(), data_dir);
        assert!(broker.bootstrap().starts_with("127.0.0.1:"));
        // Not the development broker's port.
        assert_ne!(broker.bootstrap(), "127.0.0.1:19092");
        let address: SocketAddr = broker.bootstrap().parse().unwrap();
        assert!(api_versions(address).unwrap() > 10);
        // The SASL_PLAINTEXT listener is a third port, and answers ApiVersions before any
        // authentication.
        let sasl: SocketAddr = broker.sasl_bootstrap().parse().unwrap();
        assert_ne!(sasl, address);
        assert!(api_versions(sasl).unwrap() > 10);
        let server_properties =
            std::fs::read_to_string(broker.data_dir().join("server.properties")).unwrap();
        assert!(server_properties.contains(&format!(
            "listeners=PLAINTEXT://{},CONTROLLER://127.0.0.1:",
            broker.bootstrap()
        )));
        assert!(server_properties.contains(&format!(
            ",SASL_PLAINTEXT://{},SSL://{},SASL_SSL://{},MTLS://{}\n",
            broker.sasl_bootstrap(),
            broker.ssl_bootstrap(),
            broker.sasl_ssl_bootstrap(),
            broker.mtls_bootstrap()
        )));
        assert!(server_properties.contains(&format!(
            "advertised.listeners=PLAINTEXT://{},SASL_PLAINTEXT://{},SSL://{},SASL_SSL://{},\
             MTLS://{}\n",
            broker.bootstrap(),
            broker.sasl_bootstrap(),
            broker.ssl_bootstrap(),
            broker.sasl_ssl_bootstrap(),
            broker.mtls_bootstrap()
        )));
        // The TLS listeners: three more ports, each with a certificate for 127.0.0.1 that
        // the test CA signed; the client certificate is accepted where it is required.
        assert_eq!(broker.tls_dir(), data_dir.join("tls"));
        let tls = [
            broker.ssl_bootstrap(),
            broker.sasl_ssl_bootstrap(),
            broker.mtls_bootstrap(),
        ];
        for listener in tls {
            assert!(listener.starts_with("127.0.0.1:"), "{listener}");
            assert_ne!(listener, broker.bootstrap());
            assert_ne!(listener, broker.sasl_bootstrap());
            tls_handshake(listener, &broker.tls_ca(), None).unwrap();
        }
        tls_handshake(
            broker.mtls_bootstrap(),
            &broker.tls_ca(),
            Some(broker.client_identity()),
        )
        .unwrap();
        // Trusting another certificate than the CA's fails the verification.
        let (client_cert, _) = broker.client_identity();
        let refused = tls_handshake(broker.ssl_bootstrap(), &client_cert, None).unwrap_err();
        assert!(refused.contains("certificate verify failed"), "{refused}");
        // A plaintext client gets no API versions from a TLS listener.
        let ssl: SocketAddr = broker.ssl_bootstrap().parse().unwrap();
        assert!(api_versions(ssl).is_err());
        let pid = broker.pid();
        assert!(is_broker(pid));
        // A second broker in the same data directory is refused, and the first one is kept.
        let refused = Broker::start(&launcher, &data_dir).unwrap_err();
        assert!(refused.contains("still runs"), "{refused}");
        assert!(api_versions(address).is_ok());
        let stopping = Instant::now();
        broker.stop().unwrap();
        println!("stopped in {:.1}s", stopping.elapsed().as_secs_f64());
        assert!(!is_running(pid));
        assert!(api_versions(address).is_err());
        assert!(api_versions(sasl).is_err());
        assert!(std::net::TcpStream::connect(ssl).is_err());
        // The launcher's supervisor removes the data directory right after the broker exits.
        let deadline = Instant::now() + Duration::from_secs(10);
        while data_dir.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!data_dir.exists(), "{}", data_dir.display());
    }

    #[test]
    fn reads_component_features() {
        let manifest = "[features]\ndefault = [\"a\", \"b\"]\na = []\nb = [\"dep:x\"]\n";
        assert_eq!(component_features(manifest), ["a", "b"]);
    }

    #[test]
    fn reads_libtest_summary() {
        let summary =
            "ok. 12 passed; 3 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(count_before(summary, " passed"), 12);
        assert_eq!(count_before(summary, " failed"), 3);
    }
}
