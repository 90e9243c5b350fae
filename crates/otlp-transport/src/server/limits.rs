//! Bounded request bodies and the concurrency bound.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::clients::{ClientTable, Share};
use crate::compression::CHARGE_STEP;
use crate::status::ServerError;

/// The receiver-wide bound on requests in progress, and each client address's share of it.
#[derive(Debug, Clone)]
pub(crate) struct ConcurrencyLimit {
    permits: Arc<Semaphore>,
    clients: Option<Arc<ClientTable>>,
    retry_after: Duration,
}

/// A request's slot: a permit of the receiver-wide bound and one of its address's share.
#[derive(Debug)]
pub(crate) struct RequestSlot {
    _permit: OwnedSemaphorePermit,
    _share: Option<Share>,
}

impl ConcurrencyLimit {
    pub(crate) fn new(
        max: usize,
        clients: Option<Arc<ClientTable>>,
        retry_after: Duration,
    ) -> Self {
        ConcurrencyLimit {
            permits: Arc::new(Semaphore::new(max.max(1))),
            clients,
            retry_after,
        }
    }

    /// Permits free now.
    pub(crate) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// A slot, or `Overloaded` at once: requests beyond the bound, or beyond the share of the
    /// client's address, are refused, not queued.
    pub(crate) fn try_acquire(&self, peer: Option<IpAddr>) -> Result<RequestSlot, ServerError> {
        let overloaded = || ServerError::Overloaded {
            retry_after: self.retry_after,
        };
        let share = match (&self.clients, peer) {
            (Some(clients), Some(addr)) => Some(clients.request(addr).ok_or_else(overloaded)?),
            _ => None,
        };
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| overloaded())?;
        Ok(RequestSlot {
            _permit: permit,
            _share: share,
        })
    }
}

/// How long a body may take: `timeout` in all, and after `grace` no slower than `min_rate`
/// bytes a second on average since its headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub(crate) timeout: Duration,
    pub(crate) min_rate: u64,
    pub(crate) grace: Duration,
}

impl Pace {
    /// For tests: only the overall timeout.
    #[cfg(test)]
    pub(crate) fn timeout(timeout: Duration) -> Pace {
        Pace {
            timeout,
            min_rate: 0,
            grace: timeout,
        }
    }

    /// When a body that started at `start` and has `received` bytes so far must have more,
    /// and the error once it has not.
    fn deadline(&self, start: Instant, received: usize) -> (Instant, ServerError) {
        let total = (start + self.timeout, ServerError::BodyTimeout(self.timeout));
        if self.min_rate == 0 {
            return total;
        }
        let earned = Duration::from_secs_f64(received as f64 / self.min_rate as f64);
        let paced = start + self.grace.saturating_add(earned);
        if paced < total.0 {
            (
                paced,
                ServerError::BodyTooSlow {
                    min_rate: self.min_rate,
                },
            )
        } else {
            total
        }
    }
}

/// The smallest buffer a body starts with.
const MIN_BUFFER: usize = 16 * 1024;

/// Called with the bytes received so far, every [`CHARGE_STEP`]: the request's memory
/// reservation follows what really arrived, never what was announced.
pub(crate) type Charge<'a> = dyn FnMut(usize) -> Result<(), ServerError> + Send + 'a;

/// Reads a request body in pieces, never holding more than a cap, nor much more memory than
/// the bytes received (at most twice: an announced length is believed only as it arrives).
pub(crate) struct BodyReader<B> {
    body: B,
    buf: Vec<u8>,
    finished: bool,
    /// The expected body length (`Content-Length`, or a gRPC frame's length), if any.
    announced: Option<usize>,
    pace: Pace,
    start: Instant,
    charged: usize,
}

impl<B> BodyReader<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    pub(crate) fn new(body: B, pace: Pace) -> Self {
        let announced = body
            .size_hint()
            .exact()
            .and_then(|n| usize::try_from(n).ok());
        BodyReader {
            body,
            buf: Vec::new(),
            finished: false,
            announced,
            pace,
            start: Instant::now(),
            charged: 0,
        }
    }

    /// The body is expected to hold `total` bytes in all (a checked gRPC frame header): the
    /// buffer grows towards it as the bytes arrive.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn expect_total(&mut self, total: usize) {
        self.announced = Some(total);
    }

    /// The bytes read so far.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Room for `more` bytes: doubling from [`MIN_BUFFER`], never past the announced length
    /// or the cap, so a client announcing a large body and sending little gets little.
    fn make_room(&mut self, more: usize, cap: usize) {
        let needed = self.buf.len() + more;
        if needed <= self.buf.capacity() {
            return;
        }
        let mut target = needed.max(self.buf.len().saturating_mul(2)).max(MIN_BUFFER);
        if let Some(announced) = self.announced {
            target = target.min(announced.max(needed));
        }
        target = target.min(cap.max(needed));
        self.buf.reserve_exact(target - self.buf.len());
    }

    /// Reads until at least `want` bytes are buffered or the body ends; fails as soon as more
    /// than `cap` bytes are buffered, when the body is too slow (see [`Pace`]), or when
    /// `charge` refuses the bytes received so far.
    pub(crate) async fn fill(
        &mut self,
        want: usize,
        cap: usize,
        charge: &mut Charge<'_>,
    ) -> Result<(), ServerError> {
        while self.buf.len() < want && !self.finished {
            let (deadline, late) = self.pace.deadline(self.start, self.buf.len());
            let frame = match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Ok(frame) => frame,
                Err(_) => return Err(late),
            };
            match frame {
                None => self.finished = true,
                Some(Err(error)) => return Err(ServerError::BodyRead(error.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if self.buf.len().saturating_add(data.len()) > cap {
                            return Err(ServerError::TooLarge { limit: cap });
                        }
                        if self.buf.len() + data.len() >= self.charged + CHARGE_STEP {
                            charge(self.buf.len() + data.len())?;
                            self.charged = self.buf.len() + data.len();
                        }
                        self.make_room(data.len(), cap);
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
        if self.finished && self.buf.len() > self.charged {
            charge(self.buf.len())?;
            self.charged = self.buf.len();
        }
        Ok(())
    }

    /// Reads and drops the rest of the body, up to `limit` bytes: a request refused before its
    /// body was read gets its answer on a connection still in step, so an HTTP/1.1 client
    /// reads the refusal instead of a reset while it is still sending (Go's `net/http`
    /// discards up to 256 KiB the same way). A body announcing more is not read at all, and
    /// the reading keeps the body's pace. Returns `false` when more remained, the body failed,
    /// or it was too slow.
    pub(crate) async fn discard(mut self, limit: usize) -> bool {
        if self.announced.is_some_and(|announced| announced > limit) {
            return false;
        }
        let mut seen = self.buf.len();
        loop {
            let (deadline, _) = self.pace.deadline(self.start, seen);
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return false,
                Ok(None) => return true,
                Ok(Some(Err(_))) => return false,
                Ok(Some(Ok(frame))) => {
                    seen = seen.saturating_add(frame.data_ref().map_or(0, Bytes::len));
                    if seen > limit {
                        return false;
                    }
                }
            }
        }
    }

    /// Reads the rest of the body (at most `cap` bytes in all) and takes all of it.
    pub(crate) async fn read_to_end(
        &mut self,
        cap: usize,
        charge: &mut Charge<'_>,
    ) -> Result<Bytes, ServerError> {
        self.fill(usize::MAX, cap, charge).await?;
        Ok(Bytes::from(std::mem::take(&mut self.buf)))
    }
}

/// A charge that never refuses.
#[cfg(test)]
pub(crate) fn free(_: usize) -> Result<(), ServerError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    const SECOND: Duration = Duration::from_secs(1);

    fn reader<B>(body: B) -> BodyReader<B>
    where
        B: http_body::Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Display,
    {
        BodyReader::new(body, Pace::timeout(Duration::from_secs(30)))
    }

    #[tokio::test]
    async fn caps_the_body() {
        let mut body = reader(Full::new(Bytes::from_static(b"0123456789")));
        assert!(matches!(
            body.read_to_end(9, &mut free).await,
            Err(ServerError::TooLarge { limit: 9 })
        ));
        let mut body = reader(Full::new(Bytes::from_static(b"0123456789")));
        assert_eq!(
            &body.read_to_end(10, &mut free).await.unwrap()[..],
            b"0123456789"
        );
    }

    #[tokio::test]
    async fn fills_across_frames() {
        let mut body = reader(Chunks(vec!["ef", "cd", "ab"]));
        body.fill(3, 100, &mut free).await.unwrap();
        assert_eq!(body.buffered(), b"abcd");
        assert_eq!(
            &body.read_to_end(100, &mut free).await.unwrap()[..],
            b"abcdef"
        );
    }

    #[tokio::test]
    async fn discards_a_bounded_body() {
        assert!(reader(Chunks(vec!["ef", "cd", "ab"])).discard(6).await);
        assert!(!reader(Chunks(vec!["ef", "cd", "ab"])).discard(5).await);
        // Announcing more than the limit: not read at all, answered at once.
        let (_sender, body) = Channel::new(Some(1 << 20));
        let started = Instant::now();
        assert!(!reader(body).discard(256 << 10).await);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn charges_what_arrived_in_steps() {
        let piece = "x".repeat(100 * 1024);
        let piece: &'static str = Box::leak(piece.into_boxed_str());
        let mut charged = Vec::new();
        let mut body = reader(Chunks(vec![piece; 6]));
        let bytes = body
            .read_to_end(usize::MAX, &mut |n| {
                charged.push(n);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(bytes.len(), 600 * 1024);
        // At 300 KiB (past the first 256 KiB step), 600 KiB (past 556 KiB), and not again at
        // the end since all was charged.
        assert_eq!(charged, [300 * 1024, 600 * 1024]);
        let mut body = reader(Chunks(vec![piece; 6]));
        let refused = body
            .read_to_end(usize::MAX, &mut |n| {
                Err(ServerError::BodyRead(format!("refused at {n}")))
            })
            .await;
        assert!(matches!(refused, Err(ServerError::BodyRead(m)) if m == "refused at 307200"));
    }

    #[tokio::test]
    async fn an_announced_length_is_believed_as_it_arrives() {
        // Announces 20 MiB, sends 1 KiB and stalls: the buffer stays small.
        let (mut sender, body) = Channel::new(Some(20 << 20));
        sender.send("y".repeat(1024));
        let mut body = BodyReader::new(body, Pace::timeout(Duration::from_millis(50)));
        let error = body
            .fill(usize::MAX, 20 << 20, &mut free)
            .await
            .unwrap_err();
        assert!(matches!(error, ServerError::BodyTimeout(_)), "{error}");
        assert_eq!(body.buffered().len(), 1024);
        assert!(body.buf.capacity() <= MIN_BUFFER, "{}", body.buf.capacity());
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_is_cut_once_the_grace_has_passed() {
        let pace = Pace {
            timeout: Duration::from_secs(30),
            min_rate: 100,
            grace: 2 * SECOND,
        };
        // 10 bytes a second, a tenth of the minimum: cut at 2 s + what it earned (≤ 0.3 s).
        let (mut sender, body) = Channel::new(None);
        let feeder = tokio::spawn(async move {
            loop {
                sender.send("0123456789".into());
                tokio::time::sleep(SECOND).await;
            }
        });
        let start = Instant::now();
        let mut body = BodyReader::new(body, pace);
        let error = body.read_to_end(usize::MAX, &mut free).await.unwrap_err();
        let took = start.elapsed();
        feeder.abort();
        assert!(
            matches!(error, ServerError::BodyTooSlow { min_rate: 100 }),
            "{error}"
        );
        assert!(took >= 2 * SECOND && took < 3 * SECOND, "{took:?}");

        // Above the rate: only the overall timeout applies.
        let (mut sender, body) = Channel::new(None);
        let feeder = tokio::spawn(async move {
            for _ in 0..50 {
                sender.send("x".repeat(200));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut body = BodyReader::new(body, pace);
        let bytes = body.read_to_end(usize::MAX, &mut free).await.unwrap();
        feeder.await.unwrap();
        assert_eq!(bytes.len(), 50 * 200);
    }

    #[test]
    fn concurrency_refuses_beyond_the_bound() {
        let limit = ConcurrencyLimit::new(1, None, Duration::from_secs(2));
        let permit = limit.try_acquire(None).unwrap();
        assert!(matches!(
            limit.try_acquire(None),
            Err(ServerError::Overloaded { retry_after }) if retry_after == Duration::from_secs(2)
        ));
        drop(permit);
        assert!(limit.try_acquire(None).is_ok());
    }

    #[test]
    fn an_address_gets_its_share_of_the_bound() {
        let limit = ConcurrencyLimit::new(4, Some(ClientTable::new(10, 2)), SECOND);
        let hog: IpAddr = "127.0.0.2".parse().unwrap();
        let other: IpAddr = "127.0.0.1".parse().unwrap();
        let held = [
            limit.try_acquire(Some(hog)).unwrap(),
            limit.try_acquire(Some(hog)).unwrap(),
        ];
        assert!(matches!(
            limit.try_acquire(Some(hog)),
            Err(ServerError::Overloaded { .. })
        ));
        let others = [
            limit.try_acquire(Some(other)).unwrap(),
            limit.try_acquire(Some(other)).unwrap(),
        ];
        assert_eq!(limit.available(), 0);
        drop((held, others));
        assert_eq!(limit.available(), 4);
    }

    /// A body fed from the test, announcing a length or not.
    struct Channel {
        rx: tokio::sync::mpsc::UnboundedReceiver<Bytes>,
        announced: Option<u64>,
    }

    struct Sender(tokio::sync::mpsc::UnboundedSender<Bytes>);

    impl Sender {
        fn send(&mut self, data: String) {
            let _ = self.0.send(Bytes::from(data));
        }
    }

    impl Channel {
        fn new(announced: Option<u64>) -> (Sender, Channel) {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Sender(tx), Channel { rx, announced })
        }
    }

    impl http_body::Body for Channel {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            self.rx
                .poll_recv(cx)
                .map(|data| data.map(|d| Ok(http_body::Frame::data(d))))
        }

        fn size_hint(&self) -> http_body::SizeHint {
            match self.announced {
                Some(n) => http_body::SizeHint::with_exact(n),
                None => http_body::SizeHint::default(),
            }
        }
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
