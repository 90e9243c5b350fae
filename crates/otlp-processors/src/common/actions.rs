//! Attribute actions shared by the `attributes` and `resource` processors (otelcol's
//! `internal/coreinternal/attraction`).

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use regex::Regex;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{ConfigError, parse_go_float};
use otlp_ottl::value::{ConfigValue, as_string, describe};

/// One entry of an `actions:` (attributes processor) or `attributes:` (resource processor) list,
/// with the otelcol keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The attribute to act on (`key`). Required except for `delete`/`hash` with a `pattern`.
    #[serde(default)]
    pub key: String,
    /// The action (`action`): insert, update, upsert, delete, hash, extract or convert, in any
    /// letter case.
    #[serde(default)]
    pub action: String,
    /// A literal value (`value`) for insert, update and upsert.
    #[serde(default)]
    pub value: Option<ConfigValue>,
    /// Copy the value from this attribute of the same item (`from_attribute`).
    #[serde(default)]
    pub from_attribute: String,
    /// Copy the value from the request's client metadata (`from_context`). Accepted by the
    /// parser but refused by `build`: pure processors see no client context.
    #[serde(default)]
    pub from_context: String,
    /// A regular expression (`pattern`): matched against attribute keys for delete and hash,
    /// against the value of `key` for extract (which needs named capture groups).
    #[serde(default)]
    pub pattern: String,
    /// Target type for convert (`converted_type`): `int`, `double` or `string`.
    #[serde(default)]
    pub converted_type: String,
}

/// The action of an [`ActionConfig`], once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// Add the attribute when it is absent.
    Insert,
    /// Replace the value when the attribute is present.
    Update,
    /// Insert or update.
    Upsert,
    /// Remove the attribute and every attribute whose key matches `pattern`.
    Delete,
    /// Replace the value by the hex SHA-256 of its bytes.
    Hash,
    /// Add one string attribute per named capture group of `pattern` matched on the value.
    Extract,
    /// Change the value's type to `int`, `double` or `string`.
    Convert,
}

impl ActionKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "insert" => Self::Insert,
            "update" => Self::Update,
            "upsert" => Self::Upsert,
            "delete" => Self::Delete,
            "hash" => Self::Hash,
            "extract" => Self::Extract,
            "convert" => Self::Convert,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Int,
    Double,
    Str,
}

#[derive(Debug, Clone)]
enum Source {
    Value(AnyValue),
    FromAttribute(String),
}

#[derive(Debug, Clone)]
enum Compiled {
    Insert(String, Source),
    Update(String, Source),
    Upsert(String, Source),
    Delete(String, Option<Regex>),
    Hash(String, Option<Regex>),
    Extract(String, Regex, Vec<String>),
    Convert(String, Target),
}

/// A compiled list of attribute actions, applied in order to one attribute list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Actions {
    actions: Vec<Compiled>,
}

impl Actions {
    /// Validates and compiles `configs`; `field` is the list's name for errors (`actions`).
    pub(crate) fn compile(
        processor: &'static str,
        field: &str,
        configs: &[ActionConfig],
    ) -> Result<Self, ConfigError> {
        let mut actions = Vec::with_capacity(configs.len());
        for (i, a) in configs.iter().enumerate() {
            let at = |name: &str| format!("{field}[{i}].{name}");
            let kind = ActionKind::parse(&a.action).ok_or_else(|| {
                if a.action.is_empty() {
                    ConfigError::missing(processor, at("action"), "one of insert, update, upsert, delete, hash, extract, convert")
                } else {
                    ConfigError::invalid(
                        processor,
                        at("action"),
                        &a.action,
                        "unsupported action; expected insert, update, upsert, delete, hash, extract or convert",
                    )
                }
            })?;
            let pattern_allowed = matches!(kind, ActionKind::Delete | ActionKind::Hash);
            if a.key.is_empty() && (!pattern_allowed || a.pattern.is_empty()) {
                let reason = if pattern_allowed {
                    "at least one of \"key\" and \"pattern\" has to be set"
                } else {
                    "every action needs a key"
                };
                return Err(ConfigError::missing(processor, at("key"), reason));
            }
            let value_set = a.value.as_ref().is_some_and(|v| v.0.value.is_some());
            let sources = usize::from(value_set)
                + usize::from(!a.from_attribute.is_empty())
                + usize::from(!a.from_context.is_empty());
            let reject = |name: &str, value: &str, why: &str| {
                Err(ConfigError::invalid(
                    processor,
                    at(name),
                    value,
                    why.to_owned(),
                ))
            };
            let compiled = match kind {
                ActionKind::Insert | ActionKind::Update | ActionKind::Upsert => {
                    if sources == 0 {
                        return Err(ConfigError::missing(
                            processor,
                            at("value"),
                            "one of \"value\", \"from_attribute\" or \"from_context\" must be set",
                        ));
                    }
                    if sources > 1 {
                        return reject(
                            "value",
                            &a.value.as_ref().map(|v| describe(&v.0)).unwrap_or_default(),
                            "only one of \"value\", \"from_attribute\" and \"from_context\" may be set",
                        );
                    }
                    if !a.pattern.is_empty() {
                        return reject("pattern", &a.pattern, "not used by this action");
                    }
                    if !a.converted_type.is_empty() {
                        return reject(
                            "converted_type",
                            &a.converted_type,
                            "not used by this action",
                        );
                    }
                    if !a.from_context.is_empty() {
                        return reject(
                            "from_context",
                            &a.from_context,
                            "from_context is not supported yet (processors here see no client metadata)",
                        );
                    }
                    let source = match &a.value {
                        Some(v) if v.0.value.is_some() => Source::Value(v.0.clone()),
                        _ => Source::FromAttribute(a.from_attribute.clone()),
                    };
                    let key = a.key.clone();
                    match kind {
                        ActionKind::Insert => Compiled::Insert(key, source),
                        ActionKind::Update => Compiled::Update(key, source),
                        _ => Compiled::Upsert(key, source),
                    }
                }
                ActionKind::Delete | ActionKind::Hash => {
                    if value_set || !a.from_attribute.is_empty() {
                        return reject(
                            "value",
                            &a.value
                                .as_ref()
                                .map(|v| describe(&v.0))
                                .unwrap_or_else(|| a.from_attribute.clone()),
                            "delete and hash use neither \"value\" nor \"from_attribute\"",
                        );
                    }
                    if !a.converted_type.is_empty() {
                        return reject(
                            "converted_type",
                            &a.converted_type,
                            "not used by this action",
                        );
                    }
                    let regex = if a.pattern.is_empty() {
                        None
                    } else {
                        Some(compile_regex(processor, &at("pattern"), &a.pattern)?)
                    };
                    if kind == ActionKind::Delete {
                        Compiled::Delete(a.key.clone(), regex)
                    } else {
                        Compiled::Hash(a.key.clone(), regex)
                    }
                }
                ActionKind::Extract => {
                    if sources > 0 {
                        return reject("value", &a.from_attribute, "extract uses no value source");
                    }
                    if !a.converted_type.is_empty() {
                        return reject(
                            "converted_type",
                            &a.converted_type,
                            "not used by this action",
                        );
                    }
                    if a.pattern.is_empty() {
                        return Err(ConfigError::missing(
                            processor,
                            at("pattern"),
                            "extract needs a pattern with named groups",
                        ));
                    }
                    let regex = compile_regex(processor, &at("pattern"), &a.pattern)?;
                    let mut names = Vec::new();
                    for name in regex.capture_names().skip(1) {
                        match name {
                            Some(n) => names.push(n.to_owned()),
                            None => {
                                return reject(
                                    "pattern",
                                    &a.pattern,
                                    "contains at least one unnamed capture group; use (?P<name>...) or (?:...)",
                                );
                            }
                        }
                    }
                    if names.is_empty() {
                        return reject("pattern", &a.pattern, "contains no named capture groups");
                    }
                    Compiled::Extract(a.key.clone(), regex, names)
                }
                ActionKind::Convert => {
                    if sources > 0 || !a.pattern.is_empty() {
                        return reject(
                            "pattern",
                            &a.pattern,
                            "convert uses neither value sources nor a pattern",
                        );
                    }
                    let target = match a.converted_type.as_str() {
                        "int" => Target::Int,
                        "double" => Target::Double,
                        "string" => Target::Str,
                        "" => {
                            return Err(ConfigError::missing(
                                processor,
                                at("converted_type"),
                                "convert needs int, double or string",
                            ));
                        }
                        other => {
                            return reject(
                                "converted_type",
                                other,
                                "expected int, double or string",
                            );
                        }
                    };
                    Compiled::Convert(a.key.clone(), target)
                }
            };
            actions.push(compiled);
        }
        Ok(Self { actions })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Applies every action, in order, to `attrs`.
    pub(crate) fn apply(&self, attrs: &mut Vec<KeyValue>) {
        for action in &self.actions {
            match action {
                Compiled::Insert(key, source) => {
                    if position(attrs, key).is_some() {
                        continue;
                    }
                    if let Some(v) = source_value(source, attrs) {
                        attrs.push(KeyValue {
                            key: key.clone(),
                            value: Some(v),
                            key_strindex: 0,
                        });
                    }
                }
                Compiled::Update(key, source) => {
                    let Some(i) = position(attrs, key) else {
                        continue;
                    };
                    if let Some(v) = source_value(source, attrs) {
                        attrs[i].value = Some(v);
                    }
                }
                Compiled::Upsert(key, source) => {
                    let Some(v) = source_value(source, attrs) else {
                        continue;
                    };
                    match position(attrs, key) {
                        Some(i) => attrs[i].value = Some(v),
                        None => attrs.push(KeyValue {
                            key: key.clone(),
                            value: Some(v),
                            key_strindex: 0,
                        }),
                    }
                }
                Compiled::Delete(key, regex) => {
                    attrs.retain(|kv| {
                        kv.key != *key && !regex.as_ref().is_some_and(|r| r.is_match(&kv.key))
                    });
                }
                Compiled::Hash(key, regex) => {
                    // otelcol hashes `key`, then every key matching `pattern` (a key matching
                    // both is hashed twice, as there).
                    if let Some(i) = position(attrs, key) {
                        hash_in_place(&mut attrs[i]);
                    }
                    if let Some(r) = regex {
                        for kv in attrs.iter_mut() {
                            if r.is_match(&kv.key) {
                                hash_in_place(kv);
                            }
                        }
                    }
                }
                Compiled::Extract(key, regex, names) => extract(attrs, key, regex, names),
                Compiled::Convert(key, target) => {
                    if let Some(i) = position(attrs, key) {
                        convert(&mut attrs[i], *target);
                    }
                }
            }
        }
    }
}

fn compile_regex(
    processor: &'static str,
    field: &str,
    pattern: &str,
) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|e| {
        ConfigError::invalid(
            processor,
            field,
            pattern,
            format!("invalid regular expression: {e}"),
        )
    })
}

fn position(attrs: &[KeyValue], key: &str) -> Option<usize> {
    attrs.iter().position(|kv| kv.key == key)
}

fn source_value(source: &Source, attrs: &[KeyValue]) -> Option<AnyValue> {
    match source {
        Source::Value(v) => Some(v.clone()),
        Source::FromAttribute(from) => attrs
            .iter()
            .find(|kv| kv.key == *from)
            .map(|kv| kv.value.clone().unwrap_or_default()),
    }
}

/// otelcol's `sha2Hasher`: strings hash their UTF-8 bytes, booleans one byte (1/0), integers and
/// doubles their 8 little-endian bytes; the value becomes the lower-case hex digest. Any other
/// type (bytes, arrays, maps, unset) becomes the empty string.
pub(crate) fn hash_value(value: &mut Option<AnyValue>) {
    let digest = match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => Some(Sha256::digest(s.as_bytes())),
        Some(Value::BoolValue(b)) => Some(Sha256::digest([u8::from(*b)])),
        Some(Value::IntValue(i)) => Some(Sha256::digest(i.to_le_bytes())),
        Some(Value::DoubleValue(d)) => Some(Sha256::digest(d.to_bits().to_le_bytes())),
        _ => None,
    };
    let text = digest.map_or_else(String::new, |d| {
        let mut s = String::with_capacity(64);
        for b in d {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    });
    *value = Some(AnyValue {
        value: Some(Value::StringValue(text)),
    });
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hash_in_place(kv: &mut KeyValue) {
    hash_value(&mut kv.value);
}

fn extract(attrs: &mut Vec<KeyValue>, key: &str, regex: &Regex, names: &[String]) {
    let Some(kv) = attrs.iter().find(|kv| kv.key == key) else {
        return;
    };
    let Some(Value::StringValue(text)) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
        return;
    };
    let Some(caps) = regex.captures(text) else {
        return;
    };
    // Collect first: the captures borrow `attrs`.
    let found: Vec<String> = names
        .iter()
        .map(|n| {
            caps.name(n)
                .map_or_else(String::new, |m| m.as_str().to_owned())
        })
        .collect();
    for (name, text) in names.iter().zip(found) {
        let value = Some(AnyValue {
            value: Some(Value::StringValue(text)),
        });
        match attrs.iter_mut().find(|kv| kv.key == *name) {
            Some(kv) => kv.value = value,
            None => attrs.push(KeyValue {
                key: name.clone(),
                value,
                key_strindex: 0,
            }),
        }
    }
}

fn convert(kv: &mut KeyValue, target: Target) {
    let current = kv.value.as_ref().and_then(|v| v.value.as_ref());
    let new = match (target, current) {
        (Target::Str, Some(Value::StringValue(_))) => return,
        (Target::Str, _) => Value::StringValue(as_string(kv.value.as_ref())),
        (Target::Int, Some(Value::DoubleValue(d))) => Value::IntValue(go_float_to_int(*d)),
        (Target::Int, Some(Value::BoolValue(b))) => Value::IntValue(i64::from(*b)),
        (Target::Int, Some(Value::StringValue(s))) => match s.parse::<i64>() {
            Ok(i) => Value::IntValue(i),
            Err(_) => return,
        },
        (Target::Double, Some(Value::IntValue(i))) => Value::DoubleValue(*i as f64),
        (Target::Double, Some(Value::BoolValue(b))) => {
            Value::DoubleValue(if *b { 1.0 } else { 0.0 })
        }
        (Target::Double, Some(Value::StringValue(s))) => match parse_go_float(s) {
            Some(d) => Value::DoubleValue(d),
            None => return,
        },
        _ => return,
    };
    kv.value = Some(AnyValue { value: Some(new) });
}

/// Go's `int64(f)` for in-range values; out-of-range and NaN conversions are
/// implementation-defined in Go (amd64 gives `i64::MIN`), which is what we return.
fn go_float_to_int(d: f64) -> i64 {
    if d.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}
