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
            return Err(TraceStateError::InvalidValue { key: key.to_owned() });
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
        Some((head, tail)) => part.len() <= max && first(head) && tail.iter().all(|&c| is_key_char(c)),
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
