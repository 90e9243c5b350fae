//! [`ErrorMode`]: what a component does when an OTTL condition or statement fails to run —
//! otelcol's `error_mode` key, the same for every component that reads OTTL.

use serde::{Deserialize, Serialize};

/// `error_mode: propagate | ignore | silent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// The request is refused, permanently: the default of otelcol's factories.
    #[default]
    Propagate,
    /// The error is logged; the condition counts as not met (the statement as not run) and
    /// the component goes on.
    Ignore,
    /// As `ignore`, without logging.
    Silent,
}

#[cfg(test)]
mod tests {
    use super::ErrorMode;

    #[test]
    fn reads_otelcols_words() {
        for (text, mode) in [
            ("propagate", ErrorMode::Propagate),
            ("ignore", ErrorMode::Ignore),
            ("silent", ErrorMode::Silent),
        ] {
            let parsed: ErrorMode = serde_yaml_ng::from_str(text).expect(text);
            assert_eq!(parsed, mode);
        }
        assert!(serde_yaml_ng::from_str::<ErrorMode>("Ignore").is_err());
        assert_eq!(ErrorMode::default(), ErrorMode::Propagate);
    }
}
