//! `insecure_skip_verify`: a receiver with a self-signed certificate (for a name that is not
//! the endpoint's) is refused by default and accepted with the flag; a server that does not
//! hold the key of its certificate is refused even with it (the handshake is still checked).
#![cfg(all(
    feature = "client",
    feature = "grpc",
    feature = "http",
    feature = "tls"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client_support;

use std::sync::Arc;

use client_support::{TestServer, sample_logs, sample_traces};
use otlp_transport::client::{ExportError, OtlpExporter, Protocol, RetryConfig, TlsConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed certificate for `otlp.invalid` and its key.
fn self_signed() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["otlp.invalid".to_owned()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    (certified.cert.der().clone(), key.into())
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Presents one certificate but signs with an unrelated key.
#[derive(Debug)]
struct WrongKey(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for WrongKey {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn mismatched_server_config() -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (certificate, _) = self_signed();
    let (_, other_key) = self_signed();
    let signing_key = provider.key_provider.load_private_key(other_key).unwrap();
    let certified = rustls::sign::CertifiedKey::new(vec![certificate], signing_key);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(WrongKey(Arc::new(certified))));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

fn exporter(protocol: Protocol, endpoint: String, tls: TlsConfig) -> OtlpExporter {
    OtlpExporter::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .tls(tls)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_self_signed_server_is_refused_without_the_flag() {
    let (certificate, key) = self_signed();
    let server = TestServer::start_tls(server_config(vec![certificate], key)).await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let exporter = exporter(protocol, server.https_url(), TlsConfig::new());
        assert!(!exporter.skips_certificate_verification());
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
async fn insecure_skip_verify_accepts_a_self_signed_server() {
    let (certificate, key) = self_signed();
    let server = TestServer::start_tls(server_config(vec![certificate], key)).await;
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
        let tls = TlsConfig::new().with_insecure_skip_verify(true);
        assert!(tls.insecure_skip_verify());
        let exporter = exporter(protocol, server.https_url(), tls);
        assert!(exporter.skips_certificate_verification());
        exporter.export(&sample_logs(2)).await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // ALPN still runs: HTTP/2 for all three.
    assert!(requests.iter().all(|r| r.version == http::Version::HTTP_2));
}

#[tokio::test]
async fn insecure_skip_verify_ignores_the_ca_and_the_server_name() {
    let (certificate, key) = self_signed();
    let server = TestServer::start_tls(server_config(vec![certificate], key)).await;
    let other = rcgen::generate_simple_self_signed(vec!["ca.invalid".to_owned()]).unwrap();
    let tls = TlsConfig::new()
        .with_ca_pem(other.cert.pem())
        .with_server_name("elsewhere.example")
        .with_insecure_skip_verify(true);
    exporter(Protocol::Grpc, server.https_url(), tls)
        .export(&sample_traces(1))
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn insecure_skip_verify_still_checks_the_handshake_signature() {
    let server = TestServer::start_tls(mismatched_server_config()).await;
    let tls = TlsConfig::new().with_insecure_skip_verify(true);
    let error = exporter(Protocol::Grpc, server.https_url(), tls)
        .export(&sample_traces(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ExportError::Transport(t) if t.is_connect()),
        "{error:?}"
    );
    assert!(error.to_string().contains("Signature"), "{error}");
    assert!(server.requests().is_empty());
}

#[test]
fn plain_http_endpoints_do_not_report_skipped_verification() {
    let exporter = exporter(
        Protocol::HttpProtobuf,
        "http://collector:4318".to_owned(),
        TlsConfig::new().with_insecure_skip_verify(true),
    );
    assert!(!exporter.skips_certificate_verification());
}
