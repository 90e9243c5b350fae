//! OTLP/JSON: the "JSON Protobuf Encoding" of the OTLP specification, for every message of
//! this crate (feature `json`).
//!
//! Every message type — the Export requests and responses included — implements
//! [`serde::Serialize`] and [`serde::Deserialize`] with the mapping below. The impls are
//! generated from the schema by `cargo xtask codegen` (see `src/generated/json/`) as direct
//! visitor code: keys are matched as borrowed `&str` by a generated `match`, values go straight
//! into the prost structs, and nothing passes through `serde_json::Value`. Use the functions of
//! this module, or serde_json (or another self-describing serde format) directly.
//!
//! # The mapping
//!
//! OTLP/JSON is the proto3 JSON mapping with OTLP's own changes. Written (by [`to_vec`] and
//! [`to_string`], compact, fields in schema order) and read (by [`from_slice`] and
//! [`from_str`]) as follows:
//!
//! | What | Written as | Also read from |
//! | --- | --- | --- |
//! | Keys | the field's lowerCamelCase JSON name (`traceId`, `timeUnixNano`) | — any other key, the original snake_case name included, is an unknown field: ignored, whatever its value |
//! | `trace_id`, `span_id`, `parent_span_id` (`bytes`, in every message) | lower-case hex: 32 digits for a trace id, 16 for a span id; `""` for empty | hex in any case; a wrong length or a non-hex digit is an error |
//! | other `bytes` | standard base64 with padding | URL-safe alphabet, and either alphabet without padding |
//! | enums | the number | the value name (`"SPAN_KIND_SERVER"`); unknown numbers are kept (enums are open), an unknown name is an error |
//! | 64-bit integers (`int64`, `uint64`, `sint64`, `fixed64`, `sfixed64`) | a decimal string (`"1700000000000000000"`) | a JSON number; a float with no fractional part (`1e3`) in range |
//! | 32-bit integers | a number | a decimal string; a float with no fractional part in range |
//! | `double`, `float` | a number; `"NaN"`, `"Infinity"`, `"-Infinity"` | a numeric string |
//! | `string`, `bool` | as is | — |
//! | sub-messages | an object, even when empty (`{}`) | — |
//! | repeated fields | an array | — |
//!
//! Default values are left out: `0`, `""`, `false`, empty bytes, empty repeated fields and
//! absent sub-messages. A set oneof member and a set proto3 `optional` field are always
//! written, even when zero (`{"intValue":"0"}`, a histogram's `"sum":0`). On input `null`
//! for any field means the default (absent).
//!
//! Out-of-range numbers, a wrong JSON type for a field, trailing characters after the value,
//! bad base64, a key given twice and two members of one oneof are errors; so is nesting
//! deeper than serde_json's recursion limit (128), which also bounds the generated code,
//! since it only recurses through the deserializer. Decoding never panics.
//!
//! # Example
//!
//! ```
//! use otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
//! use otlp_proto::json;
//!
//! let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
//!     "traceId":"5B8EFFF798038103D269B633813FC60C",
//!     "spanId":"EEE19B7EC3C1B174",
//!     "name":"GET /api/users",
//!     "kind":"SPAN_KIND_SERVER",
//!     "startTimeUnixNano":1544712660000000000,
//!     "endTimeUnixNano":"1544712661000000000"
//! }]}]}]}"#;
//! let request: ExportTraceServiceRequest = json::from_slice(body)?;
//! let span = &request.resource_spans[0].scope_spans[0].spans[0];
//! assert_eq!(span.trace_id.len(), 16);
//! assert_eq!(span.kind, 2);
//!
//! assert_eq!(
//!     json::to_string(span)?,
//!     r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /api/users","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}"#
//! );
//!
//! let error = json::from_str::<ExportTraceServiceRequest>(r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e"}]}]}]}"#)
//!     .unwrap_err();
//! assert!(matches!(error, json::JsonError::Data { line: 1, .. }));
//! # Ok::<(), json::JsonError>(())
//! ```

mod rt;

/// The generated impls: one module per protobuf package.
mod generated {
    include!("../generated/json/index.rs");
}

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why OTLP/JSON could not be read or written.
///
/// Positions are 1-based, as serde_json reports them; `line` is 0 when serde_json had none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The input is not well-formed JSON, or well-formed JSON is followed by more characters,
    /// or it nests deeper than the recursion limit.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// serde_json's description, without the position.
        message: String,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// The input ended in the middle of a JSON value.
    #[error("truncated JSON at line {line}, column {column}: {message}")]
    Eof {
        /// serde_json's description, without the position.
        message: String,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// Well-formed JSON that is not OTLP/JSON for the requested message: a value of the wrong
    /// type, a number out of range, an invalid trace or span id, bad base64, an unknown enum
    /// name, a repeated key, two members of one oneof.
    #[error("invalid OTLP/JSON at line {line}, column {column}: {message}")]
    Data {
        /// serde_json's (or the mapping's) description, without the position.
        message: String,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// Writing failed (only possible with a failing writer or a bug in a `Serialize` impl).
    #[error("cannot write OTLP/JSON: {message}")]
    Encode {
        /// serde_json's description.
        message: String,
    },
}

impl JsonError {
    fn decoding(error: &serde_json::Error) -> Self {
        let (line, column) = (error.line(), error.column());
        let full = error.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        match error.classify() {
            serde_json::error::Category::Eof => Self::Eof {
                message,
                line,
                column,
            },
            serde_json::error::Category::Data => Self::Data {
                message,
                line,
                column,
            },
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => Self::Syntax {
                message,
                line,
                column,
            },
        }
    }

    fn encoding(error: &serde_json::Error) -> Self {
        Self::Encode {
            message: error.to_string(),
        }
    }
}

/// Writes `value` as compact OTLP/JSON.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JsonError> {
    serde_json::to_vec(value).map_err(|e| JsonError::encoding(&e))
}

/// Writes `value` as compact OTLP/JSON, as a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    serde_json::to_string(value).map_err(|e| JsonError::encoding(&e))
}

/// Reads one OTLP/JSON value from `bytes`; only whitespace may follow it.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice(bytes).map_err(|e| JsonError::decoding(&e))
}

/// Reads one OTLP/JSON value from `text`; only whitespace may follow it.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|e| JsonError::decoding(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::v1::{AnyValue, KeyValue, any_value};

    #[test]
    fn error_position_is_split_from_the_message() {
        let error = from_str::<KeyValue>("{\n  \"key\": 5\n}").unwrap_err();
        let JsonError::Data {
            message,
            line,
            column,
        } = error
        else {
            panic!("expected a data error, got {error:?}");
        };
        assert_eq!(line, 2);
        assert!(column > 0);
        assert!(
            message.starts_with("invalid type: integer `5`"),
            "{message}"
        );
        assert!(!message.contains("at line"), "{message}");
    }

    #[test]
    fn generated_index_includes_every_generated_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/generated/json");
        let index = std::fs::read_to_string(dir.join("index.rs")).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name != "index.rs" {
                assert!(
                    index.contains(&format!("include!(\"{name}\")")),
                    "{name} not included"
                );
            }
        }
    }

    #[test]
    fn round_trips_a_small_value() {
        let value = KeyValue {
            key: "k".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::IntValue(0)),
            }),
            key_strindex: 0,
        };
        let text = to_string(&value).unwrap();
        assert_eq!(text, r#"{"key":"k","value":{"intValue":"0"}}"#);
        assert_eq!(from_str::<KeyValue>(&text).unwrap(), value);
    }
}
