//! What a Kafka message value holds: the OTLP encodings of otelcol's kafka exporter and
//! receiver (`otlp_proto`, `otlp_json`, and for logs `raw` / `text`).
//!
//! `otlp_proto` is the Export request's protobuf encoding. otelcol marshals `TracesData`
//! (`MetricsData`, `LogsData`, `ProfilesData`): field 1 holds the same repeated resource
//! messages as field 1 of the Export request, so the two are the same bytes and either side
//! reads the other's messages.

use otlp_proto::collector::logs::v1::ExportLogsServiceRequest;
use otlp_proto::common::v1::{AnyValue, any_value};
use otlp_proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::KafkaConfigError;
use crate::signal::{ExportRequest, Signal};

/// The encoding of a signal's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The OTLP protobuf encoding (the default).
    OtlpProto,
    /// OTLP/JSON.
    OtlpJson,
    /// Logs only. Exporter: one message per log record, its body (bytes as they are, a string
    /// or any other value as JSON; records with an empty body are skipped). Receiver: the
    /// value becomes the bytes body of one log record.
    Raw,
    /// Logs only, receiver only (`text`, `text_utf-8`, `text_utf8`): the value, UTF-8, as
    /// the string body of one log record.
    Text,
}

/// Which component reads the setting: each supports a different set of encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The kafka exporter.
    Exporter,
    /// The kafka receiver.
    Receiver,
}

/// The topic otelcol uses for a signal when none is configured.
pub fn default_topic(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "otlp_spans",
        Signal::Metrics => "otlp_metrics",
        Signal::Logs => "otlp_logs",
        Signal::Profiles => "otlp_profiles",
    }
}

/// A message value that cannot be read with its encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode a {encoding} {signal} message: {message}")]
pub struct DecodeError {
    /// The signal expected.
    pub signal: Signal,
    /// The encoding's name.
    pub encoding: &'static str,
    /// Why.
    pub message: String,
}

/// A request that cannot be written with an encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {signal} as {encoding}: {message}")]
pub struct EncodeError {
    /// The signal.
    pub signal: Signal,
    /// The encoding's name.
    pub encoding: &'static str,
    /// Why.
    pub message: String,
}

impl Encoding {
    /// The configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::OtlpProto => "otlp_proto",
            Encoding::OtlpJson => "otlp_json",
            Encoding::Raw => "raw",
            Encoding::Text => "text",
        }
    }

    /// Reads `<signal>::encoding` (`key`): `otlp_proto` when empty. An encoding otelcol has
    /// but this side does not support (Jaeger, Zipkin, an encoding extension) is an error that
    /// names it and the key.
    pub fn parse(
        signal: Signal,
        side: Side,
        name: &str,
        key: &str,
    ) -> Result<Encoding, KafkaConfigError> {
        let encoding = match name.trim() {
            "" | "otlp_proto" => Encoding::OtlpProto,
            "otlp_json" => Encoding::OtlpJson,
            "raw" if signal == Signal::Logs => Encoding::Raw,
            "text" | "text_utf-8" | "text_utf8"
                if signal == Signal::Logs && side == Side::Receiver =>
            {
                Encoding::Text
            }
            other => {
                let supported = match (signal, side) {
                    (Signal::Logs, Side::Exporter) => "otlp_proto, otlp_json or raw",
                    (Signal::Logs, Side::Receiver) => "otlp_proto, otlp_json, raw or text",
                    _ => "otlp_proto or otlp_json",
                };
                return Err(KafkaConfigError::new(
                    key,
                    format!(
                        "unsupported encoding \"{other}\" for {signal}; supported: {supported}"
                    ),
                ));
            }
        };
        Ok(encoding)
    }

    /// Writes `request` as one message value (`otlp_proto`, `otlp_json`; [`raw_log_bodies`]
    /// is the `raw` encoding, which makes several).
    pub fn encode<R: ExportRequest + Serialize>(self, request: &R) -> Result<Vec<u8>, EncodeError> {
        match self {
            Encoding::OtlpProto => Ok(prost::Message::encode_to_vec(request)),
            Encoding::OtlpJson => otlp_proto::json::to_vec(request).map_err(|e| EncodeError {
                signal: R::SIGNAL,
                encoding: self.name(),
                message: e.to_string(),
            }),
            Encoding::Raw | Encoding::Text => Err(EncodeError {
                signal: R::SIGNAL,
                encoding: self.name(),
                message: "writes one message per log record (raw_log_bodies)".into(),
            }),
        }
    }

    /// Reads one message value as a request (`otlp_json`, `raw`, `text`; `otlp_proto` too,
    /// though the receiver validates protobuf without decoding it).
    pub fn decode<R: ExportRequest + DeserializeOwned>(
        self,
        value: &[u8],
    ) -> Result<R, DecodeError> {
        let error = |message: String| DecodeError {
            signal: R::SIGNAL,
            encoding: self.name(),
            message,
        };
        match self {
            Encoding::OtlpProto => R::decode(value).map_err(|e| error(e.to_string())),
            Encoding::OtlpJson => {
                otlp_proto::json::from_slice(value).map_err(|e| error(e.to_string()))
            }
            Encoding::Raw | Encoding::Text => Err(error("only logs have this encoding".into())),
        }
    }

    /// Reads a `raw` or `text` message value as a logs request of one record.
    pub fn decode_log_body(self, value: &[u8]) -> Result<ExportLogsServiceRequest, DecodeError> {
        let body = match self {
            Encoding::Raw => any_value::Value::BytesValue(value.to_vec()),
            Encoding::Text => match std::str::from_utf8(value) {
                Ok(text) => any_value::Value::StringValue(text.to_owned()),
                Err(e) => {
                    return Err(DecodeError {
                        signal: Signal::Logs,
                        encoding: self.name(),
                        message: e.to_string(),
                    });
                }
            },
            Encoding::OtlpProto | Encoding::OtlpJson => return self.decode(value),
        };
        Ok(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        body: Some(AnyValue { value: Some(body) }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    }
}

/// The `raw` log encoding: one value per log record, in order — a bytes body as it is, any
/// other body as JSON (a string body as a JSON string, as otelcol writes it); records without
/// a body are skipped.
pub fn raw_log_bodies(request: &ExportLogsServiceRequest) -> Result<Vec<Vec<u8>>, EncodeError> {
    let mut values = Vec::new();
    for record in request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
    {
        let Some(body) = record.body.as_ref().and_then(|b| b.value.as_ref()) else {
            continue;
        };
        let value = match body {
            any_value::Value::BytesValue(bytes) => bytes.clone(),
            other => json_value(other).map_err(|message| EncodeError {
                signal: Signal::Logs,
                encoding: "raw",
                message,
            })?,
        };
        if !value.is_empty() {
            values.push(value);
        }
    }
    Ok(values)
}

/// A body as plain JSON (not OTLP/JSON's tagged form): `"text"`, `42`, `[1, "a"]`, `{"k": 1}`.
fn json_value(value: &any_value::Value) -> Result<Vec<u8>, String> {
    fn plain(value: &any_value::Value) -> serde_json::Value {
        use any_value::Value as V;
        match value {
            V::StringValue(s) => serde_json::Value::String(s.clone()),
            V::BoolValue(b) => serde_json::Value::Bool(*b),
            V::IntValue(i) => serde_json::Value::from(*i),
            V::DoubleValue(d) => serde_json::Number::from_f64(*d)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            V::BytesValue(b) => serde_json::Value::String(base64_standard(b)),
            V::ArrayValue(array) => serde_json::Value::Array(
                array
                    .values
                    .iter()
                    .map(|v| v.value.as_ref().map_or(serde_json::Value::Null, plain))
                    .collect(),
            ),
            V::KvlistValue(list) => serde_json::Value::Object(
                list.values
                    .iter()
                    .map(|kv| {
                        let v = kv
                            .value
                            .as_ref()
                            .and_then(|v| v.value.as_ref())
                            .map_or(serde_json::Value::Null, plain);
                        (kv.key.clone(), v)
                    })
                    .collect(),
            ),
            _ => serde_json::Value::Null,
        }
    }
    serde_json::to_vec(&plain(value)).map_err(|e| e.to_string())
}

/// Standard base64 with padding (how Go's encoding/json writes `[]byte`).
fn base64_standard(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
    use otlp_proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn traces() -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![7; 16],
                        span_id: vec![1; 8],
                        name: "s".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn otlp_round_trips() {
        for encoding in [Encoding::OtlpProto, Encoding::OtlpJson] {
            let value = encoding.encode(&traces()).unwrap();
            let back: ExportTraceServiceRequest = encoding.decode(&value).unwrap();
            assert_eq!(back, traces(), "{encoding:?}");
        }
        let json = Encoding::OtlpJson.encode(&traces()).unwrap();
        assert!(
            std::str::from_utf8(&json)
                .unwrap()
                .contains("\"resourceSpans\"")
        );
        let error = Encoding::OtlpProto
            .decode::<ExportTraceServiceRequest>(b"\xff\xff\xff")
            .unwrap_err();
        assert_eq!(error.signal, Signal::Traces);
    }

    #[test]
    fn parse_names_the_key_and_refuses_what_is_missing() {
        let ok = |signal, side, name| Encoding::parse(signal, side, name, "k").unwrap();
        assert_eq!(ok(Signal::Traces, Side::Exporter, ""), Encoding::OtlpProto);
        assert_eq!(ok(Signal::Logs, Side::Exporter, "raw"), Encoding::Raw);
        assert_eq!(
            ok(Signal::Logs, Side::Receiver, "text_utf-8"),
            Encoding::Text
        );
        for (signal, side, name) in [
            (Signal::Traces, Side::Exporter, "jaeger_proto"),
            (Signal::Traces, Side::Receiver, "zipkin_json"),
            (Signal::Metrics, Side::Exporter, "raw"),
            (Signal::Logs, Side::Exporter, "text"),
        ] {
            let error = Encoding::parse(signal, side, name, "traces::encoding").unwrap_err();
            assert_eq!(error.key, "traces::encoding");
            assert!(error.message.contains(name), "{error}");
        }
    }

    #[test]
    fn raw_logs_like_otelcol() {
        let record = |value: any_value::Value| LogRecord {
            body: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        };
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        record(any_value::Value::BytesValue(b"\x00bytes".to_vec())),
                        record(any_value::Value::StringValue("text".into())),
                        LogRecord::default(),
                        record(any_value::Value::IntValue(42)),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let values = raw_log_bodies(&request).unwrap();
        assert_eq!(
            values,
            [b"\x00bytes".to_vec(), b"\"text\"".to_vec(), b"42".to_vec()]
        );
        let back = Encoding::Raw.decode_log_body(b"\x00bytes").unwrap();
        let body = back.resource_logs[0].scope_logs[0].log_records[0]
            .body
            .clone();
        assert_eq!(
            body.unwrap().value,
            Some(any_value::Value::BytesValue(b"\x00bytes".to_vec()))
        );
        assert!(Encoding::Text.decode_log_body(b"\xff").is_err());
        assert_eq!(base64_standard(b"ab"), "YWI=");
    }
}
