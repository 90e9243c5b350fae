//! The Kafka broker of the interop tests: [`bootstrap`] returns the `127.0.0.1:PORT` of a
//! running Apache Kafka 4.0.2 broker (a single KRaft node on loopback, topics auto-created with
//! one partition).
//!
//! Under `cargo xtask test` that is the run's one broker, named by `OTLP_KAFKA_BOOTSTRAP` and
//! shared by every test process. Otherwise the first call in a test process starts one broker
//! for the process through the `kafka-broker` launcher that `cargo xtask peers` installs
//! ([`Peer::Kafka`]), in a temporary data directory; the launcher's watchdog stops it and
//! removes the directory once this process has exited (there is no destructor for a static).
//! A missing launcher skips the test, or fails it under `OTLP_REQUIRE_PEERS=1`, as
//! [`require`] does.
//!
//! One broker is shared, by all the tests of a process and under `cargo xtask test` by all the
//! processes: every test must use topic names (and consumer group ids) of its own, e.g. from
//! [`unique_name`], and never delete or reconfigure what it did not create.
//!
//! Needs the module `peers` next to it (`super::peers`).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::peers::{Peer, require};

/// Names the address of an already running broker (set by `cargo xtask test`).
pub const ENV_BOOTSTRAP: &str = "OTLP_KAFKA_BOOTSTRAP";
/// How long a broker this process starts may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// `127.0.0.1:PORT` of the shared broker (see the module docs), or `None` after printing a skip
/// notice when the `kafka-broker` peer is not installed. Panics when an installed broker does
/// not start.
pub fn bootstrap() -> Option<String> {
    if let Some(address) = std::env::var(ENV_BOOTSTRAP)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
    {
        return Some(address);
    }
    let launcher = require(Peer::Kafka)?;
    static BROKER: OnceLock<Result<String, String>> = OnceLock::new();
    match BROKER.get_or_init(|| start(&launcher)) {
        Ok(address) => Some(address.clone()),
        Err(message) => panic!("{message}"),
    }
}

/// A name no other test (of any process) uses, for a topic or a consumer group:
/// `otlp-<what>-<pid>-<n>-<nanos>`, with `what` reduced to the characters a topic name allows.
pub fn unique_name(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let what: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    format!(
        "otlp-{what}-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos()
    )
}

/// Starts this process's broker with the launcher and waits until it accepts connections.
fn start(launcher: &Path) -> Result<String, String> {
    let started = Instant::now();
    let data_dir =
        std::env::temp_dir().join(format!("otlp-kafka-{}-{}", std::process::id(), nanos()));
    let output = Command::new(launcher)
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .arg("--wait")
        .arg(START_DEADLINE.as_secs().to_string())
        .arg("--cleanup")
        .arg(&data_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("starting {}: {e}", launcher.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} {} failed ({}):\n{stdout}{}",
            launcher.display(),
            data_dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let address = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("bootstrap="))
        .filter(|address| !address.is_empty())
        .ok_or_else(|| {
            format!(
                "{} printed no bootstrap= line:\n{stdout}",
                launcher.display()
            )
        })?
        .to_string();
    let socket: SocketAddr = address
        .parse()
        .map_err(|e| format!("the launcher's bootstrap {address:?}: {e}"))?;
    let deadline = started + START_DEADLINE;
    loop {
        match TcpStream::connect_timeout(&socket, Duration::from_secs(1)) {
            Ok(_) => break,
            Err(e) if Instant::now() >= deadline => {
                return Err(format!(
                    "the Kafka broker at {address} does not accept connections after {}s: {e}",
                    START_DEADLINE.as_secs()
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    println!(
        "kafka: started a broker at {address} for this test process in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(address)
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
