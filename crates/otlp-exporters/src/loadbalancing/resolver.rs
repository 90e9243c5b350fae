//! Where the backends come from: the `static` list, or the addresses of a DNS name resolved
//! every `interval` (each query bounded by `timeout`), formatted as Go's resolver does —
//! IPv4 as `a.b.c.d`, IPv6 as `[..]`, `:port` appended when `port` is set — and sorted, so
//! the ring is Go's for the same answer.
//!
//! The lookup is behind [`Lookup`] so that a program (or a test) can resolve names its own
//! way; [`SystemLookup`] asks the system resolver (`tokio::net::lookup_host`).

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::config::DEFAULT_PORT;

/// A boxed lookup future.
pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Resolves a host name to addresses.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup<'a>(&'a self, host: &'a str) -> LookupFuture<'a>;
}

/// The system resolver, through `tokio::net::lookup_host`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host, 0)).await?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    }
}

/// Why a DNS resolution gave no member list.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The lookup failed.
    #[error("resolving \"{host}\": {source}")]
    Lookup {
        /// The name.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The lookup did not answer within the timeout.
    #[error("resolving \"{host}\": no answer within {timeout:?}")]
    Timeout {
        /// The name.
        host: String,
        /// The limit.
        timeout: Duration,
    },
}

/// The DNS resolver: a name, an optional port, a lookup.
#[derive(Clone)]
pub struct DnsResolver {
    host: String,
    port: Option<String>,
    timeout: Duration,
    lookup: Arc<dyn Lookup>,
}

impl std::fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsResolver")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl DnsResolver {
    /// Resolves `host` with `lookup`, each query bounded by `timeout`.
    pub fn new(
        host: impl Into<String>,
        port: Option<String>,
        timeout: Duration,
        lookup: Arc<dyn Lookup>,
    ) -> DnsResolver {
        DnsResolver {
            host: host.into(),
            port,
            timeout,
            lookup,
        }
    }

    /// The members: the addresses formatted as Go's resolver writes them, sorted, without
    /// duplicates.
    pub async fn resolve(&self) -> Result<Vec<String>, ResolveError> {
        let answer = tokio::time::timeout(self.timeout, self.lookup.lookup(&self.host)).await;
        let addresses = match answer {
            Err(_) => {
                return Err(ResolveError::Timeout {
                    host: self.host.clone(),
                    timeout: self.timeout,
                });
            }
            Ok(Err(source)) => {
                return Err(ResolveError::Lookup {
                    host: self.host.clone(),
                    source,
                });
            }
            Ok(Ok(addresses)) => addresses,
        };
        let mut members: Vec<String> = addresses
            .into_iter()
            .map(|ip| {
                let host = match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                };
                match &self.port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                }
            })
            .collect();
        members.sort();
        members.dedup();
        Ok(members)
    }
}

/// The endpoint a member's exporter connects to: the member with `:4317` appended when it
/// names no port (Go appends it when the text has no `:`; an IPv6 member is bracketed, so a
/// `]` as the last character means no port either).
pub fn endpoint_with_port(member: &str) -> String {
    let has_port = match member.rfind(':') {
        None => false,
        Some(i) => !member[i..].contains(']'),
    };
    if has_port {
        member.to_owned()
    } else {
        format!("{member}:{DEFAULT_PORT}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    struct Fixed(Vec<IpAddr>);

    impl Lookup for Fixed {
        fn lookup<'a>(&'a self, _host: &'a str) -> LookupFuture<'a> {
            let answer = self.0.clone();
            Box::pin(async move { Ok(answer) })
        }
    }

    struct Never;

    impl Lookup for Never {
        fn lookup<'a>(&'a self, _host: &'a str) -> LookupFuture<'a> {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn default_port_is_added_only_without_one() {
        assert_eq!(endpoint_with_port("backend"), "backend:4317");
        assert_eq!(endpoint_with_port("backend:55690"), "backend:55690");
        assert_eq!(endpoint_with_port("10.0.0.1"), "10.0.0.1:4317");
        assert_eq!(endpoint_with_port("[::1]"), "[::1]:4317");
        assert_eq!(endpoint_with_port("[::1]:9000"), "[::1]:9000");
    }

    #[tokio::test]
    async fn answers_are_formatted_sorted_and_deduplicated() {
        let answer = vec![
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 10)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        ];
        let lookup: Arc<dyn Lookup> = Arc::new(Fixed(answer));
        let bare = DnsResolver::new("x", None, Duration::from_secs(1), Arc::clone(&lookup));
        assert_eq!(
            bare.resolve().await.unwrap(),
            ["10.0.0.10", "10.0.0.2", "[::1]"],
            "string order, as Go's sort.Strings"
        );
        let with_port = DnsResolver::new("x", Some("4317".into()), Duration::from_secs(1), lookup);
        assert_eq!(
            with_port.resolve().await.unwrap(),
            ["10.0.0.10:4317", "10.0.0.2:4317", "[::1]:4317"]
        );
    }

    #[tokio::test]
    async fn a_lookup_that_hangs_times_out() {
        let resolver = DnsResolver::new("x", None, Duration::from_millis(50), Arc::new(Never));
        let error = resolver.resolve().await.unwrap_err();
        assert!(matches!(error, ResolveError::Timeout { .. }), "{error}");
    }

    #[tokio::test]
    async fn the_system_resolver_resolves_localhost() {
        let resolver = DnsResolver::new(
            "localhost",
            Some("4317".into()),
            Duration::from_secs(5),
            Arc::new(SystemLookup),
        );
        let members = resolver.resolve().await.unwrap();
        assert!(
            members
                .iter()
                .any(|m| m == "127.0.0.1:4317" || m == "[::1]:4317"),
            "{members:?}"
        );
        let missing = DnsResolver::new(
            "no-such-host.invalid",
            None,
            Duration::from_secs(5),
            Arc::new(SystemLookup),
        );
        assert!(missing.resolve().await.is_err());
    }
}
