//! gzip (RFC 1952) and zlib (RFC 1950) compression of whole buffers through libdeflate: the
//! exporter always has the whole request, so one call into a buffer of the format's bound
//! replaces the streaming encoder. Decompression stays on flate2 (streamed, size-capped).

use std::cell::RefCell;
use std::io;

use libdeflater::{CompressionLvl, Compressor};

use super::CompressionError;

/// The container around the deflate stream.
#[derive(Debug, Clone, Copy)]
pub(super) enum Format {
    /// gzip (RFC 1952): `Content-Encoding: gzip`.
    Gzip,
    /// zlib (RFC 1950): `Content-Encoding: deflate`.
    Zlib,
}

/// libdeflate's levels, 0 to 12.
const LEVELS: usize = 13;

/// The largest output bound kept as a thread's scratch buffer between calls (a batch of a few
/// thousand spans is 1 to 3 MiB); a larger request gets a buffer of its own, freed after.
const SCRATCH_MAX: usize = 16 << 20;

/// A thread's compression state, made on first use and kept.
struct State {
    /// One compressor per level: a compressor holds libdeflate's match-finder tables
    /// (hundreds of KiB), not worth allocating per export.
    compressors: [Option<Compressor>; LEVELS],
    /// The output buffer libdeflate writes into (it needs the format's bound up front). Kept
    /// so that an export neither zeroes nor faults in a fresh bound-sized buffer: the pages
    /// past what the data compresses to are never touched.
    scratch: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State {
            compressors: [const { None }; LEVELS],
            scratch: Vec::new(),
        })
    };
}

/// Compresses `data` in `format` at libdeflate `level` (0 to 12), after `prefix` zero bytes
/// (room for a frame header, so the caller does not copy the output again). The result is
/// exactly `prefix` + the compressed length long, and its capacity is its length: the request
/// may wait in a retry loop, and keeps only what it needs (typically 10 % of the input on
/// OTLP data).
pub(super) fn compress(
    format: Format,
    level: i32,
    data: &[u8],
    prefix: usize,
) -> Result<Vec<u8>, CompressionError> {
    let lvl = CompressionLvl::new(level).map_err(|_| {
        CompressionError::Corrupt(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("libdeflate has no level {level}"),
        ))
    })?;
    let index = usize::try_from(level).unwrap_or(0);
    let cached = STATE.try_with(|cell| {
        let mut state = cell.try_borrow_mut().ok()?;
        let State {
            compressors,
            scratch,
        } = &mut *state;
        let compressor = compressors
            .get_mut(index)?
            .get_or_insert_with(|| Compressor::new(lvl));
        Some(compress_with(compressor, scratch, format, data, prefix))
    });
    match cached {
        Ok(Some(result)) => result,
        // The thread is being torn down (or, never here, re-entered): state of its own.
        _ => compress_with(
            &mut Compressor::new(lvl),
            &mut Vec::new(),
            format,
            data,
            prefix,
        ),
    }
}

fn compress_with(
    compressor: &mut Compressor,
    scratch: &mut Vec<u8>,
    format: Format,
    data: &[u8],
    prefix: usize,
) -> Result<Vec<u8>, CompressionError> {
    let bound = match format {
        Format::Gzip => compressor.gzip_compress_bound(data.len()),
        Format::Zlib => compressor.zlib_compress_bound(data.len()),
    };
    let mut oversized = Vec::new();
    let buffer = if bound <= SCRATCH_MAX {
        if scratch.len() < bound {
            // A fresh zeroed allocation (not a resize of the old one): the allocator hands
            // out zero pages without writing them.
            *scratch = vec![0u8; bound.next_power_of_two().min(SCRATCH_MAX)];
        }
        &mut scratch[..bound]
    } else {
        oversized.resize(bound, 0);
        &mut oversized[..]
    };
    let written = match format {
        Format::Gzip => compressor.gzip_compress(data, buffer),
        Format::Zlib => compressor.zlib_compress(data, buffer),
    }
    .map_err(|e| CompressionError::Corrupt(io::Error::other(e)))?;
    Ok(super::prefixed(prefix, &buffer[..written]))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::compression::tests::payload;

    fn inflate(format: Format, packed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match format {
            Format::Gzip => flate2::read::GzDecoder::new(packed).read_to_end(&mut out),
            Format::Zlib => flate2::read::ZlibDecoder::new(packed).read_to_end(&mut out),
        }
        .unwrap();
        out
    }

    #[test]
    fn every_level_round_trips_through_flate2() {
        let data = payload();
        for format in [Format::Gzip, Format::Zlib] {
            for level in 0..=12 {
                let packed = compress(format, level, &data, 0).unwrap();
                assert_eq!(inflate(format, &packed), data, "{format:?} level {level}");
                assert_eq!(packed.capacity(), packed.len(), "shrunk to its size");
                let framed = compress(format, level, &data, 5).unwrap();
                assert_eq!((&framed[..5], &framed[5..]), (&[0u8; 5][..], &packed[..]));
                assert_eq!(framed.capacity(), framed.len());
            }
            assert_eq!(inflate(format, &compress(format, 6, b"", 0).unwrap()), b"");
            assert!(compress(format, 13, &data, 0).is_err());
            // A small input after a large one reuses the scratch buffer; one larger than the
            // scratch cap gets its own.
            assert_eq!(
                inflate(format, &compress(format, 1, b"abc", 0).unwrap()),
                b"abc"
            );
            let large = vec![7u8; SCRATCH_MAX + 1];
            assert_eq!(
                inflate(format, &compress(format, 1, &large, 0).unwrap()),
                large
            );
        }
        let gzip = compress(Format::Gzip, 6, b"x", 0).unwrap();
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8], "a gzip member header");
    }
}
