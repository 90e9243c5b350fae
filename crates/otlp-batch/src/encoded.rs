//! [`Encoded`]: an Export request kept as its protobuf encoding.
//!
//! A queue in front of a network exporter holds data that will leave as protobuf bytes anyway.
//! Held decoded, a realistic span costs several times its encoded size in small heap objects
//! (strings, attribute vectors); held encoded, it costs its encoded size in one buffer, and a
//! retry sends the same bytes without encoding them again. `Encoded<R>` is such a request: it
//! is a [`Batchable`] [`ExportRequest`] like `R`, so a `BatchQueue<Encoded<R>>` and the
//! transport's exporter take it unchanged.
//!
//! - Merging concatenates: an Export request is one repeated field, so the concatenation of
//!   two encodings is the encoding of their union (resource groups are not combined, which
//!   the receiver cannot tell from a request that listed the same resource twice). Profiles,
//!   whose dictionary is one message the leaves index into, merge decoded.
//! - Splitting (a request over the queue's caps) decodes, splits and encodes again: the rare
//!   path.
//! - The item count is taken when the request is built from a decoded one, or counted from
//!   the bytes (a walk over field headers, no decoding) when it is read back from disk.

use std::marker::PhantomData;
use std::sync::OnceLock;

use otlp_transport::{ExportRequest, Signal};
use prost::Message;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{DecodeContext, WireType};

use crate::batchable::Batchable;

/// An Export request of type `R`, held as its protobuf encoding: merged by concatenation,
/// split by decoding, its items counted from the field headers when it was read back.
pub struct Encoded<R> {
    bytes: Bytes,
    items: OnceLock<usize>,
    request: PhantomData<fn() -> R>,
}

impl<R: ExportRequest> Encoded<R> {
    /// Encodes `request`.
    pub fn new(request: &R) -> Self {
        Self::with_items(request.encode_to_vec().into(), Some(request.item_count()))
    }

    /// Takes bytes that are the protobuf encoding of an `R` holding `items` items (a
    /// receiver's validated message), without copying them. The caller vouches for both;
    /// nothing is checked.
    pub fn from_protobuf(bytes: impl Into<Bytes>, items: usize) -> Self {
        Self::with_items(bytes.into(), Some(items))
    }

    /// `bytes` with their item count when it is known (counted from the bytes on first use
    /// otherwise).
    fn with_items(bytes: Bytes, items: Option<usize>) -> Self {
        let cell = OnceLock::new();
        if let Some(items) = items {
            let _ = cell.set(items);
        }
        Self {
            bytes,
            items: cell,
            request: PhantomData,
        }
    }

    /// The protobuf encoding.
    pub fn as_protobuf(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoding, owned (shared, not copied).
    pub fn into_protobuf(self) -> Bytes {
        self.bytes
    }

    /// Decodes the request.
    pub fn decode_request(&self) -> Result<R, prost::DecodeError> {
        R::decode(self.bytes.as_ref())
    }

    /// Items in `protobuf`, the encoding of an `R`, counted from its field headers without
    /// decoding anything; malformed bytes count what can be read before the fault.
    pub fn count_items(protobuf: &[u8]) -> usize {
        count_items(R::SIGNAL, protobuf)
    }
}

impl<R> Clone for Encoded<R> {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            items: self.items.clone(),
            request: PhantomData,
        }
    }
}

impl<R> Default for Encoded<R> {
    fn default() -> Self {
        Self {
            bytes: Bytes::new(),
            items: OnceLock::new(),
            request: PhantomData,
        }
    }
}

impl<R> std::fmt::Debug for Encoded<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("bytes", &self.bytes.len())
            .field("items", &self.items.get())
            .finish()
    }
}

impl<R> PartialEq for Encoded<R> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<R: ExportRequest> Message for Encoded<R> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.bytes);
    }

    /// Keeps every length-delimited field as it was encoded (an Export request has no other
    /// kind); skips anything else.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        if wire_type != WireType::LengthDelimited {
            return prost::encoding::skip_field(wire_type, tag, buf, ctx);
        }
        let mut body = Vec::new();
        prost::encoding::bytes::merge(wire_type, &mut body, buf, ctx)?;
        let mut bytes = Vec::from(std::mem::take(&mut self.bytes));
        prost::encoding::encode_key(tag, wire_type, &mut bytes);
        prost::encoding::encode_varint(body.len() as u64, &mut bytes);
        bytes.extend_from_slice(&body);
        self.bytes = bytes.into();
        self.items = OnceLock::new();
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    fn clear(&mut self) {
        self.bytes = Bytes::new();
        self.items = OnceLock::new();
    }
}

impl<R: ExportRequest> ExportRequest for Encoded<R> {
    type Response = R::Response;
    const SIGNAL: Signal = R::SIGNAL;

    fn item_count(&self) -> usize {
        *self
            .items
            .get_or_init(|| count_items(R::SIGNAL, &self.bytes))
    }

    fn partial_success(response: &Self::Response) -> Option<otlp_transport::PartialSuccess> {
        R::partial_success(response)
    }

    fn response(partial: Option<otlp_transport::PartialSuccess>) -> Self::Response {
        R::response(partial)
    }

    fn held_protobuf(&self) -> Option<Bytes> {
        Some(self.bytes.clone())
    }
}

impl<R: Batchable> crate::batchable::sealed::Sealed for Encoded<R> {}

impl<R: Batchable> Batchable for Encoded<R> {
    fn absorb(&mut self, other: Self) -> Result<(), Self> {
        if other.bytes.is_empty() {
            return Ok(());
        }
        if R::SIGNAL == Signal::Profiles && !self.bytes.is_empty() {
            let (Ok(mut mine), Ok(theirs)) = (self.decode_request(), other.decode_request()) else {
                return Err(other);
            };
            return match mine.absorb(theirs) {
                Ok(()) => {
                    *self = Self::new(&mine);
                    Ok(())
                }
                Err(_) => Err(other),
            };
        }
        let items = match (self.items.get(), other.items.get()) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        // In place when this request owns its buffer alone (the usual case: the batch being
        // built); a shared buffer is copied once.
        let mut bytes = Vec::from(std::mem::take(&mut self.bytes));
        bytes.extend_from_slice(&other.bytes);
        *self = Self::with_items(bytes.into(), items);
        Ok(())
    }

    /// Concatenates every request into one buffer of the exact total size (profiles: the
    /// decoded merge of [`absorb`](Batchable::absorb)).
    fn merge_many(requests: Vec<Self>) -> Vec<Self> {
        if R::SIGNAL == Signal::Profiles || requests.len() < 2 {
            return crate::batchable::absorb_each(requests);
        }
        let total = requests.iter().map(|request| request.bytes.len()).sum();
        let mut bytes = Vec::with_capacity(total);
        let mut items = Some(0usize);
        for request in &requests {
            bytes.extend_from_slice(&request.bytes);
            items = items.zip(request.items.get()).map(|(sum, n)| sum + n);
        }
        vec![Self::with_items(bytes.into(), items)]
    }

    fn split(self, max_items: usize, max_bytes: usize) -> Vec<Self> {
        let within = (max_items == 0 || self.item_count() <= max_items)
            && (max_bytes == 0 || self.bytes.len() <= max_bytes);
        if within {
            return vec![self];
        }
        match self.decode_request() {
            Ok(request) => request
                .split(max_items, max_bytes)
                .iter()
                .map(Self::new)
                .collect(),
            // Bytes that do not decode cannot be split; they travel whole (the queue never
            // drops data to honour a cap).
            Err(_) => vec![self],
        }
    }
}

/// Reads a varint at `*at`; `None` when the bytes end first or it is longer than 10 bytes.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Calls `each(field number, body)` for every length-delimited field of `message`; stops at
/// the first malformed field.
fn each_message_field<'a>(message: &'a [u8], mut each: impl FnMut(u64, &'a [u8])) {
    let mut at = 0;
    while at < message.len() {
        let Some(key) = varint(message, &mut at) else {
            return;
        };
        let skip = match key & 7 {
            0 => varint(message, &mut at).map(|_| 0),
            1 => Some(8),
            5 => Some(4),
            2 => varint(message, &mut at).and_then(|len| usize::try_from(len).ok()),
            _ => None,
        };
        let Some(end) = skip
            .and_then(|len| at.checked_add(len))
            .filter(|end| *end <= message.len())
        else {
            return;
        };
        if key & 7 == 2 {
            each(key >> 3, &message[at..end]);
        }
        at = end;
    }
}

/// Items of an encoded Export request of `signal`, from the field headers: request.1 (the
/// resource groups) → .2 (the scope groups) → .2 (spans, metrics, log records, profiles);
/// for metrics, the data points of each metric's data (gauge 5, sum 7, histogram 9,
/// exponential histogram 10, summary 11; their data points are field 1).
fn count_items(signal: Signal, request: &[u8]) -> usize {
    let mut items = 0;
    each_message_field(request, |field, resource_group| {
        if field != 1 {
            return;
        }
        each_message_field(resource_group, |field, scope_group| {
            if field != 2 {
                return;
            }
            each_message_field(scope_group, |field, leaf| {
                if field != 2 {
                    return;
                }
                if signal != Signal::Metrics {
                    items += 1;
                    return;
                }
                each_message_field(leaf, |field, data| {
                    if matches!(field, 5 | 7 | 9 | 10 | 11) {
                        each_message_field(data, |field, _point| items += usize::from(field == 1));
                    }
                });
            });
        });
    });
    items
}

#[cfg(test)]
mod tests;
