//! Taking what a route matches out of a request: whole resources (`resource`, `request`),
//! or single spans, metrics, data points or log records, each kept with copies of its
//! resource and scope. What is taken leaves the remaining request, so the next route only
//! sees what no earlier route took.

use otlp_ottl::{Condition, Item, PointRef, Target};
use otlp_pipeline::Metadata;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::logs::v1::{ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
    metric::Data,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans};

use super::config::Matcher;

/// Evaluates one condition against one target; `Err` only when the error must refuse the
/// request (`error_mode: propagate`).
pub(crate) type Test<'a> = &'a dyn Fn(&Condition, &Target<'_>) -> Result<bool, String>;

/// Whether the request's metadata satisfies a `request` route.
pub(crate) fn request_matches(key: &str, value: &str, equal: bool, metadata: &Metadata) -> bool {
    let found = metadata.get_all(key).any(|v| v == value);
    found == equal
}

/// Splits `items` by `decisions` (same length): the ones decided `true` are returned, the
/// others stay.
fn take_decided<T>(items: &mut Vec<T>, decisions: &[bool]) -> Vec<T> {
    let mut kept = Vec::with_capacity(items.len());
    let mut taken = Vec::new();
    for (item, take) in items.drain(..).zip(decisions.iter().copied()) {
        if take {
            taken.push(item);
        } else {
            kept.push(item);
        }
    }
    *items = kept;
    taken
}

fn resource_target(resource: Option<&Resource>) -> Target<'_> {
    Target {
        item: Item::Resource,
        resource,
        scope: None,
    }
}

/// `take_traces` and `take_logs`: the same walk over two shapes. `$resources`, `$scopes` and
/// `$items` are the repeated fields at each level, `$Resource` / `$Scope` the container types,
/// `$item` how an item becomes an OTTL [`Item`].
macro_rules! take_items {
    ($(#[$doc:meta])* $name:ident, $Request:ty, $resources:ident, $scopes:ident, $items:ident,
     $Resource:ident, $Scope:ident, $item:expr) => {
        $(#[$doc])*
        pub(crate) fn $name(
            remaining: &mut $Request,
            matcher: &Matcher,
            metadata: &Metadata,
            test: Test<'_>,
        ) -> Result<$Request, String> {
            let mut taken = <$Request>::default();
            match matcher {
                Matcher::Request { key, value, equal } => {
                    if request_matches(key, value, *equal, metadata) {
                        taken = std::mem::take(remaining);
                    }
                }
                Matcher::Ottl(condition, otlp_ottl::Context::Resource) => {
                    let decisions = remaining
                        .$resources
                        .iter()
                        .map(|r| test(condition, &resource_target(r.resource.as_ref())))
                        .collect::<Result<Vec<bool>, String>>()?;
                    taken.$resources = take_decided(&mut remaining.$resources, &decisions);
                }
                Matcher::Ottl(condition, _) => {
                    for r in &mut remaining.$resources {
                        let mut scopes = Vec::new();
                        for sc in &mut r.$scopes {
                            let decisions = sc
                                .$items
                                .iter()
                                .map(|item| {
                                    let target = Target {
                                        item: $item(item),
                                        resource: r.resource.as_ref(),
                                        scope: sc.scope.as_ref(),
                                    };
                                    test(condition, &target)
                                })
                                .collect::<Result<Vec<bool>, String>>()?;
                            let items = take_decided(&mut sc.$items, &decisions);
                            if !items.is_empty() {
                                scopes.push($Scope {
                                    scope: sc.scope.clone(),
                                    $items: items,
                                    schema_url: sc.schema_url.clone(),
                                });
                            }
                        }
                        if !scopes.is_empty() {
                            r.$scopes.retain(|sc| !sc.$items.is_empty());
                            taken.$resources.push($Resource {
                                resource: r.resource.clone(),
                                $scopes: scopes,
                                schema_url: r.schema_url.clone(),
                            });
                        }
                    }
                    remaining.$resources.retain(|r| !r.$scopes.is_empty());
                }
            }
            Ok(taken)
        }
    };
}

take_items!(
    /// What `matcher` takes from `remaining` (traces).
    take_traces,
    ExportTraceServiceRequest,
    resource_spans,
    scope_spans,
    spans,
    ResourceSpans,
    ScopeSpans,
    Item::Span
);

take_items!(
    /// What `matcher` takes from `remaining` (logs).
    take_logs,
    ExportLogsServiceRequest,
    resource_logs,
    scope_logs,
    log_records,
    ResourceLogs,
    ScopeLogs,
    Item::Log
);

/// What `matcher` takes from `remaining` (metrics).
pub(crate) fn take_metrics(
    remaining: &mut ExportMetricsServiceRequest,
    matcher: &Matcher,
    metadata: &Metadata,
    test: Test<'_>,
) -> Result<ExportMetricsServiceRequest, String> {
    let mut taken = ExportMetricsServiceRequest::default();
    match matcher {
        Matcher::Request { key, value, equal } => {
            if request_matches(key, value, *equal, metadata) {
                taken = std::mem::take(remaining);
            }
        }
        Matcher::Ottl(condition, otlp_ottl::Context::Resource) => {
            let decisions = remaining
                .resource_metrics
                .iter()
                .map(|rm| test(condition, &resource_target(rm.resource.as_ref())))
                .collect::<Result<Vec<bool>, String>>()?;
            taken.resource_metrics = take_decided(&mut remaining.resource_metrics, &decisions);
        }
        Matcher::Ottl(condition, context) => {
            let points = *context == otlp_ottl::Context::DataPoint;
            for rm in &mut remaining.resource_metrics {
                let mut scopes = Vec::new();
                for sm in &mut rm.scope_metrics {
                    let resource = rm.resource.as_ref();
                    let scope = sm.scope.as_ref();
                    let metrics = if points {
                        take_points(&mut sm.metrics, condition, resource, scope, test)?
                    } else {
                        let decisions = sm
                            .metrics
                            .iter()
                            .map(|metric| {
                                let target = Target {
                                    item: Item::Metric(metric),
                                    resource,
                                    scope,
                                };
                                test(condition, &target)
                            })
                            .collect::<Result<Vec<bool>, String>>()?;
                        take_decided(&mut sm.metrics, &decisions)
                    };
                    if !metrics.is_empty() {
                        scopes.push(ScopeMetrics {
                            scope: sm.scope.clone(),
                            metrics,
                            schema_url: sm.schema_url.clone(),
                        });
                    }
                }
                if !scopes.is_empty() {
                    rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
                    taken.resource_metrics.push(ResourceMetrics {
                        resource: rm.resource.clone(),
                        scope_metrics: scopes,
                        schema_url: rm.schema_url.clone(),
                    });
                }
            }
            remaining
                .resource_metrics
                .retain(|rm| !rm.scope_metrics.is_empty());
        }
    }
    Ok(taken)
}

/// The data points of `metrics` the condition takes, as metrics of the same shape; metrics
/// left without points leave `metrics`.
fn take_points(
    metrics: &mut Vec<Metric>,
    condition: &Condition,
    resource: Option<&Resource>,
    scope: Option<&InstrumentationScope>,
    test: Test<'_>,
) -> Result<Vec<Metric>, String> {
    let mut taken = Vec::new();
    let mut emptied = vec![false; metrics.len()];
    for (index, metric) in metrics.iter_mut().enumerate() {
        let decide = |point: PointRef<'_>, metric: &Metric| {
            let target = Target {
                item: Item::DataPoint(point, metric),
                resource,
                scope,
            };
            test(condition, &target)
        };
        let decisions: Vec<bool> = PointRef::all(metric)
            .into_iter()
            .map(|point| decide(point, metric))
            .collect::<Result<_, _>>()?;
        if !decisions.iter().any(|d| *d) {
            continue;
        }
        let data = match &mut metric.data {
            None => continue,
            Some(Data::Gauge(g)) => Data::Gauge(Gauge {
                data_points: take_decided(&mut g.data_points, &decisions),
            }),
            Some(Data::Sum(s)) => Data::Sum(Sum {
                data_points: take_decided(&mut s.data_points, &decisions),
                aggregation_temporality: s.aggregation_temporality,
                is_monotonic: s.is_monotonic,
            }),
            Some(Data::Histogram(h)) => Data::Histogram(Histogram {
                data_points: take_decided(&mut h.data_points, &decisions),
                aggregation_temporality: h.aggregation_temporality,
            }),
            Some(Data::ExponentialHistogram(h)) => {
                Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: take_decided(&mut h.data_points, &decisions),
                    aggregation_temporality: h.aggregation_temporality,
                })
            }
            Some(Data::Summary(s)) => Data::Summary(Summary {
                data_points: take_decided(&mut s.data_points, &decisions),
            }),
        };
        taken.push(Metric {
            name: metric.name.clone(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            metadata: metric.metadata.clone(),
            data: Some(data),
        });
        emptied[index] = point_count(metric) == 0;
    }
    let mut index = 0;
    metrics.retain(|_| {
        index += 1;
        !emptied[index - 1]
    });
    Ok(taken)
}

fn point_count(metric: &Metric) -> usize {
    match &metric.data {
        None => 0,
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
    }
}
