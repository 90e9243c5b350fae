//! Jaeger's Thrift structs (`jaeger.thrift`: Batch, Process, Span, Tag, Log, SpanRef) read from
//! either protocol, and the agent's `emitBatch` message. Required fields are enforced, as
//! Thrift's generated readers enforce them; unknown fields are skipped.

use super::thrift::{Protocol, Reader, TType, ThriftError};

/// `jaeger.Tag`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tag {
    pub key: String,
    /// `TagType`: 0 STRING, 1 DOUBLE, 2 BOOL, 3 LONG, 4 BINARY.
    pub v_type: i32,
    pub v_str: Option<String>,
    pub v_double: Option<f64>,
    pub v_bool: Option<bool>,
    pub v_long: Option<i64>,
    pub v_binary: Option<Vec<u8>>,
}

/// `jaeger.Log`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Log {
    /// Epoch microseconds.
    pub timestamp: i64,
    pub fields: Vec<Tag>,
}

/// `jaeger.SpanRef`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SpanRef {
    /// 0 CHILD_OF, 1 FOLLOWS_FROM.
    pub ref_type: i32,
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
}

/// `jaeger.Span`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Span {
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
    pub parent_span_id: i64,
    pub operation_name: String,
    pub references: Option<Vec<SpanRef>>,
    pub flags: i32,
    /// Epoch microseconds.
    pub start_time: i64,
    /// Microseconds.
    pub duration: i64,
    pub tags: Option<Vec<Tag>>,
    pub logs: Option<Vec<Log>>,
}

/// `jaeger.Process`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Process {
    pub service_name: String,
    pub tags: Option<Vec<Tag>>,
}

/// `jaeger.Batch`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Batch {
    pub process: Process,
    pub spans: Vec<Span>,
}

fn missing(name: &str) -> ThriftError {
    ThriftError::Invalid(format!("required field {name} is not set"))
}

/// Reads a struct's fields with `field`, which returns `false` for an id it does not read
/// (then skipped). A field of the wrong type is skipped too.
fn read_struct(
    r: &mut Reader<'_>,
    mut field: impl FnMut(&mut Reader<'_>, i16, TType) -> Result<bool, ThriftError>,
) -> Result<(), ThriftError> {
    r.struct_begin();
    loop {
        let (ttype, id) = r.field_begin()?;
        if ttype == TType::Stop {
            break;
        }
        if !field(r, id, ttype)? {
            r.skip(ttype)?;
        }
    }
    r.struct_end();
    Ok(())
}

fn list<T>(
    r: &mut Reader<'_>,
    mut element: impl FnMut(&mut Reader<'_>) -> Result<T, ThriftError>,
) -> Result<Vec<T>, ThriftError> {
    let (ttype, n) = r.list_begin()?;
    if ttype != TType::Struct {
        for _ in 0..n {
            r.skip(ttype)?;
        }
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        out.push(element(r)?);
    }
    Ok(out)
}

fn tag(r: &mut Reader<'_>) -> Result<Tag, ThriftError> {
    let mut t = Tag::default();
    let (mut key, mut v_type) = (false, false);
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::String) => {
                t.key = r.string()?.to_owned();
                key = true;
            }
            (2, TType::I32) => {
                t.v_type = r.i32()?;
                v_type = true;
            }
            (3, TType::String) => t.v_str = Some(r.string()?.to_owned()),
            (4, TType::Double) => t.v_double = Some(r.double()?),
            (5, TType::Bool) => t.v_bool = Some(r.bool()?),
            (6, TType::I64) => t.v_long = Some(r.i64()?),
            (7, TType::String) => t.v_binary = Some(r.binary()?.to_vec()),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !key {
        return Err(missing("Key"));
    }
    if !v_type {
        return Err(missing("VType"));
    }
    Ok(t)
}

fn log(r: &mut Reader<'_>) -> Result<Log, ThriftError> {
    let mut l = Log::default();
    let (mut ts, mut fields) = (false, false);
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::I64) => {
                l.timestamp = r.i64()?;
                ts = true;
            }
            (2, TType::List) => {
                l.fields = list(r, tag)?;
                fields = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !ts {
        return Err(missing("Timestamp"));
    }
    if !fields {
        return Err(missing("Fields"));
    }
    Ok(l)
}

fn span_ref(r: &mut Reader<'_>) -> Result<SpanRef, ThriftError> {
    let mut s = SpanRef::default();
    let mut seen = [false; 4];
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::I32) => s.ref_type = r.i32()?,
            (2, TType::I64) => s.trace_id_low = r.i64()?,
            (3, TType::I64) => s.trace_id_high = r.i64()?,
            (4, TType::I64) => s.span_id = r.i64()?,
            _ => return Ok(false),
        }
        seen[usize::try_from(id - 1).unwrap_or(0)] = true;
        Ok(true)
    })?;
    for (i, name) in ["RefType", "TraceIdLow", "TraceIdHigh", "SpanId"]
        .iter()
        .enumerate()
    {
        if !seen[i] {
            return Err(missing(name));
        }
    }
    Ok(s)
}

fn span(r: &mut Reader<'_>) -> Result<Span, ThriftError> {
    let mut s = Span::default();
    let mut seen = [false; 11];
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::I64) => s.trace_id_low = r.i64()?,
            (2, TType::I64) => s.trace_id_high = r.i64()?,
            (3, TType::I64) => s.span_id = r.i64()?,
            (4, TType::I64) => s.parent_span_id = r.i64()?,
            (5, TType::String) => s.operation_name = r.string()?.to_owned(),
            (6, TType::List) => s.references = Some(list(r, span_ref)?),
            (7, TType::I32) => s.flags = r.i32()?,
            (8, TType::I64) => s.start_time = r.i64()?,
            (9, TType::I64) => s.duration = r.i64()?,
            (10, TType::List) => s.tags = Some(list(r, tag)?),
            (11, TType::List) => s.logs = Some(list(r, log)?),
            _ => return Ok(false),
        }
        seen[usize::try_from(id - 1).unwrap_or(0)] = true;
        Ok(true)
    })?;
    for (i, name) in [
        (0, "TraceIdLow"),
        (1, "TraceIdHigh"),
        (2, "SpanId"),
        (3, "ParentSpanId"),
        (4, "OperationName"),
        (6, "Flags"),
        (7, "StartTime"),
        (8, "Duration"),
    ] {
        if !seen[i] {
            return Err(missing(name));
        }
    }
    Ok(s)
}

fn process(r: &mut Reader<'_>) -> Result<Process, ThriftError> {
    let mut p = Process::default();
    let mut name = false;
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::String) => {
                p.service_name = r.string()?.to_owned();
                name = true;
            }
            (2, TType::List) => p.tags = Some(list(r, tag)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !name {
        return Err(missing("ServiceName"));
    }
    Ok(p)
}

fn batch(r: &mut Reader<'_>) -> Result<Batch, ThriftError> {
    let mut b = Batch::default();
    let (mut has_process, mut has_spans) = (false, false);
    read_struct(r, |r, id, ty| {
        match (id, ty) {
            (1, TType::Struct) => {
                b.process = process(r)?;
                has_process = true;
            }
            (2, TType::List) => {
                b.spans = list(r, span)?;
                has_spans = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !has_process {
        return Err(missing("Process"));
    }
    if !has_spans {
        return Err(missing("Spans"));
    }
    Ok(b)
}

/// A bare `Batch` in the binary protocol (the body of `POST /api/traces`).
pub(crate) fn decode_batch(body: &[u8]) -> Result<Batch, ThriftError> {
    batch(&mut Reader::new(body, Protocol::Binary))
}

/// One agent datagram: `Agent.emitBatch(1: Batch batch)`. `Ok(None)` when the message carries
/// no batch.
pub(crate) fn decode_emit_batch(
    packet: &[u8],
    protocol: Protocol,
) -> Result<Option<Batch>, ThriftError> {
    let mut r = Reader::new(packet, protocol);
    let name = r.message_begin()?;
    if name != "emitBatch" {
        return Err(ThriftError::Invalid(format!(
            "{name:?} is not supported (only emitBatch; Zipkin over the agent is not)"
        )));
    }
    let mut out = None;
    read_struct(&mut r, |r, id, ty| {
        if (id, ty) == (1, TType::Struct) {
            out = Some(batch(r)?);
            return Ok(true);
        }
        Ok(false)
    })?;
    Ok(out)
}
