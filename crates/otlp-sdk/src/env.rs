//! Where configuration comes from: the process environment, or a map in tests.
//!
//! Every reader of `OTEL_*` variables in this crate takes an [`Env`], so tests never have to
//! change the process environment (which is shared by every test thread).

use std::collections::HashMap;
use std::time::Duration;

/// A source of `OTEL_*` configuration values.
pub trait Env: Send + Sync {
    /// The value of `key`, if set. An empty value counts as unset (the specification: "an
    /// empty value ... MUST be interpreted as if it were unset").
    fn get(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }
}

impl Env for HashMap<&str, &str> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*v).to_owned())
    }
}

impl<E: Env + ?Sized> Env for &E {
    fn get(&self, key: &str) -> Option<String> {
        (**self).get(key)
    }
}

/// Reads `key` as a non-negative integer. An invalid value is reported once through
/// `tracing` and ignored (the specification: invalid values are ignored with a warning).
pub fn usize_var(env: &dyn Env, key: &str) -> Option<usize> {
    let raw = env.get(key)?;
    match raw.trim().parse::<usize>() {
        Ok(value) => Some(value),
        Err(_) => {
            invalid(key, &raw, "a non-negative integer");
            None
        }
    }
}

/// Reads `key` as milliseconds.
pub fn millis_var(env: &dyn Env, key: &str) -> Option<Duration> {
    usize_var(env, key).map(|ms| Duration::from_millis(ms as u64))
}

/// Reads `key` as a boolean: only a case-insensitive `true` is true, everything else is
/// false (the specification's rule for boolean variables); unset is `None`.
pub fn bool_var(env: &dyn Env, key: &str) -> Option<bool> {
    let raw = env.get(key)?;
    let value = raw.trim().eq_ignore_ascii_case("true");
    if !value && !raw.trim().eq_ignore_ascii_case("false") {
        invalid(key, &raw, "true or false");
    }
    Some(value)
}

/// Warns about an invalid value that is being ignored.
pub fn invalid(key: &str, raw: &str, expected: &str) {
    tracing::warn!(
        target: "otlp_sdk",
        "ignoring {key}={raw:?}: expected {expected}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_invalid_is_ignored() {
        let env = HashMap::from([
            ("A", ""),
            ("B", "12"),
            ("C", "-1"),
            ("D", "TRUE"),
            ("E", "yes"),
        ]);
        assert_eq!(Env::get(&env, "A"), None);
        assert_eq!(usize_var(&env, "B"), Some(12));
        assert_eq!(usize_var(&env, "C"), None);
        assert_eq!(millis_var(&env, "B"), Some(Duration::from_millis(12)));
        assert_eq!(bool_var(&env, "D"), Some(true));
        assert_eq!(bool_var(&env, "E"), Some(false));
        assert_eq!(bool_var(&env, "Z"), None);
    }
}
