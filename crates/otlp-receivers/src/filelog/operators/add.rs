//! `add`: sets `field` to a static `value` (a string, number, boolean, map or list;
//! `EXPR(...)` values are outside the supported subset).

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

pub(crate) struct Add {
    field: Field,
    value: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: String,
    value: Value,
}

impl Add {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Add, ConfigError> {
        let c: Config = r.parse(rest)?;
        if let Value::String(s) = &c.value
            && s.starts_with("EXPR(")
        {
            return Err(r.error("value", "EXPR(...) values are not supported"));
        }
        Ok(Add {
            field: r.field("field", &c.field)?,
            value: c.value,
        })
    }
}

impl Operator for Add {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        self.field.set(entry, self.value.clone())?;
        Ok(Step::Next)
    }
}
