//! [`Extractor`] and [`Injector`] for `tonic::metadata::MetadataMap` (feature `tonic`).
//!
//! Only ASCII metadata is a carrier; binary (`-bin`) entries are ignored.

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue, KeyAndValueRef, MetadataMap};

use super::{Extractor, Injector};

impl Extractor for MetadataMap {
    fn get(&self, name: &str) -> Option<&str> {
        MetadataMap::get(self, name)?.to_str().ok()
    }

    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        for value in self.get_all(name) {
            if let Ok(value) = value.to_str() {
                f(value);
            }
        }
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        for entry in self.iter() {
            if let KeyAndValueRef::Ascii(key, value) = entry
                && let Ok(value) = value.to_str()
            {
                f(key.as_str(), value);
            }
        }
    }
}

/// Replaces every value of the key. Keys are lower-cased by tonic; a name that is not a valid
/// ASCII metadata key (or ends in `-bin`), or a value that is not visible ASCII, is skipped.
impl Injector for MetadataMap {
    fn set(&mut self, name: &str, value: String) {
        let (Ok(key), Ok(value)) = (
            AsciiMetadataKey::from_bytes(name.as_bytes()),
            AsciiMetadataValue::try_from(value),
        ) else {
            return;
        };
        self.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_map_round_trip() {
        let mut md = MetadataMap::new();
        Injector::set(&mut md, "traceparent", "00-x".to_owned());
        Injector::set(&mut md, "TraceParent", "00-y".to_owned());
        assert_eq!(md.len(), 1);
        assert_eq!(Extractor::get(&md, "TRACEPARENT"), Some("00-y"));

        md.append("baggage", AsciiMetadataValue::from_static("a=1"));
        md.append("baggage", AsciiMetadataValue::from_static("b=2"));
        let mut seen = Vec::new();
        md.for_each_value("baggage", &mut |v| seen.push(v.to_owned()));
        assert_eq!(seen, ["a=1", "b=2"]);

        md.insert_bin(
            "trace-bin",
            tonic::metadata::MetadataValue::from_bytes(b"\x00\x01"),
        );
        let mut fields = Vec::new();
        md.for_each_field(&mut |k, _| fields.push(k.to_owned()));
        assert_eq!(fields, ["traceparent", "baggage", "baggage"]);
    }

    #[test]
    fn invalid_keys_and_values_are_skipped() {
        let mut md = MetadataMap::new();
        Injector::set(&mut md, "bad key", "v".to_owned());
        Injector::set(&mut md, "data-bin", "v".to_owned());
        Injector::set(&mut md, "good", "new\nline".to_owned());
        assert!(md.is_empty());
        assert_eq!(Extractor::get(&md, "data-bin"), None);
    }
}
