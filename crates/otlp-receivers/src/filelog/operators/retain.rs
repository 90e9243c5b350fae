//! `retain`: keeps only the listed `fields` of each part (body, attributes, resource) that a
//! listed field names; the other parts are left alone.

use serde::Deserialize;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::{Operator, Resolver, Step};
use crate::filelog::entry::{Entry, Field, Root};

pub(crate) struct Retain {
    fields: Vec<Field>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    fields: Vec<String>,
}

impl Retain {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<Retain, ConfigError> {
        let c: Config = r.parse(rest)?;
        if c.fields.is_empty() {
            return Err(r.error("fields", "at least one field is required"));
        }
        let fields = c
            .fields
            .iter()
            .map(|f| r.field("fields", f))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Retain { fields })
    }
}

impl Operator for Retain {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        for root in [Root::Body, Root::Attributes, Root::Resource] {
            let listed: Vec<&Field> = self.fields.iter().filter(|f| f.root == root).collect();
            if listed.is_empty() {
                continue;
            }
            let kept: Vec<(&Field, serde_json::Value)> = listed
                .iter()
                .filter_map(|f| f.get(entry).cloned().map(|v| (*f, v)))
                .collect();
            match root {
                Root::Body => {
                    if entry.body.is_object() {
                        entry.body = serde_json::Value::Object(serde_json::Map::new());
                    }
                }
                Root::Attributes => entry.attributes.clear(),
                Root::Resource => entry.resource.clear(),
            }
            for (field, value) in kept {
                field.set(entry, value)?;
            }
        }
        Ok(Step::Next)
    }
}
