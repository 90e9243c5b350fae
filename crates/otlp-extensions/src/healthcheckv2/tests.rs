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

fn parse(yaml: &str) -> Result<HealthCheckV2Config, String> {
    let config: HealthCheckV2Config =
        otlp_pipeline::config::parse_config(&serde_yaml_ng::from_str(yaml).unwrap())
            .map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn v2_status_is_503_before_start_200_when_up_503_after() {
    let resources = otlp_pipeline::Resources::collector();
    let config = otlp_pipeline::Config::from_yaml(
        "t.yaml",
        "receivers: {otlp: }\nprocessors: {batch: }\nexporters: {debug: }\nextensions: {healthcheckv2: }\nservice:\n  extensions: [healthcheckv2]\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [debug]\n",
    )
    .unwrap();
    ServiceTopology::from_resources(&resources)
        .publish(TopologySnapshot::from_config(&config, |_| false));
    let status = ServiceStatus::from_resources(&resources);
    let extension = HealthCheckV2::new(
        ExtensionContext::new(id("healthcheckv2")).with_resources(resources.clone()),
        parse("use_v2: true\nhttp:\n  endpoint: 127.0.0.1:0\n").unwrap(),
    );
    extension.start(&Host::empty()).await.unwrap();
    let addr = status.bound_address(&id("healthcheckv2"), "http").unwrap();

    status.receiver_created(&id("otlp"));
    let (code, body) = get(addr, "/status").await;
    assert_eq!(code, 503, "{body}");
    let value = json(&body);
    assert_eq!(value["status"], "StatusStarting");
    assert_eq!(value["healthy"], false);
    assert!(value["start_time"].is_string() && value.get("components").is_none());

    status.receiver_started(&id("otlp"));
    let (code, body) = get(addr, "/status?verbose").await;
    assert_eq!(code, 200, "{body}");
    let value = json(&body);
    assert_eq!(value["status"], "StatusOK");
    assert_eq!(value["healthy"], true);
    let pipeline = &value["components"]["pipeline:traces"];
    assert_eq!(pipeline["status"], "StatusOK");
    for component in ["receiver:otlp", "processor:batch", "exporter:debug"] {
        assert_eq!(pipeline["components"][component]["healthy"], true, "{body}");
    }
    assert_eq!(
        value["components"]["extensions"]["components"]["extension:healthcheckv2"]["status"],
        "StatusOK"
    );

    let (code, body) = get(addr, "/status?pipeline=traces").await;
    assert_eq!(code, 200);
    let value = json(&body);
    assert_eq!(value["status"], "StatusOK");
    assert!(value.get("components").is_none(), "{body}");
    let (code, body) = get(addr, "/status?pipeline=traces&verbose").await;
    assert_eq!(code, 200);
    assert_eq!(
        json(&body)["components"]["receiver:otlp"]["status"],
        "StatusOK"
    );
    assert_eq!(get(addr, "/status?pipeline=logs").await.0, 404);
    assert_eq!(get(addr, "/").await.0, 404);
    assert_eq!(get(addr, "/config").await.0, 404);

    status.receiver_stopping(&id("otlp"));
    let (code, body) = get(addr, "/status").await;
    assert_eq!(code, 503);
    assert_eq!(json(&body)["status"], "StatusStopping");

    extension.shutdown(Instant::now()).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn legacy_mode_is_health_check() {
    let resources = otlp_pipeline::Resources::collector();
    let status = ServiceStatus::from_resources(&resources);
    let extension = HealthCheckV2::new(
        ExtensionContext::new(id("healthcheckv2/legacy")).with_resources(resources.clone()),
        parse(
            "endpoint: 127.0.0.1:0\npath: /health\nresponse_body: {healthy: up, unhealthy: down}",
        )
        .unwrap(),
    );
    extension.start(&Host::empty()).await.unwrap();
    let addr = status
        .bound_address(&id("healthcheckv2/legacy"), "http")
        .unwrap();
    assert_eq!(get(addr, "/health").await, (503, "down".into()));
    status.set_ready(Some(true));
    assert_eq!(get(addr, "/health").await, (200, "up".into()));
    assert_eq!(get(addr, "/status").await.0, 404);
    extension.shutdown(Instant::now()).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn validation() {
    let config = parse("{}").unwrap();
    assert!(!config.use_v2);
    assert_eq!(
        (config.endpoint.as_str(), config.path.as_str()),
        ("localhost:13133", "/")
    );
    let config = parse(
        "use_v2: true\ncomponent_health: {include_permanent_errors: true, include_recoverable_errors: true, recovery_duration: 5m}\nhttp:\n  status: {enabled: true, path: /health/status}\n",
    )
    .unwrap();
    let http = config.http.unwrap();
    assert_eq!(http.endpoint, "localhost:13133");
    assert_eq!(http.status.path, "/health/status");
    assert_eq!(
        config.component_health.recovery_duration,
        std::time::Duration::from_secs(300)
    );
    let http = parse("use_v2: true\nhttp: {}\n").unwrap().http.unwrap();
    assert!(http.status.enabled && http.status.path == "/status");
    assert!(!http.config.enabled && http.config.path == "/config");

    let grpc = parse("use_v2: true\ngrpc: {keepalive: {}}\n")
        .unwrap()
        .grpc
        .unwrap();
    assert_eq!(
        (grpc.endpoint.as_str(), grpc.transport.as_str()),
        ("localhost:13132", "tcp")
    );
    let error = parse("use_v2: true\ngrpc: {tls: {cert_file: x}}\n").unwrap_err();
    assert!(
        error.contains("grpc::tls") && error.contains("not supported"),
        "{error}"
    );
    let error = parse("use_v2: true\ngrpc: {transport: unix}\n").unwrap_err();
    assert!(error.contains("grpc::transport"), "{error}");
    let error = parse("use_v2: true\ngrpc: {endpoint: x}\n").unwrap_err();
    assert!(error.contains("grpc::endpoint"), "{error}");
    let error = parse("use_v2: true\n").unwrap_err();
    assert!(error.contains("at least one protocol"), "{error}");
    let error = parse("use_v2: true\nhttp: {config: {enabled: true}}\n").unwrap_err();
    assert!(error.contains("http::config::enabled"), "{error}");
    let error = parse("use_v2: true\nhttp: {status: {enabled: true, path: x}}\n").unwrap_err();
    assert!(error.contains("http::status::path"), "{error}");
    let error = parse("use_v2: true\nhttp: {endpoint: nope}\n").unwrap_err();
    assert!(error.contains("http::endpoint"), "{error}");
    assert!(parse("path: x").unwrap_err().contains("path"));
    assert!(parse("tls: {cert_file: x}").unwrap_err().contains("tls"));
    assert!(parse("bogus: 1").unwrap_err().contains("bogus"));
    assert!(
        parse("use_v2: true\nhttp: {bogus: 1}")
            .unwrap_err()
            .contains("bogus")
    );
}

/// The Python venv of `cargo xtask peers` (grpcio is a real gRPC client), or `None` after a
/// skip notice (a failure under `OTLP_REQUIRE_PEERS=1`).
fn python() -> Option<std::path::PathBuf> {
    let from_env = std::env::var_os("OTLP_PEER_PYTHON")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let from_file = || {
        let file =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers/peers.env");
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|line| {
            let (key, value) = line.trim().split_once('=')?;
            (key.trim() == "OTLP_PEER_PYTHON").then(|| std::path::PathBuf::from(value.trim()))
        })
    };
    let found = from_env.or_else(from_file).filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            !std::env::var("OTLP_REQUIRE_PEERS").is_ok_and(|v| v == "1"),
            "OTLP_PEER_PYTHON is not set: run `cargo xtask test` (or `cargo xtask peers`)"
        );
        println!("skipping: the Python peer is missing (run `cargo xtask peers`)");
    }
    found
}

const GRPC_CLIENT: &str = r#"
import sys, grpc
addr, method, service = sys.argv[1], sys.argv[2], sys.argv[3]
channel = grpc.insecure_channel(addr)
call = channel.unary_unary("/grpc.health.v1.Health/" + method,
                           request_serializer=lambda b: b, response_deserializer=lambda b: b)
request = b"" if not service else b"\x0a" + bytes([len(service)]) + service.encode()
try:
    response = call(request, timeout=5)
    status = response[1] if len(response) >= 2 and response[0] == 0x08 else 0
    print("status", status)
except grpc.RpcError as error:
    print("code", error.code().name)
"#;

async fn grpc_check(
    python: &std::path::Path,
    addr: std::net::SocketAddr,
    method: &str,
    service: &str,
) -> String {
    let output = tokio::process::Command::new(python)
        .args(["-c", GRPC_CLIENT, &addr.to_string(), method, service])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_check_answers_a_real_grpc_client() {
    let Some(python) = python() else {
        return;
    };
    let resources = otlp_pipeline::Resources::collector();
    let config = otlp_pipeline::Config::from_yaml(
        "t.yaml",
        "receivers: {otlp: }\nexporters: {debug: }\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n",
    )
    .unwrap();
    ServiceTopology::from_resources(&resources)
        .publish(TopologySnapshot::from_config(&config, |_| false));
    let status = ServiceStatus::from_resources(&resources);
    let extension = HealthCheckV2::new(
        ExtensionContext::new(id("healthcheckv2")).with_resources(resources.clone()),
        parse("use_v2: true\ngrpc:\n  endpoint: 127.0.0.1:0\n").unwrap(),
    );
    extension.start(&Host::empty()).await.unwrap();
    assert!(status.bound_address(&id("healthcheckv2"), "http").is_none());
    let addr = status.bound_address(&id("healthcheckv2"), "grpc").unwrap();

    status.receiver_created(&id("otlp"));
    assert_eq!(
        grpc_check(&python, addr, "Check", "").await,
        "status 2",
        "NOT_SERVING while starting"
    );
    status.receiver_started(&id("otlp"));
    assert_eq!(
        grpc_check(&python, addr, "Check", "").await,
        "status 1",
        "SERVING"
    );
    assert_eq!(
        grpc_check(&python, addr, "Check", "traces").await,
        "status 1"
    );
    assert_eq!(
        grpc_check(&python, addr, "Check", "logs").await,
        "code NOT_FOUND"
    );
    assert_eq!(
        grpc_check(&python, addr, "Watch", "").await,
        "code UNIMPLEMENTED"
    );
    status.receiver_stopping(&id("otlp"));
    assert_eq!(
        grpc_check(&python, addr, "Check", "traces").await,
        "status 2"
    );
    extension.shutdown(Instant::now()).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn a_protocol_key_with_nothing_under_it_is_served_with_its_defaults() {
    // Jaeger's own configs (jaeger-kafka-collector) write `http:` alone.
    let config = parse("use_v2: true\nhttp:\n").unwrap();
    assert_eq!(config.http, Some(HttpConfig::default()));
    assert!(config.grpc.is_none());
    let config = parse("use_v2: true\ngrpc:\n").unwrap();
    assert_eq!(config.grpc, Some(GrpcConfig::default()));
    assert!(parse("use_v2: true\n").is_err());
}
