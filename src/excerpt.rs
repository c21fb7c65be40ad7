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
