//! Attribute limits shared by spans, events, links and log records: replace duplicates,
//! truncate values, drop what goes beyond the count and count it.

use crate::value::KeyValue;

/// Sets `attribute` in `attributes` under the limits: an existing key is replaced (not
/// counted again), a new key beyond `max` is dropped. Returns 1 when it was dropped.
#[cfg_attr(not(feature = "trace"), allow(dead_code))]
pub(crate) fn set_attribute(
    attributes: &mut Vec<KeyValue>,
    mut attribute: KeyValue,
    max: usize,
    value_length: Option<usize>,
) -> u32 {
    if let Some(limit) = value_length {
        attribute.value.truncate(limit);
    }
    if let Some(existing) = attributes.iter_mut().find(|kv| kv.key == attribute.key) {
        existing.value = attribute.value;
        return 0;
    }
    if attributes.len() >= max {
        return 1;
    }
    attributes.push(attribute);
    0
}

/// Applies the limits to a list built elsewhere (a builder's, an event's, a link's): later
/// duplicates replace earlier values, values are truncated, keys beyond `max` are dropped.
/// Returns how many were dropped.
pub(crate) fn limit_attributes(
    attributes: &mut Vec<KeyValue>,
    max: usize,
    value_length: Option<usize>,
) -> u32 {
    // The common case — unique keys within the limit — is checked in place, without a copy.
    let duplicates =
        (1..attributes.len()).any(|i| attributes[..i].iter().any(|kv| kv.key == attributes[i].key));
    if !duplicates && attributes.len() <= max {
        if let Some(limit) = value_length {
            for kv in attributes.iter_mut() {
                kv.value.truncate(limit);
            }
        }
        return 0;
    }
    let incoming = std::mem::take(attributes);
    attributes.reserve(incoming.len().min(max));
    let mut dropped = 0;
    for attribute in incoming {
        dropped += set_attribute(attributes, attribute, max, value_length);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_truncate_and_drop() {
        let mut attrs = vec![
            KeyValue::new("a", "long value"),
            KeyValue::new("b", 1),
            KeyValue::new("a", "second"),
            KeyValue::new("c", 2),
            KeyValue::new("d", 3),
        ];
        let dropped = limit_attributes(&mut attrs, 3, Some(3));
        assert_eq!(dropped, 1);
        assert_eq!(
            attrs,
            vec![
                KeyValue::new("a", "sec"),
                KeyValue::new("b", 1),
                KeyValue::new("c", 2)
            ]
        );
        assert_eq!(set_attribute(&mut attrs, KeyValue::new("b", 9), 3, None), 0);
        assert_eq!(attrs[1], KeyValue::new("b", 9));
        assert_eq!(set_attribute(&mut attrs, KeyValue::new("e", 9), 3, None), 1);
    }

    proptest::proptest! {
        /// Whatever comes in: at most `max` attributes, unique keys, every kept value the
        /// last one given for its key (truncated), and kept + dropped = distinct keys.
        #[test]
        fn limits_hold_for_any_input(
            pairs in proptest::collection::vec(("[a-e]", ".{0,12}"), 0..40),
            max in 0usize..8,
            length in proptest::option::of(0usize..6),
        ) {
            let mut attrs: Vec<KeyValue> =
                pairs.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
            let dropped = limit_attributes(&mut attrs, max, length);
            proptest::prop_assert!(attrs.len() <= max);
            let mut distinct: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
            distinct.sort();
            distinct.dedup();
            let mut kept = Vec::new();
            for kv in &attrs {
                proptest::prop_assert!(!kept.contains(&kv.key.as_str().to_owned()));
                kept.push(kv.key.as_str().to_owned());
                let last = pairs.iter().rev().find(|(k, _)| k == kv.key.as_str()).map(|(_, v)| v);
                let mut expected = crate::value::Value::from(last.cloned().unwrap_or_default());
                if let Some(limit) = length {
                    expected.truncate(limit);
                }
                proptest::prop_assert_eq!(&kv.value, &expected);
            }
            // A key first seen after the list was full is dropped once per occurrence.
            proptest::prop_assert!(attrs.len() + dropped as usize >= distinct.len());
        }
    }
}
