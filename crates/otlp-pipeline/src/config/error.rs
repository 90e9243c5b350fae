//! Configuration errors and warnings: each names the file(s), the place in the configuration
//! (a component, a pipeline, a key) and the problem.

use std::fmt;
use std::sync::Arc;

use crate::Signal;
use crate::component::{ComponentKind, SignalSet};
use crate::config::{ComponentId, PipelineId};

/// The configuration files a part of the configuration came from, in merge order (a
/// component defined in one file and overridden in a later one names both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin(Vec<Arc<str>>);

impl Origin {
    /// One file.
    pub fn file(name: impl Into<Arc<str>>) -> Origin {
        Origin(vec![name.into()])
    }

    /// Adds a file (if not already listed).
    pub(crate) fn add(&mut self, name: &Arc<str>) {
        if !self.0.iter().any(|n| n == name) {
            self.0.push(name.clone());
        }
    }

    /// The files, in merge order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|f| &**f)
    }

    /// `true` when no file is known (a configuration built in code).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<&str> = self.files().collect();
        if files.is_empty() {
            f.write_str("<configuration>")
        } else {
            f.write_str(&files.join(", "))
        }
    }
}

/// What is wrong, without where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file (or `env:` source) could not be read.
    #[error("cannot read the configuration: {message}")]
    Read {
        /// The I/O error.
        message: String,
    },
    /// The text is not valid YAML.
    #[error("invalid YAML: {message}")]
    Syntax {
        /// The parser's message, with the line and column.
        message: String,
    },
    /// A key the otelcol configuration does not have at this level.
    #[error("unknown key \"{key}\"; expected one of: {}", expected.join(", "))]
    UnknownKey {
        /// The key.
        key: String,
        /// The keys allowed here.
        expected: Vec<&'static str>,
    },
    /// A value of the wrong shape (a list where a map is expected, ...).
    #[error("expected {expected}, found {found}")]
    WrongShape {
        /// What is expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A component or pipeline id that does not follow the `type[/name]` rules.
    #[error("invalid {what} \"{id}\": {reason}")]
    InvalidId {
        /// "component id" or "pipeline id".
        what: &'static str,
        /// The id as written.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No factory is registered for the type.
    #[error(
        "unknown {kind} type \"{type_name}\"{}",
        suggestion(suggestions, available)
    )]
    UnknownType {
        /// The kind of component.
        kind: ComponentKind,
        /// The type as written.
        type_name: String,
        /// Registered types close to it.
        suggestions: Vec<String>,
        /// Every registered type of this kind.
        available: Vec<String>,
    },
    /// A pipeline (or `service.extensions`) references a component that is not defined.
    #[error("references {kind} \"{id}\", which is not defined in `{}`", kind.section())]
    Undefined {
        /// The kind of component.
        kind: ComponentKind,
        /// The id referenced.
        id: ComponentId,
    },
    /// A pipeline lists a component that does not support the pipeline's signal.
    #[error("{kind} \"{id}\" does not support {signal} (it supports {supported})")]
    UnsupportedSignal {
        /// The kind of component.
        kind: ComponentKind,
        /// The component.
        id: ComponentId,
        /// The pipeline's signal.
        signal: Signal,
        /// What the component supports.
        supported: SignalSet,
    },
    /// A list names the same component twice.
    #[error("references {kind} \"{id}\" more than once")]
    Duplicate {
        /// The kind of component.
        kind: ComponentKind,
        /// The id repeated.
        id: ComponentId,
    },
    /// An id defined both as a connector and as a receiver or exporter: a pipeline listing it
    /// would be ambiguous (otelcol refuses it too).
    #[error("ambiguous id \"{id}\": defined both as a connector and as {other}")]
    Ambiguous {
        /// The id.
        id: ComponentId,
        /// The other kind it is defined as.
        other: ComponentKind,
    },
    /// A connector that pipelines use on one side only (as an exporter and never as a
    /// receiver, or the reverse).
    #[error(
        "connector \"{id}\" is used as {used} in pipeline \"{pipeline}\" but as {missing} in no pipeline; a connector must be both"
    )]
    ConnectorOneSided {
        /// The connector.
        id: ComponentId,
        /// A pipeline using it.
        pipeline: PipelineId,
        /// `an exporter` or `a receiver`.
        used: &'static str,
        /// The other side.
        missing: &'static str,
    },
    /// A connector used on both sides, but never between signals it connects.
    #[error(
        "connector \"{id}\" is used as {used} in {signal} pipeline \"{pipeline}\" but is not used as {other} in any pipeline of a signal it connects {direction} {signal} (it connects {pairs})"
    )]
    ConnectorUnsupported {
        /// The connector.
        id: ComponentId,
        /// The pipeline that has no counterpart.
        pipeline: PipelineId,
        /// That pipeline's signal.
        signal: Signal,
        /// `an exporter` or `a receiver`.
        used: &'static str,
        /// The other side.
        other: &'static str,
        /// `from` or `to`.
        direction: &'static str,
        /// The pairs it supports, written `traces → metrics, ...`.
        pairs: String,
    },
    /// Pipelines that feed each other through connectors in a loop.
    #[error("cycle through connectors: {path}")]
    Cycle {
        /// The loop, written `traces/a → forward → traces/b → forward/back → traces/a`.
        path: String,
    },
    /// A pipeline without receivers.
    #[error("the pipeline has no receivers; at least one is required")]
    NoReceivers,
    /// A pipeline without exporters.
    #[error("the pipeline has no exporters; at least one is required")]
    NoExporters,
    /// `service.pipelines` is missing or empty.
    #[error("no pipelines are defined; at least one is required")]
    NoPipelines,
    /// A value the component (or the service) cannot use; the location includes the path to
    /// the value inside the component's configuration.
    #[error("{message}")]
    BadValue {
        /// The path inside the component's configuration (`protocols::grpc::endpoint`); empty
        /// for the configuration as a whole.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A `${...}` reference that cannot be substituted.
    #[error("{message}")]
    Substitution {
        /// What is wrong.
        message: String,
    },
    /// Anything else a factory refuses.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

fn suggestion(suggestions: &[String], available: &[String]) -> String {
    let quoted = |list: &[String]| list.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>();
    if !suggestions.is_empty() {
        format!("; did you mean {}?", quoted(suggestions).join(" or "))
    } else if available.is_empty() {
        "; no component of this kind is registered".to_owned()
    } else {
        format!("; available: {}", available.join(", "))
    }
}

/// One configuration error: the file(s) it comes from, where in the configuration
/// (`exporters::otlp/backend`, `service::pipelines::traces`), and the problem.
///
/// Displayed as `FILE: LOCATION: PROBLEM`, for example
/// `collector.yaml: service::pipelines::traces: references exporter "otlp/missing", which is
/// not defined in `exporters``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(Box<Inner>);

/// Boxed: errors travel in `Result`s of every factory call, and should keep them small.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    origin: Origin,
    location: Vec<String>,
    kind: ConfigErrorKind,
}

impl ConfigError {
    /// An error of `kind` with no location yet (factories return these; validation adds the
    /// file and the component).
    pub fn new(kind: ConfigErrorKind) -> ConfigError {
        ConfigError(Box::new(Inner {
            origin: Origin::default(),
            location: Vec::new(),
            kind,
        }))
    }

    /// A bad value at `path` inside a component's configuration (`protocols::grpc::endpoint`,
    /// or `""` for the whole configuration).
    pub fn bad_value(path: impl Into<String>, message: impl fmt::Display) -> ConfigError {
        ConfigError::new(ConfigErrorKind::BadValue {
            path: path.into(),
            message: message.to_string(),
        })
    }

    /// Any other problem a factory finds.
    pub fn invalid(message: impl fmt::Display) -> ConfigError {
        ConfigError::new(ConfigErrorKind::Invalid {
            message: message.to_string(),
        })
    }

    pub(crate) fn at(origin: Origin, location: Vec<String>, kind: ConfigErrorKind) -> ConfigError {
        ConfigError(Box::new(Inner {
            origin,
            location,
            kind,
        }))
    }

    /// Adds the origin and the location prefix where they are not set yet.
    pub(crate) fn locate(mut self, origin: &Origin, location: &[String]) -> ConfigError {
        let inner = &mut *self.0;
        if inner.origin.is_empty() {
            inner.origin = origin.clone();
        }
        let mut full = location.to_vec();
        full.append(&mut inner.location);
        inner.location = full;
        self
    }

    /// Rewrites the message of a `BadValue`, `Invalid` or `Substitution` error.
    pub(crate) fn map_message(mut self, f: impl FnOnce(String) -> String) -> ConfigError {
        match &mut self.0.kind {
            ConfigErrorKind::BadValue { message, .. }
            | ConfigErrorKind::Invalid { message }
            | ConfigErrorKind::Substitution { message } => *message = f(std::mem::take(message)),
            _ => {}
        }
        self
    }

    /// The files the problem comes from.
    pub fn origin(&self) -> &Origin {
        &self.0.origin
    }

    /// Where in the configuration, `::`-separated (`exporters::otlp/backend::tls::insecure`);
    /// empty for the file as a whole.
    pub fn location(&self) -> String {
        let mut parts = self.0.location.clone();
        if let ConfigErrorKind::BadValue { path, .. } = &self.0.kind
            && !path.is_empty()
        {
            parts.push(path.clone());
        }
        parts.join("::")
    }

    /// The problem.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.0.kind
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location();
        if location.is_empty() {
            write!(f, "{}: {}", self.0.origin, self.0.kind)
        } else {
            write!(f, "{}: {location}: {}", self.0.origin, self.0.kind)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in a configuration (validation does not stop at the first one). Displayed
/// one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there is none (never the case for a returned `Err`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Something legal but probably unintended (a component defined and never used, an unset
/// environment variable). Displayed like a [`ConfigError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The files.
    pub origin: Origin,
    /// Where, `::`-separated.
    pub location: String,
    /// What.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{}: {}: {}", self.origin, self.location, self.message)
        }
    }
}
