//! Semantic-convention attribute keys, as `&'static str` constants.
//!
//! The names are those of the [OpenTelemetry semantic conventions] registry. Only keys are
//! defined here, no value enumerations and no typing: the rest of the crate takes any
//! `impl Into<String>` key, so these constants exist to avoid typos and to make the intent of a
//! lookup greppable.
//!
//! - [`resource`]: keys found on a `Resource` (service, deployment, host, container, k8s,
//!   cloud, telemetry SDK, process, OS).
//! - [`trace`]: keys found on spans and span events (HTTP, URL, network, RPC, messaging,
//!   database, errors and exceptions, code location). Many are also used on metric data points
//!   and log records.
//! - [`legacy`]: keys that the registry has deprecated but that older SDKs still send, so that a
//!   collector can recognise and translate them.
//!
//! Stability differs by area. Stable upstream: `service.name`, `service.version`,
//! `telemetry.sdk.*`, HTTP, URL, `server.*`, `client.*`, `network.*`, `user_agent.original`,
//! `error.type`, `exception.*`, `code.*` and the database keys (`db.system.name`,
//! `db.namespace`, `db.query.text`, ...). The other keys here are still marked *development* and
//! may be renamed upstream; when that happens the old name moves to [`legacy`].
//!
//! ```
//! use otlp_model::attributes::{kv, AttributesExt};
//! use otlp_model::semconv::{resource::SERVICE_NAME, trace::HTTP_REQUEST_METHOD};
//!
//! let attrs = vec![kv(SERVICE_NAME, "checkout"), kv(HTTP_REQUEST_METHOD, "GET")];
//! assert_eq!(attrs.get_str("service.name"), Some("checkout"));
//! ```
//!
//! [OpenTelemetry semantic conventions]: https://opentelemetry.io/docs/specs/semconv/

pub mod legacy;
pub mod resource;
pub mod trace;

#[cfg(test)]
mod tests;
