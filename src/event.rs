//! What the decoder emits: [`Event`], and the zero-copy views [`Head`] and [`ChangesetHead`].
//!
//! A head is one `Bytes` of the raw bytes plus a handful of inline offsets; header lookups walk the already
//! validated header lines on demand, so decoding allocates nothing per header or per operation.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

/// One step of a decoded batch. The sequence always has this shape:
///
/// ```text
/// batch     := item* Finished
/// item      := operation | ChangesetStart operation* ChangesetEnd
/// operation := Head Body* End
/// ```
///
/// Body bytes of one operation may arrive in several `Body` events when the input arrives in pieces;
/// concatenated, they are the body exactly as it stands between the head and the line break before the next
/// delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A changeset begins: its MIME part headers and boundary.
    ChangesetStart(ChangesetHead),
    /// An operation begins: its MIME part headers, start line and embedded HTTP headers.
    Head(Head),
    /// Body bytes of the current operation, split off the input without copying.
    Body(Bytes),
    /// The current operation is complete.
    End,
    /// The current changeset is complete.
    ChangesetEnd,
    /// The close delimiter of the batch has been read. Nothing follows.
    Finished,
}

/// A byte range inside a head's raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Heads are bounded by `Limits::max_head_bytes`, which the builder caps below u32::MAX.
        Self {
            start: start as u32,
            end: end as u32,
        }
    }

    fn get(self, raw: &[u8]) -> &[u8] {
        &raw[self.start as usize..self.end as usize]
    }
}

/// One header field: the name as written (any case) and the value with surrounding spaces trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    name: &'a str,
    value: &'a [u8],
}

impl<'a> Header<'a> {
    /// The field name, as written (case preserved).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The field value without leading and trailing spaces or tabs. A value continued with obsolete line
    /// folding keeps its line breaks here; [`value_unfolded`](Self::value_unfolded) replaces each with one
    /// space.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The value with obsolete line folding undone; borrows unless the value was folded.
    pub fn value_unfolded(&self) -> Cow<'a, [u8]> {
        unfold(self.value)
    }
}

pub(crate) fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.contains(&b'\n') {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(nl) = memchr::memchr(b'\n', rest) {
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        out.extend_from_slice(crate::grammar::trim_ows(line));
        out.push(b' ');
        rest = &rest[nl + 1..];
    }
    out.extend_from_slice(crate::grammar::trim_ows(rest));
    Cow::Owned(out)
}

/// Iterator over the header fields of one header block, in order.
#[derive(Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Headers<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Self {
        Self { rest: block }
    }

    /// The first field named `name` (compared ignoring ASCII case).
    pub fn get(self, name: &str) -> Option<&'a [u8]> {
        self.into_iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        // The block was validated by the decoder: every line is `name: value` or a folded continuation.
        let block = self.rest;
        if block.is_empty() {
            return None;
        }
        let mut end = memchr::memchr(b'\n', block).map_or(block.len(), |i| i + 1);
        // Swallow continuation lines.
        while end < block.len() && matches!(block[end], b' ' | b'\t') {
            end = memchr::memchr(b'\n', &block[end..]).map_or(block.len(), |i| end + i + 1);
        }
        self.rest = &block[end..];
        let mut field = &block[..end];
        while let [rest @ .., b'\r' | b'\n'] = field {
            field = rest;
        }
        let colon = memchr::memchr(b':', field)?;
        // Spaces before the colon, where tolerated, are not part of the name.
        let name = std::str::from_utf8(&field[..colon]).ok()?.trim_end_matches([' ', '\t']);
        Some(Header {
            name,
            value: crate::grammar::trim_ows(&field[colon + 1..]),
        })
    }
}

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.clone().map(|h| (h.name, String::from_utf8_lossy(h.value))))
            .finish()
    }
}

/// An embedded request line: `method SP url [SP version]` (the URL is HTTP's request target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLine<'a> {
    /// The method as written, for example `POST`.
    pub method: &'a str,
    /// The URL (request target) as written: a path relative to the service root, an absolute path, an
    /// absolute URL, or a `$n` Content-ID reference.
    pub url: &'a [u8],
    /// `HTTP/1.1`, or `None` when the line has no version.
    pub version: Option<&'a str>,
}

/// An embedded status line: `version SP status SP reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusLine<'a> {
    /// `HTTP/1.1`.
    pub version: &'a str,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase as written; may be empty.
    pub reason: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartLine {
    Request {
        method: Span,
        target: Span,
        version: Option<Span>,
    },
    Response {
        version: Span,
        status: u16,
        reason: Span,
    },
}

fn ascii(raw: &[u8]) -> &str {
    // Only called on spans the decoder validated as ASCII tokens.
    std::str::from_utf8(raw).unwrap_or_default()
}

/// The head of one operation: MIME part headers, the embedded start line and the embedded HTTP headers, all
/// views into one `Bytes` of the raw head.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use odata_batch::{BatchDecoder, Event};
///
/// let mut input = BytesMut::from(
///     "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
///      POST People HTTP/1.1\r\ncontent-type: application/json\r\n\r\n{}\r\n--b--\r\n",
/// );
/// let mut decoder = BatchDecoder::new("b").unwrap();
/// let Some(Event::Head(head)) = decoder.decode(&mut input).unwrap() else { panic!() };
/// let request = head.request().unwrap();
/// assert_eq!((request.method, request.url), ("POST", &b"People"[..]));
/// assert_eq!(head.content_id(), Some(&b"1"[..]));
/// assert_eq!(head.headers().get("Content-Type"), Some(&b"application/json"[..]));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Head {
    pub(crate) raw: Bytes,
    pub(crate) part_headers: Span,
    pub(crate) start_line: StartLine,
    pub(crate) headers: Span,
    pub(crate) content_id: Option<Span>,
}

impl Head {
    /// The raw bytes of the head: MIME part headers, blank line, start line, headers and the final blank line
    /// (absent when the head ran into the next delimiter, which lenient reading allows).
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The MIME part headers (`Content-Type: application/http`, `Content-Transfer-Encoding`, `Content-ID`...).
    pub fn part_headers(&self) -> Headers<'_> {
        Headers::new(self.part_headers.get(&self.raw))
    }

    /// The embedded HTTP headers.
    pub fn headers(&self) -> Headers<'_> {
        Headers::new(self.headers.get(&self.raw))
    }

    /// The `Content-ID` from the MIME part headers, or else from the embedded HTTP headers (where Creatio and
    /// some Olingo clients put it).
    pub fn content_id(&self) -> Option<&[u8]> {
        self.content_id.map(|s| s.get(&self.raw))
    }

    /// The request line, when this is a request.
    pub fn request(&self) -> Option<RequestLine<'_>> {
        match self.start_line {
            StartLine::Request {
                method,
                target,
                version,
            } => Some(RequestLine {
                method: ascii(method.get(&self.raw)),
                url: target.get(&self.raw),
                version: version.map(|v| ascii(v.get(&self.raw))),
            }),
            StartLine::Response { .. } => None,
        }
    }

    /// The status line, when this is a response.
    pub fn response(&self) -> Option<StatusLine<'_>> {
        match self.start_line {
            StartLine::Response {
                version,
                status,
                reason,
            } => Some(StatusLine {
                version: ascii(version.get(&self.raw)),
                status,
                reason: reason.get(&self.raw),
            }),
            StartLine::Request { .. } => None,
        }
    }

    /// Whether this is a request (else a response).
    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request { .. })
    }
}

impl fmt::Debug for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Head");
        match (self.request(), self.response()) {
            (Some(r), _) => d.field("request", &r),
            (_, Some(s)) => d.field("response", &s),
            _ => &mut d,
        };
        d.field("content_id", &self.content_id().map(String::from_utf8_lossy))
            .field("part_headers", &self.part_headers())
            .field("headers", &self.headers())
            .finish()
    }
}

/// The head of a changeset: its MIME part headers and the boundary of its nested `multipart/mixed` body.
#[derive(Clone, PartialEq, Eq)]
pub struct ChangesetHead {
    pub(crate) raw: Bytes,
    pub(crate) part_headers: Span,
    pub(crate) boundary: Span,
    pub(crate) content_id: Option<Span>,
}

impl ChangesetHead {
    /// The raw bytes: MIME part headers and the blank line after them.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The MIME part headers.
    pub fn part_headers(&self) -> Headers<'_> {
        Headers::new(self.part_headers.get(&self.raw))
    }

    /// The changeset's boundary, without quotes.
    pub fn boundary(&self) -> &str {
        ascii(self.boundary.get(&self.raw))
    }

    /// The changeset part's own `Content-ID`, if it has one (rare).
    pub fn content_id(&self) -> Option<&[u8]> {
        self.content_id.map(|s| s.get(&self.raw))
    }
}

impl fmt::Debug for ChangesetHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangesetHead")
            .field("boundary", &self.boundary())
            .field("part_headers", &self.part_headers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_iterate_with_folding() {
        let block = b"A: 1\r\nB:  two \r\n  more\r\nc:\n";
        let got: Vec<_> = Headers::new(block)
            .map(|h| (h.name(), h.value(), h.value_unfolded()))
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].1), ("A", &b"1"[..]));
        assert_eq!((got[1].0, got[1].1), ("B", &b"two \r\n  more"[..]));
        assert_eq!(&*got[1].2, b"two more");
        assert_eq!((got[2].0, got[2].1), ("c", &b""[..]));
        assert_eq!(Headers::new(block).get("b"), Some(&b"two \r\n  more"[..]));
        assert_eq!(Headers::new(block).get("d"), None);
    }
}

/// Whether a batch holds requests or responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Requests, as a client sends them.
    Request,
    /// Responses, as a server returns them.
    Response,
}
