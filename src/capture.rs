//! [`CapturedMessage`]: a whole HTTP/1.x message as a proxy, a browser or `curl -i` saves it (start line,
//! headers, blank line, body), split into what a batch reader needs: its role, its `Content-Type` and its body.
//!
//! The CLI's `decode` reads captured messages with it; it is in the library so that it is tested, fuzzed and
//! usable like every other reader here. It accepts CRLF or LF line ends, reads a body framed by
//! `Content-Length` or `Transfer-Encoding: chunked` (de-chunked), and otherwise takes everything after the
//! blank line. A body under `Transfer-Encoding: chunked` that does not start with a chunk size line was
//! de-chunked by the capturing tool (`curl -i` keeps the header): it is taken as it is, and the message says
//! so. It refuses what two readers could read apart: two `Content-Type` headers with different
//! values, two different `Content-Length`s, both `Content-Length` and `chunked`, a transfer coding other than
//! `chunked`, a body shorter than its `Content-Length`, bytes after a framed body other than line breaks.

use std::fmt;

use bytes::Bytes;

/// What a captured message holds that a batch reader needs.
///
/// # Example
///
/// ```
/// use odata_batch::capture::CapturedMessage;
///
/// let raw = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n\
///             3\r\nabc\r\n0\r\n\r\n";
/// let message = CapturedMessage::parse(&raw[..]).unwrap();
/// assert!(!message.is_request);
/// assert_eq!(message.content_type.as_deref(), Some("multipart/mixed; boundary=b"));
/// assert_eq!(&message.body[..], b"abc");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapturedMessage {
    /// The message is a request (`POST .../$batch HTTP/1.1`), not a response (`HTTP/1.1 200 OK`).
    pub is_request: bool,
    /// The `Content-Type` header's value, without surrounding white space.
    pub content_type: Option<String>,
    /// The body, de-chunked when it was chunked; a view of the input otherwise.
    pub body: Bytes,
    /// The headers say `Transfer-Encoding: chunked` but the body does not start with a chunk size line: the
    /// capturing tool had de-chunked it already (as `curl -i` does, keeping the header). The body is taken as
    /// it is; a reader may want to say so.
    pub chunked_header_over_plain_body: bool,
    /// The `Content-Encoding` header's value (`gzip`, `br`...), when it has one other than `identity`: the body
    /// is still encoded with it.
    pub content_encoding: Option<String>,
}

/// Why a captured message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The first line is neither a request line (`METHOD target HTTP/x.y`) nor a status line (`HTTP/x.y ...`).
    InvalidStartLine,
    /// The input ends before the blank line that ends the headers.
    MissingHeaderEnd,
    /// A header line without a colon, with a name that is not a token, or a control character in its value.
    InvalidHeaderLine,
    /// A `Content-Type` value that is not UTF-8.
    InvalidContentType,
    /// Two `Content-Type` headers with different values.
    ConflictingContentType,
    /// A `Content-Length` that is not a decimal number that fits 64 bits, or two that differ.
    InvalidContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`: readers disagree about where the body ends.
    ConflictingFraming,
    /// A transfer coding other than `chunked` (the body would stay encoded).
    UnsupportedTransferEncoding,
    /// Two `Content-Encoding` headers with different values, or one that is not UTF-8.
    ConflictingContentEncoding,
    /// The body is shorter than its `Content-Length`, or the chunked body ends before its last chunk.
    Truncated,
    /// A chunk size line that is not hexadecimal digits (optionally with extensions), or a size too large.
    InvalidChunkSize,
    /// A chunk not followed by its line break.
    MissingChunkLineBreak,
    /// Bytes other than line breaks after a body framed by `Content-Length` or chunks.
    TrailingData,
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidStartLine => {
                "the first line is not an HTTP request or status line (pass --content-type for a bare body)"
            }
            Self::MissingHeaderEnd => "no end of headers (blank line)",
            Self::InvalidHeaderLine => "invalid header line",
            Self::InvalidContentType => "Content-Type is not UTF-8",
            Self::ConflictingContentType => "two Content-Type headers with different values",
            Self::InvalidContentLength => "invalid or conflicting Content-Length",
            Self::ConflictingFraming => "both Content-Length and Transfer-Encoding",
            Self::UnsupportedTransferEncoding => "a transfer coding other than chunked",
            Self::ConflictingContentEncoding => "conflicting or invalid Content-Encoding headers",
            Self::Truncated => "the body ends before its announced length",
            Self::InvalidChunkSize => "invalid chunk size line",
            Self::MissingChunkLineBreak => "missing line break after a chunk",
            Self::TrailingData => "data after the end of the body",
        })
    }
}

/// A captured message that could not be read: what went wrong and the byte offset where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureError {
    kind: CaptureErrorKind,
    offset: usize,
}

impl CaptureError {
    fn new(kind: CaptureErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> CaptureErrorKind {
        self.kind
    }

    /// Byte offset in the captured message where it went wrong.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "captured message: {} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for CaptureError {}

/// The next line at `pos`: its start, its content (without CR LF or LF) and where the line after it starts.
fn line(input: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let nl = memchr::memchr(b'\n', &input[pos..])?;
    let content = &input[pos..pos + nl];
    Some((content.strip_suffix(b"\r").unwrap_or(content), pos + nl + 1))
}

fn is_start_line(line: &[u8]) -> Option<bool> {
    if let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, rest @ ..] = line {
        if major.is_ascii_digit() && minor.is_ascii_digit() && (rest.is_empty() || rest[0] == b' ') {
            return Some(false);
        }
        return None;
    }
    let sp = memchr::memchr(b' ', line)?;
    let method_ok = sp > 0 && line[..sp].iter().all(|&b| crate::grammar::is_tchar(b));
    let version = line.get(line.len().saturating_sub(9)..)?;
    let is_version =
        matches!(version, [b' ', b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit());
    (method_ok && is_version && line.len() > sp + 9).then_some(true)
}

fn is_line_breaks(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b'\r' || b == b'\n')
}

impl CapturedMessage {
    /// Splits a captured HTTP/1.x message.
    ///
    /// # Errors
    ///
    /// [`CaptureError`] with the [`CaptureErrorKind`] and the byte offset.
    pub fn parse(input: impl Into<Bytes>) -> Result<Self, CaptureError> {
        use CaptureErrorKind as K;
        let input: Bytes = input.into();
        let err = |kind, at| Err(CaptureError::new(kind, at));
        let Some((start, mut pos)) = line(&input, 0) else {
            return err(K::MissingHeaderEnd, input.len());
        };
        let Some(is_request) = is_start_line(start) else {
            return err(K::InvalidStartLine, 0);
        };
        let mut content_type: Option<(&[u8], usize)> = None;
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        let mut transfer_encoding_at = None;
        let mut length_at = None;
        let mut content_encoding: Option<(&[u8], usize)> = None;
        loop {
            let at = pos;
            let Some((header, next)) = line(&input, pos) else {
                return err(K::MissingHeaderEnd, input.len());
            };
            pos = next;
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = crate::grammar::header_line(header, true) else {
                return err(K::InvalidHeaderLine, at);
            };
            let value_at = at + nom::Offset::offset(header, value);
            if name.eq_ignore_ascii_case(b"content-type") {
                match content_type {
                    Some((first, _)) if first != value => return err(K::ConflictingContentType, at),
                    Some(_) => {}
                    None => content_type = Some((value, value_at)),
                }
            } else if name.eq_ignore_ascii_case(b"content-length") {
                match (crate::grammar::content_length(value), content_length) {
                    (crate::grammar::ContentLength::Value(n), None) => content_length = Some(n),
                    (crate::grammar::ContentLength::Value(n), Some(first)) if n == first => {}
                    _ => return err(K::InvalidContentLength, value_at),
                }
                length_at.get_or_insert(value_at);
            } else if name.eq_ignore_ascii_case(b"content-encoding") {
                if !value.is_empty() && !value.eq_ignore_ascii_case(b"identity") {
                    match content_encoding {
                        Some((first, _)) if first != value => return err(K::ConflictingContentEncoding, at),
                        Some(_) => {}
                        None => content_encoding = Some((value, value_at)),
                    }
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                transfer_encoding_at.get_or_insert(value_at);
                for coding in value.split(|&b| b == b',') {
                    let coding = crate::grammar::trim_ows(coding);
                    if coding.eq_ignore_ascii_case(b"chunked") && !chunked {
                        chunked = true;
                    } else if !coding.is_empty() {
                        return err(K::UnsupportedTransferEncoding, value_at);
                    }
                }
            }
        }
        if let (Some(_), Some(at)) = (content_length, transfer_encoding_at) {
            return err(K::ConflictingFraming, at.max(length_at.unwrap_or(0)));
        }
        let content_type = match content_type {
            Some((value, at)) => match std::str::from_utf8(value) {
                Ok(text) => Some(text.to_owned()),
                Err(_) => return err(K::InvalidContentType, at),
            },
            None => None,
        };
        let content_encoding = match content_encoding {
            Some((value, at)) => match std::str::from_utf8(value) {
                Ok(text) => Some(text.to_owned()),
                Err(_) => return err(K::ConflictingContentEncoding, at),
            },
            None => None,
        };
        let plain_under_chunked = chunked && pos < input.len() && !starts_with_chunk_size(&input[pos..]);
        let body = if plain_under_chunked {
            input.slice(pos..)
        } else if chunked {
            dechunk(&input, pos)?
        } else if let Some(n) = content_length {
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| pos.checked_add(n))
                .filter(|&e| e <= input.len());
            let Some(end) = end else {
                return err(K::Truncated, input.len());
            };
            if !is_line_breaks(&input[end..]) {
                return err(K::TrailingData, end);
            }
            input.slice(pos..end)
        } else {
            input.slice(pos..)
        };
        Ok(Self {
            is_request,
            content_type,
            body,
            chunked_header_over_plain_body: plain_under_chunked,
            content_encoding,
        })
    }
}

/// Whether `body` starts as a chunked body does: hex digits, then optional extensions, then a line end (or the
/// end of what was captured). A batch body starts with `--`, a line break or `{`, none of which can.
fn starts_with_chunk_size(body: &[u8]) -> bool {
    let digits = body.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    digits > 0 && matches!(body.get(digits), None | Some(b'\r' | b'\n' | b';' | b' ' | b'\t'))
}

/// Decodes a `Transfer-Encoding: chunked` body starting at `pos`.
fn dechunk(input: &[u8], mut pos: usize) -> Result<Bytes, CaptureError> {
    use CaptureErrorKind as K;
    let err = |kind, at| Err(CaptureError::new(kind, at));
    let mut out = Vec::with_capacity(input.len() - pos);
    loop {
        let at = pos;
        let Some((size_line, next)) = line(input, pos) else {
            return err(K::Truncated, input.len());
        };
        let digits = crate::grammar::trim_ows(size_line.split(|&b| b == b';').next().unwrap_or_default());
        if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return err(K::InvalidChunkSize, at);
        }
        let size = digits.iter().fold(0usize, |n, &d| {
            n * 16 + (char::from(d).to_digit(16).unwrap_or(0) as usize)
        });
        pos = next;
        if size == 0 {
            // Trailer fields, if any, end with a blank line; they are not part of the body.
            loop {
                let Some((trailer, next)) = line(input, pos) else {
                    return err(K::Truncated, input.len());
                };
                pos = next;
                if trailer.is_empty() {
                    break;
                }
            }
            if !is_line_breaks(&input[pos..]) {
                return err(K::TrailingData, pos);
            }
            return Ok(Bytes::from(out));
        }
        let Some(end) = pos.checked_add(size).filter(|&e| e <= input.len()) else {
            return err(K::Truncated, input.len());
        };
        out.extend_from_slice(&input[pos..end]);
        pos = end;
        if input[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if input[pos..].starts_with(b"\n") {
            pos += 1;
        } else if pos == input.len() {
            return err(K::Truncated, pos);
        } else {
            return err(K::MissingChunkLineBreak, pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaptureErrorKind as K;

    fn parse(input: &[u8]) -> Result<CapturedMessage, CaptureError> {
        CapturedMessage::parse(Bytes::copy_from_slice(input))
    }

    fn refused(input: &[u8]) -> (CaptureErrorKind, usize) {
        let e = parse(input).unwrap_err();
        (e.kind(), e.offset())
    }

    #[test]
    fn a_chunked_header_over_a_body_already_dechunked_takes_the_body_as_it_is() {
        // `curl -i` keeps `Transfer-Encoding: chunked` but writes the body de-chunked.
        for body in [
            &b"--batch_1\r\nContent-Type: application/http\r\n"[..],
            b"{\"responses\":[]}",
            b"\r\n--b--\r\n",
        ] {
            let raw = [
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: x/y\r\n\r\n"[..],
                body,
            ]
            .concat();
            let msg = parse(&raw).unwrap();
            assert_eq!(&msg.body[..], body);
            assert!(msg.chunked_header_over_plain_body);
        }
        // Nothing at all after a chunked header is a cut-off body, as before.
        let empty = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(refused(empty), (K::Truncated, empty.len()));
        // A real chunked body is de-chunked and not flagged.
        let msg = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n").unwrap();
        assert_eq!(
            (&msg.body[..], msg.chunked_header_over_plain_body),
            (&b"abc"[..], false)
        );
    }

    #[test]
    fn content_encoding_is_reported_and_identity_ignored() {
        let msg = parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\nxyz").unwrap();
        assert_eq!(msg.content_encoding.as_deref(), Some("gzip"));
        let msg = parse(b"HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n\r\nxyz").unwrap();
        assert_eq!(msg.content_encoding, None);
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: br\r\n\r\n"),
            (K::ConflictingContentEncoding, 41)
        );
    }

    #[test]
    fn captured_response_with_chunked_body() {
        let msg = parse(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n").unwrap();
        assert!(!msg.is_request);
        assert_eq!(msg.content_type.as_deref(), Some("multipart/mixed; boundary=b"));
        assert_eq!(&msg.body[..], b"abcde");
    }

    #[test]
    fn captured_request_and_lengths() {
        let msg = parse(b"POST /odata/$batch HTTP/1.1\nContent-Type: x/y\n\nbody").unwrap();
        assert!(msg.is_request);
        assert_eq!(&msg.body[..], b"body");
        let msg = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc\r\n").unwrap();
        assert_eq!(&msg.body[..], b"abc");
        let msg = parse(b"HTTP/1.1 204 No Content\r\nContent-Type : a/b\r\n\r\n").unwrap();
        assert_eq!(msg.content_type.as_deref(), Some("a/b"));
    }

    #[test]
    fn bad_messages_with_kind_and_offset() {
        assert_eq!(refused(b"garbage\r\n\r\n"), (K::InvalidStartLine, 0));
        assert_eq!(refused(b"GET HTTP/1.1\r\n\r\n"), (K::InvalidStartLine, 0));
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"),
            (K::InvalidHeaderLine, 17)
        );
        assert_eq!(refused(b"HTTP/1.1 200 OK\r\n"), (K::MissingHeaderEnd, 17));
        assert_eq!(refused(b""), (K::MissingHeaderEnd, 0));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        // A later size line that is not one is a broken body (the first decides that the body is chunked).
        assert_eq!(
            refused(&[&chunked[..], b"1\r\na\r\nzz\r\n"].concat()),
            (K::InvalidChunkSize, 53)
        );
        assert_eq!(refused(&[&chunked[..], b"ff\r\nabc"].concat()), (K::Truncated, 54));
        assert_eq!(
            refused(&[&chunked[..], b"ffffffffffffffffffff\r\n"].concat()),
            (K::InvalidChunkSize, 47)
        );
        assert_eq!(
            refused(&[&chunked[..], b"1\r\nab\r\n"].concat()),
            (K::MissingChunkLineBreak, 51)
        );
        assert_eq!(
            refused(&[&chunked[..], b"0\r\n\r\nextra"].concat()),
            (K::TrailingData, 52)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Type: a/b\r\ncontent-type: c/d\r\n\r\n"),
            (K::ConflictingContentType, 36)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"),
            (K::Truncated, 41)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc"),
            (K::TrailingData, 39)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
            (K::InvalidContentLength, 33)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            (K::InvalidContentLength, 33)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            (K::InvalidContentLength, 52)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            (K::ConflictingFraming, 55)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            (K::UnsupportedTransferEncoding, 36)
        );
        assert_eq!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Type: \xff\r\n\r\n"),
            (K::InvalidContentType, 31)
        );
    }
}
