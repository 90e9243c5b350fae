//! The Apache Kafka broker peer: installed by `cargo xtask peers` from Maven Central, and started
//! once for a whole `cargo xtask test` run.
//!
//! `mvn` (on `PATH`) copies the jars that `xtask/peers/kafka/pom.xml` names (the broker
//! `kafka_2.13`, `kafka-tools`, log4j2 with its SLF4J 1.7 binding) and everything they pull in
//! into `target/peers/kafka/libs/`, through the Maven local repository
//! `target/peers/maven/` (so nothing is written to `~/.m2`, and a CI cache of `target/` keeps
//! the downloads). `xtask/peers/kafka/log4j2.properties` becomes
//! `target/peers/kafka/log4j2.properties`, and the launcher `xtask/peers/kafka/kafka-broker.sh`
//! becomes `target/peers/bin/kafka-broker` (it finds the jars relative to itself; its usage is
//! at its top). The spec is the sha256 of those three files: an edit of any reinstalls. An
//! install is verified by starting a broker from the staging directory, asking it for its API
//! versions on both plaintext client listeners and completing a verified TLS handshake
//! (`openssl s_client`, trusting only the test CA) on the three TLS ones.
//!
//! A broker has six loopback listeners: `PLAINTEXT` ([`Broker::bootstrap`], also the
//! inter-broker one), `CONTROLLER` (KRaft), `SASL_PLAINTEXT` ([`Broker::sasl_bootstrap`])
//! with the mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for one user with fixed test
//! credentials, [`SASL_USERNAME`] / [`SASL_PASSWORD`] (loopback only, tests only; the SCRAM
//! credentials are created when the launcher formats the data directory), and three TLS ones:
//! `SSL` ([`Broker::ssl_bootstrap`]; a client certificate is requested, not required),
//! `SASL_SSL` ([`Broker::sasl_ssl_bootstrap`]; the same SASL users over TLS) and `MTLS`
//! ([`Broker::mtls_bootstrap`]; TLS with a client certificate of the test CA required). The
//! launcher makes their throwaway PEM files with `openssl` in `DATA_DIR/tls/`
//! ([`Broker::tls_dir`]): the CA [`TLS_CA`], the broker's certificate for `127.0.0.1` and
//! `localhost`, and a client certificate [`TLS_CLIENT_CERT`] with its key [`TLS_CLIENT_KEY`].
//!
//! Running needs `java` 17 or newer (Kafka 4.0's broker requires it) and `openssl` on `PATH`;
//! a broker takes
//! about 3 s to start on an idle machine and 512 MiB of heap at most. `cargo xtask test` starts
//! one [`Broker`] for the whole run and gives its address to every test process (see
//! [`crate::run_tests`]); a test run on its own starts one per test process through the
//! launcher (`crates/otlp-transport/tests/interop_support/kafka.rs`).

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{binary_is_current, file_stamp, files_sha256, remove_path, run, stdout_of};
use crate::Result;

/// The Kafka release of `pom.xml`.
pub const VERSION: &str = "4.0.2";
/// The peer's sources, relative to the workspace root.
pub const SOURCE: &str = "xtask/peers/kafka";
/// The files of [`SOURCE`] whose contents make the spec.
pub const FILES: &[&str] = &["pom.xml", "kafka-broker.sh", "log4j2.properties"];
/// The launcher's file name under `target/peers/bin/`.
pub const LAUNCHER: &str = "kafka-broker";
/// The lock's key for this peer.
pub const LOCK_KEY: &str = "kafka";
/// The user of the SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512), as the
/// launcher's header documents it.
pub const SASL_USERNAME: &str = "otel";
/// That user's password (a test credential, not a secret).
pub const SASL_PASSWORD: &str = "otel-secret";
/// The test CA's certificate in [`Broker::tls_dir`]: it signed the broker's certificate and
/// [`TLS_CLIENT_CERT`].
pub const TLS_CA: &str = "ca.pem";
/// A client certificate in [`Broker::tls_dir`], accepted by the `SSL` and `MTLS` listeners.
pub const TLS_CLIENT_CERT: &str = "client.pem";
/// The key of [`TLS_CLIENT_CERT`] (PKCS#8 PEM, unencrypted).
pub const TLS_CLIENT_KEY: &str = "client-key.pem";
/// The jars `libs/` must hold; the broker, its storage tool and logging.
pub const REQUIRED_JARS: &[&str] = &[
    "kafka_2.13-4.0.2.jar",
    "kafka-tools-4.0.2.jar",
    "kafka-clients-4.0.2.jar",
    "kafka-server-4.0.2.jar",
    "log4j-core-2.24.3.jar",
    "log4j-slf4j-impl-2.24.3.jar",
];
/// Jars that must not be there: the SLF4J 2 binding would leave Kafka's SLF4J 1.7 unbound.
const FORBIDDEN_JAR_PREFIXES: &[&str] = &["log4j-slf4j2-impl-"];
/// The Maven goal that copies the dependencies (full coordinates: the pom names no plugins).
const COPY_DEPENDENCIES: &str =
    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies";
/// How long a broker may take to log that it started.
const START_SECONDS: u64 = 60;
/// How long a stopped broker may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// What the peer is installed from; any change reinstalls it.
pub(super) fn spec(source: &Path) -> Result<String> {
    Ok(format!(
        "kafka_2.13 {VERSION} from {SOURCE} ({}) sha256:{}",
        FILES.join(" "),
        files_sha256(source, FILES, LAUNCHER)?
    ))
}

/// Whether the lock says the peer is installed at `spec` and the launcher and the jars are
/// still there.
pub(super) fn is_current(dir: &Path, lock: &Map<String, Value>, spec: &str) -> bool {
    if !binary_is_current(dir, lock, LOCK_KEY, spec, LAUNCHER) {
        return false;
    }
    let home = dir.join("kafka");
    let jars = jar_names(&home.join("libs")).unwrap_or_default();
    let recorded = lock.get(LOCK_KEY).and_then(|entry| entry.get("jars"));
    recorded == Some(&json!(jars.len()))
        && REQUIRED_JARS
            .iter()
            .all(|jar| jars.iter().any(|j| j == jar))
        && home.join("log4j2.properties").is_file()
}

/// Installs the jars, the logging config and the launcher, verifies them with a broker, and
/// returns the lock entry.
pub(super) fn install(dir: &Path, source: &Path, spec: &str) -> Result<Value> {
    let java = java_version()?;
    println!(
        "peers: installing the Kafka {VERSION} broker from Maven Central (mvn, into \
         target/peers/maven) with java {java} ..."
    );
    let started = Instant::now();
    let staging = dir.join(".staging").join("kafka");
    remove_path(&staging)?;
    let home = staging.join("kafka");
    let libs = home.join("libs");
    let bin = staging.join("bin");
    for created in [&libs, &bin] {
        fs::create_dir_all(created).map_err(|e| format!("creating {}: {e}", created.display()))?;
    }
    let repository = dir.join("maven");
    run(
        Command::new("mvn")
            .args(["-q", "-B", "-f"])
            .arg(source.join("pom.xml"))
            .arg(format!("-Dmaven.repo.local={}", repository.display()))
            .arg(COPY_DEPENDENCIES)
            .arg(format!("-DoutputDirectory={}", libs.display())),
        "mvn copy-dependencies of xtask/peers/kafka/pom.xml (needs `mvn` on PATH and Maven \
         Central)",
    )?;
    let jars = check_jars(&libs)?;
    copy_file(
        &source.join("log4j2.properties"),
        &home.join("log4j2.properties"),
    )?;
    let launcher = bin.join(LAUNCHER);
    copy_file(&source.join("kafka-broker.sh"), &launcher)?;
    make_executable(&launcher)?;

    let check = staging.join("check");
    let broker = Broker::start(&launcher, &check)?;
    let bootstrap = broker.bootstrap().to_string();
    let sasl_bootstrap = broker.sasl_bootstrap().to_string();
    let ssl_bootstrap = broker.ssl_bootstrap().to_string();
    for (listener, client_cert) in [
        (broker.ssl_bootstrap(), false),
        (broker.sasl_ssl_bootstrap(), false),
        (broker.mtls_bootstrap(), true),
    ] {
        tls_handshake(
            listener,
            &broker.tls_ca(),
            client_cert.then(|| broker.client_identity()),
        )?;
    }
    broker.stop()?;
    let _ = fs::remove_dir_all(&check);

    let target_home = dir.join("kafka");
    remove_path(&target_home)?;
    rename(&home, &target_home)?;
    let target = dir.join("bin").join(LAUNCHER);
    rename(&launcher, &target)?;
    let _ = fs::remove_dir_all(&staging);
    let (size, mtime_ns) = file_stamp(&target)?;
    println!(
        "peers: {LAUNCHER} ready (Kafka {VERSION}, {} jars; a broker answered at {bootstrap}, \
         {sasl_bootstrap} (SASL) and {ssl_bootstrap} (TLS, and two more TLS listeners); {:.1}s)",
        jars.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(json!({
        "spec": spec,
        "version": VERSION,
        "java": java,
        "path": format!("bin/{LAUNCHER}"),
        "libs": "kafka/libs",
        "jars": jars.len(),
        "size": size,
        "mtime_ns": mtime_ns,
    }))
}

/// The `*.jar` file names in `libs`, sorted.
fn jar_names(libs: &Path) -> Result<Vec<String>> {
    let entries = fs::read_dir(libs).map_err(|e| format!("reading {}: {e}", libs.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".jar"))
        .collect();
    names.sort();
    Ok(names)
}

/// The jars of `libs`, which must hold every [`REQUIRED_JARS`] and no forbidden one.
fn check_jars(libs: &Path) -> Result<Vec<String>> {
    let jars = jar_names(libs)?;
    jar_problems(&jars).map_or(Ok(jars), Err)
}

/// What is wrong with a list of jar names, if anything.
fn jar_problems(jars: &[String]) -> Option<String> {
    let missing: Vec<&str> = REQUIRED_JARS
        .iter()
        .copied()
        .filter(|jar| !jars.iter().any(|j| j == jar))
        .collect();
    let forbidden: Vec<&String> = jars
        .iter()
        .filter(|jar| FORBIDDEN_JAR_PREFIXES.iter().any(|p| jar.starts_with(p)))
        .collect();
    if missing.is_empty() && forbidden.is_empty() {
        return None;
    }
    Some(format!(
        "the Kafka jars lack {missing:?} or hold {forbidden:?} (pom.xml of {SOURCE}); found \
         {jars:?}"
    ))
}

/// `java -version`'s version (it prints to stderr), which must be 17 or newer.
fn java_version() -> Result<String> {
    let output = run(
        Command::new("java").arg("-version"),
        "java -version (the Kafka broker needs Java 17 or newer on PATH)",
    )?;
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&stdout_of(&output));
    let version = java_version_of(&text)
        .ok_or_else(|| format!("java -version printed no version:\n{text}"))?;
    let major = version
        .split(['.', '-', '+'])
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .unwrap_or(0);
    if major < 17 {
        return Err(format!(
            "java on PATH is {version}; the Kafka {VERSION} broker needs Java 17 or newer"
        ));
    }
    Ok(version.to_string())
}

/// The quoted version of `openjdk version "17.0.15" 2025-04-15`.
fn java_version_of(text: &str) -> Option<&str> {
    let line = text.lines().find(|line| line.contains(" version \""))?;
    let (_, rest) = line.split_once(" version \"")?;
    rest.split('"').next().filter(|version| !version.is_empty())
}

fn copy_file(from: &Path, to: &Path) -> Result {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn rename(from: &Path, to: &Path) -> Result {
    fs::rename(from, to).map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod 755 {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result {
    Err("the Kafka launcher is a shell script; it needs a Unix system".to_string())
}

// ---------------------------------------------------------------------------------------------
// One running broker.

/// A broker started through the launcher. It is stopped by [`Broker::stop`], or when dropped,
/// and by the launcher's watchdog if this process exits first (`--parent-pid`). Its data
/// directory is removed once it has exited (`--cleanup`).
#[derive(Debug)]
pub struct Broker {
    pid: u32,
    listeners: Listeners,
    tls_dir: PathBuf,
    data_dir: PathBuf,
    stopped: bool,
}

impl Broker {
    /// Starts a broker on six free loopback ports with its data in `data_dir` (removed first,
    /// and again after the broker exits), and waits until it has logged that it started, answers
    /// an ApiVersions request on its PLAINTEXT and its SASL_PLAINTEXT listener (Kafka answers
    /// ApiVersions before authentication) and accepts connections on its three TLS listeners.
    /// Fails when a broker still runs in `data_dir`, or when the launcher made no TLS files.
    pub fn start(launcher: &Path, data_dir: &Path) -> Result<Broker> {
        let pid_file = data_dir.join("broker.pid");
        if let Some(pid) = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .filter(|pid| is_broker(*pid))
        {
            return Err(format!(
                "a Kafka broker (pid {pid}) still runs in {}",
                data_dir.display()
            ));
        }
        remove_path(data_dir)?;
        let output = run(
            Command::new(launcher)
                .arg("--parent-pid")
                .arg(std::process::id().to_string())
                .args(["--wait", &START_SECONDS.to_string(), "--cleanup"])
                .arg(data_dir),
            &format!("starting a Kafka broker with {}", launcher.display()),
        )?;
        let printed = stdout_of(&output);
        let lines = parse_launcher_output(&printed).ok_or_else(|| {
            format!(
                "{} printed no bootstrap=/sasl_bootstrap=/ssl_bootstrap=/sasl_ssl_bootstrap=/\
                 mtls_bootstrap=/tls_dir=/pid= lines:\n{printed}",
                launcher.display()
            )
        })?;
        let pid = lines.pid;
        let broker = Broker {
            pid,
            listeners: lines.listeners,
            tls_dir: lines.tls_dir,
            data_dir: data_dir.to_path_buf(),
            stopped: false,
        };
        // Dropping `broker` on an error stops it.
        for file in [TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY] {
            let path = broker.tls_dir.join(file);
            if !path.is_file() {
                return Err(format!(
                    "the Kafka launcher made no {} (pid {pid})",
                    path.display()
                ));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(START_SECONDS);
        let plaintext = [
            &broker.listeners.plaintext,
            &broker.listeners.sasl_plaintext,
        ];
        let tls = [
            &broker.listeners.ssl,
            &broker.listeners.sasl_ssl,
            &broker.listeners.mtls,
        ];
        let checks = plaintext
            .into_iter()
            .map(|listener| (listener, true))
            .chain(tls.into_iter().map(|listener| (listener, false)));
        for (listener, speaks_plaintext) in checks {
            let address: SocketAddr = listener
                .parse()
                .map_err(|e| format!("bootstrap {listener:?}: {e}"))?;
            // A TLS listener cannot be asked in plaintext; that it accepts is enough here.
            let answer = |address| {
                if speaks_plaintext {
                    api_versions(address).map(|_| ())
                } else {
                    TcpStream::connect_timeout(&address, Duration::from_secs(5))
                        .map(|_| ())
                        .map_err(|e| format!("connecting to {address}: {e}"))
                }
            };
            loop {
                match answer(address) {
                    Ok(()) => break,
                    Err(e) if Instant::now() >= deadline => {
                        return Err(format!(
                            "the Kafka broker at {address} (pid {pid}) does not answer: {e}"
                        ));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        }
        Ok(broker)
    }

    /// `127.0.0.1:PORT` of the PLAINTEXT listener, for a client's bootstrap servers.
    pub fn bootstrap(&self) -> &str {
        &self.listeners.plaintext
    }

    /// `127.0.0.1:PORT` of the SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512;
    /// user [`SASL_USERNAME`], password [`SASL_PASSWORD`]).
    pub fn sasl_bootstrap(&self) -> &str {
        &self.listeners.sasl_plaintext
    }

    /// `127.0.0.1:PORT` of the SSL listener: TLS with the certificate of [`Broker::tls_ca`]'s
    /// CA; a client certificate is requested, not required.
    pub fn ssl_bootstrap(&self) -> &str {
        &self.listeners.ssl
    }

    /// `127.0.0.1:PORT` of the SASL_SSL listener: the SASL users of
    /// [`Broker::sasl_bootstrap`] over TLS.
    pub fn sasl_ssl_bootstrap(&self) -> &str {
        &self.listeners.sasl_ssl
    }

    /// `127.0.0.1:PORT` of the MTLS listener: TLS that requires a client certificate of the
    /// test CA, such as [`Broker::client_identity`].
    pub fn mtls_bootstrap(&self) -> &str {
        &self.listeners.mtls
    }

    /// The directory of the broker's TLS files (`DATA_DIR/tls`; see the launcher's header).
    pub fn tls_dir(&self) -> &Path {
        &self.tls_dir
    }

    /// The test CA's certificate ([`TLS_CA`] in [`Broker::tls_dir`]).
    pub fn tls_ca(&self) -> PathBuf {
        self.tls_dir.join(TLS_CA)
    }

    /// The client certificate and its key ([`TLS_CLIENT_CERT`], [`TLS_CLIENT_KEY`]).
    pub fn client_identity(&self) -> (PathBuf, PathBuf) {
        (
            self.tls_dir.join(TLS_CLIENT_CERT),
            self.tls_dir.join(TLS_CLIENT_KEY),
        )
    }

    /// The broker JVM's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the broker: SIGTERM, then SIGKILL when it has not exited after 30 s. Waits until
    /// the process is gone.
    pub fn stop(mut self) -> Result {
        self.stopped = true;
        stop_pid(self.pid).map_err(|e| format!("stopping the Kafka broker: {e}"))
    }

    /// The data directory (gone once the broker has exited).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            if let Err(e) = stop_pid(self.pid) {
                eprintln!("stopping the Kafka broker (pid {}): {e}", self.pid);
            }
        }
    }
}

/// The `127.0.0.1:PORT` of each client listener.
#[derive(Debug, PartialEq, Eq)]
struct Listeners {
    plaintext: String,
    sasl_plaintext: String,
    ssl: String,
    sasl_ssl: String,
    mtls: String,
}

/// What the launcher prints: its `bootstrap=`, `sasl_bootstrap=`, `ssl_bootstrap=`,
/// `sasl_ssl_bootstrap=`, `mtls_bootstrap=`, `tls_dir=` and `pid=` lines (the `tls_ca=`,
/// `tls_client_cert=` and `tls_client_key=` ones name files of `tls_dir`).
#[derive(Debug, PartialEq, Eq)]
struct LauncherOutput {
    listeners: Listeners,
    tls_dir: PathBuf,
    pid: u32,
}

/// The launcher's lines, or `None` when one of them is missing or empty.
fn parse_launcher_output(printed: &str) -> Option<LauncherOutput> {
    let value = |key: &str| {
        printed
            .lines()
            .find_map(|line| line.trim().strip_prefix(key))
            .map(str::to_string)
            .filter(|v| !v.is_empty())
    };
    Some(LauncherOutput {
        listeners: Listeners {
            plaintext: value("bootstrap=")?,
            sasl_plaintext: value("sasl_bootstrap=")?,
            ssl: value("ssl_bootstrap=")?,
            sasl_ssl: value("sasl_ssl_bootstrap=")?,
            mtls: value("mtls_bootstrap=")?,
        },
        tls_dir: PathBuf::from(value("tls_dir=")?),
        pid: value("pid=")?.parse().ok()?,
    })
}

/// Completes a TLS handshake with the listener `address` with `openssl s_client`, trusting
/// only `ca` and checking that the certificate is for the IP address `127.0.0.1`, and
/// presenting `client` (certificate, key) when given; an error names what failed.
pub fn tls_handshake(address: &str, ca: &Path, client: Option<(PathBuf, PathBuf)>) -> Result {
    let mut command = Command::new("openssl");
    command
        .args([
            "s_client",
            "-brief",
            "-verify_return_error",
            "-verify_ip",
            "127.0.0.1",
        ])
        .arg("-connect")
        .arg(address)
        .arg("-CAfile")
        .arg(ca);
    if let Some((cert, key)) = &client {
        command.arg("-cert").arg(cert).arg("-key").arg(key);
    }
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("running openssl s_client (is `openssl` on PATH?): {e}"))?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && printed.contains("Verification: OK") {
        Ok(())
    } else {
        Err(format!(
            "no verified TLS handshake with {address} trusting {} ({}):\n{printed}",
            ca.display(),
            output.status
        ))
    }
}

/// Stops a broker JVM by its pid and waits until it is gone. A pid that is no longer a Kafka
/// broker (it exited, and the pid may have been reused) is left alone.
fn stop_pid(pid: u32) -> Result {
    if !is_broker(pid) {
        return Ok(());
    }
    signal(pid, "TERM")?;
    let deadline = Instant::now() + STOP_GRACE;
    while is_running(pid) {
        if Instant::now() >= deadline {
            signal(pid, "KILL")?;
            let killed = Instant::now() + Duration::from_secs(10);
            while is_running(pid) {
                if Instant::now() >= killed {
                    return Err(format!("pid {pid} is still there after SIGKILL"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn signal(pid: u32, name: &str) -> Result {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .map_err(|e| format!("running kill -{name} {pid}: {e}"))?;
    // A failure means the process has just exited.
    if !status.success() && is_running(pid) {
        return Err(format!("kill -{name} {pid} failed ({status})"));
    }
    Ok(())
}

/// Whether `pid` is a live process (not a zombie), from `/proc/<pid>/stat`.
pub(crate) fn is_running(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold anything.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Whether `pid` is a running Kafka broker JVM (its command line runs `kafka.Kafka`).
pub(crate) fn is_broker(pid: u32) -> bool {
    is_running(pid)
        && fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg == b"kafka.Kafka"))
}

/// Sends an ApiVersions v0 request (API key 18) and returns how many APIs the broker lists;
/// an error unless it answers with the same correlation id, error code 0 and at least one API.
pub fn api_versions(address: SocketAddr) -> Result<usize> {
    const CORRELATION_ID: i32 = 0x6f74_6c70;
    let timeout = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|e| format!("connecting to {address}: {e}"))?;
    let io = |e: std::io::Error| format!("ApiVersions with {address}: {e}");
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream
        .write_all(&api_versions_request(CORRELATION_ID, "otlp-rs-xtask"))
        .map_err(io)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).map_err(io)?;
    let size = usize::try_from(u32::from_be_bytes(size)).unwrap_or(usize::MAX);
    if !(6..=1 << 20).contains(&size) {
        return Err(format!("ApiVersions answer of {size} bytes from {address}"));
    }
    let mut body = vec![0u8; size];
    stream.read_exact(&mut body).map_err(io)?;
    parse_api_versions_response(&body, CORRELATION_ID)
        .map_err(|e| format!("ApiVersions answer from {address}: {e}"))
}

/// A size-prefixed ApiVersions v0 request with request header v1 (key, version, correlation
/// id, client id); the v0 body is empty.
fn api_versions_request(correlation_id: i32, client_id: &str) -> Vec<u8> {
    let mut message = Vec::new();
    message.extend_from_slice(&18i16.to_be_bytes());
    message.extend_from_slice(&0i16.to_be_bytes());
    message.extend_from_slice(&correlation_id.to_be_bytes());
    let id_len = i16::try_from(client_id.len()).unwrap_or(0);
    message.extend_from_slice(&id_len.to_be_bytes());
    message.extend_from_slice(&client_id.as_bytes()[..usize::try_from(id_len).unwrap_or(0)]);
    let mut framed = u32::try_from(message.len())
        .unwrap_or(0)
        .to_be_bytes()
        .to_vec();
    framed.extend_from_slice(&message);
    framed
}

/// Reads an ApiVersions v0 response (header v0: correlation id; body: error code and an array
/// of `(api key, min version, max version)`); returns the number of APIs.
fn parse_api_versions_response(body: &[u8], correlation_id: i32) -> Result<usize> {
    let i16_at = |at: usize| {
        body.get(at..at + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let i32_at = |at: usize| {
        body.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let echoed = i32_at(0)?;
    if echoed != correlation_id {
        return Err(format!("correlation id {echoed}, not {correlation_id}"));
    }
    let error_code = i16_at(4)?;
    if error_code != 0 {
        return Err(format!("error code {error_code}"));
    }
    let count = usize::try_from(i32_at(6)?).map_err(|_| "a negative API count".to_string())?;
    if count == 0 {
        return Err("no APIs listed".to_string());
    }
    let end = 10 + count * 6;
    if body.len() < end {
        return Err(format!(
            "{count} APIs announced, {} bytes received",
            body.len()
        ));
    }
    // Produce (key 0) and Fetch (key 1) must be among them.
    let keys: Vec<i16> = (0..count)
        .map(|i| i16_at(10 + i * 6))
        .collect::<Result<_>>()?;
    if !keys.contains(&0) || !keys.contains(&1) {
        return Err(format!("no Produce or Fetch among the API keys {keys:?}"));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace_root;

    #[test]
    fn spec_follows_every_source_file() {
        let source = workspace_root().join(SOURCE);
        let spec = spec(&source).unwrap();
        assert!(
            spec.starts_with(
                "kafka_2.13 4.0.2 from xtask/peers/kafka (pom.xml kafka-broker.sh \
                 log4j2.properties) sha256:"
            ),
            "{spec}"
        );
        let dir = std::env::temp_dir().join(format!("xtask-kafka-spec-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for file in FILES {
            fs::copy(source.join(file), dir.join(file)).unwrap();
        }
        assert_eq!(super::spec(&dir).unwrap(), spec);
        for file in FILES {
            let original = fs::read(dir.join(file)).unwrap();
            fs::write(dir.join(file), b"changed").unwrap();
            assert_ne!(super::spec(&dir).unwrap(), spec, "{file}");
            fs::write(dir.join(file), original).unwrap();
        }
        fs::remove_file(dir.join("pom.xml")).unwrap();
        assert!(super::spec(&dir).unwrap_err().contains("pom.xml"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pom_names_the_pinned_artifacts() {
        let pom = fs::read_to_string(workspace_root().join(SOURCE).join("pom.xml")).unwrap();
        assert!(pom.contains(&format!("<kafka.version>{VERSION}</kafka.version>")));
        for artifact in [
            "kafka_2.13",
            "kafka-tools",
            "log4j-core",
            "log4j-slf4j-impl",
        ] {
            assert!(
                pom.contains(&format!("<artifactId>{artifact}</artifactId>")),
                "{artifact}"
            );
        }
        assert!(!pom.contains("<artifactId>log4j-slf4j2-impl</artifactId>"));
        for jar in REQUIRED_JARS {
            assert!(
                jar.ends_with(&format!("-{VERSION}.jar")) || jar.ends_with("-2.24.3.jar"),
                "{jar}"
            );
        }
    }

    #[test]
    fn jar_list_needs_the_broker_and_the_slf4j_1_binding() {
        let mut jars: Vec<String> = REQUIRED_JARS.iter().map(|j| j.to_string()).collect();
        jars.push("slf4j-api-1.7.36.jar".to_string());
        assert_eq!(jar_problems(&jars), None);
        let without_broker: Vec<String> = jars
            .iter()
            .filter(|j| !j.starts_with("kafka_2.13"))
            .cloned()
            .collect();
        assert!(
            jar_problems(&without_broker)
                .unwrap()
                .contains("kafka_2.13-4.0.2.jar")
        );
        jars.push("log4j-slf4j2-impl-2.24.3.jar".to_string());
        assert!(jar_problems(&jars).unwrap().contains("log4j-slf4j2-impl"));
    }

    #[test]
    fn reads_java_versions() {
        let openjdk = "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment";
        assert_eq!(java_version_of(openjdk), Some("17.0.15"));
        assert_eq!(
            java_version_of("java version \"1.8.0_402\""),
            Some("1.8.0_402")
        );
        assert_eq!(java_version_of("command not found"), None);
    }

    #[test]
    fn reads_the_launcher_output() {
        let printed = "bootstrap=127.0.0.1:20416\nsasl_bootstrap=127.0.0.1:20417\n\
                       ssl_bootstrap=127.0.0.1:20418\nsasl_ssl_bootstrap=127.0.0.1:20419\n\
                       mtls_bootstrap=127.0.0.1:20420\ntls_dir=/d/tls\ntls_ca=/d/tls/ca.pem\n\
                       tls_client_cert=/d/tls/client.pem\n\
                       tls_client_key=/d/tls/client-key.pem\npid=16777\n";
        assert_eq!(
            parse_launcher_output(printed),
            Some(LauncherOutput {
                listeners: Listeners {
                    plaintext: "127.0.0.1:20416".to_string(),
                    sasl_plaintext: "127.0.0.1:20417".to_string(),
                    ssl: "127.0.0.1:20418".to_string(),
                    sasl_ssl: "127.0.0.1:20419".to_string(),
                    mtls: "127.0.0.1:20420".to_string(),
                },
                tls_dir: PathBuf::from("/d/tls"),
                pid: 16777
            })
        );
        assert_eq!(parse_launcher_output("bootstrap=127.0.0.1:1\n"), None);
        // Older launchers, without the SASL listener, or without the TLS ones.
        assert_eq!(
            parse_launcher_output("bootstrap=127.0.0.1:1\npid=12\n"),
            None
        );
        assert_eq!(
            parse_launcher_output("bootstrap=127.0.0.1:1\nsasl_bootstrap=127.0.0.1:2\npid=12\n"),
            None
        );
        assert_eq!(
            parse_launcher_output(&printed.replace("tls_dir=/d/tls\n", "")),
            None
        );
        assert_eq!(
            parse_launcher_output(&printed.replace("bootstrap=127.0.0.1:20416", "bootstrap=")),
            None
        );
    }

    #[test]
    fn the_launcher_configures_the_tls_listeners_and_files() {
        let script =
            fs::read_to_string(workspace_root().join(SOURCE).join("kafka-broker.sh")).unwrap();
        for line in [
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,\
             SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL\n",
            "ssl.keystore.type=PEM\n",
            "ssl.truststore.type=PEM\n",
            "ssl.truststore.location=$tls/ca.pem\n",
            "listener.name.ssl.ssl.client.auth=requested\n",
            "listener.name.mtls.ssl.client.auth=required\n",
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n",
            "echo \"tls_dir=$tls\"\n",
        ] {
            assert!(script.contains(line), "{line}");
        }
        for file in [TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY] {
            assert!(script.contains(&format!("tls/{file} ")), "{file}");
        }
        // The SASL_SSL listener has the SASL_PLAINTEXT one's mechanisms and users.
        for mechanism in ["plain", "scram-sha-256", "scram-sha-512"] {
            for listener in ["sasl_plaintext", "sasl_ssl"] {
                let key = format!("listener.name.{listener}.{mechanism}.sasl.jaas.config=");
                assert!(script.contains(&key), "{key}");
            }
        }
    }

    #[test]
    fn the_launcher_documents_and_creates_the_sasl_credentials() {
        let script =
            fs::read_to_string(workspace_root().join(SOURCE).join("kafka-broker.sh")).unwrap();
        assert!(script.contains(&format!("sasl_user={SASL_USERNAME}\n")));
        assert!(script.contains(&format!("sasl_password={SASL_PASSWORD}\n")));
        assert!(script.contains(&format!(
            "user \"{SASL_USERNAME}\", password \"{SASL_PASSWORD}\""
        )));
        for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
            assert!(
                script.contains(&format!("--add-scram \"{mechanism}=[name=$sasl_user,")),
                "{mechanism}"
            );
        }
        assert!(script.contains("sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512\n"));
        assert!(script.contains("inter.broker.listener.name=PLAINTEXT\n"));
    }

    #[test]
    fn encodes_api_versions_and_reads_the_answer() {
        let request = api_versions_request(7, "ab");
        assert_eq!(
            request,
            [0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0, 7, 0, 2, b'a', b'b']
        );
        // Correlation id 7, no error, two APIs: Produce 0..=11 and Fetch 0..=17.
        let answer = [
            0, 0, 0, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 11, 0, 1, 0, 0, 0, 17,
        ];
        assert_eq!(parse_api_versions_response(&answer, 7), Ok(2));
        assert!(parse_api_versions_response(&answer, 8).is_err());
        let mut failed = answer;
        failed[5] = 35; // UNSUPPORTED_VERSION
        assert!(
            parse_api_versions_response(&failed, 7)
                .unwrap_err()
                .contains("35")
        );
        assert!(parse_api_versions_response(&answer[..15], 7).is_err());
    }

    #[test]
    fn this_process_is_running_and_a_reaped_one_is_not() {
        assert!(is_running(std::process::id()));
        assert!(!is_broker(std::process::id()));
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_running(pid));
        // Stopping a pid that is not a broker does nothing.
        assert_eq!(stop_pid(pid), Ok(()));
    }
}
