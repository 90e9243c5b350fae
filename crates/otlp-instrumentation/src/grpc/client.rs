//! [`GrpcClientLayer`]: CLIENT spans, `rpc.client.call.duration` and the context injected into
//! the request metadata, for a gRPC client (see the [module docs](super) for the conventions).
//!
//! With tonic, wrap the channel:
//! `TraceServiceClient::new(ServiceBuilder::new().layer(GrpcClientLayer::new(tracer, &meter)).service(channel))`.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use http_body::Body;
use otlp_propagation::{Propagators, TextMapPropagator};
use otlp_sdk::context;
use otlp_sdk::metrics::Meter;
use otlp_sdk::trace::{SpanKind, Tracer};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    Call, GrpcBody, Outcome, Pending, Shared, Side, base_attributes, host_and_port,
    method_attributes, push_server, push_version, span_name, watch_response,
};

/// Instruments a gRPC client (see the [module docs](super)).
#[derive(Clone)]
pub struct GrpcClientLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GrpcClientLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClientLayer").finish_non_exhaustive()
    }
}

impl GrpcClientLayer {
    /// Spans from `tracer`, `rpc.client.call.duration` from `meter`, and the global propagators
    /// ([`otlp_sdk::global::propagators`]) to inject the context into the request metadata.
    pub fn new(tracer: Tracer, meter: &Meter) -> Self {
        Self {
            shared: Arc::new(Shared::new(tracer, meter, Side::Client)),
        }
    }

    /// Injects with `propagators` instead of the global ones.
    #[must_use]
    pub fn with_propagators(self, propagators: Propagators) -> Self {
        Self {
            shared: self.shared.with_propagators(propagators),
        }
    }

    /// `server.address` and `server.port` for requests that do not carry an authority: tonic's
    /// `Channel` sets the request's scheme and authority itself, below this layer, so a client
    /// made with `new(channel)` sends only the path through it (one made `with_origin` sends
    /// the whole URI, which then wins).
    #[must_use]
    pub fn with_server(self, address: impl Into<String>, port: u16) -> Self {
        Self {
            shared: self.shared.with_server(address.into(), Some(port)),
        }
    }

    /// The methods the client calls (`package.Service/Method`); any other is recorded as
    /// `rpc.method` = `_OTHER` with the path in `rpc.method_original`. Without it, every
    /// well-formed path is a method.
    #[must_use]
    pub fn with_methods<I, M>(self, methods: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: Into<String>,
    {
        Self {
            shared: self.shared.with_methods(methods),
        }
    }
}

impl<S> Layer<S> for GrpcClientLayer {
    type Service = GrpcClient<S>;

    fn layer(&self, inner: S) -> GrpcClient<S> {
        GrpcClient {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The instrumented client [`GrpcClientLayer`] makes.
#[derive(Clone)]
pub struct GrpcClient<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for GrpcClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for GrpcClient<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Display,
    RB: Body,
{
    type Response = Response<GrpcBody<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let (method, original) = method_attributes(request.uri().path(), shared.methods.as_deref());
        let mut attributes = base_attributes(&method);
        let mut metric_attributes = attributes.clone();
        attributes.extend(original);
        let host = host_and_port(&request).map(|(host, port)| {
            let port = port.or(match request.uri().scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            });
            (host, port)
        });
        let host = host.or_else(|| shared.server.clone());
        push_server(&mut [&mut attributes, &mut metric_attributes], host);
        push_version(
            &mut [&mut attributes, &mut metric_attributes],
            request.version(),
        );
        let span = shared
            .tracer
            .span(span_name(&method))
            .kind(SpanKind::Client)
            .attributes(attributes)
            .start();
        // The callee continues this span's trace: the context goes into the metadata.
        let cx = context::current().with_span_context(span.span_context().clone());
        shared.propagators.inject(&cx, request.headers_mut());
        ResponseFuture {
            inner: self.inner.call(request),
            pending: Some(Pending(Some(Call {
                span,
                started: Instant::now(),
                metric_attributes,
                duration: shared.duration.clone(),
                side: Side::Client,
            }))),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`GrpcClient`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, RB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
    E: Display,
    RB: Body,
{
    type Output = Result<Response<GrpcBody<RB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let mut pending = this.pending.take().unwrap_or(Pending(None));
        Poll::Ready(match result {
            Ok(response) => Ok(watch_response(response, pending, None)),
            Err(error) => {
                pending.finish(Outcome::Error(error.to_string()));
                Err(error)
            }
        })
    }
}
