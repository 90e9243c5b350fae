//! Exporters and the machinery the processors share.
//!
//! Exporters are `otlp_batch::BatchExporter`s of the signal's Export request, so the same
//! exporters serve the SDK and the collector: the OTLP exporter of `otlp-transport`
//! ([`otlp_exporter`], feature `otlp`), [`InMemoryExporter`] for tests and [`StdoutExporter`].

mod memory;
#[cfg(feature = "otlp")]
mod otlp;
pub(crate) mod settings;
mod stdout;
pub(crate) mod worker;

pub use memory::InMemoryExporter;
#[cfg(feature = "otlp")]
pub use otlp::{otlp_exporter, otlp_exporter_from_env};
pub use settings::{BatchSettings, FullQueue};
pub use stdout::StdoutExporter;
pub use worker::ProcessorStats;

/// Re-exported so an exporter can be written without naming `otlp-batch`.
pub use otlp_batch::{BatchExporter, ExportFailure, FailureKind, PartialSuccess, async_trait};
pub use otlp_transport::Signal;
