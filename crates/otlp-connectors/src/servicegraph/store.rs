//! The store of half-paired requests ("edges"). A client (or producer) span opens an edge
//! under (trace id, its span id); the server (or consumer) span whose parent is that span
//! completes it, in either order. An edge waits at most `ttl` for its other half (then it
//! expires, counted); at most `max_items` edges wait at once (a new one beyond that is
//! dropped, counted).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

/// What a request crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ConnectionType {
    /// A direct call (client/server spans): `connection_type` is empty.
    #[default]
    Unset,
    /// A message (producer/consumer spans).
    MessagingSystem,
    /// A database call (a client span naming a database).
    Database,
}

impl ConnectionType {
    /// The `connection_type` value contrib writes.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Unset => "",
            ConnectionType::MessagingSystem => "messaging_system",
            ConnectionType::Database => "database",
        }
    }
}

/// One request between two services, as far as it is known.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    /// The calling service, once its span arrived.
    pub(crate) client: Option<String>,
    /// The called service (or database), once known.
    pub(crate) server: Option<String>,
    /// The client span's duration, in seconds.
    pub(crate) client_latency: f64,
    /// The server span's duration, in seconds.
    pub(crate) server_latency: f64,
    /// Either side's status was an error.
    pub(crate) failed: bool,
    /// What the request crosses.
    pub(crate) connection: ConnectionType,
    /// `client_<name>` / `server_<name>` dimensions and their values.
    pub(crate) dimensions: Vec<(String, String)>,
    expires: Instant,
}

impl Edge {
    fn new(expires: Instant) -> Edge {
        Edge {
            client: None,
            server: None,
            client_latency: 0.0,
            server_latency: 0.0,
            failed: false,
            connection: ConnectionType::Unset,
            dimensions: Vec::new(),
            expires,
        }
    }

    fn is_complete(&self) -> bool {
        self.client.is_some() && self.server.is_some()
    }
}

/// An edge's identity: the trace id and the client span's id.
pub(crate) type Key = ([u8; 16], [u8; 8]);

/// What [`Store::upsert`] did.
#[derive(Debug)]
pub(crate) enum Upsert {
    /// The edge is complete (and no longer stored); `new` when it was complete at once.
    Completed { edge: Edge, new: bool },
    /// The edge waits for its other half; `new` when it was just opened.
    Pending { new: bool },
    /// The store is full: the span was dropped.
    Dropped,
}

/// The waiting edges, with their expiry order.
#[derive(Debug)]
pub(crate) struct Store {
    edges: HashMap<Key, Edge>,
    order: VecDeque<(Key, Instant)>,
    ttl: Duration,
    max_items: usize,
}

impl Store {
    /// An empty store.
    pub(crate) fn new(ttl: Duration, max_items: usize) -> Store {
        Store {
            edges: HashMap::new(),
            order: VecDeque::new(),
            ttl,
            max_items,
        }
    }

    /// Edges waiting.
    pub(crate) fn len(&self) -> usize {
        self.edges.len()
    }

    /// Applies `update` to the edge `key` (opened if new, when there is room).
    pub(crate) fn upsert(
        &mut self,
        key: Key,
        now: Instant,
        update: impl FnOnce(&mut Edge),
    ) -> Upsert {
        if let Some(edge) = self.edges.get_mut(&key) {
            update(edge);
            if edge.is_complete()
                && let Some(edge) = self.edges.remove(&key)
            {
                return Upsert::Completed { edge, new: false };
            }
            return Upsert::Pending { new: false };
        }
        let mut edge = Edge::new(now + self.ttl);
        update(&mut edge);
        if edge.is_complete() {
            return Upsert::Completed { edge, new: true };
        }
        if self.edges.len() >= self.max_items {
            return Upsert::Dropped;
        }
        self.order.push_back((key, edge.expires));
        self.edges.insert(key, edge);
        if self.order.len() > 2 * self.max_items + 16 {
            // Completed edges leave their place in the queue behind: drop those.
            let edges = &self.edges;
            self.order
                .retain(|(k, at)| edges.get(k).is_some_and(|e| e.expires == *at));
        }
        Upsert::Pending { new: true }
    }

    /// Removes the edges whose time is up; how many.
    pub(crate) fn expire(&mut self, now: Instant) -> u64 {
        let mut expired = 0;
        while let Some((key, at)) = self.order.front().copied() {
            if at > now {
                break;
            }
            self.order.pop_front();
            if self.edges.get(&key).is_some_and(|e| e.expires == at) {
                self.edges.remove(&key);
                expired += 1;
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn key(n: u8) -> Key {
        ([n; 16], [n; 8])
    }

    #[test]
    fn pairs_in_either_order_expires_and_drops_when_full() {
        let now = Instant::now();
        let mut store = Store::new(Duration::from_secs(2), 2);
        let client = |e: &mut Edge| e.client = Some("a".into());
        let server = |e: &mut Edge| e.server = Some("b".into());
        assert!(matches!(
            store.upsert(key(1), now, server),
            Upsert::Pending { new: true }
        ));
        match store.upsert(key(1), now, client) {
            Upsert::Completed { edge, new } => {
                assert!(!new);
                assert_eq!(
                    (edge.client.as_deref(), edge.server.as_deref()),
                    (Some("a"), Some("b"))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(store.len(), 0);
        store.upsert(key(2), now, client);
        store.upsert(key(3), now, client);
        assert!(matches!(store.upsert(key(4), now, client), Upsert::Dropped));
        assert_eq!(store.expire(now + Duration::from_secs(1)), 0);
        assert_eq!(store.expire(now + Duration::from_secs(2)), 2);
        assert_eq!(store.len(), 0);
    }
}
