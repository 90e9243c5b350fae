//! The client settings both Kafka components share (otelcol's `configkafka.ClientConfig`:
//! brokers, client id, authentication, TLS, metadata) and their librdkafka properties.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::KafkaConfigError;

/// `brokers`' default.
pub const DEFAULT_BROKER: &str = "localhost:9092";
/// `client_id`'s default (and the receiver's `group_id`'s).
pub const DEFAULT_CLIENT_ID: &str = "otel-collector";

/// The connection settings of a Kafka client, read from the component's top-level keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// `brokers`: the bootstrap servers (default `[localhost:9092]`).
    pub brokers: Vec<String>,
    /// `protocol_version`: checked to be a version (`2.1.0`), otherwise unused: librdkafka
    /// asks each broker which API versions it speaks.
    pub protocol_version: Option<String>,
    /// `resolve_canonical_bootstrap_servers_only`: resolve each bootstrap name and use the
    /// canonical names of its addresses (librdkafka's `client.dns.lookup`).
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// `client_id` (default `otel-collector`).
    pub client_id: String,
    /// `conn_idle_timeout`: close connections idle this long (default: librdkafka's, never).
    pub conn_idle_timeout: Option<Duration>,
    /// `rack_id`: librdkafka's `client.rack`.
    pub rack_id: Option<String>,
    /// `auth`.
    pub auth: AuthConfig,
    /// `tls` (present: TLS, unless `insecure`).
    pub tls: Option<TlsConfig>,
    /// `metadata`.
    pub metadata: MetadataConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            brokers: vec![DEFAULT_BROKER.to_owned()],
            protocol_version: None,
            resolve_canonical_bootstrap_servers_only: false,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            conn_idle_timeout: None,
            rack_id: None,
            auth: AuthConfig::default(),
            tls: None,
            metadata: MetadataConfig::default(),
        }
    }
}

/// `auth`: otelcol's `configkafka.AuthenticationConfig`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Deprecated in otelcol (v0.123): SASL PLAIN with these credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plain_text: Option<PlainTextConfig>,
    /// SASL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sasl: Option<SaslConfig>,
    /// Deprecated in otelcol (v0.124): the top-level `tls`, used when that is absent.
    #[serde(
        deserialize_with = "present_tls",
        skip_serializing_if = "Option::is_none"
    )]
    pub tls: Option<TlsConfig>,
    /// Refused: librdkafka is built without GSSAPI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kerberos: Option<KerberosConfig>,
}

/// `auth::plain_text`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlainTextConfig {
    /// The user.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `auth::sasl`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaslConfig {
    /// The user.
    pub username: String,
    /// The password.
    pub password: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (OAUTHBEARER and AWS MSK IAM are refused).
    pub mechanism: String,
    /// The SASL handshake version, 0 or 1 (librdkafka picks what the broker speaks).
    pub version: i64,
    /// Refused (`AWS_MSK_IAM_OAUTHBEARER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_msk: Option<serde_yaml_value::Any>,
    /// Refused (`OAUTHBEARER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauthbearer_token_source: Option<String>,
    /// Refused (`OIDCFILE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_file: Option<serde_yaml_value::Any>,
}

/// `auth::kerberos`: accepted by the parser so that the error can name it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct KerberosConfig {
    /// The service name.
    pub service_name: String,
}

/// Any YAML value (a key that is accepted only to be refused by name).
mod serde_yaml_value {
    use serde::Deserialize;

    /// A value whose content is ignored.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Any;

    impl serde::Serialize for Any {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_unit()
        }
    }

    impl<'de> Deserialize<'de> for Any {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| Any)
        }
    }
}

/// `tls`: otelcol's `configtls.ClientConfig`, as far as librdkafka can honour it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Plaintext after all.
    pub insecure: bool,
    /// Do not verify the broker's certificate chain and name.
    pub insecure_skip_verify: bool,
    /// CA certificates to trust (PEM file) instead of the system's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// CA certificates, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Client certificate (PEM file) for mutual TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// Client certificate, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
    /// Client key (PEM file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Client key, inline PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
    /// Refused when set: librdkafka verifies the broker's own name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name_override: Option<String>,
    /// `1.2` or `1.3` (OpenSSL offers TLS 1.2 and 1.3); anything older is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// `1.3` only (or empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Accepted: librdkafka trusts the system's CA certificates unless `ca_file` or `ca_pem`
    /// is set.
    pub include_system_ca_certs_pool: bool,
    /// Refused when set (Go cipher suite names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<String>,
    /// Refused when set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub curve_preferences: Vec<String>,
    /// Refused when set (certificates are read once at start).
    #[serde(
        with = "crate::go_duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reload_interval: Option<Duration>,
}

/// A `tls:` key that is present counts, even empty (`tls:` alone turns TLS on, as in
/// otelcol's examples).
pub fn present_tls<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TlsConfig>, D::Error> {
    let value: Option<TlsConfig> = Option::deserialize(d)?;
    Ok(Some(value.unwrap_or_default()))
}

/// `metadata`: otelcol's `configkafka.MetadataConfig`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Accepted, no effect: librdkafka keeps metadata for the topics in use.
    pub full: bool,
    /// How often cluster metadata is refreshed (default 10 m).
    #[serde(with = "crate::go_duration")]
    pub refresh_interval: Duration,
    /// Retries of metadata requests.
    pub retry: MetadataRetryConfig,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            full: true,
            refresh_interval: Duration::from_secs(600),
            retry: MetadataRetryConfig::default(),
        }
    }
}

/// `metadata::retry`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataRetryConfig {
    /// Accepted, no effect: librdkafka retries until its request timeout.
    pub max: i64,
    /// The first wait before a retried request (default 250 ms; librdkafka's
    /// `retry.backoff.ms`, which also paces produce retries).
    #[serde(with = "crate::go_duration")]
    pub backoff: Duration,
}

impl Default for MetadataRetryConfig {
    fn default() -> Self {
        MetadataRetryConfig {
            max: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

fn refuse(key: &str, why: &str) -> KafkaConfigError {
    KafkaConfigError::new(key, why)
}

impl TlsConfig {
    fn validate(&self, key: &str) -> Result<(), KafkaConfigError> {
        let at = |name: &str| format!("{key}::{name}");
        if self.ca_file.is_some() && self.ca_pem.is_some() {
            return Err(refuse(&at("ca_pem"), "set ca_file or ca_pem, not both"));
        }
        if self.cert_file.is_some() && self.cert_pem.is_some() {
            return Err(refuse(
                &at("cert_pem"),
                "set cert_file or cert_pem, not both",
            ));
        }
        if self.key_file.is_some() && self.key_pem.is_some() {
            return Err(refuse(&at("key_pem"), "set key_file or key_pem, not both"));
        }
        let has_cert = self.cert_file.is_some() || self.cert_pem.is_some();
        let has_key = self.key_file.is_some() || self.key_pem.is_some();
        if has_cert != has_key {
            return Err(refuse(
                key,
                "a client certificate needs both a certificate and a key",
            ));
        }
        if self
            .server_name_override
            .as_deref()
            .is_some_and(|s| !s.is_empty())
        {
            return Err(refuse(
                &at("server_name_override"),
                "not supported by the Kafka client (librdkafka verifies the broker's own name)",
            ));
        }
        match self.min_version.as_deref().unwrap_or("") {
            "" | "1.2" | "1.3" => {}
            other => {
                return Err(refuse(
                    &at("min_version"),
                    &format!("\"{other}\" is not supported (1.2 or 1.3)"),
                ));
            }
        }
        match self.max_version.as_deref().unwrap_or("") {
            "" | "1.3" => {}
            other => {
                return Err(refuse(
                    &at("max_version"),
                    &format!("\"{other}\" is not supported (only 1.3)"),
                ));
            }
        }
        if !self.cipher_suites.is_empty() {
            return Err(refuse(
                &at("cipher_suites"),
                "not supported by the Kafka client",
            ));
        }
        if !self.curve_preferences.is_empty() {
            return Err(refuse(
                &at("curve_preferences"),
                "not supported by the Kafka client",
            ));
        }
        if self.reload_interval.is_some_and(|d| !d.is_zero()) {
            return Err(refuse(
                &at("reload_interval"),
                "not supported by the Kafka client (certificates are read at start)",
            ));
        }
        Ok(())
    }

    fn apply(&self, config: &mut rdkafka::ClientConfig) {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        if let Some(file) = &self.ca_file {
            config.set("ssl.ca.location", path(file));
        }
        if let Some(pem) = &self.ca_pem {
            config.set("ssl.ca.pem", pem);
        }
        if let Some(file) = &self.cert_file {
            config.set("ssl.certificate.location", path(file));
        }
        if let Some(pem) = &self.cert_pem {
            config.set("ssl.certificate.pem", pem);
        }
        if let Some(file) = &self.key_file {
            config.set("ssl.key.location", path(file));
        }
        if let Some(pem) = &self.key_pem {
            config.set("ssl.key.pem", pem);
        }
        if self.insecure_skip_verify {
            config.set("enable.ssl.certificate.verification", "false");
            config.set("ssl.endpoint.identification.algorithm", "none");
        } else {
            config.set("ssl.endpoint.identification.algorithm", "https");
        }
    }
}

/// The SASL mechanism and credentials the settings ask for, if any.
struct Sasl<'a> {
    mechanism: &'a str,
    username: &'a str,
    password: &'a str,
}

impl AuthConfig {
    fn sasl(&self) -> Result<Option<Sasl<'_>>, KafkaConfigError> {
        if self.kerberos.is_some() {
            return Err(refuse(
                "auth::kerberos",
                "Kerberos (GSSAPI) is not supported: use auth::sasl with PLAIN or SCRAM",
            ));
        }
        if let Some(sasl) = &self.sasl {
            if self.plain_text.is_some() {
                return Err(refuse(
                    "auth::plain_text",
                    "set auth::sasl or auth::plain_text, not both",
                ));
            }
            match sasl.mechanism.as_str() {
                "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" => {}
                "AWS_MSK_IAM_OAUTHBEARER" | "OAUTHBEARER" | "OIDCFILE" => {
                    return Err(refuse(
                        "auth::sasl::mechanism",
                        &format!(
                            "{} is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
                            sasl.mechanism
                        ),
                    ));
                }
                other => {
                    return Err(refuse(
                        "auth::sasl::mechanism",
                        &format!(
                            "mechanism should be one of PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; configured value \"{other}\""
                        ),
                    ));
                }
            }
            if sasl.username.is_empty() {
                return Err(refuse("auth::sasl::username", "username is required"));
            }
            if sasl.password.is_empty() {
                return Err(refuse("auth::sasl::password", "password is required"));
            }
            if !(0..=1).contains(&sasl.version) {
                return Err(refuse(
                    "auth::sasl::version",
                    &format!(
                        "version has to be either 0 or 1; configured value {}",
                        sasl.version
                    ),
                ));
            }
            if sasl.aws_msk.is_some() || sasl.oidc_file.is_some() {
                return Err(refuse(
                    "auth::sasl",
                    "aws_msk and oidc_file are not supported",
                ));
            }
            if sasl
                .oauthbearer_token_source
                .as_deref()
                .is_some_and(|s| !s.is_empty())
            {
                return Err(refuse(
                    "auth::sasl::oauthbearer_token_source",
                    "OAUTHBEARER is not supported",
                ));
            }
            return Ok(Some(Sasl {
                mechanism: &sasl.mechanism,
                username: &sasl.username,
                password: &sasl.password,
            }));
        }
        if let Some(plain) = &self.plain_text {
            if plain.username.is_empty() {
                return Err(refuse("auth::plain_text::username", "username is required"));
            }
            return Ok(Some(Sasl {
                mechanism: "PLAIN",
                username: &plain.username,
                password: &plain.password,
            }));
        }
        Ok(None)
    }
}

/// Checks `protocol_version` the way otelcol does: dot-separated numbers (`2.1.0`, `0.10.2.1`).
fn check_version(version: &str) -> Result<(), KafkaConfigError> {
    let parts: Vec<&str> = version.trim().split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !(2..=4).contains(&parts.len()) || !numeric {
        return Err(refuse(
            "protocol_version",
            &format!("invalid protocol version \"{version}\""),
        ));
    }
    Ok(())
}

impl ClientConfig {
    /// The TLS settings in force: the top-level `tls`, else the deprecated `auth::tls`; `None`
    /// when TLS is off (absent, or `insecure: true`).
    pub fn effective_tls(&self) -> Option<(&TlsConfig, &'static str)> {
        let (tls, key) = match (&self.tls, &self.auth.tls) {
            (Some(tls), _) => (tls, "tls"),
            (None, Some(tls)) => (tls, "auth::tls"),
            (None, None) => return None,
        };
        (!tls.insecure).then_some((tls, key))
    }

    /// Checks every setting; the error names the key.
    pub fn validate(&self) -> Result<(), KafkaConfigError> {
        if self.brokers.is_empty() || self.brokers.iter().any(|b| b.trim().is_empty()) {
            return Err(refuse("brokers", "brokers must be specified"));
        }
        if let Some(version) = self.protocol_version.as_deref().filter(|v| !v.is_empty()) {
            check_version(version)?;
        }
        if self.client_id.is_empty() {
            return Err(refuse("client_id", "must not be empty"));
        }
        self.auth.sasl()?;
        for (tls, key) in [(&self.tls, "tls"), (&self.auth.tls, "auth::tls")] {
            if let Some(tls) = tls {
                tls.validate(key)?;
            }
        }
        if self.metadata.refresh_interval.is_zero() {
            return Err(refuse("metadata::refresh_interval", "must be positive"));
        }
        Ok(())
    }

    /// The librdkafka properties of these settings (validated first): brokers, client id,
    /// security protocol, SASL, TLS, metadata and connection settings. The producer or
    /// consumer adds its own.
    pub fn to_rdkafka(&self) -> Result<rdkafka::ClientConfig, KafkaConfigError> {
        self.validate()?;
        let mut config = rdkafka::ClientConfig::new();
        let brokers: Vec<&str> = self.brokers.iter().map(|b| b.trim()).collect();
        config.set("bootstrap.servers", brokers.join(","));
        config.set("client.id", &self.client_id);
        if self.resolve_canonical_bootstrap_servers_only {
            config.set(
                "client.dns.lookup",
                "resolve_canonical_bootstrap_servers_only",
            );
        }
        if let Some(idle) = self.conn_idle_timeout.filter(|d| !d.is_zero()) {
            config.set("connections.max.idle.ms", millis(idle));
        }
        if let Some(rack) = self.rack_id.as_deref().filter(|r| !r.is_empty()) {
            config.set("client.rack", rack);
        }
        config.set(
            "topic.metadata.refresh.interval.ms",
            millis(self.metadata.refresh_interval),
        );
        config.set("retry.backoff.ms", millis(self.metadata.retry.backoff));
        let tls = self.effective_tls();
        let sasl = self.auth.sasl()?;
        let protocol = match (&sasl, tls.is_some()) {
            (None, false) => "plaintext",
            (None, true) => "ssl",
            (Some(_), false) => "sasl_plaintext",
            (Some(_), true) => "sasl_ssl",
        };
        config.set("security.protocol", protocol);
        if let Some(sasl) = sasl {
            config.set("sasl.mechanisms", sasl.mechanism);
            config.set("sasl.username", sasl.username);
            config.set("sasl.password", sasl.password);
        }
        if let Some((tls, _)) = tls {
            tls.apply(&mut config);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn auth(yaml: serde_json::Value) -> AuthConfig {
        serde_json::from_value(yaml).unwrap()
    }

    #[test]
    fn defaults_are_otelcols() {
        let config = ClientConfig::default();
        assert_eq!(config.brokers, ["localhost:9092"]);
        assert_eq!(config.client_id, "otel-collector");
        let rd = config.to_rdkafka().unwrap();
        assert_eq!(rd.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(rd.get("security.protocol"), Some("plaintext"));
        assert_eq!(rd.get("topic.metadata.refresh.interval.ms"), Some("600000"));
    }

    #[test]
    fn sasl_scram_over_tls() {
        let config = ClientConfig {
            brokers: vec!["a:9093".into(), " b:9093".into()],
            auth: auth(serde_json::json!({
                "sasl": {"username": "u", "password": "p", "mechanism": "SCRAM-SHA-512"}
            })),
            tls: Some(TlsConfig {
                ca_file: Some("/ca.pem".into()),
                ..TlsConfig::default()
            }),
            ..ClientConfig::default()
        };
        let rd = config.to_rdkafka().unwrap();
        assert_eq!(rd.get("bootstrap.servers"), Some("a:9093,b:9093"));
        assert_eq!(rd.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(rd.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(rd.get("sasl.username"), Some("u"));
        assert_eq!(rd.get("ssl.ca.location"), Some("/ca.pem"));
    }

    #[test]
    fn plain_text_is_sasl_plain_and_insecure_tls_is_plaintext() {
        let config = ClientConfig {
            auth: auth(serde_json::json!({"plain_text": {"username": "u", "password": "p"}})),
            tls: Some(TlsConfig {
                insecure: true,
                ..TlsConfig::default()
            }),
            ..ClientConfig::default()
        };
        let rd = config.to_rdkafka().unwrap();
        assert_eq!(rd.get("security.protocol"), Some("sasl_plaintext"));
        assert_eq!(rd.get("sasl.mechanisms"), Some("PLAIN"));
    }

    #[test]
    fn auth_tls_is_the_deprecated_alias() {
        let config = ClientConfig {
            auth: auth(serde_json::json!({"tls": null})),
            ..ClientConfig::default()
        };
        assert_eq!(
            config.effective_tls().map(|(_, key)| key),
            Some("auth::tls")
        );
        let rd = config.to_rdkafka().unwrap();
        assert_eq!(rd.get("security.protocol"), Some("ssl"));
    }

    #[test]
    fn errors_name_the_key() {
        let cases: Vec<(ClientConfig, &str)> = vec![
            (
                ClientConfig {
                    brokers: vec![],
                    ..ClientConfig::default()
                },
                "brokers",
            ),
            (
                ClientConfig {
                    protocol_version: Some("two".into()),
                    ..ClientConfig::default()
                },
                "protocol_version",
            ),
            (
                ClientConfig {
                    auth: auth(
                        serde_json::json!({"sasl": {"username": "u", "password": "p", "mechanism": "MD5"}}),
                    ),
                    ..ClientConfig::default()
                },
                "auth::sasl::mechanism",
            ),
            (
                ClientConfig {
                    auth: auth(
                        serde_json::json!({"sasl": {"username": "u", "password": "", "mechanism": "PLAIN"}}),
                    ),
                    ..ClientConfig::default()
                },
                "auth::sasl::password",
            ),
            (
                ClientConfig {
                    auth: auth(serde_json::json!({"kerberos": {"service_name": "kafka"}})),
                    ..ClientConfig::default()
                },
                "auth::kerberos",
            ),
            (
                ClientConfig {
                    tls: Some(TlsConfig {
                        server_name_override: Some("kafka".into()),
                        ..TlsConfig::default()
                    }),
                    ..ClientConfig::default()
                },
                "tls::server_name_override",
            ),
            (
                ClientConfig {
                    tls: Some(TlsConfig {
                        cert_file: Some("/c.pem".into()),
                        ..TlsConfig::default()
                    }),
                    ..ClientConfig::default()
                },
                "tls",
            ),
        ];
        for (config, key) in cases {
            let error = config.to_rdkafka().unwrap_err();
            assert_eq!(error.key, key, "{error}");
        }
        assert!(
            ClientConfig {
                protocol_version: Some("2.1.0".into()),
                ..ClientConfig::default()
            }
            .validate()
            .is_ok()
        );
    }
}
