//! The `docker` detector: `host.name` and `os.type` of the Docker host, from the daemon's
//! `GET /info` (`Name`, `OSType`) over its Unix socket (`/var/run/docker.sock`).
//!
//! As in otelcol-contrib, a daemon that cannot be reached (no socket, refused, no answer
//! within `timeout`, a bad answer) is logged and the detector gives nothing, unless `fail_on_missing_metadata` is
//! set, in which case it fails.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::http;
use super::{Attributes, string};
use crate::resourcedetection::environment::{Environment, os_type};

/// The attributes of the `docker` detector and whether each is on by default.
/// (`container.name` and `container.image.name` of newer contrib versions are not
/// implemented.)
pub(crate) const ATTRIBUTES: [(&str, bool); 2] = [("host.name", true), ("os.type", true)];

/// The part of `GET /info` the detector reads.
#[derive(Debug, Deserialize)]
struct Info {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "OSType", default)]
    os_type: String,
}

/// The `docker` detector.
#[derive(Debug, Clone)]
pub(crate) struct DockerDetector {
    enabled: BTreeSet<&'static str>,
    fail_on_missing: bool,
}

impl DockerDetector {
    /// A detector emitting the `enabled` attributes.
    pub(crate) fn new(enabled: BTreeSet<&'static str>, fail_on_missing: bool) -> DockerDetector {
        DockerDetector {
            enabled,
            fail_on_missing,
        }
    }

    /// One detection, giving the daemon `limit` to answer.
    pub(crate) async fn detect(
        &self,
        environment: &Arc<Environment>,
        limit: Option<Duration>,
    ) -> Result<Attributes, String> {
        let socket = environment.docker_socket();
        let answer = match limit {
            Some(limit) => tokio::time::timeout(limit, query(socket))
                .await
                .unwrap_or_else(|_| Err(format!("GET /info: no answer within {limit:?}"))),
            None => query(socket).await,
        };
        let info = match answer {
            Ok(info) => info,
            Err(error) if self.fail_on_missing => return Err(error),
            Err(error) => {
                tracing::info!(%error, "docker detector: Docker daemon not available; skipped");
                return Ok(Attributes::new());
            }
        };
        let mut out = Attributes::new();
        if self.enabled.contains("host.name") && !info.name.is_empty() {
            out.push(string("host.name", info.name));
        }
        if self.enabled.contains("os.type") && !info.os_type.is_empty() {
            out.push(string("os.type", os_type(&info.os_type)));
        }
        Ok(out)
    }
}

async fn query(socket: &std::path::Path) -> Result<Info, String> {
    let body = http::get(socket, "/info")
        .await
        .map_err(|e| format!("GET /info: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("GET /info: invalid JSON: {e}"))
}
