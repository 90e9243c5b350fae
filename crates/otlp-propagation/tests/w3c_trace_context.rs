//! The W3C Trace Context test suite's cases (w3c/trace-context `test/test.py`), replayed
//! through `TraceContextPropagator` on each carrier: what a service must extract from the
//! harness's request headers and what its outgoing call must carry.

// Test helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use otlp_propagation::{Context, Extractor, TextMapPropagator, TraceContextPropagator};

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "1234567890123456";

/// The hop under test: extract from `headers`, make the child, inject into a fresh carrier.
fn hop(headers: &[(&str, &str)]) -> (Context, HashMap<String, String>) {
    let incoming: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    let propagator = TraceContextPropagator::new();
    let parent = propagator.extract(&incoming);
    let mut outgoing = HashMap::new();
    propagator.inject(&parent.child(), &mut outgoing);
    (parent, outgoing)
}

fn out_trace_id(out: &HashMap<String, String>) -> &str {
    let tp = out
        .get("traceparent")
        .expect("a traceparent is always sent");
    assert_eq!(tp.len(), 55, "{tp}");
    assert!(tp.starts_with("00-"));
    &tp[3..35]
}

fn tracestate(out: &HashMap<String, String>) -> Option<&str> {
    out.get("tracestate").map(String::as_str)
}

#[track_caller]
fn assert_continued(headers: &[(&str, &str)]) {
    let (parent, out) = hop(headers);
    assert!(
        parent.span_context().is_some(),
        "{headers:?} should be accepted"
    );
    assert_eq!(out_trace_id(&out), TRACE, "{headers:?}");
    assert_ne!(&out["traceparent"][36..52], PARENT, "a new parent-id");
}

#[track_caller]
fn assert_restarted(headers: &[(&str, &str)]) {
    let (parent, out) = hop(headers);
    assert!(
        parent.span_context().is_none(),
        "{headers:?} should be rejected"
    );
    assert_ne!(out_trace_id(&out), TRACE, "{headers:?}");
    assert_ne!(out_trace_id(&out), "0".repeat(32));
}

fn tp(value: &str) -> Vec<(&'static str, String)> {
    vec![("traceparent", value.to_owned())]
}

#[test]
fn both_missing_starts_a_trace() {
    let (parent, out) = hop(&[]);
    assert!(parent.span_context().is_none());
    assert_eq!(out_trace_id(&out).len(), 32);
    assert!(tracestate(&out).is_none());
}

#[test]
fn traceparent_without_tracestate() {
    assert_continued(&[("traceparent", &format!("00-{TRACE}-{PARENT}-01"))]);
}

#[test]
fn duplicated_traceparent_is_rejected() {
    assert_restarted(&[
        (
            "traceparent",
            "00-12345678901234567890123456789011-1234567890123456-01",
        ),
        ("traceparent", &format!("00-{TRACE}-{PARENT}-01")),
    ]);
}

#[test]
fn header_names() {
    for name in ["trace-parent", "trace.parent"] {
        assert_restarted(&[(name, &format!("00-{TRACE}-{PARENT}-01"))]);
    }
    for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
        assert_continued(&[(name, &format!("00-{TRACE}-{PARENT}-01"))]);
    }
}

#[test]
fn versions() {
    for value in [
        format!("00-{TRACE}-{PARENT}-01."),
        format!("00-{TRACE}-{PARENT}-01-what-the-future-will-be-like"),
        format!("cc-{TRACE}-{PARENT}-01.what-the-future-will-be-like"),
        format!("ff-{TRACE}-{PARENT}-01"),
        format!(".0-{TRACE}-{PARENT}-01"),
        format!("0.-{TRACE}-{PARENT}-01"),
        format!("000-{TRACE}-{PARENT}-01"),
        format!("0000-{TRACE}-{PARENT}-01"),
        format!("0-{TRACE}-{PARENT}-01"),
    ] {
        let headers = tp(&value);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_restarted(&headers);
    }
    for value in [
        format!("cc-{TRACE}-{PARENT}-01"),
        format!("cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"),
    ] {
        assert_continued(&[("traceparent", &value)]);
    }
}

#[test]
fn trace_ids() {
    for trace in [
        "00000000000000000000000000000000",
        ".2345678901234567890123456789012",
        "1234567890123456789012345678901.",
        "123456789012345678901234567890123",
        "1234567890123456789012345678901",
        "ABCDEF78901234567890123456789012",
    ] {
        assert_restarted(&[("traceparent", &format!("00-{trace}-{PARENT}-01"))]);
    }
}

#[test]
fn parent_ids() {
    for parent in [
        "0000000000000000",
        ".234567890123456",
        "123456789012345.",
        "12345678901234567",
        "123456789012345",
        "ABCDEF7890123456",
    ] {
        assert_restarted(&[("traceparent", &format!("00-{TRACE}-{parent}-01"))]);
    }
}

#[test]
fn trace_flags() {
    for flags in [".0", "0.", "001", "1", "0A"] {
        assert_restarted(&[("traceparent", &format!("00-{TRACE}-{PARENT}-{flags}"))]);
    }
    // Sampled and random are carried; unknown bits are zeroed on the way out.
    for (flags, out_flags) in [
        ("00", "00"),
        ("01", "01"),
        ("02", "02"),
        ("03", "03"),
        ("ff", "03"),
        ("09", "01"),
    ] {
        let (_, out) = hop(&[("traceparent", &format!("00-{TRACE}-{PARENT}-{flags}"))]);
        assert!(
            out["traceparent"].ends_with(&format!("-{out_flags}")),
            "{flags}"
        );
    }
}

#[test]
fn optional_whitespace_around_traceparent() {
    for value in [
        format!(" 00-{TRACE}-{PARENT}-01"),
        format!("\t00-{TRACE}-{PARENT}-01"),
        format!("00-{TRACE}-{PARENT}-01 "),
        format!("00-{TRACE}-{PARENT}-01\t"),
        format!("\t 00-{TRACE}-{PARENT}-01 \t"),
    ] {
        assert_continued(&[("traceparent", &value)]);
    }
}

#[test]
fn tracestate_without_traceparent_is_discarded() {
    let (_, a) = hop(&[("tracestate", "foo=1")]);
    let (_, b) = hop(&[("tracestate", "foo=1,bar=2")]);
    assert!(tracestate(&a).is_none() && tracestate(&b).is_none());
}

fn with_parent<'a>(tracestates: &[&'a str]) -> Vec<(&'static str, &'a str)> {
    let mut headers = vec![(
        "traceparent",
        "00-12345678901234567890123456789012-1234567890123456-00",
    )];
    headers.extend(tracestates.iter().map(|v| ("tracestate", *v)));
    headers
}

#[test]
fn tracestate_is_inherited() {
    let (_, out) = hop(&with_parent(&["foo=1,bar=2"]));
    assert_eq!(out_trace_id(&out), TRACE);
    assert_eq!(tracestate(&out), Some("foo=1,bar=2"));
}

#[test]
fn tracestate_header_names() {
    for name in ["trace-state", "trace.state"] {
        let (_, out) = hop(&[
            ("traceparent", &format!("00-{TRACE}-{PARENT}-00")),
            (name, "foo=1"),
        ]);
        assert!(tracestate(&out).is_none(), "{name}");
    }
    for name in ["TraceState", "TrAcEsTaTe", "TRACESTATE"] {
        let (_, out) = hop(&[
            ("traceparent", &format!("00-{TRACE}-{PARENT}-00")),
            (name, "foo=1"),
        ]);
        assert_eq!(tracestate(&out), Some("foo=1"), "{name}");
    }
}

#[test]
fn empty_tracestate_lines() {
    let (_, out) = hop(&with_parent(&[""]));
    assert_eq!(out_trace_id(&out), TRACE);
    assert!(tracestate(&out).is_none());
    for lines in [["foo=1", ""], ["", "foo=1"]] {
        let (_, out) = hop(&with_parent(&lines));
        assert_eq!(tracestate(&out), Some("foo=1"));
    }
}

#[test]
fn multiple_tracestate_lines_combine_in_order() {
    let (_, out) = hop(&with_parent(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]));
    assert_eq!(tracestate(&out), Some("foo=1,bar=2,rojo=1,congo=2,baz=3"));
}

/// W3C `test_tracestate_duplicated_keys`: a repeated key must not cost the whole tracestate;
/// the suite accepts the duplicates kept as-is or all but one dropped. We keep the first
/// (left-most) member for each key.
#[test]
fn tracestate_duplicated_keys() {
    for lines in [
        &["foo=1,foo=1"][..],
        &["foo=1,foo=2"],
        &["foo=1", "foo=1"],
        &["foo=1", "foo=2"],
    ] {
        let (parent, out) = hop(&with_parent(lines));
        let state = parent.span_context().unwrap().trace_state().clone();
        assert_eq!(out_trace_id(&out), TRACE);
        assert_eq!(state.get("foo"), Some("1"), "{lines:?}");
        assert_eq!(state.len(), 1, "{lines:?}");
        assert_eq!(tracestate(&out), Some("foo=1"), "{lines:?}");
    }
    // Other members keep their order around the dropped repeat.
    let (_, out) = hop(&with_parent(&["foo=1,bar=2", "foo=3,baz=4"]));
    assert_eq!(tracestate(&out), Some("foo=1,bar=2,baz=4"));
}

#[test]
fn tracestate_all_allowed_characters() {
    let key: String = ('a'..='z').chain('0'..='9').chain("_-*/".chars()).collect();
    let value: String = (0x20u8..=0x2B)
        .chain(0x2D..=0x3C)
        .chain(0x3E..=0x7E)
        .map(char::from)
        .collect();
    for key in [key.clone(), format!("{key}@a-z0-9_-*/")] {
        let member = format!("{key}={value}");
        let (parent, out) = hop(&with_parent(&[&member]));
        assert_eq!(
            parent.span_context().unwrap().trace_state().get(&key),
            Some(value.as_str())
        );
        assert_eq!(tracestate(&out), Some(member.as_str()));
    }
}

#[test]
fn tracestate_optional_whitespace() {
    for line in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
    ] {
        let (_, out) = hop(&with_parent(&[line]));
        assert_eq!(tracestate(&out), Some("foo=1,bar=2,baz=3"));
    }
    for line in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
        let (_, out) = hop(&with_parent(&[line]));
        assert_eq!(tracestate(&out), Some("foo=1"), "{line:?}");
    }
}

#[test]
fn tracestate_illegal_keys_and_values_discard_it() {
    for line in ["foo =1", "FOO=1", "foo.bar=1", "foo=bar=baz", "foo=,bar=3"] {
        let (_, out) = hop(&with_parent(&[line]));
        assert_eq!(out_trace_id(&out), TRACE);
        assert!(tracestate(&out).is_none(), "{line:?}");
    }
}

/// W3C `test_tracestate_key_illegal_vendor_format`, for the Level 2 key grammar
/// `(lcalpha / DIGIT) 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@")`: `@` is an
/// ordinary key character, so only a key that starts with it is illegal.
#[test]
fn tracestate_key_illegal_vendor_format() {
    let (_, out) = hop(&with_parent(&["@foo=1,bar=2"]));
    assert_eq!(out_trace_id(&out), TRACE);
    assert!(tracestate(&out).is_none());
    for line in ["foo@=1,bar=2", "foo@@bar=1,bar=2", "foo@bar@baz=1,bar=2"] {
        let (parent, out) = hop(&with_parent(&[line]));
        let state = parent.span_context().unwrap().trace_state().clone();
        assert_eq!(state.get("bar"), Some("2"), "{line:?}");
        assert_eq!(tracestate(&out), Some(line));
    }
}

#[test]
fn tracestate_member_count_limit() {
    let lines = [
        "bar01=01,bar02=02,bar03=03,bar04=04,bar05=05,bar06=06,bar07=07,bar08=08,bar09=09,bar10=10",
        "bar11=11,bar12=12,bar13=13,bar14=14,bar15=15,bar16=16,bar17=17,bar18=18,bar19=19,bar20=20",
        "bar21=21,bar22=22,bar23=23,bar24=24,bar25=25,bar26=26,bar27=27,bar28=28,bar29=29,bar30=30",
    ];
    let (parent, _) = hop(&with_parent(&[
        lines[0],
        lines[1],
        lines[2],
        "bar31=31,bar32=32",
    ]));
    let state = parent.span_context().unwrap().trace_state().clone();
    assert_eq!(state.len(), 32);
    assert_eq!(state.get("bar01"), Some("01"));
    let (parent, out) = hop(&with_parent(&[
        lines[0],
        lines[1],
        lines[2],
        "bar31=31,bar32=32,bar33=33",
    ]));
    assert!(parent.span_context().unwrap().trace_state().is_empty());
    assert!(tracestate(&out).is_none());
}

/// W3C `test_tracestate_key_length_limit`: a key of 256 characters is kept and one of 257
/// discards the tracestate; with the Level 2 grammar `@` does not split the key into parts with
/// limits of their own (Level 1 had 241 before it and 14 after).
#[test]
fn tracestate_key_length_limit() {
    let cases = [
        (format!("{}=1", "z".repeat(256)), true),
        (format!("{}=1", "z".repeat(257)), false),
        (format!("{}@{}=1", "t".repeat(241), "v".repeat(14)), true),
        (format!("{}@v=1", "t".repeat(242)), true),
        (format!("t@{}=1", "v".repeat(15)), true),
        (format!("{}@{}=1", "t".repeat(241), "v".repeat(15)), false),
        (format!("{}@=1", "t".repeat(255)), true),
        (format!("{}@=1", "t".repeat(256)), false),
    ];
    for (member, valid) in cases {
        let (parent, _) = hop(&with_parent(&["foo=1", &member]));
        let state = parent.span_context().unwrap().trace_state().clone();
        assert_eq!(state.get("foo").is_some(), valid, "{member}");
    }
}

#[test]
fn multiple_calls_share_the_trace_with_new_parent_ids() {
    let incoming = HashMap::from([("traceparent".to_owned(), format!("00-{TRACE}-{PARENT}-01"))]);
    let propagator = TraceContextPropagator::new();
    let parent = propagator.extract(&incoming);
    let mut parent_ids = std::collections::HashSet::new();
    for _ in 0..3 {
        let mut out = HashMap::new();
        propagator.inject(&parent.child(), &mut out);
        assert_eq!(out_trace_id(&out), TRACE);
        parent_ids.insert(out["traceparent"][36..52].to_owned());
    }
    assert_eq!(parent_ids.len(), 3);
}

#[test]
fn extract_works_on_every_carrier() {
    let value = format!("00-{TRACE}-{PARENT}-01");
    let map = HashMap::from([("TRACEPARENT".to_owned(), value.clone())]);
    let list = vec![("TraceParent".to_owned(), value.clone().into_bytes())];
    let carriers: Vec<&dyn Extractor> = vec![&map, &list];
    for carrier in carriers {
        let cx = TraceContextPropagator::new().extract(carrier);
        assert_eq!(cx.span_context().unwrap().trace_id().to_string(), TRACE);
    }
    #[cfg(feature = "http")]
    {
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", value.parse().unwrap());
        let cx = TraceContextPropagator::new().extract(&headers);
        assert!(cx.is_sampled());
    }
}
