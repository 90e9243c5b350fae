//! `count`: otelcol-contrib's count connector. Counts the spans and span events (traces), the
//! metrics and data points (metrics), the log records (logs) or the profiles (profiles) that a
//! pipeline exports to it, and emits the counts as metrics into the pipelines that receive
//! from it.
//!
//! Without configuration it emits `trace.span.count` and `trace.span.event.count`,
//! `metric.count` and `metric.datapoint.count`, `log.record.count`, or `profile.count`. A
//! section written (`spans`, `spanevents`, `metrics`, `datapoints`, `logs`, `profiles`)
//! replaces its default with the metrics it names, each with OTTL `conditions` (ORed) and
//! `attributes` to count by (looked up on the item — a profile's through its request's
//! dictionary —, then its scope, then its resource, then `default_value`; an item missing one
//! without a default is not counted).
//!
//! Each request's counts are emitted at once, per resource (the resource's attributes are
//! kept), as monotonic delta sums of integers stamped with the time of counting, in one
//! metrics request: what the metrics pipelines answer is what the sender gets. A condition
//! that fails to evaluate refuses the request (otelcol parses them with `propagate`).

mod config;
mod counter;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use otlp_ottl::{Item, PointRef, Target};
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::{
    ConfigError, Connector, ConnectorContext, ConnectorFactory, ConsumeError, Consumer, Payload,
    Signal, Telemetry,
};
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;

use config::MetricDef;
pub use config::{AttributeConfig, CountConfig, MetricInfo};
use counter::Counts;

/// The pairs it connects: traces, metrics and logs, each to metrics.
pub const PAIRS: &[(Signal, Signal)] = &[
    (Signal::Traces, Signal::Metrics),
    (Signal::Metrics, Signal::Metrics),
    (Signal::Logs, Signal::Metrics),
    (Signal::Profiles, Signal::Metrics),
];

/// The scope the count metrics are emitted under.
pub const SCOPE_NAME: &str = "otlp-rs/connector/count";

struct Count {
    next: Arc<dyn Consumer>,
    /// In `config::SECTIONS` order: spans, span events, metrics, data points, logs.
    definitions: [Vec<MetricDef>; 6],
}

/// The `count` factory.
pub fn factory() -> impl ConnectorFactory {
    FnFactory::connector("count", PAIRS, create)
}

fn create(ctx: ConnectorContext, config: CountConfig) -> Result<Box<dyn Connector>, ConfigError> {
    Ok(Box::new(Count {
        next: ctx.next,
        definitions: config.compile()?,
    }))
}

const NO_ATTRIBUTES: &[KeyValue] = &[];

fn attributes_of(resource: Option<&Resource>) -> &[KeyValue] {
    resource.map_or(NO_ATTRIBUTES, |r| r.attributes.as_slice())
}

fn scope_attributes(scope: Option<&InstrumentationScope>) -> &[KeyValue] {
    scope.map_or(NO_ATTRIBUTES, |s| s.attributes.as_slice())
}

impl Count {
    /// Counts of each resource of the request, in order.
    fn count(&self, payload: &Payload) -> Result<Vec<(Option<Resource>, Counts)>, String> {
        let [spans, events, metrics, points, logs, profiles] = &self.definitions;
        let mut out = Vec::new();
        match payload {
            Payload::Traces(request) => {
                for rs in &request.resource_spans {
                    let resource = rs.resource.as_ref();
                    let mut counts = Counts::default();
                    for ss in &rs.scope_spans {
                        let scope = ss.scope.as_ref();
                        let outer = [scope_attributes(scope), attributes_of(resource)];
                        for span in &ss.spans {
                            let target = Target {
                                item: Item::Span(span),
                                resource,
                                scope,
                            };
                            let layers = [span.attributes.as_slice(), outer[0], outer[1]];
                            counts.update(spans, &target, layers)?;
                            for event in &span.events {
                                let target = Target {
                                    item: Item::SpanEvent(event, span),
                                    resource,
                                    scope,
                                };
                                let layers = [event.attributes.as_slice(), outer[0], outer[1]];
                                counts.update(events, &target, layers)?;
                            }
                        }
                    }
                    out.push((rs.resource.clone(), counts));
                }
            }
            Payload::Metrics(request) => {
                for rm in &request.resource_metrics {
                    let resource = rm.resource.as_ref();
                    let mut counts = Counts::default();
                    for sm in &rm.scope_metrics {
                        let scope = sm.scope.as_ref();
                        for metric in &sm.metrics {
                            let target = Target {
                                item: Item::Metric(metric),
                                resource,
                                scope,
                            };
                            let layers = [
                                NO_ATTRIBUTES,
                                scope_attributes(scope),
                                attributes_of(resource),
                            ];
                            counts.update(metrics, &target, layers)?;
                            for point in PointRef::all(metric) {
                                let target = Target {
                                    item: Item::DataPoint(point, metric),
                                    resource,
                                    scope,
                                };
                                let layers = [
                                    point.attributes(),
                                    scope_attributes(scope),
                                    attributes_of(resource),
                                ];
                                counts.update(points, &target, layers)?;
                            }
                        }
                    }
                    out.push((rm.resource.clone(), counts));
                }
            }
            Payload::Logs(request) => {
                for rl in &request.resource_logs {
                    let resource = rl.resource.as_ref();
                    let mut counts = Counts::default();
                    for sl in &rl.scope_logs {
                        let scope = sl.scope.as_ref();
                        for record in &sl.log_records {
                            let target = Target {
                                item: Item::Log(record),
                                resource,
                                scope,
                            };
                            let layers = [
                                record.attributes.as_slice(),
                                scope_attributes(scope),
                                attributes_of(resource),
                            ];
                            counts.update(logs, &target, layers)?;
                        }
                    }
                    out.push((rl.resource.clone(), counts));
                }
            }
            Payload::Profiles(request) => {
                let dictionary = request.dictionary.as_ref();
                for rp in &request.resource_profiles {
                    let resource = rp.resource.as_ref();
                    let mut counts = Counts::default();
                    for sp in &rp.scope_profiles {
                        let scope = sp.scope.as_ref();
                        for profile in &sp.profiles {
                            let target = Target {
                                item: Item::Profile(profile, dictionary),
                                resource,
                                scope,
                            };
                            let own = otlp_ottl::profile_attributes(profile, dictionary);
                            let layers = [
                                own.as_slice(),
                                scope_attributes(scope),
                                attributes_of(resource),
                            ];
                            counts.update(profiles, &target, layers)?;
                        }
                    }
                    out.push((rp.resource.clone(), counts));
                }
            }
        }
        Ok(out)
    }
}

/// The metrics request holding `counts`, stamped `now` (Unix nanoseconds).
fn emit(counts: Vec<(Option<Resource>, Counts)>, now: u64) -> ExportMetricsServiceRequest {
    let mut request = ExportMetricsServiceRequest::default();
    for (resource, counts) in counts {
        if counts.is_empty() {
            continue;
        }
        let metrics = counts
            .metrics
            .into_iter()
            .map(|(name, (description, sets))| Metric {
                name,
                description,
                data: Some(Data::Sum(Sum {
                    data_points: sets
                        .into_iter()
                        .map(|(values, count)| NumberDataPoint {
                            attributes: values
                                .into_iter()
                                .map(|(key, value)| KeyValue {
                                    key,
                                    value: Some(AnyValue {
                                        value: Some(any_value::Value::StringValue(value)),
                                    }),
                                    ..KeyValue::default()
                                })
                                .collect(),
                            time_unix_nano: now,
                            value: Some(number_data_point::Value::AsInt(count)),
                            ..NumberDataPoint::default()
                        })
                        .collect(),
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                    is_monotonic: true,
                })),
                ..Metric::default()
            })
            .collect();
        request.resource_metrics.push(ResourceMetrics {
            resource,
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_owned(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        });
    }
    request
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[async_trait]
impl Consumer for Count {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let counts = self
            .count(data.payload())
            .map_err(|e| ConsumeError::permanent(format!("count condition failed: {e}")))?;
        let request = emit(counts, now_nanos());
        if request.resource_metrics.is_empty() {
            return Ok(());
        }
        self.next
            .consume(Telemetry::new(request).with_context(data.context().clone()))
            .await
    }
}

impl Connector for Count {}
