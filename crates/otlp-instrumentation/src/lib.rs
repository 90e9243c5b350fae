//! Instrumentation built on `otlp-sdk`: the integrations at a service's edges.
//!
//! - [`http::server`] (feature `http-server`): a tower `Layer` for HTTP servers — axum,
//!   hyper, tonic's HTTP stack. It extracts the caller's context with the configured
//!   propagators, starts a SERVER span named and attributed as the stable HTTP semantic
//!   conventions say (`{method} {http.route}`; `http.request.method`, `url.path`,
//!   `url.scheme`, `http.response.status_code`, `server.address`, `user_agent.original`,
//!   `network.protocol.version`, `error.type`; 5xx is an error, 4xx is not for a server),
//!   makes it current inside the handler, and records `http.server.request.duration` (s, the
//!   convention's advisory buckets) and `http.server.active_requests`.
//! - [`http::client`] (feature `http-client`): a tower `Layer` for HTTP clients — a CLIENT
//!   span (`url.full`, `server.address`, `server.port`; 4xx and 5xx are errors),
//!   `http.client.request.duration`, and the context injected into the outgoing request.
//! - [`messaging`] (feature `messaging`): a PRODUCER `send` span that injects its context into
//!   a message's headers, and a CONSUMER `process` span that links to it (or takes it as its
//!   parent when asked), with the messaging conventions' attributes and duration metrics,
//!   generic over any header carrier (Kafka-style `Vec<(String, Vec<u8>)>` included).
//! - [`grpc`] (feature `grpc`): tower layers for gRPC servers and clients (tonic's stack, no
//!   tonic dependency) — SERVER/CLIENT spans named `{package.Service/Method}` with the RPC
//!   conventions' `rpc.system.name`, `rpc.method`, `rpc.response.status_code` (the code's name;
//!   a server reports only `UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
//!   `UNAVAILABLE`, `DATA_LOSS` as errors, a client every non-`OK`), the status read from the
//!   headers or the trailers, `rpc.server.call.duration` / `rpc.client.call.duration`, and the
//!   context carried in the metadata.
//!
//! # What it must not depend on
//!
//! `otlp-sdk` and the crates below it; never the collector side. Third parties: `http`,
//! `tower-layer`, `tower-service`, `pin-project-lite` (behind the HTTP features).
//!
//! # Features
//!
//! `http-server`, `http-client`, `messaging` — all on by default; `grpc` (adds `http-body`);
//! `axum` (route templates from axum's `MatchedPath`, adds `axum` without its defaults).

#![forbid(unsafe_code)]

#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(any(feature = "http-server", feature = "http-client"))]
pub mod http;
#[cfg(feature = "messaging")]
pub mod messaging;
