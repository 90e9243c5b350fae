#![allow(clippy::unwrap_used, clippy::expect_used)]

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use otlp_pipeline::testing::id;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}

#[tokio::test]
async fn answers_503_until_the_receivers_run_then_200() {
    let resources = otlp_pipeline::Resources::collector();
    let status = ServiceStatus::from_resources(&resources);
    let config = HealthCheckConfig {
        endpoint: "127.0.0.1:0".into(),
        ..HealthCheckConfig::default()
    };
    let extension = HealthCheck::new(
        ExtensionContext::new(id("health_check")).with_resources(resources),
        config,
    );
    extension.start(&Host::empty()).await.unwrap();
    let addr = status.bound_address(&id("health_check"), "http").unwrap();

    let (code, body) = get(addr, "/").await;
    assert_eq!(code, 503);
    assert!(
        body.starts_with(r#"{"status":"Server not available","upSince":""#),
        "{body}"
    );
    status.receiver_created(&id("otlp"));
    status.receiver_started(&id("otlp"));
    let (code, body) = get(addr, "/").await;
    assert_eq!(code, 200);
    assert!(
        body.contains(r#""status":"Server available""#) && body.contains(r#""uptime":""#),
        "{body}"
    );
    assert_eq!(get(addr, "/metrics").await.0, 404);
    status.receiver_stopping(&id("otlp"));
    assert_eq!(get(addr, "/").await.0, 503);
    extension.shutdown(Instant::now()).await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "closed at shutdown"
    );
}

#[tokio::test]
async fn custom_bodies() {
    let resources = otlp_pipeline::Resources::collector();
    let config: HealthCheckConfig = otlp_pipeline::config::parse_config(
        &serde_yaml_ng::from_str("endpoint: 127.0.0.1:0\npath: /ready\nresponse_body:\n  healthy: up\n  unhealthy: down\ncheck_collector_pipeline:\n  enabled: false").unwrap(),
    )
    .unwrap();
    config.validate().unwrap();
    let extension = HealthCheck::new(
        ExtensionContext::new(id("health_check/x")).with_resources(resources.clone()),
        config,
    );
    extension.start(&Host::empty()).await.unwrap();
    let status = ServiceStatus::from_resources(&resources);
    let addr = status.bound_address(&id("health_check/x"), "http").unwrap();
    assert_eq!(get(addr, "/ready").await, (503, "down".into()));
    status.set_ready(Some(true));
    assert_eq!(get(addr, "/ready").await, (200, "up".into()));
    extension.shutdown(Instant::now()).await.unwrap();
}
