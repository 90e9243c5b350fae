//! Per-client-address shares of the connection and request bounds, so that one client cannot
//! take every slot of a receiver.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What one address holds now.
#[derive(Debug, Default, Clone, Copy)]
struct Held {
    connections: usize,
    requests: usize,
}

/// Which count a [`Share`] holds one of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connection,
    Request,
}

/// The open connections and requests in progress of every client address. An address is in
/// the table only while it holds something, so the table is bounded by the connection bound.
#[derive(Debug)]
pub(crate) struct ClientTable {
    held: Mutex<HashMap<IpAddr, Held>>,
    max_connections: usize,
    max_requests: usize,
}

impl ClientTable {
    pub(crate) fn new(max_connections: usize, max_requests: usize) -> Arc<ClientTable> {
        Arc::new(ClientTable {
            held: Mutex::new(HashMap::new()),
            max_connections: max_connections.max(1),
            max_requests: max_requests.max(1),
        })
    }

    /// One more connection for `addr`, or `None` when it holds its share already.
    pub(crate) fn connection(self: &Arc<Self>, addr: IpAddr) -> Option<Share> {
        self.take(addr, Kind::Connection)
    }

    /// One more request in progress for `addr`, or `None` when it holds its share already.
    pub(crate) fn request(self: &Arc<Self>, addr: IpAddr) -> Option<Share> {
        self.take(addr, Kind::Request)
    }

    fn take(self: &Arc<Self>, addr: IpAddr, kind: Kind) -> Option<Share> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = held.entry(addr).or_default();
        let (count, max) = match kind {
            Kind::Connection => (&mut entry.connections, self.max_connections),
            Kind::Request => (&mut entry.requests, self.max_requests),
        };
        if *count >= max {
            // Only an address holding its share (so, something) is refused: no empty entry.
            return None;
        }
        *count += 1;
        Some(Share {
            table: Arc::clone(self),
            addr,
            kind,
        })
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One connection or request of an address; given back when dropped.
#[derive(Debug)]
pub(crate) struct Share {
    table: Arc<ClientTable>,
    addr: IpAddr,
    kind: Kind,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = self
            .table
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = held.get_mut(&self.addr) {
            match self.kind {
                Kind::Connection => entry.connections = entry.connections.saturating_sub(1),
                Kind::Request => entry.requests = entry.requests.saturating_sub(1),
            }
            if entry.connections == 0 && entry.requests == 0 {
                held.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_share_and_gives_it_back() {
        let table = ClientTable::new(2, 1);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.1".parse().unwrap();
        let first = table.connection(a).unwrap();
        let second = table.connection(a).unwrap();
        assert!(table.connection(a).is_none(), "a third connection of a");
        assert!(table.connection(b).is_some(), "b has its own share");
        let request = table.request(a).unwrap();
        assert!(table.request(a).is_none(), "a second request of a");
        drop(request);
        assert!(table.request(a).is_some(), "given back");
        drop((first, second));
        assert_eq!(table.addresses(), 0, "nothing held, nothing kept");
    }

    #[test]
    fn a_refused_address_leaves_no_entry() {
        let table = ClientTable::new(1, 1);
        let a: IpAddr = "::1".parse().unwrap();
        let held = table.connection(a).unwrap();
        assert!(table.connection(a).is_none());
        drop(held);
        assert_eq!(table.addresses(), 0);
    }
}
