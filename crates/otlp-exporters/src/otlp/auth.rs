//! `auth: {authenticator: ID}` of the OTLP exporters: the named extension's credentials on
//! every request (otelcol's client authenticators, such as `bearertokenauth`).
//!
//! The transport client is built when the configuration is read, the extensions exist only
//! once the service starts: the client gets an [`ExtensionHeaders`] at build time, and the
//! exporter's `start` binds it to the extension found on the [`Host`]. Nothing is sent before
//! `start`, and `start` fails when the id names no started client authenticator.

use std::sync::{Arc, OnceLock};

use otlp_pipeline::component::{Extension, Host};
use otlp_pipeline::config::ComponentId;
use otlp_transport::client::HeaderSource;
use serde::{Deserialize, Serialize};

/// `auth` of a client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientAuthConfig {
    /// The id of a client authenticator extension (`bearertokenauth[/name]`).
    pub authenticator: String,
}

/// The headers of the authenticator `id`, once bound.
pub(crate) struct ExtensionHeaders {
    id: ComponentId,
    extension: OnceLock<Arc<dyn Extension>>,
}

impl ExtensionHeaders {
    /// Headers of `id`, unbound.
    pub(crate) fn new(id: ComponentId) -> Arc<ExtensionHeaders> {
        Arc::new(ExtensionHeaders {
            id,
            extension: OnceLock::new(),
        })
    }

    /// Finds the extension on `host` (again on a restart: the first binding stays).
    pub(crate) fn bind(&self, host: &Host) -> Result<(), String> {
        let extension = host
            .extension(&self.id)
            .filter(|e| e.as_client_authenticator().is_some())
            .ok_or_else(|| {
                format!(
                    "auth::authenticator: \"{}\" is not a started client authenticator extension such as bearertokenauth (list it in service.extensions)",
                    self.id
                )
            })?;
        let _ = self.extension.set(Arc::clone(extension));
        Ok(())
    }
}

impl HeaderSource for ExtensionHeaders {
    fn headers(&self) -> Result<Vec<(String, String)>, String> {
        let authenticator = self
            .extension
            .get()
            .and_then(|e| e.as_client_authenticator())
            .ok_or_else(|| format!("authenticator \"{}\" is not started", self.id))?;
        authenticator
            .request_headers()
            .map_err(|e| format!("authenticator \"{}\": {e}", self.id))
    }
}
