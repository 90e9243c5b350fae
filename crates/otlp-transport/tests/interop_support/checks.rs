//! Checks shared by the interop tests whose data goes through a peer and back to our receiver:
//! every item arrives once, whole (compared as protobuf structs), under the resource and scope
//! it was sent with.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;

use super::{Recorded, Scoped, flatten_logs, flatten_metrics, flatten_spans, hex};

pub fn check_spans(recorded: &Recorded, sent: &[ExportTraceServiceRequest]) {
    let sent = flatten_spans(sent);
    let received = recorded.spans_by_id();
    assert_eq!(received.len(), sent.len(), "span count");
    for (id, want) in &sent {
        let got = received
            .get(id)
            .unwrap_or_else(|| panic!("span {} never arrived", hex(id)));
        assert_same(&format!("span {}", hex(id)), got, want);
    }
}

pub fn check_metrics(recorded: &Recorded, sent: &ExportMetricsServiceRequest) {
    let sent = flatten_metrics([sent]);
    let received = recorded.metrics_by_name();
    assert_eq!(
        received.keys().collect::<Vec<_>>(),
        sent.keys().collect::<Vec<_>>(),
        "metric names"
    );
    for (name, want) in &sent {
        let got = &received[name];
        assert_eq!(
            got.len(),
            1,
            "metric {name} arrived in {} pieces",
            got.len()
        );
        assert_same(&format!("metric {name}"), &got[0], &want[0]);
    }
}

pub fn check_logs(recorded: &Recorded, sent: &[ExportLogsServiceRequest]) {
    let sent = flatten_logs(sent);
    let received = recorded.logs_by_seq();
    assert_eq!(received.len(), sent.len(), "log record count");
    for (seq, want) in &sent {
        let got = received
            .get(seq)
            .unwrap_or_else(|| panic!("log record seq={seq} never arrived"));
        assert_same(&format!("log record seq={seq}"), got, want);
    }
}

/// The item, its resource and its scope must be exactly what was sent.
pub fn assert_same<T: PartialEq + std::fmt::Debug>(what: &str, got: &Scoped<T>, want: &Scoped<T>) {
    assert_eq!(got.item, want.item, "{what} changed on the way");
    assert_eq!(
        got.resource, want.resource,
        "{what}: resource changed on the way"
    );
    assert_eq!(got.scope, want.scope, "{what}: scope changed on the way");
}
