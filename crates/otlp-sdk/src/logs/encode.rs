//! Emitted log records → an OTLP `ExportLogsServiceRequest`, on the export thread.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::logs::v1::{LogRecord as ProtoLogRecord, ResourceLogs, ScopeLogs};

use crate::export::worker::{Encode, WireResource};
use crate::logs::LogData;
use crate::scope::InstrumentationScope;
use crate::value::into_proto_attributes;

impl Encode for LogData {
    type Request = ExportLogsServiceRequest;

    fn encode(items: impl Iterator<Item = Self>, resource: &WireResource) -> Self::Request {
        let mut scopes: Vec<InstrumentationScope> = Vec::new();
        let mut scope_logs: Vec<ScopeLogs> = Vec::new();
        for log in items {
            let index = match scopes
                .iter()
                .position(|s| s.ptr_eq(&log.scope) || *s == log.scope)
            {
                Some(index) => index,
                None => {
                    scope_logs.push(ScopeLogs {
                        scope: Some(log.scope.proto().clone()),
                        log_records: Vec::new(),
                        schema_url: log.scope.schema_url().to_owned(),
                    });
                    scopes.push(log.scope.clone());
                    scopes.len() - 1
                }
            };
            scope_logs[index].log_records.push(log_to_proto(log));
        }
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(resource.proto.clone()),
                scope_logs,
                schema_url: resource.schema_url.clone(),
            }],
        }
    }
}

/// One log record as OTLP protobuf.
#[must_use]
pub fn log_to_proto(log: LogData) -> ProtoLogRecord {
    let record = log.record;
    let (trace_id, span_id, flags) = match record.trace_context {
        Some((trace_id, span_id, flags)) if trace_id.is_valid() => (
            trace_id.to_bytes().to_vec(),
            span_id.to_bytes().to_vec(),
            u32::from(flags.to_u8()),
        ),
        _ => (Vec::new(), Vec::new(), 0),
    };
    ProtoLogRecord {
        time_unix_nano: record.time_unix_nano,
        observed_time_unix_nano: record.observed_time_unix_nano,
        severity_number: record.severity_number as i32,
        severity_text: record
            .severity_text
            .map(|s| s.into_owned())
            .unwrap_or_default(),
        body: record.body.map(crate::value::Value::into_proto),
        attributes: into_proto_attributes(record.attributes),
        dropped_attributes_count: log.dropped_attributes_count,
        flags,
        trace_id,
        span_id,
        event_name: record
            .event_name
            .map(|s| s.into_owned())
            .unwrap_or_default(),
    }
}
