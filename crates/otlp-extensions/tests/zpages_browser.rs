//! The zPages as a browser renders them: the `zpages` extension serves a collector's topology
//! and its own spans; headless Chromium loads `/debug/servicez`, `/debug/pipelinez` and
//! `/debug/tracez` (`--dump-dom`: the DOM after parsing, so markup that the escaping failed
//! to neutralise would show up as elements) and takes a screenshot of `/debug/tracez`
//! (`--screenshot`), which must be a valid PNG of the requested size that is not one colour.
//!
//! Chromium is Debian's `chromium` package at `/usr/bin/chromium` (`cargo xtask peers`
//! installs it as root); without it the test prints a skip notice, or fails under
//! `OTLP_REQUIRE_PEERS=1` (set by `cargo xtask test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use otlp_extensions::zpages::{ZPages, ZPagesConfig};
use otlp_pipeline::component::{Extension, ExtensionContext, Host};
use otlp_pipeline::telemetry::{SelfSpans, SpanKind};
use otlp_pipeline::topology::TopologySnapshot;
use otlp_pipeline::{ComponentId, Config, Resources, ServiceStatus, ServiceTopology};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium() -> Option<&'static Path> {
    let path = Path::new(CHROMIUM);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "{CHROMIUM} is missing: run `cargo xtask test` / `cargo xtask peers` as root (it \
             runs `apt-get install -y chromium`); OTLP_REQUIRE_PEERS=1 makes a missing peer a \
             failure instead of a skip"
        );
    }
    println!("skipping: {CHROMIUM} not installed (run `cargo xtask peers`)");
    None
}

fn command(chromium: &Path, profile: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-proxy-server",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(mut command: tokio::process::Command, what: &str) -> String {
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .unwrap_or_else(|_| panic!("chromium did not finish {what} within 30 s"))
        .expect("chromium starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "chromium {what}: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn dump_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut command = command(chromium, profile.path());
    command.args(["--dump-dom", url]);
    let dom = run(command, url).await;
    assert!(dom.contains("<title>"), "{url}: {dom}");
    dom
}

/// The pixels of an 8-bit RGB or RGBA PNG, checked chunk by chunk: signature, IHDR, the
/// zlib stream of the IDAT chunks, the row filters.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<Vec<u8>>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let mut at = 8;
    let (mut width, mut height, mut channels) = (0u32, 0u32, 0usize);
    let mut idat = Vec::new();
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap());
                height = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(data[12], 0, "not interlaced");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width as usize * channels;
    assert_eq!(raw.len(), (stride + 1) * height as usize, "image data size");
    let mut rows: Vec<Vec<u8>> = Vec::new();
    for line in raw.chunks(stride + 1) {
        let filter = line[0];
        let mut row = line[1..].to_vec();
        let prior = rows.last().cloned().unwrap_or_else(|| vec![0; stride]);
        for i in 0..stride {
            let a = if i >= channels { row[i - channels] } else { 0 };
            let b = prior[i];
            let c = if i >= channels {
                prior[i - channels]
            } else {
                0
            };
            let add = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("row filter {other}"),
            };
            row[i] = row[i].wrapping_add(add);
        }
        rows.push(row);
    }
    (width, height, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_servicez_pipelinez_and_tracez() {
    let Some(chromium) = chromium() else {
        return;
    };
    let resources = Resources::collector();
    let config = Config::from_yaml(
        "browser.yaml",
        "receivers: {otlp: }\nprocessors: {batch: }\nexporters: {debug: , otlp/backend: }\nextensions: {zpages: }\nservice:\n  extensions: [zpages]\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [debug, otlp/backend]\n",
    )
    .unwrap();
    ServiceTopology::from_resources(&resources)
        .publish(TopologySnapshot::from_config(&config, |_| false));
    let id: ComponentId = "zpages".parse().unwrap();
    let extension = ZPages::new(
        ExtensionContext::new(id.clone()).with_resources(resources.clone()),
        ZPagesConfig {
            endpoint: "127.0.0.1:0".into(),
            ..ZPagesConfig::default()
        },
    );
    extension.start(&Host::empty()).await.unwrap();
    let addr = ServiceStatus::from_resources(&resources)
        .bound_address(&id, "http")
        .unwrap();

    let spans = SelfSpans::from_resources(&resources);
    for _ in 0..3 {
        let mut span = spans.start(
            "opentelemetry.proto.collector.trace.v1.TraceService/Export",
            SpanKind::Server,
        );
        span.set_attribute("spans", 2);
    }
    let mut hostile = spans.start(
        String::from("<img src=x onerror=alert(1)>"),
        SpanKind::Client,
    );
    hostile.set_error("</td><script>document.title='pwned'</script>");
    hostile.end();

    let servicez = dump_dom(chromium, &format!("http://{addr}/debug/servicez")).await;
    assert!(
        servicez.contains("<th>Version</th><td>0.1.0</td>"),
        "{servicez}"
    );
    assert!(servicez.contains("<th>StartTimestamp</th>"), "{servicez}");

    let pipelinez = dump_dom(chromium, &format!("http://{addr}/debug/pipelinez")).await;
    assert!(
        pipelinez.contains("<tr><td>traces</td><td>traces</td><td>false</td>"),
        "{pipelinez}"
    );
    assert!(pipelinez.contains(">otlp/backend</a>") && pipelinez.contains(">batch</a>"));

    let tracez = dump_dom(chromium, &format!("http://{addr}/debug/tracez")).await;
    assert!(
        tracez.contains("<td>opentelemetry.proto.collector.trace.v1.TraceService/Export</td>"),
        "{tracez}"
    );
    assert!(
        tracez.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{tracez}"
    );
    assert!(
        !tracez.contains("<img"),
        "the span name became an element: {tracez}"
    );
    let errors = dump_dom(
        chromium,
        &format!(
            "http://{addr}/debug/tracez?zspanname=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&ztype=2"
        ),
    )
    .await;
    assert!(errors.contains("<title>Trace Spans</title>"), "{errors}");
    assert!(!errors.contains("<script>document"), "{errors}");
    assert!(errors.contains("1 Requests"), "{errors}");

    let profile = tempfile::tempdir().unwrap();
    let png = profile.path().join("tracez.png");
    let mut command = command(chromium, &profile.path().join("profile"));
    command
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=800,600")
        .arg(format!("http://{addr}/debug/tracez"));
    run(command, "the screenshot").await;
    let bytes = std::fs::read(&png).expect("screenshot written");
    let (width, height, rows) = decode_png(&bytes);
    assert_eq!((width, height), (800, 600));
    let first = rows[0][..3].to_vec();
    let distinct = rows
        .iter()
        .flat_map(|row| row.chunks(row.len() / width as usize))
        .filter(|pixel| pixel[..3] != first[..])
        .count();
    assert!(
        distinct > 1000,
        "the screenshot is (nearly) one colour: {distinct} pixels differ"
    );
    // The header bar is the page's indigo (#3f51b5), so the page was rendered, not an error.
    let header = &rows[10][..3];
    assert_eq!(header, [0x3f, 0x51, 0xb5], "header colour");

    extension
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}
