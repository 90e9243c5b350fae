//! Jaeger's protobuf model (`jaeger.api_v2`, `model.proto` and `collector.proto`) as prost
//! messages written from the IDL's field numbers: the request of
//! `jaeger.api_v2.CollectorService/PostSpans`.

/// `google.protobuf.Timestamp` / `Duration` (the same two fields).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub(crate) struct Time {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Time {
    /// Nanoseconds (since the epoch, or of a duration).
    pub(crate) fn nanos(&self) -> i64 {
        self.seconds
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(self.nanos))
    }
}

/// `PostSpansRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct PostSpansRequest {
    #[prost(message, optional, tag = "1")]
    pub batch: Option<Batch>,
}

/// `Batch`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Batch {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<Span>,
    #[prost(message, optional, tag = "2")]
    pub process: Option<Process>,
}

/// `Process`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub(crate) struct Process {
    #[prost(string, tag = "1")]
    pub service_name: String,
    #[prost(message, repeated, tag = "2")]
    pub tags: Vec<KeyValue>,
}

/// `KeyValue`; `v_type`: 0 STRING, 1 BOOL, 2 INT64, 3 FLOAT64, 4 BINARY.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(int32, tag = "2")]
    pub v_type: i32,
    #[prost(string, tag = "3")]
    pub v_str: String,
    #[prost(bool, tag = "4")]
    pub v_bool: bool,
    #[prost(int64, tag = "5")]
    pub v_int64: i64,
    #[prost(double, tag = "6")]
    pub v_float64: f64,
    #[prost(bytes = "vec", tag = "7")]
    pub v_binary: Vec<u8>,
}

impl Eq for KeyValue {}

impl std::hash::Hash for KeyValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
        self.v_type.hash(state);
        self.v_str.hash(state);
        self.v_bool.hash(state);
        self.v_int64.hash(state);
        self.v_float64.to_bits().hash(state);
        self.v_binary.hash(state);
    }
}

/// `Log`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Log {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Time>,
    #[prost(message, repeated, tag = "2")]
    pub fields: Vec<KeyValue>,
}

/// `SpanRef`; `ref_type`: 0 CHILD_OF, 1 FOLLOWS_FROM.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SpanRef {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(int32, tag = "3")]
    pub ref_type: i32,
}

/// `Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Span {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "3")]
    pub operation_name: String,
    #[prost(message, repeated, tag = "4")]
    pub references: Vec<SpanRef>,
    #[prost(uint32, tag = "5")]
    pub flags: u32,
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Time>,
    #[prost(message, optional, tag = "7")]
    pub duration: Option<Time>,
    #[prost(message, repeated, tag = "8")]
    pub tags: Vec<KeyValue>,
    #[prost(message, repeated, tag = "9")]
    pub logs: Vec<Log>,
    #[prost(message, optional, tag = "10")]
    pub process: Option<Process>,
    #[prost(string, tag = "11")]
    pub process_id: String,
    #[prost(string, repeated, tag = "12")]
    pub warnings: Vec<String>,
}
