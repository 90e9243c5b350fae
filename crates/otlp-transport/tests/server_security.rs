//! Bearer-token authentication, TLS and mutual TLS.
#![cfg(all(feature = "server", feature = "grpc", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use http::StatusCode;
use otlp_transport::Signal;
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use prost::Message;
use server_support::*;

const PROTOBUF: &str = "application/x-protobuf";

#[tokio::test]
async fn bearer_tokens_are_required_when_configured() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start_with(handler.clone(), |r| r.bearer_token("s3cret-token")).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("Basic s3cret-token"),
        Some("Bearer s3cret-token2"),
    ] {
        let mut request = http_request(Signal::Traces, PROTOBUF, None, body.clone());
        let mut call = grpc_request(Signal::Traces, None, encode_frame(&body, false));
        if let Some(value) = authorization {
            request
                .headers_mut()
                .insert("authorization", value.parse().unwrap());
            call.headers_mut()
                .insert("authorization", value.parse().unwrap());
        }
        let reply = post_http(http, Version::Http1, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(reply.status_proto().code, GrpcCode::Unauthenticated as i32);
        let reply = grpc_call(grpc, call).await;
        assert_eq!(
            reply.grpc_code(),
            GrpcCode::Unauthenticated,
            "{authorization:?}"
        );
    }
    // Authentication comes first: an unauthenticated probe learns nothing about paths.
    let request = http::Request::get("http://localhost/nothing-here")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(
        send(http, Version::Http1, request).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(handler.calls(), 0);

    let mut request = http_request(Signal::Traces, PROTOBUF, None, body.clone());
    request
        .headers_mut()
        .insert("authorization", "bearer s3cret-token".parse().unwrap());
    assert_eq!(
        post_http(http, Version::Http2, request).await.status,
        StatusCode::OK
    );
    let mut call = grpc_request(Signal::Traces, None, encode_frame(&body, false));
    call.headers_mut()
        .insert("authorization", "Bearer s3cret-token".parse().unwrap());
    assert_eq!(grpc_call(grpc, call).await.grpc_code(), GrpcCode::Ok);
    assert_eq!(handler.calls(), 2);
}

#[cfg(feature = "tls")]
mod tls {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;

    use hyper_util::rt::TokioIo;
    use otlp_transport::server::{PemSource, TlsConfig};
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls_pki_types::ServerName;
    use tokio::net::TcpStream;

    use super::*;

    struct Pki {
        ca_pem: String,
        server: (String, String),
        client: (String, String),
        ca: rustls_pki_types::CertificateDer<'static>,
    }

    fn pki() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf = |names: Vec<String>| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        Pki {
            ca_pem: ca.pem(),
            server: leaf(vec!["localhost".into(), "127.0.0.1".into()]),
            client: leaf(vec!["client.example".into()]),
            ca: ca.der().clone(),
        }
    }

    /// A TLS connection to `addr` trusting the test CA, with an optional client certificate.
    async fn connect(
        addr: SocketAddr,
        pki: &Pki,
        client_cert: bool,
        alpn: &[&[u8]],
    ) -> std::io::Result<TokioIo<tokio_rustls::client::TlsStream<TcpStream>>> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let mut config = if client_cert {
            use rustls_pki_types::pem::PemObject;
            let chain = vec![
                rustls_pki_types::CertificateDer::from_pem_slice(pki.client.0.as_bytes()).unwrap(),
            ];
            let key =
                rustls_pki_types::PrivateKeyDer::from_pem_slice(pki.client.1.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("localhost").unwrap();
        Ok(TokioIo::new(connector.connect(name, tcp).await?))
    }

    /// Writes the PEM files into a fresh directory under the target's temp dir.
    fn write_files(pki: &Pki, tag: &str) -> (PathBuf, PathBuf, PathBuf) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("server-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths = (
            dir.join("server.crt"),
            dir.join("server.key"),
            dir.join("ca.crt"),
        );
        std::fs::write(&paths.0, &pki.server.0).unwrap();
        std::fs::write(&paths.1, &pki.server.1).unwrap();
        std::fs::write(&paths.2, &pki.ca_pem).unwrap();
        paths
    }

    #[tokio::test]
    async fn tls_serves_http1_http2_and_grpc() {
        let pki = pki();
        let (cert, key, _) = write_files(&pki, "plain");
        let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
            r.tls(TlsConfig::from_files(cert, key))
        })
        .await;
        let http = receiver.http_local_addr().unwrap();
        let grpc = receiver.grpc_local_addr().unwrap();
        let body = traces(1).encode_to_vec();

        let io = connect(http, &pki, false, &[b"http/1.1"]).await.unwrap();
        let reply = send_on(
            io,
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, None, body.clone()),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        let io = connect(http, &pki, false, &[b"h2"]).await.unwrap();
        assert_eq!(io.inner().get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let reply = send_on(
            io,
            Version::Http2,
            http_request(Signal::Traces, PROTOBUF, None, body.clone()),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        let io = connect(grpc, &pki, false, &[b"h2"]).await.unwrap();
        let reply = send_on(
            io,
            Version::Http2,
            grpc_request(Signal::Traces, None, encode_frame(&body, false)),
        )
        .await
        .unwrap();
        assert_eq!(reply.grpc_code(), GrpcCode::Ok);

        // Plain text on the TLS port gets nowhere, and the receiver keeps serving.
        let tcp = TcpStream::connect(http).await.unwrap();
        assert!(
            send_on(
                TokioIo::new(tcp),
                Version::Http1,
                http_request(Signal::Traces, PROTOBUF, None, body.clone())
            )
            .await
            .is_err()
        );
        let io = connect(http, &pki, false, &[]).await.unwrap();
        let reply = send_on(
            io,
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, None, body),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
        let pki = pki();
        let (_, _, ca) = write_files(&pki, "mutual");
        let tls = TlsConfig::from_pem(pki.server.0.clone(), pki.server.1.clone())
            .with_client_ca(PemSource::File(ca));
        let handler = TestHandler::new(Behaviour::Accept);
        let receiver = start_with(handler.clone(), |r| r.tls(tls)).await;
        let grpc = receiver.grpc_local_addr().unwrap();
        let http = receiver.http_local_addr().unwrap();
        let body = traces(1).encode_to_vec();

        // Without a client certificate: the handshake (or, in TLS 1.3, the first exchange)
        // fails.
        let refused = match connect(grpc, &pki, false, &[b"h2"]).await {
            Err(_) => true,
            Ok(io) => send_on(
                io,
                Version::Http2,
                grpc_request(Signal::Traces, None, encode_frame(&body, false)),
            )
            .await
            .is_err(),
        };
        assert!(refused);
        assert_eq!(handler.calls(), 0);

        // With one: served.
        let io = connect(grpc, &pki, true, &[b"h2"]).await.unwrap();
        let reply = send_on(
            io,
            Version::Http2,
            grpc_request(Signal::Traces, None, encode_frame(&body, false)),
        )
        .await
        .unwrap();
        assert_eq!(reply.grpc_code(), GrpcCode::Ok);
        let io = connect(http, &pki, true, &[b"http/1.1"]).await.unwrap();
        let reply = send_on(
            io,
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, None, body),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(handler.calls(), 2);
    }

    #[tokio::test]
    async fn bad_tls_configuration_fails_at_start() {
        let pki = pki();
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let cases = [
            TlsConfig::from_files("/nonexistent/server.crt", "/nonexistent/server.key"),
            TlsConfig::from_pem(b"not pem".to_vec(), pki.server.1.clone()),
            // A key that does not match the certificate.
            TlsConfig::from_pem(pki.server.0.clone(), pki.client.1.clone()),
            TlsConfig::from_pem(pki.server.0.clone(), pki.server.1.clone())
                .with_client_ca(PemSource::Pem(b"no certificates".to_vec())),
        ];
        for tls in cases {
            let result = otlp_transport::server::Receiver::new(NoSignals)
                .http(local)
                .tls(tls.clone())
                .start()
                .await;
            assert!(
                matches!(result, Err(otlp_transport::server::ReceiverError::Tls(_))),
                "{tls:?}: {result:?}"
            );
        }
    }

    struct NoSignals;
    impl otlp_transport::server::ExportHandler for NoSignals {}
}
