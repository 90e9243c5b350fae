//! Validation of a loaded [`Config`] against a [`Registry`]: every error at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::component::{ComponentKind, SignalSet};
use crate::config::{
    ComponentId, Config, ConfigError, ConfigErrorKind, ConfigErrors, ConfigWarning, Origin,
    PipelineId, TelemetryConfig,
};
use crate::factory::{ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory};
use crate::registry::Registry;

/// A configuration that passed [`validate`]: every component's type is registered, its
/// configuration accepted by its factory, and every pipeline well-formed. It holds the
/// factories it was validated with, so [`Pipelines::build`](crate::graph::Pipelines::build)
/// needs nothing else.
#[derive(Clone)]
pub struct ValidatedConfig {
    pub(crate) config: Config,
    pub(crate) warnings: Vec<ConfigWarning>,
    pub(crate) receivers: BTreeMap<ComponentId, Arc<dyn ReceiverFactory>>,
    pub(crate) processors: BTreeMap<ComponentId, Arc<dyn ProcessorFactory>>,
    pub(crate) exporters: BTreeMap<ComponentId, Arc<dyn ExporterFactory>>,
    pub(crate) extensions: Vec<(ComponentId, Arc<dyn ExtensionFactory>)>,
}

impl ValidatedConfig {
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Legal but suspicious things: components defined and never used (they are not built),
    /// unset environment variables. Log them at startup.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// `service.telemetry`.
    pub fn telemetry(&self) -> &TelemetryConfig {
        &self.config.service.telemetry
    }
}

impl std::fmt::Debug for ValidatedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedConfig")
            .field("config", &self.config)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

fn location(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

struct Checker<'a> {
    config: &'a Config,
    registry: &'a Registry,
    errors: Vec<ConfigError>,
    /// Components whose configuration their factory refused (not checked again per pipeline).
    refused: BTreeSet<(ComponentKind, ComponentId)>,
}

impl Checker<'_> {
    fn error(&mut self, origin: &Origin, at: &[&str], kind: ConfigErrorKind) {
        self.errors
            .push(ConfigError::at(origin.clone(), location(at), kind));
    }

    /// Checks every defined component of `kind`: known type, configuration accepted.
    /// Returns the supported signals of each known one.
    fn check_section(&mut self, kind: ComponentKind) -> BTreeMap<ComponentId, SignalSet> {
        let mut known = BTreeMap::new();
        for (id, entry) in self.config.section(kind) {
            let at = [kind.section(), id.as_str()];
            let Some(factory) = self.registry.factory(kind, id.type_name()) else {
                let kind_error = ConfigErrorKind::UnknownType {
                    kind,
                    type_name: id.type_name().to_owned(),
                    suggestions: self.registry.suggest(kind, id.type_name()),
                    available: self
                        .registry
                        .types(kind)
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                };
                self.error(&entry.origin, &at, kind_error);
                continue;
            };
            if let Err(error) = factory.validate(&entry.config) {
                self.errors
                    .push(error.locate(&entry.origin, &location(&at)));
                self.refused.insert((kind, id.clone()));
            }
            let signals = match kind {
                ComponentKind::Receiver => self
                    .registry
                    .receiver(id.type_name())
                    .map(|f| f.supported_signals()),
                ComponentKind::Processor => self
                    .registry
                    .processor(id.type_name())
                    .map(|f| f.supported_signals()),
                ComponentKind::Exporter => self
                    .registry
                    .exporter(id.type_name())
                    .map(|f| f.supported_signals()),
                ComponentKind::Extension => Some(SignalSet::EMPTY),
            };
            known.insert(id.clone(), signals.unwrap_or(SignalSet::EMPTY));
        }
        known
    }

    fn check_pipeline(
        &mut self,
        pipeline_id: &PipelineId,
        known: &BTreeMap<ComponentKind, BTreeMap<ComponentId, SignalSet>>,
    ) {
        let Some(pipeline) = self.config.service.pipelines.get(pipeline_id) else {
            return;
        };
        let name = pipeline_id.to_string();
        let at = ["service", "pipelines", name.as_str()];
        let signal = pipeline_id.signal();
        if pipeline.receivers.is_empty() {
            self.error(&pipeline.origin, &at, ConfigErrorKind::NoReceivers);
        }
        if pipeline.exporters.is_empty() {
            self.error(&pipeline.origin, &at, ConfigErrorKind::NoExporters);
        }
        for kind in [
            ComponentKind::Receiver,
            ComponentKind::Processor,
            ComponentKind::Exporter,
        ] {
            let mut seen = BTreeSet::new();
            for id in pipeline.components(kind) {
                if !seen.insert(id) {
                    self.error(
                        &pipeline.origin,
                        &at,
                        ConfigErrorKind::Duplicate {
                            kind,
                            id: id.clone(),
                        },
                    );
                    continue;
                }
                let Some(entry) = self.config.section(kind).get(id) else {
                    self.error(
                        &pipeline.origin,
                        &at,
                        ConfigErrorKind::Undefined {
                            kind,
                            id: id.clone(),
                        },
                    );
                    continue;
                };
                // Unknown types were reported where they are defined.
                let Some(&supported) = known.get(&kind).and_then(|k| k.get(id)) else {
                    continue;
                };
                if !supported.contains(signal) {
                    self.error(
                        &pipeline.origin,
                        &at,
                        ConfigErrorKind::UnsupportedSignal {
                            kind,
                            id: id.clone(),
                            signal,
                            supported,
                        },
                    );
                    continue;
                }
                if kind == ComponentKind::Processor
                    && !self.refused.contains(&(kind, id.clone()))
                    && let Some(factory) = self.registry.processor(id.type_name())
                    && let Err(error) = factory.validate_for_signal(&entry.config, signal)
                {
                    let error = error
                        .map_message(|m| format!("in pipeline \"{pipeline_id}\": {m}"))
                        .locate(&entry.origin, &location(&["processors", id.as_str()]));
                    self.errors.push(error);
                }
            }
        }
    }
}

/// Checks `config` against `registry` and returns what [`Pipelines::build`] needs, or every
/// error found.
///
/// Errors (each names the file, the place and the problem): problems found while loading
/// (unknown keys, invalid ids, bad `${...}`), unknown component types (with close matches),
/// configurations a factory refuses (with the path of the bad value), pipelines without
/// receivers or exporters, pipelines referencing undefined components or the same one twice,
/// components in a pipeline of a signal they do not support, undefined or repeated
/// `service.extensions`, no pipeline at all.
///
/// Warnings (in [`ValidatedConfig::warnings`], like otelcol: not errors): receivers,
/// processors and exporters no pipeline uses, extensions `service.extensions` does not list,
/// unset environment variables.
///
/// Nothing is built and no port is opened, so `otlp-collector validate` and startup fail
/// before anything listens.
///
/// [`Pipelines::build`]: crate::graph::Pipelines::build
pub fn validate(config: &Config, registry: &Registry) -> Result<ValidatedConfig, ConfigErrors> {
    let mut checker = Checker {
        config,
        registry,
        errors: config.problems().to_vec(),
        refused: BTreeSet::new(),
    };
    let mut known = BTreeMap::new();
    for kind in ComponentKind::ALL {
        let signals = checker.check_section(kind);
        known.insert(kind, signals);
    }

    let pipelines = &config.service.pipelines;
    if pipelines.is_empty() {
        let origin = config.origin_of(&["service", "pipelines"]);
        checker.error(
            &origin,
            &["service", "pipelines"],
            ConfigErrorKind::NoPipelines,
        );
    }
    for pipeline_id in pipelines.keys() {
        checker.check_pipeline(pipeline_id, &known);
    }

    let extensions_origin = config.origin_of(&["service", "extensions"]);
    let mut seen = BTreeSet::new();
    for id in &config.service.extensions {
        let at = ["service", "extensions"];
        if !seen.insert(id) {
            let kind = ConfigErrorKind::Duplicate {
                kind: ComponentKind::Extension,
                id: id.clone(),
            };
            checker.error(&extensions_origin, &at, kind);
        } else if !config.extensions.contains_key(id) {
            let kind = ConfigErrorKind::Undefined {
                kind: ComponentKind::Extension,
                id: id.clone(),
            };
            checker.error(&extensions_origin, &at, kind);
        }
    }

    if !checker.errors.is_empty() {
        return Err(ConfigErrors(checker.errors));
    }

    let mut warnings = config.warnings().to_vec();
    let mut validated = ValidatedConfig {
        config: config.clone(),
        warnings: Vec::new(),
        receivers: BTreeMap::new(),
        processors: BTreeMap::new(),
        exporters: BTreeMap::new(),
        extensions: Vec::new(),
    };
    for kind in [
        ComponentKind::Receiver,
        ComponentKind::Processor,
        ComponentKind::Exporter,
    ] {
        for (id, entry) in config.section(kind) {
            let used = pipelines.values().any(|p| p.components(kind).contains(id));
            if !used {
                warnings.push(ConfigWarning {
                    origin: entry.origin.clone(),
                    location: format!("{}::{id}", kind.section()),
                    message: format!(
                        "{kind} \"{id}\" is defined but not used in any pipeline; it will not be built"
                    ),
                });
                continue;
            }
            let type_name = id.type_name();
            // Every lookup succeeds: unknown types were errors above.
            match kind {
                ComponentKind::Receiver => {
                    if let Some(f) = registry.receiver(type_name) {
                        validated.receivers.insert(id.clone(), f);
                    }
                }
                ComponentKind::Processor => {
                    if let Some(f) = registry.processor(type_name) {
                        validated.processors.insert(id.clone(), f);
                    }
                }
                ComponentKind::Exporter => {
                    if let Some(f) = registry.exporter(type_name) {
                        validated.exporters.insert(id.clone(), f);
                    }
                }
                ComponentKind::Extension => {}
            }
        }
    }
    for (id, entry) in &config.extensions {
        if !config.service.extensions.contains(id) {
            warnings.push(ConfigWarning {
                origin: entry.origin.clone(),
                location: format!("extensions::{id}"),
                message: format!(
                    "extension \"{id}\" is defined but not listed in service::extensions; it will \
                     not be started"
                ),
            });
        }
    }
    for id in &config.service.extensions {
        if let Some(f) = registry.extension(id.type_name()) {
            validated.extensions.push((id.clone(), f));
        }
    }
    validated.warnings = warnings;
    Ok(validated)
}
