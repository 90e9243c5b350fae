//! OTLP protobuf messages, gRPC stubs and the OTLP/JSON mapping.
//!
//! CRATE-DOC-PLACEHOLDER

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

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
