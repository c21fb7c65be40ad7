//! Item mapping: one JSON item's members (name, strings, headers, body) into the model's pieces.

use std::ops::Range;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::JsonErrorKind;
use super::read::JsonReadOptions;
use super::{scan, MediaClass};
use crate::QuotedText;

/// A member's name, decoded only when it has escapes.
pub(super) fn member_name<'a>(text: &'a str, m: &scan::Member) -> std::borrow::Cow<'a, str> {
    let quoted = &text[m.name.clone()];
    if m.name_escaped {
        std::borrow::Cow::Owned(serde_json::from_str::<String>(quoted).unwrap_or_default())
    } else {
        std::borrow::Cow::Borrowed(&quoted[1..quoted.len() - 1])
    }
}

/// The string a JSON value stands for; `None` when it is not a string. The value is valid JSON already.
pub(super) fn string_value(text: &str, range: Range<usize>) -> Option<String> {
    let quoted = &text[range];
    if !quoted.starts_with('"') {
        return None;
    }
    let inner = &quoted[1..quoted.len() - 1];
    if inner.contains('\\') {
        serde_json::from_str::<String>(quoted).ok()
    } else {
        Some(inner.to_owned())
    }
}

/// Where each member of an item is, by name.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) id: Option<Range<usize>>,
    pub(super) group: Option<Range<usize>>,
    pub(super) headers: Option<Range<usize>>,
    pub(super) body: Option<Range<usize>>,
    pub(super) method: Option<Range<usize>>,
    pub(super) url: Option<Range<usize>>,
    pub(super) depends_on: Option<Range<usize>>,
    pub(super) condition: Option<Range<usize>>,
    pub(super) status: Option<Range<usize>>,
}

/// The header names read lately, as written: the items of a batch mostly repeat a few, and a name that is no
/// standard header costs an allocation to make.
#[derive(Debug, Default)]
pub(super) struct HeaderNames {
    names: Vec<(Box<[u8]>, HeaderName)>,
}

impl HeaderNames {
    /// Names kept at most; past them the oldest half is forgotten.
    const MAX: usize = 32;

    /// The header name written as `bytes`; `None` when it is no valid header name.
    pub(super) fn get(&mut self, bytes: &[u8]) -> Option<HeaderName> {
        if let Some((_, name)) = self.names.iter().find(|(written, _)| **written == *bytes) {
            return Some(name.clone());
        }
        let name = crate::model::header_name(bytes)?;
        if self.names.len() == Self::MAX {
            self.names.drain(..Self::MAX / 2);
        }
        self.names.push((bytes.into(), name.clone()));
        Some(name)
    }
}

/// The `headers` object at `range`, whose members the item's scan recorded (`scanned`) unless its name had
/// escapes. Values without escapes share the item's memory.
pub(super) fn read_headers(
    item: &Bytes,
    text: &str,
    range: Range<usize>,
    scanned: Option<&[scan::Member]>,
    names: &mut HeaderNames,
) -> Result<HeaderMap, JsonErrorKind> {
    let mut found = Vec::new();
    let members = match scanned {
        Some(members) => members,
        None => {
            scan::members(text.as_bytes(), range, &mut found)
                .map_err(|_| JsonErrorKind::Syntax(QuotedText::from("\"headers\" must be an object")))?;
            &found[..]
        }
    };
    let mut headers = HeaderMap::with_capacity(members.len());
    for m in members {
        let name = member_name(text, m);
        let header = names
            .get(name.as_bytes())
            .ok_or_else(|| JsonErrorKind::InvalidHeader(QuotedText::new(name.as_bytes())))?;
        let quoted = &text[m.value.clone()];
        let invalid = || JsonErrorKind::InvalidHeader(QuotedText::new(name.as_bytes()));
        let value = if quoted == "null" {
            // `null` keeps the header, with an empty value.
            HeaderValue::from_static("")
        } else if quoted.starts_with('"') && !quoted.contains('\\') {
            HeaderValue::from_maybe_shared(item.slice(m.value.start + 1..m.value.end - 1)).map_err(|_| invalid())?
        } else {
            let value = string_value(text, m.value.clone()).ok_or_else(invalid)?;
            HeaderValue::from_str(&value).map_err(|_| invalid())?
        };
        // One lookup: a name already there is an error, and the map is dropped with it.
        if headers.insert(header, value).is_some() {
            return Err(JsonErrorKind::DuplicateHeader(QuotedText::new(name.as_bytes())));
        }
    }
    Ok(headers)
}

/// The bytes a `body` member stands for, given the item's `Content-Type`. JSON bodies are slices of the
/// document (no copy).
pub(super) fn read_body(
    item: &Bytes,
    range: Range<usize>,
    media: Option<MediaClass>,
    options: &JsonReadOptions,
) -> Result<Bytes, JsonErrorKind> {
    let value = &item[range.clone()];
    if value == b"null" {
        return Ok(Bytes::new());
    }
    let MediaClass { json, text: text_type } = media.unwrap_or(MediaClass {
        // Without a Content-Type, a value that is not a string can only be JSON.
        json: !value.starts_with(b"\""),
        text: false,
    });
    if json {
        return Ok(item.slice(range));
    }
    // (The caller checked the item is UTF-8.)
    let value = std::str::from_utf8(value).map_err(|_| JsonErrorKind::InvalidBody)?;
    let string = string_value(value, 0..value.len()).ok_or(JsonErrorKind::InvalidBody)?;
    if text_type {
        return Ok(Bytes::from(string));
    }
    decode_base64(string.as_bytes(), options.standard_base64)
        .map(Bytes::from)
        .ok_or(JsonErrorKind::InvalidBody)
}

pub(super) fn decode_base64(text: &[u8], standard_too: bool) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    match url.decode(text) {
        Ok(bytes) => Some(bytes),
        Err(_) if standard_too => GeneralPurpose::new(&base64::alphabet::STANDARD, config)
            .decode(text)
            .ok(),
        Err(_) => None,
    }
}
