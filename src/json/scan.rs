//! A resumable JSON validator that also records an item's members while the bytes arrive: the reader feeds
//! it the growing buffer and it continues where it stopped, so every byte of an item is looked at once.
//! Strings are searched with `memchr2` and checked for control characters without a branch per byte. It
//! checks what RFC 8259 requires of the bytes (UTF-8 is checked once for the whole item by the caller); it
//! builds nothing but the member lists: the item's members and, when the item has a `headers` object, that
//! object's members.

use std::ops::Range;

use crate::grammar;

/// Nesting deeper than this is refused (serde_json's limit too).
pub(crate) const MAX_DEPTH: usize = 128;

/// Invalid JSON: what was expected, and where (an index into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) message: &'static str,
    pub(crate) at: usize,
}

fn fail<T>(message: &'static str, at: usize) -> Result<T, SyntaxError> {
    Err(SyntaxError { message, at })
}

/// One member of an object: the name (with its quotes) and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) name: Range<usize>,
    /// The name has escapes (decode it; else it is the text between the quotes).
    pub(crate) name_escaped: bool,
    pub(crate) value: Range<usize>,
}

#[inline]
pub(crate) fn skip_ws(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && is_ws(t[i]) {
        i += 1;
    }
    i
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether `s` has a byte below 0x20 (not allowed unescaped in a JSON string). A minimum has no early exit,
/// so it runs without a branch per byte.
#[inline]
fn has_control(s: &[u8]) -> bool {
    s.iter().copied().min().is_some_and(|low| low < 0x20)
}

/// Fails at the first control character of `s`, which starts at `at`.
#[inline]
fn check_control(s: &[u8], at: usize) -> Result<(), SyntaxError> {
    if has_control(s) {
        let first = s.iter().position(|&b| b < 0x20).unwrap_or(0);
        return fail("no control character in a string", at + first);
    }
    Ok(())
}

/// What comes next between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value: at the start, after `:`, after `,` in an array.
    Value,
    /// A value or `]`, right after `[`.
    ValueOrClose,
    /// A member name or `}`, right after `{`.
    NameOrClose,
    /// A member name, after `,` in an object.
    Name,
    /// The `:` after a member name.
    Colon,
    /// `,` or the bracket that closes the container, after a value in it.
    CommaOrClose,
    /// The value is complete.
    Done,
}

/// Where a number is in the grammar of RFC 8259 §6: what the bytes so far were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    /// `-`: a digit must follow.
    Minus,
    /// A leading `0`: no more integer digits.
    Zero,
    /// Integer digits.
    Integer,
    /// `.`: a digit must follow.
    Point,
    /// Fraction digits.
    Fraction,
    /// `e` or `E`: a sign or digit must follow.
    Exponent,
    /// The exponent's sign: a digit must follow.
    ExponentSign,
    /// Exponent digits.
    ExponentDigits,
}

impl Number {
    /// The state after `b`; `Ok(None)` when `b` is not part of the number and the number is complete.
    #[inline]
    fn next(self, b: u8) -> Result<Option<Self>, &'static str> {
        use Number::*;
        Ok(Some(match (self, b) {
            (Minus, b'0') => Zero,
            (Minus, b'1'..=b'9') => Integer,
            (Minus, _) => return Err("a digit"),
            (Integer, b'0'..=b'9') => Integer,
            (Zero | Integer, b'.') => Point,
            (Point, b'0'..=b'9') | (Fraction, b'0'..=b'9') => Fraction,
            (Point, _) => return Err("a digit after the decimal point"),
            (Zero | Integer | Fraction, b'e' | b'E') => Exponent,
            (Exponent, b'+' | b'-') => ExponentSign,
            (Exponent | ExponentSign | ExponentDigits, b'0'..=b'9') => ExponentDigits,
            (Exponent | ExponentSign, _) => return Err("a digit in the exponent"),
            (Zero | Integer | Fraction | ExponentDigits, _) => return Ok(None),
        }))
    }
}

/// An escape sequence in progress inside a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After `\`.
    Backslash,
    /// After `\u`, with this many hex digits still to come.
    Hex(u8),
}

/// The token being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Between tokens.
    Structure,
    /// A string (`name`: a member name); `escaped`: it has escapes so far.
    String {
        name: bool,
        escaped: bool,
        escape: Escape,
    },
    Number(Number),
    /// `true`, `false` or `null`, `matched` bytes in.
    Literal {
        word: &'static [u8],
        matched: u8,
    },
}

/// Which members the scan records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    /// None: the value is only checked.
    Nothing,
    /// The members of the value, which must be an object.
    Members,
    /// The members of the value, which must be an object, and those of its `headers` member when that is an
    /// object: what the reader needs of an item.
    Item,
}

/// A member whose name has been read, at one of the two recorded levels.
#[derive(Debug, Clone, Default)]
struct Pending {
    name: Range<usize>,
    name_escaped: bool,
    value_start: usize,
}

/// A JSON value scanned as its bytes arrive: call [`scan`](Self::scan) with the buffer that starts at the
/// value, as often as it grows, until it says where the value ends; [`reset`](Self::reset) before the next.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    /// The next byte to look at, from the value's first byte.
    pos: usize,
    /// Containers open.
    depth: usize,
    max_depth: usize,
    /// One bit per open container, from the outermost: set for an object, clear for an array.
    objects: u128,
    expect: Expect,
    token: Token,
    /// Where the string being read started.
    token_start: usize,
    /// The member at level 1 and the one at level 2 inside `headers`.
    pending: [Pending; 2],
    /// The level-1 member being read is named `headers`.
    headers_next: bool,
    /// Inside the level-1 `headers` object.
    in_headers: bool,
    headers_found: bool,
    /// The one-pass reading of a value whose bytes are all there was tried ([`scan_whole`](Self::scan_whole)).
    whole_tried: bool,
    /// The value was read in one pass and all its bytes are ASCII (so valid UTF-8).
    ascii: bool,
    members: Vec<Member>,
    headers: Vec<Member>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::with_max_depth(MAX_DEPTH)
    }
}

impl Scanner {
    fn with_max_depth(max_depth: usize) -> Self {
        Self {
            pos: 0,
            depth: 0,
            max_depth,
            objects: 0,
            expect: Expect::Value,
            token: Token::Structure,
            token_start: 0,
            pending: Default::default(),
            headers_next: false,
            in_headers: false,
            headers_found: false,
            whole_tried: false,
            ascii: false,
            members: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Ready for the next value; the member lists keep their memory.
    pub(crate) fn reset(&mut self) {
        let (mut members, mut headers) = (std::mem::take(&mut self.members), std::mem::take(&mut self.headers));
        members.clear();
        headers.clear();
        *self = Self {
            members,
            headers,
            ..Self::with_max_depth(self.max_depth)
        };
    }

    /// Whether the value, complete, is known to be ASCII only (and so valid UTF-8): when it was read in one
    /// pass; `false` says nothing.
    pub(crate) fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Bytes of the value looked at so far: 0 before the first call.
    pub(crate) fn scanned(&self) -> usize {
        self.pos
    }

    /// The object's members, with ranges from the value's first byte (recorded with [`Record::Members`] or
    /// [`Record::Item`]).
    pub(crate) fn members(&self) -> &[Member] {
        &self.members
    }

    /// The members of the object's `headers` member, when it has one that is an object and whose name has no
    /// escapes (recorded with [`Record::Item`]).
    pub(crate) fn headers(&self) -> Option<&[Member]> {
        self.headers_found.then_some(&self.headers[..])
    }

    /// Continues the scan of the value that starts at `t[0]`; `t` holds what arrived so far, the bytes of
    /// earlier calls unchanged. The value's length once it is complete; `None` while it is not (`eof`: no more
    /// bytes will come, so a number at the end is complete). The same `record` must be given on every call.
    ///
    /// # Errors
    ///
    /// The first byte that cannot continue the value.
    pub(crate) fn scan(&mut self, t: &[u8], eof: bool, record: Record) -> Result<Option<usize>, SyntaxError> {
        if self.pos == 0 && !self.whole_tried {
            self.whole_tried = true;
            if let Some(end) = self.scan_whole(t, eof, record) {
                return Ok(Some(end));
            }
            // Not all there, or not valid: the byte-by-byte reading below starts over, and is the one that
            // reports errors.
            self.members.clear();
            self.headers.clear();
            self.headers_found = false;
            self.headers_next = false;
            self.in_headers = false;
        }
        while self.pos < t.len() {
            match self.token {
                Token::Structure => self.structure(t, record)?,
                Token::String { name, escaped, escape } => self.string(t, record, name, escaped, escape)?,
                Token::Number(state) => self.number(state, t[self.pos], record)?,
                Token::Literal { word, matched } => self.literal(word, matched, t[self.pos], record)?,
            }
            if self.expect == Expect::Done {
                return Ok(Some(self.pos));
            }
        }
        if let (true, Token::Number(state)) = (eof, self.token) {
            // A number ends where the input does: as if a delimiter followed.
            self.number(state, b' ', record)?;
            if self.expect == Expect::Done {
                return Ok(Some(self.pos));
            }
        }
        Ok(None)
    }

    /// What the value still lacks, for a scan that ran out of input.
    fn expected(&self) -> &'static str {
        match (self.token, self.expect) {
            (Token::String { .. }, _) => "the closing quote of a string",
            (Token::Number(_), _) => "a digit",
            (Token::Literal { .. }, _) | (_, Expect::Value | Expect::ValueOrClose) => "a JSON value",
            (_, Expect::NameOrClose | Expect::Name) => "a member name",
            (_, Expect::Colon) => "':'",
            (_, Expect::CommaOrClose) if self.in_object() => "',' or '}'",
            (_, Expect::CommaOrClose) => "',' or ']'",
            (_, Expect::Done) => "the end of the value",
        }
    }

    #[inline]
    fn in_object(&self) -> bool {
        self.depth > 0 && (self.objects >> (self.depth - 1)) & 1 == 1
    }

    #[inline]
    fn structure(&mut self, t: &[u8], record: Record) -> Result<(), SyntaxError> {
        let b = t[self.pos];
        if is_ws(b) {
            self.pos += 1;
            return Ok(());
        }
        match self.expect {
            Expect::ValueOrClose if b == b']' => self.close(record),
            Expect::Value | Expect::ValueOrClose => return self.begin_value(b, record),
            Expect::NameOrClose if b == b'}' => self.close(record),
            Expect::NameOrClose | Expect::Name if b == b'"' => {
                self.token_start = self.pos;
                self.token = Token::String {
                    name: true,
                    escaped: false,
                    escape: Escape::None,
                };
                self.pos += 1;
            }
            Expect::NameOrClose | Expect::Name => return fail("a member name", self.pos),
            Expect::Colon if b == b':' => {
                self.expect = Expect::Value;
                self.pos += 1;
            }
            Expect::Colon => return fail("':'", self.pos),
            Expect::CommaOrClose => {
                let object = self.in_object();
                match (b, object) {
                    (b',', true) => self.expect = Expect::Name,
                    (b',', false) => self.expect = Expect::Value,
                    (b'}', true) | (b']', false) => {
                        self.close(record);
                        return Ok(());
                    }
                    (_, true) => return fail("',' or '}'", self.pos),
                    (_, false) => return fail("',' or ']'", self.pos),
                }
                self.pos += 1;
            }
            Expect::Done => {}
        }
        Ok(())
    }

    fn begin_value(&mut self, b: u8, record: Record) -> Result<(), SyntaxError> {
        if !self.value_starts(self.depth, self.pos, b, record) {
            return fail("an object", self.pos);
        }
        let literal = |word| Token::Literal { word, matched: 1 };
        self.token = match b {
            b'"' => {
                self.token_start = self.pos;
                Token::String {
                    name: false,
                    escaped: false,
                    escape: Escape::None,
                }
            }
            b'{' | b'[' => return self.open(b == b'{', record),
            b't' => literal(b"true"),
            b'f' => literal(b"false"),
            b'n' => literal(b"null"),
            b'-' => Token::Number(Number::Minus),
            b'0' => Token::Number(Number::Zero),
            b'1'..=b'9' => Token::Number(Number::Integer),
            _ => return fail("a JSON value", self.pos),
        };
        self.pos += 1;
        Ok(())
    }

    fn open(&mut self, object: bool, record: Record) -> Result<(), SyntaxError> {
        if self.depth >= self.max_depth {
            return fail("less nesting", self.pos);
        }
        let bit = 1u128 << self.depth;
        if object {
            self.objects |= bit;
        } else {
            self.objects &= !bit;
        }
        self.depth += 1;
        self.pos += 1;
        self.expect = if object {
            Expect::NameOrClose
        } else {
            Expect::ValueOrClose
        };
        self.opened(object, self.depth, record);
        Ok(())
    }

    fn close(&mut self, record: Record) {
        self.depth -= 1;
        self.pos += 1;
        self.value_done(record);
    }

    /// A value ended at `pos`: record it if it is a member of a recorded object.
    #[inline]
    fn value_done(&mut self, record: Record) {
        self.expect = if self.depth == 0 {
            Expect::Done
        } else {
            Expect::CommaOrClose
        };
        self.value_ends(self.depth, self.pos, record);
    }

    // What both readings record, the byte-by-byte one (`scan`) and the one-pass one (`scan_whole`): the
    // members of the value (level 1) and those of its `headers` object (level 2), each at the depth the reading
    // is at.

    /// A value starts at `at` (first byte `b`) inside `depth` containers; `false` when the value itself must be
    /// an object and is not.
    #[inline]
    fn value_starts(&mut self, depth: usize, at: usize, b: u8, record: Record) -> bool {
        match depth {
            0 => return record == Record::Nothing || b == b'{',
            1 if record != Record::Nothing => self.pending[0].value_start = at,
            2 if self.in_headers => self.pending[1].value_start = at,
            _ => {}
        }
        true
    }

    /// A container opened; `depth` counts it.
    #[inline]
    fn opened(&mut self, object: bool, depth: usize, record: Record) {
        if object && depth == 2 && self.headers_next && record == Record::Item {
            self.in_headers = true;
            self.headers_found = true;
            self.headers.clear();
        }
    }

    /// A member name (with its quotes) at `range` of `t`, inside `depth` containers.
    #[inline]
    fn name_read(&mut self, t: &[u8], depth: usize, range: Range<usize>, escaped: bool, record: Record) {
        match depth {
            1 if record != Record::Nothing => {
                self.headers_next = record == Record::Item && &t[range.clone()] == b"\"headers\"";
                self.pending[0].name = range;
                self.pending[0].name_escaped = escaped;
            }
            2 if self.in_headers => {
                self.pending[1].name = range;
                self.pending[1].name_escaped = escaped;
            }
            _ => {}
        }
    }

    /// A value ended at `end` inside `depth` containers.
    #[inline]
    fn value_ends(&mut self, depth: usize, end: usize, record: Record) {
        match depth {
            1 if record != Record::Nothing => {
                let p = &self.pending[0];
                self.members.push(Member {
                    name: p.name.clone(),
                    name_escaped: p.name_escaped,
                    value: p.value_start..end,
                });
                self.in_headers = false;
            }
            2 if self.in_headers => {
                let p = &self.pending[1];
                self.headers.push(Member {
                    name: p.name.clone(),
                    name_escaped: p.name_escaped,
                    value: p.value_start..end,
                });
            }
            _ => {}
        }
    }

    fn string(
        &mut self,
        t: &[u8],
        record: Record,
        name: bool,
        mut escaped: bool,
        mut escape: Escape,
    ) -> Result<(), SyntaxError> {
        loop {
            match escape {
                Escape::None => {}
                Escape::Backslash => {
                    let Some(&b) = t.get(self.pos) else { break };
                    escape = match b {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Escape::None,
                        b'u' => Escape::Hex(4),
                        _ => return fail("a valid escape in a string", self.pos - 1),
                    };
                    self.pos += 1;
                    continue;
                }
                Escape::Hex(left) => {
                    let Some(&b) = t.get(self.pos) else { break };
                    if !b.is_ascii_hexdigit() {
                        // Reported at the backslash.
                        return fail("a valid escape in a string", self.pos - 2 - usize::from(4 - left));
                    }
                    self.pos += 1;
                    escape = if left == 1 { Escape::None } else { Escape::Hex(left - 1) };
                    continue;
                }
            }
            let rest = &t[self.pos..];
            match memchr::memchr2(b'"', b'\\', rest) {
                None => {
                    check_control(rest, self.pos)?;
                    self.pos = t.len();
                    break;
                }
                Some(n) => {
                    check_control(&rest[..n], self.pos)?;
                    self.pos += n + 1;
                    if rest[n] == b'"' {
                        self.token = Token::Structure;
                        if name {
                            self.name_done(t, escaped, record);
                        } else {
                            self.value_done(record);
                        }
                        return Ok(());
                    }
                    escaped = true;
                    escape = Escape::Backslash;
                }
            }
        }
        self.token = Token::String { name, escaped, escape };
        Ok(())
    }

    fn name_done(&mut self, t: &[u8], escaped: bool, record: Record) {
        self.expect = Expect::Colon;
        self.name_read(t, self.depth, self.token_start..self.pos, escaped, record);
    }

    #[inline]
    fn number(&mut self, state: Number, b: u8, record: Record) -> Result<(), SyntaxError> {
        match state.next(b) {
            Ok(Some(next)) => {
                self.token = Token::Number(next);
                self.pos += 1;
            }
            Ok(None) => {
                self.token = Token::Structure;
                self.value_done(record);
            }
            Err(message) => return fail(message, self.pos),
        }
        Ok(())
    }

    #[inline]
    fn literal(&mut self, word: &'static [u8], matched: u8, b: u8, record: Record) -> Result<(), SyntaxError> {
        let matched = usize::from(matched);
        if word[matched] != b {
            return fail("a JSON value", self.pos - matched);
        }
        self.pos += 1;
        if matched + 1 == word.len() {
            self.token = Token::Structure;
            self.value_done(record);
        } else {
            self.token = Token::Literal {
                word,
                matched: matched as u8 + 1,
            };
        }
        Ok(())
    }
}

impl Scanner {
    /// The value that starts at `t[0]` read in one pass, for when all of it is in `t` (nearly always: a whole
    /// document, or an item inside a 16 KiB read). Records members as [`scan`](Self::scan) does and leaves the
    /// scanner as a completed `scan` would. `None` when the value does not end within `t` or is not valid:
    /// the caller then reads it byte by byte from the start, which reports the error. The state of the reading
    /// is where the code is, not in fields: no dispatch per byte.
    fn scan_whole(&mut self, t: &[u8], eof: bool, record: Record) -> Option<usize> {
        let mut depth = 0usize;
        let mut objects = 0u128;
        // The bits of the strings' bytes (a superset): below 0x80, every byte of the value is ASCII.
        let mut high = 0u8;
        let mut i = 0;
        'value: loop {
            // A value starts (after white space) at `i`.
            i = skip_ws(t, i);
            let b = *t.get(i)?;
            if !self.value_starts(depth, i, b, record) {
                return None;
            }
            match b {
                b'{' | b'[' => {
                    if depth >= self.max_depth {
                        return None;
                    }
                    let object = b == b'{';
                    objects = (objects & !(1 << depth)) | (u128::from(object) << depth);
                    depth += 1;
                    self.opened(object, depth, record);
                    i = skip_ws(t, i + 1);
                    match (*t.get(i)?, object) {
                        (b'}', true) | (b']', false) => {
                            depth -= 1;
                            i += 1;
                        }
                        (b'"', true) => {
                            i = self.name_whole(t, i, depth, record, &mut high)?;
                            continue 'value;
                        }
                        (_, true) => return None,
                        (_, false) => continue 'value,
                    }
                }
                b'"' => i = string_end(t, i + 1, &mut high)?.0,
                b't' if t[i..].starts_with(b"true") => i += 4,
                b'f' if t[i..].starts_with(b"false") => i += 5,
                b'n' if t[i..].starts_with(b"null") => i += 4,
                b'-' | b'0'..=b'9' => {
                    i = number_end(t, i)?;
                    if i == t.len() && !eof {
                        // More digits may follow.
                        return None;
                    }
                }
                _ => return None,
            }
            // A value ended at `i`; then commas and closing brackets until the next value or the end.
            loop {
                if depth == 0 {
                    self.pos = i;
                    self.depth = 0;
                    self.objects = objects;
                    self.expect = Expect::Done;
                    self.token = Token::Structure;
                    self.ascii = high < 0x80;
                    return Some(i);
                }
                self.value_ends(depth, i, record);
                i = skip_ws(t, i);
                let object = (objects >> (depth - 1)) & 1 == 1;
                match (*t.get(i)?, object) {
                    (b',', true) => {
                        i = skip_ws(t, i + 1);
                        if t.get(i) != Some(&b'"') {
                            return None;
                        }
                        i = self.name_whole(t, i, depth, record, &mut high)?;
                        continue 'value;
                    }
                    (b',', false) => {
                        i += 1;
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        depth -= 1;
                        i += 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A member name at `t[i]` (its opening quote) and the colon after it: where its value may start.
    #[inline]
    fn name_whole(&mut self, t: &[u8], i: usize, depth: usize, record: Record, high: &mut u8) -> Option<usize> {
        let (end, escaped) = string_end(t, i + 1, high)?;
        self.name_read(t, depth, i..end, escaped, record);
        let colon = skip_ws(t, end);
        (t.get(colon) == Some(&b':')).then_some(colon + 1)
    }
}

/// Flags (see [`grammar::below_flags`]) the bytes of `word` that are a quote, a backslash or a control
/// character.
#[inline(always)]
fn string_flags(word: u64) -> u64 {
    grammar::equal_flags(word, b'"') | grammar::equal_flags(word, b'\\') | grammar::below_flags(word, 0x20)
}

/// The end of a string whose contents start at `t[i]` (after its opening quote): just after its closing quote,
/// and whether it has escapes. `None` when it does not end within `t` or is not valid.
#[inline]
fn string_end(t: &[u8], mut i: usize, high: &mut u8) -> Option<(usize, bool)> {
    // Most strings (names, ids, header values) end within sixteen bytes: two words answer without a search.
    if let Some(window) = t.get(i..i + 16) {
        let (lo, hi) = window.split_at(8);
        let mut special = None;
        for (k, word) in [(0, lo), (8, hi)] {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            // Bytes of the word past the string's end count too: a superset of its non-ASCII bytes.
            *high |= u8::from(word & grammar::HIGH_BITS != 0) << 7;
            let flags = string_flags(word);
            if flags != 0 {
                special = Some(i + k + (flags.trailing_zeros() / 8) as usize);
                break;
            }
        }
        match special {
            Some(at) if t[at] == b'"' => return Some((at + 1, false)),
            Some(at) if t[at] == b'\\' => i = at,
            Some(_) => return None,
            None => i += 16,
        }
    }
    let mut escaped = false;
    loop {
        let n = memchr::memchr2(b'"', b'\\', &t[i..])?;
        let (low, top) = t[i..i + n]
            .iter()
            .fold((u8::MAX, 0), |(low, top), &b| (low.min(b), top.max(b)));
        if low < 0x20 {
            return None;
        }
        *high |= top;
        i += n;
        if t[i] == b'"' {
            return Some((i + 1, escaped));
        }
        escaped = true;
        match *t.get(i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
            b'u' if t.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
            _ => return None,
        }
    }
}

/// The end of the number that starts at `t[i]` (RFC 8259 §6); `None` when it is malformed within `t`.
#[inline]
fn number_end(t: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        while t.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    if t[i] == b'-' {
        i += 1;
    }
    i = match *t.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => digits(i + 1),
        _ => return None,
    };
    if t.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// The end of the JSON value that starts at `t[i]`, all of which is in `t`.
#[cfg(test)]
pub(crate) fn value_end(t: &[u8], i: usize) -> Result<usize, SyntaxError> {
    complete(&mut Scanner::default(), t, i, Record::Nothing)
}

/// Whether a valid JSON value, as a member of an item, nests no deeper than the reader admits: the same scan
/// with one level fewer, the one the item's object takes.
pub(crate) fn fits_in_item(value: &[u8]) -> bool {
    complete(
        &mut Scanner::with_max_depth(MAX_DEPTH - 1),
        value,
        skip_ws(value, 0),
        Record::Nothing,
    )
    .is_ok()
}

/// Scans the value at `t[i]` to its end, all of which is in `t`; its end in `t`.
fn complete(scanner: &mut Scanner, t: &[u8], i: usize, record: Record) -> Result<usize, SyntaxError> {
    let shift = |e: SyntaxError| SyntaxError { at: e.at + i, ..e };
    match scanner.scan(&t[i..], true, record).map_err(shift)? {
        Some(len) => Ok(i + len),
        None => fail(scanner.expected(), t.len()),
    }
}

/// The members of the object that is exactly `t[range]` (white space around it allowed), in order.
pub(crate) fn members(t: &[u8], range: Range<usize>, out: &mut Vec<Member>) -> Result<(), SyntaxError> {
    let t = &t[..range.end];
    let start = skip_ws(t, range.start);
    let mut scanner = Scanner::default();
    let end = complete(&mut scanner, t, start, Record::Members)?;
    let rest = skip_ws(t, end);
    if rest != t.len() {
        return fail("the end of the object", rest);
    }
    out.extend(scanner.members.iter().map(|m| Member {
        name: m.name.start + start..m.name.end + start,
        name_escaped: m.name_escaped,
        value: m.value.start + start..m.value.end + start,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(s: &str) -> bool {
        value_end(s.as_bytes(), 0).is_ok_and(|end| end == s.len())
    }

    #[test]
    fn agrees_with_serde_json_on_samples() {
        for s in [
            r#"{"a":[1,2.5,-0.1e+3,true,false,null,"x\"y\u00e9"],"b":{}}"#,
            "[]",
            "0",
            "-0",
            "1e5",
            r#""\/\b\f\n\r\t""#,
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            "[1,]",
            r#""\x""#,
            r#""\u12g4""#,
            "\"a\u{1}b\"",
            "tru",
            "nul",
            r#"{"a":1}}"#,
            "\"unterminated",
        ] {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok();
            assert_eq!(valid(s), serde, "{s}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!valid(&deep));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_serde_json_on_token_soup(tokens in proptest::collection::vec(proptest::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"a\"", "\"\\u00e9\"", "\"\\x\"", "\"\\\"", "1", "-0", "1.5e3", "01",
            "1.", "true", "nul", " ", "\"", "\\", "\u{1}", "é", "\n", "-", "e5",
        ]), 0..24)) {
            let s = tokens.concat();
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok();
            let b = s.as_bytes();
            let start = skip_ws(b, 0);
            let ours = value_end(b, start).is_ok_and(|end| skip_ws(b, end) == b.len());
            proptest::prop_assert_eq!(ours, serde, "{:?}", s);
        }
    }

    /// Scans `s` fed in pieces cut at `cuts` (each call sees everything so far, as the reader's buffer does).
    fn scan_in_pieces(s: &[u8], cuts: &[usize], record: Record) -> (Result<usize, SyntaxError>, Scanner) {
        let mut scanner = Scanner::default();
        let mut ends: Vec<usize> = cuts.iter().map(|&c| c.min(s.len())).collect();
        ends.sort_unstable();
        ends.push(s.len());
        for (k, &end) in ends.iter().enumerate() {
            let eof = k + 1 == ends.len();
            match scanner.scan(&s[..end], eof, record) {
                Ok(Some(len)) => return (Ok(len), scanner),
                Ok(None) if eof => {
                    let e = SyntaxError {
                        message: scanner.expected(),
                        at: s.len(),
                    };
                    return (Err(e), scanner);
                }
                Ok(None) => {}
                Err(e) => return (Err(e), scanner),
            }
        }
        unreachable!("the last piece is at the end of input")
    }

    proptest::proptest! {
        /// Where the bytes are cut changes nothing: the same end, the same error at the same place, the same
        /// members.
        #[test]
        fn pieces_scan_as_the_whole(tokens in proptest::collection::vec(proptest::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"a\"", "\"headers\"", "\"\\u00e9\"", "\"\\x\"", "1", "-0", "1.5e-3",
            "01", "1.", "true", "nul", " ", "\"", "\\", "\u{1}", "é", "-", "e5",
        ]), 0..24), cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let s = tokens.concat();
            let b = s.as_bytes();
            for record in [Record::Nothing, Record::Item] {
                let (whole, w) = scan_in_pieces(b, &[], record);
                let (pieces, p) = scan_in_pieces(b, &cuts, record);
                proptest::prop_assert_eq!(&whole, &pieces, "{:?} cut at {:?}", s, cuts);
                proptest::prop_assert_eq!(w.members(), p.members());
                proptest::prop_assert_eq!(w.headers(), p.headers());
            }
        }
    }

    /// Valid JSON items: objects whose members are named like an item's (with and without escapes) and whose
    /// values nest strings with escapes, numbers, literals, arrays and objects.
    fn valid_item() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("\"x\"".to_owned()),
            Just("\"a\\\"b\\u00e9\\n\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("-0.5e+3".to_owned()),
            Just("12".to_owned()),
            Just("0".to_owned()),
            Just("true".to_owned()),
            Just("null".to_owned()),
            Just("\"é\"".to_owned()),
        ];
        let name = prop_oneof![
            Just("\"headers\""),
            Just("\"id\""),
            Just("\"body\""),
            Just("\"h\\u0065aders\""),
            Just("\"a\""),
        ];
        let value = leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[ {} ]", v.join(" , "))),
                proptest::collection::vec((name.clone(), inner), 0..4).prop_map(|m| {
                    let members: Vec<String> = m.iter().map(|(n, v)| format!("{n} :{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        });
        let name = prop_oneof![
            Just("\"headers\""),
            Just("\"id\""),
            Just("\"status\""),
            Just("\"b\\u006fdy\"")
        ];
        proptest::collection::vec((name, value), 0..5).prop_map(|m| {
            let members: Vec<String> = m.iter().map(|(n, v)| format!("\n{n}: {v}")).collect();
            format!("{{{}}}", members.join(","))
        })
    }

    proptest::proptest! {
        /// The one-pass reading of a whole value and the byte-by-byte reading agree on valid items: the same end,
        /// members and headers, however the bytes are cut.
        #[test]
        fn whole_and_pieces_agree_on_valid_items(item in valid_item(), cuts in proptest::collection::vec(0usize..200, 1..4)) {
            let b = item.as_bytes();
            for record in [Record::Nothing, Record::Members, Record::Item] {
                // The one-pass reading itself takes every valid item (not the byte-by-byte one behind it).
                proptest::prop_assert_eq!(Scanner::default().scan_whole(b, true, record), Some(b.len()), "{}", item);
                let (whole, w) = scan_in_pieces(b, &[], record);
                proptest::prop_assert_eq!(&whole, &Ok(b.len()), "{}", item);
                let (pieces, p) = scan_in_pieces(b, &cuts, record);
                proptest::prop_assert_eq!(&whole, &pieces, "{} cut at {:?}", item, cuts);
                proptest::prop_assert_eq!(w.members(), p.members());
                proptest::prop_assert_eq!(w.headers(), p.headers());
            }
        }
    }

    #[test]
    fn byte_by_byte_item_records_members_and_headers() {
        let item = br#"{"id":"1","headers":{"a":"x","b\u0063":null},"body":{"headers":{"no":1}},"n":-1.5e3}"#;
        let mut scanner = Scanner::default();
        let mut end = None;
        for k in 1..=item.len() {
            end = scanner.scan(&item[..k], false, Record::Item).unwrap();
            assert_eq!(end.is_some(), k == item.len(), "{k}");
        }
        assert_eq!(end, Some(item.len()));
        let text = |r: &Range<usize>| std::str::from_utf8(&item[r.clone()]).unwrap();
        let members: Vec<_> = scanner
            .members()
            .iter()
            .map(|m| (text(&m.name), text(&m.value)))
            .collect();
        assert_eq!(
            members,
            [
                (r#""id""#, r#""1""#),
                (r#""headers""#, r#"{"a":"x","b\u0063":null}"#),
                (r#""body""#, r#"{"headers":{"no":1}}"#),
                (r#""n""#, "-1.5e3"),
            ]
        );
        let headers = scanner.headers().unwrap();
        assert_eq!(headers.len(), 2);
        assert_eq!((text(&headers[0].name), text(&headers[0].value)), (r#""a""#, r#""x""#));
        assert!(headers[1].name_escaped && !headers[0].name_escaped);
        assert_eq!(text(&headers[1].value), "null");

        // A number at the end of the input is complete only at the end of input.
        let mut scanner = Scanner::default();
        assert_eq!(scanner.scan(b"12", false, Record::Nothing), Ok(None));
        assert_eq!(scanner.scan(b"12", true, Record::Nothing), Ok(Some(2)));
        // An escaped name for `headers` is not recorded: the reader reads that object itself.
        let mut scanner = Scanner::default();
        let escaped = br#"{"head\u0065rs":{"a":"b"}}"#;
        assert!(scanner.scan(escaped, true, Record::Item).unwrap().is_some());
        assert_eq!(scanner.headers(), None);
        // Errors say where, in the whole value, even when found in a later piece.
        let mut scanner = Scanner::default();
        assert_eq!(scanner.scan(br#"{"a":"\u00"#, false, Record::Item), Ok(None));
        let e = scanner.scan(br#"{"a":"\u00zz"}"#, false, Record::Item).unwrap_err();
        assert_eq!((e.message, e.at), ("a valid escape in a string", 6));
        let mut scanner = Scanner::default();
        assert_eq!(
            scanner.scan(b"[1]", false, Record::Item).unwrap_err().message,
            "an object"
        );
    }

    #[test]
    fn control_characters_anywhere() {
        for len in 0..40 {
            for at in 0..len {
                let mut s = vec![b'a'; len];
                for bad in [0u8, 0x1f, b'\n'] {
                    s[at] = bad;
                    assert!(has_control(&s), "{len} {at} {bad}");
                }
                s[at] = 0x20;
                assert!(!has_control(&s));
                s[at] = 0xff;
                assert!(!has_control(&s));
            }
        }
    }

    #[test]
    fn members_with_ranges() {
        let t = br#" {"id" : "1", "b\u0061dy":{"x":[1]} } "#;
        let mut out = Vec::new();
        members(t, 0..t.len(), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(&t[out[0].name.clone()], br#""id""#);
        assert_eq!(&t[out[0].value.clone()], br#""1""#);
        assert!(out[1].name_escaped);
        assert_eq!(&t[out[1].value.clone()], br#"{"x":[1]}"#);
        let mut out = Vec::new();
        assert_eq!(members(b"[1]", 0..3, &mut out).unwrap_err().message, "an object");
    }
}
