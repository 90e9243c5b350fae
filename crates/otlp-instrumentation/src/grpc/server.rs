//! [`GrpcServerLayer`]: SERVER spans and `rpc.server.call.duration` for a gRPC server (see the
//! [module docs](super) for the conventions).
//!
//! With tonic: `Server::builder().layer(GrpcServerLayer::new(tracer, &meter))`.
//!
//! ```
//! use otlp_instrumentation::grpc::server::GrpcServerLayer;
//! use otlp_sdk::metrics::MeterProvider;
//! use otlp_sdk::trace::TracerProvider;
//! use tower::{Layer, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let tracer = TracerProvider::builder().build().tracer("my-service");
//! let meter = MeterProvider::builder().build().meter("my-service");
//! // A handler that answers with a trailers-only UNAVAILABLE.
//! let app = tower::service_fn(|_req: http::Request<()>| async {
//!     let response = http::Response::builder()
//!         .header("content-type", "application/grpc")
//!         .header("grpc-status", "14")
//!         .body(String::new())?;
//!     Ok::<_, http::Error>(response)
//! });
//! let app = GrpcServerLayer::new(tracer, &meter).layer(app);
//! let request = http::Request::post("/helloworld.Greeter/SayHello").body(())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.headers()["grpc-status"], "14");
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
use http_body::Body;
use otlp_propagation::{Propagators, TextMapPropagator};
use otlp_sdk::context::{Context, FutureExt, WithContext};
use otlp_sdk::metrics::Meter;
use otlp_sdk::trace::{SpanKind, Tracer};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    Call, GrpcBody, Outcome, Pending, Shared, Side, base_attributes, host_and_port,
    method_attributes, push_server, push_version, span_name, watch_response,
};

/// Instruments a gRPC server (see the [module docs](self)).
#[derive(Clone)]
pub struct GrpcServerLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GrpcServerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServerLayer").finish_non_exhaustive()
    }
}

impl GrpcServerLayer {
    /// Spans from `tracer`, `rpc.server.call.duration` from `meter`, and the global propagators
    /// ([`otlp_sdk::global::propagators`]) to extract the caller's context from the request
    /// metadata.
    pub fn new(tracer: Tracer, meter: &Meter) -> Self {
        Self {
            shared: Arc::new(Shared::new(tracer, meter, Side::Server)),
        }
    }

    /// Extracts the caller's context with `propagators` instead of the global ones.
    #[must_use]
    pub fn with_propagators(self, propagators: Propagators) -> Self {
        Self {
            shared: self.shared.with_propagators(propagators),
        }
    }

    /// The methods the server recognises (`package.Service/Method`); any other is recorded as
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

impl<S> Layer<S> for GrpcServerLayer {
    type Service = GrpcServer<S>;

    fn layer(&self, inner: S) -> GrpcServer<S> {
        GrpcServer {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The instrumented service [`GrpcServerLayer`] makes.
#[derive(Clone)]
pub struct GrpcServer<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for GrpcServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcServer")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> Service<Request<B>> for GrpcServer<S>
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

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let parent = shared.propagators.extract(request.headers());
        let (method, original) = method_attributes(request.uri().path(), shared.methods.as_deref());
        let mut attributes = base_attributes(&method);
        let mut metric_attributes = attributes.clone();
        attributes.extend(original);
        // server.address and server.port are opt-in on the metric: span only.
        push_server(&mut [&mut attributes], host_and_port(&request));
        push_version(
            &mut [&mut attributes, &mut metric_attributes],
            request.version(),
        );
        let span = shared
            .tracer
            .span(span_name(&method))
            .kind(SpanKind::Server)
            .parent(&parent)
            .attributes(attributes)
            .start();

        // The handler runs with the span current: in `call` and in every poll.
        let cx: Context = parent.with_span_context(span.span_context().clone());
        let future = {
            let _current = otlp_sdk::context::attach(cx.clone());
            self.inner.call(request)
        };
        ResponseFuture {
            inner: future.with_context(cx.clone()),
            pending: Some(Pending(Some(Call {
                span,
                started: Instant::now(),
                metric_attributes,
                duration: shared.duration.clone(),
                side: Side::Server,
            }))),
            context: Some(cx),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`GrpcServer`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: WithContext<F>,
        pending: Option<Pending>,
        context: Option<Context>,
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
            Ok(response) => Ok(watch_response(response, pending, this.context.take())),
            Err(error) => {
                pending.finish(Outcome::Error(error.to_string()));
                Err(error)
            }
        })
    }
}
