//! `servicegraph`: otelcol-contrib's service graph connector (traces → metrics). It pairs
//! the two spans of each request between services (client/server, producer/consumer, or a
//! client span naming a database) and emits, every `metrics_flush_interval`, cumulative:
//!
//! - `traces_service_graph_request_total` and `traces_service_graph_request_failed_total`
//!   (either span's status was ERROR): monotonic sums;
//! - `traces_service_graph_request_server` and `traces_service_graph_request_client`:
//!   latency histograms in seconds, as seen by each side;
//!
//! with attributes `client`, `server`, `connection_type` (empty, `messaging_system`,
//! `database`), `failed` and the configured `dimensions` as `client_<name>` /
//! `server_<name>`, in one `ResourceMetrics` with scope `traces_service_graph`.
//!
//! Half-paired requests wait in a bounded store ([`store`]): `store.ttl` (2s), at most
//! `store.max_items` (1000); expired and dropped ones are counted in self-metrics. Series are
//! bounded too ([`graph`]). Virtual nodes (contrib's alpha feature gate) are not built; their
//! keys are accepted.

mod component;
mod config;
mod graph;
mod pairing;
mod store;

#[cfg(test)]
mod tests;

pub use component::ServiceGraphConnector;
pub use config::{DEFAULT_BUCKETS_S, ServiceGraphConfig, StoreConfig};
pub use graph::{MAX_SERIES, SCOPE_NAME};

use otlp_pipeline::factory::FnFactory;
use otlp_pipeline::{ConfigError, Connector, ConnectorContext, ConnectorFactory, Signal};

/// The pair it connects: traces to metrics.
pub const PAIRS: &[(Signal, Signal)] = &[(Signal::Traces, Signal::Metrics)];

fn create(
    ctx: ConnectorContext,
    config: ServiceGraphConfig,
) -> Result<Box<dyn Connector>, ConfigError> {
    Ok(Box::new(ServiceGraphConnector::new(ctx, &config)))
}

/// The `servicegraph` factory.
pub fn factory() -> impl ConnectorFactory {
    FnFactory::connector("servicegraph", PAIRS, create).with_aliases(&["service_graph"])
}
