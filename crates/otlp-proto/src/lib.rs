//! OTLP protobuf messages, gRPC service stubs and the OTLP/JSON mapping.
//!
//! `otlp-proto` is the bottom layer of otlp-rs. It holds the OpenTelemetry Protocol types
//! generated from the schema in the repository's `proto/` directory (OTLP release named in
//! `proto/VERSION`), checked in under `src/generated/` so that a build never needs `protoc`.
//! `cargo xtask codegen` regenerates them and `cargo xtask codegen --check` (also a test) fails
//! when they are stale.
//!
//! It must not depend on any other otlp-rs crate, nor on an async runtime or an HTTP stack:
//! with default features it is prost and nothing else.
//!
//! # Modules
//!
//! The modules follow the protobuf packages with the `opentelemetry.proto` prefix dropped, like
//! the `opentelemetry-proto` crate's `tonic` module, so code moves between the two easily:
//! [`common::v1`], [`resource::v1`], [`trace::v1`], [`metrics::v1`], [`logs::v1`],
//! [`profiles::v1development`] and, for the Export requests and responses, [`collector`].
//!
//! # Features
//!
//! | feature | what it adds | extra dependencies |
//! |---|---|---|
//! | *(none)* | prost messages for every signal, request and response | `prost` |
//! | `grpc` | tonic client and server stubs for the four Export services (`*_service_client`, `*_service_server` modules; bring your own transport) | `tonic` (codegen only), `tonic-prost` |
//! | `json` | OTLP/JSON encoding and decoding as the OTLP specification defines it (`json` module) | `serde`, `serde_json`, `base64` |
//!
//! # Example
//!
//! Build a request, encode it as protobuf and decode it again:
//!
//! ```
//! use otlp_proto::Message;
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//! use otlp_proto::common::v1::{any_value, AnyValue, KeyValue};
//! use otlp_proto::resource::v1::Resource;
//! use otlp_proto::trace::v1::{span::SpanKind, ResourceSpans, ScopeSpans, Span};
//!
//! let request = ExportTraceServiceRequest {
//!     resource_spans: vec![ResourceSpans {
//!         resource: Some(Resource {
//!             attributes: vec![KeyValue {
//!                 key: "service.name".into(),
//!                 value: Some(AnyValue {
//!                     value: Some(any_value::Value::StringValue("checkout".into())),
//!                 }),
//!                 ..Default::default()
//!             }],
//!             ..Default::default()
//!         }),
//!         scope_spans: vec![ScopeSpans {
//!             spans: vec![Span {
//!                 trace_id: vec![0x5b; 16],
//!                 span_id: vec![0x1a; 8],
//!                 name: "GET /cart".into(),
//!                 kind: SpanKind::Server as i32,
//!                 start_time_unix_nano: 1_700_000_000_000_000_000,
//!                 end_time_unix_nano: 1_700_000_000_250_000_000,
//!                 ..Default::default()
//!             }],
//!             ..Default::default()
//!         }],
//!         ..Default::default()
//!     }],
//! };
//!
//! let bytes = request.encode_to_vec();
//! let decoded = ExportTraceServiceRequest::decode(bytes.as_slice())?;
//! assert_eq!(decoded, request);
//! # Ok::<(), otlp_proto::DecodeError>(())
//! ```
//!
//! With the `json` feature, the `json` module reads and writes the same request as OTLP/JSON.
//!
//! [`wire::validate`] checks a received request's bytes against the schema without building
//! the message (for receivers whose pipeline only forwards bytes).

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub use prost::{self, DecodeError, EncodeError, Message};

pub mod wire;

/// Types shared by every signal: `AnyValue`, `KeyValue`, `InstrumentationScope`, `EntityRef`.
pub mod common {
    /// Version 1 of the common types.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.common.v1.rs");
    }
}

/// The `Resource` that produced telemetry.
pub mod resource {
    /// Version 1 of the resource types.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.resource.v1.rs");
    }
}

/// Spans, span events and links.
pub mod trace {
    /// Version 1 of the trace data model.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.trace.v1.rs");
    }
}

/// Metrics: gauges, sums, histograms, exponential histograms and summaries.
pub mod metrics {
    /// Version 1 of the metrics data model.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.metrics.v1.rs");
    }
}

/// Log records.
pub mod logs {
    /// Version 1 of the logs data model.
    pub mod v1 {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.logs.v1.rs");
    }
}

/// Profiles (still in development upstream, hence the package name).
pub mod profiles {
    /// The development version of the profiles data model.
    pub mod v1development {
        #![allow(missing_docs, unreachable_pub, clippy::all)]
        include!("generated/opentelemetry.proto.profiles.v1development.rs");
    }
}

/// The Export request and response messages of each signal, and (feature `grpc`) the gRPC
/// client and server stubs of the collector services.
pub mod collector {
    /// The trace service.
    pub mod trace {
        /// Version 1 of the trace service.
        pub mod v1 {
            #![allow(missing_docs, unreachable_pub, clippy::all)]
            include!("generated/opentelemetry.proto.collector.trace.v1.rs");
        }
    }
    /// The metrics service.
    pub mod metrics {
        /// Version 1 of the metrics service.
        pub mod v1 {
            #![allow(missing_docs, unreachable_pub, clippy::all)]
            include!("generated/opentelemetry.proto.collector.metrics.v1.rs");
        }
    }
    /// The logs service.
    pub mod logs {
        /// Version 1 of the logs service.
        pub mod v1 {
            #![allow(missing_docs, unreachable_pub, clippy::all)]
            include!("generated/opentelemetry.proto.collector.logs.v1.rs");
        }
    }
    /// The profiles service.
    pub mod profiles {
        /// The development version of the profiles service.
        pub mod v1development {
            #![allow(missing_docs, unreachable_pub, clippy::all)]
            include!("generated/opentelemetry.proto.collector.profiles.v1development.rs");
        }
    }
}

#[cfg(feature = "json")]
pub mod json;
