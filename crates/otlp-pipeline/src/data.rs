//! What flows through a pipeline: a [`Telemetry`] value, which is one OTLP export request
//! ([`Payload`]) and the [`Context`] it arrived with.
//!
//! # Sharing and copying
//!
//! The request sits behind an [`Arc`]: cloning a [`Telemetry`] is a reference-count increment,
//! never a deep copy, and the request is copied only when someone writes to a shared one
//! ([`Telemetry::payload_mut`] and the `*_mut` accessors are copy-on-write through
//! [`Arc::make_mut`]). So a consumer that only reads (an exporter that encodes, a filter that
//! decides) costs nothing when the data is fanned out to several consumers, and a consumer that
//! writes can never change what another consumer sees: sharing is safe by construction, not by
//! convention.
//!
//! # Decoded on demand
//!
//! A [`Telemetry`] holds its request decoded, as protobuf bytes, or both (they then agree).
//! Receivers attach the bytes they decoded ([`Telemetry::with_encoded`]); the batch processor
//! emits batches as bytes only ([`Telemetry::from_protobuf`]). The payload is decoded the
//! first time anyone reads it, once, and shared by every clone; a write drops the bytes. So
//! a pipeline that only forwards (receiver → batch → exporter) never builds a decoded batch,
//! and a processor that looks inside pays for the decode it needs.
//!
//! The [fan-out](crate::graph::FanOut) still copies *eagerly* for consumers that declare
//! [`mutates_data`](crate::Consumer::mutates_data), the way the Go Collector's fan-out does,
//! so copies happen at one predictable place and can be counted; copy-on-write is the safety
//! net for a consumer that writes without declaring it.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::{ExportRequest, Signal};

/// One OTLP export request of any signal, owned.
///
/// These are the protobuf request types themselves: pipelines move them as they were decoded,
/// with no conversion into a second model (see `docs/ARCHITECTURE.md`, "the hot path").
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Spans.
    Traces(ExportTraceServiceRequest),
    /// Metrics.
    Metrics(ExportMetricsServiceRequest),
    /// Log records.
    Logs(ExportLogsServiceRequest),
    /// Profiles (still in development upstream).
    Profiles(ExportProfilesServiceRequest),
}

impl Payload {
    /// The signal of this request.
    pub fn signal(&self) -> Signal {
        match self {
            Payload::Traces(_) => Signal::Traces,
            Payload::Metrics(_) => Signal::Metrics,
            Payload::Logs(_) => Signal::Logs,
            Payload::Profiles(_) => Signal::Profiles,
        }
    }

    /// Spans, metric data points, log records or profiles in the request: the unit of the
    /// `otelcol_*_spans` / `_metric_points` / `_log_records` counters and of partial success.
    pub fn item_count(&self) -> usize {
        match self {
            Payload::Traces(r) => r.item_count(),
            Payload::Metrics(r) => r.item_count(),
            Payload::Logs(r) => r.item_count(),
            Payload::Profiles(r) => r.item_count(),
        }
    }

    /// The size of the request encoded as protobuf, in bytes (computed, not cached).
    pub fn encoded_len(&self) -> usize {
        use prost::Message as _;
        match self {
            Payload::Traces(r) => r.encoded_len(),
            Payload::Metrics(r) => r.encoded_len(),
            Payload::Logs(r) => r.encoded_len(),
            Payload::Profiles(r) => r.encoded_len(),
        }
    }

    /// `true` when the request carries no resource containers at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Payload::Traces(r) => r.resource_spans.is_empty(),
            Payload::Metrics(r) => r.resource_metrics.is_empty(),
            Payload::Logs(r) => r.resource_logs.is_empty(),
            Payload::Profiles(r) => r.resource_profiles.is_empty(),
        }
    }
}

impl From<ExportTraceServiceRequest> for Payload {
    fn from(request: ExportTraceServiceRequest) -> Self {
        Payload::Traces(request)
    }
}

impl From<ExportMetricsServiceRequest> for Payload {
    fn from(request: ExportMetricsServiceRequest) -> Self {
        Payload::Metrics(request)
    }
}

impl From<ExportLogsServiceRequest> for Payload {
    fn from(request: ExportLogsServiceRequest) -> Self {
        Payload::Logs(request)
    }
}

impl From<ExportProfilesServiceRequest> for Payload {
    fn from(request: ExportProfilesServiceRequest) -> Self {
        Payload::Profiles(request)
    }
}

/// The request inside a [`Payload`] of its signal; the payload back otherwise.
macro_rules! request_from_payload {
    ($($variant:ident => $request:ty),* $(,)?) => {$(
        impl TryFrom<Payload> for $request {
            type Error = Payload;

            fn try_from(payload: Payload) -> Result<Self, Payload> {
                match payload {
                    Payload::$variant(request) => Ok(request),
                    other => Err(other),
                }
            }
        }
    )*};
}

request_from_payload! {
    Traces => ExportTraceServiceRequest,
    Metrics => ExportMetricsServiceRequest,
    Logs => ExportLogsServiceRequest,
    Profiles => ExportProfilesServiceRequest,
}

/// Per-request information that travels with the data: who sent it.
///
/// Cheap to clone (an `Option<Arc>`). Receivers fill it in (the client address always, the
/// request headers only when the receiver's `include_metadata` is on, as in otelcol);
/// processors and exporters read it, for example to route or to forward a tenant header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    client: Option<Arc<ClientInfo>>,
}

impl Context {
    /// An empty context: no client information.
    pub fn new() -> Context {
        Context::default()
    }

    /// A context carrying `client`.
    pub fn with_client(client: ClientInfo) -> Context {
        Context {
            client: Some(Arc::new(client)),
        }
    }

    /// The sender, when the receiver recorded it.
    pub fn client(&self) -> Option<&ClientInfo> {
        self.client.as_deref()
    }

    /// Replaces the client information.
    pub fn set_client(&mut self, client: Option<ClientInfo>) {
        self.client = client.map(Arc::new);
    }
}

/// What a receiver knows about the sender of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The peer address of the connection.
    pub addr: Option<SocketAddr>,
    /// Request headers (HTTP) or metadata (gRPC), when the receiver includes them.
    pub metadata: Metadata,
}

impl ClientInfo {
    /// Client information with a peer address and no metadata.
    pub fn new(addr: Option<SocketAddr>) -> ClientInfo {
        ClientInfo {
            addr,
            metadata: Metadata::default(),
        }
    }

    /// Sets the metadata.
    #[must_use]
    pub fn with_metadata(mut self, metadata: Metadata) -> ClientInfo {
        self.metadata = metadata;
        self
    }
}

/// Request headers (HTTP) or metadata (gRPC): case-insensitive names, each with one or more
/// values. A shared [`http::HeaderMap`], so the receiver hands over what the transport decoded
/// without copying it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    headers: Arc<http::HeaderMap>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Metadata over headers the transport decoded (its `RequestContext::metadata`).
    pub fn from_headers(headers: Arc<http::HeaderMap>) -> Metadata {
        Metadata { headers }
    }

    /// The headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// Appends a value; names are case-insensitive. Invalid names or values are ignored
    /// (they cannot have come from a request).
    pub fn append(&mut self, name: &str, value: &str) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            Arc::make_mut(&mut self.headers).append(name, value);
        }
    }

    /// The first value of `name` that is valid text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of `name` that is valid text, in arrival order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(name)
            .into_iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// `true` when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Metadata {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut metadata = Metadata::new();
        for (k, v) in iter {
            metadata.append(k.as_ref(), v.as_ref());
        }
        metadata
    }
}

/// One request moving through a pipeline: the [`Payload`], shared copy-on-write, and its
/// [`Context`].
///
/// `Clone` is cheap (it shares the payload); use [`Telemetry::deep_clone`] for an unshared
/// copy. See the [module documentation](self) for the sharing rules.
///
/// A telemetry value may also be built from protobuf bytes alone
/// ([`from_protobuf`](Self::from_protobuf)): the payload is then decoded the first time
/// someone reads it, and a stage that only forwards (a batch processor concatenating
/// requests, an exporter sending the bytes) never decodes it.
#[derive(Debug, Clone)]
pub struct Telemetry {
    body: Arc<Body>,
    context: Context,
}

/// The request: decoded, encoded, or both (then they agree).
#[derive(Debug, Clone)]
struct Body {
    signal: Signal,
    decoded: OnceLock<Payload>,
    encoded: Option<Bytes>,
    items: OnceLock<usize>,
}

impl Body {
    fn decoded(payload: Payload) -> Body {
        Body {
            signal: payload.signal(),
            decoded: OnceLock::from(payload),
            encoded: None,
            items: OnceLock::new(),
        }
    }

    fn payload(&self) -> &Payload {
        self.decoded
            .get_or_init(|| decode(self.signal, self.encoded.as_deref().unwrap_or_default()))
    }

    fn into_payload(self) -> Payload {
        match self.decoded.into_inner() {
            Some(payload) => payload,
            None => decode(self.signal, self.encoded.as_deref().unwrap_or_default()),
        }
    }

    fn item_count(&self) -> usize {
        *self
            .items
            .get_or_init(|| match (self.decoded.get(), &self.encoded) {
                (Some(payload), _) => payload.item_count(),
                (None, Some(protobuf)) => count_items(self.signal, protobuf),
                (None, None) => 0,
            })
    }
}

/// Decodes the protobuf of a `signal` request. The bytes a [`Telemetry`] carries decode by
/// contract (the transport decoded them before, or they concatenate such bytes); should they
/// not, the fault is logged and the payload is empty rather than the process brought down.
fn decode(signal: Signal, protobuf: &[u8]) -> Payload {
    use prost::Message as _;
    let decoded = match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(protobuf).map(Payload::from),
        Signal::Metrics => ExportMetricsServiceRequest::decode(protobuf).map(Payload::from),
        Signal::Logs => ExportLogsServiceRequest::decode(protobuf).map(Payload::from),
        Signal::Profiles => ExportProfilesServiceRequest::decode(protobuf).map(Payload::from),
    };
    decoded.unwrap_or_else(|error| {
        tracing::error!(%signal, %error, bytes = protobuf.len(), "carried protobuf does not decode; the request is empty");
        match signal {
            Signal::Traces => Payload::Traces(ExportTraceServiceRequest::default()),
            Signal::Metrics => Payload::Metrics(ExportMetricsServiceRequest::default()),
            Signal::Logs => Payload::Logs(ExportLogsServiceRequest::default()),
            Signal::Profiles => Payload::Profiles(ExportProfilesServiceRequest::default()),
        }
    })
}

/// Items of the protobuf of a `signal` request, from its field headers.
fn count_items(signal: Signal, protobuf: &[u8]) -> usize {
    use otlp_batch::Encoded;
    match signal {
        Signal::Traces => Encoded::<ExportTraceServiceRequest>::count_items(protobuf),
        Signal::Metrics => Encoded::<ExportMetricsServiceRequest>::count_items(protobuf),
        Signal::Logs => Encoded::<ExportLogsServiceRequest>::count_items(protobuf),
        Signal::Profiles => Encoded::<ExportProfilesServiceRequest>::count_items(protobuf),
    }
}

impl Telemetry {
    /// Telemetry for `payload` with an empty context.
    pub fn new(payload: impl Into<Payload>) -> Telemetry {
        Telemetry {
            body: Arc::new(Body::decoded(payload.into())),
            context: Context::default(),
        }
    }

    /// Telemetry for the protobuf encoding of a `signal` Export request, decoded only when
    /// someone reads the payload. The caller guarantees that the bytes decode; `items`, when
    /// known, saves counting them (otherwise they are counted from the field headers).
    pub fn from_protobuf(signal: Signal, protobuf: Bytes, items: Option<usize>) -> Telemetry {
        let body = Body {
            signal,
            decoded: OnceLock::new(),
            encoded: Some(protobuf),
            items: items.map_or_else(OnceLock::new, OnceLock::from),
        };
        Telemetry {
            body: Arc::new(body),
            context: Context::default(),
        }
    }

    /// Attaches the payload's protobuf encoding as it was received (the transport's
    /// validated, decompressed message). It travels with the data until someone writes to the
    /// payload, which drops it; an exporter that finds it can send these bytes instead of
    /// encoding again ("decode once, encode once"). The caller guarantees that `protobuf`
    /// decodes to the payload.
    #[must_use]
    pub fn with_encoded(mut self, protobuf: Bytes) -> Telemetry {
        Arc::make_mut(&mut self.body).encoded = Some(protobuf);
        self
    }

    /// The payload's protobuf encoding, when it was attached and nobody has written to the
    /// payload since.
    pub fn encoded(&self) -> Option<&Bytes> {
        self.body.encoded.as_ref()
    }

    /// `true` once the payload exists decoded (always for [`new`](Self::new); for
    /// [`from_protobuf`](Self::from_protobuf) once someone read it).
    pub fn is_decoded(&self) -> bool {
        self.body.decoded.get().is_some()
    }

    /// Sets the context.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Telemetry {
        self.context = context;
        self
    }

    /// The signal of the payload.
    pub fn signal(&self) -> Signal {
        self.body.signal
    }

    /// Items in the payload (see [`Payload::item_count`]), counted once.
    pub fn item_count(&self) -> usize {
        self.body.item_count()
    }

    /// The payload, read-only (decoded now if it was carried encoded only).
    pub fn payload(&self) -> &Payload {
        self.body.payload()
    }

    /// The payload, writable. Copies it first when it is shared with another consumer
    /// (copy-on-write), so a write never shows through to anyone else.
    pub fn payload_mut(&mut self) -> &mut Payload {
        let body = Arc::make_mut(&mut self.body);
        if body.decoded.get().is_none() {
            let payload = decode(body.signal, body.encoded.as_deref().unwrap_or_default());
            body.decoded = OnceLock::from(payload);
        }
        body.encoded = None;
        body.items = OnceLock::new();
        match body.decoded.get_mut() {
            Some(payload) => payload,
            None => unreachable!("decoded just above"),
        }
    }

    /// The payload, owned: moved out when this is the only reference, copied otherwise.
    pub fn into_payload(self) -> Payload {
        Arc::unwrap_or_clone(self.body).into_payload()
    }

    /// The payload (owned, as [`into_payload`](Self::into_payload)) and the context.
    pub fn into_parts(self) -> (Payload, Context) {
        (Arc::unwrap_or_clone(self.body).into_payload(), self.context)
    }

    /// The request context.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The request context, writable.
    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.context
    }

    /// `true` when another [`Telemetry`] shares this payload, so that
    /// [`payload_mut`](Self::payload_mut) would copy it.
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.body) > 1 || Arc::weak_count(&self.body) > 0
    }

    /// An unshared copy of the payload (a deep clone) with the same context.
    pub fn deep_clone(&self) -> Telemetry {
        Telemetry {
            body: Arc::new((*self.body).clone()),
            context: self.context.clone(),
        }
    }

    /// `true` when `a` and `b` share one payload allocation (no copy was made between them).
    pub fn same_payload(a: &Telemetry, b: &Telemetry) -> bool {
        Arc::ptr_eq(&a.body, &b.body)
    }

    /// The spans, when this is a traces payload.
    pub fn traces(&self) -> Option<&ExportTraceServiceRequest> {
        match self.payload_of(Signal::Traces)? {
            Payload::Traces(r) => Some(r),
            _ => None,
        }
    }

    /// The metrics, when this is a metrics payload.
    pub fn metrics(&self) -> Option<&ExportMetricsServiceRequest> {
        match self.payload_of(Signal::Metrics)? {
            Payload::Metrics(r) => Some(r),
            _ => None,
        }
    }

    /// The log records, when this is a logs payload.
    pub fn logs(&self) -> Option<&ExportLogsServiceRequest> {
        match self.payload_of(Signal::Logs)? {
            Payload::Logs(r) => Some(r),
            _ => None,
        }
    }

    /// The profiles, when this is a profiles payload.
    pub fn profiles(&self) -> Option<&ExportProfilesServiceRequest> {
        match self.payload_of(Signal::Profiles)? {
            Payload::Profiles(r) => Some(r),
            _ => None,
        }
    }

    /// The request as [`otlp_batch::Encoded`] for a queue: the bytes it carries when it
    /// carries them (shared: no decoding, no copy), else a fresh encoding; `None` for another
    /// signal.
    pub fn to_encoded<R: SignalRequest>(&self) -> Option<otlp_batch::Encoded<R>> {
        if self.signal() != R::SIGNAL {
            return None;
        }
        match self.encoded() {
            Some(protobuf) => Some(otlp_batch::Encoded::from_protobuf(
                protobuf.clone(),
                self.item_count(),
            )),
            None => R::of(self).map(otlp_batch::Encoded::new),
        }
    }

    /// [`to_encoded`](Self::to_encoded), consuming (the request comes back as the error
    /// when it is of another signal).
    pub fn into_encoded<R: SignalRequest>(self) -> Result<otlp_batch::Encoded<R>, Telemetry> {
        if self.signal() != R::SIGNAL {
            return Err(self);
        }
        self.to_encoded().ok_or(self)
    }

    /// The payload when it is of `signal` (never decodes one of another signal).
    fn payload_of(&self, signal: Signal) -> Option<&Payload> {
        (self.signal() == signal).then(|| self.payload())
    }

    /// The spans, writable (copy-on-write), when this is a traces payload; never copies a
    /// payload of another signal.
    pub fn traces_mut(&mut self) -> Option<&mut ExportTraceServiceRequest> {
        if self.signal() != Signal::Traces {
            return None;
        }
        match self.payload_mut() {
            Payload::Traces(r) => Some(r),
            _ => None,
        }
    }

    /// The metrics, writable (copy-on-write), when this is a metrics payload.
    pub fn metrics_mut(&mut self) -> Option<&mut ExportMetricsServiceRequest> {
        if self.signal() != Signal::Metrics {
            return None;
        }
        match self.payload_mut() {
            Payload::Metrics(r) => Some(r),
            _ => None,
        }
    }

    /// The log records, writable (copy-on-write), when this is a logs payload.
    pub fn logs_mut(&mut self) -> Option<&mut ExportLogsServiceRequest> {
        if self.signal() != Signal::Logs {
            return None;
        }
        match self.payload_mut() {
            Payload::Logs(r) => Some(r),
            _ => None,
        }
    }

    /// The profiles, writable (copy-on-write), when this is a profiles payload.
    pub fn profiles_mut(&mut self) -> Option<&mut ExportProfilesServiceRequest> {
        if self.signal() != Signal::Profiles {
            return None;
        }
        match self.payload_mut() {
            Payload::Profiles(r) => Some(r),
            _ => None,
        }
    }
}

/// An Export request type that a [`Telemetry`] of its signal carries.
pub trait SignalRequest: otlp_batch::Batchable + Into<Payload> {
    /// The request of `data`, when it is of this signal (decoded if needed).
    fn of(data: &Telemetry) -> Option<&Self>;
}

impl SignalRequest for ExportTraceServiceRequest {
    fn of(data: &Telemetry) -> Option<&Self> {
        data.traces()
    }
}

impl SignalRequest for ExportMetricsServiceRequest {
    fn of(data: &Telemetry) -> Option<&Self> {
        data.metrics()
    }
}

impl SignalRequest for ExportLogsServiceRequest {
    fn of(data: &Telemetry) -> Option<&Self> {
        data.logs()
    }
}

impl SignalRequest for ExportProfilesServiceRequest {
    fn of(data: &Telemetry) -> Option<&Self> {
        data.profiles()
    }
}

impl<P: Into<Payload>> From<P> for Telemetry {
    fn from(payload: P) -> Self {
        Telemetry::new(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_shares_and_writes_copy() {
        let a = Telemetry::new(ExportTraceServiceRequest::default());
        assert!(!a.is_shared());
        let mut a = a.with_encoded(Bytes::from_static(b"\x0a\x00"));
        let b = a.clone();
        assert!(Telemetry::same_payload(&a, &b));
        assert!(a.encoded().is_some() && b.encoded().is_some());
        assert!(a.is_shared());
        assert!(
            a.metrics_mut().is_none(),
            "another signal's accessor never copies"
        );
        assert!(Telemetry::same_payload(&a, &b));
        a.traces_mut()
            .expect("traces")
            .resource_spans
            .push(Default::default());
        assert!(!Telemetry::same_payload(&a, &b));
        assert!(a.encoded().is_none(), "a write drops the received encoding");
        assert!(b.encoded().is_some(), "the other copy keeps it");
        assert_eq!(b.traces().map(|t| t.resource_spans.len()), Some(0));
        assert_eq!(a.traces().map(|t| t.resource_spans.len()), Some(1));
    }

    #[test]
    fn protobuf_only_telemetry_decodes_when_read() {
        use prost::Message as _;
        let request = ExportTraceServiceRequest {
            resource_spans: vec![Default::default(), Default::default()],
        };
        let bytes = Bytes::from(request.encode_to_vec());
        let mut a = Telemetry::from_protobuf(Signal::Traces, bytes.clone(), None);
        assert!(!a.is_decoded());
        assert_eq!(a.item_count(), 0, "counted from the bytes: no spans");
        let b = a.clone();
        assert!(
            a.metrics().is_none() && !a.is_decoded(),
            "another signal's accessor decodes nothing"
        );
        assert_eq!(a.traces(), Some(&request));
        assert!(
            a.is_decoded() && b.is_decoded(),
            "clones share the decoded payload"
        );
        assert_eq!(a.encoded(), Some(&bytes), "reading keeps the bytes");
        a.traces_mut().expect("traces").resource_spans.truncate(1);
        assert!(a.encoded().is_none() && b.encoded().is_some());
        assert_eq!(b.into_payload(), Payload::Traces(request));
        // Never decoded: moved out by decoding.
        let c = Telemetry::from_protobuf(Signal::Logs, Bytes::new(), Some(0));
        assert!(matches!(c.into_payload(), Payload::Logs(l) if l.resource_logs.is_empty()));
        // Bytes that do not decode give an empty payload, not a panic.
        let d = Telemetry::from_protobuf(Signal::Traces, Bytes::from_static(&[0xff]), None);
        assert_eq!(d.traces().map(|t| t.resource_spans.len()), Some(0));
    }

    #[test]
    fn into_payload_moves_when_unique() {
        let a = Telemetry::new(ExportLogsServiceRequest::default());
        assert_eq!(a.signal(), Signal::Logs);
        assert!(matches!(a.into_payload(), Payload::Logs(_)));
    }

    #[test]
    fn metadata_is_case_insensitive() {
        let metadata: Metadata = [("X-Tenant", "a"), ("x-tenant", "b"), ("other", "c")]
            .into_iter()
            .collect();
        assert_eq!(metadata.get("x-TENANT"), Some("a"));
        assert_eq!(metadata.get_all("X-Tenant").collect::<Vec<_>>(), ["a", "b"]);
        let context = Context::with_client(ClientInfo::new(None).with_metadata(metadata));
        assert_eq!(
            context.client().and_then(|c| c.metadata.get("other")),
            Some("c")
        );
    }
}
