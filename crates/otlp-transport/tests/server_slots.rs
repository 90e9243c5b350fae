//! Slots a silent, slow or greedy client could hold: connections that send nothing or go idle
//! are closed, one address gets only its share of connections and requests, a slow body is
//! cut, and a body's memory reservation follows the bytes that arrived, not the length
//! announced.
#![cfg(all(feature = "server", feature = "grpc", feature = "http"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo};
use otlp_transport::Signal;
use otlp_transport::server::{Admitted, Reservation};
use otlp_transport::status::Refusal;
use prost::Message;
use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

const PROTOBUF: &str = "application/x-protobuf";

/// A connection to `addr` from the loopback address `from` (127.0.0.2 plays another client).
async fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads until the server closes the connection; `None` if it stays open past `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// The head of an OTLP/HTTP traces POST announcing `length` body bytes.
fn head(length: usize) -> String {
    format!(
        "POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: {PROTOBUF}\r\ncontent-length: {length}\r\n\r\n"
    )
}

/// A good request from 127.0.0.1 on a fresh connection is answered 200.
async fn a_client_gets_through(http: SocketAddr) {
    let body = traces(2).encode_to_vec();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        post_http(
            http,
            Version::Http1,
            http_request(Signal::Traces, PROTOBUF, None, body),
        ),
    )
    .await
    .expect("answered within 5 s");
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

#[tokio::test]
async fn a_connection_that_sends_no_request_is_closed() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.configure(|c| c.handshake_timeout = Duration::from_millis(300))
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let started = Instant::now();
    // Nothing at all, on both ports; half an HTTP/2 preface; half an HTTP/1 head.
    let mut silent_http = TcpStream::connect(http).await.unwrap();
    let mut silent_grpc = TcpStream::connect(grpc).await.unwrap();
    let mut half_preface = TcpStream::connect(grpc).await.unwrap();
    half_preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let mut half_head = TcpStream::connect(http).await.unwrap();
    half_head
        .write_all(b"POST /v1/traces HTTP/1.1\r\n")
        .await
        .unwrap();
    for (name, stream) in [
        ("silent on the HTTP port", &mut silent_http),
        ("silent on the gRPC port", &mut silent_grpc),
        ("half an HTTP/2 preface", &mut half_preface),
        ("half an HTTP/1 head", &mut half_head),
    ] {
        assert!(
            closed_within(stream, Duration::from_secs(5))
                .await
                .is_some(),
            "{name}: still open after 5 s"
        );
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
    a_client_gets_through(http).await;
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.configure(|c| c.idle_timeout = Some(Duration::from_millis(400)))
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    // HTTP/1 keep-alive: one request, then nothing; the server closes the connection.
    let stream = TcpStream::connect(http).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let response = sender
        .send_request(http_request(Signal::Traces, PROTOBUF, None, body.clone()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(ended.is_ok(), "HTTP/1 connection still open after 5 s idle");

    // HTTP/2 (gRPC): one call, then nothing; the server sends GOAWAY and the connection ends.
    let stream = TcpStream::connect(grpc).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let frame = otlp_transport::grpc_wire::encode_frame(&body, false);
    let response = sender
        .send_request(grpc_request(Signal::Traces, None, frame))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(ended.is_ok(), "HTTP/2 connection still open after 5 s idle");
}

#[tokio::test]
async fn a_connection_past_its_maximum_age_is_closed() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.configure(|c| {
            c.idle_timeout = None;
            c.max_connection_age = Some(Duration::from_millis(300));
            c.max_connection_age_grace = Some(Duration::from_millis(300));
        })
    })
    .await;
    let grpc = receiver.grpc_local_addr().unwrap();
    let stream = TcpStream::connect(grpc).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let frame = otlp_transport::grpc_wire::encode_frame(&traces(1).encode_to_vec(), false);
    let response = sender
        .send_request(grpc_request(Signal::Traces, None, frame))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(
        ended.is_ok(),
        "connection still open 5 s after its maximum age"
    );
}

#[tokio::test]
async fn one_address_gets_only_its_share_of_the_connections() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.configure(|c| c.max_connections_per_address = Some(3))
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let mut hog = Vec::new();
    for _ in 0..5 {
        hog.push(connect_from("127.0.0.2", http).await);
    }
    let mut closed = 0;
    for stream in &mut hog {
        if closed_within(stream, Duration::from_millis(300))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 2,
        "the connections beyond the share of 3 are closed"
    );
    // Another address is served meanwhile.
    a_client_gets_through(http).await;
    // Once the hog lets go, it gets its share again.
    drop(hog);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect_from("127.0.0.2", http).await;
    assert!(
        closed_within(&mut again, Duration::from_millis(300))
            .await
            .is_none(),
        "a new connection of 127.0.0.2 is served"
    );
}

#[tokio::test]
async fn a_slow_body_is_cut_and_one_address_gets_only_its_share_of_the_requests() {
    let receiver = start_with(TestHandler::new(Behaviour::Accept), |r| {
        r.max_concurrent_requests(4).configure(|c| {
            c.body_min_rate = 1000;
            c.body_rate_grace = Duration::from_millis(1500);
        })
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    // Two bodies from 127.0.0.2 that send a byte and stall hold its share (half of 4) of the
    // slots.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.2", http).await;
        stream.write_all(head(1000).as_bytes()).await.unwrap();
        slow.push(stream);
    }
    for stream in &mut slow {
        stream.write_all(b"x").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A third request of 127.0.0.2 is refused at once, 503...
    let mut third = connect_from("127.0.0.2", http).await;
    third.write_all(head(2).as_bytes()).await.unwrap();
    third.write_all(b"\n\0").await.unwrap();
    let answer = closed_or_answer(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    // ...while another address is served.
    a_client_gets_through(http).await;
    // The slow bodies are answered 408 once the grace has passed (not after the 30 s body
    // timeout).
    let started = Instant::now();
    for stream in &mut slow {
        let answer = closed_or_answer(stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// The first bytes the server answers on `stream`, as text (empty when it closed silently).
async fn closed_or_answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        other => panic!("no answer within 5 s: {other:?}"),
    }
}

/// Records what a request was charged.
#[derive(Default)]
struct Charges(Mutex<Vec<usize>>);

struct Recording(Arc<Charges>);

impl Reservation for Recording {
    fn grow(&mut self, bytes: usize) -> Result<(), Refusal> {
        self.0.0.lock().unwrap().push(bytes);
        Ok(())
    }
}

#[tokio::test]
async fn a_reservation_follows_the_bytes_that_arrived_not_the_length_announced() {
    let charges = Arc::new(Charges::default());
    let admitted_sizes = Arc::new(Mutex::new(Vec::new()));
    let receiver = {
        let charges = Arc::clone(&charges);
        let admitted_sizes = Arc::clone(&admitted_sizes);
        start_with(TestHandler::new(Behaviour::Accept), move |r| {
            r.configure(|c| c.body_timeout = Duration::from_millis(500))
                .admission(move |signal: Signal| {
                    admitted_sizes.lock().unwrap().push(signal);
                    Ok(Admitted::with_reservation(Recording(Arc::clone(&charges))))
                })
        })
        .await
    };
    let http = receiver.http_local_addr().unwrap();
    // Announces 16 MiB, sends 300 KiB, then stalls until the body timeout.
    let mut stream = TcpStream::connect(http).await.unwrap();
    stream.write_all(head(16 << 20).as_bytes()).await.unwrap();
    stream.write_all(&vec![0u8; 300 << 10]).await.unwrap();
    let answer = closed_or_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(
        *admitted_sizes.lock().unwrap(),
        [Signal::Traces],
        "admitted once, before the body"
    );
    let charged = charges.0.lock().unwrap().clone();
    assert!(
        !charged.is_empty() && charged.iter().all(|n| *n <= 300 << 10),
        "charged only what arrived: {charged:?}"
    );
}
