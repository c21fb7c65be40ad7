//! A JSON validator that also splits an object into its members, for reading items: strings are searched
//! with `memchr2` and checked for control characters without a branch per byte. It checks what RFC 8259
//! requires of the bytes (UTF-8 is checked once for the whole item by the caller); it builds nothing but the
//! member list. (The reader has already found the item's end with its resumable bracket counter, so each item
//! is scanned twice: once to find where it ends while the bytes arrive, once here.)

use std::ops::Range;

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
    while i < t.len() && matches!(t[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// The end of the string that starts at `t[i]` (a quote), and whether it has escapes.
pub(crate) fn string_end(t: &[u8], i: usize) -> Result<(usize, bool), SyntaxError> {
    let mut p = i + 1;
    let mut escaped = false;
    loop {
        let Some(n) = memchr::memchr2(b'"', b'\\', &t[p.min(t.len())..]) else {
            return fail("the closing quote of a string", t.len());
        };
        let segment = &t[p..p + n];
        if has_control(segment) {
            let at = p + segment.iter().position(|&b| b < 0x20).unwrap_or(0);
            return fail("no control character in a string", at);
        }
        p += n;
        if t[p] == b'"' {
            return Ok((p + 1, escaped));
        }
        escaped = true;
        match t.get(p + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => p += 2,
            Some(b'u') if t.len() >= p + 6 && t[p + 2..p + 6].iter().all(u8::is_ascii_hexdigit) => p += 6,
            _ => return fail("a valid escape in a string", p),
        }
    }
}

/// Whether `s` has a byte below 0x20 (not allowed unescaped in a JSON string). A minimum has no early exit,
/// so it runs without a branch per byte.
#[inline]
fn has_control(s: &[u8]) -> bool {
    s.iter().copied().min().is_some_and(|low| low < 0x20)
}

fn digits(t: &[u8], mut p: usize) -> usize {
    while p < t.len() && t[p].is_ascii_digit() {
        p += 1;
    }
    p
}

fn number_end(t: &[u8], i: usize) -> Result<usize, SyntaxError> {
    let mut p = i;
    if t.get(p) == Some(&b'-') {
        p += 1;
    }
    match t.get(p) {
        Some(b'0') => p += 1,
        Some(b'1'..=b'9') => p = digits(t, p + 1),
        _ => return fail("a digit", p),
    }
    if t.get(p) == Some(&b'.') {
        let q = digits(t, p + 1);
        if q == p + 1 {
            return fail("a digit after the decimal point", q);
        }
        p = q;
    }
    if matches!(t.get(p), Some(b'e' | b'E')) {
        p += 1;
        if matches!(t.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        let q = digits(t, p);
        if q == p {
            return fail("a digit in the exponent", q);
        }
        p = q;
    }
    Ok(p)
}

fn literal_end(t: &[u8], i: usize, word: &[u8]) -> Result<usize, SyntaxError> {
    if t[i..].starts_with(word) {
        Ok(i + word.len())
    } else {
        fail("a JSON value", i)
    }
}

/// The end of the JSON value that starts at `t[i]`.
pub(crate) fn value_end(t: &[u8], i: usize) -> Result<usize, SyntaxError> {
    value_end_at(t, i, 0)
}

/// Whether a valid JSON value, as a member of an item, nests no deeper than the reader admits: the same scan,
/// started one level down, as the reader's scan of the item's object reaches its members.
pub(crate) fn fits_in_item(value: &[u8]) -> bool {
    value_end_at(value, skip_ws(value, 0), 1).is_ok()
}

fn value_end_at(t: &[u8], i: usize, depth: usize) -> Result<usize, SyntaxError> {
    match t.get(i) {
        Some(b'"') => string_end(t, i).map(|(end, _)| end),
        Some(b'{') => object_end(t, i, depth + 1, &mut |_| {}),
        Some(b'[') => {
            if depth + 1 > MAX_DEPTH {
                return fail("less nesting", i);
            }
            let mut p = skip_ws(t, i + 1);
            if t.get(p) == Some(&b']') {
                return Ok(p + 1);
            }
            loop {
                p = skip_ws(t, value_end_at(t, p, depth + 1)?);
                match t.get(p) {
                    Some(b',') => p = skip_ws(t, p + 1),
                    Some(b']') => return Ok(p + 1),
                    _ => return fail("',' or ']'", p),
                }
            }
        }
        Some(b't') => literal_end(t, i, b"true"),
        Some(b'f') => literal_end(t, i, b"false"),
        Some(b'n') => literal_end(t, i, b"null"),
        Some(b'-' | b'0'..=b'9') => number_end(t, i),
        _ => fail("a JSON value", i),
    }
}

/// The end of the object that starts at `t[i]`, calling `each` for every member.
fn object_end(t: &[u8], i: usize, depth: usize, each: &mut dyn FnMut(Member)) -> Result<usize, SyntaxError> {
    if depth > MAX_DEPTH {
        return fail("less nesting", i);
    }
    let mut p = skip_ws(t, i + 1);
    if t.get(p) == Some(&b'}') {
        return Ok(p + 1);
    }
    loop {
        if t.get(p) != Some(&b'"') {
            return fail("a member name", p);
        }
        let (name_end, name_escaped) = string_end(t, p)?;
        let colon = skip_ws(t, name_end);
        if t.get(colon) != Some(&b':') {
            return fail("':'", colon);
        }
        let start = skip_ws(t, colon + 1);
        let end = value_end_at(t, start, depth)?;
        each(Member {
            name: p..name_end,
            name_escaped,
            value: start..end,
        });
        p = skip_ws(t, end);
        match t.get(p) {
            Some(b',') => p = skip_ws(t, p + 1),
            Some(b'}') => return Ok(p + 1),
            _ => return fail("',' or '}'", p),
        }
    }
}

/// The members of the object that is exactly `t[range]` (white space around it allowed), in order.
pub(crate) fn members(t: &[u8], range: Range<usize>, out: &mut Vec<Member>) -> Result<(), SyntaxError> {
    let t = &t[..range.end];
    let start = skip_ws(t, range.start);
    if t.get(start) != Some(&b'{') {
        return fail("an object", start);
    }
    let end = object_end(t, start, 1, &mut |m| out.push(m))?;
    let rest = skip_ws(t, end);
    if rest != t.len() {
        return fail("the end of the object", rest);
    }
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
