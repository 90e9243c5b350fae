//! What the processor remembers of decided traces, so that late spans follow their trace's
//! decision (contrib's "late-arriving spans" scenarios):
//!
//! - the **recent** decisions: the last `num_traces` decided trace ids (a FIFO), always on,
//!   as contrib's circular buffer keeps decided traces until `num_traces` newer ones push
//!   them out (scenario 1; `sampling_late_span_age` measures these);
//! - the **decision caches**: `decision_cache.sampled_cache_size` and
//!   `non_sampled_cache_size` LRU sets of ids (0: off), which remember longer (scenario 3;
//!   `early_releases_from_cache_decision` counts these).
//!
//! A trace in none of them is new (scenario 2). Every structure is bounded by its size.

use std::collections::VecDeque;

use tokio::time::Instant;

use super::hash::{IdMap, id_map};
use super::store::TraceId;

/// A remembered decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Remembered {
    /// Sampled or not.
    pub(crate) sampled: bool,
    /// When it was decided, for the recent decisions; `None` from a decision cache.
    pub(crate) decided_at: Option<Instant>,
}

/// A set of trace ids evicting the least recently used beyond `capacity` (0: always empty).
#[derive(Debug)]
pub(crate) struct LruSet {
    stamps: IdMap<TraceId, u64>,
    /// `(id, stamp)` in use order; entries whose stamp is no longer the id's are stale.
    order: VecDeque<(TraceId, u64)>,
    next: u64,
    capacity: usize,
}

impl LruSet {
    /// An empty set of at most `capacity` ids.
    pub(crate) fn new(capacity: usize) -> LruSet {
        LruSet {
            stamps: id_map(0),
            order: VecDeque::new(),
            next: 0,
            capacity,
        }
    }

    /// Ids in the set.
    pub(crate) fn len(&self) -> usize {
        self.stamps.len()
    }

    fn touch(&mut self, id: TraceId) {
        self.next += 1;
        self.stamps.insert(id, self.next);
        self.order.push_back((id, self.next));
        // Stale entries are dropped from the order once it doubles the live ones.
        if self.order.len() > 2 * self.capacity + 16 {
            let stamps = &self.stamps;
            self.order
                .retain(|(id, stamp)| stamps.get(id) == Some(stamp));
        }
    }

    /// Adds `id` (most recently used), evicting beyond the capacity.
    pub(crate) fn insert(&mut self, id: TraceId) {
        if self.capacity == 0 {
            return;
        }
        self.touch(id);
        while self.stamps.len() > self.capacity {
            let Some((old, stamp)) = self.order.pop_front() else {
                break;
            };
            if self.stamps.get(&old) == Some(&stamp) {
                self.stamps.remove(&old);
            }
        }
    }

    /// `true` when `id` is in the set (which makes it the most recently used).
    pub(crate) fn get(&mut self, id: &TraceId) -> bool {
        if !self.stamps.contains_key(id) {
            return false;
        }
        self.touch(*id);
        true
    }

    /// Removes `id`.
    pub(crate) fn remove(&mut self, id: &TraceId) {
        self.stamps.remove(id);
    }
}

/// The recent decisions and the two decision caches.
#[derive(Debug)]
pub(crate) struct DecisionMemory {
    recent: IdMap<TraceId, (bool, Instant)>,
    recent_order: VecDeque<TraceId>,
    recent_capacity: usize,
    sampled: LruSet,
    not_sampled: LruSet,
}

impl DecisionMemory {
    /// Remembers the last `recent` decisions, and caches of the given sizes.
    pub(crate) fn new(recent: usize, sampled: usize, not_sampled: usize) -> DecisionMemory {
        DecisionMemory {
            recent: id_map(0),
            recent_order: VecDeque::new(),
            recent_capacity: recent,
            sampled: LruSet::new(sampled),
            not_sampled: LruSet::new(not_sampled),
        }
    }

    /// Records the decision for `id`.
    pub(crate) fn record(&mut self, id: TraceId, sampled: bool, now: Instant) {
        if self.recent.insert(id, (sampled, now)).is_none() {
            self.recent_order.push_back(id);
        }
        while self.recent.len() > self.recent_capacity {
            let Some(old) = self.recent_order.pop_front() else {
                break;
            };
            self.recent.remove(&old);
        }
        if sampled {
            self.not_sampled.remove(&id);
            self.sampled.insert(id);
        } else {
            self.sampled.remove(&id);
            self.not_sampled.insert(id);
        }
    }

    /// The decision remembered for `id`, if any.
    pub(crate) fn lookup(&mut self, id: &TraceId) -> Option<Remembered> {
        if let Some((sampled, at)) = self.recent.get(id) {
            return Some(Remembered {
                sampled: *sampled,
                decided_at: Some(*at),
            });
        }
        if self.sampled.get(id) {
            return Some(Remembered {
                sampled: true,
                decided_at: None,
            });
        }
        if self.not_sampled.get(id) {
            return Some(Remembered {
                sampled: false,
                decided_at: None,
            });
        }
        None
    }

    /// Ids remembered (recent, sampled cache, not-sampled cache).
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        (
            self.recent.len(),
            self.sampled.len(),
            self.not_sampled.len(),
        )
    }
}
