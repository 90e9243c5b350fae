//! The four OTLP signals and what the transport needs to know of each request type.

use otlp_proto::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use otlp_proto::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use otlp_proto::collector::profiles::v1development::{
    ExportProfilesPartialSuccess, ExportProfilesServiceRequest, ExportProfilesServiceResponse,
};
use otlp_proto::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

/// One of the OTLP signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans (`/v1/traces`).
    Traces,
    /// Metric data points (`/v1/metrics`).
    Metrics,
    /// Log records (`/v1/logs`).
    Logs,
    /// Profiles (`/v1development/profiles`; still in development upstream).
    Profiles,
}

impl Signal {
    /// The Export request of this signal, as [`otlp_proto::wire::validate`] names it.
    pub fn wire_request(self) -> otlp_proto::wire::Request {
        match self {
            Signal::Traces => otlp_proto::wire::Request::Traces,
            Signal::Metrics => otlp_proto::wire::Request::Metrics,
            Signal::Logs => otlp_proto::wire::Request::Logs,
            Signal::Profiles => otlp_proto::wire::Request::Profiles,
        }
    }

    /// Every signal, in a fixed order.
    pub const ALL: [Signal; 4] = [
        Signal::Traces,
        Signal::Metrics,
        Signal::Logs,
        Signal::Profiles,
    ];

    /// The signal's position in [`Signal::ALL`], for per-signal arrays (`[T; 4]`).
    pub const fn index(self) -> usize {
        match self {
            Signal::Traces => 0,
            Signal::Metrics => 1,
            Signal::Logs => 2,
            Signal::Profiles => 3,
        }
    }

    /// The lower-case name used in configuration and metrics: `traces`, `metrics`, `logs`,
    /// `profiles`.
    pub const fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
            Signal::Profiles => "profiles",
        }
    }

    /// The OTLP/HTTP path, appended to a base endpoint by exporters and served by receivers.
    pub const fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
            Signal::Profiles => "/v1development/profiles",
        }
    }

    /// The gRPC method path of the signal's Export RPC.
    pub const fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            Signal::Profiles => {
                "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
            }
        }
    }

    /// The upper-case suffix of the per-signal environment variables
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, ...).
    pub const fn env_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
            Signal::Profiles => "PROFILES",
        }
    }

    /// The signal served at an OTLP/HTTP path, if any.
    pub fn from_http_path(path: &str) -> Option<Signal> {
        Signal::ALL
            .into_iter()
            .find(|signal| signal.http_path() == path)
    }

    /// The signal of a gRPC method path, if any.
    pub fn from_grpc_path(path: &str) -> Option<Signal> {
        Signal::ALL
            .into_iter()
            .find(|signal| signal.grpc_path() == path)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the sender is told about items the receiver did not accept (OTLP partial success).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartialSuccess {
    /// How many items (spans, data points, log records, profiles) were rejected.
    pub rejected_items: i64,
    /// A human-readable explanation; may be empty, and may be set with zero rejected items as
    /// a warning.
    pub error_message: String,
}

impl PartialSuccess {
    /// `true` when the response carries neither a rejected count nor a message, which the spec
    /// treats as full success.
    pub fn is_empty(&self) -> bool {
        self.rejected_items == 0 && self.error_message.is_empty()
    }
}

/// An Export request of one signal: ties the request to its response type, its signal, and
/// the item count the transport reports.
pub trait ExportRequest: prost::Message + Default + Clone + Send + Sync + 'static {
    /// The Export response of the same signal.
    type Response: prost::Message + Default + Clone + Send + Sync + 'static;

    /// The signal of this request.
    const SIGNAL: Signal;

    /// Spans, metric data points, log records or profiles in the request: the unit of the
    /// signal's partial-success `rejected_*` field.
    fn item_count(&self) -> usize;

    /// The partial success a response carries, if it carries any.
    fn partial_success(response: &Self::Response) -> Option<PartialSuccess>;

    /// A response carrying `partial` (or full success when `partial` is `None`).
    fn response(partial: Option<PartialSuccess>) -> Self::Response;

    /// The protobuf encoding, when the request is held encoded (shared, not copied): the
    /// exporter compresses and sends it as it is instead of encoding it into a new buffer.
    /// `None` (the default) for a decoded request.
    fn held_protobuf(&self) -> Option<bytes::Bytes> {
        None
    }
}

macro_rules! export_request {
    ($request:ty, $response:ident, $partial:ident, $signal:expr, $count:expr, $rejected:ident) => {
        impl ExportRequest for $request {
            type Response = $response;
            const SIGNAL: Signal = $signal;

            fn item_count(&self) -> usize {
                $count(self)
            }

            fn partial_success(response: &Self::Response) -> Option<PartialSuccess> {
                response
                    .partial_success
                    .as_ref()
                    .map(|partial| PartialSuccess {
                        rejected_items: partial.$rejected,
                        error_message: partial.error_message.clone(),
                    })
                    .filter(|partial| !partial.is_empty())
            }

            fn response(partial: Option<PartialSuccess>) -> Self::Response {
                $response {
                    partial_success: partial.map(|partial| $partial {
                        $rejected: partial.rejected_items,
                        error_message: partial.error_message,
                    }),
                }
            }
        }
    };
}

export_request!(
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    ExportTracePartialSuccess,
    Signal::Traces,
    <ExportTraceServiceRequest as otlp_model::views::TracesView>::span_count,
    rejected_spans
);
export_request!(
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    ExportMetricsPartialSuccess,
    Signal::Metrics,
    <ExportMetricsServiceRequest as otlp_model::views::MetricsView>::data_point_count,
    rejected_data_points
);
export_request!(
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    ExportLogsPartialSuccess,
    Signal::Logs,
    <ExportLogsServiceRequest as otlp_model::views::LogsView>::log_record_count,
    rejected_log_records
);
export_request!(
    ExportProfilesServiceRequest,
    ExportProfilesServiceResponse,
    ExportProfilesPartialSuccess,
    Signal::Profiles,
    <ExportProfilesServiceRequest as otlp_model::views::ProfilesView>::profile_count,
    rejected_profiles
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for signal in Signal::ALL {
            assert_eq!(Signal::from_http_path(signal.http_path()), Some(signal));
            assert_eq!(Signal::from_grpc_path(signal.grpc_path()), Some(signal));
        }
        assert_eq!(Signal::from_http_path("/v1/trace"), None);
    }

    #[test]
    fn empty_partial_success_is_full_success() {
        let response = ExportTraceServiceRequest::response(Some(PartialSuccess::default()));
        assert_eq!(ExportTraceServiceRequest::partial_success(&response), None);
        let response = ExportLogsServiceRequest::response(Some(PartialSuccess {
            rejected_items: 3,
            error_message: "bad severity".into(),
        }));
        assert_eq!(
            ExportLogsServiceRequest::partial_success(&response),
            Some(PartialSuccess {
                rejected_items: 3,
                error_message: "bad severity".into()
            })
        );
    }
}
