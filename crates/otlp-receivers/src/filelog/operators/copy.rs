//! `copy`: copies a field (`from`) to another (`to`); a missing `from` is an error.

use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::moves::FromTo;
use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field};

pub(crate) struct Copy {
    from: Field,
    to: Field,
}

impl Copy {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Copy, ConfigError> {
        let c: FromTo = r.parse(rest)?;
        Ok(Copy {
            from: r.field("from", &c.from)?,
            to: r.field("to", &c.to)?,
        })
    }
}

impl Operator for Copy {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        let value = self.from.get(entry).cloned().ok_or_else(|| {
            format!(
                "copy: from field does not exist in this entry: {}",
                self.from
            )
        })?;
        self.to.set(entry, value)?;
        Ok(Step::Next)
    }
}
