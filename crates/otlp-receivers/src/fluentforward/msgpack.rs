//! A small, bounded MessagePack reader: a resumable [`Scanner`] that finds where one top-level
//! object ends in a growing buffer without decoding it, and a [`Reader`] that decodes a
//! complete object from a byte slice.
//!
//! Written here rather than taken from a crate (`rmp`, `rmpv`) because the receiver needs
//! exactly two things those do not give together: framing that resumes where the last read
//! stopped (a large event arriving in many TCP reads is scanned once, not once per read), and
//! decoding that never allocates by a length the sender claims (every container's capacity is
//! bounded by the bytes actually present) with a nesting limit. Nothing here panics on any
//! input: every index is checked, every error is a [`MsgpackError`].

use thiserror::Error;

/// How deeply arrays and maps may nest (a record inside an event inside a Forward array
/// needs 4; senders' nested records rarely more than a handful).
pub(crate) const MAX_DEPTH: usize = 64;

/// Why bytes are not the MessagePack expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum MsgpackError {
    /// The object is cut short.
    #[error("the MessagePack data is cut short")]
    Truncated,
    /// A byte that starts no MessagePack type (0xc1).
    #[error("invalid MessagePack type byte 0x{0:02x}")]
    InvalidByte(u8),
    /// Containers nested deeper than [`MAX_DEPTH`].
    #[error("MessagePack containers nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A well-formed value of the wrong type for its place in the protocol.
    #[error("expected {expected} for {what}, found {found}")]
    WrongType {
        /// The protocol field.
        what: &'static str,
        /// The type wanted.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
}

/// The family of the next value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Nil,
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Bin,
    Array,
    Map,
    Ext,
}

impl Kind {
    /// The kind a first byte announces, `None` for the unused 0xc1.
    pub(crate) fn of(byte: u8) -> Option<Kind> {
        Some(match byte {
            0x00..=0x7f | 0xcc..=0xcf => Kind::Uint,
            0xe0..=0xff | 0xd0..=0xd3 => Kind::Int,
            0x80..=0x8f | 0xde | 0xdf => Kind::Map,
            0x90..=0x9f | 0xdc | 0xdd => Kind::Array,
            0xa0..=0xbf | 0xd9..=0xdb => Kind::Str,
            0xc0 => Kind::Nil,
            0xc2 | 0xc3 => Kind::Bool,
            0xc4..=0xc6 => Kind::Bin,
            0xc7..=0xc9 | 0xd4..=0xd8 => Kind::Ext,
            0xca | 0xcb => Kind::Float,
            0xc1 => return None,
        })
    }

    /// A name for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Nil => "nil",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Uint => "uint",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bin => "bin",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Ext => "ext",
        }
    }
}

/// The shape of one value's header: how many bytes the header takes, how many payload bytes
/// follow it, and how many child values follow the payload (elements of an array, keys and
/// values of a map).
struct Header {
    len: usize,
    payload: usize,
    children: u64,
}

fn be(bytes: &[u8], at: usize, n: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(n)?)?;
    Some(slice.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Reads the header at the start of `bytes`; `Ok(None)` when the header itself is not all
/// there yet.
fn header(bytes: &[u8]) -> Result<Option<Header>, MsgpackError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    let fixed = |len: usize, payload: usize| {
        Ok(Some(Header {
            len,
            payload,
            children: 0,
        }))
    };
    // A length stored in the `n` bytes after the type byte.
    let sized = |n: usize, extra: usize, children: u64| -> Result<Option<Header>, MsgpackError> {
        match be(bytes, 1, n) {
            None => Ok(None),
            Some(value) => {
                let value = usize::try_from(value).map_err(|_| MsgpackError::Truncated)?;
                if children == 0 {
                    Ok(Some(Header {
                        len: 1 + n + extra,
                        payload: value,
                        children: 0,
                    }))
                } else {
                    Ok(Some(Header {
                        len: 1 + n,
                        payload: 0,
                        children: (value as u64).saturating_mul(children),
                    }))
                }
            }
        }
    };
    match first {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => fixed(1, 0),
        0x80..=0x8f => Ok(Some(Header {
            len: 1,
            payload: 0,
            children: u64::from(first & 0x0f) * 2,
        })),
        0x90..=0x9f => Ok(Some(Header {
            len: 1,
            payload: 0,
            children: u64::from(first & 0x0f),
        })),
        0xa0..=0xbf => fixed(1, usize::from(first & 0x1f)),
        0xc1 => Err(MsgpackError::InvalidByte(first)),
        0xc4 | 0xd9 => sized(1, 0, 0),
        0xc5 | 0xda => sized(2, 0, 0),
        0xc6 | 0xdb => sized(4, 0, 0),
        // ext 8/16/32: length, then the type byte, then the payload.
        0xc7 => sized(1, 1, 0),
        0xc8 => sized(2, 1, 0),
        0xc9 => sized(4, 1, 0),
        0xca => fixed(1, 4),
        0xcb => fixed(1, 8),
        0xcc | 0xd0 => fixed(1, 1),
        0xcd | 0xd1 => fixed(1, 2),
        0xce | 0xd2 => fixed(1, 4),
        0xcf | 0xd3 => fixed(1, 8),
        // fixext 1/2/4/8/16: the type byte, then the payload.
        0xd4 => fixed(2, 1),
        0xd5 => fixed(2, 2),
        0xd6 => fixed(2, 4),
        0xd7 => fixed(2, 8),
        0xd8 => fixed(2, 16),
        0xdc => sized(2, 0, 1),
        0xdd => sized(4, 0, 1),
        0xde => sized(2, 0, 2),
        0xdf => sized(4, 0, 2),
    }
}

/// What [`Scanner::advance`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The object ends after this many bytes.
    Complete(usize),
    /// More bytes are needed; at least this many in all (a lower bound).
    NeedMore(usize),
}

/// Finds the end of one top-level MessagePack object in a buffer that grows, resuming where
/// it stopped: each byte is looked at once however the object is split across reads.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    pos: usize,
    /// Children still expected by each open container, innermost last.
    stack: Vec<u64>,
}

impl Scanner {
    /// Scans `buffer` (the same buffer as before, possibly longer) on from where the last call
    /// stopped.
    pub(crate) fn advance(&mut self, buffer: &[u8]) -> Result<Scan, MsgpackError> {
        loop {
            let rest = buffer.get(self.pos..).unwrap_or_default();
            let Some(head) = header(rest)? else {
                return Ok(Scan::NeedMore(
                    self.pos.saturating_add(1).max(buffer.len() + 1),
                ));
            };
            let end = head.len.saturating_add(head.payload);
            if rest.len() < end {
                return Ok(Scan::NeedMore(self.pos.saturating_add(end)));
            }
            self.pos += end;
            if head.children > 0 {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(MsgpackError::TooDeep);
                }
                self.stack.push(head.children);
                continue;
            }
            // A complete value: it counts against its container, which may complete in turn.
            loop {
                match self.stack.last_mut() {
                    None => {
                        let done = self.pos;
                        *self = Scanner::default();
                        return Ok(Scan::Complete(done));
                    }
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.stack.pop();
                    }
                }
            }
        }
    }
}

/// A decoded extension value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ext<'a> {
    pub(crate) kind: i8,
    pub(crate) data: &'a [u8],
}

/// One scalar, or the header of a container.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Token<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(u32),
    Map(u32),
    Ext(Ext<'a>),
}

/// Decodes MessagePack from a slice, token by token.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The kind of the next value, without reading it.
    pub(crate) fn peek_kind(&self) -> Result<Kind, MsgpackError> {
        let byte = *self.bytes.get(self.pos).ok_or(MsgpackError::Truncated)?;
        Kind::of(byte).ok_or(MsgpackError::InvalidByte(byte))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        let end = self.pos.checked_add(n).ok_or(MsgpackError::Truncated)?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(MsgpackError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, n: usize) -> Result<u64, MsgpackError> {
        let slice = self.take(n)?;
        Ok(slice.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn len(&mut self, n: usize) -> Result<usize, MsgpackError> {
        usize::try_from(self.uint(n)?).map_err(|_| MsgpackError::Truncated)
    }

    fn count(&mut self, n: usize) -> Result<u32, MsgpackError> {
        u32::try_from(self.uint(n)?).map_err(|_| MsgpackError::Truncated)
    }

    fn ext(&mut self, len: usize) -> Result<Token<'a>, MsgpackError> {
        let kind = self.take(1)?.first().map_or(0, |b| *b as i8);
        let data = self.take(len)?;
        Ok(Token::Ext(Ext { kind, data }))
    }

    /// Reads the next token.
    pub(crate) fn token(&mut self) -> Result<Token<'a>, MsgpackError> {
        let first = *self.take(1)?.first().ok_or(MsgpackError::Truncated)?;
        Ok(match first {
            0x00..=0x7f => Token::Uint(u64::from(first)),
            0xe0..=0xff => Token::Int(i64::from(first as i8)),
            0x80..=0x8f => Token::Map(u32::from(first & 0x0f)),
            0x90..=0x9f => Token::Array(u32::from(first & 0x0f)),
            0xa0..=0xbf => Token::Str(self.take(usize::from(first & 0x1f))?),
            0xc0 => Token::Nil,
            0xc1 => return Err(MsgpackError::InvalidByte(first)),
            0xc2 => Token::Bool(false),
            0xc3 => Token::Bool(true),
            0xc4 => {
                let n = self.len(1)?;
                Token::Bin(self.take(n)?)
            }
            0xc5 => {
                let n = self.len(2)?;
                Token::Bin(self.take(n)?)
            }
            0xc6 => {
                let n = self.len(4)?;
                Token::Bin(self.take(n)?)
            }
            0xc7 => {
                let n = self.len(1)?;
                self.ext(n)?
            }
            0xc8 => {
                let n = self.len(2)?;
                self.ext(n)?
            }
            0xc9 => {
                let n = self.len(4)?;
                self.ext(n)?
            }
            0xca => Token::Float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Token::Float(f64::from_bits(self.uint(8)?)),
            0xcc => Token::Uint(self.uint(1)?),
            0xcd => Token::Uint(self.uint(2)?),
            0xce => Token::Uint(self.uint(4)?),
            0xcf => Token::Uint(self.uint(8)?),
            0xd0 => Token::Int(i64::from(self.uint(1)? as u8 as i8)),
            0xd1 => Token::Int(i64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Token::Int(i64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Token::Int(self.uint(8)? as i64),
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xd9 => {
                let n = self.len(1)?;
                Token::Str(self.take(n)?)
            }
            0xda => {
                let n = self.len(2)?;
                Token::Str(self.take(n)?)
            }
            0xdb => {
                let n = self.len(4)?;
                Token::Str(self.take(n)?)
            }
            0xdc => Token::Array(self.count(2)?),
            0xdd => Token::Array(self.count(4)?),
            0xde => Token::Map(self.count(2)?),
            0xdf => Token::Map(self.count(4)?),
        })
    }

    fn wrong(what: &'static str, expected: &'static str, token: &Token<'_>) -> MsgpackError {
        MsgpackError::WrongType {
            what,
            expected,
            found: token_name(token),
        }
    }

    /// An array header.
    pub(crate) fn array(&mut self, what: &'static str) -> Result<u32, MsgpackError> {
        match self.token()? {
            Token::Array(n) => Ok(n),
            other => Err(Self::wrong(what, "array", &other)),
        }
    }

    /// A map header.
    pub(crate) fn map(&mut self, what: &'static str) -> Result<u32, MsgpackError> {
        match self.token()? {
            Token::Map(n) => Ok(n),
            other => Err(Self::wrong(what, "map", &other)),
        }
    }

    /// A str.
    pub(crate) fn str(&mut self, what: &'static str) -> Result<&'a [u8], MsgpackError> {
        match self.token()? {
            Token::Str(s) => Ok(s),
            other => Err(Self::wrong(what, "str", &other)),
        }
    }

    /// A str or a bin (map keys and packed entries may be either).
    pub(crate) fn str_or_bin(&mut self, what: &'static str) -> Result<&'a [u8], MsgpackError> {
        match self.token()? {
            Token::Str(s) | Token::Bin(s) => Ok(s),
            other => Err(Self::wrong(what, "str or bin", &other)),
        }
    }

    /// Skips one whole value (containers included), at most [`MAX_DEPTH`] deep.
    pub(crate) fn skip(&mut self) -> Result<(), MsgpackError> {
        let mut pending: u64 = 1;
        let mut depth_stack: Vec<u64> = Vec::new();
        while pending > 0 {
            pending -= 1;
            let children = match self.token()? {
                Token::Array(n) => u64::from(n),
                Token::Map(n) => u64::from(n) * 2,
                _ => 0,
            };
            if children > 0 {
                if depth_stack.len() >= MAX_DEPTH {
                    return Err(MsgpackError::TooDeep);
                }
                depth_stack.push(pending);
                pending = children;
            }
            while pending == 0 {
                match depth_stack.pop() {
                    Some(outer) => pending = outer,
                    None => break,
                }
            }
        }
        Ok(())
    }
}

/// The name of a token's type, for errors.
pub(crate) fn token_name(token: &Token<'_>) -> &'static str {
    match token {
        Token::Nil => "nil",
        Token::Bool(_) => "bool",
        Token::Int(_) => "int",
        Token::Uint(_) => "uint",
        Token::Float(_) => "float",
        Token::Str(_) => "str",
        Token::Bin(_) => "bin",
        Token::Array(_) => "array",
        Token::Map(_) => "map",
        Token::Ext(_) => "ext",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(bytes: &[u8]) -> Result<Scan, MsgpackError> {
        Scanner::default().advance(bytes)
    }

    #[test]
    fn scanner_finds_the_end_of_nested_objects() {
        // [ "a", {"k": [1, 2]}, nil ] followed by another object.
        let bytes = [
            0x93, 0xa1, b'a', 0x81, 0xa1, b'k', 0x92, 0x01, 0x02, 0xc0, 0x90,
        ];
        assert_eq!(scan_all(&bytes), Ok(Scan::Complete(10)));
        assert_eq!(scan_all(&[0x90]), Ok(Scan::Complete(1)));
        assert_eq!(scan_all(&[0x80]), Ok(Scan::Complete(1)));
    }

    #[test]
    fn scanner_resumes_byte_by_byte_to_the_same_end() {
        let bytes = [
            0x93, 0xa1, b'a', 0xc4, 0x03, 1, 2, 3, 0x82, 0xa1, b'x', 0xd7, 0x00, 0, 0, 0, 1, 0, 0,
            0, 2, 0xa1, b'y', 0x90,
        ];
        let mut scanner = Scanner::default();
        for n in 0..bytes.len() {
            assert!(
                matches!(scanner.advance(&bytes[..n]), Ok(Scan::NeedMore(_))),
                "complete too early at {n}"
            );
        }
        assert_eq!(scanner.advance(&bytes), Ok(Scan::Complete(bytes.len())));
    }

    #[test]
    fn scanner_reports_the_length_a_big_bin_needs() {
        let bytes = [0x92, 0xa1, b't', 0xc6, 0x00, 0x01, 0x00, 0x00];
        assert_eq!(scan_all(&bytes), Ok(Scan::NeedMore(8 + 65_536)));
    }

    #[test]
    fn scanner_rejects_invalid_bytes_and_deep_nesting() {
        assert_eq!(scan_all(&[0xc1]), Err(MsgpackError::InvalidByte(0xc1)));
        let deep = vec![0x91; MAX_DEPTH + 1];
        assert_eq!(scan_all(&deep), Err(MsgpackError::TooDeep));
    }

    #[test]
    fn reader_decodes_every_scalar_format() {
        let bytes = [
            0x05, 0xff, 0xcc, 200, 0xcd, 1, 0, 0xd0, 0x80, 0xd1, 0xff, 0x00, 0xcf, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xca, 0x3f, 0x80, 0, 0, 0xc3, 0xc0,
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.token(), Ok(Token::Uint(5)));
        assert_eq!(r.token(), Ok(Token::Int(-1)));
        assert_eq!(r.token(), Ok(Token::Uint(200)));
        assert_eq!(r.token(), Ok(Token::Uint(256)));
        assert_eq!(r.token(), Ok(Token::Int(-128)));
        assert_eq!(r.token(), Ok(Token::Int(-256)));
        assert_eq!(r.token(), Ok(Token::Uint(u64::MAX)));
        assert_eq!(r.token(), Ok(Token::Float(1.0)));
        assert_eq!(r.token(), Ok(Token::Bool(true)));
        assert_eq!(r.token(), Ok(Token::Nil));
        assert!(r.is_empty());
        assert_eq!(r.token(), Err(MsgpackError::Truncated));
    }

    #[test]
    fn reader_never_reads_past_the_end() {
        // A str32 claiming 4 GiB, an array32 claiming 4 billion elements.
        let mut r = Reader::new(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a']);
        assert_eq!(r.token(), Err(MsgpackError::Truncated));
        let mut r = Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(r.token(), Ok(Token::Array(u32::MAX)));
        assert_eq!(r.token(), Ok(Token::Uint(1)));
        let mut r = Reader::new(&[0x92, 0x01]);
        assert_eq!(r.skip(), Err(MsgpackError::Truncated));
    }

    #[test]
    fn skip_passes_over_nested_values() {
        let bytes = [0x92, 0x81, 0xa1, b'k', 0x91, 0x01, 0x02, 0x07];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.skip(), Ok(()));
        assert_eq!(r.token(), Ok(Token::Uint(7)));
    }
}
