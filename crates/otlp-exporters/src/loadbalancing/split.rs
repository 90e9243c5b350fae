//! Taking a request apart by [`Assignment`]: every item moves (not copied) into the request
//! of its member, under a copy of its resource and scope; items of one source resource and
//! scope that go to the same member stay together under one copy. The order of items within
//! a member's request is the order of the original.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::logs::v1::{ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::metric::Data;
use otlp_proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans};

use super::keys::Assignment;

/// The parts of a split request: `(member, request)` in member order, and the items that had
/// no member.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<R> {
    /// One request per member that got items.
    pub parts: Vec<(usize, R)>,
    /// The items without a member, if any.
    pub unroutable: Option<R>,
}

/// Per destination: its request, and which source resource/scope its last resource/scope
/// came from.
struct Destination<R> {
    request: R,
    source: Option<(usize, usize)>,
    metric: Option<usize>,
}

fn slot(target: Option<u32>, members: usize) -> usize {
    target.map_or(members, |t| (t as usize).min(members))
}

fn finish<R>(destinations: Vec<Option<Destination<R>>>, members: usize) -> Split<R> {
    let mut parts = Vec::new();
    let mut unroutable = None;
    for (index, destination) in destinations.into_iter().enumerate() {
        if let Some(destination) = destination {
            if index == members {
                unroutable = Some(destination.request);
            } else {
                parts.push((index, destination.request));
            }
        }
    }
    Split { parts, unroutable }
}

/// Splits `request` among `members` by `assignment` (one target per span).
pub fn split_traces(
    request: ExportTraceServiceRequest,
    assignment: &Assignment,
    members: usize,
) -> Split<ExportTraceServiceRequest> {
    let mut destinations: Vec<Option<Destination<ExportTraceServiceRequest>>> =
        (0..=members).map(|_| None).collect();
    let mut targets = assignment.targets.iter().copied();
    for (r, rs) in request.resource_spans.into_iter().enumerate() {
        let ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        } = rs;
        for (s, ss) in scope_spans.into_iter().enumerate() {
            let ScopeSpans {
                scope,
                spans,
                schema_url: scope_schema_url,
            } = ss;
            for span in spans {
                let index = slot(targets.next().flatten(), members);
                let destination = destinations[index].get_or_insert_with(|| Destination {
                    request: ExportTraceServiceRequest::default(),
                    source: None,
                    metric: None,
                });
                if destination.source != Some((r, s)) {
                    if destination.source.map(|(dr, _)| dr) != Some(r) {
                        destination.request.resource_spans.push(ResourceSpans {
                            resource: resource.clone(),
                            scope_spans: Vec::new(),
                            schema_url: schema_url.clone(),
                        });
                    }
                    if let Some(last) = destination.request.resource_spans.last_mut() {
                        last.scope_spans.push(ScopeSpans {
                            scope: scope.clone(),
                            spans: Vec::new(),
                            schema_url: scope_schema_url.clone(),
                        });
                    }
                    destination.source = Some((r, s));
                }
                if let Some(scope) = destination
                    .request
                    .resource_spans
                    .last_mut()
                    .and_then(|rs| rs.scope_spans.last_mut())
                {
                    scope.spans.push(span);
                }
            }
        }
    }
    finish(destinations, members)
}

/// Splits `request` among `members` by `assignment` (one target per log record).
pub fn split_logs(
    request: ExportLogsServiceRequest,
    assignment: &Assignment,
    members: usize,
) -> Split<ExportLogsServiceRequest> {
    let mut destinations: Vec<Option<Destination<ExportLogsServiceRequest>>> =
        (0..=members).map(|_| None).collect();
    let mut targets = assignment.targets.iter().copied();
    for (r, rl) in request.resource_logs.into_iter().enumerate() {
        let ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        } = rl;
        for (s, sl) in scope_logs.into_iter().enumerate() {
            let ScopeLogs {
                scope,
                log_records,
                schema_url: scope_schema_url,
            } = sl;
            for record in log_records {
                let index = slot(targets.next().flatten(), members);
                let destination = destinations[index].get_or_insert_with(|| Destination {
                    request: ExportLogsServiceRequest::default(),
                    source: None,
                    metric: None,
                });
                if destination.source != Some((r, s)) {
                    if destination.source.map(|(dr, _)| dr) != Some(r) {
                        destination.request.resource_logs.push(ResourceLogs {
                            resource: resource.clone(),
                            scope_logs: Vec::new(),
                            schema_url: schema_url.clone(),
                        });
                    }
                    if let Some(last) = destination.request.resource_logs.last_mut() {
                        last.scope_logs.push(ScopeLogs {
                            scope: scope.clone(),
                            log_records: Vec::new(),
                            schema_url: scope_schema_url.clone(),
                        });
                    }
                    destination.source = Some((r, s));
                }
                if let Some(scope) = destination
                    .request
                    .resource_logs
                    .last_mut()
                    .and_then(|rl| rl.scope_logs.last_mut())
                {
                    scope.log_records.push(record);
                }
            }
        }
    }
    finish(destinations, members)
}

/// A metric with the same name, description, unit, metadata and data type parameters as
/// `metric`, and no data point.
fn metric_shell(metric: &Metric) -> Metric {
    let data = metric.data.as_ref().map(|data| match data {
        Data::Gauge(_) => Data::Gauge(Gauge::default()),
        Data::Sum(s) => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: s.aggregation_temporality,
            is_monotonic: s.is_monotonic,
        }),
        Data::Histogram(h) => Data::Histogram(Histogram {
            data_points: Vec::new(),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::ExponentialHistogram(h) => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: Vec::new(),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::Summary(_) => Data::Summary(Summary::default()),
    });
    Metric {
        name: metric.name.clone(),
        description: metric.description.clone(),
        unit: metric.unit.clone(),
        metadata: metric.metadata.clone(),
        data,
    }
}

/// Where a data point comes from, for placing it.
struct PointSource<'a> {
    resource_index: usize,
    scope_index: usize,
    metric_index: usize,
    resource: &'a Option<otlp_proto::resource::v1::Resource>,
    schema_url: &'a str,
    scope: &'a Option<otlp_proto::common::v1::InstrumentationScope>,
    scope_schema_url: &'a str,
    shell: &'a Metric,
}

/// The data of the metric a point of `source` goes into at `destination`, created (with its
/// resource and scope) when the destination's last one is not it.
fn data_for<'d>(
    destination: &'d mut Destination<ExportMetricsServiceRequest>,
    source: &PointSource<'_>,
) -> Option<&'d mut Data> {
    let here = (source.resource_index, source.scope_index);
    if destination.source != Some(here) {
        if destination.source.map(|(r, _)| r) != Some(source.resource_index) {
            destination.request.resource_metrics.push(ResourceMetrics {
                resource: source.resource.clone(),
                scope_metrics: Vec::new(),
                schema_url: source.schema_url.to_owned(),
            });
        }
        destination
            .request
            .resource_metrics
            .last_mut()?
            .scope_metrics
            .push(ScopeMetrics {
                scope: source.scope.clone(),
                metrics: Vec::new(),
                schema_url: source.scope_schema_url.to_owned(),
            });
        destination.source = Some(here);
        destination.metric = None;
    }
    let scope = destination
        .request
        .resource_metrics
        .last_mut()?
        .scope_metrics
        .last_mut()?;
    if destination.metric != Some(source.metric_index) {
        scope.metrics.push(source.shell.clone());
        destination.metric = Some(source.metric_index);
    }
    scope.metrics.last_mut()?.data.as_mut()
}

/// Splits `request` among `members` by `assignment` (one target per data point). Metrics
/// without data points carry no item and are left out.
pub fn split_metrics(
    request: ExportMetricsServiceRequest,
    assignment: &Assignment,
    members: usize,
) -> Split<ExportMetricsServiceRequest> {
    let mut destinations: Vec<Option<Destination<ExportMetricsServiceRequest>>> =
        (0..=members).map(|_| None).collect();
    let mut targets = assignment.targets.iter().copied();
    let mut metric_index = 0usize;
    for (resource_index, rm) in request.resource_metrics.into_iter().enumerate() {
        let ResourceMetrics {
            resource,
            scope_metrics,
            schema_url,
        } = rm;
        for (scope_index, sm) in scope_metrics.into_iter().enumerate() {
            let ScopeMetrics {
                scope,
                metrics,
                schema_url: scope_schema_url,
            } = sm;
            for mut metric in metrics {
                let shell = metric_shell(&metric);
                let source = PointSource {
                    resource_index,
                    scope_index,
                    metric_index,
                    resource: &resource,
                    schema_url: &schema_url,
                    scope: &scope,
                    scope_schema_url: &scope_schema_url,
                    shell: &shell,
                };
                metric_index += 1;
                macro_rules! distribute {
                    ($points:expr, $variant:ident) => {
                        for point in std::mem::take($points) {
                            let index = slot(targets.next().flatten(), members);
                            let destination =
                                destinations[index].get_or_insert_with(|| Destination {
                                    request: ExportMetricsServiceRequest::default(),
                                    source: None,
                                    metric: None,
                                });
                            if let Some(Data::$variant(data)) = data_for(destination, &source) {
                                data.data_points.push(point);
                            }
                        }
                    };
                }
                match metric.data.as_mut() {
                    Some(Data::Gauge(g)) => distribute!(&mut g.data_points, Gauge),
                    Some(Data::Sum(x)) => distribute!(&mut x.data_points, Sum),
                    Some(Data::Histogram(h)) => distribute!(&mut h.data_points, Histogram),
                    Some(Data::ExponentialHistogram(h)) => {
                        distribute!(&mut h.data_points, ExponentialHistogram)
                    }
                    Some(Data::Summary(x)) => distribute!(&mut x.data_points, Summary),
                    None => {}
                }
            }
        }
    }
    finish(destinations, members)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use otlp_model::builders::{SpanBuilder, TracesBuilder};
    use otlp_model::resource;

    #[test]
    fn spans_keep_their_resource_and_scope_and_order() {
        let mut request = TracesBuilder::new()
            .resource(resource!["service.name" => "a"])
            .scope("s1", "1")
            .spans((0..4).map(|i| SpanBuilder::new(format!("a{i}"))))
            .build();
        let other = TracesBuilder::new()
            .resource(resource!["service.name" => "b"])
            .spans((0..2).map(|i| SpanBuilder::new(format!("b{i}"))))
            .build();
        request.resource_spans.extend(other.resource_spans);
        let assignment = Assignment {
            targets: vec![Some(0), Some(1), Some(0), Some(1), Some(1), Some(1)],
        };
        let split = split_traces(request.clone(), &assignment, 2);
        assert!(split.unroutable.is_none());
        assert_eq!(split.parts.len(), 2);
        let names = |r: &ExportTraceServiceRequest| -> Vec<String> {
            r.resource_spans
                .iter()
                .flat_map(|rs| rs.scope_spans.iter().flat_map(|ss| &ss.spans))
                .map(|s| s.name.clone())
                .collect()
        };
        assert_eq!(names(&split.parts[0].1), ["a0", "a2"]);
        assert_eq!(names(&split.parts[1].1), ["a1", "a3", "b0", "b1"]);
        let one = &split.parts[1].1;
        assert_eq!(one.resource_spans.len(), 2, "one copy per source resource");
        assert_eq!(one.resource_spans[0].scope_spans.len(), 1);
        assert_eq!(
            one.resource_spans[0].resource,
            request.resource_spans[0].resource
        );
        assert_eq!(
            one.resource_spans[0].scope_spans[0].scope,
            request.resource_spans[0].scope_spans[0].scope
        );
    }

    #[test]
    fn metrics_split_between_points_keep_the_metric_shape() {
        use otlp_proto::metrics::v1::{NumberDataPoint, number_data_point};
        let point = |v: i64| NumberDataPoint {
            value: Some(number_data_point::Value::AsInt(v)),
            ..NumberDataPoint::default()
        };
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        Metric {
                            name: "requests".into(),
                            unit: "1".into(),
                            data: Some(Data::Sum(Sum {
                                data_points: vec![point(1), point(2), point(3)],
                                aggregation_temporality: 2,
                                is_monotonic: true,
                            })),
                            ..Metric::default()
                        },
                        Metric {
                            name: "empty".into(),
                            data: Some(Data::Gauge(Gauge::default())),
                            ..Metric::default()
                        },
                        Metric {
                            name: "gauge".into(),
                            data: Some(Data::Gauge(Gauge {
                                data_points: vec![point(9)],
                            })),
                            ..Metric::default()
                        },
                    ],
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        };
        let assignment = Assignment {
            targets: vec![Some(1), Some(0), Some(1), None],
        };
        let split = split_metrics(request, &assignment, 2);
        let metrics = |r: &ExportMetricsServiceRequest| {
            r.resource_metrics[0].scope_metrics[0].metrics.clone()
        };
        let zero = metrics(&split.parts[0].1);
        assert_eq!(split.parts[0].0, 0);
        assert_eq!(zero.len(), 1);
        let Some(Data::Sum(sum)) = &zero[0].data else {
            panic!("a sum")
        };
        assert_eq!(
            (
                sum.data_points.len(),
                sum.aggregation_temporality,
                sum.is_monotonic
            ),
            (1, 2, true)
        );
        assert_eq!(zero[0].unit, "1");
        let one = metrics(&split.parts[1].1);
        let Some(Data::Sum(sum)) = &one[0].data else {
            panic!("a sum")
        };
        assert_eq!(sum.data_points.len(), 2, "two points, one metric");
        let unroutable = metrics(split.unroutable.as_ref().unwrap());
        assert_eq!(unroutable.len(), 1);
        assert_eq!(unroutable[0].name, "gauge");
    }
}
