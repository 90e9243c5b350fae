//! HTTP instrumentation: tower layers for servers and clients, and what they share.

#[cfg(feature = "http-client")]
pub mod client;
#[cfg(feature = "http-server")]
pub mod server;

use otlp_model::semconv::trace::{HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL};
use otlp_sdk::KeyValue;

/// The stable HTTP conventions' advisory boundaries for request durations, in seconds.
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The method as the conventions want it: one of the known methods, or `_OTHER` with the
/// original kept in `http.request.method_original`.
pub(crate) fn method_attributes(method: &::http::Method) -> (&'static str, Option<KeyValue>) {
    let known = match *method {
        ::http::Method::GET => "GET",
        ::http::Method::POST => "POST",
        ::http::Method::PUT => "PUT",
        ::http::Method::DELETE => "DELETE",
        ::http::Method::HEAD => "HEAD",
        ::http::Method::OPTIONS => "OPTIONS",
        ::http::Method::PATCH => "PATCH",
        ::http::Method::CONNECT => "CONNECT",
        ::http::Method::TRACE => "TRACE",
        _ => {
            return (
                "_OTHER",
                Some(KeyValue::new(
                    HTTP_REQUEST_METHOD_ORIGINAL,
                    method.as_str().to_owned(),
                )),
            );
        }
    };
    (known, None)
}

/// `http.request.method` (and `_original` when normalised).
pub(crate) fn push_method(attributes: &mut Vec<KeyValue>, method: &::http::Method) -> &'static str {
    let (name, original) = method_attributes(method);
    attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, name));
    attributes.extend(original);
    name
}

/// `network.protocol.version` for an HTTP version.
pub(crate) fn protocol_version(version: ::http::Version) -> Option<&'static str> {
    match version {
        ::http::Version::HTTP_09 => Some("0.9"),
        ::http::Version::HTTP_10 => Some("1.0"),
        ::http::Version::HTTP_11 => Some("1.1"),
        ::http::Version::HTTP_2 => Some("2"),
        ::http::Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// Host and port from the `Host` header (or the URI's authority for HTTP/2).
pub(crate) fn host_and_port<B>(request: &::http::Request<B>) -> Option<(String, Option<u16>)> {
    if let Some(authority) = request.uri().authority() {
        return Some((authority.host().to_owned(), authority.port_u16()));
    }
    let host = request.headers().get(::http::header::HOST)?.to_str().ok()?;
    // `host[:port]` (IPv6 literals in brackets), without building an `Authority`.
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && !port.contains(']') => {
            Some((name.to_owned(), port.parse().ok()))
        }
        _ => Some((host.to_owned(), None)),
    }
}

/// `url.scheme` without an allocation for the usual two.
pub(crate) fn scheme(uri: &::http::Uri) -> std::borrow::Cow<'static, str> {
    match uri.scheme_str() {
        None | Some("http") => "http".into(),
        Some("https") => "https".into(),
        Some(other) => other.to_owned().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers() {
        let host = |h: &str| {
            let request = ::http::Request::get("/")
                .header("host", h)
                .body(())
                .unwrap_or_default();
            host_and_port(&request)
        };
        assert_eq!(
            host("shop.example:8080"),
            Some(("shop.example".into(), Some(8080)))
        );
        assert_eq!(host("shop.example"), Some(("shop.example".into(), None)));
        assert_eq!(host("[::1]:9000"), Some(("[::1]".into(), Some(9000))));
        assert_eq!(host("[::1]"), Some(("[::1]".into(), None)));
    }

    #[test]
    fn methods_are_normalised() {
        assert_eq!(method_attributes(&::http::Method::GET), ("GET", None));
        let custom = ::http::Method::from_bytes(b"PURGE").unwrap_or(::http::Method::GET);
        let (name, original) = method_attributes(&custom);
        assert_eq!(name, "_OTHER");
        assert_eq!(
            original,
            Some(KeyValue::new(HTTP_REQUEST_METHOD_ORIGINAL, "PURGE"))
        );
        assert_eq!(protocol_version(::http::Version::HTTP_2), Some("2"));
    }
}
