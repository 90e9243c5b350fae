//! Property test: the count helpers and the iterators agree with naive nested loops, item for
//! item, on random request shapes (including absent resources and scopes, empty groups and
//! metrics without data).

use otlp_model::proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_model::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_model::proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_model::proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_model::proto::common::v1::InstrumentationScope;
use otlp_model::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_model::proto::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint, metric,
};
use otlp_model::proto::profiles::v1development::{
    Profile, ResourceProfiles, Sample, ScopeProfiles,
};
use otlp_model::proto::resource::v1::Resource;
use otlp_model::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_model::views::{LogsView, MetricsView, ProfilesView, TracesView};
use proptest::prelude::*;

/// Per resource: whether it has a `Resource`, and per scope: whether it has a scope and how
/// many items (or, for metrics, a list of `(kind, points)`).
type Shape<T> = Vec<(bool, Vec<(bool, Vec<T>)>)>;

fn shape<T: core::fmt::Debug>(item: impl Strategy<Value = T>) -> impl Strategy<Value = Shape<T>> {
    prop::collection::vec(
        (
            any::<bool>(),
            prop::collection::vec((any::<bool>(), prop::collection::vec(item, 0..5)), 0..4),
        ),
        0..4,
    )
}

fn resource(present: bool, i: usize) -> Option<Resource> {
    present.then(|| otlp_model::resource!["service.name" => format!("svc-{i}")])
}

fn scope(present: bool, j: usize) -> Option<InstrumentationScope> {
    present.then(|| InstrumentationScope {
        name: format!("scope-{j}"),
        ..Default::default()
    })
}

fn traces(shape: &Shape<()>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: shape
            .iter()
            .enumerate()
            .map(|(i, (has_resource, scopes))| ResourceSpans {
                resource: resource(*has_resource, i),
                scope_spans: scopes
                    .iter()
                    .enumerate()
                    .map(|(j, (has_scope, items))| ScopeSpans {
                        scope: scope(*has_scope, j),
                        spans: (0..items.len())
                            .map(|k| Span {
                                name: format!("{i}/{j}/{k}"),
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

fn logs(shape: &Shape<()>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: shape
            .iter()
            .enumerate()
            .map(|(i, (has_resource, scopes))| ResourceLogs {
                resource: resource(*has_resource, i),
                scope_logs: scopes
                    .iter()
                    .enumerate()
                    .map(|(j, (has_scope, items))| ScopeLogs {
                        scope: scope(*has_scope, j),
                        log_records: vec![LogRecord::default(); items.len()],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

/// `kind` 0-4 picks a metric type, 5 leaves `data` unset.
fn metric(kind: u8, points: usize) -> Metric {
    let data = match kind {
        0 => Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint::default(); points],
        })),
        1 => Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint::default(); points],
            ..Default::default()
        })),
        2 => Some(metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint::default(); points],
            ..Default::default()
        })),
        3 => Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint::default(); points],
            ..Default::default()
        })),
        4 => Some(metric::Data::Summary(Summary {
            data_points: vec![SummaryDataPoint::default(); points],
        })),
        _ => None,
    };
    Metric {
        name: format!("m{kind}-{points}"),
        data,
        ..Default::default()
    }
}

fn metrics(shape: &Shape<(u8, usize)>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: shape
            .iter()
            .enumerate()
            .map(|(i, (has_resource, scopes))| ResourceMetrics {
                resource: resource(*has_resource, i),
                scope_metrics: scopes
                    .iter()
                    .enumerate()
                    .map(|(j, (has_scope, items))| ScopeMetrics {
                        scope: scope(*has_scope, j),
                        metrics: items
                            .iter()
                            .map(|&(kind, points)| metric(kind, points))
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

fn profiles(shape: &Shape<usize>) -> ExportProfilesServiceRequest {
    ExportProfilesServiceRequest {
        resource_profiles: shape
            .iter()
            .enumerate()
            .map(|(i, (has_resource, scopes))| ResourceProfiles {
                resource: resource(*has_resource, i),
                scope_profiles: scopes
                    .iter()
                    .enumerate()
                    .map(|(j, (has_scope, items))| ScopeProfiles {
                        scope: scope(*has_scope, j),
                        profiles: items
                            .iter()
                            .map(|&samples| Profile {
                                samples: vec![Sample::default(); samples],
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        dictionary: None,
    }
}

proptest! {
    #[test]
    fn span_views_match_nested_loops(shape in shape(Just(()))) {
        let request = traces(&shape);
        let mut naive = Vec::new();
        for rs in &request.resource_spans {
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    naive.push((rs as *const _, ss as *const _, span as *const _));
                }
            }
        }
        let viewed: Vec<_> = request
            .spans()
            .map(|s| (s.resource_spans as *const _, s.scope_spans as *const _, s.span as *const _))
            .collect();
        prop_assert_eq!(request.span_count(), naive.len());
        prop_assert_eq!(&viewed, &naive);
        // Names are "resource/scope/item" indices: check each span got its own groups.
        for s in request.spans() {
            let indices: Vec<&str> = s.span.name.split('/').collect();
            prop_assert_eq!(
                s.service_name().map(str::to_owned),
                s.resource().map(|_| format!("svc-{}", indices[0]))
            );
            prop_assert_eq!(
                s.scope().map(|sc| sc.name.clone()),
                s.scope().map(|_| format!("scope-{}", indices[1]))
            );
        }
    }

    #[test]
    fn log_views_match_nested_loops(shape in shape(Just(()))) {
        let request = logs(&shape);
        let mut naive = Vec::new();
        for rl in &request.resource_logs {
            for sl in &rl.scope_logs {
                for record in &sl.log_records {
                    naive.push((rl as *const _, sl as *const _, record as *const _));
                }
            }
        }
        let viewed: Vec<_> = request
            .log_records()
            .map(|r| (r.resource_logs as *const _, r.scope_logs as *const _, r.log_record as *const _))
            .collect();
        prop_assert_eq!(request.log_record_count(), naive.len());
        prop_assert_eq!(viewed, naive);
    }

    #[test]
    fn metric_views_match_nested_loops(shape in shape((0_u8..6, 0_usize..4))) {
        let request = metrics(&shape);
        let mut metric_count = 0;
        let mut naive_points = Vec::new();
        for rm in &request.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    metric_count += 1;
                    let points = match &m.data {
                        Some(metric::Data::Gauge(g)) => g.data_points.len(),
                        Some(metric::Data::Sum(s)) => s.data_points.len(),
                        Some(metric::Data::Histogram(h)) => h.data_points.len(),
                        Some(metric::Data::ExponentialHistogram(e)) => e.data_points.len(),
                        Some(metric::Data::Summary(s)) => s.data_points.len(),
                        None => 0,
                    };
                    for _ in 0..points {
                        naive_points.push((rm as *const _, sm as *const _, m as *const _));
                    }
                }
            }
        }
        prop_assert_eq!(request.metric_count(), metric_count);
        prop_assert_eq!(request.metrics().count(), metric_count);
        prop_assert_eq!(request.data_point_count(), naive_points.len());
        let viewed: Vec<_> = request
            .data_points()
            .map(|p| (p.resource_metrics as *const _, p.scope_metrics as *const _, p.metric as *const _))
            .collect();
        prop_assert_eq!(viewed, naive_points);
    }

    #[test]
    fn profile_views_match_nested_loops(shape in shape(0_usize..4)) {
        let request = profiles(&shape);
        let (mut profile_count, mut sample_count) = (0, 0);
        for rp in &request.resource_profiles {
            for sp in &rp.scope_profiles {
                for p in &sp.profiles {
                    profile_count += 1;
                    sample_count += p.samples.len();
                }
            }
        }
        prop_assert_eq!(request.profile_count(), profile_count);
        prop_assert_eq!(request.profiles().count(), profile_count);
        prop_assert_eq!(request.sample_count(), sample_count);
    }
}
