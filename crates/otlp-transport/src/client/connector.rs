//! The connector of the pooled hyper client: TCP (directly, or through a CONNECT tunnel of
//! the configured proxy), then TLS for `https` URIs, telling hyper when ALPN chose `h2`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::proxy::{ProxyError, ProxyUrl};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// TLS for `https` URIs: the rustls connector and an optional server-name override.
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) server_name: Option<rustls_pki_types::ServerName<'static>>,
}

/// A proxy to tunnel through, and the time its connection and answer may take.
#[derive(Clone)]
pub(crate) struct Proxy {
    pub(crate) url: Arc<ProxyUrl>,
    pub(crate) timeout: Duration,
}

/// Connects to the URI's host and port (through the proxy if one is set); wraps the stream
/// in TLS for `https`.
#[derive(Clone)]
pub(crate) struct Connector {
    http: HttpConnector,
    proxy: Option<Proxy>,
    #[cfg(feature = "tls")]
    tls: Option<Tls>,
}

impl Connector {
    pub(crate) fn new(proxy: Option<Proxy>, #[cfg(feature = "tls")] tls: Option<Tls>) -> Self {
        let mut http = HttpConnector::new();
        // The scheme is ours to handle (https is TLS over this TCP stream).
        http.enforce_http(false);
        http.set_nodelay(true);
        Connector {
            http,
            proxy,
            #[cfg(feature = "tls")]
            tls,
        }
    }
}

/// A TCP connection to the proxy, tunnelled with `CONNECT` to `uri`'s host and port, within
/// the proxy's timeout.
async fn through_proxy(
    http: &mut HttpConnector,
    proxy: &Proxy,
    uri: &Uri,
) -> Result<TokioIo<TcpStream>, ProxyError> {
    let default_port = if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
        443
    } else {
        80
    };
    let target = format!(
        "{}:{}",
        uri.host().unwrap_or_default(),
        uri.port_u16().unwrap_or(default_port)
    );
    let proxy_address = format!("{}:{}", proxy.url.host(), proxy.url.port());
    let connect = async {
        let proxy_uri = proxy.url.uri().map_err(|e| ProxyError::Connect {
            proxy: proxy_address.clone(),
            source: e.into(),
        })?;
        let tcp = tower_service::Service::<Uri>::call(http, proxy_uri)
            .await
            .map_err(|e| ProxyError::Connect {
                proxy: proxy_address.clone(),
                source: e.into(),
            })?;
        let mut tcp = tcp.into_inner();
        proxy.url.tunnel(&mut tcp, &target).await?;
        Ok(TokioIo::new(tcp))
    };
    tokio::time::timeout(proxy.timeout, connect)
        .await
        .map_err(|_| ProxyError::Timeout(proxy.timeout))?
}

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let proxy = self.proxy.clone();
        #[cfg(feature = "tls")]
        let tls = self.tls.clone();
        Box::pin(async move {
            let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            let host = uri.host().unwrap_or_default().to_owned();
            let tcp = match &proxy {
                Some(proxy) => through_proxy(&mut http, proxy, &uri).await?,
                None => http.call(uri).await?,
            };
            if !https {
                return Ok(Stream::Plain(tcp));
            }
            #[cfg(feature = "tls")]
            {
                let tls = tls.ok_or("an https endpoint without a TLS configuration")?;
                let name = match tls.server_name {
                    Some(name) => name,
                    None => {
                        let host = host.trim_start_matches('[').trim_end_matches(']');
                        rustls_pki_types::ServerName::try_from(host.to_owned())?
                    }
                };
                let stream = tls.connector.connect(name, tcp.into_inner()).await?;
                Ok(Stream::Tls(Box::new(TokioIo::new(stream))))
            }
            #[cfg(not(feature = "tls"))]
            {
                let _ = host;
                Err("https needs the `tls` feature of otlp-transport".into())
            }
        })
    }
}

/// A plain or TLS connection.
pub(crate) enum Stream {
    Plain(TokioIo<TcpStream>),
    #[cfg(feature = "tls")]
    Tls(Box<TokioIo<tokio_rustls::client::TlsStream<TcpStream>>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Stream::Plain(stream) => stream.connected(),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => {
                let (tcp, session) = stream.inner().get_ref();
                let connected = tcp.connected();
                if session.alpn_protocol() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(&mut **stream).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(&mut **stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(&mut **stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(&mut **stream).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(stream) => stream.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Stream::Tls(stream) => Pin::new(&mut **stream).poll_write_vectored(cx, bufs),
        }
    }
}
