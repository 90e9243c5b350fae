//! [`Extractor`] and [`Injector`] for `http::HeaderMap` (feature `http`).

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::{Extractor, Injector};

/// `HeaderMap` lookups are already case-insensitive. Values that are not visible ASCII
/// (`HeaderValue::to_str` fails) are skipped.
impl Extractor for HeaderMap {
    fn get(&self, name: &str) -> Option<&str> {
        HeaderMap::get(self, name)?.to_str().ok()
    }

    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a str)) {
        for value in self.get_all(name) {
            if let Ok(value) = value.to_str() {
                f(value);
            }
        }
    }

    fn for_each_field<'a>(&'a self, f: &mut dyn FnMut(&'a str, &'a str)) {
        for (name, value) in self {
            if let Ok(value) = value.to_str() {
                f(name.as_str(), value);
            }
        }
    }
}

/// Replaces every value of the header. A name that is not a valid header name, or a value with
/// bytes a header value cannot hold, is skipped.
impl Injector for HeaderMap {
    fn set(&mut self, name: &str, value: String) {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::try_from(value),
        ) else {
            return;
        };
        self.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_map_round_trip() {
        let mut headers = HeaderMap::new();
        Injector::set(&mut headers, "traceparent", "00-x".to_owned());
        Injector::set(&mut headers, "TraceParent", "00-y".to_owned());
        assert_eq!(headers.len(), 1);
        assert_eq!(Extractor::get(&headers, "TRACEPARENT"), Some("00-y"));

        headers.append("tracestate", HeaderValue::from_static("a=1"));
        headers.append("tracestate", HeaderValue::from_static("b=2"));
        let mut seen = Vec::new();
        headers.for_each_value("TraceState", &mut |v| seen.push(v.to_owned()));
        assert_eq!(seen, ["a=1", "b=2"]);

        let mut fields = 0;
        headers.for_each_field(&mut |_, _| fields += 1);
        assert_eq!(fields, 3);
    }

    #[test]
    fn invalid_names_and_values_are_skipped() {
        let mut headers = HeaderMap::new();
        Injector::set(&mut headers, "bad name", "v".to_owned());
        Injector::set(&mut headers, "good", "line\nbreak".to_owned());
        assert!(headers.is_empty());
        assert_eq!(Extractor::get(&headers, "bad name"), None);
        assert_eq!(Extractor::get(&headers, ""), None);

        headers.insert("opaque", HeaderValue::from_bytes(&[0x80, 0x81]).unwrap());
        assert_eq!(Extractor::get(&headers, "opaque"), None);
        let mut fields = 0;
        headers.for_each_field(&mut |_, _| fields += 1);
        assert_eq!(fields, 0);
    }
}
