//! Bearer-token authentication (`authorization: Bearer <token>`, HTTP header or gRPC metadata).

use crate::status::ServerError;

/// The token a request must present.
#[derive(Clone)]
pub(crate) struct BearerAuth {
    token: Vec<u8>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerAuth(<redacted>)")
    }
}

impl BearerAuth {
    pub(crate) fn new(token: &str) -> Self {
        BearerAuth {
            token: token.as_bytes().to_vec(),
        }
    }

    /// Accepts the request if its `authorization` header is `Bearer <token>` (the scheme is
    /// case-insensitive) with the configured token. The token comparison takes the same time
    /// wherever the first difference is.
    pub(crate) fn check(&self, headers: &http::HeaderMap) -> Result<(), ServerError> {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(ServerError::Unauthenticated);
        };
        let value = value.as_bytes();
        let presented = value
            .split_at_checked(6)
            .filter(|(scheme, rest)| {
                scheme.eq_ignore_ascii_case(b"bearer") && rest.first() == Some(&b' ')
            })
            .map(|(_, rest)| rest.trim_ascii())
            .ok_or(ServerError::Unauthenticated)?;
        if constant_time_eq(presented, &self.token) {
            Ok(())
        } else {
            Err(ServerError::Unauthenticated)
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for v in values {
            map.append(http::header::AUTHORIZATION, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_tokens() {
        let auth = BearerAuth::new("s3cret");
        assert!(auth.check(&headers(&["Bearer s3cret"])).is_ok());
        assert!(auth.check(&headers(&["bearer  s3cret "])).is_ok());
        for bad in [
            &[][..],
            &["Bearer s3cre"],
            &["Bearer s3cret2"],
            &["Basic s3cret"],
            &["Bearers3cret"],
            &["Bearer"],
            &["Bearer s3cret", "Bearer s3cret"],
        ] {
            assert!(
                matches!(auth.check(&headers(bad)), Err(ServerError::Unauthenticated)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
    }
}
