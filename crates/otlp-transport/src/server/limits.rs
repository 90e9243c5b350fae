//! Bounded request bodies and the concurrency bound.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::status::ServerError;

/// The receiver-wide bound on requests in progress.
#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyLimit {
    permits: Arc<Semaphore>,
    retry_after: Duration,
}

impl ConcurrencyLimit {
    pub(crate) fn new(max: usize, retry_after: Duration) -> Self {
        ConcurrencyLimit {
            permits: Arc::new(Semaphore::new(max.max(1))),
            retry_after,
        }
    }

    /// Permits free now.
    pub(crate) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// A permit, or `Overloaded` at once: requests beyond the bound are refused, not queued.
    pub(crate) fn try_acquire(&self) -> Result<OwnedSemaphorePermit, ServerError> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| ServerError::Overloaded {
                retry_after: self.retry_after,
            })
    }
}

/// Reads a request body in pieces, never holding more than a cap.
pub(crate) struct BodyReader<B> {
    body: B,
    buf: BytesMut,
    finished: bool,
    /// The announced body length (`Content-Length`), if any.
    announced: Option<u64>,
}

impl<B> BodyReader<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    pub(crate) fn new(body: B) -> Self {
        let announced = body.size_hint().exact();
        BodyReader {
            body,
            buf: BytesMut::new(),
            finished: false,
            announced,
        }
    }

    /// Makes room for `total` bytes in all, once the caller knows the size (a checked gRPC
    /// frame header); saves the re-allocations of a growing buffer.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn reserve_total(&mut self, total: usize) {
        self.buf.reserve(total.saturating_sub(self.buf.len()));
    }

    /// The bytes read so far.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Reads until at least `want` bytes are buffered or the body ends; fails as soon as more
    /// than `cap` bytes are buffered.
    pub(crate) async fn fill(&mut self, want: usize, cap: usize) -> Result<(), ServerError> {
        while self.buf.len() < want && !self.finished {
            match self.body.frame().await {
                None => self.finished = true,
                Some(Err(error)) => return Err(ServerError::BodyRead(error.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if self.buf.len().saturating_add(data.len()) > cap {
                            return Err(ServerError::TooLarge { limit: cap });
                        }
                        if self.buf.capacity() == 0 {
                            // Size the buffer by the announced length (already checked against
                            // the cap), never by the cap itself: small requests stay small.
                            let announced = self.announced.and_then(|n| usize::try_from(n).ok());
                            self.buf
                                .reserve(announced.unwrap_or(0).min(cap).max(data.len()));
                        }
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads and drops the body, up to `limit` bytes: a request refused before its body was
    /// read gets its answer on a connection still in step, so an HTTP/1.1 client reads the
    /// refusal instead of a reset while it is still sending (Go's `net/http` discards up to
    /// 256 KiB the same way). Returns `false` when more remained, or the body failed.
    pub(crate) async fn discard(mut self, limit: usize) -> bool {
        let mut seen = 0usize;
        loop {
            match self.body.frame().await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    seen = seen.saturating_add(frame.data_ref().map_or(0, Bytes::len));
                    if seen > limit {
                        return false;
                    }
                }
            }
        }
    }

    /// Reads the rest of the body (at most `cap` bytes in all) and returns all of it.
    pub(crate) async fn read_to_end(mut self, cap: usize) -> Result<Bytes, ServerError> {
        self.fill(usize::MAX, cap).await?;
        Ok(self.buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn caps_the_body() {
        let reader = BodyReader::new(Full::new(Bytes::from_static(b"0123456789")));
        assert!(matches!(
            reader.read_to_end(9).await,
            Err(ServerError::TooLarge { limit: 9 })
        ));
        let reader = BodyReader::new(Full::new(Bytes::from_static(b"0123456789")));
        assert_eq!(&reader.read_to_end(10).await.unwrap()[..], b"0123456789");
    }

    #[tokio::test]
    async fn fills_across_frames() {
        let mut reader = BodyReader::new(Chunks(vec!["ef", "cd", "ab"]));
        reader.fill(3, 100).await.unwrap();
        assert_eq!(reader.buffered(), b"abcd");
        assert_eq!(&reader.read_to_end(100).await.unwrap()[..], b"abcdef");
    }

    #[tokio::test]
    async fn discards_a_bounded_body() {
        assert!(
            BodyReader::new(Chunks(vec!["ef", "cd", "ab"]))
                .discard(6)
                .await
        );
        assert!(
            !BodyReader::new(Chunks(vec!["ef", "cd", "ab"]))
                .discard(5)
                .await
        );
    }

    #[test]
    fn concurrency_refuses_beyond_the_bound() {
        let limit = ConcurrencyLimit::new(1, Duration::from_secs(2));
        let permit = limit.try_acquire().unwrap();
        assert!(matches!(
            limit.try_acquire(),
            Err(ServerError::Overloaded { retry_after }) if retry_after == Duration::from_secs(2)
        ));
        drop(permit);
        assert!(limit.try_acquire().is_ok());
    }

    /// A body yielding the pieces from the end of the vector.
    struct Chunks(Vec<&'static str>);

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            let next = self
                .0
                .pop()
                .map(|s| Ok(http_body::Frame::data(Bytes::from_static(s.as_bytes()))));
            std::task::Poll::Ready(next)
        }
    }
}
