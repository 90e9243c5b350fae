//! Merging and splitting of Export requests by resource and scope.
//!
//! Every OTLP request is a list of resource groups (`ResourceSpans`, ...), each a list of scope
//! groups (`ScopeSpans`, ...), each a list of leaves (spans, metrics, log records, profiles).
//! [`Batchable`] merges requests so that equal resources and scopes appear once, and splits a
//! request into parts under an item and a byte cap while keeping every leaf under a copy of
//! its own resource and scope wrappers.
//!
//! Resource groups are matched by structural equality (resource and schema URL), first against
//! the group the previous match found (the common case: an SDK sends one resource), then, past
//! a few groups, through a hash index over a structural hash. The alternative, hashing the
//! encoded resource bytes, costs an encode per incoming group; the `otlp_batch` benchmark
//! measures both (`merge_key/*`).

use std::collections::HashMap;
use std::hash::Hasher;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use otlp_proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics, metric};
use otlp_proto::profiles::v1development::{Profile, ResourceProfiles, ScopeProfiles};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_transport::ExportRequest;
use prost::Message;

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ExportTraceServiceRequest {}
    impl Sealed for super::ExportMetricsServiceRequest {}
    impl Sealed for super::ExportLogsServiceRequest {}
    impl Sealed for super::ExportProfilesServiceRequest {}
}

/// An Export request that can be merged with others and split under caps.
///
/// Implemented for the four OTLP Export request types; sealed, so the queue can rely on the
/// exact behaviour documented here.
pub trait Batchable: ExportRequest + sealed::Sealed {
    /// Moves every item of `other` into `self`. Resource groups with an equal resource and
    /// schema URL become one group, and within it scope groups with an equal scope and schema
    /// URL become one; items keep their order. Metrics are appended, never combined by name.
    ///
    /// Returns `other` untouched when the two cannot share one request: only profiles
    /// requests whose dictionaries differ (their leaves index into the dictionary).
    fn absorb(&mut self, other: Self) -> Result<(), Self>;

    /// Splits into requests of at most `max_items` items and at most `max_bytes` encoded
    /// bytes each (`0`: no cap), in order, each leaf under a copy of its resource and scope.
    ///
    /// A metric is split between its data points when needed. A single item that alone is
    /// larger than `max_bytes` (or a metric data point, or a profile) goes into a part of its
    /// own, over the byte cap: the queue never drops data to honour a cap. Resource and scope
    /// groups with no items are left out of the parts.
    fn split(self, max_items: usize, max_bytes: usize) -> Vec<Self>;

    /// [`merge_all`]'s work: [`absorb`](Self::absorb) each request into the first merged one
    /// that takes it. A type that can size the result up front (the encoded form) overrides
    /// it to build the result in one allocation.
    fn merge_many(requests: Vec<Self>) -> Vec<Self> {
        absorb_each(requests)
    }
}

/// Merges `requests` into as few requests as possible (one, except for profiles with
/// different dictionaries), keeping a shared resource index across all of them.
pub fn merge_all<R: Batchable>(requests: Vec<R>) -> Vec<R> {
    R::merge_many(requests)
}

/// Absorbs each request into the first merged one that takes it (the default
/// [`Batchable::merge_many`]).
pub(crate) fn absorb_each<R: Batchable>(requests: Vec<R>) -> Vec<R> {
    let mut out: Vec<R> = Vec::with_capacity(1);
    for request in requests {
        let mut pending = Some(request);
        for target in out.iter_mut() {
            let Some(request) = pending.take() else { break };
            if let Err(back) = target.absorb(request) {
                pending = Some(back);
            }
        }
        out.extend(pending);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Shapes: the resource → scope → leaf nesting of each signal.

/// Bytes a length-delimited field of `len` bytes takes with a one-byte tag.
fn field_len(len: usize) -> usize {
    1 + prost::length_delimiter_len(len) + len
}

/// Upper bound of the bytes a wrapper message adds around its children: the tag and a
/// length prefix of at most five bytes, plus its own fields (`shell_len`).
fn wrapper_overhead(shell_len: usize) -> usize {
    1 + 5 + shell_len
}

pub(crate) trait ResourceGroup: Message + Clone + Default {
    type Scope: ScopeGroup;
    fn resource(&self) -> Option<&Resource>;
    fn schema_url(&self) -> &str;
    fn scopes_mut(&mut self) -> &mut Vec<Self::Scope>;
}

pub(crate) trait ScopeGroup: Message + Clone + Default {
    type Leaf: Leaf;
    fn scope(&self) -> Option<&InstrumentationScope>;
    fn schema_url(&self) -> &str;
    fn leaves_mut(&mut self) -> &mut Vec<Self::Leaf>;
}

pub(crate) trait Leaf: Message + Sized {
    /// Items this leaf counts for (1, or the data points of a metric).
    fn items(&self) -> usize;
    /// Removes and returns a front part of at most `items` items whose own encoded length is
    /// at most `bytes`; `None` when the leaf cannot be split or not even one item fits.
    fn split_front(&mut self, _items: usize, _bytes: usize) -> Option<Self> {
        None
    }
}

macro_rules! shape {
    ($rg:ty, $scopes:ident, $sg:ty, $leaves:ident, $leaf:ty) => {
        impl ResourceGroup for $rg {
            type Scope = $sg;
            fn resource(&self) -> Option<&Resource> {
                self.resource.as_ref()
            }
            fn schema_url(&self) -> &str {
                &self.schema_url
            }
            fn scopes_mut(&mut self) -> &mut Vec<$sg> {
                &mut self.$scopes
            }
        }
        impl ScopeGroup for $sg {
            type Leaf = $leaf;
            fn scope(&self) -> Option<&InstrumentationScope> {
                self.scope.as_ref()
            }
            fn schema_url(&self) -> &str {
                &self.schema_url
            }
            fn leaves_mut(&mut self) -> &mut Vec<$leaf> {
                &mut self.$leaves
            }
        }
    };
}

shape!(ResourceSpans, scope_spans, ScopeSpans, spans, Span);
shape!(ResourceLogs, scope_logs, ScopeLogs, log_records, LogRecord);
shape!(
    ResourceMetrics,
    scope_metrics,
    ScopeMetrics,
    metrics,
    Metric
);
shape!(
    ResourceProfiles,
    scope_profiles,
    ScopeProfiles,
    profiles,
    Profile
);

impl Leaf for Span {
    fn items(&self) -> usize {
        1
    }
}
impl Leaf for LogRecord {
    fn items(&self) -> usize {
        1
    }
}
impl Leaf for Profile {
    fn items(&self) -> usize {
        1
    }
}

/// Moves the first `n` elements of `points` into a new vector.
fn take_front<T>(points: &mut Vec<T>, n: usize) -> Vec<T> {
    let rest = points.split_off(n);
    std::mem::replace(points, rest)
}

/// How many leading points fit in `items` items and `bytes` bytes of point fields.
fn fitting<T: Message>(points: &[T], items: usize, bytes: usize) -> usize {
    let mut used = 0usize;
    let mut count = 0usize;
    for point in points.iter().take(items) {
        let len = field_len(point.encoded_len());
        if used + len > bytes {
            break;
        }
        used += len;
        count += 1;
    }
    count
}

impl Leaf for Metric {
    fn items(&self) -> usize {
        match &self.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Sum(s)) => s.data_points.len(),
            Some(metric::Data::Histogram(h)) => h.data_points.len(),
            Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(metric::Data::Summary(s)) => s.data_points.len(),
            None => 0,
        }
    }

    fn split_front(&mut self, items: usize, bytes: usize) -> Option<Self> {
        // The metric's own fields and its data wrapper with no points, plus a five-byte bound
        // for the data wrapper's length prefix.
        let mut shell = Metric {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            metadata: self.metadata.clone(),
            data: None,
        };
        macro_rules! split_points {
            ($variant:ident, $data:expr, |$empty:ident| $make:expr) => {{
                let $empty = Vec::new();
                shell.data = Some(metric::Data::$variant($make));
                let data = $data;
                let room = bytes.checked_sub(shell.encoded_len() + 5)?;
                let n = fitting(&data.data_points, items, room);
                if n == 0 || n >= data.data_points.len() {
                    return None;
                }
                let front = take_front(&mut data.data_points, n);
                if let Some(metric::Data::$variant(ref mut part)) = shell.data {
                    part.data_points = front;
                }
                Some(shell)
            }};
        }
        match self.data.as_mut()? {
            metric::Data::Gauge(g) => {
                split_points!(Gauge, g, |empty| otlp_proto::metrics::v1::Gauge {
                    data_points: empty
                })
            }
            metric::Data::Sum(s) => split_points!(Sum, s, |empty| otlp_proto::metrics::v1::Sum {
                data_points: empty,
                aggregation_temporality: s.aggregation_temporality,
                is_monotonic: s.is_monotonic,
            }),
            metric::Data::Histogram(h) => {
                split_points!(Histogram, h, |empty| otlp_proto::metrics::v1::Histogram {
                    data_points: empty,
                    aggregation_temporality: h.aggregation_temporality,
                })
            }
            metric::Data::ExponentialHistogram(h) => {
                split_points!(ExponentialHistogram, h, |empty| {
                    otlp_proto::metrics::v1::ExponentialHistogram {
                        data_points: empty,
                        aggregation_temporality: h.aggregation_temporality,
                    }
                })
            }
            metric::Data::Summary(s) => {
                split_points!(Summary, s, |empty| otlp_proto::metrics::v1::Summary {
                    data_points: empty
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merging.

/// Past this many resource groups, lookups go through a hash index instead of a linear scan.
const LINEAR_LIMIT: usize = 8;

/// Finds equal resource groups in a growing list.
#[derive(Default)]
struct GroupIndex {
    last: Option<usize>,
    by_hash: Option<HashMap<u64, Vec<usize>>>,
}

fn same_resource<G: ResourceGroup>(a: &G, b: &G) -> bool {
    a.schema_url() == b.schema_url() && a.resource() == b.resource()
}

fn same_scope<S: ScopeGroup>(a: &S, b: &S) -> bool {
    a.schema_url() == b.schema_url() && a.scope() == b.scope()
}

impl GroupIndex {
    fn find<G: ResourceGroup>(&mut self, groups: &[G], group: &G) -> Option<usize> {
        if let Some(last) = self.last
            && groups
                .get(last)
                .is_some_and(|candidate| same_resource(candidate, group))
        {
            return Some(last);
        }
        if groups.len() <= LINEAR_LIMIT {
            return groups
                .iter()
                .position(|candidate| same_resource(candidate, group));
        }
        let index = self.by_hash.get_or_insert_with(|| {
            let mut map: HashMap<u64, Vec<usize>> = HashMap::with_capacity(groups.len() * 2);
            for (position, candidate) in groups.iter().enumerate() {
                map.entry(resource_hash(candidate))
                    .or_default()
                    .push(position);
            }
            map
        });
        index
            .get(&resource_hash(group))?
            .iter()
            .copied()
            .find(|&position| same_resource(&groups[position], group))
    }

    fn pushed<G: ResourceGroup>(&mut self, groups: &[G]) {
        let position = groups.len() - 1;
        self.last = Some(position);
        if let Some(index) = self.by_hash.as_mut() {
            index
                .entry(resource_hash(&groups[position]))
                .or_default()
                .push(position);
        }
    }
}

fn merge_groups<G: ResourceGroup>(target: &mut Vec<G>, incoming: Vec<G>) {
    if target.is_empty() {
        *target = incoming;
        return;
    }
    let mut index = GroupIndex::default();
    for mut group in incoming {
        match index.find(target, &group) {
            Some(position) => {
                index.last = Some(position);
                let scopes = target[position].scopes_mut();
                for mut scope in std::mem::take(group.scopes_mut()) {
                    match scopes
                        .iter_mut()
                        .find(|candidate| same_scope(*candidate, &scope))
                    {
                        Some(existing) => existing.leaves_mut().append(scope.leaves_mut()),
                        None => scopes.push(scope),
                    }
                }
            }
            None => {
                target.push(group);
                index.pushed(target);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Splitting.

/// The part being filled while splitting.
struct PartBuilder<G: ResourceGroup> {
    max_items: usize,
    max_bytes: usize,
    fixed: usize,
    parts: Vec<Vec<G>>,
    current: Vec<G>,
    items: usize,
    bytes: usize,
    resource_open: bool,
    scope_open: bool,
}

impl<G: ResourceGroup> PartBuilder<G> {
    fn new(max_items: usize, max_bytes: usize, fixed: usize) -> Self {
        Self {
            max_items: if max_items == 0 {
                usize::MAX
            } else {
                max_items
            },
            max_bytes: if max_bytes == 0 {
                usize::MAX
            } else {
                max_bytes
            },
            fixed,
            parts: Vec::new(),
            current: Vec::new(),
            items: 0,
            bytes: fixed,
            resource_open: false,
            scope_open: false,
        }
    }

    fn close_part(&mut self) {
        if !self.current.is_empty() {
            self.parts.push(std::mem::take(&mut self.current));
        }
        self.items = 0;
        self.bytes = self.fixed;
        self.resource_open = false;
        self.scope_open = false;
    }

    fn wrappers(&self, resource_over: usize, scope_over: usize) -> usize {
        match (self.resource_open, self.scope_open) {
            (true, true) => 0,
            (true, false) => scope_over,
            _ => resource_over + scope_over,
        }
    }

    fn push(
        &mut self,
        leaf: <G::Scope as ScopeGroup>::Leaf,
        resource_shell: &G,
        scope_shell: &G::Scope,
        added_bytes: usize,
    ) {
        if !self.resource_open {
            self.current.push(resource_shell.clone());
            self.resource_open = true;
            self.scope_open = false;
        }
        let Some(resource) = self.current.last_mut() else {
            return;
        };
        if !self.scope_open {
            resource.scopes_mut().push(scope_shell.clone());
            self.scope_open = true;
        }
        if let Some(scope) = resource.scopes_mut().last_mut() {
            self.items += leaf.items();
            self.bytes += added_bytes;
            scope.leaves_mut().push(leaf);
        }
    }

    fn add_leaf(
        &mut self,
        mut leaf: <G::Scope as ScopeGroup>::Leaf,
        resource_shell: &G,
        resource_over: usize,
        scope_shell: &G::Scope,
        scope_over: usize,
    ) {
        loop {
            let items = leaf.items();
            let leaf_bytes = field_len(leaf.encoded_len());
            let wrappers = self.wrappers(resource_over, scope_over);
            let added = leaf_bytes + wrappers;
            if self.items + items <= self.max_items && self.bytes + added <= self.max_bytes {
                self.push(leaf, resource_shell, scope_shell, added);
                return;
            }
            // Try to put a front part of a multi-item leaf (a metric) into the current part.
            if items > 1 {
                let room_items = self.max_items.saturating_sub(self.items);
                let room_bytes = self.max_bytes.saturating_sub(self.bytes + wrappers + 1 + 5);
                if room_items > 0
                    && let Some(front) = leaf.split_front(room_items, room_bytes)
                {
                    let front_bytes = field_len(front.encoded_len()) + wrappers;
                    self.push(front, resource_shell, scope_shell, front_bytes);
                    self.close_part();
                    continue;
                }
            }
            if self.current.is_empty() {
                // Alone in a part and still too large: one item goes over the byte cap rather
                // than being dropped.
                if items > 1
                    && let Some(front) = leaf.split_front(1, usize::MAX)
                {
                    let front_bytes = field_len(front.encoded_len()) + wrappers;
                    self.push(front, resource_shell, scope_shell, front_bytes);
                    self.close_part();
                    continue;
                }
                self.push(leaf, resource_shell, scope_shell, added);
                return;
            }
            self.close_part();
        }
    }

    fn split(mut self, groups: Vec<G>) -> Vec<Vec<G>> {
        for mut resource in groups {
            let scopes = std::mem::take(resource.scopes_mut());
            let resource_over = wrapper_overhead(resource.encoded_len());
            self.resource_open = false;
            for mut scope in scopes {
                let leaves = std::mem::take(scope.leaves_mut());
                let scope_over = wrapper_overhead(scope.encoded_len());
                self.scope_open = false;
                for leaf in leaves {
                    self.add_leaf(leaf, &resource, resource_over, &scope, scope_over);
                }
            }
        }
        self.close_part();
        self.parts
    }
}

fn split_groups<G: ResourceGroup>(
    groups: Vec<G>,
    max_items: usize,
    max_bytes: usize,
    fixed: usize,
) -> Vec<Vec<G>> {
    PartBuilder::new(max_items, max_bytes, fixed).split(groups)
}

fn within(items: usize, bytes: usize, max_items: usize, max_bytes: usize) -> bool {
    (max_items == 0 || items <= max_items) && (max_bytes == 0 || bytes <= max_bytes)
}

macro_rules! batchable {
    ($request:ty, $groups:ident) => {
        impl Batchable for $request {
            fn absorb(&mut self, mut other: Self) -> Result<(), Self> {
                merge_groups(&mut self.$groups, std::mem::take(&mut other.$groups));
                Ok(())
            }

            fn split(self, max_items: usize, max_bytes: usize) -> Vec<Self> {
                if within(self.item_count(), self.encoded_len(), max_items, max_bytes) {
                    return vec![self];
                }
                split_groups(self.$groups, max_items, max_bytes, 0)
                    .into_iter()
                    .map(|$groups| Self { $groups })
                    .collect()
            }
        }
    };
}

batchable!(ExportTraceServiceRequest, resource_spans);
batchable!(ExportMetricsServiceRequest, resource_metrics);
batchable!(ExportLogsServiceRequest, resource_logs);

impl Batchable for ExportProfilesServiceRequest {
    fn absorb(&mut self, mut other: Self) -> Result<(), Self> {
        if other.resource_profiles.is_empty() {
            return Ok(());
        }
        if self.resource_profiles.is_empty() {
            self.dictionary = other.dictionary.take();
        } else if self.dictionary != other.dictionary {
            return Err(other);
        }
        merge_groups(
            &mut self.resource_profiles,
            std::mem::take(&mut other.resource_profiles),
        );
        Ok(())
    }

    fn split(self, max_items: usize, max_bytes: usize) -> Vec<Self> {
        if within(self.item_count(), self.encoded_len(), max_items, max_bytes) {
            return vec![self];
        }
        let fixed = self
            .dictionary
            .as_ref()
            .map_or(0, |d| field_len(d.encoded_len()));
        let dictionary = self.dictionary;
        split_groups(self.resource_profiles, max_items, max_bytes, fixed)
            .into_iter()
            .map(|resource_profiles| Self {
                resource_profiles,
                dictionary: dictionary.clone(),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Structural hashing of resources (used only past LINEAR_LIMIT groups).

/// FxHash-style multiply-rotate hasher: fast on short strings, good enough for an index whose
/// hits are confirmed by equality.
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
        self.write_u64(bytes.len() as u64);
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn hash_any(h: &mut FxHasher, value: &AnyValue) {
    match &value.value {
        None => h.write_u64(0),
        Some(any_value::Value::StringValue(s)) => {
            h.write_u64(1);
            h.write(s.as_bytes());
        }
        Some(any_value::Value::BoolValue(b)) => h.write_u64(2 + u64::from(*b) * 16),
        Some(any_value::Value::IntValue(i)) => {
            h.write_u64(3);
            h.write_u64(*i as u64);
        }
        Some(any_value::Value::DoubleValue(d)) => {
            h.write_u64(4);
            h.write_u64(d.to_bits());
        }
        Some(any_value::Value::ArrayValue(a)) => {
            h.write_u64(5);
            a.values.iter().for_each(|v| hash_any(h, v));
        }
        Some(any_value::Value::KvlistValue(list)) => {
            h.write_u64(6);
            hash_attributes(h, &list.values);
        }
        Some(any_value::Value::BytesValue(b)) => {
            h.write_u64(7);
            h.write(b);
        }
        #[allow(unreachable_patterns)]
        Some(_) => h.write_u64(8),
    }
}

fn hash_attributes(h: &mut FxHasher, attributes: &[KeyValue]) {
    h.write_u64(attributes.len() as u64);
    for kv in attributes {
        h.write(kv.key.as_bytes());
        if let Some(value) = &kv.value {
            hash_any(h, value);
        }
    }
}

/// A structural hash of a resource group's resource and schema URL: equal groups (as
/// [`same_resource`] decides) hash equally.
fn resource_hash<G: ResourceGroup>(group: &G) -> u64 {
    let mut h = FxHasher(0);
    h.write(group.schema_url().as_bytes());
    if let Some(resource) = group.resource() {
        hash_attributes(&mut h, &resource.attributes);
        h.write_u64(u64::from(resource.dropped_attributes_count));
    }
    h.finish()
}

/// The structural resource hash of the group, exposed for the benchmark that compares it with
/// hashing the encoded bytes.
#[doc(hidden)]
pub fn resource_key_structural(group: &ResourceSpans) -> u64 {
    resource_hash(group)
}

/// The same key computed by encoding the resource and hashing the bytes (the alternative the
/// benchmark measures).
#[doc(hidden)]
pub fn resource_key_encoded(group: &ResourceSpans, scratch: &mut Vec<u8>) -> u64 {
    scratch.clear();
    if let Some(resource) = &group.resource {
        resource.encode(scratch).ok();
    }
    let mut h = FxHasher(0);
    h.write(group.schema_url.as_bytes());
    h.write(scratch);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use otlp_model::views::{MetricsView, TracesView};
    use otlp_proto::common::v1::InstrumentationScope;
    use otlp_proto::metrics::v1::{Gauge, NumberDataPoint, number_data_point};

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..Default::default()
        }
    }

    fn traces(service: &str, scope: &str, ids: std::ops::Range<u8>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", service)],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: scope.into(),
                        ..Default::default()
                    }),
                    spans: ids
                        .map(|id| Span {
                            span_id: vec![id; 8],
                            name: "x".repeat(40),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    fn ids(request: &ExportTraceServiceRequest) -> Vec<u8> {
        request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .map(|span| span.span_id[0])
            .collect()
    }

    #[test]
    fn merge_groups_equal_resources_and_scopes() {
        let mut a = traces("cart", "http", 0..2);
        a.absorb(traces("cart", "http", 2..4)).unwrap();
        a.absorb(traces("cart", "db", 4..5)).unwrap();
        a.absorb(traces("ads", "http", 5..6)).unwrap();
        assert_eq!(a.resource_spans.len(), 2);
        assert_eq!(a.resource_spans[0].scope_spans.len(), 2);
        assert_eq!(a.resource_spans[0].scope_spans[0].spans.len(), 4);
        assert_eq!(ids(&a), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn merge_uses_the_hash_index_past_the_linear_limit() {
        let parts: Vec<_> = (0..40u8)
            .map(|i| traces(&format!("svc{}", i % 20), "s", i..i + 1))
            .collect();
        let merged = merge_all(parts);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].resource_spans.len(), 20);
        assert_eq!(merged[0].span_count(), 40);
        for group in &merged[0].resource_spans {
            assert_eq!(group.scope_spans.len(), 1);
            assert_eq!(group.scope_spans[0].spans.len(), 2);
        }
    }

    #[test]
    fn split_by_items_keeps_wrappers() {
        let mut request = traces("cart", "http", 0..5);
        request.absorb(traces("ads", "db", 5..10)).unwrap();
        let parts = request.clone().split(3, 0);
        assert_eq!(
            parts.iter().map(|p| p.span_count()).collect::<Vec<_>>(),
            vec![3, 3, 3, 1]
        );
        // The second part straddles both resources and keeps both wrappers.
        assert_eq!(parts[1].resource_spans.len(), 2);
        assert_eq!(
            parts.iter().flat_map(ids).collect::<Vec<_>>(),
            ids(&request)
        );
        let merged = merge_all(parts);
        assert_eq!(merged, vec![request]);
    }

    #[test]
    fn split_by_bytes_honours_the_cap() {
        let request = traces("cart", "http", 0..50);
        let cap = request.encoded_len() / 4;
        let parts = request.clone().split(0, cap);
        assert!(parts.len() >= 4);
        for part in &parts {
            assert!(part.encoded_len() <= cap, "{} > {cap}", part.encoded_len());
        }
        assert_eq!(parts.iter().map(|p| p.span_count()).sum::<usize>(), 50);
    }

    #[test]
    fn an_item_larger_than_the_byte_cap_goes_alone() {
        let request = traces("cart", "http", 0..3);
        let parts = request.split(0, 10);
        assert_eq!(parts.len(), 3);
    }

    #[test]
    fn metrics_split_between_data_points() {
        let points = |n: usize| {
            (0..n)
                .map(|i| NumberDataPoint {
                    time_unix_nano: i as u64,
                    value: Some(number_data_point::Value::AsInt(i as i64)),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "m")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: None,
                    metrics: vec![
                        Metric {
                            name: "a".into(),
                            data: Some(metric::Data::Gauge(Gauge {
                                data_points: points(7),
                            })),
                            ..Default::default()
                        },
                        Metric {
                            name: "b".into(),
                            data: None,
                            ..Default::default()
                        },
                        Metric {
                            name: "c".into(),
                            data: Some(metric::Data::Gauge(Gauge {
                                data_points: points(3),
                            })),
                            ..Default::default()
                        },
                    ],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        assert_eq!(request.data_point_count(), 10);
        let parts = request.clone().split(4, 0);
        assert_eq!(
            parts
                .iter()
                .map(|p| p.data_point_count())
                .collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        let names: Vec<String> = parts
            .iter()
            .flat_map(|p| p.metrics().map(|m| m.name().to_owned()))
            .collect();
        assert_eq!(names, ["a", "a", "b", "c", "c"]);
        let cap = request.encoded_len() / 3;
        for part in request.split(0, cap) {
            assert!(part.encoded_len() <= cap);
        }
    }

    #[test]
    fn profiles_with_different_dictionaries_do_not_merge() {
        use otlp_proto::profiles::v1development::ProfilesDictionary;
        let make = |s: &str| ExportProfilesServiceRequest {
            resource_profiles: vec![ResourceProfiles {
                scope_profiles: vec![ScopeProfiles {
                    profiles: vec![Profile::default()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            dictionary: Some(ProfilesDictionary {
                string_table: vec![s.into()],
                ..Default::default()
            }),
        };
        let merged = merge_all(vec![make("a"), make("a"), make("b")]);
        assert_eq!(merged.len(), 2);
        assert_eq!(
            merged[0].resource_profiles[0].scope_profiles[0]
                .profiles
                .len(),
            2
        );
        let parts = merged[0].clone().split(1, 0);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.dictionary == merged[0].dictionary));
    }
}
