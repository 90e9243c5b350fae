//! The stanza operators (`operators:`): each entry runs through them in order, or along the
//! `output` / router edges, as stanza does. One file per operator; this module parses the
//! list (ids, outputs, `on_error`, `if`), checks the graph (unknown outputs, duplicate ids,
//! loops) and runs an entry through it.
//!
//! Supported types: `json_parser`, `regex_parser`, `severity_parser`, `time_parser`,
//! `container`, `router`, `filter`, `move`, `copy`, `add`, `remove`, `retain`, `flatten`,
//! `noop`. Any other type is a configuration error naming it.

mod add;
mod container;
mod copy;
mod filter;
mod flatten;
mod json_parser;
mod moves;
mod parser;
mod regex_parser;
mod remove;
mod retain;
mod router;
pub(crate) mod severity_parser;
pub(crate) mod time_parser;

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_yaml_ng::{Mapping, Value};

use otlp_pipeline::config::ConfigError;

use super::entry::Entry;
use super::expr::Expr;

/// What an operator decided for the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on to this operator's output.
    Next,
    /// Drop the entry.
    Drop,
    /// Go to the operator at this index (routers).
    Goto(usize),
    /// The entry is kept by the operator (a partial container line waiting for the rest).
    Held,
}

/// One operator's work on one entry.
pub(crate) trait Operator: Send + Sync {
    /// Transforms the entry; an error goes to the node's `on_error`.
    fn process(&self, entry: &mut Entry) -> Result<Step, String>;

    /// The operators this one may send to besides its output (a router's routes).
    fn targets(&self) -> Vec<usize> {
        Vec::new()
    }
}

/// `on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    Send,
    SendQuiet,
    Drop,
    DropQuiet,
}

struct Node {
    id: String,
    type_name: String,
    operator: Box<dyn Operator>,
    /// `None`: the entry leaves the receiver.
    next: Option<usize>,
    on_error: OnError,
    condition: Option<Expr>,
}

/// The compiled operator graph.
pub(crate) struct Pipeline {
    nodes: Vec<Node>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        f.debug_struct("Pipeline").field("operators", &ids).finish()
    }
}

/// What building an operator can look up: the index of an operator id.
pub(crate) struct Resolver<'a> {
    ids: &'a HashMap<String, usize>,
    place: String,
}

impl Resolver<'_> {
    pub(crate) fn output(&self, key: &str, id: &str) -> Result<usize, ConfigError> {
        self.ids.get(id).copied().ok_or_else(|| {
            ConfigError::bad_value(
                format!("{}::{key}", self.place),
                format!("\"{id}\" is not the id of an operator"),
            )
        })
    }

    pub(crate) fn error(&self, key: &str, message: impl std::fmt::Display) -> ConfigError {
        let path = if key.is_empty() {
            self.place.clone()
        } else {
            format!("{}::{key}", self.place)
        };
        ConfigError::bad_value(path, message)
    }

    /// Parses the operator's own keys (the common ones removed) into `C`.
    pub(crate) fn parse<C: DeserializeOwned>(&self, rest: &Mapping) -> Result<C, ConfigError> {
        serde_yaml_ng::from_value(Value::Mapping(rest.clone()))
            .map_err(|e| ConfigError::bad_value(self.place.clone(), e.to_string()))
    }

    /// An expression key, compiled.
    pub(crate) fn expr(&self, key: &str, text: &str) -> Result<Expr, ConfigError> {
        Expr::parse(text).map_err(|e| {
            self.error(
                key,
                format!("expression \"{text}\" is outside the supported subset: {e}"),
            )
        })
    }

    /// A field key, parsed.
    pub(crate) fn field(&self, key: &str, text: &str) -> Result<super::entry::Field, ConfigError> {
        super::entry::Field::parse(text).map_err(|e| self.error(key, e))
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn outputs(value: Option<&Value>, place: &str) -> Result<Option<String>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Sequence(list)) if list.len() <= 1 => Ok(list.first().and_then(text)),
        Some(_) => Err(ConfigError::bad_value(
            format!("{place}::output"),
            "must be one operator id (several outputs are not supported)",
        )),
    }
}

impl Pipeline {
    /// Builds the graph from `operators:`.
    pub(crate) fn build(configs: &[Value]) -> Result<Pipeline, ConfigError> {
        struct Parsed {
            id: String,
            type_name: String,
            output: Option<String>,
            on_error: OnError,
            condition: Option<String>,
            rest: Mapping,
        }
        let mut parsed = Vec::new();
        let mut ids = HashMap::new();
        for (i, config) in configs.iter().enumerate() {
            let place = format!("operators[{i}]");
            let Value::Mapping(map) = config else {
                return Err(ConfigError::bad_value(place, "must be a map with a type"));
            };
            let mut rest = map.clone();
            let type_name = rest
                .remove("type")
                .as_ref()
                .and_then(text)
                .ok_or_else(|| ConfigError::bad_value(format!("{place}::type"), "required"))?;
            let explicit = rest.remove("id").as_ref().and_then(text);
            let id = match explicit {
                Some(id) => id,
                // stanza's default: the type, then type1, type2, … for later ones.
                None => {
                    let mut id = type_name.clone();
                    let mut n = 0;
                    while ids.contains_key(&id)
                        || configs.iter().any(|c| {
                            c.get("id").and_then(serde_yaml_ng::Value::as_str) == Some(id.as_str())
                        })
                    {
                        n += 1;
                        id = format!("{type_name}{n}");
                    }
                    id
                }
            };
            let output = outputs(rest.remove("output").as_ref(), &place)?;
            let on_error = match rest.remove("on_error").as_ref().and_then(text).as_deref() {
                None | Some("send") => OnError::Send,
                Some("send_quiet") => OnError::SendQuiet,
                Some("drop") => OnError::Drop,
                Some("drop_quiet") => OnError::DropQuiet,
                Some(other) => {
                    return Err(ConfigError::bad_value(
                        format!("{place}::on_error"),
                        format!("\"{other}\": must be send, send_quiet, drop or drop_quiet"),
                    ));
                }
            };
            let condition = rest.remove("if").as_ref().and_then(text);
            if ids.insert(id.clone(), i).is_some() {
                return Err(ConfigError::bad_value(
                    format!("{place}::id"),
                    format!("\"{id}\" is used by two operators"),
                ));
            }
            parsed.push(Parsed {
                id,
                type_name,
                output,
                on_error,
                condition,
                rest,
            });
        }
        let mut nodes = Vec::with_capacity(parsed.len());
        let count = parsed.len();
        for (i, p) in parsed.into_iter().enumerate() {
            let resolver = Resolver {
                ids: &ids,
                place: format!("operators[{i}] ({})", p.id),
            };
            let next = match &p.output {
                Some(id) => Some(resolver.output("output", id)?),
                None => (i + 1 < count).then_some(i + 1),
            };
            let condition = p
                .condition
                .as_deref()
                .map(|c| resolver.expr("if", c))
                .transpose()?;
            let operator = build_operator(&p.type_name, &p.rest, &resolver)?;
            nodes.push(Node {
                id: p.id,
                type_name: p.type_name,
                operator,
                next,
                on_error: p.on_error,
                condition,
            });
        }
        let pipeline = Pipeline { nodes };
        pipeline.check_loops(configs)?;
        Ok(pipeline)
    }

    fn edges(&self, i: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self.nodes[i].next.into_iter().collect();
        out.extend(self.nodes[i].operator.targets());
        out
    }

    fn check_loops(&self, _configs: &[Value]) -> Result<(), ConfigError> {
        // 0 unvisited, 1 on the stack, 2 done; iterative depth-first search.
        let mut state = vec![0u8; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, self.edges(start), 0usize)];
            state[start] = 1;
            while let Some((node, edges, pos)) = stack.last_mut() {
                if *pos < edges.len() {
                    let to = edges[*pos];
                    *pos += 1;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            let e = self.edges(to);
                            stack.push((to, e, 0));
                        }
                        1 => {
                            return Err(ConfigError::bad_value(
                                "operators",
                                format!(
                                    "the outputs form a loop through \"{}\"",
                                    self.nodes[to].id
                                ),
                            ));
                        }
                        _ => {}
                    }
                } else {
                    state[*node] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    /// Runs one entry through the graph: `Some` when it leaves to be sent, `None` when an
    /// operator dropped or kept it. Errors are counted in `errors`.
    pub(crate) fn run(&self, mut entry: Entry, errors: &mut u64) -> Option<Entry> {
        let mut at = if self.nodes.is_empty() { None } else { Some(0) };
        // The graph has no loop (checked at build), so every path is at most n long.
        let mut steps = 0;
        while let Some(i) = at {
            steps += 1;
            if steps > self.nodes.len() + 1 {
                return Some(entry);
            }
            let node = &self.nodes[i];
            if let Some(condition) = &node.condition
                && !condition.eval(&entry)
            {
                at = node.next;
                continue;
            }
            match node.operator.process(&mut entry) {
                Ok(Step::Next) => at = node.next,
                Ok(Step::Goto(to)) => at = Some(to),
                Ok(Step::Drop | Step::Held) => return None,
                Err(error) => {
                    *errors += 1;
                    match node.on_error {
                        OnError::Send | OnError::Drop => tracing::warn!(
                            operator = %node.id,
                            r#type = %node.type_name,
                            %error,
                            "filelog operator failed on an entry"
                        ),
                        OnError::SendQuiet | OnError::DropQuiet => tracing::debug!(
                            operator = %node.id,
                            %error,
                            "filelog operator failed on an entry"
                        ),
                    }
                    match node.on_error {
                        OnError::Send | OnError::SendQuiet => at = node.next,
                        OnError::Drop | OnError::DropQuiet => return None,
                    }
                }
            }
        }
        Some(entry)
    }
}

fn build_operator(
    type_name: &str,
    rest: &Mapping,
    r: &Resolver<'_>,
) -> Result<Box<dyn Operator>, ConfigError> {
    Ok(match type_name {
        "noop" => {
            r.parse::<Empty>(rest)?;
            Box::new(Noop)
        }
        "json_parser" => Box::new(json_parser::JsonParser::build(rest, r)?),
        "regex_parser" => Box::new(regex_parser::RegexParser::build(rest, r)?),
        "severity_parser" => Box::new(severity_parser::SeverityOperator::build(rest, r)?),
        "time_parser" => Box::new(time_parser::TimeOperator::build(rest, r)?),
        "container" => Box::new(container::Container::build(rest, r)?),
        "router" => Box::new(router::Router::build(rest, r)?),
        "filter" => Box::new(filter::Filter::build(rest, r)?),
        "move" => Box::new(moves::Move::build(rest, r)?),
        "copy" => Box::new(copy::Copy::build(rest, r)?),
        "add" => Box::new(add::Add::build(rest, r)?),
        "remove" => Box::new(remove::Remove::build(rest, r)?),
        "retain" => Box::new(retain::Retain::build(rest, r)?),
        "flatten" => Box::new(flatten::Flatten::build(rest, r)?),
        other => {
            return Err(r.error(
                "type",
                format!(
                    "operator type \"{other}\" is not supported (json_parser, regex_parser, \
                     severity_parser, time_parser, container, router, filter, move, copy, add, \
                     remove, retain, flatten, noop)"
                ),
            ));
        }
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

struct Noop;

impl Operator for Noop {
    fn process(&self, _entry: &mut Entry) -> Result<Step, String> {
        Ok(Step::Next)
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// A value's type as stanza's messages name it.
pub(crate) fn type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "nil",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "float64",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "[]interface {}",
        serde_json::Value::Object(_) => "map[string]interface {}",
    }
}
