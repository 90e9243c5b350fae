//! `multiline`: entries spanning several lines, delimited by `line_start_pattern` (a line
//! matching it starts an entry; text before the first such line is an entry of its own) or
//! `line_end_pattern` (a line matching it ends one). Patterns are matched against each line
//! (decoded, without its newline); the lines of an entry are joined with `\n`. The last
//! entry of a file is sent once the next one starts, or after `force_flush_period` without
//! new data.

use regex::Regex;

use otlp_pipeline::config::ConfigError;

use super::config::MultilineConfig;

/// A compiled `multiline` block.
#[derive(Debug, Clone)]
pub(crate) enum Multiline {
    Start(Regex),
    End(Regex),
}

impl Multiline {
    pub(crate) fn new(c: &MultilineConfig) -> Result<Multiline, ConfigError> {
        let compile = |key: &str, p: &str| {
            Regex::new(p).map_err(|e| {
                ConfigError::bad_value(
                    format!("multiline::{key}"),
                    format!("bad regular expression: {e}"),
                )
            })
        };
        if c.omit_pattern == Some(true) {
            return Err(ConfigError::bad_value(
                "multiline::omit_pattern",
                "is not supported by this filelog receiver",
            ));
        }
        match (&c.line_start_pattern, &c.line_end_pattern) {
            (Some(p), None) if !p.is_empty() => {
                Ok(Multiline::Start(compile("line_start_pattern", p)?))
            }
            (None, Some(p)) if !p.is_empty() => Ok(Multiline::End(compile("line_end_pattern", p)?)),
            (Some(_), Some(_)) => Err(ConfigError::bad_value(
                "multiline",
                "only one of line_start_pattern and line_end_pattern may be set",
            )),
            _ => Err(ConfigError::bad_value(
                "multiline",
                "one of line_start_pattern and line_end_pattern is required",
            )),
        }
    }

    /// Groups lines (`(start, end)` byte ranges and their text) into entries: returns the
    /// index ranges of complete groups; the lines after the last complete group are left for
    /// later (unless `flush`, when they form the last group).
    pub(crate) fn group(&self, lines: &[&str], flush: bool) -> Vec<std::ops::Range<usize>> {
        let mut groups = Vec::new();
        match self {
            Multiline::Start(re) => {
                let mut start = 0;
                for (i, line) in lines.iter().enumerate() {
                    if i > start && re.is_match(line) {
                        groups.push(start..i);
                        start = i;
                    }
                }
                if flush && start < lines.len() {
                    groups.push(start..lines.len());
                }
            }
            Multiline::End(re) => {
                let mut start = 0;
                for (i, line) in lines.iter().enumerate() {
                    if re.is_match(line) {
                        groups.push(start..i + 1);
                        start = i + 1;
                    }
                }
                if flush && start < lines.len() {
                    groups.push(start..lines.len());
                }
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(p: &str) -> Multiline {
        Multiline::new(&MultilineConfig {
            line_start_pattern: Some(p.into()),
            ..MultilineConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn start_pattern_groups() {
        let m = start(r"^\d{4}-");
        let lines = ["2024- a", "  at x", "  at y", "2024- b", "2024- c", " tail"];
        assert_eq!(m.group(&lines, false), vec![0..3, 3..4]);
        assert_eq!(m.group(&lines, true), vec![0..3, 3..4, 4..6]);
        let lines = ["junk", "2024- a", "more"];
        assert_eq!(m.group(&lines, true), vec![0..1, 1..3]);
    }

    #[test]
    fn end_pattern_groups() {
        let m = Multiline::new(&MultilineConfig {
            line_end_pattern: Some("END$".into()),
            ..MultilineConfig::default()
        })
        .unwrap();
        let lines = ["a", "b END", "c END", "d"];
        assert_eq!(m.group(&lines, false), vec![0..2, 2..3]);
        assert_eq!(m.group(&lines, true), vec![0..2, 2..3, 3..4]);
    }

    #[test]
    fn config_errors_name_the_key() {
        let both = MultilineConfig {
            line_start_pattern: Some("a".into()),
            line_end_pattern: Some("b".into()),
            ..MultilineConfig::default()
        };
        assert!(
            Multiline::new(&both)
                .unwrap_err()
                .to_string()
                .contains("multiline")
        );
        let bad = MultilineConfig {
            line_start_pattern: Some("(".into()),
            ..MultilineConfig::default()
        };
        assert!(
            Multiline::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("line_start_pattern")
        );
        assert!(Multiline::new(&MultilineConfig::default()).is_err());
    }
}
