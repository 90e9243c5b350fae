//! Log records through a real provider into the in-memory exporter, correlated with spans.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use otlp_proto::common::v1::any_value::Value as ProtoValue;
use otlp_sdk::export::InMemoryExporter;
use otlp_sdk::logs::{LogRecord, LogRecordLimits, LoggerProvider, SeverityNumber};
use otlp_sdk::trace::TracerProvider;
use otlp_sdk::{KeyValue, Resource};

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn records_carry_the_current_span_and_their_fields() {
    let spans = InMemoryExporter::new();
    let logs = InMemoryExporter::new();
    let resource = Resource::new([KeyValue::new("service.name", "cart")]);
    let tracer_provider = TracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(spans.clone())
        .build();
    let logger_provider = LoggerProvider::builder()
        .with_resource(resource)
        .with_limits(LogRecordLimits {
            max_attributes: 2,
            max_attribute_value_length: None,
        })
        .with_batch_exporter(logs.clone())
        .build();
    let logger = logger_provider.logger("cart.http");
    let tracer = tracer_provider.tracer("cart.http");

    logger.emit(LogRecord::new().with_body("before any span"));
    let span = tracer.start("GET /cart");
    let (trace_id, span_id) = (
        span.span_context().trace_id(),
        span.span_context().span_id(),
    );
    {
        let _guard = span.attach();
        logger.emit(
            LogRecord::new()
                .with_severity(SeverityNumber::Warn, "WARN")
                .with_body("cart loaded slowly")
                .with_event_name("cart.slow")
                .with_attributes([("cart.items", 3), ("a", 1), ("b", 2)]),
        );
    }
    drop(span);
    logger_provider.force_flush(deadline()).expect("flush logs");
    tracer_provider
        .force_flush(deadline())
        .expect("flush spans");

    let records = logs.log_records();
    assert_eq!(records.len(), 2);
    assert!(records[0].trace_id.is_empty() && records[0].span_id.is_empty());
    let r = &records[1];
    assert_eq!(r.trace_id, trace_id.to_bytes());
    assert_eq!(r.span_id, span_id.to_bytes());
    assert_eq!(r.flags & 0xff, 0x03, "sampled and random");
    assert_eq!(r.severity_number, SeverityNumber::Warn as i32);
    assert_eq!(r.severity_text, "WARN");
    assert_eq!(r.event_name, "cart.slow");
    assert!(matches!(r.body.as_ref().and_then(|b| b.value.as_ref()),
        Some(ProtoValue::StringValue(s)) if s == "cart loaded slowly"));
    assert_eq!((r.attributes.len(), r.dropped_attributes_count), (2, 1));
    assert!(r.observed_time_unix_nano > 0);
    let request = &logs.requests()[0];
    let scope = request.resource_logs[0].scope_logs[0]
        .scope
        .as_ref()
        .expect("scope");
    assert_eq!(scope.name, "cart.http");
    assert_eq!(spans.spans()[0].span_id, span_id.to_bytes());
}

#[test]
fn after_shutdown_nothing_is_emitted_and_a_second_shutdown_says_so() {
    let logs = InMemoryExporter::new();
    let provider = LoggerProvider::builder()
        .with_simple_exporter(logs.clone())
        .build();
    let logger = provider.logger("x");
    logger.emit(LogRecord::new().with_body("one"));
    provider.shutdown(deadline()).expect("shutdown");
    assert_eq!(
        logs.log_records().len(),
        1,
        "shutdown exported what was emitted"
    );
    assert!(!logger.enabled());
    logger.emit(LogRecord::new().with_body("ignored"));
    assert_eq!(logs.log_records().len(), 1);
    assert!(matches!(
        provider.shutdown(deadline()),
        Err(otlp_sdk::SdkError::AlreadyShutdown)
    ));
}
