//! `ottl_condition`: OTTL conditions on spans (`span`) and span events (`spanevent`),
//! evaluated span by span (then its events); the first true condition samples the trace.

use otlp_ottl::{Condition, Context, Item, Target};
use otlp_pipeline::config::ConfigError;
use tokio::time::Instant;

use super::{Decision, EvalError, Evaluator, TraceView};
use crate::tail_sampling::config::{ErrorMode, OttlConditionConfig};

/// The compiled policy.
#[derive(Debug)]
pub(crate) struct OttlCondition {
    span: Vec<Condition>,
    event: Vec<Condition>,
    error_mode: ErrorMode,
}

/// Compiles `conditions` (the list at `at::field`) for `context`.
fn compile(
    conditions: &[String],
    context: Context,
    at: &str,
    field: &str,
) -> Result<Vec<Condition>, ConfigError> {
    conditions
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Condition::parse(text, context).map_err(|e| {
                ConfigError::bad_value(
                    format!("{at}::{field}[{i}]"),
                    format!("condition {text:?}: {e}"),
                )
            })
        })
        .collect()
}

impl OttlCondition {
    pub(crate) fn new(
        config: &OttlConditionConfig,
        at: &str,
    ) -> Result<OttlCondition, ConfigError> {
        if config.span.is_empty() && config.spanevent.is_empty() {
            return Err(ConfigError::bad_value(
                format!("{at}::span"),
                "at least one span or spanevent condition is required",
            ));
        }
        Ok(OttlCondition {
            span: compile(&config.span, Context::Span, at, "span")?,
            event: compile(&config.spanevent, Context::SpanEvent, at, "spanevent")?,
            error_mode: config.error_mode,
        })
    }

    /// Whether any of `conditions` holds for `target`, errors following `error_mode`.
    fn any(&self, conditions: &[Condition], target: &Target<'_>) -> Result<bool, EvalError> {
        for condition in conditions {
            match condition.eval(target) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => match self.error_mode {
                    ErrorMode::Propagate => return Err(EvalError(e.0)),
                    ErrorMode::Ignore => {
                        tracing::warn!(error = %e.0, "tail_sampling: an OTTL condition failed; counted as false");
                    }
                    ErrorMode::Silent => {}
                },
            }
        }
        Ok(false)
    }
}

impl Evaluator for OttlCondition {
    fn evaluate(&mut self, trace: &TraceView<'_>, _: Instant) -> Result<Decision, EvalError> {
        for (resource, scope, span) in trace.spans() {
            let target = Target {
                item: Item::Span(span),
                resource,
                scope,
            };
            if self.any(&self.span, &target)? {
                return Ok(Decision::Sampled);
            }
            for event in &span.events {
                let target = Target {
                    item: Item::SpanEvent(event, span),
                    resource,
                    scope,
                };
                if self.any(&self.event, &target)? {
                    return Ok(Decision::Sampled);
                }
            }
        }
        Ok(Decision::NotSampled)
    }
}
