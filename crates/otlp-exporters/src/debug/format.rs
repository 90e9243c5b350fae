//! The text the `debug` exporter prints, at each verbosity (otelcol's layout).

use std::fmt::Write as _;

use otlp_model::attributes::DisplayValue;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{Metric, NumberDataPoint, metric, number_data_point};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;

use super::Verbosity;
use otlp_model::time::go_time;
use otlp_pipeline::data::{Payload, Telemetry};

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `Str(text)`, `Int(1)`, ... as otelcol's `pcommon.Value` debug form.
fn typed(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => "Empty()".into(),
        Some(any_value::Value::StringValue(s)) => format!("Str({s})"),
        Some(any_value::Value::BoolValue(b)) => format!("Bool({b})"),
        Some(any_value::Value::IntValue(i)) => format!("Int({i})"),
        Some(any_value::Value::DoubleValue(d)) => format!("Double({d})"),
        Some(any_value::Value::BytesValue(b)) => format!("Bytes({})", hex(b)),
        Some(any_value::Value::ArrayValue(_)) => format!("Slice({})", DisplayValue::new(value)),
        Some(any_value::Value::KvlistValue(_)) => format!("Map({})", DisplayValue::new(value)),
        Some(any_value::Value::StringValueStrindex(i)) => format!("StrIndex({i})"),
    }
}

fn attribute_block(out: &mut String, title: &str, attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for kv in attributes {
        let _ = writeln!(out, "     -> {}: {}", kv.key, typed(kv.value.as_ref()));
    }
}

/// `k=v k2=v2` for normal verbosity.
fn flat(attributes: &[KeyValue]) -> String {
    attributes
        .iter()
        .map(|kv| format!("{}={}", kv.key, DisplayValue::new(kv.value.as_ref())))
        .collect::<Vec<_>>()
        .join(" ")
}

fn resource_header(
    out: &mut String,
    kind: &str,
    i: usize,
    resource: Option<&Resource>,
    schema_url: &str,
    detailed: bool,
) {
    let attributes = resource.map_or(&[][..], |r| &r.attributes[..]);
    if detailed {
        let _ = writeln!(out, "{kind} #{i}");
        let _ = writeln!(out, "Resource SchemaURL: {schema_url}");
        attribute_block(out, "Resource attributes", attributes);
    } else {
        let _ = writeln!(out, "{kind} #{i} {}", flat(attributes)).map(|_| ());
    }
}

fn scope_header(
    out: &mut String,
    kind: &str,
    i: usize,
    scope: Option<&InstrumentationScope>,
    schema_url: &str,
    detailed: bool,
) {
    let (name, version) = scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
    if detailed {
        let _ = writeln!(out, "{kind} #{i}");
        let _ = writeln!(out, "{kind} SchemaURL: {schema_url}");
        let _ = writeln!(out, "InstrumentationScope {name} {version}");
        attribute_block(
            out,
            "InstrumentationScope attributes",
            scope.map_or(&[][..], |s| &s.attributes[..]),
        );
    } else if version.is_empty() {
        let _ = writeln!(out, "{kind} #{i} {name}");
    } else {
        let _ = writeln!(out, "{kind} #{i} {name}@{version}");
    }
}

fn span_kind(kind: i32) -> &'static str {
    match SpanKind::try_from(kind) {
        Ok(SpanKind::Internal) => "Internal",
        Ok(SpanKind::Server) => "Server",
        Ok(SpanKind::Client) => "Client",
        Ok(SpanKind::Producer) => "Producer",
        Ok(SpanKind::Consumer) => "Consumer",
        _ => "Unspecified",
    }
}

fn status_code(code: i32) -> &'static str {
    match StatusCode::try_from(code) {
        Ok(StatusCode::Ok) => "Ok",
        Ok(StatusCode::Error) => "Error",
        _ => "Unset",
    }
}

fn traces(out: &mut String, request: &ExportTraceServiceRequest, verbosity: Verbosity) {
    let detailed = verbosity == Verbosity::Detailed;
    for (r, rs) in request.resource_spans.iter().enumerate() {
        resource_header(
            out,
            "ResourceSpans",
            r,
            rs.resource.as_ref(),
            &rs.schema_url,
            detailed,
        );
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            scope_header(
                out,
                "ScopeSpans",
                s,
                ss.scope.as_ref(),
                &ss.schema_url,
                detailed,
            );
            for (i, span) in ss.spans.iter().enumerate() {
                if !detailed {
                    let _ = writeln!(
                        out,
                        "{} {} {} {}",
                        span.name,
                        hex(&span.trace_id),
                        hex(&span.span_id),
                        flat(&span.attributes)
                    );
                    continue;
                }
                let status = span.status.clone().unwrap_or_default();
                let _ = writeln!(out, "Span #{i}");
                let _ = writeln!(out, "    Trace ID       : {}", hex(&span.trace_id));
                let _ = writeln!(out, "    Parent ID      : {}", hex(&span.parent_span_id));
                let _ = writeln!(out, "    ID             : {}", hex(&span.span_id));
                let _ = writeln!(out, "    Name           : {}", span.name);
                let _ = writeln!(out, "    Kind           : {}", span_kind(span.kind));
                let _ = writeln!(
                    out,
                    "    Start time     : {}",
                    go_time(span.start_time_unix_nano)
                );
                let _ = writeln!(
                    out,
                    "    End time       : {}",
                    go_time(span.end_time_unix_nano)
                );
                let _ = writeln!(out, "    Status code    : {}", status_code(status.code));
                let _ = writeln!(out, "    Status message : {}", status.message);
                attribute_block(out, "Attributes", &span.attributes);
                if !span.events.is_empty() {
                    let _ = writeln!(out, "Events:");
                    for (e, event) in span.events.iter().enumerate() {
                        let _ = writeln!(out, "SpanEvent #{e}");
                        let _ = writeln!(out, "     -> Name: {}", event.name);
                        let _ =
                            writeln!(out, "     -> Timestamp: {}", go_time(event.time_unix_nano));
                        let _ = writeln!(
                            out,
                            "     -> DroppedAttributesCount: {}",
                            event.dropped_attributes_count
                        );
                        attribute_block(out, "     -> Attributes", &event.attributes);
                    }
                }
                if !span.links.is_empty() {
                    let _ = writeln!(out, "Links:");
                    for (l, link) in span.links.iter().enumerate() {
                        let _ = writeln!(out, "SpanLink #{l}");
                        let _ = writeln!(out, "     -> Trace ID: {}", hex(&link.trace_id));
                        let _ = writeln!(out, "     -> ID: {}", hex(&link.span_id));
                        let _ = writeln!(out, "     -> TraceState: {}", link.trace_state);
                        attribute_block(out, "     -> Attributes", &link.attributes);
                    }
                }
            }
        }
    }
}

fn number(point: &NumberDataPoint) -> String {
    match point.value {
        Some(number_data_point::Value::AsInt(i)) => i.to_string(),
        Some(number_data_point::Value::AsDouble(d)) => d.to_string(),
        None => String::new(),
    }
}

fn metric_type(metric: &Metric) -> &'static str {
    match &metric.data {
        Some(metric::Data::Gauge(_)) => "Gauge",
        Some(metric::Data::Sum(_)) => "Sum",
        Some(metric::Data::Histogram(_)) => "Histogram",
        Some(metric::Data::ExponentialHistogram(_)) => "ExponentialHistogram",
        Some(metric::Data::Summary(_)) => "Summary",
        None => "Empty",
    }
}

/// One line per data point: attributes and value(s).
fn point_lines(metric: &Metric) -> Vec<(Vec<KeyValue>, u64, u64, String)> {
    match &metric.data {
        Some(metric::Data::Gauge(g)) => g
            .data_points
            .iter()
            .map(|p| {
                (
                    p.attributes.clone(),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    number(p),
                )
            })
            .collect(),
        Some(metric::Data::Sum(s)) => s
            .data_points
            .iter()
            .map(|p| {
                (
                    p.attributes.clone(),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    number(p),
                )
            })
            .collect(),
        Some(metric::Data::Histogram(h)) => h
            .data_points
            .iter()
            .map(|p| {
                let value = format!(
                    "count={} sum={} bounds={:?} counts={:?}",
                    p.count,
                    p.sum.unwrap_or(0.0),
                    p.explicit_bounds,
                    p.bucket_counts
                );
                (
                    p.attributes.clone(),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    value,
                )
            })
            .collect(),
        Some(metric::Data::ExponentialHistogram(h)) => h
            .data_points
            .iter()
            .map(|p| {
                let value = format!(
                    "count={} sum={} scale={} zero_count={}",
                    p.count,
                    p.sum.unwrap_or(0.0),
                    p.scale,
                    p.zero_count
                );
                (
                    p.attributes.clone(),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    value,
                )
            })
            .collect(),
        Some(metric::Data::Summary(s)) => s
            .data_points
            .iter()
            .map(|p| {
                let quantiles: Vec<String> = p
                    .quantile_values
                    .iter()
                    .map(|q| format!("{}={}", q.quantile, q.value))
                    .collect();
                let value = format!(
                    "count={} sum={} quantiles=[{}]",
                    p.count,
                    p.sum,
                    quantiles.join(" ")
                );
                (
                    p.attributes.clone(),
                    p.start_time_unix_nano,
                    p.time_unix_nano,
                    value,
                )
            })
            .collect(),
        None => Vec::new(),
    }
}

fn metrics(out: &mut String, request: &ExportMetricsServiceRequest, verbosity: Verbosity) {
    let detailed = verbosity == Verbosity::Detailed;
    for (r, rm) in request.resource_metrics.iter().enumerate() {
        resource_header(
            out,
            "ResourceMetrics",
            r,
            rm.resource.as_ref(),
            &rm.schema_url,
            detailed,
        );
        for (s, sm) in rm.scope_metrics.iter().enumerate() {
            scope_header(
                out,
                "ScopeMetrics",
                s,
                sm.scope.as_ref(),
                &sm.schema_url,
                detailed,
            );
            for (i, metric) in sm.metrics.iter().enumerate() {
                let points = point_lines(metric);
                if !detailed {
                    for (attributes, _, _, value) in &points {
                        let _ = writeln!(out, "{} {} {value}", metric.name, flat(attributes));
                    }
                    continue;
                }
                let _ = writeln!(out, "Metric #{i}");
                let _ = writeln!(out, "Descriptor:");
                let _ = writeln!(out, "     -> Name: {}", metric.name);
                let _ = writeln!(out, "     -> Description: {}", metric.description);
                let _ = writeln!(out, "     -> Unit: {}", metric.unit);
                let _ = writeln!(out, "     -> DataType: {}", metric_type(metric));
                for (p, (attributes, start, time, value)) in points.iter().enumerate() {
                    let _ = writeln!(out, "DataPoint #{p}");
                    attribute_block(out, "Data point attributes", attributes);
                    let _ = writeln!(out, "StartTimestamp: {}", go_time(*start));
                    let _ = writeln!(out, "Timestamp: {}", go_time(*time));
                    let _ = writeln!(out, "Value: {value}");
                }
            }
        }
    }
}

fn logs(out: &mut String, request: &ExportLogsServiceRequest, verbosity: Verbosity) {
    let detailed = verbosity == Verbosity::Detailed;
    for (r, rl) in request.resource_logs.iter().enumerate() {
        resource_header(
            out,
            "ResourceLog",
            r,
            rl.resource.as_ref(),
            &rl.schema_url,
            detailed,
        );
        for (s, sl) in rl.scope_logs.iter().enumerate() {
            scope_header(
                out,
                "ScopeLogs",
                s,
                sl.scope.as_ref(),
                &sl.schema_url,
                detailed,
            );
            for (i, record) in sl.log_records.iter().enumerate() {
                if !detailed {
                    let _ = writeln!(
                        out,
                        "{} {}",
                        DisplayValue::new(record.body.as_ref()),
                        flat(&record.attributes)
                    );
                    continue;
                }
                let severity =
                    otlp_proto::logs::v1::SeverityNumber::try_from(record.severity_number)
                        .map(|s| {
                            s.as_str_name()
                                .trim_start_matches("SEVERITY_NUMBER_")
                                .to_owned()
                        })
                        .unwrap_or_else(|_| record.severity_number.to_string());
                let _ = writeln!(out, "LogRecord #{i}");
                let _ = writeln!(
                    out,
                    "ObservedTimestamp: {}",
                    go_time(record.observed_time_unix_nano)
                );
                let _ = writeln!(out, "Timestamp: {}", go_time(record.time_unix_nano));
                let _ = writeln!(out, "SeverityText: {}", record.severity_text);
                let _ = writeln!(
                    out,
                    "SeverityNumber: {severity}({})",
                    record.severity_number
                );
                if !record.event_name.is_empty() {
                    let _ = writeln!(out, "EventName: {}", record.event_name);
                }
                let _ = writeln!(out, "Body: {}", typed(record.body.as_ref()));
                attribute_block(out, "Attributes", &record.attributes);
                let _ = writeln!(out, "Trace ID: {}", hex(&record.trace_id));
                let _ = writeln!(out, "Span ID: {}", hex(&record.span_id));
                let _ = writeln!(out, "Flags: {}", record.flags);
            }
        }
    }
}

/// The basic line: counts only (`Traces {"resource spans": 1, "spans": 2}`).
pub(crate) fn summary(data: &Telemetry) -> String {
    match data.payload() {
        Payload::Traces(r) => {
            format!(
                "Traces {{\"resource spans\": {}, \"spans\": {}}}",
                r.resource_spans.len(),
                data.item_count()
            )
        }
        Payload::Metrics(r) => {
            let metrics: usize = r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .map(|sm| sm.metrics.len())
                .sum();
            format!(
                "Metrics {{\"resource metrics\": {}, \"metrics\": {metrics}, \"data points\": {}}}",
                r.resource_metrics.len(),
                data.item_count()
            )
        }
        Payload::Logs(r) => {
            format!(
                "Logs {{\"resource logs\": {}, \"log records\": {}}}",
                r.resource_logs.len(),
                data.item_count()
            )
        }
        Payload::Profiles(r) => {
            format!(
                "Profiles {{\"resource profiles\": {}, \"sample records\": {}}}",
                r.resource_profiles.len(),
                data.item_count()
            )
        }
    }
}

/// Everything printed for one request at `verbosity`: the summary line, then (normal) one line
/// per item or (detailed) the full dump.
pub fn render(data: &Telemetry, verbosity: Verbosity) -> String {
    let mut out = summary(data);
    out.push('\n');
    if verbosity == Verbosity::Basic {
        return out;
    }
    match data.payload() {
        Payload::Traces(r) => traces(&mut out, r, verbosity),
        Payload::Metrics(r) => metrics(&mut out, r, verbosity),
        Payload::Logs(r) => logs(&mut out, r, verbosity),
        Payload::Profiles(_) => {}
    }
    out
}
