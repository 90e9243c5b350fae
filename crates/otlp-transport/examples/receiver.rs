//! A minimal OTLP receiver: gRPC on 4317 and HTTP (protobuf + JSON) on 4318, printing span
//! counts. Try it with any OTLP exporter, then stop it with Ctrl-C.
use std::time::Duration;

use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
use otlp_transport::server::{ExportHandler, Receiver, RequestContext};
use otlp_transport::{ExportRequest, PartialSuccess, Refusal};

struct PrintSpans;

#[async_trait::async_trait]
impl ExportHandler for PrintSpans {
    async fn export_traces(
        &self,
        request: ExportTraceServiceRequest,
        context: RequestContext,
    ) -> Result<Option<PartialSuccess>, Refusal> {
        let peer = context.peer_addr.map(|a| a.to_string()).unwrap_or_default();
        println!(
            "{} spans over {:?} from {peer}",
            request.item_count(),
            context.transport
        );
        Ok(None) // metrics, logs and profiles keep the default: "signal not supported"
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = Receiver::new(PrintSpans)
        .grpc("127.0.0.1:4317".parse()?)
        .http("127.0.0.1:4318".parse()?)
        .start()
        .await?;
    println!(
        "listening: gRPC {:?}, HTTP {:?}",
        receiver.grpc_local_addr(),
        receiver.http_local_addr()
    );
    tokio::signal::ctrl_c().await?;
    println!("{:?}", receiver.shutdown(Duration::from_secs(5)).await);
    Ok(())
}
