//! Exports through an HTTP CONNECT proxy (`proxy_url`): an in-test proxy on 127.0.0.1 that
//! records each CONNECT and pipes bytes both ways, in front of the test receiver.
#![cfg(all(
    feature = "client",
    feature = "grpc",
    feature = "http",
    feature = "tls"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::{TestPki, TestServer, closed_port, sample_logs, sample_traces};
use otlp_transport::client::{
    ConfigError, ExportError, OtlpExporter, Protocol, ProxyUrl, RetryConfig, TlsConfig,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the test proxy answers a CONNECT.
#[derive(Clone)]
enum Answer {
    /// `200`, then a tunnel to the requested target.
    Tunnel,
    /// This head, then close.
    Refuse(String),
}

/// A CONNECT seen by the proxy: the request target and the `Proxy-Authorization` value.
#[derive(Debug, Clone, PartialEq)]
struct Connect {
    target: String,
    authorization: Option<String>,
}

struct TestProxy {
    addr: SocketAddr,
    connects: Arc<Mutex<Vec<Connect>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestProxy {
    async fn start(answer: Answer) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let seen = connects.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, answer.clone(), seen.clone()));
            }
        });
        TestProxy {
            addr,
            connects,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connects(&self) -> Vec<Connect> {
        self.connects.lock().unwrap().clone()
    }
}

async fn handle(stream: TcpStream, answer: Answer, seen: Arc<Mutex<Vec<Connect>>>) {
    let mut client = BufReader::new(stream);
    let mut line = String::new();
    client.read_line(&mut line).await.unwrap();
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("CONNECT"), "{line:?}");
    let target = parts.next().unwrap().to_owned();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        client.read_line(&mut header).await.unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("proxy-authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    seen.lock().unwrap().push(Connect {
        target: target.clone(),
        authorization,
    });
    match answer {
        Answer::Refuse(head) => {
            let _ = client.write_all(head.as_bytes()).await;
        }
        Answer::Tunnel => {
            let mut upstream = TcpStream::connect(&target).await.unwrap();
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .unwrap();
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    }
}

#[tokio::test]
async fn grpc_and_http_exports_go_through_one_tunnel_each() {
    let server = TestServer::start().await;
    let proxy = TestProxy::start(Answer::Tunnel).await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
        let exporter = OtlpExporter::builder()
            .protocol(protocol)
            .endpoint(server.url())
            .proxy_url(proxy.url())
            .build()
            .unwrap();
        exporter.export(&sample_traces(2)).await.unwrap();
        exporter.export(&sample_logs(1)).await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    // The pooled connection is reused: one tunnel per exporter, to the receiver's address.
    let expected = Connect {
        target: server.addr.to_string(),
        authorization: None,
    };
    assert_eq!(proxy.connects(), vec![expected; 3]);
    assert_eq!(server.connections(), 3);
    assert_eq!(requests[0].version, http::Version::HTTP_2);
    assert_eq!(requests[0].path, otlp_transport::Signal::Traces.grpc_path());
    assert_eq!(requests[3].path, "/v1/logs");
}

#[tokio::test]
async fn tls_runs_end_to_end_inside_the_tunnel() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2", b"http/1.1"], false)).await;
    let proxy = TestProxy::start(Answer::Tunnel).await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let exporter = OtlpExporter::builder()
            .protocol(protocol)
            .endpoint(server.https_url())
            .tls(TlsConfig::new().with_ca_pem(pki.ca_pem.clone()))
            .proxy_url(proxy.url())
            .build()
            .unwrap();
        exporter.export(&sample_traces(1)).await.unwrap();
    }
    assert_eq!(server.requests().len(), 2);
    assert!(
        proxy
            .connects()
            .iter()
            .all(|c| c.target == server.addr.to_string())
    );
    assert_eq!(proxy.connects().len(), 2);
}

#[tokio::test]
async fn credentials_in_the_proxy_url_are_sent_as_basic() {
    let server = TestServer::start().await;
    let proxy = TestProxy::start(Answer::Tunnel).await;
    let exporter = OtlpExporter::builder()
        .endpoint(server.url())
        .proxy_url(format!("http://user:p%40ss@{}", proxy.addr))
        .build()
        .unwrap();
    exporter.export(&sample_traces(1)).await.unwrap();
    let [connect] = proxy.connects().try_into().unwrap();
    // base64("user:p@ss"): the password is percent-decoded first.
    assert_eq!(connect.authorization.as_deref(), Some("Basic dXNlcjpwQHNz"));
}

#[tokio::test]
async fn a_proxy_answering_407_is_a_clear_connect_error() {
    let server = TestServer::start().await;
    let proxy = TestProxy::start(Answer::Refuse(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n".to_owned(),
    ))
    .await;
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(server.url())
        .proxy_url(proxy.url())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    match &error {
        ExportError::Transport(transport) => {
            assert!(transport.is_connect());
            let text = transport.to_string();
            assert!(
                text.contains("the proxy requires authentication") && text.contains("407"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_oversized_proxy_answer_is_refused() {
    let server = TestServer::start().await;
    let filler = "x".repeat(20 << 10);
    let proxy = TestProxy::start(Answer::Refuse(format!(
        "HTTP/1.1 200 OK\r\nX-Filler: {filler}\r\n\r\n"
    )))
    .await;
    let exporter = OtlpExporter::builder()
        .endpoint(server.url())
        .proxy_url(proxy.url())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    assert!(
        error.to_string().contains("larger than 16384 bytes"),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_silent_proxy_is_bounded_by_the_timeout() {
    // Accepts, reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let exporter = OtlpExporter::builder()
        .endpoint("http://127.0.0.1:9/")
        .proxy_url(format!("http://{addr}"))
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{error}");
    assert!(
        matches!(error, ExportError::Timeout(_) | ExportError::Transport(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_naming_it() {
    let closed = closed_port().await;
    let exporter = OtlpExporter::builder()
        .endpoint("http://127.0.0.1:4318")
        .proxy_url(format!("http://{closed}"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains(&format!("cannot connect to the proxy {closed}")),
        "{text}"
    );
}

#[test]
fn bad_proxy_urls_are_configuration_errors_naming_proxy_url() {
    for url in [
        "socks5://proxy:1080",
        "proxy:3128",
        "http://",
        "http://proxy:70000",
    ] {
        let error = OtlpExporter::builder()
            .endpoint("http://collector:4318")
            .proxy_url(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(error, ConfigError::Proxy { .. }),
            "{url}: {error:?}"
        );
        assert!(error.to_string().contains("proxy_url"), "{url}: {error}");
        assert!(ProxyUrl::parse(url).is_err());
    }
    let error = OtlpExporter::builder()
        .proxy_url("ftp://user:secret@proxy")
        .build()
        .unwrap_err();
    assert!(!error.to_string().contains("secret"), "{error}");
    // Empty means no proxy (as an unset otelcol key).
    assert!(OtlpExporter::builder().proxy_url("").build().is_ok());
}
