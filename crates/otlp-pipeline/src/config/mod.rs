//! The otelcol-shaped configuration: loading one or more YAML sources, `${env:VAR}`
//! substitution, merging, and validation against a [`Registry`](crate::Registry).
//!
//! ```text
//! Config::load(&[sources])  read → parse → expand `a::b` keys → substitute → merge → shape
//! validate(&config, &reg)   types, factory checks, pipeline references and signals
//!                           → ValidatedConfig (or every error at once)
//! Pipelines::build(&valid)  create components (no port opens) → start() → shutdown()
//! ```
//!
//! The file format, the substitution and merge rules and the validation messages are
//! documented for users in `docs/configuration.md`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde_yaml_ng::{Mapping, Value};

mod error;
pub mod fields;
pub(crate) mod id;
mod parse;
mod substitute;
mod telemetry;
pub(crate) mod validate;

pub use error::{ConfigError, ConfigErrorKind, ConfigErrors, ConfigWarning, Origin};
pub use id::{ComponentId, IdError, PipelineId};
pub use parse::{duration, parse_config};
pub use telemetry::{
    DEFAULT_METRICS_ADDRESS, LogLevel, LogsTelemetry, MetricsLevel, MetricsTelemetry,
    TelemetryConfig,
};
pub use validate::{ValidatedConfig, validate};

use crate::component::ComponentKind;
use substitute::{Report, key_text, substitute_tree};

/// Where one piece of configuration comes from: the argument of one `--config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A YAML file (`--config path` or `--config file:path`).
    File(PathBuf),
    /// YAML text (`--config 'yaml:exporters::otlp::endpoint: host:4317'`); `name` appears in
    /// messages.
    Yaml {
        /// How messages name this source.
        name: String,
        /// The YAML.
        text: String,
    },
    /// YAML held by an environment variable (`--config env:COLLECTOR_CONFIG`).
    Env(String),
}

impl ConfigSource {
    /// Reads a `--config` argument as otelcol does: `file:`, `yaml:` and `env:` prefixes, and
    /// a plain path otherwise.
    pub fn parse(arg: &str) -> ConfigSource {
        if let Some(path) = arg.strip_prefix("file:") {
            ConfigSource::File(PathBuf::from(path))
        } else if let Some(text) = arg.strip_prefix("yaml:") {
            ConfigSource::Yaml {
                name: arg.to_owned(),
                text: text.to_owned(),
            }
        } else if let Some(name) = arg.strip_prefix("env:") {
            ConfigSource::Env(name.to_owned())
        } else {
            ConfigSource::File(PathBuf::from(arg))
        }
    }

    /// YAML text named `name` in messages.
    pub fn yaml(name: impl Into<String>, text: impl Into<String>) -> ConfigSource {
        ConfigSource::Yaml {
            name: name.into(),
            text: text.into(),
        }
    }

    /// How messages name this source: the path as given, `yaml:...`, `env:NAME`.
    pub fn name(&self) -> String {
        match self {
            ConfigSource::File(path) => path.display().to_string(),
            ConfigSource::Yaml { name, .. } => name.clone(),
            ConfigSource::Env(name) => format!("env:{name}"),
        }
    }

    fn read(&self, env: substitute::Env<'_>) -> Result<String, String> {
        match self {
            ConfigSource::File(path) => std::fs::read_to_string(path).map_err(|e| e.to_string()),
            ConfigSource::Yaml { text, .. } => Ok(text.clone()),
            ConfigSource::Env(name) => {
                env(name).ok_or_else(|| format!("environment variable \"{name}\" is not set"))
            }
        }
    }
}

/// One component's configuration as written, with the files it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentEntry {
    /// The value under the id after substitution and merging (`Null` when nothing is written
    /// under the id: the component's defaults).
    pub config: Value,
    /// The files that define it.
    pub origin: Origin,
}

/// One pipeline under `service.pipelines`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineConfig {
    /// `receivers`, in order.
    pub receivers: Vec<ComponentId>,
    /// `processors`, in order: data flows through them first to last.
    pub processors: Vec<ComponentId>,
    /// `exporters`, in order.
    pub exporters: Vec<ComponentId>,
    /// The files that define it.
    pub origin: Origin,
}

impl PipelineConfig {
    /// The ids listed under `kind` (extensions and connectors: none; a connector is listed
    /// among the receivers and exporters).
    pub fn components(&self, kind: ComponentKind) -> &[ComponentId] {
        match kind {
            ComponentKind::Receiver => &self.receivers,
            ComponentKind::Processor => &self.processors,
            ComponentKind::Exporter => &self.exporters,
            ComponentKind::Connector | ComponentKind::Extension => &[],
        }
    }
}

/// `service`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceConfig {
    /// `service.extensions`: the extensions to start, in order.
    pub extensions: Vec<ComponentId>,
    /// `service.pipelines`.
    pub pipelines: BTreeMap<PipelineId, PipelineConfig>,
    /// `service.telemetry`.
    pub telemetry: TelemetryConfig,
    /// The files that define `service`.
    pub origin: Origin,
}

/// A loaded configuration: every source read, substituted and merged, in the otelcol shape.
///
/// Problems of shape found while loading (an unknown key, an invalid id) do not stop loading;
/// they are reported by [`validate`] together with everything else, so one run shows every
/// error.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `receivers`.
    pub receivers: BTreeMap<ComponentId, ComponentEntry>,
    /// `processors`.
    pub processors: BTreeMap<ComponentId, ComponentEntry>,
    /// `exporters`.
    pub exporters: BTreeMap<ComponentId, ComponentEntry>,
    /// `connectors`.
    pub connectors: BTreeMap<ComponentId, ComponentEntry>,
    /// `extensions`.
    pub extensions: BTreeMap<ComponentId, ComponentEntry>,
    /// `service`.
    pub service: ServiceConfig,
    raw: Value,
    origins: HashMap<Vec<String>, Origin>,
    problems: Vec<ConfigError>,
    warnings: Vec<ConfigWarning>,
}

/// The top-level keys of an otelcol configuration.
const TOP_LEVEL_KEYS: [&str; 6] = [
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
    "service",
];
const SERVICE_KEYS: [&str; 3] = ["extensions", "pipelines", "telemetry"];
const PIPELINE_KEYS: [&str; 3] = ["receivers", "processors", "exporters"];
/// How deep origins are recorded (`service::pipelines::<id>::<key>`).
const ORIGIN_DEPTH: usize = 4;

impl Config {
    /// Loads and merges `sources` in order, substituting from the process environment.
    ///
    /// Fails only when a source cannot be read or is not YAML; every other problem is kept
    /// for [`validate`].
    pub fn load(sources: &[ConfigSource]) -> Result<Config, ConfigErrors> {
        Config::load_with_env(sources, &|name| std::env::var(name).ok())
    }

    /// [`load`](Self::load) with another environment (tests, or a program that substitutes
    /// from somewhere else).
    pub fn load_with_env(
        sources: &[ConfigSource],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        let mut merged = Value::Mapping(Mapping::new());
        let mut config = Config::default();
        let mut fatal = Vec::new();
        for source in sources {
            let name: Arc<str> = source.name().into();
            let origin = Origin::file(name.clone());
            let text = match source.read(env) {
                Ok(text) => text,
                Err(message) => {
                    fatal.push(ConfigError::at(
                        origin,
                        Vec::new(),
                        ConfigErrorKind::Read { message },
                    ));
                    continue;
                }
            };
            let mut value = match parse_yaml(&text) {
                Ok(value) => value,
                Err(message) => {
                    fatal.push(ConfigError::at(
                        origin,
                        Vec::new(),
                        ConfigErrorKind::Syntax { message },
                    ));
                    continue;
                }
            };
            if !value.is_mapping() {
                config.problems.push(ConfigError::at(
                    origin,
                    Vec::new(),
                    ConfigErrorKind::WrongShape {
                        expected: "a map at the top level",
                        found: shape(&value),
                    },
                ));
                continue;
            }
            expand_keys(&mut value);
            let mut report = Report::default();
            substitute_tree(&mut value, env, &mut Vec::new(), &mut report);
            for found in report.errors {
                config.problems.push(ConfigError::at(
                    origin.clone(),
                    found.path,
                    ConfigErrorKind::Substitution {
                        message: found.message,
                    },
                ));
            }
            for found in report.warnings {
                config.warnings.push(ConfigWarning {
                    origin: origin.clone(),
                    location: found.path.join("::"),
                    message: found.message,
                });
            }
            record_origins(&value, &name, &mut Vec::new(), &mut config.origins);
            deep_merge(&mut merged, value);
        }
        if !fatal.is_empty() {
            return Err(ConfigErrors(fatal));
        }
        config.interpret(merged);
        Ok(config)
    }

    /// Loads one YAML document named `name` (in messages), substituting from the process
    /// environment.
    pub fn from_yaml(name: &str, text: &str) -> Result<Config, ConfigErrors> {
        Config::load(&[ConfigSource::yaml(name, text)])
    }

    /// Loads one YAML document with another environment.
    pub fn from_yaml_with_env(
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        Config::load_with_env(&[ConfigSource::yaml(name, text)], env)
    }

    /// The components defined under `kind`'s section.
    pub fn section(&self, kind: ComponentKind) -> &BTreeMap<ComponentId, ComponentEntry> {
        match kind {
            ComponentKind::Receiver => &self.receivers,
            ComponentKind::Processor => &self.processors,
            ComponentKind::Exporter => &self.exporters,
            ComponentKind::Connector => &self.connectors,
            ComponentKind::Extension => &self.extensions,
        }
    }

    /// The merged configuration as one YAML value (after substitution), for printing the
    /// effective configuration.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Problems of shape found while loading; [`validate`] reports them first.
    pub fn problems(&self) -> &[ConfigError] {
        &self.problems
    }

    /// Warnings found while loading (unset environment variables).
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// The files that wrote `path` (or its closest recorded parent).
    pub(crate) fn origin_of(&self, path: &[&str]) -> Origin {
        let mut path: Vec<String> = path
            .iter()
            .take(ORIGIN_DEPTH)
            .map(|s| (*s).to_owned())
            .collect();
        loop {
            if let Some(origin) = self.origins.get(&path) {
                return origin.clone();
            }
            if path.pop().is_none() {
                return Origin::default();
            }
        }
    }

    fn problem(&mut self, location: &[&str], kind: ConfigErrorKind) {
        let origin = self.origin_of(location);
        let location = location.iter().map(|s| (*s).to_owned()).collect();
        self.problems.push(ConfigError::at(origin, location, kind));
    }

    /// Reads the merged value into the typed structure, recording problems.
    fn interpret(&mut self, merged: Value) {
        if let Value::Mapping(root) = &merged {
            for (key, value) in root {
                let key = key_text(key);
                match key.as_str() {
                    "receivers" => self.read_section(ComponentKind::Receiver, value),
                    "processors" => self.read_section(ComponentKind::Processor, value),
                    "exporters" => self.read_section(ComponentKind::Exporter, value),
                    "extensions" => self.read_section(ComponentKind::Extension, value),
                    "connectors" => self.read_section(ComponentKind::Connector, value),
                    "service" => self.read_service(value),
                    _ => self.problem(
                        &[&key],
                        ConfigErrorKind::UnknownKey {
                            key: key.clone(),
                            expected: TOP_LEVEL_KEYS.to_vec(),
                        },
                    ),
                }
            }
        }
        self.service.origin = self.origin_of(&["service"]);
        self.raw = merged;
    }

    fn read_section(&mut self, kind: ComponentKind, value: &Value) {
        let section = kind.section();
        let Some(map) = self.map_at(
            &[section],
            value,
            "a map of component ids to their configuration",
        ) else {
            return;
        };
        for (key, config) in map {
            let key = key_text(key);
            match key.parse::<ComponentId>() {
                Ok(id) => {
                    let origin = self.origin_of(&[section, &key]);
                    let entry = ComponentEntry {
                        config: config.clone(),
                        origin,
                    };
                    match kind {
                        ComponentKind::Receiver => self.receivers.insert(id, entry),
                        ComponentKind::Processor => self.processors.insert(id, entry),
                        ComponentKind::Exporter => self.exporters.insert(id, entry),
                        ComponentKind::Connector => self.connectors.insert(id, entry),
                        ComponentKind::Extension => self.extensions.insert(id, entry),
                    };
                }
                Err(error) => self.problem(
                    &[section, &key],
                    ConfigErrorKind::InvalidId {
                        what: "component id",
                        id: key.clone(),
                        reason: error.reason,
                    },
                ),
            }
        }
    }

    fn read_service(&mut self, value: &Value) {
        let Some(map) = self.map_at(
            &["service"],
            value,
            "a map with pipelines, extensions, telemetry",
        ) else {
            return;
        };
        for (key, value) in map {
            let key = key_text(key);
            match key.as_str() {
                "extensions" => {
                    self.service.extensions = self.id_list(&["service", "extensions"], value);
                }
                "pipelines" => self.read_pipelines(value),
                "telemetry" => {
                    let (telemetry, errors) = TelemetryConfig::from_value(value.clone());
                    let origin = self.origin_of(&["service", "telemetry"]);
                    let location = vec!["service".to_owned(), "telemetry".to_owned()];
                    self.problems
                        .extend(errors.into_iter().map(|e| e.locate(&origin, &location)));
                    self.service.telemetry = telemetry;
                }
                _ => self.problem(
                    &["service", &key],
                    ConfigErrorKind::UnknownKey {
                        key: key.clone(),
                        expected: SERVICE_KEYS.to_vec(),
                    },
                ),
            }
        }
    }

    fn read_pipelines(&mut self, value: &Value) {
        let location = ["service", "pipelines"];
        let Some(map) = self.map_at(&location, value, "a map of pipeline ids") else {
            return;
        };
        for (key, value) in map {
            let key = key_text(key);
            let here = ["service", "pipelines", key.as_str()];
            let id = match key.parse::<PipelineId>() {
                Ok(id) => id,
                Err(error) => {
                    self.problem(
                        &here,
                        ConfigErrorKind::InvalidId {
                            what: "pipeline id",
                            id: key.clone(),
                            reason: error.reason,
                        },
                    );
                    continue;
                }
            };
            let mut pipeline = PipelineConfig {
                origin: self.origin_of(&here),
                ..PipelineConfig::default()
            };
            if let Some(fields) =
                self.map_at(&here, value, "a map with receivers, processors, exporters")
            {
                for (field, list) in fields {
                    let field = key_text(field);
                    let at = ["service", "pipelines", key.as_str(), field.as_str()];
                    match field.as_str() {
                        "receivers" => pipeline.receivers = self.id_list(&at, list),
                        "processors" => pipeline.processors = self.id_list(&at, list),
                        "exporters" => pipeline.exporters = self.id_list(&at, list),
                        _ => self.problem(
                            &at,
                            ConfigErrorKind::UnknownKey {
                                key: field.clone(),
                                expected: PIPELINE_KEYS.to_vec(),
                            },
                        ),
                    }
                }
            }
            self.service.pipelines.insert(id, pipeline);
        }
    }

    /// A map at `location` (`null` reads as empty); a problem otherwise.
    fn map_at<'v>(
        &mut self,
        location: &[&str],
        value: &'v Value,
        expected: &'static str,
    ) -> Option<&'v Mapping> {
        static EMPTY: std::sync::LazyLock<Mapping> = std::sync::LazyLock::new(Mapping::new);
        match value {
            Value::Mapping(map) => Some(map),
            Value::Null => Some(&EMPTY),
            other => {
                self.problem(
                    location,
                    ConfigErrorKind::WrongShape {
                        expected,
                        found: shape(other),
                    },
                );
                None
            }
        }
    }

    /// A list of component ids at `location` (`null` reads as empty).
    fn id_list(&mut self, location: &[&str], value: &Value) -> Vec<ComponentId> {
        let items = match value {
            Value::Sequence(items) => items.as_slice(),
            Value::Null => &[],
            other => {
                self.problem(
                    location,
                    ConfigErrorKind::WrongShape {
                        expected: "a list of component ids",
                        found: shape(other),
                    },
                );
                return Vec::new();
            }
        };
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(text) = item else {
                self.problem(
                    location,
                    ConfigErrorKind::WrongShape {
                        expected: "a component id (text)",
                        found: shape(item),
                    },
                );
                continue;
            };
            match text.parse::<ComponentId>() {
                Ok(id) => ids.push(id),
                Err(error) => self.problem(
                    location,
                    ConfigErrorKind::InvalidId {
                        what: "component id",
                        id: text.clone(),
                        reason: error.reason,
                    },
                ),
            }
        }
        ids
    }
}

/// Parses one YAML document (empty text is an empty map), resolving `<<` merge keys.
fn parse_yaml(text: &str) -> Result<Value, String> {
    let mut value: Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    value.apply_merge().map_err(|e| e.to_string())?;
    if value.is_null() {
        value = Value::Mapping(Mapping::new());
    }
    Ok(value)
}

/// A word for the shape of a value, for messages.
fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Turns `a::b: v` keys into nested maps (`a: {b: v}`), as otelcol's confmap does (its key
/// delimiter is `::`; this is what makes `--config 'yaml:exporters::otlp::endpoint: x'` work).
fn expand_keys(value: &mut Value) {
    match value {
        Value::Mapping(map) => {
            for (_, child) in map.iter_mut() {
                expand_keys(child);
            }
            let nested: Vec<Value> = map
                .keys()
                .filter(|k| k.as_str().is_some_and(|s| s.contains("::")))
                .cloned()
                .collect();
            for key in nested {
                let Some(child) = map.remove(&key) else {
                    continue;
                };
                let Some(text) = key.as_str() else { continue };
                let mut parts: Vec<&str> = text.split("::").collect();
                let Some(last) = parts.pop() else { continue };
                let mut built = Value::Mapping(Mapping::from_iter([(
                    Value::String(last.to_owned()),
                    child,
                )]));
                while let Some(part) = parts.pop() {
                    built = Value::Mapping(Mapping::from_iter([(
                        Value::String(part.to_owned()),
                        built,
                    )]));
                }
                let mut whole = Value::Mapping(std::mem::take(map));
                deep_merge(&mut whole, built);
                if let Value::Mapping(merged) = whole {
                    *map = merged;
                }
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(expand_keys),
        _ => {}
    }
}

/// Merges `overlay` into `base` as otelcol merges several `--config` sources: maps merge key
/// by key, recursively; anything else (scalars, lists) in `overlay` replaces what `base` had;
/// a `null` in `overlay` over a map leaves the map alone (an empty `processors:` in a later
/// file removes nothing).
fn deep_merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Mapping(base), Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Mapping(_), Value::Null) => {}
        (base, overlay) => *base = overlay,
    }
}

/// Records `file` as an origin of every map path in `value` up to [`ORIGIN_DEPTH`].
fn record_origins(
    value: &Value,
    file: &Arc<str>,
    path: &mut Vec<String>,
    origins: &mut HashMap<Vec<String>, Origin>,
) {
    origins.entry(path.clone()).or_default().add(file);
    if path.len() >= ORIGIN_DEPTH {
        return;
    }
    if let Value::Mapping(map) = value {
        for (key, child) in map {
            path.push(key_text(key));
            record_origins(child, file, path, origins);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).expect("yaml")
    }

    #[test]
    fn merge_rules() {
        let mut base = yaml("a: {x: 1, list: [1, 2], keep: k}\nb: 1\nc: {y: 1}");
        deep_merge(
            &mut base,
            yaml("a: {x: 2, list: [3]}\nb: {now: map}\nc: null"),
        );
        assert_eq!(
            base,
            yaml("a: {x: 2, list: [3], keep: k}\nb: {now: map}\nc: {y: 1}")
        );
    }

    #[test]
    fn double_colon_keys_nest() {
        let mut value = yaml("exporters::otlp::endpoint: host:4317\nexporters:\n  debug: {}");
        expand_keys(&mut value);
        assert_eq!(
            value,
            yaml("exporters:\n  debug: {}\n  otlp:\n    endpoint: host:4317")
        );
    }

    #[test]
    fn sources_parse_like_otelcol() {
        assert_eq!(
            ConfigSource::parse("a.yaml"),
            ConfigSource::File("a.yaml".into())
        );
        assert_eq!(
            ConfigSource::parse("file:/etc/a.yaml"),
            ConfigSource::File("/etc/a.yaml".into())
        );
        assert_eq!(
            ConfigSource::parse("env:CFG"),
            ConfigSource::Env("CFG".into())
        );
        assert_eq!(
            ConfigSource::parse("yaml:a::b: 1"),
            ConfigSource::Yaml {
                name: "yaml:a::b: 1".into(),
                text: "a::b: 1".into()
            }
        );
    }
}
