//! Hand-written hexadecimal codec for the fixed-size ids.
//!
//! Lookup tables in both directions, fixed-size stack buffers, no allocation and no dependency:
//! ids are formatted and parsed on every propagated request, so this stays on the cheap side.

use super::ids::IdError;

/// Lower-case digits, indexed by nibble value.
const ENCODE: &[u8; 16] = b"0123456789abcdef";

/// Marker in [`DECODE`] for a byte that is not a hex digit.
const NOT_HEX: u8 = 0xFF;

/// Nibble value of every byte that is a hex digit (either case), [`NOT_HEX`] for all others.
const DECODE: [u8; 256] = build_decode_table();

const fn build_decode_table() -> [u8; 256] {
    let mut table = [NOT_HEX; 256];
    let mut i: u8 = 0;
    while i < 10 {
        table[(b'0' + i) as usize] = i;
        i += 1;
    }
    let mut i: u8 = 0;
    while i < 6 {
        table[(b'a' + i) as usize] = 10 + i;
        table[(b'A' + i) as usize] = 10 + i;
        i += 1;
    }
    table
}

/// Which letter cases [`decode`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Case {
    /// `a-f` and `A-F` (what `FromStr` accepts).
    Either,
    /// `a-f` only (what the W3C `traceparent` header requires).
    LowerOnly,
}

/// Encodes `N` bytes as `M == 2 * N` lower-case hex digits.
pub(super) fn encode<const N: usize, const M: usize>(bytes: &[u8; N]) -> [u8; M] {
    const { assert!(M == 2 * N, "hex output must be twice the input length") };
    let mut out = [0u8; M];
    let (pairs, _) = out.as_chunks_mut::<2>();
    for (pair, byte) in pairs.iter_mut().zip(bytes) {
        *pair = [
            ENCODE[usize::from(byte >> 4)],
            ENCODE[usize::from(byte & 0x0F)],
        ];
    }
    out
}

/// Views an [`encode`] output as `&str`.
///
/// The buffer only ever holds ASCII digits, so the conversion cannot fail; the empty fallback
/// exists only to avoid a panic path.
pub(super) fn as_str(digits: &[u8]) -> &str {
    core::str::from_utf8(digits).unwrap_or_default()
}

/// Decodes exactly `2 * N` hex digits into `N` bytes.
///
/// Errors report the length of `s` in bytes, or the byte index of the first bad character.
pub(super) fn decode<const N: usize>(s: &str, case: Case) -> Result<[u8; N], IdError> {
    let src = s.as_bytes();
    if src.len() != 2 * N {
        return Err(IdError::WrongLength {
            expected: 2 * N,
            actual: src.len(),
        });
    }
    let mut out = [0u8; N];
    let (pairs, _) = src.as_chunks::<2>();
    for (i, (byte, [hi, lo])) in out.iter_mut().zip(pairs).enumerate() {
        *byte = (nibble(*hi, 2 * i, case)? << 4) | nibble(*lo, 2 * i + 1, case)?;
    }
    Ok(out)
}

fn nibble(c: u8, index: usize, case: Case) -> Result<u8, IdError> {
    let value = DECODE[usize::from(c)];
    if value == NOT_HEX {
        return Err(IdError::InvalidHexCharacter { index });
    }
    if case == Case::LowerOnly && c.is_ascii_uppercase() {
        return Err(IdError::UppercaseHexCharacter { index });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table_matches_std() {
        for b in 0..=255u8 {
            let expected = (b as char).to_digit(16).map(|d| d as u8);
            let got = (DECODE[usize::from(b)] != NOT_HEX).then_some(DECODE[usize::from(b)]);
            assert_eq!(got, expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn encode_all_byte_values() {
        for b in 0..=255u8 {
            let digits: [u8; 2] = encode::<1, 2>(&[b]);
            assert_eq!(as_str(&digits), format!("{b:02x}"));
        }
    }

    #[test]
    fn decode_round_trip_and_errors() {
        let bytes = [0x01, 0xAB, 0xFF, 0x00];
        let digits: [u8; 8] = encode(&bytes);
        assert_eq!(as_str(&digits), "01abff00");
        assert_eq!(decode::<4>("01abff00", Case::LowerOnly), Ok(bytes));
        assert_eq!(decode::<4>("01ABFF00", Case::Either), Ok(bytes));
        assert_eq!(
            decode::<4>("01ABFF00", Case::LowerOnly),
            Err(IdError::UppercaseHexCharacter { index: 2 })
        );
        assert_eq!(
            decode::<4>("01abff0g", Case::Either),
            Err(IdError::InvalidHexCharacter { index: 7 })
        );
        assert_eq!(
            decode::<4>("01abff0", Case::Either),
            Err(IdError::WrongLength {
                expected: 8,
                actual: 7
            })
        );
    }
}
