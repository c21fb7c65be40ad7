//! [`BatchEncoder`]: writes batches operation by operation, always in one canonical byte layout.
//!
//! ```text
//! --batch_1\r\n                                     first delimiter: no line break before it
//! Content-Type: application/http\r\n
//! Content-Transfer-Encoding: binary\r\n
//! Content-ID: 1\r\n                                 when the operation has one
//! \r\n
//! POST People HTTP/1.1\r\n
//! content-type: application/json\r\n                embedded header names as `http` keeps them: lower case
//! \r\n
//! {"Name":"A"}                                      the body, exactly
//! \r\n--batch_1--\r\n                               every later delimiter starts with CRLF
//! ```
//!
//! Always CRLF, never transport padding, never a preamble or epilogue. Every rule is checked before the first
//! byte of an operation is written, so a refused operation leaves the output as it was.

use std::fmt;

use bytes::BufMut;
use http::{HeaderMap, Method, StatusCode};

use crate::boundary::{classify_line, Boundary, LineEnd, CANONICAL_PART_HEADERS};
use crate::event::MessageKind;
use crate::rules::{ContentIdScope, RequestRules};

/// One request for [`BatchEncoder::request`]: borrowed pieces, nothing copied.
///
/// A [`RequestItem`](crate::RequestItem) converts with `RequestPart::try_from(&item)`, which refuses what a
/// single multipart part cannot carry (a JSON `if` condition or `dependsOn`; the whole-batch
/// [`encode_with`](crate::BatchRequest::encode_with) checks `dependsOn` against the batch instead).
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use http::{HeaderMap, Method};
/// use odata_batch::{BatchEncoder, Boundary, RequestPart};
///
/// let headers = HeaderMap::new();
/// let part = RequestPart { method: &Method::DELETE, url: "People(1)", content_id: None, headers: &headers, body: b"" };
/// let mut encoder = BatchEncoder::new(Boundary::new("b")?);
/// let mut out = BytesMut::new();
/// encoder.request(&mut out, part)?;
/// encoder.finish(&mut out)?;
/// assert!(out.ends_with(b"DELETE People(1) HTTP/1.1\r\n\r\n\r\n--b--\r\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestPart<'a> {
    /// The method.
    pub method: &'a Method,
    /// The request target, as written on the request line.
    pub url: &'a str,
    /// The part's `Content-ID`.
    pub content_id: Option<&'a str>,
    /// The embedded headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

/// One response for [`BatchEncoder::response`]: borrowed pieces, nothing copied. A
/// [`ResponseItem`](crate::ResponseItem) converts with `ResponsePart::from(&item)`.
#[derive(Debug, Clone, Copy)]
pub struct ResponsePart<'a> {
    /// The status.
    pub status: StatusCode,
    /// The reason phrase; empty writes the status's canonical reason.
    pub reason: &'a str,
    /// The part's `Content-ID`.
    pub content_id: Option<&'a str>,
    /// The embedded headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

/// Which rule an operation broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// An OData request rule is broken: `GET` in a changeset, a duplicate Content-ID, a reference to an id not
    /// defined earlier, changeset members apart, or a JSON-only `dependsOn` or `if` that multipart cannot
    /// carry.
    Rule(crate::Rule),
    /// The URL is empty or has a space, CR, LF, NUL or other control character (which could smuggle an
    /// extra operation into the batch).
    InvalidUrl,
    /// The Content-ID is empty or has a character outside visible ASCII.
    InvalidContentId,
    /// The reason phrase has a CR, LF or other control character, or white space at either end (which a
    /// reader trims).
    InvalidReason,
    /// A header name is not an HTTP token, or a header value has a CR, LF, NUL or other control character, or
    /// white space at either end (which a reader trims).
    InvalidHeader,
    /// A body given to the builder's `json` whose `Serialize` implementation failed.
    InvalidJsonBody,
    /// More operations than the configured maximum, or than the reader's
    /// [`Limits::max_operations`](crate::Limits::max_operations).
    TooManyOperations {
        /// The maximum.
        max: usize,
    },
    /// More operations in one changeset than the reader's
    /// [`Limits::max_changeset_operations`](crate::Limits::max_changeset_operations).
    TooManyChangesetOperations {
        /// The limit.
        max: usize,
    },
    /// A `Content-Length` header that differs from the body's length (a response without a body may announce
    /// any length, as the answer to `HEAD` does), or two that differ.
    ContentLengthMismatch,
    /// A `Transfer-Encoding` header: parts are framed by delimiters, a reader honouring it would cut the body
    /// elsewhere.
    TransferEncodingInPart,
    /// A `Content-ID` header among the embedded headers that differs from the operation's Content-ID.
    ContentIdMismatch,
    /// A body has a line that starts with `--boundary` of the batch or the open changeset: a delimiter, or a
    /// line that a reader matching boundaries by prefix would split at.
    BodyContainsDelimiter,
    /// More embedded headers than the reader's [`Limits::max_headers`](crate::Limits::max_headers).
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// A part head larger than the reader's [`Limits::max_head_bytes`](crate::Limits::max_head_bytes).
    HeadTooLarge {
        /// The limit.
        max: usize,
    },
    /// A changeset boundary equal to, or a prefix of, the batch boundary or the other way round.
    BoundaryConflict,
    /// A changeset inside a changeset.
    NestedChangeset,
    /// `end_changeset` without an open changeset.
    NoOpenChangeset,
    /// A changeset without operations (RFC 2046 requires at least one part).
    EmptyChangeset,
    /// Requests and responses in one batch.
    MixedRequestResponse,
    /// `finish` with a changeset still open.
    UnclosedChangeset,
    /// A write after `finish`.
    Finished,
    /// No generated boundary avoided the bodies (practically impossible: boundaries are 128 random bits).
    NoUsableBoundary,
}

impl fmt::Display for EncodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Rule(rule) => return rule.fmt(f),
            Self::InvalidUrl => "URL is empty or has a space or control character",
            Self::InvalidContentId => "Content-ID is empty or has a character outside visible ASCII",
            Self::InvalidReason => "reason phrase has a control character or white space at an end",
            Self::InvalidHeader => "header name is not a token, or its value has a control character",
            Self::InvalidJsonBody => "the body's value could not be serialised as JSON",
            Self::TooManyOperations { max } => return write!(f, "more than {max} operations"),
            Self::BodyContainsDelimiter => "body has a line starting with the batch or changeset delimiter",
            Self::TooManyChangesetOperations { max } => {
                return write!(f, "more than {max} operations in one changeset (the reader's limit)")
            }
            Self::ContentLengthMismatch => "Content-Length differs from the body length",
            Self::TransferEncodingInPart => "Transfer-Encoding header in a batch part",
            Self::ContentIdMismatch => "Content-ID header differs from the operation's Content-ID",
            Self::TooManyHeaders { max } => return write!(f, "more than {max} headers (the reader's limit)"),
            Self::HeadTooLarge { max } => return write!(f, "head larger than {max} bytes (the reader's limit)"),
            Self::BoundaryConflict => "changeset boundary equals or prefixes the batch boundary",
            Self::NestedChangeset => "changeset inside a changeset",
            Self::NoOpenChangeset => "no changeset is open",
            Self::EmptyChangeset => "changeset without operations",
            Self::MixedRequestResponse => "requests and responses in one batch",
            Self::UnclosedChangeset => "a changeset is still open",
            Self::Finished => "the batch is already finished",
            Self::NoUsableBoundary => "no generated boundary avoids the bodies",
        };
        f.write_str(text)
    }
}

/// A refused write: the rule, and the index (0-based, in batch order) of the operation that broke it.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchRequest, EncodeErrorKind, Rule};
///
/// let mut batch = BatchRequest::builder();
/// batch.changeset().get("People");
/// let batch = batch.build().unwrap();
/// let err = batch.encode().unwrap_err();
/// assert_eq!((err.kind(), err.operation()), (EncodeErrorKind::Rule(Rule::MethodNotAllowedInChangeset), Some(0)));
/// assert_eq!(err.to_string(), "operation 0: GET or HEAD inside a changeset");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    kind: EncodeErrorKind,
    operation: Option<usize>,
}

impl EncodeError {
    pub(crate) fn new(kind: EncodeErrorKind, operation: Option<usize>) -> Self {
        Self { kind, operation }
    }

    /// The rule.
    pub fn kind(&self) -> EncodeErrorKind {
        self.kind
    }

    /// The operation's index in batch order, when the error concerns one.
    pub fn operation(&self) -> Option<usize> {
        self.operation
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            Some(i) => write!(f, "operation {i}: {}", self.kind),
            None => self.kind.fmt(f),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<crate::Rule> for EncodeError {
    fn from(rule: crate::Rule) -> Self {
        Self::new(EncodeErrorKind::Rule(rule), None)
    }
}

/// Lets [`BatchEncoder::request`] take a [`RequestPart`] itself (whose conversion cannot fail).
impl From<std::convert::Infallible> for EncodeError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// One boundary's delimiter text, for writing and for checking bodies.
struct Delim {
    /// `--boundary`
    dash: Box<[u8]>,
    /// `\r\n--boundary\r\n`, the MIME part headers of an operation and `Content-ID: `: the start of every part
    /// in one write (without its last 12 bytes when the operation has no Content-ID).
    part_prefix: Box<[u8]>,
}

const CONTENT_ID: &[u8] = b"Content-ID: ";

impl Delim {
    fn new(boundary: &Boundary) -> Self {
        let dash = [b"--", boundary.as_str().as_bytes()].concat();
        let mut part_prefix = Vec::with_capacity(dash.len() + 4 + CANONICAL_PART_HEADERS.len() + CONTENT_ID.len());
        part_prefix.extend_from_slice(b"\r\n");
        part_prefix.extend_from_slice(&dash);
        part_prefix.extend_from_slice(b"\r\n");
        part_prefix.extend_from_slice(CANONICAL_PART_HEADERS);
        part_prefix.extend_from_slice(CONTENT_ID);
        Self {
            dash: dash.into_boxed_slice(),
            part_prefix: part_prefix.into_boxed_slice(),
        }
    }

    fn dash_boundary(&self) -> &[u8] {
        &self.dash
    }

    /// The delimiter line and part headers of an operation, up to and with `Content-ID: ` when `with_id`;
    /// without the leading CRLF for the first part.
    #[inline]
    fn part_prefix(&self, first: bool, with_id: bool) -> &[u8] {
        let start = if first { 2 } else { 0 };
        let end = self.part_prefix.len() - if with_id { 0 } else { CONTENT_ID.len() };
        &self.part_prefix[start..end]
    }

    /// The length of the delimiter line `part_prefix` starts with (the reader's head limit counts from after
    /// it).
    #[inline]
    fn delimiter_line_len(&self, first: bool) -> usize {
        self.dash_boundary().len() + if first { 2 } else { 4 }
    }

    /// Whether a reader would see a delimiter of this boundary in `body` (or at its start, right after the
    /// head), given that the encoder follows every body with `\r\n--`.
    #[cfg(test)]
    fn conflicts(&self, body: &[u8]) -> bool {
        conflicts_any(body, &[self], &LineFeeds::new())
    }
}

/// Finds line feeds in bodies: memchr's AVX2 searcher, chosen once per encoder when the CPU has it and called
/// directly (`memchr::memchr` reaches it through a function pointer on every call, and bodies are short).
#[derive(Clone, Copy)]
struct LineFeeds {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl LineFeeds {
    fn new() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(haystack);
        }
        memchr::memchr(b'\n', haystack)
    }
}

/// Whether the line `rest` starts with `--boundary` of one of `delims`: a delimiter line, or a line that a
/// reader matching boundaries by prefix (or a strict reader, which refuses it) would read differently.
fn is_delimiter_line(rest: &[u8], delims: &[&Delim]) -> bool {
    // Any line the shared reading recognises as starting with `--boundary` (a delimiter or a look-alike) counts;
    // the body's end is a line end, since the encoder writes a line break after every body.
    delims
        .iter()
        .any(|d| classify_line(&d.dash, rest, LineEnd::Stripped, usize::MAX).is_some())
}

/// Whether a reader would see a delimiter of any of `delims` in `body`. One pass for line feeds: only a line
/// that starts with `--` is compared with the boundaries.
#[inline]
fn conflicts_any(body: &[u8], delims: &[&Delim], line_feeds: &LineFeeds) -> bool {
    if body.starts_with(b"--") && is_delimiter_line(body, delims) {
        return true;
    }
    let mut from = 0;
    while let Some(at) = line_feeds.find(&body[from..]) {
        from += at + 1;
        if body[from..].starts_with(b"--") && is_delimiter_line(&body[from..], delims) {
            return true;
        }
    }
    false
}

/// Whether a reader would see a delimiter of `boundary` in `body` as the encoder frames it.
pub(crate) fn body_conflicts(boundary: &Boundary, body: &[u8]) -> bool {
    conflicts_any(body, &[&Delim::new(boundary)], &LineFeeds::new())
}

/// Options of a [`BatchEncoder`].
///
/// # Example
///
/// ```
/// use odata_batch::{BatchEncoder, Boundary};
///
/// let encoder = BatchEncoder::builder().max_operations(Some(1000)).content_length(true).build(Boundary::new("batch_1").unwrap());
/// assert_eq!(encoder.content_type(), "multipart/mixed; boundary=batch_1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct BatchEncoderBuilder {
    max_operations: Option<usize>,
    content_length: bool,
    limits: Option<crate::Limits>,
    content_id_scope: ContentIdScope,
}

impl BatchEncoderBuilder {
    /// Refuse more operations than this (Dataverse: 1000, Creatio: 100). Default (`None`): what the reader's
    /// [`Limits::max_operations`](crate::Limits::max_operations) admits (see
    /// [`reader_limits`](Self::reader_limits)); a larger value is capped there too, so that the encoder never
    /// writes a batch its reader refuses.
    pub fn max_operations(&mut self, max: Option<usize>) -> &mut Self {
        self.max_operations = max;
        self
    }

    /// Write `Content-Length` on embedded messages with a body, unless they carry one. Default: off (bodies are
    /// framed by delimiters; some servers want the header anyway).
    pub fn content_length(&mut self, on: bool) -> &mut Self {
        self.content_length = on;
        self
    }

    /// The limits of the reader the batch is for (default [`Limits::client`](crate::Limits::client), what
    /// [`BatchDecoder`](crate::BatchDecoder) admits by default): a part whose head is larger, or has more
    /// embedded headers, is refused, so that what the encoder writes the reader reads back.
    pub fn reader_limits(&mut self, limits: crate::Limits) -> &mut Self {
        self.limits = Some(limits);
        self
    }

    /// Where a request's Content-ID must be unique (default [`ContentIdScope::Changeset`], OData 4.0's rule;
    /// [`ContentIdScope::for_version`] gives the one a version requires).
    pub fn content_id_scope(&mut self, scope: ContentIdScope) -> &mut Self {
        self.content_id_scope = scope;
        self
    }

    /// The caller's maximum or the reader's limit, whichever is lower.
    pub(crate) fn max_operations_value(&self) -> usize {
        let reader = self.limits.unwrap_or_default().max_operations;
        self.max_operations.map_or(reader, |max| max.min(reader))
    }

    /// An encoder for a batch with this boundary.
    pub fn build(&self, boundary: Boundary) -> BatchEncoder {
        BatchEncoder {
            outer: Delim::new(&boundary),
            boundary,
            changeset: None,
            written: false,
            max_operations: self.max_operations_value(),
            content_length: self.content_length,
            kind: None,
            operations: 0,
            rules: RequestRules::new(self.content_id_scope),
            finished: false,
            scratch: Vec::with_capacity(512),
            line_feeds: LineFeeds::new(),
            limits: self.limits.unwrap_or_default(),
        }
    }
}

struct OpenChangeset {
    delim: Delim,
    /// Operations written in it so far.
    operations: usize,
}

/// Writes a batch part by part into any [`BufMut`]: the sans-IO encoder. Pairs with
/// [`BatchDecoder`](crate::BatchDecoder): what it writes decodes to the same operations, whole or in pieces.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use odata_batch::{BatchEncoder, Boundary, RequestItem};
///
/// let mut encoder = BatchEncoder::new(Boundary::new("batch_1").unwrap());
/// let mut out = BytesMut::new();
/// encoder.request(&mut out, &RequestItem::new(http::Method::GET, "People?$top=2")).unwrap();
/// encoder.begin_changeset(&mut out, &Boundary::new("changeset_1").unwrap()).unwrap();
/// let mut create = RequestItem::new(http::Method::POST, "People");
/// create.body = r#"{"Name":"A"}"#.into();
/// create.content_id = Some("1".into());
/// encoder.request(&mut out, &create).unwrap();
/// encoder.end_changeset(&mut out).unwrap();
/// encoder.finish(&mut out).unwrap();
/// assert!(out.starts_with(b"--batch_1\r\nContent-Type: application/http\r\n"));
/// assert!(out.ends_with(b"{\"Name\":\"A\"}\r\n--changeset_1--\r\n--batch_1--\r\n"));
/// ```
pub struct BatchEncoder {
    boundary: Boundary,
    outer: Delim,
    changeset: Option<OpenChangeset>,
    /// Something was written in the batch's multipart body.
    written: bool,
    /// The most operations written, the caller's maximum or the reader's limit, whichever is lower.
    max_operations: usize,
    content_length: bool,
    kind: Option<MessageKind>,
    operations: usize,
    rules: RequestRules,
    finished: bool,
    /// Where a part's head is assembled; reused, so it allocates only while growing to the largest head.
    scratch: Vec<u8>,
    line_feeds: LineFeeds,
    /// The reader's bounds on heads.
    limits: crate::Limits,
}

impl fmt::Debug for BatchEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchEncoder")
            .field("boundary", &self.boundary)
            .field("operations", &self.operations)
            .field("in_changeset", &self.changeset.is_some())
            .field("finished", &self.finished)
            .finish()
    }
}

/// Whether a request target is non-empty and free of spaces and control characters (bytes up to `0x20` and
/// `0x7f`; bytes from `0x80` are left to the server). Eight bytes at a time with word arithmetic, no branch per
/// byte.
#[inline]
fn is_clean_target(url: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const BELOW: u64 = u64::from_ne_bytes([0x21; 8]);
    const DEL: u64 = u64::from_ne_bytes([0x7f; 8]);
    // A byte's high bit is set in the result exactly when some byte of the word is below 0x21 or is 0x7f: the
    // subtraction borrows into a clean byte only from a byte that is itself flagged, so "any" is exact.
    let flagged = |w: u64| {
        let del = w ^ DEL;
        ((w.wrapping_sub(BELOW) & !w) | (del.wrapping_sub(ONES) & !del)) & HIGH
    };
    let word = |w: &[u8]| u64::from_ne_bytes(w.try_into().expect("eight bytes"));
    if url.len() < 8 {
        let mut last = [b'a'; 8];
        last[..url.len()].copy_from_slice(url);
        return !url.is_empty() && flagged(word(&last)) == 0;
    }
    // Whole words, then the last eight bytes (overlapping the words before: a byte checked twice is harmless).
    let mut bad = flagged(word(&url[url.len() - 8..]));
    for w in url.chunks_exact(8) {
        bad |= flagged(word(w));
    }
    bad == 0
}

fn is_visible(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

fn canonical_reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("")
}

impl BatchEncoder {
    /// An encoder with default options.
    pub fn new(boundary: Boundary) -> Self {
        Self::builder().build(boundary)
    }

    /// Options.
    pub fn builder() -> BatchEncoderBuilder {
        BatchEncoderBuilder::default()
    }

    /// The batch boundary.
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The `Content-Type` header value of the batch: `multipart/mixed; boundary=...` (quoted when the boundary
    /// has characters outside an HTTP token).
    pub fn content_type(&self) -> String {
        content_type_for(&self.boundary)
    }

    /// Makes room for `count` Content-IDs of `bytes` bytes in all (whole-batch encoding knows them).
    pub(crate) fn reserve_content_ids(&mut self, count: usize, bytes: usize) {
        self.rules.reserve(count, bytes);
    }

    /// Operations written so far.
    pub fn operations(&self) -> usize {
        self.operations
    }

    fn fail(&self, kind: EncodeErrorKind) -> EncodeError {
        EncodeError::new(kind, Some(self.operations))
    }

    fn put_delimiter(&mut self, dst: &mut impl BufMut) {
        match &mut self.changeset {
            Some(cs) => {
                if cs.operations > 0 {
                    dst.put_slice(b"\r\n");
                }
                dst.put_slice(cs.delim.dash_boundary());
            }
            None => {
                if self.written {
                    dst.put_slice(b"\r\n");
                }
                dst.put_slice(self.outer.dash_boundary());
                self.written = true;
            }
        }
        dst.put_slice(b"\r\n");
    }

    /// Opens a changeset with `boundary`.
    ///
    /// # Errors
    ///
    /// A changeset is already open, the batch is finished, or the boundary equals or prefixes the batch
    /// boundary (or the other way round).
    pub fn begin_changeset(&mut self, dst: &mut impl BufMut, boundary: &Boundary) -> Result<(), EncodeError> {
        if self.finished {
            return Err(EncodeError::new(EncodeErrorKind::Finished, None));
        }
        if self.changeset.is_some() {
            return Err(EncodeError::new(EncodeErrorKind::NestedChangeset, None));
        }
        let (a, b) = (self.boundary.as_str(), boundary.as_str());
        if a.starts_with(b) || b.starts_with(a) {
            return Err(EncodeError::new(EncodeErrorKind::BoundaryConflict, None));
        }
        self.put_delimiter(dst);
        dst.put_slice(b"Content-Type: multipart/mixed; boundary=");
        dst.put_slice(quoted_if_needed(boundary).as_bytes());
        dst.put_slice(b"\r\n\r\n");
        self.changeset = Some(OpenChangeset {
            delim: Delim::new(boundary),
            operations: 0,
        });
        self.rules.begin_changeset();
        Ok(())
    }

    /// Closes the open changeset.
    ///
    /// # Errors
    ///
    /// No changeset is open, or it has no operations.
    pub fn end_changeset(&mut self, dst: &mut impl BufMut) -> Result<(), EncodeError> {
        match &self.changeset {
            None => return Err(EncodeError::new(EncodeErrorKind::NoOpenChangeset, None)),
            Some(cs) if cs.operations == 0 => return Err(EncodeError::new(EncodeErrorKind::EmptyChangeset, None)),
            Some(cs) => {
                dst.put_slice(b"\r\n");
                dst.put_slice(cs.delim.dash_boundary());
                dst.put_slice(b"--");
            }
        }
        self.changeset = None;
        self.rules.end_changeset();
        Ok(())
    }

    /// Writes the close delimiter. Nothing can be written afterwards.
    ///
    /// # Errors
    ///
    /// A changeset is open, or the batch is already finished.
    pub fn finish(&mut self, dst: &mut impl BufMut) -> Result<(), EncodeError> {
        if self.finished {
            return Err(EncodeError::new(EncodeErrorKind::Finished, None));
        }
        if self.changeset.is_some() {
            return Err(EncodeError::new(EncodeErrorKind::UnclosedChangeset, None));
        }
        if self.written {
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(self.outer.dash_boundary());
        dst.put_slice(b"--\r\n");
        self.finished = true;
        Ok(())
    }

    /// Checks what requests and responses share.
    #[inline(always)]
    fn check_common(&self, kind: MessageKind, content_id: Option<&str>, body: &[u8]) -> Result<(), EncodeError> {
        if self.finished {
            return Err(self.fail(EncodeErrorKind::Finished));
        }
        if self.kind.is_some_and(|k| k != kind) {
            return Err(self.fail(EncodeErrorKind::MixedRequestResponse));
        }
        if self.operations >= self.max_operations {
            let max = self.max_operations;
            return Err(self.fail(EncodeErrorKind::TooManyOperations { max }));
        }
        if let Some(cs) = &self.changeset {
            if cs.operations >= self.limits.max_changeset_operations {
                let max = self.limits.max_changeset_operations;
                return Err(self.fail(EncodeErrorKind::TooManyChangesetOperations { max }));
            }
        }
        if let Some(cid) = content_id.map(str::as_bytes) {
            if cid.is_empty() || !cid.iter().all(|&b| is_visible(b)) {
                return Err(self.fail(EncodeErrorKind::InvalidContentId));
            }
        }
        let conflict = match &self.changeset {
            Some(cs) => conflicts_any(body, &[&self.outer, &cs.delim], &self.line_feeds),
            None => conflicts_any(body, &[&self.outer], &self.line_feeds),
        };
        if conflict {
            return Err(self.fail(EncodeErrorKind::BodyContainsDelimiter));
        }
        Ok(())
    }

    /// Headers a reader would frame or name the part by: they must agree with what the encoder writes. Called
    /// only when the head being written has one of them or a padded value.
    #[cold]
    fn check_framing_headers(
        &self,
        headers: &HeaderMap,
        content_id: Option<&[u8]>,
        body: &[u8],
        response: bool,
    ) -> Result<(), EncodeError> {
        for (name, value) in headers {
            let v = value.as_bytes();
            // A field value has no white space at either end (RFC 9110 §5.5): a reader would trim it.
            if crate::grammar::has_outer_ows(v) {
                return Err(self.fail(EncodeErrorKind::InvalidHeader));
            }
            let n = name.as_str();
            // Names are lower case in a `HeaderMap`; the length rules most names out at once.
            match n.len() {
                17 if n == "transfer-encoding" => return Err(self.fail(EncodeErrorKind::TransferEncodingInPart)),
                14 if n == "content-length" => {
                    let agrees = matches!(
                        crate::grammar::content_length(v),
                        crate::grammar::ContentLength::Value(n) if crate::grammar::length_agrees(n, body.len() as u64, response)
                    );
                    if !agrees {
                        return Err(self.fail(EncodeErrorKind::ContentLengthMismatch));
                    }
                }
                10 if n == "content-id" && Some(v) != content_id => {
                    return Err(self.fail(EncodeErrorKind::ContentIdMismatch));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes one part into `sink`: the head (checked against the reader's limits: header count; size as the
    /// reader counts it, from the part headers to the blank line after the embedded headers), then the body.
    /// The caller has checked every other rule; nothing is written or recorded when this refuses.
    #[inline(always)]
    fn put_part(
        &mut self,
        sink: &mut impl PartSink,
        content_id: Option<&[u8]>,
        start_line: StartLine<'_>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), EncodeError> {
        let (delim, first) = match &self.changeset {
            Some(cs) => (&cs.delim, cs.operations == 0),
            None => (&self.outer, !self.written),
        };
        let content_length =
            self.content_length && !body.is_empty() && !headers.contains_key(http::header::CONTENT_LENGTH);
        if headers.len() + usize::from(content_length) > self.limits.max_headers {
            let max = self.limits.max_headers;
            return Err(self.fail(EncodeErrorKind::TooManyHeaders { max }));
        }
        let max_head = self.limits.max_head_bytes + delim.delimiter_line_len(first);
        // Headers that frame or name the part, and values a reader would trim, are spotted while the head is
        // written; only then is the write abandoned, the headers checked, and the head written again.
        let mut checked = false;
        loop {
            let mut flagged = false;
            let written = sink.put_part(
                &mut self.scratch,
                |head| {
                    let len = write_head(
                        head,
                        delim,
                        first,
                        content_id,
                        start_line,
                        headers,
                        content_length,
                        body.len(),
                        &mut flagged,
                    );
                    len <= max_head && (checked || !flagged)
                },
                body,
            );
            if written {
                break;
            }
            if flagged && !checked {
                let response = matches!(start_line, StartLine::Response { .. });
                self.check_framing_headers(headers, content_id, body, response)?;
                checked = true;
                continue;
            }
            let max = self.limits.max_head_bytes;
            return Err(self.fail(EncodeErrorKind::HeadTooLarge { max }));
        }
        match &mut self.changeset {
            Some(cs) => cs.operations += 1,
            None => self.written = true,
        }
        self.operations += 1;
        Ok(())
    }

    /// Writes one request: a [`RequestPart`], or a `&RequestItem`.
    ///
    /// # Errors
    ///
    /// A rule of [`EncodeErrorKind`] is broken; nothing is written then.
    pub fn request<'a, P>(&mut self, dst: &mut impl BufMut, part: P) -> Result<(), EncodeError>
    where
        P: TryInto<RequestPart<'a>>,
        EncodeError: From<P::Error>,
    {
        let part = part.try_into().map_err(|e| self.at(EncodeError::from(e)))?;
        self.request_to(&mut Through(dst), part)
    }

    /// Writes one request at the end of `out`, the head in place (no copy through the scratch buffer); a
    /// refused request leaves `out` as it was.
    pub(crate) fn request_in_place(&mut self, out: &mut Vec<u8>, part: RequestPart<'_>) -> Result<(), EncodeError> {
        self.request_to(&mut InPlace(out), part)
    }

    /// An error from outside the encoder, placed at the operation about to be written.
    fn at(&self, error: EncodeError) -> EncodeError {
        EncodeError::new(error.kind(), Some(self.operations))
    }

    #[inline(always)]
    fn request_to(&mut self, dst: &mut impl PartSink, part: RequestPart<'_>) -> Result<(), EncodeError> {
        self.check_common(MessageKind::Request, part.content_id, part.body)?;
        let url = part.url.as_bytes();
        if !is_clean_target(url) {
            return Err(self.fail(EncodeErrorKind::InvalidUrl));
        }
        let id = part.content_id.map(str::as_bytes);
        let key = self
            .rules
            .check(part.method.as_str().as_bytes(), url, id)
            .map_err(|(rule, _)| self.fail(EncodeErrorKind::Rule(rule)))?;
        let start_line = StartLine::Request {
            method: part.method,
            url,
        };
        self.put_part(dst, id, start_line, part.headers, part.body)?;
        if let (Some(id), Some(key)) = (id, key) {
            self.rules.record(id, key);
        }
        self.kind = Some(MessageKind::Request);
        Ok(())
    }

    /// Writes one response: a [`ResponsePart`], or a `&ResponseItem`.
    ///
    /// # Errors
    ///
    /// A rule of [`EncodeErrorKind`] is broken; nothing is written then.
    pub fn response<'a>(
        &mut self,
        dst: &mut impl BufMut,
        part: impl Into<ResponsePart<'a>>,
    ) -> Result<(), EncodeError> {
        self.response_to(&mut Through(dst), part.into())
    }

    /// Writes one response at the end of `out`, as [`request_in_place`](Self::request_in_place) does.
    pub(crate) fn response_in_place(&mut self, out: &mut Vec<u8>, part: ResponsePart<'_>) -> Result<(), EncodeError> {
        self.response_to(&mut InPlace(out), part)
    }

    #[inline(always)]
    fn response_to(&mut self, dst: &mut impl PartSink, part: ResponsePart<'_>) -> Result<(), EncodeError> {
        self.check_common(MessageKind::Response, part.content_id, part.body)?;
        let reason = if part.reason.is_empty() {
            canonical_reason(part.status)
        } else {
            part.reason
        };
        // No control characters, and no white space at either end: readers trim a start line's end.
        if crate::grammar::has_outer_ows(reason.as_bytes())
            || !reason.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        {
            return Err(self.fail(EncodeErrorKind::InvalidReason));
        }
        let start_line = StartLine::Response {
            status: part.status,
            reason: reason.as_bytes(),
        };
        let id = part.content_id.map(str::as_bytes);
        self.put_part(dst, id, start_line, part.headers, part.body)?;
        self.kind = Some(MessageKind::Response);
        Ok(())
    }
}

/// Where a part goes.
trait PartSink {
    /// Appends the head with `assemble` (which says whether it kept within the limits), then, if it did, the
    /// body; returns whether the part was written. Nothing is left behind when it was not.
    fn put_part(&mut self, scratch: &mut Vec<u8>, assemble: impl FnOnce(&mut Vec<u8>) -> bool, body: &[u8]) -> bool;
}

/// Any [`BufMut`]: the head is assembled in the encoder's reused scratch buffer (cheap appends), then written
/// with the body in two writes.
struct Through<'a, B>(&'a mut B);

impl<B: BufMut> PartSink for Through<'_, B> {
    #[inline(always)]
    fn put_part(&mut self, scratch: &mut Vec<u8>, assemble: impl FnOnce(&mut Vec<u8>) -> bool, body: &[u8]) -> bool {
        scratch.clear();
        if !assemble(scratch) {
            return false;
        }
        self.0.put_slice(scratch);
        self.0.put_slice(body);
        true
    }
}

/// A `Vec` the whole batch goes into: the head is assembled in place and cut off again if refused, which saves
/// copying every head a second time.
struct InPlace<'a>(&'a mut Vec<u8>);

impl PartSink for InPlace<'_> {
    #[inline(always)]
    fn put_part(&mut self, _: &mut Vec<u8>, assemble: impl FnOnce(&mut Vec<u8>) -> bool, body: &[u8]) -> bool {
        let start = self.0.len();
        if !assemble(self.0) {
            self.0.truncate(start);
            return false;
        }
        self.0.extend_from_slice(body);
        true
    }
}

/// The start line of an embedded message, written with constant-size copies where the text is known.
#[derive(Clone, Copy)]
enum StartLine<'a> {
    Request { method: &'a Method, url: &'a [u8] },
    Response { status: StatusCode, reason: &'a [u8] },
}

impl StartLine<'_> {
    #[inline(always)]
    fn put(&self, head: &mut Vec<u8>) {
        match *self {
            Self::Request { method, url } => {
                match *method {
                    Method::POST => head.extend_from_slice(b"POST "),
                    Method::PATCH => head.extend_from_slice(b"PATCH "),
                    Method::GET => head.extend_from_slice(b"GET "),
                    Method::PUT => head.extend_from_slice(b"PUT "),
                    Method::DELETE => head.extend_from_slice(b"DELETE "),
                    ref other => {
                        head.extend_from_slice(other.as_str().as_bytes());
                        head.push(b' ');
                    }
                }
                head.extend_from_slice(url);
                head.extend_from_slice(b" HTTP/1.1\r\n");
            }
            Self::Response { status, reason } => {
                head.extend_from_slice(b"HTTP/1.1 ");
                let code: [u8; 3] = status.as_str().as_bytes().try_into().expect("three digits");
                head.extend_from_slice(&code);
                head.push(b' ');
                head.extend_from_slice(reason);
                head.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Appends a part's head (delimiter line, part headers, start line, embedded headers, blank line) to `head`;
/// returns its length as the reader counts it, and sets `flagged` when a header frames or names the part, or
/// has a value a reader would trim. Kept out of line: the callers' loops stay small.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn write_head(
    head: &mut Vec<u8>,
    delim: &Delim,
    first: bool,
    content_id: Option<&[u8]>,
    start_line: StartLine<'_>,
    headers: &HeaderMap,
    content_length: bool,
    body_len: usize,
    flagged: &mut bool,
) -> usize {
    let start = head.len();
    head.extend_from_slice(delim.part_prefix(first, content_id.is_some()));
    match content_id {
        Some(id) => {
            put_short(head, id);
            head.extend_from_slice(b"\r\n\r\n");
        }
        None => head.extend_from_slice(b"\r\n"),
    }
    start_line.put(head);
    for (name, value) in headers {
        let (n, v) = (name.as_str(), value.as_bytes());
        *flagged |= crate::grammar::has_outer_ows(v)
            || match n.len() {
                10 => n == "content-id",
                14 => n == "content-length",
                17 => n == "transfer-encoding",
                _ => false,
            };
        head.extend_from_slice(n.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v);
        head.extend_from_slice(b"\r\n");
    }
    if content_length {
        head.extend_from_slice(b"content-length: ");
        head.extend_from_slice(itoa_usize(body_len).as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head.len() - start
}

/// Appends a short piece (a Content-ID, nearly always one to four bytes) without a library call.
#[inline(always)]
fn put_short(head: &mut Vec<u8>, piece: &[u8]) {
    match *piece {
        [a] => head.push(a),
        [a, b] => head.extend_from_slice(&[a, b]),
        [a, b, c] => head.extend_from_slice(&[a, b, c]),
        [a, b, c, d] => head.extend_from_slice(&[a, b, c, d]),
        _ => head.extend_from_slice(piece),
    }
}

/// Decimal text of `n` without allocating a `String` per call.
fn itoa_usize(mut n: usize) -> ItoaBuf {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    ItoaBuf { buf, start: i }
}

struct ItoaBuf {
    buf: [u8; 20],
    start: usize,
}

impl ItoaBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// The boundary as a `Content-Type` parameter value: bare when it is a token, else quoted.
fn quoted_if_needed(boundary: &Boundary) -> std::borrow::Cow<'_, str> {
    if boundary.as_str().bytes().all(crate::grammar::is_tchar) {
        std::borrow::Cow::Borrowed(boundary.as_str())
    } else {
        std::borrow::Cow::Owned(format!("\"{boundary}\""))
    }
}

/// `multipart/mixed; boundary=...` for a boundary.
pub(crate) fn content_type_for(boundary: &Boundary) -> String {
    format!("multipart/mixed; boundary={}", quoted_if_needed(boundary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_check_is_exact_for_every_byte_at_every_position() {
        let naive = |url: &[u8]| !url.is_empty() && url.iter().all(|&b| b > 0x20 && b != 0x7f);
        assert!(!is_clean_target(b""));
        for len in 1..=40 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut url = vec![b'a'; len];
                    url[at] = byte;
                    assert_eq!(is_clean_target(&url), naive(&url), "byte {byte:#04x} at {at} of {len}");
                }
            }
        }
        // A flagged byte beside bytes whose subtraction borrows (0x80 and above, 0x21) is still found, and a
        // clean word beside them stays clean.
        assert!(!is_clean_target(b"\x80\x80\x80\x20\x80\x80\x80\x80"));
        assert!(is_clean_target(b"\x21\x80\xff\x7e\x21\x80\xff\x7e\x21"));
    }

    #[test]
    fn line_feeds_and_delimiters_after_several_lines() {
        let d = Delim::new(&Boundary::new("b1").unwrap());
        assert!(d.conflicts(b"a\nb\nc\n--b1\nd"));
        assert!(d.conflicts(b"a\n\n\n--b1--"));
        assert!(d.conflicts(b"a\n--b2\n--b1x\n-b1\n"));
        assert!(!d.conflicts(b"a\n--b2\n-b1\nx--b1\n"));
        assert!(!d.conflicts(b"\n\n\n"));
        assert!(!d.conflicts(b"--"));
        let long = [&[b'x'; 300][..], b"\r\n--b1\r\n", &[b'y'; 300][..]].concat();
        assert!(d.conflicts(&long));
        assert!(!d.conflicts(&long[..301]));
    }

    #[test]
    fn delimiter_conflicts_are_lines_starting_with_the_boundary() {
        let d = Delim::new(&Boundary::new("b1").unwrap());
        assert!(d.conflicts(b"x\r\n--b1\r\ny"));
        assert!(d.conflicts(b"x\n--b1--"));
        assert!(d.conflicts(b"x\n--b1  \ny"));
        assert!(d.conflicts(b"x\n--b1"));
        assert!(d.conflicts(b"--b1\r\nrest"));
        // Lines that only start with the delimiter: a reader matching by prefix splits there.
        assert!(d.conflicts(b"x\n--b1x\r\n"));
        assert!(d.conflicts(b"--b12"));
        assert!(d.conflicts(b"x\n--b1 garbage"));
        assert!(d.conflicts(b"x\n--b1--x"));
        assert!(d.conflicts(b"x\n--b1\r"));
        assert!(!d.conflicts(b"x --b1\r\n"));
        assert!(!d.conflicts(b"x\n-b1\r\n"));
        assert!(!d.conflicts(b"x\n--b\r\n"));
        assert!(!d.conflicts(b""));
    }

    #[test]
    fn numbers_and_quoting() {
        assert_eq!(itoa_usize(0).as_bytes(), b"0");
        assert_eq!(itoa_usize(1024).as_bytes(), b"1024");
        assert_eq!(
            content_type_for(&Boundary::new("a b").unwrap()),
            "multipart/mixed; boundary=\"a b\""
        );
        assert_eq!(
            content_type_for(&Boundary::new("a_b").unwrap()),
            "multipart/mixed; boundary=a_b"
        );
    }
}
