//! The `health_check` extension: `GET <path>` answers 200 with a JSON status while the
//! pipelines are up, 503 otherwise (otelcol's legacy health check, the body included:
//! `{"status":"Server available","upSince":"…","uptime":"…"}`).
//!
//! "Up" is [`ServiceStatus::is_ready`]: every receiver that reports itself (the `otlp` receiver does) started and none shutting down
//! (the extension starts before the pipelines and stops after them, so it answers 503 during
//! start and shutdown). Keys: `endpoint` (default `localhost:13133`), `path` (default `/`),
//! `response_body: {healthy, unhealthy}` (replace the JSON bodies). `check_collector_pipeline`
//! (deprecated in otelcol) is accepted and ignored; `tls` and the v2 `http`/`grpc` sections are
//! not supported.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

use otlp_model::time::{now_unix_nanos, rfc3339, system_time_nanos};
use otlp_pipeline::ServiceStatus;
use otlp_pipeline::component::{Extension, ExtensionContext, Host};
use otlp_pipeline::config::{ComponentId, ConfigError, duration};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{Handler, HttpServer, SimpleResponse, check_endpoint};

/// otelcol's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "localhost:13133";

/// `extensions: health_check:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckConfig {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// The path answered (others get 404).
    pub path: String,
    /// Replacement bodies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<ResponseBody>,
    /// Deprecated in otelcol; accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_collector_pipeline: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
}

/// `response_body`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseBody {
    /// The body of a 200.
    pub healthy: String,
    /// The body of a 503.
    pub unhealthy: String,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            path: "/".into(),
            response_body: None,
            check_collector_pipeline: None,
            tls: None,
        }
    }
}

impl ComponentConfig for HealthCheckConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|e| ConfigError::bad_value("endpoint", e))?;
        if !self.path.starts_with('/') {
            return Err(ConfigError::bad_value("path", "must start with /"));
        }
        if self.tls.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ConfigError::bad_value(
                "tls",
                "TLS is not supported by health_check",
            ));
        }
        Ok(())
    }
}

/// The extension.
pub struct HealthCheck {
    id: ComponentId,
    config: HealthCheckConfig,
    status: Arc<ServiceStatus>,
    server: tokio::sync::Mutex<Option<HttpServer>>,
}

impl HealthCheck {
    /// The extension for `ctx` (nothing is bound until start).
    pub fn new(ctx: ExtensionContext, config: HealthCheckConfig) -> HealthCheck {
        HealthCheck {
            status: ServiceStatus::from_resources(&ctx.resources),
            id: ctx.id,
            config,
            server: tokio::sync::Mutex::new(None),
        }
    }

    fn answer(config: &HealthCheckConfig, status: &ServiceStatus, started: u64) -> SimpleResponse {
        let json = |text: String| SimpleResponse::new(StatusCode::OK, "application/json", text);
        match status.ready_since() {
            Some(since) => {
                let since = system_time_nanos(since);
                let uptime = duration::format(std::time::Duration::from_nanos(
                    now_unix_nanos().saturating_sub(since),
                ));
                let body = match &config.response_body {
                    Some(body) => body.healthy.clone(),
                    None => format!(
                        r#"{{"status":"Server available","upSince":"{}","uptime":"{uptime}"}}"#,
                        rfc3339(since)
                    ),
                };
                json(body)
            }
            None => {
                let body = match &config.response_body {
                    Some(body) => body.unhealthy.clone(),
                    None => format!(
                        r#"{{"status":"Server not available","upSince":"{}","uptime":"0s"}}"#,
                        rfc3339(started)
                    ),
                };
                let mut response = json(body);
                response.status = StatusCode::SERVICE_UNAVAILABLE;
                response
            }
        }
    }
}

#[async_trait]
impl Extension for HealthCheck {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let config = self.config.clone();
        let status = Arc::clone(&self.status);
        let started = now_unix_nanos();
        let handler: Handler = Arc::new(move |method, path| {
            if path != config.path {
                return SimpleResponse::not_found();
            }
            if method != Method::GET && method != Method::HEAD {
                return SimpleResponse::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "text/plain; charset=utf-8",
                    "use GET\n",
                );
            }
            HealthCheck::answer(&config, &status, started)
        });
        let server = HttpServer::bind(&self.config.endpoint, handler).await?;
        self.status
            .record_bound(&self.id, "http", server.local_addr());
        tracing::info!(extension = %self.id, addr = %server.local_addr(), "health check listening");
        *self.server.lock().await = Some(server);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        if let Some(mut server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        Ok(())
    }
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The `health_check` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("health_check", |ctx, config: HealthCheckConfig| {
        Ok(Box::new(HealthCheck::new(ctx, config)))
    })
}
