//! [`BatchDecoder`]: the sans-IO streaming decoder.
//!
//! # Design notes for maintainers
//!
//! The decoder holds no input. Each call looks at the caller's buffer, consumes a prefix of it (splitting
//! heads and bodies off as `Bytes`, or discarding preamble and delimiter lines) and returns at most one
//! event. Whatever is left in the buffer is unconsumed input that the next call looks at again; the only
//! bytes ever looked at twice are a held-back tail shorter than one delimiter, or a head that has not been
//! completed yet (whose scan resumes at `HeadScan::pos`, so even a head is not rescanned). A buffer that holds
//! fewer bytes than `HeadScan::pos` when a head is resumed is the caller's misuse, reported as
//! [`DecodeErrorKind::InputRemoved`].
//!
//! Input is one contiguous buffer per call: a `BytesMut` (`decode`), a whole `Bytes` (`decode_complete`), or
//! the `Bytes` chunks of a [`ChunkedInput`] (`decode_chunked`), which the decoder reads in place and only
//! copies around a chunk's end while a head or a delimiter line is cut by it (`chunked.rs`).
//!
//! Across heads the decoder keeps the previous head's MIME part header names and embedded header names
//! (`head::NameTemplate`), its embedded header lines whole (`head::LineMemo`), its status line
//! (`head::StatusMemo`) and its request line (`head::RequestMemo`): an equal name or line is read without
//! scanning it again; the comparison proves the same reading (tests/repeated_heads.rs checks every pair of a
//! set of heads).
//!
//! Delimiters are found with one `memmem` finder per active boundary on `\n--boundary`; a candidate is a
//! delimiter only when what follows is `--` (close), transport padding and a line end. A candidate at the
//! very start of the batch body or of a changeset body (no `\n` before it) is checked by a prefix test.
//! Inside a changeset both the changeset's and the batch's boundary are searched, the batch's only up to the
//! changeset's next candidate, so that a changeset that is never closed is reported where the batch goes on.
//!
//! ```text
//! state              | looks for                              | on success                 | emits
//! -------------------+----------------------------------------+----------------------------+----------------
//! Preamble           | first batch delimiter (discarding)     | Head, or Epilogue (close)  | - / Finished
//! Head               | the part head, in phases (below)       | ChangesetPreamble | Body   | ChangesetStart / Head
//! ChangesetPreamble  | first changeset delimiter (discarding) | Head, or ChangesetEpilogue | - / ChangesetEnd
//! Body               | next delimiter of either boundary      | Head / ChangesetEpilogue / | Body*, End, then
//!                    |                                        | Epilogue                   | ChangesetEnd / Finished
//! ChangesetEpilogue  | next batch delimiter (discarding)      | Head, or Epilogue          | - / Finished
//! Epilogue           | nothing (discards everything)          | -                          | -
//! Failed             | nothing: returns the same error        | -                          | -
//!
//! Head phases (`head.rs`, state kept in `HeadScan` while a head arrives in pieces):
//! PartHeaders        | MIME part header lines, then a blank   | StartLine, or (changeset)  | ChangesetStart
//!                    | line                                   | ChangesetPreamble          |
//! StartLine          | the request or status line             | Headers                    | -
//! Headers            | embedded header lines, then a blank    | Body                       | Head
//!                    | line (or, tolerated, a delimiter)      |                            |
//!
//! Queue: a delimiter found after a body is consumed at once; the events it implies wait in `queue` (at most
//! two: End, then ChangesetEnd or Finished) and are returned first by the next calls, before any input is read.
//! ```
//!
//! Every delimiter line is read by one function, [`Delimiter::classify`] (shared with the encoder): at a body's
//! start, at each `memmem` candidate, on a head's lines and after a head's blank line; [`BatchDecoder::classify`]
//! applies what is tolerated.

use bytes::{Buf, Bytes, BytesMut};

use crate::boundary::ContentTypeError;
use crate::boundary::{self, Boundary, Delimiter, LineClass, LineEnd};
use crate::error::{DecodeError, DecodeErrorKind, Limit};
use crate::event::{Event, MessageKind};
use crate::grammar;
use crate::leniency::Leniency;
use crate::limits::Limits;
use crate::rules::{ContentIdScope, RequestRules};

mod chunked;
mod head;
pub use chunked::ChunkedInput;
use head::HeadScan;

/// How many line feeds of a body [`BatchDecoder::candidates`] visits before it searches with `memmem`.
const LINE_FEED_VISITS: usize = 16;

/// Input the decoder can consume from: `BytesMut` for streaming, `Bytes` for a whole payload.
pub(crate) trait Input {
    fn chunk(&self) -> &[u8];
    fn take(&mut self, n: usize) -> Bytes;
    fn skip(&mut self, n: usize);
}

impl Input for BytesMut {
    fn chunk(&self) -> &[u8] {
        self
    }
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n).freeze()
    }
    fn skip(&mut self, n: usize) {
        self.advance(n);
    }
}

impl Input for Bytes {
    fn chunk(&self) -> &[u8] {
        self
    }
    fn take(&mut self, n: usize) -> Bytes {
        self.split_to(n)
    }
    fn skip(&mut self, n: usize) {
        self.advance(n);
    }
}

/// Builds a [`BatchDecoder`] with non-default [`Limits`], [`Leniency`] or request validation.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchDecoder, Leniency, Limits, MessageKind};
///
/// let decoder = BatchDecoder::builder()
///     .limits(Limits::server())
///     .leniency(Leniency::strict())
///     .message_kind(MessageKind::Request)
///     .build_for_content_type("multipart/mixed; boundary=batch_36522ad7")
///     .unwrap();
/// assert!(decoder.validates_requests());
/// ```
#[derive(Debug, Clone)]
pub struct BatchDecoderBuilder {
    limits: Limits,
    leniency: Leniency,
    validate_requests: bool,
    content_id_scope: ContentIdScope,
    kind: Option<MessageKind>,
}

impl BatchDecoderBuilder {
    /// Sets the limits (default [`Limits::client`]).
    pub fn limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// Sets what is tolerated (default [`Leniency::lenient`]).
    pub fn leniency(&mut self, leniency: Leniency) -> &mut Self {
        self.leniency = leniency;
        self
    }

    /// Turns the OData request rules on or off (default on). They apply only to batches of requests:
    ///
    /// - no `GET` or `HEAD` inside a changeset ([`Rule::MethodNotAllowedInChangeset`](crate::Rule));
    /// - no `Content-ID` used twice within its scope ([`Rule::DuplicateContentId`](crate::Rule), scope from
    ///   [`content_id_scope`](Self::content_id_scope));
    /// - a request target starting with `$id` (after an optional `/`) must name a `Content-ID` defined by an
    ///   earlier operation of the batch ([`Rule::UnknownContentIdReference`](crate::Rule)). The whole id
    ///   counts: `$10` is not `$1` followed by `0`. `$metadata`, `$batch`, `$crossjoin`, `$all`, `$entity`,
    ///   `$root` and `$id` are system resources, not references.
    ///
    /// Each is reported as [`DecodeErrorKind::Rule`] at the offset of the method, target or Content-ID.
    pub fn validate_requests(&mut self, on: bool) -> &mut Self {
        self.validate_requests = on;
        self
    }

    /// Where a Content-ID must be unique (default [`ContentIdScope::Changeset`], OData 4.0's rule).
    ///
    /// ```
    /// use odata_batch::{BatchDecoder, BatchRequest, ContentIdScope, DecodeErrorKind, Rule};
    ///
    /// let part = |id: &str| format!("--b\r\nContent-Type: application/http\r\nContent-ID: {id}\r\n\r\nPOST A HTTP/1.1\r\n\r\n\r\n");
    /// let body = format!("{}{}--b--\r\n", part("1"), part("1"));
    /// // OData 4.0: ids outside changesets are not compared.
    /// assert!(BatchRequest::decode("multipart/mixed; boundary=b", body.clone()).is_ok());
    /// // OData 4.01: unique in the whole batch.
    /// let mut builder = BatchDecoder::builder();
    /// builder.content_id_scope(ContentIdScope::Batch);
    /// let err = BatchRequest::decode_with(&builder, "multipart/mixed; boundary=b", body).unwrap_err();
    /// assert_eq!(err.decode_error().unwrap().kind(), DecodeErrorKind::Rule(Rule::DuplicateContentId));
    /// ```
    pub fn content_id_scope(&mut self, scope: ContentIdScope) -> &mut Self {
        self.content_id_scope = scope;
        self
    }

    /// Requires every part to be a request or every part a response ([`DecodeErrorKind::UnexpectedMessageKind`]
    /// otherwise). By default the first part decides and later parts must agree.
    pub fn message_kind(&mut self, kind: MessageKind) -> &mut Self {
        self.kind = Some(kind);
        self
    }

    /// Builds a decoder for a bare boundary value.
    ///
    /// # Errors
    ///
    /// The boundary is empty, longer than 70 characters, or has characters outside RFC 2046 `bchars`.
    pub fn build(&self, boundary: impl AsRef<str>) -> Result<BatchDecoder, ContentTypeError> {
        Ok(self.build_inner(&Boundary::new(boundary)?))
    }

    /// Builds a decoder for the batch's `Content-Type` header value (`multipart/mixed; boundary=...`).
    ///
    /// # Errors
    ///
    /// See [`Boundary::from_content_type`].
    pub fn build_for_content_type(&self, content_type: impl AsRef<[u8]>) -> Result<BatchDecoder, ContentTypeError> {
        let lenient = self.leniency.unquoted_boundary_specials;
        Ok(self.build_inner(&Boundary::parse_content_type(content_type.as_ref(), lenient)?))
    }

    fn build_inner(&self, boundary: &Boundary) -> BatchDecoder {
        let mut limits = self.limits;
        // Head offsets are stored as u32.
        limits.max_head_bytes = limits.max_head_bytes.min(u32::MAX as usize - 1);
        BatchDecoder {
            outer: Delimiter::new(boundary.as_str().as_bytes()),
            inner: None,
            spare_inner: None,
            limits,
            leniency: self.leniency,
            validate: self.validate_requests,
            fixed_kind: self.kind,
            kind: self.kind,
            state: State::Preamble,
            line_start: true,
            consumed: 0,
            queue: [None, None],
            head: HeadScan::default(),
            operations: 0,
            changeset_operations: 0,
            body_bytes: 0,
            expected_body: None,
            rules: RequestRules::new(self.content_id_scope),
            names: head::NameTemplate::default(),
            part_names: head::NameTemplate::default(),
            lines: head::LineMemo::default(),
            last_status: head::StatusMemo::default(),
            last_request: head::RequestMemo::default(),
        }
    }
}

impl Default for BatchDecoderBuilder {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            leniency: Leniency::default(),
            validate_requests: true,
            content_id_scope: ContentIdScope::default(),
            kind: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Preamble,
    Head,
    ChangesetPreamble,
    Body,
    ChangesetEpilogue,
    Epilogue,
    Failed(DecodeError),
}

/// Events that follow a delimiter without consuming input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queued {
    End,
    ChangesetEnd,
    Finished,
}

impl From<Queued> for Event {
    fn from(q: Queued) -> Self {
        match q {
            Queued::End => Self::End,
            Queued::ChangesetEnd => Self::ChangesetEnd,
            Queued::Finished => Self::Finished,
        }
    }
}

/// A delimiter line that was found and checked.
#[derive(Debug, Clone, Copy)]
struct Found {
    /// Where the line break before the delimiter starts: the end of the preceding content.
    at: usize,
    /// Just after the delimiter line's line break.
    line_end: usize,
    close: bool,
    /// The batch's boundary (else the changeset's).
    outer: bool,
}

enum Search {
    Found(Found),
    /// No delimiter yet; everything before `safe` can never become part of one.
    NeedMore {
        safe: usize,
    },
}

enum Verify {
    Delimiter {
        close: bool,
        line_end: usize,
    },
    /// `--boundary` followed by something else: `close` when by `--`, `after` just after the boundary.
    NotDelimiter {
        close: bool,
        after: usize,
    },
    Incomplete,
}

/// The streaming decoder: bytes in, [`Event`]s out. Sans-IO: it never reads a socket, never blocks and keeps
/// no input of its own; it gives the same events whether the input arrives at once or a byte at a time.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use odata_batch::{BatchDecoder, Event};
///
/// let mut decoder = BatchDecoder::from_content_type("multipart/mixed; boundary=batchresponse_1").unwrap();
/// let mut buf = BytesMut::new();
/// let mut statuses = Vec::new();
/// let wire: &[&[u8]] = &[
///     b"--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n",
///     b"HTTP/1.1 204 No Content\r\nOData-EntityId: https://x/api/data/v9.2/accounts(1)\r\n\r\n\r\n",
///     b"--batchresponse_1--\r\n",
/// ];
/// for chunk in wire {
///     buf.extend_from_slice(chunk);
///     while let Some(event) = decoder.decode(&mut buf).unwrap() {
///         if let Event::Head(head) = event {
///             statuses.push(head.response().unwrap().status);
///         }
///     }
/// }
/// assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None); // Finished was returned by `decode`
/// assert_eq!(statuses, [204]);
/// ```
#[derive(Debug)]
pub struct BatchDecoder {
    outer: Delimiter,
    inner: Option<Delimiter>,
    /// The last changeset's finder, kept for reuse when the next changeset has the same boundary.
    spare_inner: Option<Delimiter>,
    limits: Limits,
    leniency: Leniency,
    validate: bool,
    fixed_kind: Option<MessageKind>,
    kind: Option<MessageKind>,
    state: State,
    /// The buffer front is at the start of a line at the start of a (batch or changeset) body.
    line_start: bool,
    consumed: u64,
    queue: [Option<Queued>; 2],
    head: HeadScan,
    operations: usize,
    changeset_operations: usize,
    body_bytes: u64,
    /// The body length the current operation's `Content-Length` announced, when strict reading checks it, and
    /// whether the operation is a response.
    expected_body: Option<(u64, bool)>,
    rules: RequestRules,
    /// The previous head's embedded header names.
    names: head::NameTemplate,
    /// The previous part's MIME part header names (after the canonical two, when it had them).
    part_names: head::NameTemplate,
    /// The previous head's embedded header lines, whole.
    lines: head::LineMemo,
    /// The previous head's status line.
    last_status: head::StatusMemo,
    /// The previous head's request line and its reading.
    last_request: head::RequestMemo,
}

impl std::fmt::Debug for Delimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delimiter({:?})", String::from_utf8_lossy(self.boundary()))
    }
}

impl BatchDecoder {
    /// A decoder with default limits, lenient reading and request validation, for a bare boundary.
    ///
    /// # Errors
    ///
    /// The boundary is not valid per RFC 2046.
    pub fn new(boundary: impl AsRef<str>) -> Result<Self, ContentTypeError> {
        Self::builder().build(boundary)
    }

    /// A decoder with defaults, for a `Content-Type` header value such as
    /// `multipart/mixed; boundary=batch_36522ad7`.
    ///
    /// # Errors
    ///
    /// See [`Boundary::from_content_type`].
    pub fn from_content_type(content_type: impl AsRef<[u8]>) -> Result<Self, ContentTypeError> {
        Self::builder().build_for_content_type(content_type)
    }

    /// A builder for non-default settings.
    pub fn builder() -> BatchDecoderBuilder {
        BatchDecoderBuilder::default()
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The tolerances in force.
    pub fn leniency(&self) -> &Leniency {
        &self.leniency
    }

    /// Whether the OData request rules are checked (see [`BatchDecoderBuilder::validate_requests`]).
    pub fn validates_requests(&self) -> bool {
        self.validate
    }

    /// Requests or responses, once the first part has been read (or when fixed by the builder).
    pub fn message_kind(&self) -> Option<MessageKind> {
        self.kind
    }

    /// Total bytes consumed from the input so far: the offset of the buffer front in the stream.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Whether the close delimiter of the batch has been read.
    pub fn is_finished(&self) -> bool {
        self.state == State::Epilogue
    }

    /// Decodes the next event from `buf`, consuming what it decoded.
    ///
    /// `Ok(None)` means more input is needed: append to `buf` and call again. Calling with an empty or
    /// unchanged buffer is harmless. Body bytes are returned as soon as they cannot be the start of a
    /// delimiter, so `buf` never holds more than one head plus one delimiter line of undecoded input.
    ///
    /// # Errors
    ///
    /// Malformed input, a violated request rule or an exceeded limit, with the byte offset in the stream.
    /// After an error the decoder stays failed: every later call returns the same error.
    ///
    /// # End of input
    ///
    /// `decode` never decides that the input has ended. When the source is exhausted, call
    /// [`decode_eof`](Self::decode_eof), which reports a batch that stops before its close delimiter as
    /// [`DecodeErrorKind::Truncated`].
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, DecodeError> {
        self.step(buf, false)
    }

    /// Like [`decode`](Self::decode), for when no more input will come: what is in `buf` is the rest of the
    /// payload. Returns the remaining events one call at a time, then `Ok(None)` once
    /// [`Event::Finished`] has been returned.
    ///
    /// # Errors
    ///
    /// As for `decode`, and [`DecodeErrorKind::Truncated`] (or [`DecodeErrorKind::BoundaryNotFound`] /
    /// [`DecodeErrorKind::EmptyPayload`]) when the batch is not closed: a cut-off payload never looks complete.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, DecodeError> {
        self.step(buf, true)
    }

    /// Decodes the next event from a whole payload held in `Bytes` (what remains of it). Same as
    /// [`decode_eof`](Self::decode_eof), without converting to `BytesMut`; heads and bodies are split off
    /// `input` without copying.
    ///
    /// # Errors
    ///
    /// As for `decode_eof`.
    pub fn decode_complete(&mut self, input: &mut Bytes) -> Result<Option<Event>, DecodeError> {
        self.step(input, true)
    }

    /// Decodes the next event from input that arrives as [`Bytes`] chunks ([`ChunkedInput::push`]): like
    /// [`decode`](Self::decode), but heads and bodies are slices of the chunks, not of a buffer the caller copied
    /// them into. See [`ChunkedInput`] for an example.
    ///
    /// # Errors
    ///
    /// As for `decode`.
    pub fn decode_chunked(&mut self, input: &mut ChunkedInput) -> Result<Option<Event>, DecodeError> {
        self.step_chunked(input, false)
    }

    /// Like [`decode_chunked`](Self::decode_chunked), for when no more chunks will come (as
    /// [`decode_eof`](Self::decode_eof) is to `decode`).
    ///
    /// # Errors
    ///
    /// As for `decode_eof`.
    pub fn decode_chunked_eof(&mut self, input: &mut ChunkedInput) -> Result<Option<Event>, DecodeError> {
        self.step_chunked(input, true)
    }

    /// Reads the chunk itself while nothing is carried; otherwise the carry, copying more of the chunk into it
    /// while the decoder needs more and has not yet read past what came from earlier chunks.
    fn step_chunked(&mut self, input: &mut ChunkedInput, eof: bool) -> Result<Option<Event>, DecodeError> {
        loop {
            if input.carry.is_empty() {
                return self.step(&mut input.chunk, eof);
            }
            let last = eof && input.carry_is_all();
            let result = self.step(&mut input.carry, last);
            let moved = input.settle();
            match result {
                Ok(None) if !last && (moved || input.grow()) => continue,
                result => return result,
            }
        }
    }

    fn step<I: Input>(&mut self, input: &mut I, eof: bool) -> Result<Option<Event>, DecodeError> {
        if let State::Failed(err) = &self.state {
            return Err(err.clone());
        }
        // Matched, not held: the event moves straight through to the caller.
        match self.run(input, eof) {
            Ok(Some(event)) => Ok(Some(event)),
            // At the end of input, "need more" can only mean the batch is cut off; only a finished batch ends.
            Ok(None) if eof && self.state != State::Epilogue => {
                let err = self.err(DecodeErrorKind::Truncated, input.chunk().len());
                self.state = State::Failed(err.clone());
                Err(err)
            }
            Ok(None) => Ok(None),
            Err(err) => {
                self.state = State::Failed(err.clone());
                Err(err)
            }
        }
    }

    fn err(&self, kind: DecodeErrorKind, at: usize) -> DecodeError {
        DecodeError::new(kind, self.consumed + at as u64)
    }

    fn limit(&self, limit: Limit, max: u64, at: usize) -> DecodeError {
        self.err(DecodeErrorKind::LimitExceeded { limit, max }, at)
    }

    fn take<I: Input>(&mut self, input: &mut I, n: usize) -> Bytes {
        self.consumed += n as u64;
        self.line_start = false;
        input.take(n)
    }

    fn skip<I: Input>(&mut self, input: &mut I, n: usize) {
        if n > 0 {
            self.consumed += n as u64;
            self.line_start = false;
            input.skip(n);
        }
    }

    fn run<I: Input>(&mut self, input: &mut I, eof: bool) -> Result<Option<Event>, DecodeError> {
        loop {
            if let Some(q) = self.queue[0].take() {
                self.queue = [self.queue[1].take(), None];
                return Ok(Some(q.into()));
            }
            match self.state {
                State::Failed(ref err) => return Err(err.clone()),
                State::Epilogue => {
                    let rest = input.chunk();
                    if !self.leniency.preamble_epilogue {
                        if let Some(i) = rest.iter().position(|&b| !matches!(b, b'\r' | b'\n')) {
                            return Err(self.err(DecodeErrorKind::UnexpectedEpilogue, i));
                        }
                    }
                    let n = rest.len();
                    self.skip(input, n);
                    return Ok(None);
                }
                State::Preamble | State::ChangesetPreamble | State::ChangesetEpilogue => {
                    let inner = self.state == State::ChangesetPreamble;
                    let kind = match self.state {
                        State::ChangesetEpilogue => DecodeErrorKind::UnexpectedEpilogue,
                        _ => DecodeErrorKind::UnexpectedPreamble,
                    };
                    let search = match self.search(input.chunk(), inner, eof) {
                        Ok(search) => search,
                        Err((err, at)) => {
                            // Report problems in stream order: text before a malformed delimiter comes first.
                            self.check_ignored_text(&input.chunk()[..at], kind)?;
                            return Err(err);
                        }
                    };
                    let (skip_to, found) = match search {
                        Search::Found(found) => (found.at, Some(found)),
                        Search::NeedMore { safe } => (safe, None),
                    };
                    self.check_ignored_text(&input.chunk()[..skip_to], kind)?;
                    let Some(found) = found else {
                        self.skip(input, skip_to);
                        if eof {
                            return Err(self.at_eof_error(input.chunk().len()));
                        }
                        return Ok(None);
                    };
                    if inner && found.outer {
                        return Err(self.err(DecodeErrorKind::UnclosedChangeset, found.at));
                    }
                    self.skip(input, found.line_end);
                    self.after_delimiter(found, false);
                }
                State::Head => {
                    if let Some(event) = self.scan_head(input, eof)? {
                        return Ok(Some(event));
                    }
                    return Ok(None);
                }
                State::Body => {
                    let in_changeset = self.inner.is_some();
                    let search = self.search(input.chunk(), in_changeset, eof).map_err(|(e, _)| e)?;
                    let (body_len, found) = match search {
                        Search::Found(found) => (found.at, Some(found)),
                        Search::NeedMore { safe } => (safe, None),
                    };
                    let body = if body_len > 0 {
                        let total = self.body_bytes + body_len as u64;
                        if let Some(max) = self.limits.max_body_bytes {
                            if total > max {
                                return Err(self.limit(Limit::BodyBytes, max, (max - self.body_bytes) as usize));
                            }
                        }
                        // (Checked before the delimiter below: errors come in stream order.)
                        self.body_bytes = total;
                        Some(Event::Body(self.take(input, body_len)))
                    } else {
                        None
                    };
                    match found {
                        Some(found) if in_changeset && found.outer => {
                            return Err(self.err(DecodeErrorKind::UnclosedChangeset, found.at - body_len));
                        }
                        Some(found) if self.length_mismatch() => {
                            return Err(self.err(DecodeErrorKind::ContentLengthMismatch, found.at - body_len));
                        }
                        // The delimiter is consumed at once, its events queued behind the body: no second search.
                        Some(found) => {
                            self.skip(input, found.line_end - found.at);
                            self.after_delimiter(found, true);
                        }
                        None if body.is_none() && eof => {
                            return Err(self.err(DecodeErrorKind::Truncated, input.chunk().len()));
                        }
                        None if body.is_none() => return Ok(None),
                        None => {}
                    }
                    if body.is_some() {
                        return Ok(body);
                    }
                }
            }
        }
    }

    /// Whether the body just completed disagrees with the embedded `Content-Length` that strict reading holds it
    /// to (a response without a body may announce any length: the answer to `HEAD`).
    fn length_mismatch(&self) -> bool {
        self.expected_body
            .is_some_and(|(n, response)| !grammar::length_agrees(n, self.body_bytes, response))
    }

    /// The error for input that ends in a discarding state.
    fn at_eof_error(&self, remaining: usize) -> DecodeError {
        match self.state {
            State::Preamble if self.consumed == 0 && remaining == 0 => self.err(DecodeErrorKind::EmptyPayload, 0),
            State::Preamble => self.err(DecodeErrorKind::BoundaryNotFound, remaining),
            _ => self.err(DecodeErrorKind::Truncated, remaining),
        }
    }

    /// Preamble and epilogue text: discarded when tolerated, else only line breaks may stand there.
    fn check_ignored_text(&self, text: &[u8], kind: DecodeErrorKind) -> Result<(), DecodeError> {
        if self.leniency.preamble_epilogue {
            return Ok(());
        }
        match text.iter().position(|&b| !matches!(b, b'\r' | b'\n')) {
            Some(i) => Err(self.err(kind, i)),
            None => Ok(()),
        }
    }

    /// Moves on after a delimiter line has been consumed.
    fn after_delimiter(&mut self, found: Found, ends_operation: bool) {
        let mut queue = [None, None];
        let mut n = 0;
        if ends_operation {
            queue[0] = Some(Queued::End);
            n = 1;
        }
        self.state = match (found.outer, found.close) {
            (false, false) | (true, false) => State::Head,
            (false, true) => {
                queue[n] = Some(Queued::ChangesetEnd);
                self.spare_inner = self.inner.take();
                self.rules.end_changeset();
                State::ChangesetEpilogue
            }
            (true, true) => {
                queue[n] = Some(Queued::Finished);
                State::Epilogue
            }
        };
        if self.state == State::Head {
            self.head = HeadScan::default();
        }
        self.queue = queue;
        // Just after a delimiter line: the next delimiter needs no line break of its own before it (a
        // changeset's close delimiter directly followed by the batch's next delimiter).
        self.line_start = true;
    }

    /// Finds the next delimiter in `buf`: the changeset's (when `inner`) or the batch's. An error comes with
    /// where the malformed delimiter starts, so that callers can report text before it first.
    fn search(&self, buf: &[u8], inner: bool, eof: bool) -> Result<Search, (DecodeError, usize)> {
        let inner_delim = if inner { self.inner.as_ref() } else { None };
        // The batch's delimiter is always searched: in a changeset too, to catch one that is never closed.
        let outer_delim = Some(&self.outer);
        // A delimiter at the very start of a body has no line break before it.
        if self.line_start {
            let mut lookalike = None;
            for (delim, outer) in [(inner_delim, false), (outer_delim, true)] {
                let Some(delim) = delim else { continue };
                match self.classify(delim, buf, 0, eof).map_err(|e| (e, 0))? {
                    None => {}
                    Some(Verify::Delimiter { close, line_end }) => {
                        return Ok(Search::Found(Found {
                            at: 0,
                            line_end,
                            close,
                            outer,
                        }));
                    }
                    // Even at the end of input: a cut-off delimiter is truncation, not text.
                    Some(Verify::Incomplete) => return Ok(Search::NeedMore { safe: 0 }),
                    Some(Verify::NotDelimiter { close, after }) => {
                        lookalike.get_or_insert((close, after));
                    }
                }
            }
            if let Some((close, after)) = lookalike {
                self.not_delimiter(close, 0, after).map_err(|e| (e, 0))?;
            }
        }
        let mut pos = 0;
        loop {
            let (ci, co) = self.candidates(buf, pos, inner_delim);
            // The earliest candidate; at the same position the changeset's is tried first.
            let candidates = match (ci, co) {
                (None, None) => {
                    return Ok(Search::NeedMore {
                        safe: self.holdback(buf, inner_delim),
                    })
                }
                (Some(i), None) => [Some((i, inner_delim, false)), None],
                (None, Some(o)) => [Some((o, outer_delim, true)), None],
                (Some(i), Some(o)) if i < o => [Some((i, inner_delim, false)), None],
                (Some(i), Some(o)) if o < i => [Some((o, outer_delim, true)), None],
                (Some(i), Some(_)) => [Some((i, inner_delim, false)), Some((i, outer_delim, true))],
            };
            let last = usize::from(candidates[1].is_some());
            for (i, (p, delim, outer)) in candidates.into_iter().flatten().enumerate() {
                let Some(delim) = delim else { continue };
                let at = if p > 0 && buf[p - 1] == b'\r' { p - 1 } else { p };
                // The finder matched `\n--boundary`: the line after the `\n` starts with `--boundary`.
                let dash_len = delim.dash_boundary().len();
                match self
                    .classify_delimiter(dash_len, buf, p + 1, eof)
                    .map_err(|e| (e, at))?
                {
                    Verify::Delimiter { close, line_end } => {
                        if at == p && !self.leniency.bare_lf {
                            return Err((self.err(DecodeErrorKind::BareLineFeed, p), at));
                        }
                        return Ok(Search::Found(Found {
                            at,
                            line_end,
                            close,
                            outer,
                        }));
                    }
                    Verify::Incomplete => return Ok(Search::NeedMore { safe: at }),
                    // A look-alike of one boundary may be the other's delimiter at the same place.
                    Verify::NotDelimiter { close, after } if i == last => {
                        self.not_delimiter(close, p + 1, after).map_err(|e| (e, at))?;
                    }
                    Verify::NotDelimiter { .. } => {}
                }
            }
            pos = ci.into_iter().chain(co).min().map_or(buf.len(), |p| p + 1);
        }
    }

    /// The next place at or after `pos` where `\n--boundary` stands, of the changeset (`inner`, when in one) and
    /// of the batch: the changeset's first one, and the batch's first one up to it (the same place included).
    ///
    /// Most bodies are compact JSON with few line feeds or none, and a delimiter starts at a line feed: visiting
    /// the first [`LINE_FEED_VISITS`] line feeds finds the next delimiter of either boundary in one pass. Past
    /// them, a body with many lines is searched with the `memmem` finders.
    #[inline]
    fn candidates(&self, buf: &[u8], pos: usize, inner: Option<&Delimiter>) -> (Option<usize>, Option<usize>) {
        let outer = &self.outer;
        let mut from = pos;
        for _ in 0..LINE_FEED_VISITS {
            // An empty body (a 204, a GET) starts with its delimiter's line break: no search.
            let q = match buf.get(from..from + 2) {
                Some([b'\n', _]) => from,
                Some(b"\r\n") => from + 1,
                _ => match memchr::memchr(b'\n', &buf[from..]) {
                    Some(i) => from + i,
                    None => return (None, None),
                },
            };
            let rest = &buf[q..];
            let ci = inner
                .filter(|d| boundary::starts_with_long(rest, d.needle()))
                .map(|_| q);
            let co = boundary::starts_with_long(rest, outer.needle()).then_some(q);
            if ci.is_some() || co.is_some() {
                return (ci, co);
            }
            from = q + 1;
        }
        let ci = inner.and_then(|d| d.find(&buf[from..]).map(|i| from + i));
        let co = {
            let end = ci.map_or(buf.len(), |c| (c + outer.needle().len()).min(buf.len()));
            outer.find(&buf[from..end]).map(|i| from + i)
        };
        (ci, co)
    }

    /// Where the tail of `buf` that could still begin a delimiter starts. At the end of input the caller
    /// reports that tail as truncation rather than taking it as text.
    fn holdback(&self, buf: &[u8], inner: Option<&Delimiter>) -> usize {
        let longest = self.outer.needle().len().max(inner.map_or(0, |d| d.needle().len()));
        let window = buf.len().saturating_sub(longest);
        if let Some(q) = memchr::memrchr(b'\n', &buf[window..]).map(|q| q + window) {
            let tail = &buf[q..];
            let could_start =
                self.outer.needle().starts_with(tail) || inner.is_some_and(|d| d.needle().starts_with(tail));
            if could_start {
                return if q > 0 && buf[q - 1] == b'\r' { q - 1 } else { q };
            }
        }
        if buf.last() == Some(&b'\r') {
            buf.len() - 1
        } else {
            buf.len()
        }
    }

    /// What the line at `start` of `buf` is for `delim` ([`Delimiter::classify`]), with what is tolerated
    /// applied: `None` when it does not start with `--boundary` (and cannot still). A line that is not a
    /// delimiter of this boundary may be one of the other active boundary (when they overlap), so callers refuse
    /// look-alikes ([`not_delimiter`](Self::not_delimiter)) only after trying all.
    #[inline]
    fn classify(&self, delim: &Delimiter, buf: &[u8], start: usize, eof: bool) -> Result<Option<Verify>, DecodeError> {
        let dash = delim.dash_boundary();
        // The prefix half of `boundary::classify_line`, spelled out: going through it here cost ~100
        // instructions per operation (callgrind, `profile_decode`), the rest of the reading is shared.
        if !buf[start..].starts_with(dash) {
            let incomplete = buf.len() - start < dash.len() && dash.starts_with(&buf[start..]);
            return Ok(incomplete.then_some(Verify::Incomplete));
        }
        self.classify_delimiter(dash.len(), buf, start, eof).map(Some)
    }

    /// [`classify`](Self::classify) for a line at `start` known to begin with `--boundary` (`dash_len` bytes).
    #[inline]
    fn classify_delimiter(&self, dash_len: usize, buf: &[u8], start: usize, eof: bool) -> Result<Verify, DecodeError> {
        let end = if eof { LineEnd::Eof } else { LineEnd::Open };
        let max = self.limits.max_head_bytes;
        let s = start + dash_len;
        // A delimiter line cut off by the end of input stays `Incomplete`: callers at the end of input report it
        // as truncation, never as text.
        Ok(match boundary::classify_after_boundary(dash_len, &buf[s..], end, max) {
            LineClass::Incomplete => Verify::Incomplete,
            LineClass::PaddingTooLong => return Err(self.limit(Limit::HeadBytes, max as u64, s)),
            LineClass::LookAlike { close } => Verify::NotDelimiter { close, after: s },
            LineClass::Delimiter { unterminated: true, .. } if !self.leniency.close_without_line_end => {
                Verify::Incomplete
            }
            LineClass::Delimiter {
                bare_lf: true,
                line_end,
                ..
            } if !self.leniency.bare_lf => return Err(self.err(DecodeErrorKind::BareLineFeed, start + line_end - 1)),
            LineClass::Delimiter {
                padding_at: Some(at), ..
            } if !self.leniency.transport_padding => {
                return Err(self.err(DecodeErrorKind::InvalidDelimiterLine, start + at))
            }
            LineClass::Delimiter { close, line_end, .. } => Verify::Delimiter {
                close,
                line_end: start + line_end,
            },
        })
    }

    /// A line that starts with `--boundary` (at `dash`) but is no delimiter line of any active boundary (`s` is
    /// just after the boundary): text when tolerated, else the error for its kind.
    fn not_delimiter(&self, close: bool, dash: usize, s: usize) -> Result<(), DecodeError> {
        if close {
            if !self.leniency.close_delimiter_trailer {
                return Err(self.err(DecodeErrorKind::InvalidCloseDelimiter, s + 2));
            }
        } else if !self.leniency.delimiter_lookalikes {
            return Err(self.err(DecodeErrorKind::DelimiterLookalike, dash));
        }
        Ok(())
    }

    /// Whether a complete line (without its line break, at `pos`) is a delimiter line of an active boundary.
    /// A line that starts with `--boundary` but is not one is an error under strict reading.
    fn is_delimiter_line(&self, line: &[u8], pos: usize) -> Result<bool, DecodeError> {
        let mut lookalike = None;
        for d in [Some(&self.outer), self.inner.as_ref()].into_iter().flatten() {
            match d.classify(line, LineEnd::Stripped, usize::MAX) {
                Some(LineClass::Delimiter { .. }) => return Ok(true),
                Some(LineClass::LookAlike { close }) => {
                    lookalike.get_or_insert((close, pos + d.dash_boundary().len()));
                }
                _ => {}
            }
        }
        if let Some((close, after)) = lookalike {
            self.not_delimiter(close, pos, after)?;
        }
        Ok(false)
    }
}
