//! The `routing` connector's configuration (otelcol-contrib's keys) and its compilation into
//! routes: OTTL conditions per context, or the `request` context's metadata comparison.

use otlp_ottl::{Condition, Context};
use otlp_pipeline::factory::ComponentConfig;
use otlp_pipeline::{ConfigError, Signal};
use serde::{Deserialize, Serialize};

use otlp_ottl::ErrorMode;

/// `connectors: routing: {...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingConfig {
    /// Pipelines for what no route matched; without them it is dropped.
    pub default_pipelines: Vec<String>,
    /// How a condition that fails to evaluate is treated.
    pub error_mode: ErrorMode,
    /// The routes, tried in order; the first that matches a piece of data takes it.
    pub table: Vec<RouteConfig>,
}

/// One entry of `table`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    /// The OTTL context of the condition: `resource` (default), `span`, `metric`,
    /// `datapoint`, `log` or `request`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The condition as a statement: `route() where <condition>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Where matching data goes.
    pub pipelines: Vec<String>,
}

/// A compiled route condition.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// An OTTL condition in a data context.
    Ottl(Box<Condition>, Context),
    /// `request["key"] == "value"` (or `!=`) over the request's metadata.
    Request {
        key: String,
        value: String,
        equal: bool,
    },
}

impl ComponentConfig for RoutingConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.table.is_empty() {
            return Err(ConfigError::bad_value(
                "table",
                "the routing table is empty; at least one route is required",
            ));
        }
        for (i, route) in self.table.iter().enumerate() {
            route.compile(i)?;
            if route.pipelines.is_empty() {
                return Err(ConfigError::bad_value(
                    format!("table[{i}]::pipelines"),
                    "a route needs at least one pipeline",
                ));
            }
        }
        Ok(())
    }
}

impl RouteConfig {
    /// Compiles the condition (`index` names the route in errors).
    pub(crate) fn compile(&self, index: usize) -> Result<Matcher, ConfigError> {
        let at = |key: &str| format!("table[{index}]::{key}");
        let context = self.context.as_deref().unwrap_or("resource");
        let text = match (&self.statement, &self.condition) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::bad_value(
                    at("statement"),
                    "a route has either a statement or a condition, not both",
                ));
            }
            (None, None) => {
                return Err(ConfigError::bad_value(
                    at("condition"),
                    "a route needs a condition (or a statement)",
                ));
            }
            (Some(statement), None) => {
                if context == "request" {
                    return Err(ConfigError::bad_value(
                        at("statement"),
                        "the request context takes a condition, not a statement",
                    ));
                }
                route_statement(statement).ok_or_else(|| {
                    ConfigError::bad_value(
                        at("statement"),
                        format!("expected `route() where <condition>`, found \"{statement}\""),
                    )
                })?
            }
            (None, Some(condition)) => condition.as_str(),
        };
        let key = if self.statement.is_some() {
            "statement"
        } else {
            "condition"
        };
        if context == "request" {
            return parse_request(text).ok_or_else(|| {
                ConfigError::bad_value(
                    at(key),
                    format!(
                        "the request context takes `request[\"key\"] == \"value\"` or `!=`, found \"{text}\""
                    ),
                )
            });
        }
        let ottl_context = match context {
            "resource" => Context::Resource,
            "span" => Context::Span,
            "metric" => Context::Metric,
            "datapoint" => Context::DataPoint,
            "log" => Context::Log,
            other => {
                return Err(ConfigError::bad_value(
                    at("context"),
                    format!(
                        "unknown context \"{other}\"; expected one of: resource, span, metric, datapoint, log, request"
                    ),
                ));
            }
        };
        let condition = Condition::parse(text, ottl_context)
            .map_err(|e| ConfigError::bad_value(at(key), format!("\"{text}\": {e}")))?;
        Ok(Matcher::Ottl(Box::new(condition), ottl_context))
    }
}

impl Matcher {
    /// Whether this route may be used for `signal` (`span` only for traces, ...).
    pub(crate) fn fits(&self, signal: Signal) -> bool {
        match self {
            Matcher::Request { .. } | Matcher::Ottl(_, Context::Resource) => true,
            Matcher::Ottl(_, Context::Span) => signal == Signal::Traces,
            Matcher::Ottl(_, Context::Metric | Context::DataPoint) => signal == Signal::Metrics,
            Matcher::Ottl(_, Context::Log) => signal == Signal::Logs,
            Matcher::Ottl(..) => false,
        }
    }
}

/// The condition of `route() where <condition>`.
fn route_statement(statement: &str) -> Option<&str> {
    let rest = statement.trim().strip_prefix("route")?.trim_start();
    let rest = rest.strip_prefix('(')?.trim_start().strip_prefix(')')?;
    let rest = rest.trim_start().strip_prefix("where")?;
    // `where` must end as a word.
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let condition = rest.trim();
    (!condition.is_empty()).then_some(condition)
}

/// `request["key"] == "value"` or `request["key"] != "value"`.
fn parse_request(text: &str) -> Option<Matcher> {
    let rest = text.trim().strip_prefix("request")?.trim_start();
    let rest = rest.strip_prefix('[')?.trim_start();
    let (key, rest) = quoted(rest)?;
    let rest = rest.trim_start().strip_prefix(']')?.trim_start();
    let (equal, rest) = if let Some(r) = rest.strip_prefix("==") {
        (true, r)
    } else {
        (false, rest.strip_prefix("!=")?)
    };
    let (value, rest) = quoted(rest.trim_start())?;
    if !rest.trim().is_empty() || key.is_empty() {
        return None;
    }
    Some(Matcher::Request { key, value, equal })
}

/// A double-quoted string with `\"` and `\\` escapes at the start of `text`, and what follows.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 2..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_request_conditions_parse() {
        assert_eq!(
            route_statement(r#"route() where attributes["x"] == "y""#),
            Some(r#"attributes["x"] == "y""#)
        );
        assert_eq!(route_statement("route ( ) where  a == 1 "), Some("a == 1"));
        assert_eq!(route_statement("route() wherea == 1"), None);
        assert_eq!(route_statement("set(x, 1)"), None);
        assert_eq!(route_statement("route() where "), None);
        match parse_request(r#"request["X-Tenant"] != "a\"cme""#) {
            Some(Matcher::Request { key, value, equal }) => {
                assert_eq!(
                    (key.as_str(), value.as_str(), equal),
                    ("X-Tenant", "a\"cme", false)
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_request(r#"request["X-Tenant"] == "acme" and true"#).is_none());
        assert!(parse_request(r#"request[""] == "acme""#).is_none());
        assert!(parse_request(r#"attributes["x"] == "acme""#).is_none());
    }
}
