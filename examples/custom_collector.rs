//! A custom collector: `otlp-pipeline` plus three components picked by cargo feature (the
//! `otlp` receiver, the `batch` processor, the `otlp` exporter; see `Cargo.toml` beside this
//! file) and one processor of its own, `redact` (see docs/custom-collector.md).
//! Run: `cargo run -p otlp-examples --example custom_collector -- --config collector.yaml`.
use otlp_model::attributes::IntoAnyValue;
use otlp_pipeline::factory::{ComponentConfig, FnFactory};
use otlp_pipeline::{Config, ConfigSource, ConsumeError, Consumer, Payload, Pipelines};
use otlp_pipeline::{Processor, Signal, Telemetry};
use serde::{Deserialize, Serialize};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Duration, Instant};

#[derive(Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
struct RedactConfig {
    keys: Vec<String>, // `processors: {redact: {keys: [user.email]}}`
}
impl ComponentConfig for RedactConfig {}

struct Redact(RedactConfig, std::sync::Arc<dyn Consumer>); // what to mask, the next consumer

#[async_trait::async_trait]
impl Consumer for Redact {
    async fn consume(&self, mut data: Telemetry) -> Result<(), ConsumeError> {
        if let Payload::Traces(request) = data.payload_mut() {
            for scopes in &mut request.resource_spans {
                for span in scopes.scope_spans.iter_mut().flat_map(|s| &mut s.spans) {
                    for kv in &mut span.attributes {
                        if self.0.keys.contains(&kv.key) {
                            kv.value = Some("***".into_any_value());
                        }
                    }
                }
            }
        }
        self.1.consume(data).await // errors go back to the sender unchanged
    }
    fn mutates_data(&self) -> bool {
        true // a fan-out before us hands us our own copy
    }
}
impl Processor for Redact {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = otlp_pipeline::Registry::default();
    otlp_receivers::register(&mut registry)?; // what their features bring: `otlp`
    otlp_processors::register(&mut registry)?; // `batch`
    otlp_exporters::register(&mut registry)?; // `otlp`
    let factory = FnFactory::processor("redact", Signal::Traces, |ctx, config: RedactConfig| {
        Ok(Box::new(Redact(config, ctx.next)))
    });
    registry.register_processor(factory)?;
    let args = std::env::args().skip(1).filter(|a| a != "--config");
    let sources: Vec<ConfigSource> = args.map(|a| ConfigSource::parse(&a)).collect();
    let validated = otlp_pipeline::validate(&Config::load(&sources)?, &registry)?; // all errors
    let pipelines = Pipelines::build(&validated)?;
    pipelines.start().await?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = terminate.recv() => {} }
    let deadline = Instant::now() + Duration::from_secs(30);
    pipelines.shutdown(deadline).await?; // receivers stop, processors flush, exporters drain
    Ok(())
}
