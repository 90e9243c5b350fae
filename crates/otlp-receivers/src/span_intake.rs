//! What the span receivers that speak other formats over HTTP (`zipkin`, `jaeger`) share: the
//! request body as sent or inflated (`Content-Encoding`, bounded), the per-transport span
//! counters, and handing a translated request to the pipeline with its client.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, StatusCode, header};

use otlp_pipeline::component::Consumer;
use otlp_pipeline::data::{ClientInfo, Context, Metadata, Telemetry};
use otlp_pipeline::error::ConsumeError;
use otlp_pipeline::http_server::Request;
use otlp_pipeline::telemetry::{Counter, Metrics};
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::compression::{Compression, CompressionError, decompress};

/// The `Content-Encoding`s these receivers decode, by otelcol's names.
pub(crate) const SUPPORTED_ENCODINGS: &[&str] = &["gzip", "zstd", "zlib", "deflate"];

/// `compression_algorithms` as configured, or every supported one.
pub(crate) fn encodings(configured: Option<&Vec<String>>) -> Vec<String> {
    match configured {
        None => SUPPORTED_ENCODINGS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        Some(list) => list.iter().filter(|s| !s.is_empty()).cloned().collect(),
    }
}

/// `max_request_body_size` in bytes (0: confighttp's 20 MiB).
pub(crate) fn max_body(configured: u64) -> usize {
    match configured {
        0 => 20 << 20,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    }
}

/// `response_headers` as header pairs (invalid ones were refused by validation).
pub(crate) fn response_headers(map: &BTreeMap<String, String>) -> Vec<(HeaderName, HeaderValue)> {
    map.iter()
        .filter_map(|(k, v)| {
            Some((
                HeaderName::try_from(k.as_str()).ok()?,
                HeaderValue::try_from(v.as_str()).ok()?,
            ))
        })
        .collect()
}

/// The request's body: as sent (no copy) or inflated by its `Content-Encoding` (one of
/// `encodings`) to at most `max` bytes. `Err` is the status and message to answer with.
pub(crate) fn body<'a>(
    request: &'a Request,
    encodings: &[String],
    max: usize,
) -> Result<Cow<'a, [u8]>, (StatusCode, String)> {
    if let Some(error) = &request.body_error {
        return Err(error.clone());
    }
    let encoding = request
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let unsupported = || {
        (
            StatusCode::BAD_REQUEST,
            format!("unsupported Content-Encoding: {encoding}"),
        )
    };
    let compression = match encoding {
        "" | "identity" => return Ok(Cow::Borrowed(&request.body)),
        token if encodings.iter().any(|e| e == token) => match token {
            "gzip" => Compression::Gzip,
            "zlib" | "deflate" => Compression::Deflate,
            "zstd" => Compression::Zstd,
            _ => return Err(unsupported()),
        },
        _ => return Err(unsupported()),
    };
    decompress(compression, &request.body, max)
        .map(Cow::Owned)
        .map_err(|error| match error {
            CompressionError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body inflates to more than {limit} bytes"),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("cannot decompress the {encoding} body: {other}"),
            ),
        })
}

/// The counters of one transport: otelcol's accepted/refused spans and ours of requests
/// refused as bad input.
pub(crate) struct SpanCounters {
    pub(crate) accepted: Counter,
    pub(crate) refused: Counter,
    pub(crate) failed: Counter,
}

impl SpanCounters {
    /// The counters of `receiver` for `transport`; `failed` is the receiver's own counter of
    /// bad requests (name and help).
    pub(crate) fn new(
        metrics: &Metrics,
        receiver: &str,
        transport: &str,
        failed: (&str, &str),
    ) -> SpanCounters {
        let labels = [("receiver", receiver), ("transport", transport)];
        SpanCounters {
            accepted: metrics.counter(
                "otelcol_receiver_accepted_spans_total",
                "Number of spans successfully pushed into the pipeline. [alpha]",
                &labels,
            ),
            refused: metrics.counter(
                "otelcol_receiver_refused_spans_total",
                "Number of spans that could not be pushed into the pipeline. [alpha]",
                &labels,
            ),
            failed: metrics.counter(failed.0, failed.1, &labels),
        }
    }
}

/// The client of a request: its address, and its headers when `include_metadata`.
pub(crate) fn client(
    peer: Option<std::net::SocketAddr>,
    headers: Option<&http::HeaderMap>,
) -> ClientInfo {
    let client = ClientInfo::new(peer);
    match headers {
        Some(headers) => client.with_metadata(Metadata::from_headers(Arc::new(headers.clone()))),
        None => client,
    }
}

/// Hands a translated request to the pipeline, counting its spans as accepted or refused (a
/// refusal is logged too).
pub(crate) async fn deliver(
    next: &dyn Consumer,
    receiver: &str,
    request: ExportTraceServiceRequest,
    client: ClientInfo,
    counters: &SpanCounters,
) -> Result<(), ConsumeError> {
    let spans: u64 = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum();
    let data = Telemetry::new(request).with_context(Context::with_client(client));
    match next.consume(data).await {
        Ok(()) => {
            counters.accepted.add(spans);
            Ok(())
        }
        Err(error) => {
            counters.refused.add(spans);
            tracing::warn!(receiver, spans, %error, "the pipeline refused spans");
            Err(error)
        }
    }
}
