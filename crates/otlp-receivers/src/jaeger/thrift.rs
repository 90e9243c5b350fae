//! Reading Apache Thrift's binary and compact protocols, enough for Jaeger's structs: field
//! headers, integers, doubles, strings, lists and skipping what is not read. Written from the
//! protocols' specifications; every length is checked against the bytes left, so a cut-short
//! or lying packet is an error, never a large allocation.

/// A Thrift type, by its binary-protocol code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TType {
    Stop,
    Bool,
    Byte,
    Double,
    I16,
    I32,
    I64,
    String,
    Struct,
    Map,
    Set,
    List,
}

/// Why a packet does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThriftError {
    /// The bytes ended inside a value.
    #[error("thrift: the message is cut short")]
    Eof,
    /// A value that the protocol does not allow.
    #[error("thrift: {0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> ThriftError {
    ThriftError::Invalid(message.into())
}

/// Which protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `TBinaryProtocol` (big-endian fixed-width integers).
    Binary,
    /// `TCompactProtocol` (zigzag varints, field id deltas).
    Compact,
}

/// Nesting allowed when skipping unknown fields.
const MAX_DEPTH: usize = 64;

/// A reader over one message.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    protocol: Protocol,
    /// Compact: the previous field id of each open struct.
    last_ids: Vec<i16>,
    last_id: i16,
    /// Compact: the value of a bool field, carried in its header.
    pending_bool: Option<bool>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], protocol: Protocol) -> Reader<'a> {
        Reader {
            bytes,
            at: 0,
            protocol,
            last_ids: Vec::new(),
            last_id: 0,
            pending_bool: None,
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ThriftError> {
        if self.remaining() < n {
            return Err(ThriftError::Eof);
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, ThriftError> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, ThriftError> {
        let mut out = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(invalid("varint overflows 64 bits"));
            }
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(invalid("varint longer than 10 bytes"))
    }

    fn zigzag(&mut self) -> Result<i64, ThriftError> {
        let n = self.varint()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    fn be_i32(&mut self) -> Result<i32, ThriftError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn compact_type(nibble: u8) -> Result<TType, ThriftError> {
        Ok(match nibble {
            0 => TType::Stop,
            1 | 2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::I16,
            5 => TType::I32,
            6 => TType::I64,
            7 => TType::Double,
            8 => TType::String,
            9 => TType::List,
            10 => TType::Set,
            11 => TType::Map,
            12 => TType::Struct,
            other => return Err(invalid(format!("unknown compact type {other}"))),
        })
    }

    fn binary_type(code: u8) -> Result<TType, ThriftError> {
        Ok(match code {
            0 => TType::Stop,
            2 => TType::Bool,
            3 => TType::Byte,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::String,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            other => return Err(invalid(format!("unknown type {other}"))),
        })
    }

    /// A message header: the method name (the type and sequence id are not checked, as in
    /// Jaeger's agent).
    pub(crate) fn message_begin(&mut self) -> Result<&'a str, ThriftError> {
        match self.protocol {
            Protocol::Binary => {
                let first = self.be_i32()?;
                if first < 0 {
                    if (first as u32) & 0xffff_0000 != 0x8001_0000 {
                        return Err(invalid("bad version in the message header"));
                    }
                    let name = self.string()?;
                    self.be_i32()?;
                    Ok(name)
                } else {
                    let len = usize::try_from(first).map_err(|_| invalid("bad name length"))?;
                    let name = std::str::from_utf8(self.take(len)?)
                        .map_err(|_| invalid("the method name is not UTF-8"))?;
                    self.byte()?;
                    self.be_i32()?;
                    Ok(name)
                }
            }
            Protocol::Compact => {
                let id = self.byte()?;
                if id != 0x82 {
                    return Err(invalid(format!("expected protocol id 82 but got {id:02x}")));
                }
                let version = self.byte()? & 0x1f;
                if version != 1 {
                    return Err(invalid(format!("unknown compact version {version}")));
                }
                self.varint()?;
                self.string()
            }
        }
    }

    pub(crate) fn struct_begin(&mut self) {
        self.last_ids.push(self.last_id);
        self.last_id = 0;
    }

    pub(crate) fn struct_end(&mut self) {
        self.last_id = self.last_ids.pop().unwrap_or(0);
    }

    /// The next field's type and id; `TType::Stop` ends the struct.
    pub(crate) fn field_begin(&mut self) -> Result<(TType, i16), ThriftError> {
        match self.protocol {
            Protocol::Binary => {
                let ttype = Self::binary_type(self.byte()?)?;
                if ttype == TType::Stop {
                    return Ok((TType::Stop, 0));
                }
                let b = self.take(2)?;
                Ok((ttype, i16::from_be_bytes([b[0], b[1]])))
            }
            Protocol::Compact => {
                let header = self.byte()?;
                let nibble = header & 0x0f;
                let ttype = Self::compact_type(nibble)?;
                if ttype == TType::Stop {
                    return Ok((TType::Stop, 0));
                }
                let delta = i16::from(header >> 4);
                let id = if delta == 0 {
                    i16::try_from(self.zigzag()?).map_err(|_| invalid("field id out of range"))?
                } else {
                    self.last_id.wrapping_add(delta)
                };
                self.last_id = id;
                if ttype == TType::Bool {
                    self.pending_bool = Some(nibble == 1);
                }
                Ok((ttype, id))
            }
        }
    }

    pub(crate) fn bool(&mut self) -> Result<bool, ThriftError> {
        if let Some(value) = self.pending_bool.take() {
            return Ok(value);
        }
        // A binary bool, or a compact bool list element: one byte, 1 is true.
        Ok(self.byte()? == 1)
    }

    pub(crate) fn i32(&mut self) -> Result<i32, ThriftError> {
        match self.protocol {
            Protocol::Binary => self.be_i32(),
            Protocol::Compact => {
                i32::try_from(self.zigzag()?).map_err(|_| invalid("i32 out of range"))
            }
        }
    }

    pub(crate) fn i64(&mut self) -> Result<i64, ThriftError> {
        match self.protocol {
            Protocol::Binary => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(i64::from_be_bytes(a))
            }
            Protocol::Compact => self.zigzag(),
        }
    }

    pub(crate) fn double(&mut self) -> Result<f64, ThriftError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(match self.protocol {
            Protocol::Binary => f64::from_be_bytes(a),
            Protocol::Compact => f64::from_le_bytes(a),
        })
    }

    pub(crate) fn binary(&mut self) -> Result<&'a [u8], ThriftError> {
        let len = match self.protocol {
            Protocol::Binary => {
                usize::try_from(self.be_i32()?).map_err(|_| invalid("negative length"))?
            }
            Protocol::Compact => {
                usize::try_from(self.varint()?).map_err(|_| invalid("length out of range"))?
            }
        };
        self.take(len)
    }

    pub(crate) fn string(&mut self) -> Result<&'a str, ThriftError> {
        std::str::from_utf8(self.binary()?).map_err(|_| invalid("a string is not UTF-8"))
    }

    /// A list (or set) header: the element type and the count, checked against the bytes left
    /// (every element takes at least one byte).
    pub(crate) fn list_begin(&mut self) -> Result<(TType, usize), ThriftError> {
        let (ttype, size) = match self.protocol {
            Protocol::Binary => {
                let ttype = Self::binary_type(self.byte()?)?;
                let size =
                    usize::try_from(self.be_i32()?).map_err(|_| invalid("negative list size"))?;
                (ttype, size)
            }
            Protocol::Compact => {
                let header = self.byte()?;
                let ttype = Self::compact_type(header & 0x0f)?;
                let size = match header >> 4 {
                    15 => usize::try_from(self.varint()?)
                        .map_err(|_| invalid("list size out of range"))?,
                    n => usize::from(n),
                };
                (ttype, size)
            }
        };
        if size > self.remaining() {
            return Err(invalid(format!(
                "list size {size} exceeds the {} bytes left",
                self.remaining()
            )));
        }
        Ok((ttype, size))
    }

    fn map_begin(&mut self) -> Result<(TType, TType, usize), ThriftError> {
        let (k, v, size) = match self.protocol {
            Protocol::Binary => {
                let k = Self::binary_type(self.byte()?)?;
                let v = Self::binary_type(self.byte()?)?;
                let size =
                    usize::try_from(self.be_i32()?).map_err(|_| invalid("negative map size"))?;
                (k, v, size)
            }
            Protocol::Compact => {
                let size = usize::try_from(self.varint()?)
                    .map_err(|_| invalid("map size out of range"))?;
                if size == 0 {
                    return Ok((TType::Stop, TType::Stop, 0));
                }
                let types = self.byte()?;
                (
                    Self::compact_type(types >> 4)?,
                    Self::compact_type(types & 0x0f)?,
                    size,
                )
            }
        };
        if size > self.remaining() {
            return Err(invalid("map size exceeds the bytes left"));
        }
        Ok((k, v, size))
    }

    /// Skips one value of `ttype`.
    pub(crate) fn skip(&mut self, ttype: TType) -> Result<(), ThriftError> {
        self.skip_at(ttype, 0)
    }

    fn skip_at(&mut self, ttype: TType, depth: usize) -> Result<(), ThriftError> {
        if depth > MAX_DEPTH {
            return Err(invalid("nested too deep"));
        }
        match ttype {
            TType::Stop => {}
            TType::Bool => {
                self.bool()?;
            }
            TType::Byte => {
                self.byte()?;
            }
            TType::I16 | TType::I32 | TType::I64 => match self.protocol {
                Protocol::Compact => {
                    self.varint()?;
                }
                Protocol::Binary => {
                    let n = match ttype {
                        TType::I16 => 2,
                        TType::I32 => 4,
                        _ => 8,
                    };
                    self.take(n)?;
                }
            },
            TType::Double => {
                self.take(8)?;
            }
            TType::String => {
                self.binary()?;
            }
            TType::Struct => {
                self.struct_begin();
                loop {
                    let (t, _) = self.field_begin()?;
                    if t == TType::Stop {
                        break;
                    }
                    self.skip_at(t, depth + 1)?;
                }
                self.struct_end();
            }
            TType::List | TType::Set => {
                let (t, n) = self.list_begin()?;
                for _ in 0..n {
                    self.skip_element(t, depth + 1)?;
                }
            }
            TType::Map => {
                let (k, v, n) = self.map_begin()?;
                for _ in 0..n {
                    self.skip_element(k, depth + 1)?;
                    self.skip_element(v, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// A list element: a compact bool element is a byte of its own.
    fn skip_element(&mut self, ttype: TType, depth: usize) -> Result<(), ThriftError> {
        if ttype == TType::Bool {
            self.byte()?;
            return Ok(());
        }
        self.skip_at(ttype, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_beyond_the_bytes_left_are_refused() {
        // A compact list header claiming 2^32 - 1 structs.
        let mut r = Reader::new(&[0xfc, 0xff, 0xff, 0xff, 0x0f], Protocol::Compact);
        assert!(r.list_begin().is_err());
        // A binary string of 2^31 - 1 bytes.
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff, b'a'], Protocol::Binary);
        assert_eq!(r.string(), Err(ThriftError::Eof));
        // A negative binary list size.
        let mut r = Reader::new(&[12, 0xff, 0xff, 0xff, 0xff], Protocol::Binary);
        assert!(r.list_begin().is_err());
        // Deep nesting is refused when skipped.
        let deep = [0x0c_u8; 200];
        let mut r = Reader::new(&deep, Protocol::Compact);
        assert!(r.skip(TType::Struct).is_err());
        // A varint longer than 10 bytes.
        let mut r = Reader::new(&[0xff; 12], Protocol::Compact);
        assert!(r.i64().is_err());
    }
}
