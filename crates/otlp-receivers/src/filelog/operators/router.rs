//! `router`: the first route whose `expr` is true sends the entry to its `output` (adding the
//! route's static `attributes`); none true: `default`, else the entry is dropped.

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::Entry;
use crate::filelog::expr::Expr;

pub(crate) struct Router {
    routes: Vec<(Expr, usize, serde_json::Map<String, Value>)>,
    default: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    routes: Vec<RouteConfig>,
    #[serde(default)]
    default: Option<OneOrList>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrList {
    One(String),
    List(Vec<String>),
}

impl OneOrList {
    fn one(self, r: &Resolver<'_>, key: &str) -> Result<Option<String>, ConfigError> {
        match self {
            OneOrList::One(s) => Ok(Some(s)),
            OneOrList::List(l) if l.len() <= 1 => Ok(l.into_iter().next()),
            OneOrList::List(_) => Err(r.error(key, "must be one operator id")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteConfig {
    expr: String,
    output: OneOrList,
    #[serde(default)]
    attributes: serde_json::Map<String, Value>,
}

impl Router {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Router, ConfigError> {
        let c: Config = r.parse(rest)?;
        let mut routes = Vec::new();
        for (i, route) in c.routes.into_iter().enumerate() {
            let key = format!("routes[{i}]");
            let expr = r.expr(&format!("{key}::expr"), &route.expr)?;
            let output = route
                .output
                .one(r, &format!("{key}::output"))?
                .ok_or_else(|| r.error(&format!("{key}::output"), "required"))?;
            routes.push((
                expr,
                r.output(&format!("{key}::output"), &output)?,
                route.attributes,
            ));
        }
        let default = match c.default {
            Some(d) => d
                .one(r, "default")?
                .map(|id| r.output("default", &id))
                .transpose()?,
            None => None,
        };
        Ok(Router { routes, default })
    }
}

impl Operator for Router {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        for (expr, output, attributes) in &self.routes {
            if expr.eval(entry) {
                for (k, v) in attributes {
                    entry.attributes.insert(k.clone(), v.clone());
                }
                return Ok(Step::Goto(*output));
            }
        }
        Ok(self.default.map_or(Step::Drop, Step::Goto))
    }

    fn targets(&self) -> Vec<usize> {
        self.routes
            .iter()
            .map(|(_, o, _)| *o)
            .chain(self.default)
            .collect()
    }
}
