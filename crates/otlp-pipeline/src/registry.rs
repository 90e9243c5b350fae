//! The [`Registry`]: factories by kind and type name, with aliases.
//!
//! `Registry::default()` is empty. The components live in the kind crates (`otlp-receivers`,
//! `otlp-processors`, `otlp-exporters`, `otlp-connectors`, `otlp-extensions`), each with a
//! `register(&mut Registry)` that adds what its enabled cargo features bring; the
//! distribution (`otlp_collector::components()`) registers all of them. A program embedding
//! the pipeline registers the components it picked and its own factories next to them:
//!
//! ```
//! use otlp_pipeline::Registry;
//!
//! // With the kind crates: `otlp_processors::register(&mut registry)?;` and so on.
//! let registry = Registry::default();
//! assert!(registry.exporter("otlp").is_none(), "the default registry is empty");
//! // then: registry.register_exporter(MyExporterFactory)?;
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::component::ComponentKind;
use crate::config::id::check_type;
use crate::factory::{
    ConnectorFactory, ExporterFactory, ExtensionFactory, Factory, ProcessorFactory, ReceiverFactory,
};

/// Why a factory could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The type name or an alias is already taken by another factory of the same kind.
    #[error("a {kind} factory is already registered as \"{name}\"")]
    Duplicate {
        /// The kind of factory.
        kind: ComponentKind,
        /// The name (type or alias) taken twice.
        name: String,
    },
    /// The type name or an alias does not follow otelcol's type rule.
    #[error("cannot register {kind} factory \"{name}\": {reason}")]
    InvalidName {
        /// The kind of factory.
        kind: ComponentKind,
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

struct Factories<F: ?Sized> {
    kind: ComponentKind,
    by_type: BTreeMap<String, Arc<F>>,
    /// alias → canonical type name.
    aliases: BTreeMap<String, String>,
}

impl<F: ?Sized + Factory> Factories<F> {
    fn new(kind: ComponentKind) -> Self {
        Factories {
            kind,
            by_type: BTreeMap::new(),
            aliases: BTreeMap::new(),
        }
    }

    fn taken(&self, name: &str) -> bool {
        self.by_type.contains_key(name) || self.aliases.contains_key(name)
    }

    fn register(&mut self, factory: Arc<F>) -> Result<(), RegistryError> {
        let type_name = factory.type_name().to_owned();
        let mut names = vec![type_name.clone()];
        names.extend(factory.aliases().iter().map(|a| (*a).to_owned()));
        for (i, name) in names.iter().enumerate() {
            check_type(name).map_err(|reason| RegistryError::InvalidName {
                kind: self.kind,
                name: name.clone(),
                reason,
            })?;
            if self.taken(name) || names[..i].contains(name) {
                return Err(RegistryError::Duplicate {
                    kind: self.kind,
                    name: name.clone(),
                });
            }
        }
        for alias in &names[1..] {
            self.aliases.insert(alias.clone(), type_name.clone());
        }
        self.by_type.insert(type_name, factory);
        Ok(())
    }

    fn remove(&mut self, type_name: &str) -> Option<Arc<F>> {
        let factory = self.by_type.remove(type_name)?;
        self.aliases.retain(|_, canonical| canonical != type_name);
        Some(factory)
    }

    fn get(&self, name: &str) -> Option<&Arc<F>> {
        let canonical = self.aliases.get(name).map_or(name, String::as_str);
        self.by_type.get(canonical)
    }

    fn names(&self) -> Vec<String> {
        self.by_type
            .keys()
            .chain(self.aliases.keys())
            .cloned()
            .collect()
    }
}

/// Factories by kind and type name. Looking a type up also finds aliases (`otlp_grpc` finds
/// the `otlp` factory when that factory lists the alias).
///
/// `Registry::default()` is empty; see the [module documentation](self) for where the
/// components come from.
pub struct Registry {
    receivers: Factories<dyn ReceiverFactory>,
    processors: Factories<dyn ProcessorFactory>,
    exporters: Factories<dyn ExporterFactory>,
    connectors: Factories<dyn ConnectorFactory>,
    extensions: Factories<dyn ExtensionFactory>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            receivers: Factories::new(ComponentKind::Receiver),
            processors: Factories::new(ComponentKind::Processor),
            exporters: Factories::new(ComponentKind::Exporter),
            connectors: Factories::new(ComponentKind::Connector),
            extensions: Factories::new(ComponentKind::Extension),
        }
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a receiver factory under its type name and aliases.
    pub fn register_receiver(
        &mut self,
        factory: impl ReceiverFactory,
    ) -> Result<(), RegistryError> {
        self.receivers.register(Arc::new(factory))
    }

    /// Registers a processor factory under its type name and aliases.
    pub fn register_processor(
        &mut self,
        factory: impl ProcessorFactory,
    ) -> Result<(), RegistryError> {
        self.processors.register(Arc::new(factory))
    }

    /// Registers an exporter factory under its type name and aliases.
    pub fn register_exporter(
        &mut self,
        factory: impl ExporterFactory,
    ) -> Result<(), RegistryError> {
        self.exporters.register(Arc::new(factory))
    }

    /// Registers a connector factory under its type name and aliases.
    pub fn register_connector(
        &mut self,
        factory: impl ConnectorFactory,
    ) -> Result<(), RegistryError> {
        self.connectors.register(Arc::new(factory))
    }

    /// Registers an extension factory under its type name and aliases.
    pub fn register_extension(
        &mut self,
        factory: impl ExtensionFactory,
    ) -> Result<(), RegistryError> {
        self.extensions.register(Arc::new(factory))
    }

    /// Removes a receiver factory (and its aliases), to replace a registered one with your own.
    pub fn remove_receiver(&mut self, type_name: &str) -> bool {
        self.receivers.remove(type_name).is_some()
    }

    /// Removes a processor factory (and its aliases).
    pub fn remove_processor(&mut self, type_name: &str) -> bool {
        self.processors.remove(type_name).is_some()
    }

    /// Removes an exporter factory (and its aliases).
    pub fn remove_exporter(&mut self, type_name: &str) -> bool {
        self.exporters.remove(type_name).is_some()
    }

    /// Removes a connector factory (and its aliases).
    pub fn remove_connector(&mut self, type_name: &str) -> bool {
        self.connectors.remove(type_name).is_some()
    }

    /// Removes an extension factory (and its aliases).
    pub fn remove_extension(&mut self, type_name: &str) -> bool {
        self.extensions.remove(type_name).is_some()
    }

    /// Adds every factory of `other` (fails on the first name taken in both).
    pub fn extend(&mut self, other: Registry) -> Result<(), RegistryError> {
        for f in other.receivers.by_type.into_values() {
            self.receivers.register(f)?;
        }
        for f in other.processors.by_type.into_values() {
            self.processors.register(f)?;
        }
        for f in other.exporters.by_type.into_values() {
            self.exporters.register(f)?;
        }
        for f in other.connectors.by_type.into_values() {
            self.connectors.register(f)?;
        }
        for f in other.extensions.by_type.into_values() {
            self.extensions.register(f)?;
        }
        Ok(())
    }

    /// The receiver factory for a type name or alias.
    pub fn receiver(&self, type_name: &str) -> Option<Arc<dyn ReceiverFactory>> {
        self.receivers.get(type_name).cloned()
    }

    /// The processor factory for a type name or alias.
    pub fn processor(&self, type_name: &str) -> Option<Arc<dyn ProcessorFactory>> {
        self.processors.get(type_name).cloned()
    }

    /// The exporter factory for a type name or alias.
    pub fn exporter(&self, type_name: &str) -> Option<Arc<dyn ExporterFactory>> {
        self.exporters.get(type_name).cloned()
    }

    /// The connector factory for a type name or alias.
    pub fn connector(&self, type_name: &str) -> Option<Arc<dyn ConnectorFactory>> {
        self.connectors.get(type_name).cloned()
    }

    /// The extension factory for a type name or alias.
    pub fn extension(&self, type_name: &str) -> Option<Arc<dyn ExtensionFactory>> {
        self.extensions.get(type_name).cloned()
    }

    /// The common part of the factory of `kind` for a type name or alias.
    pub fn factory(&self, kind: ComponentKind, type_name: &str) -> Option<&dyn Factory> {
        match kind {
            ComponentKind::Receiver => self.receivers.get(type_name).map(|f| &**f as &dyn Factory),
            ComponentKind::Processor => {
                self.processors.get(type_name).map(|f| &**f as &dyn Factory)
            }
            ComponentKind::Exporter => self.exporters.get(type_name).map(|f| &**f as &dyn Factory),
            ComponentKind::Connector => {
                self.connectors.get(type_name).map(|f| &**f as &dyn Factory)
            }
            ComponentKind::Extension => {
                self.extensions.get(type_name).map(|f| &**f as &dyn Factory)
            }
        }
    }

    /// The registered type names of `kind` (aliases excluded), sorted.
    pub fn types(&self, kind: ComponentKind) -> Vec<&str> {
        match kind {
            ComponentKind::Receiver => self.receivers.by_type.keys().map(String::as_str).collect(),
            ComponentKind::Processor => {
                self.processors.by_type.keys().map(String::as_str).collect()
            }
            ComponentKind::Exporter => self.exporters.by_type.keys().map(String::as_str).collect(),
            ComponentKind::Connector => {
                self.connectors.by_type.keys().map(String::as_str).collect()
            }
            ComponentKind::Extension => {
                self.extensions.by_type.keys().map(String::as_str).collect()
            }
        }
    }

    /// Type names and aliases of `kind` close to `name` (for "did you mean").
    pub fn suggest(&self, kind: ComponentKind, name: &str) -> Vec<String> {
        let names = match kind {
            ComponentKind::Receiver => self.receivers.names(),
            ComponentKind::Processor => self.processors.names(),
            ComponentKind::Exporter => self.exporters.names(),
            ComponentKind::Connector => self.connectors.names(),
            ComponentKind::Extension => self.extensions.names(),
        };
        let lower = name.to_ascii_lowercase();
        let mut close: Vec<(usize, String)> = names
            .into_iter()
            .filter_map(|candidate| {
                let distance = levenshtein(&lower, &candidate.to_ascii_lowercase());
                let limit = (candidate.len().max(name.len()) / 3).max(1);
                // A truncated name (`memory` for `memory_limiter`).
                let related = lower.len() >= 3 && candidate.starts_with(&lower);
                (distance <= limit || related).then_some((distance, candidate))
            })
            .collect();
        close.sort();
        close.into_iter().map(|(_, name)| name).take(3).collect()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("receivers", &self.types(ComponentKind::Receiver))
            .field("processors", &self.types(ComponentKind::Processor))
            .field("connectors", &self.types(ComponentKind::Connector))
            .field("exporters", &self.types(ComponentKind::Exporter))
            .field("extensions", &self.types(ComponentKind::Extension))
            .finish()
    }
}

/// Edit distance between two short strings, counting a swap of two neighbours as one edit
/// (optimal string alignment), so `bacth` is one edit from `batch`.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::levenshtein;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("bacth", "batch"), 1);
        assert_eq!(levenshtein("otlpp", "otlp"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kafka", "otlp"), 5);
    }
}
