//! Validation of a loaded [`Config`] against a [`Registry`]: every error at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::Signal;
use crate::component::{ComponentKind, SignalSet};
use crate::config::{
    ComponentId, Config, ConfigError, ConfigErrorKind, ConfigErrors, ConfigWarning, Origin,
    PipelineId, TelemetryConfig,
};
use crate::factory::{
    ConnectorFactory, ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory,
};
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
    pub(crate) connectors: BTreeMap<ComponentId, Arc<dyn ConnectorFactory>>,
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
                ComponentKind::Connector => Some(SignalSet::ALL),
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
                    if kind != ComponentKind::Processor && self.config.connectors.contains_key(id) {
                        continue; // a connector: checked by `check_connectors`
                    }
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

impl Checker<'_> {
    /// An id defined as a connector and as a receiver or exporter.
    fn check_ambiguous(&mut self) {
        for (id, entry) in &self.config.connectors {
            for other in [ComponentKind::Receiver, ComponentKind::Exporter] {
                if self.config.section(other).contains_key(id) {
                    let kind = ConfigErrorKind::Ambiguous {
                        id: id.clone(),
                        other,
                    };
                    self.error(&entry.origin, &["connectors", id.as_str()], kind);
                }
            }
        }
    }

    /// Every connector a pipeline uses: used on both sides, between signals it connects;
    /// then no loop through connectors.
    fn check_connectors(&mut self) {
        let pipelines = &self.config.service.pipelines;
        for id in self.config.connectors.keys() {
            let Some(factory) = self.registry.connector(id.type_name()) else {
                continue; // reported where it is defined
            };
            let exporting: Vec<&PipelineId> = pipelines
                .iter()
                .filter(|(_, p)| p.exporters.contains(id))
                .map(|(pid, _)| pid)
                .collect();
            let receiving: Vec<&PipelineId> = pipelines
                .iter()
                .filter(|(_, p)| p.receivers.contains(id))
                .map(|(pid, _)| pid)
                .collect();
            let one_sided = match (exporting.first(), receiving.first()) {
                (Some(p), None) => Some((*p, "an exporter", "a receiver")),
                (None, Some(p)) => Some((*p, "a receiver", "an exporter")),
                _ => None,
            };
            if let Some((pipeline, used, missing)) = one_sided {
                let origin = pipelines
                    .get(pipeline)
                    .map(|p| p.origin.clone())
                    .unwrap_or_default();
                let kind = ConfigErrorKind::ConnectorOneSided {
                    id: id.clone(),
                    pipeline: pipeline.clone(),
                    used,
                    missing,
                };
                let name = pipeline.to_string();
                self.error(&origin, &["service", "pipelines", name.as_str()], kind);
                continue;
            }
            let pairs = write_pairs(factory.supported_pairs());
            let sides = [
                (&exporting, &receiving, "an exporter", "a receiver", "from"),
                (&receiving, &exporting, "a receiver", "an exporter", "to"),
            ];
            for (this_side, other_side, used, other, direction) in sides {
                for pipeline in this_side.iter() {
                    let signal = pipeline.signal();
                    let connected = other_side.iter().any(|o| {
                        if used == "an exporter" {
                            factory.supports(signal, o.signal())
                        } else {
                            factory.supports(o.signal(), signal)
                        }
                    });
                    if connected {
                        continue;
                    }
                    let origin = pipelines
                        .get(*pipeline)
                        .map(|p| p.origin.clone())
                        .unwrap_or_default();
                    let kind = ConfigErrorKind::ConnectorUnsupported {
                        id: id.clone(),
                        pipeline: (*pipeline).clone(),
                        signal,
                        used,
                        other,
                        direction,
                        pairs: pairs.clone(),
                    };
                    let name = pipeline.to_string();
                    self.error(&origin, &["service", "pipelines", name.as_str()], kind);
                }
            }
            if self
                .refused
                .contains(&(ComponentKind::Connector, id.clone()))
            {
                continue;
            }
            let Some(entry) = self.config.connectors.get(id) else {
                continue;
            };
            for (from, to) in used_pairs(&*factory, &exporting, &receiving) {
                let targets: Vec<PipelineId> = receiving
                    .iter()
                    .filter(|p| p.signal() == to)
                    .map(|p| (*p).clone())
                    .collect();
                if let Err(error) =
                    factory.validate_for_pipelines(&entry.config, from, to, &targets)
                {
                    self.errors
                        .push(error.locate(&entry.origin, &location(&["connectors", id.as_str()])));
                }
            }
        }
        self.check_cycles();
    }

    /// Pipelines feeding each other in a loop through connectors.
    fn check_cycles(&mut self) {
        let edges = pipeline_edges(self.config, self.registry);
        let ids: Vec<&PipelineId> = self.config.service.pipelines.keys().collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state: BTreeMap<&PipelineId, u8> = BTreeMap::new();
        for start in ids {
            if state.get(start).copied().unwrap_or(0) != 0 {
                continue;
            }
            // Iterative depth-first search: (pipeline, index of the next edge to follow).
            let mut stack: Vec<(&PipelineId, usize)> = vec![(start, 0)];
            let mut via: Vec<&ComponentId> = Vec::new();
            state.insert(start, 1);
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                let out = edges.get(node).map(Vec::as_slice).unwrap_or_default();
                if let Some((connector, target)) = out.get(*next) {
                    *next += 1;
                    match state.get(target).copied().unwrap_or(0) {
                        0 => {
                            state.insert(target, 1);
                            via.push(connector);
                            stack.push((target, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|(p, _)| p == target).unwrap_or(0);
                            let mut path = String::new();
                            for (i, (p, _)) in stack.iter().enumerate().skip(from) {
                                path.push_str(&format!("{p} → "));
                                if let Some(c) = via.get(i) {
                                    path.push_str(&format!("{c} → "));
                                }
                            }
                            path.push_str(&format!("{connector} → {target}"));
                            let origin = self.config.origin_of(&["service", "pipelines"]);
                            self.error(
                                &origin,
                                &["service", "pipelines"],
                                ConfigErrorKind::Cycle { path },
                            );
                            return;
                        }
                        _ => {}
                    }
                } else {
                    state.insert(node, 2);
                    stack.pop();
                    via.pop();
                }
            }
        }
    }
}

/// `traces → metrics, logs → logs` for messages.
fn write_pairs(pairs: &[(Signal, Signal)]) -> String {
    pairs
        .iter()
        .map(|(from, to)| format!("{from} → {to}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pairs of signals a connector is used between: one instance each.
pub(crate) fn used_pairs(
    factory: &dyn ConnectorFactory,
    exporting: &[&PipelineId],
    receiving: &[&PipelineId],
) -> BTreeSet<(Signal, Signal)> {
    let mut pairs = BTreeSet::new();
    for from in exporting {
        for to in receiving {
            if factory.supports(from.signal(), to.signal()) {
                pairs.insert((from.signal(), to.signal()));
            }
        }
    }
    pairs
}

/// For each pipeline, the pipelines it feeds and through which connector.
pub(crate) fn pipeline_edges<'c>(
    config: &'c Config,
    registry: &Registry,
) -> BTreeMap<&'c PipelineId, Vec<(&'c ComponentId, &'c PipelineId)>> {
    let mut edges: BTreeMap<&PipelineId, Vec<(&ComponentId, &PipelineId)>> = BTreeMap::new();
    let pipelines = &config.service.pipelines;
    for (from_id, from) in pipelines {
        for connector in from
            .exporters
            .iter()
            .filter(|id| config.connectors.contains_key(*id))
        {
            let Some(factory) = registry.connector(connector.type_name()) else {
                continue;
            };
            for (to_id, to) in pipelines {
                if to.receivers.contains(connector)
                    && factory.supports(from_id.signal(), to_id.signal())
                {
                    edges.entry(from_id).or_default().push((connector, to_id));
                }
            }
        }
    }
    edges
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
    checker.check_ambiguous();
    for pipeline_id in pipelines.keys() {
        checker.check_pipeline(pipeline_id, &known);
    }
    checker.check_connectors();

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
        connectors: BTreeMap::new(),
        extensions: Vec::new(),
    };
    for kind in [
        ComponentKind::Receiver,
        ComponentKind::Processor,
        ComponentKind::Exporter,
        ComponentKind::Connector,
    ] {
        for (id, entry) in config.section(kind) {
            let used = if kind == ComponentKind::Connector {
                pipelines
                    .values()
                    .any(|p| p.receivers.contains(id) || p.exporters.contains(id))
            } else {
                pipelines.values().any(|p| p.components(kind).contains(id))
            };
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
                ComponentKind::Connector => {
                    if let Some(f) = registry.connector(type_name) {
                        validated.connectors.insert(id.clone(), f);
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
