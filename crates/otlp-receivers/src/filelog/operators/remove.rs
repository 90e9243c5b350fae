//! `remove`: deletes `field`; a missing field is an error (`on_error`).

use serde::Deserialize;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

pub(crate) struct Remove {
    field: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    field: String,
}

impl Remove {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Remove, ConfigError> {
        let c: Config = r.parse(rest)?;
        Ok(Remove {
            field: r.field("field", &c.field)?,
        })
    }
}

impl Operator for Remove {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        self.field
            .delete(entry)
            .map(|_| Step::Next)
            .ok_or_else(|| format!("remove: field does not exist: {}", self.field))
    }
}
