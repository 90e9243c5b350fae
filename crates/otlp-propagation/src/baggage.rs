//! W3C Baggage: the [`Baggage`] type, the `baggage` header codec and [`BaggagePropagator`].

use core::fmt;
use std::sync::Arc;

use crate::carrier::{Extractor, Injector};
use crate::context::Context;
use crate::percent;
use crate::propagator::TextMapPropagator;

/// The header name.
pub const BAGGAGE_HEADER: &str = "baggage";

/// Most list-members a [`Baggage`] holds and a `baggage` header carries.
pub const BAGGAGE_MAX_MEMBERS: usize = 180;

/// Longest `baggage` header value, in bytes, that a [`Baggage`] formats to.
pub const BAGGAGE_MAX_LEN: usize = 8192;

/// Error returned when a change would break the W3C Baggage grammar or limits. The
/// [`Baggage`] is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaggageError {
    /// A key (of a member or of a property) is not an HTTP token: one or more of
    /// `A-Z a-z 0-9 ! # $ % & ' * + - . ^ _ ` | ~`.
    #[error("invalid baggage key {key:?}: keys must be HTTP tokens")]
    InvalidKey {
        /// The rejected key, cut to at most 64 bytes.
        key: String,
    },
    /// The change would make more than [`BAGGAGE_MAX_MEMBERS`] members.
    #[error("too many baggage members: at most {max} are allowed")]
    TooManyMembers {
        /// The limit, 180.
        max: usize,
    },
    /// The formatted header would be longer than [`BAGGAGE_MAX_LEN`] bytes.
    #[error("baggage header would exceed {max} bytes")]
    TooLarge {
        /// The limit, 8192.
        max: usize,
    },
}

/// One property of a baggage member: `;key` or `;key=value`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BaggageProperty {
    key: String,
    value: Option<String>,
}

impl BaggageProperty {
    /// A property with a key only (`;key`).
    ///
    /// # Errors
    ///
    /// [`BaggageError::InvalidKey`] if `key` is not an HTTP token.
    pub fn new(key: &str) -> Result<Self, BaggageError> {
        check_key(key)?;
        Ok(Self {
            key: key.to_owned(),
            value: None,
        })
    }

    /// A property with a key and a value (`;key=value`); the value is any text and is
    /// percent-encoded on the wire.
    ///
    /// # Errors
    ///
    /// [`BaggageError::InvalidKey`] if `key` is not an HTTP token.
    pub fn with_value(key: &str, value: &str) -> Result<Self, BaggageError> {
        check_key(key)?;
        Ok(Self {
            key: key.to_owned(),
            value: Some(value.to_owned()),
        })
    }

    /// The key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The decoded value, if the property has one.
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    fn encoded_len(&self) -> usize {
        1 + self.key.len()
            + self
                .value
                .as_deref()
                .map_or(0, |v| 1 + percent::encoded_len(v, is_baggage_octet))
    }
}

/// One baggage member: a key, its decoded value and its properties.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BaggageEntry {
    key: String,
    value: String,
    properties: Vec<BaggageProperty>,
}

impl BaggageEntry {
    /// The key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The decoded value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The properties, in header order.
    #[must_use]
    pub fn properties(&self) -> &[BaggageProperty] {
        &self.properties
    }

    /// Length of `key=value;props` on the wire.
    fn encoded_len(&self) -> usize {
        self.key.len()
            + 1
            + percent::encoded_len(&self.value, is_baggage_octet)
            + self
                .properties
                .iter()
                .map(BaggageProperty::encoded_len)
                .sum::<usize>()
    }

    fn write(&self, out: &mut String) {
        out.push_str(&self.key);
        out.push('=');
        percent::encode_into(out, &self.value, is_baggage_octet);
        for property in &self.properties {
            out.push(';');
            out.push_str(&property.key);
            if let Some(value) = &property.value {
                out.push('=');
                percent::encode_into(out, value, is_baggage_octet);
            }
        }
    }
}

/// W3C Baggage: user-defined key/value pairs (with optional properties) that travel with a
/// request.
///
/// Keys are HTTP tokens; values are any text, percent-encoded on the wire. Members keep their
/// insertion order; inserting an existing key replaces its value in place. A `Baggage` never
/// holds more than [`BAGGAGE_MAX_MEMBERS`] members or more than formats to
/// [`BAGGAGE_MAX_LEN`] bytes, so injecting it never has to drop anything. Cloning is a
/// reference-count increment; the first change after a clone copies.
///
/// ```
/// use otlp_propagation::{parse_baggage, Baggage, BaggageProperty};
///
/// let mut baggage = Baggage::new();
/// baggage.insert("user.id", "alice smith")?;
/// baggage.insert_with_properties("tenant", "acme", vec![BaggageProperty::new("internal")?])?;
/// assert_eq!(baggage.to_string(), "user.id=alice%20smith,tenant=acme;internal");
///
/// let parsed = parse_baggage(["user.id = alice%20smith , tenant=acme;internal"]);
/// assert_eq!(parsed, baggage);
/// assert_eq!(parsed.get("user.id"), Some("alice smith"));
/// # Ok::<(), otlp_propagation::BaggageError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Baggage {
    /// `None` for no members, so that the common empty baggage never allocates.
    entries: Option<Arc<Vec<BaggageEntry>>>,
    /// Length of the formatted header, kept up to date by every change.
    encoded_len: usize,
}

impl Baggage {
    /// Empty baggage. Does not allocate.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            entries: None,
            encoded_len: 0,
        }
    }

    /// The number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slice().len()
    }

    /// `true` when there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slice().is_empty()
    }

    /// The decoded value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(BaggageEntry::value)
    }

    /// The member for `key`, with its properties.
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&BaggageEntry> {
        self.slice().iter().find(|e| e.key == key)
    }

    /// The members, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &BaggageEntry> + '_ {
        self.slice().iter()
    }

    /// Sets `key` to `value` with no properties, replacing any previous member with that key
    /// (in place).
    ///
    /// # Errors
    ///
    /// [`BaggageError::InvalidKey`], [`BaggageError::TooManyMembers`] or
    /// [`BaggageError::TooLarge`]; the baggage is unchanged then.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), BaggageError> {
        self.insert_with_properties(key, value, Vec::new())
    }

    /// Sets `key` to `value` with `properties`, replacing any previous member with that key
    /// (in place).
    ///
    /// # Errors
    ///
    /// As for [`insert`](Self::insert).
    pub fn insert_with_properties(
        &mut self,
        key: &str,
        value: &str,
        properties: Vec<BaggageProperty>,
    ) -> Result<(), BaggageError> {
        check_key(key)?;
        self.insert_entry(BaggageEntry {
            key: key.to_owned(),
            value: value.to_owned(),
            properties,
        })
    }

    /// Removes the member for `key` and returns it.
    pub fn remove(&mut self, key: &str) -> Option<BaggageEntry> {
        let index = self.slice().iter().position(|e| e.key == key)?;
        let entries = Arc::make_mut(self.entries.as_mut()?);
        let removed = entries.remove(index);
        let separator = usize::from(!entries.is_empty());
        self.encoded_len = self
            .encoded_len
            .saturating_sub(removed.encoded_len() + separator);
        if entries.is_empty() {
            self.entries = None;
        }
        Some(removed)
    }

    /// The `baggage` header value (empty for empty baggage).
    #[must_use]
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len);
        for (i, entry) in self.slice().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            entry.write(&mut out);
        }
        out
    }

    /// Adds every member of `other` whose key is not present yet, as long as the limits allow
    /// (members that do not fit are skipped whole).
    pub fn merge_missing(&mut self, other: &Baggage) {
        for entry in other.iter() {
            if self.entry(&entry.key).is_none() {
                let _ = self.insert_entry(entry.clone());
            }
        }
    }

    fn insert_entry(&mut self, entry: BaggageEntry) -> Result<(), BaggageError> {
        let new_len = entry.encoded_len();
        let existing = self.slice().iter().position(|e| e.key == entry.key);
        let total = match existing {
            Some(i) => {
                let old = self.slice().get(i).map_or(0, BaggageEntry::encoded_len);
                self.encoded_len - old + new_len
            }
            None => {
                if self.len() >= BAGGAGE_MAX_MEMBERS {
                    return Err(BaggageError::TooManyMembers {
                        max: BAGGAGE_MAX_MEMBERS,
                    });
                }
                self.encoded_len + new_len + usize::from(!self.is_empty())
            }
        };
        if total > BAGGAGE_MAX_LEN {
            return Err(BaggageError::TooLarge {
                max: BAGGAGE_MAX_LEN,
            });
        }
        let entries = Arc::make_mut(self.entries.get_or_insert_with(Default::default));
        match existing.and_then(|i| entries.get_mut(i)) {
            Some(slot) => *slot = entry,
            None => entries.push(entry),
        }
        self.encoded_len = total;
        Ok(())
    }

    fn slice(&self) -> &[BaggageEntry] {
        self.entries.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl fmt::Display for Baggage {
    /// The `baggage` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

impl fmt::Debug for Baggage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|e| (&e.key, &e.value)))
            .finish()
    }
}

impl<'a> IntoIterator for &'a Baggage {
    type Item = &'a BaggageEntry;
    type IntoIter = core::slice::Iter<'a, BaggageEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.slice().iter()
    }
}

/// Parses one or more `baggage` header lines (combined in order) leniently: this never fails.
///
/// Optional whitespace around keys, `=`, values, `;` and properties is ignored; values and
/// property values are percent-decoded (invalid UTF-8 becomes U+FFFD, a `%` that starts no
/// escape is kept). A member whose key is not an HTTP token is skipped, as is a property
/// with such a key; a repeated key keeps its last value. Members beyond
/// [`BAGGAGE_MAX_MEMBERS`] or [`BAGGAGE_MAX_LEN`] are skipped whole, never cut.
#[must_use]
pub fn parse_baggage<'a, I>(lines: I) -> Baggage
where
    I: IntoIterator<Item = &'a str>,
{
    let mut baggage = Baggage::new();
    for line in lines {
        baggage.merge_line(line);
    }
    baggage
}

fn parse_member(member: &str) -> Option<BaggageEntry> {
    let mut parts = member.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let key = trim_ows(key);
    if !is_token(key) {
        return None;
    }
    let properties = parts
        .filter_map(|property| {
            let property = trim_ows(property);
            let (key, value) = match property.split_once('=') {
                Some((k, v)) => (
                    trim_ows(k),
                    Some(percent::decode(trim_ows(v), false).into_owned()),
                ),
                None => (property, None),
            };
            is_token(key).then(|| BaggageProperty {
                key: key.to_owned(),
                value,
            })
        })
        .collect();
    Some(BaggageEntry {
        key: key.to_owned(),
        value: percent::decode(trim_ows(value), false).into_owned(),
        properties,
    })
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// RFC 9110 `token = 1*tchar`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn check_key(key: &str) -> Result<(), BaggageError> {
    if is_token(key) {
        Ok(())
    } else {
        let mut end = key.len().min(64);
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        Err(BaggageError::InvalidKey {
            key: key.get(..end).unwrap_or_default().to_owned(),
        })
    }
}

/// The bytes written unencoded: W3C `baggage-octet` (printable ASCII except space, `"`, `,`,
/// `;` and `\`) minus `=`. The specification allows a bare `=` in a value, but some decoders
/// (opentelemetry-rust 0.33) cut the value at it, and an escaped `=` decodes everywhere.
fn is_baggage_octet(c: u8) -> bool {
    c != b'=' && matches!(c, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// The W3C Baggage propagator: the `baggage` header.
///
/// Extract combines every `baggage` header line and adds the members the context does not
/// have yet; inject writes the context's baggage when it is not empty.
#[derive(Clone, Copy, Debug, Default)]
pub struct BaggagePropagator;

impl BaggagePropagator {
    /// The propagator.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }

    /// Reads the baggage from `extractor` (empty if absent).
    #[must_use]
    pub fn extract_baggage(&self, extractor: &dyn Extractor) -> Baggage {
        let mut baggage = Baggage::new();
        extractor.for_each_value(BAGGAGE_HEADER, &mut |line| baggage.merge_line(line));
        baggage
    }
}

impl Baggage {
    /// Parses one more header line into `self` (a repeated key replaces the earlier value).
    fn merge_line(&mut self, line: &str) {
        for member in line.split(',') {
            if let Some(entry) = parse_member(member) {
                // A member that breaks a limit is dropped whole.
                let _ = self.insert_entry(entry);
            }
        }
    }
}

impl TextMapPropagator for BaggagePropagator {
    fn fields(&self) -> &[&'static str] {
        &[BAGGAGE_HEADER]
    }

    fn extract_into(&self, extractor: &dyn Extractor, cx: &mut Context) {
        let baggage = self.extract_baggage(extractor);
        if cx.baggage().is_empty() {
            cx.set_baggage(baggage);
        } else {
            cx.baggage_mut().merge_missing(&baggage);
        }
    }

    fn inject(&self, cx: &Context, injector: &mut dyn Injector) {
        if !cx.baggage().is_empty() {
            injector.set(BAGGAGE_HEADER, cx.baggage().to_header_value());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Baggage {
        parse_baggage([s])
    }

    #[test]
    fn spec_examples() {
        let b = parse("key1=value1,key2=value2");
        assert_eq!(b.get("key1"), Some("value1"));
        assert_eq!(b.get("key2"), Some("value2"));

        let b = parse(
            "key1 = value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        );
        assert_eq!(b.len(), 3);
        let e1 = b.entry("key1").unwrap();
        assert_eq!(e1.value(), "value1");
        assert_eq!(
            e1.properties()
                .iter()
                .map(BaggageProperty::key)
                .collect::<Vec<_>>(),
            ["property1", "property2"]
        );
        let e3 = b.entry("key3").unwrap();
        assert_eq!(e3.properties()[0].key(), "propertyKey");
        assert_eq!(e3.properties()[0].value(), Some("propertyValue"));
        assert_eq!(
            b.to_header_value(),
            "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue"
        );

        let b = parse("userId=alice,serverNode=DF%2028,isProduction=false");
        assert_eq!(b.get("serverNode"), Some("DF 28"));
        assert_eq!(
            b.to_header_value(),
            "userId=alice,serverNode=DF%2028,isProduction=false"
        );
    }

    #[test]
    fn encoding_of_values() {
        let mut b = Baggage::new();
        b.insert("k", "a b,c;d\\e\"f%g=h/é").unwrap();
        let header = b.to_header_value();
        assert_eq!(header, "k=a%20b%2Cc%3Bd%5Ce%22f%25g%3Dh/%C3%A9");
        // A bare '=' in a value is accepted.
        assert_eq!(parse("k=a=b").get("k"), Some("a=b"));
        assert_eq!(parse(&header), b);
        // Lenient decoding: stray '%', lower-case escapes, invalid UTF-8.
        assert_eq!(parse("k=100%").get("k"), Some("100%"));
        assert_eq!(parse("k=%c3%a9").get("k"), Some("é"));
        assert_eq!(parse("k=%FF").get("k"), Some("\u{FFFD}"));
        assert_eq!(parse("k=").get("k"), Some(""));
    }

    #[test]
    fn invalid_members_are_skipped() {
        let b = parse("bad key=1,=2,noequals,good=3,k\u{e9}y=4,,  ,x=1;bad prop;p=2");
        assert_eq!(b.len(), 2);
        assert_eq!(b.get("good"), Some("3"));
        let x = b.entry("x").unwrap();
        assert_eq!(x.properties().len(), 1);
        assert_eq!(x.properties()[0].key(), "p");
        assert!(parse("").is_empty());
    }

    #[test]
    fn repeated_keys_keep_the_last_value_in_place() {
        let b = parse_baggage(["a=1,b=2", "a=3"]);
        assert_eq!(b.to_header_value(), "a=3,b=2");
    }

    #[test]
    fn insert_get_remove() {
        let mut b = Baggage::new();
        assert!(b.is_empty());
        b.insert("a", "1").unwrap();
        b.insert("b", "2").unwrap();
        b.insert("a", "10").unwrap();
        assert_eq!(b.to_string(), "a=10,b=2");
        assert_eq!(format!("{b:?}"), r#"{"a": "10", "b": "2"}"#);
        let removed = b.remove("a").unwrap();
        assert_eq!((removed.key(), removed.value()), ("a", "10"));
        assert_eq!(b.remove("a"), None);
        assert_eq!(b.to_string(), "b=2");
        assert_eq!(b.encoded_len, 3);
        b.remove("b");
        assert_eq!(b, Baggage::new());
        assert_eq!(
            b.insert("no spaces", "x"),
            Err(BaggageError::InvalidKey {
                key: "no spaces".into()
            })
        );
        assert!(BaggageProperty::new("").is_err());
        assert!(BaggageProperty::with_value("p", "v").is_ok());
        assert_eq!((&b).into_iter().count(), 0);
    }

    #[test]
    fn clones_are_independent() {
        let mut a = Baggage::new();
        a.insert("k", "v").unwrap();
        let b = a.clone();
        a.insert("k", "changed").unwrap();
        assert_eq!(b.get("k"), Some("v"));
        assert_eq!(a.get("k"), Some("changed"));
    }

    #[test]
    fn member_limit() {
        let mut b = Baggage::new();
        for i in 0..BAGGAGE_MAX_MEMBERS {
            b.insert(&format!("k{i}"), "v").unwrap();
        }
        assert_eq!(
            b.insert("one-more", "v"),
            Err(BaggageError::TooManyMembers { max: 180 })
        );
        // Replacing is still allowed at the limit.
        b.insert("k0", "w").unwrap();
        assert_eq!(b.len(), 180);

        let header: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
        let parsed = parse(&header.join(","));
        assert_eq!(parsed.len(), 180);
        assert_eq!(parsed.get("k179"), Some("v"));
        assert_eq!(parsed.get("k180"), None);
    }

    #[test]
    fn byte_limit() {
        let mut b = Baggage::new();
        let big = "x".repeat(4000);
        b.insert("a", &big).unwrap();
        b.insert("b", &big).unwrap();
        // 2 * 4002 + 1 = 8005 bytes; another 200-byte member does not fit.
        assert_eq!(
            b.insert("c", &"y".repeat(200)),
            Err(BaggageError::TooLarge { max: 8192 })
        );
        // Percent-encoding counts: 61 spaces are 183 bytes; 8005 + "," + "c=" + 183 = 8191 fits
        // (62 spaces would make 8194) ...
        assert!(b.clone().insert("c", &" ".repeat(62)).is_err());
        b.insert("c", &" ".repeat(61)).unwrap();
        assert_eq!(b.to_header_value().len(), 8191);
        // ... and a too-large replacement is refused, leaving the old value.
        assert!(b.insert("c", &" ".repeat(70)).is_err());
        assert_eq!(b.get("c").map(str::len), Some(61));
        assert!(b.to_header_value().len() <= BAGGAGE_MAX_LEN);

        // Parsing drops whole members that would not fit, and keeps later ones that do.
        let header = format!("a={big},b={big},c={},d=1", "z".repeat(300));
        let parsed = parse(&header);
        assert_eq!(parsed.get("c"), None);
        assert_eq!(parsed.get("d"), Some("1"));
    }

    #[test]
    fn merge_missing_keeps_existing_values() {
        let mut a = parse("k=1,x=2");
        a.merge_missing(&parse("k=9,y=3"));
        assert_eq!(a.to_header_value(), "k=1,x=2,y=3");
    }

    fn entry_strategy() -> impl Strategy<Value = (String, String, Vec<(String, Option<String>)>)> {
        (
            "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
            any::<String>(),
            proptest::collection::vec(("[a-z]{1,5}", proptest::option::of("[ -~é]{0,6}")), 0..3),
        )
    }

    proptest! {
        #[test]
        fn format_parse_identity(entries in proptest::collection::vec(entry_strategy(), 0..20)) {
            let mut baggage = Baggage::new();
            for (key, value, props) in &entries {
                let props = props
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => BaggageProperty::with_value(k, v),
                        None => BaggageProperty::new(k),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                baggage.insert_with_properties(key, value, props).unwrap();
            }
            let header = baggage.to_header_value();
            prop_assert_eq!(header.len(), baggage.encoded_len);
            let parsed = parse(&header);
            // Values are trimmed of spaces and tabs on parse, which the encoder never leaves bare.
            prop_assert_eq!(&parsed, &baggage);
            prop_assert_eq!(parsed.to_header_value(), header);
        }

        #[test]
        fn parse_never_panics(lines in proptest::collection::vec(any::<String>(), 0..3)) {
            let b = parse_baggage(lines.iter().map(String::as_str));
            prop_assert!(b.len() <= BAGGAGE_MAX_MEMBERS);
            prop_assert!(b.to_header_value().len() <= BAGGAGE_MAX_LEN);
        }
    }
}
