//! Go durations (`200ms`, `5s`, `1m30s`, `1h`, `1.5s`, `0`), the format of every duration in
//! an otelcol configuration: parsing, printing and serde helpers. Use with
//! `#[serde(with = "otlp_transport::go_duration")]` on a `Duration` field,
//! `go_duration::option` on an `Option<Duration>` and `go_duration::list` on a
//! `Vec<Duration>`. `otlp-pipeline` re-exports it as `config::duration`; the Kafka settings
//! here use it too.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Parses a Go duration: a sequence of decimal numbers, each with a unit (`ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`), such as `1h15m` or `2.5s`; a bare `0` is zero. Negative
/// durations are refused.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if text.starts_with('-') {
        return Err(format!("negative duration \"{text}\""));
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.parse().map_err(|_| {
            format!("invalid duration \"{text}\": expected a number before the unit")
        })?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "invalid duration \"{text}\": missing unit (ns, us, ms, s, m or h)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration \"{text}\": unknown unit \"{}\"",
                    other.trim()
                ));
            }
        };
        total += value * seconds;
        rest = next;
    }
    Duration::try_from_secs_f64(total)
        .map_err(|_| format!("invalid duration \"{text}\": out of range"))
}

/// Formats a duration the way Go prints it (`1h2m3s`, `1.5s`, `200ms`, `0s`).
pub fn format(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".into();
    }
    let nanos = duration.as_nanos();
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}us", trim(nanos as f64 / 1e3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim(nanos as f64 / 1e6));
    }
    let secs = duration.as_secs();
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    let s = (secs % 60) as f64 + f64::from(duration.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

fn trim(value: f64) -> String {
    let text = format!("{value:.9}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Nanos(u64),
}

fn from_raw<E: serde::de::Error>(raw: Raw) -> Result<Duration, E> {
    match raw {
        Raw::Text(text) => parse(&text).map_err(E::custom),
        // otelcol reads a bare integer as nanoseconds; only 0 is common.
        Raw::Nanos(nanos) => Ok(Duration::from_nanos(nanos)),
    }
}

/// Deserializes a Go duration (or an integer number of nanoseconds, as Go does).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    from_raw(Raw::deserialize(deserializer)?)
}

/// Serializes as a Go duration string.
pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

/// The same for `Option<Duration>` (null or absent is `None`; add `#[serde(default)]`).
pub mod option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Deserializes an optional Go duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<super::Raw>::deserialize(deserializer)?
            .map(super::from_raw)
            .transpose()
    }

    /// Serializes an optional Go duration.
    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => super::serialize(duration, serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// The same for `Vec<Duration>` (`[2ms, 1s]`: histogram buckets and the like).
pub mod list {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Deserializes a list of Go durations.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        Vec::<super::Raw>::deserialize(deserializer)?
            .into_iter()
            .map(super::from_raw)
            .collect()
    }

    /// Serializes a list of Go durations.
    pub fn serialize<S: Serializer>(list: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        let texts: Vec<String> = list.iter().map(|d| super::format(*d)).collect();
        texts.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse("10").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("5 parsecs").is_err());
        for d in [
            Duration::ZERO,
            Duration::from_secs(10),
            Duration::from_millis(250),
        ] {
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
