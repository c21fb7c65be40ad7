//! [`Excerpt`]: input quoted in error messages, bounded and escaped.

use std::fmt;

/// Input quoted in an error message: at most [`Excerpt::MAX_CHARS`] characters, control characters, quotes
/// and backslashes escaped (as Rust's `escape_debug` writes them), bytes that are not UTF-8 as `\x..`, and the
/// length of what was left out. A payload can neither make a message huge nor drive a terminal.
///
/// # Example
///
/// ```
/// use odata_batch::Excerpt;
///
/// assert_eq!(Excerpt(b"caf\xc3\xa9 \x1b[2J").to_string(), r"café \u{1b}[2J");
/// let long = "x".repeat(1_000_000);
/// assert_eq!(Excerpt(long.as_bytes()).to_string(), format!("{}… (999880 more bytes)", "x".repeat(120)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Excerpt<'a>(pub &'a [u8]);

impl Excerpt<'_> {
    /// The most characters quoted.
    pub const MAX_CHARS: usize = 120;
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut chars = 0;
        while !rest.is_empty() && chars < Self::MAX_CHARS {
            let valid_len = match std::str::from_utf8(rest) {
                Ok(_) => rest.len(),
                Err(e) => e.valid_up_to(),
            };
            let (valid, after) = rest.split_at(valid_len);
            // `valid_len` bytes are UTF-8 by `from_utf8`'s own account.
            for c in std::str::from_utf8(valid).unwrap_or_default().chars() {
                if chars == Self::MAX_CHARS {
                    break;
                }
                write!(f, "{}", c.escape_debug())?;
                chars += 1;
                rest = &rest[c.len_utf8()..];
            }
            if rest.len() == after.len() && chars < Self::MAX_CHARS {
                if let Some((&b, tail)) = rest.split_first() {
                    write!(f, "\\x{b:02x}")?;
                    chars += 1;
                    rest = tail;
                }
            }
        }
        if !rest.is_empty() {
            write!(f, "… ({} more bytes)", rest.len())?;
        }
        Ok(())
    }
}

/// Text quoted from the input in an error, kept inline: at most [`QuotedText::CAPACITY`] bytes, cut at a
/// character boundary, and the length of the original. An error that holds it allocates nothing, and the
/// input can make it no larger. `Display` writes it as [`Excerpt`] does, then how much was left out.
///
/// # Example
///
/// ```
/// use odata_batch::QuotedText;
///
/// let name = QuotedText::from("requests");
/// assert_eq!(name, "requests");
/// assert_eq!(name.to_string(), "requests");
/// let long = QuotedText::from("é".repeat(100).as_str());
/// assert!(!long.is_whole());
/// assert_eq!(long.as_bytes().len(), 64);
/// assert!(long.to_string().ends_with("… (136 more bytes)"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedText {
    buf: [u8; Self::CAPACITY],
    len: u8,
    original_len: usize,
}

impl QuotedText {
    /// The most bytes kept.
    pub const CAPACITY: usize = 64;

    /// The first bytes of `text` (whole characters, when it is UTF-8), and its length.
    pub fn new(text: &[u8]) -> Self {
        let mut end = text.len().min(Self::CAPACITY);
        if let Err(e) = std::str::from_utf8(&text[..end]) {
            // Cut at the last character boundary when the cut split a character of UTF-8 text.
            if e.error_len().is_none() {
                end = e.valid_up_to();
            }
        }
        let mut buf = [0; Self::CAPACITY];
        buf[..end].copy_from_slice(&text[..end]);
        Self {
            buf,
            len: end as u8,
            original_len: text.len(),
        }
    }

    /// What `value` displays as, kept as [`new`](Self::new) keeps text, without an allocation.
    #[cfg(feature = "json")]
    pub(crate) fn display(value: impl fmt::Display) -> Self {
        struct Sink {
            buf: [u8; QuotedText::CAPACITY * 2],
            len: usize,
            total: usize,
        }
        impl fmt::Write for Sink {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let n = s.len().min(self.buf.len() - self.len);
                self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
                self.len += n;
                self.total += s.len();
                Ok(())
            }
        }
        let mut sink = Sink {
            buf: [0; Self::CAPACITY * 2],
            len: 0,
            total: 0,
        };
        let _ = fmt::write(&mut sink, format_args!("{value}"));
        let mut quoted = Self::new(&sink.buf[..sink.len]);
        quoted.original_len = sink.total;
        quoted
    }

    /// The bytes kept.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// Whether every byte of the original was kept.
    pub fn is_whole(&self) -> bool {
        usize::from(self.len) == self.original_len
    }

    /// The length of the original text in bytes.
    pub fn original_len(&self) -> usize {
        self.original_len
    }
}

impl From<&str> for QuotedText {
    fn from(text: &str) -> Self {
        Self::new(text.as_bytes())
    }
}

impl From<String> for QuotedText {
    fn from(text: String) -> Self {
        Self::new(text.as_bytes())
    }
}

impl From<&String> for QuotedText {
    fn from(text: &String) -> Self {
        Self::new(text.as_bytes())
    }
}

impl From<std::borrow::Cow<'_, str>> for QuotedText {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        Self::new(text.as_bytes())
    }
}

impl PartialEq<str> for QuotedText {
    fn eq(&self, other: &str) -> bool {
        self.is_whole() && self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for QuotedText {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl fmt::Debug for QuotedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))?;
        if !self.is_whole() {
            write!(f, "… ({} bytes)", self.original_len)?;
        }
        Ok(())
    }
}

impl fmt::Display for QuotedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Excerpt(self.as_bytes()).fmt(f)?;
        if !self.is_whole() {
            write!(f, "… ({} more bytes)", self.original_len - usize::from(self.len))?;
        }
        Ok(())
    }
}
