//! [`LogsView`], [`LogRecords`] and [`LogRecordRef`].

use core::iter::FusedIterator;

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use otlp_proto::logs::v1::{LogRecord, LogsData, ResourceLogs, ScopeLogs, SeverityNumber};
use otlp_proto::resource::v1::Resource;

use super::flatten::{Flatten, Nesting};
use super::impl_view;
use crate::{SpanId, TraceFlags, TraceId};

/// Zero-copy iteration and counting over log records; see the [module docs](super).
pub trait LogsView {
    /// The `ResourceLogs` this view covers.
    fn as_resource_logs(&self) -> &[ResourceLogs];

    /// Every log record with the resource and scope it belongs to, in order.
    fn log_records(&self) -> LogRecords<'_> {
        LogRecords {
            inner: Flatten::new(self.as_resource_logs()),
        }
    }

    /// The number of log records (the Go Collector's `LogRecordCount`).
    fn log_record_count(&self) -> usize {
        let mut count = 0;
        for resource_logs in self.as_resource_logs() {
            for scope_logs in &resource_logs.scope_logs {
                count += scope_logs.log_records.len();
            }
        }
        count
    }
}

impl_view!(
    LogsView,
    as_resource_logs,
    ResourceLogs,
    resource_logs,
    [ExportLogsServiceRequest, LogsData]
);

#[derive(Debug)]
pub(crate) struct LogNesting;

impl Nesting for LogNesting {
    type Resource = ResourceLogs;
    type Scope = ScopeLogs;
    type Item = LogRecord;
    fn scopes(resource: &ResourceLogs) -> &[ScopeLogs] {
        &resource.scope_logs
    }
    fn items(scope: &ScopeLogs) -> &[LogRecord] {
        &scope.log_records
    }
}

/// Iterator over every log record of a [`LogsView`]; see [`LogsView::log_records`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct LogRecords<'a> {
    inner: Flatten<'a, LogNesting>,
}

impl<'a> Iterator for LogRecords<'a> {
    type Item = LogRecordRef<'a>;

    fn next(&mut self) -> Option<LogRecordRef<'a>> {
        self.inner
            .next()
            .map(|(resource_logs, scope_logs, log_record)| LogRecordRef {
                resource_logs,
                scope_logs,
                log_record,
            })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for LogRecords<'_> {}

impl core::fmt::Debug for LogRecords<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LogRecords").finish_non_exhaustive()
    }
}

/// One log record, with the `ResourceLogs` and `ScopeLogs` it was found in.
#[derive(Debug, Clone, Copy)]
pub struct LogRecordRef<'a> {
    /// The resource group holding the record.
    pub resource_logs: &'a ResourceLogs,
    /// The scope group holding the record.
    pub scope_logs: &'a ScopeLogs,
    /// The record.
    pub log_record: &'a LogRecord,
}

impl<'a> LogRecordRef<'a> {
    /// The resource, if the sender set one.
    #[must_use]
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource_logs.resource.as_ref()
    }

    /// The instrumentation scope, if the sender set one.
    #[must_use]
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope_logs.scope.as_ref()
    }

    /// The resource's `service.name`, if it is a string.
    #[must_use]
    pub fn service_name(&self) -> Option<&'a str> {
        super::service_name(self.resource())
    }

    /// The trace id; `None` if the field is not exactly 16 bytes (usually: empty, uncorrelated).
    #[must_use]
    pub fn trace_id(&self) -> Option<TraceId> {
        super::trace_id(&self.log_record.trace_id)
    }

    /// The span id; `None` if the field is not exactly 8 bytes.
    #[must_use]
    pub fn span_id(&self) -> Option<SpanId> {
        super::span_id(&self.log_record.span_id)
    }

    /// The trace flags from bits 0-7 of `LogRecord.flags`.
    #[must_use]
    pub fn trace_flags(&self) -> TraceFlags {
        TraceFlags::from_otlp_span_flags(self.log_record.flags).0
    }

    /// The severity number (`Unspecified` for values this version does not know).
    #[must_use]
    pub fn severity(&self) -> SeverityNumber {
        self.log_record.severity_number()
    }

    /// The body, if set.
    #[must_use]
    pub fn body(&self) -> Option<&'a AnyValue> {
        self.log_record.body.as_ref()
    }

    /// The record's attributes.
    #[must_use]
    pub fn attributes(&self) -> &'a [KeyValue] {
        &self.log_record.attributes
    }

    /// The time of the event, or else the observed time (`0` if neither is set), the rule the
    /// OTLP spec gives for ordering records.
    #[must_use]
    pub fn effective_time_unix_nano(&self) -> u64 {
        match self.log_record.time_unix_nano {
            0 => self.log_record.observed_time_unix_nano,
            time => time,
        }
    }
}
