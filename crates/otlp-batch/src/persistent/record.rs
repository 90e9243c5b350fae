//! The byte format of segment headers and records.

use crc32fast::Hasher;

/// Bytes before a segment's first record.
pub(crate) const SEGMENT_HEADER: usize = 16;
/// Bytes before a record's body: length and checksum.
pub(crate) const RECORD_HEADER: usize = 8;
/// Bytes of a data record's body before the payload: kind, signal, seq, items.
const DATA_PREFIX: usize = 1 + 1 + 8 + 4;
const MAGIC: &[u8; 8] = b"OTLPQSEG";
const VERSION: u8 = 1;
const KIND_DATA: u8 = 1;
const KIND_ACK: u8 = 2;

pub(crate) fn segment_header(signal: u8) -> [u8; SEGMENT_HEADER] {
    let mut header = [0u8; SEGMENT_HEADER];
    header[..8].copy_from_slice(MAGIC);
    header[8] = VERSION;
    header[9] = signal;
    header
}

/// The full length of a data record with a payload of `payload` bytes.
pub(crate) const fn data_record_len(payload: usize) -> usize {
    RECORD_HEADER + DATA_PREFIX + payload
}

fn checksum(length: [u8; 4], body: &[u8]) -> u32 {
    let mut hasher = Hasher::new();
    hasher.update(&length);
    hasher.update(body);
    hasher.finalize()
}

fn finish(buffer: &mut [u8], start: usize) {
    let body_len = (buffer.len() - start - RECORD_HEADER) as u32;
    let length = body_len.to_le_bytes();
    let crc = checksum(length, &buffer[start + RECORD_HEADER..]);
    buffer[start..start + 4].copy_from_slice(&length);
    buffer[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Appends a data record to `buffer`.
pub(crate) fn encode_data_header(
    buffer: &mut Vec<u8>,
    signal: u8,
    seq: u64,
    items: u32,
    payload: &[u8],
) {
    let start = buffer.len();
    buffer.extend_from_slice(&[0u8; RECORD_HEADER]);
    buffer.push(KIND_DATA);
    buffer.push(signal);
    buffer.extend_from_slice(&seq.to_le_bytes());
    buffer.extend_from_slice(&items.to_le_bytes());
    buffer.extend_from_slice(payload);
    finish(buffer, start);
}

/// An acknowledgement record for runs of sequence numbers.
pub(crate) fn encode_ack(runs: &[(u64, u32)]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(RECORD_HEADER + 5 + runs.len() * 12);
    buffer.extend_from_slice(&[0u8; RECORD_HEADER]);
    buffer.push(KIND_ACK);
    buffer.extend_from_slice(&(runs.len() as u32).to_le_bytes());
    for &(first, run) in runs {
        buffer.extend_from_slice(&first.to_le_bytes());
        buffer.extend_from_slice(&run.to_le_bytes());
    }
    finish(&mut buffer, 0);
    buffer
}

/// A decoded record body.
pub(crate) enum Body<'a> {
    Data {
        signal: u8,
        seq: u64,
        items: u32,
        payload: &'a [u8],
    },
    Ack(Vec<(u64, u32)>),
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Decodes the record at the start of `bytes`: its body and full length, or `None` when it is
/// cut short, fails its checksum, or is malformed.
pub(crate) fn decode_record(bytes: &[u8]) -> Option<(Body<'_>, usize)> {
    let length = u32_at(bytes, 0)?;
    let crc = u32_at(bytes, 4)?;
    let end = RECORD_HEADER.checked_add(length as usize)?;
    let body = bytes.get(RECORD_HEADER..end)?;
    if checksum(length.to_le_bytes(), body) != crc {
        return None;
    }
    let decoded = match *body.first()? {
        KIND_DATA if body.len() >= DATA_PREFIX => Body::Data {
            signal: body[1],
            seq: u64_at(body, 2)?,
            items: u32_at(body, 10)?,
            payload: &body[DATA_PREFIX..],
        },
        KIND_ACK => {
            let count = u32_at(body, 1)? as usize;
            if body.len() != 5 + count.checked_mul(12)? {
                return None;
            }
            let runs = (0..count)
                .map(|i| Some((u64_at(body, 5 + i * 12)?, u32_at(body, 13 + i * 12)?)))
                .collect::<Option<Vec<_>>>()?;
            Body::Ack(runs)
        }
        _ => return None,
    };
    Some((decoded, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_ack_round_trip() {
        let mut buffer = Vec::new();
        encode_data_header(&mut buffer, 1, 42, 7, b"payload");
        assert_eq!(buffer.len(), data_record_len(7));
        buffer.extend_from_slice(&encode_ack(&[(1, 3), (42, 1)]));
        let (body, len) = decode_record(&buffer).unwrap();
        assert!(matches!(
            body,
            Body::Data {
                signal: 1,
                seq: 42,
                items: 7,
                payload: b"payload"
            }
        ));
        let (body, _) = decode_record(&buffer[len..]).unwrap();
        assert!(matches!(body, Body::Ack(ref runs) if runs == &[(1, 3), (42, 1)]));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_detected() {
        let mut buffer = Vec::new();
        encode_data_header(&mut buffer, 1, 9, 1, b"some protobuf bytes");
        for cut in 0..buffer.len() {
            assert!(decode_record(&buffer[..cut]).is_none(), "cut at {cut}");
        }
        for byte in 0..buffer.len() {
            for bit in 0..8 {
                let mut flipped = buffer.clone();
                flipped[byte] ^= 1 << bit;
                assert!(decode_record(&flipped).is_none(), "flip {byte}:{bit}");
            }
        }
    }

    #[test]
    fn zeroes_are_not_a_record() {
        assert!(decode_record(&[0u8; 64]).is_none());
    }
}
