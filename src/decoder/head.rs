//! The head scanner: reads the head of the current part (MIME part headers, the embedded start line and
//! headers) line by line, resuming where the last call stopped, so that every byte of a head is looked at once
//! even when it arrives in pieces; validates it and builds the [`Head`] (or, for a changeset, the
//! [`Event::ChangesetStart`]).
//!
//! ```text
//! phase        | a line is                                  | then
//! -------------+--------------------------------------------+-------------------------------------------
//! PartHeaders  | a MIME part header (or folding)            | blank line: StartLine, or ChangesetStart
//! StartLine    | the request or status line                 | Headers
//! Headers      | an embedded header (or folding)            | blank line: the Head is emitted, Body follows
//! ```
//!
//! A line that is a delimiter ends the head early (an error, or with `unterminated_head` the head without a
//! blank line); the part headers nearly every writer emits are recognised in one comparison.

use nom::Offset;

use super::{BatchDecoder, Input, State, Verify};
use crate::boundary::{self, Delimiter, CANONICAL_PART_HEADERS};
use crate::error::{DecodeError, DecodeErrorKind, Limit};
use crate::event::{ChangesetHead, Event, Head, MessageKind, Span, StartLine};
use crate::grammar;
use crate::rules::Culprit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Phase {
    #[default]
    PartHeaders,
    StartLine,
    Headers,
}

/// Progress through the head of the current part; offsets relative to the buffer front.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct HeadScan {
    pos: usize,
    phase: Phase,
    /// Header lines in the current block.
    count: usize,
    /// A header line precedes (obsolete folding may continue it).
    in_header: bool,
    part_headers_end: usize,
    content_type: Option<Span>,
    transfer_encoding: Option<Span>,
    part_content_id: Option<Span>,
    start_line: Option<StartLine>,
    headers_start: usize,
    /// End of the content of the last header line (before its line break).
    last_line_end: usize,
    content_id: Option<Span>,
    content_length: Option<Span>,
    /// Which tracked header the last header line was, for obsolete folding.
    last_slot: Slot,
    /// Where the search for the current line's end resumes.
    newline_from: usize,
    /// The part headers started with [`CANONICAL_PART_HEADERS`]: the part is `application/http`, binary (the
    /// first occurrence of a header counts), unless a folded line continued one of the two values (their spans
    /// then differ from the canonical ones, which is checked).
    canonical: bool,
}

/// The headers the decoder tracks while scanning a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Slot {
    #[default]
    Other,
    ContentType,
    TransferEncoding,
    PartContentId,
    ContentId,
    ContentLength,
}

impl HeadScan {
    fn slot_mut(&mut self, slot: Slot) -> Option<&mut Option<Span>> {
        match slot {
            Slot::Other => None,
            Slot::ContentType => Some(&mut self.content_type),
            Slot::TransferEncoding => Some(&mut self.transfer_encoding),
            Slot::PartContentId => Some(&mut self.part_content_id),
            Slot::ContentId => Some(&mut self.content_id),
            Slot::ContentLength => Some(&mut self.content_length),
        }
    }
}

/// How many embedded header names of the previous head [`NameTemplate`] keeps.
const TEMPLATE_NAMES: usize = 8;

/// The header names of one block of the previous head (its embedded headers, or its MIME part headers), in
/// order, each with its colon (at most sixteen bytes): the heads of a batch nearly always repeat them. A header line that starts with the name the previous head had at
/// the same place, colon included, compared as one sixteen-byte word, is read without the token scan and
/// without the name dispatch; the comparison proves what the scan would find (the recorded name was scanned
/// and is all token bytes, and the colon ends it), so the result is the same.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct NameTemplate {
    /// Name and colon in the low bytes (little-endian), the rest zero.
    words: [u128; TEMPLATE_NAMES],
    /// Selects the bytes of `words` that count; zero for no entry.
    masks: [u128; TEMPLATE_NAMES],
    slots: [Slot; TEMPLATE_NAMES],
}

impl NameTemplate {
    /// Where the colon is and which header it is, when the line at `pos` starts with the name the previous head
    /// had as its `index`th header.
    #[inline(always)]
    fn known(&self, buf: &[u8], pos: usize, index: usize) -> Option<(usize, Slot)> {
        let mask = *self.masks.get(index)?;
        let word = u128::from_le_bytes(buf.get(pos..pos + 16)?.try_into().expect("sixteen bytes"));
        if mask == 0 || (word & mask) != self.words[index] {
            return None;
        }
        // The colon is the highest byte the mask selects.
        Some((pos + 15 - (mask.leading_zeros() / 8) as usize, self.slots[index]))
    }

    /// Keeps `name_and_colon` (read by the token scan) as the `index`th name.
    #[inline(always)]
    fn record(&mut self, index: usize, name_and_colon: &[u8], slot: Slot) {
        let len = name_and_colon.len();
        if index >= TEMPLATE_NAMES || len > 16 {
            return;
        }
        let mut bytes = [0u8; 16];
        bytes[..len].copy_from_slice(name_and_colon);
        self.words[index] = u128::from_le_bytes(bytes);
        self.masks[index] = u128::MAX >> (8 * (16 - len));
        self.slots[index] = slot;
    }
}

/// How long an embedded header line [`LineMemo`] keeps can be, line break included.
const MEMO_LINE: usize = 48;

/// The embedded header lines of the previous head, whole (at most [`MEMO_LINE`] bytes with the line break),
/// with their reading: the lines of a batch's heads nearly always repeat (`OData-Version: 4.0`, the same
/// `Content-Type`). A line equal to the one the previous head had at the same place, line feed included, has
/// the same reading (where the colon is, the value once trimmed, where the content ends), so it is neither
/// scanned nor validated again. Only lines the single-pass scan accepted are kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct LineMemo {
    lines: [[u8; MEMO_LINE]; TEMPLATE_NAMES],
    /// The line's length with its line break; zero for none.
    lens: [u8; TEMPLATE_NAMES],
    /// Offsets in the line: the colon, the trimmed value's start and end, the end of the content (before the
    /// line break).
    offsets: [[u8; 4]; TEMPLATE_NAMES],
    slots: [Slot; TEMPLATE_NAMES],
}

impl Default for LineMemo {
    fn default() -> Self {
        Self {
            lines: [[0; MEMO_LINE]; TEMPLATE_NAMES],
            lens: [0; TEMPLATE_NAMES],
            offsets: [[0; 4]; TEMPLATE_NAMES],
            slots: [Slot::Other; TEMPLATE_NAMES],
        }
    }
}

/// A remembered line's reading, offsets relative to the line's start.
#[derive(Clone, Copy)]
struct MemoLine {
    len: usize,
    colon: usize,
    value: (usize, usize),
    content_end: usize,
    slot: Slot,
}

impl LineMemo {
    /// The reading of the line at `pos` when it equals the `index`th line of the previous head.
    #[inline(always)]
    fn get(&self, buf: &[u8], pos: usize, index: usize) -> Option<MemoLine> {
        let len = usize::from(*self.lens.get(index)?);
        let line = buf.get(pos..pos + len)?;
        if len == 0 || line != &self.lines[index][..len] {
            return None;
        }
        let [colon, start, end, content_end] = self.offsets[index].map(usize::from);
        Some(MemoLine {
            len,
            colon,
            value: (start, end),
            content_end,
            slot: self.slots[index],
        })
    }

    /// Keeps `line` (with its line break) and its reading as the `index`th line.
    #[inline(always)]
    fn record(&mut self, index: usize, line: &[u8], reading: MemoLine) {
        if index >= TEMPLATE_NAMES || line.len() > MEMO_LINE {
            return;
        }
        self.lines[index][..line.len()].copy_from_slice(line);
        self.lens[index] = line.len() as u8;
        self.offsets[index] = [reading.colon, reading.value.0, reading.value.1, reading.content_end].map(|o| o as u8);
        self.slots[index] = reading.slot;
    }
}

/// The previous head's status line, when it was at most 32 bytes: a batch's responses nearly always repeat it
/// (`HTTP/1.1 204 No Content` a thousand times), and an equal line has the same reading.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StatusMemo {
    line: [u8; 32],
    /// The line's length; zero for none (an empty line is no status line).
    len: u8,
    status: u16,
    /// Where the reason phrase starts in the line.
    reason_at: u8,
}

impl StatusMemo {
    /// The status and where the reason starts, when `line` is the remembered one.
    #[inline(always)]
    fn get(&self, line: &[u8]) -> Option<(u16, usize)> {
        let len = usize::from(self.len);
        (len != 0 && line.len() == len && line == &self.line[..len])
            .then_some((self.status, usize::from(self.reason_at)))
    }

    fn remember(&mut self, line: &[u8], status: u16, reason_at: usize) {
        if line.len() <= self.line.len() {
            self.line[..line.len()].copy_from_slice(line);
            self.len = line.len() as u8;
            self.status = status;
            self.reason_at = reason_at as u8;
        }
    }
}

/// The previous head's request line, when it was at most 64 bytes: a batch's requests often repeat it (`POST
/// accounts HTTP/1.1` for a bulk create, the same `$1/...` target through a changeset), and an equal line has the
/// same reading. The reading is kept as lengths: the target starts after the method and its space, and a
/// version, when there is one, is the line's last eight bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestMemo {
    line: [u8; 64],
    /// The line's length; zero for none (an empty line is no request line).
    len: u8,
    method_len: u8,
    target_len: u8,
    version: bool,
}

impl Default for RequestMemo {
    fn default() -> Self {
        Self {
            line: [0; 64],
            len: 0,
            method_len: 0,
            target_len: 0,
            version: false,
        }
    }
}

impl RequestMemo {
    /// `(method length, target length, has a version)` when `line` is the remembered one.
    #[inline(always)]
    fn get(&self, line: &[u8]) -> Option<(usize, usize, bool)> {
        let len = usize::from(self.len);
        (len != 0 && line.len() == len && line == &self.line[..len]).then_some((
            usize::from(self.method_len),
            usize::from(self.target_len),
            self.version,
        ))
    }

    fn remember(&mut self, line: &[u8], method_len: usize, target_len: usize, version: bool) {
        if line.len() <= self.line.len() {
            self.line[..line.len()].copy_from_slice(line);
            self.len = line.len() as u8;
            self.method_len = method_len as u8;
            self.target_len = target_len as u8;
            self.version = version;
        }
    }
}

/// Where the two values stand in it.
const CANONICAL_CONTENT_TYPE: (usize, usize) = (14, 30);
const CANONICAL_ENCODING: (usize, usize) = (59, 65);

impl BatchDecoder {
    /// Scans the head of the current part line by line, resuming where the last call stopped.
    pub(super) fn scan_head<I: Input>(&mut self, input: &mut I, eof: bool) -> Result<Option<Event>, DecodeError> {
        let max = self.limits.max_head_bytes;
        // What an earlier call read of this head must still be there.
        let len = input.chunk().len();
        if self.head.pos.max(self.head.newline_from) > len {
            return Err(self.input_removed(len));
        }
        // The part headers nearly every writer emits, byte for byte: one comparison instead of two lines.
        let canonical_fits = max >= CANONICAL_PART_HEADERS.len() && self.limits.max_headers >= 2;
        if self.head.pos == 0 && canonical_fits && boundary::starts_with_long(input.chunk(), CANONICAL_PART_HEADERS) {
            self.head.content_type = Some(Span::new(CANONICAL_CONTENT_TYPE.0, CANONICAL_CONTENT_TYPE.1));
            self.head.transfer_encoding = Some(Span::new(CANONICAL_ENCODING.0, CANONICAL_ENCODING.1));
            self.head.count = 2;
            self.head.in_header = true;
            self.head.last_slot = Slot::TransferEncoding;
            self.head.last_line_end = CANONICAL_PART_HEADERS.len() - 2;
            self.head.pos = CANONICAL_PART_HEADERS.len();
            self.head.canonical = true;
        }
        loop {
            let buf = input.chunk();
            let pos = self.head.pos;
            // The common line, a well-formed header, in one pass; tried once per line (a long line arriving in
            // pieces resumes its line-end search below instead of rescanning), and not for a blank line or a line
            // starting with `-`, which may look like a delimiter.
            let header_like = !matches!(buf.get(pos), Some(b'-' | b'\r' | b'\n'));
            if self.head.phase != Phase::StartLine && self.head.newline_from <= pos && header_like {
                // A line the previous head had at this place, whole, needs no scan at all (embedded headers).
                if self.head.phase == Phase::Headers {
                    if let Some(m) = self.lines.get(buf, pos, self.head.count) {
                        if pos + m.len <= max {
                            let known = Some((pos + m.colon, m.slot));
                            let (start, end) = (pos + m.value.0, pos + m.value.1);
                            self.header(buf, &buf[pos..pos + m.colon], start, end, pos, known)?;
                            self.head.last_line_end = pos + m.content_end;
                            self.head.pos = pos + m.len;
                            continue;
                        }
                    }
                }
                // A name the previous head had at this place needs no scan.
                let known = match self.head.phase {
                    Phase::Headers => self.names.known(buf, pos, self.head.count),
                    _ => self.part_names.known(buf, pos, self.head.count),
                };
                let scanned = match known {
                    Some((colon, _)) => grammar::line_end(buf, colon + 1)
                        .map(|(newline, valid)| grammar::ScannedHeader { colon, newline, valid }),
                    None => grammar::scan_header(buf, pos),
                };
                if let Some(h) = scanned {
                    let line_end = h.newline + 1;
                    let crlf = h.newline > 0 && buf[h.newline - 1] == b'\r';
                    if h.valid && line_end <= max && (crlf || self.leniency.bare_lf) {
                        let content_end = if crlf { h.newline - 1 } else { h.newline };
                        let value = grammar::trim_ows(&buf[h.colon + 1..content_end]);
                        let start = buf.offset(value);
                        let slot = self.header(buf, &buf[pos..h.colon], start, start + value.len(), pos, known)?;
                        let index = self.head.count - 1;
                        match (self.head.phase, known) {
                            (Phase::Headers, _) => {
                                let reading = MemoLine {
                                    len: line_end - pos,
                                    colon: h.colon - pos,
                                    value: (start - pos, start + value.len() - pos),
                                    content_end: content_end - pos,
                                    slot,
                                };
                                self.lines.record(index, &buf[pos..line_end], reading);
                                if known.is_none() {
                                    self.names.record(index, &buf[pos..=h.colon], slot);
                                }
                            }
                            (_, None) => self.part_names.record(index, &buf[pos..=h.colon], slot),
                            _ => {}
                        }
                        self.head.last_line_end = content_end;
                        self.head.pos = line_end;
                        continue;
                    }
                }
            }
            // Bytes before `newline_from` were searched for a line end already (a long line arriving in pieces).
            let from = self.head.newline_from.max(pos);
            // A blank line (the end of a block) is answered without a search.
            let blank = from == pos && buf.get(pos..pos + 2) == Some(b"\r\n");
            let found = if blank {
                Some(1)
            } else {
                memchr::memchr(b'\n', &buf[from..]).map(|i| i + from - pos)
            };
            let Some(nl) = found else {
                self.head.newline_from = buf.len();
                if buf.len() > max {
                    return Err(self.limit(Limit::HeadBytes, max as u64, max));
                }
                if eof {
                    return Err(self.err(DecodeErrorKind::Truncated, buf.len()));
                }
                return Ok(None);
            };
            let line_end = pos + nl + 1;
            if line_end > max {
                return Err(self.limit(Limit::HeadBytes, max as u64, max));
            }
            let content_end = if nl > 0 && buf[pos + nl - 1] == b'\r' {
                pos + nl - 1
            } else if self.leniency.bare_lf {
                pos + nl
            } else {
                return Err(self.err(DecodeErrorKind::BareLineFeed, pos + nl));
            };
            let line = &buf[pos..content_end];
            if line.starts_with(b"--") && self.is_delimiter_line(line, pos)? {
                return match self.head.phase {
                    Phase::PartHeaders => Err(self.err(DecodeErrorKind::MissingBlankLine, pos)),
                    Phase::StartLine => Err(self.err(DecodeErrorKind::EmptyPart, pos)),
                    Phase::Headers if self.leniency.unterminated_head => {
                        // The line break before this delimiter belongs to it: the head ends before it.
                        let end = self.head.last_line_end;
                        self.finish_head(input, end).map(Some)
                    }
                    Phase::Headers => Err(self.err(DecodeErrorKind::MissingHeadTerminator, pos)),
                };
            }
            match (self.head.phase, line.is_empty()) {
                (Phase::PartHeaders, true) => {
                    self.head.part_headers_end = pos;
                    self.head.pos = line_end;
                    if let Some(event) = self.end_part_headers(input, line_end)? {
                        return Ok(Some(event));
                    }
                    continue;
                }
                (Phase::PartHeaders | Phase::Headers, false) => {
                    self.header_line(buf, pos, content_end)?;
                    self.head.last_line_end = content_end;
                }
                (Phase::Headers, true) => {
                    // The blank line. If a delimiter follows at once, that line break was the delimiter's.
                    match self.delimiter_at(buf, line_end, eof)? {
                        None => return Ok(None),
                        Some(true) if self.leniency.unterminated_head => {
                            return self.finish_head(input, pos).map(Some);
                        }
                        Some(true) => return Err(self.err(DecodeErrorKind::MissingHeadTerminator, line_end)),
                        Some(false) => return self.finish_head(input, line_end).map(Some),
                    }
                }
                (Phase::StartLine, _) => {
                    self.start_line(line, pos)?;
                    self.head.phase = Phase::Headers;
                    self.head.headers_start = line_end;
                    self.head.last_line_end = content_end;
                    self.head.count = 0;
                    self.head.in_header = false;
                }
            }
            self.head.pos = line_end;
        }
    }

    /// The caller removed bytes an earlier call had read ([`DecodeErrorKind::InputRemoved`]).
    #[cold]
    #[inline(never)]
    fn input_removed(&self, len: usize) -> DecodeError {
        self.err(DecodeErrorKind::InputRemoved, len)
    }

    /// `Some(true)` when a delimiter line starts at `at` in `buf`, `Some(false)` when none can, `None` when more
    /// input is needed to tell.
    fn delimiter_at(&self, buf: &[u8], at: usize, eof: bool) -> Result<Option<bool>, DecodeError> {
        let rest = &buf[at..];
        // Nearly always a body starts here, not a delimiter line.
        if rest.first().is_some_and(|&b| b != b'-') {
            return Ok(Some(false));
        }
        let mut lookalike = None;
        for delim in [Some(&self.outer), self.inner.as_ref()].into_iter().flatten() {
            // At the end of input a cut-off `--boundary` after the blank line is no delimiter: the body search
            // reports the truncation.
            if eof && rest.len() < delim.dash_boundary().len() {
                continue;
            }
            match self.classify(delim, buf, at, eof)? {
                None => {}
                Some(Verify::Delimiter { .. }) => return Ok(Some(true)),
                Some(Verify::Incomplete) => return Ok(None),
                Some(Verify::NotDelimiter { close, after }) => {
                    lookalike.get_or_insert((close, after));
                }
            }
        }
        if let Some((close, after)) = lookalike {
            self.not_delimiter(close, at, after)?;
        }
        Ok(Some(false))
    }

    /// One header line (or obsolete folding continuation) of the current block, at `pos..end`.
    fn header_line(&mut self, buf: &[u8], pos: usize, end: usize) -> Result<(), DecodeError> {
        let line = &buf[pos..end];
        if matches!(line[0], b' ' | b'\t') {
            if !self.head.in_header {
                return Err(self.err(DecodeErrorKind::InvalidHeaderLine, pos));
            }
            if !self.leniency.obs_fold {
                return Err(self.err(DecodeErrorKind::ObsoleteLineFolding, pos));
            }
            if !grammar::is_field_value(line) {
                return Err(self.err(DecodeErrorKind::InvalidHeaderLine, pos));
            }
            // A folded value that we track grows to the end of this line.
            let new_end = (pos + trim_end_len(line)) as u32;
            if let Some(Some(span)) = self.head.slot_mut(self.head.last_slot) {
                span.end = new_end;
            }
            return Ok(());
        }
        let Some((name, value)) = grammar::header_line(line, self.leniency.space_before_colon) else {
            // A start line among the MIME part headers: the blank line between them is missing.
            let start_line = grammar::status_line(line).is_some() || grammar::request_line(line, true).is_some();
            let kind = if self.head.phase == Phase::PartHeaders && start_line {
                DecodeErrorKind::MissingBlankLine
            } else {
                DecodeErrorKind::InvalidHeaderLine
            };
            return Err(self.err(kind, pos));
        };
        let start = buf.offset(value);
        self.header(buf, name, start, start + value.len(), pos, None).map(drop)
    }

    /// Records one well-formed header line: counts it and tracks the headers the decoder needs. `known` is the
    /// name's slot when [`NameTemplate`] already knows it; returns the slot.
    #[inline]
    fn header(
        &mut self,
        buf: &[u8],
        name: &[u8],
        start: usize,
        end: usize,
        pos: usize,
        known: Option<(usize, Slot)>,
    ) -> Result<Slot, DecodeError> {
        self.head.count += 1;
        if self.head.count > self.limits.max_headers {
            return Err(self.limit(Limit::Headers, self.limits.max_headers as u64, pos));
        }
        self.head.in_header = true;
        let span = Some(Span::new(start, end));
        // Dispatch on the length first: most names are none of these and cost no comparison.
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        let slot = match (self.head.phase, name.len()) {
            _ if known.is_some() => known.map_or(Slot::Other, |(_, slot)| slot),
            (Phase::PartHeaders, 12) if is("content-type") => Slot::ContentType,
            (Phase::PartHeaders, 25) if is("content-transfer-encoding") => Slot::TransferEncoding,
            (Phase::PartHeaders, 10) if is("content-id") => Slot::PartContentId,
            (Phase::Headers, 10) if is("content-id") => Slot::ContentId,
            (Phase::Headers, 14) if is("content-length") => Slot::ContentLength,
            (Phase::Headers, 17) if is("transfer-encoding") && !self.leniency.embedded_transfer_encoding => {
                return Err(self.err(DecodeErrorKind::TransferEncodingInPart, pos));
            }
            _ => Slot::Other,
        };
        self.head.last_slot = Slot::Other;
        // The first occurrence of each counts; a later one with another value is an error under strict reading.
        if let Some(target) = self.head.slot_mut(slot) {
            match *target {
                None => {
                    *target = span;
                    self.head.last_slot = slot;
                }
                Some(first) => return self.repeated_header(buf, slot, first, start..end, pos).map(|()| slot),
            }
        }
        Ok(slot)
    }

    /// A tracked header given again: an error under strict reading when its value differs from the first.
    #[cold]
    fn repeated_header(
        &self,
        buf: &[u8],
        slot: Slot,
        first: Span,
        again: std::ops::Range<usize>,
        pos: usize,
    ) -> Result<(), DecodeError> {
        let (a, b) = (&buf[first.start as usize..first.end as usize], &buf[again]);
        let conflict = match slot {
            Slot::ContentType | Slot::TransferEncoding => !a.eq_ignore_ascii_case(b),
            _ => a != b,
        };
        match (conflict, slot) {
            (true, Slot::ContentLength) if !self.leniency.content_length_mismatch => {
                Err(self.err(DecodeErrorKind::ConflictingContentLength, pos))
            }
            (true, Slot::ContentLength) => Ok(()),
            (true, _) if !self.leniency.conflicting_headers => Err(self.err(DecodeErrorKind::ConflictingHeaders, pos)),
            _ => Ok(()),
        }
    }

    /// After the blank line that ends the MIME part headers: a changeset starts, or the embedded head follows.
    fn end_part_headers<I: Input>(&mut self, input: &mut I, blank_end: usize) -> Result<Option<Event>, DecodeError> {
        let buf = input.chunk();
        let Some(ct) = self.head.content_type else {
            return Err(self.err(DecodeErrorKind::MissingContentType, 0));
        };
        let ct_value = &buf[ct.start as usize..ct.end as usize];
        // The common cases without parsing: exactly `application/http`, in any case, or a changeset's
        // `multipart/mixed; boundary=...` in its plainest form.
        // The canonical part headers, unless a folded line went on with one of their values since.
        let canonical = self.head.canonical
            && ct == Span::new(CANONICAL_CONTENT_TYPE.0, CANONICAL_CONTENT_TYPE.1)
            && self.head.transfer_encoding == Some(Span::new(CANONICAL_ENCODING.0, CANONICAL_ENCODING.1));
        let plain_http = canonical || ct_value.eq_ignore_ascii_case(b"application/http");
        let plain = if plain_http {
            None
        } else {
            boundary::plain_multipart_boundary(ct_value)
        };
        let http = plain_http
            || (plain.is_none() && {
                let Some(media_type) = grammar::media_type_with(ct_value, self.leniency.unquoted_boundary_specials)
                else {
                    return Err(self.err(DecodeErrorKind::UnsupportedContentType, ct.start as usize));
                };
                if !media_type.is("multipart", "mixed") && !media_type.is("application", "http") {
                    return Err(self.err(DecodeErrorKind::UnsupportedContentType, ct.start as usize));
                }
                media_type.is("application", "http")
            });
        if !http {
            if self.inner.is_some() {
                return Err(self.err(DecodeErrorKind::NestedChangeset, ct.start as usize));
            }
            let (b_start, b_end) = match plain {
                Some(span) => span,
                None => boundary::boundary_in_content_type(ct_value, self.leniency.unquoted_boundary_specials)
                    .map_err(|_| self.err(DecodeErrorKind::InvalidChangesetBoundary, ct.start as usize))?,
            };
            let boundary = &ct_value[b_start..b_end];
            let outer = self.outer.boundary();
            if boundary == outer {
                return Err(self.err(DecodeErrorKind::ChangesetBoundaryReused, ct.start as usize + b_start));
            }
            if !self.leniency.overlapping_boundaries && (outer.starts_with(boundary) || boundary.starts_with(outer)) {
                return Err(self.err(DecodeErrorKind::OverlappingBoundaries, ct.start as usize + b_start));
            }
            let delim = match self.spare_inner.take() {
                Some(d) if d.boundary() == boundary => d,
                _ => Delimiter::new(boundary),
            };
            self.inner = Some(delim);
            self.changeset_operations = 0;
            self.rules.begin_changeset();
            let head = &self.head;
            let boundary_span = Span::new(ct.start as usize + b_start, ct.start as usize + b_end);
            let part_headers = Span::new(0, head.part_headers_end);
            let content_id = head.part_content_id;
            let raw = self.take(input, blank_end);
            self.state = State::ChangesetPreamble;
            self.line_start = true;
            return Ok(Some(Event::ChangesetStart(ChangesetHead {
                raw,
                part_headers,
                boundary: boundary_span,
                content_id,
            })));
        }
        match self.head.transfer_encoding {
            _ if canonical => {}
            None if !self.leniency.missing_transfer_encoding => {
                return Err(self.err(DecodeErrorKind::MissingTransferEncoding, 0));
            }
            Some(cte) if !buf[cte.start as usize..cte.end as usize].eq_ignore_ascii_case(b"binary") => {
                return Err(self.err(DecodeErrorKind::UnsupportedTransferEncoding, cte.start as usize));
            }
            _ => {}
        }
        self.operations += 1;
        if self.operations > self.limits.max_operations {
            return Err(self.limit(Limit::Operations, self.limits.max_operations as u64, 0));
        }
        if self.inner.is_some() {
            self.changeset_operations += 1;
            if self.changeset_operations > self.limits.max_changeset_operations {
                return Err(self.limit(
                    Limit::ChangesetOperations,
                    self.limits.max_changeset_operations as u64,
                    0,
                ));
            }
        }
        self.head.phase = Phase::StartLine;
        self.head.count = 0;
        self.head.in_header = false;
        Ok(None)
    }

    /// The embedded request or status line at `pos`.
    fn start_line(&mut self, line: &[u8], pos: usize) -> Result<(), DecodeError> {
        let line = if self.leniency.trailing_whitespace {
            &line[..trim_end_len(line)]
        } else {
            line
        };
        let base = pos;
        let is_response = line.starts_with(b"HTTP/") || (line.is_empty() && self.kind == Some(MessageKind::Response));
        let kind = if is_response {
            MessageKind::Response
        } else {
            MessageKind::Request
        };
        match self.kind {
            Some(k) if k != kind => {
                let err = if self.fixed_kind.is_some() {
                    DecodeErrorKind::UnexpectedMessageKind
                } else {
                    DecodeErrorKind::MixedRequestResponse
                };
                return Err(self.err(err, pos));
            }
            _ => self.kind = Some(kind),
        }
        let start_line = if is_response {
            let (status, reason_at) = match self.last_status.get(line) {
                Some(known) => known,
                None => {
                    let s =
                        grammar::status_line(line).ok_or_else(|| self.err(DecodeErrorKind::InvalidStatusLine, pos))?;
                    let reason_at = line.offset(s.reason);
                    self.last_status.remember(line, s.status, reason_at);
                    (s.status, reason_at)
                }
            };
            // The version is always the first eight bytes.
            StartLine::Response {
                version: Span::new(base, base + 8),
                status,
                reason: Span::new(base + reason_at, base + line.len()),
            }
        } else {
            let (method_len, target_len, version) = match self.last_request.get(line) {
                Some(known) => known,
                None => {
                    let r = grammar::request_line(line, self.leniency.spaces_in_url)
                        .ok_or_else(|| self.err(DecodeErrorKind::InvalidRequestLine, pos))?;
                    let known = (r.method.len(), r.target.len(), r.version.is_some());
                    self.last_request.remember(line, known.0, known.1, known.2);
                    known
                }
            };
            // The target follows the method and one space; a version is the line's last eight bytes.
            let target_start = base + method_len + 1;
            StartLine::Request {
                method: Span::new(base, base + method_len),
                target: Span::new(target_start, target_start + target_len),
                version: version.then(|| Span::new(base + line.len() - 8, base + line.len())),
            }
        };
        self.head.start_line = Some(start_line);
        Ok(())
    }

    /// The head is complete at `end`: validate, split it off and emit it.
    fn finish_head<I: Input>(&mut self, input: &mut I, end: usize) -> Result<Event, DecodeError> {
        let buf = input.chunk();
        // The fields, not a copy of the whole scan (copying it cost a store-forwarding stall per head).
        let h = &self.head;
        let (part_content_id, embedded_content_id, content_length) =
            (h.part_content_id, h.content_id, h.content_length);
        let (headers_start, last_line_end, part_headers_end) = (h.headers_start, h.last_line_end, h.part_headers_end);
        let start_line = h.start_line.ok_or_else(|| self.err(DecodeErrorKind::EmptyPart, end))?;
        self.expected_body = None;
        let lenient_length = self.leniency.invalid_content_length && self.leniency.content_length_mismatch;
        if let (Some(cl), false) = (content_length, lenient_length) {
            let strict_value = !self.leniency.invalid_content_length;
            match grammar::content_length(&buf[cl.start as usize..cl.end as usize]) {
                grammar::ContentLength::Invalid if strict_value => {
                    return Err(self.err(DecodeErrorKind::InvalidContentLength, cl.start as usize));
                }
                grammar::ContentLength::Overflow if strict_value => {
                    return Err(self.err(DecodeErrorKind::ContentLengthOverflow, cl.start as usize));
                }
                grammar::ContentLength::Value(n) if !self.leniency.content_length_mismatch => {
                    self.expected_body = Some((n, matches!(start_line, StartLine::Response { .. })));
                }
                _ => {}
            }
        }
        if let (Some(part), Some(embedded)) = (part_content_id, embedded_content_id) {
            let get = |s: Span| &buf[s.start as usize..s.end as usize];
            if !self.leniency.content_id_mismatch && get(part) != get(embedded) {
                return Err(self.err(DecodeErrorKind::ContentIdMismatch, embedded.start as usize));
            }
        }
        let content_id = part_content_id.or(embedded_content_id);
        if let (true, StartLine::Request { method, target, .. }) = (self.validate, start_line) {
            let bytes = |s: Span| &buf[s.start as usize..s.end as usize];
            let id = content_id.map(bytes);
            match self.rules.check(bytes(method), bytes(target), id) {
                Ok(key) => {
                    if let (Some(id), Some(key)) = (id, key) {
                        self.rules.record(id, key);
                    }
                }
                Err((rule, culprit)) => {
                    let at = match (culprit, content_id) {
                        (Culprit::Method, _) => method.start,
                        (Culprit::Target, _) => target.start,
                        (Culprit::ContentId, Some(cid)) => cid.start,
                        (Culprit::ContentId, None) => method.start,
                    };
                    return Err(self.err(DecodeErrorKind::Rule(rule), at as usize));
                }
            }
        }
        // The embedded header block: from after the start line to the end of the last header line, within the
        // head (a start line directly followed by a delimiter has no header block at all).
        let headers_start = headers_start.min(end);
        let headers_end = last_line_end.clamp(headers_start, end);
        let raw = self.take(input, end);
        self.state = State::Body;
        self.body_bytes = 0;
        Ok(Event::Head(Head {
            raw,
            part_headers: Span::new(0, part_headers_end),
            start_line,
            headers: Span::new(headers_start, headers_end),
            content_id,
        }))
    }
}

/// Number of bytes in `line` once trailing spaces and tabs are removed.
fn trim_end_len(line: &[u8]) -> usize {
    line.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_part_header_spans() {
        let (ct, cte) = (CANONICAL_CONTENT_TYPE, CANONICAL_ENCODING);
        assert_eq!(&CANONICAL_PART_HEADERS[ct.0..ct.1], b"application/http");
        assert_eq!(&CANONICAL_PART_HEADERS[cte.0..cte.1], b"binary");
        assert!(CANONICAL_PART_HEADERS.ends_with(b"binary\r\n"));
    }
}
