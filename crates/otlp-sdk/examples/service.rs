//! A service instrumented in about twenty lines: spans, a log record in each, export over OTLP.
//!
//! ```text
//! cargo run --release -p otlp-collector &          # a collector on localhost:4317/4318
//! OTEL_SERVICE_NAME=checkout cargo run -p otlp-sdk --example service
//! OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=console cargo run -p otlp-sdk --example service
//! ```
use std::time::{Duration, Instant};

use otlp_sdk::logs::{LogRecord, SeverityNumber};
use otlp_sdk::trace::{SpanKind, Status};

fn main() -> Result<(), otlp_sdk::SdkError> {
    let otel = otlp_sdk::init()?; // OTEL_* variables; flushes and shuts down when dropped
    let (tracer, logger) = (otel.tracer("checkout"), otel.logger("checkout"));
    for order in 1..=3 {
        let mut request = tracer.span("POST /orders").kind(SpanKind::Server).start();
        request.set_attribute(("order.id", order));
        let _current = request.attach();
        let mut db = tracer.span("INSERT orders").kind(SpanKind::Client).start();
        db.set_attribute(("db.system.name", "postgresql"));
        logger.emit(
            LogRecord::new()
                .with_severity(SeverityNumber::Info, "INFO")
                .with_body("order stored"),
        );
        db.end();
        request.set_status(Status::Ok);
    }
    // Optional: dropping `otel` does the same with a 5 s deadline. Say what did not get out.
    otel.shutdown(Instant::now() + Duration::from_secs(5))
}
