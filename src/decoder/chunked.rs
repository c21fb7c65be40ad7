//! [`ChunkedInput`]: input that arrives as `Bytes` chunks, decoded without copying the chunks.

use bytes::{Buf, Bytes, BytesMut};

/// The smallest number of bytes [`ChunkedInput::grow`] copies from the chunk into the carry.
const MIN_GROW: usize = 512;

/// Input that arrives as [`Bytes`] chunks (what hyper, reqwest and axum bodies yield), for
/// [`BatchDecoder::decode_chunked`](crate::BatchDecoder::decode_chunked).
///
/// Heads and bodies are sliced from the chunks themselves: nothing is copied, except where a head or a delimiter
/// line is cut by the end of a chunk. Then the unfinished part and as much of the next chunk as it takes to
/// finish it (at least 512 bytes, and at least as many as are already carried) are copied into a small carry
/// buffer; once the decoder has read past the carried part, it goes on in the chunk itself. Feeding a
/// `BytesMut` instead copies every byte once (`extend_from_slice`) and splits it again.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use odata_batch::{BatchDecoder, ChunkedInput, Event};
///
/// let mut decoder = BatchDecoder::from_content_type("multipart/mixed; boundary=b").unwrap();
/// let mut input = ChunkedInput::new();
/// let wire = Bytes::from_static(b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n");
/// let mut statuses = Vec::new();
/// // The chunks a body stream yields: here slices of one buffer, cut inside the status line.
/// for chunk in [wire.slice(..50), wire.slice(50..)] {
///     input.push(chunk);
///     while let Some(event) = decoder.decode_chunked(&mut input).unwrap() {
///         if let Event::Head(head) = event {
///             statuses.push(head.response().unwrap().status);
///         }
///     }
/// }
/// assert_eq!(decoder.decode_chunked_eof(&mut input).unwrap(), None); // Finished was returned already
/// assert!(decoder.is_finished());
/// assert_eq!(statuses, [204]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct ChunkedInput {
    /// Unconsumed input in one piece: what was left of earlier chunks, then a copy of `chunk[..mirrored]`.
    /// Empty whenever the decoder reads `chunk` directly.
    pub(super) carry: BytesMut,
    /// How many bytes at the start of `chunk` are also at the end of `carry`.
    pub(super) mirrored: usize,
    /// The newest chunk (without what the decoder consumed of it directly).
    pub(super) chunk: Bytes,
}

impl ChunkedInput {
    /// Empty input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a chunk. What the decoder left of the previous chunk (normally at most an unfinished head or
    /// delimiter line, because [`decode_chunked`](crate::BatchDecoder::decode_chunked) is called until it asks for
    /// more) is copied into the carry; the new chunk is not copied.
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        if self.carry.is_empty() && self.chunk.is_empty() {
            self.chunk = chunk;
            return;
        }
        self.carry.extend_from_slice(&self.chunk[self.mirrored..]);
        self.mirrored = 0;
        self.chunk = chunk;
    }

    /// Bytes pushed and not yet consumed by the decoder.
    pub fn len(&self) -> usize {
        self.carry.len() + self.chunk.len() - self.mirrored
    }

    /// Whether every byte pushed has been consumed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the carry holds everything that is left (so an end-of-input reading of it sees all input).
    pub(super) fn carry_is_all(&self) -> bool {
        self.mirrored == self.chunk.len()
    }

    /// After the decoder consumed from the carry: once it has read past the bytes that came from earlier chunks,
    /// what is left of the carry is a copy of the chunk's bytes, so the decoder goes on in the chunk itself.
    /// Returns whether it did.
    pub(super) fn settle(&mut self) -> bool {
        if self.carry.len() <= self.mirrored {
            self.chunk.advance(self.mirrored - self.carry.len());
            self.carry.clear();
            self.mirrored = 0;
            return true;
        }
        false
    }

    /// Copies more of the chunk into the carry (at least [`MIN_GROW`] bytes and at least as many as the carry
    /// holds, so a long head is copied in a few steps); `false` when the chunk has nothing more.
    pub(super) fn grow(&mut self) -> bool {
        let rest = self.chunk.len() - self.mirrored;
        if rest == 0 {
            return false;
        }
        let n = self.carry.len().max(MIN_GROW).min(rest);
        self.carry
            .extend_from_slice(&self.chunk[self.mirrored..self.mirrored + n]);
        self.mirrored += n;
        true
    }
}
