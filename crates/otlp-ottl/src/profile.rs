//! The `profile` context's fields: reading a profile (its attributes resolved through the
//! request's dictionary) and writing its own scalar fields.
//!
//! A profile does not hold its attributes: `attribute_indices` point into the dictionary's
//! `attribute_table`, whose entries name their key by an index into `string_table`. Reading
//! `attributes` builds the map from there (indexes out of range are skipped; a key given twice
//! keeps its last value). Resource and scope attributes of a profiles request may also name
//! their key by `key_strindex` instead of `key`; those keys are resolved the same way.
//! Writing `attributes` and `attribute_indices` is refused when a statement is parsed
//! ([`read_only`]): it would mean editing the shared dictionary.

use std::borrow::Cow;

use otlp_proto::common::v1::KeyValue;
use otlp_proto::profiles::v1development::{Profile, ProfilesDictionary};

use crate::EvalError;
use crate::paths::{Field, id_string, set_id};
use crate::val::Val;

/// Bytes in a profile id.
const PROFILE_ID_LEN: usize = 16;

/// The string at `index` of the dictionary's string table (`None` out of range).
fn string_at(dictionary: &ProfilesDictionary, index: i32) -> Option<&str> {
    usize::try_from(index)
        .ok()
        .and_then(|i| dictionary.string_table.get(i))
        .map(String::as_str)
}

/// A profile's attributes, read through its request's dictionary (`attribute_indices` into
/// `attribute_table`, keys from `string_table`): indexes out of range are skipped, a repeated
/// key keeps its last value; without a dictionary there are none.
pub fn attributes(profile: &Profile, dictionary: Option<&ProfilesDictionary>) -> Vec<KeyValue> {
    let Some(dictionary) = dictionary else {
        return Vec::new();
    };
    let mut out: Vec<KeyValue> = Vec::with_capacity(profile.attribute_indices.len());
    for index in &profile.attribute_indices {
        let Some(entry) = usize::try_from(*index)
            .ok()
            .and_then(|i| dictionary.attribute_table.get(i))
        else {
            continue;
        };
        let Some(key) = string_at(dictionary, entry.key_strindex) else {
            continue;
        };
        match out.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value.clone_from(&entry.value),
            None => out.push(KeyValue {
                key: key.to_owned(),
                value: entry.value.clone(),
                key_strindex: 0,
            }),
        }
    }
    out
}

/// Resource or scope attributes of a profiles request as a map: borrowed as they are, unless
/// some entry names its key only by `key_strindex`, which is then looked up in the dictionary.
pub(crate) fn keyed_attributes<'a>(
    attributes: &'a [KeyValue],
    dictionary: Option<&ProfilesDictionary>,
) -> Val<'a> {
    let indexed = |kv: &KeyValue| kv.key.is_empty() && kv.key_strindex > 0;
    let Some(dictionary) = dictionary.filter(|_| attributes.iter().any(indexed)) else {
        return Val::Map(Cow::Borrowed(attributes));
    };
    let resolved = attributes
        .iter()
        .map(|kv| {
            let mut kv = kv.clone();
            if indexed(&kv)
                && let Some(key) = string_at(dictionary, kv.key_strindex)
            {
                key.clone_into(&mut kv.key);
            }
            kv
        })
        .collect();
    Val::Map(Cow::Owned(resolved))
}

/// Whether `field` of a profile can be read but not written.
pub(crate) fn read_only(field: Field) -> bool {
    matches!(field, Field::Attributes | Field::AttributeIndices)
}

/// The value of `field` of `profile` (nil for a field the profile lacks).
pub(crate) fn read<'a>(
    profile: &'a Profile,
    dictionary: Option<&ProfilesDictionary>,
    field: Field,
) -> Val<'a> {
    match field {
        Field::Attributes => Val::Map(Cow::Owned(attributes(profile, dictionary))),
        Field::AttributeIndices => Val::List(Cow::Owned(
            profile
                .attribute_indices
                .iter()
                .map(|i| Val::Int(i64::from(*i)).into_any())
                .collect(),
        )),
        // OTTL exposes these as int64.
        Field::Time => Val::Int(profile.time_unix_nano as i64),
        Field::Duration => Val::Int(profile.duration_nano as i64),
        Field::Period => Val::Int(profile.period),
        Field::ProfileId => Val::Bytes(Cow::Borrowed(&profile.profile_id)),
        Field::ProfileIdString => id_string(&profile.profile_id),
        Field::DroppedAttributesCount => Val::Int(i64::from(profile.dropped_attributes_count)),
        Field::OriginalPayloadFormat => Val::Str(Cow::Borrowed(&profile.original_payload_format)),
        Field::OriginalPayload => Val::Bytes(Cow::Borrowed(&profile.original_payload)),
        _ => Val::Nil,
    }
}

/// Writes `v` to `field` of `profile`; a value of another type than the field's does nothing.
pub(crate) fn set(profile: &mut Profile, field: Field, v: Val<'_>) -> Result<(), EvalError> {
    match (field, v) {
        (Field::Time, Val::Int(i)) => profile.time_unix_nano = i as u64,
        (Field::Duration, Val::Int(i)) => profile.duration_nano = i as u64,
        (Field::Period, Val::Int(i)) => profile.period = i,
        (Field::ProfileId, v) => {
            return set_id(&mut profile.profile_id, PROFILE_ID_LEN, v, false);
        }
        (Field::ProfileIdString, v) => {
            return set_id(&mut profile.profile_id, PROFILE_ID_LEN, v, true);
        }
        (Field::DroppedAttributesCount, Val::Int(i)) => {
            profile.dropped_attributes_count = i as u32;
        }
        (Field::OriginalPayloadFormat, Val::Str(s)) => {
            profile.original_payload_format = s.into_owned();
        }
        (Field::OriginalPayload, Val::Bytes(b)) => profile.original_payload = b.into_owned(),
        _ => {}
    }
    Ok(())
}
