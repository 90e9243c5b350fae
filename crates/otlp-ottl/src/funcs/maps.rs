//! Map editors: `delete_key`, `delete_matching_keys`, `keep_keys`, `keep_matching_keys`,
//! `limit`, `truncate_all`, `merge_maps`, `flatten`. Each works on the map a path names, in
//! place, and does nothing when that path is unset.

use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};

use crate::val::upsert;

/// How deep `flatten` goes at most, whatever `depth` says (the input's nesting is bounded by
/// the protobuf decoder; this bounds the recursion even so).
pub(crate) const MAX_FLATTEN_DEPTH: usize = 100;

/// `merge_maps`' conflict strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Add keys that are missing.
    Insert,
    /// Overwrite keys that exist.
    Update,
    /// Both.
    Upsert,
}

/// `limit`: keeps at most `limit` entries, the priority keys first (all that are present),
/// then the others in their order.
pub(crate) fn limit(map: &mut Vec<KeyValue>, limit: usize, priority: &[String]) {
    if map.len() <= limit {
        return;
    }
    let prioritized = map.iter().filter(|kv| priority.contains(&kv.key)).count();
    let mut others = limit.saturating_sub(prioritized);
    map.retain(|kv| {
        if priority.contains(&kv.key) {
            return true;
        }
        if others > 0 {
            others -= 1;
            return true;
        }
        false
    });
}

/// `truncate_all`: cuts every string value longer than `limit` bytes to at most `limit` bytes,
/// `marker` included, at a character boundary.
pub(crate) fn truncate_all(map: &mut [KeyValue], limit: usize, marker: &str) {
    for kv in map {
        if let Some(AnyValue {
            value: Some(Value::StringValue(s)),
        }) = &mut kv.value
            && s.len() > limit
        {
            let mut cut = limit.saturating_sub(marker.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str(marker);
        }
    }
}

/// `merge_maps`: merges `source` into `map`.
pub(crate) fn merge(map: &mut Vec<KeyValue>, source: &[KeyValue], strategy: Strategy) {
    for kv in source {
        let existing = map.iter_mut().find(|t| t.key == kv.key);
        match (existing, strategy) {
            (Some(t), Strategy::Update | Strategy::Upsert) => t.value = kv.value.clone(),
            (None, Strategy::Insert | Strategy::Upsert) => map.push(kv.clone()),
            _ => {}
        }
    }
}

/// `flatten`: moves the entries of nested maps (and slices, by index) to the top level as
/// `parent.child` keys, `depth` levels deep (all levels when `None`), under `prefix`.
pub(crate) fn flatten(map: &mut Vec<KeyValue>, prefix: Option<&str>, depth: Option<usize>) {
    let depth = depth.unwrap_or(MAX_FLATTEN_DEPTH).min(MAX_FLATTEN_DEPTH);
    let mut out = Vec::with_capacity(map.len());
    for kv in std::mem::take(map) {
        let key = match prefix {
            Some(p) => format!("{p}.{}", kv.key),
            None => kv.key,
        };
        put_flat(&mut out, key, kv.value.unwrap_or_default(), 0, depth);
    }
    *map = out;
}

fn put_flat(out: &mut Vec<KeyValue>, key: String, value: AnyValue, level: usize, depth: usize) {
    if level < depth {
        match value.value {
            Some(Value::KvlistValue(l)) => {
                for kv in l.values {
                    let k = format!("{key}.{}", kv.key);
                    put_flat(out, k, kv.value.unwrap_or_default(), level + 1, depth);
                }
                return;
            }
            Some(Value::ArrayValue(a)) => {
                for (i, v) in a.values.into_iter().enumerate() {
                    put_flat(out, format!("{key}.{i}"), v, level + 1, depth);
                }
                return;
            }
            other => {
                upsert(out, &key, AnyValue { value: other });
                return;
            }
        }
    }
    upsert(out, &key, value);
}
