//! Start-up errors, the connection bound, graceful shutdown.
#![cfg(all(feature = "server", feature = "grpc", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use hyper_util::rt::TokioIo;
use otlp_transport::Signal;
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use otlp_transport::server::{Receiver, ReceiverError, ShutdownOutcome};
use prost::Message;
use server_support::*;
use tokio::net::TcpStream;

const PROTOBUF: &str = "application/x-protobuf";

#[tokio::test]
async fn configuration_errors_are_reported_at_start() {
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let handler = TestHandler::new(Behaviour::Accept);
    let none = Receiver::from_arc(handler.clone()).start().await;
    assert!(matches!(none, Err(ReceiverError::Config(_))), "{none:?}");
    let zero = Receiver::from_arc(handler.clone())
        .http(local)
        .max_concurrent_requests(0)
        .start()
        .await;
    assert!(matches!(zero, Err(ReceiverError::Config(_))), "{zero:?}");

    let running = start(handler.clone()).await;
    let taken = running.http_local_addr().unwrap();
    let clash = Receiver::from_arc(handler).http(taken).start().await;
    assert!(
        matches!(clash, Err(ReceiverError::Bind { addr, .. }) if addr == taken),
        "{clash:?}"
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let (handler, mut entered, release) = TestHandler::gated();
    let receiver = start(handler.clone()).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    let over_http1 = tokio::spawn(post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, None, body.clone()),
    ));
    let over_grpc = tokio::spawn(grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, encode_frame(&body, false)),
    ));
    entered.recv().await.unwrap();
    entered.recv().await.unwrap();

    let shutdown = tokio::spawn(receiver.shutdown(Duration::from_secs(10)));
    // The listeners close: wait (without a timer) until connecting is refused.
    for addr in [http, grpc] {
        let mut attempts = 0;
        while TcpStream::connect(addr).await.is_ok() {
            attempts += 1;
            assert!(attempts < 10_000, "{addr} still accepts connections");
            tokio::task::yield_now().await;
        }
    }
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the in-flight requests"
    );

    release.notify_waiters();
    assert_eq!(over_http1.await.unwrap().status, StatusCode::OK);
    assert_eq!(over_grpc.await.unwrap().grpc_code(), GrpcCode::Ok);
    assert_eq!(shutdown.await.unwrap(), ShutdownOutcome::Drained);
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn shutdown_gives_up_at_the_deadline() {
    let (handler, mut entered, _never_released) = TestHandler::gated();
    let receiver = start(handler).await;
    let http = receiver.http_local_addr().unwrap();
    let body = traces(1).encode_to_vec();
    let stuck = tokio::spawn(async move {
        let stream = TcpStream::connect(http).await.unwrap();
        let request = http_request(Signal::Traces, PROTOBUF, None, body);
        send_on(TokioIo::new(stream), Version::Http2, request).await
    });
    entered.recv().await.unwrap();
    let started = std::time::Instant::now();
    let outcome = receiver.shutdown(Duration::from_millis(100)).await;
    assert_eq!(outcome, ShutdownOutcome::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(5));
    // The connection was dropped: the client sees an error, never a success.
    assert!(stuck.await.unwrap().is_err());
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_for_a_free_slot() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.max_connections(1)
            .configure(|c| c.max_connections_per_address = Some(2))
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    // The first connection is served and stays open (HTTP/1 keep-alive).
    let stream = TcpStream::connect(http).await.unwrap();
    let (mut first, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let first_connection = tokio::spawn(connection);
    let response = first
        .send_request(http_request(Signal::Traces, PROTOBUF, None, body.clone()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();

    // A second one is not accepted while the first is open...
    let mut second = tokio::spawn(post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, None, body),
    ));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut second)
            .await
            .is_err()
    );
    // ...and is served once the first closes.
    drop(first);
    first_connection.await.unwrap().unwrap();
    assert_eq!(second.await.unwrap().status, StatusCode::OK);
}
