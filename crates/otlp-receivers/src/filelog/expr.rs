//! The subset of expr-lang that stanza's `expr`, `if` and router routes use: `body matches
//! "re"`, `==` / `!=` against string, number, boolean literals and `nil`, `and` / `&&`,
//! `or` / `||`, `not` / `!`, parentheses, and the fields `body`, `body.x`, `attributes.x`,
//! `attributes["k"]`, `resource["k"]`. Anything else is a configuration error naming the
//! expression; regular expressions are compiled once, at configuration.

use regex::Regex;
use serde_json::Value;

use super::entry::{Entry, Field, Root};

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Eq(Operand, Operand, bool),
    Matches(Operand, Regex),
    Truthy(Operand),
}

#[derive(Debug, Clone)]
enum Operand {
    Field(Field),
    Literal(Value),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Num(f64),
    Ident(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else {
                    return Err("unterminated string literal".into());
                };
                i += 1;
                if ch == quote {
                    break;
                }
                if ch == '\\' && quote != '`' {
                    let Some(&esc) = chars.get(i) else {
                        return Err("unterminated string literal".into());
                    };
                    i += 1;
                    s.push(match esc {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        other => other,
                    });
                } else {
                    s.push(ch);
                }
            }
            tokens.push(Token::Str(s));
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse::<f64>()
                .map_err(|_| format!("bad number {text}"))?;
            tokens.push(Token::Num(n));
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = match two.as_str() {
            "==" => Some("=="),
            "!=" => Some("!="),
            "&&" => Some("&&"),
            "||" => Some("||"),
            _ => None,
        };
        if let Some(op) = op {
            tokens.push(Token::Op(op));
            i += 2;
            continue;
        }
        let op = match c {
            '!' => "!",
            '(' => "(",
            ')' => ")",
            '.' => ".",
            '[' => "[",
            ']' => "]",
            other => return Err(format!("unsupported character '{other}'")),
        };
        tokens.push(Token::Op(op));
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token::Op(o)) if *o == op)
    }

    fn or(&mut self) -> Result<Node, String> {
        let mut left = self.and()?;
        while self.is_word("or") || self.is_op("||") {
            self.pos += 1;
            let right = self.and()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, String> {
        let mut left = self.unary()?;
        while self.is_word("and") || self.is_op("&&") {
            self.pos += 1;
            let right = self.unary()?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, String> {
        if self.is_word("not") || self.is_op("!") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > 64 {
                return Err("nested too deeply".into());
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, String> {
        if self.is_op("(") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > 64 {
                return Err("nested too deeply".into());
            }
            let inner = self.or()?;
            self.depth -= 1;
            if !self.is_op(")") {
                return Err("missing )".into());
            }
            self.pos += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        if self.is_op("==") || self.is_op("!=") {
            let equal = self.is_op("==");
            self.pos += 1;
            let right = self.operand()?;
            return Ok(Node::Eq(left, right, equal));
        }
        if self.is_word("matches") {
            self.pos += 1;
            let Some(Token::Str(pattern)) = self.next() else {
                return Err("matches needs a string literal on its right".into());
            };
            let regex = Regex::new(&pattern).map_err(|e| format!("bad regular expression: {e}"))?;
            return Ok(Node::Matches(left, regex));
        }
        Ok(Node::Truthy(left))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Operand::Literal(Value::String(s))),
            Some(Token::Num(n)) => Ok(Operand::Literal(
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            )),
            Some(Token::Ident(word)) => match word.as_str() {
                "nil" => Ok(Operand::Literal(Value::Null)),
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "body" | "attributes" | "resource" | "$body" | "$attributes" | "$resource"
                | "$record" => {
                    let mut field = Field::parse(&word)?;
                    loop {
                        if self.is_op(".") {
                            self.pos += 1;
                            match self.next() {
                                Some(Token::Ident(key)) => field.keys.push(key),
                                _ => return Err("a name must follow '.'".into()),
                            }
                        } else if self.is_op("[") {
                            self.pos += 1;
                            let Some(Token::Str(key)) = self.next() else {
                                return Err("[ needs a string key".into());
                            };
                            if !self.is_op("]") {
                                return Err("missing ]".into());
                            }
                            self.pos += 1;
                            field.keys.push(key);
                        } else {
                            break;
                        }
                    }
                    Ok(Operand::Field(field))
                }
                other => Err(format!(
                    "\"{other}\" is not supported (functions, variables and operators beyond ==, !=, matches, and, or, not are outside the subset)"
                )),
            },
            Some(Token::Op(op)) => Err(format!("unexpected '{op}'")),
            None => Err("unexpected end of expression".into()),
        }
    }
}

impl Expr {
    /// Compiles `text`; the error says what is outside the subset.
    pub(crate) fn parse(text: &str) -> Result<Expr, String> {
        let mut parser = Parser {
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
        };
        let node = parser.or()?;
        if let Some(t) = parser.peek() {
            return Err(format!("unexpected {t:?} after the expression"));
        }
        Ok(Expr { node })
    }

    /// Evaluates against an entry.
    pub(crate) fn eval(&self, entry: &Entry) -> bool {
        eval(&self.node, entry)
    }
}

fn resolve<'e>(operand: &'e Operand, entry: &'e Entry) -> Option<std::borrow::Cow<'e, Value>> {
    match operand {
        Operand::Literal(v) => Some(std::borrow::Cow::Borrowed(v)),
        Operand::Field(f) => {
            if f.root == Root::Body
                && f.keys.is_empty()
                && let Some(bytes) = &entry.body_bytes
            {
                return Some(std::borrow::Cow::Owned(Value::String(
                    String::from_utf8_lossy(bytes).into_owned(),
                )));
            }
            f.get(entry).map(std::borrow::Cow::Borrowed)
        }
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn eval(node: &Node, entry: &Entry) -> bool {
    match node {
        Node::Or(a, b) => eval(a, entry) || eval(b, entry),
        Node::And(a, b) => eval(a, entry) && eval(b, entry),
        Node::Not(a) => !eval(a, entry),
        Node::Eq(a, b, equal) => {
            let a = resolve(a, entry);
            let b = resolve(b, entry);
            let same = match (a.as_deref(), b.as_deref()) {
                (None | Some(Value::Null), None | Some(Value::Null)) => true,
                (Some(x), Some(y)) => values_equal(x, y),
                _ => false,
            };
            same == *equal
        }
        Node::Matches(a, regex) => match resolve(a, entry).as_deref() {
            Some(Value::String(s)) => regex.is_match(s),
            _ => false,
        },
        Node::Truthy(a) => matches!(resolve(a, entry).as_deref(), Some(Value::Bool(true))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Entry {
        let mut e = Entry::new(json!("INFO: hello"), 0);
        e.attributes.insert("x".into(), json!("v"));
        e.attributes.insert("a.b".into(), json!("dotted"));
        e.attributes.insert("n".into(), json!(5.0));
        e.resource.insert("k".into(), json!("r"));
        e
    }

    #[test]
    fn subset_evaluates() {
        let e = entry();
        let cases = [
            (r#"body matches "^INFO:""#, true),
            (r#"body matches "^WARN""#, false),
            (r#"attributes.x == "v""#, true),
            (r#"attributes.x != "v""#, false),
            (r#"attributes["a.b"] == 'dotted'"#, true),
            (r#"resource["k"] == "r" and attributes.x == "v""#, true),
            (r#"resource["k"] == "x" or attributes.x == "v""#, true),
            (r#"not (attributes.x == "v")"#, false),
            (r#"!(attributes.x == "w") && attributes.n == 5"#, true),
            ("attributes.missing == nil", true),
            ("attributes.x != nil", true),
            ("attributes.missing != nil", false),
            (r#"body.field == "a""#, false),
        ];
        for (text, want) in cases {
            let expr = Expr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(expr.eval(&e), want, "{text}");
        }
    }

    #[test]
    fn body_fields_of_a_map_body() {
        let e = Entry::new(json!({"level": "error", "inner": {"k": "v"}}), 0);
        assert!(Expr::parse(r#"body.level == "error""#).unwrap().eval(&e));
        assert!(Expr::parse(r#"body.inner.k == "v""#).unwrap().eval(&e));
        assert!(!Expr::parse(r#"body matches "x""#).unwrap().eval(&e));
    }

    #[test]
    fn outside_the_subset_is_an_error() {
        for text in [
            r#"type(body) == "map""#,
            "attributes.x > 3",
            r#"env("HOME") == "x""#,
            r#"body matches attributes.x"#,
            r#"body matches "(""#,
            "attributes.x ==",
            r#""unterminated"#,
            "(attributes.x == 1",
            "attributes.x == 1 1",
        ] {
            assert!(Expr::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let text = format!(
            "{}attributes.x == \"v\"{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(Expr::parse(&text).is_err());
        let text = format!("{}attributes.x", "!".repeat(10_000));
        assert!(Expr::parse(&text).is_err());
    }
}
