//! The hasher of the maps keyed by trace id. Trace ids are random 16 bytes already, so
//! SipHash's cost buys nothing: a few folded multiplications with a per-map random key (from
//! std's `RandomState`, so that chosen ids cannot aim at one bucket) are enough.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A `HashMap` with [`IdState`].
pub(crate) type IdMap<K, V> = HashMap<K, V, IdState>;

/// An empty [`IdMap`] with room for `capacity` entries.
pub(crate) fn id_map<K, V>(capacity: usize) -> IdMap<K, V> {
    HashMap::with_capacity_and_hasher(capacity, IdState::new())
}

/// The mixing constants (the fractional digits of π).
const P0: u64 = 0x243f_6a88_85a3_08d3;
const P1: u64 = 0x1319_8a2e_0370_7344;

/// The high and low halves of `a × b` (128 bits), xored.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Builds [`IdHasher`]s with this map's key.
#[derive(Debug, Clone)]
pub(crate) struct IdState {
    key: u64,
}

impl IdState {
    /// A state with a fresh random key.
    pub(crate) fn new() -> IdState {
        IdState {
            key: RandomState::new().hash_one(P0),
        }
    }
}

impl Default for IdState {
    fn default() -> IdState {
        IdState::new()
    }
}

impl BuildHasher for IdState {
    type Hasher = IdHasher;

    fn build_hasher(&self) -> IdHasher {
        IdHasher { state: self.key }
    }
}

/// The hasher: every 16 bytes written (zero-padded) are folded into the state.
#[derive(Debug, Clone)]
pub(crate) struct IdHasher {
    state: u64,
}

/// The little-endian value of up to 8 bytes (zero-padded).
fn word(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buf)
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(16) {
            let (low, high) = chunk.split_at(chunk.len().min(8));
            self.state = fold(word(low) ^ self.state, word(high) ^ P1);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.state = fold(n ^ self.state, P1);
    }

    fn finish(&self) -> u64 {
        // One more fold spreads every input bit over the low bits, which pick the bucket.
        fold(self.state, P0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_hash_equal_and_different_ids_apart() {
        let state = IdState::new();
        let a = [7u8; 16];
        let mut b = [7u8; 16];
        assert_eq!(state.hash_one(a), state.hash_one(a));
        b[15] = 8;
        assert_ne!(state.hash_one(a), state.hash_one(b));
        b = a;
        b[0] = 8;
        assert_ne!(state.hash_one(a), state.hash_one(b));
    }

    #[test]
    fn ids_differing_in_one_byte_spread_over_buckets() {
        // The low 7 bits pick the bucket in a small table: 256 ids differing in one byte
        // should land in most of the 128 buckets, whichever byte varies.
        let state = IdState::new();
        for position in [0usize, 7, 8, 15] {
            let buckets: std::collections::HashSet<u64> = (0..=255u8)
                .map(|v| {
                    let mut id = [0u8; 16];
                    id[position] = v;
                    state.hash_one(id) & 127
                })
                .collect();
            assert!(
                buckets.len() > 64,
                "byte {position}: {} buckets",
                buckets.len()
            );
        }
    }

    #[test]
    fn maps_with_the_hasher_find_what_was_inserted() {
        let mut map: IdMap<[u8; 16], u32> = id_map(4);
        for i in 0..1000u32 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            map.insert(id, i);
        }
        assert_eq!(map.len(), 1000);
        let mut probe = [0u8; 16];
        probe[..4].copy_from_slice(&999u32.to_be_bytes());
        assert_eq!(map.get(&probe), Some(&999));
    }
}
