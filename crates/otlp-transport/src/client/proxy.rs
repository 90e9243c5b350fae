//! HTTP CONNECT proxies (`proxy_url`): the proxy URL, checked, and the tunnel the connector
//! opens through the proxy to the endpoint before TLS or plaintext HTTP runs over it.
//!
//! Every endpoint goes through the tunnel, `http://` ones too (Go's `http.Transport` sends
//! absolute-form requests to an HTTP proxy for those instead; a CONNECT tunnel carries both
//! HTTP/1.1 and HTTP/2, which absolute-form does not). Only `http://` proxies are spoken to;
//! `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are not read.

use std::fmt;
use std::io;
use std::time::Duration;

use http::uri::Authority;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ConfigError;

/// The largest CONNECT response head read from a proxy: 16 KiB.
pub(crate) const MAX_RESPONSE_HEAD: usize = 16 << 10;

/// An HTTP proxy that tunnels connections with `CONNECT`, parsed from a URL such as
/// `http://proxy:3128` or `http://user:password@proxy:3128` (credentials, percent-decoded,
/// are sent as `Proxy-Authorization: Basic`). The port defaults to 80; a path is ignored.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    host: String,
    port: u16,
    authorization: Option<String>,
}

impl ProxyUrl {
    /// Parses and checks a proxy URL. The error names the URL with its credentials removed.
    pub fn parse(url: &str) -> Result<ProxyUrl, ConfigError> {
        let error = |message: String| ConfigError::Proxy {
            proxy_url: redact(url),
            message,
        };
        let trimmed = url.trim();
        let rest = match trimmed.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(error(format!(
                    "the scheme `{scheme}` is not supported: only http:// proxies are"
                )));
            }
            None => return Err(error("needs the form http://host:port".to_owned())),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (userinfo, host_port) = match rest[..end].rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, &rest[..end]),
        };
        if host_port.is_empty() {
            return Err(error("the proxy URL has no host".to_owned()));
        }
        let authority: Authority = host_port
            .parse()
            .map_err(|e: http::uri::InvalidUri| error(format!("invalid host or port: {e}")))?;
        if authority.host().is_empty() {
            return Err(error("the proxy URL has no host".to_owned()));
        }
        let port_text = host_port
            .strip_prefix(authority.host())
            .map(|rest| rest.strip_prefix(':').unwrap_or(rest))
            .unwrap_or_default();
        let port = match port_text {
            "" if host_port.ends_with(':') => {
                return Err(error("the port is empty".to_owned()));
            }
            "" => 80,
            text => text
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| error(format!("invalid port `{text}`")))?,
        };
        let authorization = userinfo
            .map(|userinfo| {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let mut credentials = percent_decode(user).map_err(&error)?;
                credentials.push(b':');
                credentials.extend(percent_decode(password).map_err(&error)?);
                Ok(format!("Basic {}", base64(&credentials)))
            })
            .transpose()?;
        Ok(ProxyUrl {
            host: authority.host().to_owned(),
            port,
            authorization,
        })
    }

    /// The proxy's host (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether credentials are sent to the proxy.
    pub fn has_credentials(&self) -> bool {
        self.authorization.is_some()
    }

    /// `http://host:port`, the URI the TCP connection is made to.
    pub(crate) fn uri(&self) -> Result<http::Uri, http::Error> {
        http::Uri::builder()
            .scheme(http::uri::Scheme::HTTP)
            .authority(format!("{}:{}", self.host, self.port))
            .path_and_query("/")
            .build()
    }

    /// Sends `CONNECT target` on `stream` (a fresh connection to the proxy) and reads the
    /// proxy's answer; on a 2xx the stream is a tunnel to `target`.
    pub(crate) async fn tunnel(
        &self,
        stream: &mut TcpStream,
        target: &str,
    ) -> Result<(), ProxyError> {
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str("Proxy-Authorization: ");
            request.push_str(authorization);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;
        let head = read_head(stream).await?;
        check_status(&head)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a tunnel through the proxy could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The TCP connection to the proxy failed.
    #[error("cannot connect to the proxy {proxy}: {source}")]
    Connect {
        /// `host:port` of the proxy.
        proxy: String,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The proxy wants credentials (407), or refused the ones in the proxy URL.
    #[error("the proxy requires authentication: `{status_line}`")]
    AuthenticationRequired {
        /// The proxy's status line.
        status_line: String,
    },
    /// The proxy answered the CONNECT with a status other than 2xx.
    #[error("the proxy refused the CONNECT: `{status_line}`")]
    Refused {
        /// The proxy's status line.
        status_line: String,
    },
    /// The proxy's answer is not an HTTP/1 response, or its head is larger than 16 KiB.
    #[error("invalid answer from the proxy: {0}")]
    InvalidResponse(String),
    /// The proxy closed the connection before answering.
    #[error("the proxy closed the connection before answering the CONNECT")]
    Closed,
    /// Connecting to the proxy and its answer took longer than the timeout.
    #[error("no answer from the proxy within {0:?}")]
    Timeout(Duration),
    /// Reading or writing the proxy connection failed.
    #[error("proxy connection: {0}")]
    Io(#[from] io::Error),
}

/// The response head, up to and including the blank line. Read a byte at a time so that
/// nothing the target sends after it is consumed here; bounded by [`MAX_RESPONSE_HEAD`].
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, ProxyError> {
    let mut head = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() >= MAX_RESPONSE_HEAD {
            return Err(ProxyError::InvalidResponse(format!(
                "the response head is larger than {MAX_RESPONSE_HEAD} bytes"
            )));
        }
        if stream.read(&mut byte).await? == 0 {
            return Err(ProxyError::Closed);
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// Checks the status line of a response head: `HTTP/1.x 2xx` opens the tunnel.
fn check_status(head: &[u8]) -> Result<(), ProxyError> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let status_line = String::from_utf8_lossy(&head[..line_end])
        .trim_end()
        .to_owned();
    let mut parts = status_line.split(' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(ProxyError::InvalidResponse(format!(
            "not an HTTP/1 status line: `{status_line}`"
        )));
    }
    match code.parse::<u16>() {
        Ok(200..=299) => Ok(()),
        Ok(407) => Err(ProxyError::AuthenticationRequired { status_line }),
        Ok(_) => Err(ProxyError::Refused { status_line }),
        Err(_) => Err(ProxyError::InvalidResponse(format!(
            "not an HTTP/1 status line: `{status_line}`"
        ))),
    }
}

/// The URL with the user information (credentials) replaced, for messages.
pub(crate) fn redact(url: &str) -> String {
    let trimmed = url.trim();
    let start = trimmed.find("://").map_or(0, |i| i + 3);
    let end = trimmed[start..]
        .find(['/', '?', '#'])
        .map_or(trimmed.len(), |i| start + i);
    match trimmed[start..end].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &trimmed[..start], &trimmed[start + at..]),
        None => trimmed.to_owned(),
    }
}

/// `%XX` escapes decoded (as URL user information is).
fn percent_decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| "invalid percent-encoding in the credentials".to_owned())?;
            decoded.push(byte);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    Ok(decoded)
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn proxy_urls_parse() {
        let proxy = ProxyUrl::parse("http://proxy.example:3128/").unwrap();
        assert_eq!((proxy.host(), proxy.port()), ("proxy.example", 3128));
        assert!(!proxy.has_credentials());
        assert_eq!(ProxyUrl::parse("HTTP://p").unwrap().port(), 80);
        assert_eq!(
            ProxyUrl::parse("http://[::1]:8080").unwrap().host(),
            "[::1]"
        );
        let proxy = ProxyUrl::parse("http://user:p%40ss@p:1").unwrap();
        assert_eq!(proxy.authorization.as_deref(), Some("Basic dXNlcjpwQHNz"));
        assert!(!format!("{proxy:?}").contains("dXNl"));
    }

    #[test]
    fn bad_proxy_urls_are_refused_without_leaking_credentials() {
        for url in [
            "",
            "proxy:3128",
            "https://p:443",
            "socks5://p:1080",
            "http://",
            "http://u:pw@",
            "http://p:99999",
            "http://p:",
            "http://u:%zz@p:1",
        ] {
            let error = ProxyUrl::parse(url).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("proxy_url"), "{url:?}: {text}");
            assert!(!text.contains("pw"), "{url:?}: {text}");
        }
    }

    #[test]
    fn status_lines() {
        assert!(check_status(b"HTTP/1.1 200 Connection established\r\n\r\n").is_ok());
        assert!(check_status(b"HTTP/1.0 200\r\n\r\n").is_ok());
        assert!(matches!(
            check_status(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Err(ProxyError::AuthenticationRequired { .. })
        ));
        assert!(matches!(
            check_status(b"HTTP/1.1 403 Forbidden\r\n\r\n"),
            Err(ProxyError::Refused { .. })
        ));
        assert!(matches!(
            check_status(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(ProxyError::InvalidResponse(_))
        ));
    }

    #[test]
    fn redaction_removes_only_the_user_information() {
        assert_eq!(redact("http://u:pw@p:1/x@y"), "http://<redacted>@p:1/x@y");
        assert_eq!(redact("http://p:1"), "http://p:1");
    }
}
