//! The OTTL lexer: text to tokens, each with its byte offset.
//!
//! Tokens are identifiers, string literals (`"..."` with `\"`, `\\`, `\n`, `\t`, `\r`
//! escapes), integers, floats, byte literals (`0x0a1b`), punctuation and the comparison
//! operators. Math operators (`+`, `*`, `/`) and map literals (`{`) are outside the supported
//! subset and refused where they appear.

use crate::ParseError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    /// `=` (named arguments).
    Assign,
    Op(CmpOp),
    End,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A short description of a token for error messages.
pub(crate) fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Int(i) => format!("number {i}"),
        Tok::Float(f) => format!("number {f}"),
        Tok::Bytes(_) => "a byte literal".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Assign => "`=`".into(),
        Tok::Op(op) => format!("`{}`", op.as_str()),
        Tok::End => "end of text".into(),
    }
}

fn err(position: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position,
        message: message.into(),
    }
}

/// Splits `src` into tokens; the last one is always [`Tok::End`] at `src.len()`.
pub(crate) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b',' => Some(Tok::Comma),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            out.push((tok, start));
            i += 1;
            continue;
        }
        match c {
            b'=' | b'!' | b'<' | b'>' => {
                let (tok, len) = match (c, bytes.get(i + 1).copied()) {
                    (b'=', Some(b'=')) => (Tok::Op(CmpOp::Eq), 2),
                    (b'!', Some(b'=')) => (Tok::Op(CmpOp::Ne), 2),
                    (b'<', Some(b'=')) => (Tok::Op(CmpOp::Le), 2),
                    (b'>', Some(b'=')) => (Tok::Op(CmpOp::Ge), 2),
                    (b'<', _) => (Tok::Op(CmpOp::Lt), 1),
                    (b'>', _) => (Tok::Op(CmpOp::Gt), 1),
                    (b'=', _) => (Tok::Assign, 1),
                    _ => {
                        return Err(err(
                            start,
                            "unexpected `!`; comparisons are ==, !=, <, <=, >, >= and negation is `not`",
                        ));
                    }
                };
                out.push((tok, start));
                i += len;
            }
            b'"' => {
                let (s, next) = string(src, i)?;
                out.push((Tok::Str(s), start));
                i = next;
            }
            b'0' if matches!(bytes.get(i + 1), Some(b'x' | b'X')) => {
                let mut j = i + 2;
                while j < bytes.len() && bytes[j].is_ascii_hexdigit() {
                    j += 1;
                }
                let hex = &src[i + 2..j];
                if hex.is_empty() || !hex.len().is_multiple_of(2) {
                    return Err(err(
                        start,
                        "a byte literal needs an even, non-zero number of hex digits after `0x`",
                    ));
                }
                if bytes
                    .get(j)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    return Err(err(j, "unexpected character in byte literal"));
                }
                out.push((Tok::Bytes(decode_hex(hex)), start));
                i = j;
            }
            b'-' | b'0'..=b'9' | b'.' => {
                let (tok, next) = number(src, i)?;
                out.push((tok, start));
                i = next;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                out.push((Tok::Ident(src[i..j].to_owned()), start));
                i = j;
            }
            b'+' | b'*' | b'/' => {
                return Err(err(
                    start,
                    format!(
                        "math expressions are not supported (unexpected `{}`)",
                        char::from(c)
                    ),
                ));
            }
            b'{' | b'}' => {
                return Err(err(start, "map literals are not supported"));
            }
            _ => {
                let ch = src.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(err(start, format!("unexpected character `{ch}`")));
            }
        }
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// A string literal starting at the `"` at `start`; returns it and the offset after it.
fn string(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut s = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        let at = start + 1 + off;
        match ch {
            '"' => return Ok((s, at + 1)),
            '\\' => {
                let escaped = match chars.next().map(|(_, c)| c) {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    _ => return Err(err(at, "unsupported escape sequence in string")),
                };
                s.push(escaped);
            }
            other => s.push(other),
        }
    }
    Err(err(start, "unterminated string"))
}

/// A number starting at `start` (`-`, a digit or `.`).
fn number(src: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let bytes = src.as_bytes();
    let mut j = start + usize::from(bytes[start] == b'-');
    let digits_start = j;
    let mut is_float = false;
    let mut seen_exp = false;
    while j < bytes.len() {
        match bytes[j] {
            b'0'..=b'9' => j += 1,
            b'.' if !is_float => {
                is_float = true;
                j += 1;
            }
            b'e' | b'E' if j > digits_start && !seen_exp => {
                is_float = true;
                seen_exp = true;
                j += 1;
                if matches!(bytes.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
            }
            _ => break,
        }
    }
    let text = &src[start..j];
    if j == digits_start {
        return Err(err(
            start,
            "math expressions are not supported; expected a number after `-`",
        ));
    }
    if let Some(b) = bytes.get(j)
        && (b.is_ascii_alphabetic() || *b == b'_')
    {
        return Err(err(
            j,
            format!("unexpected character `{}` after number", char::from(*b)),
        ));
    }
    let tok = if is_float {
        let f: f64 = text
            .parse()
            .map_err(|_| err(start, format!("invalid number `{text}`")))?;
        if !f.is_finite() {
            return Err(err(start, format!("number `{text}` is out of range")));
        }
        Tok::Float(f)
    } else {
        Tok::Int(
            text.parse()
                .map_err(|_| err(start, format!("integer `{text}` does not fit in int64")))?,
        )
    };
    Ok((tok, j))
}

fn decode_hex(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| (nibble(pair[0]) << 4) | pair.get(1).map_or(0, |b| nibble(*b)))
        .collect()
}

fn nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_positions() {
        let toks = lex(r#"set(attributes["a"], 0x0aFF) where x >= -1.5e3"#).unwrap_or_default();
        let kinds: Vec<&Tok> = toks.iter().map(|(t, _)| t).collect();
        assert_eq!(kinds[0], &Tok::Ident("set".into()));
        assert_eq!(kinds[6], &Tok::Comma);
        assert_eq!(kinds[7], &Tok::Bytes(vec![0x0a, 0xff]));
        assert_eq!(kinds[11], &Tok::Op(CmpOp::Ge));
        assert_eq!(kinds[12], &Tok::Float(-1500.0));
        assert_eq!(toks.last().map(|t| t.1), Some(46));
    }

    #[test]
    fn lexing_errors_have_positions() {
        for (src, at) in [
            ("a + 1", 2),
            ("\"open", 0),
            ("0x1", 0),
            ("12abc", 2),
            ("{", 0),
            ("a ! b", 2),
            ("\"\\q\"", 1),
            ("99999999999999999999", 0),
            ("é", 0),
        ] {
            match lex(src) {
                Err(e) => assert_eq!(e.position, at, "{src}: {}", e.message),
                Ok(t) => panic!("{src}: {t:?}"),
            }
        }
    }

    #[test]
    fn strings_keep_unicode_and_escapes() {
        let toks = lex("\"é\\\"\\n\"").unwrap_or_default();
        assert_eq!(toks[0].0, Tok::Str("é\"\n".into()));
    }
}
