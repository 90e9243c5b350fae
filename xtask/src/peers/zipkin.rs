//! The Zipkin server peer: Maven Central's executable jar `io.zipkin:zipkin-server` (the
//! OpenZipkin project's server, Armeria on Java 17), installed by `cargo xtask peers` into
//! `target/peers/bin/zipkin-server.jar` and started by the tests that need it.
//!
//! `mvn` copies the one artifact (classifier `exec`, no dependencies: the jar holds them)
//! through the Maven local repository `target/peers/maven/`, so nothing is written to `~/.m2`.
//! The install is verified by starting the server on a free loopback port and reading `UP`
//! from its `/health`.
//!
//! Run as `java -Xmx256m -jar zipkin-server.jar` with the arguments of [`server_args`]: one
//! HTTP port on `127.0.0.1` only and in-memory storage (the default), which serves the
//! collector API (`POST /api/v2/spans`, v1 and v2 JSON, v2 protobuf, Thrift) and the query
//! API (`GET /api/v2/trace/{id}`, `/api/v2/services`). It takes about 8 s to start on an idle
//! two-core machine.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{file_stamp, remove_path, run};
use crate::Result;

/// The Zipkin server release.
pub const VERSION: &str = "3.5.1";
/// The artifact, with its classifier.
pub const ARTIFACT: &str = "io.zipkin:zipkin-server:3.5.1:jar:exec";
/// The jar's file name under `target/peers/bin/`.
pub const JAR: &str = "zipkin-server.jar";
/// The lock's key.
pub const LOCK_KEY: &str = "zipkin";
/// The Maven goal that copies one artifact (full coordinates: there is no pom).
const COPY: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy";
/// How long a server may take to answer `/health`.
const START_SECONDS: u64 = 90;

/// What the peer is installed from; any change reinstalls it.
pub(super) fn spec() -> String {
    format!("{ARTIFACT} as bin/{JAR}")
}

/// The command-line arguments that bind the server to `127.0.0.1:port` only.
pub fn server_args(port: u16) -> Vec<String> {
    vec![
        format!("--armeria.ports[0].port={port}"),
        "--armeria.ports[0].ip=127.0.0.1".to_string(),
        "--armeria.ports[0].protocols=http".to_string(),
    ]
}

/// Installs the jar, verifies it with a server, and returns the lock entry.
pub(super) fn install(dir: &Path, spec: &str) -> Result<Value> {
    println!("peers: installing the Zipkin server {VERSION} from Maven Central (mvn) ...");
    let started = Instant::now();
    let staging = dir.join(".staging").join("zipkin");
    remove_path(&staging)?;
    fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    run(
        Command::new("mvn")
            .args(["-q", "-B"])
            .arg(format!(
                "-Dmaven.repo.local={}",
                dir.join("maven").display()
            ))
            .arg(COPY)
            .arg(format!("-Dartifact={ARTIFACT}"))
            .arg(format!("-DoutputDirectory={}", staging.display()))
            .arg("-Dmdep.stripVersion=true")
            .arg("-Dmdep.stripClassifier=true"),
        "mvn dependency:copy of io.zipkin:zipkin-server (needs `mvn` on PATH and Maven Central)",
    )?;
    let jar = staging.join("zipkin-server.jar");
    if !jar.is_file() {
        return Err(format!("mvn left no {} behind", jar.display()));
    }
    let mut server = Server::start(&jar)?;
    let health = server.get("/health")?;
    server.stop();
    if !health.contains("\"UP\"") {
        return Err(format!("the Zipkin server's /health said {health}"));
    }
    let target = dir.join("bin").join(JAR);
    remove_path(&target)?;
    fs::rename(&jar, &target).map_err(|e| format!("moving the Zipkin jar: {e}"))?;
    let _ = fs::remove_dir_all(&staging);
    let (size, mtime_ns) = file_stamp(&target)?;
    println!(
        "peers: {JAR} ready (Zipkin {VERSION}; /health said UP; {:.1}s)",
        started.elapsed().as_secs_f64()
    );
    Ok(json!({
        "spec": spec,
        "version": VERSION,
        "path": format!("bin/{JAR}"),
        "size": size,
        "mtime_ns": mtime_ns,
    }))
}

/// A running Zipkin server, stopped (by its PID) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(jar: &Path) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let child = Command::new("java")
            .args(["-Xmx256m", "-jar"])
            .arg(jar)
            .args(server_args(port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting java -jar {}: {e}", jar.display()))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(START_SECONDS);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("the Zipkin server exited at start: {status}"));
            }
            if server.get("/health").is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the Zipkin server did not answer on {} within {START_SECONDS} s",
                    server.addr
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A GET's body (HTTP/1.0, so the server closes when done).
    fn get(&self, path: &str) -> Result<String> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr)
            .map_err(|e| e.to_string())?;
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            return Err(format!("GET {path}: {head}"));
        }
        Ok(body.to_string())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
