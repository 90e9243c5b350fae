//! The `otlp` receiver (alias `otlp_grpc`): OTLP/gRPC and OTLP/HTTP (protobuf and JSON) on
//! `otlp-transport`'s server.
//!
//! # Behaviour
//!
//! - Each configured protocol is its own transport server (its own TLS, limits, metadata and
//!   authentication settings, as otelcol configures them per protocol).
//! - **Admission before work.** Before the body is read, the transport calls this receiver's
//!   admission hook with the signal: a signal no pipeline takes is answered UNIMPLEMENTED /
//!   404, and the shared [`MemoryPressure`] may refuse (UNAVAILABLE / 503 with `Retry-After`);
//!   an admitted request holds a memory reservation, grown with the bytes that arrive and then
//!   with the decompressed bytes, until the pipeline answered. Refusals at admission and while
//!   the reservation grows are counted in `otelcol_receiver_refused_requests_total` (items are
//!   unknown before decoding).
//! - **The pipeline's answer is the sender's answer.** `Ok` → success;
//!   [`ConsumeError`](otlp_pipeline::ConsumeError) retryable → UNAVAILABLE / 503 (+ `RetryInfo` /
//!   `Retry-After` when known); permanent → INVALID_ARGUMENT / 400. Items are counted as
//!   accepted or refused per receiver id and transport.
//! - The received protobuf bytes travel with the data ([`Telemetry::encoded`]) so an exporter
//!   that sends them unchanged needs no re-encoding; the client address always, and the
//!   headers when `include_metadata` is on, travel in the [`Context`].
//! - `auth: {authenticator: bearertokenauth/NAME}` requires `authorization: Bearer <token>`
//!   with the extension's token (looked up through the [`Host`] at start).
//! - `http.cors` with `allowed_origins` answers CORS preflights before authentication and adds
//!   the CORS headers to every HTTP answer (see [`CorsConfig`]).

mod config;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::PartialSuccess;
use otlp_transport::server::{
    Admitted, CorsConfig, EncodedRequest, ExportHandler, Limits, PemSource,
    Receiver as TransportReceiver, ReceiverConfig, RequestContext, RunningReceiver,
    ShutdownOutcome, TlsConfig, Transport,
};
use otlp_transport::status::Refusal;
use tokio::time::Instant;

pub use config::{
    AuthConfig, DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, GrpcKeepalive, GrpcServerConfig,
    HttpCorsConfig, HttpKeepalive, HttpServerConfig, OtlpReceiverConfig, Protocols,
    ServerParameters, ServerTlsConfig,
};

use otlp_pipeline::Signal;
use otlp_pipeline::component::{Host, NextConsumers, Receiver, ReceiverContext, SignalSet};
use otlp_pipeline::config::ComponentId;
use otlp_pipeline::data::{ClientInfo, Context, Metadata, Payload, Telemetry};
use otlp_pipeline::error::BoxError;
use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::telemetry::{
    Counter, Metrics, SelfSpans, SpanKind, item_unit, item_words, resolve_endpoint,
};
use otlp_pipeline::{MemoryPressure, ServiceStatus};

const MIB: usize = 1024 * 1024;

/// Counters of one transport: per signal, accepted and refused items.
#[derive(Clone)]
struct TransportCounters {
    accepted: [Counter; 4],
    refused: [Counter; 4],
    refused_requests: Counter,
}

impl TransportCounters {
    fn new(metrics: &Metrics, id: &ComponentId, transport: &str) -> TransportCounters {
        let labels = [("receiver", id.as_str()), ("transport", transport)];
        let per_signal = |verb: &str, help: &str| {
            Signal::ALL.map(|signal| {
                metrics.counter(
                    &format!("otelcol_receiver_{verb}_{}_total", item_unit(signal)),
                    &format!("Number of {} {help}", item_words(signal)),
                    &labels,
                )
            })
        };
        TransportCounters {
            accepted: per_signal("accepted", "successfully pushed into the pipeline. [alpha]"),
            refused: per_signal("refused", "that could not be pushed into the pipeline. [alpha]"),
            refused_requests: metrics.counter(
                "otelcol_receiver_refused_requests_total",
                "Number of requests refused before decoding (memory pressure at admission, while the body arrives or inflates; unrouted signal); their items are not counted. [otlp-rs]",
                &labels,
            ),
        }
    }
}

/// The export handler behind one transport server.
struct Handler {
    id: ComponentId,
    next: NextConsumers,
    counters: TransportCounters,
    spans: Arc<SelfSpans>,
}

/// The span otelcol records per export request: the gRPC method, or the HTTP route (the
/// default path, whatever `*_url_path` says).
fn span_name(signal: Signal, transport: Transport) -> &'static str {
    match (transport, signal) {
        (Transport::Grpc, Signal::Traces) => {
            "opentelemetry.proto.collector.trace.v1.TraceService/Export"
        }
        (Transport::Grpc, Signal::Metrics) => {
            "opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        }
        (Transport::Grpc, Signal::Logs) => {
            "opentelemetry.proto.collector.logs.v1.LogsService/Export"
        }
        (Transport::Grpc, Signal::Profiles) => {
            "opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
        }
        (Transport::Http, Signal::Traces) => "POST /v1/traces",
        (Transport::Http, Signal::Metrics) => "POST /v1/metrics",
        (Transport::Http, Signal::Logs) => "POST /v1/logs",
        (Transport::Http, Signal::Profiles) => "POST /v1development/profiles",
    }
}

impl Handler {
    /// A decoded request (OTLP/JSON, or protobuf the wire walk left to decoding).
    async fn handle(
        &self,
        payload: Payload,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let signal = payload.signal();
        let protobuf = context.protobuf.clone();
        let mut data = Telemetry::new(payload);
        if let Some(protobuf) = protobuf {
            data = data.with_encoded(protobuf);
        }
        self.push(signal, data, context).await
    }

    /// Hands `data` to the signal's consumer with the sender's context, and counts it.
    async fn push(
        &self,
        signal: Signal,
        data: Telemetry,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let Some(consumer) = self.next.get(signal) else {
            return Err(Refusal::unsupported(signal));
        };
        let mut client = ClientInfo::new(context.peer_addr);
        if let Some(headers) = context.metadata {
            client = client.with_metadata(Metadata::from_headers(headers));
        }
        let data = data.with_context(Context::with_client(client));
        let items = data.item_count() as u64;
        let index = signal.index();
        let mut span = self
            .spans
            .start(span_name(signal, context.transport), SpanKind::Server);
        span.set_attribute("otelcol.component.id", &self.id);
        span.set_attribute(item_unit(signal), items);
        match consumer.consume(data).await {
            Ok(()) => {
                self.counters.accepted[index].add(items);
                Ok(None)
            }
            Err(error) => {
                span.set_error(&error);
                self.counters.refused[index].add(items);
                tracing::debug!(receiver = %self.id, %signal, items, %error, "data refused by the pipeline");
                Err(error.into())
            }
        }
    }
}

#[async_trait]
impl ExportHandler for Handler {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.handle(Payload::Traces(request), context).await
    }

    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.handle(Payload::Metrics(request), context).await
    }

    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.handle(Payload::Logs(request), context).await
    }

    async fn export_profiles(
        &self,
        request: ExportProfilesServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        self.handle(Payload::Profiles(request), context).await
    }

    /// Protobuf and gRPC requests arrive as validated bytes: the pipeline decodes them only
    /// if a stage reads them (`Telemetry::from_protobuf`), so receiver → batch → exporter
    /// never builds the request.
    fn accepts_encoded(&self, signal: Signal) -> bool {
        self.next.get(signal).is_some()
    }

    async fn export_encoded(
        &self,
        request: EncodedRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let data = Telemetry::from_protobuf(request.signal, request.protobuf, Some(request.items));
        self.push(request.signal, data, context).await
    }
}

/// What is common to both protocols' servers.
struct Settings {
    endpoint: String,
    limits: Limits,
    connections: ConnectionSettings,
    include_metadata: bool,
    tls: Option<ServerTlsConfig>,
    auth: Option<AuthConfig>,
    transport: Transport,
}

/// The connection and request settings a protocol's keys change; `None` keeps the transport's
/// default.
#[derive(Debug, Default, Clone)]
struct ConnectionSettings {
    max_concurrent_streams: Option<u32>,
    handshake_timeout: Option<Duration>,
    body_timeout: Option<Duration>,
    /// `Some(None)`: no idle limit.
    idle_timeout: Option<Option<Duration>>,
    max_connection_age: Option<Duration>,
    max_connection_age_grace: Option<Duration>,
    /// `Some(None)`: no pings.
    keepalive_time: Option<Option<Duration>>,
    keepalive_timeout: Option<Duration>,
    http1_keep_alive: Option<bool>,
    max_connections_per_address: Option<usize>,
    max_concurrent_requests_per_address: Option<usize>,
    /// CORS on the HTTP server.
    cors: Option<CorsConfig>,
}

/// grpc-go's and Go's `net/http`'s zero: no limit.
fn unless_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

impl ConnectionSettings {
    fn grpc(config: &GrpcServerConfig) -> ConnectionSettings {
        let params = config
            .keepalive
            .as_ref()
            .and_then(|k| k.server_parameters.clone())
            .unwrap_or_default();
        ConnectionSettings {
            max_concurrent_streams: config.max_concurrent_streams,
            idle_timeout: params.max_connection_idle.map(unless_zero),
            max_connection_age: params.max_connection_age.and_then(unless_zero),
            max_connection_age_grace: params.max_connection_age_grace.and_then(unless_zero),
            keepalive_time: params.time.map(unless_zero),
            keepalive_timeout: params.timeout.and_then(unless_zero),
            max_connections_per_address: config.max_connections_per_address,
            max_concurrent_requests_per_address: config.max_concurrent_requests_per_address,
            ..ConnectionSettings::default()
        }
    }

    fn http(config: &HttpServerConfig) -> ConnectionSettings {
        let keepalive = config.keepalive.clone().unwrap_or_default();
        ConnectionSettings {
            handshake_timeout: config.read_header_timeout,
            body_timeout: config.read_timeout,
            idle_timeout: config
                .idle_timeout
                .or(keepalive.idle_timeout)
                .map(unless_zero),
            http1_keep_alive: keepalive.enabled,
            max_connections_per_address: config.max_connections_per_address,
            max_concurrent_requests_per_address: config.max_concurrent_requests_per_address,
            cors: config.cors.as_ref().map(HttpCorsConfig::to_transport),
            ..ConnectionSettings::default()
        }
    }

    fn apply(&self, config: &mut ReceiverConfig) {
        fn set<T: Clone>(field: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *field = value.clone();
            }
        }
        set(
            &mut config.max_concurrent_streams,
            &self.max_concurrent_streams,
        );
        set(&mut config.handshake_timeout, &self.handshake_timeout);
        set(&mut config.body_timeout, &self.body_timeout);
        set(&mut config.idle_timeout, &self.idle_timeout);
        set(&mut config.keepalive_time, &self.keepalive_time);
        set(&mut config.keepalive_timeout, &self.keepalive_timeout);
        set(&mut config.http1_keep_alive, &self.http1_keep_alive);
        config.max_connection_age = self.max_connection_age;
        config.max_connection_age_grace = self.max_connection_age_grace;
        config.max_connections_per_address = self.max_connections_per_address;
        config.max_concurrent_requests_per_address = self.max_concurrent_requests_per_address;
        config.cors.clone_from(&self.cors);
    }
}

/// A request's memory reservation, whose refusal while the body arrives or inflates is
/// counted like a refusal at admission.
struct Counted {
    reservation: otlp_pipeline::memory::Reservation,
    refused: Counter,
}

impl otlp_transport::server::Reservation for Counted {
    fn grow(&mut self, bytes: usize) -> Result<(), Refusal> {
        let grown = self.reservation.grow(bytes);
        if grown.is_err() {
            self.refused.add(1);
        }
        grown
    }
}

/// The `otlp` receiver.
pub struct OtlpReceiver {
    id: ComponentId,
    next: NextConsumers,
    servers: Vec<Settings>,
    metrics: Arc<Metrics>,
    pressure: Arc<MemoryPressure>,
    status: Arc<ServiceStatus>,
    running: tokio::sync::Mutex<Vec<RunningReceiver>>,
    bound: Mutex<Vec<(Transport, std::net::SocketAddr)>>,
}

fn tls_config(tls: &ServerTlsConfig) -> Result<TlsConfig, BoxError> {
    let pem = |file: &Option<std::path::PathBuf>, inline: &Option<String>| match (file, inline) {
        (Some(path), _) => Ok(PemSource::File(path.clone())),
        (None, Some(text)) => Ok(PemSource::Pem(text.clone().into_bytes())),
        (None, None) => Err(BoxError::from("missing certificate or key")),
    };
    let mut config = TlsConfig {
        cert: pem(&tls.cert_file, &tls.cert_pem)?,
        key: pem(&tls.key_file, &tls.key_pem)?,
        client_ca: None,
    };
    if let Some(ca) = &tls.client_ca_file {
        config = config.with_client_ca(PemSource::File(ca.clone()));
    }
    Ok(config)
}

impl OtlpReceiver {
    /// A receiver for `ctx` (nothing is bound until [`Receiver::start`]).
    pub fn new(ctx: ReceiverContext, config: OtlpReceiverConfig) -> OtlpReceiver {
        let mut servers = Vec::new();
        if let Some(grpc) = config.protocols.grpc {
            servers.push(Settings {
                connections: ConnectionSettings::grpc(&grpc),
                endpoint: grpc.endpoint,
                limits: grpc
                    .max_recv_msg_size_mib
                    .map_or(Limits::GRPC_DEFAULT, |mib| {
                        Limits::uniform(
                            usize::try_from(mib)
                                .unwrap_or(usize::MAX / MIB)
                                .saturating_mul(MIB),
                        )
                    }),
                include_metadata: grpc.include_metadata,
                tls: grpc.tls,
                auth: grpc.auth,
                transport: Transport::Grpc,
            });
        }
        if let Some(http) = config.protocols.http {
            if http
                .cors
                .as_ref()
                .is_some_and(|c| c.allowed_origins.is_empty() && !c.allowed_headers.is_empty())
            {
                tracing::warn!(
                    receiver = %ctx.id,
                    "The CORS configuration specifies allowed headers but no allowed origins, and is therefore ignored."
                );
            }
            servers.push(Settings {
                connections: ConnectionSettings::http(&http),
                endpoint: http.endpoint,
                limits: http
                    .max_request_body_size
                    .map_or(Limits::HTTP_DEFAULT, |bytes| {
                        Limits::uniform(usize::try_from(bytes).unwrap_or(usize::MAX))
                    }),
                include_metadata: http.include_metadata,
                tls: http.tls,
                auth: http.auth,
                transport: Transport::Http,
            });
        }
        let status = ServiceStatus::from_resources(&ctx.resources);
        status.receiver_created(&ctx.id);
        OtlpReceiver {
            id: ctx.id,
            next: ctx.next,
            servers,
            metrics: Metrics::from_resources(&ctx.resources),
            pressure: MemoryPressure::from_resources(&ctx.resources),
            status,
            running: tokio::sync::Mutex::new(Vec::new()),
            bound: Mutex::new(Vec::new()),
        }
    }

    /// The address a protocol's server listens on, once started.
    pub fn local_addr(&self, transport: Transport) -> Option<std::net::SocketAddr> {
        let bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        bound.iter().find(|(t, _)| *t == transport).map(|(_, a)| *a)
    }

    async fn start_server(
        &self,
        settings: &Settings,
        host: &Host,
    ) -> Result<RunningReceiver, BoxError> {
        let transport_name = match settings.transport {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        };
        let counters = TransportCounters::new(&self.metrics, &self.id, transport_name);
        let handler = Handler {
            id: self.id.clone(),
            next: self.next.clone(),
            counters: counters.clone(),
            spans: SelfSpans::from_resources(host.resources()),
        };
        let addr = resolve_endpoint(&settings.endpoint)
            .await
            .map_err(|e| format!("protocols::{transport_name}::endpoint: {e}"))?;
        let mut receiver = TransportReceiver::new(handler);
        receiver = match settings.transport {
            Transport::Grpc => receiver.grpc(addr),
            Transport::Http => receiver.http(addr),
        };
        receiver = receiver
            .limits(settings.limits)
            .include_metadata(settings.include_metadata);
        let connections = settings.connections.clone();
        receiver = receiver.configure(move |config| connections.apply(config));
        if let Some(tls) = &settings.tls {
            receiver = receiver.tls(tls_config(tls)?);
        }
        if let Some(auth) = &settings.auth {
            let id: ComponentId = auth.authenticator.parse()?;
            let token = host
                .extension(&id)
                .and_then(|extension| extension.as_server_authenticator())
                .map(|authenticator| authenticator.bearer_token())
                .ok_or_else(|| {
                    format!("authenticator \"{id}\" is not a started authenticator extension such as bearertokenauth (list it in service.extensions)")
                })?;
            receiver = receiver.bearer_token(token);
        }
        let next = self.next.clone();
        let pressure = Arc::clone(&self.pressure);
        let refused_requests = counters.refused_requests.clone();
        receiver = receiver.admission(move |signal: Signal| {
            if next.get(signal).is_none() {
                refused_requests.add(1);
                return Err(Refusal::unsupported(signal));
            }
            match pressure.admit(0) {
                Ok(reservation) => Ok(Admitted::with_reservation(Counted {
                    reservation,
                    refused: refused_requests.clone(),
                })),
                Err(refusal) => {
                    refused_requests.add(1);
                    Err(refusal)
                }
            }
        });
        let running = receiver.start().await?;
        let local = match settings.transport {
            Transport::Grpc => running.grpc_local_addr(),
            Transport::Http => running.http_local_addr(),
        };
        if let Some(local) = local {
            self.bound
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((settings.transport, local));
            self.status.record_bound(&self.id, transport_name, local);
        }
        Ok(running)
    }
}

#[async_trait]
impl Receiver for OtlpReceiver {
    async fn start(&self, host: &Host) -> Result<(), BoxError> {
        let mut running = self.running.lock().await;
        for settings in &self.servers {
            running.push(self.start_server(settings, host).await?);
        }
        self.status.receiver_started(&self.id);
        Ok(())
    }

    async fn shutdown(&self, deadline: Instant) -> Result<(), BoxError> {
        self.status.receiver_stopping(&self.id);
        let running: Vec<RunningReceiver> = std::mem::take(&mut *self.running.lock().await);
        let mut late = false;
        for server in running {
            let left = deadline.saturating_duration_since(Instant::now());
            if server.shutdown(left).await == ShutdownOutcome::DeadlineExceeded {
                late = true;
            }
        }
        if late {
            return Err("in-flight requests did not finish by the shutdown deadline".into());
        }
        Ok(())
    }
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The `otlp` receiver factory (alias `otlp_grpc`).
pub fn factory() -> impl otlp_pipeline::ReceiverFactory {
    FnFactory::receiver("otlp", SignalSet::ALL, |ctx, config: OtlpReceiverConfig| {
        Ok(Box::new(OtlpReceiver::new(ctx, config)))
    })
    .with_aliases(&["otlp_grpc"])
}
