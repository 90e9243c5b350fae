//! The OTLP exporter specification's endpoint rules (see
//! [`ExporterConfig`](super::ExporterConfig)).

use http::Uri;
use http::uri::{PathAndQuery, Scheme};

use super::Protocol;
use crate::signal::Signal;

/// How an endpoint string was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndpointKind {
    /// Shared by all signals: OTLP/HTTP appends the signal's path.
    Base,
    /// For one signal: used as given.
    Signal,
}

/// The full request URI for `signal`: scheme, authority and path (and the query of an
/// OTLP/HTTP endpoint). `Err` carries a message for a config error.
pub(crate) fn resolve(
    protocol: Protocol,
    signal: Signal,
    endpoint: &str,
    kind: EndpointKind,
    insecure: bool,
) -> Result<Uri, String> {
    let trimmed = endpoint.trim();
    if trimmed.is_empty() {
        return Err("the endpoint is empty".to_owned());
    }
    let uri: Uri = trimmed
        .parse()
        .map_err(|e: http::uri::InvalidUri| format!("not a URL: {e}"))?;
    let scheme = match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS => scheme.clone(),
        Some(scheme) => {
            return Err(format!("the scheme must be http or https, not `{scheme}`"));
        }
        None if protocol == Protocol::Grpc => {
            // OTEL_EXPORTER_OTLP_INSECURE applies to exactly this case.
            if insecure {
                Scheme::HTTP
            } else {
                Scheme::HTTPS
            }
        }
        None => {
            return Err("an OTLP/HTTP endpoint needs a scheme, http:// or https://".to_owned());
        }
    };
    let authority = match uri.authority() {
        Some(authority) if !authority.host().is_empty() => authority.clone(),
        _ => return Err("the endpoint has no host".to_owned()),
    };
    if authority.as_str().contains('@') {
        return Err("user information in the endpoint is not supported; use a header".to_owned());
    }
    let path_and_query: PathAndQuery = match protocol {
        Protocol::Grpc => PathAndQuery::from_static(signal.grpc_path()),
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let path = uri.path();
            let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
            let path = match kind {
                EndpointKind::Signal if path.is_empty() => "/".to_owned(),
                EndpointKind::Signal => path.to_owned(),
                EndpointKind::Base => {
                    let base = path.strip_suffix('/').unwrap_or(path);
                    format!("{base}{}", signal.http_path())
                }
            };
            format!("{path}{query}")
                .parse()
                .map_err(|e: http::uri::InvalidUri| format!("invalid path: {e}"))?
        }
    };
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| format!("not a URL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use EndpointKind::{Base, Signal as Exact};

    fn http(endpoint: &str, kind: EndpointKind) -> String {
        resolve(
            Protocol::HttpProtobuf,
            Signal::Traces,
            endpoint,
            kind,
            false,
        )
        .unwrap()
        .to_string()
    }

    fn grpc(endpoint: &str, insecure: bool) -> String {
        resolve(Protocol::Grpc, Signal::Logs, endpoint, Base, insecure)
            .unwrap()
            .to_string()
    }

    #[test]
    fn http_base_gets_the_signal_path() {
        assert_eq!(
            http("http://localhost:4318", Base),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            http("http://localhost:4318/", Base),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            http("https://c.example/otlp", Base),
            "https://c.example/otlp/v1/traces"
        );
        assert_eq!(
            http("https://c.example/otlp/", Base),
            "https://c.example/otlp/v1/traces"
        );
        assert_eq!(http("http://c:1/a?x=1", Base), "http://c:1/a/v1/traces?x=1");
        let profiles = resolve(
            Protocol::HttpJson,
            Signal::Profiles,
            "http://c:4318/p",
            Base,
            false,
        )
        .unwrap();
        assert_eq!(
            profiles.to_string(),
            "http://c:4318/p/v1development/profiles"
        );
    }

    #[test]
    fn http_signal_endpoint_is_used_as_is() {
        assert_eq!(http("http://c:4318", Exact), "http://c:4318/");
        assert_eq!(
            http("http://c:4318/custom/path", Exact),
            "http://c:4318/custom/path"
        );
        assert_eq!(
            http("http://c:4318/v1/traces/", Exact),
            "http://c:4318/v1/traces/"
        );
    }

    #[test]
    fn grpc_keeps_only_the_origin() {
        let path = Signal::Logs.grpc_path();
        assert_eq!(grpc("http://c:4317", false), format!("http://c:4317{path}"));
        assert_eq!(
            grpc("https://c:4317/ignored", false),
            format!("https://c:4317{path}")
        );
        assert_eq!(grpc("c:4317", false), format!("https://c:4317{path}"));
        assert_eq!(grpc("c:4317", true), format!("http://c:4317{path}"));
        assert_eq!(
            grpc("https://c:4317", true),
            format!("https://c:4317{path}")
        );
        assert_eq!(grpc("[::1]:4317", true), format!("http://[::1]:4317{path}"));
    }

    #[test]
    fn bad_endpoints_are_errors() {
        for (protocol, endpoint) in [
            (Protocol::HttpProtobuf, "localhost:4318"),
            (Protocol::HttpProtobuf, "ftp://c:21"),
            (Protocol::HttpProtobuf, ""),
            (Protocol::HttpProtobuf, "http://"),
            (Protocol::HttpProtobuf, "http://user:pw@c:4318"),
            (Protocol::Grpc, "unix:///tmp/socket"),
            (Protocol::Grpc, "not a url"),
        ] {
            assert!(
                resolve(protocol, Signal::Traces, endpoint, Base, false).is_err(),
                "{protocol} {endpoint:?}"
            );
        }
    }
}
