//! The receiver in-process: formats, encodings, answers and counting.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::io::Write as _;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, Resources};
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::telemetry::Metrics;
use otlp_pipeline::testing::Probe;

use super::{ZipkinConfig, ZipkinReceiver};

const V2: &str = r#"[{"traceId":"0af7651916cd43dd8448eb211c80319c","id":"b7ad6b7169203331",
  "name":"get /","kind":"SERVER","timestamp":1700000000000000,"duration":250,
  "localEndpoint":{"serviceName":"web"},"tags":{"http.method":"GET"}},
 {"traceId":"0af7651916cd43dd8448eb211c80319c","id":"b7ad6b7169203332","parentId":"b7ad6b7169203331",
  "name":"select","kind":"CLIENT","timestamp":1700000000000010,"duration":100,
  "localEndpoint":{"serviceName":"web"}}]"#;

const V1: &str = r#"[{"traceId":"0000000000000001","id":"0000000000000002","name":"get",
  "annotations":[{"timestamp":1000000,"value":"sr","endpoint":{"serviceName":"svc"}},
                 {"timestamp":1000500,"value":"ss","endpoint":{"serviceName":"svc"}}]}]"#;

async fn start(probe: Arc<Probe>, config: ZipkinConfig) -> (ZipkinReceiver, Arc<Metrics>, String) {
    let metrics = Metrics::new();
    let ctx = ReceiverContext::new(
        otlp_pipeline::testing::id("zipkin"),
        NextConsumers::new().with(Signal::Traces, probe),
    )
    .with_resources(Resources::new().with(Arc::clone(&metrics)));
    let receiver = ZipkinReceiver::new(
        ctx,
        ZipkinConfig {
            endpoint: "127.0.0.1:0".into(),
            ..config
        },
    )
    .unwrap();
    receiver.start(&Host::empty()).await.unwrap();
    let addr = receiver.local_addr().unwrap().to_string();
    (receiver, metrics, addr)
}

/// One HTTP/1.1 POST; the status and the body.
async fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn formats_and_encodings_are_accepted_and_counted() {
    let probe = Probe::new();
    let (receiver, metrics, addr) = start(Arc::clone(&probe), ZipkinConfig::default()).await;
    let json = [("Content-Type", "application/json")];
    assert_eq!(
        post(&addr, "/api/v2/spans", &json, V2.as_bytes()).await,
        (202, String::new())
    );
    let gz = gzip(V2.as_bytes());
    let (status, _) = post(
        &addr,
        "/api/v2/spans",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        &gz,
    )
    .await;
    assert_eq!(status, 202);
    let spans = otlp_model::zipkin::decode_v2_json(V2.as_bytes()).unwrap();
    let proto = otlp_model::zipkin::encode_v2_proto(&spans);
    let (status, _) = post(
        &addr,
        "/api/v2/spans",
        &[("Content-Type", "application/x-protobuf")],
        &proto,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        post(&addr, "/api/v1/spans", &json, V1.as_bytes()).await.0,
        202
    );
    assert_eq!(probe.items(), 7);
    let accepted = |transport: &str| {
        metrics.sum(
            "otelcol_receiver_accepted_spans_total",
            &[("transport", transport)],
        )
    };
    assert_eq!(accepted("http_v2_json"), 4.0);
    assert_eq!(accepted("http_v2_proto"), 2.0);
    assert_eq!(accepted("http_v1_json"), 1.0);
    let first = probe.received.lock().unwrap()[0].clone();
    let resource = first.traces().unwrap().resource_spans[0]
        .resource
        .clone()
        .unwrap();
    assert_eq!(resource.attributes[0].key, "service.name");
    receiver
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_input_gets_4xx_and_the_receiver_keeps_serving() {
    let probe = Probe::new();
    let config = ZipkinConfig {
        max_request_body_size: 4096,
        ..ZipkinConfig::default()
    };
    let (receiver, metrics, addr) = start(Arc::clone(&probe), config).await;
    let json = [("Content-Type", "application/json")];
    let (status, body) = post(&addr, "/api/v2/spans", &json, b"{ not json").await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.is_empty());
    let (status, _) = post(
        &addr,
        "/api/v2/spans",
        &[("Content-Type", "application/x-protobuf")],
        &[0x0a, 0x05, 0x0a],
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = post(
        &addr,
        "/api/v2/spans",
        &[("Content-Encoding", "br")],
        V2.as_bytes(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "unsupported Content-Encoding: br\n")
    );
    let (status, _) = post(
        &addr,
        "/api/v2/spans",
        &[("Content-Encoding", "gzip")],
        b"nope",
    )
    .await;
    assert_eq!(status, 400);
    // Too large as sent, and as inflated.
    let big = vec![b' '; 8192];
    assert_eq!(post(&addr, "/api/v2/spans", &json, &big).await.0, 413);
    let bomb = gzip(&vec![b' '; 1 << 20]);
    assert!(bomb.len() < 4096);
    let (status, _) = post(&addr, "/", &[("Content-Encoding", "gzip")], &bomb).await;
    assert_eq!(status, 413);
    let (status, _) = post(
        &addr,
        "/api/v1/spans",
        &[("Content-Type", "application/x-thrift")],
        b"\x0c",
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(
        metrics.sum("otelcol_receiver_zipkin_failed_requests_total", &[]),
        7.0
    );
    assert_eq!(probe.calls(), 0);
    assert_eq!(
        post(&addr, "/api/v2/spans", &json, V2.as_bytes()).await.0,
        202
    );
    assert_eq!(probe.items(), 2);
    receiver
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn refusals_map_to_go_s_answers() {
    let probe = Probe::failing([
        ConsumeError::permanent("no"),
        ConsumeError::retryable("later"),
    ]);
    let (receiver, metrics, addr) = start(Arc::clone(&probe), ZipkinConfig::default()).await;
    let json = [("Content-Type", "application/json")];
    assert_eq!(
        post(&addr, "/api/v2/spans", &json, V2.as_bytes()).await,
        (400, "\"Bad Request\"".to_owned())
    );
    assert_eq!(
        post(&addr, "/api/v2/spans", &json, V2.as_bytes()).await,
        (500, "\"Internal Server Error\"".to_owned())
    );
    assert_eq!(
        metrics.sum("otelcol_receiver_refused_spans_total", &[]),
        4.0
    );
    assert_eq!(
        post(&addr, "/api/v2/spans", &json, V2.as_bytes()).await.0,
        202
    );
    receiver
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn parse_string_tags_and_metadata() {
    let probe = Probe::new();
    let config = ZipkinConfig {
        parse_string_tags: true,
        include_metadata: true,
        ..ZipkinConfig::default()
    };
    let (receiver, _metrics, addr) = start(Arc::clone(&probe), config).await;
    let body =
        br#"[{"traceId":"1","id":"2","timestamp":1,"tags":{"n":"42","f":"1.5","b":"true"}}]"#;
    let (status, _) = post(&addr, "/", &[("X-Tenant", "acme")], body).await;
    assert_eq!(status, 202);
    let data = probe.received.lock().unwrap()[0].clone();
    let client = data.context().client().unwrap();
    assert_eq!(client.metadata.get("x-tenant"), Some("acme"));
    let span = &data.traces().unwrap().resource_spans[0].scope_spans[0].spans[0];
    let value = |key: &str| {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone())
            .and_then(|v| v.value)
    };
    use otlp_proto::common::v1::any_value::Value;
    assert_eq!(value("n"), Some(Value::IntValue(42)));
    assert_eq!(value("f"), Some(Value::DoubleValue(1.5)));
    assert_eq!(value("b"), Some(Value::BoolValue(true)));
    receiver
        .shutdown(tokio::time::Instant::now())
        .await
        .unwrap();
}
