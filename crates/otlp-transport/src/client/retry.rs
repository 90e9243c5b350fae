//! Exponential backoff with jitter, the retry loop's clock, and `Retry-After` parsing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::RetryConfig;

/// The time source of the retry loop: when now is, and how to wait.
///
/// The default, [`TokioClock`], uses tokio's clock, so `tokio::time::pause` applies to it.
/// A test can give the exporter a virtual clock (whose `sleep` only moves its `now`) to make
/// retry schedules instant and exact. Attempt timeouts always run on tokio's clock, since they
/// bound real network waits.
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;

    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// Tokio's clock (`tokio::time::Instant::now`, `tokio::time::sleep`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The backoff schedule of one export (cenkalti/backoff's exponential backoff, which the
/// Collector uses): each wait is the current interval spread by `± randomization_factor`,
/// after which the interval grows by `multiplier` up to `max_interval`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    current: Duration,
    max: Duration,
    multiplier: f64,
    randomization_factor: f64,
}

impl Backoff {
    pub(crate) fn new(config: &RetryConfig) -> Self {
        Backoff {
            current: config.initial_interval,
            max: config.max_interval,
            multiplier: config.multiplier,
            randomization_factor: config.randomization_factor,
        }
    }

    /// The next wait, with `random` uniform in `[0, 1)`.
    pub(crate) fn next_delay(&mut self, random: f64) -> Duration {
        let current = self.current.as_secs_f64();
        let delta = self.randomization_factor * current;
        let low = current - delta;
        let high = current + delta;
        let delay = low + random.clamp(0.0, 1.0) * (high - low);
        let grown = current * self.multiplier;
        self.current = if grown >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(grown)
        };
        Duration::try_from_secs_f64(delay.max(0.0)).unwrap_or(self.max)
    }
}

/// A uniform random number in `[0, 1)` for the jitter.
pub(crate) fn jitter() -> f64 {
    rand::random::<f64>()
}

/// Parses an HTTP `Retry-After` value: delay-seconds, or an HTTP-date (IMF-fixdate, RFC 850
/// or asctime, as RFC 9110 requires recipients to accept). A date in the past is a zero
/// delay. `None` for anything else.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Very large numbers saturate rather than fail: they are still "wait a long time".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg_attr(not(feature = "http"), allow(dead_code))]
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an HTTP-date (RFC 9110 §5.6.7) into a `SystemTime`.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    let (day_name, rest) = value.split_once([',', ' '])?;
    if !day_name.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let (day, month, year, time) = if value.as_bytes().get(day_name.len()) == Some(&b',') {
        match fields.as_slice() {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            [day, month, year, time, "GMT"] => (
                day.parse::<u32>().ok()?,
                *month,
                year.parse::<i64>().ok()?,
                *time,
            ),
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            [date, time, "GMT"] => {
                let mut parts = date.split('-');
                let day = parts.next()?.parse::<u32>().ok()?;
                let month = parts.next()?;
                let year = parts.next()?;
                if parts.next().is_some() || year.len() != 2 {
                    return None;
                }
                // RFC 9110: a two-digit year more than 50 years in the future is in the past
                // century; for a retry delay "19xx or 20xx below 70" is the same rule today.
                let year = year.parse::<i64>().ok()?;
                let year = if year < 70 { 2000 + year } else { 1900 + year };
                (day, month, year, *time)
            }
            _ => return None,
        }
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        match fields.as_slice() {
            [month, day, time, year] => (
                day.parse::<u32>().ok()?,
                *month,
                year.parse::<i64>().ok()?,
                *time,
            ),
            _ => return None,
        }
    };
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut hms = time.split(':');
    let hour = hms.next()?.parse::<u32>().ok()?;
    let minute = hms.next()?.parse::<u32>().ok()?;
    let second = hms.next()?.parse::<u32>().ok()?;
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let seconds = u64::try_from(seconds).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RetryConfig {
        RetryConfig::default()
    }

    #[test]
    fn backoff_without_jitter_grows_to_the_cap() {
        let mut backoff = Backoff::new(&config().with_randomization_factor(0.0));
        let delays: Vec<u64> = (0..8)
            .map(|_| backoff.next_delay(0.3).as_millis() as u64)
            .collect();
        assert_eq!(
            delays,
            [5000, 7500, 11250, 16875, 25312, 30000, 30000, 30000]
        );
    }

    #[test]
    fn backoff_jitter_spans_the_randomization_factor() {
        let mut low = Backoff::new(&config());
        let mut high = Backoff::new(&config());
        assert_eq!(low.next_delay(0.0), Duration::from_millis(2500));
        assert_eq!(high.next_delay(1.0), Duration::from_millis(7500));
        assert_eq!(low.next_delay(0.0), Duration::from_millis(3750));
        assert_eq!(high.next_delay(1.0), Duration::from_millis(11250));
        let mut mid = Backoff::new(&config());
        assert_eq!(mid.next_delay(0.5), Duration::from_secs(5));
        for _ in 0..100 {
            let delay = Backoff::new(&config()).next_delay(jitter());
            assert!(delay >= Duration::from_millis(2500) && delay <= Duration::from_millis(7500));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(Duration::from_secs(10))
        );
        // In the past: retry now.
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn http_dates_match_known_timestamps() {
        let at = |s| {
            parse_http_date(s)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
        assert_eq!(at("Tue, 29 Feb 2000 12:00:00 GMT"), 951_825_600);
        assert_eq!(at("Wed, 21 Oct 2015 07:28:00 GMT"), 1_445_412_480);
        assert_eq!(at("Fri, 31 Dec 2060 23:59:59 GMT"), 2_871_763_199);
    }
}
