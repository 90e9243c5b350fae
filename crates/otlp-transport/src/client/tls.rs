//! The rustls client configuration of `https` endpoints (feature `tls`).

#[cfg(feature = "tls")]
use std::sync::Arc;

use super::ConfigError;
use super::config::Pem;
#[cfg(feature = "tls")]
use super::config::TlsConfig;

#[cfg(feature = "tls")]
use super::insecure::AnyServerCertificate;
#[cfg(feature = "tls")]
use rustls_pki_types::pem::PemObject;
#[cfg(feature = "tls")]
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

#[cfg(feature = "tls")]
fn tls_error(pem: &Pem, message: impl std::fmt::Display) -> ConfigError {
    ConfigError::Tls {
        what: pem.origin.clone(),
        message: message.to_string(),
    }
}

#[cfg(feature = "tls")]
fn certificates(pem: &Pem) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certificates = CertificateDer::pem_slice_iter(&pem.bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(pem, format!("invalid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(tls_error(pem, "no CERTIFICATE section in the PEM data"));
    }
    Ok(certificates)
}

#[cfg(feature = "tls")]
fn private_key(pem: &Pem) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_slice(&pem.bytes)
        .map_err(|e| tls_error(pem, format!("no usable private key: {e}")))
}

#[cfg(feature = "tls")]
fn roots(ca: Option<&Pem>) -> Result<rustls::RootCertStore, ConfigError> {
    let Some(ca) = ca else {
        return Ok(rustls::RootCertStore::from_iter(
            webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
        ));
    };
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(ca)? {
        roots.add(certificate).map_err(|e| tls_error(ca, e))?;
    }
    Ok(roots)
}

/// Checks that a CA file holds at least one usable certificate.
pub(crate) fn check_ca(ca: &Pem) -> Result<(), ConfigError> {
    #[cfg(feature = "tls")]
    {
        roots(Some(ca)).map(|_| ())
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = ca;
        Err(ConfigError::FeatureDisabled {
            what: "a CA certificate".into(),
            feature: "tls",
        })
    }
}

/// Checks that a client certificate chain and key can be used together.
pub(crate) fn check_identity(certificate: &Pem, key: &Pem) -> Result<(), ConfigError> {
    #[cfg(feature = "tls")]
    {
        client_config(
            &TlsConfig {
                identity: Some((certificate.clone(), key.clone())),
                ..TlsConfig::default()
            },
            &[],
        )
        .map(|_| ())
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = (certificate, key);
        Err(ConfigError::FeatureDisabled {
            what: "a client certificate".into(),
            feature: "tls",
        })
    }
}

/// The rustls configuration: the ring provider, TLS 1.2 and 1.3, the configured roots (or
/// webpki's) — or, with `insecure_skip_verify`, a verifier that accepts any certificate but
/// still checks the handshake signatures —, the client identity if any, and the ALPN
/// protocols offered.
#[cfg(feature = "tls")]
pub(crate) fn client_config(
    tls: &TlsConfig,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Tls {
            what: "protocol versions".into(),
            message: e.to_string(),
        })?;
    // The CA is checked even when it is not used, so a bad file is an error either way.
    let roots = roots(tls.ca.as_ref())?;
    let builder = if tls.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCertificate::new(&provider)))
    } else {
        builder.with_root_certificates(roots)
    };
    let mut config = match &tls.identity {
        Some((certificate, key)) => builder
            .with_client_auth_cert(certificates(certificate)?, private_key(key)?)
            .map_err(|e| tls_error(key, format!("does not fit the client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The server name override, checked.
#[cfg(feature = "tls")]
pub(crate) fn server_name(tls: &TlsConfig) -> Result<Option<ServerName<'static>>, ConfigError> {
    tls.server_name
        .as_ref()
        .map(|name| {
            ServerName::try_from(name.clone()).map_err(|e| ConfigError::Tls {
                what: format!("server name `{name}`"),
                message: e.to_string(),
            })
        })
        .transpose()
}
