//! The OpenTelemetry Transformation Language (OTTL), shared by every component that reads it.
//!
//! OTTL is how otelcol users write conditions and statements over telemetry (`filter`'s
//! `traces: {span: [...]}`, and later `transform`, `routing`, `tail_sampling`). One
//! implementation lives here, below the component crates, so that a processor and a
//! connector that both take OTTL agree on every path, converter and comparison rule — and so
//! that no kind crate depends on another.
//!
//! # What is here
//!
//! | item | what |
//! |---|---|
//! | [`Condition`] | a boolean condition compiled once (paths resolved, regular expressions built) and evaluated against a borrowed item, following OTTL's comparison rules |
//! | [`Context`], [`Target`], [`Item`], [`PointRef`] | the OTTL contexts (`span`, `spanevent`, `metric`, `datapoint`, `log`) and the item a condition is evaluated against, with its resource and scope |
//! | [`value`] | the Go collector's string rendering of `AnyValue` (`AsString`), and [`value::ConfigValue`], a value written in a configuration |
//! | [`parse_severity`] | severity short names (`INFO`, `warn2`) and numbers |
//!
//! The grammar is a subset of OTTL's boolean expressions: `and`, `or`, `not`, parentheses,
//! the six comparisons, literals (strings, numbers, booleans, `nil`, enums such as
//! `SPAN_KIND_SERVER`), paths (`attributes["http.method"]`, `resource.attributes[...]`,
//! `instrumentation_scope.name`, ...) and the converters listed in `docs/configuration.md`.
//! What is outside the subset is refused with its position when the configuration is
//! validated, never at run time.
//!
//! # Dependencies
//!
//! `otlp-proto` (the data it reads), `regex`, `serde`, `serde_json`: plain logic over the OTLP
//! types, usable without a collector, and never a component crate (they sit on top of it). The
//! dependency graph lets it use `otlp-pipeline` below it, should statements one day need the
//! collector's data types; conditions do not.
//!
//! # Example
//!
//! ```
//! use otlp_model::builders::SpanBuilder;
//! use otlp_ottl::{Condition, Context, Item, Target};
//!
//! let condition = Condition::parse(r#"name == "GET /health" or attributes["http.route"] == "/ready""#, Context::Span)?;
//! let span = SpanBuilder::new("GET /health").build();
//! let target = Target { item: Item::Span(&span), resource: None, scope: None };
//! assert!(condition.eval(&target)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! None.

mod condition;
mod severity;
pub mod value;

use std::fmt;

pub use condition::{Context, EvalError, Item, ParseError, PointRef, Target};
pub use severity::parse_severity;

/// A compiled OTTL boolean condition.
#[derive(Debug, Clone)]
pub struct Condition {
    expr: condition::Expr,
}

impl Condition {
    /// Parses and compiles `text` for the OTTL `context`. The error says what was expected
    /// and at which byte offset.
    pub fn parse(text: &str, context: Context) -> Result<Condition, ParseError> {
        condition::parse(text, context).map(|expr| Condition { expr })
    }

    /// Evaluates the condition against `target`; `and` / `or` short-circuit left to right.
    pub fn eval(&self, target: &Target<'_>) -> Result<bool, EvalError> {
        self.expr.eval(target)
    }
}

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
