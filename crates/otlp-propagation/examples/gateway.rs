//! An HTTP gateway that continues the caller's trace: the pattern an API gateway or a sidecar
//! follows on every request.
//!
//! For each incoming request it
//! 1. **extracts** the caller's context (`traceparent`, `tracestate`, `baggage`, and whatever
//!    else `OTEL_PROPAGATORS` names) from the request headers,
//! 2. makes the **child** context of its own span (same trace id, new span id; a new root
//!    trace when nothing valid came in),
//! 3. **injects** that context into the request it forwards upstream,
//!
//! and answers with the upstream's response, adding `x-trace-id` for the client.
//!
//! ```sh
//! # Forward 127.0.0.1:8080 → 127.0.0.1:9090, formats from OTEL_PROPAGATORS (default
//! # "tracecontext,baggage"):
//! OTEL_PROPAGATORS=tracecontext,baggage,b3multi \
//!     cargo run -p otlp-propagation --example gateway -- 127.0.0.1:8080 127.0.0.1:9090
//!
//! # Start an echo upstream and the gateway on free loopback ports, send requests through
//! # them and check what the upstream received:
//! cargo run -p otlp-propagation --example gateway -- --self-test
//! ```
//!
//! hyper and tokio are dev-dependencies of `otlp-propagation`, used by this example only; the
//! library itself needs neither.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use otlp_propagation::{Propagators, TextMapPropagator};
use tokio::net::{TcpListener, TcpStream};

/// Largest request body the gateway forwards.
const MAX_BODY: usize = 1 << 20;
/// Time limit for one upstream exchange.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The gateway's configuration, shared by all connections.
pub(crate) struct Gateway {
    propagators: Propagators,
    upstream: SocketAddr,
}

impl Gateway {
    /// A gateway forwarding to `upstream` with `propagators`.
    pub(crate) fn new(propagators: Propagators, upstream: SocketAddr) -> Self {
        Self {
            propagators,
            upstream,
        }
    }

    /// Extract → child → inject, then forward.
    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        // 1. Extract the caller's context; a missing or malformed header is simply absent.
        let parent = self.propagators.extract(request.headers());
        // 2. This gateway's span: a child of the caller's, or a new root.
        let cx = parent.child();
        let trace_id = cx
            .span_context()
            .map(|sc| sc.trace_id().to_string())
            .unwrap_or_default();

        // 3. Build the outgoing request and inject the child context into it.
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        };
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let mut outgoing = Request::new(Full::new(body));
        *outgoing.method_mut() = parts.method;
        *outgoing.uri_mut() = match path.parse() {
            Ok(uri) => uri,
            Err(_) => return plain(StatusCode::BAD_REQUEST, "bad path"),
        };
        // Forward end-to-end headers, minus the ones the propagators own (so a stale B3 or
        // Jaeger header from the caller cannot contradict the injected context).
        for (name, value) in &parts.headers {
            let owned = self.propagators.fields().contains(&name.as_str())
                || name.as_str().starts_with("uberctx-")
                || name == HOST
                || name == CONTENT_LENGTH;
            if !owned {
                outgoing.headers_mut().append(name.clone(), value.clone());
            }
        }
        if let Ok(host) = HeaderValue::from_str(&self.upstream.to_string()) {
            outgoing.headers_mut().insert(HOST, host);
        }
        self.propagators.inject(&cx, outgoing.headers_mut());

        match tokio::time::timeout(UPSTREAM_TIMEOUT, send(self.upstream, outgoing)).await {
            Ok(Ok(mut response)) => {
                if let Ok(value) = HeaderValue::from_str(&trace_id) {
                    response.headers_mut().insert("x-trace-id", value);
                }
                response
            }
            Ok(Err(e)) => plain(StatusCode::BAD_GATEWAY, &format!("upstream error: {e}")),
            Err(_) => plain(StatusCode::GATEWAY_TIMEOUT, "upstream timed out"),
        }
    }
}

/// Serves `gateway` on `listener` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let gateway = Arc::clone(&gateway);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let gateway = Arc::clone(&gateway);
                async move { Ok::<_, Infallible>(gateway.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Sends one request over a new HTTP/1.1 connection and reads the whole response.
pub(crate) async fn send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_BODY).collect().await?.to_bytes();
    driver.abort();
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn plain(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_owned())));
    *response.status_mut() = status;
    response
}

/// An upstream for the self-test: answers with the request's headers, one `name: value` per
/// line.
pub(crate) async fn serve_echo(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|request: Request<Incoming>| async move {
                let mut text = String::new();
                for (name, value) in request.headers() {
                    text.push_str(name.as_str());
                    text.push_str(": ");
                    text.push_str(value.to_str().unwrap_or("<binary>"));
                    text.push('\n');
                }
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What the echo upstream reported for one request.
pub(crate) struct Echo {
    /// The gateway's `x-trace-id` response header.
    pub(crate) trace_id_header: String,
    /// The headers the upstream received, lower-case names.
    pub(crate) headers: Vec<(String, String)>,
}

impl Echo {
    /// The first received value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends a GET with `headers` to the gateway at `addr` and parses the echoed headers.
pub(crate) async fn call(addr: SocketAddr, headers: &[(&str, &str)]) -> Result<Echo, BoxError> {
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.uri_mut() = "/orders/42?expand=items".parse()?;
    request
        .headers_mut()
        .insert(HOST, HeaderValue::from_str(&addr.to_string())?);
    for (name, value) in headers {
        request.headers_mut().append(
            hyper::header::HeaderName::from_bytes(name.as_bytes())?,
            value.parse()?,
        );
    }
    let response = tokio::time::timeout(UPSTREAM_TIMEOUT, send(addr, request)).await??;
    if response.status() != StatusCode::OK {
        return Err(format!("gateway answered {}", response.status()).into());
    }
    let trace_id_header = response
        .headers()
        .get("x-trace-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes();
    let text = String::from_utf8(body.to_vec())?;
    let headers = text
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Ok(Echo {
        trace_id_header,
        headers,
    })
}

/// Starts an echo upstream and a gateway (with `propagators`) on free loopback ports and
/// returns the gateway's address. The servers run until the runtime shuts down.
pub(crate) async fn start(propagators: Propagators) -> Result<SocketAddr, BoxError> {
    let upstream = TcpListener::bind("127.0.0.1:0").await?;
    let upstream_addr = upstream.local_addr()?;
    tokio::spawn(serve_echo(upstream));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(
        listener,
        Arc::new(Gateway::new(propagators, upstream_addr)),
    ));
    Ok(addr)
}

fn check(condition: bool, what: &str) -> Result<(), BoxError> {
    if condition {
        Ok(())
    } else {
        Err(format!("self-test failed: {what}").into())
    }
}

/// Runs the gateway against an echo upstream on 127.0.0.1 and checks what crossed the hop.
pub(crate) async fn self_test() -> Result<(), BoxError> {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    // W3C in, W3C out.
    let gateway = start(Propagators::from_names("tracecontext,baggage")?).await?;
    let echo = call(
        gateway,
        &[
            ("traceparent", &format!("00-{TRACE}-{SPAN}-01")),
            ("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
            ("baggage", "user.id=alice,tenant=acme%20corp"),
            ("x-request-id", "r-1"),
        ],
    )
    .await?;
    let sent = echo.get("traceparent").unwrap_or_default();
    println!("in:  traceparent: 00-{TRACE}-{SPAN}-01");
    println!("out: traceparent: {sent}");
    let fields: Vec<&str> = sent.split('-').collect();
    check(fields.len() == 4, "outgoing traceparent has four fields")?;
    check(fields[0] == "00", "version 00")?;
    check(fields[1] == TRACE, "same trace id")?;
    check(
        fields[2] != SPAN && fields[2] != "0000000000000000",
        "new, valid span id",
    )?;
    check(fields[3] == "01", "sampled flag carried")?;
    check(echo.trace_id_header == TRACE, "x-trace-id names the trace")?;
    check(
        echo.get("tracestate") == Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        "tracestate carried",
    )?;
    check(
        echo.get("baggage") == Some("user.id=alice,tenant=acme%20corp"),
        "baggage carried",
    )?;
    check(
        echo.get("x-request-id") == Some("r-1"),
        "other headers forwarded",
    )?;

    // Two calls with the same parent get different span ids.
    let again = call(
        gateway,
        &[("traceparent", &format!("00-{TRACE}-{SPAN}-01"))],
    )
    .await?;
    check(
        again.get("traceparent") != Some(sent),
        "a new span id per call",
    )?;

    // Nothing (or garbage) in: a new root trace out.
    let root = call(gateway, &[("traceparent", "00-not-a-traceparent-01")]).await?;
    let root_parent = root.get("traceparent").unwrap_or_default();
    println!("no valid parent → new root: {root_parent}");
    check(root_parent.len() == 55, "a new root traceparent")?;
    check(!root_parent.contains(TRACE), "a new trace id")?;
    check(
        root_parent.ends_with("-03"),
        "new root sampled, random flag set",
    )?;

    // A gateway that translates: B3 in, W3C and B3 out.
    let gateway = start(Propagators::from_names("tracecontext,baggage,b3multi")?).await?;
    let echo = call(
        gateway,
        &[
            ("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124"),
            ("X-B3-SpanId", "a2fb4a1d1a96d312"),
            ("X-B3-Sampled", "1"),
        ],
    )
    .await?;
    let sent = echo.get("traceparent").unwrap_or_default();
    println!("B3 in → out: traceparent: {sent}");
    check(
        sent.starts_with("00-463ac35c9f6413ad48485a3953bb6124-") && sent.ends_with("-01"),
        "B3 trace continued as W3C",
    )?;
    check(
        echo.get("x-b3-traceid") == Some("463ac35c9f6413ad48485a3953bb6124"),
        "B3 trace id re-injected",
    )?;
    check(
        echo.get("x-b3-spanid")
            .is_some_and(|s| s != "a2fb4a1d1a96d312" && sent.contains(s)),
        "B3 and W3C carry the same new span id",
    )?;
    println!("self-test passed");
    Ok(())
}

fn usage() -> ! {
    eprintln!("usage: gateway LISTEN_ADDR UPSTREAM_ADDR | gateway --self-test");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--self-test" => self_test().await,
        [listen, upstream] => {
            let (Ok(listen), Ok(upstream)) = (listen.parse::<SocketAddr>(), upstream.parse())
            else {
                usage()
            };
            let propagators = Propagators::from_env()?;
            let listener = TcpListener::bind(listen).await?;
            println!(
                "gateway on {} → {upstream}, propagating {:?}",
                listener.local_addr()?,
                propagators.fields()
            );
            serve(listener, Arc::new(Gateway::new(propagators, upstream))).await;
            Ok(())
        }
        _ => usage(),
    }
}
