//! The `bearertokenauth` extension, both sides of otelcol's:
//!
//! - server: the token the `otlp` receiver requires when a protocol says
//!   `auth: {authenticator: bearertokenauth/NAME}` (the transport checks
//!   `authorization: Bearer <token>` in constant time, so on a receiver `scheme` must be
//!   `Bearer` and `header` `Authorization`);
//! - client: the header an `otlp`/`otlp_http` exporter (or a load-balancing backend) sends
//!   when it says `auth: {authenticator: ...}`: `<header>: <scheme> <token>` (just the token
//!   when `scheme` is empty), defaults `Authorization` and `Bearer` as in otelcol.
//!
//! Keys: `token`, or `filename` (read at start; trailing whitespace trimmed; for exporters
//! read again when the file changes, as otelcol's file watch does, so a rotated token is sent
//! from the next request on), `scheme`, `header`. `tokens` (several accepted tokens) is not
//! supported.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use otlp_pipeline::component::{ClientAuthenticator, Extension, Host, ServerAuthenticator};
use otlp_pipeline::config::ConfigError;
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};

/// `extensions: bearertokenauth:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BearerTokenAuthConfig {
    /// The token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A file holding the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<PathBuf>,
    /// Must be `Bearer` (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Must be `Authorization` (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Not supported (several tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
}

impl BearerTokenAuthConfig {
    /// `scheme`, default `Bearer`.
    pub fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or("Bearer")
    }

    /// `header`, default `Authorization`.
    pub fn header(&self) -> &str {
        self.header.as_deref().unwrap_or("Authorization")
    }

    /// Whether a receiver can check what this configures (`Authorization: Bearer`).
    fn servable(&self) -> bool {
        self.scheme() == "Bearer" && self.header().eq_ignore_ascii_case("authorization")
    }
}

impl ComponentConfig for BearerTokenAuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        // An HTTP field name is a token (RFC 9110 5.1).
        let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if self.header().is_empty() || !self.header().chars().all(tchar) {
            return Err(ConfigError::bad_value(
                "header",
                format!("\"{}\" is not a valid header name", self.header()),
            ));
        }
        if self.scheme().contains(char::is_whitespace) {
            return Err(ConfigError::bad_value(
                "scheme",
                format!("\"{}\" must be one word", self.scheme()),
            ));
        }
        if self.tokens.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(ConfigError::bad_value(
                "tokens",
                "several tokens are not supported: use token",
            ));
        }
        match (&self.token, &self.filename) {
            (Some(_), Some(_)) => Err(ConfigError::bad_value(
                "filename",
                "set token or filename, not both",
            )),
            (None, None) => Err(ConfigError::bad_value(
                "token",
                "token or filename is required",
            )),
            (Some(token), None) if token.is_empty() => {
                Err(ConfigError::bad_value("token", "must not be empty"))
            }
            _ => Ok(()),
        }
    }
}

/// The extension: holds the token.
#[derive(Debug)]
pub struct BearerTokenAuth {
    config: BearerTokenAuthConfig,
    token: Mutex<Token>,
}

/// The token, and for `filename` what the file looked like when it was read.
#[derive(Debug, Default)]
struct Token {
    value: String,
    read: Option<(Option<SystemTime>, u64)>,
}

/// Reads a token file: its trimmed text, which must not be empty.
fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("{} holds no token", path.display()));
    }
    Ok(token.to_owned())
}

/// What identifies a version of the file: its modification time and length.
fn stamp(path: &Path) -> Result<(Option<SystemTime>, u64), String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((meta.modified().ok(), meta.len()))
}

impl BearerTokenAuth {
    /// The extension for a checked configuration.
    pub fn new(config: BearerTokenAuthConfig) -> BearerTokenAuth {
        let token = Token {
            value: config.token.clone().unwrap_or_default(),
            read: None,
        };
        BearerTokenAuth {
            config,
            token: Mutex::new(token),
        }
    }

    /// The token: `token`, or `filename`'s content (read at start, and again when the file
    /// changed since).
    pub fn token(&self) -> Result<String, String> {
        let mut token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(path) = &self.config.filename {
            let now = stamp(path)?;
            if token.read != Some(now) {
                token.value = read_token(path)?;
                token.read = Some(now);
            }
        }
        Ok(token.value.clone())
    }

    /// The header value: `<scheme> <token>`, or the token alone when the scheme is empty.
    pub fn header_value(&self) -> Result<String, String> {
        let token = self.token()?;
        Ok(match self.config.scheme() {
            "" => token,
            scheme => format!("{scheme} {token}"),
        })
    }
}

#[async_trait]
impl Extension for BearerTokenAuth {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        self.token()?;
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }

    fn as_server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        self.config
            .servable()
            .then_some(self as &dyn ServerAuthenticator)
    }

    fn as_client_authenticator(&self) -> Option<&dyn ClientAuthenticator> {
        Some(self)
    }
}

impl ServerAuthenticator for BearerTokenAuth {
    fn bearer_token(&self) -> String {
        // Read successfully at start; a file that went away since keeps the last token.
        self.token().unwrap_or_else(|_| {
            self.token
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .value
                .clone()
        })
    }
}

impl ClientAuthenticator for BearerTokenAuth {
    fn request_headers(&self) -> Result<Vec<(String, String)>, String> {
        Ok(vec![(
            self.config.header().to_owned(),
            self.header_value()?,
        )])
    }
}

/// The `bearertokenauth` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("bearertokenauth", |_ctx, config: BearerTokenAuthConfig| {
        Ok(Box::new(BearerTokenAuth::new(config)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> BearerTokenAuthConfig {
        let config: BearerTokenAuthConfig = serde_yaml_ng::from_str(yaml).unwrap();
        config.validate().unwrap();
        config
    }

    #[test]
    fn client_headers_follow_header_and_scheme() {
        let auth = BearerTokenAuth::new(config("token: s3cret"));
        assert_eq!(
            auth.request_headers().unwrap(),
            vec![("Authorization".to_owned(), "Bearer s3cret".to_owned())]
        );
        assert!(auth.as_server_authenticator().is_some());

        let auth = BearerTokenAuth::new(config("token: s3cret\nheader: X-Auth\nscheme: Token"));
        assert_eq!(
            auth.request_headers().unwrap(),
            vec![("X-Auth".to_owned(), "Token s3cret".to_owned())]
        );
        // The OTLP receiver checks `Authorization: Bearer` only.
        assert!(auth.as_server_authenticator().is_none());

        let auth = BearerTokenAuth::new(config("token: s3cret\nscheme: ''"));
        assert_eq!(auth.header_value().unwrap(), "s3cret");
    }

    #[test]
    fn a_token_file_is_read_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let auth = BearerTokenAuth::new(config(&format!("filename: {}", path.display())));
        assert_eq!(auth.header_value().unwrap(), "Bearer first");
        // A different length is a different stamp even within the clock's resolution.
        std::fs::write(&path, "the-second\n").unwrap();
        assert_eq!(auth.header_value().unwrap(), "Bearer the-second");
        std::fs::write(&path, "  \n").unwrap();
        assert!(auth.header_value().unwrap_err().contains("holds no token"));
        std::fs::remove_file(&path).unwrap();
        assert!(auth.request_headers().unwrap_err().contains("cannot read"));
    }

    #[test]
    fn bad_keys_are_refused_naming_them() {
        for (yaml, key) in [
            ("token: x\nheader: 'two words'", "header"),
            ("token: x\nscheme: 'a b'", "scheme"),
            ("token: x\ntokens: [a, b]", "tokens"),
            ("{}", "token"),
        ] {
            let config: BearerTokenAuthConfig = serde_yaml_ng::from_str(yaml).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(key), "{yaml}: {error}");
        }
    }
}
