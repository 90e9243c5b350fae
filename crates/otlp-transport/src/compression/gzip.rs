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

thread_local! {
    /// One compressor per level and thread, made on first use and kept: a compressor holds
    /// libdeflate's match-finder tables (hundreds of KiB), not worth allocating per export.
    static COMPRESSORS: RefCell<[Option<Compressor>; LEVELS]> =
        const { RefCell::new([const { None }; LEVELS]) };
}

/// Compresses `data` in `format` at libdeflate `level` (0 to 12).
pub(super) fn compress(
    format: Format,
    level: i32,
    data: &[u8],
) -> Result<Vec<u8>, CompressionError> {
    let lvl = CompressionLvl::new(level).map_err(|_| {
        CompressionError::Corrupt(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("libdeflate has no level {level}"),
        ))
    })?;
    let index = usize::try_from(level).unwrap_or(0);
    let run = |compressor: &mut Compressor| compress_with(compressor, format, data);
    let cached = COMPRESSORS.try_with(|cell| {
        let mut slots = cell.try_borrow_mut().ok()?;
        let slot = slots.get_mut(index)?;
        Some(run(slot.get_or_insert_with(|| Compressor::new(lvl))))
    });
    match cached {
        Ok(Some(result)) => result,
        // The thread is being torn down (or, never here, re-entered): a compressor of its own.
        _ => run(&mut Compressor::new(lvl)),
    }
}

fn compress_with(
    compressor: &mut Compressor,
    format: Format,
    data: &[u8],
) -> Result<Vec<u8>, CompressionError> {
    let bound = match format {
        Format::Gzip => compressor.gzip_compress_bound(data.len()),
        Format::Zlib => compressor.zlib_compress_bound(data.len()),
    };
    let mut out = vec![0u8; bound];
    let written = match format {
        Format::Gzip => compressor.gzip_compress(data, &mut out),
        Format::Zlib => compressor.zlib_compress(data, &mut out),
    }
    .map_err(|e| CompressionError::Corrupt(io::Error::other(e)))?;
    out.truncate(written);
    // The request may wait in a retry loop: keep only what it needs (typically 10 % of the
    // bound on OTLP data).
    out.shrink_to_fit();
    Ok(out)
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
                let packed = compress(format, level, &data).unwrap();
                assert_eq!(inflate(format, &packed), data, "{format:?} level {level}");
                assert_eq!(packed.capacity(), packed.len(), "shrunk to its size");
            }
            assert_eq!(inflate(format, &compress(format, 6, b"").unwrap()), b"");
            assert!(compress(format, 13, &data).is_err());
        }
        let gzip = compress(Format::Gzip, 6, b"x").unwrap();
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8], "a gzip member header");
    }
}
