//! CORS on the OTLP/HTTP endpoint, over real connections: preflights allowed and refused (by
//! origin, wildcard pattern, method and header), `Access-Control-Max-Age`, the headers of actual
//! requests (successes and errors), a receiver without CORS, case-insensitive matching, and
//! odd input.
#![cfg(all(
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "json"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use otlp_transport::Signal;
use otlp_transport::server::{CorsConfig, MAX_REQUESTED_HEADERS, RunningReceiver};
use server_support::*;

const JSON: &str = "application/json";
const APP: &str = "https://app.example.com";
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The `Access-Control-*` headers of a reply, sorted, as `name: value` lines.
fn cors_headers(reply: &Reply) -> Vec<String> {
    let mut lines: Vec<String> = reply
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("access-control-"))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    lines.sort();
    lines
}

fn vary(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

/// An `OPTIONS` preflight for `POST /v1/traces`.
fn preflight(origin: Option<&str>, method: &str, headers: Option<&str>) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(Method::OPTIONS)
        .uri("http://localhost/v1/traces")
        .header("access-control-request-method", method);
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    if let Some(headers) = headers {
        builder = builder.header("access-control-request-headers", headers);
    }
    builder.body(Full::new(Bytes::new())).unwrap()
}

/// An OTLP/JSON traces POST with `origin`.
fn json_post(origin: Option<&str>) -> Request<Full<Bytes>> {
    let body = otlp_proto::json::to_vec(&traces(2)).unwrap();
    let mut request = http_request(Signal::Traces, JSON, None, body);
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    request
}

/// A receiver with `cors`, and its HTTP address (it serves until the receiver is dropped).
async fn start_cors(
    handler: std::sync::Arc<TestHandler>,
    cors: CorsConfig,
) -> (RunningReceiver, SocketAddr) {
    let receiver = start_with(handler, |r| r.cors(cors)).await;
    let addr = receiver.http_local_addr().unwrap();
    (receiver, addr)
}

fn allowed_preflight(origin: &str, headers: &str) -> Vec<String> {
    vec![
        "access-control-allow-credentials: true".to_owned(),
        format!("access-control-allow-headers: {headers}"),
        "access-control-allow-methods: POST".to_owned(),
        format!("access-control-allow-origin: {origin}"),
    ]
}

#[tokio::test]
async fn an_allowed_preflight_is_answered_without_the_handler() {
    let handler = TestHandler::new(Behaviour::Accept);
    let (_http, http) = start_cors(handler.clone(), CorsConfig::new([APP])).await;
    for version in [Version::Http1, Version::Http2] {
        let reply = send(
            http,
            version,
            preflight(Some(APP), "POST", Some("content-type")),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{version:?} {reply:?}"
        );
        assert!(reply.body.is_empty());
        assert_eq!(
            cors_headers(&reply),
            allowed_preflight(APP, "content-type"),
            "{version:?}"
        );
        assert_eq!(vary(&reply), [PREFLIGHT_VARY]);
        assert_eq!(reply.header("access-control-max-age"), None);
    }
    // A preflight with no requested headers allows the method alone.
    let reply = send(http, Version::Http1, preflight(Some(APP), "POST", None)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));
    assert_eq!(reply.header("access-control-allow-headers"), None);
    assert_eq!(handler.calls(), 0, "preflights never reach the handler");
}

#[tokio::test]
async fn preflights_are_refused_by_origin_method_and_header() {
    let handler = TestHandler::new(Behaviour::Accept);
    let (_http, http) = start_cors(
        handler.clone(),
        CorsConfig::new([APP]).with_allowed_headers(["X-Custom"]),
    )
    .await;
    for (origin, method, headers) in [
        (
            Some("https://evil.example.com"),
            "POST",
            Some("content-type"),
        ),
        (Some("https://app.example.com.evil"), "POST", None),
        (Some("http://app.example.com"), "POST", None),
        (None, "POST", Some("content-type")),
        (Some(APP), "PUT", Some("content-type")),
        (Some(APP), "DELETE", None),
        (Some(APP), "post", None),
        (Some(APP), "POST", Some("content-type,x-secret")),
        (Some(APP), "POST", Some("authorization")),
    ] {
        let reply = send(http, Version::Http1, preflight(origin, method, headers)).await;
        let what = format!("{origin:?} {method} {headers:?}");
        // rs/cors answers a refused preflight 204 too, only without the CORS headers.
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{what}");
        assert_eq!(cors_headers(&reply), Vec::<String>::new(), "{what}");
        assert_eq!(vary(&reply), [PREFLIGHT_VARY], "{what}");
    }
    // The configured header and the always-allowed ones pass, in any case and order.
    let reply = send(
        http,
        Version::Http1,
        preflight(Some(APP), "POST", Some("x-custom,content-type")),
    )
    .await;
    assert_eq!(
        cors_headers(&reply),
        allowed_preflight(APP, "x-custom,content-type")
    );
    let reply = send(
        http,
        Version::Http2,
        preflight(Some(APP), "POST", Some("Content-Type, X-CUSTOM ,accept")),
    )
    .await;
    assert_eq!(
        cors_headers(&reply),
        allowed_preflight(APP, "Content-Type, X-CUSTOM ,accept")
    );
    // Without configured headers, X-Requested-With is allowed (rs/cors's default list).
    let (_default, default) = start_cors(handler.clone(), CorsConfig::new([APP])).await;
    let reply = send(
        default,
        Version::Http1,
        preflight(Some(APP), "POST", Some("content-type,x-requested-with")),
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));
    let reply = send(
        default,
        Version::Http1,
        preflight(Some(APP), "POST", Some("x-custom")),
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(handler.calls(), 0);
}

#[tokio::test]
async fn origin_patterns_any_origin_and_any_header() {
    let handler = TestHandler::new(Behaviour::Accept);
    let (_http, http) = start_cors(
        handler.clone(),
        CorsConfig::new(["https://*.example.com", "http://localhost:*"]),
    )
    .await;
    for (origin, allowed) in [
        ("https://app.example.com", true),
        ("https://a.b.example.com", true),
        ("HTTPS://App.Example.COM", true),
        ("https://example.com", false),
        ("https://app.example.org", false),
        ("http://app.example.com", false),
        ("http://localhost:3000", true),
        ("http://localhost", false),
    ] {
        let reply = send(
            http,
            Version::Http1,
            preflight(Some(origin), "POST", Some("content-type")),
        )
        .await;
        let expected = allowed.then_some(origin);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            expected,
            "{origin}: the origin is echoed as sent"
        );
    }
    let (_any, any) = start_cors(
        handler.clone(),
        CorsConfig::new(["*"]).with_allowed_headers(["*"]),
    )
    .await;
    let reply = send(
        any,
        Version::Http1,
        preflight(Some("https://anywhere.test"), "POST", Some("x-a,x-b")),
    )
    .await;
    assert_eq!(cors_headers(&reply), allowed_preflight("*", "x-a,x-b"));
    let reply = send(
        any,
        Version::Http1,
        json_post(Some("https://anywhere.test")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn max_age_is_sent_when_configured() {
    let handler = TestHandler::new(Behaviour::Accept);
    let (_http, http) =
        start_cors(handler.clone(), CorsConfig::new([APP]).with_max_age(7200)).await;
    let reply = send(
        http,
        Version::Http1,
        preflight(Some(APP), "POST", Some("content-type")),
    )
    .await;
    assert_eq!(reply.header("access-control-max-age"), Some("7200"));
    // Not on a refused preflight, nor on an actual request.
    let reply = send(
        http,
        Version::Http1,
        preflight(Some("https://other.test"), "POST", None),
    )
    .await;
    assert_eq!(reply.header("access-control-max-age"), None);
    let reply = send(http, Version::Http1, json_post(Some(APP))).await;
    assert_eq!(reply.header("access-control-max-age"), None);
}

#[tokio::test]
async fn actual_requests_get_the_origin_on_success_and_on_errors() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start_with(handler.clone(), |r| {
        r.cors(CorsConfig::new([APP]).with_exposed_headers(["retry-after"]))
            .bearer_token("t0ken")
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let authorized = |mut request: Request<Full<Bytes>>| {
        request
            .headers_mut()
            .insert("authorization", HeaderValue::from_static("Bearer t0ken"));
        request
    };
    let granted = vec![
        "access-control-allow-credentials: true".to_owned(),
        format!("access-control-allow-origin: {APP}"),
        "access-control-expose-headers: Retry-After".to_owned(),
    ];

    for version in [Version::Http1, Version::Http2] {
        let reply = send(http, version, authorized(json_post(Some(APP)))).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.header("content-type"), Some(JSON));
        assert_eq!(cors_headers(&reply), granted, "{version:?}");
        assert_eq!(vary(&reply), ["Origin"]);
    }
    assert_eq!(handler.calls(), 2);

    // Errors: no token (401), an unknown path (404), a wrong content type (415).
    let reply = send(http, Version::Http1, json_post(Some(APP))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cors_headers(&reply), granted);
    let mut unknown = authorized(json_post(Some(APP)));
    *unknown.uri_mut() = "http://localhost/v1/nothing".parse().unwrap();
    let reply = send(http, Version::Http1, unknown).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(cors_headers(&reply), granted);
    let mut text = authorized(json_post(Some(APP)));
    text.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/plain"));
    let reply = send(http, Version::Http1, text).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(cors_headers(&reply), granted);

    // A preflight needs no token (browsers never send credentials on one); asking for
    // `authorization` is refused only because it is not an allowed header.
    let reply = send(
        http,
        Version::Http1,
        preflight(Some(APP), "POST", Some("authorization,content-type")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        None,
        "{reply:?}"
    );
    let reply = send(
        http,
        Version::Http1,
        preflight(Some(APP), "POST", Some("content-type")),
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));

    // An OPTIONS that is not a preflight is an ordinary request: 405, with the origin.
    let mut options = authorized(json_post(Some(APP)));
    *options.method_mut() = Method::OPTIONS;
    let reply = send(http, Version::Http1, options).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));

    // Without Origin, or with another origin: served, no Access-Control-* header.
    for origin in [None, Some("https://evil.example.com")] {
        let reply = send(http, Version::Http1, authorized(json_post(origin))).await;
        assert_eq!(reply.status, StatusCode::OK, "{origin:?}");
        assert_eq!(cors_headers(&reply), Vec::<String>::new(), "{origin:?}");
        assert_eq!(vary(&reply), ["Origin"], "{origin:?}");
    }
    assert_eq!(handler.calls(), 4);
    receiver.shutdown(std::time::Duration::from_secs(2)).await;
}

#[tokio::test]
async fn without_cors_nothing_changes() {
    let handler = TestHandler::new(Behaviour::Accept);
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let reply = send(
        http,
        Version::Http1,
        preflight(Some(APP), "POST", Some("content-type")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    assert!(vary(&reply).is_empty());
    let reply = send(http, Version::Http1, json_post(Some(APP))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    assert!(vary(&reply).is_empty());
    // An empty list of origins is no CORS either (otelcol's rule).
    let (_empty, empty) = start_cors(
        handler.clone(),
        CorsConfig::new(Vec::<String>::new()).with_allowed_headers(["x-a"]),
    )
    .await;
    let reply = send(empty, Version::Http1, preflight(Some(APP), "POST", None)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    assert_eq!(handler.calls(), 1);
    receiver.shutdown(std::time::Duration::from_secs(2)).await;
}

#[tokio::test]
async fn odd_input_is_refused_without_harm() {
    let handler = TestHandler::new(Behaviour::Accept);
    let (_http, http) = start_cors(
        handler.clone(),
        CorsConfig::new(["https://*"]).with_allowed_headers(["x-a"]),
    )
    .await;
    // An origin the pattern matches but too long to consider.
    let long = format!("https://{}.test", "a".repeat(4096));
    let reply = send(http, Version::Http1, preflight(Some(&long), "POST", None)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    let reply = send(http, Version::Http1, json_post(Some(&long))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    // Bytes beyond ASCII in Origin.
    let mut request = preflight(None, "POST", None);
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_bytes(b"https://\xff\xfe.test").unwrap(),
    );
    let reply = send(http, Version::Http1, request).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    // Too many (even empty) header names; many lines of allowed ones.
    let commas = ",".repeat(MAX_REQUESTED_HEADERS + 1);
    let reply = send(
        http,
        Version::Http1,
        preflight(Some("https://a.test"), "POST", Some(&commas)),
    )
    .await;
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
    let mut request = preflight(Some("https://a.test"), "POST", Some("x-a"));
    request.headers_mut().append(
        "access-control-request-headers",
        HeaderValue::from_static("content-type"),
    );
    let reply = send(http, Version::Http1, request).await;
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://a.test")
    );
    let echoed: Vec<&str> = reply
        .headers
        .get_all("access-control-allow-headers")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(echoed, ["x-a", "content-type"]);
    // An empty Access-Control-Request-Method is no preflight: an ordinary OPTIONS (405).
    let mut request = preflight(Some("https://a.test"), "POST", None);
    request.headers_mut().insert(
        "access-control-request-method",
        HeaderValue::from_static(""),
    );
    let reply = send(http, Version::Http1, request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(handler.calls(), 1, "only the POST with the long origin");
    // Still serving.
    let reply = send(http, Version::Http2, json_post(Some("https://a.test"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://a.test")
    );
}

#[tokio::test]
async fn an_invalid_exposed_header_is_a_start_error() {
    let handler = TestHandler::new(Behaviour::Accept);
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let error = otlp_transport::server::Receiver::from_arc(handler)
        .http(local)
        .cors(CorsConfig::new([APP]).with_exposed_headers(["not a name"]))
        .start()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("exposed_headers"), "{error}");
}
