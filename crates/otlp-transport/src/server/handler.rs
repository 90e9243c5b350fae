//! What the application plugs into a receiver: the export handler and the admission hook.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use super::decode::{AnyExportRequest, ContentType, ReceivedRequest};
use crate::status::Refusal;
use crate::{Compression, PartialSuccess, Signal};

/// The protocol a request arrived over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP (protobuf or JSON).
    Http,
}

/// What the receiver knows about a request besides its data.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestContext {
    /// The request's signal.
    pub signal: Signal,
    /// The protocol it arrived over.
    pub transport: Transport,
    /// Its body format.
    pub content_type: ContentType,
    /// Its content encoding.
    pub compression: Compression,
    /// The client's address.
    pub peer_addr: Option<SocketAddr>,
    /// Bytes read off the wire (compressed, with gRPC framing).
    pub request_size: usize,
    /// Bytes of the decompressed message.
    pub decoded_size: usize,
    /// The decompressed, validated protobuf message (protobuf and gRPC requests; `None` for
    /// JSON): forward it without re-encoding when nothing changed the data.
    pub protobuf: Option<Bytes>,
    /// The request headers (gRPC metadata), when `include_metadata` is on.
    pub metadata: Option<Arc<http::HeaderMap>>,
    /// The client's timeout (`grpc-timeout`), if it sent one.
    pub timeout: Option<std::time::Duration>,
}

impl RequestContext {
    /// A context with nothing known but the signal and transport (for testing handlers).
    pub fn new(signal: Signal, transport: Transport) -> RequestContext {
        RequestContext {
            signal,
            transport,
            content_type: match transport {
                Transport::Grpc => ContentType::Grpc,
                Transport::Http => ContentType::Protobuf,
            },
            compression: Compression::None,
            peer_addr: None,
            request_size: 0,
            decoded_size: 0,
            protobuf: None,
            metadata: None,
            timeout: None,
        }
    }
}

/// An Export request handed on as validated protobuf bytes, not decoded
/// ([`ExportHandler::accepts_encoded`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncodedRequest {
    /// Its signal.
    pub signal: Signal,
    /// The protobuf encoding of the signal's Export request. It decodes, and its ids have
    /// the lengths OTLP prescribes: the receiver validated it.
    pub protobuf: Bytes,
    /// Spans, data points, log records or profiles in it.
    pub items: usize,
}

impl EncodedRequest {
    /// A request of `signal` holding `items` items (for testing handlers; the receiver
    /// builds these from what it validated).
    pub fn new(signal: Signal, protobuf: Bytes, items: usize) -> EncodedRequest {
        EncodedRequest {
            signal,
            protobuf,
            items,
        }
    }
}

/// Receives decoded Export requests. One method per signal; each defaults to refusing with
/// "signal not supported" (UNIMPLEMENTED / 404), so implement only the signals you accept.
///
/// Return `Ok(None)` for full success, `Ok(Some(partial))` to tell the sender some items were
/// rejected (OTLP partial success), or a [`Refusal`]. Answer success only once the data is
/// safe (queued or written): the receiver acknowledges exactly what the handler returns. A
/// handler runs in its own task: a sender that disconnects does not cancel it, and a panic is
/// answered INTERNAL / 500. Empty requests (no resource entries) are answered success without
/// calling the handler.
#[async_trait::async_trait]
pub trait ExportHandler: Send + Sync + 'static {
    /// Handles an Export request for traces.
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let _ = (request, context);
        Err(Refusal::unsupported(Signal::Traces))
    }

    /// Handles an Export request for metrics.
    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let _ = (request, context);
        Err(Refusal::unsupported(Signal::Metrics))
    }

    /// Handles an Export request for logs.
    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let _ = (request, context);
        Err(Refusal::unsupported(Signal::Logs))
    }

    /// Handles an Export request for profiles.
    async fn export_profiles(
        &self,
        request: ExportProfilesServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let _ = (request, context);
        Err(Refusal::unsupported(Signal::Profiles))
    }

    /// Whether this handler takes `signal` requests as validated bytes
    /// ([`export_encoded`](Self::export_encoded)) instead of decoded ones. For protobuf and
    /// gRPC bodies the receiver then checks the bytes with an allocation-free walk
    /// (`otlp_proto::wire::validate`) and never builds the message; OTLP/JSON is always
    /// decoded. Defaults to `false`.
    fn accepts_encoded(&self, signal: Signal) -> bool {
        let _ = signal;
        false
    }

    /// Handles a request as validated protobuf bytes (only called when
    /// [`accepts_encoded`](Self::accepts_encoded) is `true` for its signal).
    async fn export_encoded(
        &self,
        request: EncodedRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let _ = context;
        Err(Refusal::unsupported(request.signal))
    }
}

#[async_trait::async_trait]
impl<T: ExportHandler + ?Sized> ExportHandler for Arc<T> {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        (**self).export_traces(request, context).await
    }
    async fn export_metrics(
        &self,
        request: ExportMetricsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        (**self).export_metrics(request, context).await
    }
    async fn export_logs(
        &self,
        request: ExportLogsServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        (**self).export_logs(request, context).await
    }
    async fn export_profiles(
        &self,
        request: ExportProfilesServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        (**self).export_profiles(request, context).await
    }
    fn accepts_encoded(&self, signal: Signal) -> bool {
        (**self).accepts_encoded(signal)
    }
    async fn export_encoded(
        &self,
        request: EncodedRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        (**self).export_encoded(request, context).await
    }
}

/// Calls the handler method of the request's signal (or its encoded method).
pub(crate) async fn dispatch(
    handler: &dyn ExportHandler,
    request: ReceivedRequest,
    context: RequestContext,
) -> Result<Option<PartialSuccess>, Refusal> {
    let request = match request {
        ReceivedRequest::Decoded(decoded) => decoded.request,
        ReceivedRequest::Validated(validated) => {
            let encoded =
                EncodedRequest::new(validated.signal, validated.protobuf, validated.items);
            return handler.export_encoded(encoded, context).await;
        }
    };
    match request {
        AnyExportRequest::Traces(request) => handler.export_traces(request, context).await,
        AnyExportRequest::Metrics(request) => handler.export_metrics(request, context).await,
        AnyExportRequest::Logs(request) => handler.export_logs(request, context).await,
        AnyExportRequest::Profiles(request) => handler.export_profiles(request, context).await,
    }
}

/// What an admission hook returns for an admitted request: optionally a guard (a memory
/// reservation, a permit) that the receiver holds until the handler has returned, and which
/// may be charged for the bytes decompression produces ([`Reservation`]).
#[derive(Default)]
pub struct Admitted {
    guard: Option<Box<dyn Reservation>>,
}

/// A guard an admitted request holds that grows with the request: the receiver calls
/// [`grow`](Reservation::grow) as decompression produces bytes (every
/// [`CHARGE_STEP`](crate::compression::CHARGE_STEP) or so), so what is reserved follows what
/// the request really takes, whatever its compression ratio. A refusal stops the
/// decompression and is the request's answer.
pub trait Reservation: Send + Sync + 'static {
    /// The request takes `bytes` so far: the bytes of its body received, then, as a
    /// compressed body inflates, the bytes decompressed. Never smaller than the last call's.
    fn grow(&mut self, bytes: usize) -> Result<(), Refusal>;
}

/// A guard that only needs holding.
struct Held<G>(#[allow(dead_code)] G);

impl<G: Send + Sync + 'static> Reservation for Held<G> {
    fn grow(&mut self, _decompressed: usize) -> Result<(), Refusal> {
        Ok(())
    }
}

impl Admitted {
    /// Admitted, with nothing to hold.
    pub fn new() -> Admitted {
        Admitted { guard: None }
    }

    /// Admitted; `guard` is dropped once the request is done (after the handler returned, or
    /// when the request fails later).
    pub fn with_guard(guard: impl Send + Sync + 'static) -> Admitted {
        Admitted {
            guard: Some(Box::new(Held(guard))),
        }
    }

    /// Admitted; `reservation` is charged as the body decompresses and dropped once the
    /// request is done.
    pub fn with_reservation(reservation: impl Reservation) -> Admitted {
        Admitted {
            guard: Some(Box::new(reservation)),
        }
    }

    /// Charges the guard for `decompressed` bytes so far.
    pub(crate) fn grow(&mut self, decompressed: usize) -> Result<(), Refusal> {
        match &mut self.guard {
            Some(guard) => guard.grow(decompressed),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("guard", &self.guard.is_some())
            .finish()
    }
}

/// Admission before work: decides from the signal and the encoded body size whether to take
/// a request, before the receiver reads, decompresses or decodes it (design.md: the Go
/// Collector's memory limiter can only refuse after decoding, collector issue #8632).
///
/// Called once the request holds a slot, before any of its body is read: what the request
/// will take is not known yet, and what its headers announce is not believed. The
/// [`Reservation`] an admitted request holds is told what it really takes as it arrives
/// ([`Reservation::grow`]: the bytes received, every 256 KiB and at the end, then the bytes
/// decompressed) and may refuse then. A refusal is answered as the [`Refusal`] says (a
/// retryable one: UNAVAILABLE + RetryInfo / 503 or 429 + Retry-After). Keep it fast and
/// non-blocking: it runs on the connection's task.
pub trait Admission: Send + Sync + 'static {
    /// Admits or refuses a request of `signal`.
    fn admit(&self, signal: Signal) -> Result<Admitted, Refusal>;
}

impl<F> Admission for F
where
    F: Fn(Signal) -> Result<Admitted, Refusal> + Send + Sync + 'static,
{
    fn admit(&self, signal: Signal) -> Result<Admitted, Refusal> {
        self(signal)
    }
}
