//! Boolean conditions: a parser that compiles a condition once (regular expressions included) and an evaluator that
//! borrows the item it tests, following OTTL's comparison rules.
//!
//! Grammar (precedence from low to high: `or`, `and`, `not`):
//!
//! ```text
//! condition  = or_expr
//! or_expr    = and_expr { "or" and_expr }
//! and_expr   = unary { "and" unary }
//! unary      = "not" unary | "(" or_expr ")" | value [ op value ]   (a lone value must be boolean)
//! op         = "==" | "!=" | "<" | "<=" | ">" | ">="
//! value      = string | int | float | "true" | "false" | "nil" | ENUM | Converter "(" args ")" | path
//! path       = ident { "." ident } { "[" (string | int) "]" }
//! ```

use std::borrow::Cow;

use otlp_proto::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value::Value};
use otlp_proto::logs::v1::LogRecord;
use otlp_proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
    metric::Data, number_data_point,
};
use otlp_proto::resource::v1::Resource;
use otlp_proto::trace::v1::{Span, span::Event};
use regex::Regex;

use crate::value::{format_float, write_as_string};

/// The OTTL context a condition is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `span`: a span, its resource and scope.
    Span,
    /// `spanevent`: a span event and the span it belongs to.
    SpanEvent,
    /// `metric`: a metric (not its points).
    Metric,
    /// `datapoint`: one data point and its metric.
    DataPoint,
    /// `log`: a log record.
    Log,
}

/// A parse error: what went wrong and where (byte offset in the condition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the condition where the problem was found (0-based).
    pub position: usize,
    /// What was expected or found.
    pub message: String,
}

/// An evaluation error (OTTL raises few: a function given a type it does not accept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Op(CmpOp),
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn describe_tok(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Int(i) => format!("number {i}"),
        Tok::Float(f) => format!("number {f}"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Op(op) => format!("`{}`", op_str(*op)),
        Tok::End => "end of condition".into(),
    }
}

fn op_str(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |position: usize, message: String| ParseError { position, message };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => out.push((Tok::LParen, start)),
            b')' => out.push((Tok::RParen, start)),
            b'[' => out.push((Tok::LBracket, start)),
            b']' => out.push((Tok::RBracket, start)),
            b',' => out.push((Tok::Comma, start)),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                out.push((Tok::Dot, start))
            }
            b'=' | b'!' | b'<' | b'>' => {
                let next = bytes.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'=', Some(b'=')) => (CmpOp::Eq, 2),
                    (b'!', Some(b'=')) => (CmpOp::Ne, 2),
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'>', Some(b'=')) => (CmpOp::Ge, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    (b'>', _) => (CmpOp::Gt, 1),
                    _ => {
                        return Err(err(
                            start,
                            format!(
                                "unexpected `{}`; comparisons are ==, !=, <, <=, >, >=",
                                char::from(c)
                            ),
                        ));
                    }
                };
                out.push((Tok::Op(op), start));
                i += len;
                continue;
            }
            b'"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&b) = bytes.get(i) else {
                        return Err(err(start, "unterminated string".into()));
                    };
                    match b {
                        b'"' => break,
                        b'\\' => {
                            let esc = bytes.get(i + 1).copied();
                            s.push(match esc {
                                Some(b'"') => '"',
                                Some(b'\\') => '\\',
                                Some(b'n') => '\n',
                                Some(b't') => '\t',
                                Some(b'r') => '\r',
                                _ => {
                                    return Err(err(
                                        i,
                                        "unsupported escape sequence in string".into(),
                                    ));
                                }
                            });
                            i += 2;
                        }
                        _ => {
                            // Copy one UTF-8 character.
                            let ch_len = utf8_len(b);
                            s.push_str(&src[i..(i + ch_len).min(src.len())]);
                            i += ch_len;
                        }
                    }
                }
                out.push((Tok::Str(s), start));
            }
            b'-' | b'0'..=b'9' | b'.' => {
                let mut j = i + usize::from(c == b'-');
                let digits_start = j;
                let mut is_float = false;
                while j < bytes.len() {
                    match bytes[j] {
                        b'0'..=b'9' => j += 1,
                        b'.' if !is_float => {
                            is_float = true;
                            j += 1;
                        }
                        b'e' | b'E' if j > digits_start => {
                            is_float = true;
                            j += 1;
                            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                                j += 1;
                            }
                        }
                        _ => break,
                    }
                }
                let text = &src[i..j];
                if j == digits_start {
                    return Err(err(
                        start,
                        "math expressions are not supported; expected a number after `-`".into(),
                    ));
                }
                if bytes
                    .get(j)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                {
                    return Err(err(
                        j,
                        format!(
                            "unexpected character `{}` after number",
                            char::from(bytes[j])
                        ),
                    ));
                }
                let tok = if is_float {
                    Tok::Float(
                        text.parse()
                            .map_err(|_| err(start, format!("invalid number `{text}`")))?,
                    )
                } else {
                    Tok::Int(text.parse().map_err(|_| {
                        err(start, format!("integer `{text}` does not fit in int64"))
                    })?)
                };
                out.push((tok, start));
                i = j;
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                out.push((Tok::Ident(src[i..j].to_owned()), start));
                i = j;
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(start, format!("unexpected character `{ch}`")));
            }
        }
        i += 1;
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

// ---------------------------------------------------------------------------------------------
// AST

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
    /// A value used as a boolean (a literal or a converter returning a bool).
    Truthy(Operand),
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Nil,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Path(Path),
    Call(Box<Call>),
}

#[derive(Debug, Clone)]
pub(crate) enum Call {
    IsMatch(Operand, Regex),
    IsString(Operand),
    IsInt(Operand),
    IsDouble(Operand),
    IsBool(Operand),
    IsMap(Operand),
    IsList(Operand),
    Len(Operand),
    HasAttrKeyOnDatapoint(String),
    HasAttrOnDatapoint(String, String),
}

/// Which item a path reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The item of the condition's own context.
    Own,
    /// The span that owns a span event.
    ParentSpan,
    /// The metric that owns a data point.
    ParentMetric,
    Resource,
    Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Kind,
    StatusCode,
    StatusMessage,
    TraceState,
    TraceId,
    SpanId,
    ParentSpanId,
    StartTime,
    EndTime,
    Time,
    ObservedTime,
    DroppedAttributesCount,
    Attributes,
    Body,
    SeverityNumber,
    SeverityText,
    Flags,
    EventName,
    Description,
    Unit,
    Type,
    AggregationTemporality,
    IsMonotonic,
    ValueInt,
    ValueDouble,
    Count,
    Sum,
    Version,
}

/// A resolved path: where to read, which field, and map/array keys into the result.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    owner: Owner,
    field: Field,
    keys: Vec<Key>,
}

#[derive(Debug, Clone)]
enum Key {
    Str(String),
    Int(i64),
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    toks: &'a [(Tok, usize)],
    pos: usize,
    ctx: Context,
}

/// Parses `src` as a condition for `ctx`.
pub(crate) fn parse(src: &str, ctx: Context) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        ctx,
    };
    if matches!(p.peek(), Tok::End) {
        return Err(ParseError {
            position: 0,
            message: "empty condition".into(),
        });
    }
    let expr = p.or_expr()?;
    if !matches!(p.peek(), Tok::End) {
        return Err(p.unexpected("`and`, `or`, a comparison operator or the end of the condition"));
    }
    Ok(expr)
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }
    fn offset(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn unexpected(&self, expected: &str) -> ParseError {
        ParseError {
            position: self.offset(),
            message: format!(
                "unexpected {}, expected {expected}",
                describe_tok(self.peek())
            ),
        }
    }
    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }
    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and_expr()?];
        while self.is_keyword("or") {
            self.bump();
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary()?];
        while self.is_keyword("and") {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.is_keyword("not") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Tok::LParen) {
            self.bump();
            let inner = self.or_expr()?;
            self.expect(&Tok::RParen, "`)`")?;
            return Ok(inner);
        }
        let start = self.offset();
        let left = self.value()?;
        if let Tok::Op(op) = *self.peek() {
            self.bump();
            let right = self.value()?;
            return Ok(Expr::Compare(left, op, right));
        }
        match &left {
            Operand::Bool(_) => Ok(Expr::Truthy(left)),
            Operand::Call(c) if c.returns_bool() => Ok(Expr::Truthy(left)),
            _ => Err(ParseError {
                position: start,
                message: "expected a comparison (==, !=, <, <=, >, >=) or a boolean: a value alone is not a condition".into(),
            }),
        }
    }

    fn value(&mut self) -> Result<Operand, ParseError> {
        let start = self.offset();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Operand::Str(s))
            }
            Tok::Int(i) => {
                self.bump();
                Ok(Operand::Int(i))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(Operand::Float(f))
            }
            Tok::Ident(name) => match name.as_str() {
                "true" | "false" => {
                    self.bump();
                    Ok(Operand::Bool(name == "true"))
                }
                "nil" => {
                    self.bump();
                    Ok(Operand::Nil)
                }
                "and" | "or" | "not" => Err(self.unexpected("a value")),
                _ if matches!(self.peek_at(1), Tok::LParen) => self.call(&name, start),
                _ if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    self.bump();
                    self.enum_value(&name)
                        .map(Operand::Int)
                        .ok_or_else(|| ParseError {
                            position: start,
                            message: format!("unknown enum `{name}` in this context"),
                        })
                }
                _ => self.path(start).map(Operand::Path),
            },
            _ => Err(self
                .unexpected("a value (string, number, true, false, nil, enum, path or function)")),
        }
    }

    fn enum_value(&self, name: &str) -> Option<i64> {
        let span_like = matches!(self.ctx, Context::Span | Context::SpanEvent);
        let metric_like = matches!(self.ctx, Context::Metric | Context::DataPoint);
        let v = match name {
            "SPAN_KIND_UNSPECIFIED" if span_like => 0,
            "SPAN_KIND_INTERNAL" if span_like => 1,
            "SPAN_KIND_SERVER" if span_like => 2,
            "SPAN_KIND_CLIENT" if span_like => 3,
            "SPAN_KIND_PRODUCER" if span_like => 4,
            "SPAN_KIND_CONSUMER" if span_like => 5,
            "STATUS_CODE_UNSET" if span_like => 0,
            "STATUS_CODE_OK" if span_like => 1,
            "STATUS_CODE_ERROR" if span_like => 2,
            "METRIC_DATA_TYPE_NONE" if metric_like => 0,
            "METRIC_DATA_TYPE_GAUGE" if metric_like => 1,
            "METRIC_DATA_TYPE_SUM" if metric_like => 2,
            "METRIC_DATA_TYPE_HISTOGRAM" if metric_like => 3,
            "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM" if metric_like => 4,
            "METRIC_DATA_TYPE_SUMMARY" if metric_like => 5,
            "AGGREGATION_TEMPORALITY_UNSPECIFIED" if metric_like => 0,
            "AGGREGATION_TEMPORALITY_DELTA" if metric_like => 1,
            "AGGREGATION_TEMPORALITY_CUMULATIVE" if metric_like => 2,
            "FLAG_NONE" if self.ctx == Context::DataPoint => 0,
            "FLAG_NO_RECORDED_VALUE" if self.ctx == Context::DataPoint => 1,
            "SEVERITY_NUMBER_UNSPECIFIED" if self.ctx == Context::Log => 0,
            _ if self.ctx == Context::Log => {
                let rest = name.strip_prefix("SEVERITY_NUMBER_")?;
                return crate::severity::parse_severity(rest)
                    .filter(|_| !rest.starts_with(|c: char| c.is_ascii_digit()))
                    .map(i64::from);
            }
            _ => return None,
        };
        Some(v)
    }

    fn call(&mut self, name: &str, start: usize) -> Result<Operand, ParseError> {
        self.bump(); // name
        self.bump(); // (
        let mut args: Vec<(Operand, usize)> = Vec::new();
        if !matches!(self.peek(), Tok::RParen) {
            loop {
                let at = self.offset();
                args.push((self.value()?, at));
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        let arity = |n: usize| -> Result<(), ParseError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(ParseError {
                    position: start,
                    message: format!("{name} takes {n} argument(s), got {}", args.len()),
                })
            }
        };
        let literal = |arg: &(Operand, usize), what: &str| -> Result<String, ParseError> {
            match &arg.0 {
                Operand::Str(s) => Ok(s.clone()),
                _ => Err(ParseError {
                    position: arg.1,
                    message: format!("{name}: {what} must be a string literal"),
                }),
            }
        };
        let call = match name {
            "IsMatch" => {
                arity(2)?;
                let pattern = literal(&args[1], "the pattern")?;
                let regex = Regex::new(&pattern).map_err(|e| ParseError {
                    position: args[1].1,
                    message: format!("IsMatch: invalid regular expression: {e}"),
                })?;
                Call::IsMatch(args.remove(0).0, regex)
            }
            "IsString" | "IsInt" | "IsDouble" | "IsBool" | "IsMap" | "IsList" | "Len" => {
                arity(1)?;
                let arg = args.remove(0).0;
                match name {
                    "IsString" => Call::IsString(arg),
                    "IsInt" => Call::IsInt(arg),
                    "IsDouble" => Call::IsDouble(arg),
                    "IsBool" => Call::IsBool(arg),
                    "IsMap" => Call::IsMap(arg),
                    "IsList" => Call::IsList(arg),
                    _ => Call::Len(arg),
                }
            }
            "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" if self.ctx == Context::Metric => {
                if name == "HasAttrKeyOnDatapoint" {
                    arity(1)?;
                    Call::HasAttrKeyOnDatapoint(literal(&args[0], "the key")?)
                } else {
                    arity(2)?;
                    Call::HasAttrOnDatapoint(
                        literal(&args[0], "the key")?,
                        literal(&args[1], "the value")?,
                    )
                }
            }
            _ => {
                return Err(ParseError {
                    position: start,
                    message: format!(
                        "unsupported function `{name}`; supported: IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap, IsList, Len{}",
                        if self.ctx == Context::Metric {
                            ", HasAttrKeyOnDatapoint, HasAttrOnDatapoint"
                        } else {
                            ""
                        }
                    ),
                });
            }
        };
        Ok(Operand::Call(Box::new(call)))
    }

    fn path(&mut self, start: usize) -> Result<Path, ParseError> {
        let mut segments: Vec<String> = Vec::new();
        loop {
            match self.bump() {
                Tok::Ident(s) => segments.push(s),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("a path segment"));
                }
            }
            if matches!(self.peek(), Tok::Dot) {
                self.bump();
                continue;
            }
            break;
        }
        let mut keys = Vec::new();
        while matches!(self.peek(), Tok::LBracket) {
            self.bump();
            match self.bump() {
                Tok::Str(s) => keys.push(Key::Str(s)),
                Tok::Int(i) => keys.push(Key::Int(i)),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected("a string or integer key"));
                }
            }
            self.expect(&Tok::RBracket, "`]`")?;
        }
        let text = segments.join(".");
        let (owner, field) = resolve(self.ctx, &segments).ok_or_else(|| ParseError {
            position: start,
            message: format!(
                "unknown path `{text}` in the {} context",
                ctx_name(self.ctx)
            ),
        })?;
        if !keys.is_empty() && field != Field::Attributes && field != Field::Body {
            return Err(ParseError {
                position: start,
                message: format!("path `{text}` cannot be indexed"),
            });
        }
        Ok(Path { owner, field, keys })
    }
}

impl Call {
    fn returns_bool(&self) -> bool {
        !matches!(self, Self::Len(_))
    }
}

fn ctx_name(ctx: Context) -> &'static str {
    match ctx {
        Context::Span => "span",
        Context::SpanEvent => "spanevent",
        Context::Metric => "metric",
        Context::DataPoint => "datapoint",
        Context::Log => "log",
    }
}

/// Resolves path segments to an owner and field for a context.
fn resolve(ctx: Context, segs: &[String]) -> Option<(Owner, Field)> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["resource", "attributes"] => return Some((Owner::Resource, Field::Attributes)),
        ["resource", "dropped_attributes_count"] => {
            return Some((Owner::Resource, Field::DroppedAttributesCount));
        }
        ["instrumentation_scope", "name"] => return Some((Owner::Scope, Field::Name)),
        ["instrumentation_scope", "version"] => return Some((Owner::Scope, Field::Version)),
        ["instrumentation_scope", "attributes"] => return Some((Owner::Scope, Field::Attributes)),
        _ => {}
    }
    // An explicit prefix naming the condition's own context, or its parent.
    let (owner, rest): (Owner, &[&str]) = match (ctx, s.first().copied()) {
        (Context::Span, Some("span"))
        | (Context::SpanEvent, Some("spanevent"))
        | (Context::Metric, Some("metric"))
        | (Context::DataPoint, Some("datapoint"))
        | (Context::Log, Some("log")) => (Owner::Own, &s[1..]),
        (Context::SpanEvent, Some("span")) => (Owner::ParentSpan, &s[1..]),
        (Context::DataPoint, Some("metric")) => (Owner::ParentMetric, &s[1..]),
        _ => (Owner::Own, &s[..]),
    };
    let kind = match (ctx, owner) {
        (Context::SpanEvent, Owner::ParentSpan) => Context::Span,
        (Context::DataPoint, Owner::ParentMetric) => Context::Metric,
        _ => ctx,
    };
    let field = match (kind, rest) {
        (_, ["attributes"]) if kind != Context::Metric => Field::Attributes,
        (Context::Span | Context::SpanEvent | Context::Metric, ["name"]) => Field::Name,
        (Context::Span, ["kind"]) => Field::Kind,
        (Context::Span, ["status", "code"]) => Field::StatusCode,
        (Context::Span, ["status", "message"]) => Field::StatusMessage,
        (Context::Span, ["trace_state"]) => Field::TraceState,
        (Context::Span | Context::Log, ["trace_id", "string"]) => Field::TraceId,
        (Context::Span | Context::Log, ["span_id", "string"]) => Field::SpanId,
        (Context::Span, ["parent_span_id", "string"]) => Field::ParentSpanId,
        (Context::Span | Context::DataPoint, ["start_time_unix_nano"]) => Field::StartTime,
        (Context::Span, ["end_time_unix_nano"]) => Field::EndTime,
        (Context::SpanEvent | Context::DataPoint | Context::Log, ["time_unix_nano"]) => Field::Time,
        (Context::Log, ["observed_time_unix_nano"]) => Field::ObservedTime,
        (Context::Span | Context::SpanEvent | Context::Log, ["dropped_attributes_count"]) => {
            Field::DroppedAttributesCount
        }
        (Context::Log, ["body"]) => Field::Body,
        (Context::Log, ["severity_number"]) => Field::SeverityNumber,
        (Context::Log, ["severity_text"]) => Field::SeverityText,
        (Context::Log | Context::DataPoint, ["flags"]) => Field::Flags,
        (Context::Log, ["event_name"]) => Field::EventName,
        (Context::Metric, ["description"]) => Field::Description,
        (Context::Metric, ["unit"]) => Field::Unit,
        (Context::Metric, ["type"]) => Field::Type,
        (Context::Metric, ["aggregation_temporality"]) => Field::AggregationTemporality,
        (Context::Metric, ["is_monotonic"]) => Field::IsMonotonic,
        (Context::DataPoint, ["value_int"]) => Field::ValueInt,
        (Context::DataPoint, ["value_double"]) => Field::ValueDouble,
        (Context::DataPoint, ["count"]) => Field::Count,
        (Context::DataPoint, ["sum"]) => Field::Sum,
        _ => return None,
    };
    Some((owner, field))
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// A data point of any metric type.
#[derive(Debug, Clone, Copy)]
pub enum PointRef<'a> {
    /// A gauge or sum point.
    Number(&'a NumberDataPoint),
    /// An explicit-bucket histogram point.
    Histogram(&'a HistogramDataPoint),
    /// An exponential histogram point.
    ExpHistogram(&'a ExponentialHistogramDataPoint),
    /// A summary point.
    Summary(&'a SummaryDataPoint),
}

impl<'a> PointRef<'a> {
    fn attributes(self) -> &'a [KeyValue] {
        match self {
            Self::Number(p) => &p.attributes,
            Self::Histogram(p) => &p.attributes,
            Self::ExpHistogram(p) => &p.attributes,
            Self::Summary(p) => &p.attributes,
        }
    }
}

/// The item a condition is evaluated against, with its parents.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// A span.
    Span(&'a Span),
    /// A span event and its span.
    SpanEvent(&'a Event, &'a Span),
    /// A metric.
    Metric(&'a Metric),
    /// A data point and its metric.
    DataPoint(PointRef<'a>, &'a Metric),
    /// A log record.
    Log(&'a LogRecord),
}

/// An item plus its resource and scope.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The item itself.
    pub item: Item<'a>,
    /// Its resource (`resource.*` paths).
    pub resource: Option<&'a Resource>,
    /// Its instrumentation scope (`instrumentation_scope.*` paths).
    pub scope: Option<&'a InstrumentationScope>,
}

#[derive(Debug, Clone)]
enum Val<'a> {
    Nil,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(&'a [u8]),
    Map(&'a [KeyValue]),
    List(&'a [AnyValue]),
}

fn any_to_val(v: Option<&AnyValue>) -> Val<'_> {
    match v.and_then(|v| v.value.as_ref()) {
        None | Some(Value::StringValueStrindex(_)) => Val::Nil,
        Some(Value::StringValue(s)) => Val::Str(Cow::Borrowed(s)),
        Some(Value::IntValue(i)) => Val::Int(*i),
        Some(Value::DoubleValue(d)) => Val::Float(*d),
        Some(Value::BoolValue(b)) => Val::Bool(*b),
        Some(Value::BytesValue(b)) => Val::Bytes(b),
        Some(Value::ArrayValue(a)) => Val::List(&a.values),
        Some(Value::KvlistValue(l)) => Val::Map(&l.values),
    }
}

fn u64_val<'a>(v: u64) -> Val<'a> {
    // OTTL exposes these as int64.
    Val::Int(v as i64)
}

fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    s
}

fn id_string(bytes: &[u8]) -> Val<'_> {
    // OTTL renders an empty id as the empty string.
    if bytes.iter().all(|b| *b == 0) {
        Val::Str(Cow::Borrowed(""))
    } else {
        Val::Str(Cow::Owned(hex_lower(bytes)))
    }
}

fn metric_type(m: &Metric) -> i64 {
    match m.data {
        None => 0,
        Some(Data::Gauge(_)) => 1,
        Some(Data::Sum(_)) => 2,
        Some(Data::Histogram(_)) => 3,
        Some(Data::ExponentialHistogram(_)) => 4,
        Some(Data::Summary(_)) => 5,
    }
}

fn read_span<'a>(span: &'a Span, field: Field) -> Val<'a> {
    match field {
        Field::Name => Val::Str(Cow::Borrowed(&span.name)),
        Field::Kind => Val::Int(i64::from(span.kind)),
        Field::StatusCode => Val::Int(span.status.as_ref().map_or(0, |s| i64::from(s.code))),
        Field::StatusMessage => Val::Str(Cow::Borrowed(
            span.status.as_ref().map_or("", |s| s.message.as_str()),
        )),
        Field::TraceState => Val::Str(Cow::Borrowed(&span.trace_state)),
        Field::TraceId => id_string(&span.trace_id),
        Field::SpanId => id_string(&span.span_id),
        Field::ParentSpanId => id_string(&span.parent_span_id),
        Field::StartTime => u64_val(span.start_time_unix_nano),
        Field::EndTime => u64_val(span.end_time_unix_nano),
        Field::DroppedAttributesCount => Val::Int(i64::from(span.dropped_attributes_count)),
        Field::Attributes => Val::Map(&span.attributes),
        _ => Val::Nil,
    }
}

fn read_metric<'a>(m: &'a Metric, field: Field) -> Val<'a> {
    match field {
        Field::Name => Val::Str(Cow::Borrowed(&m.name)),
        Field::Description => Val::Str(Cow::Borrowed(&m.description)),
        Field::Unit => Val::Str(Cow::Borrowed(&m.unit)),
        Field::Type => Val::Int(metric_type(m)),
        Field::AggregationTemporality => Val::Int(match &m.data {
            Some(Data::Sum(s)) => i64::from(s.aggregation_temporality),
            Some(Data::Histogram(h)) => i64::from(h.aggregation_temporality),
            Some(Data::ExponentialHistogram(h)) => i64::from(h.aggregation_temporality),
            _ => 0,
        }),
        Field::IsMonotonic => Val::Bool(matches!(&m.data, Some(Data::Sum(s)) if s.is_monotonic)),
        _ => Val::Nil,
    }
}

fn read_point<'a>(p: PointRef<'a>, field: Field) -> Val<'a> {
    match (field, p) {
        (Field::Attributes, _) => Val::Map(p.attributes()),
        (Field::ValueInt, PointRef::Number(n)) => match n.value {
            Some(number_data_point::Value::AsInt(i)) => Val::Int(i),
            _ => Val::Int(0),
        },
        (Field::ValueDouble, PointRef::Number(n)) => match n.value {
            Some(number_data_point::Value::AsDouble(d)) => Val::Float(d),
            _ => Val::Float(0.0),
        },
        (Field::StartTime, PointRef::Number(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::Histogram(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::ExpHistogram(n)) => u64_val(n.start_time_unix_nano),
        (Field::StartTime, PointRef::Summary(n)) => u64_val(n.start_time_unix_nano),
        (Field::Time, PointRef::Number(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::Histogram(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::ExpHistogram(n)) => u64_val(n.time_unix_nano),
        (Field::Time, PointRef::Summary(n)) => u64_val(n.time_unix_nano),
        (Field::Flags, PointRef::Number(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::Histogram(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::ExpHistogram(n)) => Val::Int(i64::from(n.flags)),
        (Field::Flags, PointRef::Summary(n)) => Val::Int(i64::from(n.flags)),
        (Field::Count, PointRef::Histogram(n)) => u64_val(n.count),
        (Field::Count, PointRef::ExpHistogram(n)) => u64_val(n.count),
        (Field::Count, PointRef::Summary(n)) => u64_val(n.count),
        (Field::Sum, PointRef::Histogram(n)) => Val::Float(n.sum.unwrap_or(0.0)),
        (Field::Sum, PointRef::ExpHistogram(n)) => Val::Float(n.sum.unwrap_or(0.0)),
        (Field::Sum, PointRef::Summary(n)) => Val::Float(n.sum),
        _ => Val::Nil,
    }
}

fn read_log<'a>(l: &'a LogRecord, field: Field) -> Val<'a> {
    match field {
        Field::Body => any_to_val(l.body.as_ref()),
        Field::SeverityNumber => Val::Int(i64::from(l.severity_number)),
        Field::SeverityText => Val::Str(Cow::Borrowed(&l.severity_text)),
        Field::Attributes => Val::Map(&l.attributes),
        Field::Time => u64_val(l.time_unix_nano),
        Field::ObservedTime => u64_val(l.observed_time_unix_nano),
        Field::Flags => Val::Int(i64::from(l.flags)),
        Field::TraceId => id_string(&l.trace_id),
        Field::SpanId => id_string(&l.span_id),
        Field::EventName => Val::Str(Cow::Borrowed(&l.event_name)),
        Field::DroppedAttributesCount => Val::Int(i64::from(l.dropped_attributes_count)),
        _ => Val::Nil,
    }
}

impl Path {
    fn read<'a>(&self, t: &Target<'a>) -> Val<'a> {
        let base = match (self.owner, t.item) {
            (Owner::Resource, _) => match self.field {
                Field::Attributes => Val::Map(t.resource.map_or(&[], |r| &r.attributes)),
                Field::DroppedAttributesCount => Val::Int(
                    t.resource
                        .map_or(0, |r| i64::from(r.dropped_attributes_count)),
                ),
                _ => Val::Nil,
            },
            (Owner::Scope, _) => match self.field {
                Field::Name => Val::Str(Cow::Borrowed(t.scope.map_or("", |s| s.name.as_str()))),
                Field::Version => {
                    Val::Str(Cow::Borrowed(t.scope.map_or("", |s| s.version.as_str())))
                }
                Field::Attributes => Val::Map(t.scope.map_or(&[], |s| &s.attributes)),
                _ => Val::Nil,
            },
            (Owner::ParentSpan, Item::SpanEvent(_, span)) | (Owner::Own, Item::Span(span)) => {
                read_span(span, self.field)
            }
            (Owner::ParentMetric, Item::DataPoint(_, m)) | (Owner::Own, Item::Metric(m)) => {
                read_metric(m, self.field)
            }
            (Owner::Own, Item::SpanEvent(e, _)) => match self.field {
                Field::Name => Val::Str(Cow::Borrowed(&e.name)),
                Field::Attributes => Val::Map(&e.attributes),
                Field::Time => u64_val(e.time_unix_nano),
                Field::DroppedAttributesCount => Val::Int(i64::from(e.dropped_attributes_count)),
                _ => Val::Nil,
            },
            (Owner::Own, Item::DataPoint(p, _)) => read_point(p, self.field),
            (Owner::Own, Item::Log(l)) => read_log(l, self.field),
            _ => Val::Nil,
        };
        let mut v = base;
        for key in &self.keys {
            v = match (v, key) {
                (Val::Map(m), Key::Str(k)) => m
                    .iter()
                    .find(|kv| kv.key == *k)
                    .map_or(Val::Nil, |kv| any_to_val(kv.value.as_ref())),
                (Val::List(l), Key::Int(i)) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| l.get(i))
                    .map_or(Val::Nil, |v| any_to_val(Some(v))),
                _ => Val::Nil,
            };
        }
        v
    }
}

/// OTTL's `StringLikeGetter`: the string form of a value, `None` for nil.
fn string_like(v: &Val<'_>) -> Option<String> {
    Some(match v {
        Val::Nil => return None,
        Val::Str(s) => s.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => {
            let mut s = String::new();
            format_float(*f, &mut s);
            s
        }
        Val::Bool(b) => b.to_string(),
        Val::Bytes(b) => hex_lower(b),
        Val::Map(m) => {
            let mut s = String::new();
            write_as_string(
                Some(&AnyValue {
                    value: Some(Value::KvlistValue(otlp_proto::common::v1::KeyValueList {
                        values: m.to_vec(),
                    })),
                }),
                &mut s,
            );
            s
        }
        Val::List(l) => {
            let mut s = String::new();
            write_as_string(
                Some(&AnyValue {
                    value: Some(Value::ArrayValue(otlp_proto::common::v1::ArrayValue {
                        values: l.to_vec(),
                    })),
                }),
                &mut s,
            );
            s
        }
    })
}

impl Operand {
    fn eval<'a>(&self, t: &Target<'a>) -> Result<Val<'a>, EvalError> {
        Ok(match self {
            Self::Nil => Val::Nil,
            Self::Str(s) => Val::Str(Cow::Owned(s.clone())),
            Self::Int(i) => Val::Int(*i),
            Self::Float(f) => Val::Float(*f),
            Self::Bool(b) => Val::Bool(*b),
            Self::Path(p) => p.read(t),
            Self::Call(c) => c.eval(t)?,
        })
    }
}

impl Call {
    fn eval<'a>(&self, t: &Target<'a>) -> Result<Val<'a>, EvalError> {
        Ok(match self {
            Self::IsMatch(target, re) => {
                let v = target.eval(t)?;
                match &v {
                    Val::Str(s) => Val::Bool(re.is_match(s)),
                    other => Val::Bool(string_like(other).is_some_and(|s| re.is_match(&s))),
                }
            }
            Self::IsString(a) => Val::Bool(matches!(a.eval(t)?, Val::Str(_))),
            Self::IsInt(a) => Val::Bool(matches!(a.eval(t)?, Val::Int(_))),
            Self::IsDouble(a) => Val::Bool(matches!(a.eval(t)?, Val::Float(_))),
            Self::IsBool(a) => Val::Bool(matches!(a.eval(t)?, Val::Bool(_))),
            Self::IsMap(a) => Val::Bool(matches!(a.eval(t)?, Val::Map(_))),
            Self::IsList(a) => Val::Bool(matches!(a.eval(t)?, Val::List(_))),
            Self::Len(a) => match a.eval(t)? {
                Val::Str(s) => Val::Int(s.len() as i64),
                Val::Map(m) => Val::Int(m.len() as i64),
                Val::List(l) => Val::Int(l.len() as i64),
                Val::Bytes(b) => Val::Int(b.len() as i64),
                other => {
                    return Err(EvalError(format!(
                        "Len: unsupported type {}",
                        type_name(&other)
                    )));
                }
            },
            Self::HasAttrKeyOnDatapoint(key) => Val::Bool(match t.item {
                Item::Metric(m) => any_point(m, |attrs| attrs.iter().any(|kv| kv.key == *key)),
                _ => false,
            }),
            Self::HasAttrOnDatapoint(key, value) => Val::Bool(match t.item {
                Item::Metric(m) => any_point(m, |attrs| {
                    attrs.iter().any(|kv| {
                        kv.key == *key && matches!(kv.value.as_ref().and_then(|v| v.value.as_ref()), Some(Value::StringValue(s)) if s == value)
                    })
                }),
                _ => false,
            }),
        })
    }
}

fn any_point(m: &Metric, f: impl Fn(&[KeyValue]) -> bool) -> bool {
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Sum(s)) => s.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Histogram(h)) => h.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::ExponentialHistogram(h)) => h.data_points.iter().any(|p| f(&p.attributes)),
        Some(Data::Summary(s)) => s.data_points.iter().any(|p| f(&p.attributes)),
        None => false,
    }
}

fn type_name(v: &Val<'_>) -> &'static str {
    match v {
        Val::Nil => "nil",
        Val::Str(_) => "string",
        Val::Int(_) => "int",
        Val::Float(_) => "double",
        Val::Bool(_) => "bool",
        Val::Bytes(_) => "bytes",
        Val::Map(_) => "map",
        Val::List(_) => "slice",
    }
}

fn ordered<T: PartialOrd>(a: &T, b: &T, op: CmpOp) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// OTTL's comparison rules: values of different types are never equal (and never ordered);
/// ints and doubles compare numerically; strings and bytes compare lexicographically; booleans
/// order `false < true`; nil equals only nil; maps and lists support `==` / `!=` only.
fn compare(a: &Val<'_>, op: CmpOp, b: &Val<'_>) -> bool {
    let mismatch = op == CmpOp::Ne;
    match (a, b) {
        (Val::Nil, Val::Nil) => matches!(op, CmpOp::Eq | CmpOp::Le | CmpOp::Ge),
        (Val::Nil, _) | (_, Val::Nil) => mismatch,
        (Val::Str(x), Val::Str(y)) => ordered(&x.as_ref(), &y.as_ref(), op),
        (Val::Int(x), Val::Int(y)) => ordered(x, y, op),
        (Val::Float(x), Val::Float(y)) => ordered(x, y, op),
        (Val::Int(x), Val::Float(y)) => ordered(&(*x as f64), y, op),
        (Val::Float(x), Val::Int(y)) => ordered(x, &(*y as f64), op),
        (Val::Bool(x), Val::Bool(y)) => ordered(x, y, op),
        (Val::Bytes(x), Val::Bytes(y)) => ordered(x, y, op),
        (Val::Map(x), Val::Map(y)) => match op {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            _ => false,
        },
        (Val::List(x), Val::List(y)) => match op {
            CmpOp::Eq => x == y,
            CmpOp::Ne => x != y,
            _ => false,
        },
        _ => mismatch,
    }
}

impl Expr {
    /// Evaluates the condition; `and` / `or` short-circuit left to right.
    pub(crate) fn eval(&self, t: &Target<'_>) -> Result<bool, EvalError> {
        Ok(match self {
            Self::Or(items) => {
                for e in items {
                    if e.eval(t)? {
                        return Ok(true);
                    }
                }
                false
            }
            Self::And(items) => {
                for e in items {
                    if !e.eval(t)? {
                        return Ok(false);
                    }
                }
                true
            }
            Self::Not(e) => !e.eval(t)?,
            Self::Compare(a, op, b) => compare(&a.eval(t)?, *op, &b.eval(t)?),
            Self::Truthy(v) => match v.eval(t)? {
                Val::Bool(b) => b,
                other => {
                    return Err(EvalError(format!(
                        "expected a boolean, got {}",
                        type_name(&other)
                    )));
                }
            },
        })
    }
}
