//! The OpenTelemetry SDK for applications: create spans and log records inside a service,
//! correlate them through the current context, batch them and export them over OTLP.
//!
//! (Crate documentation in progress.)

#![forbid(unsafe_code)]

mod attribute_limits;
#[cfg(feature = "tracing")]
pub mod bridge;
pub mod context;
pub mod env;
pub mod error;
pub mod export;
pub mod global;
mod init;
#[cfg(feature = "logs")]
pub mod logs;
pub mod resource;
mod scope;
#[cfg(feature = "trace")]
pub mod trace;
pub mod value;

pub use context::{Context, ContextGuard, FutureExt, attach, current};
pub use error::SdkError;
pub use init::{Guard, init, init_with};
pub use resource::Resource;
pub use scope::{InstrumentationScope, ScopeBuilder};
pub use value::{Key, KeyValue, Value};
