//! Carriers: where propagation fields are read from ([`Extractor`]) and written to
//! ([`Injector`]).
//!
//! Implementations here cover `HashMap<String, String>` (any hasher) and message headers as
//! `Vec<(String, Vec<u8>)>` (the shape of Kafka, AMQP or NATS record headers); the `http` and
//! `tonic` features add `http::HeaderMap` and `tonic::metadata::MetadataMap`.
//!
//! Field names are compared ASCII case-insensitively on extract, whatever the carrier, because
//! HTTP field names are case-insensitive and message-header conventions vary. Propagators in
//! this crate always write lower-case names.

use std::collections::HashMap;
use std::hash::BuildHasher;

#[cfg(feature = "http")]
mod http;
#[cfg(feature = "tonic")]
mod tonic;

/// Read access to a carrier of text fields (HTTP headers, gRPC metadata, message headers).
///
/// Object safe: propagators take `&dyn Extractor`. Only [`get`](Self::get) and
/// [`for_each_field`](Self::for_each_field) are required; [`for_each_value`](Self::for_each_value)
/// has a default built on `for_each_field` that carriers with an index override.
///
/// Values that are not valid text (non-UTF-8 bytes, or header values outside visible ASCII) are
/// treated as absent, never as an error.
pub trait Extractor {
    /// The value of the first field named `name`, compared ASCII case-insensitively.
    fn get(&self, name: &str) -> Option<&str>;

    /// Calls `f` with every value of the fields named `name` (case-insensitive), in carrier
    /// order. Used where a header may repeat and the repetitions combine (`tracestate`,
    /// `baggage`) or where a repetition makes the field invalid (`traceparent`).
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        self.for_each_field(&mut |field, value| {
            if field.eq_ignore_ascii_case(name) {
                f(value);
            }
        });
    }

    /// Calls `f` with every `(name, value)` field of the carrier, in carrier order. Used for
    /// prefixed fields such as Jaeger's `uberctx-{key}`.
    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str));
}

/// Write access to a carrier of text fields.
///
/// Object safe: propagators take `&mut dyn Injector`.
pub trait Injector {
    /// Sets the field `name` to `value`, replacing every value it had (names compared ASCII
    /// case-insensitively). Propagators pass lower-case names. A carrier that cannot represent
    /// the name or the value (for example a byte outside what an HTTP header value allows)
    /// skips the field rather than failing.
    fn set(&mut self, name: &str, value: String);
}

impl<T: Extractor + ?Sized> Extractor for &T {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }

    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        (**self).for_each_value(name, f);
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        (**self).for_each_field(f);
    }
}

impl<T: Injector + ?Sized> Injector for &mut T {
    fn set(&mut self, name: &str, value: String) {
        (**self).set(name, value);
    }
}

impl<S: BuildHasher> Extractor for HashMap<String, String, S> {
    /// An exact match is looked up first; otherwise the first case-insensitive match in the
    /// map's (unspecified) iteration order.
    fn get(&self, name: &str) -> Option<&str> {
        if let Some(value) = HashMap::get(self, name) {
            return Some(value);
        }
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        for (key, value) in self {
            f(key, value);
        }
    }
}

impl<S: BuildHasher> Injector for HashMap<String, String, S> {
    /// Keys differing from `name` only in case are removed, so the map never holds two
    /// spellings of one field.
    fn set(&mut self, name: &str, value: String) {
        if self
            .keys()
            .any(|key| key != name && key.eq_ignore_ascii_case(name))
        {
            self.retain(|key, _| key == name || !key.eq_ignore_ascii_case(name));
        }
        match self.get_mut(name) {
            Some(slot) => *slot = value,
            None => {
                self.insert(name.to_owned(), value);
            }
        }
    }
}

/// Message headers: an ordered list of `(name, bytes)` pairs that may repeat a name, as Kafka
/// record headers (and AMQP, NATS, Pulsar properties) are.
impl Extractor for Vec<(String, Vec<u8>)> {
    fn get(&self, name: &str) -> Option<&str> {
        Extractor::get(self.as_slice(), name)
    }

    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        Extractor::for_each_value(self.as_slice(), name, f);
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        Extractor::for_each_field(self.as_slice(), f);
    }
}

/// The same as for `Vec<(String, Vec<u8>)>`, for borrowed header lists. Values that are not
/// UTF-8 are skipped.
impl Extractor for [(String, Vec<u8>)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .find_map(|(_, value)| std::str::from_utf8(value).ok())
    }

    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        for (key, value) in self {
            if key.eq_ignore_ascii_case(name)
                && let Ok(value) = std::str::from_utf8(value)
            {
                f(value);
            }
        }
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        for (key, value) in self {
            if let Ok(value) = std::str::from_utf8(value) {
                f(key, value);
            }
        }
    }
}

impl Injector for Vec<(String, Vec<u8>)> {
    /// Replaces the first header with this name (any case) in place, drops any later ones, and
    /// appends a new header when there was none.
    fn set(&mut self, name: &str, value: String) {
        let mut value = Some(value.into_bytes());
        self.retain_mut(|(key, slot)| {
            if !key.eq_ignore_ascii_case(name) {
                return true;
            }
            match value.take() {
                Some(bytes) => {
                    name.clone_into(key);
                    *slot = bytes;
                    true
                }
                None => false,
            }
        });
        if let Some(bytes) = value {
            self.push((name.to_owned(), bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect()
    }

    fn values(carrier: &dyn Extractor, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        carrier.for_each_value(name, &mut |v| out.push(v.to_owned()));
        out
    }

    #[test]
    fn hash_map_is_case_insensitive() {
        let mut map = HashMap::new();
        map.insert("TraceParent".to_owned(), "x".to_owned());
        assert_eq!(Extractor::get(&map, "traceparent"), Some("x"));
        assert_eq!(Extractor::get(&map, "TRACEPARENT"), Some("x"));
        assert_eq!(Extractor::get(&map, "tracestate"), None);
        assert_eq!(values(&map, "traceparent"), ["x"]);

        // Setting replaces the differently-cased key.
        Injector::set(&mut map, "traceparent", "y".to_owned());
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("traceparent").map(String::as_str), Some("y"));
        Injector::set(&mut map, "traceparent", "z".to_owned());
        assert_eq!(map.len(), 1);
        assert_eq!(Extractor::get(&map, "traceparent"), Some("z"));
    }

    #[test]
    fn hash_map_exact_match_wins() {
        let mut map = HashMap::new();
        map.insert("Baggage".to_owned(), "upper".to_owned());
        map.insert("baggage".to_owned(), "lower".to_owned());
        assert_eq!(Extractor::get(&map, "baggage"), Some("lower"));
        assert_eq!(values(&map, "BAGGAGE").len(), 2);
    }

    #[test]
    fn message_headers_repeat_and_skip_non_utf8() {
        let list = headers(&[
            ("tracestate", b"a=1"),
            ("TRACESTATE", b"b=2"),
            ("tracestate", &[0xFF, 0xFE]),
            ("other", b"o"),
        ]);
        assert_eq!(Extractor::get(&list, "TraceState"), Some("a=1"));
        assert_eq!(values(&list, "tracestate"), ["a=1", "b=2"]);
        let mut fields = Vec::new();
        list.for_each_field(&mut |k, v| fields.push(format!("{k}:{v}")));
        assert_eq!(fields, ["tracestate:a=1", "TRACESTATE:b=2", "other:o"]);

        let bad_first = headers(&[("k", &[0xC3]), ("K", b"good")]);
        assert_eq!(Extractor::get(&bad_first, "k"), Some("good"));
        assert_eq!(Extractor::get(bad_first.as_slice(), "k"), Some("good"));
    }

    #[test]
    fn message_headers_set_replaces_in_place() {
        let mut list = headers(&[
            ("a", b"1"),
            ("TraceParent", b"old"),
            ("b", b"2"),
            ("traceparent", b"dup"),
        ]);
        Injector::set(&mut list, "traceparent", "new".to_owned());
        assert_eq!(
            list,
            headers(&[("a", b"1"), ("traceparent", b"new"), ("b", b"2")])
        );
        Injector::set(&mut list, "baggage", "k=v".to_owned());
        assert_eq!(list.last(), Some(&("baggage".to_owned(), b"k=v".to_vec())));
    }

    #[test]
    fn references_are_carriers() {
        let mut map: HashMap<String, String> = HashMap::new();
        {
            let mut by_ref = &mut map;
            Injector::set(&mut by_ref, "k", "v".to_owned());
        }
        let by_ref = &map;
        assert_eq!(Extractor::get(&by_ref, "K"), Some("v"));
    }
}
