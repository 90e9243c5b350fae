//! `json_parser`: parses a JSON object string into `parse_to`. Numbers become doubles, as
//! stanza's (Go `float64`), unless `parse_ints: true` keeps integers as integers.

use serde::Deserialize;
use serde_json::Value;
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;

use super::parser::{ParserCommon, split};
use super::{Operator, Resolver, Step};
use crate::filelog::entry::Entry;

pub(crate) struct JsonParser {
    common: ParserCommon,
    parse_ints: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Own {
    #[serde(default)]
    parse_ints: bool,
}

impl JsonParser {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<JsonParser, ConfigError> {
        let (common, own) = split(rest, &["parse_ints"]);
        let own: Own = r.parse(&own)?;
        Ok(JsonParser {
            common: ParserCommon::build(&common, r)?,
            parse_ints: own.parse_ints,
        })
    }
}

/// Numbers as Go's `float64` (or integers kept with `parse_ints`).
pub(crate) fn normalise_numbers(value: &mut Value, keep_ints: bool) {
    match value {
        Value::Number(n) => {
            if keep_ints && (n.is_i64() || n.is_u64()) {
                return;
            }
            if let Some(f) = n.as_f64()
                && let Some(num) = serde_json::Number::from_f64(f)
            {
                *n = num;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| normalise_numbers(v, keep_ints)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| normalise_numbers(v, keep_ints)),
        _ => {}
    }
}

impl Operator for JsonParser {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        let source = self.common.source(entry)?;
        let Value::String(text) = source.as_ref() else {
            return Err(format!(
                "type {} cannot be parsed as JSON",
                super::type_name(source.as_ref())
            ));
        };
        let mut parsed: Value =
            serde_json::from_str(text).map_err(|e| format!("cannot parse JSON: {e}"))?;
        if !parsed.is_object() {
            return Err("the JSON is not an object".into());
        }
        normalise_numbers(&mut parsed, self.parse_ints);
        self.common.finish(entry, parsed)
    }
}
