//! [`Leniency`]: the deviations from RFC 2046 and OData that the decoder tolerates, one setting each.

/// What the decoder tolerates when reading. Every setting is on by default, because a client cannot fix
/// the server it talks to; [`Leniency::strict`] turns them all off, for a server validating untrusted
/// requests. Writing is always strict.
///
/// Not settings, because they are not deviations: header names and media types in any case (RFC 2045 §5.1,
/// RFC 9110 §5.1); a changeset response that a server sends
/// unwrapped (SharePoint) or as one failed part in place of the changeset (OData 4.0 §11.7.7.3), since the
/// decoder reads what is there and pairing responses with requests is the caller's step.
///
/// Never tolerated, because it would lose or invent data: truncated input, a changeset inside a changeset, a
/// start line or header line that does not parse, a part without the blank line after its MIME headers, a
/// limit exceeded.
///
/// # Example
///
/// ```
/// use odata_batch::{BatchDecoder, Leniency};
///
/// let mut leniency = Leniency::strict();
/// leniency.bare_lf = true; // accept LF-only payloads, refuse every other deviation
/// let decoder = BatchDecoder::builder().leniency(leniency).build("batch_1").unwrap();
/// assert!(!decoder.leniency().transport_padding);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leniency {
    /// Accept LF as a line ending, alone or mixed with CRLF, in delimiter lines and heads.
    ///
    /// # Background
    /// RFC 2046 §5.1.1 and RFC 9112 §2.2 require CRLF. Olingo V4 test payloads, Go's `mime/multipart` and SAP
    /// SDK mocks send LF only.
    pub bare_lf: bool,
    /// Accept spaces and tabs after a delimiter (`--batch_1  \r\n`).
    ///
    /// # Background
    /// RFC 2046 §5.1.1 calls this transport padding and says readers must accept it; the OData V2 batch
    /// example has it. It is a setting because a validating server may want payloads in the one form
    /// OData writers produce.
    pub transport_padding: bool,
    /// Accept text before the first delimiter (preamble) and after a close delimiter (epilogue), and
    /// discard it. A line break alone is never counted as text.
    ///
    /// # Background
    /// RFC 2046 §5.1.1 allows both and says they are to be ignored; OData 4.01 Part 1 §11.7.7 shows neither.
    pub preamble_epilogue: bool,
    /// Accept a close delimiter at the end of the input without a line break after it.
    ///
    /// # Background
    /// RFC 2046 §5.1.1 makes the final CRLF optional, but OData examples always write it.
    pub close_without_line_end: bool,
    /// Accept obsolete line folding (a header line continued on the next line that starts with a space or tab).
    /// The folded value is reported with its line breaks; [`Header::value`](crate::Header::value) shows it raw.
    ///
    /// # Background
    /// RFC 9112 §5.2 deprecates it; RFC 2045 headers allow it.
    pub obs_fold: bool,
    /// Accept an `application/http` part without `Content-Transfer-Encoding`.
    ///
    /// # Background
    /// OData 4.0 Part 1 §11.7.2 requires `Content-Transfer-Encoding: binary`; OData V4 servers, SAPUI5 and
    /// Olingo V4 omit it.
    pub missing_transfer_encoding: bool,
    /// Accept an embedded HTTP head that ends at the next delimiter without its own blank line (a bodiless
    /// `GET` followed by one CRLF instead of two).
    ///
    /// # Background
    /// RFC 9112 §2.1 ends a head with an empty line. Olingo's non-strict mode accepts the short form.
    pub unterminated_head: bool,
    /// Accept unencoded spaces in a request's URL when the request line ends in an HTTP version
    /// (`GET Products?$filter=Name eq 'x' HTTP/1.1`): the URL is everything between the method and the
    /// version.
    ///
    /// # Background
    /// RFC 9112 §3.2 forbids spaces in a request target; SAPUI5 sends them.
    pub spaces_in_url: bool,
    /// Ignore an embedded `Content-Length` that is not a decimal number. Bodies are framed by delimiters
    /// either way; strict reading rejects the malformed header.
    ///
    /// # Background
    /// RFC 9110 §8.6 defines `Content-Length` as digits. SAP Gateway sends values such as `71,`.
    pub invalid_content_length: bool,
    /// Accept spaces or tabs at the end of an embedded request or status line (`POST /Customers HTTP/1.1 `).
    ///
    /// # Background
    /// RFC 9112 §3 and §4 allow none; the OData V2 specification's batch example has them.
    pub trailing_whitespace: bool,
    /// Keep a line that starts with `--boundary` but is not a delimiter line (`--batch_1X`, `--batch_1 text`)
    /// as text of the body, head or preamble it stands in. Strict reading refuses it with
    /// [`DecodeErrorKind::DelimiterLookalike`](crate::DecodeErrorKind::DelimiterLookalike).
    ///
    /// # Background
    /// RFC 2046 §5.1.1 makes such a line text, but a server that matches boundaries by prefix splits the part
    /// there and reads a different batch: a validating server refuses what two readers could read apart.
    pub delimiter_lookalikes: bool,
    /// Keep a close delimiter followed by anything but transport padding and a line end (`--batch_1--x`) as
    /// text. Strict reading refuses it with
    /// [`DecodeErrorKind::InvalidCloseDelimiter`](crate::DecodeErrorKind::InvalidCloseDelimiter).
    ///
    /// # Background
    /// RFC 2046 §5.1.1 lets only padding and a line break follow a close delimiter; readers that match the
    /// close delimiter by prefix end the batch there.
    pub close_delimiter_trailer: bool,
    /// Accept a changeset boundary that the batch boundary starts with, or one that starts with the batch
    /// boundary (`batch_1` and `batch_1_cs`). Delimiter lines are still told apart exactly. Strict reading
    /// refuses it with [`DecodeErrorKind::OverlappingBoundaries`](crate::DecodeErrorKind::OverlappingBoundaries).
    ///
    /// # Background
    /// RFC 2046 §5.1.2 asks that no encapsulation boundary appear within the encapsulated parts; a reader
    /// that matches by prefix confuses the two.
    pub overlapping_boundaries: bool,
    /// Accept a part header (`Content-Type`, `Content-Transfer-Encoding`, `Content-ID`, in the MIME part
    /// headers or, for `Content-ID`, the embedded ones) given twice with different values; the first counts.
    /// Strict reading refuses it with [`DecodeErrorKind::ConflictingHeaders`](crate::DecodeErrorKind::ConflictingHeaders).
    /// The same value given twice is accepted either way.
    ///
    /// # Background
    /// Readers that take the last value instead of the first would read a different operation.
    pub conflicting_headers: bool,
    /// Accept a part whose MIME `Content-ID` and embedded `Content-ID` differ; the MIME part header counts.
    /// Strict reading refuses it with [`DecodeErrorKind::ContentIdMismatch`](crate::DecodeErrorKind::ContentIdMismatch).
    ///
    /// # Background
    /// OData puts `Content-ID` in the MIME part headers; Creatio puts it in the embedded ones. With both,
    /// readers disagree about which names the operation.
    pub content_id_mismatch: bool,
    /// Accept an embedded `Content-Length` that disagrees with the body between the head and the next
    /// delimiter, or that is given twice with different values; bodies are framed by delimiters either way.
    /// Strict reading refuses them with [`DecodeErrorKind::ContentLengthMismatch`](crate::DecodeErrorKind::ContentLengthMismatch)
    /// and [`DecodeErrorKind::ConflictingContentLength`](crate::DecodeErrorKind::ConflictingContentLength). A response
    /// without a body may announce any length (the answer to `HEAD`) in both modes.
    ///
    /// # Background
    /// RFC 9112 §6.3 treats disagreeing lengths as an error that opens the door to request smuggling; some
    /// servers count the body before re-encoding it.
    pub content_length_mismatch: bool,
    /// Accept an embedded `Transfer-Encoding` header; the body is delivered as it stands between the head and
    /// the next delimiter, not de-chunked. Strict reading refuses it with
    /// [`DecodeErrorKind::TransferEncodingInPart`](crate::DecodeErrorKind::TransferEncodingInPart).
    ///
    /// # Background
    /// Batch parts are framed by the multipart delimiters; a reader that honours the header would cut the body
    /// elsewhere.
    pub embedded_transfer_encoding: bool,
    /// Accept spaces or tabs between a header name and its colon (`Name : value`); the name is read without
    /// them. Strict reading refuses the line as [`DecodeErrorKind::InvalidHeaderLine`](crate::DecodeErrorKind::InvalidHeaderLine).
    ///
    /// # Background
    /// RFC 9112 §5.1 forbids the space and requires proxies to remove it from responses, so clients meet it;
    /// openui5's parser tests have such a response header.
    pub space_before_colon: bool,
    /// Accept an unquoted `boundary` parameter whose value holds RFC 2046 characters that are not token
    /// characters (`boundary=batch:m39/x=y`); the value runs to the next `;` or the end. Strict reading
    /// requires the quotes ([`ContentTypeError::Malformed`](crate::ContentTypeError::Malformed)).
    ///
    /// # Background
    /// RFC 2045 §5.1 requires a quoted string for such values; SAP CAP answers with them unquoted.
    pub unquoted_boundary_specials: bool,
}

impl Leniency {
    /// Everything tolerated: the default, for clients.
    pub const fn lenient() -> Self {
        Self {
            bare_lf: true,
            transport_padding: true,
            preamble_epilogue: true,
            close_without_line_end: true,
            obs_fold: true,
            missing_transfer_encoding: true,
            unterminated_head: true,
            spaces_in_url: true,
            invalid_content_length: true,
            trailing_whitespace: true,
            delimiter_lookalikes: true,
            close_delimiter_trailer: true,
            overlapping_boundaries: true,
            conflicting_headers: true,
            content_id_mismatch: true,
            content_length_mismatch: true,
            embedded_transfer_encoding: true,
            space_before_colon: true,
            unquoted_boundary_specials: true,
        }
    }

    /// Nothing tolerated, for servers validating untrusted requests.
    pub const fn strict() -> Self {
        Self {
            bare_lf: false,
            transport_padding: false,
            preamble_epilogue: false,
            close_without_line_end: false,
            obs_fold: false,
            missing_transfer_encoding: false,
            unterminated_head: false,
            spaces_in_url: false,
            invalid_content_length: false,
            trailing_whitespace: false,
            delimiter_lookalikes: false,
            close_delimiter_trailer: false,
            overlapping_boundaries: false,
            conflicting_headers: false,
            content_id_mismatch: false,
            content_length_mismatch: false,
            embedded_transfer_encoding: false,
            space_before_colon: false,
            unquoted_boundary_specials: false,
        }
    }
}

impl Default for Leniency {
    /// Same as [`Leniency::lenient`].
    fn default() -> Self {
        Self::lenient()
    }
}
