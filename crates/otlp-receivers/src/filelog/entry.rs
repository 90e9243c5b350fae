//! The stanza entry an operator works on (body, attributes, resource, timestamps, severity)
//! and field paths into it (`body`, `body.a.b`, `attributes["k.x"]`, `resource.k`).

use serde_json::{Map, Value};

/// One log entry between the reader and the request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) body: Value,
    /// `nop` encoding: the body's raw bytes (then `body` is null).
    pub(crate) body_bytes: Option<Vec<u8>>,
    pub(crate) attributes: Map<String, Value>,
    pub(crate) resource: Map<String, Value>,
    /// Unix nanoseconds; `None` until a time parser sets it.
    pub(crate) timestamp: Option<u64>,
    pub(crate) observed: u64,
    pub(crate) severity: i32,
    pub(crate) severity_text: String,
}

impl Entry {
    pub(crate) fn new(body: Value, observed: u64) -> Entry {
        Entry {
            body,
            body_bytes: None,
            attributes: Map::new(),
            resource: Map::new(),
            timestamp: None,
            observed,
            severity: 0,
            severity_text: String::new(),
        }
    }
}

/// Which part of the entry a field starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Body,
    Attributes,
    Resource,
}

/// A field: a root and the keys below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) root: Root,
    pub(crate) keys: Vec<String>,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.root {
            Root::Body => "body",
            Root::Attributes => "attributes",
            Root::Resource => "resource",
        })?;
        for key in &self.keys {
            if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                write!(f, ".{key}")?;
            } else {
                write!(f, "[\"{key}\"]")?;
            }
        }
        Ok(())
    }
}

impl Field {
    pub(crate) fn body() -> Field {
        Field {
            root: Root::Body,
            keys: Vec::new(),
        }
    }

    pub(crate) fn attributes() -> Field {
        Field {
            root: Root::Attributes,
            keys: Vec::new(),
        }
    }

    /// Parses `body`, `body.a`, `attributes.x`, `attributes["a.b"]`, `resource['k']`, and the
    /// older `$body` / `$attributes` / `$resource` / `$record` spellings.
    pub(crate) fn parse(text: &str) -> Result<Field, String> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let mut i = 0;
        let ident = |i: &mut usize| -> String {
            let start = *i;
            while *i < bytes.len() && bytes[*i] != b'.' && bytes[*i] != b'[' {
                *i += 1;
            }
            text[start..*i].to_owned()
        };
        let first = ident(&mut i);
        let root = match first.trim_start_matches('$') {
            "body" | "record" => Root::Body,
            "attributes" => Root::Attributes,
            "resource" => Root::Resource,
            other => {
                return Err(format!(
                    "field \"{text}\": must start with body, attributes or resource, not \"{other}\""
                ));
            }
        };
        let mut keys = Vec::new();
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    i += 1;
                    let key = ident(&mut i);
                    if key.is_empty() {
                        return Err(format!("field \"{text}\": empty key"));
                    }
                    keys.push(key);
                }
                b'[' => {
                    i += 1;
                    let quote = *bytes
                        .get(i)
                        .ok_or_else(|| format!("field \"{text}\": unterminated ["))?;
                    if quote != b'"' && quote != b'\'' {
                        return Err(format!("field \"{text}\": a [ key must be quoted"));
                    }
                    i += 1;
                    let start = i;
                    while i < bytes.len() && bytes[i] != quote {
                        i += 1;
                    }
                    if i + 1 >= bytes.len() || bytes[i + 1] != b']' {
                        return Err(format!("field \"{text}\": unterminated [\"...\"]"));
                    }
                    keys.push(text[start..i].to_owned());
                    i += 2;
                }
                _ => return Err(format!("field \"{text}\": unexpected character")),
            }
        }
        Ok(Field { root, keys })
    }

    /// The value at this field.
    pub(crate) fn get<'e>(&self, entry: &'e Entry) -> Option<&'e Value> {
        match self.root {
            Root::Body => {
                let mut value = &entry.body;
                if self.keys.is_empty() && value.is_null() {
                    return None;
                }
                for key in &self.keys {
                    value = value.as_object()?.get(key)?;
                }
                Some(value)
            }
            Root::Attributes | Root::Resource => {
                let map = self.map(entry);
                let (first, rest) = self.keys.split_first()?;
                let mut value = map.get(first)?;
                for key in rest {
                    value = value.as_object()?.get(key)?;
                }
                Some(value)
            }
        }
    }

    fn map<'e>(&self, entry: &'e Entry) -> &'e Map<String, Value> {
        match self.root {
            Root::Resource => &entry.resource,
            _ => &entry.attributes,
        }
    }

    fn map_mut<'e>(&self, entry: &'e mut Entry) -> &'e mut Map<String, Value> {
        match self.root {
            Root::Resource => &mut entry.resource,
            _ => &mut entry.attributes,
        }
    }

    /// Sets the value, creating maps on the way (replacing non-maps). Setting the attributes
    /// or resource root to a map merges it in.
    pub(crate) fn set(&self, entry: &mut Entry, value: Value) -> Result<(), String> {
        if self.root == Root::Body {
            entry.body_bytes = None;
            if self.keys.is_empty() {
                entry.body = value;
                return Ok(());
            }
            if !entry.body.is_object() {
                entry.body = Value::Object(Map::new());
            }
            let Value::Object(map) = &mut entry.body else {
                return Ok(());
            };
            set_in(map, &self.keys, value);
            return Ok(());
        }
        let map = self.map_mut(entry);
        if self.keys.is_empty() {
            let Value::Object(new) = value else {
                return Err(format!("cannot set {self} to a value that is not a map"));
            };
            for (k, v) in new {
                map.insert(k, v);
            }
            return Ok(());
        }
        set_in(map, &self.keys, value);
        Ok(())
    }

    /// Removes and returns the value.
    pub(crate) fn delete(&self, entry: &mut Entry) -> Option<Value> {
        if self.root == Root::Body {
            if self.keys.is_empty() {
                if entry.body.is_null() && entry.body_bytes.is_none() {
                    return None;
                }
                return Some(std::mem::take(&mut entry.body));
            }
            let Value::Object(map) = &mut entry.body else {
                return None;
            };
            return delete_in(map, &self.keys);
        }
        let map = self.map_mut(entry);
        if self.keys.is_empty() {
            if map.is_empty() {
                return None;
            }
            return Some(Value::Object(std::mem::take(map)));
        }
        delete_in(map, &self.keys)
    }
}

fn set_in(map: &mut Map<String, Value>, keys: &[String], value: Value) {
    let Some((last, path)) = keys.split_last() else {
        return;
    };
    let mut current = map;
    for key in path {
        let slot = current
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        current = next;
    }
    current.insert(last.clone(), value);
}

fn delete_in(map: &mut Map<String, Value>, keys: &[String]) -> Option<Value> {
    let (last, path) = keys.split_last()?;
    let mut current = map;
    for key in path {
        current = current.get_mut(key)?.as_object_mut()?;
    }
    current.remove(last)
}
