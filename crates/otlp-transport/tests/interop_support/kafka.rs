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
//! [`sasl_bootstrap`] is the same broker's SASL_PLAINTEXT listener (`OTLP_KAFKA_SASL_BOOTSTRAP`
//! under `cargo xtask test`, else this process's broker, started as above even when
//! `OTLP_KAFKA_BOOTSTRAP` alone is set): the mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
//! for the user [`SASL_USERNAME`] with the password [`SASL_PASSWORD`] (the launcher's fixed
//! test credentials). A test that uses it talks to that listener only, never mixing it with
//! [`bootstrap`], which may be another broker.
//!
//! [`tls`] is the same broker's SSL listener with the directory of its TLS files (the test CA
//! [`TLS_CA`], a client certificate [`TLS_CLIENT_CERT`] and its key [`TLS_CLIENT_KEY`]), and
//! [`tls_broker`] adds its SASL_SSL listener (the SASL users over TLS) and its MTLS listener (a
//! client certificate of the test CA required): `OTLP_KAFKA_SSL_BOOTSTRAP`,
//! `OTLP_KAFKA_SASL_SSL_BOOTSTRAP`, `OTLP_KAFKA_MTLS_BOOTSTRAP` and `OTLP_KAFKA_TLS_DIR` under
//! `cargo xtask test` (all four, or this process's broker), else this process's broker. The
//! broker's certificate is for `127.0.0.1` and `localhost`.
//!
//! One broker is shared, by all the tests of a process and under `cargo xtask test` by all the
//! processes: every test must use topic names (and consumer group ids) of its own, e.g. from
//! [`unique_name`], and never delete or reconfigure what it did not create.
//!
//! Needs the module `peers` next to it (`super::peers`).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::peers::{Peer, require};

/// Names the address of an already running broker (set by `cargo xtask test`).
pub const ENV_BOOTSTRAP: &str = "OTLP_KAFKA_BOOTSTRAP";
/// Names the address of that broker's SASL_PLAINTEXT listener (set by `cargo xtask test`).
pub const ENV_SASL_BOOTSTRAP: &str = "OTLP_KAFKA_SASL_BOOTSTRAP";
/// Names the address of that broker's SSL listener (set by `cargo xtask test`).
pub const ENV_SSL_BOOTSTRAP: &str = "OTLP_KAFKA_SSL_BOOTSTRAP";
/// Names the address of that broker's SASL_SSL listener (set by `cargo xtask test`).
pub const ENV_SASL_SSL_BOOTSTRAP: &str = "OTLP_KAFKA_SASL_SSL_BOOTSTRAP";
/// Names the address of that broker's MTLS listener (set by `cargo xtask test`).
pub const ENV_MTLS_BOOTSTRAP: &str = "OTLP_KAFKA_MTLS_BOOTSTRAP";
/// Names the directory of that broker's TLS files (set by `cargo xtask test`).
pub const ENV_TLS_DIR: &str = "OTLP_KAFKA_TLS_DIR";
/// The test CA's certificate (PEM) in the TLS directory.
pub const TLS_CA: &str = "ca.pem";
/// A client certificate (PEM, signed by the test CA) in the TLS directory.
pub const TLS_CLIENT_CERT: &str = "client.pem";
/// Its key (PKCS#8 PEM, unencrypted).
pub const TLS_CLIENT_KEY: &str = "client-key.pem";
/// The user the launcher creates for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
pub const SASL_USERNAME: &str = "otel";
/// That user's password (a test credential, loopback only).
pub const SASL_PASSWORD: &str = "otel-secret";
/// The SASL mechanisms the SASL_PLAINTEXT listener accepts.
pub const SASL_MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
/// How long a broker this process starts may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// `127.0.0.1:PORT` of the shared broker (see the module docs), or `None` after printing a skip
/// notice when the `kafka-broker` peer is not installed. Panics when an installed broker does
/// not start.
pub fn bootstrap() -> Option<String> {
    if let Some(address) = from_env(ENV_BOOTSTRAP) {
        return Some(address);
    }
    own_broker().map(|broker| broker.bootstrap.clone())
}

/// `127.0.0.1:PORT` of the shared broker's SASL_PLAINTEXT listener (see the module docs), or
/// `None` after printing a skip notice when the `kafka-broker` peer is not installed. Panics
/// when an installed broker does not start.
pub fn sasl_bootstrap() -> Option<String> {
    if let Some(address) = from_env(ENV_SASL_BOOTSTRAP) {
        return Some(address);
    }
    own_broker().map(|broker| broker.sasl_bootstrap.clone())
}

/// The TLS listeners of one broker and the directory of its TLS files.
#[derive(Debug, Clone)]
pub struct TlsBroker {
    /// `127.0.0.1:PORT` of the SSL listener (a client certificate is requested, not required).
    pub ssl: String,
    /// `127.0.0.1:PORT` of the SASL_SSL listener (the SASL users over TLS).
    pub sasl_ssl: String,
    /// `127.0.0.1:PORT` of the MTLS listener (a client certificate of the test CA required).
    pub mtls: String,
    /// The directory holding [`TLS_CA`], [`TLS_CLIENT_CERT`] and [`TLS_CLIENT_KEY`].
    pub dir: PathBuf,
}

impl TlsBroker {
    /// The test CA's certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.join(TLS_CA)
    }

    /// The client certificate.
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join(TLS_CLIENT_CERT)
    }

    /// The client certificate's key.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join(TLS_CLIENT_KEY)
    }
}

/// `127.0.0.1:PORT` of the shared broker's SSL listener and the directory holding its
/// [`TLS_CA`], [`TLS_CLIENT_CERT`] and [`TLS_CLIENT_KEY`] (see the module docs), or `None`
/// after printing a skip notice when the `kafka-broker` peer is not installed. Panics when an
/// installed broker does not start.
pub fn tls() -> Option<(String, PathBuf)> {
    tls_broker().map(|broker| (broker.ssl, broker.dir))
}

/// The shared broker's three TLS listeners and its TLS directory (see the module docs), or
/// `None` after printing a skip notice when the `kafka-broker` peer is not installed. Panics
/// when an installed broker does not start.
pub fn tls_broker() -> Option<TlsBroker> {
    let from_run = (|| {
        Some(TlsBroker {
            ssl: from_env(ENV_SSL_BOOTSTRAP)?,
            sasl_ssl: from_env(ENV_SASL_SSL_BOOTSTRAP)?,
            mtls: from_env(ENV_MTLS_BOOTSTRAP)?,
            dir: PathBuf::from(from_env(ENV_TLS_DIR)?),
        })
    })();
    if let Some(broker) = from_run {
        return Some(broker);
    }
    own_broker().map(|broker| broker.tls.clone())
}

/// The non-empty value of the variable `name`.
fn from_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// The listeners of the broker this process started.
struct OwnBroker {
    bootstrap: String,
    sasl_bootstrap: String,
    tls: TlsBroker,
}

/// This process's broker, started on the first call; `None` when the launcher is missing.
fn own_broker() -> Option<&'static OwnBroker> {
    let launcher = require(Peer::Kafka)?;
    static BROKER: OnceLock<Result<OwnBroker, String>> = OnceLock::new();
    match BROKER.get_or_init(|| start(&launcher)) {
        Ok(broker) => Some(broker),
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

/// Starts this process's broker with the launcher and waits until its five client listeners
/// accept connections.
fn start(launcher: &Path) -> Result<OwnBroker, String> {
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
    let printed = |key: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(key))
            .filter(|address| !address.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("{} printed no {key} line:\n{stdout}", launcher.display()))
    };
    let broker = OwnBroker {
        bootstrap: printed("bootstrap=")?,
        sasl_bootstrap: printed("sasl_bootstrap=")?,
        tls: TlsBroker {
            ssl: printed("ssl_bootstrap=")?,
            sasl_ssl: printed("sasl_ssl_bootstrap=")?,
            mtls: printed("mtls_bootstrap=")?,
            dir: PathBuf::from(printed("tls_dir=")?),
        },
    };
    for file in [TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY] {
        let path = broker.tls.dir.join(file);
        if !path.is_file() {
            return Err(format!("{} made no {}", launcher.display(), path.display()));
        }
    }
    let deadline = started + START_DEADLINE;
    let listeners = [
        &broker.bootstrap,
        &broker.sasl_bootstrap,
        &broker.tls.ssl,
        &broker.tls.sasl_ssl,
        &broker.tls.mtls,
    ];
    for address in listeners {
        let socket: SocketAddr = address
            .parse()
            .map_err(|e| format!("the launcher's bootstrap {address:?}: {e}"))?;
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
    }
    println!(
        "kafka: started a broker at {} (SASL at {}, TLS at {}) for this test process in {:.1}s",
        broker.bootstrap,
        broker.sasl_bootstrap,
        broker.tls.ssl,
        started.elapsed().as_secs_f64()
    );
    Ok(broker)
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
