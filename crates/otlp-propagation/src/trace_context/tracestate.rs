//! The W3C `tracestate` header: parsing (optional whitespace, empty members, several header
//! lines) onto [`TraceState`], and formatting with the W3C truncation rules.

use otlp_model::{TraceState, TraceStateError};

/// Most list-members a `tracestate` may carry.
pub const TRACESTATE_MAX_MEMBERS: usize = 32;

/// The combined header length W3C asks every vendor to propagate; longer values are truncated
/// on inject by [`format_tracestate`].
pub const TRACESTATE_MAX_LEN: usize = 512;

/// List-members longer than this (`key=value`, in characters) are the first to go when a
/// `tracestate` must be truncated.
pub const TRACESTATE_LONG_MEMBER: usize = 128;

/// Why a `tracestate` header was rejected. A propagator drops the whole `tracestate` on any of
/// these and keeps the `traceparent`, as W3C asks.
///
/// A repeated key is not among them: [`parse_tracestate`] keeps the first member for a key and
/// drops the later ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceStateParseError {
    /// A non-empty list-member has no `=`.
    #[error("tracestate list-member without '='")]
    MissingEquals,
    /// A key or value breaks the W3C grammar, or there are more than 32 list-members. (Never
    /// [`TraceStateError::DuplicateKey`].)
    #[error(transparent)]
    Invalid(#[from] TraceStateError),
}

/// Parses one or more `tracestate` header lines, combined in order as W3C asks (as if joined
/// by `,`).
///
/// Optional whitespace around members and empty members are allowed; no whitespace is allowed
/// around `=`. Each member must satisfy the W3C key and value grammar (Trace Context Level 2:
/// `(lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@")` for a key) and
/// there may be at most 32 non-empty members.
///
/// Duplicated keys: when a key appears more than once (in one line or across lines), the first
/// (left-most, newest) member is kept and the later ones are dropped, so the result never holds
/// a key twice. W3C leaves key uniqueness to whoever adds an entry and lets a receiver either
/// pass duplicates on or drop them, but not discard the list for them (the W3C suite's
/// `test_tracestate_duplicated_keys`). Dropped members must still be well-formed and still
/// count towards the 32-member limit. See [`TraceState::from_members_keep_first`].
///
/// # Errors
///
/// [`TraceStateParseError`] for the first problem found. Never panics.
///
/// ```
/// use otlp_propagation::parse_tracestate;
///
/// let state = parse_tracestate(["rojo=00f067aa0ba902b7, ,", "congo=t61rcWkgMzE"])?;
/// assert_eq!(state.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// assert_eq!(parse_tracestate(["a=1,b=2", "a=3"])?.to_string(), "a=1,b=2");
/// assert!(parse_tracestate(["A=1"]).is_err());
/// # Ok::<(), otlp_propagation::TraceStateParseError>(())
/// ```
pub fn parse_tracestate<'a, I>(lines: I) -> Result<TraceState, TraceStateParseError>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut members: Vec<(&str, &str)> = Vec::new();
    for line in lines {
        for member in line.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            if members.len() == TRACESTATE_MAX_MEMBERS {
                return Err(TraceStateError::TooManyMembers {
                    max: TRACESTATE_MAX_MEMBERS,
                }
                .into());
            }
            let (key, value) = member
                .split_once('=')
                .ok_or(TraceStateParseError::MissingEquals)?;
            members.push((key, value));
        }
    }
    Ok(TraceState::from_members_keep_first(members)?)
}

/// Formats `state` as a header value of at most `max_len` bytes (W3C asks for at least
/// [`TRACESTATE_MAX_LEN`]; pass that unless a carrier allows more).
///
/// When the full list is longer, members are dropped whole, as W3C describes: first members
/// longer than [`TRACESTATE_LONG_MEMBER`] characters, right-most first, then the right-most
/// remaining members, until the rest fits. The order of the kept members is unchanged.
///
/// ```
/// use otlp_model::TraceState;
/// use otlp_propagation::format_tracestate;
///
/// let long = "x".repeat(200);
/// let state = TraceState::from_members([("a", "1"), ("big", long.as_str()), ("b", "2")])?;
/// assert_eq!(format_tracestate(&state, 100), "a=1,b=2");
/// assert_eq!(format_tracestate(&state, 5), "a=1");
/// # Ok::<(), otlp_model::TraceStateError>(())
/// ```
#[must_use]
pub fn format_tracestate(state: &TraceState, max_len: usize) -> String {
    let lens: Vec<usize> = state.iter().map(|(k, v)| k.len() + 1 + v.len()).collect();
    let mut keep = vec![true; lens.len()];
    let total = |keep: &[bool]| -> usize {
        let (sum, count) = lens
            .iter()
            .zip(keep)
            .filter(|(_, kept)| **kept)
            .fold((0_usize, 0_usize), |(sum, count), (len, _)| {
                (sum + len, count + 1)
            });
        sum + count.saturating_sub(1)
    };
    while total(&keep) > max_len {
        let long = (0..lens.len())
            .rev()
            .find(|&i| keep[i] && lens[i] > TRACESTATE_LONG_MEMBER);
        let victim = long.or_else(|| (0..lens.len()).rev().find(|&i| keep[i]));
        match victim {
            Some(i) => keep[i] = false,
            None => break,
        }
    }
    let mut out = String::with_capacity(total(&keep));
    for ((key, value), kept) in state.iter().zip(&keep) {
        if *kept {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(lines: &[&str]) -> Result<TraceState, TraceStateParseError> {
        parse_tracestate(lines.iter().copied())
    }

    #[test]
    fn whitespace_and_empty_members() {
        let s = parse(&["foo=1 \t , \t bar=2, \t baz=3"]).unwrap();
        assert_eq!(s.to_string(), "foo=1,bar=2,baz=3");
        let s = parse(&["\t foo=1 \t"]).unwrap();
        assert_eq!(s.get("foo"), Some("1"));
        assert!(parse(&[""]).unwrap().is_empty());
        assert!(parse(&[" , ,,"]).unwrap().is_empty());
        assert!(parse(&[]).unwrap().is_empty());
        let s = parse(&["", "foo=1", ""]).unwrap();
        assert_eq!(s.to_string(), "foo=1");
        // A value may contain inner spaces.
        assert_eq!(parse(&["a=b c"]).unwrap().get("a"), Some("b c"));
    }

    #[test]
    fn lines_combine_in_order() {
        let s = parse(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]).unwrap();
        assert_eq!(s.to_string(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
    }

    #[test]
    fn invalid_members_reject_the_header() {
        for bad in [
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "@foo=1,bar=2",
            "@=1,bar=2",
            "_foo=1,bar=2",
            "*foo=1,bar=2",
            "foo=bar=baz",
            "foo=,bar=3",
            "novalue",
            "=1",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad:?}");
        }
        assert_eq!(parse(&["x"]), Err(TraceStateParseError::MissingEquals));
    }

    #[test]
    fn at_sign_anywhere_after_the_first_character() {
        for line in [
            "foo@=1,bar=2",
            "foo@@bar=1,bar=2",
            "foo@bar@baz=1,bar=2",
            "0@=1,bar=2",
            "t@0v=1,bar=2",
        ] {
            let s = parse(&[line]).unwrap();
            assert_eq!(s.get("bar"), Some("2"), "{line:?}");
            assert_eq!(s.to_string(), line);
        }
    }

    #[test]
    fn duplicated_keys_keep_the_first_member() {
        for (lines, out) in [
            (&["foo=1,foo=1"][..], "foo=1"),
            (&["foo=1,foo=2"], "foo=1"),
            (&["foo=1", "foo=1"], "foo=1"),
            (&["foo=1", "foo=2"], "foo=1"),
            (&["a=1,foo=1,b=2", "foo=2,c=3,a=4"], "a=1,foo=1,b=2,c=3"),
        ] {
            let s = parse(lines).unwrap();
            assert_eq!(s.to_string(), out, "{lines:?}");
        }
        // A later duplicate must still be well-formed.
        assert!(parse(&["foo=1,foo=bar=baz"]).is_err());
        assert!(parse(&["foo=1", "foo"]).is_err());
        // And it counts towards the limit of 32 members.
        let mut members: Vec<String> = (1..=32).map(|i| format!("bar{i:02}={i:02}")).collect();
        assert_eq!(parse(&[&members.join(",")]).unwrap().len(), 32);
        members.push("bar01=99".to_owned());
        assert_eq!(
            parse(&[&members.join(",")]),
            Err(TraceStateParseError::Invalid(
                TraceStateError::TooManyMembers { max: 32 }
            ))
        );
    }

    #[test]
    fn member_count_limit() {
        let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let ok = members[..32].join(",");
        assert_eq!(parse(&[&ok]).unwrap().len(), 32);
        let too_many = members.join(",");
        assert_eq!(
            parse(&[&too_many]),
            Err(TraceStateParseError::Invalid(
                TraceStateError::TooManyMembers { max: 32 }
            ))
        );
        // Empty members do not count.
        let with_empties = format!("{ok},,, ,");
        assert_eq!(parse(&[&with_empties]).unwrap().len(), 32);
    }

    #[test]
    fn key_length_limits() {
        let k256 = format!("{}=1", "z".repeat(256));
        let k257 = format!("{}=1", "z".repeat(257));
        assert!(parse(&["foo=1", &k256]).is_ok());
        assert!(parse(&["foo=1", &k257]).is_err());
        // Level 2 has no separate tenant/system limits, only 256 for the whole key.
        let tenant_ok = format!("{}@{}=1", "t".repeat(241), "v".repeat(14));
        let tenant_long = format!("{}@v=1", "t".repeat(242));
        let system_long = format!("t@{}=1", "v".repeat(15));
        let at_256 = format!("{}@{}=1", "t".repeat(200), "v".repeat(55));
        let at_257 = format!("{}@{}=1", "t".repeat(200), "v".repeat(56));
        for ok in [&tenant_ok, &tenant_long, &system_long, &at_256] {
            assert!(parse(&["foo=1", ok]).is_ok(), "{ok}");
        }
        assert!(parse(&["foo=1", &at_257]).is_err());
        let digit_first = format!("0{}=1", "z".repeat(255));
        assert!(parse(&[&digit_first]).is_ok());
    }

    #[test]
    fn all_allowed_characters() {
        let key: String = ('a'..='z')
            .chain('0'..='9')
            .chain("_-*/@".chars())
            .collect();
        let value: String = (0x20u8..=0x2B)
            .chain(0x2D..=0x3C)
            .chain(0x3E..=0x7E)
            .map(char::from)
            .collect();
        let s = parse(&[&format!("{key}={value}")]).unwrap();
        assert_eq!(s.get(&key), Some(value.as_str()));
        let vendor_key = format!("{key}@a-z0-9_-*/");
        let s = parse(&[&format!("{vendor_key}={value}")]).unwrap();
        assert_eq!(s.get(&vendor_key), Some(value.as_str()));
    }

    #[test]
    fn truncation_drops_long_members_first_then_from_the_right() {
        let long = "v".repeat(130);
        let state = TraceState::from_members([
            ("a", "1"),
            ("long1", long.as_str()),
            ("b", "2"),
            ("long2", long.as_str()),
            ("c", "3"),
        ])
        .unwrap();
        let full = state.to_string();
        assert_eq!(format_tracestate(&state, 512), full);
        // Dropping the right-most long member is enough.
        let one_long = format_tracestate(&state, full.len() - 1);
        assert_eq!(one_long, format!("a=1,long1={long},b=2,c=3"));
        // Then the other long member, before any short one.
        assert_eq!(format_tracestate(&state, one_long.len() - 1), "a=1,b=2,c=3");
        // Then from the right.
        assert_eq!(format_tracestate(&state, 10), "a=1,b=2");
        assert_eq!(format_tracestate(&state, 3), "a=1");
        assert_eq!(format_tracestate(&state, 2), "");
        assert_eq!(format_tracestate(&TraceState::new(), 0), "");
    }

    #[test]
    fn truncation_at_512_keeps_member_order() {
        // 32 members of 19 characters make 32 * 19 + 31 = 639 bytes.
        let values: Vec<String> = (0..32).map(|i| format!("{i:0>15}")).collect();
        let members: Vec<(String, &str)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("k{i:02}"), v.as_str()))
            .collect();
        let state = TraceState::from_members(members).unwrap();
        let out = format_tracestate(&state, TRACESTATE_MAX_LEN);
        assert!(out.len() <= 512);
        // 25 members: 25 * 19 + 24 = 499; 26 would be 519.
        assert_eq!(out.split(',').count(), 25);
        assert!(out.starts_with("k00="));
        assert!(out.ends_with(&format!("k24={}", values[24])));
    }

    proptest! {
        #[test]
        fn format_parse_identity(
            members in proptest::collection::btree_map("[a-z0-9][a-z0-9_*/@-]{0,10}(@[a-z][a-z0-9]{0,5})?", "[!-+\\--<>-~]([ -+\\--<>-~]{0,20}[!-+\\--<>-~])?", 0..=32)
        ) {
            let state = TraceState::from_members(members.iter()).unwrap();
            let text = format_tracestate(&state, usize::MAX);
            let parsed = parse(&[&text]).unwrap();
            prop_assert_eq!(&parsed, &state);
            prop_assert_eq!(format_tracestate(&parsed, usize::MAX), text);
        }

        #[test]
        fn truncated_output_parses_and_fits(
            members in proptest::collection::btree_map("[a-z]{1,8}", "[a-z0-9]{1,200}", 0..=32),
            max in 0usize..700,
        ) {
            let state = TraceState::from_members(members.iter()).unwrap();
            let text = format_tracestate(&state, max);
            prop_assert!(text.len() <= max);
            let parsed = parse(&[&text]).unwrap();
            // Kept members are a subsequence of the original, in order.
            let original: Vec<_> = state.iter().collect();
            let mut it = original.iter();
            for member in parsed.iter() {
                prop_assert!(it.any(|m| *m == member));
            }
        }

        #[test]
        fn parsed_keys_are_unique(
            members in proptest::collection::vec(("[a-c@]{1,2}", "[0-9]{1,2}"), 0..=32),
            split in 0usize..=32,
        ) {
            let text: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let split = split.min(text.len());
            let (a, b) = (text[..split].join(","), text[split..].join(","));
            match parse(&[&a, &b]) {
                Ok(state) => {
                    let keys: Vec<&str> = state.iter().map(|(k, _)| k).collect();
                    let mut unique = keys.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    prop_assert_eq!(unique.len(), keys.len());
                    for (k, v) in &members {
                        let first = members.iter().find(|(fk, _)| fk == k).map(|(_, fv)| fv.as_str());
                        prop_assert_eq!(state.get(k), first, "{}={}", k, v);
                    }
                }
                // Only keys starting with `@` are invalid here.
                Err(_) => prop_assert!(members.iter().any(|(k, _)| k.starts_with('@'))),
            }
        }

        #[test]
        fn parse_never_panics(lines in proptest::collection::vec(any::<String>(), 0..4)) {
            let _ = parse_tracestate(lines.iter().map(String::as_str));
        }
    }
}
