//! Headers computed for every request: what a client authenticator (otelcol's
//! `extensionauth.HTTPClient`/`GRPCClient`, such as `bearertokenauth` with a token file that
//! changes) adds on top of the static headers.

use ::http::header::{HeaderMap, HeaderName, HeaderValue};

/// Gives the headers of one request (read before each attempt, so a rotated credential is
/// picked up by the next one). An error fails that attempt as
/// [`ExportError::Credentials`](super::ExportError::Credentials), which is retried.
pub trait HeaderSource: Send + Sync {
    /// The headers to add (replacing static ones of the same name).
    fn headers(&self) -> Result<Vec<(String, String)>, String>;
}

/// `static_headers` with `source`'s laid over them, validated.
pub(crate) fn merged(
    static_headers: &HeaderMap,
    source: &dyn HeaderSource,
) -> Result<HeaderMap, String> {
    let mut headers = static_headers.clone();
    for (name, value) in source.headers()? {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name \"{name}\""))?;
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| format!("invalid value for header \"{name}\""))?;
        value.set_sensitive(true);
        headers.insert(parsed, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<(String, String)>);

    impl HeaderSource for Fixed {
        fn headers(&self) -> Result<Vec<(String, String)>, String> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn source_headers_replace_static_ones_and_bad_ones_are_errors() {
        let mut base = HeaderMap::new();
        base.insert("authorization", HeaderValue::from_static("old"));
        base.insert("x-tenant", HeaderValue::from_static("blue"));
        let source = Fixed(vec![("Authorization".into(), "Bearer new".into())]);
        let headers = merged(&base, &source).unwrap();
        assert_eq!(headers["authorization"], "Bearer new");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers["x-tenant"], "blue");
        assert!(merged(&base, &Fixed(vec![("bad name".into(), "v".into())])).is_err());
        assert!(merged(&base, &Fixed(vec![("x".into(), "line\nbreak".into())])).is_err());
    }
}
