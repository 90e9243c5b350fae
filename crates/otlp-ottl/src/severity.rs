//! Log severities written as text, as OTTL and otelcol's log matching read them.

const SEVERITY_NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// Parses a severity short name (`INFO`, `warn3`) or number (`9`) into a severity number.
pub fn parse_severity(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse::<i32>() {
        return (1..=24).contains(&n).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    for (i, name) in SEVERITY_NAMES.iter().enumerate() {
        if let Some(rest) = upper.strip_prefix(name) {
            let base = i32::try_from(i).unwrap_or(0) * 4 + 1;
            return match rest {
                "" => Some(base),
                "2" => Some(base + 1),
                "3" => Some(base + 2),
                "4" => Some(base + 3),
                _ => None,
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_severity;

    #[test]
    fn severities() {
        assert_eq!(parse_severity("INFO"), Some(9));
        assert_eq!(parse_severity("warn2"), Some(14));
        assert_eq!(parse_severity("Fatal4"), Some(24));
        assert_eq!(parse_severity("trace"), Some(1));
        assert_eq!(parse_severity("17"), Some(17));
        assert_eq!(parse_severity("0"), None);
        assert_eq!(parse_severity("25"), None);
        assert_eq!(parse_severity("INFO5"), None);
        assert_eq!(parse_severity("loud"), None);
    }
}
