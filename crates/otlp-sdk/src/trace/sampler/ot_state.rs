//! Reading and editing the OpenTelemetry `ot` member of a W3C trace state.
//!
//! `trace/tracestate-handling.md`: every OpenTelemetry value lives in the one `ot` list-member,
//! as `key:value` sub-keys separated by `;` (`ot=th:8;rv:6e6d1a75832a2f`); setting a sub-key
//! must keep the others (their order need not be kept). If the updated `ot` value would exceed
//! the W3C limit of 256 characters, the update is abandoned.
//!
//! Parsing is lenient, so that no incoming value can make a sampler fail: each `;`-separated
//! segment is trimmed of ASCII whitespace, empty segments are dropped, a segment without `:`
//! is a key with an empty value, and the first segment with a given key wins. Segments other
//! than the one being edited are written back as read.

use otlp_model::TraceState;

use super::threshold::Threshold;

/// The OpenTelemetry trace state member key.
pub(crate) const OT_KEY: &str = "ot";
/// The rejection threshold sub-key.
pub(crate) const THRESHOLD_KEY: &str = "th";
/// The explicit randomness sub-key.
pub(crate) const RANDOMNESS_KEY: &str = "rv";

/// The non-empty, trimmed `;`-separated segments of an `ot` value.
fn segments(ot: &str) -> impl Iterator<Item = &str> {
    ot.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// The key of one segment: what comes before the first `:` (the whole segment without one).
fn segment_key(segment: &str) -> &str {
    segment.split_once(':').map_or(segment, |(key, _)| key)
}

/// The value of sub-key `key` of the `ot` member: the first segment with that key.
pub(crate) fn sub_value<'a>(state: &'a TraceState, key: &str) -> Option<&'a str> {
    let ot = state.get(OT_KEY)?;
    segments(ot).find_map(|segment| match segment.split_once(':') {
        Some((k, value)) if k == key => Some(value),
        _ => None,
    })
}

/// Whether the `ot` member has a `th` sub-key (valid or not).
pub(crate) fn has_threshold(state: &TraceState) -> bool {
    state
        .get(OT_KEY)
        .is_some_and(|ot| segments(ot).any(|s| segment_key(s) == THRESHOLD_KEY))
}

/// `state` with the `ot` member's `th` sub-key set to `threshold`, or erased when `threshold` is
/// `None` or [`Threshold::NEVER_SAMPLE`]. Other sub-keys and members are kept; a changed `ot`
/// member moves to the front (W3C: a vendor's updated entry goes left-most); `th` is written
/// as the first sub-key.
///
/// If the new `ot` value would break the W3C value rules (more than 256 characters), the
/// threshold is erased instead: a missing threshold means "unknown probability", which is
/// always a correct statement, while a stale one would be wrong.
pub(crate) fn with_threshold(state: &TraceState, threshold: Option<Threshold>) -> TraceState {
    let others: Vec<&str> = state
        .get(OT_KEY)
        .map(|ot| {
            segments(ot)
                .filter(|s| segment_key(s) != THRESHOLD_KEY)
                .collect()
        })
        .unwrap_or_default();
    if let Some(th) = threshold.and_then(Threshold::to_th) {
        let mut value = format!("{THRESHOLD_KEY}:{th}");
        for segment in &others {
            value.push(';');
            value.push_str(segment);
        }
        if let Ok(updated) = state.insert(OT_KEY, &value) {
            return updated;
        }
    }
    if !has_threshold(state) {
        return state.clone();
    }
    if others.is_empty() {
        return state.remove(OT_KEY);
    }
    // Trimmed, non-empty segments of a valid value, joined by `;`: a valid value no longer
    // than the original, so this insert succeeds; if it somehow did not, dropping the whole
    // member still removes the threshold.
    state
        .insert(OT_KEY, &others.join(";"))
        .unwrap_or_else(|_| state.remove(OT_KEY))
}
