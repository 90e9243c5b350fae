//! Prometheus remote write 1.0 on the wire: `prometheus.WriteRequest` as protobuf, compressed
//! with snappy's block format.
//!
//! The messages (field numbers of `prompb/remote.proto` and `prompb/types.proto`):
//! `WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }`,
//! `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }`,
//! `Label { string name = 1; string value = 2; }`,
//! `Sample { double value = 1; int64 timestamp = 2; }` (milliseconds),
//! `MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4;
//! string unit = 5; }`. Written by hand: five small messages do not need a code generator.
//! [`decode`] reads them back (tests, and the differential against the Go exporter).

use thiserror::Error;

/// `Content-Type` of a remote write request.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// `X-Prometheus-Remote-Write-Version` of remote write 1.0.
pub const VERSION: &str = "0.1.0";

/// A label: name and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The name (`__name__` for the metric name).
    pub name: String,
    /// The value.
    pub value: String,
}

/// A sample: value and timestamp in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The value (`StaleNaN` marks a series that ended).
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
}

/// A series: its labels, sorted by name, and its samples, by time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeSeries {
    /// Sorted by name; `__name__` among them.
    pub labels: Vec<Label>,
    /// Sorted by timestamp.
    pub samples: Vec<Sample>,
}

/// `prompb.MetricMetadata.MetricType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum MetadataType {
    /// `UNKNOWN`.
    Unknown = 0,
    /// `COUNTER`.
    Counter = 1,
    /// `GAUGE`.
    Gauge = 2,
    /// `HISTOGRAM`.
    Histogram = 3,
    /// `SUMMARY`.
    Summary = 5,
}

impl MetadataType {
    fn from_i32(v: i64) -> MetadataType {
        match v {
            1 => MetadataType::Counter,
            2 => MetadataType::Gauge,
            3 => MetadataType::Histogram,
            5 => MetadataType::Summary,
            _ => MetadataType::Unknown,
        }
    }
}

/// Metadata of a metric family (`send_metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The type.
    pub kind: MetadataType,
    /// The family name (without `_bucket`, `_sum`, …).
    pub family: String,
    /// The OTLP description.
    pub help: String,
    /// The OTLP unit.
    pub unit: String,
}

/// One remote write request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteRequest {
    /// The series.
    pub timeseries: Vec<TimeSeries>,
    /// Family metadata.
    pub metadata: Vec<Metadata>,
}

/// What [`decode`] and [`decompress`] refuse.
#[derive(Debug, Error)]
pub enum WireError {
    /// Not snappy's block format.
    #[error("snappy: {0}")]
    Snappy(#[from] snap::Error),
    /// The decompressed size is above the limit.
    #[error("the decompressed body would be {size} bytes, more than {limit}")]
    TooLarge {
        /// The size snappy's header announces.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a valid `WriteRequest`.
    #[error("protobuf: {0}")]
    Protobuf(&'static str),
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Length of a length-delimited field of `len` bytes (key of a field number < 16 included).
fn delimited_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn string_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        delimited_len(s.len())
    }
}

fn label_len(label: &Label) -> usize {
    string_len(&label.name) + string_len(&label.value)
}

fn sample_len(sample: &Sample) -> usize {
    let value = if sample.value.to_bits() == 0 { 0 } else { 9 };
    let timestamp = if sample.timestamp == 0 {
        0
    } else {
        1 + varint_len(sample.timestamp as u64)
    };
    value + timestamp
}

impl TimeSeries {
    /// The encoded size of the series' message body.
    pub fn encoded_len(&self) -> usize {
        self.labels
            .iter()
            .map(|l| delimited_len(label_len(l)))
            .sum::<usize>()
            + self
                .samples
                .iter()
                .map(|s| delimited_len(sample_len(s)))
                .sum::<usize>()
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for label in &self.labels {
            key(out, 1, 2);
            varint(out, label_len(label) as u64);
            if !label.name.is_empty() {
                bytes_field(out, 1, label.name.as_bytes());
            }
            if !label.value.is_empty() {
                bytes_field(out, 2, label.value.as_bytes());
            }
        }
        for sample in &self.samples {
            key(out, 2, 2);
            varint(out, sample_len(sample) as u64);
            if sample.value.to_bits() != 0 {
                key(out, 1, 1);
                out.extend_from_slice(&sample.value.to_le_bytes());
            }
            if sample.timestamp != 0 {
                key(out, 2, 0);
                varint(out, sample.timestamp as u64);
            }
        }
    }
}

impl Metadata {
    fn encoded_len(&self) -> usize {
        let kind = self.kind as i32;
        (if kind == 0 {
            0
        } else {
            1 + varint_len(kind as u64)
        }) + string_len(&self.family)
            + string_len(&self.help)
            + string_len(&self.unit)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let kind = self.kind as i32;
        if kind != 0 {
            key(out, 1, 0);
            varint(out, kind as u64);
        }
        for (field, s) in [(2, &self.family), (4, &self.help), (5, &self.unit)] {
            if !s.is_empty() {
                bytes_field(out, field, s.as_bytes());
            }
        }
    }
}

impl WriteRequest {
    /// The protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        let size = self
            .timeseries
            .iter()
            .map(|t| delimited_len(t.encoded_len()))
            .sum::<usize>()
            + self
                .metadata
                .iter()
                .map(|m| delimited_len(m.encoded_len()))
                .sum::<usize>();
        let mut out = Vec::with_capacity(size);
        for series in &self.timeseries {
            key(&mut out, 1, 2);
            varint(&mut out, series.encoded_len() as u64);
            series.encode(&mut out);
        }
        for metadata in &self.metadata {
            key(&mut out, 3, 2);
            varint(&mut out, metadata.encoded_len() as u64);
            metadata.encode(&mut out);
        }
        out
    }

    /// The encoding, snappy-compressed (block format), as the wire carries it.
    pub fn encode_compressed(&self) -> Result<Vec<u8>, WireError> {
        Ok(snap::raw::Encoder::new().compress_vec(&self.encode())?)
    }
}

/// Snappy-decompresses `body`, refusing an announced size above `limit`.
pub fn decompress(body: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    let size = snap::raw::decompress_len(body)?;
    if size > limit {
        return Err(WireError::TooLarge { size, limit });
    }
    Ok(snap::raw::Decoder::new().decompress_vec(body)?)
}

/// A protobuf reader over one message.
struct Reader<'a> {
    data: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let (&b, rest) = self
                .data
                .split_first()
                .ok_or(WireError::Protobuf("truncated varint"))?;
            self.data = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError::Protobuf("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.data.len() {
            return Err(WireError::Protobuf("truncated field"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, WireError> {
        if self.data.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Field::Fixed64(u64::from_le_bytes(a))
            }
            2 => {
                let n = usize::try_from(self.varint()?)
                    .map_err(|_| WireError::Protobuf("length too large"))?;
                Field::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Field::Fixed32
            }
            _ => return Err(WireError::Protobuf("unsupported wire type")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn string(bytes: &[u8]) -> Result<String, WireError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| WireError::Protobuf("string is not UTF-8"))
}

fn decode_series(data: &[u8]) -> Result<TimeSeries, WireError> {
    let mut series = TimeSeries::default();
    let mut reader = Reader { data };
    while let Some((number, field)) = reader.next()? {
        match (number, field) {
            (1, Field::Bytes(b)) => {
                let mut label = Label {
                    name: String::new(),
                    value: String::new(),
                };
                let mut inner = Reader { data: b };
                while let Some((n, f)) = inner.next()? {
                    match (n, f) {
                        (1, Field::Bytes(s)) => label.name = string(s)?,
                        (2, Field::Bytes(s)) => label.value = string(s)?,
                        _ => {}
                    }
                }
                series.labels.push(label);
            }
            (2, Field::Bytes(b)) => {
                let mut sample = Sample {
                    value: 0.0,
                    timestamp: 0,
                };
                let mut inner = Reader { data: b };
                while let Some((n, f)) = inner.next()? {
                    match (n, f) {
                        (1, Field::Fixed64(v)) => sample.value = f64::from_bits(v),
                        (2, Field::Varint(v)) => sample.timestamp = v as i64,
                        _ => {}
                    }
                }
                series.samples.push(sample);
            }
            _ => {}
        }
    }
    Ok(series)
}

fn decode_metadata(data: &[u8]) -> Result<Metadata, WireError> {
    let mut m = Metadata {
        kind: MetadataType::Unknown,
        family: String::new(),
        help: String::new(),
        unit: String::new(),
    };
    let mut reader = Reader { data };
    while let Some((number, field)) = reader.next()? {
        match (number, field) {
            (1, Field::Varint(v)) => m.kind = MetadataType::from_i32(v as i64),
            (2, Field::Bytes(s)) => m.family = string(s)?,
            (4, Field::Bytes(s)) => m.help = string(s)?,
            (5, Field::Bytes(s)) => m.unit = string(s)?,
            _ => {}
        }
    }
    Ok(m)
}

/// Reads a `WriteRequest` (uncompressed protobuf). Unknown fields (exemplars, native
/// histograms) are skipped.
pub fn decode(data: &[u8]) -> Result<WriteRequest, WireError> {
    let mut request = WriteRequest::default();
    let mut reader = Reader { data };
    while let Some((number, field)) = reader.next()? {
        match (number, field) {
            (1, Field::Bytes(b)) => request.timeseries.push(decode_series(b)?),
            (3, Field::Bytes(b)) => request.metadata.push(decode_metadata(b)?),
            _ => {}
        }
    }
    Ok(request)
}
