//! The consistent-hashing ring of the Go collector's `loadbalancing` exporter, position for
//! position, so that a routing key reaches the same endpoint from our exporter as from Go's
//! for the same endpoint list.
//!
//! The facts, from the Go exporter's `consistent_hashing.go` as of v0.157 (the release the
//! interop tests run, v0.160, has the same ring):
//!
//! - the ring has [`MAX_POSITIONS`] (131 071) positions;
//! - each member has [`POSITIONS_PER_MEMBER`] (200) candidate positions: the CRC-32 (IEEE)
//!   of the member's text followed by `i` (0..200) as four little-endian bytes, modulo
//!   131 071;
//! - the candidates of all members are placed in the order of (position, hash, member
//!   text); one whose position is taken moves to the next position (wrapping), at most
//!   [`PROBE_LIMIT`] (10) times, and is dropped when it needed all ten — so the ring does not
//!   depend on the order the members are listed in;
//! - a key's position is the CRC-32 (IEEE) of its bytes modulo 131 071, and its member is the
//!   one at the first ring item whose position is at least the key's, wrapping to the first
//!   item past the last.
//!
//! Older Go releases used another ring (36 000 positions, 100 per member, a one-byte
//! suffix, collisions dropped): a tier mixing those with this exporter routes differently.
//!
//! The member text is the resolver's string as it is (`backend-1:4317`, or a DNS answer's
//! `10.0.0.7` with or without `:port`): Go appends the default port only when it builds the
//! backend's exporter, not in the ring.

/// Positions on the ring.
pub const MAX_POSITIONS: u32 = 131_071;

/// Candidate positions of each member.
pub const POSITIONS_PER_MEMBER: u32 = 200;

/// How far a candidate whose position is taken may move on.
pub const PROBE_LIMIT: u32 = 10;

/// An immutable ring over a list of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashRing {
    members: Vec<String>,
    /// `(position, member index)`, sorted by position, positions unique.
    items: Vec<(u32, u32)>,
}

/// The ring position of `key`: CRC-32 (IEEE) modulo [`MAX_POSITIONS`].
pub fn position(key: &[u8]) -> u32 {
    crc32fast::hash(key) % MAX_POSITIONS
}

/// One candidate: its position, its hash and its member (index into the member list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    pos: u32,
    hash: u32,
    member: u32,
}

/// Places `candidates` on a ring of `max` positions, Go's way: in (position, hash, member
/// text) order, a taken position moving on by one at most `probe_limit` times, dropped when
/// it needed all of them. Returns `(position, member)` sorted by position.
fn place(
    mut candidates: Vec<Candidate>,
    members: &[String],
    max: u32,
    probe_limit: u32,
) -> Vec<(u32, u32)> {
    candidates.sort_by(|a, b| {
        (a.pos, a.hash)
            .cmp(&(b.pos, b.hash))
            .then_with(|| members[a.member as usize].cmp(&members[b.member as usize]))
    });
    let mut taken = vec![false; max as usize];
    let mut items = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let mut pos = candidate.pos;
        let mut probed = 0;
        while taken[pos as usize] && probed < probe_limit {
            pos = (pos + 1) % max;
            probed += 1;
        }
        if probed >= probe_limit {
            continue;
        }
        taken[pos as usize] = true;
        items.push((pos, candidate.member));
    }
    items.sort_unstable();
    items
}

impl HashRing {
    /// A ring over `members` (their order does not matter). A member listed twice places its
    /// candidates twice, as Go does with a repeated endpoint; the resolvers here never list
    /// one twice.
    pub fn new<S: AsRef<str>>(members: &[S]) -> HashRing {
        let members: Vec<String> = members.iter().map(|m| m.as_ref().to_owned()).collect();
        let mut candidates = Vec::with_capacity(members.len() * POSITIONS_PER_MEMBER as usize);
        for (index, member) in members.iter().enumerate() {
            for i in 0..POSITIONS_PER_MEMBER {
                let mut hasher = crc32fast::Hasher::new();
                hasher.update(member.as_bytes());
                hasher.update(&i.to_le_bytes());
                let hash = hasher.finalize();
                candidates.push(Candidate {
                    pos: hash % MAX_POSITIONS,
                    hash,
                    member: index as u32,
                });
            }
        }
        let items = place(candidates, &members, MAX_POSITIONS, PROBE_LIMIT);
        HashRing { members, items }
    }

    /// The members, in the order given.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// `true` when the ring has no member.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items on the ring (at most 200 per member).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The index (in [`members`](Self::members)) of the member at ring position `pos`.
    pub fn member_at(&self, pos: u32) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        let i = self.items.partition_point(|(p, _)| *p < pos);
        let (_, member) = self.items[if i == self.items.len() { 0 } else { i }];
        Some(member as usize)
    }

    /// The index of the member responsible for `key`.
    pub fn member_for(&self, key: &[u8]) -> Option<usize> {
        self.member_at(position(key))
    }

    /// The member responsible for `key`.
    pub fn endpoint_for(&self, key: &[u8]) -> Option<&str> {
        self.member_for(key).map(|i| self.members[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn three() -> HashRing {
        HashRing::new(&["10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"])
    }

    /// Vectors computed outside this code (Python's `zlib.crc32`, the same procedure).
    #[test]
    fn positions_and_lookups_match_independent_vectors() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926, "CRC-32/IEEE");
        let ring = three();
        assert_eq!(
            ring.len(),
            600,
            "one collision, probed to the next position"
        );
        assert_eq!(ring.items[0], (205, 0));
        assert_eq!(ring.items[1], (258, 0));
        assert_eq!(ring.items[2], (905, 1));
        assert_eq!(*ring.items.last().unwrap(), (131_050, 1));
        let cases: [(&[u8], u32, &str); 6] = [
            (
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
                84_463,
                "10.0.0.3:4317",
            ),
            (&[0xff; 16], 124_403, "10.0.0.2:4317"),
            (&[7; 16], 105_605, "10.0.0.1:4317"),
            (&[0; 16], 115_122, "10.0.0.3:4317"),
            (b"checkout", 34_026, "10.0.0.1:4317"),
            (b"service.name=checkout|", 80_009, "10.0.0.3:4317"),
        ];
        for (key, pos, endpoint) in cases {
            assert_eq!(position(key), pos, "{key:?}");
            assert_eq!(ring.endpoint_for(key), Some(endpoint), "{key:?}");
        }
        // 10.0.0.1's candidates 51 385 (hash 1 801 491 209) and 51 385 (hash 4 119 350 773):
        // the lower hash keeps it, the other moves to 51 386.
        assert_eq!(ring.member_at(51_385), Some(0));
        let at = ring.items.iter().position(|(p, _)| *p == 51_385).unwrap();
        assert_eq!(ring.items[at + 1], (51_386, 0));
    }

    #[test]
    fn the_order_of_the_members_does_not_matter() {
        let sorted = three();
        let shuffled = HashRing::new(&["10.0.0.3:4317", "10.0.0.1:4317", "10.0.0.2:4317"]);
        for pos in (0..MAX_POSITIONS).step_by(97) {
            let a = sorted.member_at(pos).map(|i| &sorted.members()[i]);
            let b = shuffled.member_at(pos).map(|i| &shuffled.members()[i]);
            assert_eq!(a, b, "{pos}");
        }
    }

    #[test]
    fn placement_probes_forward_breaks_ties_and_gives_up_after_ten() {
        let members: Vec<String> = ["b", "a"].iter().map(|s| s.to_string()).collect();
        let c = |pos, hash, member| Candidate { pos, hash, member };
        // Same position: the lower hash first; same hash: the lower member text first.
        let items = place(vec![c(5, 9, 0), c(5, 3, 0), c(5, 3, 1)], &members, 20, 10);
        assert_eq!(
            items,
            [(5, 1), (6, 0), (7, 0)],
            "a (hash 3), b (hash 3), b (hash 9)"
        );
        // Wrapping past the last position.
        let items = place(vec![c(19, 1, 0), c(19, 2, 1)], &members, 20, 10);
        assert_eq!(items, [(0, 1), (19, 0)]);
        // Eleven candidates at one position: the first takes it, nine move on, and the one
        // that needed all ten probes is dropped (Go drops it even if the tenth was free).
        let crowd: Vec<Candidate> = (0..11).map(|h| c(0, h, 0)).collect();
        let items = place(crowd, &members, 100, 10);
        assert_eq!(items.len(), 10);
        assert_eq!(items.last(), Some(&(9, 0)));
        // The ring itself: the first item at or after a position, wrapping.
        let ring = three();
        let key = [0, 0, 0x1b, 0xe3];
        assert_eq!(position(&key), 131_068, "beyond the last item (131 050)");
        assert_eq!(ring.endpoint_for(&key), Some("10.0.0.1:4317"), "wrapped");
        let (pos, member) = ring.items[10];
        assert_eq!(ring.member_at(pos), Some(member as usize));
        assert_eq!(ring.member_at(pos + 1), Some(ring.items[11].1 as usize));
    }

    #[test]
    fn empty_and_single_member_rings() {
        let empty = HashRing::new::<&str>(&[]);
        assert!(empty.is_empty());
        assert_eq!(empty.endpoint_for(b"x"), None);
        let one = HashRing::new(&["only:4317"]);
        assert!(one.len() >= 190 && one.len() <= 200, "{}", one.len());
        for key in [&b"a"[..], b"b", &[0xff; 16]] {
            assert_eq!(one.endpoint_for(key), Some("only:4317"));
        }
    }

    /// SplitMix64: reproducible random trace ids without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn trace_id(&mut self) -> [u8; 16] {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&self.next().to_be_bytes());
            id[8..].copy_from_slice(&self.next().to_be_bytes());
            id
        }
    }

    fn members(n: usize) -> Vec<String> {
        let mut members: Vec<String> = (1..=n).map(|i| format!("10.0.0.{i}:4317")).collect();
        members.sort();
        members
    }

    /// Balance over 16 backends and 1 M random trace ids: the ratio of the busiest backend to
    /// the mean. 100 points per member on a 36 000-position ring is coarse (Go's README speaks
    /// of a standard deviation "under 5 %" for small rings; with 16 members it is larger), so
    /// the bound is loose; the numbers are printed for docs/.
    #[test]
    fn balance_over_16_backends_and_a_million_trace_ids() {
        let ring = HashRing::new(&members(16));
        let mut rng = Rng(17);
        let mut load = [0u64; 16];
        const KEYS: u64 = 1_000_000;
        for _ in 0..KEYS {
            load[ring.member_for(&rng.trace_id()).unwrap()] += 1;
        }
        let mean = KEYS as f64 / 16.0;
        let max = *load.iter().max().unwrap() as f64;
        let min = *load.iter().min().unwrap() as f64;
        let variance = load.iter().map(|l| (*l as f64 - mean).powi(2)).sum::<f64>() / 16.0;
        let stddev = variance.sqrt() / mean;
        println!(
            "ring balance, 16 backends, 1M trace ids: max/mean {:.3}, min/mean {:.3}, \
             relative stddev {:.3}",
            max / mean,
            min / mean,
            stddev
        );
        assert_eq!(load.iter().sum::<u64>(), KEYS);
        assert!(max / mean < 1.3, "max/mean {}", max / mean);
        assert!(min / mean > 0.75, "min/mean {}", min / mean);
        // The key's position is all that matters: the same ids land as the positions say.
        let share: Vec<f64> = (0..16)
            .map(|m| {
                let mut owned = 0u32;
                let mut prev = ring.items.last().unwrap().0;
                for &(pos, member) in &ring.items {
                    let arc = (pos + MAX_POSITIONS - prev) % MAX_POSITIONS;
                    if member as usize == m {
                        owned += arc;
                    }
                    prev = pos;
                }
                f64::from(owned) / f64::from(MAX_POSITIONS)
            })
            .collect();
        for (m, s) in share.iter().enumerate() {
            let observed = load[m] as f64 / KEYS as f64;
            assert!(
                (observed - s).abs() < 0.005,
                "member {m}: {observed} vs arc {s}"
            );
        }
    }

    /// Adding one member to N (or removing it again) moves about 1/(N + 1) of the keys,
    /// nearly all of them to (or from) that member: a new member's candidates can push an old
    /// member's probed candidate one position on, which moves the rare key in between.
    #[test]
    fn one_member_more_or_less_moves_about_one_nth_of_the_keys() {
        const KEYS: usize = 200_000;
        let mut rng = Rng(99);
        let keys: Vec<[u8; 16]> = (0..KEYS).map(|_| rng.trace_id()).collect();
        for n in [3usize, 8, 16] {
            let before = HashRing::new(&members(n));
            let after = HashRing::new(&members(n + 1));
            let added = format!("10.0.0.{}:4317", n + 1);
            let (mut moved, mut elsewhere) = (0usize, 0usize);
            for key in &keys {
                let a = before.endpoint_for(key).unwrap();
                let b = after.endpoint_for(key).unwrap();
                if a != b {
                    moved += 1;
                    if b != added {
                        elsewhere += 1;
                    }
                }
            }
            let fraction = moved as f64 / KEYS as f64;
            let ideal = 1.0 / (n + 1) as f64;
            println!(
                "ring movement, {n} -> {} members: {:.3} of the keys moved (ideal {:.3}), \
                 {elsewhere} of them not to the new member",
                n + 1,
                fraction,
                ideal
            );
            assert!(
                fraction > ideal * 0.7 && fraction < ideal * 1.4,
                "{n}: moved {fraction}, ideal {ideal}"
            );
            assert!(
                elsewhere * 1000 < moved,
                "{n}: {elsewhere} of {moved} moved elsewhere"
            );
        }
    }
}
