//! The confmap providers a reference may name besides `env`: `${file:PATH}`,
//! `${yaml:INLINE}` and `${http://URL}`; `${https://URL}` is refused.
//!
//! Each provider gives text, which is read as YAML the way otelcol's providers read it: a
//! document that is not YAML is kept as the text itself. Everything read is bounded: files and
//! answers over [`MAX_CONTENT`] bytes are refused.

use std::fs::File;
use std::io::Read;
use std::time::Duration;

use serde_yaml_ng::Value;

use super::http;
use super::typed_scalar;

/// The most a provider may return: 10 MiB.
pub(crate) const MAX_CONTENT: u64 = 10 * 1024 * 1024;

/// How long an `http:` provider may take, from connecting to the last byte.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a provider gave no content.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The file could not be opened or read.
    #[error("cannot read file \"{path}\": {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The file is over the limit.
    #[error("file \"{path}\" is larger than {MAX_CONTENT} bytes (10 MiB)")]
    FileTooLarge { path: String },
    /// The content is not UTF-8.
    #[error("{what} is not UTF-8 text")]
    NotUtf8 { what: String },
    /// The HTTP GET failed.
    #[error("GET {url}: {source}")]
    Http {
        url: String,
        source: http::HttpError,
    },
    /// `https:` needs a TLS client, which configuration loading does not have.
    #[error(
        "\"{url}\": https is not supported for configuration references (no TLS client is \
         available while loading); use a file or http"
    )]
    HttpsUnsupported { url: String },
}

/// The providers a reference may name, with what follows the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `file:PATH`.
    File,
    /// `yaml:INLINE`.
    Yaml,
    /// `http://...`.
    Http,
    /// `https://...`.
    Https,
}

impl Scheme {
    /// The provider for a scheme name, if it is one of ours.
    pub(crate) fn from_name(name: &str) -> Option<Scheme> {
        match name {
            "file" => Some(Scheme::File),
            "yaml" => Some(Scheme::Yaml),
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    /// The scheme as written.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scheme::File => "file",
            Scheme::Yaml => "yaml",
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// Whether what follows the scheme is a location whose own references are expanded first
    /// (`${file:${env:DIR}/a.yaml}`), rather than content.
    pub(crate) fn is_location(self) -> bool {
        !matches!(self, Scheme::Yaml)
    }
}

/// The text `scheme` gives for `target` (what follows `scheme:`).
pub(crate) fn fetch(scheme: Scheme, target: &str) -> Result<String, ProviderError> {
    match scheme {
        Scheme::File => read_file(target),
        Scheme::Yaml => Ok(target.to_owned()),
        Scheme::Http => {
            let url = format!("http:{target}");
            let body = http::get(&url, HTTP_TIMEOUT, MAX_CONTENT).map_err(|source| {
                ProviderError::Http {
                    url: url.clone(),
                    source,
                }
            })?;
            String::from_utf8(body).map_err(|_| ProviderError::NotUtf8 {
                what: format!("the answer of {url}"),
            })
        }
        Scheme::Https => Err(ProviderError::HttpsUnsupported {
            url: format!("https:{target}"),
        }),
    }
}

/// Reads at most [`MAX_CONTENT`] bytes of `path`, refusing a larger file (its size is checked
/// first, and again while reading, for files that grow or report no size).
fn read_file(path: &str) -> Result<String, ProviderError> {
    let failed = |source| ProviderError::Read {
        path: path.to_owned(),
        source,
    };
    let too_large = || ProviderError::FileTooLarge {
        path: path.to_owned(),
    };
    let file = File::open(path).map_err(failed)?;
    if file.metadata().map_err(failed)?.len() > MAX_CONTENT {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONTENT + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_CONTENT {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| ProviderError::NotUtf8 {
        what: format!("file \"{path}\""),
    })
}

/// The value of a provider's text: its YAML (with `a::b` keys nested and `<<` merges applied,
/// as in a `--config` source). A single scalar is typed as an environment variable's value
/// is (`4317` is a number, `0123` stays text); text that is not YAML stays text.
pub(crate) fn parse(text: &str) -> Value {
    let Ok(mut value) = serde_yaml_ng::from_str::<Value>(text) else {
        return Value::String(text.to_owned());
    };
    match &mut value {
        Value::Number(_) | Value::Bool(_) => typed_scalar(text.trim().to_owned()),
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => {
            if value.apply_merge().is_err() {
                return Value::String(text.to_owned());
            }
            super::super::expand_keys(&mut value);
            value
        }
        Value::Null | Value::String(_) => value,
    }
}

/// A word for the shape of a value, for messages.
pub(crate) fn shape(value: &Value) -> &'static str {
    super::super::shape(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_yaml_or_text() {
        assert_eq!(parse("4317\n"), Value::Number(4317.into()));
        assert_eq!(parse("0123\n"), Value::String("0123".into()));
        assert_eq!(parse("secret\n"), Value::String("secret".into()));
        assert_eq!(parse("a::b: 1")["a"]["b"], Value::Number(1.into()));
        assert_eq!(parse("[a, b]")[1], Value::String("b".into()));
        assert_eq!(
            parse("a: [").as_str(),
            Some("a: ["),
            "not YAML: kept as text"
        );
        assert_eq!(parse(""), Value::Null);
    }

    #[test]
    fn https_is_refused_clearly() {
        let error = fetch(Scheme::Https, "//example.com/c.yaml").unwrap_err();
        assert!(
            error.to_string().contains("https is not supported"),
            "{error}"
        );
    }
}
