//! `protocols.grpc`: `jaeger.api_v2.CollectorService/PostSpans` on otlp-pipeline's unary gRPC
//! server.

use std::net::SocketAddr;
use std::sync::Arc;

use prost::Message as _;

use otlp_pipeline::grpc_server::{Answer, Call, Handler, Server};
use otlp_transport::grpc_wire::GrpcCode;

use super::config::GrpcProtocol;
use super::{Counters, Shared, proto, translate};

/// The method served.
pub(crate) const POST_SPANS: &str = "/jaeger.api_v2.CollectorService/PostSpans";

/// The running gRPC server.
pub(crate) struct GrpcServer(Server);

struct Service {
    shared: Arc<Shared>,
    counters: Counters,
    include_metadata: bool,
}

impl Service {
    fn bad(&self, code: GrpcCode, message: String) -> Answer {
        self.counters.failed.add(1);
        tracing::debug!(receiver = %self.shared.id, ?code, error = %message, "refused a Jaeger gRPC request");
        Answer::error(code, message)
    }

    async fn call(&self, call: Call) -> Answer {
        if call.path != POST_SPANS {
            return Answer::error(
                GrpcCode::Unimplemented,
                format!("unknown method {}", call.path),
            );
        }
        let request = match proto::PostSpansRequest::decode(call.message) {
            Ok(request) => request,
            Err(error) => {
                return self.bad(
                    GrpcCode::InvalidArgument,
                    format!("grpc: error unmarshalling request: {error}"),
                );
            }
        };
        let translated = match translate::from_proto(&request.batch.unwrap_or_default()) {
            Ok(t) => t,
            Err(error) => {
                return self.bad(
                    GrpcCode::InvalidArgument,
                    format!("grpc: error unmarshalling request: {error}"),
                );
            }
        };
        let client =
            crate::span_intake::client(call.peer, self.include_metadata.then_some(&call.headers));
        match self
            .shared
            .deliver(translated, client, &self.counters)
            .await
        {
            // An empty `PostSpansResponse`.
            Ok(()) => Answer::ok(Vec::new()),
            Err(error) if error.is_permanent() => {
                Answer::error(GrpcCode::Internal, error.to_string())
            }
            Err(error) => Answer::error(GrpcCode::Unavailable, error.to_string()),
        }
    }
}

impl GrpcServer {
    pub(crate) async fn start(
        config: &GrpcProtocol,
        shared: Arc<Shared>,
        counters: Counters,
    ) -> std::io::Result<GrpcServer> {
        let service = Arc::new(Service {
            shared,
            counters,
            include_metadata: config.include_metadata,
        });
        let handler: Handler = Arc::new(move |call| {
            let service = Arc::clone(&service);
            Box::pin(async move { service.call(call).await })
        });
        let max = usize::try_from(config.max_recv_msg_size_mib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1 << 20);
        Ok(GrpcServer(
            Server::bind(&config.endpoint, handler, max).await?,
        ))
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    pub(crate) async fn stop(mut self) {
        self.0.shutdown().await;
    }
}
