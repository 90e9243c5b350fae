//! The HTTP plumbing the services and the sidecar share: one body type, a hyper 1 server loop
//! for a tower service, and an instrumented pooled client.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use otlp_instrumentation::http::client::{HttpClient, HttpClientLayer};
use otlp_sdk::metrics::Meter;
use otlp_sdk::trace::Tracer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::Layer;
use tower::Service;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

/// The body of every request and response the demo makes: streamed, boxed. (A concrete error
/// type: with `Box<dyn Error>` the futures holding it stop being provably `Send`.)
pub type Body = BoxBody<Bytes, hyper::Error>;

/// A whole body from `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A received body, streamed on as a [`Body`].
pub fn stream(body: Incoming) -> Body {
    body.boxed()
}

/// A response with `status` and a text body.
pub fn text(status: http::StatusCode, body: impl Into<Bytes>) -> http::Response<Body> {
    let mut response = http::Response::new(full(body));
    *response.status_mut() = status;
    response
}

/// The pooled hyper client, instrumented: a CLIENT span per request, its context injected.
pub type Client = HttpClient<hyper_util::client::legacy::Client<HttpConnector, Body>>;

/// An instrumented client recording with `tracer` and `meter`.
pub fn client(tracer: Tracer, meter: &Meter) -> Client {
    let pooled = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    HttpClientLayer::new(tracer, meter).layer(pooled)
}

/// A stop signal for [`serve`]: send `true` to stop accepting.
pub type Stop = watch::Receiver<bool>;

/// Serves HTTP/1.1 on `listener` with `service` until `stop` turns `true`. Every connection
/// runs with `dispatch` as its `tracing` dispatcher.
pub async fn serve<S>(listener: TcpListener, service: S, dispatch: Dispatch, mut stop: Stop)
where
    S: Service<http::Request<Incoming>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let service = TowerToHyperService::new(service.clone());
        let connection = async move {
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        };
        tokio::spawn(connection.with_subscriber(dispatch.clone()));
    }
}
