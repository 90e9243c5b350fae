//! `flatten`: moves the keys of the map at `field` up into its parent (one level) and removes
//! it; `field` must be a map below body, attributes or resource.

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

pub(crate) struct Flatten {
    field: Field,
    parent: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: String,
}

impl Flatten {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Flatten, ConfigError> {
        let c: Config = r.parse(rest)?;
        let field = r.field("field", &c.field)?;
        if field.keys.is_empty() {
            return Err(r.error(
                "field",
                "must name a map below body, attributes or resource",
            ));
        }
        let mut parent = field.clone();
        parent.keys.pop();
        Ok(Flatten { field, parent })
    }
}

impl Operator for Flatten {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        match self.field.get(entry) {
            Some(Value::Object(_)) => {}
            Some(_) => return Err(format!("flatten: {} is not a map", self.field)),
            None => return Err(format!("flatten: field does not exist: {}", self.field)),
        }
        let Some(Value::Object(map)) = self.field.delete(entry) else {
            return Ok(Step::Next);
        };
        for (k, v) in map {
            let mut target = self.parent.clone();
            target.keys.push(k);
            target.set(entry, v)?;
        }
        Ok(Step::Next)
    }
}
