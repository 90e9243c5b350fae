//! `routing`: otelcol-contrib's routing connector. Each piece of data goes to the pipelines of
//! the first route of `table` whose condition it meets, or to `default_pipelines` when none
//! does (dropped when there are none, as otelcol does).
//!
//! A route's `context` says what a piece is: a whole resource (`resource`, the default), a
//! span, a metric, a data point or a log record (each travelling with copies of its resource
//! and scope), or the whole request (`request`: `request["X-Tenant"] == "acme"` over the
//! request's metadata, which the `otlp` receiver passes on with `include_metadata: true`).
//! Routes are tried in order on what earlier routes left, so a `log` route can take the
//! low-severity records and a `resource` route after it the rest by service.
//!
//! A condition that fails to evaluate refuses the request (permanently) under
//! `error_mode: propagate`; under `ignore` (logged) and `silent` it counts as not met. What
//! the chosen pipelines answer — success, a refusal, a retry delay — is what the sender gets
//! (merged, retryable first, as a fan-out merges).
//!
//! Data that goes whole to one set of pipelines is passed on as it came (its received bytes
//! included), so routing by resource does not re-encode; only data split between routes is
//! rebuilt.

mod config;
mod split;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use otlp_ottl::{Condition, Target};
use otlp_pipeline::config::{PipelineId, parse_config};
use otlp_pipeline::factory::{ComponentConfig, Factory};
use otlp_pipeline::graph::{BoxFuture, join_all};
use otlp_pipeline::{
    ComponentId, ConfigError, Connector, ConnectorContext, ConnectorFactory, ConsumeError,
    Consumer, Context, Payload, Signal, Telemetry,
};
use serde_yaml_ng::Value;

use config::Matcher;
pub use config::{RouteConfig, RoutingConfig};

use otlp_ottl::ErrorMode;

/// The pairs it connects: each of traces, metrics and logs to itself.
pub const PAIRS: &[(Signal, Signal)] = &[
    (Signal::Traces, Signal::Traces),
    (Signal::Metrics, Signal::Metrics),
    (Signal::Logs, Signal::Logs),
];

struct Route {
    matcher: Matcher,
    /// Indices into `Routing::pipelines`.
    pipelines: Vec<usize>,
}

/// One instance, for one signal.
struct Routing {
    id: ComponentId,
    routes: Vec<Route>,
    default: Vec<usize>,
    pipelines: Vec<(PipelineId, Arc<dyn Consumer>)>,
    error_mode: ErrorMode,
}

/// The `routing` factory.
pub fn factory() -> impl ConnectorFactory {
    RoutingFactory
}

struct RoutingFactory;

fn parse(config: &Value) -> Result<RoutingConfig, ConfigError> {
    let parsed: RoutingConfig = parse_config(config)?;
    parsed.validate()?;
    Ok(parsed)
}

/// Resolves pipeline names against the pipelines the instance feeds.
fn resolve(
    names: &[String],
    key: &str,
    to: Signal,
    feeds: &[PipelineId],
) -> Result<Vec<usize>, ConfigError> {
    names
        .iter()
        .map(|name| {
            let id: PipelineId = name.parse().map_err(|_| {
                ConfigError::bad_value(key, format!("\"{name}\" is not a pipeline id"))
            })?;
            feeds.iter().position(|p| *p == id).ok_or_else(|| {
                let listed: Vec<String> = feeds.iter().map(ToString::to_string).collect();
                ConfigError::bad_value(
                    key,
                    format!(
                        "pipeline \"{name}\" does not receive {to} from this connector (those that do: {})",
                        listed.join(", ")
                    ),
                )
            })
        })
        .collect()
}

fn compile(
    config: &RoutingConfig,
    to: Signal,
    feeds: &[PipelineId],
) -> Result<(Vec<Route>, Vec<usize>), ConfigError> {
    let mut routes = Vec::new();
    for (i, route) in config.table.iter().enumerate() {
        let matcher = route.compile(i)?;
        if !matcher.fits(to) {
            return Err(ConfigError::bad_value(
                format!("table[{i}]::context"),
                format!(
                    "context \"{}\" cannot route {to}",
                    route.context.as_deref().unwrap_or("resource")
                ),
            ));
        }
        let pipelines = resolve(
            &route.pipelines,
            &format!("table[{i}]::pipelines"),
            to,
            feeds,
        )?;
        routes.push(Route { matcher, pipelines });
    }
    let default = resolve(&config.default_pipelines, "default_pipelines", to, feeds)?;
    Ok((routes, default))
}

impl Factory for RoutingFactory {
    fn type_name(&self) -> &str {
        "routing"
    }

    fn default_config(&self) -> Value {
        serde_yaml_ng::to_value(RoutingConfig::default()).unwrap_or(Value::Null)
    }

    fn validate(&self, config: &Value) -> Result<(), ConfigError> {
        parse(config).map(|_| ())
    }
}

impl ConnectorFactory for RoutingFactory {
    fn supported_pairs(&self) -> &[(Signal, Signal)] {
        PAIRS
    }

    fn validate_for_pipelines(
        &self,
        config: &Value,
        _from: Signal,
        to: Signal,
        to_pipelines: &[PipelineId],
    ) -> Result<(), ConfigError> {
        compile(&parse(config)?, to, to_pipelines).map(|_| ())
    }

    fn create(
        &self,
        ctx: ConnectorContext,
        config: Value,
    ) -> Result<Box<dyn Connector>, ConfigError> {
        let config = parse(&config)?;
        let feeds: Vec<PipelineId> = ctx.pipelines.iter().map(|(p, _)| p.clone()).collect();
        let (routes, default) = compile(&config, ctx.to, &feeds)?;
        Ok(Box::new(Routing {
            id: ctx.id,
            routes,
            default,
            pipelines: ctx.pipelines,
            error_mode: config.error_mode,
        }))
    }
}

impl Routing {
    fn test(&self, condition: &Condition, target: &Target<'_>) -> Result<bool, String> {
        match condition.eval(target) {
            Ok(met) => Ok(met),
            Err(error) => match self.error_mode {
                ErrorMode::Propagate => Err(error.to_string()),
                ErrorMode::Ignore => {
                    tracing::warn!(connector = %self.id, %error, "routing condition failed; treated as not met");
                    Ok(false)
                }
                ErrorMode::Silent => Ok(false),
            },
        }
    }

    /// The route every resource of `data` goes to, when it is one and the same for all of
    /// them and no route looks inside a resource: the data can then go on whole.
    fn whole_route(&self, data: &Telemetry) -> Result<Option<Option<usize>>, String> {
        let item_level = self.routes.iter().any(
            |r| matches!(r.matcher, Matcher::Ottl(_, ctx) if ctx != otlp_ottl::Context::Resource),
        );
        if item_level {
            return Ok(None);
        }
        let metadata = data
            .context()
            .client()
            .map(|c| c.metadata.clone())
            .unwrap_or_default();
        let resources: Vec<Option<&otlp_proto::resource::v1::Resource>> = match data.payload() {
            Payload::Traces(r) => r
                .resource_spans
                .iter()
                .map(|x| x.resource.as_ref())
                .collect(),
            Payload::Metrics(r) => r
                .resource_metrics
                .iter()
                .map(|x| x.resource.as_ref())
                .collect(),
            Payload::Logs(r) => r
                .resource_logs
                .iter()
                .map(|x| x.resource.as_ref())
                .collect(),
            Payload::Profiles(_) => return Ok(None),
        };
        let mut chosen: Option<Option<usize>> = None;
        for resource in resources {
            let mut route = None;
            for (i, r) in self.routes.iter().enumerate() {
                let met = match &r.matcher {
                    Matcher::Request { key, value, equal } => {
                        split::request_matches(key, value, *equal, &metadata)
                    }
                    Matcher::Ottl(condition, _) => self.test(
                        condition,
                        &Target {
                            item: otlp_ottl::Item::Resource,
                            resource,
                            scope: None,
                        },
                    )?,
                };
                if met {
                    route = Some(i);
                    break;
                }
            }
            match chosen {
                None => chosen = Some(route),
                Some(c) if c == route => {}
                Some(_) => return Ok(None),
            }
        }
        Ok(chosen)
    }

    /// Splits the request between routes: per pipeline index, what it gets.
    fn split(&self, payload: Payload, context: &Context) -> Result<Vec<(usize, Payload)>, String> {
        let metadata = context
            .client()
            .map(|c| c.metadata.clone())
            .unwrap_or_default();
        let test = |c: &Condition, t: &Target<'_>| self.test(c, t);
        let mut out: Vec<(usize, Payload)> = Vec::new();
        let deliver = |targets: &[usize], part: Payload, out: &mut Vec<(usize, Payload)>| {
            if part.is_empty() {
                return;
            }
            let mut part = Some(part);
            for (n, &target) in targets.iter().enumerate() {
                // The last target takes the part itself; the others a copy.
                let piece = if n + 1 == targets.len() {
                    part.take()
                } else {
                    part.clone()
                };
                let Some(piece) = piece else { break };
                match out.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, existing)) => append(existing, piece),
                    None => out.push((target, piece)),
                }
            }
        };
        match payload {
            Payload::Traces(mut remaining) => {
                for route in &self.routes {
                    if remaining.resource_spans.is_empty() {
                        break;
                    }
                    let part =
                        split::take_traces(&mut remaining, &route.matcher, &metadata, &test)?;
                    deliver(&route.pipelines, Payload::Traces(part), &mut out);
                }
                deliver(&self.default, Payload::Traces(remaining), &mut out);
            }
            Payload::Metrics(mut remaining) => {
                for route in &self.routes {
                    if remaining.resource_metrics.is_empty() {
                        break;
                    }
                    let part =
                        split::take_metrics(&mut remaining, &route.matcher, &metadata, &test)?;
                    deliver(&route.pipelines, Payload::Metrics(part), &mut out);
                }
                deliver(&self.default, Payload::Metrics(remaining), &mut out);
            }
            Payload::Logs(mut remaining) => {
                for route in &self.routes {
                    if remaining.resource_logs.is_empty() {
                        break;
                    }
                    let part = split::take_logs(&mut remaining, &route.matcher, &metadata, &test)?;
                    deliver(&route.pipelines, Payload::Logs(part), &mut out);
                }
                deliver(&self.default, Payload::Logs(remaining), &mut out);
            }
            Payload::Profiles(_) => {}
        }
        Ok(out)
    }

    async fn send(&self, parts: Vec<(usize, Telemetry)>) -> Result<(), ConsumeError> {
        let futures: Vec<BoxFuture<'_, Result<(), ConsumeError>>> = parts
            .into_iter()
            .filter_map(|(index, data)| {
                let consumer = self.pipelines.get(index)?.1.clone();
                Some(Box::pin(async move { consumer.consume(data).await })
                    as BoxFuture<'_, Result<(), ConsumeError>>)
            })
            .collect();
        let errors = join_all(futures).await.into_iter().filter_map(Result::err);
        match ConsumeError::merge(errors) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Appends the resources of `more` to `into` (same signal).
fn append(into: &mut Payload, more: Payload) {
    match (into, more) {
        (Payload::Traces(a), Payload::Traces(b)) => a.resource_spans.extend(b.resource_spans),
        (Payload::Metrics(a), Payload::Metrics(b)) => {
            a.resource_metrics.extend(b.resource_metrics);
        }
        (Payload::Logs(a), Payload::Logs(b)) => a.resource_logs.extend(b.resource_logs),
        (Payload::Profiles(_), Payload::Profiles(_)) | (_, _) => {}
    }
}

#[async_trait]
impl Consumer for Routing {
    async fn consume(&self, data: Telemetry) -> Result<(), ConsumeError> {
        let refuse = |message: String| {
            ConsumeError::permanent(format!("routing condition failed: {message}"))
        };
        if let Some(route) = self.whole_route(&data).map_err(refuse)? {
            let targets = match route {
                Some(i) => self
                    .routes
                    .get(i)
                    .map(|r| r.pipelines.as_slice())
                    .unwrap_or(&[]),
                None => self.default.as_slice(),
            };
            let parts = targets.iter().map(|&t| (t, data.clone())).collect();
            return self.send(parts).await;
        }
        let (payload, context) = data.into_parts();
        let parts = self.split(payload, &context).map_err(refuse)?;
        let parts = parts
            .into_iter()
            .map(|(t, payload)| (t, Telemetry::new(payload).with_context(context.clone())))
            .collect();
        self.send(parts).await
    }
}

impl Connector for Routing {}
