//! How spans become requests: a CLIENT or PRODUCER span is the calling half of the edge
//! (trace id, its span id), a SERVER or CONSUMER span the called half of the edge (trace id,
//! its parent span id); producer/consumer pairs are `messaging_system` requests, and a
//! client span with a database name attribute is a whole `database` request by itself.
//! Spans of resources without `service.name`, and spans of other kinds, are skipped.

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::KeyValue;
use otlp_proto::common::v1::any_value::Value;
use otlp_proto::trace::v1::Span;
use otlp_proto::trace::v1::span::SpanKind;
use otlp_proto::trace::v1::status::StatusCode;
use tokio::time::Instant;

use super::config::ServiceGraphConfig;
use super::graph::Graph;
use super::store::{ConnectionType, Edge, Key, Store, Upsert};

/// What one request of spans did to the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Edges opened (or completed at once).
    pub(crate) new_edges: u64,
    /// Spans dropped because the store was full.
    pub(crate) dropped: u64,
}

/// The store and the series, behind the connector's mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) store: Store,
    pub(crate) graph: Graph,
    dimensions: Vec<String>,
    database_attributes: Vec<String>,
}

/// The attribute `name` as text, from the first of `maps` that has it.
fn lookup(name: &str, maps: [&[KeyValue]; 2]) -> Option<String> {
    let value = maps
        .iter()
        .flat_map(|m| m.iter())
        .find(|kv| kv.key == name)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        Value::StringValue(s) => s.clone(),
        Value::BoolValue(b) => b.to_string(),
        Value::IntValue(i) => i.to_string(),
        Value::DoubleValue(d) => d.to_string(),
        other => format!("{other:?}"),
    })
}

fn seconds(span: &Span) -> f64 {
    span.end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano) as f64
        / 1e9
}

fn failed(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32)
}

fn key(trace_id: &[u8], span_id: &[u8]) -> Option<Key> {
    Some((trace_id.try_into().ok()?, span_id.try_into().ok()?))
}

impl State {
    /// An empty state for `config`; points start at `start_ns`.
    pub(crate) fn new(config: &ServiceGraphConfig, start_ns: u64) -> State {
        State {
            store: Store::new(config.store.ttl, config.store.max_items),
            graph: Graph::new(config.bounds(), config.dimensions.clone(), start_ns),
            dimensions: config.dimensions.clone(),
            database_attributes: config.database_attributes(),
        }
    }

    /// Pairs the spans of `request`, recording the requests they complete.
    pub(crate) fn ingest(&mut self, request: &ExportTraceServiceRequest, now: Instant) -> Counts {
        let mut counts = Counts::default();
        for resource_spans in &request.resource_spans {
            let resource: &[KeyValue] = resource_spans
                .resource
                .as_ref()
                .map_or(&[], |r| r.attributes.as_slice());
            let Some(service) = lookup("service.name", [resource, &[]]) else {
                continue;
            };
            for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
                self.span(&service, resource, span, now, &mut counts);
            }
        }
        counts
    }

    fn span(
        &mut self,
        service: &str,
        resource: &[KeyValue],
        span: &Span,
        now: Instant,
        counts: &mut Counts,
    ) {
        let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
        let (client_side, connection) = match kind {
            SpanKind::Client => (true, ConnectionType::Unset),
            SpanKind::Producer => (true, ConnectionType::MessagingSystem),
            SpanKind::Server => (false, ConnectionType::Unset),
            SpanKind::Consumer => (false, ConnectionType::MessagingSystem),
            _ => return,
        };
        let id = if client_side {
            &span.span_id
        } else {
            &span.parent_span_id
        };
        let Some(key) = key(&span.trace_id, id) else {
            return;
        };
        let maps = [resource, span.attributes.as_slice()];
        let side = if client_side { "client_" } else { "server_" };
        let dimensions: Vec<(String, String)> = self
            .dimensions
            .iter()
            .filter_map(|name| Some((format!("{side}{name}"), lookup(name, maps)?)))
            .collect();
        let database = if client_side {
            self.database_attributes
                .iter()
                .find_map(|name| lookup(name, maps))
        } else {
            None
        };
        let latency = seconds(span);
        let span_failed = failed(span);
        let update = |edge: &mut Edge| {
            edge.connection = connection;
            edge.failed |= span_failed;
            edge.dimensions.retain(|(k, _)| !k.starts_with(side));
            edge.dimensions.extend(dimensions);
            if client_side {
                edge.client = Some(service.to_owned());
                edge.client_latency = latency;
                if let Some(database) = database {
                    edge.connection = ConnectionType::Database;
                    edge.server = Some(database);
                    edge.server_latency = latency;
                }
            } else {
                edge.server = Some(service.to_owned());
                edge.server_latency = latency;
            }
        };
        match self.store.upsert(key, now, update) {
            Upsert::Completed { edge, new } => {
                counts.new_edges += u64::from(new);
                self.graph.record(&edge, now);
            }
            Upsert::Pending { new } => counts.new_edges += u64::from(new),
            Upsert::Dropped => counts.dropped += 1,
        }
    }
}
