//! [`TraceState`]: validated W3C `tracestate` list-members, and [`TraceStateError`].
//!
//! Header parsing and formatting details (optional whitespace, empty members, the 512-byte
//! truncation rule) belong to the propagation crate; this type holds members that are already
//! known to be valid, so everything downstream can rely on that.

use core::fmt;
use std::sync::Arc;

/// Most list-members a `tracestate` may hold (W3C Trace Context, "list").
const MAX_MEMBERS: usize = 32;
/// Longest simple key: `lcalpha 0*255(...)`.
const MAX_SIMPLE_KEY_LEN: usize = 256;
/// Longest tenant id of a multi-tenant key: `(lcalpha / DIGIT) 0*240(...)`.
const MAX_TENANT_LEN: usize = 241;
/// Longest system id of a multi-tenant key: `lcalpha 0*13(...)`.
const MAX_SYSTEM_LEN: usize = 14;
/// Longest value: `0*255(chr) nblk-chr`.
const MAX_VALUE_LEN: usize = 256;
/// How much of an invalid key an error keeps (enough for any valid key, bounded for bad input).
const MAX_KEY_IN_ERROR: usize = 256;

/// Error returned when a [`TraceState`] would not be valid W3C `tracestate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceStateError {
    /// A key does not match the W3C grammar: a simple key (`lcalpha` then up to 255 of
    /// `lcalpha`, digit, `_`, `-`, `*`, `/`) or a multi-tenant key `tenant@system` (tenant up to
    /// 241 characters starting with `lcalpha` or a digit, system up to 14 characters starting
    /// with `lcalpha`).
    #[error("invalid tracestate key {key:?}")]
    InvalidKey {
        /// The offending key, cut to at most 256 bytes.
        key: String,
    },
    /// A value does not match the W3C grammar: 1 to 256 printable ASCII characters
    /// (`0x20`-`0x7E`) other than `,` and `=`, not ending in a space.
    #[error("invalid tracestate value for key {key:?}")]
    InvalidValue {
        /// The (valid) key whose value was rejected; the value itself is not kept.
        key: String,
    },
    /// More list-members than the W3C limit were given.
    #[error("too many tracestate list-members: at most {max} are allowed")]
    TooManyMembers {
        /// The limit, 32.
        max: usize,
    },
    /// The same key appears in more than one list-member.
    #[error("duplicate tracestate key {key:?}")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
}

/// One validated list-member.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Member {
    key: Box<str>,
    value: Box<str>,
}

/// The W3C Trace Context `tracestate`: vendor-specific list-members, newest (left-most) first.
///
/// Every key and value has been validated against the W3C grammar, keys are unique and there
/// are at most 32 members. The type is immutable: [`insert`](Self::insert) and
/// [`remove`](Self::remove) return a new value.
///
/// `Display` writes the members as `key=value` joined by `,`, which is a valid header value;
/// parsing a header (whitespace, empty members, size limits) is left to the propagation crate,
/// which builds on [`TraceState::from_members`].
///
/// ```
/// use otlp_model::TraceState;
///
/// let state = TraceState::from_members([("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")])?;
/// assert_eq!(state.get("congo"), Some("t61rcWkgMzE"));
///
/// // Inserting (or updating) moves the member to the front, as W3C asks of a vendor.
/// let state = state.insert("congo", "ucfJifl5GOE")?;
/// assert_eq!(state.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
///
/// assert!(state.insert("Upper", "x").is_err());
/// assert_eq!(state.remove("rojo").len(), 1);
/// # Ok::<(), otlp_model::TraceStateError>(())
/// ```
//
// Storage: `Option<Arc<[Member]>>`. A `SpanContext` (and so its trace state) is cloned for every
// span started and every hop propagated, while a trace state is changed rarely (at most one
// insert per vendor per hop). Copy-on-write behind an `Arc` makes the frequent clone a reference
// count increment and puts the allocation on the rare mutation. `None` stands for the empty
// list, the most common case: no allocation at all, and `new()` can be `const` so that
// `SpanContext::INVALID` is a constant. `Some` never holds an empty slice, which keeps the
// derived `PartialEq`/`Hash` correct.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TraceState {
    members: Option<Arc<[Member]>>,
}

impl TraceState {
    /// The empty trace state. Does not allocate.
    #[must_use]
    pub const fn new() -> Self {
        Self { members: None }
    }

    /// Builds a trace state from `(key, value)` pairs, the left-most (newest) first.
    ///
    /// # Errors
    ///
    /// [`TraceStateError::InvalidKey`] or [`TraceStateError::InvalidValue`] for the first
    /// member that breaks the W3C grammar, [`TraceStateError::DuplicateKey`] if a key repeats,
    /// and [`TraceStateError::TooManyMembers`] for more than 32 members (the iterator is not
    /// read past the 33rd).
    pub fn from_members<I, K, V>(members: I) -> Result<Self, TraceStateError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out: Vec<Member> = Vec::new();
        for (key, value) in members {
            if out.len() == MAX_MEMBERS {
                return Err(TraceStateError::TooManyMembers { max: MAX_MEMBERS });
            }
            let member = Member::new(key.as_ref(), value.as_ref())?;
            if out.iter().any(|m| m.key == member.key) {
                return Err(TraceStateError::DuplicateKey {
                    key: member.key.into(),
                });
            }
            out.push(member);
        }
        Ok(Self::from_vec(out))
    }

    /// Returns the value for `key`, if present.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.slice()
            .iter()
            .find(|m| &*m.key == key)
            .map(|m| &*m.value)
    }

    /// Returns a trace state with `key=value` as its left-most member.
    ///
    /// An existing member with the same key is replaced and moves to the front, as W3C asks of
    /// a vendor that updates its entry. If a new key would make more than 32 members, the
    /// right-most member is dropped (W3C: "the right-most list-member should be removed").
    ///
    /// # Errors
    ///
    /// [`TraceStateError::InvalidKey`] or [`TraceStateError::InvalidValue`] if the pair breaks
    /// the W3C grammar; `self` is left unchanged either way.
    pub fn insert(&self, key: &str, value: &str) -> Result<Self, TraceStateError> {
        let member = Member::new(key, value)?;
        let mut out = Vec::with_capacity((self.len() + 1).min(MAX_MEMBERS));
        out.push(member);
        out.extend(
            self.slice()
                .iter()
                .filter(|m| &*m.key != key)
                .take(MAX_MEMBERS - 1)
                .cloned(),
        );
        Ok(Self::from_vec(out))
    }

    /// Returns a trace state without the member for `key`; an absent key gives an equal copy.
    #[must_use]
    pub fn remove(&self, key: &str) -> Self {
        if self.get(key).is_none() {
            return self.clone();
        }
        Self::from_vec(
            self.slice()
                .iter()
                .filter(|m| &*m.key != key)
                .cloned()
                .collect(),
        )
    }

    /// Iterates over `(key, value)` pairs, left-most (newest) first.
    #[must_use]
    pub fn iter(&self) -> TraceStateIter<'_> {
        TraceStateIter {
            inner: self.slice().iter(),
        }
    }

    /// Returns the number of list-members (at most 32).
    #[must_use]
    pub fn len(&self) -> usize {
        self.slice().len()
    }

    /// Returns `true` if there are no list-members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slice().is_empty()
    }

    fn slice(&self) -> &[Member] {
        self.members.as_deref().unwrap_or_default()
    }

    fn from_vec(members: Vec<Member>) -> Self {
        Self {
            members: (!members.is_empty()).then(|| Arc::from(members)),
        }
    }
}

impl Member {
    fn new(key: &str, value: &str) -> Result<Self, TraceStateError> {
        if !is_valid_key(key) {
            return Err(TraceStateError::InvalidKey {
                key: truncate(key, MAX_KEY_IN_ERROR).to_owned(),
            });
        }
        if !is_valid_value(value) {
            return Err(TraceStateError::InvalidValue {
                key: key.to_owned(),
            });
        }
        Ok(Self {
            key: key.into(),
            value: value.into(),
        })
    }
}

impl fmt::Display for TraceState {
    /// Writes `key=value` members joined by `,` (no whitespace), left-most first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TraceState")
            .field(&DebugMembers(self))
            .finish()
    }
}

/// Shows the members as a map, keeping their order.
struct DebugMembers<'a>(&'a TraceState);

impl fmt::Debug for DebugMembers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a TraceState {
    type Item = (&'a str, &'a str);
    type IntoIter = TraceStateIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the `(key, value)` pairs of a [`TraceState`], left-most first.
///
/// Returned by [`TraceState::iter`].
#[derive(Clone, Debug)]
pub struct TraceStateIter<'a> {
    inner: core::slice::Iter<'a, Member>,
}

impl<'a> Iterator for TraceStateIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|m| (&*m.key, &*m.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for TraceStateIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|m| (&*m.key, &*m.value))
    }
}

impl ExactSizeIterator for TraceStateIter<'_> {}

impl core::iter::FusedIterator for TraceStateIter<'_> {}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// `lcalpha / DIGIT / "_" / "-" / "*" / "/"`: what may follow the first character of a key part.
fn is_key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
}

/// Checks one key part: `first` for its first byte, [`is_key_char`] for the rest, `max` bytes.
fn is_key_part(part: &[u8], max: usize, first: fn(&u8) -> bool) -> bool {
    match part.split_first() {
        Some((head, tail)) => {
            part.len() <= max && first(head) && tail.iter().all(|&c| is_key_char(c))
        }
        None => false,
    }
}

/// W3C `key = simple-key / multi-tenant-key`.
fn is_valid_key(key: &str) -> bool {
    match key.split_once('@') {
        None => is_key_part(key.as_bytes(), MAX_SIMPLE_KEY_LEN, u8::is_ascii_lowercase),
        Some((tenant, system)) => {
            is_key_part(tenant.as_bytes(), MAX_TENANT_LEN, |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit()
            }) && is_key_part(system.as_bytes(), MAX_SYSTEM_LEN, u8::is_ascii_lowercase)
        }
    }
}

/// W3C `value = 0*255(chr) nblk-chr`, `chr = %x20 / nblk-chr`,
/// `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`.
fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() <= MAX_VALUE_LEN
        && bytes.last().is_some_and(|&c| c != b' ')
        && bytes
            .iter()
            .all(|&c| (0x20..=0x7E).contains(&c) && c != b',' && c != b'=')
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state(members: &[(&str, &str)]) -> TraceState {
        TraceState::from_members(members.iter().copied()).unwrap()
    }

    fn invalid_key(key: &str) -> TraceStateError {
        TraceStateError::InvalidKey {
            key: key.to_owned(),
        }
    }

    #[test]
    fn empty() {
        let s = TraceState::new();
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
        assert_eq!(s.get("a"), None);
        assert_eq!(s.iter().next(), None);
        assert_eq!(s.to_string(), "");
        assert_eq!(s, TraceState::default());
        assert_eq!(
            TraceState::from_members(Vec::<(&str, &str)>::new()),
            Ok(s.clone())
        );
        assert_eq!(s.remove("a"), s);
        assert_eq!(format!("{s:?}"), "TraceState({})");
    }

    #[test]
    fn from_members_keeps_order_and_formats() {
        let s = state(&[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")]);
        assert_eq!(s.len(), 2);
        assert!(!s.is_empty());
        assert_eq!(s.get("rojo"), Some("00f067aa0ba902b7"));
        assert_eq!(s.get("congo"), Some("t61rcWkgMzE"));
        assert_eq!(s.get("missing"), None);
        assert_eq!(s.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        assert_eq!(
            format!("{s:?}"),
            r#"TraceState({"rojo": "00f067aa0ba902b7", "congo": "t61rcWkgMzE"})"#
        );
        let keys: Vec<&str> = (&s).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["rojo", "congo"]);
        assert_eq!(s.iter().next_back(), Some(("congo", "t61rcWkgMzE")));
        assert_eq!(s.iter().len(), 2);
        // Owned strings work as well as borrowed ones.
        let owned = vec![(String::from("rojo"), String::from("00f067aa0ba902b7"))];
        assert_eq!(TraceState::from_members(owned).unwrap().len(), 1);
    }

    #[test]
    fn insert_adds_to_front() {
        let s = state(&[("a", "1"), ("b", "2")]);
        let t = s.insert("c", "3").unwrap();
        assert_eq!(t.to_string(), "c=3,a=1,b=2");
        // The original is unchanged.
        assert_eq!(s.to_string(), "a=1,b=2");
        assert_eq!(
            TraceState::new().insert("x", "y").unwrap().to_string(),
            "x=y"
        );
    }

    #[test]
    fn update_moves_to_front() {
        let s = state(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let t = s.insert("c", "30").unwrap();
        assert_eq!(t.to_string(), "c=30,a=1,b=2");
        let t = t.insert("b", "2").unwrap();
        assert_eq!(t.to_string(), "b=2,c=30,a=1");
        let t = t.insert("b", "20").unwrap();
        assert_eq!(t.to_string(), "b=20,c=30,a=1");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn insert_invalid_is_an_error() {
        let s = state(&[("a", "1")]);
        assert_eq!(s.insert("A", "1"), Err(invalid_key("A")));
        assert_eq!(
            s.insert("a", "x,y"),
            Err(TraceStateError::InvalidValue { key: "a".into() })
        );
    }

    #[test]
    fn insert_into_full_state_drops_right_most() {
        let members: Vec<(String, String)> = (0..32)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect();
        let s = TraceState::from_members(members.iter().map(|(k, v)| (k, v))).unwrap();
        assert_eq!(s.len(), 32);
        let t = s.insert("new", "x").unwrap();
        assert_eq!(t.len(), 32);
        assert_eq!(t.iter().next(), Some(("new", "x")));
        assert_eq!(t.get("k31"), None);
        assert_eq!(t.get("k30"), Some("v30"));
        // Updating an existing key of a full state keeps every member.
        let u = s.insert("k31", "y").unwrap();
        assert_eq!(u.len(), 32);
        assert_eq!(u.iter().next(), Some(("k31", "y")));
        assert_eq!(u.get("k30"), Some("v30"));
    }

    #[test]
    fn remove() {
        let s = state(&[("a", "1"), ("b", "2"), ("c", "3")]);
        assert_eq!(s.remove("b").to_string(), "a=1,c=3");
        assert_eq!(s.remove("missing"), s);
        assert_eq!(s.remove("a").remove("b").remove("c"), TraceState::new());
        assert!(s.remove("a").remove("b").remove("c").members.is_none());
    }

    #[test]
    fn clone_shares_storage() {
        let s = state(&[("a", "1")]);
        let t = s.clone();
        match (&s.members, &t.members) {
            (Some(a), Some(b)) => assert!(Arc::ptr_eq(a, b)),
            _ => panic!("expected shared storage"),
        }
    }

    #[test]
    fn duplicate_keys_rejected() {
        assert_eq!(
            TraceState::from_members([("a", "1"), ("b", "2"), ("a", "3")]),
            Err(TraceStateError::DuplicateKey { key: "a".into() })
        );
        assert_eq!(
            TraceState::from_members([("t@s", "1"), ("t@s", "1")]),
            Err(TraceStateError::DuplicateKey { key: "t@s".into() })
        );
    }

    #[test]
    fn member_count_limit() {
        let members: Vec<(String, &str)> = (0..33).map(|i| (format!("k{i}"), "v")).collect();
        let ok = TraceState::from_members(members[..32].iter().cloned()).unwrap();
        assert_eq!(ok.len(), 32);
        assert_eq!(
            TraceState::from_members(members.iter().cloned()),
            Err(TraceStateError::TooManyMembers { max: 32 })
        );
        // An endless iterator is not read past the 33rd member.
        let endless = (0..).map(|i| (format!("k{i}"), "v"));
        assert_eq!(
            TraceState::from_members(endless),
            Err(TraceStateError::TooManyMembers { max: 32 })
        );
    }

    #[test]
    fn simple_key_boundaries() {
        for ok in ["a", "z", "a0", "a_-*/", "abc/def", "a1*2_3-4"] {
            assert!(is_valid_key(ok), "{ok:?}");
        }
        let k255 = format!("a{}", "b".repeat(254));
        let k256 = format!("a{}", "b".repeat(255));
        let k257 = format!("a{}", "b".repeat(256));
        assert_eq!(k256.len(), 256);
        assert!(is_valid_key(&k255));
        assert!(is_valid_key(&k256));
        assert!(!is_valid_key(&k257));
        for bad in [
            "", "A", "0a", "_a", "*", "/a", "aB", "a b", "a=b", "a,b", "a.b", "é", "a\0",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
        assert_eq!(TraceState::new().insert(&k256, "v").unwrap().len(), 1);
        assert_eq!(
            TraceState::new().insert(&k257, "v"),
            Err(invalid_key(&k257[..256]))
        );
    }

    #[test]
    fn multi_tenant_key_boundaries() {
        for ok in ["t@s", "0@s", "9t@s9", "tenant_-*/@sys_-*/", "a@b0"] {
            assert!(is_valid_key(ok), "{ok:?}");
        }
        let t241 = format!("t{}", "0".repeat(240));
        let t242 = format!("t{}", "0".repeat(241));
        let s14 = format!("s{}", "1".repeat(13));
        let s15 = format!("s{}", "1".repeat(14));
        assert!(is_valid_key(&format!("{t241}@s")));
        assert!(!is_valid_key(&format!("{t242}@s")));
        assert!(is_valid_key(&format!("t@{s14}")));
        assert!(!is_valid_key(&format!("t@{s15}")));
        // The longest multi-tenant key: 241 + 1 + 14 = 256 bytes.
        let longest = format!("{t241}@{s14}");
        assert_eq!(longest.len(), 256);
        assert!(is_valid_key(&longest));
        for bad in [
            "@s", "t@", "@", "T@s", "t@S", "t@0s", "_t@s", "t@s@x", "t@@s", "t@_s",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn value_boundaries() {
        let v256 = "x".repeat(256);
        let v257 = "x".repeat(257);
        assert!(is_valid_value("x"));
        assert!(is_valid_value(&v256));
        assert!(!is_valid_value(&v257));
        assert!(
            is_valid_value(" x"),
            "leading space is allowed by the grammar"
        );
        assert!(is_valid_value("a b"));
        assert!(is_valid_value(
            "!\"#$%&'()*+-./0123456789:;<>?@AZ[\\]^_`az{|}~"
        ));
        for bad in [
            "", " ", "x ", "a,b", "a=b", "a\tb", "a\u{7f}", "é", "a\nb", "\0",
        ] {
            assert!(!is_valid_value(bad), "{bad:?}");
        }
        assert_eq!(
            TraceState::from_members([("a", "x ")]),
            Err(TraceStateError::InvalidValue { key: "a".into() })
        );
        assert_eq!(
            TraceState::from_members([("a", v256.as_str())])
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            TraceState::from_members([("a", v257.as_str())]),
            Err(TraceStateError::InvalidValue { key: "a".into() })
        );
    }

    #[test]
    fn invalid_key_error_is_bounded() {
        let long = "é".repeat(1000);
        match TraceState::from_members([(long.as_str(), "v")]) {
            Err(TraceStateError::InvalidKey { key }) => {
                assert!(key.len() <= 256);
                assert!(long.starts_with(&key));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            invalid_key("A").to_string(),
            r#"invalid tracestate key "A""#
        );
        assert_eq!(
            TraceStateError::InvalidValue { key: "a".into() }.to_string(),
            r#"invalid tracestate value for key "a""#
        );
        assert_eq!(
            TraceStateError::TooManyMembers { max: 32 }.to_string(),
            "too many tracestate list-members: at most 32 are allowed"
        );
        assert_eq!(
            TraceStateError::DuplicateKey { key: "a".into() }.to_string(),
            r#"duplicate tracestate key "a""#
        );
    }

    /// Keys and values built mostly from characters near the grammar's edges.
    fn near_key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9_*/@A-Z -]{0,20}",
            "[a-z][a-z0-9_*/-]{0,300}",
            "[a-z0-9][a-z0-9_*/-]{0,250}@[a-z][a-z0-9_*/-]{0,15}",
            any::<String>(),
        ]
    }

    fn near_value() -> impl Strategy<Value = String> {
        prop_oneof!["[ -~]{0,260}", "[ ,=a]{0,5}", any::<String>()]
    }

    proptest! {
        #[test]
        fn from_members_never_panics(
            members in proptest::collection::vec((near_key(), near_value()), 0..40)
        ) {
            match TraceState::from_members(members.iter().map(|(k, v)| (k, v))) {
                Ok(state) => {
                    prop_assert!(state.len() <= 32);
                    prop_assert_eq!(state.len(), members.len());
                    for ((k, v), (sk, sv)) in members.iter().zip(state.iter()) {
                        prop_assert_eq!(k.as_str(), sk);
                        prop_assert_eq!(v.as_str(), sv);
                        prop_assert!(is_valid_key(k) && is_valid_value(v));
                    }
                    // Display output is a comma list of exactly those members.
                    let text = state.to_string();
                    prop_assert_eq!(text.split(',').count(), state.len().max(1));
                }
                Err(TraceStateError::TooManyMembers { max }) => {
                    prop_assert_eq!(max, 32);
                    prop_assert!(members.len() > 32);
                }
                Err(_) => {}
            }
        }

        #[test]
        fn insert_never_panics_and_puts_first(key in near_key(), value in near_value()) {
            let base = state(&[("a", "1"), ("b", "2")]);
            match base.insert(&key, &value) {
                Ok(s) => {
                    prop_assert_eq!(s.iter().next(), Some((key.as_str(), value.as_str())));
                    prop_assert_eq!(s.get(&key), Some(value.as_str()));
                    prop_assert_eq!(s.iter().filter(|(k, _)| *k == key).count(), 1);
                }
                Err(_) => prop_assert!(!is_valid_key(&key) || !is_valid_value(&value)),
            }
        }
    }
}
