//! OTLP timestamps (nanoseconds since the Unix epoch) as calendar text: RFC 3339, and Go's
//! `time.Time.String()` as otelcol prints them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Calendar fields of a UTC time: (year, month, day, hour, minute, second, nanosecond).
pub fn utc_fields(unix_nanos: u64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = (unix_nanos / 1_000_000_000) as i64;
    let nanos = (unix_nanos % 1_000_000_000) as u32;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (
        y,
        mo,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
        nanos,
    )
}

/// Nanoseconds since the Unix epoch now.
pub fn now_unix_nanos() -> u64 {
    system_time_nanos(SystemTime::now())
}

/// Nanoseconds since the Unix epoch of `time` (0 before the epoch, saturating far after).
pub fn system_time_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// RFC 3339 in UTC with nanoseconds: `2024-05-01T12:00:00.000000123Z`.
pub fn rfc3339(unix_nanos: u64) -> String {
    let (y, mo, d, h, mi, s, n) = utc_fields(unix_nanos);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{n:09}Z")
}

/// Go's `time.Time.String()` in UTC, as otelcol's debug exporter prints timestamps:
/// `2024-05-01 12:00:00.000000123 +0000 UTC`.
pub fn go_time(unix_nanos: u64) -> String {
    let (y, mo, d, h, mi, s, n) = utc_fields(unix_nanos);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{n:09} +0000 UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(1_581_452_772_000_000_321),
            "2020-02-11T20:26:12.000000321Z"
        );
        assert_eq!(
            go_time(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000000 +0000 UTC"
        );
        assert_eq!(utc_fields(4_102_444_799_000_000_000).0, 2099);
    }
}
