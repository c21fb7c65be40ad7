//! Boundaries: reading `multipart/mixed; boundary=...`, RFC 2046 validation, and the delimiter finder.

use std::fmt;

use memchr::memmem;

use crate::excerpt::Excerpt;
use crate::grammar::{self, Params};

/// Longest boundary RFC 2046 §5.1.1 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// A validated multipart boundary: 1 to 70 characters from RFC 2046 `bchars`, not ending in a space.
///
/// # Example
///
/// ```
/// use odata_batch::Boundary;
///
/// let b = Boundary::from_content_type("Multipart/Mixed; charset=utf-8; BOUNDARY=\"batch 1\"").unwrap();
/// assert_eq!(b.as_str(), "batch 1");
/// assert!(Boundary::new("x".repeat(71)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Boundary(Box<str>);

/// RFC 2046 `bchars` (without the rule about a trailing space).
const fn is_bchar(b: u8) -> bool {
    matches!(b,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'
        | b'\'' | b'(' | b')' | b'+' | b'_' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?' | b' ')
}

impl Boundary {
    /// Validates a bare boundary value.
    ///
    /// # Errors
    ///
    /// [`ContentTypeError::EmptyBoundary`], [`ContentTypeError::BoundaryTooLong`] or
    /// [`ContentTypeError::InvalidBoundary`].
    pub fn new(value: impl AsRef<str>) -> Result<Self, ContentTypeError> {
        let value = value.as_ref();
        Self::validate(value.as_bytes())?;
        Ok(Self(value.into()))
    }

    pub(crate) fn validate(value: &[u8]) -> Result<(), ContentTypeError> {
        if value.is_empty() {
            return Err(ContentTypeError::EmptyBoundary);
        }
        if value.len() > MAX_BOUNDARY_LEN {
            return Err(ContentTypeError::BoundaryTooLong);
        }
        if !value.iter().all(|&b| is_bchar(b)) || value.ends_with(b" ") {
            return Err(ContentTypeError::InvalidBoundary);
        }
        Ok(())
    }

    /// Reads the boundary from a `Content-Type` value, which must be `multipart/mixed` (in any case) with
    /// exactly one `boundary` parameter (bare or quoted, parameter name in any case). Other parameters are
    /// ignored.
    ///
    /// # Errors
    ///
    /// [`ContentTypeError::NotMultipartMixed`] (carrying the media type) for any other media type, and the
    /// other variants of [`ContentTypeError`] for a malformed value or a missing, duplicated, empty,
    /// over-long or invalid boundary.
    pub fn from_content_type(content_type: impl AsRef<[u8]>) -> Result<Self, ContentTypeError> {
        Self::parse_content_type(content_type.as_ref(), false)
    }

    /// Like [`from_content_type`](Self::from_content_type), and also accepts an unquoted boundary holding RFC
    /// 2046 characters that are not token characters (`boundary=batch:m39/x=y`, as SAP CAP writes it): see
    /// [`Leniency::unquoted_boundary_specials`](crate::Leniency::unquoted_boundary_specials).
    ///
    /// # Errors
    ///
    /// As for `from_content_type`.
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::{Boundary, ContentTypeError};
    ///
    /// let ct = "multipart/mixed;boundary=batch:m39/x=y";
    /// assert_eq!(Boundary::from_content_type_lenient(ct).unwrap().as_str(), "batch:m39/x=y");
    /// let Err(ContentTypeError::Malformed { at, .. }) = Boundary::from_content_type(ct) else { panic!() };
    /// assert_eq!(at, 30); // the ':' that needs the value quoted
    /// ```
    pub fn from_content_type_lenient(content_type: impl AsRef<[u8]>) -> Result<Self, ContentTypeError> {
        Self::parse_content_type(content_type.as_ref(), true)
    }

    pub(crate) fn parse_content_type(content_type: &[u8], lenient: bool) -> Result<Self, ContentTypeError> {
        let (start, end) = boundary_in_content_type(content_type, lenient)?;
        let value = &content_type[start..end];
        // Validated as bchars, hence ASCII.
        let value = std::str::from_utf8(value).map_err(|_| ContentTypeError::InvalidBoundary)?;
        Ok(Self(value.into()))
    }

    /// The boundary text, without quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Makes fresh boundaries: a prefix and 32 hexadecimal digits from a 128-bit value. Two boundaries it makes
/// with different prefixes (`batch_`, `changeset_`) are never a prefix of one another, and two with the same
/// prefix have the same length, so neither is either.
///
/// Seeded from the standard library's per-process random state by default; [`BoundaryGenerator::seeded`]
/// makes the sequence reproducible for tests.
///
/// # Example
///
/// ```
/// use odata_batch::BoundaryGenerator;
///
/// let mut a = BoundaryGenerator::seeded(7);
/// let mut b = BoundaryGenerator::seeded(7);
/// let first = a.next("batch_");
/// assert_eq!(first, b.next("batch_"));
/// assert_eq!(first.len(), 6 + 32);
/// assert_ne!(a.next("batch_"), first);
/// ```
#[derive(Debug, Clone)]
pub struct BoundaryGenerator {
    state: u64,
}

impl BoundaryGenerator {
    /// A generator seeded at random.
    pub fn new() -> Self {
        use std::hash::BuildHasher;
        Self::seeded(std::collections::hash_map::RandomState::new().hash_one(0x0da7a_u64))
    }

    /// A generator that always gives the same sequence for the same seed.
    pub fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// SplitMix64: small, fast, and good enough to make collisions with body text implausible.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next boundary: `prefix` and 32 hexadecimal digits.
    ///
    /// # Panics
    ///
    /// If `prefix` is longer than 38 characters or not made of RFC 2046 `bchars`.
    #[allow(clippy::should_implement_trait)] // not an Iterator: it takes a prefix
    pub fn next(&mut self, prefix: &str) -> Boundary {
        // What `format!("{prefix}{:016x}{:016x}", ..)` writes, without the formatting machinery (a batch generates
        // one boundary per changeset).
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let words = [self.next_u64(), self.next_u64()];
        let mut digits = [0u8; 32];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = HEX[(words[i / 16] >> ((15 - i % 16) * 4)) as usize & 15];
        }
        let mut value = String::with_capacity(prefix.len() + 32);
        value.push_str(prefix);
        value.push_str(std::str::from_utf8(&digits).expect("hexadecimal digits are ASCII"));
        Boundary::new(value).expect("prefix of bchars, at most 38 characters")
    }
}

impl Default for BoundaryGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Boundary {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Finds the validated boundary of a `multipart/mixed` Content-Type value and returns its byte range.
pub(crate) fn boundary_in_content_type(value: &[u8], lenient: bool) -> Result<(usize, usize), ContentTypeError> {
    let malformed = || {
        let (at, expected) = grammar::malformed_at(value, lenient);
        ContentTypeError::Malformed { at, expected }
    };
    let mt = grammar::media_type_with(value, lenient).ok_or_else(malformed)?;
    if !mt.is("multipart", "mixed") {
        let mut media_type = String::from_utf8_lossy(mt.type_).into_owned();
        media_type.push('/');
        media_type.push_str(&String::from_utf8_lossy(mt.subtype));
        media_type.make_ascii_lowercase();
        return Err(ContentTypeError::NotMultipartMixed { media_type });
    }
    let mut found = None;
    for p in Params::new(mt.params, lenient) {
        let p = p.map_err(|()| malformed())?;
        if p.name.eq_ignore_ascii_case(b"boundary") {
            if found.is_some() {
                return Err(ContentTypeError::DuplicateBoundary);
            }
            if p.quoted && p.value.contains(&b'\\') {
                return Err(ContentTypeError::InvalidBoundary);
            }
            found = Some(p.value);
        }
    }
    let b = found.ok_or(ContentTypeError::MissingBoundary)?;
    Boundary::validate(b)?;
    let start = nom::Offset::offset(value, b);
    Ok((start, start + b.len()))
}

/// The boundary of a `Content-Type` written in the plainest form of `multipart/mixed` with a boundary (the type
/// in any case, `;` with optional spaces or tabs around it, `boundary=` in any case, an unquoted value of
/// letters, digits and `'+_-.`, nothing after it): its span in `value`, found without the general parser,
/// which reads every other form (and agrees on this one: a test checks).
pub(crate) fn plain_multipart_boundary(value: &[u8]) -> Option<(usize, usize)> {
    const TYPE: &[u8] = b"multipart/mixed";
    const PARAM: &[u8] = b"boundary=";
    let ows = |mut i: usize| {
        while matches!(value.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    if !value.get(..TYPE.len())?.eq_ignore_ascii_case(TYPE) {
        return None;
    }
    let semicolon = ows(TYPE.len());
    if value.get(semicolon) != Some(&b';') {
        return None;
    }
    let name = ows(semicolon + 1);
    if !value.get(name..name + PARAM.len())?.eq_ignore_ascii_case(PARAM) {
        return None;
    }
    let start = name + PARAM.len();
    let boundary = &value[start..];
    let plain = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'\'' | b'+' | b'_' | b'-' | b'.');
    (!boundary.is_empty() && boundary.len() <= MAX_BOUNDARY_LEN && boundary.iter().all(plain))
        .then_some((start, value.len()))
}

/// `hay.starts_with(prefix)`, for prefixes of eight bytes or more (delimiter needles, the canonical part
/// headers) without a library call: the first eight bytes, then eight per step with no exit before the end,
/// the last eight as one overlapping step.
#[inline]
pub(crate) fn starts_with_long(hay: &[u8], prefix: &[u8]) -> bool {
    if prefix.len() < 8 {
        return hay.starts_with(prefix);
    }
    let Some(hay) = hay.get(..prefix.len()) else {
        return false;
    };
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("eight bytes"));
    // The first word decides most "no"s (the other boundary at a line feed, a body line starting with `--`).
    if word(hay, 0) != word(prefix, 0) {
        return false;
    }
    let mut differ = word(hay, prefix.len() - 8) ^ word(prefix, prefix.len() - 8);
    let mut at = 0;
    while at + 8 <= prefix.len() {
        differ |= word(hay, at) ^ word(prefix, at);
        at += 8;
    }
    differ == 0
}

/// The longest needle prefix handed to `memmem`. Up to 32 bytes memchr runs its packed-pair vector search and
/// confirms a candidate with a plain comparison; a longer needle (any boundary over 29 characters, such as the
/// GUID boundaries most servers write) switches it to Two-Way, whose set-up and verification cost about 450
/// instructions per delimiter (callgrind, `profile_decode`).
const PREFIX_MAX: usize = 32;

/// The delimiter finder for one boundary: `memmem` on the first [`PREFIX_MAX`] bytes of `\n--boundary`, the
/// rest compared at each candidate; built once.
pub(crate) struct Delimiter {
    /// `\n--boundary`.
    needle: Box<[u8]>,
    prefix: memmem::Finder<'static>,
}

impl Delimiter {
    pub(crate) fn new(boundary: &[u8]) -> Self {
        let mut needle = Vec::with_capacity(boundary.len() + 3);
        needle.extend_from_slice(b"\n--");
        needle.extend_from_slice(boundary);
        let prefix = memmem::Finder::new(&needle[..needle.len().min(PREFIX_MAX)]).into_owned();
        Self {
            needle: needle.into_boxed_slice(),
            prefix,
        }
    }

    /// `\n--boundary`.
    pub(crate) fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// `boundary`.
    pub(crate) fn boundary(&self) -> &[u8] {
        &self.needle[3..]
    }

    /// `--boundary`: what a delimiter line starts with.
    pub(crate) fn dash_boundary(&self) -> &[u8] {
        &self.needle[1..]
    }

    /// Position of the next `\n--boundary` in `haystack`. (The decoder visits a body's first line feeds itself,
    /// an empty body's among them, and calls this only for bodies with many lines.)
    ///
    /// Linear in `haystack`: the prefix starts with the only line feed of the needle, so its matches never
    /// overlap, and each costs at most one comparison of the rest of the needle.
    #[inline]
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        let needle = &*self.needle;
        let split = self.prefix.needle().len();
        let mut from = 0;
        while let Some(i) = self.prefix.find(&haystack[from..]) {
            let at = from + i;
            // The haystack ends inside the needle: no match here, and none can start later.
            let rest = haystack.get(at + split..at + needle.len())?;
            if rest == &needle[split..] {
                return Some(at);
            }
            from = at + split;
        }
        None
    }

    /// What `line` (from a line start) is for this boundary: `None` when it does not start with `--boundary`
    /// (with [`LineEnd::Open`], when it cannot still become such a line either). The one reading of a
    /// delimiter line (RFC 2046 §5.1.1: `--boundary`, then `--` for the close delimiter, transport padding,
    /// a line break) that the decoder and the encoder share; what is tolerated is the caller's to decide.
    /// More than `max_padding` bytes after the boundary (`--` and padding) is [`LineClass::PaddingTooLong`].
    #[inline]
    pub(crate) fn classify(&self, line: &[u8], end: LineEnd, max_padding: usize) -> Option<LineClass> {
        classify_line(self.dash_boundary(), line, end, max_padding)
    }
}

/// [`Delimiter::classify`] for `dash` (`--boundary`), for writers that keep no finder.
#[inline]
pub(crate) fn classify_line(dash: &[u8], line: &[u8], end: LineEnd, max_padding: usize) -> Option<LineClass> {
    let Some(rest) = line.strip_prefix(dash) else {
        let open = matches!(end, LineEnd::Open | LineEnd::Eof);
        return (open && line.len() < dash.len() && dash.starts_with(line)).then_some(LineClass::Incomplete);
    };
    Some(classify_after_boundary(dash.len(), rest, end, max_padding))
}

/// The rest of [`classify_line`], for a line known to start with `--boundary` (`at` bytes long; `rest` is
/// what follows it): the decoder's search found it with the `memmem` finder and need not compare it again.
#[inline]
pub(crate) fn classify_after_boundary(at: usize, rest: &[u8], end: LineEnd, max_padding: usize) -> LineClass {
    // Nearly every delimiter line: the boundary, CRLF.
    if rest.starts_with(b"\r\n") {
        return LineClass::Delimiter {
            close: false,
            padding_at: None,
            line_end: at + 2,
            bare_lf: false,
            unterminated: false,
        };
    }
    let (close, pad_start) = match rest {
        [b'-', b'-', ..] => (true, 2),
        [] | [b'-'] if end != LineEnd::Stripped => return LineClass::Incomplete,
        _ => (false, 0),
    };
    let padding = rest[pad_start..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let i = pad_start + padding;
    if i > max_padding {
        return LineClass::PaddingTooLong;
    }
    let delimiter = |line_end, bare_lf, unterminated| LineClass::Delimiter {
        close,
        padding_at: (padding > 0).then_some(at + pad_start),
        line_end,
        bare_lf,
        unterminated,
    };
    match (rest.get(i), end) {
        (None, LineEnd::Stripped) => delimiter(at + rest.len(), false, false),
        (None, LineEnd::Eof) if close => delimiter(at + rest.len(), false, true),
        (None, _) => LineClass::Incomplete,
        (Some(b'\r'), _) => match rest.get(i + 1) {
            None if end == LineEnd::Stripped => LineClass::LookAlike { close },
            None => LineClass::Incomplete,
            Some(b'\n') => delimiter(at + i + 2, false, false),
            Some(_) => LineClass::LookAlike { close },
        },
        (Some(b'\n'), _) => delimiter(at + i + 1, true, false),
        (Some(_), _) => LineClass::LookAlike { close },
    }
}

/// Where the bytes given to [`Delimiter::classify`] end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// Where the input received so far ends: more may follow.
    Open,
    /// Where the whole input ends.
    Eof,
    /// Where the line ends, its line break removed.
    Stripped,
}

/// What a line that starts with `--boundary` is ([`Delimiter::classify`]); offsets from the line start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineClass {
    /// A delimiter line.
    Delimiter {
        /// `--` follows the boundary: the close delimiter.
        close: bool,
        /// Where transport padding starts, when there is some.
        padding_at: Option<usize>,
        /// Just after the line break (the line's length when it has none).
        line_end: usize,
        /// The line break is a bare LF, at `line_end - 1`.
        bare_lf: bool,
        /// A close delimiter at the end of the input without a line break.
        unterminated: bool,
    },
    /// `--boundary` followed by other text: a line that only starts like a delimiter. `close` when by `--`.
    LookAlike {
        /// `--` follows the boundary.
        close: bool,
    },
    /// The input ends before it can tell.
    Incomplete,
    /// More bytes of `--` and transport padding after the boundary than the caller admits.
    PaddingTooLong,
}

/// The MIME part headers of an operation as the encoder writes them and nearly every writer emits them (the
/// decoder recognises them in one comparison).
pub(crate) const CANONICAL_PART_HEADERS: &[u8] =
    b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n";

/// A `Content-Type` value that does not describe a usable `multipart/mixed` batch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentTypeError {
    /// The value does not parse as `type/subtype *(; name=value)`.
    Malformed {
        /// Byte offset in the value where it goes wrong.
        at: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// A valid media type, but not `multipart/mixed`. Carries the media type (`type/subtype`, lower-cased), so
    /// that a client can read the body as what it is, typically an OData JSON error.
    NotMultipartMixed {
        /// The media type that was found, lower-cased, without parameters.
        media_type: String,
    },
    /// No `boundary` parameter.
    MissingBoundary,
    /// More than one `boundary` parameter.
    DuplicateBoundary,
    /// `boundary=""`.
    EmptyBoundary,
    /// More than 70 characters (RFC 2046 §5.1.1).
    BoundaryTooLong,
    /// A character outside RFC 2046 `bchars`, or a space at the end.
    InvalidBoundary,
}

impl fmt::Display for ContentTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { at, expected } => write!(f, "malformed Content-Type: expected {expected} at byte {at}"),
            Self::NotMultipartMixed { media_type } => {
                write!(
                    f,
                    "Content-Type is {}, not multipart/mixed",
                    Excerpt(media_type.as_bytes())
                )
            }
            Self::MissingBoundary => f.write_str("Content-Type has no boundary parameter"),
            Self::DuplicateBoundary => f.write_str("Content-Type has more than one boundary parameter"),
            Self::EmptyBoundary => f.write_str("boundary is empty"),
            Self::BoundaryTooLong => f.write_str("boundary is longer than 70 characters"),
            Self::InvalidBoundary => f.write_str("boundary has a character outside RFC 2046 bchars or ends in a space"),
        }
    }
}

impl std::error::Error for ContentTypeError {}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `Delimiter::find` (with its fast path for a delimiter at the start) finds what a plain search does.
        #[test]
        fn find_is_the_first_occurrence(haystack in proptest::collection::vec(proptest::sample::select(b"\r\n-bx".to_vec()), 0..24)) {
            let delimiter = Delimiter::new(b"b");
            let naive = haystack.windows(4).position(|w| w == b"\n--b");
            proptest::prop_assert_eq!(delimiter.find(&haystack), naive, "{:?}", String::from_utf8_lossy(&haystack));
        }
    }

    #[test]
    fn find_at_the_start_and_after_it() {
        let delimiter = Delimiter::new(b"batch_1");
        assert_eq!(delimiter.find(b"\r\n--batch_1\r\n"), Some(1));
        assert_eq!(delimiter.find(b"\n--batch_1--"), Some(0));
        assert_eq!(delimiter.find(b"\r\n--batch_2\r\n--batch_1"), Some(12));
        assert_eq!(delimiter.find(b"\r"), None);
        assert_eq!(delimiter.find(b""), None);
    }

    #[test]
    fn delimiter_lines_are_read_one_way() {
        use LineClass::{Incomplete, LookAlike, PaddingTooLong};
        let d = Delimiter::new(b"b1");
        let delimiter = |close, padding_at, line_end, bare_lf, unterminated| {
            Some(LineClass::Delimiter {
                close,
                padding_at,
                line_end,
                bare_lf,
                unterminated,
            })
        };
        let open = |line: &[u8]| d.classify(line, LineEnd::Open, 100);
        let eof = |line: &[u8]| d.classify(line, LineEnd::Eof, 100);
        let stripped = |line: &[u8]| d.classify(line, LineEnd::Stripped, 100);
        assert_eq!(open(b"--b1\r\nx"), delimiter(false, None, 6, false, false));
        assert_eq!(open(b"--b1--\r\n"), delimiter(true, None, 8, false, false));
        assert_eq!(open(b"--b1 \t\r\n"), delimiter(false, Some(4), 8, false, false));
        assert_eq!(open(b"--b1-- \n"), delimiter(true, Some(6), 8, true, false));
        assert_eq!(eof(b"--b1--"), delimiter(true, None, 6, false, true));
        assert_eq!(stripped(b"--b1"), delimiter(false, None, 4, false, false));
        assert_eq!(stripped(b"--b1-- "), delimiter(true, Some(6), 7, false, false));
        // Not yet decidable, whatever follows.
        for line in [&b"--b"[..], b"--b1", b"--b1-", b"--b1--", b"--b1  ", b"--b1\r", b"-"] {
            assert_eq!(open(line), Some(Incomplete), "{line:?}");
        }
        assert_eq!(eof(b"--b1"), Some(Incomplete));
        assert_eq!(eof(b"--b"), Some(Incomplete));
        // Look-alikes: the boundary, then other text.
        for (line, close) in [
            (&b"--b1x\r\n"[..], false),
            (b"--b12", false),
            (b"--b1 x\n", false),
            (b"--b1--x", true),
            (b"--b1\rx", false),
        ] {
            assert_eq!(open(line), Some(LookAlike { close }), "{line:?}");
        }
        assert_eq!(stripped(b"--b1-"), Some(LookAlike { close: false }));
        assert_eq!(stripped(b"--b1\r"), Some(LookAlike { close: false }));
        // Other lines: not this boundary's.
        assert_eq!(open(b""), Some(Incomplete));
        for line in [&b"--b2\r\n"[..], b"-b1\r\n", b"x--b1"] {
            assert_eq!(open(line), None, "{line:?}");
        }
        assert_eq!(stripped(b"--b"), None);
        assert_eq!(d.classify(b"--b1--    \r\n", LineEnd::Open, 5), Some(PaddingTooLong));
        assert_eq!(
            d.classify(b"--b1--   \r\n", LineEnd::Open, 5),
            delimiter(true, Some(6), 11, false, false)
        );
    }

    #[test]
    fn generated_boundaries_are_the_hexadecimal_of_the_sequence() {
        let (mut fast, mut words) = (BoundaryGenerator::seeded(7), BoundaryGenerator::seeded(7));
        for _ in 0..100 {
            let expected = format!("batch_{:016x}{:016x}", words.next_u64(), words.next_u64());
            assert_eq!(fast.next("batch_").as_str(), expected);
        }
    }

    #[test]
    fn content_types() {
        let ok = |ct: &str, b: &str| assert_eq!(Boundary::from_content_type(ct).unwrap().as_str(), b, "{ct}");
        ok("multipart/mixed; boundary=batch_1", "batch_1");
        ok("multipart/mixed;boundary=batch_1", "batch_1");
        ok("MULTIPART/MIXED; BoUnDaRy=batch_1 ", "batch_1");
        ok("multipart/mixed; boundary=\"batch_1.2+34:2j)0?\"", "batch_1.2+34:2j)0?");
        ok("multipart/mixed; charset=utf-8; boundary=x", "x");
        ok("multipart/mixed; boundary=x; charset=utf-8", "x");
        ok("multipart/mixed; boundary=\"a b\"", "a b");

        let err = |ct: &str, e: ContentTypeError| assert_eq!(Boundary::from_content_type(ct), Err(e), "{ct}");
        err("multipart/mixed", ContentTypeError::MissingBoundary);
        err("multipart/mixed; charset=utf-8", ContentTypeError::MissingBoundary);
        err(
            "multipart/mixed; boundary=a; boundary=b",
            ContentTypeError::DuplicateBoundary,
        );
        err("multipart/mixed; boundary=\"\"", ContentTypeError::EmptyBoundary);
        err("multipart/mixed; boundary=\"a \"", ContentTypeError::InvalidBoundary);
        err("multipart/mixed; boundary=\"a@b\"", ContentTypeError::InvalidBoundary);
        err("multipart/mixed; boundary=\"a\\b\"", ContentTypeError::InvalidBoundary);
        err(
            &format!("multipart/mixed; boundary={}", "x".repeat(71)),
            ContentTypeError::BoundaryTooLong,
        );
        let malformed = |at, expected| ContentTypeError::Malformed { at, expected };
        err(
            "multipart/mixed; boundary=batch:1",
            malformed(31, grammar::malformed_at(b"multipart/mixed; boundary=batch:1", false).1),
        );
        err(
            "multipart/mixed; boundary=",
            malformed(26, grammar::malformed_at(b"a/b; c=", false).1),
        );
        for (ct, at) in [
            ("nonsense", 8),
            ("", 0),
            ("multipart/", 10),
            ("/mixed", 0),
            ("multipart/mixed boundary=x", 16),
            ("multipart/mixed; =x", 17),
            ("multipart/mixed; boundary", 25),
            ("multipart/mixed; boundary=\"x", 26),
            ("multipart/mixed; boundary=x y", 28),
        ] {
            match Boundary::from_content_type(ct) {
                Err(ContentTypeError::Malformed { at: got, .. }) => assert_eq!(got, at, "{ct}"),
                other => panic!("{ct}: {other:?}"),
            }
        }
        // Lenient: an unquoted boundary of RFC 2046 characters.
        let lenient = |ct: &str| Boundary::from_content_type_lenient(ct).map(|b| b.as_str().to_owned());
        assert_eq!(
            lenient("multipart/mixed;boundary=batch:m39/x=y").unwrap(),
            "batch:m39/x=y"
        );
        assert_eq!(lenient("multipart/mixed; boundary=a(b)?,c ; x=1").unwrap(), "a(b)?,c");
        assert!(matches!(
            lenient("multipart/mixed; boundary=a b"),
            Err(ContentTypeError::Malformed { at: 28, .. })
        ));
        assert!(matches!(
            lenient("multipart/mixed; boundary=a@b"),
            Err(ContentTypeError::Malformed { at: 27, .. })
        ));
        assert!(matches!(
            lenient("multipart/mixed; x=a:b; boundary=c"),
            Err(ContentTypeError::Malformed { at: 20, .. })
        ));
        err(
            "Application/JSON; odata.metadata=minimal",
            ContentTypeError::NotMultipartMixed {
                media_type: "application/json".into(),
            },
        );
        assert!(Boundary::new("x".repeat(70)).is_ok());
    }

    #[test]
    fn starts_with_long_is_starts_with() {
        let prefix = b"\n--batch_36522ad7-fc75-4b56-8c71";
        for len in 0..prefix.len() {
            let p = &prefix[..len];
            for cut in 0..=prefix.len() + 1 {
                let mut hay = prefix[..cut.min(prefix.len())].to_vec();
                hay.extend_from_slice(b"xyz");
                assert_eq!(starts_with_long(&hay, p), hay.starts_with(p), "{len} {cut}");
                for flip in 0..hay.len() {
                    let mut h = hay.clone();
                    h[flip] ^= 0x20;
                    assert_eq!(starts_with_long(&h, p), h.starts_with(p), "{len} {cut} {flip}");
                }
            }
        }
    }

    #[test]
    fn delimiter_needle() {
        let d = Delimiter::new(b"abc");
        assert_eq!(d.needle(), b"\n--abc");
        assert_eq!(d.dash_boundary(), b"--abc");
        assert_eq!(d.boundary(), b"abc");
        assert_eq!(d.find(b"x\r\n--abc"), Some(2));
    }

    /// The plain form's shortcut agrees with the general parser: wherever it answers, the general parser takes
    /// the value as `multipart/mixed` with the same boundary, in both readings of unquoted boundaries.
    #[test]
    fn plain_multipart_boundary_agrees_with_the_parser() {
        let pieces: [&[u8]; 12] = [
            b"multipart/mixed",
            b"Multipart/MIXED",
            b";",
            b" ",
            b"\t",
            b"boundary=",
            b"BOUNDARY=",
            b"changeset_1-a.b'c+d",
            b"\"q\"",
            b"x=y",
            b"/",
            b"(",
        ];
        let mut found = 0;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut value = Vec::new();
            for _ in 0..next() % 7 {
                value.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            // Mostly well-formed starts, so that the shortcut answers often.
            let starts: [&[u8]; 3] = [
                b"multipart/mixed; boundary=",
                b"Multipart/MIXED ;\tBOUNDARY=",
                b"multipart/mixed;boundary=",
            ];
            if next() % 2 == 0 {
                let start = starts[(next() % 3) as usize];
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                value = [start, piece, &value[..value.len().min(next() as usize % 3)]].concat();
            }
            let Some((start, end)) = plain_multipart_boundary(&value) else {
                continue;
            };
            found += 1;
            for lenient in [false, true] {
                let media = crate::grammar::media_type_with(&value, lenient).expect("a media type");
                assert!(media.is("multipart", "mixed"), "{:?}", String::from_utf8_lossy(&value));
                assert_eq!(boundary_in_content_type(&value, lenient), Ok((start, end)));
            }
        }
        assert!(found > 500, "{found}");
    }

    /// A boundary longer than the searched prefix: candidates whose prefix matches but whose rest differs, or
    /// that the haystack cuts off, are no match; the answer agrees with a naive search everywhere.
    #[test]
    fn long_boundary_is_found_by_prefix_and_rest() {
        let boundary = b"batchresponse_5f0d2c6e-3a41-4b8e-9c77-1e2d3c4b5a69";
        let d = Delimiter::new(boundary);
        let needle = d.needle().to_vec();
        assert!(needle.len() > PREFIX_MAX);
        let mut near_miss = needle.clone();
        *near_miss.last_mut().unwrap() = b'0';
        let naive = |h: &[u8]| h.windows(needle.len()).position(|w| w == needle);
        let mut hay = Vec::new();
        for piece in [
            &b"body"[..],
            &near_miss,
            b"\r",
            &needle[..PREFIX_MAX + 3],
            &near_miss,
            &needle,
            b"\r\n",
        ] {
            hay.extend_from_slice(piece);
        }
        for start in 0..hay.len() {
            for end in start..=hay.len() {
                assert_eq!(d.find(&hay[start..end]), naive(&hay[start..end]), "{start}..{end}");
            }
        }
        assert!(d.find(&hay).is_some());
    }
}
