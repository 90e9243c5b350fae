//! The rustls server configuration (feature `tls`, ring provider).

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::ReceiverError;
use super::config::TlsConfig;

/// Builds the server configuration; `alpn` lists the protocols offered (`h2` first).
pub(crate) fn server_config(
    tls: &TlsConfig,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ServerConfig>, ReceiverError> {
    let error = |what: &str, e: &dyn std::fmt::Display| ReceiverError::Tls(format!("{what}: {e}"));
    let cert_pem = tls.cert.load().map_err(|e| error("certificate", &e))?;
    let key_pem = tls.key.load().map_err(|e| error("private key", &e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error("certificate", &e))?;
    if chain.is_empty() {
        return Err(ReceiverError::Tls(
            "certificate: no CERTIFICATE block in the PEM".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| error("private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| error("protocol versions", &e))?;
    let builder = match &tls.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let ca_pem = ca.load().map_err(|e| error("client CA", &e))?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&ca_pem) {
                let cert = cert.map_err(|e| error("client CA", &e))?;
                roots.add(cert).map_err(|e| error("client CA", &e))?;
            }
            if roots.is_empty() {
                return Err(ReceiverError::Tls(
                    "client CA: no CERTIFICATE block in the PEM".into(),
                ));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| error("client CA", &e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| error("certificate and key", &e))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
