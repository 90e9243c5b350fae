//! gRPC instrumentation: tower layers for servers ([`server::GrpcServerLayer`]) and clients
//! ([`client::GrpcClientLayer`]) over plain `http` requests and `http-body` bodies, so they fit
//! tonic's stack (`Server::builder().layer(..)`, a `Channel` wrapped by
//! `tower::ServiceBuilder`) without depending on tonic.
//!
//! # The conventions applied
//!
//! From the RPC semantic conventions, release candidate (opentelemetry.io
//! `docs/specs/semconv/rpc/grpc/`, `rpc/rpc-spans/` and `rpc/rpc-metrics/`, the versions after
//! v1.37.0 that replaced `rpc.system`, `rpc.service` and the numeric `rpc.grpc.status_code`):
//!
//! - **Span name**: `{rpc.method}`, the fully qualified method, e.g.
//!   `opentelemetry.proto.collector.trace.v1.TraceService/Export`; when the method is `_OTHER`
//!   the name is `{rpc.system.name}`, i.e. `grpc`.
//! - **Kind**: `SERVER` for the server layer, `CLIENT` for the client layer.
//! - **Attributes** (spans): `rpc.system.name` = `grpc` (at creation); `rpc.method` =
//!   `package.Service/Method`, taken from the request path `/package.Service/Method`;
//!   `rpc.method_original` with the raw path when `rpc.method` is `_OTHER` (a path that is not
//!   `/Service/Method`, or a method outside the set given to `with_methods`);
//!   `rpc.response.status_code` = the status code's *name* as a string (`OK`, `UNAVAILABLE`,
//!   `INVALID_ARGUMENT`, …); `server.address` and `server.port` (the request's authority —
//!   what a tonic server receives as `:authority`; on the client, tonic's `Channel` adds the
//!   authority *below* the layer, so give it with [`client::GrpcClientLayer::with_server`] or
//!   build the client `with_origin`);
//!   `network.protocol.version` (`2` for HTTP/2); `error.type` when the call failed.
//! - **Errors**: a *client* counts every code but `OK` as an error. A *server* counts only
//!   `UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and
//!   `DATA_LOSS` (the other codes are the caller's fault). For an error, the span status is
//!   `Error` with the `grpc-message` as its description and `error.type` is the status code's
//!   name; a transport or body error before any status is known gives `error.type` = `_OTHER`
//!   (and no `rpc.response.status_code`). These are all the `error.type` values reported: the
//!   17 code names and `_OTHER`.
//! - **Metrics**: `rpc.server.call.duration` and `rpc.client.call.duration`, histograms in `s`
//!   with the advisory boundaries `[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1,
//!   2.5, 5, 7.5, 10]` ([`DURATION_BOUNDARIES`]), each with `rpc.system.name`, `rpc.method`,
//!   `rpc.response.status_code`, `error.type` (if failed) and `network.protocol.version`; the
//!   client's also has `server.address` and `server.port` (opt-in on the server, so left off
//!   there). The measured duration is the span's.
//!
//! # Where the status comes from, and when the call ends
//!
//! A gRPC status arrives either in the response headers (a *trailers-only* response: what
//! tonic sends for an error returned by a handler) or in the trailers after the body. The
//! layers look at the headers first; otherwise they wrap the response body in [`GrpcBody`],
//! which watches the frames for the trailers and ends the span and records the duration as
//! soon as `grpc-status` is seen. Without a `grpc-status`, the code is inferred the way gRPC
//! libraries do (gRPC's HTTP-to-gRPC status mapping: 400 → `INTERNAL`, 401 →
//! `UNAUTHENTICATED`, 403 → `PERMISSION_DENIED`, 404 → `UNIMPLEMENTED`, 429/502/503/504 →
//! `UNAVAILABLE`, anything else, including a 200 whose body ended without a status, →
//! `UNKNOWN`). An unknown numeric code is `UNKNOWN`, as gRPC says to treat it.
//!
//! A call whose response future or body is dropped before its status is known was abandoned:
//! by the client application on the client side, by the peer (reset stream, closed
//! connection) on the server side. Either way it is recorded as `CANCELLED` — the code gRPC
//! libraries generate for a cancelled call — which makes it an error on the client and not
//! on the server.
//!
//! # Choices the conventions leave open
//!
//! - `rpc.method` MUST be `_OTHER` for a method the framework does not recognise. A layer in
//!   front of tonic's router cannot know the router's table, so by default every well-formed
//!   path is taken as the method (unknown methods then end as `UNIMPLEMENTED`, an error a
//!   server reports). Give the recognised methods to `with_methods` to bound the cardinality:
//!   the others are then `_OTHER` with `rpc.method_original`.
//! - Every request through a layer is taken as a gRPC call (tonic's server only serves
//!   gRPC); put the layer on the gRPC routes only when a server mixes in plain HTTP.
//! - Streaming calls are one span each, from the request to the final status, as the
//!   conventions say; messages are not counted.

pub mod client;
pub mod server;

use std::collections::HashSet;
use std::fmt::Display;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use otlp_model::semconv::trace::{
    ERROR_TYPE, NETWORK_PROTOCOL_VERSION, RPC_METHOD, RPC_METHOD_ORIGINAL,
    RPC_RESPONSE_STATUS_CODE, RPC_SYSTEM_NAME, SERVER_ADDRESS, SERVER_PORT,
};
use otlp_sdk::KeyValue;
use otlp_sdk::context::Context;
use otlp_sdk::metrics::Histogram;
use otlp_sdk::trace::{Span, Status};

/// The RPC conventions' advisory boundaries for call durations, in seconds.
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// `rpc.system.name` for gRPC.
const SYSTEM: &str = "grpc";

/// The gRPC status codes by number, as `rpc.response.status_code` spells them.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

const OK: u8 = 0;
const CANCELLED: u8 = 1;
const UNKNOWN: u8 = 2;

/// The name of a gRPC status code (`14` → `UNAVAILABLE`); `None` for a number gRPC does not
/// define.
#[must_use]
pub fn code_name(code: u32) -> Option<&'static str> {
    usize::try_from(code)
        .ok()
        .and_then(|i| CODE_NAMES.get(i).copied())
}

/// Whether a server reports `code` as an error: only `UNKNOWN`, `DEADLINE_EXCEEDED`,
/// `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and `DATA_LOSS` are (a client reports every
/// code but `OK`).
#[must_use]
pub fn is_server_error(code: u32) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// Which side of the call a layer instruments: it decides which codes are errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

impl Side {
    fn is_error(self, code: u8) -> bool {
        match self {
            Side::Server => is_server_error(u32::from(code)),
            Side::Client => code != OK,
        }
    }
}

/// `rpc.method` (and `rpc.method_original` when it is `_OTHER`) from a request path.
fn method_attributes(path: &str, known: Option<&HashSet<String>>) -> (String, Option<KeyValue>) {
    let method = path
        .strip_prefix('/')
        .and_then(|rest| {
            rest.split_once('/')
                .map(|(service, method)| (rest, service, method))
        })
        .filter(|(_, service, method)| {
            !service.is_empty() && !method.is_empty() && !method.contains('/')
        })
        .map(|(rest, _, _)| rest)
        .filter(|m| known.is_none_or(|known| known.contains(*m)));
    match method {
        Some(method) => (method.to_owned(), None),
        None => (
            "_OTHER".to_owned(),
            Some(KeyValue::new(RPC_METHOD_ORIGINAL, path.to_owned())),
        ),
    }
}

/// The span name for a method: the method, or `grpc` for `_OTHER`.
fn span_name(method: &str) -> String {
    if method == "_OTHER" {
        SYSTEM.to_owned()
    } else {
        method.to_owned()
    }
}

/// The common starting attributes of both sides' spans and metrics.
fn base_attributes(method: &str) -> Vec<KeyValue> {
    vec![
        KeyValue::new(RPC_SYSTEM_NAME, SYSTEM),
        KeyValue::new(RPC_METHOD, method.to_owned()),
    ]
}

/// `network.protocol.version` for an HTTP version.
fn protocol_version(version: http::Version) -> Option<&'static str> {
    match version {
        http::Version::HTTP_10 => Some("1.0"),
        http::Version::HTTP_11 => Some("1.1"),
        http::Version::HTTP_2 => Some("2"),
        http::Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// Host and port from the URI's authority (tonic's `:authority`), else the `Host` header.
fn host_and_port<B>(request: &http::Request<B>) -> Option<(String, Option<u16>)> {
    if let Some(authority) = request.uri().authority() {
        return Some((authority.host().to_owned(), authority.port_u16()));
    }
    let host = request.headers().get(http::header::HOST)?.to_str().ok()?;
    let authority: http::uri::Authority = host.parse().ok()?;
    Some((authority.host().to_owned(), authority.port_u16()))
}

/// Pushes `server.address` and `server.port` onto every list given.
fn push_server(lists: &mut [&mut Vec<KeyValue>], host: Option<(String, Option<u16>)>) {
    if let Some((address, port)) = host {
        for list in lists.iter_mut() {
            list.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
            if let Some(port) = port {
                list.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
    }
}

/// Pushes `network.protocol.version` onto every list given.
fn push_version(lists: &mut [&mut Vec<KeyValue>], version: http::Version) {
    if let Some(version) = protocol_version(version) {
        for list in lists.iter_mut() {
            list.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
        }
    }
}

/// How a call ended.
enum Outcome {
    /// A gRPC status code (already normalised: unknown numbers are `UNKNOWN`) and its message.
    Status(u8, Option<String>),
    /// A transport or body error before any status was known.
    Error(String),
}

/// The status in `headers` (response headers of a trailers-only response, or trailers), if
/// there is a `grpc-status`.
fn status_from(headers: &HeaderMap) -> Option<Outcome> {
    let status = headers.get("grpc-status")?;
    let code = status
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&c| code_name(c).is_some())
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(UNKNOWN);
    let message = headers
        .get("grpc-message")
        .map(|m| percent_decode(m.as_bytes()));
    Some(Outcome::Status(code, message))
}

/// The code for a response without `grpc-status`, from its HTTP status (gRPC's
/// HTTP-to-gRPC status mapping, as tonic and grpc-go apply it).
fn status_from_http(status: http::StatusCode) -> Outcome {
    let code = match status.as_u16() {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502 | 503 | 504 => 14,
        _ => UNKNOWN,
    };
    Outcome::Status(code, Some(format!("no grpc-status (HTTP status {status})")))
}

/// `grpc-message` is percent-encoded (gRPC over HTTP/2).
fn percent_decode(bytes: &[u8]) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)? << 4) | hex(*bytes.get(i + 2)?)?))
            .flatten();
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A call in flight: its span and what its duration is recorded with.
struct Call {
    span: Span,
    started: Instant,
    metric_attributes: Vec<KeyValue>,
    duration: Histogram<f64>,
    side: Side,
}

impl Call {
    fn finish(mut self, outcome: Outcome) {
        let mut attributes = std::mem::take(&mut self.metric_attributes);
        let (error_type, description) = match outcome {
            Outcome::Status(code, message) => {
                let name = CODE_NAMES
                    .get(usize::from(code))
                    .copied()
                    .unwrap_or("UNKNOWN");
                attributes.push(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
                self.span
                    .set_attribute(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
                if self.side.is_error(code) {
                    (Some(name), message.unwrap_or_default())
                } else {
                    (None, String::new())
                }
            }
            Outcome::Error(error) => (Some("_OTHER"), error),
        };
        if let Some(error_type) = error_type {
            attributes.push(KeyValue::new(ERROR_TYPE, error_type));
            self.span
                .set_attribute(KeyValue::new(ERROR_TYPE, error_type));
            self.span.set_status(Status::error(description));
        }
        self.duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
        self.span.end();
    }
}

/// A call whose status is not known yet; dropped unfinished, it is `CANCELLED`.
struct Pending(Option<Call>);

impl Pending {
    fn finish(&mut self, outcome: Outcome) {
        if let Some(call) = self.0.take() {
            call.finish(outcome);
        }
    }

    fn is_finished(&self) -> bool {
        self.0.is_none()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish(Outcome::Status(
            CANCELLED,
            Some("call abandoned".to_owned()),
        ));
    }
}

/// Finishes `pending` from a response's headers when they carry the status (or the response
/// cannot carry one in its body), and wraps the body to watch for the trailers otherwise.
fn watch_response<RB: Body>(
    response: http::Response<RB>,
    mut pending: Pending,
    context: Option<Context>,
) -> http::Response<GrpcBody<RB>> {
    let http_status = response.status();
    if let Some(outcome) = status_from(response.headers()) {
        pending.finish(outcome);
    } else if http_status != http::StatusCode::OK || response.body().is_end_stream() {
        // No grpc-status and either not a gRPC response or a body that is already over.
        pending.finish(status_from_http(http_status));
    }
    response.map(|inner| GrpcBody {
        inner,
        pending,
        context,
        http_status,
    })
}

pin_project_lite::pin_project! {
    /// The response body of the instrumented services: the inner body, watched for the
    /// trailers that carry `grpc-status`. Frames pass through unchanged; the call's span ends
    /// and its duration is recorded when the status is seen, when the body ends or fails, or
    /// (as `CANCELLED`) when it is dropped first. On a server, the server span is current
    /// while the body is polled (a streaming handler runs there).
    pub struct GrpcBody<B> {
        #[pin]
        inner: B,
        pending: Pending,
        context: Option<Context>,
        http_status: http::StatusCode,
    }
}

impl<B> std::fmt::Debug for GrpcBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcBody")
            .field("finished", &self.pending.is_finished())
            .finish_non_exhaustive()
    }
}

impl<B> Body for GrpcBody<B>
where
    B: Body,
    B::Error: Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let result = {
            let _current = this
                .context
                .as_ref()
                .map(|c| otlp_sdk::context::attach(c.clone()));
            std::task::ready!(this.inner.as_mut().poll_frame(cx))
        };
        if !this.pending.is_finished() {
            match &result {
                Some(Ok(frame)) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        let outcome = status_from(trailers)
                            .unwrap_or_else(|| status_from_http(*this.http_status));
                        this.pending.finish(outcome);
                    } else if this.inner.is_end_stream() {
                        // The last frame was data: no trailers will come.
                        this.pending.finish(status_from_http(*this.http_status));
                    }
                }
                Some(Err(error)) => this.pending.finish(Outcome::Error(error.to_string())),
                None => this.pending.finish(status_from_http(*this.http_status)),
            }
        }
        Poll::Ready(result)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The configuration both layers share, behind an `Arc`.
#[derive(Clone)]
struct Shared {
    tracer: otlp_sdk::trace::Tracer,
    duration: Histogram<f64>,
    propagators: Arc<otlp_propagation::Propagators>,
    methods: Option<Arc<HashSet<String>>>,
    /// `server.address` and `server.port` for requests whose URI has no authority (the client).
    server: Option<(String, Option<u16>)>,
}

impl Shared {
    fn new(tracer: otlp_sdk::trace::Tracer, meter: &otlp_sdk::metrics::Meter, side: Side) -> Self {
        let (name, description) = match side {
            Side::Server => (
                "rpc.server.call.duration",
                "Measures the duration of incoming remote procedure calls (RPC).",
            ),
            Side::Client => (
                "rpc.client.call.duration",
                "Measures the duration of outgoing remote procedure calls (RPC).",
            ),
        };
        let duration = meter
            .f64_histogram(name)
            .with_unit("s")
            .with_description(description)
            .with_boundaries(DURATION_BOUNDARIES.to_vec())
            .build();
        Self {
            tracer,
            duration,
            propagators: otlp_sdk::global::propagators(),
            methods: None,
            server: None,
        }
    }

    fn with_methods<I, M>(mut self: Arc<Self>, methods: I) -> Arc<Self>
    where
        I: IntoIterator<Item = M>,
        M: Into<String>,
    {
        let methods = methods.into_iter().map(Into::into).collect();
        Arc::make_mut(&mut self).methods = Some(Arc::new(methods));
        self
    }

    fn with_server(mut self: Arc<Self>, address: String, port: Option<u16>) -> Arc<Self> {
        Arc::make_mut(&mut self).server = Some((address, port));
        self
    }

    fn with_propagators(
        mut self: Arc<Self>,
        propagators: otlp_propagation::Propagators,
    ) -> Arc<Self> {
        Arc::make_mut(&mut self).propagators = Arc::new(propagators);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_come_from_the_path() {
        assert_eq!(
            method_attributes("/pkg.Svc/Call", None),
            ("pkg.Svc/Call".to_owned(), None)
        );
        assert_eq!(
            method_attributes("/Svc/Call", None),
            ("Svc/Call".to_owned(), None)
        );
        for bad in ["/", "/Svc", "/Svc/", "//Call", "/a/b/c", "Svc/Call"] {
            assert_eq!(
                method_attributes(bad, None),
                (
                    "_OTHER".to_owned(),
                    Some(KeyValue::new(RPC_METHOD_ORIGINAL, bad.to_owned()))
                ),
                "{bad}"
            );
        }
        let known: HashSet<String> = ["pkg.Svc/Call".to_owned()].into();
        assert_eq!(
            method_attributes("/pkg.Svc/Call", Some(&known)).0,
            "pkg.Svc/Call"
        );
        assert_eq!(
            method_attributes("/pkg.Svc/Other", Some(&known)).0,
            "_OTHER"
        );
        assert_eq!(span_name("_OTHER"), "grpc");
    }

    #[test]
    fn codes_and_server_errors() {
        assert_eq!(code_name(0), Some("OK"));
        assert_eq!(code_name(14), Some("UNAVAILABLE"));
        assert_eq!(code_name(16), Some("UNAUTHENTICATED"));
        assert_eq!(code_name(17), None);
        let server_errors: Vec<_> = (0..17)
            .filter(|&c| is_server_error(c))
            .filter_map(code_name)
            .collect();
        assert_eq!(
            server_errors,
            [
                "UNKNOWN",
                "DEADLINE_EXCEEDED",
                "UNIMPLEMENTED",
                "INTERNAL",
                "UNAVAILABLE",
                "DATA_LOSS"
            ]
        );
        assert!(Side::Client.is_error(3));
        assert!(!Side::Server.is_error(3));
        assert!(!Side::Client.is_error(0));
    }

    #[test]
    fn statuses_from_headers() {
        let mut headers = HeaderMap::new();
        assert!(status_from(&headers).is_none());
        headers.insert("grpc-status", http::HeaderValue::from_static("14"));
        headers.insert(
            "grpc-message",
            http::HeaderValue::from_static("down%20for%20maintenance%"),
        );
        match status_from(&headers) {
            Some(Outcome::Status(14, Some(message))) => {
                assert_eq!(message, "down for maintenance%");
            }
            _ => panic!("expected UNAVAILABLE"),
        }
        headers.insert("grpc-status", http::HeaderValue::from_static("99"));
        assert!(matches!(
            status_from(&headers),
            Some(Outcome::Status(UNKNOWN, _))
        ));
        assert!(matches!(
            status_from_http(http::StatusCode::NOT_FOUND),
            Outcome::Status(12, _)
        ));
        assert!(matches!(
            status_from_http(http::StatusCode::OK),
            Outcome::Status(UNKNOWN, _)
        ));
    }
}
