//! The `bearertokenauth` extension (server side only): the token the `otlp` receiver
//! requires when a protocol says `auth: {authenticator: bearertokenauth/NAME}`.
//!
//! Keys: `token`, or `filename` (read at start; trailing whitespace trimmed); `scheme` must be
//! `Bearer` and `header` `Authorization` (the transport checks `authorization: Bearer <token>`
//! in constant time). `tokens` (several accepted tokens) is not supported. Exporters do not
//! use authenticators: set `headers: {authorization: "Bearer …"}` on them instead.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use otlp_pipeline::component::{Extension, Host, ServerAuthenticator};
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

impl ComponentConfig for BearerTokenAuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(scheme) = self.scheme.as_deref().filter(|s| *s != "Bearer") {
            return Err(ConfigError::bad_value(
                "scheme",
                format!("\"{scheme}\" is not supported: only Bearer is"),
            ));
        }
        if let Some(header) = self
            .header
            .as_deref()
            .filter(|h| !h.eq_ignore_ascii_case("authorization"))
        {
            return Err(ConfigError::bad_value(
                "header",
                format!("\"{header}\" is not supported: only Authorization is"),
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
    token: Mutex<String>,
}

impl BearerTokenAuth {
    /// The extension for a checked configuration.
    pub fn new(config: BearerTokenAuthConfig) -> BearerTokenAuth {
        let token = config.token.clone().unwrap_or_default();
        BearerTokenAuth {
            config,
            token: Mutex::new(token),
        }
    }

    /// The token (read from `filename` at start).
    pub fn token(&self) -> String {
        self.token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Extension for BearerTokenAuth {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        if let Some(path) = &self.config.filename {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let token = text.trim().to_owned();
            if token.is_empty() {
                return Err(format!("{} holds no token", path.display()).into());
            }
            *self.token.lock().unwrap_or_else(PoisonError::into_inner) = token;
        }
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        Ok(())
    }

    fn as_server_authenticator(&self) -> Option<&dyn ServerAuthenticator> {
        Some(self)
    }
}

impl ServerAuthenticator for BearerTokenAuth {
    fn bearer_token(&self) -> String {
        self.token()
    }
}

/// The `bearertokenauth` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("bearertokenauth", |_ctx, config: BearerTokenAuthConfig| {
        Ok(Box::new(BearerTokenAuth::new(config)))
    })
}
