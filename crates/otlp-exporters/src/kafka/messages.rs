//! From one request to Kafka messages: partitioning (one message per trace id or per resource,
//! keyed), the topic, the encoding, and splitting so that no value exceeds
//! `producer::max_message_bytes`.
//!
//! A request is never dropped to fit the limit: it is split by resource, then scope, then item
//! (metrics between data points) into as many messages as needed. Only an item that alone
//! encodes larger than the limit cannot be sent; it is reported (`too_large`), the rest of the
//! request is sent. A topic that refused messages as too large (its `max.message.bytes` is
//! smaller, see [`TopicLimits`]) is planned at the smaller limit it taught, and a message it
//! refused alone is split again ([`Planner::resplit`]).

use std::collections::HashMap;
use std::hash::Hasher;

use bytes::Bytes;
use otlp_batch::Batchable;
use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{KeyValue, any_value};
use otlp_proto::logs::v1::{ResourceLogs, ScopeLogs};
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans};
use otlp_transport::kafka::{EncodeError, Encoding, raw_log_bodies};
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use otlp_pipeline::Signal;
use otlp_pipeline::data::Metadata;

use super::config::{KafkaExporterConfig, SignalPlan};
use super::topic_limits::TopicLimits;

/// One message to produce.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub(crate) topic: String,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) value: Bytes,
    /// Items the value carries.
    pub(crate) items: usize,
}

/// What a request became.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) records: Vec<Record>,
    /// Items that cannot be sent: each alone encodes larger than `max_message_bytes`.
    pub(crate) too_large: usize,
    /// The largest such item's encoded size.
    pub(crate) largest: usize,
}

/// How to key a signal's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Partitioning {
    None,
    /// One message per trace id, keyed by the id in lower-case hex (traces and logs).
    TraceId,
    /// One message per resource, keyed by a hash of its attributes (metrics and logs).
    ResourceAttributes,
}

/// The exporter's message rules, built once from its configuration.
#[derive(Debug, Clone)]
pub(crate) struct Planner {
    signals: [SignalPlan; 4],
    partitioning: [Partitioning; 4],
    topic_from_attribute: Option<String>,
    max_message_bytes: usize,
    /// Smaller limits the broker taught, per topic (shared by the clones).
    limits: TopicLimits,
}

/// What the splitting does with an item that alone encodes larger than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oversized {
    /// Counts it in `too_large` (larger than `max_message_bytes`: never sent).
    Count,
    /// Makes it a message of its own (a learned limit: only the broker can tell).
    Send,
}

/// What the planner needs of each request type.
pub(crate) trait KafkaRequest: Batchable + Serialize + DeserializeOwned + Sized {
    /// Resource attribute lists, in order.
    fn resource_attributes(&self) -> Vec<&[KeyValue]>;
    /// One request per resource group.
    fn per_resource(self) -> Vec<Self>;
    /// Items grouped by trace id, in first-seen order (`None`: items without one). Only
    /// traces and logs have trace ids; the default keeps the request whole.
    fn per_trace(self) -> Vec<(Option<Vec<u8>>, Self)> {
        vec![(None, self)]
    }
    /// The `raw` encoding's values (logs only).
    fn raw_values(&self) -> Option<Result<Vec<Vec<u8>>, EncodeError>> {
        None
    }
}

macro_rules! resources {
    ($request:ty, $field:ident) => {
        fn resource_attributes(&self) -> Vec<&[KeyValue]> {
            self.$field
                .iter()
                .map(|r| {
                    r.resource
                        .as_ref()
                        .map_or(&[][..], |r| r.attributes.as_slice())
                })
                .collect()
        }

        fn per_resource(self) -> Vec<Self> {
            self.$field
                .into_iter()
                .map(|group| <$request>::from_group(group))
                .collect()
        }
    };
}

trait FromGroup<G> {
    fn from_group(group: G) -> Self;
}

impl FromGroup<ResourceSpans> for ExportTraceServiceRequest {
    fn from_group(group: ResourceSpans) -> Self {
        ExportTraceServiceRequest {
            resource_spans: vec![group],
        }
    }
}

impl FromGroup<ResourceLogs> for ExportLogsServiceRequest {
    fn from_group(group: ResourceLogs) -> Self {
        ExportLogsServiceRequest {
            resource_logs: vec![group],
        }
    }
}

impl FromGroup<otlp_proto::metrics::v1::ResourceMetrics> for ExportMetricsServiceRequest {
    fn from_group(group: otlp_proto::metrics::v1::ResourceMetrics) -> Self {
        ExportMetricsServiceRequest {
            resource_metrics: vec![group],
        }
    }
}

/// Groups leaves by trace id keeping their resource and scope wrappers: `leaves` takes a
/// scope's leaves out, `id` reads a leaf's trace id, `wrap` rebuilds a resource group.
fn group_by_trace<R, G, S, L>(
    groups: Vec<G>,
    split: impl Fn(G) -> (G, Vec<S>),
    scope_leaves: impl Fn(S) -> (S, Vec<L>),
    id: impl Fn(&L) -> &[u8],
    attach: impl Fn(&mut G, S),
    push_leaf: impl Fn(&mut S, L),
    build: impl Fn(Vec<G>) -> R,
) -> Vec<(Option<Vec<u8>>, R)>
where
    G: Clone,
    S: Clone,
{
    // Per trace id: its resource groups, and for the last one the scope being filled.
    struct Partial<G, S> {
        groups: Vec<G>,
        open: Option<(usize, usize, S)>,
        last_group: Option<usize>,
    }
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut traces: HashMap<Vec<u8>, Partial<G, S>> = HashMap::new();
    let close = |partial: &mut Partial<G, S>| {
        if let Some((_, _, scope)) = partial.open.take()
            && let Some(group) = partial.groups.last_mut()
        {
            attach(group, scope);
        }
    };
    for (gi, group) in groups.into_iter().enumerate() {
        let (shell, scopes) = split(group);
        for (si, scope) in scopes.into_iter().enumerate() {
            let (scope_shell, leaves) = scope_leaves(scope);
            for leaf in leaves {
                let trace = id(&leaf).to_vec();
                let partial = traces.entry(trace.clone()).or_insert_with(|| {
                    order.push(trace);
                    Partial {
                        groups: Vec::new(),
                        open: None,
                        last_group: None,
                    }
                });
                let same_scope = matches!(&partial.open, Some((g, s, _)) if *g == gi && *s == si);
                if !same_scope {
                    close(partial);
                    if partial.last_group != Some(gi) {
                        partial.groups.push(shell.clone());
                        partial.last_group = Some(gi);
                    }
                    partial.open = Some((gi, si, scope_shell.clone()));
                }
                if let Some((_, _, scope)) = partial.open.as_mut() {
                    push_leaf(scope, leaf);
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|trace| {
            let mut partial = traces.remove(&trace)?;
            close(&mut partial);
            let key = (!trace.is_empty()).then(|| hex(&trace).into_bytes());
            Some((key, build(partial.groups)))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KafkaRequest for ExportTraceServiceRequest {
    resources!(ExportTraceServiceRequest, resource_spans);

    fn per_trace(self) -> Vec<(Option<Vec<u8>>, Self)> {
        group_by_trace(
            self.resource_spans,
            |mut g: ResourceSpans| {
                let scopes = std::mem::take(&mut g.scope_spans);
                (g, scopes)
            },
            |mut s: ScopeSpans| {
                let spans = std::mem::take(&mut s.spans);
                (s, spans)
            },
            |span| span.trace_id.as_slice(),
            |g, s| g.scope_spans.push(s),
            |s, span| s.spans.push(span),
            |groups| ExportTraceServiceRequest {
                resource_spans: groups,
            },
        )
    }
}

impl KafkaRequest for ExportLogsServiceRequest {
    resources!(ExportLogsServiceRequest, resource_logs);

    fn raw_values(&self) -> Option<Result<Vec<Vec<u8>>, EncodeError>> {
        Some(raw_log_bodies(self))
    }

    fn per_trace(self) -> Vec<(Option<Vec<u8>>, Self)> {
        group_by_trace(
            self.resource_logs,
            |mut g: ResourceLogs| {
                let scopes = std::mem::take(&mut g.scope_logs);
                (g, scopes)
            },
            |mut s: ScopeLogs| {
                let records = std::mem::take(&mut s.log_records);
                (s, records)
            },
            |record| record.trace_id.as_slice(),
            |g, s| g.scope_logs.push(s),
            |s, record| s.log_records.push(record),
            |groups| ExportLogsServiceRequest {
                resource_logs: groups,
            },
        )
    }
}

impl KafkaRequest for ExportMetricsServiceRequest {
    resources!(ExportMetricsServiceRequest, resource_metrics);
}

impl KafkaRequest for ExportProfilesServiceRequest {
    fn resource_attributes(&self) -> Vec<&[KeyValue]> {
        self.resource_profiles
            .iter()
            .map(|r| {
                r.resource
                    .as_ref()
                    .map_or(&[][..], |r| r.attributes.as_slice())
            })
            .collect()
    }

    /// Profiles share one dictionary: kept whole.
    fn per_resource(self) -> Vec<Self> {
        vec![self]
    }
}

/// A 16-byte key from a resource's attributes, independent of their order: FNV-1a (two
/// seeds) over the attributes sorted by key, each key and protobuf-encoded value. otelcol
/// hashes the same sorted attributes with another function, so the bytes differ from its
/// keys; only the choice of partition depends on them.
pub(crate) fn attributes_key(attributes: &[KeyValue]) -> Vec<u8> {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut a = Fnv(0xcbf2_9ce4_8422_2325);
    let mut b = Fnv(0x6c62_272e_07bb_0142);
    for kv in sorted {
        let value = kv
            .value
            .as_ref()
            .map(Message::encode_to_vec)
            .unwrap_or_default();
        for part in [kv.key.as_bytes(), &[0xff], &value, &[0xfe]] {
            a.write(part);
            b.write(part);
        }
    }
    let mut key = a.finish().to_be_bytes().to_vec();
    key.extend_from_slice(&b.finish().to_be_bytes());
    key
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The string value of `key` in the first resource that has it non-empty.
fn attribute_topic(resources: &[&[KeyValue]], key: &str) -> Option<String> {
    resources.iter().find_map(|attributes| {
        attributes.iter().find_map(|kv| {
            if kv.key != key {
                return None;
            }
            match kv.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            }
        })
    })
}

/// Why a request produced no messages at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlanError {
    /// Queued or received bytes that do not decode (permanent).
    #[error("cannot decode the request: {0}")]
    Decode(String),
    /// The encoding failed (permanent).
    #[error("{0}")]
    Encode(String),
}

impl Planner {
    pub(crate) fn new(config: &KafkaExporterConfig) -> Result<Planner, otlp_pipeline::ConfigError> {
        let plan = |signal| config.signal_plan(signal);
        let partitioning = [
            if config.partition_traces_by_id {
                Partitioning::TraceId
            } else {
                Partitioning::None
            },
            if config.partition_metrics_by_resource_attributes {
                Partitioning::ResourceAttributes
            } else {
                Partitioning::None
            },
            if config.partition_logs_by_trace_id {
                Partitioning::TraceId
            } else if config.partition_logs_by_resource_attributes {
                Partitioning::ResourceAttributes
            } else {
                Partitioning::None
            },
            Partitioning::None,
        ];
        Ok(Planner {
            signals: [
                plan(Signal::Traces)?,
                plan(Signal::Metrics)?,
                plan(Signal::Logs)?,
                plan(Signal::Profiles)?,
            ],
            partitioning,
            topic_from_attribute: Some(config.topic_from_attribute.trim().to_owned())
                .filter(|t| !t.is_empty()),
            max_message_bytes: config.producer.max_message_bytes,
            limits: TopicLimits::default(),
        })
    }

    /// The limits learned per topic.
    pub(crate) fn limits(&self) -> &TopicLimits {
        &self.limits
    }

    /// The largest value to plan for `topic`: `max_message_bytes`, or less if the topic
    /// taught a smaller limit.
    pub(crate) fn limit(&self, topic: &str) -> usize {
        self.limits
            .get(topic)
            .and_then(|learned| learned.max_value)
            .map_or(self.max_message_bytes, |max| {
                max.min(self.max_message_bytes)
            })
    }

    /// The signal's settings.
    pub(crate) fn signal(&self, signal: Signal) -> &SignalPlan {
        &self.signals[signal.index()]
    }

    /// Messages for one request: `protobuf` when its encoding is at hand (sent as it is when
    /// nothing else is asked of it), `decode` to get the request otherwise.
    pub(crate) fn plan<R: KafkaRequest>(
        &self,
        protobuf: Option<Bytes>,
        items: usize,
        decode: impl FnOnce() -> Result<R, PlanError>,
        metadata: Option<&Metadata>,
    ) -> Result<Planned, PlanError> {
        let signal = R::SIGNAL;
        let plan = self.signal(signal);
        let partitioning = self.partitioning[signal.index()];
        let metadata_topic = plan
            .topic_from_metadata_key
            .as_deref()
            .and_then(|key| metadata?.get(key))
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let metadata_key = plan
            .message_key_from_metadata_key
            .as_deref()
            .and_then(|key| metadata?.get(key))
            .filter(|k| !k.is_empty())
            .map(|k| k.as_bytes().to_vec());
        let as_is = plan.encoding == Encoding::OtlpProto
            && partitioning == Partitioning::None
            && (self.topic_from_attribute.is_none() || metadata_topic.is_some());
        let as_is_topic = metadata_topic.as_deref().unwrap_or(&plan.topic);
        if as_is
            && let Some(protobuf) = protobuf
                .as_ref()
                .filter(|p| p.len() <= self.limit(as_is_topic))
        {
            return Ok(Planned {
                records: vec![Record {
                    topic: as_is_topic.to_owned(),
                    key: metadata_key,
                    value: protobuf.clone(),
                    items,
                }],
                ..Planned::default()
            });
        }
        let request = decode()?;
        let parts: Vec<(Option<Vec<u8>>, R)> = match partitioning {
            Partitioning::None => vec![(metadata_key, request)],
            Partitioning::TraceId => request.per_trace(),
            Partitioning::ResourceAttributes => request
                .per_resource()
                .into_iter()
                .map(|part| {
                    let key = part
                        .resource_attributes()
                        .first()
                        .map(|a| attributes_key(a));
                    (key, part)
                })
                .collect(),
        };
        let mut planned = Planned::default();
        for (key, part) in parts {
            let topic = match (&metadata_topic, &self.topic_from_attribute) {
                (Some(topic), _) => topic.clone(),
                (None, Some(attribute)) => attribute_topic(&part.resource_attributes(), attribute)
                    .unwrap_or_else(|| plan.topic.clone()),
                (None, None) => plan.topic.clone(),
            };
            let limit = self.limit(&topic);
            let values =
                self.encode_fitting(plan.encoding, part, limit, Oversized::Count, &mut planned)?;
            for (value, items) in values {
                planned.records.push(Record {
                    topic: topic.clone(),
                    key: key.clone(),
                    value,
                    items,
                });
            }
        }
        Ok(planned)
    }

    /// `record`, which the broker refused alone, as messages of at most half its size: its
    /// value decoded and split again, an item larger than that alone becoming a message of its
    /// own. `None` when it cannot be split: one item, or the `raw` encoding.
    pub(crate) fn resplit<R: KafkaRequest>(
        &self,
        record: &Record,
    ) -> Result<Option<Vec<Record>>, PlanError> {
        let encoding = self.signal(R::SIGNAL).encoding;
        if record.items <= 1 || !matches!(encoding, Encoding::OtlpProto | Encoding::OtlpJson) {
            return Ok(None);
        }
        let request: R = encoding
            .decode(&record.value)
            .map_err(|e| PlanError::Decode(e.to_string()))?;
        let limit = (record.value.len() / 2).max(1);
        let mut planned = Planned::default();
        let values =
            self.encode_fitting(encoding, request, limit, Oversized::Send, &mut planned)?;
        Ok(Some(
            values
                .into_iter()
                .map(|(value, items)| Record {
                    topic: record.topic.clone(),
                    key: record.key.clone(),
                    value,
                    items,
                })
                .collect(),
        ))
    }

    /// `part` as values of at most `max` bytes, split as much as needed.
    fn encode_fitting<R: KafkaRequest>(
        &self,
        encoding: Encoding,
        part: R,
        max: usize,
        oversized: Oversized,
        planned: &mut Planned,
    ) -> Result<Vec<(Bytes, usize)>, PlanError> {
        let mut out = Vec::new();
        if encoding == Encoding::Raw {
            return self.raw_values(part, max, planned);
        }
        let mut pending = vec![part];
        while let Some(part) = pending.pop() {
            let items = part.item_count();
            if items == 0 {
                continue;
            }
            let value = encoding
                .encode(&part)
                .map_err(|e| PlanError::Encode(e.to_string()))?;
            if value.len() <= max {
                out.push((Bytes::from(value), items));
                continue;
            }
            if items == 1 {
                match oversized {
                    Oversized::Count => {
                        planned.too_large += 1;
                        planned.largest = planned.largest.max(value.len());
                    }
                    Oversized::Send => out.push((Bytes::from(value), 1)),
                }
                continue;
            }
            // Aim under the limit in protobuf bytes (JSON is larger: scale by the ratio), and
            // halve by items when the byte split cannot divide it.
            let protobuf_len = part.encoded_len().max(1);
            let target = (max as u128 * protobuf_len as u128 / value.len() as u128) as usize;
            let mut pieces = part.split(0, target.saturating_mul(9) / 10);
            if pieces.len() <= 1 {
                let piece = pieces
                    .pop()
                    .ok_or_else(|| PlanError::Encode("empty split".into()))?;
                pieces = piece.split(items.div_ceil(2), 0);
            }
            // Keep the order: the stack pops the last piece first.
            pending.extend(pieces.into_iter().rev());
        }
        Ok(out)
    }

    fn raw_values<R: KafkaRequest>(
        &self,
        part: R,
        max: usize,
        planned: &mut Planned,
    ) -> Result<Vec<(Bytes, usize)>, PlanError> {
        // Only logs have the raw encoding (checked when the configuration is read).
        let values = part
            .raw_values()
            .ok_or_else(|| PlanError::Encode(format!("{} have no raw encoding", R::SIGNAL)))?
            .map_err(|e| PlanError::Encode(e.to_string()))?;
        let mut out = Vec::with_capacity(values.len());
        for value in values {
            if value.len() > max {
                planned.too_large += 1;
                planned.largest = planned.largest.max(value.len());
            } else {
                out.push((Bytes::from(value), 1));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
