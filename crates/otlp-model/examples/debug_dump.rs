//! Builds one request per signal and prints it the way a debug exporter would, using only the
//! views and the `Display` adapters: `cargo run -p otlp-model --example debug_dump`.

use otlp_model::attributes::DisplayValue;
use otlp_model::prelude::*;
use otlp_model::semconv::resource::{SERVICE_NAME, SERVICE_VERSION};
use otlp_model::semconv::trace::{HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE};
use otlp_model::views::DataPoint;

fn main() {
    let now = std::time::SystemTime::now();
    let trace_id = TraceId::random();
    let server = SpanId::random();

    let traces = TracesBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout", SERVICE_VERSION => "1.4.2"])
        .scope("checkout.http", "1.0")
        .span(
            SpanBuilder::new("GET /cart")
                .kind(SpanKind::Server)
                .trace_id(trace_id)
                .span_id(server)
                .start(now)
                .end(now + std::time::Duration::from_millis(12))
                .attr(HTTP_REQUEST_METHOD, "GET")
                .attr(HTTP_RESPONSE_STATUS_CODE, 200)
                .status_ok(),
        )
        .build();

    let metrics = MetricsBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout"])
        .scope("checkout.metrics", "1.0")
        .metric(
            HistogramBuilder::new("http.server.request.duration")
                .unit("s")
                .time(now)
                .point(HistogramPointBuilder::new([0.005, 0.01, 0.025], [3, 9, 1, 0]).sum(0.11)),
        )
        .metric(
            SumBuilder::new("http.server.active_requests")
                .time(now)
                .point(NumberPointBuilder::int(4)),
        )
        .build();

    let logs = LogsBuilder::new()
        .resource(resource![SERVICE_NAME => "checkout"])
        .scope("checkout.log", "")
        .log_record(
            LogRecordBuilder::new()
                .time(now)
                .severity(SeverityNumber::Warn)
                .severity_text("WARN")
                .body("inventory lookup slow")
                .attr("latency_ms", 830)
                .trace_id(trace_id)
                .span_id(server),
        )
        .build();

    println!("Traces: {} span(s)", traces.span_count());
    for span in traces.spans() {
        println!(
            "  [{}] {} {:?} trace={} span={} dur={}ns {}",
            span.service_name().unwrap_or("-"),
            span.name(),
            span.kind(),
            span.trace_id().map(|id| id.to_string()).unwrap_or_default(),
            span.span_id().map(|id| id.to_string()).unwrap_or_default(),
            span.duration_nanos().unwrap_or(0),
            span.attributes().display(),
        );
    }

    println!("Metrics: {} data point(s)", metrics.data_point_count());
    for point in metrics.data_points() {
        let value = match point.point {
            DataPoint::Histogram(h) => format!("count={} sum={:?}", h.count, h.sum),
            DataPoint::Sum(n) | DataPoint::Gauge(n) => format!("{:?}", n.value),
            other => format!("{other:?}"),
        };
        println!(
            "  [{}] {} {value}",
            point.service_name().unwrap_or("-"),
            point.metric_name()
        );
    }

    println!("Logs: {} record(s)", logs.log_record_count());
    for record in logs.log_records() {
        println!(
            "  [{}] {:<5} {} {}",
            record.service_name().unwrap_or("-"),
            record.log_record.severity_text,
            DisplayValue::new(record.body()),
            record.attributes().display(),
        );
    }
}
