//! TLS and mutual TLS with certificates made by rcgen, against receivers on 127.0.0.1.
#![cfg(all(
    feature = "client",
    feature = "grpc",
    feature = "http",
    feature = "tls"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::collections::HashMap;

use client_support::{TestPki, TestServer, sample_logs, sample_metrics, sample_traces};
use otlp_transport::Signal;
use otlp_transport::client::{
    ExportError, ExporterConfig, OtlpExporter, Protocol, RetryConfig, TlsConfig, TransportErrorKind,
};

fn tls(pki: &TestPki) -> TlsConfig {
    TlsConfig::new().with_ca_pem(pki.ca_pem.clone())
}

#[tokio::test]
async fn https_with_a_custom_ca_negotiates_h2() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2", b"http/1.1"], false)).await;
    let exporter = OtlpExporter::builder()
        .endpoint(server.https_url())
        .tls(tls(&pki))
        .build()
        .unwrap();
    exporter.export(&sample_traces(2)).await.unwrap();
    exporter.export(&sample_logs(2)).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.version == http::Version::HTTP_2));
    assert!(requests.iter().all(|r| !r.client_certificate));
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn https_falls_back_to_http1_when_the_server_offers_only_that() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"http/1.1"], false)).await;
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::HttpJson)
        .endpoint(server.https_url())
        .tls(tls(&pki))
        .build()
        .unwrap();
    exporter.export(&sample_metrics(2)).await.unwrap();
    let [recorded] = server.requests().try_into().unwrap();
    assert_eq!(recorded.version, http::Version::HTTP_11);
    assert_eq!(recorded.path, "/v1/metrics");
}

#[tokio::test]
async fn grpc_over_tls_and_scheme_less_endpoints_default_to_tls() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2"], false)).await;
    for endpoint in [server.https_url(), server.addr.to_string()] {
        let exporter = OtlpExporter::builder()
            .protocol(Protocol::Grpc)
            .endpoint(endpoint)
            .tls(tls(&pki))
            .build()
            .unwrap();
        assert_eq!(
            exporter.endpoint(Signal::Traces).scheme_str(),
            Some("https")
        );
        exporter.export(&sample_traces(1)).await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.version == http::Version::HTTP_2));
}

#[tokio::test]
async fn server_name_override_is_verified() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2"], false)).await;
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(server.https_url())
        .tls(tls(&pki).with_server_name("localhost"))
        .build()
        .unwrap();
    exporter.export(&sample_logs(1)).await.unwrap();
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(server.https_url())
        .tls(tls(&pki).with_server_name("elsewhere.example"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_logs(1)).await.unwrap_err();
    assert!(
        matches!(&error, ExportError::Transport(t) if t.kind() == TransportErrorKind::Connect),
        "{error:?}"
    );
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2", b"http/1.1"], true)).await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let exporter =
            OtlpExporter::builder()
                .protocol(protocol)
                .endpoint(server.https_url())
                .tls(tls(&pki).with_client_identity_pem(
                    pki.client_cert_pem.clone(),
                    pki.client_key_pem.clone(),
                ))
                .build()
                .unwrap();
        exporter.export(&sample_traces(1)).await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.client_certificate));
}

#[tokio::test]
async fn mutual_tls_without_a_client_certificate_fails() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2"], true)).await;
    let exporter = OtlpExporter::builder()
        .protocol(Protocol::Grpc)
        .endpoint(server.https_url())
        .tls(tls(&pki))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = exporter.export(&sample_traces(1)).await.unwrap_err();
    assert!(matches!(error, ExportError::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_untrusted_server_is_refused() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2", b"http/1.1"], false)).await;
    // The default roots (webpki) do not know the test CA; nor does another CA.
    let other = TestPki::new();
    for tls in [
        TlsConfig::new(),
        TlsConfig::new().with_ca_pem(other.ca_pem.clone()),
    ] {
        let exporter = OtlpExporter::builder()
            .endpoint(server.https_url())
            .tls(tls)
            .retry(RetryConfig::disabled())
            .build()
            .unwrap();
        let error = exporter.export(&sample_traces(1)).await.unwrap_err();
        match &error {
            ExportError::Transport(transport) => {
                assert!(transport.is_connect());
                assert!(transport.to_string().contains("certificate"), "{transport}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn tls_from_environment_variables() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2"], true)).await;
    let dir = client_support::temp_dir("client-tls-env");
    for (name, pem) in [
        ("ca.pem", &pki.ca_pem),
        ("client.pem", &pki.client_cert_pem),
        ("client.key", &pki.client_key_pem),
    ] {
        std::fs::write(dir.join(name), pem).unwrap();
    }
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let vars: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            server.addr.to_string(),
        ),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", path("ca.pem")),
        (
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
            path("client.pem"),
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", path("client.key")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config =
        ExporterConfig::from_env_with(Signal::Metrics, |name| vars.get(name).cloned()).unwrap();
    let exporter = OtlpExporter::new(config).unwrap();
    exporter.export(&sample_metrics(3)).await.unwrap();
    let [recorded] = server.requests().try_into().unwrap();
    assert!(recorded.client_certificate);
    assert_eq!(recorded.path, Signal::Metrics.grpc_path());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn tls_files_through_the_builder() {
    let pki = TestPki::new();
    let server = TestServer::start_tls(pki.server_config(&[b"h2", b"http/1.1"], true)).await;
    let dir = client_support::temp_dir("client-tls-files");
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.join("c.pem"), &pki.client_cert_pem).unwrap();
    std::fs::write(dir.join("c.key"), &pki.client_key_pem).unwrap();
    let tls = TlsConfig::new()
        .with_ca_file(dir.join("ca.pem"))
        .unwrap()
        .with_client_identity_files(dir.join("c.pem"), dir.join("c.key"))
        .unwrap();
    let exporter = OtlpExporter::builder()
        .endpoint(server.https_url())
        .tls(tls)
        .build()
        .unwrap();
    exporter.export(&sample_logs(1)).await.unwrap();
    assert!(server.requests()[0].client_certificate);
    assert!(
        TlsConfig::new()
            .with_ca_file(dir.join("missing.pem"))
            .is_err()
    );
    std::fs::remove_dir_all(dir).unwrap();
}
