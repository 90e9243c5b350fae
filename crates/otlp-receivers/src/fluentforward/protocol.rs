//! The Fluent Forward protocol (v1) events and their translation into OTLP log records, as
//! otelcol-contrib's fluentforward receiver translates them.
//!
//! An event is a MessagePack array whose second element tells its mode:
//!
//! - **Message** `[tag, time, record, option?]` (the time is an integer or an `EventTime`);
//! - **Forward** `[tag, [[time, record], ...], option?]`;
//! - **PackedForward** `[tag, entries, option?]`: `entries` a str or bin holding concatenated
//!   `[time, record]` arrays — gzip-compressed (**CompressedPackedForward**) when the option
//!   `compressed` is `"gzip"`.
//!
//! Each record becomes one log record: `time_unix_nano` from the time (an `EventTime` — ext
//! type 0, seconds and nanoseconds as two big-endian u32 — or whole seconds), the value of the
//! key `message` or `log` as the body (fluentd and fluent-bit's names; the last such key wins),
//! every other key an attribute in record order (a repeated key keeps its first place and its
//! last value), and the attribute `fluent.tag` (first in Message mode, last in the others, as
//! otelcol places it). Values: str and bin → string (invalid UTF-8 replaced), ints → int (a
//! uint above `i64::MAX` → its decimal string), floats → double, bool, nil → an empty value,
//! arrays → array, maps → kvlist (str or bin keys), an ext → its bytes.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use otlp_proto::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList, any_value};
use otlp_proto::logs::v1::LogRecord;
use thiserror::Error;

use super::msgpack::{Kind, MAX_DEPTH, MsgpackError, Reader, Token, token_name};

/// The attribute holding the event's tag.
pub(crate) const TAG_ATTRIBUTE: &str = "fluent.tag";

/// Limits on what one event may expand to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes a compressed PackedForward's entries may inflate to.
    pub(crate) max_decompressed_bytes: usize,
    /// Log records one event may carry.
    pub(crate) max_records: usize,
}

/// Why an event cannot be decoded.
#[derive(Debug, Error)]
pub(crate) enum EventError {
    /// Not the MessagePack the protocol wants.
    #[error("{0}")]
    Msgpack(#[from] MsgpackError),
    /// An array of the wrong length.
    #[error("the {what} has {got} elements, the protocol wants {wanted}")]
    Length {
        /// What.
        what: &'static str,
        /// Its length.
        got: u32,
        /// The lengths allowed.
        wanted: &'static str,
    },
    /// The second element's type fits no mode.
    #[error("unable to determine the event mode: the second element is a {0}")]
    UnknownMode(&'static str),
    /// A time that is neither an integer nor an EventTime.
    #[error("the time is a {0}, not an integer or an EventTime")]
    Time(&'static str),
    /// The gzip data is broken.
    #[error("cannot decompress the gzip entries: {0}")]
    Gzip(std::io::Error),
    /// The entries inflate beyond the limit.
    #[error("the compressed entries inflate beyond {0} bytes")]
    TooLarge(usize),
    /// More records than the limit.
    #[error("the event carries more than {0} records")]
    TooManyRecords(usize),
    /// Bytes after the event's array.
    #[error("{0} bytes after the end of the event")]
    Trailing(usize),
}

/// The protocol's mode of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Message,
    Forward,
    PackedForward,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Message => "message",
            Mode::Forward => "forward",
            Mode::PackedForward => "packedforward",
        }
    }
}

/// One decoded event.
#[derive(Debug, Default)]
pub(crate) struct Event {
    pub(crate) records: Vec<LogRecord>,
    /// The `chunk` option: the sender wants `{"ack": chunk}` back.
    pub(crate) chunk: Option<String>,
    pub(crate) mode: Option<Mode>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Decodes one complete event (the bytes of exactly one top-level MessagePack object).
pub(crate) fn decode_event(bytes: &[u8], limits: Limits) -> Result<Event, EventError> {
    let mut r = Reader::new(bytes);
    let len = r.array("event")?;
    if !(2..=4).contains(&len) {
        return Err(EventError::Length {
            what: "event",
            got: len,
            wanted: "2 to 4",
        });
    }
    let tag = text(r.str("tag")?);
    let mode = match r.peek_kind()? {
        Kind::Int | Kind::Uint | Kind::Ext => Mode::Message,
        Kind::Array => Mode::Forward,
        Kind::Str | Kind::Bin => Mode::PackedForward,
        other => return Err(EventError::UnknownMode(other.name())),
    };
    let mut event = Event {
        mode: Some(mode),
        ..Event::default()
    };
    match mode {
        Mode::Message => {
            if !(3..=4).contains(&len) {
                return Err(EventError::Length {
                    what: "message mode event",
                    got: len,
                    wanted: "3 or 4",
                });
            }
            let mut record = LogRecord {
                attributes: vec![string_attribute(TAG_ATTRIBUTE, &tag)],
                ..LogRecord::default()
            };
            time_and_record(&mut r, &mut record)?;
            event.records.push(record);
            if len == 4 {
                options(&mut r, &mut event)?;
            }
        }
        Mode::Forward => {
            if len > 3 {
                return Err(EventError::Length {
                    what: "forward mode event",
                    got: len,
                    wanted: "2 or 3",
                });
            }
            let entries = r.array("entries")? as usize;
            if entries > limits.max_records {
                return Err(EventError::TooManyRecords(limits.max_records));
            }
            // Every entry takes at least 3 bytes: never reserve more than can be there.
            event.records.reserve(entries.min(r.remaining() / 3));
            for _ in 0..entries {
                event.records.push(entry(&mut r, &tag)?);
            }
            if len == 3 {
                options(&mut r, &mut event)?;
            }
        }
        Mode::PackedForward => {
            if len > 3 {
                return Err(EventError::Length {
                    what: "packed forward mode event",
                    got: len,
                    wanted: "2 or 3",
                });
            }
            let packed = r.str_or_bin("entries")?;
            let compressed = if len == 3 {
                options(&mut r, &mut event)?
            } else {
                false
            };
            if compressed {
                let inflated = inflate(packed, limits.max_decompressed_bytes)?;
                packed_entries(&inflated, &tag, limits, &mut event.records)?;
            } else {
                packed_entries(packed, &tag, limits, &mut event.records)?;
            }
        }
    }
    if !r.is_empty() {
        return Err(EventError::Trailing(r.remaining()));
    }
    Ok(event)
}

fn inflate(packed: &[u8], max: usize) -> Result<Vec<u8>, EventError> {
    let mut out = Vec::with_capacity(packed.len().saturating_mul(4).min(max));
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(packed)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(EventError::Gzip)?;
    if out.len() > max {
        return Err(EventError::TooLarge(max));
    }
    Ok(out)
}

fn packed_entries(
    bytes: &[u8],
    tag: &str,
    limits: Limits,
    records: &mut Vec<LogRecord>,
) -> Result<(), EventError> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        if records.len() >= limits.max_records {
            return Err(EventError::TooManyRecords(limits.max_records));
        }
        records.push(entry(&mut r, tag)?);
    }
    Ok(())
}

/// `[time, record]`, tagged after the record (otelcol puts `fluent.tag` last here).
fn entry(r: &mut Reader<'_>, tag: &str) -> Result<LogRecord, EventError> {
    let len = r.array("entry")?;
    if len != 2 {
        return Err(EventError::Length {
            what: "entry",
            got: len,
            wanted: "2",
        });
    }
    let mut record = LogRecord::default();
    time_and_record(r, &mut record)?;
    put(&mut record.attributes, TAG_ATTRIBUTE, string_value(tag));
    Ok(record)
}

/// The options map: returns whether the entries are gzip-compressed; keeps `chunk`.
fn options(r: &mut Reader<'_>, event: &mut Event) -> Result<bool, EventError> {
    let len = r.map("option")?;
    let mut compressed = false;
    for _ in 0..len {
        let key = r.str("option key")?;
        match key {
            b"chunk" | b"compressed" => {
                let token = r.token()?;
                let value = match token {
                    Token::Str(s) => Some(text(s)),
                    Token::Array(_) | Token::Map(_) => {
                        // Not a string: ignored, as otelcol ignores it.
                        skip_children(r, token)?;
                        None
                    }
                    _ => None,
                };
                if key == b"chunk" {
                    event.chunk = value.filter(|c| !c.is_empty());
                } else {
                    compressed = value.as_deref() == Some("gzip");
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(compressed)
}

fn skip_children(r: &mut Reader<'_>, token: Token<'_>) -> Result<(), MsgpackError> {
    let n = match token {
        Token::Array(n) => u64::from(n),
        Token::Map(n) => u64::from(n) * 2,
        _ => 0,
    };
    for _ in 0..n {
        r.skip()?;
    }
    Ok(())
}

/// The time, then the record map.
fn time_and_record(r: &mut Reader<'_>, record: &mut LogRecord) -> Result<(), EventError> {
    record.time_unix_nano = match r.token()? {
        Token::Uint(seconds) => seconds.saturating_mul(1_000_000_000),
        Token::Int(seconds) => {
            u64::try_from(seconds.max(0)).map_or(0, |s| s.saturating_mul(1_000_000_000))
        }
        Token::Ext(ext) if ext.kind == 0 && ext.data.len() == 8 => {
            let seconds = u64::from(u32::from_be_bytes([
                ext.data[0],
                ext.data[1],
                ext.data[2],
                ext.data[3],
            ]));
            let nanos = u64::from(u32::from_be_bytes([
                ext.data[4],
                ext.data[5],
                ext.data[6],
                ext.data[7],
            ]));
            seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
        }
        other => return Err(EventError::Time(token_name(&other))),
    };
    let len = r.map("record")?;
    record
        .attributes
        .reserve((len as usize).min(r.remaining() / 2));
    for _ in 0..len {
        let key = r.str_or_bin("record key")?;
        let value = any_value(r, 0)?;
        if key == b"message" || key == b"log" {
            record.body = Some(value);
        } else {
            put(&mut record.attributes, &String::from_utf8_lossy(key), value);
        }
    }
    Ok(())
}

fn string_value(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    }
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(string_value(value)),
        ..KeyValue::default()
    }
}

/// Sets `key`, in place when present (otelcol's `PutEmpty`), else at the end.
fn put(attributes: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    if let Some(existing) = attributes.iter_mut().find(|kv| kv.key == key) {
        existing.value = Some(value);
    } else {
        attributes.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            ..KeyValue::default()
        });
    }
}

/// One value, recursively.
fn any_value(r: &mut Reader<'_>, depth: usize) -> Result<AnyValue, EventError> {
    use any_value::Value;
    if depth > MAX_DEPTH {
        return Err(MsgpackError::TooDeep.into());
    }
    let value = match r.token()? {
        Token::Nil => None,
        Token::Bool(b) => Some(Value::BoolValue(b)),
        Token::Int(i) => Some(Value::IntValue(i)),
        Token::Uint(u) => Some(match i64::try_from(u) {
            Ok(i) => Value::IntValue(i),
            Err(_) => Value::StringValue(u.to_string()),
        }),
        Token::Float(f) => Some(Value::DoubleValue(f)),
        Token::Str(s) | Token::Bin(s) => Some(Value::StringValue(text(s))),
        Token::Ext(ext) => Some(Value::BytesValue(ext.data.to_vec())),
        Token::Array(n) => {
            let mut values = Vec::with_capacity((n as usize).min(r.remaining()));
            for _ in 0..n {
                values.push(any_value(r, depth + 1)?);
            }
            Some(Value::ArrayValue(ArrayValue { values }))
        }
        Token::Map(n) => {
            let mut values: Vec<KeyValue> = Vec::with_capacity((n as usize).min(r.remaining() / 2));
            for _ in 0..n {
                let key = r.str_or_bin("map key")?;
                let value = any_value(r, depth + 1)?;
                put(&mut values, &String::from_utf8_lossy(key), value);
            }
            Some(Value::KvlistValue(KeyValueList { values }))
        }
    };
    Ok(AnyValue { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_decompressed_bytes: 1 << 20,
        max_records: 1000,
    };

    /// A tiny MessagePack writer for the tests.
    #[derive(Default)]
    struct W(Vec<u8>);

    impl W {
        fn arr(&mut self, n: u8) -> &mut Self {
            self.0.push(0x90 | n);
            self
        }
        fn map(&mut self, n: u8) -> &mut Self {
            self.0.push(0x80 | n);
            self
        }
        fn s(&mut self, s: &str) -> &mut Self {
            self.0.push(0xd9);
            self.0.push(s.len() as u8);
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        fn bin(&mut self, b: &[u8]) -> &mut Self {
            self.0.push(0xc6);
            self.0.extend_from_slice(&(b.len() as u32).to_be_bytes());
            self.0.extend_from_slice(b);
            self
        }
        fn u(&mut self, v: u32) -> &mut Self {
            self.0.push(0xce);
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn et(&mut self, s: u32, ns: u32) -> &mut Self {
            self.0.extend_from_slice(&[0xd7, 0x00]);
            self.0.extend_from_slice(&s.to_be_bytes());
            self.0.extend_from_slice(&ns.to_be_bytes());
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.0.extend_from_slice(b);
            self
        }
    }

    fn str_of(v: &Option<AnyValue>) -> Option<&str> {
        match v.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    fn keys(r: &LogRecord) -> Vec<&str> {
        r.attributes.iter().map(|kv| kv.key.as_str()).collect()
    }

    #[test]
    fn message_mode_with_event_time_and_chunk() {
        let mut w = W::default();
        w.arr(4).s("app.web").et(1_700_000_000, 123_456_789);
        w.map(3)
            .s("message")
            .s("hello")
            .s("level")
            .s("info")
            .s("n")
            .u(7);
        w.map(2).s("chunk").s("c-1").s("size").u(1);
        let event = decode_event(&w.0, LIMITS).unwrap();
        assert_eq!(event.mode, Some(Mode::Message));
        assert_eq!(event.chunk.as_deref(), Some("c-1"));
        let [record] = event.records.as_slice() else {
            panic!("one record expected");
        };
        assert_eq!(record.time_unix_nano, 1_700_000_000_123_456_789);
        assert_eq!(str_of(&record.body), Some("hello"));
        assert_eq!(keys(record), ["fluent.tag", "level", "n"]);
        assert_eq!(str_of(&record.attributes[0].value), Some("app.web"));
        assert_eq!(
            record.attributes[2].value,
            Some(AnyValue {
                value: Some(any_value::Value::IntValue(7))
            })
        );
    }

    #[test]
    fn forward_mode_puts_the_tag_last_and_log_is_the_body() {
        let mut w = W::default();
        w.arr(2).s("t").arr(2);
        w.arr(2).u(10).map(2).s("log").s("a").s("k").s("v");
        w.arr(2).u(11).map(1).s("k").s("w");
        let event = decode_event(&w.0, LIMITS).unwrap();
        assert_eq!(event.mode, Some(Mode::Forward));
        assert_eq!(event.chunk, None);
        assert_eq!(event.records.len(), 2);
        assert_eq!(event.records[0].time_unix_nano, 10_000_000_000);
        assert_eq!(str_of(&event.records[0].body), Some("a"));
        assert_eq!(keys(&event.records[0]), ["k", "fluent.tag"]);
        assert_eq!(event.records[1].body, None);
    }

    fn entries() -> Vec<u8> {
        let mut e = W::default();
        for i in 0..3 {
            e.arr(2).et(100 + i, 5).map(1).s("message").s("m");
        }
        e.0
    }

    #[test]
    fn packed_forward_plain_and_gzip() {
        let mut w = W::default();
        w.arr(2).s("p").bin(&entries());
        let event = decode_event(&w.0, LIMITS).unwrap();
        assert_eq!(event.mode, Some(Mode::PackedForward));
        assert_eq!(event.records.len(), 3);
        assert_eq!(event.records[2].time_unix_nano, 102_000_000_005);

        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&entries()).unwrap();
        let mut packed = gz.finish().unwrap();
        // Two gzip members, concatenated, as fluentd writes them.
        let again = packed.clone();
        packed.extend_from_slice(&again);
        let mut w = W::default();
        w.arr(3).s("p").bin(&packed);
        w.map(2).s("compressed").s("gzip").s("chunk").s("x");
        let event = decode_event(&w.0, LIMITS).unwrap();
        assert_eq!(event.records.len(), 6);
        assert_eq!(event.chunk.as_deref(), Some("x"));
    }

    #[test]
    fn gzip_bombs_and_record_floods_are_refused() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0x90u8; 4 << 20]).unwrap();
        let mut w = W::default();
        w.arr(3).s("p").bin(&gz.finish().unwrap());
        w.map(1).s("compressed").s("gzip");
        assert!(matches!(
            decode_event(&w.0, LIMITS),
            Err(EventError::TooLarge(_))
        ));
        let mut w = W::default();
        w.arr(2).s("t").raw(&[0xdd, 0, 0, 0x10, 0]);
        assert!(matches!(
            decode_event(&w.0, LIMITS),
            Err(EventError::TooManyRecords(1000))
        ));
    }

    #[test]
    fn values_translate_as_otelcol_does() {
        let mut w = W::default();
        w.arr(3).s("t").u(1).map(6);
        w.s("big")
            .raw(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        w.s("neg").raw(&[0xd0, 0x9c]);
        w.s("f").raw(&[0xcb]).raw(&1.5f64.to_be_bytes());
        w.s("nil").raw(&[0xc0]);
        w.s("nested").map(1).s("a").arr(2).raw(&[0xc3]).bin(b"xy");
        // A repeated key keeps its place, takes the last value.
        w.s("neg").s("again");
        let event = decode_event(&w.0, LIMITS).unwrap();
        let r = &event.records[0];
        assert_eq!(keys(r), ["fluent.tag", "big", "neg", "f", "nil", "nested"]);
        assert_eq!(str_of(&r.attributes[1].value), Some("18446744073709551615"));
        assert_eq!(str_of(&r.attributes[2].value), Some("again"));
        assert_eq!(
            r.attributes[3].value.as_ref().unwrap().value,
            Some(any_value::Value::DoubleValue(1.5))
        );
        assert_eq!(r.attributes[4].value, Some(AnyValue { value: None }));
        let Some(any_value::Value::KvlistValue(kv)) =
            &r.attributes[5].value.as_ref().unwrap().value
        else {
            panic!("kvlist expected");
        };
        assert_eq!(kv.values[0].key, "a");
    }

    #[test]
    fn wrong_shapes_are_errors_not_panics() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x01],
            vec![0x91, 0xa1, b't'],
            vec![0x93, 0x01, 0x01, 0x80],
            vec![0x93, 0xa1, b't', 0xc0, 0x80],
            vec![0x93, 0xa1, b't', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
            vec![0x93, 0xa1, b't', 0x01, 0x90],
            vec![0x93, 0xa1, b't', 0x01, 0x81, 0x01, 0x01],
            vec![0x92, 0xa1, b't', 0x91, 0x91, 0x01],
            vec![0x92, 0xa1, b't', 0xa2, 0x92, 0x01],
            vec![0x93, 0xa1, b't', 0xa0, 0x81, 0xa1, b'c', 0x01, 0x00],
            vec![0x93, 0xa1, b't', 0x01, 0x80, 0x00],
        ];
        for case in cases {
            assert!(decode_event(&case, LIMITS).is_err(), "{case:02x?}");
        }
    }
}
