//! The `filter` processor: drops spans, span events, metrics, data points, log records and
//! profiles.
//!
//! Equivalent of otelcol-contrib's `filterprocessor` in its two forms:
//!
//! - OTTL conditions (`traces.span`, `traces.spanevent`, `metrics.metric`, `metrics.datapoint`,
//!   `logs.log_record`, `profiles.profile`): an item is dropped when any of its conditions is
//!   true. Conditions are
//!   written in a subset of OTTL (see the processors README) parsed once at build time.
//! - the legacy `include` / `exclude` match properties (`spans`, `metrics`, `logs`).
//!
//! After filtering, a metric whose data points were all dropped is dropped, and scope and
//! resource containers left empty are removed.

mod component;
mod config;
mod profiles;

pub use component::filter_factory;
#[cfg(test)]
mod profiles_tests;
#[cfg(test)]
mod tests;

pub use config::{
    ErrorMode, FilterConfig, LogFilters, LogMatchProperties, MetricFilters, MetricMatchProperties,
    ProfileFilters, SpanFilters, TraceFilters,
};

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::metrics::v1::{Metric, metric::Data};
use otlp_proto::resource::v1::Resource;

use crate::common::matching::{
    AttrMatcher, MatchConfig, MatchType, StringSet, attributes_match, compile_attributes,
};
use crate::common::{ConfigError, Signal};
use otlp_ottl::{Condition as Expr, Context, Item, PointRef, Target};

/// A condition failed to evaluate and `error_mode` is `propagate`: the request should be
/// refused. Items already filtered stay filtered; the item that failed is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: failed to evaluate condition {condition:?}: {message}")]
pub struct FilterError {
    /// The condition text.
    pub condition: String,
    /// Why evaluation failed.
    pub message: String,
}

#[derive(Debug, Clone)]
struct Condition {
    text: String,
    expr: Expr,
}

/// Legacy `metrics.include` / `metrics.exclude`, compiled.
#[derive(Debug, Clone)]
struct LegacyMetricMatch {
    names: StringSet,
    resources: Vec<AttrMatcher>,
}

/// A compiled `filter` processor; build it with [`FilterConfig::build`].
#[derive(Debug, Clone)]
pub struct FilterProcessor {
    error_mode: ErrorMode,
    span: Vec<Condition>,
    span_event: Vec<Condition>,
    metric: Vec<Condition>,
    datapoint: Vec<Condition>,
    log: Vec<Condition>,
    profile: Vec<Condition>,
    spans_legacy: MatchConfig,
    logs_legacy: MatchConfig,
    metrics_include: Option<LegacyMetricMatch>,
    metrics_exclude: Option<LegacyMetricMatch>,
}

fn compile_conditions(
    field: &str,
    ctx: Context,
    conditions: &[String],
) -> Result<Vec<Condition>, ConfigError> {
    conditions
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Expr::parse(text, ctx)
                .map(|expr| Condition {
                    text: text.clone(),
                    expr,
                })
                .map_err(|e| ConfigError::Condition {
                    processor: config::NAME,
                    field: format!("{field}[{i}]"),
                    condition: text.clone(),
                    position: e.position,
                    message: e.message,
                })
        })
        .collect()
}

fn compile_legacy_metric(
    field: &str,
    mp: &MetricMatchProperties,
) -> Result<LegacyMetricMatch, ConfigError> {
    let match_type = match mp.match_type.as_str() {
        "strict" => MatchType::Strict,
        "regexp" => MatchType::Regexp,
        "expr" => {
            return Err(ConfigError::invalid(
                config::NAME,
                format!("{field}.match_type"),
                "expr",
                "match_type expr is not supported; use OTTL conditions (metrics.datapoint)",
            ));
        }
        other => {
            return Err(ConfigError::invalid(
                config::NAME,
                format!("{field}.match_type"),
                other,
                "expected strict or regexp",
            ));
        }
    };
    if !mp.expressions.is_empty() {
        return Err(ConfigError::invalid(
            config::NAME,
            format!("{field}.expressions"),
            mp.expressions.join(", "),
            "expressions are only used with match_type expr, which is not supported",
        ));
    }
    Ok(LegacyMetricMatch {
        names: StringSet::compile(
            config::NAME,
            &format!("{field}.metric_names"),
            match_type,
            &mp.metric_names,
        )?,
        resources: compile_attributes(
            config::NAME,
            &format!("{field}.resource_attributes"),
            match_type,
            &mp.resource_attributes,
        )?,
    })
}

impl FilterProcessor {
    fn new(cfg: &FilterConfig) -> Result<Self, ConfigError> {
        let conflict = |signal: &str| {
            ConfigError::invalid(
                config::NAME,
                signal.to_owned(),
                "conditions and include/exclude",
                format!(
                    "cannot use ottl conditions and include/exclude for {signal} at the same time"
                ),
            )
        };
        if (!cfg.traces.span.is_empty() || !cfg.traces.spanevent.is_empty())
            && (cfg.spans.include.is_some() || cfg.spans.exclude.is_some())
        {
            return Err(conflict("spans"));
        }
        if (!cfg.metrics.metric.is_empty() || !cfg.metrics.datapoint.is_empty())
            && (cfg.metrics.include.is_some() || cfg.metrics.exclude.is_some())
        {
            return Err(conflict("metrics"));
        }
        if !cfg.logs.log_record.is_empty()
            && (cfg.logs.include.is_some() || cfg.logs.exclude.is_some())
        {
            return Err(conflict("logs"));
        }

        let spans_legacy = MatchConfig::compile(
            config::NAME,
            cfg.spans.include.as_ref(),
            cfg.spans.exclude.as_ref(),
        )?;
        if let Some(reason) = spans_legacy.problem_for(Signal::Traces) {
            return Err(ConfigError::invalid(
                config::NAME,
                "spans",
                "include/exclude",
                reason
                    .replace("`include", "`spans.include")
                    .replace("`exclude", "`spans.exclude"),
            ));
        }
        let log_include = cfg
            .logs
            .include
            .as_ref()
            .filter(|l| !l.is_empty())
            .map(LogMatchProperties::to_match_properties);
        let log_exclude = cfg
            .logs
            .exclude
            .as_ref()
            .filter(|l| !l.is_empty())
            .map(LogMatchProperties::to_match_properties);
        let logs_legacy =
            MatchConfig::compile(config::NAME, log_include.as_ref(), log_exclude.as_ref())
                .map_err(|e| prefix_field(e, "logs."))?;

        Ok(Self {
            error_mode: cfg.error_mode,
            span: compile_conditions("traces.span", Context::Span, &cfg.traces.span)?,
            span_event: compile_conditions(
                "traces.spanevent",
                Context::SpanEvent,
                &cfg.traces.spanevent,
            )?,
            metric: compile_conditions("metrics.metric", Context::Metric, &cfg.metrics.metric)?,
            datapoint: compile_conditions(
                "metrics.datapoint",
                Context::DataPoint,
                &cfg.metrics.datapoint,
            )?,
            log: compile_conditions("logs.log_record", Context::Log, &cfg.logs.log_record)?,
            profile: compile_conditions(
                "profiles.profile",
                Context::Profile,
                &cfg.profiles.profile,
            )?,
            spans_legacy,
            logs_legacy,
            metrics_include: cfg
                .metrics
                .include
                .as_ref()
                .map(|m| compile_legacy_metric("metrics.include", m))
                .transpose()?,
            metrics_exclude: cfg
                .metrics
                .exclude
                .as_ref()
                .map(|m| compile_legacy_metric("metrics.exclude", m))
                .transpose()?,
        })
    }

    /// The filter processor has no signal-specific rules beyond those checked by `build`.
    ///
    /// # Errors
    /// Never; present for symmetry with the other processors.
    pub fn validate_for(&self, _signal: Signal) -> Result<(), ConfigError> {
        Ok(())
    }

    /// `true` if any condition is true. Evaluation errors follow `error_mode`: with
    /// `propagate` the first error is stored in `error` and the item is kept.
    fn any(
        &self,
        conditions: &[Condition],
        target: &Target<'_>,
        error: &mut Option<FilterError>,
    ) -> bool {
        for c in conditions {
            match c.expr.eval(target) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => match self.error_mode {
                    ErrorMode::Propagate => {
                        if error.is_none() {
                            *error = Some(FilterError {
                                condition: c.text.clone(),
                                message: e.0,
                            });
                        }
                        return false;
                    }
                    ErrorMode::Ignore => {
                        tracing::warn!(condition = %c.text, error = %e.0, "filter: failed to evaluate condition; treating it as false");
                    }
                    ErrorMode::Silent => {}
                },
            }
        }
        false
    }

    /// Drops matching spans and span events. Returns the number of spans dropped.
    ///
    /// # Errors
    /// [`FilterError`] when a condition fails to evaluate and `error_mode` is `propagate`; the
    /// request should then be refused.
    pub fn process_traces(
        &self,
        request: &mut ExportTraceServiceRequest,
    ) -> Result<usize, FilterError> {
        if self.span.is_empty() && self.span_event.is_empty() && self.spans_legacy.is_empty() {
            return Ok(0);
        }
        let mut dropped = 0;
        let mut error = None;
        request.resource_spans.retain_mut(|rs| {
            let resource = rs.resource.as_ref();
            rs.scope_spans.retain_mut(|ss| {
                let scope = ss.scope.as_ref();
                ss.spans.retain_mut(|span| {
                    let drop = (!self.spans_legacy.is_empty()
                        && self.spans_legacy.skip_span(span, resource, scope))
                        || (!self.span.is_empty()
                            && self.any(
                                &self.span,
                                &Target {
                                    item: Item::Span(span),
                                    resource,
                                    scope,
                                },
                                &mut error,
                            ));
                    if drop {
                        dropped += 1;
                        return false;
                    }
                    if !self.span_event.is_empty() && !span.events.is_empty() {
                        let mut events = std::mem::take(&mut span.events);
                        events.retain(|event| {
                            !self.any(
                                &self.span_event,
                                &Target {
                                    item: Item::SpanEvent(event, span),
                                    resource,
                                    scope,
                                },
                                &mut error,
                            )
                        });
                        span.events = events;
                    }
                    true
                });
                !ss.spans.is_empty()
            });
            !rs.scope_spans.is_empty()
        });
        error.map_or(Ok(dropped), Err)
    }

    /// Drops matching log records. Returns the number dropped.
    ///
    /// # Errors
    /// [`FilterError`] when a condition fails to evaluate and `error_mode` is `propagate`.
    pub fn process_logs(
        &self,
        request: &mut ExportLogsServiceRequest,
    ) -> Result<usize, FilterError> {
        if self.log.is_empty() && self.logs_legacy.is_empty() {
            return Ok(0);
        }
        let mut dropped = 0;
        let mut error = None;
        request.resource_logs.retain_mut(|rl| {
            let resource = rl.resource.as_ref();
            rl.scope_logs.retain_mut(|sl| {
                let scope = sl.scope.as_ref();
                sl.log_records.retain(|record| {
                    let drop = (!self.logs_legacy.is_empty()
                        && self.logs_legacy.skip_log(record, resource, scope))
                        || (!self.log.is_empty()
                            && self.any(
                                &self.log,
                                &Target {
                                    item: Item::Log(record),
                                    resource,
                                    scope,
                                },
                                &mut error,
                            ));
                    dropped += usize::from(drop);
                    !drop
                });
                !sl.log_records.is_empty()
            });
            !rl.scope_logs.is_empty()
        });
        error.map_or(Ok(dropped), Err)
    }

    /// Drops matching metrics and data points. Returns the number of data points dropped
    /// (counting the points of dropped metrics).
    ///
    /// # Errors
    /// [`FilterError`] when a condition fails to evaluate and `error_mode` is `propagate`.
    pub fn process_metrics(
        &self,
        request: &mut ExportMetricsServiceRequest,
    ) -> Result<usize, FilterError> {
        let legacy = self.metrics_include.is_some() || self.metrics_exclude.is_some();
        if self.metric.is_empty() && self.datapoint.is_empty() && !legacy {
            return Ok(0);
        }
        let mut dropped = 0;
        let mut error = None;
        request.resource_metrics.retain_mut(|rm| {
            let resource = rm.resource.as_ref();
            if legacy && !self.keep_resource_legacy(resource) {
                dropped += rm
                    .scope_metrics
                    .iter()
                    .flat_map(|s| &s.metrics)
                    .map(point_count)
                    .sum::<usize>();
                return false;
            }
            rm.scope_metrics.retain_mut(|sm| {
                let scope = sm.scope.as_ref();
                sm.metrics.retain_mut(|metric| {
                    let drop_metric = (legacy && !self.keep_metric_legacy(&metric.name))
                        || (!self.metric.is_empty()
                            && self.any(
                                &self.metric,
                                &Target {
                                    item: Item::Metric(metric),
                                    resource,
                                    scope,
                                },
                                &mut error,
                            ));
                    if drop_metric {
                        dropped += point_count(metric);
                        return false;
                    }
                    if self.datapoint.is_empty() || metric.data.is_none() {
                        return true;
                    }
                    dropped += self.filter_points(metric, resource, scope, &mut error);
                    point_count(metric) > 0
                });
                !sm.metrics.is_empty()
            });
            !rm.scope_metrics.is_empty()
        });
        error.map_or(Ok(dropped), Err)
    }

    fn keep_resource_legacy(&self, resource: Option<&Resource>) -> bool {
        let attrs = resource.map_or(&[][..], |r| &r.attributes);
        if let Some(inc) = &self.metrics_include
            && !inc.resources.is_empty()
            && !attributes_match(&inc.resources, attrs)
        {
            return false;
        }
        if let Some(exc) = &self.metrics_exclude
            && !exc.resources.is_empty()
            && attributes_match(&exc.resources, attrs)
        {
            return false;
        }
        true
    }

    /// otelcol's legacy name matching: with `include`, a metric whose name matches none of
    /// `metric_names` (an empty list matches nothing) is dropped; with `exclude`, a matching
    /// one is dropped.
    fn keep_metric_legacy(&self, name: &str) -> bool {
        if let Some(inc) = &self.metrics_include
            && !inc.names.matches(name)
        {
            return false;
        }
        !self
            .metrics_exclude
            .as_ref()
            .is_some_and(|exc| exc.names.matches(name))
    }

    /// Filters the data points of `metric` in place; returns how many were dropped.
    fn filter_points(
        &self,
        metric: &mut Metric,
        resource: Option<&Resource>,
        scope: Option<&InstrumentationScope>,
        error: &mut Option<FilterError>,
    ) -> usize {
        // Take the points out (the variant, temporality and monotonicity stay in place) so that
        // the metric can be read by `metric.*` paths while its points are filtered.
        macro_rules! filter {
            ($variant:ident, $field:ident, $point:ident) => {{
                let Some(Data::$variant(inner)) = metric.data.as_mut() else {
                    return 0;
                };
                let mut points = std::mem::take(&mut inner.$field);
                let before = points.len();
                let m: &Metric = metric;
                points.retain(|p| {
                    let target = Target {
                        item: Item::DataPoint(PointRef::$point(p), m),
                        resource,
                        scope,
                    };
                    !self.any(&self.datapoint, &target, error)
                });
                let after = points.len();
                if let Some(Data::$variant(inner)) = metric.data.as_mut() {
                    inner.$field = points;
                }
                before - after
            }};
        }
        match metric.data {
            Some(Data::Gauge(_)) => filter!(Gauge, data_points, Number),
            Some(Data::Sum(_)) => filter!(Sum, data_points, Number),
            Some(Data::Histogram(_)) => filter!(Histogram, data_points, Histogram),
            Some(Data::ExponentialHistogram(_)) => {
                filter!(ExponentialHistogram, data_points, ExpHistogram)
            }
            Some(Data::Summary(_)) => filter!(Summary, data_points, Summary),
            None => 0,
        }
    }
}

fn point_count(metric: &Metric) -> usize {
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

fn prefix_field(e: ConfigError, prefix: &str) -> ConfigError {
    match e {
        ConfigError::InvalidField {
            processor,
            field,
            value,
            reason,
        } => ConfigError::InvalidField {
            processor,
            field: format!("{prefix}{field}"),
            value,
            reason,
        },
        ConfigError::MissingField {
            processor,
            field,
            reason,
        } => ConfigError::MissingField {
            processor,
            field: format!("{prefix}{field}"),
            reason,
        },
        other => other,
    }
}
