//! `compression` and `compression_params` of the `otlp` and `otlphttp` exporters.

use otlp_transport::{Compression, CompressionLevel};
use serde::{Deserialize, Serialize};

use otlp_pipeline::config::ConfigError;

/// `compression_params`: otelcol's (confighttp) `compression_params`, honoured by both
/// exporters.
///
/// ```yaml
/// otlphttp:
///   endpoint: https://backend:4318
///   compression: gzip
///   compression_params:
///     level: 6
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompressionParams {
    /// The level, in the codec's scale: gzip and deflate (`zlib`) take Go's `compress/flate`
    /// levels, `-2` to `9` (`-1` the default, `-2` the fastest); zstd any level (zstd's own,
    /// `1` to `22` and negative ones faster still, clamped to that range). Absent or `0`: the
    /// default (otelcol's rule), `otlp_transport::compression::DEFAULT_GZIP_LEVEL` for gzip
    /// and deflate, zstd's level 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<i64>,
}

/// The `compression` value. `grpc`: the `otlp` exporter (no `deflate`, as in otelcol).
pub(crate) fn compression(name: &str, grpc: bool) -> Result<Compression, ConfigError> {
    let bad = |message: String| Err(ConfigError::bad_value("compression", message));
    match name.trim().to_ascii_lowercase().as_str() {
        "" | "none" => Ok(Compression::None),
        "gzip" => Ok(Compression::Gzip),
        "zstd" => Ok(Compression::Zstd),
        "deflate" | "zlib" if !grpc => Ok(Compression::Deflate),
        "snappy" | "x-snappy-framed" | "lz4" => bad(format!(
            "\"{name}\" is not supported; use gzip, zstd or none"
        )),
        other => bad(format!(
            "unknown compression \"{other}\"; use gzip, zstd{} or none",
            if grpc { "" } else { ", deflate" }
        )),
    }
}

/// The level of `compression_params` for `compression` (validated as otelcol does: a level
/// with no compression, or a gzip level outside `-2..=9`, is an error naming the key).
pub(crate) fn compression_level(
    compression: Compression,
    params: &CompressionParams,
) -> Result<CompressionLevel, ConfigError> {
    const KEY: &str = "compression_params::level";
    let level = match params.level {
        None | Some(0) => return Ok(CompressionLevel::DEFAULT),
        Some(level) => level,
    };
    if compression == Compression::None {
        return Err(ConfigError::bad_value(
            KEY,
            format!("level {level} needs a compression (compression is none)"),
        ));
    }
    let level = i32::try_from(level)
        .map_err(|_| ConfigError::bad_value(KEY, format!("level {level} is out of range")))?;
    let level = CompressionLevel::new(level);
    level
        .check(compression)
        .map_err(|error| ConfigError::bad_value(KEY, error))?;
    Ok(level)
}
