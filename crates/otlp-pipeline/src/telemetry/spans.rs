//! [`SelfSpans`]: the collector's own spans, kept in memory for the `zpages` extension's
//! `/debug/tracez` page.
//!
//! Components record a span around the work otelcol traces (`otlp` receiver export requests,
//! exporters' sends) with [`SelfSpans::start`], which returns a [`SpanGuard`]; the span is
//! recorded when the guard is ended or dropped. Nothing is kept, and a `start` costs one
//! atomic load, while no reader is [subscribed](SelfSpans::subscribe): otelcol's zpages too
//! sees only the spans ended after its span processor was registered.
//!
//! # What is kept, and the bounds
//!
//! Per span name: the number of spans ended in each latency bucket ([`LATENCY_BOUNDS`], Go
//! zpages' nine buckets `[0,10µs)`, `[10µs,100µs)`, … `[100s,∞)`) and the number of errors
//! (a span with [`SpanGuard::set_error`]), plus the [`SAMPLES_PER_BUCKET`] most recent spans of
//! each bucket and the same number of errors. At most [`MAX_NAMES`] distinct names are
//! kept; spans of further names are only counted ([`SelfSpans::dropped_names`]). Names are
//! cut to [`MAX_NAME_LEN`] bytes, attributes to [`MAX_ATTRIBUTES`] per span and values (and
//! error messages) to [`MAX_VALUE_LEN`] bytes, so the memory held is bounded whatever the
//! input: at most `MAX_NAMES × (9 + 1) × SAMPLES_PER_BUCKET` samples of bounded size
//! (about 10 MB in the worst case, a few kB in practice).
//!
//! Ids are random (16-byte trace id, 8-byte span id) from a per-thread generator seeded from
//! the process's hash randomness; they are not cryptographically strong, as in otelcol.
//!
//! Shared through [`Resources`](crate::Resources) ([`SelfSpans::from_resources`], falling back
//! to [`SelfSpans::global`]); [`Resources::collector`](crate::Resources::collector) makes one.
//!
//! ```
//! use otlp_pipeline::telemetry::{SelfSpans, SpanKind};
//! let spans = SelfSpans::new();
//! let _reader = spans.subscribe();
//! let mut span = spans.start("exporter/otlp/traces", SpanKind::Client);
//! span.set_attribute("items", 3);
//! span.end();
//! let summary = &spans.summaries()[0];
//! assert_eq!((summary.name.as_str(), summary.latency.iter().sum::<u64>()), ("exporter/otlp/traces", 1));
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::component::Resources;
use crate::config::ComponentId;

tokio::task_local! {
    static STARTING: (Arc<SelfSpans>, ComponentId);
}

/// The upper bounds of the latency buckets but the last (`[100s,∞)`): Go zpages' buckets.
pub const LATENCY_BOUNDS: [Duration; 8] = [
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(10),
    Duration::from_secs(100),
];

/// The number of latency buckets.
pub const BUCKETS: usize = LATENCY_BOUNDS.len() + 1;

/// The recent spans kept per latency bucket (and of errors) per name.
pub const SAMPLES_PER_BUCKET: usize = 4;

/// The distinct span names kept.
pub const MAX_NAMES: usize = 256;

/// The longest span name kept (longer ones are cut at a character boundary).
pub const MAX_NAME_LEN: usize = 256;

/// The attributes kept per span.
pub const MAX_ATTRIBUTES: usize = 16;

/// The longest attribute value (or error message) kept.
pub const MAX_VALUE_LEN: usize = 256;

/// The lower bound of bucket `index` (0 for the first).
pub fn bucket_lower_bound(index: usize) -> Duration {
    match index {
        0 => Duration::ZERO,
        i => LATENCY_BOUNDS
            .get(i - 1)
            .copied()
            .unwrap_or(Duration::from_secs(100)),
    }
}

/// The bucket of a span's duration.
pub fn bucket_of(duration: Duration) -> usize {
    LATENCY_BOUNDS
        .iter()
        .position(|bound| duration < *bound)
        .unwrap_or(LATENCY_BOUNDS.len())
}

/// A span's kind, as in OpenTelemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Internal work.
    Internal,
    /// Serving a request (a receiver).
    Server,
    /// Sending a request (an exporter).
    Client,
    /// Handing a message on.
    Producer,
    /// Taking a message.
    Consumer,
}

impl SpanKind {
    /// The kind's name (`Server`, `Client`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "Internal",
            SpanKind::Server => "Server",
            SpanKind::Client => "Client",
            SpanKind::Producer => "Producer",
            SpanKind::Consumer => "Consumer",
        }
    }
}

/// A span name: static, or shared (a component computes its names once).
#[derive(Debug, Clone)]
pub enum SpanName {
    /// A literal.
    Static(&'static str),
    /// A name computed once and shared.
    Shared(Arc<str>),
}

impl SpanName {
    fn as_str(&self) -> &str {
        match self {
            SpanName::Static(s) => s,
            SpanName::Shared(s) => s,
        }
    }
}

impl From<&'static str> for SpanName {
    fn from(name: &'static str) -> SpanName {
        SpanName::Static(name)
    }
}

impl From<Arc<str>> for SpanName {
    fn from(name: Arc<str>) -> SpanName {
        SpanName::Shared(name)
    }
}

impl From<String> for SpanName {
    fn from(name: String) -> SpanName {
        SpanName::Shared(name.into())
    }
}

/// One ended span, as kept in a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// The span's name.
    pub name: Arc<str>,
    /// Its kind.
    pub kind: SpanKind,
    /// The random trace id.
    pub trace_id: [u8; 16],
    /// The random span id.
    pub span_id: [u8; 8],
    /// When it started.
    pub start: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Its attributes, in the order set (at most [`MAX_ATTRIBUTES`]).
    pub attributes: Vec<(Cow<'static, str>, String)>,
    /// The error message, when the span failed.
    pub error: Option<String>,
}

/// Per span name: the counts of ended spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanSummary {
    /// The span name.
    pub name: String,
    /// Spans ended per latency bucket (errors included).
    pub latency: [u64; BUCKETS],
    /// Spans ended with an error.
    pub errors: u64,
}

/// Which samples [`SelfSpans::samples`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSet {
    /// The recent spans of one latency bucket (0..[`BUCKETS`]).
    Latency(usize),
    /// The recent failed spans.
    Errors,
}

#[derive(Default)]
struct NameStats {
    name: Arc<str>,
    latency: [u64; BUCKETS],
    errors: u64,
    samples: [VecDeque<SpanRecord>; BUCKETS],
    error_samples: VecDeque<SpanRecord>,
}

fn push_bounded(queue: &mut VecDeque<SpanRecord>, record: SpanRecord) {
    if queue.len() >= SAMPLES_PER_BUCKET {
        queue.pop_front();
    }
    queue.push_back(record);
}

/// The collector's own recent spans (see the [module docs](self)).
pub struct SelfSpans {
    readers: AtomicUsize,
    dropped_names: AtomicU64,
    names: Mutex<HashMap<String, NameStats>>,
}

static GLOBAL: LazyLock<Arc<SelfSpans>> = LazyLock::new(SelfSpans::new);

impl SelfSpans {
    /// An empty recorder with no reader.
    pub fn new() -> Arc<SelfSpans> {
        Arc::new(SelfSpans {
            readers: AtomicUsize::new(0),
            dropped_names: AtomicU64::new(0),
            names: Mutex::new(HashMap::new()),
        })
    }

    /// The process-wide recorder.
    pub fn global() -> Arc<SelfSpans> {
        GLOBAL.clone()
    }

    /// The recorder in `resources`, or [`SelfSpans::global`].
    pub fn from_resources(resources: &Resources) -> Arc<SelfSpans> {
        resources
            .get::<SelfSpans>()
            .unwrap_or_else(SelfSpans::global)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, NameStats>> {
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts recording: spans are kept while at least one subscription lives.
    pub fn subscribe(self: &Arc<SelfSpans>) -> SpanSubscription {
        self.readers.fetch_add(1, Ordering::AcqRel);
        SpanSubscription {
            spans: Arc::clone(self),
        }
    }

    /// `true` while a reader is subscribed.
    pub fn is_recording(&self) -> bool {
        self.readers.load(Ordering::Relaxed) > 0
    }

    /// Starts a span; it is recorded when the guard ends or drops, if a reader is
    /// subscribed at start.
    pub fn start(self: &Arc<SelfSpans>, name: impl Into<SpanName>, kind: SpanKind) -> SpanGuard {
        if !self.is_recording() {
            return SpanGuard { active: None };
        }
        let (trace_id, span_id) = random_ids();
        SpanGuard {
            active: Some(Box::new(Active {
                spans: Arc::clone(self),
                name: name.into(),
                kind,
                trace_id,
                span_id,
                start: SystemTime::now(),
                started: Instant::now(),
                attributes: Vec::new(),
                error: None,
            })),
        }
    }

    fn record(&self, active: Active) {
        let duration = active.started.elapsed();
        let name = truncate(active.name.as_str(), MAX_NAME_LEN);
        let mut names = self.lock();
        if !names.contains_key(name) {
            if names.len() >= MAX_NAMES {
                drop(names);
                self.dropped_names.fetch_add(1, Ordering::Relaxed);
                return;
            }
            names.insert(
                name.to_owned(),
                NameStats {
                    name: Arc::from(name),
                    ..NameStats::default()
                },
            );
        }
        let Some(stats) = names.get_mut(name) else {
            return;
        };
        let bucket = bucket_of(duration);
        stats.latency[bucket] += 1;
        let record = SpanRecord {
            name: Arc::clone(&stats.name),
            kind: active.kind,
            trace_id: active.trace_id,
            span_id: active.span_id,
            start: active.start,
            duration,
            attributes: active.attributes,
            error: active.error,
        };
        if record.error.is_some() {
            stats.errors += 1;
            push_bounded(&mut stats.error_samples, record.clone());
        }
        push_bounded(&mut stats.samples[bucket], record);
    }

    /// Per name, the counts, sorted by name.
    pub fn summaries(&self) -> Vec<SpanSummary> {
        let mut out: Vec<SpanSummary> = self
            .lock()
            .iter()
            .map(|(name, stats)| SpanSummary {
                name: name.clone(),
                latency: stats.latency,
                errors: stats.errors,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The kept samples of `name` (oldest first); empty for an unknown name or bucket.
    pub fn samples(&self, name: &str, set: SampleSet) -> Vec<SpanRecord> {
        let names = self.lock();
        let Some(stats) = names.get(name) else {
            return Vec::new();
        };
        let queue = match set {
            SampleSet::Latency(bucket) => stats.samples.get(bucket),
            SampleSet::Errors => Some(&stats.error_samples),
        };
        queue
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Spans not kept because [`MAX_NAMES`] names were already known.
    pub fn dropped_names(&self) -> u64 {
        self.dropped_names.load(Ordering::Relaxed)
    }

    /// Runs `future` (a component's `start`) with this recorder and the component's id in
    /// scope, so that code it calls without [`Resources`] (the exporters' shared sending
    /// queue) finds them with [`SelfSpans::in_scope`]. The graph does this for exporters.
    pub async fn scope<F: Future>(self: &Arc<SelfSpans>, id: &ComponentId, future: F) -> F::Output {
        STARTING.scope((Arc::clone(self), id.clone()), future).await
    }

    /// The recorder and component id of the enclosing [`scope`](SelfSpans::scope), if any.
    pub fn in_scope() -> Option<(Arc<SelfSpans>, ComponentId)> {
        STARTING.try_with(Clone::clone).ok()
    }

    /// Forgets every span kept.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl fmt::Debug for SelfSpans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfSpans")
            .field("readers", &self.readers.load(Ordering::Relaxed))
            .field("names", &self.lock().len())
            .finish_non_exhaustive()
    }
}

/// A reader's subscription: spans are recorded while one lives.
#[derive(Debug)]
pub struct SpanSubscription {
    spans: Arc<SelfSpans>,
}

impl Drop for SpanSubscription {
    fn drop(&mut self) {
        self.spans.readers.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Active {
    spans: Arc<SelfSpans>,
    name: SpanName,
    kind: SpanKind,
    trace_id: [u8; 16],
    span_id: [u8; 8],
    start: SystemTime,
    started: Instant,
    attributes: Vec<(Cow<'static, str>, String)>,
    error: Option<String>,
}

/// A started span: recorded when [ended](SpanGuard::end) or dropped. Every method is a no-op
/// when no reader was subscribed at start.
#[must_use = "a span is recorded when its guard ends or drops"]
pub struct SpanGuard {
    active: Option<Box<Active>>,
}

impl SpanGuard {
    /// A guard that records nothing.
    pub fn disabled() -> SpanGuard {
        SpanGuard { active: None }
    }

    /// `true` when this span will be recorded.
    pub fn is_recording(&self) -> bool {
        self.active.is_some()
    }

    /// Sets an attribute (formatted only when recording; at most [`MAX_ATTRIBUTES`], values
    /// cut to [`MAX_VALUE_LEN`] bytes).
    pub fn set_attribute(&mut self, key: impl Into<Cow<'static, str>>, value: impl fmt::Display) {
        let Some(active) = &mut self.active else {
            return;
        };
        if active.attributes.len() >= MAX_ATTRIBUTES {
            return;
        }
        let mut text = value.to_string();
        text.truncate(truncate(&text, MAX_VALUE_LEN).len());
        active.attributes.push((key.into(), text));
    }

    /// Marks the span failed with `message`.
    pub fn set_error(&mut self, message: impl fmt::Display) {
        let Some(active) = &mut self.active else {
            return;
        };
        let mut text = message.to_string();
        text.truncate(truncate(&text, MAX_VALUE_LEN).len());
        active.error = Some(text);
    }

    /// The span's ids, when recording.
    pub fn ids(&self) -> Option<([u8; 16], [u8; 8])> {
        self.active.as_ref().map(|a| (a.trace_id, a.span_id))
    }

    /// Ends the span now.
    pub fn end(self) {}
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            let spans = Arc::clone(&active.spans);
            spans.record(*active);
        }
    }
}

impl fmt::Debug for SpanGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanGuard")
            .field("recording", &self.is_recording())
            .finish()
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() | 1
}

/// splitmix64.
fn next_u64() -> u64 {
    RNG.with(|state| {
        let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn random_ids() -> ([u8; 16], [u8; 8]) {
    let mut trace = [0u8; 16];
    loop {
        trace[..8].copy_from_slice(&next_u64().to_be_bytes());
        trace[8..].copy_from_slice(&next_u64().to_be_bytes());
        if trace != [0; 16] {
            break;
        }
    }
    let span = loop {
        let id = next_u64();
        if id != 0 {
            break id.to_be_bytes();
        }
    };
    (trace, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_subscribed() {
        let spans = SelfSpans::new();
        let mut guard = spans.start("a", SpanKind::Server);
        assert!(!guard.is_recording());
        guard.set_attribute("k", "v");
        guard.end();
        assert!(spans.summaries().is_empty());
        let reader = spans.subscribe();
        spans.start("a", SpanKind::Server).end();
        drop(reader);
        spans.start("a", SpanKind::Server).end();
        assert_eq!(spans.summaries()[0].latency.iter().sum::<u64>(), 1);
    }

    #[test]
    fn buckets_follow_go_zpages() {
        assert_eq!(bucket_of(Duration::ZERO), 0);
        assert_eq!(bucket_of(Duration::from_nanos(9_999)), 0);
        assert_eq!(bucket_of(Duration::from_micros(10)), 1);
        assert_eq!(bucket_of(Duration::from_millis(5)), 3);
        assert_eq!(bucket_of(Duration::from_secs(99)), 7);
        assert_eq!(bucket_of(Duration::from_secs(100)), 8);
        assert_eq!(bucket_of(Duration::from_secs(100_000)), 8);
        assert_eq!(bucket_lower_bound(0), Duration::ZERO);
        assert_eq!(bucket_lower_bound(8), Duration::from_secs(100));
    }

    #[test]
    fn samples_errors_and_attributes_are_bounded() {
        let spans = SelfSpans::new();
        let _reader = spans.subscribe();
        for i in 0..100 {
            let mut span = spans.start("op", SpanKind::Client);
            for a in 0..40 {
                span.set_attribute(format!("k{a}"), "é".repeat(1000));
            }
            if i % 2 == 0 {
                span.set_error(format!("failed {i}"));
            }
        }
        let summary = &spans.summaries()[0];
        assert_eq!(summary.latency.iter().sum::<u64>(), 100);
        assert_eq!(summary.errors, 50);
        let bucket = summary.latency.iter().position(|n| *n > 0).unwrap_or(0);
        let samples = spans.samples("op", SampleSet::Latency(bucket));
        assert!(samples.len() <= SAMPLES_PER_BUCKET && !samples.is_empty());
        let errors = spans.samples("op", SampleSet::Errors);
        assert_eq!(errors.len(), SAMPLES_PER_BUCKET);
        assert_eq!(
            errors.last().and_then(|s| s.error.as_deref()),
            Some("failed 98")
        );
        let first = &errors[0];
        assert_eq!(first.attributes.len(), MAX_ATTRIBUTES);
        assert!(
            first
                .attributes
                .iter()
                .all(|(_, v)| v.len() <= MAX_VALUE_LEN)
        );
        assert_ne!(first.trace_id, errors[1].trace_id);
        assert_ne!(first.span_id, [0; 8]);
        assert!(spans.samples("op", SampleSet::Latency(99)).is_empty());
        assert!(spans.samples("nope", SampleSet::Errors).is_empty());
    }

    #[tokio::test]
    async fn scope_is_seen_inside_only() {
        let spans = SelfSpans::new();
        let id: ComponentId = "otlp/x".parse().expect("id");
        assert!(SelfSpans::in_scope().is_none());
        let seen = spans
            .scope(&id, async {
                SelfSpans::in_scope().map(|(_, id)| id.to_string())
            })
            .await;
        assert_eq!(seen.as_deref(), Some("otlp/x"));
    }

    #[test]
    fn distinct_names_are_capped() {
        let spans = SelfSpans::new();
        let _reader = spans.subscribe();
        for i in 0..(MAX_NAMES + 10) {
            spans.start(format!("n{i}"), SpanKind::Internal).end();
        }
        spans.start("n0", SpanKind::Internal).end();
        assert_eq!(spans.summaries().len(), MAX_NAMES);
        assert_eq!(spans.dropped_names(), 10);
        spans
            .start("x".repeat(MAX_NAME_LEN * 2), SpanKind::Internal)
            .end();
        assert_eq!(spans.dropped_names(), 11);
    }
}
