//! `move`: moves a field (`from`) to another (`to`); a missing `from` is an error.

use serde::Deserialize;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

pub(crate) struct Move {
    from: Field,
    to: Field,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FromTo {
    pub(crate) from: String,
    pub(crate) to: String,
}

impl Move {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Move, ConfigError> {
        let c: FromTo = r.parse(rest)?;
        Ok(Move {
            from: r.field("from", &c.from)?,
            to: r.field("to", &c.to)?,
        })
    }
}

impl Operator for Move {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        let value = self
            .from
            .delete(entry)
            .ok_or_else(|| format!("move: field does not exist: {}", self.from))?;
        self.to.set(entry, value)?;
        Ok(Step::Next)
    }
}
