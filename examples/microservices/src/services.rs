//! The demo: four services in one process, each with its own telemetry.
//!
//! ```text
//! client ─GET /checkout/{user}→ gateway ─GET /users/{id}→ users ─POST /orders→ orders
//!                                                                               │ send payments
//!                                                              queue (bounded) ─┘
//!                                                                  └─→ payments: process payments → charge
//! ```
//!
//! One request is one trace: `gateway` starts it (SERVER), each HTTP hop is a CLIENT span and
//! the callee's SERVER span, `orders` sends to the `payments` topic in a PRODUCER span whose
//! context rides in the message headers, and `payments` continues it in a CONSUMER span
//! (child of the PRODUCER span, and linked to it) with a `tracing` span `charge` below.
//! Every handler logs through `tracing`, so the log records carry the trace.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use otlp_instrumentation::http::server::HttpServerLayer;
use otlp_instrumentation::messaging::{Messaging, Parent};
use otlp_sdk::SdkError;
use otlp_sdk::env::Env;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::{Layer, ServiceExt};
use tracing::instrument::WithSubscriber;

use crate::BoxError;
use crate::http::{Body, Client, Stop, client, full, serve, text};
use crate::queue::{Consumer, Message, Producer, topic};
use crate::telemetry::Telemetry;

/// The service names, as their resources' `service.name`.
pub const SERVICES: [&str; 4] = ["gateway", "users", "orders", "payments"];
/// The topic `orders` sends to and `payments` consumes.
pub const TOPIC: &str = "payments";
/// The `messaging.system` of the in-process queue.
pub const MESSAGING_SYSTEM: &str = "demo-queue";
/// The response header in which `gateway` returns the request's trace id.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

/// The running demo.
#[derive(Debug)]
pub struct Demo {
    gateway: SocketAddr,
    telemetry: Vec<Arc<Telemetry>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    driver: hyper_util::client::legacy::Client<HttpConnector, Body>,
    processed: Arc<AtomicU64>,
}

/// What one checkout returned.
#[derive(Clone, Debug)]
pub struct Checkout {
    /// The gateway's status.
    pub status: StatusCode,
    /// The trace of the request, from [`TRACE_ID_HEADER`].
    pub trace_id: Option<String>,
    /// The gateway's response body.
    pub body: String,
}

impl Demo {
    /// Starts every service on a loopback port of its own, exporting as `env` says.
    ///
    /// # Errors
    ///
    /// A service's telemetry could not start, or a port could not be bound.
    pub async fn start(env: &dyn Env) -> Result<Self, BoxError> {
        let [gateway, users, orders, payments] =
            SERVICES.map(|name| Telemetry::start(name, env).map(Arc::new));
        let (gateway, users, orders, payments) = (gateway?, users?, orders?, payments?);
        let (stop_tx, stop) = watch::channel(false);
        let bind = || TcpListener::bind(("127.0.0.1", 0));
        let (gateway_listener, users_listener, orders_listener) =
            (bind().await?, bind().await?, bind().await?);
        let users_addr = users_listener.local_addr()?;
        let orders_addr = orders_listener.local_addr()?;
        let gateway_addr = gateway_listener.local_addr()?;
        let (producer, consumer) = topic(64);
        let processed = Arc::new(AtomicU64::new(0));

        let mut tasks = Vec::new();
        let next = Arc::new(Next {
            client: client(gateway.tracer(), &gateway.meter()),
            addr: users_addr,
        });
        tasks.push(spawn_http(
            &gateway,
            gateway_listener,
            gateway_route,
            stop.clone(),
            move |r| handle_gateway(Arc::clone(&next), r),
        ));
        let next = Arc::new(Next {
            client: client(users.tracer(), &users.meter()),
            addr: orders_addr,
        });
        tasks.push(spawn_http(
            &users,
            users_listener,
            users_route,
            stop.clone(),
            move |r| handle_users(Arc::clone(&next), r),
        ));
        let state = Arc::new(Orders {
            messaging: Messaging::new(MESSAGING_SYSTEM, orders.tracer(), &orders.meter()),
            producer,
            next_id: AtomicU64::new(1),
        });
        tasks.push(spawn_http(
            &orders,
            orders_listener,
            orders_route,
            stop.clone(),
            move |r| handle_orders(Arc::clone(&state), r),
        ));
        let messaging = Messaging::new(MESSAGING_SYSTEM, payments.tracer(), &payments.meter());
        let consume = consume_payments(messaging, consumer, stop, Arc::clone(&processed));
        tasks.push(tokio::spawn(
            consume.with_subscriber(payments.dispatch().clone()),
        ));

        Ok(Self {
            gateway: gateway_addr,
            telemetry: vec![gateway, users, orders, payments],
            stop: stop_tx,
            tasks,
            driver: hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http(),
            processed,
        })
    }

    /// The gateway's address.
    #[must_use]
    pub fn gateway(&self) -> SocketAddr {
        self.gateway
    }

    /// How many payments `payments` has processed.
    #[must_use]
    pub fn payments_processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    /// One checkout for `user`, as an uninstrumented client sends it (the gateway starts the
    /// trace).
    ///
    /// # Errors
    ///
    /// The gateway could not be reached.
    pub async fn checkout(&self, user: u64) -> Result<Checkout, BoxError> {
        let request =
            Request::get(format!("http://{}/checkout/{user}", self.gateway)).body(full(""))?;
        let response = self.driver.request(request).await?;
        let status = response.status();
        let trace_id = response
            .headers()
            .get(TRACE_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Checkout {
            status,
            trace_id,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Stops the services (`payments` first drains the queue), then flushes and shuts down
    /// every service's providers, returning by `deadline`.
    ///
    /// # Errors
    ///
    /// What was not exported, per service.
    pub async fn shutdown(self, deadline: Instant) -> Result<(), ShutdownError> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let telemetry = self.telemetry;
        // The providers' shutdown blocks its thread until the deadline at worst.
        let failures = tokio::task::spawn_blocking(move || {
            telemetry
                .iter()
                .filter_map(|t| Some((t.service(), t.shutdown(deadline).err()?)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_else(|e| vec![("demo", SdkError::Config(format!("shutdown task: {e}")))]);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ShutdownError { failures })
        }
    }
}

/// What [`Demo::shutdown`] could not export, per service.
#[derive(Debug)]
pub struct ShutdownError {
    /// The service and its providers' error.
    pub failures: Vec<(&'static str, SdkError)>,
}

impl std::fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (service, error)) in self.failures.iter().enumerate() {
            let separator = if i == 0 { "" } else { "; " };
            write!(f, "{separator}{service}: {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ShutdownError {}

/// Serves `handler` on `listener`, instrumented with `telemetry`'s HTTP server layer.
fn spawn_http<H, F>(
    telemetry: &Telemetry,
    listener: TcpListener,
    route: fn(&http::request::Parts) -> Option<String>,
    stop: Stop,
    handler: H,
) -> JoinHandle<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, Infallible>> + Send + 'static,
{
    let layer = HttpServerLayer::new(telemetry.tracer(), &telemetry.meter()).with_route(route);
    let service = layer.layer(tower::service_fn(handler));
    let dispatch = telemetry.dispatch().clone();
    tokio::spawn(serve(listener, service, dispatch.clone(), stop).with_subscriber(dispatch))
}

/// The segment after `prefix` when the path is `prefix{segment}` (one non-empty segment).
fn one_segment(path: &str, prefix: &str) -> Option<String> {
    path.strip_prefix(prefix)
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(str::to_owned)
}

fn gateway_route(parts: &http::request::Parts) -> Option<String> {
    one_segment(parts.uri.path(), "/checkout/").map(|_| "/checkout/{user}".to_owned())
}

fn users_route(parts: &http::request::Parts) -> Option<String> {
    one_segment(parts.uri.path(), "/users/").map(|_| "/users/{id}".to_owned())
}

fn orders_route(parts: &http::request::Parts) -> Option<String> {
    (parts.uri.path() == "/orders").then(|| "/orders".to_owned())
}

/// The trace id of the current context (the SERVER span inside a handler).
fn current_trace_id() -> Option<String> {
    otlp_sdk::context::current()
        .span_context()
        .map(|sc| sc.trace_id().to_string())
}

/// The next service and the instrumented client to call it with.
struct Next {
    client: Client,
    addr: SocketAddr,
}

impl Next {
    /// Calls the next service; its 2xx body, or a 502 to answer with.
    async fn call(&self, request: Request<Body>) -> Result<Bytes, Response<Body>> {
        let response = match self.client.clone().oneshot(request).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(%error, upstream = %self.addr, "upstream unreachable");
                return Err(text(StatusCode::BAD_GATEWAY, "upstream unreachable"));
            }
        };
        let status = response.status();
        let body = match response.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) => {
                tracing::error!(%error, "upstream body failed");
                return Err(text(StatusCode::BAD_GATEWAY, "upstream body failed"));
            }
        };
        if status.is_success() {
            Ok(body)
        } else {
            tracing::warn!(%status, "upstream failed");
            Err(text(StatusCode::BAD_GATEWAY, body))
        }
    }
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found")
}

async fn handle_gateway(
    next: Arc<Next>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let Some(user) = one_segment(request.uri().path(), "/checkout/") else {
        return Ok(not_found());
    };
    if request.method() != Method::GET {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "GET only"));
    }
    tracing::info!(user.id = %user, "checkout started");
    let upstream = Request::get(format!("http://{}/users/{user}", next.addr)).body(full(""));
    let mut response = match upstream {
        Ok(upstream) => match next.call(upstream).await {
            Ok(body) => {
                tracing::info!(user.id = %user, "checkout done");
                text(StatusCode::OK, body)
            }
            Err(response) => response,
        },
        Err(error) => text(StatusCode::BAD_REQUEST, error.to_string()),
    };
    if let Some(value) = current_trace_id().and_then(|t| http::HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(TRACE_ID_HEADER, value);
    }
    Ok(response)
}

async fn handle_users(
    next: Arc<Next>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let Some(user) = one_segment(request.uri().path(), "/users/") else {
        return Ok(not_found());
    };
    tracing::info!(user.id = %user, "user looked up");
    let order = Request::post(format!("http://{}/orders", next.addr))
        .body(full(format!("user={user}&amount=1999")));
    Ok(match order {
        Ok(order) => match next.call(order).await {
            Ok(body) => text(
                StatusCode::OK,
                format!("user {user}: {}", String::from_utf8_lossy(&body)),
            ),
            Err(response) => response,
        },
        Err(error) => text(StatusCode::BAD_REQUEST, error.to_string()),
    })
}

/// The state of `orders`: the producer side of the topic.
struct Orders {
    messaging: Messaging,
    producer: Producer,
    next_id: AtomicU64,
}

async fn handle_orders(
    state: Arc<Orders>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/orders" {
        return Ok(not_found());
    }
    if request.method() != Method::POST {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "POST only"));
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) => return Ok(text(StatusCode::BAD_REQUEST, error.to_string())),
    };
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    tracing::info!(order.id = id, "order created");
    let mut headers = Vec::new();
    let send = state.messaging.send(TOPIC, &mut headers);
    let payload = Bytes::from(format!("order={id}&{}", String::from_utf8_lossy(&body)));
    match state.producer.send(Message { headers, payload }).await {
        Ok(()) => {
            send.end();
            Ok(text(StatusCode::CREATED, format!("order {id}")))
        }
        Err(_) => {
            send.fail("queue_closed", "the payments topic is closed");
            tracing::error!(order.id = id, "payments topic closed");
            Ok(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "payments unavailable",
            ))
        }
    }
}

/// `payments`: processes every message until stopped, then drains what is left.
async fn consume_payments(
    messaging: Messaging,
    mut consumer: Consumer,
    mut stop: Stop,
    processed: Arc<AtomicU64>,
) {
    loop {
        tokio::select! {
            message = consumer.recv() => match message {
                Some(message) => process_payment(&messaging, &message, &processed),
                None => return,
            },
            _ = stop.wait_for(|stopped| *stopped) => break,
        }
    }
    while let Ok(message) = consumer.try_recv() {
        process_payment(&messaging, &message, &processed);
    }
}

/// One payment: a CONSUMER span continuing the producer's trace, a `tracing` span below it.
fn process_payment(messaging: &Messaging, message: &Message, processed: &AtomicU64) {
    let process = messaging.process(TOPIC, &message.headers, Parent::Creation);
    let _current = process.attach();
    let payload = String::from_utf8_lossy(&message.payload);
    let span = tracing::info_span!("charge", payment.order = %payload);
    let _entered = span.enter();
    tracing::info!(payment.order = %payload, "payment charged");
    processed.fetch_add(1, Ordering::Relaxed);
}
