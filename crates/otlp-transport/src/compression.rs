//! Content encodings shared by exporters and receivers: gzip, deflate, zstd and brotli.
//!
//! The type [`Compression`] is always compiled; each codec is behind a feature (`gzip` gives
//! gzip and deflate, `zstd`, `brotli`). [`Compression::is_available`] tells which are compiled
//! in; the others fail with [`CompressionError::Unavailable`].
//!
//! [`compress_with`] compresses a whole buffer at a [`CompressionLevel`] (in each codec's
//! scale; [`compress`] at the defaults). gzip and deflate are compressed by libdeflate in one
//! call (the exporter always has the whole request) and decompressed by flate2 (zlib-rs),
//! streamed. On a batch of OTLP traces libdeflate's level 1, the default, compresses 2.6× as
//! fast as zlib-rs's default level 6 for 7 % more bytes, and 1.7× as fast as zlib-rs at the
//! same ratio (docs/benchmarks.md, "gzip for exporters").
//!
//! [`decompress`] is the receiver's guard against compression bombs: it streams the decoder's
//! output into a buffer and stops as soon as the output would exceed the caller's limit, so a
//! 1 GiB bomb costs at most `limit + 1` bytes (plus the buffer's amortised growth) and the time
//! to inflate that much, never the full expansion. zstd windows are capped at 8 MiB
//! (`window_log_max(23)`, the limit RFC 9659 sets for the `zstd` content coding), so a frame
//! cannot make the decoder allocate a large window either.

use std::fmt;
use std::str::FromStr;

#[cfg(feature = "gzip")]
mod gzip;
mod level;

pub use level::{
    CompressionLevel, DEFAULT_BROTLI_QUALITY, DEFAULT_GZIP_LEVEL, DEFAULT_ZSTD_LEVEL,
    InvalidLevelError,
};

/// A content encoding (HTTP `Content-Encoding`, gRPC `grpc-encoding`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (`identity`).
    #[default]
    None,
    /// gzip (RFC 1952), feature `gzip`.
    Gzip,
    /// deflate: the zlib format (RFC 1950) as HTTP and gRPC define it, feature `gzip`. Raw
    /// deflate (RFC 1951) is also accepted on input, as browsers and Go's receivers do.
    Deflate,
    /// Zstandard (RFC 8878), feature `zstd`.
    Zstd,
    /// Brotli (RFC 7932), HTTP token `br`, feature `brotli`. Not a gRPC encoding.
    Brotli,
}

impl Compression {
    /// Every variant, in a fixed order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Deflate,
        Compression::Zstd,
        Compression::Brotli,
    ];

    /// The encoding named by a `Content-Encoding` or `grpc-encoding` token (case-insensitive,
    /// surrounding whitespace ignored): `identity`, `gzip` (and its alias `x-gzip`), `deflate`,
    /// `zstd`, `br`. `None` for any other token.
    pub fn from_token(token: &str) -> Option<Compression> {
        let token = token.trim();
        let eq = |name: &str| token.eq_ignore_ascii_case(name);
        if eq("identity") {
            Some(Compression::None)
        } else if eq("gzip") || eq("x-gzip") {
            Some(Compression::Gzip)
        } else if eq("deflate") {
            Some(Compression::Deflate)
        } else if eq("zstd") {
            Some(Compression::Zstd)
        } else if eq("br") {
            Some(Compression::Brotli)
        } else {
            None
        }
    }

    /// The HTTP `Content-Encoding` token; `None` for no compression.
    pub const fn http_token(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Deflate => Some("deflate"),
            Compression::Zstd => Some("zstd"),
            Compression::Brotli => Some("br"),
        }
    }

    /// The `grpc-encoding` token; `None` for no compression and for brotli, which is not a
    /// gRPC encoding.
    pub const fn grpc_token(self) -> Option<&'static str> {
        match self {
            Compression::None | Compression::Brotli => None,
            Compression::Gzip => Some("gzip"),
            Compression::Deflate => Some("deflate"),
            Compression::Zstd => Some("zstd"),
        }
    }

    /// The configuration name: `none`, `gzip`, `deflate`, `zstd`, `brotli`.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Deflate => "deflate",
            Compression::Zstd => "zstd",
            Compression::Brotli => "brotli",
        }
    }

    /// Whether this encoding's codec is compiled in (no compression always is).
    pub const fn is_available(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip | Compression::Deflate => cfg!(feature = "gzip"),
            Compression::Zstd => cfg!(feature = "zstd"),
            Compression::Brotli => cfg!(feature = "brotli"),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A configuration value that names no [`Compression`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compression `{value}`; valid values: none, gzip, deflate, zstd, brotli (or br)")]
pub struct ParseCompressionError {
    /// The value given.
    pub value: String,
}

impl FromStr for Compression {
    type Err = ParseCompressionError;

    /// Parses a configuration value (case-insensitive): `none`, `gzip`, `deflate`, `zstd`,
    /// `brotli` or `br`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = value.trim();
        Compression::ALL
            .into_iter()
            .find(|c| trimmed.eq_ignore_ascii_case(c.name()))
            .or_else(|| {
                trimmed
                    .eq_ignore_ascii_case("br")
                    .then_some(Compression::Brotli)
            })
            .ok_or_else(|| ParseCompressionError {
                value: value.to_owned(),
            })
    }
}

/// Why data could not be compressed or decompressed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    /// The codec is not compiled in (its cargo feature is off).
    #[error("{0} compression is not available (its cargo feature is off)")]
    Unavailable(Compression),
    /// The decompressed data would be larger than the limit; decompression stopped there.
    #[error("decompressed data exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The compressed data is corrupt or truncated (or, when compressing, the encoder failed).
    #[error("corrupt compressed data: {0}")]
    Corrupt(std::io::Error),
    /// The caller stopped the decompression ([`decompress_charged`]'s `keep_going`).
    #[error("decompression stopped by the caller")]
    Stopped,
}

/// Compresses `data` at the default levels ([`CompressionLevel::DEFAULT`]): gzip and deflate
/// [`DEFAULT_GZIP_LEVEL`], zstd [`DEFAULT_ZSTD_LEVEL`], brotli quality
/// [`DEFAULT_BROTLI_QUALITY`] with a 4 MiB window.
pub fn compress(compression: Compression, data: &[u8]) -> Result<Vec<u8>, CompressionError> {
    compress_with(compression, CompressionLevel::DEFAULT, data)
}

/// Compresses the whole of `data` at `level`, in one call for gzip, deflate and zstd.
///
/// A level outside the codec's range is brought into it (see [`CompressionLevel`]), so a
/// configured level can never fail an export: check it once with [`CompressionLevel::check`]
/// to refuse it instead, as [`ExporterBuilder::build`](crate::client::ExporterBuilder::build)
/// does. Fails with [`CompressionError::Unavailable`] when the codec is not compiled in.
pub fn compress_with(
    compression: Compression,
    level: CompressionLevel,
    data: &[u8],
) -> Result<Vec<u8>, CompressionError> {
    compress_after(compression, level, data, 0)
}

/// [`compress_with`], the output after `prefix` zero bytes that the caller fills in (a gRPC
/// frame header): the compressed bytes are written once, where they will be sent from. For
/// gzip and deflate the output is exactly as long as it needs to be (capacity included).
pub fn compress_after(
    compression: Compression,
    level: CompressionLevel,
    data: &[u8],
    prefix: usize,
) -> Result<Vec<u8>, CompressionError> {
    #[cfg_attr(
        not(any(feature = "gzip", feature = "zstd", feature = "brotli")),
        allow(unused_variables)
    )]
    let level = level.resolve(compression);
    match compression {
        Compression::None => Ok(prefixed(prefix, data)),
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::compress(gzip::Format::Gzip, level, data, prefix),
        #[cfg(feature = "gzip")]
        Compression::Deflate => gzip::compress(gzip::Format::Zlib, level, data, prefix),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::bulk::compress(data, level)
            .map(|packed| match prefix {
                0 => packed,
                _ => prefixed(prefix, &packed),
            })
            .map_err(CompressionError::Corrupt),
        #[cfg(feature = "brotli")]
        Compression::Brotli => {
            use std::io::Write;
            let quality = u32::try_from(level).unwrap_or(0);
            let mut out = Vec::with_capacity(prefix + data.len() / 4 + 64);
            out.resize(prefix, 0);
            {
                let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
                encoder.write_all(data).map_err(CompressionError::Corrupt)?;
                encoder.flush().map_err(CompressionError::Corrupt)?;
            }
            Ok(out)
        }
        #[allow(unreachable_patterns)]
        other => Err(CompressionError::Unavailable(other)),
    }
}

/// `prefix` zero bytes, then `bytes`, in a buffer of exactly that size.
fn prefixed(prefix: usize, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix + bytes.len());
    out.resize(prefix, 0);
    out.extend_from_slice(bytes);
    out
}

/// Decompresses `data`, failing with [`CompressionError::TooLarge`] as soon as the output
/// would exceed `limit` bytes: the decoder is streamed, so a bomb is never inflated in memory.
/// Concatenated gzip members and zstd frames are decoded as one stream.
pub fn decompress(
    compression: Compression,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, CompressionError> {
    decompress_charged(compression, data, limit, &mut |_| true)
}

/// How often, in decompressed bytes, [`decompress_charged`] reports progress.
pub const CHARGE_STEP: usize = 256 * 1024;

/// [`decompress`], reporting the decompressed size so far to `keep_going` every
/// [`CHARGE_STEP`] bytes and at the end (identity data, already in memory, is not reported);
/// `false` stops it with [`CompressionError::Stopped`].
/// The receiver charges the request's memory reservation this way, so a small body that
/// inflates to a large request is refused while it inflates, not after.
#[cfg_attr(
    not(any(feature = "gzip", feature = "zstd", feature = "brotli")),
    allow(unused_variables)
)]
pub fn decompress_charged(
    compression: Compression,
    data: &[u8],
    limit: usize,
    keep_going: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<u8>, CompressionError> {
    match compression {
        Compression::None => {
            if data.len() > limit {
                Err(CompressionError::TooLarge { limit })
            } else {
                Ok(data.to_vec())
            }
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => read_limited(
            flate2::read::MultiGzDecoder::new(data),
            data,
            limit,
            keep_going,
        ),
        #[cfg(feature = "gzip")]
        Compression::Deflate => {
            if looks_like_zlib(data) {
                read_limited(
                    flate2::read::ZlibDecoder::new(data),
                    data,
                    limit,
                    keep_going,
                )
            } else {
                read_limited(
                    flate2::read::DeflateDecoder::new(data),
                    data,
                    limit,
                    keep_going,
                )
            }
        }
        #[cfg(feature = "zstd")]
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(data)
                .map_err(CompressionError::Corrupt)?;
            decoder
                .window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(CompressionError::Corrupt)?;
            read_limited(decoder, data, limit, keep_going)
        }
        #[cfg(feature = "brotli")]
        Compression::Brotli => read_limited(
            brotli::Decompressor::new(data, 4096),
            data,
            limit,
            keep_going,
        ),
        #[allow(unreachable_patterns)]
        other => Err(CompressionError::Unavailable(other)),
    }
}

/// The largest zstd window a receiver accepts: 8 MiB, RFC 9659's limit for `zstd` content.
#[cfg(feature = "zstd")]
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Whether `data` starts with a valid zlib header (RFC 1950: CM = 8, header checksum).
#[cfg(feature = "gzip")]
fn looks_like_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0f == 8 && ((u16::from(*cmf) << 8) | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Reads `reader` to its end, keeping at most `limit + 1` bytes.
#[cfg(any(feature = "gzip", feature = "zstd", feature = "brotli"))]
fn read_limited(
    reader: impl std::io::Read,
    input: &[u8],
    limit: usize,
    keep_going: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<u8>, CompressionError> {
    use std::io::Read;
    // A guess at the output size, never above the limit: typical OTLP payloads compress 4-10x.
    let mut out = Vec::with_capacity(input.len().saturating_mul(4).min(limit).max(64));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = reader.take(cap);
    loop {
        // One step at a time, so that the reservation is charged before the next one.
        let step = u64::try_from(CHARGE_STEP).unwrap_or(u64::MAX);
        let read = (&mut reader)
            .take(step)
            .read_to_end(&mut out)
            .map_err(CompressionError::Corrupt)?;
        if out.len() > limit {
            return Err(CompressionError::TooLarge { limit });
        }
        if !keep_going(out.len()) {
            return Err(CompressionError::Stopped);
        }
        if read == 0 {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protobuf spans: random ids and timestamps among repeated names and attributes, as in
    /// OTLP data (358 kB, compressible about 4×).
    pub(super) fn payload() -> Vec<u8> {
        use otlp_proto::Message as _;
        use otlp_proto::common::v1::{AnyValue, KeyValue, any_value::Value};
        use otlp_proto::trace::v1::Span;
        let mut state = 42u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state
        };
        let attribute = |key: &str, value: Value| KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        };
        let routes = ["/api/cart", "/api/checkout", "/api/items/{id}", "/health"];
        let mut out = Vec::new();
        for _ in 0..2_000 {
            let start = 1_700_000_000_000_000_000 + next() % 1_000_000_000_000;
            let route = routes[(next() % 4) as usize];
            let span = Span {
                trace_id: [next().to_le_bytes(), next().to_le_bytes()].concat(),
                span_id: next().to_le_bytes().to_vec(),
                name: format!("GET {route}"),
                start_time_unix_nano: start,
                end_time_unix_nano: start + next() % 250_000_000,
                attributes: vec![
                    attribute("http.route", Value::StringValue(route.into())),
                    attribute("http.response.status_code", Value::IntValue(200)),
                    attribute("server.address", Value::StringValue("shop.example".into())),
                    attribute("app.items", Value::IntValue((next() % 50) as i64)),
                ],
                ..Default::default()
            };
            span.encode_length_delimited(&mut out).unwrap_or_default();
        }
        out
    }

    /// Levels far enough apart that the higher one is never larger: no codec promises it
    /// between neighbours (libdeflate 6 and 9, zstd 3 and 9, brotli 5 and 9 come out 0.1 to
    /// 2 % apart, either way, depending on the data).
    #[test]
    fn a_higher_level_makes_no_larger_output() {
        let data = payload();
        let ladders: [(Compression, &[i32]); 4] = [
            (Compression::Gzip, &[0, 1, 3, 9]),
            (Compression::Deflate, &[0, 1, 3, 9]),
            (Compression::Zstd, &[1, 3, 19]),
            (Compression::Brotli, &[1, 5, 11]),
        ];
        for (c, levels) in ladders {
            if !c.is_available() {
                continue;
            }
            // Brotli's highest qualities are slow in a debug build.
            let data = if c == Compression::Brotli {
                &data[..64 << 10]
            } else {
                &data[..]
            };
            let sizes: Vec<usize> = levels
                .iter()
                .map(|&level| {
                    let packed = compress_with(c, CompressionLevel::new(level), data).unwrap();
                    assert_eq!(
                        decompress(c, &packed, data.len()).unwrap(),
                        data,
                        "{c} {level}"
                    );
                    packed.len()
                })
                .collect();
            assert!(
                sizes.windows(2).all(|pair| pair[0] >= pair[1]),
                "{c} sizes at levels {levels:?}: {sizes:?}"
            );
            assert!(sizes[0] > sizes[sizes.len() - 1], "{c}: {sizes:?}");
            let default = compress(c, data).unwrap();
            let level = CompressionLevel::DEFAULT.resolve(c);
            assert_eq!(
                default,
                compress_with(c, CompressionLevel::new(level), data).unwrap(),
                "{c}: the default is level {level}"
            );
        }
    }

    #[test]
    fn an_invalid_level_is_brought_into_range() {
        let data = &payload()[..16 << 10];
        for (c, level, nearest) in [
            (Compression::Gzip, 12, 9),
            (Compression::Deflate, -7, DEFAULT_GZIP_LEVEL),
            (Compression::Brotli, 40, 11),
        ] {
            if !c.is_available() {
                continue;
            }
            assert!(CompressionLevel::new(level).check(c).is_err());
            assert_eq!(
                compress_with(c, CompressionLevel::new(level), data).unwrap(),
                compress_with(c, CompressionLevel::new(nearest), data).unwrap(),
                "{c} {level}"
            );
        }
        assert_eq!(
            compress_with(Compression::None, CompressionLevel::new(3), b"data").unwrap(),
            b"data"
        );
    }

    #[test]
    fn compress_after_leaves_the_prefix_and_compresses_the_rest() {
        let data = &payload()[..64 << 10];
        for c in Compression::ALL {
            if !c.is_available() {
                continue;
            }
            let framed = compress_after(c, CompressionLevel::DEFAULT, data, 5).unwrap();
            assert_eq!(&framed[..5], &[0u8; 5], "{c}");
            assert_eq!(
                decompress(c, &framed[5..], data.len()).unwrap(),
                data,
                "{c}"
            );
            assert_eq!(
                &framed[5..],
                &compress_with(c, CompressionLevel::DEFAULT, data).unwrap()[..],
                "{c}: the same bytes as without a prefix"
            );
        }
    }

    #[test]
    fn tokens_round_trip() {
        for c in Compression::ALL {
            if let Some(token) = c.http_token() {
                assert_eq!(Compression::from_token(token), Some(c));
                assert_eq!(Compression::from_token(&token.to_uppercase()), Some(c));
            }
            if let Some(token) = c.grpc_token() {
                assert_eq!(Compression::from_token(token), Some(c));
            }
            assert_eq!(c.name().parse::<Compression>().unwrap(), c);
        }
        assert_eq!(
            Compression::from_token(" identity "),
            Some(Compression::None)
        );
        assert_eq!(Compression::from_token("x-gzip"), Some(Compression::Gzip));
        assert_eq!(Compression::from_token("brotli"), None);
        assert_eq!(Compression::from_token("snappy"), None);
        assert_eq!(Compression::Brotli.grpc_token(), None);
        assert_eq!(Compression::None.http_token(), None);
        assert_eq!("BR".parse::<Compression>().unwrap(), Compression::Brotli);
        let error = "lz4".parse::<Compression>().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("none, gzip, deflate, zstd, brotli"),
            "{error}"
        );
    }

    #[test]
    fn round_trip_every_available_codec() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for c in Compression::ALL {
            if !c.is_available() {
                assert!(matches!(
                    compress(c, &data),
                    Err(CompressionError::Unavailable(_))
                ));
                continue;
            }
            let packed = compress(c, &data).unwrap();
            assert_eq!(decompress(c, &packed, data.len()).unwrap(), data, "{c}");
            assert!(
                matches!(
                    decompress(c, &packed, data.len() - 1),
                    Err(CompressionError::TooLarge { limit }) if limit == data.len() - 1
                ),
                "{c}"
            );
            assert_eq!(decompress(c, &compress(c, b"").unwrap(), 0).unwrap(), b"");
        }
    }

    #[test]
    fn corrupt_input_is_an_error() {
        for c in [
            Compression::Gzip,
            Compression::Deflate,
            Compression::Zstd,
            Compression::Brotli,
        ] {
            if !c.is_available() {
                continue;
            }
            let packed = compress(c, &[7u8; 10_000]).unwrap();
            let truncated = &packed[..packed.len() / 2];
            assert!(
                matches!(
                    decompress(c, truncated, 1 << 20),
                    Err(CompressionError::Corrupt(_))
                ),
                "{c}"
            );
            let garbage = [0xffu8; 64];
            assert!(decompress(c, &garbage, 1 << 20).is_err(), "{c}");
        }
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn raw_deflate_is_accepted_too() {
        use std::io::Write;
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"hello hello hello").unwrap();
        let raw = encoder.finish().unwrap();
        assert_eq!(
            decompress(Compression::Deflate, &raw, 100).unwrap(),
            b"hello hello hello"
        );
    }
}
