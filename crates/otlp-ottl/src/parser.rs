//! The OTTL parser: tokens to the syntax tree of [`crate::ast`], independent of any context.
//!
//! ```text
//! statement  = editor "(" [ args ] ")" [ "where" condition ]
//! condition  = or_expr
//! or_expr    = and_expr { "or" and_expr }
//! and_expr   = unary { "and" unary }
//! unary      = "not" unary | "(" or_expr ")" | value [ op value ]   (a lone value: true, false or a converter)
//! op         = "==" | "!=" | "<" | "<=" | ">" | ">="
//! args       = arg { "," arg }
//! arg        = [ ident "=" ] value                                  (no positional after a named one)
//! value      = string | int | float | bytes | "true" | "false" | "nil" | ENUM
//!            | Converter "(" [ args ] ")" { key } | list | path
//! list       = "[" [ value { "," value } ] "]"
//! path       = ident { "." ident } { key }
//! key        = "[" ( string | int ) "]"
//! ```
//!
//! Nesting (parentheses, lists, calls) is limited to [`MAX_DEPTH`] levels, so that no input
//! can exhaust the stack.

use crate::ParseError;
use crate::ast::{Arg, BoolExpr, Call, Key, PathExpr, Pos, Statement, Value, ValueKind};
use crate::lexer::{Tok, describe, lex};

/// How deep parentheses, lists and calls may nest.
pub(crate) const MAX_DEPTH: usize = 64;

const KEYWORDS: [&str; 7] = ["and", "or", "not", "where", "true", "false", "nil"];

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

/// Parses a statement.
pub(crate) fn parse_statement(src: &str) -> Result<Statement, ParseError> {
    let mut p = Parser::new(src)?;
    if matches!(p.peek(), Tok::End) {
        return Err(p.error_here("empty statement"));
    }
    let start = p.offset();
    let editor = match p.peek().clone() {
        Tok::Ident(name)
            if matches!(p.peek_at(1), Tok::LParen) && !KEYWORDS.contains(&name.as_str()) =>
        {
            p.call(name, start)?
        }
        _ => return Err(p.unexpected("an editor call such as `set(...)`")),
    };
    if editor.is_converter() {
        return Err(ParseError {
            position: start,
            message: format!(
                "a statement starts with an editor (a lower-case function such as `set`); `{}` is a converter",
                editor.name
            ),
        });
    }
    if !editor.keys.is_empty() {
        return Err(ParseError {
            position: start,
            message: "an editor's result cannot be indexed".into(),
        });
    }
    let condition = if p.is_keyword("where") {
        p.bump();
        Some(p.or_expr()?)
    } else {
        None
    };
    if !matches!(p.peek(), Tok::End) {
        return Err(p.unexpected(if condition.is_some() {
            "`and`, `or`, a comparison operator or the end of the statement"
        } else {
            "`where` or the end of the statement"
        }));
    }
    Ok(Statement { editor, condition })
}

/// Parses a boolean condition.
pub(crate) fn parse_condition(src: &str) -> Result<BoolExpr, ParseError> {
    let mut p = Parser::new(src)?;
    if matches!(p.peek(), Tok::End) {
        return Err(p.error_here("empty condition"));
    }
    let expr = p.or_expr()?;
    if !matches!(p.peek(), Tok::End) {
        return Err(p.unexpected("`and`, `or`, a comparison operator or the end of the condition"));
    }
    Ok(expr)
}

impl Parser {
    fn new(src: &str) -> Result<Parser, ParseError> {
        Ok(Parser {
            toks: lex(src)?,
            pos: 0,
            depth: 0,
        })
    }

    fn last(&self) -> usize {
        self.toks.len().saturating_sub(1)
    }
    fn peek(&self) -> &Tok {
        self.toks
            .get(self.pos.min(self.last()))
            .map_or(&Tok::End, |t| &t.0)
    }
    fn peek_at(&self, n: usize) -> &Tok {
        self.toks
            .get((self.pos + n).min(self.last()))
            .map_or(&Tok::End, |t| &t.0)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos.min(self.last())).map_or(0, |t| t.1)
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.last() {
            self.pos += 1;
        }
        t
    }
    fn error_here(&self, message: &str) -> ParseError {
        ParseError {
            position: self.offset(),
            message: message.into(),
        }
    }
    fn unexpected(&self, expected: &str) -> ParseError {
        ParseError {
            position: self.offset(),
            message: format!("unexpected {}, expected {expected}", describe(self.peek())),
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
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here("nested too deeply"));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn or_expr(&mut self) -> Result<BoolExpr, ParseError> {
        let mut items = vec![self.and_expr()?];
        while self.is_keyword("or") {
            self.bump();
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            BoolExpr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<BoolExpr, ParseError> {
        let mut items = vec![self.unary()?];
        while self.is_keyword("and") {
            self.bump();
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            BoolExpr::And(items)
        })
    }

    fn unary(&mut self) -> Result<BoolExpr, ParseError> {
        self.enter()?;
        let result = self.unary_inner();
        self.leave();
        result
    }

    fn unary_inner(&mut self) -> Result<BoolExpr, ParseError> {
        if self.is_keyword("not") {
            self.bump();
            return Ok(BoolExpr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.peek(), Tok::LParen) {
            self.bump();
            let inner = self.or_expr()?;
            self.expect(&Tok::RParen, "`)`")?;
            return Ok(inner);
        }
        let start = self.offset();
        let left = self.value()?;
        match self.peek() {
            Tok::Op(op) => {
                let op = *op;
                self.bump();
                let right = self.value()?;
                Ok(BoolExpr::Compare(left, op, right))
            }
            Tok::Assign => Err(self.unexpected("a comparison operator (`==` to test equality)")),
            _ => match &left.kind {
                ValueKind::Bool(_) => Ok(BoolExpr::Value(left)),
                ValueKind::Call(c) if c.is_converter() => Ok(BoolExpr::Value(left)),
                _ => Err(ParseError {
                    position: start,
                    message: "expected a comparison (==, !=, <, <=, >, >=) or a boolean: a value alone is not a condition".into(),
                }),
            },
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let result = self.value_inner();
        self.leave();
        result
    }

    fn value_inner(&mut self) -> Result<Value, ParseError> {
        let start = self.offset();
        let kind = match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                ValueKind::Str(s)
            }
            Tok::Int(i) => {
                self.bump();
                ValueKind::Int(i)
            }
            Tok::Float(f) => {
                self.bump();
                ValueKind::Float(f)
            }
            Tok::Bytes(b) => {
                self.bump();
                ValueKind::Bytes(b)
            }
            Tok::LBracket => {
                self.bump();
                let mut items = Vec::new();
                if !matches!(self.peek(), Tok::RBracket) {
                    loop {
                        items.push(self.value()?);
                        if matches!(self.peek(), Tok::Comma) {
                            self.bump();
                            continue;
                        }
                        break;
                    }
                }
                self.expect(&Tok::RBracket, "`,` or `]`")?;
                ValueKind::List(items)
            }
            Tok::Ident(name) => match name.as_str() {
                "true" | "false" => {
                    self.bump();
                    ValueKind::Bool(name == "true")
                }
                "nil" => {
                    self.bump();
                    ValueKind::Nil
                }
                "and" | "or" | "not" | "where" => return Err(self.unexpected("a value")),
                _ if matches!(self.peek_at(1), Tok::LParen) => {
                    ValueKind::Call(self.call(name, start)?)
                }
                _ if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    self.bump();
                    ValueKind::Enum(name)
                }
                _ => ValueKind::Path(self.path()?),
            },
            _ => {
                return Err(self.unexpected(
                    "a value (string, number, true, false, nil, enum, list, path or function)",
                ));
            }
        };
        Ok(Value {
            pos: Pos(start),
            kind,
        })
    }

    /// `name(args) {key}`; the name is the current token.
    fn call(&mut self, name: String, start: usize) -> Result<Call, ParseError> {
        self.bump(); // name
        self.bump(); // (
        let mut args: Vec<Arg> = Vec::new();
        if !matches!(self.peek(), Tok::RParen) {
            loop {
                let at = self.offset();
                let arg_name = match (self.peek(), self.peek_at(1)) {
                    (Tok::Ident(n), Tok::Assign) => {
                        let n = n.clone();
                        self.bump();
                        self.bump();
                        Some(n)
                    }
                    _ => None,
                };
                if arg_name.is_none() && args.iter().any(|a| a.name.is_some()) {
                    return Err(ParseError {
                        position: at,
                        message: "a positional argument cannot follow a named one".into(),
                    });
                }
                let value = self.value()?;
                args.push(Arg {
                    pos: Pos(at),
                    name: arg_name,
                    value,
                });
                if matches!(self.peek(), Tok::Comma) {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        self.expect(&Tok::RParen, "`,` or `)`")?;
        let keys = self.keys()?;
        Ok(Call {
            pos: Pos(start),
            name,
            args,
            keys,
        })
    }

    fn keys(&mut self) -> Result<Vec<Key>, ParseError> {
        let mut keys = Vec::new();
        while matches!(self.peek(), Tok::LBracket) {
            self.bump();
            match self.bump() {
                Tok::Str(s) => keys.push(Key::Str(s)),
                Tok::Int(i) => keys.push(Key::Int(i)),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.unexpected("a string or integer key"));
                }
            }
            self.expect(&Tok::RBracket, "`]`")?;
        }
        Ok(keys)
    }

    fn path(&mut self) -> Result<PathExpr, ParseError> {
        let mut segments: Vec<String> = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                    self.bump();
                    segments.push(s);
                }
                _ => return Err(self.unexpected("a path segment")),
            }
            if matches!(self.peek(), Tok::Dot) {
                self.bump();
                continue;
            }
            break;
        }
        let keys = self.keys()?;
        Ok(PathExpr { segments, keys })
    }
}
