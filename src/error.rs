//! [`DecodeError`] with its [`DecodeErrorKind`] and [`Limit`].
//!
//! Decoder errors are small, `Clone + PartialEq`, and never allocate: a kind plus the absolute byte offset
//! into the stream where the problem was found. The `Display` text is for people and may change between
//! releases; match on [`DecodeErrorKind`] instead.

use std::fmt;

/// Which bound of [`Limits`](crate::Limits) was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_head_bytes`](crate::Limits::max_head_bytes): the MIME part headers plus the embedded HTTP
    /// head of one part, or one delimiter line.
    HeadBytes,
    /// [`Limits::max_headers`](crate::Limits::max_headers): header lines in one header block.
    Headers,
    /// [`Limits::max_operations`](crate::Limits::max_operations): operations in the whole batch.
    Operations,
    /// [`Limits::max_changeset_operations`](crate::Limits::max_changeset_operations): operations in one
    /// changeset.
    ChangesetOperations,
    /// [`Limits::max_body_bytes`](crate::Limits::max_body_bytes): bytes in one operation's body.
    BodyBytes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HeadBytes => "head size",
            Self::Headers => "header count",
            Self::Operations => "operations per batch",
            Self::ChangesetOperations => "operations per changeset",
            Self::BodyBytes => "body size",
        })
    }
}

/// What went wrong while decoding a batch. The construct that failed is in the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The payload holds no bytes at all.
    EmptyPayload,
    /// The declared boundary never appears as a delimiter line.
    BoundaryNotFound,
    /// The input ended before the close delimiter of the batch (or of an open changeset, head or body).
    Truncated,
    /// A delimiter line that starts like one but is malformed in a way that would otherwise be read as body
    /// text, such as transport padding when it is not allowed.
    InvalidDelimiterLine,
    /// A line ends in a bare LF where CRLF is required (strict reading only).
    BareLineFeed,
    /// Text before the first delimiter (strict reading only).
    UnexpectedPreamble,
    /// Text after a close delimiter (strict reading only).
    UnexpectedEpilogue,
    /// A header line without a colon, with an empty or invalid name, or with a control character in its value.
    InvalidHeaderLine,
    /// A header line continued with obsolete line folding (strict reading only).
    ObsoleteLineFolding,
    /// A part's MIME headers are not followed by a blank line before the next delimiter.
    MissingBlankLine,
    /// A part without a `Content-Type` header.
    MissingContentType,
    /// A part whose `Content-Type` is neither `application/http` nor `multipart/mixed`.
    UnsupportedContentType,
    /// An `application/http` part without `Content-Transfer-Encoding` (strict reading only).
    MissingTransferEncoding,
    /// A `Content-Transfer-Encoding` other than `binary`.
    UnsupportedTransferEncoding,
    /// A changeset whose `Content-Type` has no usable `boundary` parameter.
    InvalidChangesetBoundary,
    /// A changeset that declares the same boundary as the batch that encloses it.
    ChangesetBoundaryReused,
    /// A `multipart/mixed` part inside a changeset: OData nests one level only.
    NestedChangeset,
    /// The batch continues (its delimiter appears) before the open changeset was closed.
    UnclosedChangeset,
    /// An `application/http` part with no embedded HTTP message.
    EmptyPart,
    /// An embedded request line without a method, a target, or with a malformed HTTP version.
    InvalidRequestLine,
    /// An embedded status line without a valid HTTP version or three-digit status code.
    InvalidStatusLine,
    /// An embedded HTTP head that runs into the next delimiter without its blank line (strict reading only).
    MissingHeadTerminator,
    /// An embedded `Content-Length` that is not a decimal number (strict reading only; bodies are always
    /// framed by delimiters).
    InvalidContentLength,
    /// Requests and responses in one batch.
    MixedRequestResponse,
    /// A request where the decoder was told to expect responses, or the other way round.
    UnexpectedMessageKind,
    /// An OData request rule is broken (request validation,
    /// [`BatchDecoderBuilder::validate_requests`](crate::BatchDecoderBuilder::validate_requests)).
    Rule(crate::Rule),
    /// A line that starts with `--boundary` of an active boundary but is not a delimiter line (`--batch_1X`,
    /// `--batch_1 text`), which a reader matching boundaries by prefix would split at (strict reading only;
    /// [`Leniency::delimiter_lookalikes`](crate::Leniency::delimiter_lookalikes)).
    DelimiterLookalike,
    /// A close delimiter followed by something other than transport padding and a line end (strict reading
    /// only; [`Leniency::close_delimiter_trailer`](crate::Leniency::close_delimiter_trailer)).
    InvalidCloseDelimiter,
    /// A changeset boundary that the batch boundary starts with, or that starts with the batch boundary
    /// (strict reading only; [`Leniency::overlapping_boundaries`](crate::Leniency::overlapping_boundaries)).
    OverlappingBoundaries,
    /// `Content-Type`, `Content-Transfer-Encoding` or `Content-ID` given twice in one header block with
    /// different values (strict reading only; [`Leniency::conflicting_headers`](crate::Leniency::conflicting_headers)).
    ConflictingHeaders,
    /// The MIME part `Content-ID` and the embedded `Content-ID` differ (strict reading only;
    /// [`Leniency::content_id_mismatch`](crate::Leniency::content_id_mismatch)).
    ContentIdMismatch,
    /// The embedded `Content-Length` differs from the length of the body (strict reading only;
    /// [`Leniency::content_length_mismatch`](crate::Leniency::content_length_mismatch)).
    ContentLengthMismatch,
    /// `Content-Length` given twice with different values (strict reading only;
    /// [`Leniency::content_length_mismatch`](crate::Leniency::content_length_mismatch)).
    ConflictingContentLength,
    /// An embedded `Content-Length` too large for 64 bits (strict reading only;
    /// [`Leniency::invalid_content_length`](crate::Leniency::invalid_content_length)).
    ContentLengthOverflow,
    /// An embedded `Transfer-Encoding` header: the part is framed by delimiters, its body would be left
    /// encoded (strict reading only; [`Leniency::embedded_transfer_encoding`](crate::Leniency::embedded_transfer_encoding)).
    TransferEncodingInPart,
    /// The caller's buffer holds fewer bytes than the decoder has already read and not consumed: unconsumed
    /// input was removed between two calls (the decoder resumes a head where it stopped, so it must find those
    /// bytes again). A misuse of the streaming API, reported instead of reading on from a wrong place.
    InputRemoved,
    /// A bound of [`Limits`](crate::Limits) was exceeded.
    LimitExceeded {
        /// Which bound.
        limit: Limit,
        /// Its configured value.
        max: u64,
    },
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::EmptyPayload => "empty payload",
            Self::BoundaryNotFound => "boundary delimiter not found",
            Self::Truncated => "input ends before the close delimiter",
            Self::InvalidDelimiterLine => "invalid delimiter line",
            Self::BareLineFeed => "bare LF line ending",
            Self::UnexpectedPreamble => "text before the first delimiter",
            Self::UnexpectedEpilogue => "text after the close delimiter",
            Self::InvalidHeaderLine => "invalid header line",
            Self::ObsoleteLineFolding => "obsolete header line folding",
            Self::MissingBlankLine => "missing blank line after part headers",
            Self::MissingContentType => "part without Content-Type",
            Self::UnsupportedContentType => "part Content-Type is neither application/http nor multipart/mixed",
            Self::MissingTransferEncoding => "part without Content-Transfer-Encoding",
            Self::UnsupportedTransferEncoding => "Content-Transfer-Encoding is not binary",
            Self::InvalidChangesetBoundary => "changeset Content-Type lacks a valid boundary",
            Self::ChangesetBoundaryReused => "changeset reuses the enclosing boundary",
            Self::NestedChangeset => "changeset inside a changeset",
            Self::UnclosedChangeset => "changeset not closed before the next batch delimiter",
            Self::EmptyPart => "empty application/http part",
            Self::InvalidRequestLine => "invalid request line",
            Self::InvalidStatusLine => "invalid status line",
            Self::MissingHeadTerminator => "embedded HTTP head without a blank line",
            Self::InvalidContentLength => "invalid Content-Length",
            Self::MixedRequestResponse => "requests and responses mixed in one batch",
            Self::UnexpectedMessageKind => "request where a response was expected, or the other way round",
            Self::Rule(rule) => return fmt::Display::fmt(rule, f),
            Self::DelimiterLookalike => "line starts like a delimiter but is not one",
            Self::InvalidCloseDelimiter => "text after a close delimiter on its line",
            Self::OverlappingBoundaries => "changeset boundary and batch boundary are prefixes of one another",
            Self::ConflictingHeaders => "header given twice with different values",
            Self::ContentIdMismatch => "part Content-ID and embedded Content-ID differ",
            Self::ContentLengthMismatch => "Content-Length differs from the body length",
            Self::ConflictingContentLength => "Content-Length given twice with different values",
            Self::ContentLengthOverflow => "Content-Length too large",
            Self::TransferEncodingInPart => "Transfer-Encoding in an embedded HTTP message",
            Self::InputRemoved => "unconsumed input was removed from the buffer between two calls",
            Self::LimitExceeded { limit, max } => return write!(f, "{limit} limit of {max} exceeded"),
        };
        f.write_str(text)
    }
}

/// A decoding failure: what went wrong and the absolute byte offset in the stream where it was found.
///
/// The streaming decoder cannot count lines without scanning every body byte, so it reports offsets only;
/// the one-call decoders ([`BatchResponse::decode`](crate::BatchResponse::decode) and friends) also fill in
/// the 1-based line number, which `Display` then shows: `invalid status line at byte 812 (line 31)`.
/// [`DecodeError::with_line_from`] does the same for a caller that kept the input.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchResponse, DecodeErrorKind};
///
/// let body = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 OK\r\n\r\n--b--\r\n";
/// let err = BatchResponse::decode("multipart/mixed; boundary=b", body).unwrap_err();
/// let err = err.decode_error().unwrap();
/// assert_eq!(err.kind(), DecodeErrorKind::InvalidStatusLine);
/// assert_eq!(err.offset(), 39);
/// assert_eq!(err.to_string(), "invalid status line at byte 39 (line 4)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: u64,
    line: Option<u64>,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: u64) -> Self {
        Self {
            kind,
            offset,
            line: None,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Absolute byte offset from the start of the payload where the problem was found.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The 1-based line number of [`offset`](Self::offset), when known.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// Fills in the line number by counting line feeds in `input` (the whole payload, from its first byte)
    /// before the error's offset.
    #[must_use]
    pub fn with_line_from(mut self, input: &[u8]) -> Self {
        let end = usize::try_from(self.offset).unwrap_or(usize::MAX).min(input.len());
        let lines = input[..end].iter().filter(|&&b| b == b'\n').count() as u64;
        self.line = Some(lines + 1);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}
