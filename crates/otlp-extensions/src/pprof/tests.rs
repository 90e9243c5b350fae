#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use http::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use otlp_pipeline::testing::id;

/// The sampler is process-wide: these tests take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Burns CPU on this thread for `duration`; its name must show up in the profile.
#[inline(never)]
fn burn_cpu_for_the_profiler_test(duration: Duration) -> u64 {
    let until = std::time::Instant::now() + duration;
    let mut x = 1u64;
    while std::time::Instant::now() < until {
        for i in 0..10_000u64 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}

/// `go tool pprof -top FILE`, or `None` without Go (a failure under `OTLP_REQUIRE_PEERS=1`).
fn go_pprof_top(file: &Path) -> Option<String> {
    let output = match std::process::Command::new("go")
        .args(["tool", "pprof", "-top", "-symbolize=none"])
        .arg(file)
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            assert!(
                !std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1"),
                "`go` is not on PATH ({error}): run `cargo xtask test`, which installs the peers"
            );
            println!("skipping the go tool pprof check: `go` not on PATH ({error})");
            return None;
        }
    };
    assert!(
        output.status.success(),
        "go tool pprof failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let top = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("go tool pprof -top:\n{top}");
    Some(top)
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, bytes[split + 4..].to_vec())
}

fn request(query: &str) -> Request {
    Request {
        peer: None,
        body: Default::default(),
        body_error: None,
        method: Method::GET,
        path: "/debug/pprof/profile".into(),
        query: query.into(),
        headers: http::HeaderMap::new(),
    }
}

#[test]
fn seconds_as_go_reads_them() {
    assert_eq!(seconds(&request("")), 30);
    assert_eq!(seconds(&request("seconds=5")), 5);
    assert_eq!(seconds(&request("seconds=0")), 30);
    assert_eq!(seconds(&request("seconds=-3")), 30);
    assert_eq!(seconds(&request("seconds=x")), 30);
    assert_eq!(seconds(&request("seconds=100000")), MAX_SECONDS);
}

#[test]
fn validation() {
    let parse = |yaml: &str| -> Result<PprofConfig, String> {
        let config: PprofConfig =
            otlp_pipeline::config::parse_config(&serde_yaml_ng::from_str(yaml).unwrap())
                .map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    };
    let config = parse("{}").unwrap();
    assert_eq!(config.endpoint, "localhost:1777");
    assert!(config.save_to_file.is_empty());
    parse("block_profile_fraction: 3\nmutex_profile_fraction: 5\nsave_to_file: /tmp/x\nendpoint: 0.0.0.0:1")
        .unwrap();
    assert!(
        parse("block_profile_fraction: -1")
            .unwrap_err()
            .contains("block_profile_fraction")
    );
    assert!(
        parse("mutex_profile_fraction: -1")
            .unwrap_err()
            .contains("mutex_profile_fraction")
    );
    assert!(parse("endpoint: x").unwrap_err().contains("endpoint"));
    assert!(parse("bogus: 1").unwrap_err().contains("bogus"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_cpu_profile_that_go_tool_pprof_reads_one_at_a_time() {
    let _serial = SERIAL.lock().await;
    let resources = otlp_pipeline::Resources::collector();
    let extension = Pprof::new(
        ExtensionContext::new(id("pprof")).with_resources(resources.clone()),
        PprofConfig {
            endpoint: "127.0.0.1:0".into(),
            ..PprofConfig::default()
        },
    );
    extension.start(&Host::empty()).await.unwrap();
    let addr = ServiceStatus::from_resources(&resources)
        .bound_address(&id("pprof"), "http")
        .unwrap();

    let (code, _, index) = get(addr, "/debug/pprof/").await;
    assert_eq!(code, 200);
    assert!(String::from_utf8_lossy(&index).contains("profile?seconds=30"));
    assert_eq!(get(addr, "/debug/pprof/heap").await.0, 404);

    let burner = std::thread::spawn(|| burn_cpu_for_the_profiler_test(Duration::from_millis(1800)));
    let profile = tokio::spawn(async move { get(addr, "/debug/pprof/profile?seconds=1").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A second profile while the first runs is refused.
    let started = std::time::Instant::now();
    let (code, _, body) = get(addr, "/debug/pprof/profile?seconds=1").await;
    assert_eq!(code, 409, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("cpu profiling already in use"));
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "refused at once"
    );
    // The server answers other requests while the profile runs (nothing blocks the runtime).
    assert_eq!(get(addr, "/debug/pprof/cmdline").await.0, 200);

    let (code, head, body) = profile.await.unwrap();
    burner.join().unwrap();
    assert_eq!(code, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert!(head.contains("attachment; filename=\"profile\""), "{head}");
    assert_eq!(&body[..2], [0x1f, 0x8b], "gzipped");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cpu.pb.gz");
    std::fs::write(&file, &body).unwrap();
    if let Some(top) = go_pprof_top(&file) {
        assert!(top.contains("burn_cpu_for_the_profiler_test"), "{top}");
    }
    extension.shutdown(Instant::now()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_to_file_writes_the_whole_run_at_shutdown() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("whole-run.prof");
    let resources = otlp_pipeline::Resources::collector();
    let extension = Pprof::new(
        ExtensionContext::new(id("pprof/file")).with_resources(resources.clone()),
        PprofConfig {
            endpoint: "127.0.0.1:0".into(),
            save_to_file: file.display().to_string(),
            ..PprofConfig::default()
        },
    );
    extension.start(&Host::empty()).await.unwrap();
    assert!(file.exists(), "created at start");
    let addr = ServiceStatus::from_resources(&resources)
        .bound_address(&id("pprof/file"), "http")
        .unwrap();
    // The whole-run profile holds the sampler: a request is refused.
    assert_eq!(get(addr, "/debug/pprof/profile?seconds=1").await.0, 409);
    tokio::task::spawn_blocking(|| burn_cpu_for_the_profiler_test(Duration::from_millis(700)))
        .await
        .unwrap();
    extension.shutdown(Instant::now()).await.unwrap();
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..2], [0x1f, 0x8b], "gzipped pprof");
    if let Some(top) = go_pprof_top(&file) {
        assert!(top.contains("burn_cpu_for_the_profiler_test"), "{top}");
    }
    // The sampler is free again.
    assert!(ProfilingSlot::take().is_some());

    let bad = Pprof::new(
        ExtensionContext::new(id("pprof/bad")),
        PprofConfig {
            endpoint: "127.0.0.1:0".into(),
            save_to_file: dir.path().join("no/such/dir/x").display().to_string(),
            ..PprofConfig::default()
        },
    );
    let error = bad.start(&Host::empty()).await.unwrap_err().to_string();
    assert!(error.contains("save_to_file"), "{error}");
}
