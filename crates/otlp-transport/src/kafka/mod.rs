//! Kafka: the client settings, authentication, TLS and OTLP message encodings that the `kafka`
//! exporter (`otlp-exporters`) and the `kafka` receiver (`otlp-receivers`) share, with the
//! otelcol-contrib keys and defaults, turned into a librdkafka configuration.
//!
//! - [`ClientConfig`]: `brokers` (default `localhost:9092`), `client_id` (default
//!   `otel-collector`), `protocol_version`, `resolve_canonical_bootstrap_servers_only`,
//!   `conn_idle_timeout`, `rack_id`, [`AuthConfig`] (`auth::sasl` PLAIN / SCRAM-SHA-256 /
//!   SCRAM-SHA-512, the deprecated `auth::plain_text` and `auth::tls`), [`TlsConfig`] (`tls`:
//!   its presence turns TLS on unless `insecure: true`), [`MetadataConfig`]. Errors name the key
//!   ([`KafkaConfigError`]), and every key librdkafka cannot honour is refused, never ignored
//!   silently (Kerberos, OAUTHBEARER, `server_name_override`, cipher suites).
//! - [`Encoding`]: `otlp_proto` (the default; the message value is the Export request's
//!   protobuf encoding, the same bytes as the `TracesData` / `MetricsData` / `LogsData`
//!   messages otelcol writes), `otlp_json`, and for logs `raw` (and `text` on the receiving
//!   side). Other otelcol encodings (Jaeger, Zipkin, encoding extensions) are refused with an
//!   error naming the key.
//!
//! # Why librdkafka (`rdkafka`) and not a pure-Rust client
//!
//! The receiver needs consumer groups with rebalancing (several collectors sharing the
//! partitions of a topic, partitions moving when one of them dies) and committed offsets; the
//! exporter needs acknowledged and idempotent produce (`required_acks: -1` turns on
//! `enable.idempotence`, so a retry inside the client never duplicates or reorders), all four
//! compression codecs, and SASL PLAIN/SCRAM over TLS. `rskafka` 0.6, the pure-Rust client, has
//! compression, SASL PLAIN/SCRAM/OAUTHBEARER and TLS (rustls), but no consumer groups at all
//! (a client per partition, at offsets the caller manages), no committed offsets, no
//! idempotent produce and no transactions, so it cannot be the receiver's client, nor the
//! exporter's with `required_acks: -1`. librdkafka has all of it, one client serves both sides
//! (one set of settings, TLS and SASL code), and it is the client most Kafka deployments
//! already run. It is built from the crate's bundled sources (C, with the system OpenSSL for
//! TLS and SCRAM, zlib and a bundled zstd), so no system librdkafka is needed, and it is
//! compiled only with this crate's `kafka` feature.
//!
//! Measured too (`benches/benches/kafka_clients.rs`, `OTLP_KAFKA_BOOTSTRAP=127.0.0.1:19092 cargo
//! bench -p otlp-benches --bench kafka_clients`; figures in `docs/benchmarks.md`, "Choosing the
//! Kafka client"): 2000 messages to and from a one-partition topic on one broker, 64 in flight.
//! rskafka is not slower everywhere: with 0.5 MB messages and zstd it produced at 0.97–1.12×
//! rdkafka's rate on about the same CPU. Elsewhere rdkafka won: 0.5 MB uncompressed, 0.94–1.8× the
//! rate (ahead in 3 of 4 runs) on 0.6–0.7× the CPU per message; 57 KB messages, 2–3.5× the rate on
//! a quarter to a third of the CPU (librdkafka batches messages into one request, rskafka sends one
//! per `produce` call); reading back, 1.4–2.3× the rate on 0.35–0.7× the CPU; one acked message at
//! a time, ~0.3 ms against rskafka's ~44 ms (it leaves Nagle's algorithm on, so a lone request
//! waits for the broker's delayed ACK).
//!
//! The price: librdkafka runs its own threads (one per broker plus a few), and its produce
//! path copies every message value into its own buffer.

mod client;
mod encoding;
mod error;
mod logging;

/// Go durations in the Kafka settings (`with = "kafka::go_duration"`), the same as every
/// otelcol duration.
pub use crate::go_duration::{self, option as go_duration_opt};
pub use client::{
    AuthConfig, ClientConfig, DEFAULT_BROKER, DEFAULT_CLIENT_ID, KerberosConfig, MetadataConfig,
    MetadataRetryConfig, PlainTextConfig, SaslConfig, TlsConfig, present_tls,
};
pub use encoding::{DecodeError, EncodeError, Encoding, Side, default_topic, raw_log_bodies};
pub use error::KafkaConfigError;
pub use logging::TracingContext;

/// The `rdkafka` crate this module builds on, for the components that drive its producer and
/// consumer.
pub use rdkafka;
