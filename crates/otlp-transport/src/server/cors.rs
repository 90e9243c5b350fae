//! CORS (cross-origin resource sharing) on the OTLP/HTTP endpoint, so that a web page of an
//! allowed origin can send telemetry with `fetch()`: the behaviour of the OpenTelemetry
//! Collector's `confighttp` `cors` section, which is rs/cors (v1.11) with credentials allowed.
//!
//! # Behaviour
//!
//! - A **preflight** (`OPTIONS` with `Access-Control-Request-Method`) is answered here, before
//!   authentication and routing; it never reaches the OTLP handler. It is always `204 No
//!   Content` with `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers`.
//!   When the origin is allowed, the requested method is `GET`, `HEAD` or `POST` (rs/cors's
//!   default methods; `OPTIONS` too) and every requested header is allowed, it also carries
//!   `Access-Control-Allow-Origin` (the request's origin, or `*` when `*` is configured),
//!   `Access-Control-Allow-Credentials: true`, `Access-Control-Allow-Methods` (the requested
//!   method), `Access-Control-Allow-Headers` (the requested headers, as sent) and
//!   `Access-Control-Max-Age` when configured. Otherwise it carries no `Access-Control-*`
//!   header, and the browser does not send the request.
//! - Every **other request** is served as without CORS, and its response (success or error)
//!   gets `Vary: Origin`; when it has an allowed `Origin` and its method is one of those
//!   above, also `Access-Control-Allow-Origin`, `Access-Control-Allow-Credentials: true` and
//!   `Access-Control-Expose-Headers` when configured.
//! - Origins match without regard to case; a `*` inside an allowed origin stands for any run
//!   of characters (only the first `*`: `https://*.example.com`); `*` alone allows every
//!   origin. An empty list of origins disables CORS (no header at all is added).
//! - Allowed request headers match without regard to case and order. `Accept`,
//!   `Accept-Language`, `Content-Language` and `Content-Type` are always allowed (what
//!   otelcol documents), `X-Requested-With` too when no header is configured (rs/cors's
//!   default list), and `*` allows any. rs/cors itself allows only the configured names once
//!   some are configured, and wants them sorted and unique as browsers send them: everything
//!   it accepts is accepted here.
//! - Bounded: an `Origin` longer than [`MAX_ORIGIN_LEN`] is not allowed, and a preflight
//!   listing more than [`MAX_REQUESTED_HEADERS`] header names (empty ones included) is
//!   refused; nothing here panics or allocates in proportion to the request.

#![cfg_attr(not(feature = "http"), allow(dead_code))]

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode};

use super::{ReceiverError, ReplyBody};

/// The longest `Origin` considered; a longer one is not allowed (an origin is a scheme, a host
/// name of at most 253 characters and a port).
pub const MAX_ORIGIN_LEN: usize = 2048;

/// The most header names (empty list elements included) a preflight may ask for.
pub const MAX_REQUESTED_HEADERS: usize = 128;

/// Request headers every configuration allows (lower case).
const ALWAYS_ALLOWED_HEADERS: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// Allowed too when no header is configured (rs/cors's default list).
const DEFAULT_ALLOWED_HEADERS: [&str; 1] = ["x-requested-with"];

/// The `Vary` of every preflight answer.
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// CORS on the OTLP/HTTP endpoint (otelcol's `protocols::http::cors`). See the
/// [module documentation](self) for the behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorsConfig {
    /// Origins allowed to send requests (`https://app.example.com`); a `*` inside one stands
    /// for any run of characters, `*` alone for any origin. Empty (the default): CORS is off.
    pub allowed_origins: Vec<String>,
    /// Request headers allowed besides `Accept`, `Accept-Language`, `Content-Language` and
    /// `Content-Type` (and `X-Requested-With` when empty); `*` allows any.
    pub allowed_headers: Vec<String>,
    /// Response headers a page may read (`Access-Control-Expose-Headers`).
    pub exposed_headers: Vec<String>,
    /// `Access-Control-Max-Age` of preflight answers, in seconds: how long a browser may cache
    /// one. `None` (the default) sends none (browsers then cache for 5 s).
    pub max_age: Option<u64>,
}

impl CorsConfig {
    /// CORS for `origins`.
    pub fn new<S: Into<String>>(origins: impl IntoIterator<Item = S>) -> CorsConfig {
        CorsConfig {
            allowed_origins: origins.into_iter().map(Into::into).collect(),
            ..CorsConfig::default()
        }
    }

    /// Allows these request headers too.
    #[must_use]
    pub fn with_allowed_headers<S: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = S>,
    ) -> CorsConfig {
        self.allowed_headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Lets pages read these response headers.
    #[must_use]
    pub fn with_exposed_headers<S: Into<String>>(
        mut self,
        headers: impl IntoIterator<Item = S>,
    ) -> CorsConfig {
        self.exposed_headers = headers.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `Access-Control-Max-Age` (seconds).
    #[must_use]
    pub fn with_max_age(mut self, seconds: u64) -> CorsConfig {
        self.max_age = Some(seconds);
        self
    }

    /// Checks what [`Receiver::start`](super::Receiver::start) checks: every exposed header is
    /// a valid header name.
    pub fn validate(&self) -> Result<(), ReceiverError> {
        CorsPolicy::compile(Some(self)).map(drop)
    }
}

/// A [`CorsConfig`] prepared for requests.
#[derive(Debug)]
pub(crate) struct CorsPolicy {
    any_origin: bool,
    /// Lower-case exact origins.
    origins: Vec<String>,
    /// Lower-case `(prefix, suffix)` around a pattern's first `*`.
    patterns: Vec<(String, String)>,
    any_header: bool,
    /// Lower-case allowed request header names.
    headers: Vec<String>,
    exposed: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

/// What an actual (non-preflight) request's response gets.
#[derive(Debug)]
#[must_use]
pub(crate) struct CorsGrant {
    /// `Access-Control-Allow-Origin`, when the origin is allowed.
    allow_origin: Option<HeaderValue>,
    exposed: Option<HeaderValue>,
}

impl CorsPolicy {
    /// The policy of `config`; `None` when there is no config or it allows no origin.
    pub(crate) fn compile(
        config: Option<&CorsConfig>,
    ) -> Result<Option<CorsPolicy>, ReceiverError> {
        let Some(config) = config.filter(|c| !c.allowed_origins.is_empty()) else {
            return Ok(None);
        };
        let mut policy = CorsPolicy {
            any_origin: false,
            origins: Vec::new(),
            patterns: Vec::new(),
            any_header: config.allowed_headers.iter().any(|h| h == "*"),
            headers: ALWAYS_ALLOWED_HEADERS.map(String::from).to_vec(),
            exposed: None,
            max_age: config.max_age.map(HeaderValue::from),
        };
        for origin in &config.allowed_origins {
            let origin = origin.to_lowercase();
            if origin == "*" {
                policy.any_origin = true;
            } else if let Some((prefix, suffix)) = origin.split_once('*') {
                policy.patterns.push((prefix.to_owned(), suffix.to_owned()));
            } else {
                policy.origins.push(origin);
            }
        }
        if config.allowed_headers.is_empty() {
            policy
                .headers
                .extend(DEFAULT_ALLOWED_HEADERS.map(String::from));
        }
        policy.headers.extend(
            config
                .allowed_headers
                .iter()
                .map(|h| h.trim().to_ascii_lowercase()),
        );
        if !config.exposed_headers.is_empty() {
            let mut names = Vec::with_capacity(config.exposed_headers.len());
            for name in &config.exposed_headers {
                HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                    ReceiverError::Config(format!(
                        "cors exposed_headers: {name:?} is not a header name"
                    ))
                })?;
                names.push(canonical_header_name(name.trim()));
            }
            let value = HeaderValue::from_str(&names.join(", ")).map_err(|_| {
                ReceiverError::Config("cors exposed_headers: not a header value".into())
            })?;
            policy.exposed = Some(value);
        }
        Ok(Some(policy))
    }

    /// The answer to a preflight request; `None` when the request is not one.
    pub(crate) fn preflight(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<Response<ReplyBody>> {
        if method != Method::OPTIONS {
            return None;
        }
        let requested_method = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .filter(|v| !v.is_empty())?;
        let mut response = Response::new(ReplyBody::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let out = response.headers_mut();
        out.append(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
        let Some(allow_origin) = self.allow_origin(headers) else {
            return Some(response);
        };
        if !allowed_method(requested_method.as_bytes()) {
            return Some(response);
        }
        let requested_headers = headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS);
        if !self.any_header && !self.headers_allowed(requested_headers.iter()) {
            return Some(response);
        }
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            requested_method.clone(),
        );
        if requested_headers
            .iter()
            .next()
            .is_some_and(|v| !v.is_empty())
        {
            for value in requested_headers {
                out.append(header::ACCESS_CONTROL_ALLOW_HEADERS, value.clone());
            }
        }
        out.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if let Some(max_age) = &self.max_age {
            out.insert(header::ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        Some(response)
    }

    /// What the response to an actual request gets.
    pub(crate) fn grant(&self, method: &Method, headers: &HeaderMap) -> CorsGrant {
        let method_allowed =
            *method == Method::OPTIONS || allowed_method(method.as_str().as_bytes());
        CorsGrant {
            allow_origin: self.allow_origin(headers).filter(|_| method_allowed),
            exposed: self.exposed.clone(),
        }
    }

    /// `Access-Control-Allow-Origin` for the request's `Origin`, when it is allowed.
    fn allow_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN).filter(|v| !v.is_empty())?;
        if self.any_origin {
            return Some(HeaderValue::from_static("*"));
        }
        if origin.len() > MAX_ORIGIN_LEN {
            return None;
        }
        let origin_text = std::str::from_utf8(origin.as_bytes()).ok()?.to_lowercase();
        let allowed = self.origins.contains(&origin_text)
            || self.patterns.iter().any(|(prefix, suffix)| {
                origin_text.len() >= prefix.len() + suffix.len()
                    && origin_text.starts_with(prefix.as_str())
                    && origin_text.ends_with(suffix.as_str())
            });
        allowed.then(|| origin.clone())
    }

    /// Whether every name of the `Access-Control-Request-Headers` lines is allowed.
    fn headers_allowed<'a>(&self, values: impl Iterator<Item = &'a HeaderValue>) -> bool {
        let mut elements = 0usize;
        for value in values {
            for name in value.as_bytes().split(|&b| b == b',') {
                elements += 1;
                if elements > MAX_REQUESTED_HEADERS {
                    return false;
                }
                let name = name.trim_ascii();
                if name.is_empty() {
                    continue;
                }
                if !self
                    .headers
                    .iter()
                    .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(name))
                {
                    return false;
                }
            }
        }
        true
    }
}

impl CorsGrant {
    /// Adds the grant's headers to a response.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        let Some(origin) = self.allow_origin else {
            return;
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if let Some(exposed) = self.exposed {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
        }
    }
}

/// rs/cors's default methods (compared as sent, as Go compares them).
fn allowed_method(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"POST" | b"HEAD" | b"OPTIONS")
}

/// A header name as Go's `CanonicalHeaderKey` writes it: `x-custom-header` →
/// `X-Custom-Header`.
fn canonical_header_name(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(config: CorsConfig) -> CorsPolicy {
        CorsPolicy::compile(Some(&config)).unwrap().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn no_origins_is_no_policy() {
        assert!(CorsPolicy::compile(None).unwrap().is_none());
        let headers_only = CorsConfig::default().with_allowed_headers(["x-a"]);
        assert!(CorsPolicy::compile(Some(&headers_only)).unwrap().is_none());
    }

    #[test]
    fn origins_match_exactly_by_pattern_or_any() {
        let p = policy(CorsConfig::new([
            "https://App.example.com",
            "http://*.test:8080",
            "allowed-*.com",
        ]));
        let allowed = |origin: &str| p.allow_origin(&headers(&[("origin", origin)])).is_some();
        assert!(allowed("https://app.example.com"));
        assert!(allowed("HTTPS://APP.EXAMPLE.COM"));
        assert!(!allowed("https://app.example.com.evil"));
        assert!(allowed("http://a.b.test:8080"));
        assert!(!allowed("http://a.test:8081"));
        assert!(!allowed("http://.test:8080x"));
        assert!(allowed("allowed-origin.com"));
        // prefix and suffix may not overlap.
        assert!(!allowed("allowed-.co"));
        assert!(!allowed(""));
        let long = format!("http://{}.test:8080", "a".repeat(MAX_ORIGIN_LEN));
        assert!(!allowed(&long));
        let any = policy(CorsConfig::new(["https://x", "*"]));
        let value = any.allow_origin(&headers(&[("origin", "https://anything")]));
        assert_eq!(value.unwrap(), "*");
    }

    #[test]
    fn header_lists_are_parsed_with_bounds() {
        let p = policy(CorsConfig::new(["*"]).with_allowed_headers(["X-Custom"]));
        let ok = |value: &str| {
            p.headers_allowed(headers(&[("access-control-request-headers", value)]).values())
        };
        assert!(ok("content-type,x-custom"));
        assert!(ok("X-Custom , Content-Type,,accept"));
        assert!(!ok("x-custom,x-other"));
        assert!(!ok("x-requested-with"), "only without configured headers");
        assert!(ok(&",".repeat(MAX_REQUESTED_HEADERS - 1)));
        assert!(!ok(&",".repeat(MAX_REQUESTED_HEADERS)));
        let default = policy(CorsConfig::new(["*"]));
        assert!(default.headers_allowed(
            headers(&[("access-control-request-headers", "x-requested-with")]).values()
        ));
    }

    #[test]
    fn exposed_headers_are_canonical_and_checked() {
        let p = policy(CorsConfig::new(["*"]).with_exposed_headers(["x-custom-header", "ETAG"]));
        assert_eq!(p.exposed.unwrap(), "X-Custom-Header, Etag");
        let bad = CorsConfig::new(["*"]).with_exposed_headers(["bad header"]);
        assert!(bad.validate().is_err());
    }
}
