//! The HTTP server over real loopback TCP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::super::{CONTENT_TYPE, MetricsSource, PrometheusServer, TextOptions, encode_text};
use super::*;

fn sample() -> Vec<ResourceMetrics> {
    single(vec![counter(
        "http.requests",
        "",
        vec![int(3, &[("code", "200")])],
    )])
}

fn start(source: MetricsSource) -> PrometheusServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    PrometheusServer::bind(addr, source, bare()).unwrap()
}

fn start_sample() -> PrometheusServer {
    start(Arc::new(sample))
}

/// Sends `request` as it is and reads the whole response (the server closes).
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8(response).unwrap()
}

fn get(addr: SocketAddr, path: &str) -> String {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
}

/// Status code, headers (lowercase names), body.
fn split(response: &str) -> (u16, Vec<(String, String)>, String) {
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(": ").unwrap();
            (name.to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn get_metrics_returns_the_text() {
    let server = start_sample();
    let (status, headers, body) = split(&get(server.local_addr(), "/metrics"));
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some(CONTENT_TYPE));
    assert_eq!(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(
        header(&headers, "content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert_eq!(body, encode_text(&sample(), &bare()));
    assert_eq!(
        body,
        "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 3\n"
    );
    server.shutdown();
}

#[test]
fn each_scrape_calls_the_source() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = start(Arc::new(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
        single(vec![gauge("calls", "", vec![int(n as i64, &[])])])
    }));
    let addr = server.local_addr();
    assert!(split(&get(addr, "/metrics")).2.ends_with("calls 1\n"));
    assert!(split(&get(addr, "/metrics")).2.ends_with("calls 2\n"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn http_1_0_and_query_strings() {
    let server = start_sample();
    let addr = server.local_addr();
    let (status, _, body) = split(&exchange(addr, b"GET /metrics HTTP/1.0\r\n\r\n"));
    assert_eq!(status, 200);
    assert!(body.contains("http_requests_total"));
    assert_eq!(split(&get(addr, "/metrics?name[]=x")).0, 200);
    // Bare line feeds end the head too.
    assert_eq!(
        split(&exchange(addr, b"GET /metrics HTTP/1.1\nHost: x\n\n")).0,
        200
    );
}

#[test]
fn head_has_headers_and_no_body() {
    let server = start_sample();
    let addr = server.local_addr();
    let (_, _, get_body) = split(&get(addr, "/metrics"));
    let response = exchange(addr, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, headers, body) = split(&response);
    assert_eq!(status, 200);
    assert_eq!(body, "");
    assert_eq!(
        header(&headers, "content-length"),
        Some(get_body.len().to_string().as_str())
    );
    assert_eq!(header(&headers, "content-type"), Some(CONTENT_TYPE));
}

#[test]
fn other_paths_get_404() {
    let server = start_sample();
    let (status, headers, body) = split(&get(server.local_addr(), "/"));
    assert_eq!(status, 404);
    assert_eq!(
        header(&headers, "content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(split(&get(server.local_addr(), "/metrics/extra")).0, 404);
}

#[test]
fn other_methods_get_405() {
    let server = start_sample();
    let request = b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    let (status, headers, _) = split(&exchange(server.local_addr(), request));
    assert_eq!(status, 405);
    assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
}

#[test]
fn malformed_requests_get_400() {
    let server = start_sample();
    let addr = server.local_addr();
    for request in [
        &b"garbage\r\n\r\n"[..],
        b"GET /metrics\r\n\r\n",
        b"GET  /metrics HTTP/1.1\r\n\r\n",
        b"GET metrics HTTP/1.1\r\n\r\n",
        b"G(T /metrics HTTP/1.1\r\n\r\n",
        b"GET /metrics FTP/1.0\r\n\r\n",
        b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(
            split(&exchange(addr, request)).0,
            400,
            "{:?}",
            String::from_utf8_lossy(request)
        );
    }
    assert_eq!(
        split(&exchange(addr, b"GET /metrics HTTP/2.0\r\n\r\n")).0,
        505
    );
}

#[test]
fn oversized_request_head_is_refused() {
    let server = start_sample();
    let mut request = b"GET /metrics HTTP/1.1\r\nX-Filler: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 20 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    let (status, _, _) = split(&exchange(server.local_addr(), &request));
    assert!(status == 431 || status == 400, "{status}");
    assert_eq!(status, 431);
    // The server still serves.
    assert_eq!(split(&get(server.local_addr(), "/metrics")).0, 200);
}

#[test]
fn silent_clients_do_not_block_shutdown() {
    let server = start_sample();
    let addr = server.local_addr();
    // More silent clients than workers: some are being read, some wait in the queue.
    let silent: Vec<TcpStream> = (0..6).map(|_| TcpStream::connect(addr).unwrap()).collect();
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    drop(silent);
    // The listener is closed.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn dropping_the_server_stops_it() {
    let server = start_sample();
    let addr = server.local_addr();
    let idle = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(idle);
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_silent_client_times_out_and_others_are_served_meanwhile() {
    let server = start_sample();
    let addr = server.local_addr();
    let mut silent = TcpStream::connect(addr).unwrap();
    assert_eq!(split(&get(addr, "/metrics")).0, 200);
    // After the 5 s read timeout the server closes without an answer.
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    assert_eq!(silent.read_to_end(&mut buf).unwrap(), 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}

#[test]
fn ten_concurrent_clients_all_get_answers() {
    let server = start(Arc::new(|| {
        // A slow collection, so that the clients overlap.
        thread::sleep(Duration::from_millis(50));
        sample()
    }));
    let addr = server.local_addr();
    let clients: Vec<_> = (0..10)
        .map(|_| thread::spawn(move || split(&get(addr, "/metrics"))))
        .collect();
    for client in clients {
        let (status, _, body) = client.join().unwrap();
        assert_eq!(status, 200);
        assert!(body.contains("http_requests_total{code=\"200\"} 3"));
    }
}

#[test]
fn beyond_the_workers_and_the_queue_clients_get_503() {
    let server = start_sample();
    let addr = server.local_addr();
    // 4 workers each hold a silent client, then 16 more wait in the queue (in two steps: a
    // burst of connections can fill the queue before the workers have taken theirs).
    let mut silent: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    thread::sleep(Duration::from_millis(300));
    silent.extend((0..16).map(|_| TcpStream::connect(addr).unwrap()));
    thread::sleep(Duration::from_millis(300));
    let (status, headers, _) = split(&get(addr, "/metrics"));
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "retry-after"), Some("1"));
    drop(silent);
    let started = Instant::now();
    server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_panicking_source_gets_500_and_the_server_goes_on() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let server = start(Arc::new(move || {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("collection failed");
        }
        sample()
    }));
    let addr = server.local_addr();
    assert_eq!(split(&get(addr, "/metrics")).0, 500);
    assert_eq!(split(&get(addr, "/metrics")).0, 200);
}

#[test]
fn bind_reports_an_address_in_use() {
    let server = start_sample();
    let taken = PrometheusServer::bind(
        server.local_addr(),
        Arc::new(Vec::new),
        TextOptions::default(),
    );
    assert!(taken.is_err());
}
