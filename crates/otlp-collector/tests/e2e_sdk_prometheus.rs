//! A real Prometheus (Debian's 2.42, installed by `cargo xtask peers`) scrapes otlp-sdk's pull
//! reader on loopback, and PromQL queries through its HTTP API return what the program
//! recorded, under the names the OpenTelemetry → Prometheus translation gives them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use otlp_sdk::metrics::{MeterProvider, PrometheusReader};
use otlp_sdk::{KeyValue, Resource};
use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_sdk_and_promql_returns_the_recorded_values() {
    let prometheus = require_peer!(Peer::Prometheus);

    let reader = PrometheusReader::bind(free_addr()).unwrap();
    let endpoint = reader.local_addr();
    let provider = MeterProvider::builder()
        .with_resource(Resource::builder().with_service_name("shop").build())
        .with_reader(reader)
        .build();
    let meter = provider.meter("shop.http");
    let orders = meter
        .u64_counter("shop.orders")
        .with_unit("{order}")
        .build();
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.1, 0.5, 1.0])
        .build();
    orders.add(4, &[KeyValue::new("payment", "card")]);
    orders.add(3, &[KeyValue::new("payment", "card")]);
    orders.add(2, &[KeyValue::new("payment", "cash")]);
    for v in [0.05, 0.2, 0.3, 0.7, 2.0] {
        duration.record(v, &[]);
    }

    let addr = free_addr();
    let dir = temp_dir("prometheus-sdk");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: sdk\n    \
             static_configs:\n      - targets: [\"{endpoint}\"]\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(&prometheus);
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"));
    let mut server = Proc::spawn("prometheus", command);
    server.wait_listening(addr, Duration::from_secs(20)).await;

    // Wait for a scrape that has everything, then check the values.
    let started = Instant::now();
    let card = loop {
        server.assert_running();
        let result = query(addr, "shop_orders_total{payment=\"card\",job=\"sdk\"}");
        if let Ok(Some(v)) = result.as_deref().map(first_value) {
            break v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no scrape: {result:?}\n{}",
            server.tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(card, 7.0);
    let all = first_value(&query(addr, "sum(shop_orders_total)").unwrap()).unwrap();
    assert_eq!(all, 9.0);
    let count =
        first_value(&query(addr, "http_server_request_duration_seconds_count").unwrap()).unwrap();
    assert_eq!(count, 5.0);
    let le_half = first_value(
        &query(
            addr,
            "http_server_request_duration_seconds_bucket{le=\"0.5\"}",
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(le_half, 3.0, "0.05, 0.2, 0.3 are at most 0.5");
    let median = first_value(
        &query(
            addr,
            "histogram_quantile(0.5, http_server_request_duration_seconds_bucket)",
        )
        .unwrap(),
    )
    .unwrap();
    assert!((0.1..=0.5).contains(&median), "median {median}");
    let target = query(addr, "target_info").unwrap();
    assert_eq!(target[0]["metric"]["service_name"], "shop", "{target:?}");
    let scope = query(addr, "shop_orders_total").unwrap();
    assert_eq!(scope[0]["metric"]["otel_scope_name"], "shop.http");

    // Later measurements show in later scrapes (cumulative).
    orders.add(10, &[KeyValue::new("payment", "cash")]);
    let started = Instant::now();
    loop {
        let v = first_value(&query(addr, "shop_orders_total{payment=\"cash\"}").unwrap());
        if v == Some(12.0) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "cash = {v:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.terminate();
    let _ = server.wait_exit(Duration::from_secs(10)).await;
    provider
        .shutdown(Instant::now() + Duration::from_secs(2))
        .unwrap();
}

fn first_value(result: &[Value]) -> Option<f64> {
    result.first()?["value"][1].as_str()?.parse().ok()
}

/// `GET /api/v1/query?query=...`: the result vector.
fn query(addr: SocketAddr, promql: &str) -> Result<Vec<Value>, String> {
    let encoded: String = promql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .ok_or("no body")?;
    let answer: Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    if answer["status"] != "success" {
        return Err(body.to_owned());
    }
    answer["data"]["result"]
        .as_array()
        .cloned()
        .ok_or_else(|| body.to_owned())
}
