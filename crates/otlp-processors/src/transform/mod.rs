//! The `transform` processor: edits spans, span events, metrics, data points, log records and
//! their resources and scopes with OTTL statements (`otlp-ottl`).
//!
//! Equivalent of otelcol-contrib's `transformprocessor`: per signal, a list of groups run in
//! order, each over every item of its context (`resource`, `scope`, `span`, `spanevent`,
//! `metric`, `datapoint`, `log`): when any of the group's `conditions` holds (or it has none),
//! its statements run in order against the item, with a fresh `cache`. A bare statement string
//! is a group of its own whose context is inferred from its paths' prefixes. Statements are
//! compiled once, at build time; a statement that fails to run follows `error_mode`.

mod component;
mod config;
#[cfg(test)]
mod tests;

pub use component::transform_factory;
pub use config::{ContextStatements, ErrorMode, StatementsEntry, TransformConfig};

use std::sync::atomic::{AtomicU64, Ordering};

use otlp_ottl::{
    Condition, Context, EvalError, InferSource, ItemMut, PointMut, Statement, TargetMut,
    infer_context,
};
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{InstrumentationScope, KeyValue};
use otlp_proto::metrics::v1::{Metric, metric::Data};
use otlp_proto::resource::v1::Resource;

use crate::common::{ConfigError, Signal};

/// A statement or condition failed to run and `error_mode` is `propagate`: the request is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transform: failed to execute {statement:?}: {message}")]
pub struct TransformError {
    /// The statement (or condition) text.
    pub statement: String,
    /// Why it failed.
    pub message: String,
}

/// A compiled group.
#[derive(Debug)]
struct Group {
    context: Context,
    error_mode: ErrorMode,
    conditions: Vec<(String, Condition)>,
    statements: Vec<(String, Statement)>,
}

/// A compiled `transform` processor; build it with [`TransformConfig::build`].
#[derive(Debug)]
pub struct TransformProcessor {
    traces: Vec<Group>,
    metrics: Vec<Group>,
    logs: Vec<Group>,
    /// Errors handled by `ignore` or `silent` so far.
    errors: AtomicU64,
}

const TRACE_CONTEXTS: [Context; 4] = [
    Context::Resource,
    Context::Scope,
    Context::Span,
    Context::SpanEvent,
];
const METRIC_CONTEXTS: [Context; 4] = [
    Context::Resource,
    Context::Scope,
    Context::Metric,
    Context::DataPoint,
];
const LOG_CONTEXTS: [Context; 3] = [Context::Resource, Context::Scope, Context::Log];

fn ottl_error(field: String, text: &str, e: otlp_ottl::ParseError) -> ConfigError {
    ConfigError::Condition {
        processor: config::NAME,
        field,
        condition: text.to_owned(),
        position: e.position,
        message: e.message,
    }
}

fn compile_group(
    key: &str,
    index: usize,
    entry: &StatementsEntry,
    candidates: &[Context],
    default_mode: ErrorMode,
) -> Result<Group, ConfigError> {
    let at = format!("{key}[{index}]");
    let (group, statements_key) = match entry {
        StatementsEntry::Statement(text) => (
            ContextStatements {
                statements: vec![text.clone()],
                ..ContextStatements::default()
            },
            None,
        ),
        StatementsEntry::Group(g) => (g.clone(), Some(format!("{at}.statements"))),
    };
    let statement_field = |j: usize| match &statements_key {
        Some(k) => format!("{k}[{j}]"),
        None => at.clone(),
    };
    if group.statements.is_empty() {
        return Err(ConfigError::missing(
            config::NAME,
            format!("{at}.statements"),
            "a group needs at least one statement",
        ));
    }
    if group.shared_cache {
        return Err(ConfigError::invalid(
            config::NAME,
            format!("{at}.shared_cache"),
            "true",
            "shared_cache is not supported; each group has its own cache",
        ));
    }
    let context = match &group.context {
        Some(name) => Context::from_name(name)
            .filter(|c| candidates.contains(c))
            .ok_or_else(|| {
                ConfigError::invalid(
                    config::NAME,
                    format!("{at}.context"),
                    name.clone(),
                    format!(
                        "expected one of {}",
                        candidates
                            .iter()
                            .map(|c| c.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        None => {
            let statements: Vec<&str> = group.statements.iter().map(String::as_str).collect();
            let conditions: Vec<&str> = group.conditions.iter().map(String::as_str).collect();
            infer_context(&statements, &conditions, candidates).map_err(|e| match e.source {
                InferSource::Statement(j) => {
                    ottl_error(statement_field(j), &group.statements[j], e.error)
                }
                InferSource::Condition(j) => ottl_error(
                    format!("{at}.conditions[{j}]"),
                    &group.conditions[j],
                    e.error,
                ),
                InferSource::Group => ottl_error(
                    at.clone(),
                    group.statements.first().map_or("", String::as_str),
                    e.error,
                ),
            })?
        }
    };
    let conditions = group
        .conditions
        .iter()
        .enumerate()
        .map(|(j, text)| {
            Condition::parse(text, context)
                .map(|c| (text.clone(), c))
                .map_err(|e| ottl_error(format!("{at}.conditions[{j}]"), text, e))
        })
        .collect::<Result<_, _>>()?;
    let statements = group
        .statements
        .iter()
        .enumerate()
        .map(|(j, text)| {
            Statement::parse(text, context)
                .map(|s| (text.clone(), s))
                .map_err(|e| ottl_error(statement_field(j), text, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(Group {
        context,
        error_mode: group.error_mode.unwrap_or(default_mode),
        conditions,
        statements,
    })
}

fn compile_groups(
    key: &str,
    entries: &[StatementsEntry],
    candidates: &[Context],
    mode: ErrorMode,
) -> Result<Vec<Group>, ConfigError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| compile_group(key, i, e, candidates, mode))
        .collect()
}

impl TransformProcessor {
    fn new(cfg: &TransformConfig) -> Result<Self, ConfigError> {
        let mode = cfg.error_mode;
        Ok(Self {
            traces: compile_groups(
                "trace_statements",
                &cfg.trace_statements,
                &TRACE_CONTEXTS,
                mode,
            )?,
            metrics: compile_groups(
                "metric_statements",
                &cfg.metric_statements,
                &METRIC_CONTEXTS,
                mode,
            )?,
            logs: compile_groups("log_statements", &cfg.log_statements, &LOG_CONTEXTS, mode)?,
            errors: AtomicU64::new(0),
        })
    }

    /// The processor has no signal-specific rules beyond those checked by `build`.
    ///
    /// # Errors
    /// Never; present for symmetry with the other processors.
    pub fn validate_for(&self, _signal: Signal) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Whether there are statements for `signal` (none: the request passes untouched).
    pub fn has_statements(&self, signal: Signal) -> bool {
        !match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
        .is_empty()
    }

    /// Errors handled by `ignore` or `silent` so far.
    pub fn ignored_errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn failed(&self, g: &Group, text: &str, e: EvalError) -> Result<(), TransformError> {
        match g.error_mode {
            ErrorMode::Propagate => Err(TransformError {
                statement: text.to_owned(),
                message: e.0,
            }),
            ErrorMode::Ignore => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(statement = %text, error = %e.0, "transform: failed to execute statement; going on with the next one");
                Ok(())
            }
            ErrorMode::Silent => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Runs a group against one item.
    fn run(&self, g: &Group, t: &mut TargetMut<'_>) -> Result<(), TransformError> {
        t.cache.clear();
        if !g.conditions.is_empty() {
            let mut any = false;
            for (text, c) in &g.conditions {
                match c.eval_mut(t) {
                    Ok(true) => {
                        any = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => self.failed(g, text, e)?,
                }
            }
            if !any {
                return Ok(());
            }
        }
        for (text, st) in &g.statements {
            if let Err(e) = st.execute(t) {
                self.failed(g, text, e)?;
            }
        }
        Ok(())
    }

    fn run_resource(
        &self,
        g: &Group,
        resource: &mut Option<Resource>,
        cache: &mut Vec<KeyValue>,
    ) -> Result<(), TransformError> {
        let mut no_scope = None;
        self.run(
            g,
            &mut TargetMut {
                item: ItemMut::Resource,
                resource,
                scope: &mut no_scope,
                cache,
            },
        )
    }

    fn run_scope(
        &self,
        g: &Group,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        cache: &mut Vec<KeyValue>,
    ) -> Result<(), TransformError> {
        self.run(
            g,
            &mut TargetMut {
                item: ItemMut::Scope,
                resource,
                scope,
                cache,
            },
        )
    }

    /// Runs the trace statements over `request`, in place.
    ///
    /// # Errors
    /// [`TransformError`] when a statement fails with `error_mode: propagate`; the request
    /// should then be refused (items already edited stay edited).
    pub fn process_traces(
        &self,
        request: &mut ExportTraceServiceRequest,
    ) -> Result<(), TransformError> {
        let mut cache = Vec::new();
        for g in &self.traces {
            for rs in &mut request.resource_spans {
                let resource = &mut rs.resource;
                if g.context == Context::Resource {
                    self.run_resource(g, resource, &mut cache)?;
                    continue;
                }
                for ss in &mut rs.scope_spans {
                    let scope = &mut ss.scope;
                    if g.context == Context::Scope {
                        self.run_scope(g, resource, scope, &mut cache)?;
                        continue;
                    }
                    for span in &mut ss.spans {
                        if g.context == Context::Span {
                            self.run(
                                g,
                                &mut TargetMut {
                                    item: ItemMut::Span(span),
                                    resource,
                                    scope,
                                    cache: &mut cache,
                                },
                            )?;
                            continue;
                        }
                        let mut events = std::mem::take(&mut span.events);
                        let result = events.iter_mut().try_for_each(|event| {
                            self.run(
                                g,
                                &mut TargetMut {
                                    item: ItemMut::SpanEvent(event, span),
                                    resource,
                                    scope,
                                    cache: &mut cache,
                                },
                            )
                        });
                        span.events = events;
                        result?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the log statements over `request`, in place.
    ///
    /// # Errors
    /// As [`TransformProcessor::process_traces`].
    pub fn process_logs(
        &self,
        request: &mut ExportLogsServiceRequest,
    ) -> Result<(), TransformError> {
        let mut cache = Vec::new();
        for g in &self.logs {
            for rl in &mut request.resource_logs {
                let resource = &mut rl.resource;
                if g.context == Context::Resource {
                    self.run_resource(g, resource, &mut cache)?;
                    continue;
                }
                for sl in &mut rl.scope_logs {
                    let scope = &mut sl.scope;
                    if g.context == Context::Scope {
                        self.run_scope(g, resource, scope, &mut cache)?;
                        continue;
                    }
                    for record in &mut sl.log_records {
                        self.run(
                            g,
                            &mut TargetMut {
                                item: ItemMut::Log(record),
                                resource,
                                scope,
                                cache: &mut cache,
                            },
                        )?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the metric statements over `request`, in place.
    ///
    /// # Errors
    /// As [`TransformProcessor::process_traces`].
    pub fn process_metrics(
        &self,
        request: &mut ExportMetricsServiceRequest,
    ) -> Result<(), TransformError> {
        let mut cache = Vec::new();
        for g in &self.metrics {
            for rm in &mut request.resource_metrics {
                let resource = &mut rm.resource;
                if g.context == Context::Resource {
                    self.run_resource(g, resource, &mut cache)?;
                    continue;
                }
                for sm in &mut rm.scope_metrics {
                    let scope = &mut sm.scope;
                    if g.context == Context::Scope {
                        self.run_scope(g, resource, scope, &mut cache)?;
                        continue;
                    }
                    for metric in &mut sm.metrics {
                        if g.context == Context::Metric {
                            self.run(
                                g,
                                &mut TargetMut {
                                    item: ItemMut::Metric(metric),
                                    resource,
                                    scope,
                                    cache: &mut cache,
                                },
                            )?;
                        } else {
                            self.run_points(g, metric, resource, scope, &mut cache)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs a data point group over the points of `metric`. The points are taken out of the
    /// metric meanwhile (its kind, temporality and monotonicity stay), so that `metric.*`
    /// paths can be read and written beside the point.
    fn run_points(
        &self,
        g: &Group,
        metric: &mut Metric,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        cache: &mut Vec<KeyValue>,
    ) -> Result<(), TransformError> {
        macro_rules! points {
            ($variant:ident, $point:ident) => {{
                let mut taken = match metric.data.as_mut() {
                    Some(Data::$variant(inner)) => std::mem::take(&mut inner.data_points),
                    _ => return Ok(()),
                };
                let result = taken.iter_mut().try_for_each(|p| {
                    self.run(
                        g,
                        &mut TargetMut {
                            item: ItemMut::DataPoint(PointMut::$point(p), metric),
                            resource,
                            scope,
                            cache,
                        },
                    )
                });
                // No statement changes the metric's kind: the points go back where they were.
                if let Some(Data::$variant(inner)) = metric.data.as_mut() {
                    inner.data_points = taken;
                }
                result
            }};
        }
        match metric.data {
            Some(Data::Gauge(_)) => points!(Gauge, Number),
            Some(Data::Sum(_)) => points!(Sum, Number),
            Some(Data::Histogram(_)) => points!(Histogram, Histogram),
            Some(Data::ExponentialHistogram(_)) => points!(ExponentialHistogram, ExpHistogram),
            Some(Data::Summary(_)) => points!(Summary, Summary),
            None => Ok(()),
        }
    }
}
