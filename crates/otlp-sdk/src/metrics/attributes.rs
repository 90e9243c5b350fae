//! Attribute sets of metric series: hashed once, equal regardless of order, and the map from
//! an attribute set to its series, bounded by the cardinality limit.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use crate::value::{Key, KeyValue, Value};

/// The attribute that marks the series collecting measurements beyond the cardinality limit.
pub const OVERFLOW_ATTRIBUTE: &str = "otel.metric.overflow";

/// A series' attributes: sorted by key, keys unique (the last value given for a key wins).
pub(crate) type AttributeSet = Arc<[KeyValue]>;

/// A hash of the attributes in the order given: cheap, and stable across runs.
pub(crate) fn hash_attributes(attributes: &[KeyValue]) -> u64 {
    let mut h = Fnv::default();
    for kv in attributes {
        h.write(kv.key.as_str().as_bytes());
        h.write_u8(0xff);
        hash_value(&mut h, &kv.value);
    }
    h.finish()
}

fn hash_value(h: &mut Fnv, value: &Value) {
    match value {
        Value::Bool(b) => h.write_u8(u8::from(*b) + 1),
        Value::I64(i) => {
            h.write_u8(3);
            h.write_u64(*i as u64);
        }
        Value::F64(f) => {
            h.write_u8(4);
            h.write_u64(f.to_bits());
        }
        Value::String(s) => {
            h.write_u8(5);
            h.write(s.as_bytes());
        }
        Value::Bytes(b) => {
            h.write_u8(6);
            h.write(b);
        }
        Value::Array(values) => {
            h.write_u8(7);
            for v in values {
                hash_value(h, v);
            }
        }
        Value::Any(any) => {
            h.write_u8(8);
            h.write(format!("{any:?}").as_bytes());
        }
    }
}

/// Equality of attribute lists as given (order matters here; sets are compared sorted).
/// Floats compare by bits, so a NaN attribute finds its own series again.
pub(crate) fn same(a: &[KeyValue], b: &[KeyValue]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.key == y.key && same_value(&x.value, &y.value))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        _ => a == b,
    }
}

/// Sorts by key and removes duplicate keys (the last value wins).
pub(crate) fn normalize(attributes: &[KeyValue]) -> Vec<KeyValue> {
    let mut sorted: Vec<KeyValue> = attributes.to_vec();
    // Stable: among equal keys the order given is kept, so the last one is the last.
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out: Vec<KeyValue> = Vec::with_capacity(sorted.len());
    for kv in sorted {
        match out.last_mut() {
            Some(last) if last.key == kv.key => *last = kv,
            _ => out.push(kv),
        }
    }
    out
}

/// Keeps only the attributes whose keys are in `keep` (a view's attribute filter); returns
/// the kept and the filtered-out ones (the latter go to exemplars).
pub(crate) fn filter(attributes: Vec<KeyValue>, keep: &[Key]) -> (Vec<KeyValue>, Vec<KeyValue>) {
    attributes
        .into_iter()
        .partition(|kv| keep.contains(&kv.key))
}

/// A word-at-a-time multiplicative hash (the FxHash mixing step): eight bytes per step, so an
/// integer attribute costs one multiplication instead of eight.
#[derive(Default)]
struct Fnv(u64);

impl Fnv {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
pub(crate) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Buckets<S> = HashMap<u64, Vec<(AttributeSet, Arc<S>)>, BuildHasherDefault<Identity>>;

/// Attribute set → series, for one metric stream. Lookups with attributes in the order the
/// caller gives them take a read lock and no allocation once the series exists; a new order
/// of a known set is remembered as an alias of the same series.
pub(crate) struct SeriesMap<S> {
    inner: RwLock<Inner<S>>,
    limit: usize,
    /// The series of the empty attribute set, once it exists (never forgotten: see `retain`).
    empty: std::sync::OnceLock<Arc<S>>,
}

struct Inner<S> {
    /// Every key under which a series can be found (sorted sets and the orders seen).
    lookup: Buckets<S>,
    /// The series, once each, with their sorted attribute sets.
    series: Vec<(AttributeSet, Arc<S>)>,
    overflow: Option<Arc<S>>,
}

impl<S> std::fmt::Debug for SeriesMap<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesMap")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<S> SeriesMap<S> {
    /// A map holding at most `limit` series, the overflow series included.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                lookup: Buckets::default(),
                series: Vec::new(),
                overflow: None,
            }),
            limit: limit.max(1),
            empty: std::sync::OnceLock::new(),
        }
    }

    /// Runs `f` on the series of `attributes` (created with `make` if new) while holding the
    /// map's lock — the read lock when the series exists, so no reference count is touched on
    /// the hot path; the write lock when it is created, so that a concurrent collection cannot
    /// forget a series between its creation and its first measurement.
    pub(crate) fn apply<R>(
        &self,
        attributes: &[KeyValue],
        make: impl FnOnce() -> S,
        f: impl FnOnce(&Arc<S>) -> R,
    ) -> R {
        if attributes.is_empty()
            && let Some(series) = self.empty.get()
        {
            return f(series);
        }
        let hash = hash_attributes(attributes);
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(entries) = inner.lookup.get(&hash)
                && let Some((_, series)) = entries.iter().find(|(set, _)| same(set, attributes))
            {
                return f(series);
            }
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let series = self.insert(&mut inner, hash, attributes, make);
        if attributes.is_empty()
            && !inner
                .overflow
                .as_ref()
                .is_some_and(|o| Arc::ptr_eq(o, &series))
        {
            // The empty set, looked up without hashing or locking from now on.
            let _ = self.empty.set(Arc::clone(&series));
        }
        f(&series)
    }

    /// The series of `attributes` (any order, duplicates allowed), created with `make` if new;
    /// beyond the limit, the overflow series.
    #[cfg(test)]
    pub(crate) fn get_or_insert(
        &self,
        attributes: &[KeyValue],
        make: impl FnOnce() -> S,
    ) -> Arc<S> {
        self.apply(attributes, make, Arc::clone)
    }

    fn insert(
        &self,
        inner: &mut Inner<S>,
        hash: u64,
        attributes: &[KeyValue],
        make: impl FnOnce() -> S,
    ) -> Arc<S> {
        if let Some(found) = find(&inner.lookup, hash, attributes) {
            return found; // created by another thread meanwhile
        }
        let sorted = normalize(attributes);
        let sorted_hash = hash_attributes(&sorted);
        if let Some(found) = find(&inner.lookup, sorted_hash, &sorted) {
            // A new order of a known set: remember it.
            let alias: AttributeSet = attributes.to_vec().into();
            inner
                .lookup
                .entry(hash)
                .or_default()
                .push((alias, Arc::clone(&found)));
            return found;
        }
        // One slot stays for the overflow series.
        if inner.series.len() + 1 >= self.limit {
            let overflow = inner.overflow.get_or_insert_with(|| Arc::new(make()));
            return Arc::clone(overflow);
        }
        let set: AttributeSet = sorted.into();
        let series = Arc::new(make());
        inner
            .lookup
            .entry(sorted_hash)
            .or_default()
            .push((Arc::clone(&set), Arc::clone(&series)));
        if hash != sorted_hash || !same(attributes, &set) {
            let alias: AttributeSet = attributes.to_vec().into();
            inner
                .lookup
                .entry(hash)
                .or_default()
                .push((alias, Arc::clone(&series)));
        }
        inner.series.push((set, Arc::clone(&series)));
        series
    }

    /// Visits every series (and the overflow one, with its attribute) under the read lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[KeyValue], &Arc<S>)) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        for (set, series) in &inner.series {
            f(set, series);
        }
        if let Some(overflow) = &inner.overflow {
            f(&[KeyValue::new(OVERFLOW_ATTRIBUTE, true)], overflow);
        }
    }

    /// Removes the series for which `forget` says so (delta series that saw no measurement
    /// and that no bound instrument holds), aliases included.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&Arc<S>) -> bool) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let before = inner.series.len();
        let empty = self.empty.get().map(Arc::as_ptr);
        inner
            .series
            .retain(|(_, s)| Some(Arc::as_ptr(s)) == empty || keep(s));
        if inner.series.len() != before {
            let alive: Vec<*const S> = inner.series.iter().map(|(_, s)| Arc::as_ptr(s)).collect();
            for entries in inner.lookup.values_mut() {
                entries.retain(|(_, s)| alive.contains(&Arc::as_ptr(s)));
            }
            inner.lookup.retain(|_, entries| !entries.is_empty());
        }
        if inner.overflow.as_ref().is_some_and(|o| !keep(o)) {
            inner.overflow = None;
        }
    }

    /// Series held now (the overflow one included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.series.len() + usize::from(inner.overflow.is_some())
    }
}

fn find<S>(lookup: &Buckets<S>, hash: u64, attributes: &[KeyValue]) -> Option<Arc<S>> {
    lookup
        .get(&hash)?
        .iter()
        .find(|(set, _)| same(set, attributes))
        .map(|(_, s)| Arc::clone(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_duplicates_do_not_make_new_series() {
        let map: SeriesMap<u8> = SeriesMap::new(10);
        let a = map.get_or_insert(&[KeyValue::new("b", 1), KeyValue::new("a", "x")], || 1);
        let b = map.get_or_insert(&[KeyValue::new("a", "x"), KeyValue::new("b", 1)], || 2);
        let c = map.get_or_insert(
            &[
                KeyValue::new("a", "y"),
                KeyValue::new("b", 1),
                KeyValue::new("a", "x"),
            ],
            || 3,
        );
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&a, &c));
        assert_eq!(map.len(), 1);
        let mut seen = Vec::new();
        map.for_each(|set, _| seen.push(set.to_vec()));
        assert_eq!(
            seen,
            vec![vec![KeyValue::new("a", "x"), KeyValue::new("b", 1)]]
        );
    }

    #[test]
    fn the_limit_sends_new_sets_to_the_overflow_series() {
        let map: SeriesMap<u32> = SeriesMap::new(3);
        for i in 0..10 {
            map.get_or_insert(&[KeyValue::new("i", i)], || 0);
        }
        assert_eq!(map.len(), 3, "two series and the overflow");
        let mut sets = Vec::new();
        map.for_each(|set, _| sets.push(set.to_vec()));
        assert_eq!(sets[2], vec![KeyValue::new(OVERFLOW_ATTRIBUTE, true)]);
        // Known sets still find their own series.
        let first = map.get_or_insert(&[KeyValue::new("i", 0)], || 99);
        assert_eq!(*first, 0);
        map.retain(|s| Arc::strong_count(s) > 2);
        assert_eq!(map.len(), 1, "only the series held by `first` stays");
    }
}
