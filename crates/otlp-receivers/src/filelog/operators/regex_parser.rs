//! `regex_parser`: the named groups of `regex` (RE2 syntax, `(?P<name>…)`) become string
//! values in `parse_to`; a group that did not take part is an empty string, as in Go. A line
//! the expression does not match is an error (`on_error`). `cache` is accepted (the Rust
//! regex engine needs no result cache).

use serde::Deserialize;
use serde_json::{Map, Value};
use serde_yaml_ng::Mapping;

use otlp_pipeline::config::ConfigError;
use regex::Regex;

use super::parser::{ParserCommon, split};
use super::{Operator, Resolver, Step};
use crate::filelog::entry::Entry;

pub(crate) struct RegexParser {
    common: ParserCommon,
    regex: Regex,
    names: Vec<(usize, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Own {
    regex: String,
    #[serde(default)]
    #[allow(dead_code)]
    cache: Option<serde_yaml_ng::Value>,
}

impl RegexParser {
    pub(crate) fn build(rest: &Mapping, r: &Resolver<'_>) -> Result<RegexParser, ConfigError> {
        let (common, own) = split(rest, &["regex", "cache"]);
        let own: Own = r.parse(&own)?;
        let regex = Regex::new(&own.regex)
            .map_err(|e| r.error("regex", format!("bad regular expression: {e}")))?;
        let names: Vec<(usize, String)> = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, n.to_owned())))
            .collect();
        if names.is_empty() {
            return Err(r.error("regex", "must have at least one named group (?P<name>...)"));
        }
        Ok(RegexParser {
            common: ParserCommon::build(&common, r)?,
            regex,
            names,
        })
    }
}

impl Operator for RegexParser {
    fn process(&self, entry: &mut Entry) -> Result<Step, String> {
        let source = self.common.source(entry)?;
        let Value::String(text) = source.as_ref() else {
            return Err(format!(
                "type '{}' cannot be parsed as regex",
                super::type_name(source.as_ref())
            ));
        };
        let captures = self
            .regex
            .captures(text)
            .ok_or_else(|| "regex pattern does not match".to_owned())?;
        let mut map = Map::new();
        for (i, name) in &self.names {
            let value = captures.get(*i).map_or("", |m| m.as_str());
            map.insert(name.clone(), Value::String(value.to_owned()));
        }
        drop(source);
        self.common.finish(entry, Value::Object(map))
    }
}
