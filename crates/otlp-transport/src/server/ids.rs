//! The id rule a decoded request must keep: every trace id (and profile id) is 16 bytes and
//! every span id 8 bytes, or empty (the OTLP specification; the Go collector's pdata refuses other lengths when
//! it unmarshals). Protobuf itself accepts any length for a `bytes` field, so the check runs
//! after decoding, before the request is handed on; a violation is a permanent refusal (400 /
//! INVALID_ARGUMENT) naming the field.

use otlp_proto::metrics::v1::{Exemplar, metric::Data};

use super::decode::AnyExportRequest;
use crate::status::ServerError;

const TRACE_ID: usize = 16;
const SPAN_ID: usize = 8;
const PROFILE_ID: usize = 16;

/// Checks every id of `request` (spans, span links, log records, exemplars, profiles and
/// their links).
pub(crate) fn check_ids(request: &AnyExportRequest) -> Result<(), ServerError> {
    match request {
        AnyExportRequest::Traces(request) => {
            for (r, resource) in request.resource_spans.iter().enumerate() {
                for (s, scope) in resource.scope_spans.iter().enumerate() {
                    for (i, span) in scope.spans.iter().enumerate() {
                        let at = || format!("resource_spans[{r}].scope_spans[{s}].spans[{i}]");
                        check(&span.trace_id, TRACE_ID, || format!("{}.trace_id", at()))?;
                        check(&span.span_id, SPAN_ID, || format!("{}.span_id", at()))?;
                        check(&span.parent_span_id, SPAN_ID, || {
                            format!("{}.parent_span_id", at())
                        })?;
                        for (l, link) in span.links.iter().enumerate() {
                            check(&link.trace_id, TRACE_ID, || {
                                format!("{}.links[{l}].trace_id", at())
                            })?;
                            check(&link.span_id, SPAN_ID, || {
                                format!("{}.links[{l}].span_id", at())
                            })?;
                        }
                    }
                }
            }
        }
        AnyExportRequest::Logs(request) => {
            for (r, resource) in request.resource_logs.iter().enumerate() {
                for (s, scope) in resource.scope_logs.iter().enumerate() {
                    for (i, record) in scope.log_records.iter().enumerate() {
                        let at = || format!("resource_logs[{r}].scope_logs[{s}].log_records[{i}]");
                        check(&record.trace_id, TRACE_ID, || format!("{}.trace_id", at()))?;
                        check(&record.span_id, SPAN_ID, || format!("{}.span_id", at()))?;
                    }
                }
            }
        }
        AnyExportRequest::Metrics(request) => {
            for (r, resource) in request.resource_metrics.iter().enumerate() {
                for (s, scope) in resource.scope_metrics.iter().enumerate() {
                    for (m, metric) in scope.metrics.iter().enumerate() {
                        let at =
                            || format!("resource_metrics[{r}].scope_metrics[{s}].metrics[{m}]");
                        check_exemplars(metric.data.as_ref(), &at)?;
                    }
                }
            }
        }
        AnyExportRequest::Profiles(request) => {
            for (r, resource) in request.resource_profiles.iter().enumerate() {
                for (s, scope) in resource.scope_profiles.iter().enumerate() {
                    for (i, profile) in scope.profiles.iter().enumerate() {
                        check(&profile.profile_id, PROFILE_ID, || {
                            format!(
                                "resource_profiles[{r}].scope_profiles[{s}].profiles[{i}].profile_id"
                            )
                        })?;
                    }
                }
            }
            let links = request.dictionary.iter().flat_map(|d| d.link_table.iter());
            for (l, link) in links.enumerate() {
                check(&link.trace_id, TRACE_ID, || {
                    format!("dictionary.link_table[{l}].trace_id")
                })?;
                check(&link.span_id, SPAN_ID, || {
                    format!("dictionary.link_table[{l}].span_id")
                })?;
            }
        }
    }
    Ok(())
}

/// The exemplars of every data point of a metric.
fn check_exemplars(data: Option<&Data>, at: &dyn Fn() -> String) -> Result<(), ServerError> {
    let points: Vec<(&str, &[Exemplar])> = match data {
        Some(Data::Gauge(g)) => g
            .data_points
            .iter()
            .map(|p| ("gauge", &p.exemplars[..]))
            .collect(),
        Some(Data::Sum(s)) => s
            .data_points
            .iter()
            .map(|p| ("sum", &p.exemplars[..]))
            .collect(),
        Some(Data::Histogram(h)) => h
            .data_points
            .iter()
            .map(|p| ("histogram", &p.exemplars[..]))
            .collect(),
        Some(Data::ExponentialHistogram(h)) => h
            .data_points
            .iter()
            .map(|p| ("exponential_histogram", &p.exemplars[..]))
            .collect(),
        Some(Data::Summary(_)) | None => return Ok(()),
    };
    for (p, (kind, exemplars)) in points.into_iter().enumerate() {
        for (e, exemplar) in exemplars.iter().enumerate() {
            let field = |id: &str| format!("{}.{kind}.data_points[{p}].exemplars[{e}].{id}", at());
            check(&exemplar.trace_id, TRACE_ID, || field("trace_id"))?;
            check(&exemplar.span_id, SPAN_ID, || field("span_id"))?;
        }
    }
    Ok(())
}

fn check(id: &[u8], expected: usize, field: impl FnOnce() -> String) -> Result<(), ServerError> {
    if id.is_empty() || id.len() == expected {
        Ok(())
    } else {
        Err(ServerError::InvalidId {
            field: field(),
            length: id.len(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
    use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
    use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
    use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use otlp_proto::metrics::v1::{
        Exemplar, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
        metric::Data,
    };
    use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span, span::Link};

    use super::*;

    fn traces(span: Span) -> AnyExportRequest {
        AnyExportRequest::Traces(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span::default(), span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }

    fn span(trace: usize, id: usize, parent: usize) -> Span {
        Span {
            trace_id: vec![1; trace],
            span_id: vec![2; id],
            parent_span_id: vec![3; parent],
            ..Default::default()
        }
    }

    fn refused(request: &AnyExportRequest) -> String {
        let error = check_ids(request).unwrap_err();
        assert_eq!(
            error.mapping().http,
            http::StatusCode::BAD_REQUEST,
            "{error}"
        );
        error.to_string()
    }

    #[test]
    fn right_lengths_and_empty_ids_pass() {
        check_ids(&traces(span(16, 8, 8))).unwrap();
        check_ids(&traces(span(16, 8, 0))).unwrap();
        check_ids(&traces(span(0, 0, 0))).unwrap();
    }

    #[test]
    fn a_wrong_length_names_the_field() {
        for (trace, id, parent, field) in [
            (15, 8, 0, "spans[1].trace_id: 15 bytes"),
            (17, 8, 0, "spans[1].trace_id: 17 bytes"),
            (16, 7, 0, "spans[1].span_id: 7 bytes"),
            (16, 9, 0, "spans[1].span_id: 9 bytes"),
            (16, 8, 4, "spans[1].parent_span_id: 4 bytes"),
        ] {
            let message = refused(&traces(span(trace, id, parent)));
            assert!(message.contains(field), "{message}");
        }
        let mut linked = span(16, 8, 0);
        linked.links.push(Link {
            trace_id: vec![1; 16],
            span_id: vec![2; 3],
            ..Default::default()
        });
        let message = refused(&traces(linked));
        assert!(
            message.contains("spans[1].links[0].span_id: 3 bytes"),
            "{message}"
        );
    }

    #[test]
    fn logs_and_exemplars_are_checked() {
        let logs = AnyExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        trace_id: vec![1; 16],
                        span_id: vec![1; 16],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
        assert!(refused(&logs).contains("log_records[0].span_id: 16 bytes"));
        let exemplar = Exemplar {
            trace_id: vec![1; 8],
            ..Default::default()
        };
        let metrics = AnyExportRequest::Metrics(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint {
                                exemplars: vec![exemplar],
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
        let message = refused(&metrics);
        assert!(
            message.contains("metrics[0].histogram.data_points[0].exemplars[0].trace_id: 8 bytes"),
            "{message}"
        );
    }
}
