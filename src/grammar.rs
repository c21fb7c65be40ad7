//! Parsers over one already-framed line or header value: the start lines and header lines, hand-written
//! loops over byte tables (they run for every line of every part); the media type with its parameters, nom
//! *complete* combinators (it runs once per batch and per changeset).
//!
//! The decoder finds line ends with memchr first (with a length cap) and only then hands the line to these
//! parsers, so no parser here ever sees partial input. Results are sub-slices of the input; callers turn
//! them into offsets with [`nom::Offset`].

use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::opt;
use nom::{IResult, Parser};

/// RFC 9110 `tchar`, as a table: token scanning is on the hot path of every header line.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = matches!(c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z');
        b += 1;
    }
    t
};

/// RFC 9110 `tchar`.
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Header field value bytes: visible ASCII, space, tab and obs-text; no other control characters.
#[inline]
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Whether every byte is a field value byte. Written without an early exit so that it vectorises: values
/// are short and almost always valid.
#[inline]
pub(crate) fn is_field_value(v: &[u8]) -> bool {
    v.iter().fold(true, |ok, &b| ok & is_field_value_byte(b))
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims spaces and tabs at both ends.
#[inline]
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    // Nearly every header value: one space after the colon, nothing at the end.
    let start = match s {
        [b' ', b, ..] if !is_ows(*b) => 1,
        _ => s.iter().position(|&b| !is_ows(b)).unwrap_or(s.len()),
    };
    let s = &s[start..];
    match s.last() {
        Some(&b) if !is_ows(b) => s,
        _ => &s[..s.iter().rposition(|&b| !is_ows(b)).map_or(0, |i| i + 1)],
    }
}

/// Whether a value starts or ends with a space or tab, which a reader of it trims.
#[inline]
pub(crate) fn has_outer_ows(v: &[u8]) -> bool {
    matches!(v, [b' ' | b'\t', ..] | [.., b' ' | b'\t'])
}

/// A `Content-Length` value (RFC 9110 §8.6: one or more digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentLength {
    Value(u64),
    /// Not a decimal number.
    Invalid,
    /// Digits, but more than 64 bits hold.
    Overflow,
}

/// Reads a `Content-Length` value: the one parser the decoder, the encoder and the captured-message reader use.
pub(crate) fn content_length(value: &[u8]) -> ContentLength {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return ContentLength::Invalid;
    }
    value
        .iter()
        .try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
        .map_or(ContentLength::Overflow, ContentLength::Value)
}

/// Whether a body of `body` bytes agrees with an announced `Content-Length`: equal, or a response without a
/// body (the answer to `HEAD` announces the length it would have had).
pub(crate) fn length_agrees(announced: u64, body: u64, response: bool) -> bool {
    announced == body || (response && body == 0)
}

/// `GET` or `HEAD` in any case: the methods OData refuses inside a changeset, compared as the decoder and the
/// encoder both compare them.
#[inline]
pub(crate) fn is_get_or_head(method: &[u8]) -> bool {
    matches!(
        method,
        [b'G' | b'g', b'E' | b'e', b'T' | b't'] | [b'H' | b'h', b'E' | b'e', b'A' | b'a', b'D' | b'd']
    )
}

/// `name ":" OWS value OWS` → (name, value). The name must be a token; spaces or tabs before the colon only
/// when `space_before_colon` (the name is returned without them).
pub(crate) fn header_line(line: &[u8], space_before_colon: bool) -> Option<(&[u8], &[u8])> {
    // Both checks are folds without early exits, so they run without a branch per byte.
    let n = memchr::memchr(b':', line)?;
    let (mut name, value) = (&line[..n], &line[n + 1..]);
    if space_before_colon {
        while let [rest @ .., b' ' | b'\t'] = name {
            name = rest;
        }
    }
    let name_ok = name.iter().fold(!name.is_empty(), |ok, &b| ok & is_tchar(b));
    (name_ok && is_field_value(value)).then(|| (name, trim_ows(value)))
}

/// A parsed request line: sub-slices of the line.
pub(crate) struct RequestLine<'a> {
    pub(crate) method: &'a [u8],
    pub(crate) target: &'a [u8],
    pub(crate) version: Option<&'a [u8]>,
}

/// Whether every byte of `v` passes `ok`: sixteen bytes per step (a fixed-size fold that the compiler turns
/// into vector compares), the last sixteen checked as one overlapping step.
#[inline(always)]
fn all_bytes(v: &[u8], ok: impl Fn(u8) -> bool + Copy) -> bool {
    let sixteen = |c: &[u8]| {
        let c: &[u8; 16] = c.try_into().expect("sixteen bytes");
        c.iter().fold(true, |all, &b| all & ok(b))
    };
    if v.len() < 16 {
        return v.iter().fold(true, |all, &b| all & ok(b));
    }
    v.chunks_exact(16).fold(true, |all, c| all & sixteen(c)) & sixteen(&v[v.len() - 16..])
}

/// `method SP target [SP HTTP-version]`.
///
/// The version is optional (OData 4.01 Part 1 example 104 omits it). When `spaces_in_url` is set and the
/// line ends in `SP HTTP-version`, the target is everything between the first space and that version, spaces
/// included; otherwise the target is one run of non-space bytes.
pub(crate) fn request_line(line: &[u8], spaces_in_url: bool) -> Option<RequestLine<'_>> {
    // Hand-written with branch-free folds: it runs for every request part, and targets can be 64 KiB long.
    // The method: a token, then a space.
    let sp = line.iter().position(|&b| !is_tchar(b))?;
    if sp == 0 || line[sp] != b' ' {
        return None;
    }
    let (method, rest) = (&line[..sp], &line[sp + 1..]);
    let target_ok =
        |t: &[u8], spaces: bool| !t.is_empty() && all_bytes(t, |b| (b > 0x20 && b != 0x7f) | (spaces & (b == b' ')));
    if let [target @ .., b' ', b'H', b'T', b'T', b'P', b'/', major, b'.', minor] = rest {
        if major.is_ascii_digit() && minor.is_ascii_digit() {
            let spaces = spaces_in_url && target.first() != Some(&b' ');
            let version = &rest[rest.len() - 8..];
            return target_ok(target, spaces).then_some(RequestLine {
                method,
                target,
                version: Some(version),
            });
        }
    }
    // Without a version at the end, a space means a malformed version or spaces in the target; a target that
    // is an HTTP version means the target is missing.
    if memchr::memchr(b' ', rest).is_some() || rest.starts_with(b"HTTP/") {
        return None;
    }
    target_ok(rest, false).then_some(RequestLine {
        method,
        target: rest,
        version: None,
    })
}

/// A parsed status line: sub-slices of the line and the code.
pub(crate) struct StatusLine<'a> {
    pub(crate) status: u16,
    pub(crate) reason: &'a [u8],
}

/// `HTTP-version SP 3DIGIT [SP reason-phrase]`; the reason may be empty or missing. The version is always the
/// line's first eight bytes. Hand-written: it runs for every response part whose line differs from the one
/// before.
pub(crate) fn status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    let (start, rest) = line.split_first_chunk::<12>()?;
    let [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, b' ', d1, d2, d3] = *start else {
        return None;
    };
    let digit = |d: u8| d.wrapping_sub(b'0') < 10;
    if !(digit(major) & digit(minor) & digit(d1) & digit(d2) & digit(d3)) {
        return None;
    }
    let reason = match rest {
        [] => rest,
        [b' ', reason @ ..] => reason,
        _ => return None,
    };
    if !is_field_value(reason) {
        return None;
    }
    let status = u16::from(d1 - b'0') * 100 + u16::from(d2 - b'0') * 10 + u16::from(d3 - b'0');
    (status >= 100).then_some(StatusLine { status, reason })
}

/// One header line scanned in a single pass from its first byte to its line feed: the end of the name (the
/// colon), the line feed, and whether every byte was valid (a token name; field-value bytes after the colon,
/// with a CR allowed only just before the LF).
pub(crate) struct ScannedHeader {
    pub(crate) colon: usize,
    pub(crate) newline: usize,
    pub(crate) valid: bool,
}

/// Whether `b` ends a run of field-value bytes: a control character other than tab (CR and LF among them), or
/// DEL.
#[inline(always)]
fn ends_field_value(b: u8) -> bool {
    ((b < 0x20) & (b != b'\t')) | (b == 0x7f)
}

// Eight bytes at a time in a `u64` (read with `from_le_bytes`, so the lowest set bit is the first byte). Each
// `*_flags` function sets the high bit of every byte it finds; only the lowest flag is exact (a borrow may flag
// bytes above it), which is all the callers read: `trailing_zeros() / 8` is the first such byte.

const ONES: u64 = u64::from_le_bytes([1; 8]);
pub(crate) const HIGH_BITS: u64 = ONES * 0x80;

/// Flags the bytes of `word` below `limit` (at most 0x80).
#[inline(always)]
pub(crate) fn below_flags(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGH_BITS
}

/// Flags the bytes of `word` equal to `byte`.
#[inline(always)]
pub(crate) fn equal_flags(word: u64, byte: u8) -> u64 {
    below_flags(word ^ (ONES * u64::from(byte)), 1)
}

/// Flags the bytes of `word` below 0x20 or equal to 0x7f (tab among them).
#[inline(always)]
fn control_flags(word: u64) -> u64 {
    below_flags(word, 0x20) | equal_flags(word, 0x7f)
}

/// The first byte at or after `from` that is no field-value byte: the line break that ends a well-formed line,
/// or a control character that makes it malformed. One pass finds the line end and validates the bytes before
/// it: sixteen bytes per step while none is a control character (a fixed-size fold that the compiler turns
/// into vector compares), then eight per step to place it.
#[inline]
pub(crate) fn field_value_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        while let Some(chunk) = buf.get(i..i + 16) {
            let chunk: &[u8; 16] = chunk.try_into().expect("sixteen bytes");
            if chunk.iter().fold(false, |any, &b| any | ((b < 0x20) | (b == 0x7f))) {
                break;
            }
            i += 16;
        }
        let found = loop {
            let Some(word) = buf.get(i..i + 8) else {
                return buf[i..].iter().position(|&b| ends_field_value(b)).map(|p| i + p);
            };
            let flags = control_flags(u64::from_le_bytes(word.try_into().expect("eight bytes")));
            if flags != 0 {
                break i + (flags.trailing_zeros() / 8) as usize;
            }
            i += 8;
        };
        // A tab is a field-value byte: go on after it.
        if buf[found] != b'\t' {
            return Some(found);
        }
        i = found + 1;
    }
}

/// The line feed that ends the line whose field-value bytes run from `from`, and whether nothing but
/// field-value bytes (and a CR just before the LF) stands before it. `None` when no line feed has arrived.
#[inline]
pub(crate) fn line_end(buf: &[u8], from: usize) -> Option<(usize, bool)> {
    let end = field_value_end(buf, from)?;
    match buf[end] {
        b'\n' => Some((end, true)),
        b'\r' if buf.get(end + 1) == Some(&b'\n') => Some((end + 1, true)),
        _ => memchr::memchr(b'\n', &buf[end..]).map(|n| (end + n, false)),
    }
}

/// Scans the header line starting at `pos`. `None` when the line does not start like a header (no token
/// followed by a colon) or has no line feed yet; the caller then takes the general path.
#[inline]
pub(crate) fn scan_header(buf: &[u8], pos: usize) -> Option<ScannedHeader> {
    let mut i = pos;
    // Four bytes per step while they are all token bytes, then one at a time.
    while let Some(&[a, b, c, d]) = buf.get(i..i + 4) {
        if !(is_tchar(a) & is_tchar(b) & is_tchar(c) & is_tchar(d)) {
            break;
        }
        i += 4;
    }
    while i < buf.len() && is_tchar(buf[i]) {
        i += 1;
    }
    if i == pos || buf.get(i) != Some(&b':') {
        return None;
    }
    let colon = i;
    let (newline, valid) = line_end(buf, colon + 1)?;
    Some(ScannedHeader { colon, newline, valid })
}

/// A media type: `type "/" subtype` and the raw parameter text after it.
pub(crate) struct MediaType<'a> {
    pub(crate) type_: &'a [u8],
    pub(crate) subtype: &'a [u8],
    pub(crate) params: &'a [u8],
}

impl MediaType<'_> {
    pub(crate) fn is(&self, type_: &str, subtype: &str) -> bool {
        self.type_.eq_ignore_ascii_case(type_.as_bytes()) && self.subtype.eq_ignore_ascii_case(subtype.as_bytes())
    }
}

/// `OWS type "/" subtype OWS` followed by the parameter list (checked by [`Params`]).
#[cfg(any(feature = "json", test))]
pub(crate) fn media_type(value: &[u8]) -> Option<MediaType<'_>> {
    media_type_with(value, false)
}

/// [`media_type`], with an unquoted `boundary` value of RFC 2046 characters accepted when `lenient_boundary`.
pub(crate) fn media_type_with(value: &[u8], lenient_boundary: bool) -> Option<MediaType<'_>> {
    let parsed: IResult<&[u8], (&[u8], &[u8])> = (
        take_while(is_ows),
        take_while1(is_tchar),
        char('/'),
        take_while1(is_tchar),
        take_while(is_ows),
    )
        .map(|(_, t, _, s, _)| (t, s))
        .parse(value);
    let (params, (type_, subtype)) = parsed.ok()?;
    let mt = MediaType { type_, subtype, params };
    // Validate the whole parameter list once here.
    for p in Params::new(params, lenient_boundary) {
        p.ok()?;
    }
    Some(mt)
}

/// Where a `Content-Type` value that [`media_type_with`] refuses goes wrong, and what was expected there;
/// `(len, "a complete media type")` for a value it accepts. Called on the error path only; a test walks every
/// short combination of the grammar's pieces and checks it agrees with `media_type_with` on which values are
/// malformed.
pub(crate) fn malformed_at(value: &[u8], lenient_boundary: bool) -> (usize, &'static str) {
    let len = value.len();
    let skip = |mut i: usize, f: fn(u8) -> bool| {
        while i < len && f(value[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip(0, is_ows);
    let t = skip(i, is_tchar);
    if t == i {
        return (i, "a media type such as multipart/mixed");
    }
    if value.get(t) != Some(&b'/') {
        return (t, "'/' between type and subtype");
    }
    let st = skip(t + 1, is_tchar);
    if st == t + 1 {
        return (st, "a subtype after '/'");
    }
    i = skip(st, is_ows);
    while i < len {
        if value[i] != b';' {
            return (i, "';' before the next parameter");
        }
        i = skip(i + 1, is_ows);
        if i == len || value[i] == b';' {
            continue;
        }
        let n = skip(i, is_tchar);
        if n == i {
            return (i, "a parameter name");
        }
        if value.get(n) != Some(&b'=') {
            return (n, "'=' after the parameter name");
        }
        let v = n + 1;
        if value.get(v) == Some(&b'"') {
            match quoted_string(&value[v..]) {
                Ok((rest, _)) => i = len - rest.len(),
                Err(_) => return (v, "a quoted string closed by '\"', without control characters"),
            }
        } else {
            let boundary = lenient_boundary && value[i..n].eq_ignore_ascii_case(b"boundary");
            let e = skip(v, if boundary { is_bchar_nospace } else { is_tchar });
            if e == v {
                return (
                    v,
                    "a parameter value (a token, or a quoted string for characters such as : / = ? and space)",
                );
            }
            if e < len && !matches!(value[e], b';' | b' ' | b'\t') {
                return (
                    e,
                    "the end of the parameter value (a value with characters such as : / = ? needs quotes)",
                );
            }
            i = e;
        }
        i = skip(i, is_ows);
    }
    (len, "a complete media type")
}

/// A parameter value: a token, or the inside of a quoted string (escapes not undone).
pub(crate) struct Param<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
    pub(crate) quoted: bool,
}

fn quoted_string(i: &[u8]) -> IResult<&[u8], &[u8]> {
    let (i, _) = char('"').parse(i)?;
    let mut n = 0;
    while n < i.len() {
        match i[n] {
            b'"' => return Ok((&i[n + 1..], &i[..n])),
            b'\\' if n + 1 < i.len() => n += 2,
            b if is_field_value_byte(b) => n += 1,
            _ => break,
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Char)))
}

/// RFC 2046 `bchars` without the space: what an unquoted boundary may hold where tolerated.
fn is_bchar_nospace(b: u8) -> bool {
    is_tchar(b) || matches!(b, b'(' | b')' | b',' | b'/' | b':' | b'=' | b'?')
}

fn param(i: &[u8], lenient_boundary: bool) -> IResult<&[u8], Option<Param<'_>>> {
    let (i, _) = (take_while(is_ows), char(';'), take_while(is_ows)).parse(i)?;
    // `;` followed by nothing (or another `;`) is tolerated: odata.net writes `application/json;`.
    let (i, found) = opt((take_while1(is_tchar), char('='))).parse(i)?;
    let Some((name, _)) = found else { return Ok((i, None)) };
    if let Ok((i, value)) = quoted_string(i) {
        let (i, _) = take_while(is_ows).parse(i)?;
        return Ok((
            i,
            Some(Param {
                name,
                value,
                quoted: true,
            }),
        ));
    }
    let (i, value) = if lenient_boundary && name.eq_ignore_ascii_case(b"boundary") {
        take_while1(is_bchar_nospace).parse(i)?
    } else {
        take_while1(is_tchar).parse(i)?
    };
    let (i, _) = take_while(is_ows).parse(i)?;
    Ok((
        i,
        Some(Param {
            name,
            value,
            quoted: false,
        }),
    ))
}

/// Iterator over `;`-separated parameters; yields `Err(())` once on malformed text, then stops.
pub(crate) struct Params<'a> {
    rest: &'a [u8],
    lenient_boundary: bool,
}

impl<'a> Params<'a> {
    /// The parameters in `text`; an unquoted `boundary` may hold any RFC 2046 character but the space when
    /// `lenient_boundary`.
    pub(crate) fn new(text: &'a [u8], lenient_boundary: bool) -> Self {
        Self {
            rest: text,
            lenient_boundary,
        }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if trim_ows(self.rest).is_empty() {
                return None;
            }
            match param(self.rest, self.lenient_boundary) {
                Ok((rest, p)) => {
                    self.rest = rest;
                    if let Some(p) = p {
                        return Some(Ok(p));
                    }
                }
                Err(_) => {
                    self.rest = &[];
                    return Some(Err(()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass line end agrees with the two-pass reading it replaces (find the LF, then check every byte
    /// before it, a CR allowed just before the LF), for every start in inputs dense with the bytes that matter.
    #[test]
    fn line_end_agrees_with_two_passes() {
        let alphabet = [b'a', b' ', b'\t', b'\r', b'\n', 0x7f, 0x80, 0x01, b':', 0xff];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..80 {
            for _ in 0..60 {
                let buf: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        // Mostly plain bytes, so that the sixteen-byte steps run.
                        let r = (state % 40) as usize;
                        if r < alphabet.len() {
                            alphabet[r]
                        } else {
                            b'x'
                        }
                    })
                    .collect();
                for from in 0..=buf.len() {
                    let expected = memchr::memchr(b'\n', &buf[from..]).map(|n| {
                        let nl = from + n;
                        let value = &buf[from..nl];
                        (nl, is_field_value(value.strip_suffix(b"\r").unwrap_or(value)))
                    });
                    assert_eq!(line_end(&buf, from), expected, "{buf:?} from {from}");
                }
            }
        }
    }

    macro_rules! request_lines {
        ($($line:expr, $spaces:expr => $expect:expr;)*) => {$(
            let got = request_line($line, $spaces).map(|r| (r.method, r.target, r.version));
            assert_eq!(got, $expect, "{:?}", String::from_utf8_lossy($line));
        )*};
    }

    #[test]
    fn request_line_forms() {
        let v: Option<&[u8]> = Some(b"HTTP/1.1");
        request_lines! {
            b"GET People HTTP/1.1", false => Some((&b"GET"[..], &b"People"[..], v));
            b"GET People", false => Some((&b"GET"[..], &b"People"[..], None));
            b"GET a?$filter=x eq 1 HTTP/1.1", true => Some((&b"GET"[..], &b"a?$filter=x eq 1"[..], v));
            b"GET a?$filter=x eq 1 HTTP/1.1", false => None;
            b"GET a b", true => None;
            b"GET url SMTP:3.1", true => None;
            b"GET  HTTP/1.1", true => None;
            b"GET", true => None;
            b" GET x HTTP/1.1", true => None;
            b"", true => None;
            b"GET HTTP/1.1", true => None;
            b"GET HTTP/1.1", false => None;
            b"GET HTTP/2", true => None;
            b"GET HTTPS://x/y HTTP/1.1", true => Some((&b"GET"[..], &b"HTTPS://x/y"[..], v));
        }
    }

    #[test]
    fn scanned_headers() {
        let buf = b"Name: v a l\r\nX:y\n";
        let h = scan_header(buf, 0).unwrap();
        assert_eq!((h.colon, h.newline, h.valid), (4, 12, true));
        let h = scan_header(buf, 13).unwrap();
        assert_eq!((h.colon, h.newline, h.valid), (14, 16, true));
        assert!(!scan_header(b"A: x\ry\n", 0).unwrap().valid);
        assert!(!scan_header(b"A: x\x01\r\n", 0).unwrap().valid);
        assert!(scan_header(b"A: no line feed", 0).is_none());
        assert!(scan_header(b"Bad name: x\n", 0).is_none());
        assert!(scan_header(b": x\n", 0).is_none());
    }

    #[test]
    fn status_line_forms() {
        let s = status_line(b"HTTP/1.1 204 No Content").unwrap();
        assert_eq!((s.status, s.reason), (204, &b"No Content"[..]));
        let s = status_line(b"HTTP/1.1 200").unwrap();
        assert_eq!((s.status, s.reason), (200, &b""[..]));
        let s = status_line(b"HTTP/1.1 200 ").unwrap();
        assert_eq!((s.status, s.reason), (200, &b""[..]));
        assert!(status_line(b"HTTP/1.1 No Content").is_none());
        assert!(status_line(b"HTTP/1.1 20 OK").is_none());
        assert!(status_line(b"HTTP/1.1 2000 OK").is_none());
        assert!(status_line(b"HTTP/1 200 OK").is_none());
        assert!(status_line(b"HTTP/1.1 099 x").is_none());
    }

    #[test]
    fn header_lines() {
        assert_eq!(
            header_line(b"Content-ID: 1", false),
            Some((&b"Content-ID"[..], &b"1"[..]))
        );
        assert_eq!(header_line(b"a:b", false), Some((&b"a"[..], &b"b"[..])));
        assert_eq!(header_line(b"a:  \t", false), Some((&b"a"[..], &b""[..])));
        assert_eq!(header_line(b"no colon", false), None);
        assert_eq!(header_line(b"Name : x", false), None);
        assert_eq!(header_line(b"Name \t: x", true), Some((&b"Name"[..], &b"x"[..])));
        assert_eq!(header_line(b" : x", true), None);
        assert_eq!(header_line(b": x", false), None);
        assert_eq!(header_line(b"a: x\ry", false), None);
    }

    #[test]
    fn media_types() {
        let m = media_type(b"multipart/mixed; boundary=\"a b\"; charset=utf-8").unwrap();
        assert!(m.is("Multipart", "MIXED"));
        let ps: Vec<_> = Params::new(m.params, false)
            .map(|p| p.unwrap())
            .map(|p| (p.name, p.value, p.quoted))
            .collect();
        assert_eq!(
            ps,
            vec![
                (&b"boundary"[..], &b"a b"[..], true),
                (&b"charset"[..], &b"utf-8"[..], false)
            ]
        );
        assert!(media_type(b"application/json;").is_some());
        assert!(media_type(b"application/json; ;odata.metadata=minimal").is_some());
        assert!(media_type(b"application").is_none());
        assert!(media_type(b"a/b; x").is_none());
        assert!(media_type(b"a/b; x=\"unterminated").is_none());
        assert!(media_type(b"a/b x").is_none());
    }

    #[test]
    fn malformed_at_agrees_with_the_parser() {
        let pieces: [&[u8]; 12] = [
            b"multipart",
            b"/",
            b"mixed",
            b";",
            b" ",
            b"boundary",
            b"=",
            b"\"a b\"",
            b"x:y",
            b"\"",
            b"\t",
            b"=v",
        ];
        let mut checked = 0;
        // Every sequence of up to five pieces.
        let mut stack: Vec<(Vec<u8>, usize)> = vec![(Vec::new(), 0)];
        while let Some((value, depth)) = stack.pop() {
            for lenient in [false, true] {
                let (at, expected) = malformed_at(&value, lenient);
                let accepted = media_type_with(&value, lenient).is_some();
                let text = String::from_utf8_lossy(&value);
                assert_eq!(
                    accepted,
                    expected == "a complete media type",
                    "{text:?} {lenient}: {expected} at {at}"
                );
                assert!(at <= value.len());
                checked += 1;
            }
            if depth < 5 {
                for p in pieces {
                    stack.push(([&value[..], p].concat(), depth + 1));
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}
