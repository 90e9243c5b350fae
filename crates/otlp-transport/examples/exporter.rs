//! Exports one span to an OTLP receiver configured by the `OTEL_EXPORTER_OTLP_*` variables
//! (default: http/protobuf to http://localhost:4318), giving up after 30 s of retries.
//!
//! `OTEL_EXPORTER_OTLP_PROTOCOL=grpc cargo run -p otlp-transport --example exporter`

use std::time::Duration;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::Signal;
use otlp_transport::client::{ExporterConfig, RetryConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exporter = ExporterConfig::from_env(Signal::Traces)?
        .into_builder()
        .retry(RetryConfig::default().with_max_elapsed_time(Duration::from_secs(30)))
        .build()?;
    let span = Span {
        trace_id: vec![0x5b; 16],
        span_id: vec![0x1a; 8],
        name: "hello from otlp-rs".into(),
        ..Default::default()
    };
    let scope_spans = vec![ScopeSpans {
        spans: vec![span],
        ..Default::default()
    }];
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans,
            ..Default::default()
        }],
    };
    let outcome = exporter.export(&request).await?;
    println!(
        "sent to {} in {} attempt(s)",
        exporter.endpoint(Signal::Traces),
        outcome.attempts
    );
    if let Some(partial) = outcome.partial_success {
        println!(
            "{} span(s) rejected: {}",
            partial.rejected_items, partial.error_message
        );
    }
    Ok(())
}
