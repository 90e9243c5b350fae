//! [`HttpClientLayer`]: CLIENT spans, `http.client.request.duration` and context propagation
//! for any tower HTTP client (hyper-util's client, reqwest through tower, tonic's channel).

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use otlp_model::semconv::trace::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, NETWORK_PROTOCOL_VERSION,
    SERVER_ADDRESS, SERVER_PORT, URL_FULL, URL_SCHEME,
};
use otlp_propagation::{Propagators, TextMapPropagator};
use otlp_sdk::context::{FutureExt as _, WithContext};
use otlp_sdk::metrics::{Histogram, Meter};
use otlp_sdk::trace::{Span, SpanKind, Status, Tracer};
use otlp_sdk::{KeyValue, context, global};
use tower_layer::Layer;
use tower_service::Service;

use super::{DURATION_BOUNDARIES, host_and_port, protocol_version, push_method, scheme};

struct Instruments {
    tracer: Tracer,
    duration: Histogram<f64>,
    propagators: Arc<Propagators>,
}

/// Instruments an HTTP client.
#[derive(Clone)]
pub struct HttpClientLayer {
    inner: Arc<Instruments>,
}

impl std::fmt::Debug for HttpClientLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientLayer").finish_non_exhaustive()
    }
}

impl HttpClientLayer {
    /// Spans from `tracer`, metrics from `meter`, the global propagators.
    pub fn new(tracer: Tracer, meter: &Meter) -> Self {
        Self::build(tracer, meter, global::propagators())
    }

    /// Injects with `propagators` instead of the global ones.
    #[must_use]
    pub fn with_propagators(self, propagators: Propagators) -> Self {
        Self {
            inner: Arc::new(Instruments {
                tracer: self.inner.tracer.clone(),
                duration: self.inner.duration.clone(),
                propagators: Arc::new(propagators),
            }),
        }
    }

    fn build(tracer: Tracer, meter: &Meter, propagators: Arc<Propagators>) -> Self {
        let duration = meter
            .f64_histogram("http.client.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP client requests.")
            .with_boundaries(DURATION_BOUNDARIES.to_vec())
            .build();
        Self {
            inner: Arc::new(Instruments {
                tracer,
                duration,
                propagators,
            }),
        }
    }
}

impl<S> Layer<S> for HttpClientLayer {
    type Service = HttpClient<S>;

    fn layer(&self, inner: S) -> HttpClient<S> {
        HttpClient {
            inner,
            instruments: Arc::clone(&self.inner),
        }
    }
}

/// The instrumented client [`HttpClientLayer`] makes.
#[derive(Clone)]
pub struct HttpClient<S> {
    inner: S,
    instruments: Arc<Instruments>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for HttpClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// `url.full` without user information (the conventions forbid sending credentials).
fn full_url(uri: &http::Uri, host: Option<&(String, Option<u16>)>) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let authority = match (uri.authority(), host) {
        (Some(a), _) => {
            let a = a.as_str();
            a.rsplit_once('@').map_or(a, |(_, rest)| rest).to_owned()
        }
        (None, Some((h, Some(p)))) => format!("{h}:{p}"),
        (None, Some((h, None))) => h.clone(),
        (None, None) => String::new(),
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{scheme}://{authority}{path}")
}

impl<S, B, RB> Service<Request<B>> for HttpClient<S>
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

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let i = &self.instruments;
        let mut attributes = Vec::with_capacity(8);
        let method = push_method(&mut attributes, request.method());
        let host = host_and_port(&request);
        let scheme = scheme(request.uri());
        let port = host
            .as_ref()
            .and_then(|(_, p)| *p)
            .or(match scheme.as_ref() {
                "https" => Some(443),
                "http" => Some(80),
                _ => None,
            });
        attributes.push(KeyValue::new(
            URL_FULL,
            full_url(request.uri(), host.as_ref()),
        ));
        let mut metric_attributes = vec![KeyValue::new(HTTP_REQUEST_METHOD, method)];
        if let Some((address, _)) = &host {
            attributes.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
            metric_attributes.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
        }
        if let Some(port) = port {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            metric_attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        metric_attributes.push(KeyValue::new(URL_SCHEME, scheme));
        if let Some(version) = protocol_version(request.version()) {
            attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
        }
        let span = i
            .tracer
            .span(method)
            .kind(SpanKind::Client)
            .attributes(attributes)
            .start();
        // The callee continues this span's trace.
        let cx = context::current().with_span_context(span.span_context().clone());
        i.propagators.inject(&cx, request.headers_mut());
        // The client span is current while the inner client works (its own spans and logs
        // join it).
        let inner = {
            let _current = context::attach(cx.clone());
            self.inner.call(request)
        };
        ResponseFuture {
            inner: inner.with_context(cx),
            state: Some(State {
                span,
                started: Instant::now(),
                metric_attributes,
                duration: i.duration.clone(),
            }),
        }
    }
}

struct State {
    span: Span,
    started: Instant,
    metric_attributes: Vec<KeyValue>,
    duration: Histogram<f64>,
}

pin_project_lite::pin_project! {
    /// The response future of [`HttpClient`].
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
        if let Some(mut state) = this.state.take() {
            let mut attributes = std::mem::take(&mut state.metric_attributes);
            // A client treats 4xx and 5xx as errors.
            let error_type = match &result {
                Ok(response) => {
                    let code = response.status().as_u16();
                    attributes.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
                    state
                        .span
                        .set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
                    (code >= 400).then(|| (code.to_string(), String::new()))
                }
                Err(error) => Some(("_OTHER".to_owned(), error.to_string())),
            };
            if let Some((error_type, description)) = error_type {
                attributes.push(KeyValue::new(ERROR_TYPE, error_type.clone()));
                state
                    .span
                    .set_attribute(KeyValue::new(ERROR_TYPE, error_type));
                state.span.set_status(Status::error(description));
            }
            state
                .duration
                .record(state.started.elapsed().as_secs_f64(), &attributes);
            state.span.end();
        }
        Poll::Ready(result)
    }
}
