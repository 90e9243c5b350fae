//! [`TraceState`]: validated W3C `tracestate` list-members, and [`TraceStateError`].
//!
//! Header parsing and formatting details (optional whitespace, empty members, the 512-byte
//! truncation rule) belong to the propagation crate; this type holds members that are already
//! known to be valid, so everything downstream can rely on that.

use core::fmt;
use std::sync::Arc;

/// Most list-members a `tracestate` may hold (W3C Trace Context, "list").
const MAX_MEMBERS: usize = 32;
/// Longest key: `(lcalpha / DIGIT) 0*255(keychar)`.
const MAX_KEY_LEN: usize = 256;
/// Longest value: `0*255(chr) nblk-chr`.
const MAX_VALUE_LEN: usize = 256;
/// How much of an invalid key an error keeps (enough for any valid key, bounded for bad input).
const MAX_KEY_IN_ERROR: usize = 256;

/// Error returned when a [`TraceState`] would not be valid W3C `tracestate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceStateError {
    /// A key does not match the W3C grammar (Trace Context Level 2): a lowercase letter or a
    /// digit, then up to 255 of lowercase letters, digits, `_`, `-`, `*`, `/` and `@`.
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
    /// The same key appears in more than one list-member given to
    /// [`TraceState::from_members`]. ([`TraceState::from_members_keep_first`], used for received
    /// headers, drops the repeats instead.)
    #[error("duplicate tracestate key {key:?}")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
}

/// What [`TraceState::build`] does with a key it has already seen.
#[derive(Clone, Copy)]
enum Duplicates {
    /// Fail with [`TraceStateError::DuplicateKey`].
    Reject,
    /// Keep the first member, drop the later one.
    KeepFirst,
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
/// Keys follow the Trace Context Level 2 grammar,
/// `key = (lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@")`: `@` is an
/// ordinary key character (anywhere but first), so the Level 1 multi-tenant form
/// `tenant@system` is just one kind of valid key, with no separate length limits.
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
    /// For a list that arrived in a header, where a repeated key is the sender's fault and
    /// should not cost the whole list, use [`from_members_keep_first`](Self::from_members_keep_first).
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
        Self::build(members, Duplicates::Reject)
    }

    /// Builds a trace state like [`from_members`](Self::from_members), except that a repeated
    /// key keeps its first (left-most) member and later members with that key are dropped.
    ///
    /// This is how a received `tracestate` is handled. W3C Trace Context allows one entry per
    /// key, the left-most being the newest position, and makes uniqueness the duty of whoever
    /// adds an entry; a participant that receives duplicates may pass them on or drop all but
    /// one, and must not discard the list for it (the W3C suite's
    /// `test_tracestate_duplicated_keys`). Keeping the first occurrence keeps the newest entry
    /// and leaves the result free of duplicates, as a `TraceState` always is.
    ///
    /// Dropped members are still validated, and still count towards the 32-member limit of
    /// the list they came in.
    ///
    /// ```
    /// use otlp_model::TraceState;
    ///
    /// let state = TraceState::from_members_keep_first([("foo", "1"), ("bar", "2"), ("foo", "3")])?;
    /// assert_eq!(state.to_string(), "foo=1,bar=2");
    /// # Ok::<(), otlp_model::TraceStateError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TraceStateError::InvalidKey`] or [`TraceStateError::InvalidValue`] for the first
    /// member (kept or not) that breaks the W3C grammar, and
    /// [`TraceStateError::TooManyMembers`] for more than 32 members given (the iterator is not
    /// read past the 33rd). Never [`TraceStateError::DuplicateKey`].
    pub fn from_members_keep_first<I, K, V>(members: I) -> Result<Self, TraceStateError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::build(members, Duplicates::KeepFirst)
    }

    fn build<I, K, V>(members: I, duplicates: Duplicates) -> Result<Self, TraceStateError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out: Vec<Member> = Vec::new();
        for (given, (key, value)) in members.into_iter().enumerate() {
            if given == MAX_MEMBERS {
                return Err(TraceStateError::TooManyMembers { max: MAX_MEMBERS });
            }
            let member = Member::new(key.as_ref(), value.as_ref())?;
            if out.iter().any(|m| m.key == member.key) {
                match duplicates {
                    Duplicates::Reject => {
                        return Err(TraceStateError::DuplicateKey {
                            key: member.key.into(),
                        });
                    }
                    Duplicates::KeepFirst => continue,
                }
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

/// W3C `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
fn is_key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
}

/// W3C Trace Context Level 2 `key = (lcalpha / DIGIT) 0*255(keychar)`.
///
/// Level 1 had two forms, `simple-key` (first character `lcalpha`, no `@`) and
/// `multi-tenant-key = tenant-id "@" system-id` (at most 241 + 1 + 14 characters); both are
/// subsets of this rule, so every key valid before stays valid.
fn is_valid_key(key: &str) -> bool {
    match key.as_bytes().split_first() {
        Some((&head, tail)) => {
            key.len() <= MAX_KEY_LEN
                && (head.is_ascii_lowercase() || head.is_ascii_digit())
                && tail.iter().all(|&c| is_key_char(c))
        }
        None => false,
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
    fn key_boundaries() {
        for ok in [
            "a", "z", "0", "9", "a0", "0a", "9z", "a_-*/@", "abc/def", "a1*2_3-4",
        ] {
            assert!(is_valid_key(ok), "{ok:?}");
        }
        let k255 = format!("a{}", "b".repeat(254));
        let k256 = format!("a{}", "b".repeat(255));
        let k257 = format!("a{}", "b".repeat(256));
        assert_eq!(k256.len(), 256);
        assert!(is_valid_key(&k255));
        assert!(is_valid_key(&k256));
        assert!(!is_valid_key(&k257));
        // The limit is on the whole key, whatever it holds.
        let at256 = format!("0{}", "@".repeat(255));
        assert!(is_valid_key(&at256));
        assert!(!is_valid_key(&format!("{at256}@")));
        for bad in [
            "", "A", "_a", "-a", "*", "*a", "/a", "@", "@a", "aB", "a b", "a=b", "a,b", "a.b", "é",
            "aé", "a\0", " a", "a ", "a\t",
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
    fn at_sign_keys() {
        // Level 2: `@` is an ordinary key character anywhere but first.
        for ok in [
            "t@s",
            "0@s",
            "9t@s9",
            "tenant_-*/@sys_-*/",
            "a@b0",
            "t@",
            "foo@",
            "t@0s",
            "t@_s",
            "t@s@x",
            "foo@bar@baz",
            "t@@s",
            "foo@@bar",
            "a@@",
            "a@-",
            "0@",
            "a/@*",
        ] {
            assert!(is_valid_key(ok), "{ok:?}");
        }
        for bad in [
            "@", "@s", "@foo", "@@", "T@s", "t@S", "_t@s", "*@s", "t@s.x", "t@ s",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn level_1_multi_tenant_keys_stay_valid() {
        // Everything the Level 1 `tenant@system` rule accepted (tenant up to 241 characters,
        // system up to 14) is still a valid key, and so are the lengths it refused, as long as
        // the whole key fits in 256.
        let t241 = format!("t{}", "0".repeat(240));
        let s14 = format!("s{}", "1".repeat(13));
        let longest = format!("{t241}@{s14}");
        assert_eq!(longest.len(), 256);
        assert!(is_valid_key(&longest));
        assert!(is_valid_key(&format!("{t241}@s")));
        assert!(is_valid_key(&format!("t@{s14}")));
        // Level 1 rejected these (tenant of 242, system of 15); Level 2 accepts them.
        assert!(is_valid_key(&format!("t{}@s", "0".repeat(241))));
        assert!(is_valid_key(&format!("t@s{}", "1".repeat(14))));
        // Too long as a whole: 257 characters.
        assert!(!is_valid_key(&format!("{longest}x")));
        assert!(!is_valid_key(&format!("{t241}@{s14}1")));
    }

    #[test]
    fn keep_first_drops_later_duplicates() {
        let s = TraceState::from_members_keep_first([("a", "1"), ("b", "2"), ("a", "3")]).unwrap();
        assert_eq!(s.to_string(), "a=1,b=2");
        assert_eq!(s.get("a"), Some("1"));
        let s = TraceState::from_members_keep_first([("foo", "1"), ("foo", "1")]).unwrap();
        assert_eq!(s.to_string(), "foo=1");
        let s = TraceState::from_members_keep_first([
            ("t@s", "1"),
            ("x", "2"),
            ("t@s", "3"),
            ("x", "4"),
        ])
        .unwrap();
        assert_eq!(s.to_string(), "t@s=1,x=2");
        // Without duplicates it is `from_members`.
        let members = [("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")];
        assert_eq!(
            TraceState::from_members_keep_first(members),
            TraceState::from_members(members)
        );
        assert_eq!(
            TraceState::from_members_keep_first(Vec::<(&str, &str)>::new()),
            Ok(TraceState::new())
        );
    }

    #[test]
    fn keep_first_still_validates_dropped_members() {
        assert_eq!(
            TraceState::from_members_keep_first([("a", "1"), ("a", "x,y")]),
            Err(TraceStateError::InvalidValue { key: "a".into() })
        );
        assert_eq!(
            TraceState::from_members_keep_first([("a", "1"), ("A", "1")]),
            Err(invalid_key("A"))
        );
    }

    #[test]
    fn keep_first_counts_every_member_given() {
        // 32 members with a repeat are fine (31 kept); 33 given are too many even if one repeats.
        let mut members: Vec<(String, &str)> = (0..31).map(|i| (format!("k{i}"), "v")).collect();
        members.push(("k0".to_owned(), "w"));
        let s = TraceState::from_members_keep_first(members.iter().cloned()).unwrap();
        assert_eq!(s.len(), 31);
        assert_eq!(s.get("k0"), Some("v"));
        members.push(("k1".to_owned(), "w"));
        assert_eq!(
            TraceState::from_members_keep_first(members.iter().cloned()),
            Err(TraceStateError::TooManyMembers { max: 32 })
        );
        let endless = (0..).map(|i| (format!("k{}", i % 2), "v"));
        assert_eq!(
            TraceState::from_members_keep_first(endless),
            Err(TraceStateError::TooManyMembers { max: 32 })
        );
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
            "[a-z0-9@_][a-z0-9_*/@-]{250,260}",
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
        fn keep_first_never_panics_and_has_unique_keys(
            members in proptest::collection::vec(
                (prop_oneof!["[ab@0]{1,2}".boxed(), near_key().boxed()], "[a-c]{1,2}"),
                0..40,
            )
        ) {
            match TraceState::from_members_keep_first(members.iter().map(|(k, v)| (k, v))) {
                Ok(state) => {
                    prop_assert!(members.len() <= 32);
                    let mut expected: Vec<(&str, &str)> = Vec::new();
                    for (k, v) in &members {
                        if !expected.iter().any(|(ek, _)| *ek == k.as_str()) {
                            expected.push((k, v));
                        }
                    }
                    let got: Vec<(&str, &str)> = state.iter().collect();
                    prop_assert_eq!(got, expected);
                }
                Err(TraceStateError::TooManyMembers { .. }) => prop_assert!(members.len() > 32),
                Err(TraceStateError::DuplicateKey { .. }) => prop_assert!(false, "never a duplicate error"),
                Err(_) => prop_assert!(members.iter().any(|(k, v)| !is_valid_key(k) || !is_valid_value(v))),
            }
        }

        #[test]
        fn key_check_matches_the_abnf(key in near_key()) {
            let b = key.as_bytes();
            let expected = !b.is_empty()
                && b.len() <= 256
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && b.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@'));
            prop_assert_eq!(is_valid_key(&key), expected);
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
