//! Factories: how a component is built from its configuration, registered under its type
//! name in a [`Registry`](crate::Registry).
//!
//! The traits are object-safe and take the configuration as a [`serde_yaml_ng::Value`], so
//! any component can be registered at run time. Most components have a serde configuration
//! struct; for them [`FnFactory`] does the parsing and validation, and a factory is one
//! constructor call:
//!
//! ```
//! use otlp_pipeline::factory::{ComponentConfig, FnFactory};
//! use otlp_pipeline::{BoxError, Consumer, ConsumeError, Exporter, Telemetry};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Default, Deserialize, Serialize)]
//! #[serde(deny_unknown_fields, default)]
//! struct NullConfig {
//!     verbose: bool,
//! }
//! impl ComponentConfig for NullConfig {}
//!
//! struct Null;
//! #[async_trait::async_trait]
//! impl Consumer for Null {
//!     async fn consume(&self, _data: Telemetry) -> Result<(), ConsumeError> {
//!         Ok(())
//!     }
//! }
//! impl Exporter for Null {}
//!
//! let factory = FnFactory::exporter("null", otlp_pipeline::SignalSet::ALL, |_ctx, _config: NullConfig| {
//!     Ok(Box::new(Null))
//! });
//! let mut registry = otlp_pipeline::Registry::default();
//! registry.register_exporter(factory)?;
//! # Ok::<(), otlp_pipeline::RegistryError>(())
//! ```

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_yaml_ng::Value;

use crate::Signal;
use crate::component::{
    Connector, ConnectorContext, Exporter, ExporterContext, Extension, ExtensionContext, Processor,
    ProcessorContext, Receiver, ReceiverContext, SignalSet,
};
use crate::config::{ConfigError, parse_config};

/// What every factory has: the type name it is registered under, its aliases, its default
/// configuration, and a check of a configuration that builds nothing.
pub trait Factory: Send + Sync + 'static {
    /// The type name (`otlp`, `batch`): the part of a component id before `/`.
    fn type_name(&self) -> &str;

    /// Other type names that select this factory (`otlp_grpc` for `otlp`). Default: none.
    fn aliases(&self) -> &[&'static str] {
        &[]
    }

    /// The configuration used when the component is listed with nothing under it, as YAML
    /// (for `otlp-collector components` and documentation). Default: an empty map.
    fn default_config(&self) -> Value {
        Value::Mapping(serde_yaml_ng::Mapping::new())
    }

    /// Checks a configuration (after substitution and merging; `null` for "nothing under the
    /// id") without building anything. Report the path of a bad value with
    /// [`ConfigError::bad_value`]; validation adds the file and the component id.
    fn validate(&self, config: &Value) -> Result<(), ConfigError>;
}

/// Builds [`Receiver`]s.
pub trait ReceiverFactory: Factory {
    /// The signals the receiver can produce; a pipeline of another signal may not list it.
    fn supported_signals(&self) -> SignalSet;

    /// Builds the receiver (opening nothing: ports open in [`Receiver::start`]). Called once
    /// per id, with the consumers of every pipeline that lists it.
    fn create(&self, ctx: ReceiverContext, config: Value)
    -> Result<Box<dyn Receiver>, ConfigError>;
}

/// Builds [`Processor`]s.
pub trait ProcessorFactory: Factory {
    /// The signals the processor handles.
    fn supported_signals(&self) -> SignalSet;

    /// Checks rules that depend on the pipeline's signal (otelcol's filter processor refuses
    /// `log_bodies` in a traces pipeline). Called for each pipeline listing the processor.
    /// Default: none.
    fn validate_for_signal(&self, _config: &Value, _signal: Signal) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Builds one instance for one pipeline ([`ProcessorContext::pipeline`]), passing data to
    /// [`ProcessorContext::next`].
    fn create(
        &self,
        ctx: ProcessorContext,
        config: Value,
    ) -> Result<Box<dyn Processor>, ConfigError>;
}

/// Builds [`Exporter`]s.
pub trait ExporterFactory: Factory {
    /// The signals the exporter can send.
    fn supported_signals(&self) -> SignalSet;

    /// Builds the exporter (connecting nowhere yet). Called once per id; the instance is
    /// shared by every pipeline that lists it.
    fn create(&self, ctx: ExporterContext, config: Value)
    -> Result<Box<dyn Exporter>, ConfigError>;
}

/// Builds [`Connector`]s.
pub trait ConnectorFactory: Factory {
    /// The pairs of signals it connects: `(from, to)` means it may be an exporter of a `from`
    /// pipeline and a receiver of a `to` pipeline at once.
    fn supported_pairs(&self) -> &[(Signal, Signal)];

    /// Whether it connects `from` to `to`.
    fn supports(&self, from: Signal, to: Signal) -> bool {
        self.supported_pairs().contains(&(from, to))
    }

    /// Checks rules that depend on the pipelines it connects (a routing table naming a
    /// pipeline the connector does not feed). `to_pipelines` are the pipelines of signal
    /// `to` that list it as a receiver. Default: none.
    fn validate_for_pipelines(
        &self,
        _config: &Value,
        _from: Signal,
        _to: Signal,
        _to_pipelines: &[crate::config::PipelineId],
    ) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Builds the instance for one pair of signals ([`ConnectorContext::from`],
    /// [`ConnectorContext::to`]), feeding [`ConnectorContext::next`].
    fn create(
        &self,
        ctx: ConnectorContext,
        config: Value,
    ) -> Result<Box<dyn Connector>, ConfigError>;
}

/// Builds [`Extension`]s.
pub trait ExtensionFactory: Factory {
    /// Builds the extension.
    fn create(
        &self,
        ctx: ExtensionContext,
        config: Value,
    ) -> Result<Box<dyn Extension>, ConfigError>;
}

/// A typed component configuration, for [`FnFactory`].
///
/// `Default` is the configuration of a component listed with nothing under it; `Serialize`
/// gives [`Factory::default_config`]. Use `#[serde(deny_unknown_fields, default)]` and
/// [`duration`](crate::config::duration) for durations.
pub trait ComponentConfig: DeserializeOwned + Serialize + Default + Send + Sync + 'static {
    /// Checks values serde cannot (ranges, combinations). Default: none.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Checks rules that depend on the pipeline's signal (processors only). Default: none.
    fn validate_for_signal(&self, _signal: Signal) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// A factory made of a type name, the supported signals and a function from the parsed
/// configuration `C` to the component. One constructor per kind:
/// [`receiver`](FnFactory::receiver), [`processor`](FnFactory::processor),
/// [`exporter`](FnFactory::exporter), [`connector`](FnFactory::connector),
/// [`extension`](FnFactory::extension).
pub struct FnFactory<C, F> {
    type_name: &'static str,
    aliases: &'static [&'static str],
    signals: SignalSet,
    pairs: &'static [(Signal, Signal)],
    create: F,
    config: PhantomData<fn() -> C>,
}

impl<C, F> FnFactory<C, F> {
    fn new(type_name: &'static str, signals: SignalSet, create: F) -> Self {
        FnFactory {
            type_name,
            aliases: &[],
            signals,
            pairs: &[],
            create,
            config: PhantomData,
        }
    }

    /// Adds aliases (other type names selecting this factory).
    #[must_use]
    pub fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
}

impl<C, F> FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ReceiverContext, C) -> Result<Box<dyn Receiver>, ConfigError> + Send + Sync + 'static,
{
    /// A receiver factory.
    pub fn receiver(type_name: &'static str, signals: impl Into<SignalSet>, create: F) -> Self {
        FnFactory::new(type_name, signals.into(), create)
    }
}

impl<C, F> FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ProcessorContext, C) -> Result<Box<dyn Processor>, ConfigError> + Send + Sync + 'static,
{
    /// A processor factory.
    pub fn processor(type_name: &'static str, signals: impl Into<SignalSet>, create: F) -> Self {
        FnFactory::new(type_name, signals.into(), create)
    }
}

impl<C, F> FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ExporterContext, C) -> Result<Box<dyn Exporter>, ConfigError> + Send + Sync + 'static,
{
    /// An exporter factory.
    pub fn exporter(type_name: &'static str, signals: impl Into<SignalSet>, create: F) -> Self {
        FnFactory::new(type_name, signals.into(), create)
    }
}

impl<C, F> FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ExtensionContext, C) -> Result<Box<dyn Extension>, ConfigError> + Send + Sync + 'static,
{
    /// An extension factory.
    pub fn extension(type_name: &'static str, create: F) -> Self {
        FnFactory::new(type_name, SignalSet::EMPTY, create)
    }
}

impl<C, F> FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ConnectorContext, C) -> Result<Box<dyn Connector>, ConfigError> + Send + Sync + 'static,
{
    /// A connector factory connecting the `(from, to)` signal `pairs`.
    pub fn connector(
        type_name: &'static str,
        pairs: &'static [(Signal, Signal)],
        create: F,
    ) -> Self {
        let mut factory = FnFactory::new(type_name, SignalSet::EMPTY, create);
        factory.pairs = pairs;
        factory
    }
}

fn parse_and_check<C: ComponentConfig>(config: &Value) -> Result<C, ConfigError> {
    let parsed: C = parse_config(config)?;
    parsed.validate()?;
    Ok(parsed)
}

impl<C: ComponentConfig, F: Send + Sync + 'static> Factory for FnFactory<C, F> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn aliases(&self) -> &[&'static str] {
        self.aliases
    }

    fn default_config(&self) -> Value {
        serde_yaml_ng::to_value(C::default()).unwrap_or(Value::Null)
    }

    fn validate(&self, config: &Value) -> Result<(), ConfigError> {
        parse_and_check::<C>(config).map(|_| ())
    }
}

impl<C, F> ReceiverFactory for FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ReceiverContext, C) -> Result<Box<dyn Receiver>, ConfigError> + Send + Sync + 'static,
{
    fn supported_signals(&self) -> SignalSet {
        self.signals
    }

    fn create(
        &self,
        ctx: ReceiverContext,
        config: Value,
    ) -> Result<Box<dyn Receiver>, ConfigError> {
        (self.create)(ctx, parse_and_check(&config)?)
    }
}

impl<C, F> ProcessorFactory for FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ProcessorContext, C) -> Result<Box<dyn Processor>, ConfigError> + Send + Sync + 'static,
{
    fn supported_signals(&self) -> SignalSet {
        self.signals
    }

    fn validate_for_signal(&self, config: &Value, signal: Signal) -> Result<(), ConfigError> {
        parse_and_check::<C>(config)?.validate_for_signal(signal)
    }

    fn create(
        &self,
        ctx: ProcessorContext,
        config: Value,
    ) -> Result<Box<dyn Processor>, ConfigError> {
        let config: C = parse_and_check(&config)?;
        config.validate_for_signal(ctx.signal())?;
        (self.create)(ctx, config)
    }
}

impl<C, F> ExporterFactory for FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ExporterContext, C) -> Result<Box<dyn Exporter>, ConfigError> + Send + Sync + 'static,
{
    fn supported_signals(&self) -> SignalSet {
        self.signals
    }

    fn create(
        &self,
        ctx: ExporterContext,
        config: Value,
    ) -> Result<Box<dyn Exporter>, ConfigError> {
        (self.create)(ctx, parse_and_check(&config)?)
    }
}

impl<C, F> ConnectorFactory for FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ConnectorContext, C) -> Result<Box<dyn Connector>, ConfigError> + Send + Sync + 'static,
{
    fn supported_pairs(&self) -> &[(Signal, Signal)] {
        self.pairs
    }

    fn create(
        &self,
        ctx: ConnectorContext,
        config: Value,
    ) -> Result<Box<dyn Connector>, ConfigError> {
        (self.create)(ctx, parse_and_check(&config)?)
    }
}

impl<C, F> ExtensionFactory for FnFactory<C, F>
where
    C: ComponentConfig,
    F: Fn(ExtensionContext, C) -> Result<Box<dyn Extension>, ConfigError> + Send + Sync + 'static,
{
    fn create(
        &self,
        ctx: ExtensionContext,
        config: Value,
    ) -> Result<Box<dyn Extension>, ConfigError> {
        (self.create)(ctx, parse_and_check(&config)?)
    }
}

impl<C, F> std::fmt::Debug for FnFactory<C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnFactory")
            .field("type_name", &self.type_name)
            .field("aliases", &self.aliases)
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}
