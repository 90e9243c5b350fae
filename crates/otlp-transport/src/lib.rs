//! OTLP exporters and receivers over gRPC, HTTP/protobuf and HTTP/JSON.
//!
//! `otlp-transport` puts OTLP on the wire and takes it off again, strict about the
//! specification and lenient only where it says so:
//!
//! - [`client`]: [`OtlpExporter`] for all four signals over gRPC, HTTP/protobuf and HTTP/JSON,
//!   with the exporter spec's endpoint rules and `OTEL_EXPORTER_OTLP_*` variables, custom
//!   headers, gzip/deflate/zstd/brotli, TLS and mTLS (rustls), and retry with exponential
//!   backoff and jitter that honours `RetryInfo` and `Retry-After`. Partial success is returned
//!   to the caller and never retried.
//! - [`server`]: [`Receiver`] serving the gRPC services and one HTTP endpoint (protobuf and
//!   JSON, answered in the request's content type) to a user [`ExportHandler`]; the OTLP status
//!   codes (one table, [`status`]); limits measured after decompression, checked before any
//!   body is read, so a compression bomb never inflates; bounded concurrency; an admission hook
//!   before decoding; TLS/mTLS; bearer tokens; graceful shutdown.
//! - [`compression`] and [`grpc_wire`]: the codecs and gRPC framing both halves share;
//!   [`signal`]: the four signals and their request types.
//!
//! gRPC is spoken directly over hyper's HTTP/2 (no tonic transport): that is what lets the
//! receiver answer INVALID_ARGUMENT / RESOURCE_EXHAUSTED where tonic would say INTERNAL /
//! OUT_OF_RANGE, refuse on the 5-byte frame header, and forward already-encoded bytes.
//!
//! It depends only on `otlp-proto` and `otlp-model` among our crates, and never on
//! `otlp-batch`, `otlp-pipeline` or `otlp-collector`.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `client` | the exporter (needs `grpc` and/or `http`) |
//! | `server` | the receiver |
//! | `grpc` | OTLP/gRPC |
//! | `http` | OTLP/HTTP with protobuf bodies |
//! | `json` | OTLP/HTTP with JSON bodies (implies `http`) |
//! | `tls` | TLS and mTLS through rustls (ring) |
//! | `gzip`, `zstd`, `brotli` | content encodings (`gzip` also brings deflate) |
//! | `kafka` | [`kafka`]: Kafka client settings and OTLP message encodings on librdkafka (not default) |
//! | `go-duration` | [`go_duration`]: Go durations as otelcol configurations write them, with serde helpers (not default; `kafka` and `otlp-pipeline` turn it on) |
//!
//! All but `kafka` and `go-duration` are on by default; take `default-features = false` and pick, e.g.
//! `features = ["client", "grpc", "gzip"]` for an exporter-only service.
//!
//! # Example
//!
//! A receiver on a free port, and an exporter sending it two spans over HTTP/protobuf:
//!
//! ```
//! # #[cfg(all(feature = "client", feature = "server", feature = "http"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//! use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
//! use otlp_transport::client::{ExporterConfig, Protocol};
//! use otlp_transport::server::{ExportHandler, Receiver, RequestContext};
//! use otlp_transport::{ExportRequest, PartialSuccess, Refusal};
//!
//! struct CountSpans(Arc<AtomicUsize>);
//!
//! #[async_trait::async_trait]
//! impl ExportHandler for CountSpans {
//!     async fn export_traces(
//!         &self,
//!         request: ExportTraceServiceRequest,
//!         _context: RequestContext,
//!     ) -> Result<Option<PartialSuccess>, Refusal> {
//!         self.0.fetch_add(request.item_count(), Ordering::SeqCst);
//!         Ok(None)
//!     }
//! }
//!
//! let received = Arc::new(AtomicUsize::new(0));
//! let receiver = Receiver::new(CountSpans(received.clone()))
//!     .http("127.0.0.1:0".parse()?)
//!     .start()
//!     .await?;
//! let address = receiver.http_local_addr().ok_or("no HTTP address")?;
//!
//! let exporter = ExporterConfig::builder()
//!     .protocol(Protocol::HttpProtobuf)
//!     .endpoint(format!("http://{address}"))
//!     .build()?;
//! let span = |id: u8| Span { trace_id: vec![id; 16], span_id: vec![id; 8], ..Default::default() };
//! let request = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         scope_spans: vec![ScopeSpans { spans: vec![span(1), span(2)], ..Default::default() }],
//!         ..Default::default()
//!     }],
//! };
//! let outcome = exporter.export(&request).await?;
//! assert!(outcome.partial_success.is_none());
//! assert_eq!(received.load(Ordering::SeqCst), 2);
//! receiver.shutdown(Duration::from_secs(5)).await;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "client", feature = "server", feature = "http")))]
//! # fn main() {}
//! ```

#[cfg(all(feature = "client", any(feature = "grpc", feature = "http")))]
pub mod client;
pub mod compression;
#[cfg(feature = "go-duration")]
pub mod go_duration;
pub mod grpc_wire;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "server")]
pub mod server;
pub mod signal;
#[cfg(feature = "server")]
pub mod status;

#[cfg(all(feature = "client", any(feature = "grpc", feature = "http")))]
pub use client::{ExportError, ExportOutcome, ExporterConfig, OtlpExporter};
pub use compression::{Compression, CompressionError, CompressionLevel};
#[cfg(feature = "server")]
pub use server::{ExportHandler, Receiver, RequestContext, RunningReceiver};
pub use signal::{ExportRequest, PartialSuccess, Signal};
#[cfg(feature = "server")]
pub use status::{Refusal, ServerError};
