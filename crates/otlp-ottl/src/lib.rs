//! The OpenTelemetry Transformation Language (OTTL), shared by every component that reads it.
//!
//! OTTL is how otelcol users write conditions and statements over telemetry (`filter`'s
//! `traces: {span: [...]}`, `transform`'s `trace_statements`, and later `routing`,
//! `tail_sampling`). One implementation lives here, below the component crates, so that
//! components that take OTTL agree on every path, function and comparison rule — and so that no
//! kind crate depends on another.
//!
//! # What is here
//!
//! | item | what |
//! |---|---|
//! | [`Condition`] | a boolean condition compiled once (paths resolved, regular expressions built), evaluated against a borrowed item |
//! | [`Statement`] | `editor(args) [where condition]`, compiled once, executed against a writable item |
//! | [`infer_context`] | the context of statements written with prefixed paths (`span.name`), as `transform`'s flat form needs |
//! | [`Context`] | `resource`, `scope`, `span`, `spanevent`, `metric`, `datapoint`, `log`, `profile` |
//! | [`Target`], [`Item`], [`PointRef`] | a read-only item with its resource and scope |
//! | [`TargetMut`], [`ItemMut`], [`PointMut`] | a writable item with its resource, scope and `cache` |
//! | [`value`] | the Go collector's string rendering of `AnyValue` (`AsString`), and [`value::ConfigValue`] |
//! | [`ErrorMode`] | otelcol's `error_mode` (`propagate`, `ignore`, `silent`), one type for every component that reads OTTL |
//! | [`parse_severity`] | severity short names (`INFO`, `warn2`) and numbers |
//!
//! Both compiled forms print as canonical OTTL (`Display`): parsing the printed text gives the
//! same syntax tree back.
//!
//! # Grammar
//!
//! ```text
//! statement  = editor "(" [ args ] ")" [ "where" condition ]
//! condition  = or_expr ;  or_expr = and_expr { "or" and_expr } ;  and_expr = unary { "and" unary }
//! unary      = "not" unary | "(" condition ")" | value [ ("=="|"!="|"<"|"<="|">"|">=") value ]
//! args       = [ name "=" ] value { "," [ name "=" ] value }     (named after positional only)
//! value      = string | int | float | 0xBYTES | true | false | nil | ENUM | list | path
//!            | Converter "(" [ args ] ")" { "[" key "]" }
//! path       = [ context "." ] field { "." field } { "[" ("string" | int) "]" } | cache { ... }
//! ```
//!
//! A value standing alone as a condition must be `true`, `false` or a converter returning a
//! boolean. Math expressions (`+ - * /`), map literals (`{...}`) and expression keys
//! (`attributes[name]`) are outside the subset. Everything outside it — and every unknown
//! function, path or enum, wrong arity, argument of the wrong literal type, bad regular
//! expression — is refused when parsing ([`ParseError`] with the byte position), never at run
//! time.
//!
//! # Contexts and paths
//!
//! A path may be prefixed with its context or a parent's (`span.name`, `resource.attributes`,
//! `scope.name` or `instrumentation_scope.name`, `metric.name` from `datapoint`, `span.name`
//! from `spanevent`); without a prefix it names the context's own item. Every context has
//! `cache` (a map, empty for each item). `attributes`, `body` and `cache` take keys to any
//! depth (`attributes["a"]["b"]`, `attributes["list"][0]`). Readable and writable:
//!
//! | context | fields |
//! |---|---|
//! | `resource` | `attributes`, `dropped_attributes_count` |
//! | `scope` | `name`, `version`, `attributes`, `dropped_attributes_count` |
//! | `span` | `name`, `kind`, `status.code`, `status.message`, `trace_state`, `trace_id`, `span_id`, `parent_span_id` (bytes; `.string` for hex), `start_time_unix_nano`, `end_time_unix_nano`, `attributes`, `dropped_attributes_count`, `dropped_events_count`, `dropped_links_count`, `flags` |
//! | `spanevent` | `name`, `attributes`, `time_unix_nano`, `dropped_attributes_count` |
//! | `metric` | `name`, `description`, `unit`, `type` (read only), `aggregation_temporality`, `is_monotonic` |
//! | `datapoint` | `attributes`, `start_time_unix_nano`, `time_unix_nano`, `value_int`, `value_double`, `count`, `sum`, `flags` |
//! | `log` | `body`, `severity_number`, `severity_text`, `attributes`, `time_unix_nano`, `observed_time_unix_nano`, `trace_id`, `span_id` (`.string`), `flags`, `event_name`, `dropped_attributes_count` |
//! | `profile` | `attributes` and `attribute_indices` (read only), `time_unix_nano`, `duration_unix_nano`, `period`, `profile_id` (`.string`), `dropped_attributes_count`, `original_payload_format`, `original_payload` |
//!
//! A profile's attributes live in its request's `dictionary` (`attribute_indices` into
//! `attribute_table`, keys in `string_table`): [`Item::Profile`] carries the dictionary, and
//! `attributes` reads the map built from it (so do `resource.attributes` and
//! `scope.attributes` whose entries name their key by `key_strindex`). A statement that writes
//! a profile's `attributes` or `attribute_indices` is refused when it is parsed.
//!
//! Writing a value of the wrong type to a typed field does nothing, as in OTTL; writing under
//! a key creates the maps on the way.
//!
//! # Functions
//!
//! Editors: `set`, `delete_key`, `delete_matching_keys`, `keep_keys`, `keep_matching_keys`,
//! `limit`, `truncate_all`, `replace_pattern`, `replace_match`, `replace_all_patterns`,
//! `replace_all_matches` (with the optional `function` `SHA256` and `replacementFormat`),
//! `merge_maps`, `flatten`, `append`; of one context, as contrib's `transform` adds them:
//! `set_semconv_span_name` (span; semantic-convention versions 1.37.0 to 1.43.0),
//! `convert_gauge_to_sum`, `convert_sum_to_gauge` (metric). Converters: `Concat`, `Split`, `IsMatch`, `ParseJSON`,
//! `SHA256`, `Hex`, `Int`, `Double`, `String`, `Bool`, `Len`, `ToLowerCase`, `ToUpperCase`,
//! `Substring`, `ConvertCase`, `IsString`, `IsInt`, `IsDouble`, `IsBool`, `IsMap`, `IsList`,
//! `TraceID`, `SpanID`, and in the `metric` context `HasAttrKeyOnDatapoint`,
//! `HasAttrOnDatapoint`. Arguments are positional or named (`limit(attributes, 10,
//! priority_keys = ["a"])`); converters work in conditions too. `set` with a `nil` value does
//! nothing.
//!
//! # Errors at run time
//!
//! [`Statement::execute`] and [`Condition::eval`] fail with an [`EvalError`] when a function
//! gets a value it cannot use (`Len(5)`, `ParseJSON("{")`, `Split` of an int). What happens
//! then is the component's `error_mode`: `propagate` refuses the request, `ignore` logs and
//! goes on with the next statement, `silent` goes on without logging.
//!
//! # Dependencies
//!
//! `otlp-proto` (the data it reads and writes), `regex`, `serde`, `serde_json`, `sha2`: plain
//! logic over the OTLP types, usable without a collector, and never a component crate.
//!
//! # Example
//!
//! ```
//! use otlp_model::builders::SpanBuilder;
//! use otlp_ottl::{Condition, Context, Item, ItemMut, Statement, Target, TargetMut};
//!
//! let condition = Condition::parse(r#"name == "GET /health" or attributes["http.route"] == "/ready""#, Context::Span)?;
//! let mut span = SpanBuilder::new("GET /health").build();
//! let target = Target { item: Item::Span(&span), resource: None, scope: None };
//! assert!(condition.eval(&target)?);
//!
//! let statement = Statement::parse(r#"set(span.attributes["checked"], true) where span.name == "GET /health""#, Context::Span)?;
//! let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
//! let mut target = TargetMut { item: ItemMut::Span(&mut span), resource: &mut resource, scope: &mut scope, cache: &mut cache };
//! assert!(statement.execute(&mut target)?);
//! assert_eq!(span.attributes[0].key, "checked");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! None.

mod ast;
mod compile;
mod error_mode;
mod eval;
mod funcs;
mod lexer;
mod parser;
mod paths;
mod printer;
mod profile;
mod severity;
mod statement;
mod target;
mod val;
pub mod value;

#[cfg(test)]
mod tests;

use std::fmt;

pub use error_mode::ErrorMode;
pub use profile::attributes as profile_attributes;
pub use severity::parse_severity;
pub use statement::{Condition, InferError, InferSource, Statement, infer_context};
pub use target::{Context, Item, ItemMut, PointMut, PointRef, Target, TargetMut};

/// A parse error: what went wrong and where (byte offset in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the text where the problem was found (0-based).
    pub position: usize,
    /// What was expected or found.
    pub message: String,
}

/// An evaluation error (OTTL raises few: a function given a type it does not accept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvalError {}
