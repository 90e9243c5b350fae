//! The `zpages` extension: otelcol's zPages, HTML pages about the running collector on
//! `endpoint` (default `localhost:55679`).
//!
//! | path | what |
//! |---|---|
//! | `/debug/servicez` | build info (command, description, version), start time, uptime, OS and architecture, links to the other pages |
//! | `/debug/pipelinez` | every pipeline: input type, `MutatesData`, receivers → processors → exporters (connectors included); `?zpipelinename=P&zcomponentname=C&zcomponentkind=K` shows one component |
//! | `/debug/extensionz` | the extensions; `?zextensionname=E` shows one |
//! | `/debug/featurez` | feature gates: otlp-rs has none, so the table is empty |
//! | `/debug/tracez` | the collector's own recent spans ([`SelfSpans`]): per span name the spans ended per latency bucket (`[0,10µs)` … `[100s,∞)`) and the errors, each count a link to `?zspanname=NAME&ztype=1&zlatencybucket=N` (`ztype=2` the error samples) listing the kept spans with trace id, span id, start, duration, attributes and status |
//! | `/debug/expvarz` | with `expvar: {enabled: true}`, a JSON object of runtime values (`cmdline`, `uptime_seconds`, `memory_rss_bytes`, `self_spans_names`, `self_spans_dropped`); 404 otherwise, as in otelcol |
//!
//! Spans are recorded only while the extension runs (it subscribes to [`SelfSpans`] at start,
//! as otelcol registers its span processor then): the `otlp` receiver's export requests
//! (`opentelemetry.proto.collector.trace.v1.TraceService/Export`, `POST /v1/traces`, …) and
//! every queued exporter's sends (`exporter/<id>/<signal>`). Running spans are not tracked
//! (otelcol's `Running` column and `ztype=0` list are absent: `ztype=0` answers an empty list).
//!
//! Every text that comes from configuration or input (span names, attribute values, error
//! messages, ids) is HTML-escaped, and query values are percent-encoded in links. Pages are
//! self-contained (no external stylesheet, unlike otelcol's, which loads Material Design Lite
//! from a CDN). Only GET and HEAD are answered (405 otherwise); any other path is a 404, and a
//! malformed `ztype`/`zlatencybucket` a 400.
//!
//! Keys: `endpoint`, `expvar: {enabled}` and the confighttp server keys otelcol's zpages
//! accepts: `response_headers` (added to every answer), `transport` (`tcp` only);
//! `max_request_body_size`, `include_metadata`, `compression_algorithms`, `read_timeout`,
//! `read_header_timeout`, `write_timeout`, `idle_timeout`, `keep_alives_enabled` are accepted
//! and ignored (no request body is read; a request head must arrive within 60 s); `tls`,
//! `cors`, `auth` and `middlewares` are refused by name.

mod pages;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;
use tokio::time::Instant;

use otlp_pipeline::component::{Extension, ExtensionContext, Host};
use otlp_pipeline::config::{ComponentId, ConfigError};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::telemetry::{SelfSpans, SpanSubscription, check_endpoint};
use otlp_pipeline::{ServiceStatus, ServiceTopology};

use otlp_pipeline::http_server::{Request, Response, Server, sync_handler};

/// otelcol's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "localhost:55679";

/// `extensions: zpages:`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZPagesConfig {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// `tcp` (the only one).
    pub transport: String,
    /// `/debug/expvarz`.
    pub expvar: ExpvarConfig,
    /// Headers added to every response.
    pub response_headers: BTreeMap<String, String>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_request_body_size: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_metadata: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_algorithms: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_header_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Value>,
    /// Accepted, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alives_enabled: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
    /// Not supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middlewares: Option<Value>,
}

/// `expvar`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExpvarConfig {
    /// Serve `/debug/expvarz`.
    pub enabled: bool,
}

impl Default for ZPagesConfig {
    fn default() -> Self {
        ZPagesConfig {
            endpoint: DEFAULT_ENDPOINT.into(),
            transport: "tcp".into(),
            expvar: ExpvarConfig::default(),
            response_headers: BTreeMap::new(),
            max_request_body_size: None,
            include_metadata: None,
            compression_algorithms: None,
            read_timeout: None,
            read_header_timeout: None,
            write_timeout: None,
            idle_timeout: None,
            keep_alives_enabled: None,
            tls: None,
            cors: None,
            auth: None,
            middlewares: None,
        }
    }
}

/// Parses `response_headers` (checked by validation).
pub(crate) fn response_headers(
    headers: &BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    headers
        .iter()
        .map(|(name, value)| {
            let key = format!("response_headers::{name}");
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| ConfigError::bad_value(&key, format!("invalid header name: {e}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|e| ConfigError::bad_value(&key, format!("invalid header value: {e}")))?;
            Ok((name, value))
        })
        .collect()
}

impl ComponentConfig for ZPagesConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        check_endpoint(&self.endpoint).map_err(|e| ConfigError::bad_value("endpoint", e))?;
        if self.transport != "tcp" {
            return Err(ConfigError::bad_value(
                "transport",
                format!("\"{}\" is not supported (only tcp)", self.transport),
            ));
        }
        for (key, value) in [
            ("tls", &self.tls),
            ("cors", &self.cors),
            ("auth", &self.auth),
            ("middlewares", &self.middlewares),
        ] {
            if value.as_ref().is_some_and(|v| !v.is_null()) {
                return Err(ConfigError::bad_value(
                    key,
                    "not supported by the zpages extension",
                ));
            }
        }
        response_headers(&self.response_headers)?;
        Ok(())
    }
}

/// What the pages read.
pub(crate) struct Sources {
    pub(crate) topology: Arc<ServiceTopology>,
    pub(crate) spans: Arc<SelfSpans>,
    pub(crate) expvar: bool,
}

impl Sources {
    /// Answers one request.
    pub(crate) fn answer(&self, request: &Request) -> Response {
        if !request.is_get() {
            return Response::method_not_allowed();
        }
        let now = SystemTime::now();
        let page = match request.path.as_str() {
            "/debug/servicez" => Ok(pages::servicez(
                &self.topology.build_info(),
                self.topology.started(),
                now,
            )),
            "/debug/pipelinez" => pages::pipelinez(self.topology.snapshot().as_deref(), request),
            "/debug/extensionz" => pages::extensionz(self.topology.snapshot().as_deref(), request),
            "/debug/featurez" => Ok(pages::featurez()),
            "/debug/tracez" => pages::tracez(&self.spans, request),
            "/debug/expvarz" if self.expvar => {
                return Response::new(
                    StatusCode::OK,
                    "application/json; charset=utf-8",
                    pages::expvarz(&self.spans, self.topology.started(), now),
                );
            }
            _ => return Response::not_found(),
        };
        match page {
            Ok(html) => Response::html(html),
            Err(response) => response,
        }
    }
}

/// The extension.
pub struct ZPages {
    id: ComponentId,
    config: ZPagesConfig,
    topology: Arc<ServiceTopology>,
    spans: Arc<SelfSpans>,
    status: Arc<ServiceStatus>,
    subscription: Mutex<Option<SpanSubscription>>,
    server: tokio::sync::Mutex<Option<Server>>,
}

impl ZPages {
    /// The extension for `ctx` (nothing is bound until start).
    pub fn new(ctx: ExtensionContext, config: ZPagesConfig) -> ZPages {
        ZPages {
            topology: ServiceTopology::from_resources(&ctx.resources),
            spans: SelfSpans::from_resources(&ctx.resources),
            status: ServiceStatus::from_resources(&ctx.resources),
            id: ctx.id,
            config,
            subscription: Mutex::new(None),
            server: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl Extension for ZPages {
    async fn start(&self, _host: &Host) -> Result<(), BoxError> {
        let sources = Sources {
            topology: Arc::clone(&self.topology),
            spans: Arc::clone(&self.spans),
            expvar: self.config.expvar.enabled,
        };
        let handler = sync_handler(move |request| sources.answer(&request));
        let headers = response_headers(&self.config.response_headers)?;
        let server = Server::bind(&self.config.endpoint, handler, headers).await?;
        *self
            .subscription
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(self.spans.subscribe());
        self.status
            .record_bound(&self.id, "http", server.local_addr());
        tracing::info!(extension = %self.id, addr = %server.local_addr(), "zPages listening");
        *self.server.lock().await = Some(server);
        Ok(())
    }

    async fn shutdown(&self, _deadline: Instant) -> Result<(), BoxError> {
        self.subscription
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut server) = self.server.lock().await.take() {
            server.shutdown().await;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ZPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZPages")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The `zpages` factory.
pub fn factory() -> impl otlp_pipeline::ExtensionFactory {
    FnFactory::extension("zpages", |ctx, config: ZPagesConfig| {
        Ok(Box::new(ZPages::new(ctx, config)))
    })
}
