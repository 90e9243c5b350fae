//! Compression levels: [`CompressionLevel`], what each codec makes of it, and the defaults.

use super::Compression;

/// The gzip and deflate level used when none is set (libdeflate's scale), chosen by
/// measurement on OTLP traces: see docs/benchmarks.md, "gzip for exporters (issue 17)".
pub const DEFAULT_GZIP_LEVEL: i32 = 1;

/// The zstd level used when none is set.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// The brotli quality used when none is set (with a 4 MiB window).
pub const DEFAULT_BROTLI_QUALITY: i32 = 5;

/// A compression level, in each codec's own scale; [`CompressionLevel::DEFAULT`] (also
/// `Default`) takes the exporter defaults.
///
/// - gzip and deflate: Go's `compress/flate` levels, as otelcol's `compression_params.level`
///   takes them: `1` (fastest) to `9` (smallest), `0` no compression (stored blocks), `-1` the
///   default ([`DEFAULT_GZIP_LEVEL`]), and `-2` (Go's Huffman-only), which libdeflate does not
///   have: it compresses at level 1, the fastest.
/// - zstd: zstd's own levels (`1` to `22`, negative levels faster still); `0` is zstd's
///   default, [`DEFAULT_ZSTD_LEVEL`]. Every level is valid: it is clamped to the range the
///   linked zstd supports, as otelcol accepts any zstd level.
/// - brotli: the quality, `0` to `11`.
/// - no compression: only the default.
///
/// [`CompressionLevel::check`] refuses a level the codec does not take;
/// [`compress_with`](super::compress_with) brings it into range instead (a gzip level above 9
/// is 9, another negative one the default, a brotli quality above 11 is 11, and no compression
/// ignores the level), so that compressing never fails on a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CompressionLevel(Option<i32>);

/// A level that a codec does not take ([`CompressionLevel::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("level {level} is not valid for {compression} compression; valid: {valid}")]
pub struct InvalidLevelError {
    /// The codec.
    pub compression: Compression,
    /// The level given.
    pub level: i32,
    /// The levels the codec takes.
    pub valid: &'static str,
}

impl CompressionLevel {
    /// The exporter defaults: gzip and deflate [`DEFAULT_GZIP_LEVEL`], zstd
    /// [`DEFAULT_ZSTD_LEVEL`], brotli [`DEFAULT_BROTLI_QUALITY`].
    pub const DEFAULT: CompressionLevel = CompressionLevel(None);

    /// A level in the codec's scale (see the type's documentation).
    pub const fn new(level: i32) -> CompressionLevel {
        CompressionLevel(Some(level))
    }

    /// The level set, `None` for the default.
    pub const fn get(self) -> Option<i32> {
        self.0
    }

    /// Whether `compression` takes this level (whether its codec is compiled in or not).
    pub fn check(self, compression: Compression) -> Result<(), InvalidLevelError> {
        let Some(level) = self.0 else {
            return Ok(());
        };
        let valid = match compression {
            Compression::None => "none (no compression takes no level)",
            Compression::Gzip | Compression::Deflate if (-2..=9).contains(&level) => return Ok(()),
            Compression::Gzip | Compression::Deflate => {
                "-2 to 9 (-1: the default, 1: fastest, 9: smallest)"
            }
            Compression::Zstd => return Ok(()),
            Compression::Brotli if (0..=11).contains(&level) => return Ok(()),
            Compression::Brotli => "0 to 11",
        };
        Err(InvalidLevelError {
            compression,
            level,
            valid,
        })
    }

    /// The level the codec is called with: libdeflate's (0 to 9) for gzip and deflate,
    /// zstd's, brotli's quality; 0 for no compression. Out-of-range levels are brought into
    /// range (see the type's documentation).
    pub(crate) fn resolve(self, compression: Compression) -> i32 {
        match (compression, self.0) {
            (Compression::None, _) => 0,
            (Compression::Gzip | Compression::Deflate, Some(-2)) => 1,
            (Compression::Gzip | Compression::Deflate, Some(level @ 0..)) => level.min(9),
            (Compression::Gzip | Compression::Deflate, _) => DEFAULT_GZIP_LEVEL,
            (Compression::Zstd, None | Some(0)) => DEFAULT_ZSTD_LEVEL,
            (Compression::Zstd, Some(level)) => clamp_zstd(level),
            (Compression::Brotli, None) => DEFAULT_BROTLI_QUALITY,
            (Compression::Brotli, Some(level)) => level.clamp(0, 11),
        }
    }
}

#[cfg(feature = "zstd")]
fn clamp_zstd(level: i32) -> i32 {
    let range = zstd::compression_level_range();
    level.clamp(*range.start(), *range.end())
}

/// Without the codec any level is kept: compressing fails as unavailable anyway.
#[cfg(not(feature = "zstd"))]
fn clamp_zstd(level: i32) -> i32 {
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(level: Option<i32>) -> CompressionLevel {
        level.map_or(CompressionLevel::DEFAULT, CompressionLevel::new)
    }

    #[test]
    fn levels_resolve_in_each_codecs_scale() {
        let resolve = |c, l| level(l).resolve(c);
        for c in [Compression::Gzip, Compression::Deflate] {
            assert_eq!(resolve(c, None), DEFAULT_GZIP_LEVEL);
            assert_eq!(resolve(c, Some(-1)), DEFAULT_GZIP_LEVEL);
            assert_eq!(resolve(c, Some(-2)), 1);
            assert_eq!(resolve(c, Some(0)), 0);
            assert_eq!(resolve(c, Some(9)), 9);
            assert_eq!(resolve(c, Some(12)), 9);
            assert_eq!(resolve(c, Some(-3)), DEFAULT_GZIP_LEVEL);
        }
        assert_eq!(resolve(Compression::Zstd, None), DEFAULT_ZSTD_LEVEL);
        assert_eq!(resolve(Compression::Zstd, Some(0)), DEFAULT_ZSTD_LEVEL);
        assert_eq!(resolve(Compression::Zstd, Some(19)), 19);
        assert_eq!(resolve(Compression::Brotli, None), DEFAULT_BROTLI_QUALITY);
        assert_eq!(resolve(Compression::Brotli, Some(0)), 0);
        assert_eq!(resolve(Compression::Brotli, Some(12)), 11);
        assert_eq!(resolve(Compression::None, Some(4)), 0);
        #[cfg(feature = "zstd")]
        {
            assert_eq!(resolve(Compression::Zstd, Some(1000)), 22);
            assert!(resolve(Compression::Zstd, Some(i32::MIN)) < 0);
        }
    }

    #[test]
    fn check_refuses_what_otelcol_refuses() {
        let ok = |c, l| level(l).check(c).is_ok();
        for c in Compression::ALL {
            assert!(ok(c, None), "{c}: the default is always valid");
        }
        for c in [Compression::Gzip, Compression::Deflate] {
            assert!((-2..=9).all(|l| ok(c, Some(l))), "{c}");
            assert!(!ok(c, Some(10)) && !ok(c, Some(-3)), "{c}");
        }
        assert!(ok(Compression::Zstd, Some(-5)) && ok(Compression::Zstd, Some(100)));
        assert!(ok(Compression::Brotli, Some(11)) && !ok(Compression::Brotli, Some(12)));
        assert!(!ok(Compression::None, Some(0)));
        let error = CompressionLevel::new(12)
            .check(Compression::Gzip)
            .unwrap_err()
            .to_string();
        assert!(error.contains("12") && error.contains("-2 to 9"), "{error}");
    }
}
