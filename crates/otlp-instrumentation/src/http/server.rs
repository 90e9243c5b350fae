//! [`HttpServerLayer`]: SERVER spans and the `http.server.*` metrics for any tower HTTP
//! service.
//!
//! ```
//! use otlp_instrumentation::http::server::HttpServerLayer;
//! use otlp_sdk::metrics::MeterProvider;
//! use otlp_sdk::trace::TracerProvider;
//! use tower::{Layer, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let tracer = TracerProvider::builder().build().tracer("my-service");
//! let meter = MeterProvider::builder().build().meter("my-service");
//! let app = tower::service_fn(|_req: http::Request<()>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new("hello"))
//! });
//! let app = HttpServerLayer::new(tracer, &meter).layer(app);
//! let response = app.oneshot(http::Request::new(())).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
//! ```

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use otlp_model::semconv::trace::{
    ERROR_TYPE, HTTP_REQUEST_BODY_SIZE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_BODY_SIZE,
    HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT,
    URL_PATH, URL_QUERY, URL_SCHEME, USER_AGENT_ORIGINAL,
};
use otlp_propagation::{Propagators, TextMapPropagator};
use otlp_sdk::context::{Context, FutureExt, WithContext};
use otlp_sdk::metrics::{Histogram, Meter, UpDownCounter};
use otlp_sdk::trace::{Span, SpanKind, Status, Tracer};
use otlp_sdk::{KeyValue, global};
use tower_layer::Layer;
use tower_service::Service;

use super::{DURATION_BOUNDARIES, host_and_port, protocol_version, push_method, scheme};

/// The route template of a request (`/users/{id}`), for span names and the `http.route`
/// attribute. Routers that know it insert it into the request's extensions, or the layer
/// finds it with [`HttpServerLayer::with_route`], or (feature `axum`) from axum's
/// `MatchedPath` when the layer is a route layer (`Router::route_layer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route(pub String);

/// The request and response body-size histograms.
type BodySizes = (Histogram<u64>, Histogram<u64>);

type RouteFn = Arc<dyn Fn(&http::request::Parts) -> Option<String> + Send + Sync>;

struct Instruments {
    tracer: Tracer,
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    propagators: Arc<Propagators>,
    route: Option<RouteFn>,
    /// `http.server.request.body.size` / `response.body.size`, when asked.
    body_sizes: Option<BodySizes>,
}

/// Instruments an HTTP server (see the [module docs](self)).
#[derive(Clone)]
pub struct HttpServerLayer {
    inner: Arc<Instruments>,
}

impl std::fmt::Debug for HttpServerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServerLayer").finish_non_exhaustive()
    }
}

impl HttpServerLayer {
    /// Spans from `tracer`, metrics from `meter`, the global propagators (`otlp_sdk::global`).
    pub fn new(tracer: Tracer, meter: &Meter) -> Self {
        let duration = meter
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests.")
            .with_boundaries(DURATION_BOUNDARIES.to_vec())
            .build();
        let active = meter
            .i64_up_down_counter("http.server.active_requests")
            .with_unit("{request}")
            .with_description("Number of active HTTP server requests.")
            .build();
        Self {
            inner: Arc::new(Instruments {
                tracer,
                duration,
                active,
                propagators: global::propagators(),
                route: None,
                body_sizes: None,
            }),
        }
    }

    fn with(self, f: impl FnOnce(&mut Instruments)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Instruments {
            tracer: shared.tracer.clone(),
            duration: shared.duration.clone(),
            active: shared.active.clone(),
            propagators: Arc::clone(&shared.propagators),
            route: shared.route.clone(),
            body_sizes: shared.body_sizes.clone(),
        });
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Extracts the caller's context with `propagators` instead of the global ones.
    #[must_use]
    pub fn with_propagators(self, propagators: Propagators) -> Self {
        self.with(|i| i.propagators = Arc::new(propagators))
    }

    /// Also records body sizes, as the conventions' opt-in attributes and metrics:
    /// `http.request.body.size` / `http.response.body.size` on the span and the
    /// `http.server.request.body.size` / `http.server.response.body.size` histograms (By),
    /// from the `Content-Length` headers (a streamed body without one is not counted).
    #[must_use]
    pub fn with_body_sizes(self, meter: &Meter) -> Self {
        let request = meter
            .u64_histogram("http.server.request.body.size")
            .with_unit("By")
            .with_description("Size of HTTP server request bodies.")
            .build();
        let response = meter
            .u64_histogram("http.server.response.body.size")
            .with_unit("By")
            .with_description("Size of HTTP server response bodies.")
            .build();
        self.with(|i| i.body_sizes = Some((request, response)))
    }

    /// Finds the route template of a request (e.g. axum's `MatchedPath`:
    /// `|parts| parts.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned())`).
    #[must_use]
    pub fn with_route(
        self,
        route: impl Fn(&http::request::Parts) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.with(|i| i.route = Some(Arc::new(route)))
    }
}

impl<S> Layer<S> for HttpServerLayer {
    type Service = HttpServer<S>;

    fn layer(&self, inner: S) -> HttpServer<S> {
        HttpServer {
            inner,
            instruments: Arc::clone(&self.inner),
        }
    }
}

/// The instrumented service [`HttpServerLayer`] makes.
#[derive(Clone)]
pub struct HttpServer<S> {
    inner: S,
    instruments: Arc<Instruments>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for HttpServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for HttpServer<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Display,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let i = &self.instruments;
        let parent = i.propagators.extract(request.headers());
        let (parts, body) = request.into_parts();
        let route = parts
            .extensions
            .get::<Route>()
            .map(|r| r.0.clone())
            .or_else(|| i.route.as_ref().and_then(|f| f(&parts)))
            .or_else(|| matched_path(&parts));
        let scheme = scheme(&parts.uri);

        let mut attributes = Vec::with_capacity(10);
        let method = push_method(&mut attributes, &parts.method);
        attributes.push(KeyValue::new(URL_PATH, parts.uri.path().to_owned()));
        if let Some(query) = parts.uri.query() {
            attributes.push(KeyValue::new(URL_QUERY, query.to_owned()));
        }
        attributes.push(KeyValue::new(URL_SCHEME, scheme.clone()));
        let version = protocol_version(parts.version);
        if let Some(version) = version {
            attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
        }
        let request_size = content_length(&parts.headers);
        if i.body_sizes.is_some()
            && let Some(size) = request_size
        {
            attributes.push(KeyValue::new(HTTP_REQUEST_BODY_SIZE, size as i64));
        }
        let request = Request::from_parts(parts, body);
        if let Some((host, port)) = host_and_port(&request) {
            attributes.push(KeyValue::new(SERVER_ADDRESS, host));
            if let Some(port) = port {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        if let Some(agent) = request
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            attributes.push(KeyValue::new(USER_AGENT_ORIGINAL, agent.to_owned()));
        }
        if let Some(route) = &route {
            attributes.push(KeyValue::new(HTTP_ROUTE, route.clone()));
        }
        let name = match &route {
            Some(route) => format!("{method} {route}"),
            None => method.to_owned(),
        };
        let span = i
            .tracer
            .span(name)
            .kind(SpanKind::Server)
            .parent(&parent)
            .attributes(attributes)
            .start();

        // The metrics' attributes: low cardinality only.
        let mut metric_attributes = vec![
            KeyValue::new(HTTP_REQUEST_METHOD, method),
            KeyValue::new(URL_SCHEME, scheme),
        ];
        let active = Active::start(i.active.clone(), metric_attributes.clone());
        if let Some(version) = version {
            metric_attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
        }
        if let Some(route) = route {
            metric_attributes.push(KeyValue::new(HTTP_ROUTE, route));
        }

        // The handler runs with the span current: in `call` and in every poll.
        let cx: Context = parent.with_span_context(span.span_context().clone());
        let future = {
            let _current = otlp_sdk::context::attach(cx.clone());
            self.inner.call(request)
        };
        ResponseFuture {
            inner: future.with_context(cx),
            state: Some(State {
                span,
                started: Instant::now(),
                metric_attributes,
                duration: i.duration.clone(),
                body_sizes: i.body_sizes.clone().map(|h| (h, request_size)),
                _active: active,
            }),
        }
    }
}

/// Counts a request in `http.server.active_requests` while alive.
struct Active {
    counter: UpDownCounter<i64>,
    attributes: Vec<KeyValue>,
}

impl Active {
    fn start(counter: UpDownCounter<i64>, attributes: Vec<KeyValue>) -> Self {
        counter.add(1, &attributes);
        Self {
            counter,
            attributes,
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.counter.add(-1, &self.attributes);
    }
}

/// axum's route template, when the layer runs after routing (`Router::route_layer`).
#[cfg(feature = "axum")]
fn matched_path(parts: &http::request::Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
}

#[cfg(not(feature = "axum"))]
fn matched_path(_parts: &http::request::Parts) -> Option<String> {
    None
}

/// The `Content-Length` of a message, if it has a valid one.
fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

struct State {
    /// The body-size histograms and the request's size, when asked.
    body_sizes: Option<(BodySizes, Option<u64>)>,
    span: Span,
    started: Instant,
    metric_attributes: Vec<KeyValue>,
    duration: Histogram<f64>,
    _active: Active,
}

impl State {
    fn finish_with_size(mut self, status: Option<u16>, error: Option<String>, size: Option<u64>) {
        if let Some(((requests, responses), request_size)) = self.body_sizes.take() {
            let attributes = &self.metric_attributes;
            if let Some(n) = request_size {
                requests.record(n, attributes);
            }
            if let Some(n) = size {
                responses.record(n, attributes);
                self.span
                    .set_attribute(KeyValue::new(HTTP_RESPONSE_BODY_SIZE, n as i64));
            }
        }
        self.finish(status, error);
    }

    fn finish(mut self, status: Option<u16>, error: Option<String>) {
        let mut attributes = std::mem::take(&mut self.metric_attributes);
        if let Some(code) = status {
            attributes.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
            self.span
                .set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
        }
        // A server's 5xx is an error; its 4xx is the client's.
        let error_type = match (&error, status) {
            (Some(_), _) => Some("_OTHER".to_owned()),
            (None, Some(code)) if code >= 500 => Some(code.to_string()),
            _ => None,
        };
        if let Some(error_type) = error_type {
            attributes.push(KeyValue::new(ERROR_TYPE, error_type.clone()));
            self.span
                .set_attribute(KeyValue::new(ERROR_TYPE, error_type));
            let description = error.unwrap_or_default();
            self.span.set_status(Status::error(description));
        }
        self.duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
        self.span.end();
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpServer`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        state: Option<State>,
    }
}

impl<F, RB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
    E: Display,
{
    type Output = Result<Response<RB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(state) = this.state.take() {
            match &result {
                Ok(response) => {
                    let size = content_length(response.headers());
                    state.finish_with_size(Some(response.status().as_u16()), None, size);
                }
                Err(error) => state.finish(None, Some(error.to_string())),
            }
        }
        Poll::Ready(result)
    }
}
