//! Go durations (`250ms`, `1m30s`, `0`) in the Kafka settings, as otelcol writes them; a bare
//! integer is nanoseconds, as Go's configuration decoder reads it.

use std::time::Duration;

use serde::de::{self, Visitor};

/// Parses a Go duration: decimal numbers each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`); a bare `0` is zero; negative durations are refused.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
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
    let mut seconds = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration \"{text}\""))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "invalid duration \"{text}\": unknown unit \"{unit}\""
                ));
            }
        };
        seconds += value * scale;
        rest = next;
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration \"{text}\" out of range"))
}

struct GoDuration;

impl<'de> Visitor<'de> for GoDuration {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a duration such as 250ms or 10s")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Duration, E> {
        Ok(Duration::from_nanos(nanos))
    }

    fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Duration, E> {
        u64::try_from(nanos)
            .map(Duration::from_nanos)
            .map_err(|_| E::custom(format!("negative duration {nanos}")))
    }
}

/// Formats a duration the way Go prints simple ones: `10s`, `250ms`, `1500us`, `0s`.
pub(crate) fn format(duration: Duration) -> String {
    if duration.is_zero() {
        "0s".to_owned()
    } else if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else if duration.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", duration.as_millis())
    } else if duration.subsec_nanos().is_multiple_of(1_000) {
        format!("{}us", duration.as_micros())
    } else {
        format!("{}ns", duration.as_nanos())
    }
}

/// `#[serde(with = "go_duration")]` for a [`Duration`] field: a Go duration string, or
/// integer nanoseconds.
pub mod go_duration {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    /// Reads a Go duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(super::GoDuration)
    }

    /// Writes it back (`10s`, `250ms`).
    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(*duration))
    }
}

/// `#[serde(with = "go_duration_opt")]` for an `Option<Duration>` field (`null` is `None`).
pub mod go_duration_opt {
    use std::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    struct Optional;

    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Duration>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration such as 250ms or 10s, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::go_duration::deserialize(d).map(Some)
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            super::GoDuration.visit_str(text).map(Some)
        }
        fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Self::Value, E> {
            super::GoDuration.visit_u64(nanos).map(Some)
        }
        fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Self::Value, E> {
            super::GoDuration.visit_i64(nanos).map(Some)
        }
    }

    /// Reads an optional Go duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        deserializer.deserialize_option(Optional)
    }

    /// Writes it back (`null` for `None`).
    pub fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(d) => serializer.serialize_str(&super::format(*d)),
            None => serializer.serialize_none(),
        }
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
