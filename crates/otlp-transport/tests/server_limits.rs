//! Backpressure: the concurrency bound and the admission hook.
#![cfg(all(
    feature = "server",
    feature = "grpc",
    feature = "http",
    feature = "gzip"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use otlp_transport::grpc_wire::{GrpcCode, encode_frame};
use otlp_transport::server::Admitted;
use otlp_transport::{Compression, Refusal, Signal, compression};
use prost::Message;
use server_support::*;

const PROTOBUF: &str = "application/x-protobuf";

#[tokio::test]
async fn requests_beyond_the_bound_are_refused_at_once() {
    let (handler, mut entered, release) = TestHandler::gated();
    // Every request here comes from 127.0.0.1: its share is the whole bound.
    let receiver = start_with(handler.clone(), |r| {
        r.max_concurrent_requests(2)
            .configure(|c| c.max_concurrent_requests_per_address = Some(2))
    })
    .await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();
    let body = traces(1).encode_to_vec();

    // Two requests occupy both permits and wait in the handler.
    let first = tokio::spawn(post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, None, body.clone()),
    ));
    let second = tokio::spawn(grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, encode_frame(&body, false)),
    ));
    entered.recv().await.unwrap();
    entered.recv().await.unwrap();
    assert_eq!(receiver.in_flight_requests(), 2);

    // The third is refused straight away: 503 + Retry-After, UNAVAILABLE + RetryInfo.
    for version in [Version::Http1, Version::Http2] {
        let reply = post_http(
            http,
            version,
            http_request(Signal::Traces, PROTOBUF, None, body.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(reply.status_proto().code, GrpcCode::Unavailable as i32);
    }
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Traces, None, encode_frame(&body, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Unavailable);
    assert_eq!(reply.retry_delay(), Some(Duration::from_secs(1)));
    assert_eq!(handler.calls(), 2);

    // Released, the first two succeed and the bound frees up.
    release.notify_waiters();
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert_eq!(second.await.unwrap().grpc_code(), GrpcCode::Ok);
    assert_eq!(receiver.in_flight_requests(), 0);
    let next = tokio::spawn(post_http(
        http,
        Version::Http2,
        http_request(Signal::Traces, PROTOBUF, None, body.clone()),
    ));
    entered.recv().await.unwrap();
    release.notify_waiters();
    assert_eq!(next.await.unwrap().status, StatusCode::OK);
}

/// Refuses metrics at admission, and any request that takes more than 1 KiB as it arrives
/// (received, then decompressed), counting what it sees; admitted requests hold a guard that
/// decrements `held` when dropped.
struct Budget {
    seen: Arc<std::sync::Mutex<Vec<Signal>>>,
    grown: Arc<std::sync::Mutex<Vec<usize>>>,
    held: Arc<AtomicUsize>,
}

struct Reservation {
    held: Arc<AtomicUsize>,
    grown: Arc<std::sync::Mutex<Vec<usize>>>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}

impl otlp_transport::server::Reservation for Reservation {
    fn grow(&mut self, bytes: usize) -> Result<(), Refusal> {
        self.grown.lock().unwrap().push(bytes);
        if bytes > 1024 {
            return Err(
                Refusal::retryable("memory limit reached").with_retry_after(Duration::from_secs(3))
            );
        }
        Ok(())
    }
}

impl otlp_transport::server::Admission for Budget {
    fn admit(&self, signal: Signal) -> Result<Admitted, Refusal> {
        self.seen.lock().unwrap().push(signal);
        if signal == Signal::Metrics {
            return Err(
                Refusal::retryable("no metrics now").with_retry_after(Duration::from_secs(3))
            );
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        Ok(Admitted::with_reservation(Reservation {
            held: Arc::clone(&self.held),
            grown: Arc::clone(&self.grown),
        }))
    }
}

#[tokio::test]
async fn the_admission_hook_refuses_before_the_body_is_read_and_as_it_arrives() {
    let handler = TestHandler::new(Behaviour::Accept);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let grown = Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = Arc::new(AtomicUsize::new(0));
    let budget = Budget {
        seen: Arc::clone(&seen),
        grown: Arc::clone(&grown),
        held: Arc::clone(&held),
    };
    let receiver = start_with(handler.clone(), |r| r.admission(budget)).await;
    let http = receiver.http_local_addr().unwrap();
    let grpc = receiver.grpc_local_addr().unwrap();

    // More than 1 KiB received: refused once it arrived, as the reservation says.
    let big = traces(100).encode_to_vec();
    assert!(big.len() > 1024);
    let reply = post_http(
        http,
        Version::Http1,
        http_request(Signal::Traces, PROTOBUF, None, big.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after"), Some("3"));
    assert_eq!(reply.status_proto().message, "memory limit reached");

    // gRPC: refused at admission, the frame header alone with the stream left open is enough.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let length = u32::try_from(big.len()).unwrap().to_be_bytes();
    tx.send(Bytes::copy_from_slice(&[
        0, length[0], length[1], length[2], length[3],
    ]))
    .unwrap();
    let request = Request::post(format!("http://localhost{}", Signal::Metrics.grpc_path()))
        .header("content-type", "application/grpc")
        .body(ChannelBody(rx))
        .unwrap();
    let reply = send(grpc, Version::Http2, request).await;
    assert_eq!(reply.grpc_code(), GrpcCode::Unavailable);
    assert_eq!(reply.retry_delay(), Some(Duration::from_secs(3)));
    drop(tx);
    assert_eq!(handler.calls(), 0);

    // A small compressed body that inflates past the budget is refused while it inflates;
    // a small request passes, and its guard is released once the handler returned.
    let packed = compression::compress(Compression::Gzip, &big).unwrap();
    assert!(packed.len() <= 1024, "{}", packed.len());
    let reply = post_http(
        http,
        Version::Http2,
        http_request(Signal::Traces, PROTOBUF, Some("gzip"), packed.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let small = otlp_proto::collector::logs::v1::ExportLogsServiceRequest {
        resource_logs: vec![Default::default()],
    }
    .encode_to_vec();
    let reply = grpc_call(
        grpc,
        grpc_request(Signal::Logs, None, encode_frame(&small, false)),
    )
    .await;
    assert_eq!(reply.grpc_code(), GrpcCode::Ok);
    assert_eq!(handler.calls(), 1);
    assert_eq!(held.load(Ordering::SeqCst), 0);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            Signal::Traces,
            Signal::Metrics,
            Signal::Traces,
            Signal::Logs
        ]
    );
    let grown = grown.lock().unwrap().clone();
    assert_eq!(grown[0], big.len(), "the bytes received: {grown:?}");
    assert_eq!(grown[1], packed.len(), "{grown:?}");
    assert!(grown[2] > 1024, "then the bytes decompressed: {grown:?}");
    assert_eq!(
        *grown.last().unwrap(),
        small.len() + 5,
        "the gRPC frame: {grown:?}"
    );
}
