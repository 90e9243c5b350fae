//! CORS as a browser sees it: headless Chromium loads a page from one origin whose script
//! `fetch()`es OTLP/JSON traces to the collector's `otlp` receiver on another origin. The JSON
//! content type makes the browser send a preflight first; with the page's origin in
//! `cors.allowed_origins` the POST follows and its span reaches the sink, and with another
//! origin allowed the browser refuses the request (the page sees a failed fetch) and nothing
//! arrives.
//!
//! Chromium is Debian's `chromium` package at `/usr/bin/chromium` (`cargo xtask peers`
//! installs it as root); without it the test prints a skip notice, or fails under
//! `OTLP_REQUIRE_PEERS=1` (set by `cargo xtask test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use otlp_transport::client::Protocol;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, or `None` after a skip notice (a failure under `OTLP_REQUIRE_PEERS=1`).
fn chromium() -> Option<&'static Path> {
    let path = Path::new(CHROMIUM);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "{CHROMIUM} is missing: run `cargo xtask peers` as root (it runs `apt-get install -y \
             chromium`), or install Debian's chromium package (OTLP_REQUIRE_PEERS=1 makes a \
             missing peer a failure instead of a skip)"
        );
    }
    println!("skipping: {CHROMIUM} not installed (apt-get install -y chromium)");
    None
}

/// A page whose script POSTs `body` (OTLP/JSON) to `target` and writes the outcome into the
/// title: `status <code> <response body>` or `error <what fetch threw>`.
fn page(target: SocketAddr, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><title>pending</title></head><body><script>
fetch("http://{target}/v1/traces", {{
  method: "POST",
  headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({body}),
}})
  .then(r => r.text().then(t => {{ document.title = "status " + r.status + " " + t; }}))
  .catch(e => {{ document.title = "error " + e; }});
</script></body></html>
"#
    )
}

/// Serves `pages` by path (404 for anything else, the browser's `/favicon.ico` included), one
/// request per connection.
async fn serve_pages(listener: TcpListener, pages: Arc<HashMap<String, String>>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let pages = Arc::clone(&pages);
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
                if head.len() > 64 << 10 {
                    return;
                }
            }
            let text = String::from_utf8_lossy(&head);
            let path = text.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match pages.get(path) {
                Some(page) => ("200 OK", page.as_str()),
                None => ("404 Not Found", "not found"),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// Loads `url` in headless Chromium, lets its script finish (`--virtual-time-budget` waits for
/// pending network requests), and returns the DOM it dumps.
async fn browse(chromium: &Path, url: &str) -> String {
    let profile = temp_dir("chromium-profile");
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-proxy-server",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .unwrap_or_else(|_| panic!("chromium did not finish {url} within 20 s"))
        .expect("chromium starts");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("<title>"),
        "chromium {url}: {}\nstdout: {dom}\nstderr (tail): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    dom
}

/// The text of the dumped DOM's `<title>`.
fn title(dom: &str) -> &str {
    let start = dom.find("<title>").map_or(0, |i| i + "<title>".len());
    let end = dom[start..]
        .find("</title>")
        .map_or(dom.len(), |i| start + i);
    dom[start..end].trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_page_of_an_allowed_origin_sends_traces() {
    let Some(chromium) = chromium() else {
        return;
    };
    let _timer = Timer::start("a_browser_page_of_an_allowed_origin_sends_traces");
    let sink = RunningSink::start().await;
    let pages_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page_origin = format!("http://{}", pages_listener.local_addr().unwrap());
    let (allowed, denied) = (free_addr(), free_addr());
    let dir = temp_dir("cors-browser-config");
    let config = write(
        dir.path(),
        "cors.yaml",
        &format!(
            r#"
receivers:
  otlp/allowed:
    protocols:
      http:
        endpoint: {allowed}
        cors:
          allowed_origins: ["{page_origin}"]
          max_age: 60
  otlp/denied:
    protocols:
      http:
        endpoint: {denied}
        cors:
          allowed_origins: ["http://127.0.0.1:1", "https://*.example.com"]
exporters:
  otlp:
    endpoint: {sink}
    tls:
      insecure: true
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp/allowed, otlp/denied]
      exporters: [otlp]
"#,
            sink = sink.grpc,
        ),
    );
    let mut collector = start_collector("cors-browser", &config, &[]).await;
    collector
        .wait_listening(allowed, Duration::from_secs(5))
        .await;
    collector
        .wait_listening(denied, Duration::from_secs(5))
        .await;

    let allowed_span = ids(1)[0];
    let denied_span = ids(1)[0];
    let json = |id: u64| otlp_proto::json::to_string(&traces(&[id], 0)).unwrap();
    let pages = HashMap::from([
        ("/allowed".to_owned(), page(allowed, &json(allowed_span))),
        ("/denied".to_owned(), page(denied, &json(denied_span))),
    ]);
    tokio::spawn(serve_pages(pages_listener, Arc::new(pages)));

    // The allowed origin: preflight, then the POST; the page reads the 200 answer.
    let dom = browse(chromium, &format!("{page_origin}/allowed")).await;
    assert!(
        title(&dom).starts_with("status 200"),
        "the page's fetch: {}\n{}",
        title(&dom),
        collector.tail()
    );
    sink.wait_for_with(
        "the browser's span",
        Duration::from_secs(10),
        |r| r.span_set().contains(&allowed_span),
        || collector.tail(),
    )
    .await;

    // Another origin: the preflight gets no CORS headers, so the browser never sends the POST
    // and its script sees a failed fetch.
    let dom = browse(chromium, &format!("{page_origin}/denied")).await;
    assert!(
        title(&dom).starts_with("error TypeError"),
        "the page's fetch must fail: {}",
        title(&dom)
    );
    // A marker sent afterwards (no Origin: served as without CORS) through the same receiver
    // and pipeline arrives; the refused span did not come before it.
    let marker = ids(1)[0];
    client(Protocol::HttpJson, denied)
        .export(&traces(&[marker], 0))
        .await
        .expect("a request without Origin is served");
    sink.wait_for_with(
        "the marker span",
        Duration::from_secs(10),
        |r| r.span_set().contains(&marker),
        || collector.tail(),
    )
    .await;
    let spans = sink.with(|r| r.span_set());
    assert!(
        !spans.contains(&denied_span),
        "a refused origin's span arrived: {spans:?}"
    );
    assert_eq!(
        sink.with(|r| r.spans.len()),
        2,
        "the allowed span and the marker"
    );

    collector.assert_running();
    collector.terminate();
    collector.wait_exit(Duration::from_secs(10)).await;
    sink.stop().await;
}
