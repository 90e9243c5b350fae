//! Component ids (`type[/name]`) and pipeline ids (`signal[/name]`), with otelcol's rules.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::Signal;

/// otelcol's type rule: a letter, then up to 62 letters, digits or underscores.
static TYPE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z][0-9A-Za-z_]{0,62}$").ok());
/// otelcol's name rule: no spaces, control characters or symbols (Unicode Z, C and S).
static NAME_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[^\pZ\pC\pS]+$").ok());

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(text))
}

/// Why a component or pipeline id is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid id \"{id}\": {reason}")]
pub struct IdError {
    /// The text that was parsed.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks a component type name (the part before `/`) against otelcol's rule.
pub(crate) fn check_type(type_name: &str) -> Result<(), String> {
    if type_name.is_empty() {
        Err("the type must not be empty".into())
    } else if matches(&TYPE_RE, type_name) {
        Ok(())
    } else {
        Err(format!(
            "the type \"{type_name}\" must start with a letter and contain only letters, digits \
             and underscores (at most 63 characters)"
        ))
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("the name after \"/\" must not be empty".into())
    } else if name.chars().count() > 1024 {
        Err("the name must be at most 1024 characters".into())
    } else if matches(&NAME_RE, name) {
        Ok(())
    } else {
        Err(format!(
            "the name \"{name}\" must not contain spaces, control characters or symbols"
        ))
    }
}

/// A component id as written in the configuration: `type` or `type/name` (`otlp`,
/// `otlp/backend`). Ids are compared as written; the type selects the factory (aliases
/// included, so `otlp_grpc/x` is built by the `otlp` factory but stays a different id from
/// `otlp/x`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId {
    full: String,
    type_len: usize,
}

impl ComponentId {
    /// Builds `type_name[/name]`, checking both parts.
    pub fn new(type_name: &str, name: Option<&str>) -> Result<ComponentId, IdError> {
        let full = match name {
            Some(name) => format!("{type_name}/{name}"),
            None => type_name.to_owned(),
        };
        full.parse()
    }

    /// The type: `otlp` in `otlp/backend`.
    pub fn type_name(&self) -> &str {
        &self.full[..self.type_len]
    }

    /// The name: `backend` in `otlp/backend`; `None` for a bare type.
    pub fn name(&self) -> Option<&str> {
        self.full.get(self.type_len + 1..)
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

impl FromStr for ComponentId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| IdError {
            id: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        let (type_name, name) = match trimmed.split_once('/') {
            Some((t, n)) => (t, Some(n)),
            None => (trimmed, None),
        };
        check_type(type_name).map_err(error)?;
        if let Some(name) = name {
            check_name(name).map_err(error)?;
        }
        Ok(ComponentId {
            full: trimmed.to_owned(),
            type_len: type_name.len(),
        })
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.full)
    }
}

/// A pipeline id: `signal` or `signal/name` (`traces`, `traces/backend`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PipelineId {
    signal: Signal,
    name: Option<String>,
}

impl PipelineId {
    /// Builds `signal[/name]`, checking the name.
    pub fn new(signal: Signal, name: Option<&str>) -> Result<PipelineId, IdError> {
        if let Some(name) = name {
            check_name(name).map_err(|reason| IdError {
                id: format!("{signal}/{name}"),
                reason,
            })?;
        }
        Ok(PipelineId {
            signal,
            name: name.map(str::to_owned),
        })
    }

    /// The pipeline's signal.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The name after `/`, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl FromStr for PipelineId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let (signal, name) = match trimmed.split_once('/') {
            Some((s, n)) => (s, Some(n)),
            None => (trimmed, None),
        };
        let signal = Signal::ALL.into_iter().find(|s| s.name() == signal).ok_or_else(|| IdError {
            id: text.to_owned(),
            reason: format!(
                "unknown signal \"{signal}\"; a pipeline id is traces, metrics, logs or profiles, \
                 optionally followed by /name"
            ),
        })?;
        PipelineId::new(signal, name)
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{}/{name}", self.signal),
            None => write!(f, "{}", self.signal),
        }
    }
}

impl fmt::Debug for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_ids() {
        let id: ComponentId = "otlp/backend".parse().expect("valid");
        assert_eq!((id.type_name(), id.name()), ("otlp", Some("backend")));
        let id: ComponentId = "batch".parse().expect("valid");
        assert_eq!((id.type_name(), id.name()), ("batch", None));
        let id: ComponentId = "otlp/a/b.c-d".parse().expect("a name may contain / . -");
        assert_eq!(id.name(), Some("a/b.c-d"));
        for bad in [
            "",
            "/x",
            "otlp/",
            "1otlp",
            "ot lp",
            "otlp/a b",
            "otlp-http",
            "otlp/a$b",
        ] {
            assert!(
                bad.parse::<ComponentId>().is_err(),
                "{bad:?} should be invalid"
            );
        }
        assert_eq!(
            ComponentId::new("otlp", Some("x"))
                .expect("valid")
                .to_string(),
            "otlp/x"
        );
    }

    #[test]
    fn pipeline_ids() {
        let id: PipelineId = "traces/backend".parse().expect("valid");
        assert_eq!((id.signal(), id.name()), (Signal::Traces, Some("backend")));
        assert_eq!(
            "logs".parse::<PipelineId>().expect("valid").to_string(),
            "logs"
        );
        let error = "trace/x".parse::<PipelineId>().expect_err("unknown signal");
        assert!(
            error.to_string().contains("unknown signal \"trace\""),
            "{error}"
        );
        assert!("metrics/".parse::<PipelineId>().is_err());
    }
}
